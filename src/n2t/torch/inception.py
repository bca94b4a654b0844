"""GoogLeNet (Inception v1) and Inception-v3: parallel branches concatenated along the channels."""

from __future__ import annotations

from n2t.torch.classic import checked_model

# --8<-- [start:imports]
from typing import Any

import torch
from torch import nn
# --8<-- [end:imports]

__all__ = ["conv_bn", "Inception", "GOOGLENET_STAGES", "GoogLeNet", "Concat", "InceptionAux", "InceptionV3",
           "inception_v3"]


# --8<-- [start:conv-bn]
def conv_bn(in_channels: int, out_channels: int, kernel_size: int | tuple[int, int], stride: int = 1,
            padding: int | tuple[int, int] = 0) -> nn.Sequential:
    """Conv (no bias: the batch norm's β plays its part) → batch norm (ε = 0.001) → ReLU.

    torchvision's ``BasicConv2d``, the unit of both GoogLeNet and Inception-v3.

    Args:
        in_channels: C_in.
        out_channels: C_out.
        kernel_size: K, or (kH, kW) for the factorised 1x7 / 7x1 convs.
        stride: the conv's stride.
        padding: the conv's zero padding.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False),
        nn.BatchNorm2d(out_channels, eps=0.001),
        nn.ReLU(),
    )
# --8<-- [end:conv-bn]


# --8<-- [start:inception-module]
class Inception(nn.Module):
    """The Inception module of GoogLeNet (Szegedy et al., 2014): four branches side by side.

    1x1 conv | 1x1 reduce → 3x3 conv | 1x1 reduce → 5x5 conv | 3x3 max pool → 1x1 projection, all
    keeping H and W, concatenated: C_out = c1 + c3 + c5 + pool_proj. The 1x1 reductions make the
    3x3 and 5x5 convs cheap.

    Args:
        in_channels: C_in.
        c1: channels of the 1x1 branch.
        c3_reduce: channels of the 1x1 conv before the 3x3 conv.
        c3: channels of the 3x3 conv.
        c5_reduce: channels of the 1x1 conv before the 5x5 conv.
        c5: channels of the 5x5 conv.
        pool_proj: channels of the 1x1 conv after the max pool.
        wide_kernel: K of the "5x5" conv: 5 as in the paper; torchvision's ``googlenet`` has 3 there
            (a known bug it keeps for its pretrained weights).
    """

    def __init__(self, in_channels: int, c1: int, c3_reduce: int, c3: int, c5_reduce: int, c5: int,
                 pool_proj: int, wide_kernel: int = 5) -> None:
        super().__init__()
        self.branch1 = conv_bn(in_channels, c1, 1)
        self.branch2 = nn.Sequential(conv_bn(in_channels, c3_reduce, 1), conv_bn(c3_reduce, c3, 3, padding=1))
        self.branch3 = nn.Sequential(conv_bn(in_channels, c5_reduce, 1),
                                     conv_bn(c5_reduce, c5, wide_kernel, padding=wide_kernel // 2))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), conv_bn(in_channels, pool_proj, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, C_in, H, W)``. Returns: shape ``(N, c1 + c3 + c5 + pool_proj, H, W)``."""
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return torch.cat([branch(x) for branch in branches], dim=1)
# --8<-- [end:inception-module]


def _check_googlenet(wide_kernel: Any = 5, **arguments: Any) -> None:
    if wide_kernel not in (3, 5):
        raise ValueError(f"GoogLeNet: argument 'wide_kernel' must be 5 (paper) or 3 (torchvision); got {wide_kernel!r}")


# --8<-- [start:googlenet-stages]
GOOGLENET_STAGES = (  # (c1, c3_reduce, c3, c5_reduce, c5, pool_proj) per Inception module
    ((64, 96, 128, 16, 32, 32), (128, 128, 192, 32, 96, 64)),  # 3a, 3b at 28x28
    ((192, 96, 208, 16, 48, 64), (160, 112, 224, 24, 64, 64), (128, 128, 256, 24, 64, 64),
     (112, 144, 288, 32, 64, 64), (256, 160, 320, 32, 128, 128)),  # 4a ... 4e at 14x14
    ((256, 160, 320, 32, 128, 128), (384, 192, 384, 48, 128, 128)),  # 5a, 5b at 7x7
)
# --8<-- [end:googlenet-stages]


