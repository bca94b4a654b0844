"""Convolution: 1-D narrow/wide/same, 2-D im2col with stride, padding, dilation and groups, transposed.

Weights use PyTorch's layouts: ``Conv2d`` weights are ``(C_out, C_in / groups, kH, kW)``, images NCHW.
"""

from __future__ import annotations

from typing import Any

from n2t._validate import checks_dout, describe, float_args
from n2t.numpy.module import Module

# --8<-- [start:imports]
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
# --8<-- [end:imports]

__all__ = [
    "conv_output_size", "conv1d", "conv2d_forward", "conv2d_backward",
    "conv_transpose2d_forward", "conv_transpose2d_backward", "Conv2d",
]

Pair = tuple[int, int]


# --8<-- [start:as-pair]
def _as_pair(value) -> tuple[int, int]:
    """``3`` → ``(3, 3)``; ``(3, 5)`` stays ``(3, 5)``."""
    return (int(value), int(value)) if np.ndim(value) == 0 else (int(value[0]), int(value[1]))
# --8<-- [end:as-pair]


def _pair(name: str, value, where: str, minimum: int) -> Pair:
    """Like :func:`_as_pair`, but raise unless ``value`` is an int ≥ ``minimum`` or a pair of them."""
    entries = [value] if np.ndim(value) == 0 else list(value)
    if len(entries) not in (1, 2) or not all(isinstance(v, (int, np.integer)) and v >= minimum for v in entries):
        raise ValueError(f"{where}: argument '{name}' must be an int ≥ {minimum} or a pair of them; got {value!r}")
    return _as_pair(value)


# --8<-- [start:conv-output-size]
def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length along one axis: ⌊(M + 2P − K′) / S⌋ + 1 with K′ = K + (K − 1)(D − 1).

    Args:
        size: input length M.
        kernel_size: K.
        stride: S.
        padding: P zeros added on each side.
        dilation: D (D − 1 gaps between kernel taps).
    """
    effective = kernel_size + (kernel_size - 1) * (dilation - 1)  # K′
    return (size + 2 * padding - effective) // stride + 1
# --8<-- [end:conv-output-size]


def _check_conv1d(x: np.ndarray, w: np.ndarray, mode: str = "narrow") -> None:
    if x.ndim != 1 or w.ndim != 1:
        raise ValueError(f"conv1d: arguments 'x' and 'w' must be 1-D; got shapes {x.shape} and {w.shape}")
    if mode not in ("narrow", "wide", "same"):
        raise ValueError(f"conv1d: argument 'mode' must be 'narrow', 'wide' or 'same'; got {mode!r}")
    if mode == "narrow" and w.size > x.size:
        raise ValueError(f"conv1d: a narrow convolution needs len(w) ≤ len(x); got K = {w.size} > M = {x.size}")


@float_args("x", "w", check=_check_conv1d)
# --8<-- [start:conv1d]
def conv1d(x: np.ndarray, w: np.ndarray, mode: str = "narrow") -> np.ndarray:
    """1-D convolution y_t = Σ_k w_k · x_{t−k} (the kernel is flipped, as in signal processing).

    Args:
        x: signal, shape ``(M,)``.
        w: kernel, shape ``(K,)``.
        mode: ``"narrow"`` (no padding, length M − K + 1), ``"wide"`` (K − 1 zeros on each side,
            length M + K − 1) or ``"same"`` (length M, the centre of the wide result).

    Returns:
        y, shape ``(M − K + 1,)``, ``(M + K − 1,)`` or ``(M,)``.
    """
    k = len(w)
    padded = np.pad(x, k - 1)  # the wide convolution sees K − 1 zeros on each side
    windows = sliding_window_view(padded, k)  # (M + K − 1, K)
    wide = windows @ w[::-1]
    if mode == "wide":
        return wide
    if mode == "narrow":
        return wide[k - 1 : len(x)]
    start = (k - 1) // 2
    return wide[start : start + len(x)]
# --8<-- [end:conv1d]


def _check_conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride=1, padding=0, dilation=1,
                  groups: int = 1) -> None:
    """Raise a clear error for inputs ``conv2d_forward`` cannot combine."""
    where = "conv2d_forward"
    if x.ndim != 4:
        raise ValueError(f"{where}: argument 'x' must be 4-D with shape (N, C, H, W); got shape {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"{where}: argument 'w' must be 4-D with shape (C_out, C_in/groups, kH, kW); got {w.shape}")
    if not isinstance(groups, (int, np.integer)) or groups < 1 or x.shape[1] % groups or w.shape[0] % groups:
        raise ValueError(f"{where}: argument 'groups' must divide C_in = {x.shape[1]} and C_out = {w.shape[0]}; "
                         f"got {groups!r}")
    if w.shape[1] * groups != x.shape[1]:
        raise ValueError(f"{where}: x has C_in = {x.shape[1]} channels but w of shape {w.shape} expects "
                         f"{w.shape[1]} × groups {groups} = {w.shape[1] * groups}")
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"{where}: argument 'b' must have shape (C_out,) = ({w.shape[0]},); got {b.shape}")
    _pair("stride", stride, where, 1)
    (ph, pw), (dh, dw) = _pair("padding", padding, where, 0), _pair("dilation", dilation, where, 1)
    for axis, size, k, p, d in (("height", x.shape[2], w.shape[2], ph, dh), ("width", x.shape[3], w.shape[3], pw, dw)):
        effective = k + (k - 1) * (d - 1)
        if effective > size + 2 * p:
            raise ValueError(f"{where}: kernel {axis} {k} (dilated to {effective}) is larger than the padded input "
                             f"{axis} {size} + 2·{p} = {size + 2 * p}")


# --8<-- [start:windows]
def _windows(x: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple) -> np.ndarray:
    """Every kernel-sized window of a padded channels-last input ``(N, H, W, C)``.

    Returns a view (no copy) of shape ``(N, H′, W′, kH, kW, C)``.
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    span_h, span_w = kh + (kh - 1) * (dh - 1), kw + (kw - 1) * (dw - 1)  # dilated kernel size K′
    view = sliding_window_view(x, (span_h, span_w), axis=(1, 2))  # (N, H′₁, W′₁, C, span_h, span_w)
    return view[:, ::sh, ::sw, :, ::dh, ::dw].transpose(0, 1, 2, 4, 5, 3)
