# %% [markdown]
# # 并行性实验 / Lab: parallelism — an RNN layer against a self-attention layer
#
# 概念见 [多头注意力与自注意力](../../../attention/multihead/)。
# Concepts: [multi-head attention and self-attention](../../../attention/multihead/).
#
# 在一个 CPU 线程上测量一层 RNN（PyTorch 内置的 `nn.RNN`，tanh）和一层自注意力（本书的 `MultiHeadAttention`，
# 4 个头）处理一条序列的前向时间，序列长度从 16 翻倍到 1024；再数出两者的浮点运算次数（FLOPs）和必须依次执行的步数。
# On one CPU thread we time the forward pass, per sequence, of one RNN layer (PyTorch's built-in `nn.RNN`, tanh)
# and one self-attention layer (this book's `MultiHeadAttention`, 4 heads) for sequence lengths doubling from 16
# to 1024; then we count the floating-point operations (FLOPs) of both and the steps that must run one after
# another.
#
# 运行 / Run: `python snippets/attention/parallelism.py`

# %%
import json
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from n2t.torch.attention import MultiHeadAttention, scaled_dot_product_attention

SMOKE = bool(os.environ.get("N2T_SMOKE"))
SEED, BATCH, D, HEADS = 0, 16, 128, 4
LENGTHS = [16 * 2**i for i in range(4 if SMOKE else 7)]  # 16 … 1024
FIT_FROM = LENGTHS[-3]  # the slopes are fitted on the three longest lengths
torch.set_num_threads(1)
torch.manual_seed(SEED)
rnn = nn.RNN(D, D, batch_first=True)  # tanh; a C++ loop over the time steps
attention = MultiHeadAttention(D, HEADS)
print(f"batch {BATCH}, d = {D}, {HEADS} heads, lengths {LENGTHS}, {torch.get_num_threads()} thread")


# %% [markdown]
# ## 每条序列的时间 / Time per sequence


# %%
def seconds_per_call(fn, budget=0.1, repeats=3):
    """CPU seconds of one call: the best of ``repeats`` timings, each averaging enough calls to fill about
    ``budget`` seconds. CPU time (not wall-clock time) does not count the moments another program had the core."""
    start = time.process_time()
    fn()
    calls = max(1, int(budget / max(time.process_time() - start, 1e-6)))
    timings = []
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(calls):
            fn()
        timings.append((time.process_time() - start) / calls)
    return min(timings)


rnn_ms, attention_ms = [], []
with torch.no_grad():
    for length in LENGTHS:
        x = torch.randn(BATCH, length, D)  # (N, T, D)
        rnn_ms.append(seconds_per_call(lambda x=x: rnn(x)) / BATCH * 1e3)
        attention_ms.append(seconds_per_call(lambda x=x: attention(x, x, x)) / BATCH * 1e3)
print(f"{'T':>6}{'RNN ms/seq':>12}{'attention ms/seq':>18}{'attention / RNN':>17}")
for length, r, a in zip(LENGTHS, rnn_ms, attention_ms):
    print(f"{length:>6}{r:>12.3f}{a:>18.3f}{a / r:>17.2f}")


def slope(lengths, times):
    """Least-squares slope of log(time) against log(T): time ∝ T^slope."""
    return float(np.polyfit(np.log(lengths), np.log(times), 1)[0])


tail = [i for i, length in enumerate(LENGTHS) if length >= FIT_FROM]
rnn_slope = slope([LENGTHS[i] for i in tail], [rnn_ms[i] for i in tail])
attention_slope = slope([LENGTHS[i] for i in tail], [attention_ms[i] for i in tail])
print(f"fitted on T >= {FIT_FROM}: RNN time ∝ T^{rnn_slope:.2f}, attention time ∝ T^{attention_slope:.2f}")

# %% [markdown]
# ## 浮点运算次数与依次执行的步数 / FLOPs and sequential steps
#
# $QK^\top$ 和加权求和 $AV$ 各需 $2n^2d$ 次运算；四个投影共 $8nd^2$；RNN 每步两次 $d \times d$ 矩阵乘法，共 $4nd^2$。
# 下面用 PyTorch 的 `FlopCounterMode` 实际数一遍（一条序列）。
# $QK^\top$ and the weighted sum $AV$ take $2n^2d$ operations each; the four projections $8nd^2$; the RNN does
# two $d \times d$ matrix products per step, $4nd^2$ in all. PyTorch's `FlopCounterMode` counts them (one sequence).


