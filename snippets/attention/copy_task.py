# %% [markdown]
# # 复制、反转与排序 / Lab: copying, reversing and sorting digit sequences
#
# 概念见 [训练 Transformer](../../../attention/training/)。
# Concepts: [training a Transformer](../../../attention/training/).
#
# 一个很小的编码器–解码器 Transformer（本书的 `Transformer`，d_model = 128）分别学会复制、反转和排序 8 位数字序列，
# 用贪心解码在从未见过的序列上检查整条输出是否完全正确（完全匹配率）。最后用纯 NumPy 写的
# `Seq2SeqTransformer` 学习反转，说明从零写起的版本同样能学会。
# A tiny encoder–decoder Transformer (this book's `Transformer`, d_model = 128) learns to copy, to reverse and to
# sort 8-digit sequences; greedy decoding on sequences it never saw checks whether the whole output is right
# (exact match). Last, the from-scratch NumPy `Seq2SeqTransformer` learns to reverse, to show that it learns too.
#
# 运行 / Run: `python snippets/attention/copy_task.py`

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

from n2t.numpy.optim import Adam
from n2t.numpy.sequence import temporal_softmax_cross_entropy_backward, temporal_softmax_cross_entropy_forward
from n2t.numpy.transformer import Seq2SeqTransformer
from n2t.torch.transformer import Transformer

SMOKE = bool(os.environ.get("N2T_SMOKE"))
SEED, LENGTH, DIGITS, BATCH, TEST = 0, 8, 10, 64, 1000
BOS = DIGITS  # start token, first on both sides; vocabulary = 10 digits + BOS
TASKS = {"copy": lambda s: s, "reverse": lambda s: s.flip(1), "sort": lambda s: s.sort(dim=1).values}
STEPS = {"copy": 150, "reverse": 150, "sort": 250}  # sorting must count repeated digits: it needs more steps
if SMOKE:
    STEPS = dict.fromkeys(TASKS, 20)
WARMUP, LR = 30, 5e-3
torch.set_num_threads(1)
PLACE = DIGITS ** torch.arange(LENGTH)  # a sequence's digits read as one integer, to tell sequences apart
test_src = torch.randint(0, DIGITS, (TEST, LENGTH), generator=torch.Generator().manual_seed(12345))  # (N, T), uniform
test_codes = test_src @ PLACE


def with_bos(tokens):
    return torch.cat([torch.full((len(tokens), 1), BOS), tokens], dim=1)  # (N, 1 + T)


def training_digits(generator):
    """``(N, T)`` training sequences, each drawn from its own random alphabet of 1…10 digits: many more repeated
    digits than uniform sequences have, and sorting must count repeats."""
    alphabets = torch.rand(BATCH, DIGITS, generator=generator).argsort(dim=1)  # a random order of the digits
    sizes = torch.randint(1, DIGITS + 1, (BATCH, 1), generator=generator)  # use the first `size` of them
    return alphabets.gather(1, (torch.rand(BATCH, LENGTH, generator=generator) * sizes).long())


def training_batch(task, generator):
    """Source (BOS + digits), decoder input (BOS + target shifted right) and target; test sequences left out."""
    src = training_digits(generator)
    src = src[~torch.isin(src @ PLACE, test_codes)]  # held out: never trained on
    target = TASKS[task](src)
    return with_bos(src), with_bos(target[:, :-1]), target


print(f"{TEST} test sequences of {LENGTH} digits, all different from every training sequence")

# %% [markdown]
# ## 训练三个任务 / Train on the three tasks
#
# 同一个模型配置、同样的学习率计划（30 步线性预热，然后余弦衰减到 0），每个任务从头训练。
# The same model and learning-rate schedule (30 steps of linear warm-up, then cosine decay to 0) for each task,
# trained from scratch.


