"""Multi-head attention with a hand-written backward pass, in ``torch.nn.MultiheadAttention``'s layout.

The query, key and value projections are packed in one ``in_proj_weight`` of shape ``(3E, E)``
(rows ``0:E`` for queries, ``E:2E`` keys, ``2E:3E`` values) and the output projection is
``out_proj.weight`` ``(E, E)``; sequences are batch-first. Masks are boolean with True = may attend
(``nn.MultiheadAttention`` itself takes the opposite convention: True = masked out).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from n2t._validate import as_float_array, checks_dout, positive_int
from n2t.numpy.module import Module

# --8<-- [start:imports]
import numpy as np

from n2t.numpy.attention import scaled_dot_product_attention_backward, scaled_dot_product_attention_forward
# --8<-- [end:imports]

__all__ = ["split_heads", "merge_heads", "multi_head_attention_forward", "multi_head_attention_backward",
           "MultiHeadAttention"]


# --8<-- [start:heads]
def split_heads(x, num_heads):
    """``(N, T, E)`` → ``(N, heads, T, E / heads)``: each head gets its own slice of the features."""
    n, steps, features = x.shape
    return x.reshape(n, steps, num_heads, features // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x):
    """``(N, heads, T, E / heads)`` → ``(N, T, E)``: concatenate the heads' outputs."""
    n, heads, steps, width = x.shape
    return x.transpose(0, 2, 1, 3).reshape(n, steps, heads * width)
# --8<-- [end:heads]


def _mha_args(fn: Callable) -> Callable:
    where = fn.__name__

    @functools.wraps(fn)
    def wrapper(query: Any, key: Any, value: Any, w_in: Any, b_in: Any, w_out: Any, b_out: Any,
                num_heads: int, mask: Any = None) -> Any:
        names = ("query", "key", "value", "w_in", "b_in", "w_out", "b_out")
        arrays = [as_float_array(n, a, where) for n, a in zip(names, (query, key, value, w_in, b_in, w_out, b_out))]
        query, key, value, w_in, b_in, w_out, b_out = arrays
        features = query.shape[-1] if query.ndim == 3 else -1
        if query.ndim != 3 or key.ndim != 3 or value.shape != key.shape or key.shape[0] != query.shape[0] \
                or key.shape[2] != features:
            raise ValueError(f"{where}: need query (N, L, E) and key, value (N, S, E) with the same N and E; "
                             f"got {query.shape}, {key.shape}, {value.shape}")
        if not isinstance(num_heads, (int, np.integer)) or num_heads < 1 or features % num_heads:
            raise ValueError(f"{where}: argument 'num_heads' must be a positive int that divides E = {features}; "
                             f"got {num_heads!r}")
        expected = {"w_in": (3 * features, features), "b_in": (3 * features,), "w_out": (features, features),
                    "b_out": (features,)}
        for name, array in zip(names[3:], arrays[3:]):
            if array.shape != expected[name]:
                raise ValueError(f"{where}: argument '{name}' must have shape {expected[name]} for E = {features}; "
                                 f"got {array.shape}")
        if mask is not None and np.ndim(mask) == 3:
            mask = np.asarray(mask)[:, None]  # (N, L, S) or (N, 1, S) → one mask for every head
        return fn(query, key, value, w_in, b_in, w_out, b_out, int(num_heads), mask)

    return wrapper


@_mha_args
# --8<-- [start:mha-forward]
def multi_head_attention_forward(query, key, value, w_in, b_in, w_out, b_out, num_heads, mask=None):
    """Project, split into heads, attend in every head at once, merge the heads, project again.

    Args:
        query: ``(N, L, E)``; key, value: ``(N, S, E)`` (all three the same array for self-attention).
        w_in: packed query/key/value projections, ``(3E, E)``; b_in: ``(3E,)``.
        w_out: output projection, ``(E, E)``; b_out: ``(E,)``.
        num_heads: h; E must be divisible by h.
        mask: boolean, True = may attend; ``(L, S)``, ``(N, L, S)`` or ``(N, 1, S)``.

    Returns:
        ``(out, cache)``: ``out`` has shape ``(N, L, E)``; the attention weights of every head,
        ``(N, h, L, S)``, are ``cache[4][4]``.
    """
    w_q, w_k, w_v = np.split(w_in, 3)  # (E, E) each
    b_q, b_k, b_v = np.split(b_in, 3)
    q = split_heads(query @ w_q.T + b_q, num_heads)  # (N, h, L, E / h)
    k = split_heads(key @ w_k.T + b_k, num_heads)  # (N, h, S, E / h)
    v = split_heads(value @ w_v.T + b_v, num_heads)
    heads, attention_cache = scaled_dot_product_attention_forward(q, k, v, mask)  # (N, h, L, E / h)
    merged = merge_heads(heads)  # (N, L, E)
    out = merged @ w_out.T + b_out
    return out, (out, query, key, value, attention_cache, merged, w_in, w_out, num_heads)
