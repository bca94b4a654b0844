"""Inverted dropout: zero each unit with probability p during training, scale the rest by 1/(1−p)."""

from __future__ import annotations

from n2t._validate import checks_dout, float_args
from n2t.numpy.module import Module

# --8<-- [start:imports]
import numpy as np
# --8<-- [end:imports]

__all__ = ["dropout_forward", "dropout_backward", "Dropout"]


def _check_p(p: float, **_: object) -> None:
    """Raise unless 0 <= p < 1 (other arguments of ``dropout_forward`` are ignored)."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout_forward: argument 'p' must lie in [0, 1); got {p!r}")


@float_args("x", check=_check_p)
# --8<-- [start:dropout-forward]
def dropout_forward(
    x: np.ndarray, p: float, training: bool = True, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, tuple]:
    """Inverted dropout, as ``torch.nn.functional.dropout``.

    In training each entry is kept with probability 1 − p and divided by 1 − p, so the expected
    output equals the input and evaluation needs no rescaling; in evaluation it is the identity.

    Args:
        x: activations, shape ``(*)``.
        p: probability of dropping an entry, in [0, 1).
        training: apply dropout (True) or pass x through (False).
        rng: ``np.random.Generator`` for the mask.

    Returns:
        ``(out, cache)``, ``out`` of shape ``(*)``.
    """
    if not training or p == 0.0:
        return x, (np.ones_like(x),)
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(x.shape) >= p) / (1.0 - p)  # (*), entries 0 or 1/(1 − p)
    return x * mask, (mask.astype(x.dtype),)
# --8<-- [end:dropout-forward]


@checks_dout
# --8<-- [start:dropout-backward]
def dropout_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """The gradient flows only through the kept entries, scaled like the forward pass.

    Args:
        dout: upstream gradient, shape ``(*)``.
        cache: from :func:`dropout_forward`.

    Returns:
        dx, shape ``(*)``.
    """
    (mask,) = cache
    return dout * mask
# --8<-- [end:dropout-backward]


class Dropout(Module):
    """Dropout as a layer (active only in training mode).

    Args:
        p: drop probability.
        rng: ``np.random.Generator`` for the masks.
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        _check_p(p)
        self.p = float(p)
        self.rng = np.random.default_rng() if rng is None else rng
        self._cache: tuple | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = dropout_forward(x, self.p, self.training, self.rng)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError("Dropout.backward called before forward")
        return dropout_backward(dout, self._cache)

    def config(self) -> dict:
        return {"p": self.p}
