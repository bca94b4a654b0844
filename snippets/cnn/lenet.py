# %% [markdown]
# # LeNet 识别手写数字 / Lab: LeNet on the digits
#
# 概念见 [LeNet](../../../cnn/lenet/)。 Concepts: [LeNet](../../../cnn/lenet/).
#
# 同一个 LeNet 式网络分别用 NumPy（手写反向传播）和 PyTorch 训练，
# 与同一划分上的支持向量机对比，再看学到的卷积核和特征图。
# The same LeNet-style network trained in NumPy (hand-written backward pass) and in PyTorch, compared with a
# support vector machine on the same split; then the learned kernels and feature maps.
#
# 运行 / Run: `python snippets/cnn/lenet.py`

# %%
import json
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.svm import SVC

import n2t.numpy as nnp
import n2t.torch as nt
from n2t.data import digits
from n2t.numpy.lenet import lenet as numpy_lenet
from n2t.numpy.lenet import random_shift as numpy_shift
from n2t.numpy.train import evaluate, minibatches, train_step
from n2t.torch.lenet import lenet as torch_lenet
from n2t.torch.lenet import random_shift as torch_shift

SMOKE = bool(os.environ.get("N2T_SMOKE"))
EPOCHS, LR, BATCH = (1, 2e-3, 32) if SMOKE else (30, 2e-3, 32)
torch.set_num_threads(1)
x_train, x_test, y_train, y_test = digits()
x_train = x_train.reshape(-1, 1, 8, 8).astype(np.float32)  # (N, C, H, W)
x_test = x_test.reshape(-1, 1, 8, 8).astype(np.float32)
if SMOKE:
    x_train, y_train = x_train[:256], y_train[:256]
print(f"train {x_train.shape}, test {x_test.shape}")


def cosine_lr(epoch):
    """Learning rate that falls from LR to 0 along half a cosine over the run."""
    return LR * 0.5 * (1 + np.cos(np.pi * epoch / EPOCHS))


# %% [markdown]
# ## NumPy：手写的前向与反向传播 / NumPy: hand-written forward and backward passes

# %%
rng = np.random.default_rng(0)
numpy_model = numpy_lenet(rng=rng)
optimizer = nnp.Adam(numpy_model.parameters(), lr=LR)
numpy_curve = []
start = time.perf_counter()
for epoch in range(EPOCHS):
    optimizer.lr = cosine_lr(epoch)
    shifted = numpy_shift(x_train, rng)
    numpy_model.train()
    for index in minibatches(len(shifted), BATCH, rng):
        train_step(numpy_model, optimizer, shifted[index], y_train[index])
    numpy_curve.append(evaluate(numpy_model, x_test, y_test)["accuracy"])
numpy_seconds = time.perf_counter() - start
print(f"NumPy LeNet: {numpy_model.num_parameters():,} parameters, test accuracy {numpy_curve[-1]:.2%}, "
      f"{numpy_seconds:.1f} s")

# %% [markdown]
# ## PyTorch：同样的网络与训练方案 / PyTorch: the same network and recipe

# %%
torch.manual_seed(0)
generator = torch.Generator().manual_seed(0)
xt_train, xt_test = torch.from_numpy(x_train), torch.from_numpy(x_test)
yt_train, yt_test = torch.from_numpy(y_train), torch.from_numpy(y_test)
torch_model = torch_lenet()
torch_optimizer = torch.optim.Adam(torch_model.parameters(), lr=LR)
torch_curve = []
start = time.perf_counter()
for epoch in range(EPOCHS):
    for group in torch_optimizer.param_groups:
        group["lr"] = cosine_lr(epoch)
    shifted = torch_shift(xt_train, generator)
    torch_model.train()
    for index in torch.randperm(len(shifted), generator=generator).split(BATCH):
        torch_optimizer.zero_grad()
        nt.cross_entropy(torch_model(shifted[index]), yt_train[index]).backward()
        torch_optimizer.step()
    torch_model.eval()
    with torch.no_grad():
        torch_curve.append((torch_model(xt_test).argmax(1) == yt_test).double().mean().item())
