# %% [markdown]
# # 注意力权重实验 / Lab: attention weights — what a trained Transformer looks at
#
# 概念见 [注意力机制](../../../attention/attention/)。 Concepts: [attention](../../../attention/attention/).
#
# 训练一个小的编码器–解码器 Transformer 把数字序列倒过来，然后画出解码器的交叉注意力权重（输出的第 t 个位置应该看
# 输入的第 T−1−t 个位置：反对角线）和因果掩码下的自注意力权重；最后在同一组查询和键上比较点积注意力与加性注意力，
# 并看看为什么要除以 $\sqrt{d}$。
# A small encoder–decoder Transformer learns to reverse digit sequences; then we plot the decoder's cross-attention
# weights (output position t should look at input position T−1−t: the anti-diagonal) and its self-attention weights
# under the causal mask. Last, dot-product and additive attention score the same queries and keys, and we see why
# the scores are divided by $\sqrt{d}$.
#
# 运行 / Run: `python snippets/attention/attention_weights.py`

# %%
import json
import math
import os
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from n2t.torch.attention import AdditiveAttention, scaled_dot_product_attention
from n2t.torch.transformer import Transformer

SMOKE = bool(os.environ.get("N2T_SMOKE"))
SEED, LENGTH, DIGITS, BATCH = 0, 8, 10, 64
BOS = DIGITS  # the decoder's start token; target vocabulary = 10 digits + BOS
STEPS, WARMUP, LR = (40 if SMOKE else 300), 30, 2e-3
torch.set_num_threads(1)
torch.manual_seed(SEED)
generator = torch.Generator().manual_seed(SEED)


def reversal_batch(size):
    """Random digit sequences ``(N, T)``, the decoder's input (BOS + the target shifted right) and the target."""
    src = torch.randint(0, DIGITS, (size, LENGTH), generator=generator)  # (N, T)
    target = src.flip(1)
    decoder_input = torch.cat([torch.full((size, 1), BOS), target[:, :-1]], dim=1)  # (N, T)
    return src, decoder_input, target


# one head, so that there is a single attention map per layer to look at
model = Transformer(DIGITS, DIGITS + 1, d_model=64, nhead=1, num_encoder_layers=1, num_decoder_layers=1,
                    dim_feedforward=128, dropout=0.0, norm_first=True)
print(f"parameters: {sum(p.numel() for p in model.parameters()):,}")

# %% [markdown]
# ## 训练：把序列倒过来 / Training: reverse the sequence
#
# Adam，30 步线性预热后余弦衰减。 Adam, 30 steps of linear warm-up, then cosine decay.

# %%
optimizer = torch.optim.Adam(model.parameters(), lr=LR)
schedule = torch.optim.lr_scheduler.LambdaLR(
    optimizer, lambda step: min((step + 1) / WARMUP, 0.5 * (1 + math.cos(math.pi * step / STEPS))))
losses = []
for _ in range(STEPS):
    src, decoder_input, target = reversal_batch(BATCH)
    loss = F.cross_entropy(model(src, decoder_input).flatten(0, 1), target.flatten())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    schedule.step()
    losses.append(loss.item())

model.eval()
test_src, test_input, test_target = reversal_batch(1000)
exact_match = (model.greedy_decode(test_src, BOS, LENGTH)[:, 1:] == test_target).all(dim=1).float().mean().item()
print(f"after {STEPS} steps: loss {losses[-1]:.4f}, exact match on 1000 new sequences {exact_match:.3f}")

# %% [markdown]
# ## 交叉注意力：反对角线 / Cross-attention: the anti-diagonal
#
# 用教师强制把测试序列送进解码器，读出交叉注意力权重 `(N, 头, L, S)`。
# The test sequences go through the decoder with teacher forcing; we read its cross-attention weights
# `(N, heads, L, S)`.

# %%
with torch.no_grad():
    model(test_src, test_input)
layer = model.decoder.layers[0]
cross = layer.multihead_attn.last_weights[:, 0]  # (N, L, S), the only head
causal = layer.self_attn.last_weights[:, 0]  # (N, L, L)
anti_diagonal = torch.eye(LENGTH, dtype=torch.bool).flip(1)  # True where s = T−1−t
anti_diagonal_mass = cross[:, anti_diagonal].sum(dim=1).mean().item() / LENGTH  # mean weight on s = T−1−t
argmax_on_anti_diagonal = (cross.argmax(dim=-1) == torch.arange(LENGTH - 1, -1, -1)).float().mean().item()
print(f"cross-attention weight on the anti-diagonal (mean over 1000 sequences): {anti_diagonal_mass:.3f} "
      f"(uniform attention: {1 / LENGTH:.3f})")
print(f"rows whose largest weight is on the anti-diagonal: {argmax_on_anti_diagonal:.3f}")

example = 0
source_digits = [str(d) for d in test_src[example].tolist()]
output_digits = [str(d) for d in test_target[example].tolist()]
fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
for ax, weights, title, columns in (
        (axes[0], cross[example], "cross-attention, one sequence", source_digits),
        (axes[1], cross.mean(dim=0), "cross-attention, mean of 1000", [str(s) for s in range(LENGTH)]),
        (axes[2], causal[example], "masked self-attention, one sequence", ["BOS"] + output_digits[:-1])):
    image = ax.imshow(weights.numpy(), cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(LENGTH), columns)
    ax.set_yticks(range(LENGTH), output_digits if ax is not axes[1] else range(LENGTH))
    ax.set_xlabel("key: decoder input" if ax is axes[2] else "key: source position")
    ax.set_ylabel("query: output position")
    ax.set_title(title, fontsize=10)
