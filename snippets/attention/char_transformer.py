# %% [markdown]
# # 字符级 Transformer 实验 / Lab: a character Transformer against an LSTM
#
# 概念见 [训练 Transformer](../../../attention/training/)。
# Concepts: [training a Transformer](../../../attention/training/).
#
# 在同一份文本（Python 自带的帮助文档）上训练两个参数量几乎相同的字符级语言模型：一个只有解码器的 Transformer
# （`DecoderLM`）和一个 LSTM。两者看到完全相同的批量、同样长的上下文，走同样多的优化步；比较留出文本上的每字符比特数、
# 训练用时和采样。
# Two character-level language models with nearly the same number of parameters, a decoder-only Transformer
# (`DecoderLM`) and an LSTM, are trained on the same text (Python's help pages). They see exactly the same
# batches with the same context length for the same number of optimiser steps; we compare bits per character
# on held-out text, training time and samples.
#
# 运行 / Run: `python snippets/attention/char_transformer.py`

# %%
import json
import math
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from n2t.data import CharVocab, stdlib_text
from n2t.torch import LSTM, DecoderLM, to_builtin

SMOKE = bool(os.environ.get("N2T_SMOKE"))
SEED, BATCH, CONTEXT, LR, WARMUP, MAX_NORM = 0, 16, 64, 0.01, 20, 1.0
D_MODEL, HEADS, LAYERS, FEEDFORWARD, EMBED = 64, 4, 2, 256, 32
STEPS = 20 if SMOKE else 400
PROMPT, SAMPLE_LENGTH, TEMPERATURE = "The ", 200, 0.8
torch.set_num_threads(1)

text = stdlib_text()
vocab = CharVocab(text)
ids = torch.from_numpy(vocab.encode(text))  # (T_text,)
split = int(0.9 * len(ids))
train_ids, held_out_ids = ids[:split], ids[split:]  # the last 10 % is never trained on
if SMOKE:
    train_ids, held_out_ids = train_ids[:20_000], held_out_ids[:5_000]
counts = torch.bincount(train_ids, minlength=len(vocab)).double()
smoothed = (counts + 1) / (counts.sum() + len(vocab))  # add-one: characters unseen in training keep p > 0
unigram_bits = float(-smoothed[held_out_ids].log2().mean())
print(f"{len(text):,} characters, vocabulary of {len(vocab)}; train {len(train_ids):,}, held out {len(held_out_ids):,}")
print(f"unigram model on the held-out text: {unigram_bits:.3f} bits/char")

# %% [markdown]
# ## 两个模型 / Two models of (nearly) the same size
#
# Transformer：词元嵌入加可学习的位置嵌入，2 个 Pre-LN 块（4 个头的因果自注意力 + GELU 前馈），最后一个线性层。
# LSTM：嵌入 → 一层 LSTM → 线性层，隐状态的宽度选成让参数总数最接近 Transformer。
# The Transformer: token plus learned position embeddings, 2 Pre-LN blocks (causal self-attention with 4 heads,
# GELU feed-forward), a linear output layer. The LSTM: embedding → one LSTM layer → linear, with the hidden width
# chosen so that its parameter count is the closest to the Transformer's.


# %%
class CharLSTM(nn.Module):
    """Embedding (V, E) → LSTM (E → H) → linear (H → V): next-character logits at every position.

    ``n2t.torch.LSTM`` converted by ``to_builtin`` into ``nn.LSTM`` with the same weights (PyTorch's fused kernel).
    """

    def __init__(self, hidden):
        super().__init__()
        self.embed = nn.Embedding(len(vocab), EMBED)
        self.lstm = to_builtin(LSTM(EMBED, hidden))
        self.head = nn.Linear(hidden, len(vocab))

    def forward(self, idx, state=None):
        out, state = self.lstm(self.embed(idx), state)  # (N, T, H)
        return self.head(out), state  # (N, T, V)


def count(model):
    return sum(p.numel() for p in model.parameters())


def lstm_parameters(hidden):
    """Embedding + LSTM (4 gates: input and recurrent weights, two biases) + output layer."""
    return len(vocab) * EMBED + 4 * hidden * (EMBED + hidden + 2) + (hidden + 1) * len(vocab)


def build_transformer():
    torch.manual_seed(SEED)
    return DecoderLM(len(vocab), D_MODEL, HEADS, LAYERS, FEEDFORWARD, max_len=CONTEXT, dropout=0.0)


transformer_parameters = count(build_transformer())
HIDDEN = min(range(16, 1024), key=lambda hidden: abs(lstm_parameters(hidden) - transformer_parameters))


def build_lstm():
    torch.manual_seed(SEED)
    return CharLSTM(HIDDEN)


lstm_parameter_count = count(build_lstm())
assert lstm_parameter_count == lstm_parameters(HIDDEN)
print(f"Transformer (d_model {D_MODEL}, {LAYERS} blocks, {HEADS} heads): {transformer_parameters:,} parameters")
print(f"LSTM (embedding {EMBED}, hidden {HIDDEN}):              {lstm_parameter_count:,} parameters "
      f"({lstm_parameter_count / transformer_parameters - 1:+.1%})")

# %% [markdown]
# ## 同样的训练 / Identical training
#
# 每一步取 16 段随机的 64 字符窗口（两个模型取到的完全相同），Adam，学习率先线性预热 20 步再线性降到 0，
# 梯度裁剪到范数 1。
# Every step draws 16 random windows of 64 characters (the same ones for both models); Adam, a learning rate that
# warms up linearly over 20 steps and then decays linearly to 0, gradients clipped at norm 1.


# %%
def logits_of(model, idx):
    """Both models map ``(N, T)`` ids to ``(N, T, V)`` logits; the LSTM starts every window from a zero state."""
    out = model(idx)
    return out[0] if isinstance(out, tuple) else out


