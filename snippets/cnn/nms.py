# %% [markdown]
# # 非极大值抑制实验 / Lab: IoU, non-maximum suppression and anchors
#
# 概念见 [分类之外](../../../cnn/beyond/)。 Concepts: [beyond classification](../../../cnn/beyond/).
#
# 在一幅生成的图形图像上，模拟检测器对每个物体给出的大量重叠候选框，
# 用两个阈值做非极大值抑制，并画出一个特征图格子的锚框。
# On a generated image of shapes, many overlapping candidate boxes per object (as a detector's raw
# output would be) are pruned by non-maximum suppression at two thresholds; then the anchors of one
# feature-map cell.
#
# 运行 / Run: `python snippets/cnn/nms.py`

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle

import n2t.torch.detection as tdet
from n2t.data import shapes
from n2t.numpy.detection import box_iou, decode_boxes, encode_boxes, make_anchors, nms

SMOKE = bool(os.environ.get("N2T_SMOKE"))  # the lab is fast either way
SIZE = 64
rng = np.random.default_rng(0)
images, masks, targets = shapes(8, size=SIZE, seed=1)
pick = int(np.argmax([len(t["labels"]) for t in targets]))  # the image with the most shapes
image, truth = images[pick, 0], targets[pick]["boxes"]
print("true boxes (x1, y1, x2, y2):\n", truth)


def jitter(box, count):
    """``count`` noisy copies of a box: shifted centre, rescaled width and height, inside the image."""
    centre, size = (box[:2] + box[2:]) / 2, box[2:] - box[:2]
    centres = centre + rng.normal(0, 0.15, (count, 2)) * size
    sizes = size * np.exp(rng.normal(0, 0.15, (count, 2)))
    return np.clip(np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1), 0, SIZE)


candidates = np.concatenate([jitter(box, 25) for box in truth])
# a detector's confidence: high where the box fits its object well, plus noise
scores = np.clip(box_iou(candidates, truth).max(axis=1) + rng.normal(0, 0.05, len(candidates)), 0, 1)
clutter = np.sort(rng.uniform(0, SIZE, (15, 2, 2)), axis=1).reshape(-1, 4)  # random boxes: sorted corners
candidates = np.concatenate([candidates, clutter])
scores = np.concatenate([scores, rng.uniform(0, 0.3, len(clutter))])
print(f"{len(candidates)} candidate boxes for {len(truth)} objects")

# %% [markdown]
# ## 交并比 / IoU of a few pairs

# %%
iou_truth = box_iou(candidates, truth)  # (candidates, objects)
best = iou_truth.argmax(axis=0)  # the best candidate of each object
pairs = {
    "object 0 vs its best candidate": (truth[0], candidates[best[0]]),
    "two candidates of object 0": (candidates[0], candidates[1]),
    "object 0 vs object 1": (truth[0], truth[1]),
    "object 0 vs itself": (truth[0], truth[0]),
}
for name, (a, b) in pairs.items():
    print(f"{name:<34} IoU = {box_iou(a[None], b[None])[0, 0]:.3f}")

# %% [markdown]
# ## 两个阈值下的 NMS / NMS at two thresholds

# %%
THRESHOLDS = (0.3, 0.7)
kept = {t: nms(candidates, scores, t) for t in THRESHOLDS}
for t, index in kept.items():
    confident = index[scores[index] > 0.5]
    print(f"iou_threshold {t}: keeps {len(index)} of {len(candidates)} boxes, {len(confident)} with score > 0.5")


def draw(ax, boxes, box_scores, title):
    ax.imshow(image, cmap="gray", vmin=0, vmax=1)
    for (x1, y1, x2, y2), score in zip(boxes, box_scores):
        ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, lw=1,
                               color=plt.cm.autumn(1 - score), alpha=0.3 + 0.7 * score))
    ax.set_title(title, fontsize=9)
    ax.axis("off")


fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
draw(axes[0], candidates, scores, f"{len(candidates)} candidates")
for ax, (t, index) in zip(axes[1:], kept.items()):
    draw(ax, candidates[index], scores[index], f"NMS, IoU threshold {t}: {len(index)} kept")
