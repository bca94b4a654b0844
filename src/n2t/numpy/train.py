"""A small training loop for NumPy models: minibatches, ``fit`` with a per-epoch history, ``evaluate``."""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from n2t.numpy import losses
from n2t.numpy.module import Module
from n2t.numpy.optim import Optimizer, clip_grad_norm

__all__ = ["LOSSES", "minibatches", "train_step", "evaluate", "fit"]

LossPair = tuple[Callable, Callable]
LOSSES: dict[str, LossPair] = {
    "cross_entropy": (losses.softmax_cross_entropy_forward, losses.softmax_cross_entropy_backward),
    "bce_with_logits": (losses.bce_with_logits_forward, losses.bce_with_logits_backward),
    "mse": (losses.mse_forward, losses.mse_backward),
}


def _loss_pair(loss: str) -> LossPair:
    if loss not in LOSSES:
        raise ValueError(f"argument 'loss' must be one of {sorted(LOSSES)}; got {loss!r}")
    return LOSSES[loss]


def minibatches(n: int, batch_size: int, rng: np.random.Generator | None = None) -> Iterator[np.ndarray]:
    """Index arrays that cover ``range(n)`` once, shuffled when ``rng`` is given.

    Args:
        n: number of examples N.
        batch_size: B; the last batch may be smaller.
        rng: ``np.random.Generator`` for the shuffle (None: keep the order).
    """
    if batch_size < 1:
        raise ValueError(f"argument 'batch_size' must be >= 1; got {batch_size!r}")
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def train_step(model: Module, optimizer: Optimizer, x: np.ndarray, y: np.ndarray,
               loss: str = "cross_entropy", clip_norm: float | None = None) -> float:
    """One forward, backward and update on a batch; returns the batch loss.

    Args:
        model: e.g. a ``Sequential``.
        optimizer: built on ``model.parameters()``.
        x: inputs, shape ``(B, D)``.
        y: targets (class indices ``(B,)`` for cross-entropy).
        loss: a key of :data:`LOSSES`.
        clip_norm: clip the global gradient norm to this value (None: no clipping).
    """
    loss_forward, loss_backward = _loss_pair(loss)
    value, cache = loss_forward(model.forward(x), y)
    model.backward(loss_backward(1.0, cache))
    if clip_norm is not None:
        clip_grad_norm(model.parameters(), clip_norm)
    optimizer.step()
    return float(value)


def _accuracy(output: np.ndarray, y: np.ndarray, loss: str) -> float:
    if loss == "cross_entropy":
        return float(np.mean(output.argmax(axis=1) == y))
    if loss == "bce_with_logits":
        return float(np.mean((output > 0) == (y > 0.5)))
    return float("nan")


def evaluate(model: Module, x: np.ndarray, y: np.ndarray, loss: str = "cross_entropy") -> dict[str, float]:
    """Loss and accuracy in evaluation mode (the model's mode is restored afterwards).

    Returns:
        ``{"loss": ..., "accuracy": ...}`` (accuracy is NaN for regression losses).
    """
    loss_forward, _ = _loss_pair(loss)
    was_training = model.training
    model.eval()
    output = model.forward(x)
    model.train(was_training)
    return {"loss": float(loss_forward(output, y)[0]), "accuracy": _accuracy(output, y, loss)}


def fit(model: Module, optimizer: Optimizer, x: np.ndarray, y: np.ndarray, epochs: int,
        batch_size: int = 32, loss: str = "cross_entropy", rng: np.random.Generator | None = None,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        clip_norm: float | None = None) -> dict[str, list[float]]:
    """Train for ``epochs`` passes over shuffled minibatches.

    Args:
        model: the network (put in training mode here).
        optimizer: built on ``model.parameters()``.
        x: inputs, shape ``(N, D)``.
        y: targets, ``(N,)`` class indices for cross-entropy.
        epochs: number of passes.
        batch_size: B.
        loss: a key of :data:`LOSSES`.
        rng: ``np.random.Generator`` for the shuffles.
        validation: ``(x_val, y_val)`` evaluated after every epoch.
        clip_norm: optional global gradient-norm clipping.

    Returns:
        history: ``"loss"`` (mean training loss per epoch), ``"accuracy"`` (training accuracy
        after the epoch) and, with validation data, ``"val_loss"`` and ``"val_accuracy"``.
    """
    if len(x) != len(y):
        raise ValueError(f"arguments 'x' and 'y' must have the same length; got {len(x)} and {len(y)}")
    rng = np.random.default_rng() if rng is None else rng
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    if validation is not None:
        history.update(val_loss=[], val_accuracy=[])
    for _ in range(epochs):
        model.train()
        batch_losses = [train_step(model, optimizer, x[idx], y[idx], loss, clip_norm)
                        for idx in minibatches(len(x), batch_size, rng)]
        history["loss"].append(float(np.mean(batch_losses)))
        history["accuracy"].append(evaluate(model, x, y, loss)["accuracy"])
        if validation is not None:
            scores = evaluate(model, *validation, loss=loss)
            history["val_loss"].append(scores["loss"])
            history["val_accuracy"].append(scores["accuracy"])
    return history