# --8<-- [end:mha-forward]


@checks_dout
# --8<-- [start:mha-backward]
def multi_head_attention_backward(dout, cache):
    """Gradients of multi-head attention, the forward pass read backwards.

    Args:
        dout: upstream gradient, ``(N, L, E)``.
        cache: from :func:`multi_head_attention_forward`.

    Returns:
        ``(dquery, dkey, dvalue, dw_in, db_in, dw_out, db_out)``; for self-attention the input's
        gradient is dquery + dkey + dvalue.
    """
    _, query, key, value, attention_cache, merged, w_in, w_out, num_heads = cache
    flat = dout.reshape(-1, dout.shape[-1])  # (N·L, E)
    dw_out = flat.T @ merged.reshape(flat.shape)
    db_out = flat.sum(axis=0)
    dheads = split_heads(dout @ w_out, num_heads)  # (N, h, L, E / h)
    dq, dk, dv = (merge_heads(g)
                  for g in scaled_dot_product_attention_backward(dheads, attention_cache))  # (N, ·, E) each
    dw_in = np.concatenate([g.reshape(-1, g.shape[-1]).T @ x.reshape(-1, x.shape[-1])
                            for g, x in ((dq, query), (dk, key), (dv, value))])  # (3E, E)
    db_in = np.concatenate([g.sum(axis=(0, 1)) for g in (dq, dk, dv)])
    w_q, w_k, w_v = np.split(w_in, 3)
    return dq @ w_q, dk @ w_k, dv @ w_v, dw_in, db_in, dw_out, db_out
# --8<-- [end:mha-backward]


class MultiHeadAttention(Module):
    """Multi-head attention as a layer, with ``nn.MultiheadAttention``'s parameter names and init
    (Xavier-uniform projections, zero biases).

    Args:
        embed_dim: E.
        num_heads: h, a divisor of E.
        rng: generator for the initial weights.
    """

    def __init__(self, embed_dim: int, num_heads: int, rng: np.random.Generator | None = None) -> None:
        positive_int("embed_dim", embed_dim, "MultiHeadAttention")
        if not isinstance(num_heads, (int, np.integer)) or num_heads < 1 or embed_dim % num_heads:
            raise ValueError(f"MultiHeadAttention: argument 'num_heads' must divide embed_dim = {embed_dim}; "
                             f"got {num_heads!r}")
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        in_bound, out_bound = np.sqrt(6 / (4 * embed_dim)), 1 / np.sqrt(embed_dim)
        self.params = {"in_proj_weight": rng.uniform(-in_bound, in_bound, (3 * embed_dim, embed_dim)),
                       "in_proj_bias": np.zeros(3 * embed_dim),
                       "out_proj.weight": rng.uniform(-out_bound, out_bound, (embed_dim, embed_dim)),
                       "out_proj.bias": np.zeros(embed_dim)}
        self.zero_grad()
        self._cache: tuple | None = None

    def attend(self, query: np.ndarray, key: np.ndarray, value: np.ndarray, mask: Any = None) -> np.ndarray:
        """Args: query ``(N, L, E)``, key and value ``(N, S, E)``, mask (True = may attend).
        Returns: ``(N, L, E)``."""
        p = self.params
        out, self._cache = multi_head_attention_forward(query, key, value, p["in_proj_weight"], p["in_proj_bias"],
                                                        p["out_proj.weight"], p["out_proj.bias"], self.num_heads,
                                                        mask)
        return out

    def forward(self, x: np.ndarray, mask: Any = None) -> np.ndarray:  # type: ignore[override]
        """Self-attention: query = key = value = x, shape ``(N, T, E)``."""
        return self.attend(x, x, x, mask)

    def attention_backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fill ``grads``; return ``(dquery, dkey, dvalue)``."""
        if self._cache is None:
            raise RuntimeError("MultiHeadAttention.backward called before forward")
        dquery, dkey, dvalue, *grads = multi_head_attention_backward(dout, self._cache)
        self.grads = dict(zip(("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"), grads))
        return dquery, dkey, dvalue

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Backward of self-attention: x fed all three inputs, so its gradient is their sum."""
        dquery, dkey, dvalue = self.attention_backward(dout)
        return dquery + dkey + dvalue

    @property
    def weights(self) -> np.ndarray:
        """The attention weights of the last forward pass, ``(N, h, L, S)``."""
        if self._cache is None:
            raise RuntimeError("MultiHeadAttention.weights read before forward")
        return self._cache[4][4]

    def config(self) -> dict:
        """``embed_dim``, ``num_heads``."""
        return {"embed_dim": self.embed_dim, "num_heads": self.num_heads}
