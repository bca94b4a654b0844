"""Activation functions written from torch primitives; autograd derives the backward pass.

Each matches its NumPy twin in :mod:`n2t.numpy.activations` and PyTorch's built-in
(``torch.sigmoid``, ``F.elu``, ``F.gelu``, …). Inputs: any shape ``(*)``, any device.
"""

from __future__ import annotations

from n2t.torch._checks import float_tensor_args

# --8<-- [start:imports]
import math

import torch
from torch import nn
# --8<-- [end:imports]

__all__ = ["sigmoid", "tanh", "relu", "leaky_relu", "prelu", "PReLU", "elu", "swish", "gelu"]


@float_tensor_args
# --8<-- [start:sigmoid]
def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Logistic function 1 / (1 + e^-x), stable for large |x|.

    Args:
        x: tensor of shape ``(*)``.

    Returns:
        tensor of shape ``(*)`` with values in [0, 1].
    """
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
# --8<-- [end:sigmoid]


@float_tensor_args
# --8<-- [start:tanh]
def tanh(x: torch.Tensor) -> torch.Tensor:
    """tanh(x) = 2σ(2x) − 1, written with the logistic function above.

    Args:
        x: tensor of shape ``(*)``.

    Returns:
        tensor of shape ``(*)`` with values in [−1, 1].
    """
    return 2 * sigmoid(2 * x) - 1
# --8<-- [end:tanh]


@float_tensor_args
# --8<-- [start:relu]
def relu(x: torch.Tensor) -> torch.Tensor:
    """max(0, x).

    Args:
        x: tensor of shape ``(*)``.

    Returns:
        tensor of shape ``(*)``.
    """
    return torch.where(x > 0, x, torch.zeros_like(x))
# --8<-- [end:relu]


@float_tensor_args
# --8<-- [start:leaky-relu]
def leaky_relu(x: torch.Tensor, negative_slope: float = 0.01) -> torch.Tensor:
    """x for x > 0, ``negative_slope * x`` otherwise.

    Args:
        x: tensor of shape ``(*)``.
        negative_slope: fixed slope γ for negative inputs.

    Returns:
        tensor of shape ``(*)``.
    """
    return torch.where(x > 0, x, negative_slope * x)
# --8<-- [end:leaky-relu]


@float_tensor_args
# --8<-- [start:prelu]
def prelu(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Parametric ReLU with learnable slopes α, one shared or one per channel (axis 1).

    Args:
        x: tensor of shape ``(N, C, *)``.
        alpha: tensor of shape ``(1,)`` or ``(C,)``.

    Returns:
        tensor of the shape of x.
    """
    if alpha.numel() > 1 and x.dim() >= 2:
        alpha = alpha.reshape((1, -1) + (1,) * (x.dim() - 2))
    return torch.where(x > 0, x, alpha * x)


class PReLU(nn.Module):
    """Module form of :func:`prelu`, initialised like ``nn.PReLU`` (α = 0.25).

    Args:
        num_parameters: 1 (shared α) or C (one α per channel).
        init: initial value of every α.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((num_parameters,), float(init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, C, *)``. Returns: shape ``(N, C, *)``."""
        return prelu(x, self.weight)
# --8<-- [end:prelu]


@float_tensor_args
# --8<-- [start:elu]
def elu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """x for x > 0, α(eˣ − 1) otherwise; the exponential only sees x ≤ 0.

    Args:
        x: tensor of shape ``(*)``.
        alpha: saturation value −α for x → −∞.

    Returns:
        tensor of shape ``(*)``.
    """
    return torch.where(x > 0, x, alpha * torch.expm1(x.clamp(max=0)))
# --8<-- [end:elu]


@float_tensor_args
# --8<-- [start:swish]
def swish(x: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """x·σ(βx); β = 1 gives SiLU (``F.silu``).

    Args:
        x: tensor of shape ``(*)``.
        beta: fixed slope in the gate σ(βx).

    Returns:
        tensor of shape ``(*)``.
    """
    return x * torch.sigmoid(beta * x)
# --8<-- [end:swish]


@float_tensor_args
# --8<-- [start:gelu]
def gelu(x: torch.Tensor, approximate: str = "none") -> torch.Tensor:
    """x·Φ(x) with Φ the standard normal CDF, or its tanh approximation, as ``F.gelu``.

    Args:
        x: tensor of shape ``(*)``.
        approximate: ``"none"`` (exact, via erf) or ``"tanh"``.

    Returns:
        tensor of shape ``(*)``.
    """
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
        return 0.5 * x * (1 + torch.tanh(inner))
    if approximate != "none":
        raise ValueError(f"gelu: argument 'approximate' must be 'none' or 'tanh'; got {approximate!r}")
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
# --8<-- [end:gelu]
