# %% [markdown]
# # 梯度流实验 / Lab: gradient flow through time — vanishing, exploding, clipping
#
# 概念见 [随时间反向传播](../../../rnn/bptt/)。 Concepts: [backpropagation through time](../../../rnn/bptt/).
#
# 一段 100 步的序列，损失只取决于最后一个隐状态 $h_{99}$。把 BPTT 的循环逐步展开，记录每个时刻的
# $\lVert \partial L / \partial h_t \rVert$：线性 RNN 与 tanh RNN（$W_{hh}$ 的谱半径取 0.9、1.0、1.1），
# 以及初始化时的 LSTM；最后看梯度裁剪如何缩放一个爆炸的梯度。
# A 100-step sequence whose loss depends only on the last hidden state $h_{99}$. We unroll the BPTT loop step
# by step and record $\lVert \partial L / \partial h_t \rVert$ at every step: for a linear and a tanh RNN whose
# $W_{hh}$ has spectral radius 0.9, 1.0 and 1.1, and for an LSTM at initialisation; then gradient clipping
# rescales an exploding gradient.
#
# 运行 / Run: `python snippets/rnn/gradient_flow.py`

# %%
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from n2t.numpy.lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from n2t.numpy.optim import clip_grad_norm
from n2t.numpy.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

SMOKE = bool(os.environ.get("N2T_SMOKE"))
SEED, T, N, D, H = 0, (20 if SMOKE else 100), 8, 8, 64
RADII = (0.9, 1.0, 1.1)  # spectral radius of W_hh
FORGET_BIASES = (0.0, 1.0, 3.0)  # LSTM forget-gate bias at initialisation
EXPLODING_RADIUS, MAX_NORM = 2.0, 1.0  # a tanh RNN whose gradient explodes; the clipping threshold
rng = np.random.default_rng(SEED)
x = rng.standard_normal((N, T, D))  # (N, T, D)
upstream = rng.standard_normal((N, H))  # dL/dh_{T-1}; the loss reads no other step
upstream /= np.linalg.norm(upstream)  # ||dL/dh_{T-1}|| = 1, so the curves below read as ratios
bound = 1 / np.sqrt(H)  # PyTorch's initialisation U(-1/sqrt(H), 1/sqrt(H))
w_ih = rng.uniform(-bound, bound, (H, D))
zeros_h = np.zeros(H)
random_w = rng.standard_normal((H, H))
unit_radius_w = random_w / np.max(np.abs(np.linalg.eigvals(random_w)))  # spectral radius exactly 1


def recurrent_weights(radius):
    """W_hh (H, H): one fixed random matrix, scaled so its largest |eigenvalue| is ``radius``."""
    return radius * unit_radius_w


# %% [markdown]
# ## 线性 RNN：每一步乘一次 $W_{hh}^\top$ / Linear RNN: one multiplication by $W_{hh}^\top$ per step
#
# 对 $h_t = W_{hh} h_{t-1} + W_{ih} x_t$，雅可比矩阵 $\partial h_t / \partial h_{t-1} = W_{hh}$ 与输入无关。
# For $h_t = W_{hh} h_{t-1} + W_{ih} x_t$ the Jacobian $\partial h_t / \partial h_{t-1} = W_{hh}$ does not
# depend on the input.


# %%
def linear_rnn_gradient_norms(w_hh):
    """||dL/dh_t|| for t = 0 … T-1 of a linear RNN: BPTT multiplies by W_hh^T at every step."""
    dh, norms = upstream, np.zeros(T)
    for t in reversed(range(T)):
        norms[t] = np.linalg.norm(dh)
        dh = dh @ w_hh  # (N, H): row vectors, so dh @ W is W^T dh
    return norms


linear = {radius: linear_rnn_gradient_norms(recurrent_weights(radius)) for radius in RADII}


