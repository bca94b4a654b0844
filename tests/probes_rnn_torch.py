"""Probes for the regions of ``n2t.torch.rnn`` (see test_snippets.PROBES): each builds the object with a
fixed seed, runs it forward and backward, and returns tensors that must match exactly."""

from __future__ import annotations

import torch

SEQUENCE = torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(20), dtype=torch.float64)  # (N, T, D)
STEP = SEQUENCE[:, 0]  # (N, D)
HIDDEN = torch.randn(3, 6, generator=torch.Generator().manual_seed(21), dtype=torch.float64)  # (N, H)


def step_weights(gates: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(22)
    shapes = ((gates * 6, 4), (gates * 6, 6), (gates * 6,), (gates * 6,))
    return [torch.randn(*shape, generator=generator, dtype=torch.float64) for shape in shapes]


def with_grads(module: torch.nn.Module, outputs) -> list[torch.Tensor]:
    """The outputs and the gradients of every parameter for a fixed upstream gradient."""
    flat = [t for t in (outputs if isinstance(outputs, tuple) else (outputs,)) for t in
            (t if isinstance(t, tuple) else (t,))]
    loss = sum((t * torch.linspace(-1, 1, t.numel(), dtype=t.dtype).view(t.shape)).sum() for t in flat)
    loss.backward()
    return [t.detach() for t in flat] + [p.grad for p in module.parameters()]


def cell_probe(name: str, *args):
    def probe(get):
        torch.manual_seed(0)
        cell = get(name)(4, 6, *args).double()
        return with_grads(cell, cell(STEP, None if name == "LSTMCell" else HIDDEN))
    return probe


def layer_probe(name: str, **options):
    def probe(get):
        torch.manual_seed(0)
        layer = get(name)(4, 6, num_layers=2, bidirectional=True, **options).double()
        return with_grads(layer, layer(SEQUENCE))
    return probe


def recurrent_base_probe(get):
    torch.manual_seed(0)
    base = get("_Recurrent")(4, 6, num_layers=2, bidirectional=True)
    return [(name, tuple(p.shape)) for name, p in base.named_parameters()], list(base.parameters())


def to_builtin_probe(get):
    torch.manual_seed(0)
    ours = get("GRU")(4, 6, num_layers=2, batch_first=False).double()
    builtin = get("to_builtin")(ours)
    return str(builtin), builtin(SEQUENCE)


PROBES = {
    "n2t.torch.rnn": {
        "rnn_cell": lambda get: [get("rnn_cell")(STEP, HIDDEN, *step_weights(1), f) for f in ("tanh", "relu")],
        "RNNCell": cell_probe("RNNCell", "relu"),
        "lstm_cell": lambda get: get("lstm_cell")(STEP, HIDDEN, HIDDEN * 0.5, *step_weights(4)),
        "LSTMCell": cell_probe("LSTMCell"),
        "gru_cell": lambda get: get("gru_cell")(STEP, HIDDEN, *step_weights(3)),
        "GRUCell": cell_probe("GRUCell"),
        "_Recurrent": recurrent_base_probe,
        "RNN": layer_probe("RNN", nonlinearity="relu"),
        "LSTM": layer_probe("LSTM"),
        "GRU": layer_probe("GRU", batch_first=False),
        "to_builtin": to_builtin_probe,
    },
}
