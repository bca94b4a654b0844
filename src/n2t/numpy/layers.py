"""Activation layers and the ``Sequential`` container for NumPy networks."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from n2t.numpy import activations as act
from n2t.numpy.module import Module

__all__ = ["ReLU", "LeakyReLU", "Tanh", "Sigmoid", "GELU", "Sequential"]


class _Elementwise(Module):
    """An activation function as a layer: it keeps the cache of its last forward pass."""

    def __init__(self) -> None:
        super().__init__()
        self._cache: Any = None

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        raise NotImplementedError

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Args: x, shape ``(*)``. Returns: shape ``(*)``."""
        out, self._cache = self._forward(x)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Args: dout, shape ``(*)``. Returns: dx, shape ``(*)``."""
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self._backward(dout, self._cache)


class ReLU(_Elementwise):
    """max(0, x) as a layer."""

    def _forward(self, x):
        return act.relu_forward(x)

    def _backward(self, dout, cache):
        return act.relu_backward(dout, cache)


class LeakyReLU(_Elementwise):
    """Leaky ReLU as a layer.

    Args:
        negative_slope: slope for negative inputs.
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def _forward(self, x):
        return act.leaky_relu_forward(x, self.negative_slope)

    def _backward(self, dout, cache):
        return act.leaky_relu_backward(dout, cache)

    def config(self) -> dict:
        return {"negative_slope": self.negative_slope}


class Tanh(_Elementwise):
    """tanh as a layer."""

    def _forward(self, x):
        return act.tanh_forward(x)

    def _backward(self, dout, cache):
        return act.tanh_backward(dout, cache)


class Sigmoid(_Elementwise):
    """The logistic function as a layer."""

    def _forward(self, x):
        return act.sigmoid_forward(x)

    def _backward(self, dout, cache):
        return act.sigmoid_backward(dout, cache)


class GELU(_Elementwise):
    """GELU (exact) as a layer."""

    def _forward(self, x):
        return act.gelu_forward(x)

    def _backward(self, dout, cache):
        return act.gelu_backward(dout, cache)


class Sequential(Module):
    """Layers applied in order; ``backward`` runs them in reverse.

    Args:
        *layers: ``Module`` instances, e.g. ``Sequential(Linear(64, 32), ReLU(), Linear(32, 10))``.
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for index, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {index} must be an n2t.numpy Module; got {type(layer).__name__}")
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Args: x, shape ``(N, D)``. Returns: the last layer's output."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Backpropagate ∂L/∂out through every layer; returns ∂L/∂x."""
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def train(self, mode: bool = True) -> "Sequential":
        self.training = mode
        for layer in self.layers:
            layer.train(mode)
        return self

    def parameters(self) -> list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
        return [pair for layer in self.layers for pair in layer.parameters()]

    def zero_grad(self) -> None:
        for layer in self.layers:
            layer.zero_grad()

    def num_parameters(self) -> int:
        return sum(layer.num_parameters() for layer in self.layers)

    def named_arrays(self) -> Iterator[tuple[str, dict[str, np.ndarray], str]]:
        """``("<index>.<name>", dict, name)`` for every parameter and buffer, in order."""
        for index, layer in enumerate(self.layers):
            for store in (layer.params, layer.buffers):
                for name in store:
                    yield f"{index}.{name}", store, name

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"
