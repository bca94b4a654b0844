# %% [markdown]
# # 自编码器与受限玻尔兹曼机实验 / Lab: autoencoders and a restricted Boltzmann machine on digits
#
# 概念见 [表示学习与逐层预训练](../../../bigpicture/representation/)。
# Concepts: [representation learning and layer-wise pretraining](../../../bigpicture/representation/).
#
# 三个不用标签的模型，都在 8×8 手写数字上从零实现（NumPy）：编码只有 2 维的欠完备自编码器（与同样 2 维的 PCA 比较），
# 普通自编码器与去噪自编码器（输入被遮住 30% 的像素），以及用 CD-1 训练的受限玻尔兹曼机（RBM）。隐藏单元只有 16 个的
# 小 RBM 可以精确计算对数似然，于是能看到 CD-1 真正要提高的目标。
# Three models trained without labels, all from scratch (NumPy) on the 8×8 digits: an undercomplete autoencoder
# with a 2-D code (against 2-D PCA), a plain against a denoising autoencoder (30 % of the input pixels masked),
# and a restricted Boltzmann machine trained with CD-1. A small RBM with 16 hidden units has an exactly
# computable log-likelihood, so we can watch the objective CD-1 is meant to climb.
#
# 运行 / Run: `python snippets/bigpicture/autoencoders.py`

# %%
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from n2t.data import digits
from n2t.numpy.autoencoder import Autoencoder, fit_autoencoder, mask_noise
from n2t.numpy.rbm import RBM, log_partition

SMOKE = bool(os.environ.get("N2T_SMOKE"))
SEED, BATCH, LR, NOISE = 0, 32, 1e-2, 0.3
AE_EPOCHS = 2 if SMOKE else 40
RBM_EPOCHS, RBM_LR, RBM_HIDDEN, SMALL_HIDDEN = (2, 0.2, 64, 8) if SMOKE else (20, 0.2, 64, 16)
LL_EVERY = 2  # epochs between exact log-likelihoods (each sums 2**16 hidden states)
x_train, x_test, y_train, y_test = digits()
if SMOKE:
    x_train, y_train, x_test, y_test = x_train[:200], y_train[:200], x_test[:100], y_test[:100]
print(f"train {x_train.shape}, test {x_test.shape}; pixels in [{x_train.min()}, {x_train.max()}]")


def pixel_mse(reconstruction, target):
    """Mean squared error per pixel (the same measure for every model on this page)."""
    return float(np.mean((reconstruction - target) ** 2))


# %% [markdown]
# ## 2 维编码：自编码器与 PCA / A 2-D code: autoencoder against PCA
#
# 编码器 64 → 32 → 2（编码层是线性的），解码器 2 → 32 → 64，Logistic 隐藏单元，交叉熵重构损失。
# PCA 是最好的**线性** 2 维编码：投影到前两个主成分上再投影回来。
# Encoder 64 → 32 → 2 (a linear code layer), decoder 2 → 32 → 64, logistic hidden units, cross-entropy
# reconstruction loss. PCA is the best *linear* 2-D code: project onto the first two principal components and back.

# %%
rng = np.random.default_rng(SEED)
ae2 = Autoencoder([64, 32, 2], "sigmoid", "bce_with_logits", code_activation=False, rng=rng)
ae2_history = fit_autoencoder(ae2, x_train, AE_EPOCHS, BATCH, LR, rng=rng)

mean = x_train.mean(axis=0)
_, _, components = np.linalg.svd(x_train - mean, full_matrices=False)
pca = components[:2]  # (2, 64)
pca_codes = (x_test - mean) @ pca.T  # (N, 2)
errors_2d = {"autoencoder": pixel_mse(ae2.reconstruct(x_test), x_test),
             "PCA": pixel_mse(pca_codes @ pca + mean, x_test)}