fig.colorbar(image, ax=axes, shrink=0.8)
plt.show()

# %% [markdown]
# ## 因果掩码 / The causal mask
#
# 解码器的自注意力中，位置 t 只能看 0…t：对角线以上的权重恰好为 0，每行之和为 1。
# In the decoder's self-attention position t sees 0…t only: every weight above the diagonal is exactly 0 and
# every row sums to 1.

# %%
future = ~torch.ones(LENGTH, LENGTH, dtype=torch.bool).tril()  # True above the diagonal
largest_future_weight = causal[:, future].max().item()
row_sum_error = (causal.sum(dim=-1) - 1).abs().max().item()
print(f"largest weight on a future position: {largest_future_weight}; largest |row sum − 1|: {row_sum_error:.1e}")

# %% [markdown]
# ## 点积与加性注意力 / Dot-product and additive attention
#
# 同样的 5 个查询和 7 个键（d = 16）：点积注意力没有参数，加性注意力用一个隐藏宽度 32 的小网络打分。
# The same 5 queries and 7 keys (d = 16): dot-product attention has no parameters, additive attention scores each
# pair with a small network of hidden width 32.

# %%
torch.manual_seed(SEED)
E, HIDDEN = 16, 32
q, k = torch.randn(1, 5, E), torch.randn(1, 7, E)  # (N, L, E), (N, S, E)
_, dot_weights = scaled_dot_product_attention(q, k, k)  # (1, 5, 7)
additive = AdditiveAttention(E, E, HIDDEN)
with torch.no_grad():
    additive(q, k, k)
additive_weights = additive.last_weights  # (1, 5, 7)
additive_parameters = sum(p.numel() for p in additive.parameters())
print(f"additive attention parameters: {additive_parameters} (= {HIDDEN}·({E} + {E} + 1)); dot-product: 0")
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
largest = max(dot_weights.max().item(), additive_weights.max().item())
for ax, weights, title in ((axes[0], dot_weights, "scaled dot product"), (axes[1], additive_weights, "additive")):
    image = ax.imshow(weights[0].numpy(), cmap="viridis", vmin=0, vmax=largest)
    ax.set_xlabel("key")
    ax.set_ylabel("query")
    ax.set_title(title)
fig.colorbar(image, ax=axes, shrink=0.8)
plt.show()

# %% [markdown]
# ## 为什么除以 $\sqrt{d}$ / Why divide by $\sqrt{d}$
#
# 分量独立、方差为 1 时，$q \cdot k$ 的标准差是 $\sqrt{d}$。不缩放时 d 越大，softmax 越接近只取最大值（梯度几乎为 0）。
# With independent unit-variance components, $q \cdot k$ has standard deviation $\sqrt{d}$. Unscaled, the softmax
# gets closer and closer to a hard maximum (whose gradient is almost 0) as d grows.

# %%
score_std, largest_weight = {}, {}
for dim in (16, 64, 256, 1024):
    q, k = torch.randn(2000, 1, dim), torch.randn(2000, 16, dim)  # 2000 queries, 16 keys each
    raw = (q @ k.transpose(1, 2)).squeeze(1)  # (2000, 16)
    for name, scores in (("unscaled", raw), ("scaled", raw / math.sqrt(dim))):
        score_std[f"{name}_{dim}"] = scores.std().item()
        largest_weight[f"{name}_{dim}"] = scores.softmax(dim=-1).max(dim=-1).values.mean().item()
print(f"{'d':>6}{'std q·k':>10}{'std q·k/√d':>13}{'largest weight':>16}{'scaled':>9}")
for dim in (16, 64, 256, 1024):
    print(f"{dim:>6}{score_std[f'unscaled_{dim}']:>10.2f}{score_std[f'scaled_{dim}']:>13.2f}"
          f"{largest_weight[f'unscaled_{dim}']:>16.3f}{largest_weight[f'scaled_{dim}']:>9.3f}")

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
results = {"seed": SEED, "length": LENGTH, "steps": STEPS, "warmup": WARMUP, "lr": LR, "batch": BATCH,
           "d_model": 64, "heads": 1, "final_loss": losses[-1], "exact_match": exact_match,
           "anti_diagonal_mass": anti_diagonal_mass, "uniform_mass": 1 / LENGTH,
           "argmax_on_anti_diagonal": argmax_on_anti_diagonal, "largest_future_weight": largest_future_weight,
           "additive_parameters": additive_parameters, "additive_hidden": HIDDEN, "dot_dim": E,
           "score_std": score_std, "largest_weight": largest_weight}
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
assert largest_future_weight == 0.0 and row_sum_error < 1e-5, "the causal mask hides the future exactly"
assert torch.allclose(additive_weights.sum(-1), torch.ones(1, 5)), "additive weights sum to 1 too"
if not SMOKE:
    assert exact_match > 0.95, "the model reverses sequences it has never seen"
    assert argmax_on_anti_diagonal > 0.95, "output position t looks hardest at input position T−1−t"
    assert anti_diagonal_mass > 4 / LENGTH, "far more weight on the anti-diagonal than uniform attention gives"
    assert largest_weight["unscaled_1024"] > 0.9 > 0.5 > largest_weight["scaled_1024"], "√d keeps softmax soft"
