"""Chapter 6 cases for ``_worker.py``: a plain RNN and an LSTM over a whole sequence, forward + backward (BPTT).

Shape: a batch of N = 64 sequences of T = 32 steps, D = 32 input features, H = 128 hidden units, batch first,
zero initial state, an upstream gradient on every output h_t. NumPy: ``rnn_forward/rnn_backward`` and
``lstm_forward/lstm_backward``; torch: the built-in ``nn.RNN`` and ``nn.LSTM`` (fused kernels).
"""

from __future__ import annotations

import numpy as np

N, T, D, H = 64, 32, 32, 128
GATES = {"rnn": 1, "lstm": 4}  # rows of w_ih per hidden unit


def _weights(rng: np.random.Generator, gates: int) -> list[np.ndarray]:
    bound = 1 / np.sqrt(H)
    shapes = [(gates * H, D), (gates * H, H), (gates * H,), (gates * H,)]
    return [rng.uniform(-bound, bound, shape).astype(np.float32) for shape in shapes]


def numpy_cases(rng: np.random.Generator) -> dict:
    from n2t.numpy.lstm import lstm_backward, lstm_forward
    from n2t.numpy.rnn import rnn_backward, rnn_forward

    x = rng.standard_normal((N, T, D)).astype(np.float32)
    zeros = np.zeros((N, H), dtype=np.float32)
    dh = rng.standard_normal((N, T, H)).astype(np.float32)
    rnn_weights, lstm_weights = _weights(rng, GATES["rnn"]), _weights(rng, GATES["lstm"])
    return {
        "rnn_seq": lambda: rnn_backward(dh, rnn_forward(x, zeros, *rnn_weights)[1]),
        "lstm_seq": lambda: lstm_backward(dh, lstm_forward(x, zeros, zeros, *lstm_weights)[1]),
    }


def torch_cases(rng: np.random.Generator) -> dict:
    import torch
    from torch import nn

    x = torch.tensor(rng.standard_normal((N, T, D)), dtype=torch.float32, requires_grad=True)
    dh = torch.tensor(rng.standard_normal((N, T, H)), dtype=torch.float32)
    zeros = torch.zeros(1, N, H)

    def timed_step(module, state):
        def step():
            module.zero_grad(set_to_none=True)
            x.grad = None
            module(x, state)[0].backward(dh)
        return step

    return {
        "rnn_seq": timed_step(nn.RNN(D, H, batch_first=True), zeros),
        "lstm_seq": timed_step(nn.LSTM(D, H, batch_first=True), (zeros, zeros)),
    }
