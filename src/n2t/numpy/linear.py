"""The fully connected (affine) layer y = xWᵀ + b with PyTorch's ``(out, in)`` weight layout."""

from __future__ import annotations

import os

from n2t._validate import checks_dout, float_args, require_ndim
from n2t.numpy.module import Module
from n2t.numpy.serialize import load_params, save_params

# --8<-- [start:imports]
import numpy as np
# --8<-- [end:imports]

__all__ = ["linear_forward", "linear_backward", "Linear"]


def _check_linear_shapes(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> None:
    """Raise a clear error for shapes that ``linear_forward`` cannot combine."""
    require_ndim("w", w, 2, "linear_forward", "(H, D)")
    if x.ndim < 1 or x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"linear_forward: argument 'x' must have shape (N, D) with D = {w.shape[1]} "
            f"(w has shape (H, D) = {w.shape}); got shape {x.shape}"
        )
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(
            f"linear_forward: argument 'b' must have shape (H,) = ({w.shape[0]},); got shape {b.shape}"
        )


@float_args("x", "w", "b", check=_check_linear_shapes)
# --8<-- [start:linear-forward]
def linear_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> tuple[np.ndarray, tuple]:
    """Affine map y = x Wᵀ + b, as ``torch.nn.functional.linear``.

    Args:
        x: inputs, shape ``(N, D)`` (any leading axes ``(*, D)`` work too).
        w: weights, shape ``(H, D)`` — one row per output unit.
        b: bias, shape ``(H,)``, or None.

    Returns:
        ``(out, cache)``: ``out`` has shape ``(N, H)``.
    """
    out = x @ w.T  # (N, H)
    if b is not None:
        out = out + b
    return out, (out, x, w, b is not None)
# --8<-- [end:linear-forward]


@checks_dout
# --8<-- [start:linear-backward]
def linear_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of y = x Wᵀ + b.

    Args:
        dout: upstream gradient ∂L/∂y, shape ``(N, H)``.
        cache: from :func:`linear_forward`.

    Returns:
        ``(dx, dw, db)`` with shapes ``(N, D)``, ``(H, D)``, ``(H,)``; ``db`` is None without bias.
    """
    _, x, w, has_bias = cache
    dx = dout @ w  # (N, D)
    x2 = x.reshape(-1, x.shape[-1])
    d2 = dout.reshape(-1, dout.shape[-1])
    dw = d2.T @ x2  # (H, D)
    db = d2.sum(axis=0) if has_bias else None  # (H,)
    return dx, dw, db
# --8<-- [end:linear-backward]


def _init_uniform(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    """PyTorch's default ``nn.Linear`` init: U(−1/√fan_in, 1/√fan_in)."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape)


class Linear(Module):
    """Fully connected layer holding ``params`` and ``grads`` dicts (keys ``"W"``, ``"b"``).

    ``params["W"]`` has shape ``(out_features, in_features)``, exactly ``torch.nn.Linear.weight``,
    so weights move between the two with ``torch.from_numpy`` and ``.numpy()``.

    Args:
        in_features: D, size of each input.
        out_features: H, size of each output.
        bias: whether to learn an additive bias.
        rng: a ``np.random.Generator``; pass ``np.random.default_rng(seed)`` for repeatable runs.
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, rng: np.random.Generator | None = None
    ) -> None:
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Linear: argument '{name}' must be a positive int; got {value!r}")
        super().__init__()
        self.in_features, self.out_features, self.bias = int(in_features), int(out_features), bool(bias)
        rng = np.random.default_rng() if rng is None else rng
        self.params = {"W": _init_uniform(rng, (out_features, in_features), in_features)}
        if bias:
            self.params["b"] = _init_uniform(rng, (out_features,), in_features)
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        self._cache: tuple | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Args: x, shape ``(N, D)``. Returns: y, shape ``(N, H)``."""
        out, self._cache = linear_forward(x, self.params["W"], self.params.get("b"))
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Store ∂L/∂W and ∂L/∂b in ``grads``; return ∂L/∂x.

        Args:
            dout: upstream gradient, shape ``(N, H)``.

        Returns:
            dx, shape ``(N, D)``.
        """
        if self._cache is None:
            raise RuntimeError("Linear.backward called before forward")
        dx, dw, db = linear_backward(dout, self._cache)
        self.grads["W"] = dw
        if db is not None:
            self.grads["b"] = db
        return dx

    def config(self) -> dict:
        """``in_features``, ``out_features``, ``bias``."""
        return {"in_features": self.in_features, "out_features": self.out_features, "bias": self.bias}

    def save(self, path: str | os.PathLike) -> None:
        """Write ``params`` to an ``.npz`` file (see :func:`n2t.numpy.serialize.save_params`)."""
        save_params(path, self.params)

    def load(self, path: str | os.PathLike) -> None:
        """Load ``params`` saved by :meth:`save`; shapes must match this layer."""
        self.params = load_params(path, expected={k: v.shape for k, v in self.params.items()})
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
