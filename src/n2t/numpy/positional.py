"""Positional information for attention, which by itself ignores order: sinusoidal encodings
(Vaswani et al. 2017) and rotary position embeddings (RoPE, Su et al. 2021)."""

from __future__ import annotations

import functools
from typing import Any

from n2t._validate import as_float_array, positive_int

# --8<-- [start:imports]
import numpy as np
# --8<-- [end:imports]

__all__ = ["sinusoidal_encoding", "rotary_embedding", "rotary_embedding_backward"]


def _even_size(name: str, value: Any, where: str) -> int:
    size = positive_int(name, value, where)
    if size % 2:
        raise ValueError(f"{where}: argument '{name}' must be a positive even int; got {value!r}")
    return size


# --8<-- [start:sinusoidal]
def sinusoidal_encoding(length, d_model, base=10000.0):
    """PE[t, 2i] = sin(t / base^(2i/E)), PE[t, 2i+1] = cos(t / base^(2i/E)).

    Args:
        length: T, the number of positions.
        d_model: E, even.
        base: the longest wavelength is 2π·base.

    Returns:
        the encodings, shape ``(T, E)``; added to the token embeddings.
    """
    positions = np.arange(length)[:, None]  # (T, 1)
    frequencies = base ** (-np.arange(0, d_model, 2) / d_model)  # (E/2,)
    angles = positions * frequencies  # (T, E/2)
    encoding = np.empty((length, d_model))
    encoding[:, 0::2], encoding[:, 1::2] = np.sin(angles), np.cos(angles)
    return encoding
# --8<-- [end:sinusoidal]


def _checked_sinusoidal(length: Any, d_model: Any, base: float = 10000.0) -> np.ndarray:
    return _sinusoidal(positive_int("length", length, "sinusoidal_encoding"),
                       _even_size("d_model", d_model, "sinusoidal_encoding"), float(base))


_sinusoidal = sinusoidal_encoding
sinusoidal_encoding = functools.wraps(_sinusoidal)(_checked_sinusoidal)  # the checks stay out of the code shown


# --8<-- [start:rotary]
def rotary_embedding(x, base=10000.0):
    """Rotate each pair of features (x[2i], x[2i+1]) of the vector at position t by the angle t·θ_i.

    Applied to queries and keys, the score q_s·k_t then depends on the positions only through s − t.

    Args:
        x: queries or keys, shape ``(*, T, E)`` with E even.
        base: θ_i = base^(−2i/E), as for the sinusoidal encoding.

    Returns:
        ``(out, cache)``: ``out`` has the shape of x.
    """
    steps, features = x.shape[-2], x.shape[-1]
    angles = np.arange(steps)[:, None] * base ** (-np.arange(0, features, 2) / features)  # (T, E/2)
    cos, sin = np.cos(angles), np.sin(angles)
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out, (out, cos, sin)


def rotary_embedding_backward(dout, cache):
    """A rotation's gradient is the inverse rotation (by −t·θ_i) of the upstream gradient.

    Args:
        dout: shape ``(*, T, E)``.
        cache: from :func:`rotary_embedding`.

    Returns:
        dx, shape ``(*, T, E)``.
    """
    _, cos, sin = cache
    even, odd = dout[..., 0::2], dout[..., 1::2]
    dx = np.empty_like(dout)
    dx[..., 0::2] = even * cos + odd * sin
    dx[..., 1::2] = -even * sin + odd * cos
    return dx
# --8<-- [end:rotary]


def _checked_rotary(x: Any, base: float = 10000.0) -> tuple[np.ndarray, tuple]:
    x = as_float_array("x", x, "rotary_embedding")
    if x.ndim < 2 or x.shape[-1] % 2:
        raise ValueError(f"rotary_embedding: argument 'x' must have shape (*, T, E) with E even; got {x.shape}")
    return _rotary(x, float(base))


def _checked_rotary_backward(dout: Any, cache: Any) -> np.ndarray:
    dout = as_float_array("dout", dout, "rotary_embedding_backward")
    if not (isinstance(cache, tuple) and len(cache) == 3) or dout.shape != np.shape(cache[0]):
        raise ValueError(f"rotary_embedding_backward: argument 'dout' must have the shape of the forward output "
                         f"and 'cache' must come from rotary_embedding; got dout {dout.shape}")
    return _rotary_backward(dout, cache)


_rotary, _rotary_backward = rotary_embedding, rotary_embedding_backward
rotary_embedding = functools.wraps(_rotary)(_checked_rotary)
rotary_embedding_backward = functools.wraps(_rotary_backward)(_checked_rotary_backward)
