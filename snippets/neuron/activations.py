# %% [markdown]
# # 激活函数实验 / Lab: activation functions and their gradients
#
# 概念见 [激活函数](../../../neuron/activations/)。 Concepts: [activation functions](../../../neuron/activations/).
#
# 每条曲线都来自 `n2t.numpy`：前向函数给出 f(x)，手写的反向函数（上游梯度取全 1）给出 f'(x)。
# Every curve comes from `n2t.numpy`: the forward pass gives f(x), the hand-written backward pass
# (upstream gradient of ones) gives f'(x).
#
# 运行 / Run: `python snippets/neuron/activations.py`

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import n2t.numpy as nn_np
from n2t.gradcheck import check_layer

SMOKE = bool(os.environ.get("N2T_SMOKE"))
x = np.linspace(-5, 5, 201 if SMOKE else 1001)

ACTIVATIONS = {
    "sigmoid": (nn_np.sigmoid_forward, nn_np.sigmoid_backward, {}),
    "tanh": (nn_np.tanh_forward, nn_np.tanh_backward, {}),
    "ReLU": (nn_np.relu_forward, nn_np.relu_backward, {}),
    "Leaky ReLU (0.1)": (nn_np.leaky_relu_forward, nn_np.leaky_relu_backward, {"negative_slope": 0.1}),
    "ELU": (nn_np.elu_forward, nn_np.elu_backward, {}),
    "Swish": (nn_np.swish_forward, nn_np.swish_backward, {}),
    "GELU": (nn_np.gelu_forward, nn_np.gelu_backward, {}),
}


def value_and_derivative(forward, backward, kwargs, points):
    out, cache = forward(points, **kwargs)
    return out, backward(np.ones_like(out), cache)


# %% [markdown]
# ## 函数与导数 / Functions and derivatives

# %%
fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(11, 4))
for name, (forward, backward, kwargs) in ACTIVATIONS.items():
    out, slope = value_and_derivative(forward, backward, kwargs, x)
    ax_f.plot(x, out, label=name)
    ax_d.plot(x, slope, label=name)
ax_f.set_title("f(x)")
ax_d.set_title("f'(x) from the hand-written backward pass")
ax_f.set_ylim(-1.5, 3)
for ax in (ax_f, ax_d):
    ax.axhline(0, color="gray", lw=0.5)
    ax.axvline(0, color="gray", lw=0.5)
    ax.set_xlabel("x")
ax_d.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 饱和 / Saturation
#
# 最大导数，以及 [−5, 5] 中导数小于 0.01 的输入所占比例。
# Largest derivative, and the share of inputs in [−5, 5] where the derivative is below 0.01.

# %%
print(f"{'function':<18}{'max derivative':>16}{'share |f`| < 0.01':>20}")
for name, (forward, backward, kwargs) in ACTIVATIONS.items():
    _, slope = value_and_derivative(forward, backward, kwargs, x)
    print(f"{name:<18}{slope.max():>16.4f}{np.mean(np.abs(slope) < 0.01):>20.3f}")

# %% [markdown]
# ## 数值稳定 / Numerical stability at |x| = 1000
#
# 朴素写法 `1 / (1 + np.exp(-x))` 在 x = −1000 时溢出；包里的写法不会。
# The naive `1 / (1 + np.exp(-x))` overflows at x = −1000; the package's forms do not.

# %%
extreme = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
with np.errstate(over="raise", invalid="raise", divide="raise"):  # harmless underflow to 0 is allowed
    for name, (forward, backward, kwargs) in ACTIVATIONS.items():
        out, slope = value_and_derivative(forward, backward, kwargs, extreme)
        assert np.all(np.isfinite(out)) and np.all(np.isfinite(slope)), name
        print(f"{name:<18} f = {np.array2string(out, precision=3)}")

# %% [markdown]
# ## 梯度检验 / Gradient check
#
# float64、随机上游梯度，对照中心差分与 `torch.autograd`。
# float64, random upstream gradient, against central differences and `torch.autograd`.

# %%
import torch
import torch.nn.functional as F

TORCH_TWINS = {
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "ReLU": F.relu,
    "Leaky ReLU (0.1)": F.leaky_relu, "ELU": F.elu, "Swish": F.silu, "GELU": F.gelu,
}
rng = np.random.default_rng(0)
inputs = rng.standard_normal((3, 4, 5))
inputs[np.abs(inputs) < 1e-3] = 0.5  # keep away from the kink at 0
print(f"{'function':<18}{'vs finite diff.':>18}{'vs autograd':>14}")
for name, (forward, backward, kwargs) in ACTIVATIONS.items():
    result = check_layer(forward, backward, {"x": inputs}, torch_fn=TORCH_TWINS[name], kwargs=kwargs)
    print(f"{name:<18}{result.numeric['x']:>18.2e}{result.torch['x']:>14.2e}")