# %%
def counted_flops(fn):
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


core_flops, attention_flops, rnn_flops = [], [], []
with torch.no_grad():
    for length in LENGTHS:
        x = torch.randn(1, length, D)  # one sequence
        core_flops.append(counted_flops(lambda x=x: scaled_dot_product_attention(x, x, x)))  # QKᵀ and AV only
        attention_flops.append(counted_flops(lambda x=x: attention(x, x, x)))
        rnn_flops.append(counted_flops(lambda x=x: rnn(x)))
sequential_steps = {"rnn": LENGTHS, "attention": [1] * len(LENGTHS)}  # h_t needs h_{t-1}; attention: one product
print(f"{'T':>6}{'QKᵀ + AV':>14}{'4·T²·d':>14}{'attention layer':>17}{'RNN layer':>12}{'steps RNN / attn':>18}")
for i, length in enumerate(LENGTHS):
    print(f"{length:>6}{core_flops[i]:>14.3g}{4 * length**2 * D:>14.3g}{attention_flops[i]:>17.3g}"
          f"{rnn_flops[i]:>12.3g}{sequential_steps['rnn'][i]:>10} / 1")

fig, (ax_time, ax_flops) = plt.subplots(1, 2, figsize=(11, 4))
ax_time.loglog(LENGTHS, rnn_ms, "o-", label=f"nn.RNN (slope {rnn_slope:.2f})")
ax_time.loglog(LENGTHS, attention_ms, "s-", label=f"self-attention (slope {attention_slope:.2f})")
ax_time.set_xlabel("sequence length T")
ax_time.set_ylabel("forward CPU ms per sequence (1 thread)")
ax_time.legend()
ax_flops.loglog(LENGTHS, rnn_flops, "o-", label="RNN layer: 4·T·d²")
ax_flops.loglog(LENGTHS, attention_flops, "s-", label="attention layer: 8·T·d² + 4·T²·d")
ax_flops.loglog(LENGTHS, core_flops, "^--", label="QKᵀ and AV: 4·T²·d")
ax_flops.set_xlabel("sequence length T")
ax_flops.set_ylabel("FLOPs per sequence")
ax_flops.legend()
for ax in (ax_time, ax_flops):
    ax.set_xticks(LENGTHS, [str(length) for length in LENGTHS])
    ax.tick_params(axis="x", which="minor", bottom=False, labelbottom=False)
plt.show()

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
crossover = next((length for length, r, a in zip(LENGTHS, rnn_ms, attention_ms) if a > r), None)
results = {"seed": SEED, "batch": BATCH, "d_model": D, "heads": HEADS, "threads": torch.get_num_threads(),
           "rnn_module": "torch.nn.RNN", "attention_module": "n2t.torch.attention.MultiHeadAttention",
           "lengths": LENGTHS, "rnn_ms_per_sequence": rnn_ms, "attention_ms_per_sequence": attention_ms,
           "fit_from_length": FIT_FROM, "rnn_slope": rnn_slope, "attention_slope": attention_slope,
           "first_length_attention_slower": crossover, "qk_av_flops": core_flops,
           "attention_layer_flops": attention_flops, "rnn_layer_flops": rnn_flops,
           "rnn_sequential_steps": sequential_steps["rnn"], "attention_sequential_steps": sequential_steps["attention"]}
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
assert all(c == 4 * n**2 * D for c, n in zip(core_flops, LENGTHS)), "QKᵀ and AV: 2·T²·d FLOPs each"
assert all(c == 8 * n * D**2 + 4 * n**2 * D for c, n in zip(attention_flops, LENGTHS)), "projections + core"
assert all(c == 4 * n * D**2 for c, n in zip(rnn_flops, LENGTHS)), "two d × d products per RNN step"
if not SMOKE:
    assert 0.7 < rnn_slope < 1.3, "the RNN's time grows linearly with the length"
    assert attention_slope > 1.5, "attention's time grows roughly quadratically at long lengths"
    assert attention_ms[-1] > 2 * rnn_ms[-1], "at T = 1024 attention costs more than the RNN on one thread"
