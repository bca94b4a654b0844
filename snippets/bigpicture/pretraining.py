# %% [markdown]
# # 逐层预训练实验 / Lab: greedy layer-wise pretraining against random initialisation
#
# 概念见 [表示学习与逐层预训练](../../../bigpicture/representation/)。
# Concepts: [representation learning and layer-wise pretraining](../../../bigpicture/representation/).
#
# 2006 年的做法在小尺度上重做一遍：先不用标签，逐层训练浅层自编码器（或 RBM），把它们的编码器叠成一个
# 64 → 128 → 64 → 10 的 Logistic 网络的初始值，再用带标签的数据微调全部参数；对照组是同样结构、同样训练、
# 从随机权重开始的网络。三个网络的输出层初始值相同。无标签数据是全部 1,347 幅训练图像；带标签的只用其中一部分：
# 每类 5 幅（共 50 幅），或者全部。每种设置用 5 个随机种子，报告平均值与最小、最大值。
# The 2006 recipe at small scale: without labels, train shallow autoencoders (or RBMs) one layer at a time, stack
# their encoders as the initial weights of a 64 → 128 → 64 → 10 logistic network, then fine-tune every weight with
# labels; the control has the same network and training but starts from random weights. All three share the same
# initial output layer. The unlabelled data are all 1,347 training images; only some carry labels: 5 per class (50
# in all), or all of them. Every setting runs with 5 seeds; we report the mean and the range.
#
# 运行 / Run: `python snippets/bigpicture/pretraining.py`

# %%
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from n2t.data import digits
from n2t.numpy.autoencoder import pretrain_layerwise, stacked_classifier
from n2t.numpy.optim import Adam
from n2t.numpy.rbm import pretrain_rbms
from n2t.numpy.train import evaluate, train_step

SMOKE = bool(os.environ.get("N2T_SMOKE"))
SIZES, CLASSES, BATCH = [64, 128, 64], 10, 32
SEEDS = range(2) if SMOKE else range(5)
PRETRAIN_EPOCHS, AE_LR, RBM_LR = (1, 1e-2, 0.2) if SMOKE else (10, 1e-2, 0.2)
STEPS, LR = (30, 1e-2) if SMOKE else (400, 1e-2)  # fine-tuning: Adam, lr decaying linearly to 0
PER_CLASS = (5, None)  # labelled images per class (None: every training image)
x_train, x_test, y_train, y_test = digits()
if SMOKE:
    x_train, y_train, x_test, y_test = x_train[:300], y_train[:300], x_test[:100], y_test[:100]
print(f"unlabelled pool {x_train.shape}, test {x_test.shape}; network {SIZES + [CLASSES]}, sigmoid units")


def labelled_subset(per_class, seed):
    """``per_class`` random training images of each digit (all of them for None)."""
    if per_class is None:
        return x_train, y_train
    rng = np.random.default_rng(1000 + seed)
    index = np.concatenate([rng.choice(np.flatnonzero(y_train == digit), per_class, replace=False)
                            for digit in range(CLASSES)])
    return x_train[index], y_train[index]


def fine_tune(net, x, y, seed, record_every=20):
    """STEPS Adam updates on minibatches of the labelled set; returns the training loss every ``record_every`` steps."""
    rng = np.random.default_rng(seed)
    optimizer, step, curve = Adam(net.parameters(), lr=LR), 0, []
    while step < STEPS:
        order = rng.permutation(len(x))
        for start in range(0, len(x), BATCH):
            optimizer.lr = LR * (1 - step / STEPS)
            loss = train_step(net, optimizer, x[order[start:start + BATCH]], y[order[start:start + BATCH]])
            if step % record_every == 0:
                curve.append(loss)
            step += 1
            if step == STEPS:
                break
    return curve


# %% [markdown]
# ## 预训练、微调与对照 / Pretrain, fine-tune, compare
#
# 每个种子先做一次无监督预训练（两种方法），再对每种标签数量各微调一次。
# Each seed pretrains once (both ways) without labels, then fine-tunes once per amount of labels.

