# %% [markdown]
# # 字符级语言模型实验 / Lab: a character-level LSTM language model
#
# 概念见 [序列任务](../../../rnn/tasks/)。 Concepts: [sequence tasks](../../../rnn/tasks/).
#
# 文本是 Python 自带的帮助文档（`pydoc_data.topics`，约 46 万个字符）。LSTM 读入前面的字符，预测下一个字符的分布；
# 训练约 40 秒，比较训练前后的采样，并用每字符比特数（bits per character）与只看字符频率的一元（unigram）模型比较。
# The text is Python's own help pages (`pydoc_data.topics`, about 460,000 characters). An LSTM reads the
# characters so far and predicts a distribution over the next one. We train it for about 40 seconds, sample
# from it before and after training, and measure bits per character against a unigram model that only knows
# how often each character occurs.
#
# 运行 / Run: `python snippets/rnn/charlm.py`

# %%
import json
import math
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from n2t.data import CharVocab, stdlib_text
from n2t.torch import LSTM, to_builtin

SMOKE = bool(os.environ.get("N2T_SMOKE"))
SEED, EMBED, HIDDEN, BATCH, WINDOW, LR, MAX_NORM = 0, 32, 256, 32, 64, 0.005, 1.0
STEPS = 20 if SMOKE else 600
PROMPT, SAMPLE_LENGTH, TEMPERATURES = "The ", 240, (0.5, 1.0)
torch.set_num_threads(1)

text = stdlib_text()
vocab = CharVocab(text)
ids = torch.from_numpy(vocab.encode(text))  # (T_text,)
split = int(0.9 * len(ids))
train_ids, held_out_ids = ids[:split], ids[split:]  # the last 10 % is never trained on
if SMOKE:
    train_ids, held_out_ids = train_ids[:20_000], held_out_ids[:5_000]
print(f"{len(text):,} characters, vocabulary of {len(vocab)}; train {len(train_ids):,}, held out {len(held_out_ids):,}")
print(repr(text[:200]))

# %% [markdown]
# ## 一元模型基线 / The unigram baseline
#
# 只知道每个字符出现的频率 $p(c)$ 时，最好的编码平均需要 $H = -\sum_c p(c)\log_2 p(c)$ 比特。
# Knowing only how often each character occurs, the best code needs $H = -\sum_c p(c)\log_2 p(c)$ bits on average.

# %%
counts = torch.bincount(train_ids, minlength=len(vocab)).double()
unigram = counts / counts.sum()
seen = unigram > 0
unigram_entropy = float(-(unigram[seen] * unigram[seen].log2()).sum())
smoothed = (counts + 1) / (counts.sum() + len(vocab))  # add-one: characters unseen in training keep p > 0
unigram_held_out = float(-smoothed[held_out_ids].log2().mean())
print(f"unigram entropy on the training text {unigram_entropy:.3f} bits/char; "
      f"on the held-out text {unigram_held_out:.3f} bits/char; uniform over {len(vocab)}: {math.log2(len(vocab)):.3f}")


# %% [markdown]
# ## 模型 / The model: embedding → LSTM → linear, one distribution per position


# %%
class CharLM(nn.Module):
    """Embedding (V, E) → LSTM (E → H) → linear (H → V): next-character logits at every position.

    The LSTM is our ``n2t.torch.LSTM`` converted by ``to_builtin`` into ``nn.LSTM`` with the same weights (the same
    function; PyTorch's fused kernel makes the 40 seconds of training go about twice as far).
    """

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(len(vocab), EMBED)
        self.lstm = to_builtin(LSTM(EMBED, HIDDEN))
        self.head = nn.Linear(HIDDEN, len(vocab))

    def forward(self, idx, state=None):
        out, state = self.lstm(self.embed(idx), state)  # (N, T, H)
        return self.head(out), state  # (N, T, V)


def sample(model, temperature, seed=SEED):
    """Feed PROMPT, then draw SAMPLE_LENGTH characters from softmax(logits / temperature)."""
    generator = torch.Generator().manual_seed(seed)
    idx = torch.from_numpy(vocab.encode(PROMPT))[None]  # (1, T_prompt)
    drawn = []
    with torch.no_grad():
        logits, state = model(idx)
        for _ in range(SAMPLE_LENGTH):
            probs = F.softmax(logits[0, -1] / temperature, dim=0)  # (V,)
            idx = torch.multinomial(probs, 1, generator=generator)[None]  # (1, 1)
            drawn.append(int(idx))
            logits, state = model(idx, state)
    return PROMPT + vocab.decode(np.array(drawn))