fig.colorbar(plt.cm.ScalarMappable(cmap=plt.cm.autumn_r), ax=axes, label="score", shrink=0.8)
plt.show()

# %% [markdown]
# ## 一个格子的锚框 / The anchors of one feature-map cell (stride 8, 3 sizes × 3 ratios)

# %%
STRIDE, SIZES, RATIOS = 8, (8.0, 16.0, 24.0), (0.5, 1.0, 2.0)
grid = (SIZE // STRIDE, SIZE // STRIDE)
anchors = make_anchors(grid, STRIDE, SIZES, RATIOS)
print(f"feature map {grid}: {len(anchors)} anchors = {grid[0]}·{grid[1]}·{len(RATIOS)}·{len(SIZES)}")
cell = anchors.reshape(*grid, len(RATIOS), len(SIZES), 4)[3, 4].reshape(-1, 4)  # row 3, column 4
matched = box_iou(truth, anchors).argmax(axis=1)  # the best anchor of each object
deltas = encode_boxes(truth, anchors[matched])
print("best anchor IoU per object:", np.round(box_iou(truth, anchors).max(axis=1), 3))
print("offsets (dx, dy, dw, dh) a detector would learn:\n", np.round(deltas, 3))

fig, ax = plt.subplots(figsize=(3.6, 3.6))
ax.imshow(image, cmap="gray", vmin=0, vmax=1)
for x1, y1, x2, y2 in cell:
    ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, lw=1, color="tab:cyan"))
ax.add_patch(Rectangle((4 * STRIDE - 0.5, 3 * STRIDE - 0.5), STRIDE, STRIDE, color="tab:red", alpha=0.5))
ax.set_xlim(-0.5, SIZE - 0.5)
ax.set_ylim(SIZE - 0.5, -0.5)
ax.set_title("9 anchors of cell (3, 4)", fontsize=9)
ax.axis("off")
plt.show()

# %%
strict = kept[0.3]
for t, index in kept.items():  # no two kept boxes overlap more than the threshold
    iou = box_iou(candidates[index], candidates[index])
    assert np.all(iou[np.triu_indices(len(index), 1)] <= t)
    torch_index = tdet.nms(torch.from_numpy(candidates), torch.from_numpy(scores), t)
    assert np.array_equal(torch_index.numpy(), index), "the torch twin keeps the same boxes"
assert len(kept[0.7]) > len(strict), "a higher threshold suppresses less"
top = strict[: len(truth)]  # the most confident survivors: one per object
assert np.all(box_iou(truth, candidates[top]).max(axis=1) > 0.6), "each object keeps a well-fitting box"
assert np.allclose(decode_boxes(deltas, anchors[matched]), truth), "decoding the offsets gives the boxes back"

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
import json
from pathlib import Path

best_anchor_iou = box_iou(truth, anchors).max(axis=1)
results = {"objects": len(truth), "candidates": len(candidates), "clutter": len(clutter),
           "threshold_low": THRESHOLDS[0], "threshold_high": THRESHOLDS[1],
           **{f"kept_{level}": len(kept[t]) for level, t in zip(("low", "high"), THRESHOLDS)},
           **{f"confident_{level}": int(np.sum(scores[kept[t]] > 0.5))
              for level, t in zip(("low", "high"), THRESHOLDS)},
           "max_iou_between_objects": float(np.max(box_iou(truth, truth)[np.triu_indices(len(truth), 1)])),
           "iou_object_best_candidate": float(box_iou(truth[:1], candidates[best[:1]])[0, 0]),
           "iou_two_candidates": float(box_iou(candidates[:1], candidates[1:2])[0, 0]),
           "top_kept_min_iou": float(box_iou(truth, candidates[top]).max(axis=1).min()),
           "anchors": len(anchors), "anchor_grid": grid[0], "anchor_stride": STRIDE,
           "anchors_per_cell": len(SIZES) * len(RATIOS), "image_size": SIZE,
           "best_anchor_iou_min": float(best_anchor_iou.min()), "best_anchor_iou_max": float(best_anchor_iou.max())}
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
