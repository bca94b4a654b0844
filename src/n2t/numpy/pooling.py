"""Max and average pooling (forward and backward) by strided slices, plus the ``Flatten`` layer.

One strided slice per kernel position: a K×K pool is K² whole-array ``np.maximum`` (or ``+``) calls, with no
window copies, which is why it runs as fast as PyTorch's own kernel on a CPU.
"""

from __future__ import annotations

from typing import Any

from n2t._validate import checks_dout, float_args
from n2t.numpy.conv import _pair
from n2t.numpy.module import Module

# --8<-- [start:imports]
import numpy as np
# --8<-- [end:imports]

__all__ = ["max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
           "MaxPool2d", "AvgPool2d", "Flatten"]


def _check_pool(x: np.ndarray, kernel_size, stride=None, padding=0) -> None:
    where = "pool2d"
    if x.ndim != 4:
        raise ValueError(f"{where}: argument 'x' must be 4-D with shape (N, C, H, W); got shape {x.shape}")
    k = _pair("kernel_size", kernel_size, where, 1)
    _pair("stride", stride if stride is not None else kernel_size, where, 1)
    p = _pair("padding", padding, where, 0)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{where}: argument 'padding' must be at most half the kernel size {k}; got {padding!r}")
    for axis, size, kk, pp in (("height", x.shape[2], k[0], p[0]), ("width", x.shape[3], k[1], p[1])):
        if kk > size + 2 * pp:
            raise ValueError(f"{where}: kernel {axis} {kk} is larger than the padded input {axis} {size + 2 * pp}")


# --8<-- [start:pool-slices]
def _pool_slices(shape: tuple, kernel: tuple, stride: tuple):
    """For each kernel position (i, j): the strided slice of the input that position sees in every window."""
    h_out = (shape[2] - kernel[0]) // stride[0] + 1
    w_out = (shape[3] - kernel[1]) // stride[1] + 1
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            yield (slice(None), slice(None), slice(i, i + stride[0] * (h_out - 1) + 1, stride[0]),
                   slice(j, j + stride[1] * (w_out - 1) + 1, stride[1]))
# --8<-- [end:pool-slices]


# --8<-- [start:pool-args]
def _pool_args(kernel_size, stride, padding) -> tuple[tuple, tuple, tuple]:
    """Ints become ``(h, w)`` pairs; the stride defaults to the kernel size (windows do not overlap)."""
    pair = lambda v: (int(v), int(v)) if np.ndim(v) == 0 else (int(v[0]), int(v[1]))  # noqa: E731
    return pair(kernel_size), pair(kernel_size if stride is None else stride), pair(padding)
# --8<-- [end:pool-args]


@float_args("x", check=_check_pool)
# --8<-- [start:max-pool2d-forward]
def max_pool2d_forward(x: np.ndarray, kernel_size, stride=None, padding=0) -> tuple[np.ndarray, tuple]:
    """Max pooling, as ``torch.nn.functional.max_pool2d`` (padding counts as −∞).

    Args:
        x: shape ``(N, C, H, W)``.
        kernel_size: K or ``(kH, kW)``.
        stride: S or a pair; default K.
        padding: P or a pair (at most K/2).

    Returns:
        ``(out, cache)``, ``out`` of shape ``(N, C, H′, W′)``.
    """
    kernel, stride, padding = _pool_args(kernel_size, stride, padding)
    x_padded = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2), constant_values=-np.inf)
    slices = list(_pool_slices(x_padded.shape, kernel, stride))
    out = x_padded[slices[0]].copy()
    for window_position in slices[1:]:
        np.maximum(out, x_padded[window_position], out=out)
    return out, (out, x_padded, slices, padding)
# --8<-- [end:max-pool2d-forward]