# --8<-- [end:windows]


@float_args("x", "w", "b", check=_check_conv2d)
# --8<-- [start:conv2d-forward]
def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride=1, padding=0,
                   dilation=1, groups: int = 1) -> tuple[np.ndarray, tuple]:
    """2-D convolution (cross-correlation, as ``torch.nn.functional.conv2d``) by im2col.

    Args:
        x: images, shape ``(N, C_in, H, W)``.
        w: kernels, shape ``(C_out, C_in / groups, kH, kW)``.
        b: bias, shape ``(C_out,)``, or None.
        stride: S, an int or an ``(h, w)`` pair (default 1).
        padding: P zeros on each side, an int or a pair.
        dilation: D, spacing of the kernel taps, an int or a pair.
        groups: G; input and output channels split into G groups that do not see each other.

    Returns:
        ``(out, cache)``: ``out`` has shape ``(N, C_out, H′, W′)``.
    """
    stride, padding, dilation = _as_pair(stride), _as_pair(padding), _as_pair(dilation)
    n, c_out, kh, kw = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    (ph, pw), c_group = padding, w.shape[1]
    x_padded = np.pad(x.transpose(0, 2, 3, 1), ((0, 0), (ph, ph), (pw, pw), (0, 0)))  # (N, H+2P, W+2P, C_in)
    windows = _windows(x_padded, (kh, kw), stride, dilation)  # (N, H′, W′, kH, kW, C_in), a view
    h_out, w_out = windows.shape[1:3]
    # im2col: one row per output pixel, one column per (kernel tap, input channel) of each group
    windows = windows.reshape(n, h_out, w_out, kh, kw, groups, c_group).transpose(0, 1, 2, 5, 3, 4, 6)
    cols = windows.reshape(n, h_out * w_out, groups, kh * kw * c_group)  # (N, H′W′, G, kH·kW·C_in/G)
    w_rows = w.transpose(0, 2, 3, 1).reshape(groups, c_out // groups, -1)  # (G, C_out/G, kH·kW·C_in/G)
    out = np.matmul(w_rows, cols.transpose(0, 2, 3, 1))  # (N, G, C_out/G, H′W′)
    out = out.reshape(n, c_out, h_out, w_out)
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out, (out, cols, x.shape, w, b is not None, stride, padding, dilation, groups)
# --8<-- [end:conv2d-forward]


# --8<-- [start:col2im]
def _col2im(dcols: np.ndarray, shape: tuple, stride: tuple, padding: tuple, dilation: tuple) -> np.ndarray:
    """Scatter-add window gradients ``(N, kH, kW, C, H′, W′)`` back onto an input of shape ``(N, C, H, W)``."""
    n, c, h, w = shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    kh, kw, _, h_out, w_out = dcols.shape[1:]
    dx = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=dcols.dtype)
    for i in range(kh):  # one strided add per kernel tap: overlapping windows accumulate
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (h_out - 1) + 1, sh)
            columns = slice(j * dw, j * dw + sw * (w_out - 1) + 1, sw)
            dx[:, :, rows, columns] += dcols[:, i, j]
    return dx[:, :, ph : ph + h, pw : pw + w]
