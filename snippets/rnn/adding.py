# %% [markdown]
# # 加法问题实验 / Lab: the adding problem — RNN against LSTM as the sequence grows
#
# 概念见 [序列任务](../../../rnn/tasks/)。 Concepts: [sequence tasks](../../../rnn/tasks/).
#
# 序列的每一步是一个 [0, 1) 中的数和一个标记位，只有两个位置被标记（前后两半各一个）；网络读完整个序列后输出
# 两个被标记数之和。总是猜 1 的均方误差约为 1/6。同样大小、同样训练的普通 RNN 与 LSTM，在序列长度 T 增大时比较测试误差。
# Every step of a sequence holds a number in [0, 1) and a marker bit; exactly two steps are marked (one in
# each half) and after reading the whole sequence the network must output the sum of the two marked
# numbers. Always answering 1 gives a mean squared error of about 1/6. A plain RNN and an LSTM of the same
# size, trained identically, are compared on test MSE as the length T grows.
#
# 运行 / Run: `python snippets/rnn/adding.py`

# %%
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from n2t.data import adding_problem
from n2t.torch import LSTM, RNN, forget_bias_init, to_builtin

SMOKE = bool(os.environ.get("N2T_SMOKE"))
SEED, HIDDEN, BATCH, LR, MAX_NORM = 0, 32, 32, 0.02, 1.0
LENGTHS = (5, 10) if SMOKE else (10, 50, 100)
STEPS, EVAL_EVERY, TEST_SIZE = (40, 20, 200) if SMOKE else (1500, 100, 1000)
BASELINE = 1 / 6  # MSE of always predicting E[y] = 1: Var(u1 + u2) = 2 · 1/12
torch.set_num_threads(1)


def recurrent_layer(kind):
    """Our ``n2t.torch`` RNN or LSTM reading 2 features per step (the LSTM's forget-gate bias starts at 1)."""
    layer = {"RNN": RNN, "LSTM": LSTM}[kind](2, HIDDEN)
    return forget_bias_init(layer, 1.0) if kind == "LSTM" else layer


class SumReader(nn.Module):
    """A recurrent layer reads (N, T, 2); a linear head maps its last hidden state to the sum (N,)."""

    def __init__(self, recurrent):
        super().__init__()
        self.recurrent = recurrent
        self.head = nn.Linear(HIDDEN, 1)

    def forward(self, x):
        out, _ = self.recurrent(x)  # (N, T, H)
        return self.head(out[:, -1]).squeeze(1)  # (N,)


def tensors(n, length, seed):
    x, y = adding_problem(n, length, seed=seed)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


x_demo, y_demo = tensors(3, 10, seed=SEED)
print("one sequence of length 10 (value, marker):\n", x_demo[0].T.numpy().round(2))
print("target", round(y_demo[0].item(), 4))
ours = recurrent_layer("LSTM")
torch.testing.assert_close(ours(x_demo)[0], to_builtin(ours)(x_demo)[0])  # the same function as nn.LSTM

# %% [markdown]
# ## 训练 / Training: Adam, lr 0.02, batches of 32 fresh sequences, gradient clipping at norm 1


# %%
def train(kind, length):
    """Train a fresh network; returns it and its test MSE every EVAL_EVERY steps.

    ``to_builtin`` turns our layer into ``nn.RNN`` / ``nn.LSTM`` with the same weights: the same function, but
    PyTorch's fused kernels train these six networks about twice as fast as our loop over time steps, which
    keeps the lab under a minute on one CPU core.
    """
    torch.manual_seed(SEED)
    model = SumReader(to_builtin(recurrent_layer(kind)))
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    x_test, y_test = tensors(TEST_SIZE, length, seed=SEED)
    curve = []
    for step in range(1, STEPS + 1):
        x, y = tensors(BATCH, length, seed=SEED + 1 + step)  # never the test sequences
        optimizer.zero_grad()
        F.mse_loss(model(x), y).backward()  # plain mean: comparable with 1/6
        nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)
        optimizer.step()
        if step % EVAL_EVERY == 0:
            with torch.no_grad():
                curve.append(float(F.mse_loss(model(x_test), y_test)))
    return model, curve


