# %% [markdown]
# # Post-LN 与 Pre-LN 实验 / Lab: Post-LN vs Pre-LN — training without warm-up
#
# 概念见 [Transformer 块](../../../attention/transformer/)。
# Concepts: [the Transformer block](../../../attention/transformer/).
#
# 两个 6 层的编码器，只差层规范化的位置：Post-LN（2017 年的原始设计，norm(x + f(x))）和 Pre-LN（x + f(norm(x))）。
# 先测量初始化时每层的梯度范数，再用同一个较大的固定学习率、不预热，在同一个序列任务上各训练 3 次（3 个随机种子）。
# Two 6-layer encoders that differ only in where layer normalisation sits: Post-LN (the 2017 design,
# norm(x + f(x))) and Pre-LN (x + f(norm(x))). We measure each layer's gradient norm at initialisation, then train
# both on the same sequence task with the same fairly high, fixed learning rate and no warm-up, three times each
# (three seeds).
#
# 运行 / Run: `python snippets/attention/postln_preln.py`

# %%
import json
import math
import os
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from n2t.torch.transformer import LayerNorm, SinusoidalEncoding, TransformerEncoder, TransformerEncoderLayer

SMOKE = bool(os.environ.get("N2T_SMOKE"))
SEEDS = (0,) if SMOKE else (0, 1, 2)
LENGTH, DIGITS, D, HEADS, FF, DEPTH = 8, 10, 64, 4, 128, 6
STEPS, LR, BATCH = (20 if SMOKE else 150), 3e-3, 32  # Adam at a fixed lr 3e-3 from the first step: no warm-up
torch.set_num_threads(1)


class Reverser(nn.Module):
    """Embedding + sinusoidal positions, a stack of encoder layers, a linear read-out at every position.

    Args:
        norm_first: Pre-LN layers (and a final layer norm, which a Pre-LN stack needs) if True, else Post-LN.
    """

    def __init__(self, norm_first):
        super().__init__()
        self.embedding = nn.Embedding(DIGITS, D)
        self.positions = SinusoidalEncoding(D)
        layer = TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, norm_first=norm_first)
        self.encoder = TransformerEncoder(layer, DEPTH, LayerNorm(D) if norm_first else None)
        self.readout = nn.Linear(D, DIGITS)
        for param in self.encoder.parameters():  # the layer copies must not start equal
            if param.dim() > 1:
                nn.init.xavier_uniform_(param)

    def forward(self, tokens):
        """Args: tokens ``(N, T)``. Returns: logits ``(N, T, 10)``."""
        return self.readout(self.encoder(self.positions(self.embedding(tokens))))


def reversal_batch(size, generator):
    """Digit sequences ``(N, T)`` and their reversals: position t must output the digit at T−1−t."""
    tokens = torch.randint(0, DIGITS, (size, LENGTH), generator=generator)
    return tokens, tokens.flip(1)


def build(norm_first, seed):
    """Post-LN and Pre-LN models of the same seed start from identical weights."""
    torch.manual_seed(seed)
    return Reverser(norm_first)


KINDS = {"post_ln": False, "pre_ln": True}
print(f"{DEPTH} layers, d = {D}, {HEADS} heads, parameters: "
      f"{ {kind: sum(p.numel() for p in build(first, 0).parameters()) for kind, first in KINDS.items()} }")

# %% [markdown]
# ## 初始化时每层的梯度 / Gradients at initialisation, layer by layer
#
# 与 Xiong 等人（2020）一样，看每层前馈子层第二个权重矩阵的梯度范数
# $\lVert \partial L / \partial W_2 \rVert$（256 条序列）。
# As Xiong et al. (2020), the gradient norm of each layer's second feed-forward matrix,
# $\lVert \partial L / \partial W_2 \rVert$ (256 sequences).


# %%
def ffn_gradient_norms(model, seed):
    tokens, target = reversal_batch(256, torch.Generator().manual_seed(100 + seed))
    model.zero_grad()
    F.cross_entropy(model(tokens).flatten(0, 1), target.flatten()).backward()
    return [layer.linear2.weight.grad.norm().item() for layer in model.encoder.layers]


