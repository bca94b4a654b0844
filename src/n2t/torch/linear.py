"""The fully connected layer in PyTorch, written with a matrix product (no ``nn.Linear``)."""

from __future__ import annotations

from n2t.torch._checks import as_float_tensor

# --8<-- [start:imports]
import math

import torch
from torch import nn
# --8<-- [end:imports]

__all__ = ["linear", "Linear"]


def _check(x, weight, bias):
    as_float_tensor("x", x, "linear")
    as_float_tensor("weight", weight, "linear")
    if weight.dim() != 2 or x.dim() < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: argument 'x' must have shape (N, D) with D = weight.shape[1]; "
            f"got x {tuple(x.shape)} and weight {tuple(weight.shape)} (expected (H, D))"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(
            f"linear: argument 'bias' must have shape (H,) = ({weight.shape[0]},); got {tuple(bias.shape)}"
        )


def _checked(fn):
    def wrapper(x, weight, bias=None):
        _check(x, weight, bias)
        return fn(x, weight, bias)

    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = fn.__name__, fn.__doc__, fn
    return wrapper


@_checked
# --8<-- [start:linear]
def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """y = x Wᵀ + b, as ``torch.nn.functional.linear``.

    Args:
        x: inputs, shape ``(N, D)``.
        weight: shape ``(H, D)``.
        bias: shape ``(H,)`` or None.

    Returns:
        outputs, shape ``(N, H)``.
    """
    out = x @ weight.T  # (N, H)
    return out if bias is None else out + bias


class Linear(nn.Module):
    """Fully connected layer with ``weight`` of shape ``(out_features, in_features)``.

    Initialised as ``nn.Linear``: every entry ~ U(−1/√in_features, 1/√in_features).

    Args:
        in_features: D.
        out_features: H.
        bias: whether to learn a bias of shape ``(H,)``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, D)``. Returns: shape ``(N, H)``."""
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
# --8<-- [end:linear]
