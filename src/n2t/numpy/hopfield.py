"""Hopfield network: Hebbian storage of ±1 patterns, the energy, asynchronous recall.

Shapes: ``N`` is the number of units (the letter of the Hopfield literature, where the capacity is
"0.138 N"; here it is not a batch), ``P`` the number of stored patterns, ``B`` a batch of states
recalled at once, ``K`` the number of single-unit updates in a sweep.

Every state and pattern holds +1 and −1 only. The energy bookkeeping of :func:`async_sweep` (and the
guarantee that the energy never rises) needs symmetric weights with a zero diagonal, which Hebbian
storage gives; the asynchronous functions refuse other weights instead of returning wrong energies.
"""

from __future__ import annotations

from typing import Any

from n2t._validate import checked_by, describe, positive_int

# --8<-- [start:imports]
import numpy as np
# --8<-- [end:imports]

__all__ = ["hebbian_weights", "energy", "async_sweep", "recall", "sync_step", "corrupt", "overlap", "glyphs",
           "Hopfield"]


def _spins(name: str, value: Any, where: str, letters: str, ndims: tuple[int, ...] = (1, 2)) -> np.ndarray:
    """``value`` as a float64 array of ±1 with one of the allowed numbers of axes, or a clear error."""
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{where}: argument '{name}' must be a numeric array of +1 and -1; got {describe(value)}")
    if array.ndim not in ndims or array.size == 0:
        raise ValueError(f"{where}: argument '{name}' must be a non-empty array of shape {letters}; "
                         f"got shape {array.shape}")
    wrong = (array != 1) & (array != -1)
    if wrong.any():
        examples = np.unique(array[wrong])[:3].tolist()
        raise ValueError(f"{where}: argument '{name}' must hold only +1 and -1 (binary units); "
                         f"got {int(wrong.sum())} other values such as {examples}")
    return array.astype(np.float64)


def _weights(value: Any, where: str, hopfield: bool) -> np.ndarray:
    """Square float weights; with ``hopfield`` also symmetric with a zero diagonal."""
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{where}: argument 'weights' must be a real-valued array; got {describe(value)}")
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.size == 0:
        raise ValueError(f"{where}: argument 'weights' must be a square matrix of shape (N, N); "
                         f"got shape {array.shape}")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{where}: argument 'weights' contains NaN or infinity")
    if hopfield:
        scale = max(float(np.abs(array).max()), 1.0)
        if not np.allclose(array, array.T, rtol=0.0, atol=1e-12 * scale):
            raise ValueError(f"{where}: argument 'weights' must be symmetric (W = W^T); the energy never rising "
                             f"depends on it. Largest |W - W^T| = {float(np.abs(array - array.T).max()):.3g}")
        if np.abs(np.diag(array)).max() > 1e-12 * scale:
            raise ValueError(f"{where}: argument 'weights' must have a zero diagonal (no self-connections); "
                             f"largest |W_ii| = {float(np.abs(np.diag(array)).max()):.3g}")
    return array


def _matching(weights: np.ndarray, states: np.ndarray, where: str) -> None:
    if states.shape[-1] != weights.shape[0]:
        raise ValueError(f"{where}: argument 'states' has {states.shape[-1]} units on its last axis (shape "
                         f"{states.shape}); the weights {weights.shape} are for {weights.shape[0]} units")


def _generator(rng: Any, where: str) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{where}: argument 'rng' must be a numpy.random.Generator (np.random.default_rng(seed)); "
                        f"got {describe(rng)}")
    return rng


def _check_patterns(where: str, patterns: Any) -> dict[str, Any]:
    return {"patterns": _spins("patterns", patterns, where, "(P, N)", ndims=(2,))}


def _check_state(where: str, weights: Any, states: Any, hopfield: bool = False) -> dict[str, Any]:
    weights = _weights(weights, where, hopfield)
    states = _spins("states", states, where, "(N,) or (B, N)")
    _matching(weights, states, where)
    return {"weights": weights, "states": states}


