"""Small datasets generated in code (nothing is downloaded)."""

from __future__ import annotations

import numpy as np

__all__ = ["logic_gate", "triangles_and_squares", "GATES"]

GATES = {
    "and": (-1, -1, -1, 1),
    "or": (-1, 1, 1, 1),
    "nand": (1, 1, 1, -1),
    "xor": (-1, 1, 1, -1),
}


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The four points of a two-input logic gate.

    Args:
        name: one of ``"and"``, ``"or"``, ``"nand"``, ``"xor"``.

    Returns:
        ``(x, y)``: inputs in {0, 1}, shape ``(4, 2)``; labels in {+1, −1}, shape ``(4,)``
        (+1 means true).
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in GATES:
        raise ValueError(f"logic_gate: argument 'name' must be one of {sorted(GATES)}; got {name!r}")
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return x, np.array(GATES[key])


def triangles_and_squares(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two classes that no straight line separates: triangles inside a disc, squares around it.

    Args:
        n: number of points (half of each class).
        seed: seed for ``np.random.default_rng``.

    Returns:
        ``(x, y)``: points in [−1, 1]², shape ``(N, 2)``; labels +1 (triangle) / −1 (square),
        shape ``(N,)``.
    """
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"triangles_and_squares: argument 'n' must be an int >= 2; got {n!r}")
    rng = np.random.default_rng(seed)
    n_in = n // 2
    radius_in = 0.5 * np.sqrt(rng.uniform(0, 1, n_in))
    radius_out = rng.uniform(0.7, 1.0, n - n_in)
    angles = rng.uniform(0, 2 * np.pi, n)
    radius = np.concatenate([radius_in, radius_out])
    x = np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)
    y = np.concatenate([np.ones(n_in, dtype=int), -np.ones(n - n_in, dtype=int)])
    order = rng.permutation(n)
    return x[order], y[order]
