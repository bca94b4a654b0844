# %% [markdown]
# # 正弦波预测实验 / Lab: predicting sine waves, one step ahead and free-running
#
# 概念见 [序列任务](../../../rnn/tasks/)。 Concepts: [sequence tasks](../../../rnn/tasks/).
#
# 每条序列是一个相位和频率都随机的正弦波。小 LSTM 读入到 t 为止的值，预测 t+1 时刻的值。训练后再让它自由运行：
# 先读 20 个真实值，之后把自己的预测当作下一步的输入。训练时在输入上加噪声，能让自由运行稳得多。
# Every sequence is a sine wave with a random phase and frequency. A small LSTM reads the values up to step t
# and predicts the value at t + 1. After training we let it run free: it reads 20 true values, then feeds
# each prediction back in as the next input. Noise added to the inputs during training makes the free run far
# steadier.
#
# 运行 / Run: `python snippets/rnn/sine.py`

# %%
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from n2t.data import sine_waves
from n2t.torch import LSTM

SMOKE = bool(os.environ.get("N2T_SMOKE"))
SEED, HIDDEN, BATCH, LR, LENGTH = 0, 32, 64, 0.01, 50
STEPS = 30 if SMOKE else 800
TEST_SIZE, WARMUP, FREE_STEPS = 500, 20, 30  # the rollout stays within the trained length
torch.set_num_threads(1)


def waves(n, length, seed):
    """Inputs (N, T, 1) and next-step targets (N, T, 1) from sine waves (N, T + 1)."""
    samples = torch.tensor(sine_waves(n, length, seed=seed), dtype=torch.float32).unsqueeze(2)  # (N, T + 1, 1)
    return samples[:, :-1], samples[:, 1:]


class NextStep(nn.Module):
    """Our n2t.torch LSTM (1 input feature) and a linear head applied at every step."""

    def __init__(self):
        super().__init__()
        self.lstm = LSTM(1, HIDDEN)
        self.head = nn.Linear(HIDDEN, 1)

    def forward(self, x, state=None):
        out, state = self.lstm(x, state)  # (N, T, H)
        return self.head(out), state  # (N, T, 1)


x_test, y_test = waves(TEST_SIZE, LENGTH, seed=SEED)
persistence_mse = float(F.mse_loss(x_test, y_test))  # predict "the same value as now"
print(f"test waves {tuple(x_test.shape)}; MSE of repeating the current value: {persistence_mse:.4f}")

# %% [markdown]
# ## 训练 / Training: Adam, lr 0.01, 64 fresh waves per step
#
# 两个相同的网络：一个只用真实输入训练（teacher forcing），另一个的输入加上标准差 0.1 的高斯噪声。
# Two identical networks: one trained on the true inputs only (teacher forcing), the other with Gaussian noise
# of standard deviation 0.1 added to its inputs.


# %%
def train(input_noise):
    """Train a fresh NextStep network; returns it and its training losses."""
    torch.manual_seed(SEED)
    model = NextStep()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    noise = torch.Generator().manual_seed(SEED)
    losses = []
    for step in range(1, STEPS + 1):
        x, y = waves(BATCH, LENGTH, seed=SEED + step)  # never the test waves
        x = x + input_noise * torch.randn(x.shape, generator=noise)
        optimizer.zero_grad()
        loss = F.mse_loss(model(x)[0], y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses


NOISE = {"clean": 0.0, "noisy": 0.1}  # input noise during training
COLORS = {"clean": "C0", "noisy": "C1"}
models, losses, predictions, test_mse = {}, {}, {}, {}
for name, input_noise in NOISE.items():
    models[name], losses[name] = train(input_noise)
    with torch.no_grad():
        predictions[name] = models[name](x_test)[0]  # (N, T, 1)
    test_mse[name] = float(F.mse_loss(predictions[name], y_test))
    print(f"{name} inputs (noise {input_noise}): test MSE one step ahead {test_mse[name]:.2e}")

# %% [markdown]
# ## 自由运行 / Free-running rollout
#
# 只给前 20 个真实值，其余 30 步的输入都是网络自己上一步的预测：一步预测的小误差会被带进下一步。
# Only the first 20 true values are given; for the next 30 steps each input is the network's own previous
# prediction, so every small one-step error is carried into the next step.


# %%
def rollout(model, x_start, steps):
    """Read x_start (N, T0, 1), then predict ``steps`` values, each fed back as the next input: (N, steps, 1)."""
    with torch.no_grad():
        out, state = model(x_start)
        value, generated = out[:, -1:], []  # (N, 1, 1)
        for _ in range(steps):
            generated.append(value)
            value, state = model(value, state)
    return torch.cat(generated, dim=1)  # (N, steps, 1)


samples = torch.cat([x_test[:, :1], y_test], dim=1)  # (N, T + 1, 1): the whole test waves
truth = samples[:, WARMUP:WARMUP + FREE_STEPS]
free, free_error = {}, {}
for name, model in models.items():
    free[name] = rollout(model, samples[:, :WARMUP], FREE_STEPS)
    free_error[name] = ((free[name] - truth) ** 2).mean(dim=(0, 2))  # (FREE_STEPS,): MSE k steps ahead
    print(f"{name}: free-running MSE {free_error[name].mean():.2e} over {FREE_STEPS} steps "
          f"(first 10 steps {free_error[name][:10].mean():.2e}, last 10 {free_error[name][-10:].mean():.2e})")

fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
for name in NOISE:
    axes[0].plot(range(1, FREE_STEPS + 1), free_error[name], color=COLORS[name], label=name)
axes[0].set_yscale("log")
axes[0].set_xlabel("steps since the last true input")
axes[0].set_ylabel("free-running MSE")
axes[0].legend(fontsize=8)
for ax, index in zip(axes[1:], (0, 1)):
    ax.plot(range(LENGTH + 1), samples[index, :, 0], color="gray", label="truth")
    ax.plot(range(1, LENGTH + 1), predictions["noisy"][index, :, 0], color="C2", linestyle=":",
            label="one step ahead (noisy)")
    for name in NOISE:
        ax.plot(range(WARMUP, WARMUP + FREE_STEPS), free[name][index, :, 0], color=COLORS[name],
                label=f"free-running ({name})")
    ax.axvline(WARMUP - 0.5, color="black", linewidth=0.5)
    ax.set_xlabel("t")
    ax.set_title(f"test wave {index}")
axes[1].legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
results = {"seed": SEED, "hidden_size": HIDDEN, "batch": BATCH, "lr": LR, "steps": STEPS, "length": LENGTH,
           "test_size": TEST_SIZE, "warmup": WARMUP, "free_steps": FREE_STEPS, "input_noise": NOISE["noisy"],
           "persistence_mse": persistence_mse}
for name in NOISE:
    results |= {f"{name}_test_mse": test_mse[name], f"{name}_free_mse": float(free_error[name].mean()),
                f"{name}_free_mse_first10": float(free_error[name][:10].mean()),
                f"{name}_free_mse_last10": float(free_error[name][-10:].mean())}
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
if not SMOKE:
    assert max(test_mse.values()) < persistence_mse / 20, "one step ahead, far better than repeating the value"
    assert results["clean_free_mse"] > 10 * results["clean_test_mse"], "free-running, the errors compound"
    assert results["noisy_free_mse"] < results["clean_free_mse"] / 3, "noisy inputs make the rollout steadier"
