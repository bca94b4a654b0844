"""Pieces for sequence models: a token embedding and the softmax cross-entropy summed over time.

The "temporal affine" layer needs nothing new: :class:`n2t.numpy.Linear` already maps ``(N, T, H)``
to ``(N, T, V)`` and sums its weight gradient over every step.
"""

from __future__ import annotations

import functools
from typing import Any

from n2t._validate import as_float_array, describe, positive_int
from n2t.numpy.module import Module

# --8<-- [start:imports]
import numpy as np

from n2t.numpy.losses import log_softmax
# --8<-- [end:imports]

__all__ = ["embedding_forward", "embedding_backward", "Embedding",
           "temporal_softmax_cross_entropy_forward", "temporal_softmax_cross_entropy_backward"]


def _as_indices(name: str, value: Any, where: str, size: int | None = None) -> np.ndarray:
    """Integer indices, each in [0, size), or a clear error."""
    indices = np.asarray(value)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{where}: argument '{name}' must hold integer indices; got {describe(value)}")
    if size is not None and indices.size and (indices.min() < 0 or indices.max() >= size):
        raise ValueError(f"{where}: argument '{name}' must lie in [0, {size}); "
                         f"got values from {indices.min()} to {indices.max()}")
    return indices


def _embedding_args(fn):
    @functools.wraps(fn)
    def wrapper(idx, weight):
        weight = as_float_array("weight", weight, "embedding_forward")
        if weight.ndim != 2:
            raise ValueError(f"embedding_forward: argument 'weight' must have shape (V, E); got shape {weight.shape}")
        return fn(_as_indices("idx", idx, "embedding_forward", weight.shape[0]), weight)
    return wrapper


def _embedding_backward_args(fn):
    @functools.wraps(fn)
    def wrapper(dout, cache):
        if not (isinstance(cache, tuple) and len(cache) == 2):
            raise TypeError(f"embedding_backward: argument 'cache' must be the cache returned by "
                            f"embedding_forward; got {describe(cache)}")
        dout = as_float_array("dout", dout, "embedding_backward")
        expected = (*cache[0].shape, cache[1][1])
        if dout.shape != expected:
            raise ValueError(f"embedding_backward: argument 'dout' has shape {dout.shape}, expected {expected} "
                             f"(the shape of the forward output)")
        return fn(dout, cache)
    return wrapper


# --8<-- [start:embedding]
def embedding_forward(idx, weight):
    """Look up one row of ``weight`` per token: the same as multiplying a one-hot vector by it.

    Args:
        idx: token indices, integers in ``[0, V)``, shape ``(N, T)`` (any shape works).
        weight: the embedding table, shape ``(V, E)``.

    Returns:
        ``(out, cache)``: ``out`` has shape ``(N, T, E)``.
    """
    return weight[idx], (idx, weight.shape)


def embedding_backward(dout, cache):
    """Gradient of the table: each row collects the gradients of every position that used it.

    Args:
        dout: upstream gradient, shape ``(N, T, E)``.
        cache: from :func:`embedding_forward`.

    Returns:
        dweight, shape ``(V, E)``.
    """
    idx, shape = cache
    dweight = np.zeros(shape, dtype=dout.dtype)
    np.add.at(dweight, idx, dout)  # unbuffered: a token that occurs twice adds twice
    return dweight
# --8<-- [end:embedding]


embedding_forward = _embedding_args(embedding_forward)  # the checks stay out of the code shown
embedding_backward = _embedding_backward_args(embedding_backward)