# %%
ARMS = ("random", "autoencoders", "RBMs")
scores, curves = {}, {}
for seed in SEEDS:
    pretrained = {
        "random": None,
        "autoencoders": pretrain_layerwise(x_train, SIZES, PRETRAIN_EPOCHS, "sigmoid", lr=AE_LR, batch_size=BATCH,
                                           rng=np.random.default_rng(seed)),
        "RBMs": pretrain_rbms(x_train, SIZES, PRETRAIN_EPOCHS, RBM_LR, 1, BATCH, np.random.default_rng(seed)),
    }
    for per_class in PER_CLASS:
        x, y = labelled_subset(per_class, seed)
        for arm in ARMS:
            net = stacked_classifier(SIZES, CLASSES, "sigmoid", pretrained[arm], np.random.default_rng(seed))
            curves[per_class, arm, seed] = fine_tune(net, x, y, seed)
            scores[per_class, arm, seed] = (evaluate(net, x, y)["accuracy"], evaluate(net, x_test, y_test)["accuracy"])


def summary(per_class, arm, which=1):
    values = np.array([scores[per_class, arm, seed][which] for seed in SEEDS])
    return values.mean(), values.min(), values.max()


print(f"{'labels':>8}{'init':>14}{'train acc':>11}{'test acc: mean':>16}{'min':>8}{'max':>8}")
for per_class in PER_CLASS:
    n_labels = len(labelled_subset(per_class, 0)[0])
    for arm in ARMS:
        mean, low, high = summary(per_class, arm)
        print(f"{n_labels:>8}{arm:>14}{summary(per_class, arm, 0)[0]:>11.3f}{mean:>16.3f}{low:>8.3f}{high:>8.3f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, per_class in zip(axes, PER_CLASS):
    n_labels = len(labelled_subset(per_class, 0)[0])
    for position, arm in enumerate(ARMS):
        values = [scores[per_class, arm, seed][1] for seed in SEEDS]
        ax.scatter([position] * len(values), values, color=f"C{position}", alpha=0.6)
        ax.errorbar(position + 0.15, np.mean(values), yerr=np.std(values), fmt="s", color=f"C{position}", capsize=4)
    ax.set_xticks(range(len(ARMS)), ARMS)
    ax.set_title(f"{n_labels} labelled images")
    ax.set_ylabel("test accuracy (dots: seeds; square: mean ± std)")
plt.show()

fig, ax = plt.subplots(figsize=(7, 4))
for position, arm in enumerate(ARMS):
    runs = np.array([curves[None, arm, seed] for seed in SEEDS])
    ax.plot(np.arange(runs.shape[1]) * 20, runs.mean(axis=0), color=f"C{position}", label=arm)
ax.set_yscale("log")
ax.set_xlabel("fine-tuning step (all labels)")
ax.set_ylabel("training loss of the batch (mean over seeds)")
ax.legend()
plt.show()

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
results = {"sizes": SIZES, "classes": CLASSES, "seeds": len(SEEDS), "pretrain_epochs": PRETRAIN_EPOCHS,
           "ae_lr": AE_LR, "rbm_lr": RBM_LR, "steps": STEPS, "lr": LR, "batch": BATCH,
           "unlabelled": len(x_train), "test_size": len(x_test)}
for per_class in PER_CLASS:
    tag = "all" if per_class is None else str(per_class * CLASSES)
    results[f"labels_{tag}"] = len(labelled_subset(per_class, 0)[0])
    for arm in ARMS:
        key = arm.lower()
        mean, low, high = summary(per_class, arm)
        results |= {f"{key}_{tag}_mean": mean, f"{key}_{tag}_min": low, f"{key}_{tag}_max": high,
                    f"{key}_{tag}_std": float(np.std([scores[per_class, arm, s][1] for s in SEEDS])),
                    f"{key}_{tag}_train": summary(per_class, arm, 0)[0]}
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
if not SMOKE:
    assert results["autoencoders_50_mean"] > results["random_50_mean"] + 0.03, "pretraining helps with 50 labels"
    gain_50 = results["autoencoders_50_mean"] - results["random_50_mean"]
    gain_all = results["autoencoders_all_mean"] - results["random_all_mean"]
    assert gain_all < gain_50 and 0 < gain_all < 0.025, "the gain shrinks to a point or two with every label"
    assert results["autoencoders_50_min"] > results["random_50_mean"], "even the worst pretrained seed beats the mean"
    assert results["random_50_train"] == 1.0, "random init fits the 50 labelled images too: the gain is generalisation"
    assert results["autoencoders_all_train"] > results["random_all_train"], "pretrained nets fit faster"
    assert results["rbms_50_mean"] < results["random_50_mean"], "our short RBM pretraining does not help"
    assert results["rbms_all_mean"] < results["random_all_mean"] + 0.005, "nor with every label"