@checked_model(_check_googlenet, smallest=16)
# --8<-- [start:googlenet]
class GoogLeNet(nn.Module):
    """GoogLeNet: a stem of three convs, nine Inception modules, global average pool, one linear layer.

    22 weighted layers deep; batch norm after every conv as in torchvision; no auxiliary classifiers.

    Args:
        num_classes: outputs of the linear layer.
        in_channels: C of the input images.
        small_input: 3x3 stride-1 first conv and no max pool in the stem (8x8 digits).
        width: multiplier on every channel count (1: the full-size model).
        dropout: p of the dropout before the linear layer.
        wide_kernel: 5 (paper) or 3 (torchvision's parameter count, 6,624,904), see ``Inception``.
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                 width: float = 1.0, dropout: float = 0.2, wide_kernel: int = 5) -> None:
        super().__init__()
        c64, c192 = int(64 * width), int(192 * width)
        first = conv_bn(in_channels, c64, 3, padding=1) if small_input else conv_bn(in_channels, c64, 7, 2, 3)
        self.stem = nn.Sequential(
            first, nn.Identity() if small_input else nn.MaxPool2d(3, 2, ceil_mode=True),  # (N, 64, 56, 56)
            conv_bn(c64, c64, 1), conv_bn(c64, c192, 3, padding=1),
            nn.Identity() if small_input else nn.MaxPool2d(3, 2, ceil_mode=True),  # (N, 192, 28, 28)
        )
        modules: list[nn.Module] = []
        channels = c192
        for index, stage in enumerate(GOOGLENET_STAGES):
            if index > 0:
                modules.append(nn.MaxPool2d(3, 2, ceil_mode=True))  # halves H and W
            for spec in stage:
                c1, c3_reduce, c3, c5_reduce, c5, pool_proj = (int(c * width) for c in spec)
                modules.append(Inception(channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj, wide_kernel))
                channels = c1 + c3 + c5 + pool_proj
        self.inceptions = nn.Sequential(*modules)  # (N, 1024, 7, 7)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(channels, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, C, H, W)``. Returns: logits, shape ``(N, num_classes)``."""
        return self.head(self.inceptions(self.stem(x)))
# --8<-- [end:googlenet]


# --8<-- [start:concat]
class Concat(nn.Module):
    """Run every branch on the same input and concatenate the outputs along the channels.

    Args:
        branches: modules mapping ``(N, C_in, H, W)`` to ``(N, C_i, H', W')`` with the same H', W'.
    """

    def __init__(self, branches: list[nn.Module]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, C_in, H, W)``. Returns: shape ``(N, sum of C_i, H', W')``."""
        return torch.cat([branch(x) for branch in self.branches], dim=1)
# --8<-- [end:concat]


# --8<-- [start:inception-v3-modules]
def avg_pool_branch(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 average pool (stride 1) → 1x1 conv: the pooling branch of the 35x35, 17x17 and 8x8 modules."""
    return nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1), conv_bn(in_channels, out_channels, 1))


def inception_a(in_channels: int, pool_features: int) -> Concat:
    """35x35 module: 1x1 | 1x1 → 5x5 | 1x1 → 3x3 → 3x3 | pool; C_out = 224 + pool_features."""
    return Concat([
        conv_bn(in_channels, 64, 1),
        nn.Sequential(conv_bn(in_channels, 48, 1), conv_bn(48, 64, 5, padding=2)),
        nn.Sequential(conv_bn(in_channels, 64, 1), conv_bn(64, 96, 3, padding=1), conv_bn(96, 96, 3, padding=1)),
        avg_pool_branch(in_channels, pool_features)
    ])


def inception_c(in_channels: int, c7: int) -> Concat:
    """17x17 module: each 7x7 conv factorised into 1x7 then 7x1 (2 · 7k parameters instead of 49k); C_out = 768."""
    return Concat([
        conv_bn(in_channels, 192, 1),
        nn.Sequential(conv_bn(in_channels, c7, 1), conv_bn(c7, c7, (1, 7), padding=(0, 3)),
                      conv_bn(c7, 192, (7, 1), padding=(3, 0))),
        nn.Sequential(conv_bn(in_channels, c7, 1), conv_bn(c7, c7, (7, 1), padding=(3, 0)),
                      conv_bn(c7, c7, (1, 7), padding=(0, 3)), conv_bn(c7, c7, (7, 1), padding=(3, 0)),
                      conv_bn(c7, 192, (1, 7), padding=(0, 3))),
        avg_pool_branch(in_channels, 192)
    ])


def inception_e(in_channels: int) -> Concat:
    """8x8 module: the 3x3 convs end in parallel 1x3 and 3x1 convs (expanded filter bank); C_out = 2048."""
    return Concat([
        conv_bn(in_channels, 320, 1),
        nn.Sequential(conv_bn(in_channels, 384, 1),
                      Concat([conv_bn(384, 384, (1, 3), padding=(0, 1)),
                              conv_bn(384, 384, (3, 1), padding=(1, 0))])),  # (N, 768, H, W)
        nn.Sequential(conv_bn(in_channels, 448, 1), conv_bn(448, 384, 3, padding=1),
                      Concat([conv_bn(384, 384, (1, 3), padding=(0, 1)),
                              conv_bn(384, 384, (3, 1), padding=(1, 0))])),  # (N, 768, H, W)
        avg_pool_branch(in_channels, 192)
    ])
