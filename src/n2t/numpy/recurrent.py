"""Recurrent layers as modules: ``RNN``, ``LSTM`` and ``GRU``, stacked and bidirectional.

Batch-first like ``nn.LSTM(..., batch_first=True)``, with PyTorch's parameter names and shapes
(``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``…_reverse`` for the backward
direction), so ``{k: torch.from_numpy(v) for k, v in layer.params.items()}`` loads into the
built-in with ``load_state_dict``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from n2t._validate import as_float_array, positive_int
from n2t.numpy.gru import gru_backward, gru_forward
from n2t.numpy.lstm import lstm_backward, lstm_forward
from n2t.numpy.module import Module
from n2t.numpy.rnn import rnn_backward, rnn_forward

__all__ = ["RNN", "LSTM", "GRU"]


class _Recurrent(Module):
    """A stack of recurrent layers, each running forward in time (and backward if bidirectional).

    Layer k > 0 reads the outputs of layer k − 1 (both directions concatenated).
    """

    gates = 1
    forward_fn: Callable[..., Any] = staticmethod(rnn_forward)
    backward_fn: Callable[..., Any] = staticmethod(rnn_backward)
    state_count = 1  # h only; the LSTM also carries c

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bidirectional: bool = False,
                 rng: np.random.Generator | None = None) -> None:
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            positive_int(name, value, type(self).__name__)
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = int(input_size), int(hidden_size), int(num_layers)
        self.bidirectional = bool(bidirectional)
        self.directions = 2 if bidirectional else 1
        rng = np.random.default_rng() if rng is None else rng
        bound = 1.0 / np.sqrt(hidden_size)  # PyTorch's init: U(−1/√H, 1/√H) for every tensor
        rows = self.gates * hidden_size
        for layer in range(num_layers):
            width = input_size if layer == 0 else hidden_size * self.directions
            for suffix in self._suffixes(layer):
                for name, shape in (("weight_ih", (rows, width)), ("weight_hh", (rows, hidden_size)),
                                    ("bias_ih", (rows,)), ("bias_hh", (rows,))):
                    self.params[f"{name}{suffix}"] = rng.uniform(-bound, bound, shape)
        self.zero_grad()
        self.state: Any = None
        self.dstate: Any = None
        self._caches: list[list[Any]] = []

    def _suffixes(self, layer: int) -> list[str]:
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.directions]

    def _weights(self, suffix: str) -> list[np.ndarray]:
        return [self.params[f"{name}{suffix}"] for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    def _extra(self) -> dict[str, Any]:
        return {}

    def _initial_states(self, state: Any, n: int, dtype: np.dtype) -> list[np.ndarray]:
        """The initial states as ``state_count`` arrays of shape (layers·dirs, N, H)."""
        expected = (self.num_layers * self.directions, n, self.hidden_size)
        if state is None:
            return [np.zeros(expected, dtype=dtype)] * self.state_count
        parts = list(state) if self.state_count > 1 else [state]
        if len(parts) != self.state_count:
            raise ValueError(f"{type(self).__name__}.forward: argument 'state' must be (h0, c0); "
                             f"got {len(parts)} arrays")
        arrays = [as_float_array("state", part, f"{type(self).__name__}.forward") for part in parts]
        for array in arrays:
            if array.shape != expected:
                raise ValueError(f"{type(self).__name__}.forward: argument 'state' must have shape "
                                 f"(layers·directions, N, H) = {expected}; got shape {array.shape}")
        return arrays

    def forward(self, x: np.ndarray, state: Any = None) -> np.ndarray:
        """Run every layer over the sequence.

        Args:
            x: inputs, shape ``(N, T, D)``.
            state: initial hidden state ``(layers·dirs, N, H)`` (LSTM: a pair ``(h0, c0)``); zeros if None.

        Returns:
            outputs of the last layer, shape ``(N, T, dirs·H)``. The final states are kept in
            ``self.state`` (LSTM: ``(h_n, c_n)``), each ``(layers·dirs, N, H)``.
        """
        x = as_float_array("x", x, f"{type(self).__name__}.forward")
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"{type(self).__name__}.forward: argument 'x' must have shape (N, T, D) with "
                             f"D = {self.input_size}; got shape {x.shape}")
        initial = self._initial_states(state, x.shape[0], x.dtype)
        finals: list[list[np.ndarray]] = [[] for _ in range(self.state_count)]
        self._caches = []
        for layer in range(self.num_layers):
            outputs, caches = [], []
            for direction, suffix in enumerate(self._suffixes(layer)):
                index = layer * self.directions + direction
                sequence = x if direction == 0 else x[:, ::-1]  # the reverse direction reads time backwards
                h, cache = self.forward_fn(sequence, *(s[index] for s in initial), *self._weights(suffix),
                                           **self._extra())
                finals[0].append(h[:, -1])
                if self.state_count > 1:
                    finals[1].append(cache[1][:, -1])  # the LSTM's last cell state
                outputs.append(h if direction == 0 else h[:, ::-1])
                caches.append(cache)
            x = np.concatenate(outputs, axis=2)  # (N, T, dirs·H)
            self._caches.append(caches)
        stacked = [np.stack(parts) for parts in finals]
        self.state = stacked[0] if self.state_count == 1 else tuple(stacked)
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Backpropagation through time through every layer and direction.

        Args:
            dout: ∂L/∂outputs, shape ``(N, T, dirs·H)``.

        Returns:
            dx, shape ``(N, T, D)``. Fills ``grads``; the gradient of the initial states is kept in
            ``self.dstate`` (same structure as ``state``).
        """
        if not self._caches:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        hidden = self.hidden_size
        dstates: list[list[np.ndarray]] = [[None] * (self.num_layers * self.directions)  # type: ignore[list-item]
                                           for _ in range(self.state_count)]
        for layer in reversed(range(self.num_layers)):
            dx: np.ndarray | None = None
            for direction, suffix in enumerate(self._suffixes(layer)):
                d_h = dout[:, :, direction * hidden:(direction + 1) * hidden]
                grads = self.backward_fn(d_h if direction == 0 else d_h[:, ::-1], self._caches[layer][direction])
                d_in, states, weights = grads[0], grads[1:1 + self.state_count], grads[1 + self.state_count:]
                d_in = d_in if direction == 0 else d_in[:, ::-1]
                dx = d_in if dx is None else dx + d_in
                for store, value in zip(dstates, states):
                    store[layer * self.directions + direction] = value
                for name, grad in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), weights):
                    self.grads[f"{name}{suffix}"] = grad
            assert dx is not None
            dout = dx
        stacked = [np.stack(parts) for parts in dstates]
        self.dstate = stacked[0] if self.state_count == 1 else tuple(stacked)
        return dout

    def config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "num_layers": self.num_layers,
                "bidirectional": self.bidirectional, **self._extra()}