class Embedding(Module):
    """A learned lookup table ``params["weight"]``, shape ``(V, E)``, as ``torch.nn.Embedding``
    (initialised from N(0, 1) like it).

    Args:
        num_embeddings: V, the vocabulary size.
        embedding_dim: E.
        rng: generator for the initial table.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, rng: np.random.Generator | None = None) -> None:
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            positive_int(name, value, "Embedding")
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.params = {"weight": rng.standard_normal((num_embeddings, embedding_dim))}
        self.grads = {"weight": np.zeros((num_embeddings, embedding_dim))}
        self._cache: tuple | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Args: x, integer indices ``(N, T)``. Returns: ``(N, T, E)``."""
        out, self._cache = embedding_forward(x, self.params["weight"])
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Store ∂L/∂weight in ``grads``; indices have no gradient, so this returns an empty array."""
        if self._cache is None:
            raise RuntimeError("Embedding.backward called before forward")
        self.grads["weight"] = embedding_backward(dout, self._cache)
        return np.zeros(0)

    def config(self) -> dict:
        """``num_embeddings``, ``embedding_dim``."""
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim}


def _temporal_args(fn):
    where = fn.__name__

    @functools.wraps(fn)
    def wrapper(logits, targets, mask=None):
        logits = as_float_array("logits", logits, where)
        if logits.ndim != 3:
            raise ValueError(f"{where}: argument 'logits' must have shape (N, T, V); got shape {logits.shape}")
        targets = _as_indices("targets", targets, where, logits.shape[2])
        if targets.shape != logits.shape[:2]:
            raise ValueError(f"{where}: argument 'targets' must have shape (N, T) = {logits.shape[:2]}; "
                             f"got shape {targets.shape}")
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != targets.shape or mask.dtype != bool:
                raise ValueError(f"{where}: argument 'mask' must be a boolean array of shape (N, T) = "
                                 f"{targets.shape}; got {describe(mask)}")
            if not mask.any():
                raise ValueError(f"{where}: argument 'mask' hides every position: the mean loss is undefined")
        return fn(logits, targets, mask)
    return wrapper


def _scalar_upstream(fn):
    @functools.wraps(fn)
    def wrapper(dloss, cache):
        if np.ndim(dloss) != 0:
            raise ValueError(f"{fn.__name__}: argument 'dloss' of a loss must be a scalar; got shape {np.shape(dloss)}")
        if not (isinstance(cache, tuple) and len(cache) == 3):
            raise TypeError(f"{fn.__name__}: argument 'cache' must be the cache returned by the forward function; "
                            f"got {describe(cache)}")
        return fn(float(dloss), cache)
    return wrapper


# --8<-- [start:temporal-softmax-cross-entropy]
def temporal_softmax_cross_entropy_forward(logits, targets, mask=None):
    """Softmax cross-entropy at every time step, averaged over the positions that count.

    Args:
        logits: scores, shape ``(N, T, V)``.
        targets: the correct token at each step, integers in ``[0, V)``, shape ``(N, T)``.
        mask: boolean ``(N, T)``; False marks padding that must not count. None: every position.

    Returns:
        ``(loss, cache)``: ``loss`` is a 0-d array, the mean of −log p(target) over counted positions.
    """
    weights = np.ones(targets.shape) if mask is None else mask.astype(logits.dtype)  # (N, T)
    log_p = log_softmax(logits)  # stable, along the vocabulary axis: (N, T, V)
    picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]  # log p(target), (N, T)
    count = weights.sum()
    loss = -(picked * weights).sum() / count
    return np.asarray(loss), (log_p, targets, weights / count)


def temporal_softmax_cross_entropy_backward(dloss, cache):
    """∂L/∂logits = (softmax − one-hot(target)) × the position's weight in the mean.

    Args:
        dloss: upstream gradient of the scalar loss (1.0 when it is the objective).
        cache: from :func:`temporal_softmax_cross_entropy_forward`.

    Returns:
        dlogits, shape ``(N, T, V)``.
    """
    log_p, targets, weights = cache
    dlogits = np.exp(log_p)  # softmax, (N, T, V)
    np.put_along_axis(dlogits, targets[..., None], np.take_along_axis(dlogits, targets[..., None], -1) - 1.0, -1)
    return dloss * dlogits * weights[..., None]
# --8<-- [end:temporal-softmax-cross-entropy]


temporal_softmax_cross_entropy_forward = _temporal_args(temporal_softmax_cross_entropy_forward)
temporal_softmax_cross_entropy_backward = _scalar_upstream(temporal_softmax_cross_entropy_backward)
