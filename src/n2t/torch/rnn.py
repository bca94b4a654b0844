"""Recurrent networks from matrix products: RNN, LSTM and GRU cells, and layers that loop them over time.

Autograd provides backpropagation through time. Parameters carry PyTorch's names, shapes and
initialisation, so ``nn.LSTM(...).load_state_dict(ours.state_dict())`` works and the tests compare
every output and gradient with ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU``. Sequences are batch-first.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

# --8<-- [start:imports]
import math

import torch
from torch import nn
# --8<-- [end:imports]

from n2t.torch._checks import (
    check_cell_input,
    check_module_type,
    check_recurrent_options,
    check_sequence_input,
    checks_step,
    guard,
)

__all__ = ["rnn_cell", "lstm_cell", "gru_cell", "RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU",
           "to_builtin", "forget_bias_init"]


@checks_step(gates=1)
# --8<-- [start:rnn-cell]
def rnn_cell(x: torch.Tensor, h_prev: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor, b_ih: torch.Tensor,
             b_hh: torch.Tensor, nonlinearity: str = "tanh") -> torch.Tensor:
    """One step of a vanilla RNN: h = f(U x + W h_prev + b), f = tanh or ReLU.

    Args:
        x: input at this step, ``(N, D)``.
        h_prev: previous hidden state, ``(N, H)``.
        w_ih: U, ``(H, D)``.
        w_hh: W, ``(H, H)``.
        b_ih: ``(H,)``; PyTorch keeps two biases, their sum is b.
        b_hh: ``(H,)``.
        nonlinearity: ``"tanh"`` or ``"relu"``.

    Returns:
        The new hidden state h, ``(N, H)``.
    """
    s = x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh  # (N, H)
    return torch.tanh(s) if nonlinearity == "tanh" else torch.relu(s)


class RNNCell(nn.Module):
    """Vanilla RNN cell with ``nn.RNNCell``'s parameters and initialisation, computed by :func:`rnn_cell`.

    Args:
        input_size: D.
        hidden_size: H.
        nonlinearity: ``"tanh"`` or ``"relu"``.
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh") -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.nonlinearity = input_size, hidden_size, nonlinearity
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))  # U
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))  # W
        self.bias_ih = nn.Parameter(torch.empty(hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(hidden_size))
        for param in self.parameters():  # U(−1/√H, 1/√H), as nn.RNNCell
            nn.init.uniform_(param, -1 / math.sqrt(hidden_size), 1 / math.sqrt(hidden_size))

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """Args: x, ``(N, D)``; h, the previous state ``(N, H)`` (zeros if None). Returns: ``(N, H)``."""
        if h is None:
            h = x.new_zeros(x.shape[0], self.hidden_size)
        return rnn_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.nonlinearity)
# --8<-- [end:rnn-cell]


