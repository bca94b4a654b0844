"""Rosenblatt's perceptron: a hyperplane classifier trained by the perceptron learning rule."""

from __future__ import annotations

from n2t._validate import as_float_array, require_ndim

# --8<-- [start:imports]
import numpy as np
# --8<-- [end:imports]

__all__ = ["perceptron_predict", "perceptron_update", "Perceptron"]


# --8<-- [start:perceptron-predict]
def perceptron_predict(x: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Which side of the hyperplane w·x + b = 0 each point lies on.

    Args:
        x: points, shape ``(N, D)``.
        w: normal vector of the hyperplane, shape ``(D,)``.
        b: offset (a scalar).

    Returns:
        labels in {+1, −1}, shape ``(N,)`` (a point on the plane counts as +1).
    """
    return np.where(x @ w + b >= 0, 1, -1)
# --8<-- [end:perceptron-predict]


# --8<-- [start:perceptron-update]
def perceptron_update(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, lr: float = 1.0
) -> tuple[np.ndarray, float, int]:
    """One pass of the perceptron learning rule over the data, point by point.

    For each misclassified point (y·(w·x + b) ≤ 0): w ← w + lr·y·x, b ← b + lr·y.

    Args:
        x: points, shape ``(N, D)``.
        y: labels in {+1, −1}, shape ``(N,)``.
        w: weights, shape ``(D,)``.
        b: bias (a scalar).
        lr: learning rate η > 0.

    Returns:
        ``(w, b, mistakes)``: new weights and bias (inputs are not modified) and how many points
        were misclassified during the pass.
    """
    w = w.copy()
    mistakes = 0
    for xi, yi in zip(x, y):
        if yi * (xi @ w + b) <= 0:
            w += lr * yi * xi
            b += lr * yi
            mistakes += 1
    return w, b, mistakes
# --8<-- [end:perceptron-update]


class Perceptron:
    """Binary linear classifier with labels +1/−1 and the perceptron learning rule.

    ``params`` holds ``"w"`` (shape ``(D,)``) and ``"b"`` (shape ``()``).

    Args:
        n_features: D, the input dimension.
        lr: learning rate η > 0.
    """

    def __init__(self, n_features: int, lr: float = 1.0) -> None:
        if not isinstance(n_features, (int, np.integer)) or n_features < 1:
            raise ValueError(f"Perceptron: argument 'n_features' must be a positive int; got {n_features!r}")
        if not lr > 0:
            raise ValueError(f"Perceptron: argument 'lr' must be > 0; got {lr!r}")
        self.lr = float(lr)
        self.params = {"w": np.zeros(n_features), "b": np.zeros(())}

    def _check_x(self, x, where):
        x = as_float_array("x", x, where)
        require_ndim("x", x, 2, where, "(N, D)")
        if x.shape[1] != self.params["w"].shape[0]:
            raise ValueError(
                f"{where}: argument 'x' must have shape (N, {self.params['w'].shape[0]}); got {x.shape}"
            )
        return x

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Args: x, shape ``(N, D)``. Returns: labels in {+1, −1}, shape ``(N,)``."""
        x = self._check_x(x, "Perceptron.predict")
        return perceptron_predict(x, self.params["w"], float(self.params["b"]))

    def fit(self, x: np.ndarray, y: np.ndarray, max_epochs: int = 100) -> list[int]:
        """Apply the learning rule until an epoch makes no mistake or ``max_epochs`` passes.

        Args:
            x: points, shape ``(N, D)``.
            y: labels in {+1, −1}, shape ``(N,)``.
            max_epochs: upper bound on passes over the data.

        Returns:
            mistakes per epoch, a list of ints; it ends in 0 exactly when the data were separated.
        """
        x = self._check_x(x, "Perceptron.fit")
        y = np.asarray(y)
        if y.shape != (x.shape[0],) or not np.all(np.isin(y, (-1, 1))):
            raise ValueError(
                f"Perceptron.fit: argument 'y' must have shape ({x.shape[0]},) with values in "
                f"{{+1, -1}}; got shape {y.shape} and values {np.unique(y)[:5]}"
            )
        history = []
        w, b = self.params["w"], float(self.params["b"])
        for _ in range(max_epochs):
            w, b, mistakes = perceptron_update(x, y, w, b, self.lr)
            history.append(mistakes)
            if mistakes == 0:
                break
        self.params = {"w": w, "b": np.array(b)}
        return history