torch_seconds = time.perf_counter() - start
print(f"PyTorch LeNet: test accuracy {torch_curve[-1]:.2%}, {torch_seconds:.1f} s")

# %% [markdown]
# ## 基线：支持向量机 / Baseline: a support vector machine
#
# 径向基核 SVM 直接作用于 64 个像素，不做数据增强。 An RBF-kernel SVM on the 64 raw pixels, no augmentation.

# %%
svm = SVC(gamma="scale").fit(x_train.reshape(len(x_train), -1), y_train)
svm_accuracy = svm.score(x_test.reshape(len(x_test), -1), y_test)
print(f"{'model':<22}{'test accuracy':>14}")
for name, accuracy in (("LeNet, NumPy", numpy_curve[-1]), ("LeNet, PyTorch", torch_curve[-1]),
                       ("SVM (RBF kernel)", svm_accuracy)):
    print(f"{name:<22}{accuracy:>14.2%}")

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(range(1, EPOCHS + 1), numpy_curve, marker="o", ms=3, label="LeNet, NumPy")
ax.plot(range(1, EPOCHS + 1), torch_curve, marker="s", ms=3, label="LeNet, PyTorch")
ax.axhline(svm_accuracy, color="gray", ls="--", label="SVM (RBF)")
ax.set(xlabel="epoch", ylabel="test accuracy", ylim=(0.9, 1.0))
ax.legend()
plt.show()

# %% [markdown]
# ## 学到的卷积核 / The learned kernels
#
# 第一层的 32 个 3×3 卷积核（NumPy 模型）。 The 32 first-layer 3×3 kernels of the NumPy model.

# %%
kernels = numpy_model[0].params["W"][:, 0]  # (32, 3, 3)
fig, axes = plt.subplots(4, 8, figsize=(6, 3))
for kernel, ax in zip(kernels, axes.flat):
    ax.imshow(kernel, cmap="RdBu_r", vmin=-np.abs(kernels).max(), vmax=np.abs(kernels).max())
    ax.axis("off")
plt.show()

# %% [markdown]
# ## 特征图 / Feature maps
#
# 一张测试图片经过第一层卷积与 ReLU（8×8），再经过池化和第二层卷积（4×4）后的前 8 个通道。
# One test image after the first convolution and ReLU (8×8), and after pooling and the second convolution (4×4):
# the first 8 channels of each.

# %%
numpy_model.eval()
image = x_test[:1]
maps_1 = numpy_model[1].forward(numpy_model[0].forward(image))[0]  # (32, 8, 8)
maps_2 = numpy_model[4].forward(numpy_model[3].forward(numpy_model[2].forward(maps_1[None])))[0]  # (64, 4, 4)
fig, axes = plt.subplots(3, 8, figsize=(7, 3))
axes[0, 0].imshow(image[0, 0], cmap="gray_r")
axes[0, 0].set_title(f"label {y_test[0]}", fontsize=8)
for ax in axes[0, 1:]:
    ax.remove()
for row, maps in ((1, maps_1), (2, maps_2)):
    for channel, ax in enumerate(axes[row]):
        ax.imshow(maps[channel], cmap="viridis")
        ax.set_title(f"conv{row} ch{channel}", fontsize=7)
for ax in axes.flat:
    ax.axis("off")
plt.show()

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
results = {"numpy_accuracy": numpy_curve[-1], "torch_accuracy": torch_curve[-1], "svm_accuracy": svm_accuracy,
           "numpy_seconds": numpy_seconds, "torch_seconds": torch_seconds, "epochs": EPOCHS,
           "parameters": numpy_model.num_parameters(), "train_size": len(x_train), "test_size": len(x_test)}
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
if not SMOKE:
    assert numpy_curve[-1] >= 0.985 and torch_curve[-1] >= 0.985, (numpy_curve[-1], torch_curve[-1])
    assert min(numpy_curve[-1], torch_curve[-1]) > svm_accuracy, "the concept page says both LeNets beat the SVM"
assert numpy_model.num_parameters() == sum(p.numel() for p in torch_model.parameters())
