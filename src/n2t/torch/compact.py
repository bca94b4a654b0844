"""Compact networks: SqueezeNet (Fire modules) and DenseNet (dense blocks and transitions)."""

from __future__ import annotations


from n2t.torch.classic import _positive_int, checked_model

# --8<-- [start:imports]
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
# --8<-- [end:imports]

__all__ = ["Fire", "SQUEEZENET_CONFIGS", "SqueezeNet", "squeezenet1_0", "squeezenet1_1", "DenseLayer",
           "DenseBlock", "transition", "DenseNet", "densenet121"]


# --8<-- [start:fire-module]
class Fire(nn.Module):
    """SqueezeNet's Fire module: a 1x1 *squeeze* conv to few channels, then 1x1 and 3x3 *expand* convs
    side by side, concatenated: C_out = expand1x1 + expand3x3.

    Squeezing first means the 3x3 convs see only ``squeeze`` input channels, the main saving.

    Args:
        in_channels: C_in.
        squeeze: channels of the squeeze conv (fewer than C_in).
        expand1x1: channels of the 1x1 expand conv.
        expand3x3: channels of the 3x3 expand conv.
    """

    def __init__(self, in_channels: int, squeeze: int, expand1x1: int, expand3x3: int) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(in_channels, squeeze, 1)
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, 1)
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, C_in, H, W)``. Returns: shape ``(N, expand1x1 + expand3x3, H, W)``."""
        x = F.relu(self.squeeze(x))  # (N, squeeze, H, W)
        return torch.cat([F.relu(self.expand1x1(x)), F.relu(self.expand3x3(x))], dim=1)
# --8<-- [end:fire-module]


def _check_squeezenet(version: Any = "1.0", **arguments: Any) -> None:
    if version not in SQUEEZENET_CONFIGS:
        raise ValueError(f"SqueezeNet: argument 'version' must be one of {sorted(SQUEEZENET_CONFIGS)}; "
                         f"got {version!r}")


# --8<-- [start:squeezenet-configs]
SQUEEZENET_CONFIGS = {  # stem (channels, kernel); stages of Fire modules (squeeze, expand), each after a max pool
    "1.0": ((96, 7), (((16, 64), (16, 64), (32, 128)), ((32, 128), (48, 192), (48, 192), (64, 256)),
                      ((64, 256),))),
    "1.1": ((64, 3), (((16, 64), (16, 64)), ((32, 128), (32, 128)), ((48, 192), (48, 192), (64, 256), (64, 256)))),
}
# --8<-- [end:squeezenet-configs]


@checked_model(_check_squeezenet, smallest=16)
# --8<-- [start:squeezenet]
class SqueezeNet(nn.Module):
    """SqueezeNet (Iandola et al., 2016): a stem conv, eight Fire modules, a 1x1 conv classifier, global
    average pool; no linear layer. Version 1.1 has the same size and about 2.4x less computation.

    Args:
        version: ``"1.0"`` or ``"1.1"``, a key of ``SQUEEZENET_CONFIGS``.
        num_classes: channels of the classifier conv.
        in_channels: C of the input images.
        small_input: 3x3 stride-1 stem and no max pool right after it (8x8 digits).
        width: multiplier on every channel count (1: the full-size model).
        dropout: p of the dropout before the classifier conv.
    """

    def __init__(self, version: str = "1.0", num_classes: int = 1000, in_channels: int = 3,
                 small_input: bool = False, width: float = 1.0, dropout: float = 0.5) -> None:
        super().__init__()
        (stem_channels, kernel), stages = SQUEEZENET_CONFIGS[version]
        channels = int(stem_channels * width)
        stem = nn.Conv2d(in_channels, channels, 3, padding=1) if small_input else nn.Conv2d(
            in_channels, channels, kernel, stride=2)
        layers: list[nn.Module] = [stem, nn.ReLU()]  # (N, 96, 109, 109) from 224x224 in version 1.0
        for index, stage in enumerate(stages):
            skip_pool = small_input and index == 0
            layers.append(nn.Identity() if skip_pool else nn.MaxPool2d(3, stride=2, ceil_mode=True))  # halves H, W
            for spec in stage:
                squeeze, expand = (int(c * width) for c in spec)
                layers.append(Fire(channels, squeeze, expand, expand))
                channels = 2 * expand
        self.features = nn.Sequential(*layers)  # (N, 512, 13, 13)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Conv2d(channels, num_classes, 1), nn.ReLU(),  # (N, num_classes, 13, 13)
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),  # (N, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, C, H, W)``. Returns: logits, shape ``(N, num_classes)``."""
        return self.classifier(self.features(x))
# --8<-- [end:squeezenet]


def squeezenet1_0(**kwargs: Any) -> SqueezeNet:
    """SqueezeNet 1.0: 1,248,424 parameters at the default sizes."""
    return SqueezeNet("1.0", **kwargs)


def squeezenet1_1(**kwargs: Any) -> SqueezeNet:
    """SqueezeNet 1.1: 1,235,496 parameters, fewer multiply-adds (smaller stem, earlier pooling)."""
    return SqueezeNet("1.1", **kwargs)


