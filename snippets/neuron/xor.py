# %% [markdown]
# # 两层网络实验 / Lab: a two-layer net separates XOR
#
# 概念见 [单层与多层网络](../../../neuron/layers/)。 Concepts: [layers and networks](../../../neuron/layers/).
#
# 两个模型用同样的方式训练（全批量梯度下降，二元交叉熵）。
# Two models, trained the same way (full-batch gradient descent, binary cross-entropy):
#
# * 线性叠加 / linear stack: `Linear(2, 8) → Linear(8, 1)`
# * 两层网络 / two-layer net: `Linear(2, 8) → tanh → Linear(8, 1)`
#
# 运行 / Run: `python snippets/neuron/xor.py`

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from n2t.data import logic_gate, triangles_and_squares
from n2t.numpy import Linear, sigmoid, tanh_backward, tanh_forward
from n2t.plot import decision_regions, scatter_classes

SMOKE = bool(os.environ.get("N2T_SMOKE"))
STEPS = 300 if SMOKE else 2000
HIDDEN = 8


# %%
class TwoLayerNet:
    """Linear(2, H) → [tanh] → Linear(H, 1); outputs a logit z (N, 1)."""

    def __init__(self, hidden, nonlinear, rng):
        self.layer1 = Linear(2, hidden, rng=rng)
        self.layer2 = Linear(hidden, 1, rng=rng)
        self.nonlinear = nonlinear

    def forward(self, x):
        h = self.layer1.forward(x)  # (N, H)
        if self.nonlinear:
            h, self.tanh_cache = tanh_forward(h)
        return self.layer2.forward(h)  # (N, 1)

    def backward(self, dz):
        dh = self.layer2.backward(dz)
        if self.nonlinear:
            dh = tanh_backward(dh, self.tanh_cache)
        self.layer1.backward(dh)

    def step(self, lr):
        for layer in (self.layer1, self.layer2):
            for key in layer.params:
                layer.params[key] -= lr * layer.grads[key]

    def predict(self, x):
        return np.where(self.forward(x)[:, 0] > 0, 1, -1)


def train(model, x, y, steps, lr=0.5):
    """Full-batch gradient descent on the binary cross-entropy; returns the loss per step."""
    target = (y[:, None] > 0).astype(float)  # labels ±1 → 1/0, (N, 1)
    losses = []
    for _ in range(steps):
        z = model.forward(x)
        losses.append(float(np.mean(np.logaddexp(0.0, z) - target * z)))  # stable BCE with logits
        model.backward((sigmoid(z) - target) / len(x))
        model.step(lr)
    return losses


# %% [markdown]
# ## 训练 / Training

# %%
datasets = {"XOR": logic_gate("xor"), "triangles vs squares": triangles_and_squares(200, seed=1)}
runs = {}
for data_name, (x, y) in datasets.items():
    x_centered = x - 0.5 if data_name == "XOR" else x
    for nonlinear in (False, True):
        model = TwoLayerNet(HIDDEN, nonlinear, rng=np.random.default_rng(0))
        losses = train(model, x_centered, y, STEPS)
        accuracy = float(np.mean(model.predict(x_centered) == y))
        name = "two-layer net (tanh)" if nonlinear else "linear stack"
        runs[data_name, name] = (model, losses, accuracy, x_centered, y)
        print(f"{data_name:>20} | {name:<20} | final loss {losses[-1]:.4f} | accuracy {accuracy:.3f}")

# %% [markdown]
# ## 决策边界 / Decision boundaries
#
# 线性叠加等价于一个仿射变换，分界线只能是直线；tanh 网络把它弯曲。
# The linear stack is one affine map, so its boundary is a straight line; the tanh net bends it.

# %%
fig, axes = plt.subplots(2, 2, figsize=(8, 8))
for ax, ((data_name, name), (model, _, accuracy, x, y)) in zip(axes.ravel(), runs.items()):
    limits = (-1.0, 1.0, -1.0, 1.0) if data_name == "XOR" else (-1.2, 1.2, -1.2, 1.2)
    decision_regions(ax, lambda p, m=model: m.forward(p)[:, 0], limits=limits)
    scatter_classes(ax, x, y, labels=("+1", "-1"))
    ax.set_title(f"{data_name}\n{name}: accuracy {accuracy:.2f}", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 损失曲线 / Loss curves

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
for (data_name, name), (_, losses, _, _, _) in runs.items():
    ax.plot(losses, label=f"{data_name}, {name}")
ax.set_xlabel("step")
ax.set_ylabel("cross-entropy")
ax.set_yscale("log")
ax.legend(fontsize=8)
plt.show()

# %%
assert runs["XOR", "two-layer net (tanh)"][2] == 1.0, "the tanh net separates XOR"
assert runs["XOR", "linear stack"][2] <= 0.75, "a line gets at most 3 of the 4 XOR points right"
assert runs["triangles vs squares", "two-layer net (tanh)"][2] >= (0.85 if SMOKE else 0.95)
assert runs["triangles vs squares", "linear stack"][2] < 0.8