# --8<-- [end:inception-v3-modules]


# --8<-- [start:grid-reduction]
def reduction_b(in_channels: int) -> Concat:
    """35x35 → 17x17: stride-2 convs beside a stride-2 max pool; C_out = 480 + C_in."""
    return Concat([
        conv_bn(in_channels, 384, 3, stride=2),
        nn.Sequential(conv_bn(in_channels, 64, 1), conv_bn(64, 96, 3, padding=1), conv_bn(96, 96, 3, stride=2)),
        nn.MaxPool2d(3, stride=2)
    ])


def reduction_d(in_channels: int) -> Concat:
    """17x17 → 8x8: stride-2 convs beside a stride-2 max pool; C_out = 512 + C_in."""
    return Concat([
        nn.Sequential(conv_bn(in_channels, 192, 1), conv_bn(192, 320, 3, stride=2)),
        nn.Sequential(conv_bn(in_channels, 192, 1), conv_bn(192, 192, (1, 7), padding=(0, 3)),
                      conv_bn(192, 192, (7, 1), padding=(3, 0)), conv_bn(192, 192, 3, stride=2)),
        nn.MaxPool2d(3, stride=2)
    ])
# --8<-- [end:grid-reduction]


class InceptionAux(nn.Module):
    """The auxiliary classifier on the 17x17 grid, used only in training (its loss helps the early layers).

    Args:
        in_channels: C_in (768).
        num_classes: outputs of its linear layer.
    """

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.AvgPool2d(5, stride=3), conv_bn(in_channels, 128, 1),
                                      conv_bn(128, 768, 5), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, 768, 17, 17)``. Returns: logits, shape ``(N, num_classes)``."""
        return self.fc(self.features(x))


def _check_inception_v3(aux_logits: Any = True, small_input: Any = False, **arguments: Any) -> None:
    if aux_logits and small_input:
        raise ValueError("InceptionV3: argument 'aux_logits' must be False when small_input=True (the auxiliary "
                         "classifier needs the 17x17 grid of a 299x299 input); got aux_logits=True")


@checked_model(_check_inception_v3)
class InceptionV3(nn.Module):
    """Inception-v3 (Szegedy et al., 2015) as torchvision builds it: 27,161,264 parameters with the
    auxiliary classifier, 23,834,568 without; made for 299x299 inputs.

    Args:
        num_classes: outputs of the linear layer (and of the auxiliary classifier).
        in_channels: C of the input images.
        aux_logits: build the auxiliary classifier; in training mode ``forward`` then returns
            ``(logits, aux_logits)``.
        small_input: one 3x3 stride-1 conv stem without pooling (8x8 digits); needs aux_logits=False.
        dropout: p of the dropout before the linear layer.
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = True,
                 small_input: bool = False, dropout: float = 0.5) -> None:
        super().__init__()
        if small_input:
            self.stem = conv_bn(in_channels, 192, 3, padding=1)
        else:
            self.stem = nn.Sequential(
                conv_bn(in_channels, 32, 3, stride=2), conv_bn(32, 32, 3), conv_bn(32, 64, 3, padding=1),
                nn.MaxPool2d(3, stride=2),  # (N, 64, 73, 73) from 299x299
                conv_bn(64, 80, 1), conv_bn(80, 192, 3), nn.MaxPool2d(3, stride=2),  # (N, 192, 35, 35)
            )
        self.mixed_5_6 = nn.Sequential(
            inception_a(192, 32), inception_a(256, 64), inception_a(288, 64),  # (N, 288, 35, 35)
            reduction_b(288),  # (N, 768, 17, 17)
            inception_c(768, 128), inception_c(768, 160), inception_c(768, 160), inception_c(768, 192),
        )
        self.aux = InceptionAux(768, num_classes) if aux_logits else None
        self.mixed_7 = nn.Sequential(reduction_d(768), inception_e(1280), inception_e(2048))  # (N, 2048, 8, 8)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(2048, num_classes))

    def forward(self, x: torch.Tensor) -> Any:
        """Args: x, shape ``(N, C, H, W)``. Returns: logits ``(N, num_classes)``, and in training mode
        with the auxiliary classifier the pair ``(logits, aux_logits)``."""
        x = self.mixed_5_6(self.stem(x))  # (N, 768, 17, 17)
        aux = self.aux(x) if self.aux is not None and self.training else None
        logits = self.head(self.mixed_7(x))
        return logits if aux is None else (logits, aux)


def inception_v3(**kwargs: Any) -> InceptionV3:
    """Inception-v3; ``kwargs`` go to ``InceptionV3``."""
    return InceptionV3(**kwargs)