def _check_sweep(where: str, weights: Any, states: Any, order: Any) -> dict[str, Any]:
    checked = _check_state(where, weights, states, hopfield=True)
    order = np.asarray(order)
    n_units = checked["weights"].shape[0]
    if order.dtype.kind not in "iu" or order.ndim != 1 or order.size == 0:
        raise ValueError(f"{where}: argument 'order' must be a non-empty 1-D array of unit indices; "
                         f"got {describe(order)}")
    if order.min() < 0 or order.max() >= n_units:
        raise ValueError(f"{where}: argument 'order' holds indices outside 0..{n_units - 1}: "
                         f"min {order.min()}, max {order.max()}")
    return {**checked, "order": order}


def _check_recall(where: str, weights: Any, states: Any, rng: Any, max_sweeps: Any) -> dict[str, Any]:
    return {**_check_state(where, weights, states, hopfield=True), "rng": _generator(rng, where),
            "max_sweeps": positive_int("max_sweeps", max_sweeps, where)}


def _check_corrupt(where: str, patterns: Any, flips: Any, rng: Any) -> dict[str, Any]:
    patterns = _spins("patterns", patterns, where, "(N,) or (B, N)")
    if not isinstance(flips, (int, np.integer)) or isinstance(flips, bool) or not 0 <= flips <= patterns.shape[-1]:
        raise ValueError(f"{where}: argument 'flips' must be an int in 0..{patterns.shape[-1]} (the number of units); "
                         f"got {flips!r}")
    return {"patterns": patterns, "flips": int(flips), "rng": _generator(rng, where)}


def _check_overlap(where: str, states: Any, patterns: Any) -> dict[str, Any]:
    states = _spins("states", states, where, "(..., N)", ndims=tuple(range(1, 33)))
    patterns = _spins("patterns", patterns, where, "(..., N)", ndims=tuple(range(1, 33)))
    try:
        np.broadcast_shapes(states.shape, patterns.shape)
    except ValueError:
        raise ValueError(f"{where}: arguments 'states' {states.shape} and 'patterns' {patterns.shape} do not "
                         f"broadcast against each other") from None
    return {"states": states, "patterns": patterns}


@checked_by(_check_patterns)
# --8<-- [start:hebbian]
def hebbian_weights(patterns):
    """Hebb's rule: W = (1/N) Σ_μ p_μ p_μᵀ, with a zero diagonal (no unit connects to itself).

    Args:
        patterns: the memories, ±1, shape ``(P, N)``.

    Returns:
        weights, symmetric, shape ``(N, N)``.
    """
    n_units = patterns.shape[1]
    weights = patterns.T @ patterns / n_units  # (N, N): W_ij = (1/N) Σ_μ p_μi p_μj
    np.fill_diagonal(weights, 0.0)
    return weights
# --8<-- [end:hebbian]


@checked_by(_check_state)
# --8<-- [start:energy]
def energy(weights, states):
    """E(s) = −½ sᵀ W s = −½ Σ_i Σ_j W_ij s_i s_j.

    Args:
        weights: shape ``(N, N)``.
        states: ±1, shape ``(N,)`` or ``(B, N)``.

    Returns:
        the energy of each state, shape ``()`` or ``(B,)``.
    """
    return -0.5 * np.sum((states @ weights) * states, axis=-1)
# --8<-- [end:energy]


