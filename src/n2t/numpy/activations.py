"""Activation functions with hand-written derivatives (NumPy).

Every activation is a pair ``xxx_forward(x, ...) -> (out, cache)`` and
``xxx_backward(dout, cache) -> dx`` (``prelu_backward`` also returns ``dalpha``). All of them act
elementwise on an array of any shape ``(*)`` and are stable for ``|x| = 1000``: nothing overflows,
no NaN appears.
"""

from __future__ import annotations

from n2t._validate import checks_dout, float_args

# --8<-- [start:imports]
import math

import numpy as np
# --8<-- [end:imports]

__all__ = [
    "sigmoid", "sigmoid_forward", "sigmoid_backward",
    "tanh_forward", "tanh_backward",
    "relu_forward", "relu_backward",
    "leaky_relu_forward", "leaky_relu_backward",
    "prelu_forward", "prelu_backward",
    "elu_forward", "elu_backward",
    "swish_forward", "swish_backward",
    "erf", "gelu_forward", "gelu_backward",
]


@float_args("x")
# --8<-- [start:sigmoid]
def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + e^-x), without overflow for large |x|.

    Args:
        x: array of any shape ``(*)``.

    Returns:
        array of the same shape, values in [0, 1].
    """
    e = np.exp(-np.abs(x))  # never overflows: the exponent is <= 0
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
# --8<-- [end:sigmoid]


@float_args("x")
# --8<-- [start:sigmoid-forward]
def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Logistic activation.

    Args:
        x: pre-activation, shape ``(*)``.

    Returns:
        ``(out, cache)``: ``out`` has shape ``(*)``; ``cache`` holds ``out``.
    """
    out = sigmoid(x)
    return out, (out,)
# --8<-- [end:sigmoid-forward]


@checks_dout
# --8<-- [start:sigmoid-backward]
def sigmoid_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of the logistic function: σ'(x) = σ(x)(1 − σ(x)).

    Args:
        dout: upstream gradient, shape ``(*)``.
        cache: from :func:`sigmoid_forward`.

    Returns:
        dx, shape ``(*)``.
    """
    (out,) = cache
    return dout * out * (1.0 - out)
# --8<-- [end:sigmoid-backward]


@float_args("x")
# --8<-- [start:tanh-forward]
def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Hyperbolic tangent (e^x − e^−x) / (e^x + e^−x) = 2σ(2x) − 1.

    Args:
        x: pre-activation, shape ``(*)``.

    Returns:
        ``(out, cache)``: ``out`` in (−1, 1), shape ``(*)``.
    """
    out = np.tanh(x)
    return out, (out,)
# --8<-- [end:tanh-forward]


@checks_dout
# --8<-- [start:tanh-backward]
def tanh_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """tanh'(x) = 1 − tanh²(x).

    Args:
        dout: upstream gradient, shape ``(*)``.
        cache: from :func:`tanh_forward`.

    Returns:
        dx, shape ``(*)``.
    """
    (out,) = cache
    return dout * (1.0 - out**2)
# --8<-- [end:tanh-backward]



