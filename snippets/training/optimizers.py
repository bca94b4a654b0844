# %% [markdown]
# # 优化算法对比实验 / Lab: comparing optimisers
#
# 概念见 [梯度下降与优化算法](../../../training/optimizers/)。
# Concepts: [gradient descent and optimisers](../../../training/optimizers/).
#
# 同一个二维函数上的轨迹，以及同一个网络在手写数字上的损失曲线（同样的初值和小批量）。
# Trajectories on one 2-D function, and loss curves of one network on digits (same initial weights
# and minibatches).
#
# 运行 / Run: `python snippets/training/optimizers.py`

# %%
import copy
import os

import matplotlib.pyplot as plt
import numpy as np

import n2t.numpy as nnp
from n2t.data import digits

SMOKE = bool(os.environ.get("N2T_SMOKE"))


def valley(w):
    """An elongated quadratic valley, curvatures 1 and 50: f = (w0² + 50·w1²) / 2."""
    return 0.5 * (w[0] ** 2 + 50 * w[1] ** 2)


def valley_grad(w):
    return np.array([w[0], 50 * w[1]])


OPTIMISERS = {
    "SGD (lr 0.035)": lambda pairs: nnp.SGD(pairs, lr=0.035),
    "momentum 0.9 (lr 0.005)": lambda pairs: nnp.SGD(pairs, lr=0.005, momentum=0.9),
    "RMSProp (lr 0.05)": lambda pairs: nnp.RMSProp(pairs, lr=0.05),
    "Adam (lr 0.3)": lambda pairs: nnp.Adam(pairs, lr=0.3),
}

# %% [markdown]
# ## 二维轨迹 / Trajectories on a 2-D valley

# %%
paths = {}
for name, make in OPTIMISERS.items():
    params, grads = {"w": np.array([-4.0, 1.0])}, {"w": np.zeros(2)}
    optimiser = make([(params, grads)])
    path = [params["w"].copy()]
    for _ in range(60):
        grads["w"] = valley_grad(params["w"])
        optimiser.step()
        path.append(params["w"].copy())
    paths[name] = np.array(path)
    print(f"{name:<26} f after 60 steps: {valley(params['w']):.2e}")

fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=(11, 4))
grid_x, grid_y = np.meshgrid(np.linspace(-4.5, 1.5, 200), np.linspace(-1.3, 1.3, 200))
ax_path.contour(grid_x, grid_y, valley(np.stack([grid_x, grid_y])), levels=np.logspace(-2, 2.5, 12), colors="0.75")
for name, path in paths.items():
    ax_path.plot(path[:, 0], path[:, 1], marker=".", ms=3, label=name)
    ax_loss.plot([valley(w) for w in path], label=name)
ax_path.set_title("paths from (-4, 1)")
ax_path.legend(fontsize=7)
ax_loss.set_yscale("log")
ax_loss.set_xlabel("step")
ax_loss.set_ylabel("f(w)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 手写数字上的同一网络 / The same network on digits

# %%
x_train, x_test, y_train, y_test = digits()
rng = np.random.default_rng(0)
start = nnp.Sequential(nnp.Linear(64, 64, rng=rng), nnp.ReLU(), nnp.Linear(64, 10, rng=rng))
epochs = 3 if SMOKE else 20
DIGIT_OPTIMISERS = {
    "SGD (lr 0.05)": lambda pairs: nnp.SGD(pairs, lr=0.05),
    "momentum 0.9 (lr 0.05)": lambda pairs: nnp.SGD(pairs, lr=0.05, momentum=0.9),
    "RMSProp (lr 1e-3)": lambda pairs: nnp.RMSProp(pairs, lr=1e-3),
    "Adam (lr 1e-3)": lambda pairs: nnp.Adam(pairs, lr=1e-3),
}
histories = {}
for name, make in DIGIT_OPTIMISERS.items():
    model = copy.deepcopy(start)
    histories[name] = nnp.fit(model, make(model.parameters()), x_train, y_train, epochs=epochs, batch_size=32,
                              rng=np.random.default_rng(1), validation=(x_test, y_test))
    first = next((i + 1 for i, a in enumerate(histories[name]["val_accuracy"]) if a >= 0.95), None)
    print(f"{name:<24} final test accuracy {histories[name]['val_accuracy'][-1]:.3f}; "
          f"first epoch at >= 95%: {first if first else 'not reached'}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.4))
for name, history in histories.items():
    ax.plot(range(1, epochs + 1), history["loss"], label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_yscale("log")
ax.legend(fontsize=8)
plt.show()

# %%
assert valley(paths["momentum 0.9 (lr 0.005)"][-1]) < valley(paths["SGD (lr 0.035)"][-1])
for history in histories.values():
    assert history["loss"][-1] < history["loss"][0]
