"""A tiny SegNet: an encoder-decoder whose decoder upsamples with the encoder's max-pooling indices.

Plus the two usual segmentation metrics, pixel accuracy and mean intersection over union.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

# --8<-- [start:imports]
import torch
from torch import nn
# --8<-- [end:imports]

__all__ = ["EncoderBlock", "DecoderBlock", "SegNet", "pixel_accuracy", "class_iou", "mean_iou"]

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=nn.Module)


def _checked_segnet(cls: type[M]) -> type[M]:
    """Class decorator: validate SegNet's constructor arguments and its input."""
    init, forward = cls.__init__, cls.forward

    @functools.wraps(init)
    def checked_init(self: Any, in_channels: int = 1, classes: int = 4, widths: Any = (16, 32, 64)) -> None:
        for name, value, minimum in (("in_channels", in_channels, 1), ("classes", classes, 2)):
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"SegNet: argument '{name}' must be an int >= {minimum}; got {value!r}")
        if not isinstance(widths, (tuple, list)) or not widths or not all(
                isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in widths):
            raise ValueError(f"SegNet: argument 'widths' must be a non-empty tuple of positive ints; got {widths!r}")
        init(self, in_channels, classes, tuple(widths))

    @functools.wraps(forward)
    def checked_forward(self: Any, x: Any) -> Any:
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise TypeError(f"SegNet: argument 'x' must be a floating-point torch.Tensor; got "
                            f"{getattr(x, 'dtype', type(x).__name__)}")
        smallest = 2 ** len(self.encoder)
        if x.dim() != 4 or x.shape[1] != self.in_channels or min(x.shape[2:]) < smallest:
            raise ValueError(f"SegNet: argument 'x' must have shape (N, {self.in_channels}, H, W) with H, W >= "
                             f"{smallest} (one halving per encoder block); got shape {tuple(x.shape)}")
        return forward(self, x)

    cls.__init__ = checked_init  # type: ignore[method-assign]
    cls.forward = checked_forward  # type: ignore[method-assign]
    return cls


def _checked_labels(fn: F) -> F:
    """Decorator for metrics ``(prediction, target[, classes])``: integer label maps of one shape."""

    @functools.wraps(fn)
    def wrapper(prediction: Any, target: Any, *args: Any) -> Any:
        where = fn.__name__
        for name, value in (("prediction", prediction), ("target", target)):
            if not isinstance(value, torch.Tensor) or value.is_floating_point() or value.is_complex():
                raise TypeError(f"{where}: argument '{name}' must be an integer torch.Tensor of class indices "
                                f"(take logits.argmax(1)); got {getattr(value, 'dtype', type(value).__name__)}")
        if prediction.shape != target.shape or prediction.numel() == 0:
            raise ValueError(f"{where}: arguments 'prediction' and 'target' must have the same non-empty shape "
                             f"(N, H, W); got {tuple(prediction.shape)} and {tuple(target.shape)}")
        if args:
            classes = args[0]
            if isinstance(classes, bool) or not isinstance(classes, int) or classes < 1:
                raise ValueError(f"{where}: argument 'classes' must be an int >= 1; got {classes!r}")
            for name, value in (("prediction", prediction), ("target", target)):
                if bool((value < 0).any()) or bool((value >= classes).any()):
                    raise ValueError(f"{where}: argument '{name}' must hold classes in [0, {classes}); "
                                     f"got {int(value.min())}..{int(value.max())}")
        return fn(prediction, target, *args)

    return wrapper  # type: ignore[return-value]


# --8<-- [start:segnet-blocks]
class EncoderBlock(nn.Module):
    """3×3 conv → batch norm → ReLU, then 2×2 max pooling that also returns where each maximum was.

    Args:
        in_channels: C_in.
        out_channels: C_out.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )
        self.pool = nn.MaxPool2d(2, return_indices=True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Args: x ``(N, C_in, H, W)``. Returns: pooled ``(N, C_out, H/2, W/2)`` and its indices."""
        return self.pool(self.conv(x))


