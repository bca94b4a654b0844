# %% [markdown]
# # 语义分割实验 / Lab: a tiny SegNet segments shapes
#
# 概念见 [分类之外](../../../cnn/beyond/)。 Concepts: [beyond classification](../../../cnn/beyond/).
#
# 一个三层编码器、三层解码器的小 SegNet，解码器用编码器记下的最大汇聚位置上采样，
# 在生成的图形数据上逐像素分类（背景、圆、正方形、三角形）。
# A tiny SegNet (three encoder and three decoder blocks, the decoder upsampling with the encoder's
# max-pooling indices) learns to label every pixel of generated images as background, disc, square or triangle.
#
# 运行 / Run: `python snippets/cnn/segmentation.py`

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from n2t.data import shapes
from n2t.torch.segmentation import SegNet, class_iou, mean_iou, pixel_accuracy

SMOKE = bool(os.environ.get("N2T_SMOKE"))
N_TRAIN, N_TEST = (64, 32) if SMOKE else (800, 200)
EPOCHS, BATCH, LR = (2 if SMOKE else 12), 32, 1e-2
CLASSES = ["background", "disc", "square", "triangle"]
torch.set_num_threads(1)
torch.manual_seed(0)

images, masks, _ = shapes(N_TRAIN + N_TEST, size=32, seed=0)
x = torch.from_numpy(images).float()  # (N, 1, 32, 32)
y = torch.from_numpy(masks)  # (N, 32, 32)
x_train, y_train, x_test, y_test = x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:]
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}")
print("pixels per class (train):", dict(zip(CLASSES, np.bincount(masks[:N_TRAIN].ravel(), minlength=4).tolist())))

# %% [markdown]
# ## 模型 / The model

# %%
model = SegNet(in_channels=1, classes=4, widths=(16, 32, 64))
print(model)
print("parameters:", sum(p.numel() for p in model.parameters()))

# %% [markdown]
# ## 训练 / Training (Adam, one-cycle learning rate, per-pixel cross-entropy)

# %%
optimizer = torch.optim.Adam(model.parameters(), lr=LR)
steps_per_epoch = -(-N_TRAIN // BATCH)
schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LR, total_steps=EPOCHS * steps_per_epoch)
losses = []
start = time.perf_counter()
for epoch in range(EPOCHS):
    model.train()
    for index in torch.randperm(N_TRAIN).split(BATCH):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x_train[index]), y_train[index])  # logits (B, 4, H, W), labels (B, H, W)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    print(f"epoch {epoch + 1:2d}: mean training loss {np.mean(losses[-steps_per_epoch:]):.4f}")
print(f"training took {time.perf_counter() - start:.1f} s on one CPU thread")

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(np.arange(1, len(losses) + 1) / steps_per_epoch, losses)
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (cross-entropy per pixel)")
plt.show()

# %% [markdown]
# ## 测试集上的结果 / On the test images

# %%
model.eval()
with torch.no_grad():
    predicted = model(x_test).argmax(dim=1)  # (N, 32, 32)
accuracy = float(pixel_accuracy(predicted, y_test))
miou = float(mean_iou(predicted, y_test, 4))
background_only = float(pixel_accuracy(torch.zeros_like(y_test), y_test))
print(f"test pixel accuracy {accuracy:.4f} (predicting background everywhere: {background_only:.4f})")
print(f"test mean IoU {miou:.4f}")
for name, value in zip(CLASSES, class_iou(predicted, y_test, 4).tolist()):
    print(f"  IoU {name:<11}{value:.4f}")

# %%
colours = plt.matplotlib.colors.ListedColormap(["#f2f2f2", "tab:blue", "tab:orange", "tab:green"])
shown = range(min(6, len(x_test)))
fig, axes = plt.subplots(3, len(shown), figsize=(1.6 * len(shown), 5))
for column, index in enumerate(shown):
    axes[0, column].imshow(x_test[index, 0], cmap="gray", vmin=0, vmax=1)
    axes[1, column].imshow(y_test[index], cmap=colours, vmin=0, vmax=3)
    axes[2, column].imshow(predicted[index], cmap=colours, vmin=0, vmax=3)
for row, title in enumerate(["image", "true mask", "predicted"]):
    axes[row, 0].set_ylabel(title)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
handles = [plt.matplotlib.patches.Patch(color=colours(k), label=name) for k, name in enumerate(CLASSES)]
fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False)
plt.show()

# %%
assert np.mean(losses[-steps_per_epoch:]) < np.mean(losses[:steps_per_epoch]), "the training loss falls"
if not SMOKE:
    assert accuracy > 0.97 and accuracy > background_only + 0.1
    assert miou > 0.8, "every class, background included, is recovered with IoU well above chance"

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
import json
from pathlib import Path

per_class = class_iou(predicted, y_test, 4).tolist()
background_only_miou = float(mean_iou(torch.zeros_like(y_test), y_test, 4))
results = {"pixel_accuracy": accuracy, "mean_iou": miou, "background_only_accuracy": background_only,
           "background_only_mean_iou": background_only_miou,
           **{f"iou_{name}": float(value) for name, value in zip(CLASSES, per_class)},
           "first_epoch_loss": float(np.mean(losses[:steps_per_epoch])),
           "last_epoch_loss": float(np.mean(losses[-steps_per_epoch:])), "epochs": EPOCHS,
           "parameters": sum(p.numel() for p in model.parameters()), "train_size": N_TRAIN, "test_size": N_TEST,
           "image_size": int(x.shape[-1])}
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