# %% [markdown]
# ## tanh RNN：BPTT 循环逐步展开 / tanh RNN: the BPTT loop, one step at a time
#
# 与 `rnn_backward` 相同的循环，只是每一步都记下 $\lVert \partial L/\partial h_t \rVert$；最后的结果与 `rnn_backward`
# 给出的 $\partial L/\partial h_{\text{init}}$ 一致。
# The same loop as `rnn_backward`, recording $\lVert \partial L/\partial h_t \rVert$ at every step; where it
# ends agrees with the $\partial L/\partial h_{\text{init}}$ that `rnn_backward` returns.


# %%
def last_step_only(dh_last):
    """Upstream gradient (N, T, H) for rnn_backward/lstm_backward: zero except at the last step."""
    dh = np.zeros((N, T, H))
    dh[:, -1] = dh_last
    return dh


def tanh_rnn_gradient_norms(w_hh):
    """||dL/dh_t|| for t = 0 … T-1, and dL/dh_init (N, H) from the unrolled loop."""
    h, caches = np.zeros((N, H)), []
    for t in range(T):
        h, cache = rnn_step_forward(x[:, t], h, w_ih, w_hh, zeros_h, zeros_h)
        caches.append(cache)
    dh, norms = upstream, np.zeros(T)
    for t in reversed(range(T)):
        norms[t] = np.linalg.norm(dh)
        dh = rnn_step_backward(dh, caches[t])[1]  # dL/dh_{t-1}
    return norms, dh


tanh = {}
for radius in RADII + (EXPLODING_RADIUS,):
    tanh[radius], dh_init = tanh_rnn_gradient_norms(recurrent_weights(radius))
    _, cache = rnn_forward(x, np.zeros((N, H)), w_ih, recurrent_weights(radius), zeros_h, zeros_h)
    np.testing.assert_allclose(dh_init, rnn_backward(last_step_only(upstream), cache)[1], rtol=1e-10)


# %% [markdown]
# ## 初始化时的 LSTM / LSTM at initialisation
#
# 权重取 PyTorch 的默认分布，偏置为 0，只有遗忘门的偏置取 0、1 或 3。
# Weights from PyTorch's default distribution, biases zero except the forget gate's: 0, 1 or 3.


# %%
lstm_w_ih = rng.uniform(-bound, bound, (4 * H, D))
lstm_w_hh = rng.uniform(-bound, bound, (4 * H, H))


def lstm_gradient_norms(forget_bias):
    """||dL/dh_t|| for t = 0 … T-1 of an LSTM whose forget-gate bias is ``forget_bias``."""
    b_ih, b_hh = np.zeros(4 * H), np.zeros(4 * H)
    b_ih[H:2 * H] = forget_bias  # gates packed i, f, g, o
    h, c, caches = np.zeros((N, H)), np.zeros((N, H)), []
    for t in range(T):
        h, c, cache = lstm_step_forward(x[:, t], h, c, lstm_w_ih, lstm_w_hh, b_ih, b_hh)
        caches.append(cache)
    dh, dc, norms = upstream, np.zeros((N, H)), np.zeros(T)
    for t in reversed(range(T)):
        norms[t] = np.linalg.norm(dh)
        _, dh, dc, *_ = lstm_step_backward(dh, dc, caches[t])
    _, cache = lstm_forward(x, np.zeros((N, H)), np.zeros((N, H)), lstm_w_ih, lstm_w_hh, b_ih, b_hh)
    np.testing.assert_allclose(dh, lstm_backward(last_step_only(upstream), cache)[1], rtol=1e-10)
    return norms


lstm = {bias: lstm_gradient_norms(bias) for bias in FORGET_BIASES}

# %% [markdown]
# ## 比较 / Comparison: $\lVert \partial L/\partial h_0 \rVert \,/\, \lVert \partial L/\partial h_{99} \rVert$


# %%
def ratio(norms):
    return float(norms[0] / norms[-1])