@checked_by(_check_sweep)
# --8<-- [start:update]
def async_sweep(weights, states, order):
    """Asynchronous updates: the units in ``order`` change one at a time, each seeing the latest states.

    Unit i takes the sign of its local field h_i = Σ_j W_ij s_j and keeps its state when h_i = 0.
    Changing s_i by Δs_i changes the energy by ΔE = −Δs_i h_i (negative whenever the unit changes): that is
    how the energy is tracked.
    A field that is 0 in exact arithmetic can come out as ±1e-17 (1/N is not exact in binary), so fields
    within 1e-9 · max|W| of 0 count as 0; otherwise rounding could make the states cycle.

    Args:
        weights: symmetric with a zero diagonal, shape ``(N, N)``.
        states: ±1, shape ``(N,)`` or ``(B, N)`` (not modified).
        order: the units to update, in turn, shape ``(K,)`` (a sweep: a permutation of 0..N−1).

    Returns:
        ``(states, energies)``: the new states, and the energy after each update, shape ``(K,)`` or ``(K, B)``.
    """
    states = states.copy()
    tie = 1e-9 * np.abs(weights).max()  # |h_i| below this is a rounding error of h_i = 0
    current = energy(weights, states)  # () or (B,)
    energies = []
    for i in order:
        field = states @ weights[i]  # h_i, () or (B,)
        new = np.where(np.abs(field) <= tie, states[..., i], np.sign(field))
        current = current - (new - states[..., i]) * field  # ΔE = −Δs_i h_i
        states[..., i] = new
        energies.append(current)
    return states, np.array(energies)
# --8<-- [end:update]


@checked_by(_check_recall)
# --8<-- [start:recall]
def recall(weights, states, rng, max_sweeps=100):
    """Sweeps of asynchronous updates, each in a fresh random order, until a whole sweep changes nothing.

    Args:
        weights: symmetric with a zero diagonal, shape ``(N, N)``.
        states: the probes, ±1, shape ``(N,)`` or ``(B, N)``.
        rng: ``np.random.Generator`` for the update orders.
        max_sweeps: stop after this many sweeps even if some unit still changes.

    Returns:
        ``(states, energies)``: the final states (fixed points unless ``max_sweeps`` ran out) and the energy
        at the start and after every update, shape ``(1 + sweeps·N,)`` or ``(1 + sweeps·N, B)``.
    """
    energies = [energy(weights, states)[np.newaxis]]
    for _ in range(max_sweeps):
        new, sweep_energies = async_sweep(weights, states, rng.permutation(len(weights)))
        energies.append(sweep_energies)
        stable = np.array_equal(new, states)
        states = new
        if stable:  # a fixed point: every unit agrees with the sign of its field
            break
    return states, np.concatenate(energies)
# --8<-- [end:recall]


@checked_by(_check_state)
# --8<-- [start:sync-update]
def sync_step(weights, states):
    """Synchronous update: every unit at once takes the sign of its field (keeping its state where it is 0).

    Unlike the asynchronous sweep this has no energy guarantee: it can cycle between two states.

    Args:
        weights: shape ``(N, N)``.
        states: ±1, shape ``(N,)`` or ``(B, N)``.

    Returns:
        the new states, the shape of ``states``.
    """
    tie = 1e-9 * np.abs(weights).max()  # as in async_sweep: |h_i| below this counts as 0
    fields = states @ weights.T  # h = W s for every state, (N,) or (B, N)
    return np.where(np.abs(fields) <= tie, states, np.sign(fields))
# --8<-- [end:sync-update]


@checked_by(_check_corrupt)
# --8<-- [start:corrupt]
def corrupt(patterns, flips, rng):
    """Flip ``flips`` units of each pattern, chosen at random without repetition.

    Args:
        patterns: ±1, shape ``(N,)`` or ``(B, N)`` (not modified).
        flips: how many units to flip in each pattern, 0…N.
        rng: ``np.random.Generator``.

    Returns:
        the corrupted patterns, the shape of ``patterns``.
    """
    ranks = rng.random(patterns.shape).argsort(axis=-1).argsort(axis=-1)  # a random permutation per row
    return np.where(ranks < flips, -patterns, patterns)
# --8<-- [end:corrupt]


@checked_by(_check_overlap)
# --8<-- [start:overlap]
def overlap(states, patterns):
    """m = (1/N) Σ_i s_i p_i: 1 for the pattern itself, −1 for its reverse, near 0 for an unrelated state.

    Args:
        states: ±1, shape ``(..., N)``.
        patterns: ±1, shape ``(..., N)``, broadcastable against ``states``.

    Returns:
        the overlaps, the broadcast shape without the last axis. m = 1 − 2·(fraction of units that differ).
    """
    return np.mean(states * patterns, axis=-1)
