# %% [markdown]
# # 螺旋数据实验 / Lab: an MLP on spirals
#
# 概念见 [前馈神经网络](../../../mlp/feedforward/)。 Concepts: [feedforward networks](../../../mlp/feedforward/).
#
# 三条交错的螺旋臂：线性 Softmax 回归分不开，一个隐藏层的 MLP 可以。
# Three interleaved spiral arms: softmax regression cannot separate them, a one-hidden-layer MLP can.
#
# 运行 / Run: `python snippets/mlp/spirals.py`

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import torch

import n2t.numpy as nnp
import n2t.torch as nt
from n2t.data import spirals

SMOKE = bool(os.environ.get("N2T_SMOKE"))
EPOCHS = 60 if SMOKE else 200
torch.set_num_threads(1)
x, y = spirals(n_per_class=100, n_classes=3, noise=0.15, seed=0)
print("data:", x.shape, "classes:", np.bincount(y))

# %% [markdown]
# ## 训练 / Training (NumPy)

# %%
def train(model, epochs, lr):
    rng = np.random.default_rng(0)
    return nnp.fit(model, nnp.Adam(model.parameters(), lr=lr), x, y, epochs=epochs, batch_size=32, rng=rng)


rng = np.random.default_rng(1)
linear_model = nnp.Sequential(nnp.Linear(2, 3, rng=rng))
mlp_model = nnp.Sequential(nnp.Linear(2, 64, rng=rng), nnp.ReLU(), nnp.Linear(64, 3, rng=rng))
linear_history = train(linear_model, EPOCHS, 0.05)
mlp_history = train(mlp_model, EPOCHS, 0.01)
print(f"softmax regression: training accuracy {linear_history['accuracy'][-1]:.3f}")
print(f"MLP 2-64-3 (ReLU): training accuracy {mlp_history['accuracy'][-1]:.3f}")

# %% [markdown]
# ## 决策区域 / Decision regions

# %%
grid = np.linspace(-1.1, 1.1, 250)
gx, gy = np.meshgrid(grid, grid)
points = np.column_stack([gx.ravel(), gy.ravel()])
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
for ax, (name, model, history) in zip(axes, [("softmax regression", linear_model, linear_history),
                                               ("MLP 2-64-3", mlp_model, mlp_history)]):
    model.eval()
    regions = model.forward(points).argmax(axis=1).reshape(gx.shape)
    ax.contourf(gx, gy, regions, levels=[-0.5, 0.5, 1.5, 2.5], colors=["#cfe3f7", "#fde2c8", "#d5efd0"])
    for label, colour in zip(range(3), ["tab:blue", "tab:orange", "tab:green"]):
        ax.scatter(*x[y == label].T, s=12, c=colour, edgecolors="k", linewidths=0.3)
    ax.set_title(f"{name}: accuracy {history['accuracy'][-1]:.2f}")
    ax.set_aspect("equal")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 同一任务的 PyTorch 版本 / The same task in PyTorch

# %%
torch.manual_seed(0)
net = nt.mlp([2, 64, 3])
history = nt.fit(net, torch.optim.Adam(net.parameters(), lr=0.01), torch.from_numpy(x).float(), torch.from_numpy(y),
                 EPOCHS, nt.cross_entropy, batch_size=32, generator=torch.Generator().manual_seed(0))
print(f"PyTorch MLP on {next(net.parameters()).device}: training accuracy {history['accuracy'][-1]:.3f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(linear_history["loss"], label="softmax regression (NumPy)")
ax.plot(mlp_history["loss"], label="MLP (NumPy)")
ax.plot(history["loss"], label="MLP (PyTorch)", ls="--")
ax.set_xlabel("epoch")
ax.set_ylabel("cross-entropy")
ax.set_yscale("log")
ax.legend()
plt.show()

# %%
assert linear_history["accuracy"][-1] < 0.7, "a linear model cannot separate the spirals"
assert mlp_history["accuracy"][-1] > (0.8 if SMOKE else 0.97)
assert history["accuracy"][-1] > (0.8 if SMOKE else 0.97)