models, curves = {}, {}
for length in LENGTHS:
    for kind in ("RNN", "LSTM"):
        models[kind, length], curves[kind, length] = train(kind, length)
print(f"{'T':>5}{'RNN test MSE':>15}{'LSTM test MSE':>15}{'baseline':>10}")
for length in LENGTHS:
    print(f"{length:>5}{curves['RNN', length][-1]:>15.4f}{curves['LSTM', length][-1]:>15.4f}{BASELINE:>10.4f}")

# %% [markdown]
# ## 测试误差 / Test error

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for kind, marker in (("RNN", "o"), ("LSTM", "s")):
    axes[0].plot(LENGTHS, [curves[kind, length][-1] for length in LENGTHS], marker=marker, label=kind)
axes[0].set_xlabel("sequence length T")
axes[0].set_ylabel("test MSE after training")
axes[0].set_xticks(LENGTHS)
longest = LENGTHS[-1]
for kind in ("RNN", "LSTM"):
    steps = range(EVAL_EVERY, STEPS + 1, EVAL_EVERY)
    axes[1].plot(steps, curves[kind, longest], label=kind)
axes[1].set_xlabel("training step")
axes[1].set_ylabel(f"test MSE, T = {longest}")
for ax in axes:
    ax.axhline(BASELINE, color="gray", linestyle=":", label="predict 1 (1/6)")
    ax.set_yscale("log")
    ax.legend()
plt.show()

# %% [markdown]
# ## 网络记住了什么？ / What does each network remember?
#
# 目标 $y = u_1 + u_2$ 与每个加数的相关系数是 $1/\sqrt{2} \approx 0.71$；
# 预测与两个被标记数的相关系数说明网络用到了哪一个。
# The target $y = u_1 + u_2$ correlates with each addend at $1/\sqrt{2} \approx 0.71$; the correlation of a
# prediction with the two marked numbers shows which of them the network uses.


# %%
def correlation(a, b):
    return float(torch.corrcoef(torch.stack([a, b]))[0, 1])


x_test, y_test = tensors(TEST_SIZE, longest, seed=SEED)
first, second = x_test[..., 0][x_test[..., 1] == 1].reshape(-1, 2).T  # the two marked numbers, (N,) each
correlations = {}
print(f"T = {longest}{'corr(prediction, u1)':>24}{'corr(prediction, u2)':>24}")
for kind in ("RNN", "LSTM"):
    with torch.no_grad():
        prediction = models[kind, longest](x_test)
    correlations[kind] = (correlation(prediction, first), correlation(prediction, second))
    print(f"{kind:<8}{correlations[kind][0]:>24.3f}{correlations[kind][1]:>24.3f}")

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
results = {"seed": SEED, "hidden_size": HIDDEN, "batch": BATCH, "lr": LR, "max_norm": MAX_NORM, "steps": STEPS,
           "test_size": TEST_SIZE, "lengths": list(LENGTHS), "baseline_mse": BASELINE,
           **{f"{kind.lower()}_corr_{which}_{longest}": value for kind, pair in correlations.items()
              for which, value in zip(("u1", "u2"), pair)},
           **{f"{kind.lower()}_mse_{length}": curve[-1] for (kind, length), curve in curves.items()}}
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
if not SMOKE:
    assert results[f"lstm_mse_{longest}"] < BASELINE / 20, "the LSTM solves the longest sequences"
    assert results[f"rnn_mse_{longest}"] > 0.9 * BASELINE, "the RNN stays at the baseline there"
    assert max(map(abs, correlations["RNN"])) < 0.2, "the RNN uses neither number"
    assert min(correlations["LSTM"]) > 0.65, "the LSTM uses both numbers (ideal 0.71)"
    assert results[f"rnn_mse_{LENGTHS[0]}"] < BASELINE / 4, "on short sequences the RNN learns too"