@checks_step(gates=4)
# --8<-- [start:lstm-cell]
def lstm_cell(x: torch.Tensor, h_prev: torch.Tensor, c_prev: torch.Tensor, w_ih: torch.Tensor,
              w_hh: torch.Tensor, b_ih: torch.Tensor, b_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step; the four gates are stacked in PyTorch's order i, f, g, o.

    Args:
        x: input at this step, ``(N, D)``.
        h_prev: previous hidden state, ``(N, H)``.
        c_prev: previous cell state, ``(N, H)``.
        w_ih: ``(4H, D)``.
        w_hh: ``(4H, H)``.
        b_ih: ``(4H,)``.
        b_hh: ``(4H,)``.

    Returns:
        ``(h, c)``: the new hidden and cell states, ``(N, H)`` each.
    """
    gates = x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh  # (N, 4H)
    i, f, g, o = gates.chunk(4, dim=1)  # (N, H) each
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c_prev + i * g  # forget part of the old memory, write the new candidate g
    h = o * torch.tanh(c)  # expose part of the memory
    return h, c


class LSTMCell(nn.Module):
    """LSTM cell with ``nn.LSTMCell``'s parameters and initialisation, computed by :func:`lstm_cell`.

    Args:
        input_size: D.
        hidden_size: H.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        for param in self.parameters():  # U(−1/√H, 1/√H), as nn.LSTMCell
            nn.init.uniform_(param, -1 / math.sqrt(hidden_size), 1 / math.sqrt(hidden_size))

    def forward(self, x: torch.Tensor,
                state: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Args: x, ``(N, D)``; state, ``(h, c)`` of ``(N, H)`` each (zeros if None). Returns: the new ``(h, c)``."""
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        h, c = state
        return lstm_cell(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
# --8<-- [end:lstm-cell]


@checks_step(gates=3)
# --8<-- [start:gru-cell]
def gru_cell(x: torch.Tensor, h_prev: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor, b_ih: torch.Tensor,
             b_hh: torch.Tensor) -> torch.Tensor:
    """One GRU step; the gates are stacked in PyTorch's order r (reset), z (update), n (candidate).

    Args:
        x: input at this step, ``(N, D)``.
        h_prev: previous hidden state, ``(N, H)``.
        w_ih: ``(3H, D)``.
        w_hh: ``(3H, H)``.
        b_ih: ``(3H,)``.
        b_hh: ``(3H,)``.

    Returns:
        The new hidden state, ``(N, H)``.
    """
    x_r, x_z, x_n = (x @ w_ih.T + b_ih).chunk(3, dim=1)  # (N, H) each
    h_r, h_z, h_n = (h_prev @ w_hh.T + b_hh).chunk(3, dim=1)  # (N, H) each
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)  # the reset gate scales only the recurrent part
    return (1 - z) * n + z * h_prev


class GRUCell(nn.Module):
    """GRU cell with ``nn.GRUCell``'s parameters and initialisation, computed by :func:`gru_cell`.

    Args:
        input_size: D.
        hidden_size: H.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size))
        for param in self.parameters():  # U(−1/√H, 1/√H), as nn.GRUCell
            nn.init.uniform_(param, -1 / math.sqrt(hidden_size), 1 / math.sqrt(hidden_size))

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """Args: x, ``(N, D)``; h, the previous state ``(N, H)`` (zeros if None). Returns: ``(N, H)``."""
        if h is None:
            h = x.new_zeros(x.shape[0], self.hidden_size)
        return gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
# --8<-- [end:gru-cell]


