"""Convolution and pooling from torch primitives (``unfold`` = im2col, then a matrix product).

Autograd provides the backward passes; the tests check these against ``F.conv2d``, ``F.max_pool2d`` and
``F.avg_pool2d``. Layouts are PyTorch's: weights ``(C_out, C_in / groups, kH, kW)``, images NCHW.
"""

from __future__ import annotations

import functools
from typing import Any

# --8<-- [start:imports]
import math

import torch
import torch.nn.functional as F
from torch import nn
# --8<-- [end:imports]

__all__ = ["conv2d", "Conv2d", "max_pool2d", "avg_pool2d", "MaxPool2d", "AvgPool2d"]


# --8<-- [start:pair]
def _pair(value) -> tuple[int, int]:
    """``3`` → ``(3, 3)``; ``(3, 5)`` stays ``(3, 5)``."""
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]), int(value[1]))
# --8<-- [end:pair]


def _check_conv(x: Any, weight: Any, bias: Any, groups: int) -> None:
    for name, value, ndim in (("x", x, 4), ("weight", weight, 4)):
        if not isinstance(value, torch.Tensor) or value.ndim != ndim or not value.is_floating_point():
            got = f"{value.dtype} tensor of shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else value
            raise ValueError(f"conv2d: argument '{name}' must be a 4-D floating tensor; got {got!r:.80}")
    if x.shape[1] != weight.shape[1] * groups or weight.shape[0] % groups:
        raise ValueError(f"conv2d: x has C_in = {x.shape[1]} channels but weight of shape {tuple(weight.shape)} "
                         f"with groups = {groups} expects {weight.shape[1] * groups}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"conv2d: argument 'bias' must have shape ({weight.shape[0]},); got {tuple(bias.shape)}")


def _check_fits(x: torch.Tensor, kernel: tuple[int, int], padding: tuple[int, int], dilation: tuple[int, int],
                where: str) -> None:
    for axis, size, k, p, d in zip(("height", "width"), x.shape[2:], kernel, padding, dilation):
        if k + (k - 1) * (d - 1) > size + 2 * p:
            raise ValueError(f"{where}: kernel {axis} {k} (dilation {d}) is larger than the padded input "
                             f"{axis} {size} + 2·{p}")


def _checks_conv(fn):
    @functools.wraps(fn)
    def wrapper(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        _check_conv(x, weight, bias, groups)
        _check_fits(x, tuple(weight.shape[2:]), _pair(padding), _pair(dilation), "conv2d")
        return fn(x, weight, bias, stride, padding, dilation, groups)
    return wrapper


@_checks_conv
# --8<-- [start:conv2d]
def conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> torch.Tensor:
    """2-D convolution (cross-correlation) as im2col + matrix product, like ``F.conv2d``.

    Args:
        x: ``(N, C_in, H, W)``.
        weight: ``(C_out, C_in / groups, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride: S, an int or an ``(h, w)`` pair (default 1).
        padding: P zeros on each side, an int or a pair.
        dilation: D, spacing of the kernel taps, an int or a pair.
        groups: G.

    Returns:
        ``(N, C_out, H′, W′)``.
    """
    n, _, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    h_out = (h + 2 * ph - (kh + (kh - 1) * (dh - 1))) // sh + 1
    w_out = (w + 2 * pw - (kw + (kw - 1) * (dw - 1))) // sw + 1
    cols = F.unfold(x, (kh, kw), dilation=(dh, dw), padding=(ph, pw), stride=(sh, sw))  # (N, C_in·kH·kW, L)
    cols = cols.view(n, groups, -1, h_out * w_out)  # (N, G, C_in/G·kH·kW, L)
    out = weight.view(groups, c_out // groups, -1) @ cols  # (N, G, C_out/G, L)
    out = out.view(n, c_out, h_out, w_out)
    return out if bias is None else out + bias.view(1, -1, 1, 1)
# --8<-- [end:conv2d]


# --8<-- [start:conv2d-module]
class Conv2d(nn.Module):
    """Convolution layer with ``nn.Conv2d``'s parameters and initialisation, computed by :func:`conv2d`.

    Args:
        in_channels: C_in.
        out_channels: C_out.
        kernel_size: K or ``(kH, kW)``.
        stride: S, an int or an ``(h, w)`` pair (default 1).
        padding: P zeros on each side, an int or a pair.
        dilation: D, spacing of the kernel taps, an int or a pair.
        groups: G.
        bias: whether to learn a bias.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True) -> None:
        super().__init__()
        kh, kw = _pair(kernel_size)
        self.options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups, kh, kw))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        bound = 1 / math.sqrt(in_channels // groups * kh * kw)  # U(−1/√fan_in, 1/√fan_in), as nn.Conv2d
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, ``(N, C_in, H, W)``. Returns: ``(N, C_out, H′, W′)``."""
        return conv2d(x, self.weight, self.bias, **self.options)
# --8<-- [end:conv2d-module]

    def extra_repr(self) -> str:
        return f"{self.weight.shape[1] * self.options['groups']}, {self.weight.shape[0]}, " \
               f"kernel_size={tuple(self.weight.shape[2:])}, {self.options}"


def _check_pool(x: Any, kernel_size: Any, padding: Any, where: str) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(f"{where}: argument 'x' must be a 4-D tensor (N, C, H, W); got {x!r:.80}")
    k, p = _pair(kernel_size), _pair(padding)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{where}: argument 'padding' must be at most half the kernel size {k}; got {padding!r}")
    _check_fits(x, k, p, (1, 1), where)


def _checks_pool(fn):
    @functools.wraps(fn)
    def wrapper(x, kernel_size, stride=None, padding=0):
        _check_pool(x, kernel_size, padding, fn.__name__)
        return fn(x, kernel_size, stride, padding)
    return wrapper


# --8<-- [start:pool-windows]
def _windows(x: torch.Tensor, kernel_size, stride, padding, fill: float) -> torch.Tensor:
    """Every pooling window as a column: ``(N, C, kH·kW, H′, W′)``."""
    n, c, h, w = x.shape
    (kh, kw), (ph, pw) = _pair(kernel_size), _pair(padding)
    sh, sw = _pair(kernel_size if stride is None else stride)
    x = F.pad(x, (pw, pw, ph, ph), value=fill)
    h_out, w_out = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    cols = F.unfold(x, (kh, kw), stride=(sh, sw))  # (N, C·kH·kW, L)
    return cols.view(n, c, kh * kw, h_out, w_out)
# --8<-- [end:pool-windows]


@_checks_pool
# --8<-- [start:max-pool2d]
def max_pool2d(x: torch.Tensor, kernel_size, stride=None, padding=0) -> torch.Tensor:
    """Max pooling (padding counts as −∞); autograd sends each window's gradient to its maximum."""
    return _windows(x, kernel_size, stride, padding, -math.inf).max(dim=2).values
# --8<-- [end:max-pool2d]


@_checks_pool
# --8<-- [start:avg-pool2d]
def avg_pool2d(x: torch.Tensor, kernel_size, stride=None, padding=0) -> torch.Tensor:
    """Average pooling (zero padding counted in the mean, as ``F.avg_pool2d``'s default)."""
    return _windows(x, kernel_size, stride, padding, 0.0).mean(dim=2)
# --8<-- [end:avg-pool2d]


class _Pool2d(nn.Module):
    pool = staticmethod(max_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        _check_pool(torch.empty(1, 1, 2**16, 2**16, device="meta"), kernel_size, padding, type(self).__name__)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, ``(N, C, H, W)``. Returns: ``(N, C, H′, W′)``."""
        return type(self).pool(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max pooling layer (stride defaults to the kernel size)."""


class AvgPool2d(_Pool2d):
    """Average pooling layer (stride defaults to the kernel size)."""

    pool = staticmethod(avg_pool2d)
