"""Losses written from torch primitives; they equal ``nn.CrossEntropyLoss`` and friends."""

from __future__ import annotations

# --8<-- [start:imports]
import torch
# --8<-- [end:imports]

__all__ = ["mse", "bce_with_logits", "cross_entropy"]


# --8<-- [start:mse]
def mse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error with the 1/2 convention: 1/(2N) Σᵢ ‖ŷᵢ − yᵢ‖².

    Args:
        prediction: shape ``(N, D)`` or ``(N,)``.
        target: same shape.

    Returns:
        a scalar tensor.
    """
    return ((prediction - target) ** 2).sum() / (2 * prediction.shape[0])
# --8<-- [end:mse]


# --8<-- [start:bce-with-logits]
def bce_with_logits(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy on logits: mean of log(1 + eᶻ) − t·z, stable for |z| = 1000.

    Args:
        logits: shape ``(N,)`` or ``(N, 1)``.
        target: targets in [0, 1], same shape.

    Returns:
        a scalar tensor.
    """
    return (torch.logaddexp(torch.zeros_like(logits), logits) - target * logits).mean()
# --8<-- [end:bce-with-logits]


# --8<-- [start:cross-entropy]
def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Softmax cross-entropy with integer labels, via the stable log-softmax.

    Args:
        logits: shape ``(N, C)``.
        labels: class indices, shape ``(N,)``, dtype int64.

    Returns:
        a scalar tensor (the mean over the batch).
    """
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)  # (N, C)
    return -log_p.gather(1, labels[:, None]).mean()
# --8<-- [end:cross-entropy]