# --8<-- [start:recurrent]
class _Recurrent(nn.Module):
    """What RNN, LSTM and GRU share: parameters named as in ``nn.LSTM`` and the loops over layers,
    directions and time. A subclass sets ``gates`` and ``states`` and defines one time step.

    Args:
        input_size: D.
        hidden_size: H.
        num_layers: L, stacked layers (each reads the previous one's outputs).
        bidirectional: also run from the last step to the first and concatenate the two.
        batch_first: sequences are ``(N, T, D)`` if True, else ``(T, N, D)``.
    """

    gates = 1  # weight rows per hidden unit: 1 RNN, 4 LSTM, 3 GRU
    states = 1  # state tensors carried along: h, or (h, c) for the LSTM

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bidirectional: bool = False,
                 batch_first: bool = True) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bidirectional, self.batch_first = bidirectional, batch_first
        directions = 2 if bidirectional else 1
        rows = self.gates * hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else directions * hidden_size
            for suffix in ("", "_reverse")[:directions]:
                shapes = {"weight_ih": (rows, layer_input), "weight_hh": (rows, hidden_size),
                          "bias_ih": (rows,), "bias_hh": (rows,)}
                for name, shape in shapes.items():
                    self.register_parameter(f"{name}_l{layer}{suffix}", nn.Parameter(torch.empty(shape)))
        for param in self.parameters():  # U(−1/√H, 1/√H), as nn.LSTM
            nn.init.uniform_(param, -1 / math.sqrt(hidden_size), 1 / math.sqrt(hidden_size))

    def _step(self, x: torch.Tensor, state: tuple[torch.Tensor, ...], weights: list) -> tuple[torch.Tensor, ...]:
        raise NotImplementedError  # one time step: (N, D) input and (N, H) states to the new states

    def _weights(self, layer: int, direction: int) -> list:
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        return [getattr(self, name + suffix) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    def _scan(self, x: torch.Tensor, state: tuple[torch.Tensor, ...], weights: list,
              reverse: bool) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """One layer, one direction: x ``(N, T, D)``, state ``(N, H)`` each -> ``(N, T, H)``, final state."""
        steps = range(x.shape[1] - 1, -1, -1) if reverse else range(x.shape[1])
        hs = []
        for t in steps:  # the same weights at every step
            state = self._step(x[:, t], state, weights)
            hs.append(state[0])
        if reverse:
            hs.reverse()  # outputs in time order
        return torch.stack(hs, dim=1), state  # (N, T, H)

    def _run(self, x: torch.Tensor,
             state: tuple[torch.Tensor, ...] | None) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """x ``(N, T, D)``, state ``(L·dirs, N, H)`` each -> ``(N, T, dirs·H)``, final state ``(L·dirs, N, H)`` each."""
        if not self.batch_first:
            x = x.transpose(0, 1)  # (N, T, D)
        directions = 2 if self.bidirectional else 1
        if state is None:
            state = (x.new_zeros(self.num_layers * directions, x.shape[0], self.hidden_size),) * self.states
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                start = tuple(s[layer * directions + direction] for s in state)  # (N, H) each
                hs, final = self._scan(x, start, self._weights(layer, direction), reverse=direction == 1)
                outputs.append(hs)
                finals.append(final)
            x = torch.cat(outputs, dim=2)  # (N, T, dirs·H), the next layer's input
        out = x if self.batch_first else x.transpose(0, 1)
        return out, tuple(torch.stack(s) for s in zip(*finals))  # (L·dirs, N, H) each


class RNN(_Recurrent):
    """Multi-layer vanilla RNN with ``nn.RNN``'s parameters; returns what ``nn.RNN`` returns.

    Args:
        input_size: D.
        hidden_size: H.
        num_layers: L, stacked layers (each reads the previous one's outputs).
        bidirectional: also run a second RNN from the last step to the first and concatenate.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        batch_first: sequences are ``(N, T, D)`` if True, else ``(T, N, D)``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bidirectional: bool = False,
                 nonlinearity: str = "tanh", batch_first: bool = True) -> None:
        super().__init__(input_size, hidden_size, num_layers, bidirectional, batch_first)
        self.nonlinearity = nonlinearity

    def _step(self, x, state, weights):
        return (rnn_cell(x, state[0], *weights, self.nonlinearity),)

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Args: x, ``(N, T, D)``; state, h0 ``(L·dirs, N, H)`` (zeros if None).

        Returns: ``(out, h_n)``: every step's top-layer state ``(N, T, dirs·H)``, the last states ``(L·dirs, N, H)``.
        """
        out, (h_n,) = self._run(x, None if state is None else (state,))
        return out, h_n
# --8<-- [end:recurrent]


# --8<-- [start:lstm-layer]
class LSTM(_Recurrent):
    """Multi-layer LSTM with ``nn.LSTM``'s parameters; returns what ``nn.LSTM`` returns.

    Args:
        input_size: D.
        hidden_size: H.
        num_layers: L, stacked layers.
        bidirectional: also run from the last step to the first and concatenate.
        batch_first: sequences are ``(N, T, D)`` if True, else ``(T, N, D)``.
    """

    gates, states = 4, 2

    def _step(self, x, state, weights):
        return lstm_cell(x, *state, *weights)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Args: x, ``(N, T, D)``; state, ``(h0, c0)`` of ``(L·dirs, N, H)`` each (zeros if None).

        Returns: ``(out, (h_n, c_n))``: out ``(N, T, dirs·H)``, the last states ``(L·dirs, N, H)`` each.
        """
        out, (h_n, c_n) = self._run(x, state)
        return out, (h_n, c_n)
# --8<-- [end:lstm-layer]


# --8<-- [start:gru-layer]
class GRU(_Recurrent):
    """Multi-layer GRU with ``nn.GRU``'s parameters; returns what ``nn.GRU`` returns.

    Args:
        input_size: D.
        hidden_size: H.
        num_layers: L, stacked layers.
        bidirectional: also run from the last step to the first and concatenate.
        batch_first: sequences are ``(N, T, D)`` if True, else ``(T, N, D)``.
    """

    gates = 3

    def _step(self, x, state, weights):
        return (gru_cell(x, state[0], *weights),)

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Args: x, ``(N, T, D)``; state, h0 ``(L·dirs, N, H)`` (zeros if None).

        Returns: ``(out, h_n)``: out ``(N, T, dirs·H)``, the last states ``(L·dirs, N, H)``.
        """
        out, (h_n,) = self._run(x, None if state is None else (state,))
        return out, h_n
# --8<-- [end:gru-layer]


def _checks_to_builtin(fn: Callable[[Any], nn.Module]) -> Callable[[Any], nn.Module]:
    @functools.wraps(fn)
    def wrapper(module: Any) -> nn.Module:
        check_module_type(module, (RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell), "to_builtin")
        return fn(module)
    return wrapper


@_checks_to_builtin
# --8<-- [start:to-builtin]
def to_builtin(module: nn.Module) -> nn.Module:
    """PyTorch's own layer (``nn.LSTM`` for our LSTM, ``nn.GRUCell`` for our GRUCell, …) with the same weights.

    Args:
        module: one of our RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell.

    Returns:
        The built-in module on the same device, with the same dtype and a copy of the weights.
    """
    builtin_classes = {RNN: nn.RNN, LSTM: nn.LSTM, GRU: nn.GRU,
                       RNNCell: nn.RNNCell, LSTMCell: nn.LSTMCell, GRUCell: nn.GRUCell}
    options: dict = {}
    if isinstance(module, _Recurrent):
        options = {"num_layers": module.num_layers, "bidirectional": module.bidirectional,
                   "batch_first": module.batch_first}
    if isinstance(module, (RNN, RNNCell)):
        options["nonlinearity"] = module.nonlinearity
    weight = next(module.parameters())
    builtin = builtin_classes[type(module)](module.input_size, module.hidden_size, **options,
                                            device=weight.device, dtype=weight.dtype)
    builtin.load_state_dict(module.state_dict())
    return builtin
# --8<-- [end:to-builtin]


def forget_bias_init(lstm: nn.Module, value: float = 1.0) -> nn.Module:
    """Set the forget-gate bias of an LSTM, so that it starts out remembering (Gers et al., 2000).

    The forget gate sees the sum of two biases: its slice of ``bias_ih`` is set to ``value`` and its slice
    of ``bias_hh`` to 0, in every layer and direction, so the effective bias is exactly ``value``.

    Args:
        lstm: our :class:`LSTM` or :class:`LSTMCell`, or ``nn.LSTM`` / ``nn.LSTMCell``; changed in place.
        value: the forget-gate bias.

    Returns:
        ``lstm``.
    """
    check_module_type(lstm, (LSTM, LSTMCell, nn.LSTM, nn.LSTMCell), "forget_bias_init", "lstm")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"forget_bias_init: argument 'value' must be a finite number; got {value!r}")
    hidden = int(lstm.hidden_size)  # type: ignore[arg-type]
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias_"):  # gates i, f, g, o: f is rows H … 2H
                param[hidden:2 * hidden] = value if name.startswith("bias_ih") else 0.0
    return lstm


def _extra_repr(module: Any) -> str:
    options = [f"{name}={getattr(module, name)!r}"
               for name in ("num_layers", "bidirectional", "nonlinearity", "batch_first") if hasattr(module, name)]
    return ", ".join([str(module.input_size), str(module.hidden_size), *options])


# input checks, installed here so that the code above reads as the pages show it
for _cls, _state_names in ((RNNCell, ("h",)), (LSTMCell, ("h", "c")), (GRUCell, ("h",)),
                           (RNN, ("h0",)), (LSTM, ("h0", "c0")), (GRU, ("h0",))):
    guard(_cls, "__init__", check_recurrent_options)
    _check_input = check_sequence_input if issubclass(_cls, _Recurrent) else check_cell_input
    guard(_cls, "forward", functools.partial(_check_input, state_names=_state_names))
    _cls.extra_repr = _extra_repr  # type: ignore[method-assign, assignment]
