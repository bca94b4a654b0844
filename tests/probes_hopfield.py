"""Probes for the regions of ``n2t.numpy.hopfield`` (see test_snippets.PROBES)."""

from __future__ import annotations

import numpy as np

RNG = np.random.default_rng(82)
PATTERNS = RNG.choice(np.array([-1.0, 1.0]), size=(3, 16))  # (P, N)
STATES = RNG.choice(np.array([-1.0, 1.0]), size=(4, 16))  # (B, N)


def weights(get):
    return get("hebbian_weights")(PATTERNS)


PROBES = {
    "n2t.numpy.hopfield": {
        "hebbian_weights": weights,
        "energy": lambda get: [get("energy")(weights(get), STATES), get("energy")(weights(get), STATES[0])],
        "async_sweep": lambda get: get("async_sweep")(weights(get), STATES, np.array([3, 0, 15, 7, 3])),
        "recall": lambda get: get("recall")(weights(get), STATES, np.random.default_rng(5)),
        "sync_step": lambda get: get("sync_step")(weights(get), STATES),
        "corrupt": lambda get: get("corrupt")(PATTERNS, 5, np.random.default_rng(6)),
        "overlap": lambda get: get("overlap")(STATES[:, None], PATTERNS[None]),
    },
}