class RNN(_Recurrent):
    """Simple recurrent layers h_t = f(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh), as ``torch.nn.RNN``.

    Args:
        input_size: D.
        hidden_size: H.
        num_layers: stacked layers.
        bidirectional: also run a layer backwards in time and concatenate.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        rng: generator for the initial weights.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bidirectional: bool = False,
                 nonlinearity: str = "tanh", rng: np.random.Generator | None = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: argument 'nonlinearity' must be 'tanh' or 'relu'; got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bidirectional, rng)

    def _extra(self) -> dict[str, Any]:
        return {"nonlinearity": self.nonlinearity}


class LSTM(_Recurrent):
    """Long short-term memory layers, as ``torch.nn.LSTM`` (gates packed i, f, g, o).

    Args:
        input_size: D.
        hidden_size: H.
        num_layers: stacked layers.
        bidirectional: also run a layer backwards in time and concatenate.
        rng: generator for the initial weights.
    """

    gates = 4
    forward_fn = staticmethod(lstm_forward)
    backward_fn = staticmethod(lstm_backward)
    state_count = 2


class GRU(_Recurrent):
    """Gated recurrent unit layers, as ``torch.nn.GRU`` (gates packed r, z, n).

    Args:
        input_size: D.
        hidden_size: H.
        num_layers: stacked layers.
        bidirectional: also run a layer backwards in time and concatenate.
        rng: generator for the initial weights.
    """

    gates = 3
    forward_fn = staticmethod(gru_forward)
    backward_fn = staticmethod(gru_backward)