# --8<-- [end:col2im]


@checks_dout
# --8<-- [start:conv2d-backward]
def conv2d_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`conv2d_forward`.

    Args:
        dout: upstream gradient, shape ``(N, C_out, H′, W′)``.
        cache: from :func:`conv2d_forward`.

    Returns:
        ``(dx, dw, db)`` with the shapes of x, w and b (``db`` is None without bias).
    """
    _, cols, x_shape, w, has_bias, stride, padding, dilation, groups = cache
    n, c_out, h_out, w_out = dout.shape
    c_group, kh, kw = w.shape[1:]
    d_rows = dout.reshape(n, groups, c_out // groups, h_out * w_out)  # (N, G, C_out/G, H′W′)
    dw = np.matmul(d_rows, cols.transpose(0, 2, 1, 3)).sum(axis=0)  # (G, C_out/G, kH·kW·C_in/G)
    dw = dw.reshape(c_out, kh, kw, c_group).transpose(0, 3, 1, 2)
    w_rows = w.transpose(0, 2, 3, 1).reshape(groups, c_out // groups, -1)
    dcols = np.matmul(w_rows.transpose(0, 2, 1), d_rows)  # (N, G, kH·kW·C_in/G, H′W′)
    dcols = dcols.reshape(n, groups, kh, kw, c_group, h_out, w_out).transpose(0, 2, 3, 1, 4, 5, 6)
    dx = _col2im(dcols.reshape(n, kh, kw, -1, h_out, w_out), x_shape, stride, padding, dilation)
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return dx, dw, db
# --8<-- [end:conv2d-backward]


def _check_conv_transpose(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride=1, padding=0,
                          output_padding=0, dilation=1) -> None:
    where = "conv_transpose2d_forward"
    if x.ndim != 4 or w.ndim != 4 or x.shape[1] != w.shape[0]:
        raise ValueError(f"{where}: x must be (N, C_in, H, W) and w (C_in, C_out, kH, kW) with the same C_in; "
                         f"got x {x.shape} and w {w.shape}")
    if b is not None and b.shape != (w.shape[1],):
        raise ValueError(f"{where}: argument 'b' must have shape (C_out,) = ({w.shape[1]},); got {b.shape}")
    (sh, sw), (dh, dw) = _pair("stride", stride, where, 1), _pair("dilation", dilation, where, 1)
    _pair("padding", padding, where, 0)
    oh, ow = _pair("output_padding", output_padding, where, 0)
    if oh >= max(sh, dh) or ow >= max(sw, dw):
        raise ValueError(f"{where}: argument 'output_padding' must be smaller than stride or dilation; "
                         f"got {output_padding!r} with stride {stride!r}, dilation {dilation!r}")


@float_args("x", "w", "b", check=_check_conv_transpose)
# --8<-- [start:conv-transpose2d-forward]
def conv_transpose2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride=1, padding=0,
                             output_padding=0, dilation=1) -> tuple[np.ndarray, tuple]:
    """Transposed convolution (as ``torch.nn.functional.conv_transpose2d``): each input pixel paints a
    weighted copy of the kernel onto the output — the backward pass of a convolution with respect to x.

    Args:
        x: shape ``(N, C_in, H, W)``.
        w: shape ``(C_in, C_out, kH, kW)`` (PyTorch's layout for transposed convolution).
        b: bias ``(C_out,)`` or None.
        stride: S, an int or an ``(h, w)`` pair (default 1).
        padding: P zeros on each side, an int or a pair.
        output_padding: extra rows/columns added on one side of the output, an int or a pair.
        dilation: D, spacing of the kernel taps, an int or a pair.

    Returns:
        ``(out, cache)``, ``out`` of shape ``(N, C_out, H_out, W_out)`` with
        H_out = (H − 1)·S − 2P + D·(K − 1) + output_padding + 1.
    """
    stride, padding, dilation = _as_pair(stride), _as_pair(padding), _as_pair(dilation)
    extra = _as_pair(output_padding)
    n, c_in, h, wid = x.shape
    c_out, kh, kw = w.shape[1:]
    size = [(i - 1) * s - 2 * p + d * (k - 1) + o + 1
            for i, s, p, d, k, o in zip((h, wid), stride, padding, dilation, (kh, kw), extra)]
    dcols = np.tensordot(w, x, axes=([0], [1]))  # (C_out, kH, kW, N, H, W)
    out = _col2im(dcols.transpose(3, 1, 2, 0, 4, 5), (n, c_out, *size), stride, padding, dilation)
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
    return out, (out, x, w, b is not None, stride, padding, dilation)
# --8<-- [end:conv-transpose2d-forward]


@checks_dout
def conv_transpose2d_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`conv_transpose2d_forward`: ``dx`` is a plain convolution of ``dout``.

    Args:
        dout: upstream gradient, shape ``(N, C_out, H_out, W_out)``.
        cache: from :func:`conv_transpose2d_forward`.

    Returns:
        ``(dx, dw, db)`` with the shapes of x, w and b.
    """
    _, x, w, has_bias, stride, padding, dilation = cache
    n, c_in, h, wid = x.shape
    d_padded = np.pad(dout.transpose(0, 2, 3, 1), ((0, 0), (padding[0],) * 2, (padding[1],) * 2, (0, 0)))
    windows = _windows(d_padded, w.shape[2:], stride, dilation)[:, :h, :wid]  # (N, H, W, kH, kW, C_out)
    dx = np.einsum("nhwijo,coij->nchw", windows, w, optimize=True)
    dw = np.einsum("nchw,nhwijo->coij", x, windows, optimize=True)
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return dx, dw, db


class Conv2d(Module):
    """A 2-D convolution layer with PyTorch's default initialisation U(−1/√fan_in, 1/√fan_in).

    Args:
        in_channels: C_in.
        out_channels: C_out.
        kernel_size: K or ``(kH, kW)``.
        stride: S, an int or an ``(h, w)`` pair (default 1).
        padding: P zeros on each side, an int or a pair.
        dilation: D, spacing of the kernel taps, an int or a pair.
        groups: G.
        bias: whether to learn a bias ``(C_out,)``.
        rng: ``np.random.Generator`` for the initial weights.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        kh, kw = _pair("kernel_size", kernel_size, "Conv2d", 1)
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, (int, np.integer)) or value < 1 or value % groups:
                raise ValueError(f"Conv2d: argument '{name}' must be a positive multiple of groups = {groups}; "
                                 f"got {describe(value)}")
        self.settings: dict[str, Any] = {"in_channels": int(in_channels), "out_channels": int(out_channels),
                         "kernel_size": [kh, kw], "stride": list(_pair("stride", stride, "Conv2d", 1)),
                         "padding": list(_pair("padding", padding, "Conv2d", 0)),
                         "dilation": list(_pair("dilation", dilation, "Conv2d", 1)), "groups": int(groups),
                         "bias": bool(bias)}
        rng = rng if rng is not None else np.random.default_rng()
        fan_in = in_channels // groups * kh * kw
        bound = 1.0 / np.sqrt(fan_in)
        self.params["W"] = rng.uniform(-bound, bound, (out_channels, in_channels // groups, kh, kw))
        if bias:
            self.params["b"] = rng.uniform(-bound, bound, out_channels)
        self.zero_grad()
        self._cache: tuple | None = None

    def _options(self) -> dict:
        s = self.settings
        return {"stride": tuple(s["stride"]), "padding": tuple(s["padding"]), "dilation": tuple(s["dilation"]),
                "groups": s["groups"]}

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Args: x, shape ``(N, C_in, H, W)``. Returns: ``(N, C_out, H′, W′)``."""
        out, self._cache = conv2d_forward(x, self.params["W"], self.params.get("b"), **self._options())
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Fill ``grads`` and return ∂L/∂x."""
        if self._cache is None:
            raise RuntimeError("Conv2d.backward needs a forward pass first")
        dx, self.grads["W"], db = conv2d_backward(dout, self._cache)
        if db is not None:
            self.grads["b"] = db
        return dx

    def config(self) -> dict:
        return dict(self.settings)