# --8<-- [end:overlap]


def glyphs(size: int = 12) -> dict[str, np.ndarray]:
    """Six recognisable ±1 images with small mutual overlaps (|m| ≤ 0.33 at size 12), to store and recall.

    Each covers roughly half of the grid, so unlike digits on a blank background they are not all alike.

    Args:
        size: side of the square images (at least 6).

    Returns:
        name → image of shape ``(size, size)`` with values ±1 (flatten to ``(N,)`` with N = size²).
    """
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 6:
        raise ValueError(f"glyphs: argument 'size' must be an int >= 6; got {size!r}")
    row, col = np.mgrid[0:size, 0:size] + 0.5  # pixel centres
    centre, band = size / 2, size / 6
    box = np.maximum(np.abs(row - centre), np.abs(col - centre))  # distance from the centre, max-norm
    shapes = {
        "cross": (np.abs(row - col) < 1.1 * band) | (np.abs(row + col - size) < 1.1 * band),
        "plus": (np.abs(row - centre) < 1.05 * band) | (np.abs(col - centre) < 1.05 * band),
        "triangle": col < row,
        "stripes": (row // (size / 6)) % 2 == 0,
        "checker": ((row // (size / 4)) + (col // (size / 4))) % 2 == 0,
        "frame": (box > 1.25 * band) & (box < 2.75 * band),
    }
    return {name: np.where(shape, 1.0, -1.0) for name, shape in shapes.items()}


class Hopfield:
    """A Hopfield network of ``n_units`` binary units (±1) with Hebbian weights.

    ``weights`` (shape ``(N, N)``, symmetric, zero diagonal) starts at zero; :meth:`store` adds patterns.

    Args:
        n_units: N, the number of units.
    """

    def __init__(self, n_units: int) -> None:
        self.n_units = positive_int("n_units", n_units, "Hopfield")
        self.weights = np.zeros((self.n_units, self.n_units))
        self.n_patterns = 0

    @property
    def load(self) -> float:
        """α = P / N, the patterns stored per unit."""
        return self.n_patterns / self.n_units

    def _states(self, name: str, value: Any, where: str) -> np.ndarray:
        states = _spins(name, value, where, f"({self.n_units},) or (B, {self.n_units})")
        if states.shape[-1] != self.n_units:
            raise ValueError(f"{where}: argument '{name}' must have {self.n_units} units on its last axis; "
                             f"got shape {states.shape}")
        return states

    def store(self, patterns: Any) -> Hopfield:
        """Add patterns to the memory (Hebb's rule is a sum, so storing in several calls is the same).

        Args:
            patterns: ±1, shape ``(P, N)``, or one pattern ``(N,)``.

        Returns:
            the network itself.
        """
        patterns = self._states("patterns", patterns, "Hopfield.store")
        patterns = patterns.reshape(-1, self.n_units)  # (P, N)
        self.weights = self.weights + hebbian_weights(patterns)
        self.n_patterns += patterns.shape[0]
        return self

    def energy(self, states: Any) -> np.ndarray:
        """Args: states, ±1, shape ``(N,)`` or ``(B, N)``. Returns: energies, shape ``()`` or ``(B,)``."""
        return energy(self.weights, self._states("states", states, "Hopfield.energy"))

    def recall(self, states: Any, rng: np.random.Generator, max_sweeps: int = 100) -> tuple[np.ndarray, np.ndarray]:
        """Run asynchronous sweeps from the probes ``states`` until nothing changes; see :func:`recall`.

        Args:
            states: probes, ±1, shape ``(N,)`` or ``(B, N)``.
            rng: ``np.random.Generator`` for the update orders.
            max_sweeps: upper bound on the number of sweeps.

        Returns:
            ``(states, energies)``: final states like ``states``; energies ``(1 + sweeps·N,)`` or
            ``(1 + sweeps·N, B)``.
        """
        return recall(self.weights, self._states("states", states, "Hopfield.recall"), rng, max_sweeps)