curves = {**{f"linear RNN, radius {r}": v for r, v in linear.items()},
          **{f"tanh RNN, radius {r}": v for r, v in tanh.items()},
          **{f"LSTM, forget bias {b:g}": v for b, v in lstm.items()}}
print(f"{'network':<28}{'||dL/dh_0|| / ||dL/dh_' + str(T - 1) + '||':>28}")
for name, norms in curves.items():
    print(f"{name:<28}{ratio(norms):>28.3e}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for radius, norms in linear.items():
    axes[0].plot(norms, label=f"radius {radius}")
for radius, norms in tanh.items():
    axes[1].plot(norms, label=f"tanh RNN, radius {radius}")
for bias, norms in lstm.items():
    axes[1].plot(norms, linestyle="--", label=f"LSTM, forget bias {bias:g}")
for ax, title in zip(axes, ("linear RNN", "tanh RNN and LSTM")):
    ax.set_yscale("log")
    ax.set_xlabel("time step t (the loss reads h at the last step)")
    ax.set_title(title)
    ax.legend(fontsize=8)
axes[0].set_ylabel("||dL/dh_t||")
plt.show()

# %% [markdown]
# ## 梯度裁剪 / Gradient clipping by norm
#
# 谱半径 2 的 tanh RNN：把全部参数的梯度合起来按范数缩放到 1，方向不变。
# A tanh RNN with spectral radius 2: all its parameter gradients are rescaled together to norm 1; the
# direction does not change.

# %%
w_hh = recurrent_weights(EXPLODING_RADIUS)
_, cache = rnn_forward(x, np.zeros((N, H)), w_ih, w_hh, zeros_h, zeros_h)
_, _, dw_ih, dw_hh, db_ih, db_hh = rnn_backward(last_step_only(upstream), cache)
params = {"w_ih": w_ih, "w_hh": w_hh, "b_ih": zeros_h, "b_hh": zeros_h}
grads = {"w_ih": dw_ih, "w_hh": dw_hh, "b_ih": db_ih, "b_hh": db_hh}
raw = np.concatenate([g.ravel() for g in grads.values()])
norm_before = clip_grad_norm([(params, grads)], MAX_NORM)
clipped = np.concatenate([g.ravel() for g in grads.values()])
norm_after = float(np.linalg.norm(clipped))
cosine = float(raw @ clipped / (np.linalg.norm(raw) * norm_after))
print(f"gradient norm before clipping {norm_before:.3e}, after {norm_after:.6f} (max_norm {MAX_NORM}), "
      f"cosine(before, after) = {cosine:.6f}")

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
results = {"seed": SEED, "steps": T, "batch": N, "input_size": D, "hidden_size": H,
           **{f"linear_ratio_{r}": ratio(v) for r, v in linear.items()},
           **{f"tanh_ratio_{r}": ratio(v) for r, v in tanh.items()},
           **{f"lstm_ratio_bias_{b:g}": ratio(v) for b, v in lstm.items()},
           "clip_radius": EXPLODING_RADIUS, "clip_max_norm": MAX_NORM, "clip_norm_before": norm_before,
           "clip_norm_after": norm_after, "clip_cosine": cosine}
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
assert abs(norm_after - MAX_NORM) < 1e-5 and cosine > 1 - 1e-9, "clipping rescales without turning"
if not SMOKE:
    assert results["linear_ratio_0.9"] < 1e-3 < 1e3 < results["linear_ratio_1.1"], "radius < 1 vanishes, > 1 explodes"
    assert all(results[f"tanh_ratio_{r}"] < 1e-2 for r in RADII), "tanh' <= 1: even radius 1.1 vanishes"
    assert results[f"tanh_ratio_{EXPLODING_RADIUS}"] > 100 < norm_before / MAX_NORM, "a large radius explodes"
    assert results["lstm_ratio_bias_3"] > 1e3 * results["lstm_ratio_bias_1"], "the forget gate sets the decay"
