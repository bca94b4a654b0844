# %% [markdown]
# # 线性回归与 Logistic 回归实验 / Lab: linear and logistic regression
#
# 概念见 [线性模型与损失函数](../../../learning/linear/)。
# Concepts: [linear models and losses](../../../learning/linear/).
#
# 运行 / Run: `python snippets/learning/regression.py`

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import n2t.numpy as nnp
from n2t.data import moons
from n2t.plot import decision_regions, scatter_classes

SMOKE = bool(os.environ.get("N2T_SMOKE"))
STEPS = 200 if SMOKE else 500
rng = np.random.default_rng(0)

# %% [markdown]
# ## 线性回归：梯度下降与最小二乘解 / Linear regression: gradient descent vs least squares

# %%
x = rng.uniform(-2, 2, (80, 1))
y = 1.5 * x - 0.7 + rng.normal(0, 0.4, x.shape)
layer = nnp.Linear(1, 1, rng=rng)
losses = []
for _ in range(STEPS):
    loss, cache = nnp.mse_forward(layer.forward(x), y)  # L = 1/(2N) sum (y_hat - y)^2
    layer.backward(nnp.mse_backward(1.0, cache))
    for key in layer.params:
        layer.params[key] -= 0.1 * layer.grads[key]
    losses.append(float(loss))
design = np.column_stack([x[:, 0], np.ones(len(x))])
(slope, intercept), *_ = np.linalg.lstsq(design, y[:, 0], rcond=None)
print(f"gradient descent: slope {layer.params['W'][0, 0]:.4f}, intercept {layer.params['b'][0]:.4f}")
print(f"least squares   : slope {slope:.4f}, intercept {intercept:.4f}")

# %%
fig, (ax_fit, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.6))
grid = np.linspace(-2, 2, 50)[:, None]
ax_fit.scatter(x, y, s=12, alpha=0.7, label="data")
ax_fit.plot(grid, layer.forward(grid), c="tab:red", label="gradient descent")
ax_fit.plot(grid, slope * grid + intercept, c="k", ls=":", label="least squares")
ax_fit.legend()
ax_loss.plot(losses)
ax_loss.set_xlabel("step")
ax_loss.set_ylabel("MSE (1/2N convention)")
ax_loss.set_yscale("log")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Logistic 回归 / Logistic regression (binary cross-entropy on logits)

# %%
points, labels = moons(200, noise=0.15, seed=0)
model = nnp.Sequential(nnp.Linear(2, 1, rng=rng))
history = nnp.fit(model, nnp.SGD(model.parameters(), lr=0.5), points, labels[:, None].astype(float),
                  epochs=STEPS // 5, batch_size=200, loss="bce_with_logits", rng=rng)
print(f"logistic regression on moons: training accuracy {history['accuracy'][-1]:.3f}, "
      f"final loss {history['loss'][-1]:.4f}")

# %%
fig, ax = plt.subplots(figsize=(5, 3.6))
decision_regions(ax, lambda p: model.forward(p)[:, 0], limits=(-1.6, 2.6, -1.2, 1.6))
scatter_classes(ax, points, np.where(labels == 1, 1, -1), labels=("class 1", "class 0"))
ax.set_title(f"logistic regression: accuracy {history['accuracy'][-1]:.2f}")
plt.show()

# %%
assert abs(layer.params["W"][0, 0] - slope) < 1e-3 and abs(layer.params["b"][0] - intercept) < 1e-3
assert history["loss"][-1] < history["loss"][0] and history["accuracy"][-1] > 0.8
