# %% [markdown]
# # 感知机实验 / Lab: the perceptron on AND, OR and XOR
#
# 概念见 [神经元与感知机](../../../neuron/neuron/)。 Concepts: [the neuron and the perceptron](../../../neuron/neuron/).
#
# 运行 / Run: `python snippets/neuron/perceptron.py`

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from n2t.data import logic_gate
from n2t.numpy import Perceptron
from n2t.plot import decision_regions, scatter_classes

SMOKE = bool(os.environ.get("N2T_SMOKE"))
MAX_EPOCHS = 20 if SMOKE else 100

# %% [markdown]
# ## 训练 / Training
#
# 感知机学习规则，直到某一轮不再出错（或达到 `MAX_EPOCHS`）。
# The perceptron learning rule, until an epoch makes no mistake (or `MAX_EPOCHS` pass).

# %%
results = {}
for gate in ("and", "or", "xor"):
    x, y = logic_gate(gate)
    model = Perceptron(n_features=2, lr=1.0)
    history = model.fit(x, y, max_epochs=MAX_EPOCHS)
    accuracy = float(np.mean(model.predict(x) == y))
    results[gate] = (model, history, accuracy)
    print(f"{gate.upper():>4}: epochs={len(history):3d}  mistakes in last epoch={history[-1]}  "
          f"accuracy={accuracy:.2f}  w={model.params['w']}  b={float(model.params['b']):+.1f}")

# %% [markdown]
# ## 决策边界 / Decision boundaries
#
# AND 与 OR 最终得到一条分开两类的直线；XOR 不存在这样的直线。
# AND and OR end with a separating line; for XOR no such line exists.

# %%
fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
for ax, (gate, (model, history, accuracy)) in zip(axes, results.items()):
    x, y = logic_gate(gate)
    decision_regions(ax, model.predict, limits=(-0.5, 1.5, -0.5, 1.5))
    scatter_classes(ax, x, y, labels=("true (+1)", "false (-1)"))
    ax.set_title(f"{gate.upper()}: accuracy {accuracy:.2f} after {len(history)} epochs")
axes[0].legend(loc="upper left", fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 每轮错误数 / Mistakes per epoch

# %%
fig, ax = plt.subplots(figsize=(6, 3))
for gate, (_, history, _) in results.items():
    ax.plot(range(1, len(history) + 1), history, marker="o", label=gate.upper())
ax.set_xlabel("epoch")
ax.set_ylabel("mistakes")
ax.legend()
plt.show()

# %%
assert results["and"][2] == 1.0 and results["or"][2] == 1.0, "AND and OR are linearly separable"
assert results["xor"][2] < 1.0, "no line separates XOR"