def train(model):
    """Train in place; returns the bits per character of every batch and the wall time in seconds."""
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1, (step + 1) / WARMUP) * (1 - step / STEPS))
    windows = torch.Generator().manual_seed(SEED)  # the same batches for both models
    offsets = torch.arange(CONTEXT + 1)
    losses, start = [], time.perf_counter()
    for _ in range(STEPS):
        starts = torch.randint(0, len(train_ids) - CONTEXT - 1, (BATCH, 1), generator=windows)
        chunk = train_ids[starts + offsets]  # (N, CONTEXT + 1)
        loss = F.cross_entropy(logits_of(model, chunk[:, :-1]).transpose(1, 2), chunk[:, 1:])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)
        optimizer.step()
        schedule.step()
        losses.append(loss.item() / math.log(2))
    return losses, time.perf_counter() - start


def bits_per_char(model, ids_):
    """Mean -log2 p(next char) over consecutive non-overlapping windows of CONTEXT + 1 characters: inside each
    window both models predict characters 2…65 from the characters before them, never from earlier windows."""
    windows = (len(ids_) - 1) // (CONTEXT + 1)
    chunks = ids_[:windows * (CONTEXT + 1)].reshape(windows, CONTEXT + 1)  # (W, CONTEXT + 1)
    total = 0.0
    model.eval()
    with torch.no_grad():
        for batch in chunks.split(256):
            total += float(F.cross_entropy(logits_of(model, batch[:, :-1]).transpose(1, 2), batch[:, 1:],
                                           reduction="sum"))
    model.train()
    return total / chunks[:, 1:].numel() / math.log(2)


models = {"Transformer": build_transformer(), "LSTM": build_lstm()}
curves, seconds, held_out = {}, {}, {}
for name, model in models.items():
    curves[name], seconds[name] = train(model)
    held_out[name] = bits_per_char(model, held_out_ids)
    print(f"{name:<12} {STEPS} steps in {seconds[name]:5.1f} s; held-out {held_out[name]:.3f} bits/char")

fig, ax = plt.subplots(figsize=(7, 4))
for name, losses in curves.items():
    smooth = np.convolve(losses, np.ones(10) / 10, mode="valid")  # the mean of 10 batches
    ax.plot(range(10, len(losses) + 1), smooth, label=f"{name} (training batches)")
ax.axhline(unigram_bits, color="gray", linestyle=":", label="unigram model")
ax.set_xlabel("optimiser step")
ax.set_ylabel("bits per character")
ax.legend()
plt.show()

# %% [markdown]
# ## 采样 / Samples at temperature 0.8
#
# 同一个提示、同一个随机种子。Transformer 只看最后 64 个字符；LSTM 的状态一路带下去。
# The same prompt and the same random seed. The Transformer sees only the last 64 characters; the LSTM carries
# its state all the way.


# %%
def sample_transformer(model):
    generator = torch.Generator().manual_seed(SEED)
    prompt = torch.from_numpy(vocab.encode(PROMPT))[None]  # (1, T_prompt)
    model.eval()
    drawn = model.generate(prompt, SAMPLE_LENGTH, TEMPERATURE, generator=generator)  # (1, T_prompt + steps)
    return vocab.decode(drawn[0])


def sample_lstm(model):
    generator = torch.Generator().manual_seed(SEED)
    idx = torch.from_numpy(vocab.encode(PROMPT))[None]  # (1, T_prompt)
    drawn = []
    with torch.no_grad():
        logits, state = model(idx)
        for _ in range(SAMPLE_LENGTH):
            probs = F.softmax(logits[0, -1] / TEMPERATURE, dim=0)  # (V,)
            idx = torch.multinomial(probs, 1, generator=generator)[None]  # (1, 1)
            drawn.append(int(idx))
            logits, state = model(idx, state)
    return PROMPT + vocab.decode(np.array(drawn))


samples = {"Transformer": sample_transformer(models["Transformer"]), "LSTM": sample_lstm(models["LSTM"])}
for name, sampled in samples.items():
    print(f"--- {name}, temperature {TEMPERATURE} ---\n{sampled}\n")

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
results = {"seed": SEED, "batch": BATCH, "context": CONTEXT, "lr": LR, "warmup": WARMUP, "max_norm": MAX_NORM,
           "steps": STEPS, "d_model": D_MODEL, "heads": HEADS, "layers": LAYERS, "feedforward": FEEDFORWARD,
           "lstm_embedding": EMBED, "lstm_hidden": HIDDEN, "vocab_size": len(vocab),
           "train_characters": len(train_ids), "held_out_characters": len(held_out_ids),
           "transformer_parameters": transformer_parameters, "lstm_parameters": lstm_parameter_count,
           "unigram_bits": unigram_bits, "transformer_bpc": held_out["Transformer"], "lstm_bpc": held_out["LSTM"],
           "transformer_seconds": seconds["Transformer"], "lstm_seconds": seconds["LSTM"],
           "temperature": TEMPERATURE, "prompt": PROMPT,
           "transformer_sample": samples["Transformer"], "lstm_sample": samples["LSTM"]}
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
assert abs(lstm_parameter_count / transformer_parameters - 1) < 0.05, "a fair comparison: nearly equal sizes"
if not SMOKE:
    for name in models:
        assert held_out[name] < 0.75 * unigram_bits, f"the {name} uses context: far below the unigram model"
    # seeds 0, 1 and 2 all gave the LSTM a lead of 0.25 to 0.37 bits/char after 400 steps
    assert held_out["LSTM"] < held_out["Transformer"] - 0.1, "after this short training the LSTM is ahead"
