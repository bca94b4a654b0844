"""Attention: scaled dot-product attention with masks, its backward pass, and masks to build.

A boolean mask follows ``torch.nn.functional.scaled_dot_product_attention``: True means the query may
attend to that key. A query whose mask hides every key has no defined output (its softmax would be
0/0); the forward pass raises a clear error instead of returning NaN.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from n2t._validate import as_float_array, checks_dout, describe, positive_int

# --8<-- [start:imports]
import numpy as np

from n2t.numpy.losses import softmax
# --8<-- [end:imports]

__all__ = ["masked_softmax", "scaled_dot_product_attention_forward", "scaled_dot_product_attention_backward",
           "causal_mask", "padding_mask", "additive_attention_scores"]


def _check_mask(mask: Any, scores_shape: tuple[int, ...], where: str) -> np.ndarray | None:
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"{where}: argument 'mask' must be boolean (True = may attend); got {describe(mask)}")
    try:
        full = np.broadcast_to(mask, scores_shape)
    except ValueError:
        raise ValueError(f"{where}: argument 'mask' of shape {mask.shape} does not broadcast to the scores' "
                         f"shape (N, *, L, S) = {scores_shape}") from None
    hidden = ~full.any(axis=-1)
    if hidden.any():
        first = tuple(int(i) for i in np.argwhere(hidden)[0])
        raise ValueError(f"{where}: argument 'mask' hides every key from query {first} (index over "
                         f"(N, *, L)); its attention weights would be 0/0 = NaN. Let every query see at least "
                         f"one key (e.g. itself)")
    return mask


def _attention_args(fn: Callable) -> Callable:
    where = fn.__name__

    @functools.wraps(fn)
    def wrapper(q: Any, k: Any, v: Any, mask: Any = None) -> Any:
        q, k, v = (as_float_array(name, value, where) for name, value in (("q", q), ("k", k), ("v", v)))
        if q.ndim < 2 or k.ndim != q.ndim or v.ndim != q.ndim:
            raise ValueError(f"{where}: arguments 'q', 'k', 'v' must have shapes (*, L, E), (*, S, E), (*, S, Ev) "
                             f"with the same number of axes; got {q.shape}, {k.shape}, {v.shape}")
        if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2] or q.shape[:-2] != k.shape[:-2] \
                or k.shape[:-2] != v.shape[:-2]:
            raise ValueError(f"{where}: need q (*, L, E), k (*, S, E), v (*, S, Ev) with the same leading axes, "
                             f"the same E for q and k and the same S for k and v; got {q.shape}, {k.shape}, {v.shape}")
        return fn(q, k, v, _check_mask(mask, (*q.shape[:-1], k.shape[-2]), where))

    return wrapper


# --8<-- [start:masked-softmax]
def masked_softmax(scores, mask=None):
    """Softmax over the last axis (the keys), giving weight 0 to masked-out keys.

    Args:
        scores: shape ``(*, L, S)``.
        mask: boolean, broadcastable to ``(*, L, S)``; True = may attend. None: attend to all.

    Returns:
        weights, shape ``(*, L, S)``; each row sums to 1.
    """
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)  # exp(−inf) = 0
    return softmax(scores)  # the stable log-sum-exp softmax of the softmax-regression page
# --8<-- [end:masked-softmax]


def _softmax_args(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(scores: Any, mask: Any = None) -> np.ndarray:
        scores = as_float_array("scores", scores, "masked_softmax")
        if scores.ndim < 1:
            raise ValueError(f"masked_softmax: argument 'scores' must have a key axis; got shape {scores.shape}")
        return fn(scores, _check_mask(mask, scores.shape, "masked_softmax"))

    return wrapper


masked_softmax = _softmax_args(masked_softmax)  # the checks stay out of the code shown


@_attention_args
# --8<-- [start:sdpa-forward]
def scaled_dot_product_attention_forward(q, k, v, mask=None):
    """softmax(q kᵀ / √E) v, each query a weighted average of the values.

    Args:
        q: queries, shape ``(N, *, L, E)`` (``*``: e.g. heads).
        k: keys, shape ``(N, *, S, E)``.
        v: values, shape ``(N, *, S, Ev)``.
        mask: boolean, broadcastable to ``(N, *, L, S)``; True = may attend.

    Returns:
        ``(out, cache)``: ``out`` has shape ``(N, *, L, Ev)``; the attention weights
        ``(N, *, L, S)`` are ``cache[4]``.
    """
    scale = 1.0 / np.sqrt(q.shape[-1])
    scores = q @ np.swapaxes(k, -1, -2)  # (N, *, L, S)
    scores *= scale
    weights = masked_softmax(scores, mask)
    out = weights @ v  # (N, *, L, Ev)
    return out, (out, q, k, v, weights, scale)
# --8<-- [end:sdpa-forward]


@checks_dout
# --8<-- [start:sdpa-backward]
def scaled_dot_product_attention_backward(dout, cache):
    """Gradients of scaled dot-product attention.

    Through the softmax: ds = w ⊙ (dw − Σ_j dw_j w_j) per row; masked keys have w = 0, so they get
    no gradient.

    Args:
        dout: upstream gradient, shape ``(N, *, L, Ev)``.
        cache: from :func:`scaled_dot_product_attention_forward`.

    Returns:
        ``(dq, dk, dv)`` with the shapes of q, k, v.
    """
    _, q, k, v, weights, scale = cache
    dv = np.swapaxes(weights, -1, -2) @ dout  # (N, *, S, Ev)
    dweights = dout @ np.swapaxes(v, -1, -2)  # (N, *, L, S)
    dscores = weights * (dweights - np.vecdot(dweights, weights)[..., None])  # vecdot: each row's Σ_j dw_j w_j
    dscores *= scale  # scores = q kᵀ · scale
    dq = dscores @ k  # (N, *, L, E)
    dk = np.swapaxes(dscores, -1, -2) @ q  # (N, *, S, E)
    return dq, dk, dv
# --8<-- [end:sdpa-backward]


# --8<-- [start:masks]
def causal_mask(length):
    """Lower-triangular ``(L, L)`` mask: position t may attend to positions 0…t only."""
    return np.tril(np.ones((length, length), dtype=bool))


def padding_mask(lengths, max_length):
    """``(N, 1, S)`` mask that hides the padding after each sequence's true length.

    Args:
        lengths: true lengths, shape ``(N,)``, each in 1…S.
        max_length: S, the padded length.
    """
    return (np.arange(max_length) < np.asarray(lengths)[:, None])[:, None, :]
# --8<-- [end:masks]


def _checked_causal_mask(length: Any) -> np.ndarray:
    return _causal_mask(positive_int("length", length, "causal_mask"))


def _checked_padding_mask(lengths: Any, max_length: Any) -> np.ndarray:
    max_length = positive_int("max_length", max_length, "padding_mask")
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu" or (lengths.size and (
            lengths.min() < 1 or lengths.max() > max_length)):
        raise ValueError(f"padding_mask: argument 'lengths' must be integers in 1…{max_length}, shape (N,); "
                         f"got {describe(lengths)}")
    return _padding_mask(lengths, max_length)


_causal_mask, _padding_mask = causal_mask, padding_mask
causal_mask = functools.wraps(_causal_mask)(_checked_causal_mask)
padding_mask = functools.wraps(_padding_mask)(_checked_padding_mask)


# --8<-- [start:additive-scores]
def additive_attention_scores(q, k, w_q, w_k, w_v):
    """Additive (Bahdanau) scores a(q, k) = w_vᵀ tanh(W_q q + W_k k) for every query–key pair.

    Args:
        q: queries, shape ``(N, L, Eq)``.
        k: keys, shape ``(N, S, Ek)``.
        w_q: shape ``(A, Eq)``; A is the size of the hidden layer of the scoring network.
        w_k: shape ``(A, Ek)``.
        w_v: shape ``(A,)``.

    Returns:
        scores, shape ``(N, L, S)`` (feed them to :func:`masked_softmax`).
    """
    features = np.tanh((q @ w_q.T)[:, :, None, :] + (k @ w_k.T)[:, None, :, :])  # (N, L, S, A)
    return features @ w_v
# --8<-- [end:additive-scores]
