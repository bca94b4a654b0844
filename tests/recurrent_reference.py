"""References for the NumPy recurrent tests: PyTorch's built-in layers called on given weights."""

from __future__ import annotations

import numpy as np
import torch
from torch.func import functional_call

GATES = {"rnn": 1, "gru": 3, "lstm": 4}
BUILTIN = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}


def weights(rng: np.random.Generator, kind: str, d: int, h: int, scale: float = 0.5) -> dict[str, np.ndarray]:
    """Packed float64 weights ``w_ih (G·H, D)``, ``w_hh (G·H, H)``, ``b_ih``, ``b_hh`` for one layer."""
    rows = GATES[kind] * h
    return {"w_ih": scale * rng.standard_normal((rows, d)), "w_hh": scale * rng.standard_normal((rows, h)),
            "b_ih": 0.3 * rng.standard_normal(rows), "b_hh": 0.3 * rng.standard_normal(rows)}


def _call_builtin(kind, nonlinearity, x, args):
    """Run nn.RNN/GRU/LSTM on ``x (N, T, D)`` with the given packed weights; returns its outputs."""
    *states, w_ih, w_hh, b_ih, b_hh = args
    extra = {"nonlinearity": nonlinearity} if kind == "rnn" else {}
    module = BUILTIN[kind](x.shape[2], w_hh.shape[1], batch_first=True, **extra).double()
    params = {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}
    initial = tuple(s[None] for s in states)
    return functional_call(module, params, (x, initial if kind == "lstm" else initial[0]))


def builtin_sequence(kind: str, nonlinearity: str = "tanh"):
    """``fn(x, *states, w_ih, w_hh, b_ih, b_hh) -> outputs (N, T, H)`` computed by nn.RNN/GRU/LSTM."""
    return lambda x, *args, **_: _call_builtin(kind, nonlinearity, x, args)[0]


def builtin_step(kind: str, nonlinearity: str = "tanh"):
    """One step through the built-in (a length-1 sequence); LSTM returns h and c concatenated."""
    def fn(x, *args, **_):
        out, final = _call_builtin(kind, nonlinearity, x[:, None], args)
        return torch.cat([out[:, 0], final[1][0]], dim=1) if kind == "lstm" else out[:, 0]
    return fn
