"""The plain stacks of chapter 5: AlexNet, VGG (blocks and builders) and Network in Network."""

from __future__ import annotations

import functools
import inspect
from typing import Callable, TypeVar

# --8<-- [start:imports]
from typing import Any

import torch
from torch import nn
# --8<-- [end:imports]

__all__ = ["AlexNet", "vgg_block", "VGG_CONFIGS", "VGG", "vgg11", "vgg13", "vgg16", "vgg19", "nin_block", "NiN"]

C = TypeVar("C", bound=type[nn.Module])


def _positive_int(where: str, name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{where}: argument '{name}' must be an int >= 1; got {value!r}")


def _check_common(where: str, arguments: dict[str, Any], smallest: int) -> None:
    """The arguments every architecture shares: num_classes, in_channels, width, small_input, dropout."""
    for name in ("num_classes", "in_channels"):
        if name in arguments:
            _positive_int(where, name, arguments[name])
    width = arguments.get("width", 1.0)
    if not isinstance(width, (int, float)) or isinstance(width, bool) or not width * smallest >= 1:
        raise ValueError(f"{where}: argument 'width' must be a number >= 1/{smallest} (so that the narrowest "
                         f"layer keeps a channel); got {width!r}")
    if not isinstance(arguments.get("small_input", False), bool):
        raise TypeError(f"{where}: argument 'small_input' must be a bool; got {arguments['small_input']!r}")
    dropout = arguments.get("dropout", 0.0)
    if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout < 1:
        raise ValueError(f"{where}: argument 'dropout' must be a probability in [0, 1); got {dropout!r}")


def check_images(where: str, x: Any, channels: int) -> None:
    """Raise unless ``x`` is a floating-point tensor of shape ``(N, channels, H, W)``."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"{where}: argument 'x' must be a floating-point torch.Tensor; got {got}")
    if x.dim() != 4 or x.shape[1] != channels:
        raise ValueError(f"{where}: argument 'x' must have shape (N, {channels}, H, W); got {tuple(x.shape)}")


def checked_model(check: Callable[..., None] | None = None, smallest: int = 1) -> Callable[[C], C]:
    """Class decorator for the architectures: validate the constructor's arguments (the shared ones, then
    ``check(**arguments)``) and the images given to ``forward``, so the class on the page stays the idea.

    Args:
        check: extra validation, called with every constructor argument by name.
        smallest: the narrowest layer's channel count at width 1 (``width`` must keep it >= 1).
    """

    def decorate(cls: C) -> C:
        init, forward = cls.__init__, cls.forward  # type: ignore[misc]
        signature = inspect.signature(init)

        @functools.wraps(init)
        def checked_init(self: Any, *args: Any, **kwargs: Any) -> None:
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            arguments = {name: value for name, value in bound.arguments.items() if name != "self"}
            _check_common(cls.__name__, arguments, smallest)
            if check is not None:
                check(**arguments)
            init(self, *args, **kwargs)
            self.expected_channels = arguments.get("in_channels", 3)

        @functools.wraps(forward)
        def checked_forward(self: Any, x: Any) -> Any:
            check_images(cls.__name__, x, self.expected_channels)
            return forward(self, x)

        cls.__init__ = checked_init  # type: ignore[misc, method-assign]
        cls.forward = checked_forward  # type: ignore[method-assign]
        return cls

    return decorate


@checked_model(smallest=64)
# --8<-- [start:alexnet]
class AlexNet(nn.Module):
    """AlexNet (Krizhevsky, Sutskever and Hinton, 2012) as torchvision builds it: 5 convs, 3 linear layers.

    One tower with 64, 192, 384, 256, 256 channels (the paper split 96, 256, 384, 384, 256 over two
    GPUs) and an adaptive average pool to 6x6, so any input of at least 63x63 reaches the classifier.

    Args:
        num_classes: outputs of the last linear layer.
        in_channels: C of the input images.
        small_input: 3x3 stride-1 first conv and no max pool after the first two convs (8x8 digits).
        width: multiplier on every channel and hidden-unit count (1: the full-size model).
        dropout: p of the two dropout layers.
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                 width: float = 1.0, dropout: float = 0.5) -> None:
        super().__init__()
        c1, c2, c3, c4, c5, hidden = (int(c * width) for c in (64, 192, 384, 256, 256, 4096))
        if small_input:
            stem = nn.Conv2d(in_channels, c1, 3, padding=1)
        else:
            stem = nn.Conv2d(in_channels, c1, 11, stride=4, padding=2)
        self.features = nn.Sequential(
            stem, nn.ReLU(),
            nn.Identity() if small_input else nn.MaxPool2d(3, 2),  # (N, 64, 27, 27) from 224x224
            nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(),
            nn.Identity() if small_input else nn.MaxPool2d(3, 2),  # (N, 192, 13, 13)
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c4, c5, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(3, 2),  # (N, 256, 6, 6)
        )
        self.avgpool = nn.AdaptiveAvgPool2d(6)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c5 * 6 * 6, hidden), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, C, H, W)``. Returns: logits, shape ``(N, num_classes)``."""
        x = self.avgpool(self.features(x))  # (N, 256, 6, 6)
        return self.classifier(torch.flatten(x, 1))  # (N, num_classes)
# --8<-- [end:alexnet]


# --8<-- [start:vgg-block]
def vgg_block(num_convs: int, in_channels: int, out_channels: int, batch_norm: bool = False,
              pool: bool = True) -> nn.Sequential:
    """``num_convs`` 3x3 convs (padding 1, so H and W stay) with ReLU, then a 2x2 max pool halving H and W.

    Args:
        num_convs: number of conv layers.
        in_channels: C_in of the first conv.
        out_channels: C_out of every conv.
        batch_norm: a batch norm after each conv (torchvision's ``vgg16_bn``).
        pool: end with the max pool.
    """
    layers: list[nn.Module] = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels, 3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.ReLU())
        in_channels = out_channels
    if pool:
        layers.append(nn.MaxPool2d(2))  # (N, C_out, H / 2, W / 2)
    return nn.Sequential(*layers)
# --8<-- [end:vgg-block]


def _check_vgg(config: Any, **arguments: Any) -> None:
    if config not in VGG_CONFIGS:
        raise ValueError(f"VGG: argument 'config' must be one of {sorted(VGG_CONFIGS)}; got {config!r}")


# --8<-- [start:vgg-configs]
VGG_CONFIGS = {  # (convs, channels) of the five blocks: configurations A, B, D and E of the paper
    "vgg11": ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)),
    "vgg13": ((2, 64), (2, 128), (2, 256), (2, 512), (2, 512)),
    "vgg16": ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)),
    "vgg19": ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512)),
}
# --8<-- [end:vgg-configs]


@checked_model(_check_vgg, smallest=64)
# --8<-- [start:vgg]
class VGG(nn.Module):
    """VGG (Simonyan and Zisserman, 2014): five VGG blocks, then three linear layers.

    Args:
        config: a key of ``VGG_CONFIGS``, e.g. ``"vgg16"``.
        num_classes: outputs of the last linear layer.
        in_channels: C of the input images.
        batch_norm: a batch norm after every conv.
        small_input: max pool only after the first two blocks and pool the features to 1x1, not 7x7.
        width: multiplier on every channel and hidden-unit count (1: the full-size model).
        dropout: p of the two dropout layers.
    """

    def __init__(self, config: str = "vgg16", num_classes: int = 1000, in_channels: int = 3,
                 batch_norm: bool = False, small_input: bool = False, width: float = 1.0,
                 dropout: float = 0.5) -> None:
        super().__init__()
        blocks = []
        for index, (num_convs, channels) in enumerate(VGG_CONFIGS[config]):
            pool = index < 2 or not small_input
            blocks.append(vgg_block(num_convs, in_channels, int(channels * width), batch_norm, pool))
            in_channels = int(channels * width)
        self.features = nn.Sequential(*blocks)  # (N, 512, H / 32, W / 32)
        pooled, hidden = (1 if small_input else 7), int(4096 * width)
        self.avgpool = nn.AdaptiveAvgPool2d(pooled)
        self.classifier = nn.Sequential(
            nn.Linear(in_channels * pooled * pooled, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, C, H, W)``. Returns: logits, shape ``(N, num_classes)``."""
        x = self.avgpool(self.features(x))  # (N, 512, 7, 7)
        return self.classifier(torch.flatten(x, 1))  # (N, num_classes)
# --8<-- [end:vgg]


def vgg11(**kwargs: Any) -> VGG:
    """VGG-11 (configuration A): 8 convs + 3 linear layers."""
    return VGG("vgg11", **kwargs)


def vgg13(**kwargs: Any) -> VGG:
    """VGG-13 (configuration B): 10 convs + 3 linear layers."""
    return VGG("vgg13", **kwargs)


def vgg16(**kwargs: Any) -> VGG:
    """VGG-16 (configuration D): 13 convs + 3 linear layers."""
    return VGG("vgg16", **kwargs)


def vgg19(**kwargs: Any) -> VGG:
    """VGG-19 (configuration E): 16 convs + 3 linear layers."""
    return VGG("vgg19", **kwargs)


# --8<-- [start:nin-block]
def nin_block(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
              padding: int = 0) -> nn.Sequential:
    """A KxK conv, then two 1x1 convs (an MLP applied at every pixel across channels), ReLU after each.

    Args:
        in_channels: C_in.
        out_channels: C_out of all three convs.
        kernel_size: K of the first conv.
        stride: stride of the first conv.
        padding: zero padding of the first conv.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding), nn.ReLU(),  # (N, C_out, H', W')
        nn.Conv2d(out_channels, out_channels, 1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 1), nn.ReLU(),
    )
# --8<-- [end:nin-block]


@checked_model(smallest=96)
# --8<-- [start:nin]
class NiN(nn.Module):
    """Network in Network (Lin, Chen and Yan, 2013) as in d2l: four NiN blocks, no linear layer.

    The last block has ``num_classes`` channels; a global average pool turns each channel into one logit.

    Args:
        num_classes: channels of the last block, one per class.
        in_channels: C of the input images.
        small_input: 3x3 stride-1 first conv and no max pool after the first two blocks (8x8 digits).
        width: multiplier on the channels of the first three blocks (1: the full-size model).
        dropout: p of the dropout before the last block.
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                 width: float = 1.0, dropout: float = 0.5) -> None:
        super().__init__()
        c1, c2, c3 = (int(c * width) for c in (96, 256, 384))
        first = nin_block(in_channels, c1, 3, 1, 1) if small_input else nin_block(in_channels, c1, 11, 4)
        self.net = nn.Sequential(
            first, nn.Identity() if small_input else nn.MaxPool2d(3, 2),  # (N, 96, 26, 26) from 224x224
            nin_block(c1, c2, 5, padding=2),
            nn.Identity() if small_input else nn.MaxPool2d(3, 2),  # (N, 256, 12, 12)
            nin_block(c2, c3, 3, padding=1), nn.MaxPool2d(3, 2),  # (N, 384, 5, 5)
            nn.Dropout(dropout),
            nin_block(c3, num_classes, 3, padding=1),  # (N, num_classes, 5, 5)
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),  # (N, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, C, H, W)``. Returns: logits, shape ``(N, num_classes)``."""
        return self.net(x)
# --8<-- [end:nin]
