"""The residual block h(x) = ReLU(x + F(x)) with a hand-written backward pass (He et al. 2016)."""

from __future__ import annotations

# --8<-- [start:imports]
import numpy as np

from n2t.numpy.batchnorm import BatchNorm2d
from n2t.numpy.conv import Conv2d
from n2t.numpy.layers import ReLU, Sequential
from n2t.numpy.module import Module
# --8<-- [end:imports]

__all__ = ["ResidualBlock"]


# --8<-- [start:residual-block]
class ResidualBlock(Module):
    """Basic residual unit: F = conv3×3 → BN → ReLU → conv3×3 → BN, out = ReLU(F(x) + shortcut(x)).

    The shortcut is the identity when the shape is unchanged, else a 1×1 strided convolution + BN
    (the "projection shortcut").

    Args:
        in_channels: C_in.
        out_channels: C_out.
        stride: stride of the first convolution (2 halves H and W).
        rng: generator for the initial weights.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        rng = rng if rng is not None else np.random.default_rng(0)
        self.residual = Sequential(
            Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False, rng=rng), BatchNorm2d(out_channels),
            ReLU(), Conv2d(out_channels, out_channels, 3, padding=1, bias=False, rng=rng), BatchNorm2d(out_channels),
        )
        self.shortcut: Sequential | None = None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = Sequential(Conv2d(in_channels, out_channels, 1, stride, bias=False, rng=rng),
                                       BatchNorm2d(out_channels))
        self.relu = ReLU()

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Args: x, shape ``(N, C_in, H, W)``. Returns: ``(N, C_out, H / stride, W / stride)``."""
        identity = x if self.shortcut is None else self.shortcut.forward(x)
        return self.relu.forward(self.residual.forward(x) + identity)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """The gradient reaches x along both paths, and the two contributions add."""
        d_sum = self.relu.backward(dout)  # ∂L/∂(F(x) + shortcut(x))
        dx = self.residual.backward(d_sum)
        return dx + (d_sum if self.shortcut is None else self.shortcut.backward(d_sum))
# --8<-- [end:residual-block]

    def _children(self) -> list[Sequential]:
        return [self.residual] + ([self.shortcut] if self.shortcut is not None else [])

    def train(self, mode: bool = True) -> "ResidualBlock":
        self.training = mode
        for child in self._children():
            child.train(mode)
        return self

    def parameters(self) -> list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
        return [pair for child in self._children() for pair in child.parameters()]

    def zero_grad(self) -> None:
        for child in self._children():
            child.zero_grad()

    def num_parameters(self) -> int:
        return sum(child.num_parameters() for child in self._children())
