"""LeNet for the 8×8 digits in PyTorch, built from this package's ``Conv2d``, ``MaxPool2d`` and ``Linear``."""

from __future__ import annotations

# --8<-- [start:imports]
import torch
import torch.nn.functional as F
from torch import nn

from n2t.torch.conv import Conv2d, MaxPool2d
from n2t.torch.layers import Dropout
from n2t.torch.linear import Linear
# --8<-- [end:imports]

__all__ = ["lenet", "random_shift"]


# --8<-- [start:lenet]
def lenet(channels: tuple[int, int] = (32, 64), hidden: int = 128, dropout: float = 0.3,
          num_classes: int = 10) -> nn.Sequential:
    """The same LeNet-style network as ``n2t.numpy.lenet.lenet``, for ``(N, 1, 8, 8)`` images.

    Args:
        channels: output channels of the two convolutions.
        hidden: units of the hidden fully connected layer.
        dropout: drop probability before the classifier.
        num_classes: number of outputs (logits).
    """
    c1, c2 = channels
    return nn.Sequential(
        Conv2d(1, c1, 3, padding=1), nn.ReLU(), MaxPool2d(2),  # (N, c1, 4, 4)
        Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.Flatten(),  # (N, c2·16)
        Dropout(dropout), Linear(c2 * 16, hidden), nn.ReLU(), Linear(hidden, num_classes),
    )
# --8<-- [end:lenet]


# --8<-- [start:random-shift]
def random_shift(x: torch.Tensor, generator: torch.Generator | None = None, max_shift: int = 1) -> torch.Tensor:
    """Move each image by up to ``max_shift`` pixels in each direction (zeros fill in).

    Args:
        x: images ``(N, C, H, W)``.
        generator: ``torch.Generator`` on x's device, for the shifts.
        max_shift: largest shift in pixels.
    """
    n, c, h, w = x.shape
    s = max_shift
    padded = F.pad(x, (s, s, s, s))
    dy = torch.randint(0, 2 * s + 1, (n,), generator=generator, device=x.device)
    dx = torch.randint(0, 2 * s + 1, (n,), generator=generator, device=x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]  # (N, 1, H, 1)
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]  # (N, 1, 1, W)
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, channel, rows, cols]
# --8<-- [end:random-shift]
