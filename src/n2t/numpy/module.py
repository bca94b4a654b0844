"""The base class of every NumPy layer: ``params``/``grads`` dicts, train/eval mode, a config."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Module"]


class Module:
    """A layer with a forward and a hand-written backward pass.

    Attributes:
        params: name → learnable array; optimizers update these in place.
        grads: name → gradient of the loss, same keys and shapes as ``params`` (filled by ``backward``).
        buffers: name → state that is saved but not learned (e.g. batch-norm running statistics).
        training: ``True`` in training mode (dropout and batch norm behave differently in eval mode).
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Compute the output and remember what ``backward`` needs."""
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Given ∂L/∂out, fill ``grads`` and return ∂L/∂x."""
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def train(self, mode: bool = True) -> "Module":
        """Switch to training mode (``mode=False``: evaluation mode); returns ``self``."""
        self.training = mode
        return self

    def eval(self) -> "Module":
        """Switch to evaluation mode; returns ``self``."""
        return self.train(False)

    def parameters(self) -> list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
        """``[(params, grads)]`` for the optimizers (empty for a layer without parameters)."""
        return [(self.params, self.grads)] if self.params else []

    def zero_grad(self) -> None:
        """Set every gradient to zero."""
        for key, value in self.params.items():
            self.grads[key] = np.zeros_like(value)

    def num_parameters(self) -> int:
        """Number of learned scalars."""
        return int(sum(value.size for value in self.params.values()))

    def config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this layer (saved in a model file's manifest)."""
        return {}

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({arguments})"