@float_args("x")
# --8<-- [start:relu-forward]
def relu_forward(x: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Rectified linear unit max(0, x).

    Args:
        x: pre-activation, shape ``(*)``.

    Returns:
        ``(out, cache)``, ``out`` of shape ``(*)``.
    """
    out = np.maximum(x, 0.0)
    return out, (x,)
# --8<-- [end:relu-forward]


@checks_dout
# --8<-- [start:relu-backward]
def relu_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """ReLU'(x) = 1 for x > 0, else 0 (we take 0 at the kink x = 0, as PyTorch does).

    Args:
        dout: upstream gradient, shape ``(*)``.
        cache: from :func:`relu_forward`.

    Returns:
        dx, shape ``(*)``.
    """
    (x,) = cache
    return dout * (x > 0)
# --8<-- [end:relu-backward]



@float_args("x")
# --8<-- [start:leaky-relu-forward]
def leaky_relu_forward(x: np.ndarray, negative_slope: float = 0.01) -> tuple[np.ndarray, tuple]:
    """Leaky ReLU: x for x > 0, ``negative_slope * x`` otherwise.

    Args:
        x: pre-activation, shape ``(*)``.
        negative_slope: slope γ for negative inputs (a fixed hyperparameter).

    Returns:
        ``(out, cache)``, ``out`` of shape ``(*)``.
    """
    out = np.maximum(x, 0) + negative_slope * np.minimum(x, 0)  # arithmetic, no np.where: faster
    return out, (x, negative_slope)
# --8<-- [end:leaky-relu-forward]


@checks_dout
# --8<-- [start:leaky-relu-backward]
def leaky_relu_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Derivative 1 for x > 0, γ otherwise.

    Args:
        dout: upstream gradient, shape ``(*)``.
        cache: from :func:`leaky_relu_forward`.

    Returns:
        dx, shape ``(*)``.
    """
    x, negative_slope = cache
    return dout * (x > 0) + negative_slope * dout * (x <= 0)
# --8<-- [end:leaky-relu-backward]


def _check_prelu_alpha(x: np.ndarray, alpha: np.ndarray) -> None:
    """Raise unless alpha has shape (1,) or (C,) for x of shape (N, C, *)."""
    if alpha.ndim != 1 or alpha.size not in (1, x.shape[1] if x.ndim >= 2 else 1):
        channels = x.shape[1] if x.ndim >= 2 else 1
        raise ValueError(
            f"prelu_forward: argument 'alpha' must have shape (1,) or (C,) = ({channels},) "
            f"for x of shape {x.shape}; got shape {alpha.shape}"
        )


# --8<-- [start:prelu-alpha-view]
def _alpha_view(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Reshape alpha (C,) so it broadcasts along axis 1 of x (N, C, *)."""
    if alpha.size == 1 or x.ndim < 2:
        return alpha.reshape((1,) * x.ndim)
    return alpha.reshape((1, -1) + (1,) * (x.ndim - 2))
# --8<-- [end:prelu-alpha-view]


@float_args("x", "alpha", check=_check_prelu_alpha)
# --8<-- [start:prelu-forward]
def prelu_forward(x: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Parametric ReLU: like Leaky ReLU, but the slope α is learned.

    As ``torch.nn.PReLU``: one α shared by all channels, or one α per channel (axis 1).

    Args:
        x: pre-activation, shape ``(N, C, *)`` (or any shape when α has one entry).
        alpha: learned slopes, shape ``(1,)`` or ``(C,)``.

    Returns:
        ``(out, cache)``, ``out`` of the shape of x.
    """
    a = _alpha_view(alpha, x)
    out = np.where(x > 0, x, a * x)
    return out, (x, alpha)
# --8<-- [end:prelu-forward]


@checks_dout
# --8<-- [start:prelu-backward]
def prelu_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of PReLU with respect to the input and to α.

    Args:
        dout: upstream gradient, shape of x.
        cache: from :func:`prelu_forward`.

    Returns:
        ``(dx, dalpha)`` with the shapes of x and alpha.
    """
    x, alpha = cache
    a = _alpha_view(alpha, x)
    dx = dout * np.where(x > 0, 1.0, a)
    dalpha_full = dout * np.where(x > 0, 0.0, x)
    if alpha.size == 1 or x.ndim < 2:
        dalpha = np.array([dalpha_full.sum()])
    else:
        axes = (0,) + tuple(range(2, x.ndim))
        dalpha = dalpha_full.sum(axis=axes)  # (C,)
    return dx, dalpha.astype(alpha.dtype)
# --8<-- [end:prelu-backward]


@float_args("x")
# --8<-- [start:elu-forward]
def elu_forward(x: np.ndarray, alpha: float = 1.0) -> tuple[np.ndarray, tuple]:
    """Exponential linear unit: x for x > 0, α(eˣ − 1) otherwise.

    Args:
        x: pre-activation, shape ``(*)``.
        alpha: saturation value −α for x → −∞.

    Returns:
        ``(out, cache)``, ``out`` of shape ``(*)``.
    """
    neg = alpha * np.expm1(np.minimum(x, 0.0))  # exp only sees x <= 0: no overflow
    out = np.where(x > 0, x, neg)
    return out, (x, neg, alpha)
# --8<-- [end:elu-forward]


@checks_dout
# --8<-- [start:elu-backward]
def elu_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """ELU'(x) = 1 for x > 0, α eˣ = ELU(x) + α otherwise.

    Args:
        dout: upstream gradient, shape ``(*)``.
        cache: from :func:`elu_forward`.

    Returns:
        dx, shape ``(*)``.
    """
    x, neg, alpha = cache
    return dout * np.where(x > 0, 1.0, neg + alpha)
# --8<-- [end:elu-backward]



@float_args("x")
# --8<-- [start:swish-forward]
def swish_forward(x: np.ndarray, beta: float = 1.0) -> tuple[np.ndarray, tuple]:
    """Swish x·σ(βx); with β = 1 it is SiLU (``torch.nn.SiLU``).

    Args:
        x: pre-activation, shape ``(*)``.
        beta: fixed slope inside the gate σ(βx).

    Returns:
        ``(out, cache)``, ``out`` of shape ``(*)``.
    """
    e = np.exp(-np.abs(beta * x))
    gate = np.where(beta * x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))  # σ(βx), stable
    out = x * gate
    return out, (x, gate, beta)
# --8<-- [end:swish-forward]


@checks_dout
# --8<-- [start:swish-backward]
def swish_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """d/dx x·σ(βx) = σ(βx) + βx·σ(βx)(1 − σ(βx)).

    Args:
        dout: upstream gradient, shape ``(*)``.
        cache: from :func:`swish_forward`.

    Returns:
        dx, shape ``(*)``.
    """
    x, gate, beta = cache
    return dout * (gate + beta * x * gate * (1.0 - gate))
# --8<-- [end:swish-backward]


# --8<-- [start:erf]
# Chebyshev coefficients for erfc (Numerical Recipes, 3rd ed., §6.2.2): float64 accuracy.
_ERFC_COEFFS = (
    -1.3026537197817094, 6.4196979235649026e-1, 1.9476473204185836e-2, -9.561514786808631e-3,
    -9.46595344482036e-4, 3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5,
    -1.624290004647e-6, 1.303655835580e-6, 1.5626441722e-8, -8.5238095915e-8,
    6.529054439e-9, 5.059343495e-9, -9.91364156e-10, -2.27365122e-10,
    9.6467911e-11, 2.394038e-12, -6.886027e-12, 8.94487e-13,
    3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15,
    -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17,
)


def erf(x: np.ndarray) -> np.ndarray:
    """Error function, vectorised (NumPy has none; ``math.erf`` works on scalars only).

    Args:
        x: array of any shape ``(*)``.

    Returns:
        erf(x), shape ``(*)``, accurate to about 1e-16.
    """
    z = np.abs(x)
    t = 2.0 / (2.0 + z)
    ty = 4.0 * t - 2.0
    d = np.zeros_like(t)
    dd = np.zeros_like(t)
    for coeff in _ERFC_COEFFS[:0:-1]:  # Clenshaw recurrence
        d, dd = ty * d - dd + coeff, d
    erfc = t * np.exp(-z * z + 0.5 * (_ERFC_COEFFS[0] + ty * d) - dd)
    return np.sign(x) * (1.0 - erfc)
# --8<-- [end:erf]


def _check_gelu_mode(x: np.ndarray, approximate: str) -> None:
    """Raise unless approximate is one of F.gelu's modes."""
    if approximate not in ("none", "tanh"):
        raise ValueError(
            f"gelu_forward: argument 'approximate' must be 'none' or 'tanh'; got {approximate!r}"
        )


@float_args("x", check=_check_gelu_mode)
# --8<-- [start:gelu-forward]
def gelu_forward(x: np.ndarray, approximate: str = "none") -> tuple[np.ndarray, tuple]:
    """Gaussian error linear unit x·Φ(x), exact or with the tanh approximation.

    ``approximate="tanh"`` uses 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))), as ``F.gelu`` does.

    Args:
        x: pre-activation, shape ``(*)``.
        approximate: ``"none"`` (exact, uses erf) or ``"tanh"``.

    Returns:
        ``(out, cache)``, ``out`` of shape ``(*)``.
    """
    if approximate == "tanh":
        k = math.sqrt(2.0 / math.pi)
        inner = k * (x + 0.044715 * x**3)
        th = np.tanh(inner)
        out = 0.5 * x * (1.0 + th)
        return out, (x, th, approximate)
    cdf = 0.5 * (1.0 + erf(x / math.sqrt(2.0)))  # Φ(x)
    out = x * cdf
    return out, (x, cdf, approximate)
# --8<-- [end:gelu-forward]


@checks_dout
# --8<-- [start:gelu-backward]
def gelu_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """GELU'(x) = Φ(x) + x·φ(x) (exact) or the derivative of the tanh form.

    Args:
        dout: upstream gradient, shape ``(*)``.
        cache: from :func:`gelu_forward`.

    Returns:
        dx, shape ``(*)``.
    """
    x, saved, approximate = cache
    if approximate == "tanh":
        k = math.sqrt(2.0 / math.pi)
        th = saved
        dinner = k * (1.0 + 3 * 0.044715 * x**2)
        return dout * (0.5 * (1.0 + th) + 0.5 * x * (1.0 - th**2) * dinner)
    pdf = np.exp(-0.5 * x**2) / math.sqrt(2.0 * math.pi)  # φ(x)
    return dout * (saved + x * pdf)
# --8<-- [end:gelu-backward]
