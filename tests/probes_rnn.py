"""Probes for the regions of the NumPy recurrent modules (see test_snippets.PROBES)."""

from __future__ import annotations

import numpy as np

RNG = np.random.default_rng(20)
N, T, D, H, V = 3, 4, 5, 2, 6
X = RNG.standard_normal((N, T, D))
H0, C0 = RNG.standard_normal((N, H)), RNG.standard_normal((N, H))
WEIGHTS = {gates: (RNG.standard_normal((gates * H, D)), RNG.standard_normal((gates * H, H)),
                   RNG.standard_normal(gates * H), RNG.standard_normal(gates * H)) for gates in (1, 3, 4)}
DH = RNG.standard_normal((N, T, H))
TOKENS = RNG.integers(0, V, (N, T))
TABLE = RNG.standard_normal((V, D))
LOGITS = RNG.standard_normal((N, T, V))
MASK = np.array([[True, True, True, False], [True, True, False, False], [True, True, True, True]])


def step_pair(name, gates, states, **kwargs):
    """Forward one step, then backward with ∂L/∂(each output) = 0.5 × that output."""
    def probe(get):
        *outputs, cache = get(f"{name}_step_forward")(X[:, 0], *states, *WEIGHTS[gates], **kwargs)
        return outputs, get(f"{name}_step_backward")(*(0.5 * o for o in outputs), cache)
    return probe


def sequence_pair(name, gates, states, **kwargs):
    def probe(get):
        h, cache = get(f"{name}_forward")(X, *states, *WEIGHTS[gates], **kwargs)
        return h, get(f"{name}_backward")(DH, cache)
    return probe


def recurrent_probes(name, gates, states, **kwargs):
    return {f"{name}_step_forward": step_pair(name, gates, states, **kwargs),
            f"{name}_step_backward": step_pair(name, gates, states, **kwargs),
            f"{name}_forward": sequence_pair(name, gates, states, **kwargs),
            f"{name}_backward": sequence_pair(name, gates, states, **kwargs)}


def embedding_pair(get):
    out, cache = get("embedding_forward")(TOKENS, TABLE)
    return out, get("embedding_backward")(out * 0.5, cache)


def temporal_pair(get):
    loss, cache = get("temporal_softmax_cross_entropy_forward")(LOGITS, TOKENS, MASK)
    return loss, get("temporal_softmax_cross_entropy_backward")(0.7, cache)


PROBES = {
    "n2t.numpy.rnn": recurrent_probes("rnn", 1, (H0,), nonlinearity="relu"),
    "n2t.numpy.lstm": recurrent_probes("lstm", 4, (H0, C0)),
    "n2t.numpy.gru": recurrent_probes("gru", 3, (H0,)),
    "n2t.numpy.sequence": {name: pair for pair, names in (
        (embedding_pair, ("embedding_forward", "embedding_backward")),
        (temporal_pair, ("temporal_softmax_cross_entropy_forward", "temporal_softmax_cross_entropy_backward")))
        for name in names},
}
