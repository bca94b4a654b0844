"""The perceptron learning rule on torch tensors (any device)."""

from __future__ import annotations

# --8<-- [start:imports]
import torch
# --8<-- [end:imports]

__all__ = ["Perceptron"]


# --8<-- [start:perceptron]
class Perceptron:
    """Binary linear classifier (labels +1/−1) trained by the perceptron learning rule.

    No gradients are involved: the rule adds y·x to w for each misclassified point.

    Args:
        n_features: D.
        lr: learning rate η > 0.
        device: where ``w`` and ``b`` live (default: CPU).
    """

    def __init__(self, n_features: int, lr: float = 1.0, device: str | torch.device | None = None) -> None:
        self.lr = lr
        self.w = torch.zeros(n_features, dtype=torch.float64, device=device)
        self.b = torch.zeros((), dtype=torch.float64, device=device)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, D)``. Returns: labels in {+1, −1}, shape ``(N,)``."""
        return torch.where(x @ self.w + self.b >= 0, 1, -1)

    def fit(self, x: torch.Tensor, y: torch.Tensor, max_epochs: int = 100) -> list[int]:
        """Run epochs of the rule until one makes no mistake; return mistakes per epoch.

        Args:
            x: shape ``(N, D)``, float64, on the model's device.
            y: labels in {+1, −1}, shape ``(N,)``.
            max_epochs: upper bound on passes over the data.
        """
        history = []
        for _ in range(max_epochs):
            mistakes = 0
            for xi, yi in zip(x, y):
                if yi * (xi @ self.w + self.b) <= 0:
                    self.w += self.lr * yi * xi
                    self.b += self.lr * yi
                    mistakes += 1
            history.append(mistakes)
            if mistakes == 0:
                break
        return history
# --8<-- [end:perceptron]