# --8<-- [start:dense-layer]
class DenseLayer(nn.Module):
    """BN → ReLU → 1x1 conv (the bottleneck, to bn_size · k channels) → BN → ReLU → 3x3 conv to k channels.

    Args:
        in_channels: C_in, all the feature maps of the block so far.
        growth_rate: k, the channels this layer adds.
        bn_size: the bottleneck has bn_size · k channels.
    """

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int = 4) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, bn_size * growth_rate, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, C_in, H, W)``. Returns: the new features, shape ``(N, k, H, W)``."""
        x = self.conv1(F.relu(self.norm1(x)))  # (N, bn_size * k, H, W)
        return self.conv2(F.relu(self.norm2(x)))
# --8<-- [end:dense-layer]


# --8<-- [start:dense-block]
class DenseBlock(nn.Module):
    """``num_layers`` dense layers; each reads the concatenation of the block's input and every earlier
    layer's output, and the block returns all of them: C_out = C_in + num_layers · k.

    Args:
        num_layers: L.
        in_channels: C_in.
        growth_rate: k.
        bn_size: bottleneck factor of each ``DenseLayer``.
    """

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, bn_size: int = 4) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            DenseLayer(in_channels + index * growth_rate, growth_rate, bn_size) for index in range(num_layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, C_in, H, W)``. Returns: shape ``(N, C_in + num_layers * k, H, W)``."""
        features = [x]
        for layer in self.layers:
            features.append(layer(torch.cat(features, dim=1)))
        return torch.cat(features, dim=1)
# --8<-- [end:dense-block]


# --8<-- [start:transition]
def transition(in_channels: int, out_channels: int) -> nn.Sequential:
    """Between dense blocks: BN → ReLU → 1x1 conv (halving the channels in DenseNet-121) → 2x2 average pool.

    Args:
        in_channels: C_in.
        out_channels: C_out.
    """
    return nn.Sequential(
        nn.BatchNorm2d(in_channels), nn.ReLU(),
        nn.Conv2d(in_channels, out_channels, 1, bias=False),
        nn.AvgPool2d(2, stride=2),  # (N, C_out, H / 2, W / 2)
    )
# --8<-- [end:transition]


def _check_densenet(growth_rate: Any = 32, block_config: Any = (6, 12, 24, 16), num_init_features: Any = 64,
                    bn_size: Any = 4, **arguments: Any) -> None:
    for name, value in (("growth_rate", growth_rate), ("num_init_features", num_init_features),
                        ("bn_size", bn_size)):
        _positive_int("DenseNet", name, value)
    if not isinstance(block_config, (tuple, list)) or not block_config:
        raise ValueError(f"DenseNet: argument 'block_config' must be a non-empty tuple of layer counts; "
                         f"got {block_config!r}")
    for count in block_config:
        _positive_int("DenseNet", "block_config", count)


@checked_model(_check_densenet)
# --8<-- [start:densenet]
class DenseNet(nn.Module):
    """DenseNet-BC (Huang et al., 2016): stem, dense blocks joined by transitions, BN, ReLU, global
    average pool, one linear layer.

    Args:
        growth_rate: k.
        block_config: layers per dense block, e.g. ``(6, 12, 24, 16)`` for DenseNet-121.
        num_init_features: channels of the stem conv.
        bn_size: bottleneck factor of the dense layers.
        num_classes: outputs of the linear layer.
        in_channels: C of the input images.
        small_input: 3x3 stride-1 stem conv and no max pool (8x8 digits).
    """

    def __init__(self, growth_rate: int = 32, block_config: tuple[int, ...] = (6, 12, 24, 16),
                 num_init_features: int = 64, bn_size: int = 4, num_classes: int = 1000, in_channels: int = 3,
                 small_input: bool = False) -> None:
        super().__init__()
        channels = num_init_features
        if small_input:
            stem = [nn.Conv2d(in_channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU()]
        else:
            stem = [nn.Conv2d(in_channels, channels, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(channels),
                    nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1)]  # (N, 64, 56, 56) from 224x224
        layers: list[nn.Module] = stem
        for index, num_layers in enumerate(block_config):
            layers.append(DenseBlock(num_layers, channels, growth_rate, bn_size))
            channels += num_layers * growth_rate
            if index < len(block_config) - 1:
                layers.append(transition(channels, channels // 2))
                channels //= 2
        layers += [nn.BatchNorm2d(channels), nn.ReLU()]
        self.features = nn.Sequential(*layers)  # (N, 1024, 7, 7) in DenseNet-121
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, C, H, W)``. Returns: logits, shape ``(N, num_classes)``."""
        x = F.adaptive_avg_pool2d(self.features(x), 1)  # (N, 1024, 1, 1)
        return self.classifier(torch.flatten(x, 1))
# --8<-- [end:densenet]


def densenet121(**kwargs: Any) -> DenseNet:
    """DenseNet-121: k = 32, blocks of 6, 12, 24, 16 layers, 64 stem channels; 7,978,856 parameters."""
    return DenseNet(32, (6, 12, 24, 16), 64, **kwargs)
