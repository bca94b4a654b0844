"""One gradient checker for every NumPy layer: finite differences and ``torch.autograd``.

A backward pass is checked against (1) central finite differences and (2) PyTorch's autograd on
the same function, in float64, with a *random* upstream gradient ``dout`` (an all-ones ``dout``
hides errors that only show up when upstream entries differ).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["GradCheckResult", "check_layer", "numerical_gradient", "relative_error"]


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest elementwise |a − b| / (|a| + |b|), with the denominator floored at 1e-3 × the
    largest magnitude in either array (so entries whose true value is ~0 are judged on the array's
    scale, not on the rounding noise of finite differences); 0 for empty arrays.
    """
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    floor = max(1e-3 * max(np.max(np.abs(a)), np.max(np.abs(b))), 1e-12)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)))


def numerical_gradient(
    f: Callable[[], float], x: np.ndarray, eps: float = 1e-5
) -> np.ndarray:
    """Central differences (f(x + h) − f(x − h)) / 2h of a scalar function of ``x``.

    ``x`` is perturbed in place and restored, so ``f`` must read it (a closure over ``x``).

    Args:
        f: takes no arguments, returns a float that depends on ``x``.
        x: float64 array of any shape ``(*)``.
        eps: step h.

    Returns:
        the gradient, shape ``(*)``.
    """
    if x.dtype != np.float64:
        raise TypeError(f"numerical_gradient: argument 'x' must be float64; got {x.dtype}")
    grad = np.zeros_like(x)
    flat, grad_flat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        plus = f()
        flat[i] = saved - eps
        minus = f()
        flat[i] = saved
        grad_flat[i] = (plus - minus) / (2 * eps)
    return grad


@dataclass
class GradCheckResult:
    """Relative errors of the analytic gradient of each input, per reference."""

    numeric: dict[str, float] = field(default_factory=dict)
    torch: dict[str, float] = field(default_factory=dict)

    def worst(self) -> float:
        """The largest relative error over all inputs and references."""
        return max([*self.numeric.values(), *self.torch.values()], default=0.0)


def _as_tuple(value: Any) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def check_layer(
    forward: Callable[..., tuple[np.ndarray, Any]],
    backward: Callable[[np.ndarray, Any], Any],
    inputs: dict[str, np.ndarray],
    torch_fn: Callable[..., Any] | None = None,
    kwargs: dict[str, Any] | None = None,
    seed: int = 0,
    eps: float = 1e-5,
    tol: float = 1e-6,
    torch_tol: float = 1e-9,
) -> GradCheckResult:
    """Check ``backward`` against finite differences and, if given, ``torch_fn`` under autograd.

    The scalar checked is L = Σ forward(*inputs) ⊙ dout with dout ~ N(0, 1).

    Args:
        forward: ``forward(*inputs.values(), **kwargs) -> (out, cache)``.
        backward: ``backward(dout, cache)`` returning the gradient of each input, in order
            (a single array when there is one input).
        inputs: name → float64 array; use distinct sizes on every axis.
        torch_fn: the same function written with torch ops (``torch_fn(*tensors, **kwargs)``).
        kwargs: non-differentiable arguments passed to both functions.
        seed: seed for the random upstream gradient.
        eps: finite-difference step.
        tol: largest relative error accepted against finite differences.
        torch_tol: largest relative error accepted against autograd (both are exact up to
            rounding, so this is much tighter).

    Returns:
        the relative errors; raises AssertionError naming the input when one exceeds ``tol``.
    """
    kwargs = kwargs or {}
    for name, value in inputs.items():
        if not isinstance(value, np.ndarray) or value.dtype != np.float64:
            raise TypeError(f"check_layer: inputs[{name!r}] must be a float64 ndarray; got {value!r:.60}")
    arrays: Sequence[np.ndarray] = list(inputs.values())
    out, cache = forward(*arrays, **kwargs)
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    analytic = _as_tuple(backward(dout, cache))
    if len(analytic) < len(arrays):
        raise ValueError(f"check_layer: backward returned {len(analytic)} gradients for {len(arrays)} inputs")

    result = GradCheckResult()
    for (name, array), grad in zip(inputs.items(), analytic):
        numeric = numerical_gradient(lambda: float(np.sum(forward(*arrays, **kwargs)[0] * dout)), array, eps)
        result.numeric[name] = relative_error(np.asarray(grad, dtype=np.float64), numeric)

    if torch_fn is not None:
        import torch

        tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
        torch_out = torch_fn(*tensors, **kwargs)
        torch_out.backward(torch.from_numpy(dout))
        for (name, _), tensor, grad in zip(inputs.items(), tensors, analytic):
            reference = np.zeros(tensor.shape) if tensor.grad is None else tensor.grad.numpy()
            result.torch[name] = relative_error(np.asarray(grad, dtype=np.float64), reference)

    checks = (("finite differences", result.numeric, tol), ("torch.autograd", result.torch, torch_tol))
    for reference_name, errors, limit in checks:
        for name, error in errors.items():
            if not error <= limit:
                raise AssertionError(
                    f"gradient of {name!r} disagrees with {reference_name}: "
                    f"relative error {error:.3g} > {limit:g}"
                )
    return result