def bits_per_char(model, ids_, streams=16, chunk=256):
    """Mean -log2 p(next char) over ``ids_``, read as ``streams`` parallel pieces, carrying the state."""
    length = (len(ids_) - 1) // streams
    inputs = ids_[:streams * length].reshape(streams, length)  # (S, L)
    targets = ids_[1:streams * length + 1].reshape(streams, length)
    total, state = 0.0, None
    with torch.no_grad():
        for start in range(0, length, chunk):
            logits, state = model(inputs[:, start:start + chunk], state)  # (S, chunk, V)
            total += float(F.cross_entropy(logits.transpose(1, 2), targets[:, start:start + chunk], reduction="sum"))
    return total / (streams * length) / math.log(2)


torch.manual_seed(SEED)
model = CharLM()
print(f"parameters: {sum(p.numel() for p in model.parameters()):,}")
before = {temperature: sample(model, temperature) for temperature in TEMPERATURES}
for temperature, sampled in before.items():
    print(f"--- untrained, temperature {temperature} ---\n{sampled}\n")

# %% [markdown]
# ## 训练 / Training: random windows of 64 characters, Adam, gradient clipping at norm 1

# %%
optimizer = torch.optim.Adam(model.parameters(), lr=LR)
windows = torch.Generator().manual_seed(SEED)
offsets = torch.arange(WINDOW + 1)
losses = []
for _ in range(STEPS):
    starts = torch.randint(0, len(train_ids) - WINDOW - 1, (BATCH, 1), generator=windows)
    chunk = train_ids[starts + offsets]  # (N, WINDOW + 1)
    logits, _ = model(chunk[:, :-1])  # (N, WINDOW, V)
    loss = F.cross_entropy(logits.transpose(1, 2), chunk[:, 1:])
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)
    optimizer.step()
    losses.append(loss.item() / math.log(2))  # bits per character

train_bpc = bits_per_char(model, train_ids[:len(held_out_ids)])
held_out_bpc = bits_per_char(model, held_out_ids)
print(f"bits per character: train {train_bpc:.3f}, held out {held_out_bpc:.3f}; unigram {unigram_held_out:.3f}")

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(losses, label="training batch")
ax.axhline(unigram_entropy, color="gray", linestyle=":", label="unigram entropy")
ax.axhline(held_out_bpc, color="C1", linestyle="--", label="held out, after training")
ax.set_xlabel("training step")
ax.set_ylabel("bits per character")
ax.legend()
plt.show()

# %% [markdown]
# ## 训练后的采样 / Samples after training
#
# 温度越低，分布越尖，文本越保守、越常重复；温度 1 按模型原本的分布采样。
# A lower temperature sharpens the distribution: the text is safer and repeats itself more; temperature 1
# samples from the model's own distribution.

# %%
after = {temperature: sample(model, temperature) for temperature in TEMPERATURES}
for temperature, sampled in after.items():
    print(f"--- trained, temperature {temperature} ---\n{sampled}\n")

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
results = {"seed": SEED, "embedding_dim": EMBED, "hidden_size": HIDDEN, "batch": BATCH, "window": WINDOW, "lr": LR,
           "max_norm": MAX_NORM, "steps": STEPS, "characters": len(text), "vocab_size": len(vocab),
           "train_characters": len(train_ids), "held_out_characters": len(held_out_ids),
           "unigram_entropy_bits": unigram_entropy, "unigram_held_out_bits": unigram_held_out,
           "uniform_bits": math.log2(len(vocab)), "train_bpc": train_bpc, "held_out_bpc": held_out_bpc,
           "samples_before": {str(t): s for t, s in before.items()},
           "samples_after": {str(t): s for t, s in after.items()}}
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
if not SMOKE:
    assert held_out_bpc < 0.6 * unigram_held_out, "the LSTM needs far fewer bits than character frequencies alone"
    assert train_bpc < held_out_bpc + 0.3, "no large gap between train and held out after 40 s"
