# %% [markdown]
# # 梯度消失实验 / Lab: vanishing and exploding gradients
#
# 概念见 [训练深度网络](../../../training/deep/)。 Concepts: [training deep networks](../../../training/deep/).
#
# 一个 12 层、每层 64 个单元的 MLP，在同一批手写数字上做一次前向和反向传播，记录每层权重梯度的范数。
# A 12-layer MLP (64 units per layer): one forward and backward pass on a batch of digits, recording
# the norm of every layer's weight gradient.
#
# 运行 / Run: `python snippets/training/vanishing.py`

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import n2t.numpy as nnp
from n2t.data import digits
from n2t.numpy import init

SMOKE = bool(os.environ.get("N2T_SMOKE"))
DEPTH, WIDTH = 12, 64
x_train, _, y_train, _ = digits()
x_batch, y_batch = x_train[:256], y_train[:256]

SETUPS = {
    "sigmoid + N(0, 0.01)": ("sigmoid", lambda shape, rng: init.normal(shape, rng, std=0.01)),
    "sigmoid + N(0, 1)": ("sigmoid", lambda shape, rng: init.normal(shape, rng, std=1.0)),
    "tanh + Xavier": ("tanh", lambda shape, rng: init.xavier_normal(shape, rng, init.calculate_gain("tanh"))),
    "ReLU + He": ("relu", lambda shape, rng: init.he_normal(shape, rng)),
    "ReLU + N(0, 0.3)": ("relu", lambda shape, rng: init.normal(shape, rng, std=0.3)),
}
ACTIVATIONS = {"sigmoid": nnp.Sigmoid, "tanh": nnp.Tanh, "relu": nnp.ReLU}


def deep_mlp(activation, initialise, seed=0):
    rng = np.random.default_rng(seed)
    sizes = [64] + [WIDTH] * (DEPTH - 1) + [10]
    layers = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nnp.Linear(fan_in, fan_out, rng=rng)
        linear.params["W"] = initialise((fan_out, fan_in), rng)
        linear.params["b"] = np.zeros(fan_out)
        layers.append(linear)
        if index < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nnp.Sequential(*layers)


def gradient_norms(model):
    loss, cache = nnp.softmax_cross_entropy_forward(model.forward(x_batch), y_batch)
    model.backward(nnp.softmax_cross_entropy_backward(1.0, cache))
    return [float(np.linalg.norm(layer.grads["W"])) for layer in model.layers if isinstance(layer, nnp.Linear)]


# %% [markdown]
# ## 每层梯度范数 / Gradient norm per layer

# %%
norms = {name: gradient_norms(deep_mlp(*setup)) for name, setup in SETUPS.items()}
print(f"{'set-up':<22}{'layer 1':>12}{'layer 12':>12}{'layer 1 / layer 12':>22}")
for name, values in norms.items():
    print(f"{name:<22}{values[0]:>12.2e}{values[-1]:>12.2e}{values[0] / values[-1]:>22.2e}")

# %%
fig, ax = plt.subplots(figsize=(7, 4))
for name, values in norms.items():
    ax.plot(range(1, DEPTH + 1), values, marker="o", label=name)
ax.set_yscale("log")
ax.set_xlabel("layer (1 = next to the input)")
ax.set_ylabel("||dL/dW||")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 训练几轮的结果 / After a few epochs of training (Adam, lr = 1e-3)

# %%
x_all, x_test, y_all, y_test = digits()
epochs = 2 if SMOKE else 8
print(f"{'set-up':<22}{'test accuracy':>16}")
accuracy = {}
for name, setup in SETUPS.items():
    model = deep_mlp(*setup)
    with np.errstate(over="ignore", invalid="ignore"):  # the exploding set-up overflows to inf/nan
        nnp.fit(model, nnp.Adam(model.parameters(), lr=1e-3), x_all, y_all, epochs=epochs,
                batch_size=32, rng=np.random.default_rng(0))
        accuracy[name] = nnp.evaluate(model, x_test, y_test)["accuracy"]
    print(f"{name:<22}{accuracy[name]:>16.3f}")

# %%
ratio = {name: values[0] / values[-1] for name, values in norms.items()}
assert ratio["sigmoid + N(0, 0.01)"] < 1e-6, "sigmoid with tiny weights: the first layer gets almost nothing"
assert 0.01 < ratio["ReLU + He"] < 100, "He + ReLU keeps gradient norms within two orders of magnitude"
assert accuracy["ReLU + He"] > accuracy["sigmoid + N(0, 0.01)"]
