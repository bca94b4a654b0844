"""LeNet for the 8×8 digits: convolution, pooling, convolution, then a fully connected classifier."""

from __future__ import annotations

# --8<-- [start:imports]
import numpy as np

from n2t.numpy.conv import Conv2d
from n2t.numpy.dropout import Dropout
from n2t.numpy.layers import ReLU, Sequential
from n2t.numpy.linear import Linear
from n2t.numpy.pooling import Flatten, MaxPool2d
# --8<-- [end:imports]

__all__ = ["lenet", "random_shift"]


# --8<-- [start:lenet]
def lenet(channels: tuple[int, int] = (32, 64), hidden: int = 128, dropout: float = 0.3, num_classes: int = 10,
          rng: np.random.Generator | None = None) -> Sequential:
    """A LeNet-style network (LeCun et al. 1998) sized for ``(N, 1, 8, 8)`` images.

    conv 3×3 (pad 1) → ReLU → max-pool 2 → conv 3×3 (pad 1) → ReLU → flatten → dropout
    → linear → ReLU → linear. The maps go 8×8 → 4×4; a second pooling would leave only 2×2.

    Args:
        channels: output channels of the two convolutions.
        hidden: units of the hidden fully connected layer.
        dropout: drop probability before the classifier.
        num_classes: number of outputs (logits).
        rng: generator for the initial weights and the dropout masks.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    c1, c2 = channels
    return Sequential(
        Conv2d(1, c1, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),  # (N, c1, 4, 4)
        Conv2d(c1, c2, 3, padding=1, rng=rng), ReLU(), Flatten(),  # (N, c2·16)
        Dropout(dropout, rng=rng), Linear(c2 * 16, hidden, rng=rng), ReLU(), Linear(hidden, num_classes, rng=rng),
    )
# --8<-- [end:lenet]


# --8<-- [start:random-shift]
def random_shift(x: np.ndarray, rng: np.random.Generator, max_shift: int = 1) -> np.ndarray:
    """Data augmentation: move each image by up to ``max_shift`` pixels in each direction (zeros fill in).

    Args:
        x: images, shape ``(N, C, H, W)``.
        rng: generator for the shifts.
        max_shift: largest shift in pixels.

    Returns:
        shifted images, shape ``(N, C, H, W)``.
    """
    n, _, h, w = x.shape
    s = max_shift
    padded = np.pad(x, ((0, 0), (0, 0), (s, s), (s, s)))
    dy = rng.integers(0, 2 * s + 1, size=(n, 1))
    dx = rng.integers(0, 2 * s + 1, size=(n, 1))
    rows = dy + np.arange(h)  # (N, H): the rows each image keeps
    cols = dx + np.arange(w)  # (N, W)
    return padded[np.arange(n)[:, None, None, None], np.arange(x.shape[1])[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]
# --8<-- [end:random-shift]
