"""Attention in PyTorch from matrix products and a softmax: scaled dot-product attention, multi-head
attention with ``nn.MultiheadAttention``'s parameters, additive (Bahdanau) attention, and masks.

Masks are boolean with True = may attend, the convention of ``F.scaled_dot_product_attention``;
``nn.MultiheadAttention`` and ``nn.Transformer*`` take the opposite (True = masked out), so give them
``~mask``. Sequences are batch-first. A mask that hides every key from some query raises a ValueError
(its softmax would be 0/0 = NaN).
"""

from __future__ import annotations

from n2t.torch._checks import (
    check_additive_input,
    check_mha_input,
    check_options,
    checks_mask_builders,
    checks_sdpa,
    guard,
)

# --8<-- [start:imports]
import math

import torch
import torch.nn.functional as F
from torch import nn
# --8<-- [end:imports]

__all__ = ["scaled_dot_product_attention", "causal_mask", "padding_mask", "MultiHeadAttention",
           "AdditiveAttention"]


@checks_sdpa
# --8<-- [start:sdpa]
def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None,
                                 dropout_p: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q kᵀ / √E) v: each query's output is a weighted average of the values.

    Args:
        q: queries, ``(N, *, L, E)`` (``*``: e.g. the heads).
        k: keys, ``(N, *, S, E)``.
        v: values, ``(N, *, S, Ev)``.
        mask: boolean, broadcastable to ``(N, *, L, S)``; True = may attend. None: attend to every key.
        dropout_p: probability of dropping an attention weight (0 in evaluation).

    Returns:
        ``(out, weights)``: ``out`` ``(N, *, L, Ev)`` and the attention weights ``(N, *, L, S)``.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (N, *, L, S)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))  # exp(−inf) = 0: a hidden key gets weight 0
    weights = torch.softmax(scores, dim=-1)  # each row sums to 1
    if dropout_p > 0:
        weights = F.dropout(weights, dropout_p)
    return weights @ v, weights  # (N, *, L, Ev)
# --8<-- [end:sdpa]


# --8<-- [start:masks]
def causal_mask(length: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Lower-triangular ``(L, L)`` mask: position t may attend to positions 0…t only."""
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


def padding_mask(lengths: torch.Tensor, max_length: int) -> torch.Tensor:
    """``(N, 1, S)`` mask that hides the padding after each sequence's true length.

    Args:
        lengths: true lengths, integers in 1…S, shape ``(N,)``; the mask is made on their device.
        max_length: S, the padded length.
    """
    positions = torch.arange(max_length, device=lengths.device)  # (S,)
    return (positions < lengths[:, None])[:, None, :]  # (N, 1, S)
# --8<-- [end:masks]


causal_mask, padding_mask = checks_mask_builders(causal_mask, padding_mask)  # the checks stay out of the code shown


# --8<-- [start:multi-head]
class MultiHeadAttention(nn.Module):
    """Multi-head attention with ``nn.MultiheadAttention``'s parameters and initialisation.

    The query, key and value projections W_q, W_k, W_v are stacked in ``in_proj_weight`` ``(3E, E)``;
    each of the h heads attends with its own E/h-wide slice, and ``out_proj`` mixes the heads' outputs.

    Args:
        embed_dim: E.
        num_heads: h, a divisor of E.
        dropout: probability of dropping an attention weight in training.
        bias: learn the biases of the projections.
    """

    in_proj_bias: torch.Tensor | None

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True) -> None:
        super().__init__()
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.head_dim = embed_dim // num_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))  # W_q, W_k, W_v stacked
        self.register_parameter("in_proj_bias", nn.Parameter(torch.zeros(3 * embed_dim)) if bias else None)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        nn.init.xavier_uniform_(self.in_proj_weight)  # as nn.MultiheadAttention: Xavier, zero biases
        if bias:
            nn.init.zeros_(self.out_proj.bias)
        self.last_weights: torch.Tensor | None = None  # (N, h, L, S) of the last forward pass

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, T, E)`` → ``(N, h, T, E/h)``."""
        n, steps, _ = x.shape
        return x.view(n, steps, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """Args: query ``(N, L, E)``; key, value ``(N, S, E)`` (all three x for self-attention); mask,
        boolean ``(L, S)``, ``(N, L, S)`` or ``(N, 1, S)``, True = may attend. Returns: ``(N, L, E)``."""
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)  # (E, E) each
        b_q, b_k, b_v = (0, 0, 0) if self.in_proj_bias is None else self.in_proj_bias.chunk(3)
        q = self._split_heads(query @ w_q.T + b_q)  # (N, h, L, E/h)
        k = self._split_heads(key @ w_k.T + b_k)  # (N, h, S, E/h)
        v = self._split_heads(value @ w_v.T + b_v)  # (N, h, S, E/h)
        if mask is not None and mask.dim() == 3:
            mask = mask.unsqueeze(1)  # (N, 1, L, S): the same mask for every head
        heads, weights = scaled_dot_product_attention(q, k, v, mask, self.dropout if self.training else 0.0)
        self.last_weights = weights.detach()
        n, _, steps, _ = heads.shape
        merged = heads.transpose(1, 2).reshape(n, steps, self.embed_dim)  # (N, L, E): the heads side by side
        return self.out_proj(merged)
# --8<-- [end:multi-head]


# --8<-- [start:additive]
class AdditiveAttention(nn.Module):
    """Additive (Bahdanau) attention: score a(q, k) = w_vᵀ tanh(W_q q + W_k k), a small MLP per pair.

    Args:
        query_dim: Eq.
        key_dim: Ek.
        hidden: A, the width of the scoring MLP.
    """

    def __init__(self, query_dim: int, key_dim: int, hidden: int) -> None:
        super().__init__()
        self.w_q = nn.Linear(query_dim, hidden, bias=False)  # weight (A, Eq)
        self.w_k = nn.Linear(key_dim, hidden, bias=False)  # weight (A, Ek)
        self.w_v = nn.Linear(hidden, 1, bias=False)  # weight (1, A)
        self.last_weights: torch.Tensor | None = None  # (N, L, S) of the last forward pass

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """Args: query ``(N, L, Eq)``; key ``(N, S, Ek)``; value ``(N, S, Ev)``; mask, boolean, broadcastable
        to ``(N, L, S)``, True = may attend. Returns: ``(N, L, Ev)``."""
        features = torch.tanh(self.w_q(query).unsqueeze(2) + self.w_k(key).unsqueeze(1))  # (N, L, S, A)
        scores = self.w_v(features).squeeze(-1)  # (N, L, S)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        self.last_weights = weights.detach()
        return weights @ value  # (N, L, Ev)
# --8<-- [end:additive]


def _extra_repr(module: MultiHeadAttention) -> str:
    return (f"embed_dim={module.embed_dim}, num_heads={module.num_heads}, dropout={module.dropout}, "
            f"bias={module.in_proj_bias is not None}")


# input checks, installed here so that the code above reads as the pages show it
guard(MultiHeadAttention, "__init__", check_options)
guard(MultiHeadAttention, "forward", check_mha_input)
guard(AdditiveAttention, "__init__", check_options)
guard(AdditiveAttention, "forward", check_additive_input)
MultiHeadAttention.extra_repr = _extra_repr  # type: ignore[method-assign, assignment]