for name, error in errors_2d.items():
    print(f"2-D code, {name:<12} test MSE per pixel {error:.4f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
for ax, (name, codes) in zip(axes, (("autoencoder", ae2.encode(x_test)), ("PCA", pca_codes))):
    points = ax.scatter(codes[:, 0], codes[:, 1], c=y_test, cmap="tab10", s=9)
    ax.set_title(f"{name}: 2-D codes of the test digits")
fig.colorbar(points, ax=axes, ticks=range(10), label="digit (not used in training)")
plt.show()

# %% [markdown]
# ## 普通自编码器与去噪自编码器 / Plain against denoising autoencoder
#
# 两个网络结构相同（64 → 32 → 64），训练的轮数、批量和学习率也相同；去噪自编码器每次看到的输入都有 30% 的像素被置 0，
# 而损失仍然比较重构与**干净**图像。在测试集上分别用干净输入和被遮住的输入来比较。
# Both networks are the same (64 → 32 → 64) and trained identically, except that the denoising one sees every input
# with 30 % of its pixels set to 0 while its loss still compares the reconstruction with the *clean* image. On the
# test set we feed each one clean and masked inputs.

# %%
models, histories = {}, {}
for name, noise in (("plain", 0.0), ("denoising", NOISE)):
    rng = np.random.default_rng(SEED)
    models[name] = Autoencoder([64, 32], "sigmoid", rng=rng)
    histories[name] = fit_autoencoder(models[name], x_train, AE_EPOCHS, BATCH, LR, noise, rng)
x_masked = mask_noise(x_test, NOISE, np.random.default_rng(SEED + 1))  # one fixed corruption of the test set
denoise_errors = {(name, kind): pixel_mse(model.reconstruct(inputs), x_test)
                  for name, model in models.items() for kind, inputs in (("clean", x_test), ("masked", x_masked))}
print(f"{'':<11}{'clean input':>13}{'masked input':>14}   (test MSE per pixel against the clean image)")
for name in models:
    print(f"{name:<11}{denoise_errors[name, 'clean']:>13.4f}{denoise_errors[name, 'masked']:>14.4f}")
print(f"masked input itself: {pixel_mse(x_masked, x_test):.4f}")

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(range(1, AE_EPOCHS + 1), ae2_history, label="64-32-2-32-64 (2-D code)")
for name, history in histories.items():
    ax.plot(range(1, AE_EPOCHS + 1), history, label=f"64-32-64, {name}")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (cross-entropy per pixel)")
ax.legend()
plt.show()

# %%
rows = (("clean", x_test), ("masked", x_masked), ("plain AE", models["plain"].reconstruct(x_masked)),
        ("denoising AE", models["denoising"].reconstruct(x_masked)))
fig, axes = plt.subplots(len(rows), 10, figsize=(10, 4.4))
for r, (label, images) in enumerate(rows):
    for c in range(10):
        axes[r, c].imshow(images[c].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center")
plt.show()


def show_filters(weights, title):
    """The 16 rows of an (H, 64) weight matrix with the largest norms, as 8×8 images."""
    order = np.argsort(-np.linalg.norm(weights, axis=1))[:16]
    fig, axes = plt.subplots(2, 8, figsize=(8, 2.3))
    for ax, row in zip(axes.flat, weights[order]):
        limit = np.abs(row).max()
        ax.imshow(row.reshape(8, 8), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    plt.show()


for name, model in models.items():
    show_filters(model[0].params["W"], f"{name} autoencoder: first-layer weights")

# %% [markdown]
# ## 受限玻尔兹曼机与 CD-1 / A restricted Boltzmann machine trained with CD-1
#
# 像素按 0.5 二值化。重构误差只是监视用的量：CD-1 近似的是对数似然的梯度，而不是重构误差的梯度。
# Pixels are binarised at 0.5. The reconstruction error is only a monitor: CD-1 approximates the gradient of the
# log-likelihood, not of the reconstruction error.

# %%
binary_train, binary_test = (x_train > 0.5).astype(float), (x_test > 0.5).astype(float)


def train_rbm(n_hidden, epochs, track_likelihood=False):
    """CD-1 on the binarised digits: the mean reconstruction error of every epoch and, for a small H, the exact
    mean log-likelihood of the training and test images every LL_EVERY epochs (log Z computed once for both)."""
    rng = np.random.default_rng(SEED)
    rbm = RBM(64, n_hidden, rng)
    record = {"error": [], "ll_epochs": [], "train_ll": [], "test_ll": []}
    for epoch in range(epochs + 1):
        if track_likelihood and epoch % LL_EVERY == 0:
            log_z = log_partition(rbm.params["W"], rbm.params["b"], rbm.params["c"])
            record["ll_epochs"].append(epoch)
            record["train_ll"].append(float(-rbm.free_energy(binary_train).mean() - log_z))
            record["test_ll"].append(float(-rbm.free_energy(binary_test).mean() - log_z))
        if epoch == epochs:
            break
        order = rng.permutation(len(binary_train))
        record["error"].append(float(np.mean([rbm.cd_step(binary_train[order[s:s + BATCH]], 1, RBM_LR)
                                              for s in range(0, len(order), BATCH)])))
    return rbm, record


rbm, rbm_record = train_rbm(RBM_HIDDEN, RBM_EPOCHS)
test_error = pixel_mse(rbm.reconstruct(binary_test), binary_test)
print(f"RBM 64-{RBM_HIDDEN}, CD-1: reconstruction error {rbm_record['error'][0]:.4f} (epoch 1) -> "
      f"{rbm_record['error'][-1]:.4f} (epoch {RBM_EPOCHS}); test {test_error:.4f}")
show_filters(rbm.params["W"], f"RBM 64-{RBM_HIDDEN}, CD-1: weights of 16 hidden units")

# %% [markdown]
# ### 精确的对数似然 / The exact log-likelihood (16 hidden units: 2¹⁶ states to sum)
#
# 基准：每个像素独立的伯努利模型（也就是没有隐藏单元的 RBM，$b_i = \operatorname{logit}$ 像素均值）。
# Baseline: every pixel an independent Bernoulli variable (an RBM with no hidden units, $b_i = \operatorname{logit}$ of
# the pixel's mean).

# %%
_, small = train_rbm(SMALL_HIDDEN, RBM_EPOCHS, track_likelihood=True)
p = np.clip(binary_train.mean(axis=0), 1e-3, 1 - 1e-3)
independent = float(np.mean(binary_test @ np.log(p) + (1 - binary_test) @ np.log(1 - p)))
print(f"independent pixels: test log-likelihood {independent:.2f} nats per image")
print(f"RBM 64-{SMALL_HIDDEN}, CD-1: test log-likelihood {small['test_ll'][0]:.2f} (start) -> "
      f"{small['test_ll'][-1]:.2f} nats per image (training images {small['train_ll'][-1]:.2f})")

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for name, record in ((f"64-{RBM_HIDDEN}", rbm_record), (f"64-{SMALL_HIDDEN}", small)):
    axes[0].plot(range(1, RBM_EPOCHS + 1), record["error"], label=f"RBM {name}, CD-1")
axes[1].plot(small["ll_epochs"], small["test_ll"], marker="o", label=f"RBM 64-{SMALL_HIDDEN}, CD-1, test")
axes[1].plot(small["ll_epochs"], small["train_ll"], marker=".", linestyle="--", label="the same, training images")
axes[1].axhline(independent, color="gray", linestyle=":", label="independent pixels, test")
axes[0].set_ylabel("reconstruction error (training, per pixel)")
axes[1].set_ylabel("exact log-likelihood (nats per image)")
for ax in axes:
    ax.set_xlabel("epoch")
    ax.legend()
plt.show()

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
results = {"seed": SEED, "batch": BATCH, "lr": LR, "noise": NOISE, "ae_epochs": AE_EPOCHS,
           "rbm_epochs": RBM_EPOCHS, "rbm_lr": RBM_LR, "rbm_hidden": RBM_HIDDEN, "small_hidden": SMALL_HIDDEN,
           "train_size": len(x_train), "test_size": len(x_test),
           "ae2_mse": errors_2d["autoencoder"], "pca2_mse": errors_2d["PCA"],
           "masked_input_mse": pixel_mse(x_masked, x_test),
           **{f"{name}_{kind}_mse": value for (name, kind), value in denoise_errors.items()},
           "rbm_error_first": rbm_record["error"][0], "rbm_error_last": rbm_record["error"][-1],
           "independent_ll": independent, "small_test_ll_start": small["test_ll"][0],
           "small_test_ll": small["test_ll"][-1], "small_train_ll": small["train_ll"][-1]}
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
if not SMOKE:
    assert results["ae2_mse"] < results["pca2_mse"], "a nonlinear 2-D code beats the best linear one"
    assert results["denoising_masked_mse"] < 0.8 * results["plain_masked_mse"], "denoising repairs masked inputs"
    assert results["plain_clean_mse"] < results["denoising_clean_mse"], "the plain one is best on clean inputs"
    assert results["rbm_error_last"] < 0.8 * results["rbm_error_first"], "CD-1 lowers the reconstruction error"
    assert results["small_test_ll"] > independent + 1, "the RBM models pixel dependencies the baseline ignores"
