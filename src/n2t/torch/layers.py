"""Batch normalisation, dropout and an MLP builder written from torch primitives."""

from __future__ import annotations

from n2t.torch.activations import gelu, relu, sigmoid, tanh
from n2t.torch.linear import Linear

# --8<-- [start:imports]
import torch
from torch import nn
# --8<-- [end:imports]

__all__ = ["BatchNorm1d", "Dropout", "Activation", "mlp"]


# --8<-- [start:batchnorm]
class BatchNorm1d(nn.Module):
    """Batch normalisation over axis 1 with running statistics, like ``nn.BatchNorm1d``.

    Args:
        num_features: C.
        eps: ε added to the variance.
        momentum: weight of the current batch in the running averages.
    """

    running_mean: torch.Tensor
    running_var: torch.Tensor

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))  # γ
        self.bias = nn.Parameter(torch.zeros(num_features))  # β
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, C)`` or ``(N, C, L)``. Returns: the same shape."""
        axes = [0] + list(range(2, x.dim()))
        shape = [1, -1] + [1] * (x.dim() - 2)
        if self.training:
            mean = x.mean(dim=axes)
            var = x.var(dim=axes, unbiased=False)
            count = x.numel() // x.shape[1]
            with torch.no_grad():
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var * count / (count - 1), self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        return self.weight.view(shape) * x_hat + self.bias.view(shape)
# --8<-- [end:batchnorm]


# --8<-- [start:dropout]
class Dropout(nn.Module):
    """Inverted dropout: in training keep each entry with probability 1 − p and divide by 1 − p.

    Args:
        p: drop probability in [0, 1).
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(*)``. Returns: shape ``(*)``."""
        if not self.training or self.p == 0.0:
            return x
        mask = (torch.rand_like(x) >= self.p).to(x.dtype) / (1 - self.p)
        return x * mask
# --8<-- [end:dropout]


class Activation(nn.Module):
    """One of this package's activation functions as a module.

    Args:
        name: ``"relu"``, ``"tanh"``, ``"sigmoid"`` or ``"gelu"``.
    """

    FUNCTIONS = {"relu": relu, "tanh": tanh, "sigmoid": sigmoid, "gelu": gelu}

    def __init__(self, name: str) -> None:
        super().__init__()
        if name not in self.FUNCTIONS:
            raise ValueError(f"Activation: argument 'name' must be one of {sorted(self.FUNCTIONS)}; got {name!r}")
        self.name = name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.FUNCTIONS[self.name](x)

    def extra_repr(self) -> str:
        return self.name


def mlp(sizes: list[int], activation: str = "relu", batchnorm: bool = False, dropout: float = 0.0) -> nn.Sequential:
    """A fully connected network ``Linear → [BatchNorm] → activation → [Dropout] → … → Linear``.

    Args:
        sizes: layer widths ``[D, H1, …, C]``.
        activation: see :class:`Activation`.
        batchnorm: insert :class:`BatchNorm1d` after each hidden Linear.
        dropout: insert :class:`Dropout` with this p after each hidden activation (0: none).

    Returns:
        an ``nn.Sequential`` whose module indices match the NumPy ``Sequential`` built the same way.
    """
    if len(sizes) < 2:
        raise ValueError(f"mlp: argument 'sizes' needs at least [D, C]; got {sizes!r}")
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(fan_in, fan_out))
        if index < len(sizes) - 2:
            if batchnorm:
                layers.append(BatchNorm1d(fan_out))
            layers.append(Activation(activation))
            if dropout:
                layers.append(Dropout(dropout))
    return nn.Sequential(*layers)