class DecoderBlock(nn.Module):
    """2×2 max unpooling (each value goes back where its maximum came from), then conv → BN → ReLU.

    Args:
        in_channels: C_in.
        out_channels: C_out.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.unpool = nn.MaxUnpool2d(2)
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )

    def forward(self, x: torch.Tensor, indices: torch.Tensor, size: torch.Size) -> torch.Tensor:
        """Args: x ``(N, C_in, H/2, W/2)``, the matching encoder's indices, ``size`` = (H, W).

        Returns: ``(N, C_out, H, W)``.
        """
        x = self.unpool(x, indices, output_size=size)  # (N, C_in, H, W), zero except at the maxima
        return self.conv(x)
# --8<-- [end:segnet-blocks]


@_checked_segnet
# --8<-- [start:segnet]
class SegNet(nn.Module):
    """Encoder-decoder for per-pixel classification (Badrinarayanan et al., 2015), in miniature.

    Args:
        in_channels: C of the input images.
        classes: number of classes (background included).
        widths: channels of the encoder blocks; each block halves H and W, its decoder twin
            doubles them back with the stored pooling indices.
    """

    def __init__(self, in_channels: int = 1, classes: int = 4, widths: tuple[int, ...] = (16, 32, 64)) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.encoder = nn.ModuleList(
            EncoderBlock(c_in, c_out) for c_in, c_out in zip((in_channels, *widths[:-1]), widths))
        self.decoder = nn.ModuleList(  # deepest first, back to widths[0] channels
            DecoderBlock(c_in, c_out) for c_in, c_out in zip(widths[::-1], (*widths[-2::-1], widths[0])))
        self.classify = nn.Conv2d(widths[0], classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x ``(N, C, H, W)``. Returns: logits ``(N, classes, H, W)``."""
        stored = []
        for block in self.encoder:
            size = x.shape[-2:]
            x, indices = block(x)  # (N, C_k, H_k / 2, W_k / 2)
            stored.append((indices, size))
        for block, (indices, size) in zip(self.decoder, reversed(stored)):
            x = block(x, indices, size)  # (N, C_k, H_k, W_k)
        return self.classify(x)  # (N, classes, H, W)
# --8<-- [end:segnet]


@_checked_labels
# --8<-- [start:pixel-accuracy]
def pixel_accuracy(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Fraction of pixels whose predicted class is right.

    Args:
        prediction: class indices ``(N, H, W)``, e.g. ``logits.argmax(1)``.
        target: true classes ``(N, H, W)``.

    Returns:
        a 0-d float tensor in [0, 1].
    """
    return (prediction == target).float().mean()
# --8<-- [end:pixel-accuracy]


@_checked_labels
# --8<-- [start:class-iou]
def class_iou(prediction: torch.Tensor, target: torch.Tensor, classes: int) -> torch.Tensor:
    """Per class, over all pixels: |predicted ∩ true| / |predicted ∪ true|.

    Args:
        prediction: class indices ``(N, H, W)``.
        target: true classes ``(N, H, W)``.
        classes: number of classes.

    Returns:
        ``(classes,)`` float; NaN for a class absent from both prediction and target.
    """
    pairs = target.flatten() * classes + prediction.flatten()
    confusion = torch.bincount(pairs, minlength=classes**2).view(classes, classes)  # [true, predicted]
    intersection = confusion.diagonal()
    union = confusion.sum(dim=0) + confusion.sum(dim=1) - intersection
    return intersection.float() / union.float()  # 0 / 0 = NaN for an absent class
# --8<-- [end:class-iou]


@_checked_labels
# --8<-- [start:mean-iou]
def mean_iou(prediction: torch.Tensor, target: torch.Tensor, classes: int) -> torch.Tensor:
    """Mean of :func:`class_iou` over the classes that occur (background included).

    Args:
        prediction: class indices ``(N, H, W)``.
        target: true classes ``(N, H, W)``.
        classes: number of classes.

    Returns:
        a 0-d float tensor in [0, 1].
    """
    return class_iou(prediction, target, classes).nanmean()
# --8<-- [end:mean-iou]