# %%
def train(task, steps):
    torch.manual_seed(SEED)
    model = Transformer(DIGITS + 1, DIGITS + 1, d_model=128, nhead=4, num_encoder_layers=1, num_decoder_layers=1,
                        dim_feedforward=128, dropout=0.0, norm_first=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / WARMUP, 0.5 * (1 + math.cos(math.pi * step / steps))))
    generator = torch.Generator().manual_seed(SEED)
    history = []
    for _ in range(steps):
        src, decoder_input, target = training_batch(task, generator)
        loss = F.cross_entropy(model(src, decoder_input).flatten(0, 1), target.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        history.append(loss.item())
    return model.eval(), history


def exact_match(model, task):
    """Fraction of test sequences whose greedy decoding is right at every position, and the wrong ones."""
    output = model.greedy_decode(with_bos(test_src), BOS, LENGTH)[:, 1:]  # drop BOS: (N, T)
    right = (output == TASKS[task](test_src)).all(dim=1)
    return right.float().mean().item(), test_src[~right], output[~right]


histories, scores, seconds = {}, {}, {}
for task, steps in STEPS.items():
    start = time.process_time()
    model, histories[task] = train(task, steps)
    scores[task], wrong_inputs, wrong_outputs = exact_match(model, task)
    seconds[task] = time.process_time() - start
    print(f"{task:<8} {steps} steps, {seconds[task]:.1f} CPU s: loss {histories[task][-1]:.4f}, "
          f"exact match {scores[task]:.3f}")
    for source, output in zip(wrong_inputs[:3].tolist(), wrong_outputs[:3].tolist()):
        print(f"         wrong: {source} -> {output}")
example = torch.tensor([[3, 1, 4, 1, 5, 9, 2, 6]])
print(f"sorting {example[0].tolist()}: {model.greedy_decode(with_bos(example), BOS, LENGTH)[0, 1:].tolist()}")

fig, ax = plt.subplots(figsize=(7, 4))
for task, history in histories.items():
    ax.plot(history, label=task)
ax.set_yscale("log")
ax.set_xlabel("step")
ax.set_ylabel("training loss (cross-entropy per token)")
ax.legend()
plt.show()

# %% [markdown]
# ## 从零写起的版本 / The from-scratch version
#
# 纯 NumPy 的 `Seq2SeqTransformer`（d_model = 32，4 个头，手写反向传播），同样学习反转。
# The pure-NumPy `Seq2SeqTransformer` (d_model = 32, 4 heads, hand-written backward pass) learns to reverse.

# %%
NUMPY_STEPS = 40 if SMOKE else 500
NUMPY_LR = 5e-3
numpy_model = Seq2SeqTransformer(DIGITS + 1, 32, 4, 64, norm_first=True, rng=np.random.default_rng(SEED))
numpy_optimizer = Adam(numpy_model.parameters(), lr=NUMPY_LR)
generator = torch.Generator().manual_seed(SEED)
start = time.process_time()
for step in range(NUMPY_STEPS):  # the same warm-up and cosine schedule, by hand
    numpy_optimizer.lr = NUMPY_LR * min((step + 1) / WARMUP, 0.5 * (1 + math.cos(math.pi * step / NUMPY_STEPS)))
    src, decoder_input, target = (t.numpy() for t in training_batch("reverse", generator))
    loss, cache = temporal_softmax_cross_entropy_forward(numpy_model.forward(src, decoder_input), target)
    numpy_model.zero_grad()
    numpy_model.backward(temporal_softmax_cross_entropy_backward(1.0, cache))
    numpy_optimizer.step()
numpy_output = numpy_model.greedy_decode(with_bos(test_src).numpy(), BOS, LENGTH)
numpy_score = float(np.mean(np.all(numpy_output == test_src.flip(1).numpy(), axis=1)))
numpy_seconds = time.process_time() - start
print(f"NumPy, reverse: {NUMPY_STEPS} steps, {numpy_seconds:.1f} CPU s: loss {float(loss):.4f}, "
      f"exact match {numpy_score:.3f}")

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
results = {"seed": SEED, "length": LENGTH, "batch": BATCH, "test_sequences": TEST, "lr": LR, "warmup": WARMUP,
           "d_model": 128, "heads": 4, "layers": 1, "dim_feedforward": 128,
           "parameters": sum(p.numel() for p in model.parameters()),
           "numpy_steps": NUMPY_STEPS, "numpy_exact_match": numpy_score, "numpy_seconds": numpy_seconds,
           "numpy_d_model": 32, "numpy_lr": NUMPY_LR, "numpy_final_loss": float(loss)}
for task in TASKS:
    results |= {f"{task}_steps": STEPS[task], f"{task}_exact_match": scores[task], f"{task}_seconds": seconds[task],
                f"{task}_final_loss": histories[task][-1]}
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
if not SMOKE:
    assert min(scores.values()) >= 0.99, "every task: at least 99% of unseen sequences exactly right"
    assert numpy_score >= 0.99, "the NumPy version learns to reverse too"