norms = {kind: torch.tensor([ffn_gradient_norms(build(first, seed), seed) for seed in SEEDS])
         for kind, first in KINDS.items()}  # (seeds, layers)
mean_norms = {kind: values.mean(dim=0) for kind, values in norms.items()}  # (layers,)
print(f"{'layer':<8}" + "".join(f"{layer:>8}" for layer in range(1, DEPTH + 1)) + f"{'last / first':>14}")
for kind, values in mean_norms.items():
    print(f"{kind:<8}" + "".join(f"{v:>8.3f}" for v in values) + f"{values[-1] / values[0]:>14.2f}")

# %% [markdown]
# ## 同样的训练 / Identical training

# %%
losses, accuracies = {}, {}
for kind, norm_first in KINDS.items():
    for seed in SEEDS:
        model = build(norm_first, seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=LR, foreach=True)
        generator = torch.Generator().manual_seed(seed)
        history = []
        for _ in range(STEPS):
            tokens, target = reversal_batch(BATCH, generator)
            loss = F.cross_entropy(model(tokens).flatten(0, 1), target.flatten())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history.append(loss.item())
        tokens, target = reversal_batch(1000, torch.Generator().manual_seed(12345))
        with torch.no_grad():
            accuracies[kind, seed] = (model(tokens).argmax(dim=-1) == target).float().mean().item()
        losses[kind, seed] = history

final = {key: sum(history[-20:]) / 20 for key, history in losses.items()}  # mean of the last 20 steps
print(f"{'model':<8}{'seed':>6}{'final loss':>12}{'digit accuracy':>16}")
for kind, seed in losses:
    print(f"{kind:<8}{seed:>6}{final[kind, seed]:>12.3f}{accuracies[kind, seed]:>16.3f}")

fig, (ax_norms, ax_loss) = plt.subplots(1, 2, figsize=(12, 4))
for (kind, values), color in zip(norms.items(), ("C3", "C0")):
    for row in values:
        ax_norms.plot(range(1, DEPTH + 1), row.numpy(), color=color, alpha=0.3, marker=".")
    ax_norms.plot(range(1, DEPTH + 1), mean_norms[kind].numpy(), color=color, marker="o", label=f"{kind} (mean)")
    for seed in SEEDS:
        ax_loss.plot(losses[kind, seed], color=color, alpha=0.7, label=kind if seed == SEEDS[0] else None)
ax_norms.set_xlabel("layer (1 = next to the input)")
ax_norms.set_ylabel("||dL/dW2|| at initialisation")
ax_norms.legend()
ax_loss.set_yscale("log")
ax_loss.set_xlabel(f"step (Adam, lr {LR}, no warm-up)")
ax_loss.set_ylabel("training loss")
ax_loss.legend()
plt.show()

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
results = {"seeds": list(SEEDS), "depth": DEPTH, "d_model": D, "heads": HEADS, "dim_feedforward": FF,
           "length": LENGTH, "steps": STEPS, "lr": LR, "batch": BATCH, "chance_loss": math.log(DIGITS)}
for kind in KINDS:
    results |= {f"{kind}_final_losses": [final[kind, seed] for seed in SEEDS],
                f"{kind}_accuracies": [accuracies[kind, seed] for seed in SEEDS],
                f"{kind}_grad_norms": mean_norms[kind].tolist(),
                f"{kind}_grad_ratio": float(mean_norms[kind][-1] / mean_norms[kind][0])}
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
if not SMOKE:  # what held in every seed we ran; nothing more
    assert max(results["pre_ln_final_losses"]) < 0.1, "Pre-LN learns the task at this learning rate"
    assert min(results["post_ln_final_losses"]) > 1.0, "Post-LN is still on its plateau after the same steps"
    assert results["post_ln_grad_ratio"] > 1 > results["pre_ln_grad_ratio"], \
        "Post-LN's gradients grow toward the output, Pre-LN's do not"