@checks_dout
# --8<-- [start:max-pool2d-backward]
def max_pool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Route each window's gradient to its maximum (the first one in row-major order when tied).

    Args:
        dout: shape ``(N, C, H′, W′)``.
        cache: from :func:`max_pool2d_forward`.

    Returns:
        dx, the shape of x.
    """
    out, x_padded, slices, (ph, pw) = cache
    dx = np.zeros_like(x_padded)
    unclaimed = np.ones(out.shape, dtype=bool)  # windows whose maximum has not been found yet
    for window_position in slices:
        is_max = (x_padded[window_position] == out) & unclaimed
        dx[window_position] += dout * is_max
        unclaimed &= ~is_max
    return dx[:, :, ph : dx.shape[2] - ph, pw : dx.shape[3] - pw]
# --8<-- [end:max-pool2d-backward]


@float_args("x", check=_check_pool)
# --8<-- [start:avg-pool2d-forward]
def avg_pool2d_forward(x: np.ndarray, kernel_size, stride=None, padding=0) -> tuple[np.ndarray, tuple]:
    """Average pooling, as ``torch.nn.functional.avg_pool2d`` (zero padding counted in the mean).

    Args:
        x: shape ``(N, C, H, W)``.
        kernel_size: K or ``(kH, kW)``.
        stride: S or a pair; default K.
        padding: P or a pair (at most K/2).

    Returns:
        ``(out, cache)``, ``out`` of shape ``(N, C, H′, W′)``.
    """
    kernel, stride, padding = _pool_args(kernel_size, stride, padding)
    x_padded = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    slices = list(_pool_slices(x_padded.shape, kernel, stride))
    out = sum(x_padded[window_position] for window_position in slices) / len(slices)
    return out, (out, x_padded.shape, slices, padding)
# --8<-- [end:avg-pool2d-forward]


@checks_dout
# --8<-- [start:avg-pool2d-backward]
def avg_pool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Every input in a window receives an equal share 1/(kH·kW) of the window's gradient.

    Args:
        dout: shape ``(N, C, H′, W′)``.
        cache: from :func:`avg_pool2d_forward`.

    Returns:
        dx, the shape of x.
    """
    _, padded_shape, slices, (ph, pw) = cache
    dx = np.zeros(padded_shape, dtype=dout.dtype)
    share = dout / len(slices)
    for window_position in slices:
        dx[window_position] += share
    return dx[:, :, ph : padded_shape[2] - ph, pw : padded_shape[3] - pw]
# --8<-- [end:avg-pool2d-backward]


class _Pool2d(Module):
    _forward = staticmethod(max_pool2d_forward)
    _backward = staticmethod(max_pool2d_backward)

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        name = type(self).__name__
        self.settings: dict[str, Any] = {"kernel_size": list(_pair("kernel_size", kernel_size, name, 1)),
                         "stride": list(_pair("stride", kernel_size if stride is None else stride, name, 1)),
                         "padding": list(_pair("padding", padding, name, 0))}
        self._cache: tuple | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Args: x, shape ``(N, C, H, W)``. Returns: ``(N, C, H′, W′)``."""
        out, self._cache = type(self)._forward(x, **{k: tuple(v) for k, v in self.settings.items()})
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return ∂L/∂x (a pooling layer has no parameters)."""
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward needs a forward pass first")
        return type(self)._backward(dout, self._cache)

    def config(self) -> dict:
        return dict(self.settings)


class MaxPool2d(_Pool2d):
    """Max pooling layer. Args: ``kernel_size``, ``stride`` (default: the kernel size), ``padding``."""


class AvgPool2d(_Pool2d):
    """Average pooling layer. Args: ``kernel_size``, ``stride`` (default: the kernel size), ``padding``."""

    _forward = staticmethod(avg_pool2d_forward)
    _backward = staticmethod(avg_pool2d_backward)


class Flatten(Module):
    """``(N, C, H, W)`` → ``(N, C·H·W)``, the bridge from convolutional to fully connected layers."""

    def __init__(self) -> None:
        super().__init__()
        self._shape: tuple | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self._shape is None:
            raise RuntimeError("Flatten.backward needs a forward pass first")
        return dout.reshape(self._shape)
