"""A device-agnostic training loop (CPU here, CUDA when present) mirroring ``n2t.numpy.train``."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from n2t.torch.device import default_device

__all__ = ["evaluate", "fit"]


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
             loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> dict[str, float]:
    """Loss and accuracy (argmax) in evaluation mode; the model's mode is restored.

    Args:
        model: a classifier returning logits ``(N, C)``.
        x: inputs ``(N, D)`` on the model's device.
        y: class indices ``(N,)`` on the same device.
        loss_fn: e.g. ``n2t.torch.losses.cross_entropy``.
    """
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = model(x)
        result = {"loss": float(loss_fn(logits, y)), "accuracy": float((logits.argmax(1) == y).float().mean())}
    model.train(was_training)
    return result


def fit(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, epochs: int,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], batch_size: int = 32,
        generator: torch.Generator | None = None, validation: tuple[torch.Tensor, torch.Tensor] | None = None,
        device: torch.device | str | None = None, batches: list[list[torch.Tensor]] | None = None,
        ) -> dict[str, list[float]]:
    """Train a classifier; the history has the same keys as ``n2t.numpy.train.fit``.

    Args:
        model: the network (moved to ``device``).
        optimizer: built on ``model.parameters()``.
        x: inputs ``(N, D)``.
        y: class indices ``(N,)``.
        epochs: number of passes.
        loss_fn: e.g. ``n2t.torch.losses.cross_entropy``.
        batch_size: B.
        generator: ``torch.Generator`` for the shuffles.
        validation: ``(x_val, y_val)`` evaluated after every epoch.
        device: where to train (default: CUDA if available, else CPU).
        batches: per epoch, the index tensors of its minibatches (overrides the shuffling; used to
            replay exactly the batches of a NumPy run).
    """
    device = torch.device(device) if device is not None else default_device()
    model.to(device)
    x, y = x.to(device), y.to(device)
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    if validation is not None:
        validation = (validation[0].to(device), validation[1].to(device))
        history.update(val_loss=[], val_accuracy=[])
    for epoch in range(epochs):
        model.train()
        order = batches[epoch] if batches is not None else torch.randperm(len(x), generator=generator).split(batch_size)
        losses = []
        for index in order:
            index = index.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(x[index]), y[index])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        history["loss"].append(sum(losses) / len(losses))
        history["accuracy"].append(evaluate(model, x, y, loss_fn)["accuracy"])
        if validation is not None:
            scores = evaluate(model, *validation, loss_fn)
            history["val_loss"].append(scores["loss"])
            history["val_accuracy"].append(scores["accuracy"])
    return history
