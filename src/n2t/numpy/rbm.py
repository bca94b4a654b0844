"""The restricted Boltzmann machine (binary units): energy, free energy, Gibbs sampling, CD-k.

Weights use PyTorch's ``Linear`` layout: ``W`` has shape ``(H, V)``, one row per hidden unit, so the
hidden pre-activation is ``v Wᵀ + c`` exactly as in ``linear_forward``. Visible and hidden values are
Bernoulli: inputs outside [0, 1] are rejected with a clear error, never silently sampled.
"""

from __future__ import annotations

import functools
import inspect
import os
from typing import Any, Callable

from n2t._validate import as_float_array, checks_dout, describe, positive_int
from n2t.numpy.serialize import load_params, save_params

# --8<-- [start:imports]
import numpy as np

from n2t.numpy.activations import sigmoid
# --8<-- [end:imports]

__all__ = ["energy", "hidden_probabilities", "visible_probabilities", "bernoulli", "free_energy_forward",
           "free_energy_backward", "phase_statistics", "cd_gradient", "log_partition", "log_likelihood", "RBM",
           "pretrain_rbms"]

MAX_ENUMERATED_UNITS = 20  # log_partition sums over 2**min(V, H) states


def _matrix(name: str, value: Any, where: str, letters: str, columns: int | None = None,
            unit_interval: bool = False) -> np.ndarray:
    array = as_float_array(name, value, where)
    if array.ndim != 2 or (columns is not None and array.shape[1] != columns):
        width = "?" if columns is None else columns
        raise ValueError(f"{where}: argument '{name}' must have shape {letters} with {letters[-2]} = {width}; "
                         f"got shape {array.shape}")
    if unit_interval and array.size and not (np.all(array >= 0.0) and np.all(array <= 1.0)):
        raise ValueError(f"{where}: argument '{name}' holds Bernoulli values and must lie in [0, 1]; "
                         f"got {_value_range(array)}")
    return array


def _value_range(array: np.ndarray) -> str:
    """``values in [lo, hi]`` over the non-NaN entries, noting NaN, for error messages."""
    finite = array[~np.isnan(array)]
    span = f"values in [{finite.min():.4g}, {finite.max():.4g}]" if finite.size else "no numbers"
    return span + (" (NaN present)" if finite.size < array.size else "")


def _vector(name: str, value: Any, where: str, size: int, letter: str) -> np.ndarray:
    array = as_float_array(name, value, where)
    if array.shape != (size,):
        raise ValueError(f"{where}: argument '{name}' must have shape ({letter},) = ({size},); got {array.shape}")
    return array


def _rbm_args(fn: Callable) -> Callable:
    """Check the RBM arguments a function takes (v, h, w, b, c) by name; v and h must lie in [0, 1]."""
    where = fn.__name__
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = bound.arguments
        w = arguments["w"] = _matrix("w", arguments["w"], where, "(H, V)")
        hidden, visible = w.shape
        for name, size, letters in (("v", visible, "(N, V)"), ("h", hidden, "(N, H)")):
            if name in arguments:
                arguments[name] = _matrix(name, arguments[name], where, letters, size, unit_interval=True)
        for name, size, letter in (("b", visible, "V"), ("c", hidden, "H")):
            if name in arguments:
                arguments[name] = _vector(name, arguments[name], where, size, letter)
        if "v" in arguments and "h" in arguments and len(arguments["v"]) != len(arguments["h"]):
            raise ValueError(f"{where}: arguments 'v' and 'h' must have the same N; got {arguments['v'].shape} "
                             f"and {arguments['h'].shape}")
        if "k" in arguments:
            positive_int("k", arguments["k"], where)
        if "rng" in arguments and not isinstance(arguments["rng"], np.random.Generator):
            raise TypeError(f"{where}: argument 'rng' must be a np.random.Generator; got {describe(arguments['rng'])}")
        return fn(*bound.args, **bound.kwargs)

    return wrapper


@_rbm_args
# --8<-- [start:energy]
def energy(v, h, w, b, c):
    """E(v, h) = −bᵀv − cᵀh − hᵀWv for each row pair.

    Args:
        v: visible states, shape ``(N, V)``.
        h: hidden states, shape ``(N, H)``.
        w: weights, shape ``(H, V)``.
        b: visible biases, shape ``(V,)``.
        c: hidden biases, shape ``(H,)``.

    Returns:
        energies, shape ``(N,)``.
    """
    return -v @ b - h @ c - np.sum((h @ w) * v, axis=1)
# --8<-- [end:energy]


@_rbm_args
# --8<-- [start:hidden-probabilities]
def hidden_probabilities(v, w, c):
    """p(h_j = 1 | v) = σ(c_j + W_j v): the hidden units are independent given v.

    Args:
        v: visible states, shape ``(N, V)``.
        w: weights, shape ``(H, V)``.
        c: hidden biases, shape ``(H,)``.

    Returns:
        probabilities, shape ``(N, H)``.
    """
    return sigmoid(v @ w.T + c)  # (N, H)
# --8<-- [end:hidden-probabilities]


@_rbm_args
# --8<-- [start:visible-probabilities]
def visible_probabilities(h, w, b):
    """p(v_i = 1 | h) = σ(b_i + (Wᵀh)_i): the visible units are independent given h.

    Args:
        h: hidden states, shape ``(N, H)``.
        w: weights, shape ``(H, V)``.
        b: visible biases, shape ``(V,)``.

    Returns:
        probabilities, shape ``(N, V)``.
    """
    return sigmoid(h @ w + b)  # (N, V)
# --8<-- [end:visible-probabilities]


def _bernoulli_args(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(p: Any, rng: Any) -> np.ndarray:
        p = as_float_array("p", p, "bernoulli")
        if p.size and not (np.all(p >= 0.0) and np.all(p <= 1.0)):
            raise ValueError(f"bernoulli: argument 'p' must hold probabilities in [0, 1]; got {_value_range(p)}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"bernoulli: argument 'rng' must be a np.random.Generator; got {describe(rng)}")
        return fn(p, rng)

    return wrapper


@_bernoulli_args
# --8<-- [start:bernoulli]
def bernoulli(p, rng):
    """Independent 0/1 samples, 1 with probability p.

    Args:
        p: probabilities, any shape ``(*)``.
        rng: ``np.random.Generator``.

    Returns:
        0.0/1.0 array of the dtype and shape of p.
    """
    return (rng.random(p.shape) < p).astype(p.dtype)
# --8<-- [end:bernoulli]


@_rbm_args
# --8<-- [start:free-energy-forward]
def free_energy_forward(v, w, b, c):
    """F(v) = −bᵀv − Σ_j softplus(c_j + W_j v), so that p(v) = e^{−F(v)} / Z.

    Summing e^{−E(v, h)} over the 2^H hidden states factorises unit by unit, and
    log(1 + e^x) = softplus(x) is computed as ``np.logaddexp(0, x)`` (no overflow).

    Args:
        v: visible states, shape ``(N, V)``.
        w: weights, shape ``(H, V)``.
        b: visible biases, shape ``(V,)``.
        c: hidden biases, shape ``(H,)``.

    Returns:
        ``(out, cache)``: ``out`` has shape ``(N,)``.
    """
    pre = v @ w.T + c  # (N, H)
    out = -v @ b - np.logaddexp(0.0, pre).sum(axis=1)  # (N,)
    return out, (out, v, w, b, pre)
# --8<-- [end:free-energy-forward]


@checks_dout
# --8<-- [start:free-energy-backward]
def free_energy_backward(dout, cache):
    """Gradients of F: ∂F/∂v = −b − Wᵀσ(c + Wv), ∂F/∂W = −σ(c + Wv) vᵀ, ∂F/∂b = −v, ∂F/∂c = −σ(c + Wv).

    Args:
        dout: upstream gradient ∂L/∂F, shape ``(N,)``.
        cache: from :func:`free_energy_forward`.

    Returns:
        ``(dv, dw, db, dc)`` with shapes ``(N, V)``, ``(H, V)``, ``(V,)``, ``(H,)``.
    """
    _, v, w, b, pre = cache
    weighted = dout[:, None] * sigmoid(pre)  # (N, H)
    dv = -dout[:, None] * b - weighted @ w  # (N, V)
    dw = -weighted.T @ v  # (H, V)
    db = -dout @ v  # (V,)
    dc = -weighted.sum(axis=0)  # (H,)
    return dv, dw, db, dc
# --8<-- [end:free-energy-backward]


@_rbm_args
# --8<-- [start:phase-statistics]
def phase_statistics(v, w, c):
    """Average −∂F/∂θ over the rows of v: ⟨h vᵀ⟩, ⟨v⟩, ⟨h⟩ with h replaced by p(h = 1 | v).

    Args:
        v: visible states, shape ``(N, V)``.
        w: weights, shape ``(H, V)``.
        c: hidden biases, shape ``(H,)``.

    Returns:
        ``{"W": (H, V), "b": (V,), "c": (H,)}``.
    """
    h = hidden_probabilities(v, w, c)  # (N, H)
    return {"W": h.T @ v / len(v), "b": v.mean(axis=0), "c": h.mean(axis=0)}
# --8<-- [end:phase-statistics]


@_rbm_args
# --8<-- [start:cd-gradient]
def cd_gradient(v, w, b, c, k, rng):
    """CD-k estimate of the gradient of the mean log-likelihood (1/N) Σ log p(v).

    Positive phase: the data rows, exact. Negative phase: the model's expectation, replaced by
    the states k steps of Gibbs sampling away from each data row.

    Args:
        v: a batch of data, shape ``(N, V)``, values in [0, 1].
        w: weights, shape ``(H, V)``.
        b: visible biases, shape ``(V,)``.
        c: hidden biases, shape ``(H,)``.
        k: number of Gibbs steps, ≥ 1.
        rng: ``np.random.Generator``.

    Returns:
        ``(grads, v_model)``: ``grads`` is ``{"W": (H, V), "b": (V,), "c": (H,)}`` (ascend it),
        ``v_model`` the chain's visible states, shape ``(N, V)``.
    """
    v_model = v
    for _ in range(k):
        h = bernoulli(hidden_probabilities(v_model, w, c), rng)  # (N, H)
        v_model = bernoulli(visible_probabilities(h, w, b), rng)  # (N, V)
    positive, negative = phase_statistics(v, w, c), phase_statistics(v_model, w, c)
    return {name: positive[name] - negative[name] for name in positive}, v_model
# --8<-- [end:cd-gradient]


def _log_partition_args(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(w: Any, b: Any, c: Any) -> float:
        w = _matrix("w", w, "log_partition", "(H, V)")
        b, c = _vector("b", b, "log_partition", w.shape[1], "V"), _vector("c", c, "log_partition", w.shape[0], "H")
        if min(w.shape) > MAX_ENUMERATED_UNITS:
            raise ValueError(f"log_partition: enumerating 2**min(V, H) states needs min(V, H) <= "
                             f"{MAX_ENUMERATED_UNITS}; got w of shape (H, V) = {w.shape}")
        return fn(w, b, c)

    return wrapper


@_log_partition_args
# --8<-- [start:log-partition]
def log_partition(w, b, c):
    """log Z, exactly, by summing over every state of the smaller layer (2^min(V, H) terms).

    Args:
        w: weights, shape ``(H, V)``.
        b: visible biases, shape ``(V,)``.
        c: hidden biases, shape ``(H,)``.

    Returns:
        log Z as a float.
    """
    n = min(w.shape)
    states = (np.arange(2**n)[:, None] >> np.arange(n - 1, -1, -1) & 1).astype(float)  # (2^n, n): every 0/1 vector
    if w.shape[1] <= w.shape[0]:  # enumerate v: Z = Σ_v e^{−F(v)}
        minus_f = states @ b + np.logaddexp(0.0, states @ w.T + c).sum(axis=1)
    else:  # the same sum over h: the roles of the two layers swap
        minus_f = states @ c + np.logaddexp(0.0, states @ w + b).sum(axis=1)
    top = minus_f.max()
    return float(top + np.log(np.sum(np.exp(minus_f - top))))
# --8<-- [end:log-partition]


@_rbm_args
# --8<-- [start:log-likelihood]
def log_likelihood(v, w, b, c):
    """Mean log p(v) = −F(v) − log Z over the rows of v (exact; small V or H only).

    Args:
        v: visible states, shape ``(N, V)``.
        w: weights, shape ``(H, V)``.
        b: visible biases, shape ``(V,)``.
        c: hidden biases, shape ``(H,)``.

    Returns:
        the mean log-likelihood in nats, a float.
    """
    free_energy, _ = free_energy_forward(v, w, b, c)
    return float(-free_energy.mean() - log_partition(w, b, c))
# --8<-- [end:log-likelihood]


def _rbm_class_args(cls: type) -> type:
    """Checks for the class below, kept out of the code the page shows."""
    init, cd_step = cls.__init__, cls.cd_step  # type: ignore[misc, attr-defined]

    @functools.wraps(init)
    def checked_init(self: Any, n_visible: Any, n_hidden: Any, rng: Any = None) -> None:
        n_visible, n_hidden = positive_int("n_visible", n_visible, "RBM"), positive_int("n_hidden", n_hidden, "RBM")
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(f"RBM: argument 'rng' must be a np.random.Generator; got {describe(rng)}")
        init(self, n_visible, n_hidden, rng)

    @functools.wraps(cd_step)
    def checked_cd_step(self: Any, v: Any, k: Any = 1, lr: Any = 0.1) -> float:
        if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating)) or not (np.isfinite(lr) and lr > 0):
            raise ValueError(f"RBM.cd_step: argument 'lr' must be a finite number > 0; got {lr!r}")
        positive_int("k", k, "RBM.cd_step")
        return cd_step(self, v, k, lr)

    cls.__init__, cls.cd_step = checked_init, checked_cd_step  # type: ignore
    return cls


@_rbm_class_args
# --8<-- [start:rbm]
class RBM:
    """A binary restricted Boltzmann machine with ``params`` ``{"W": (H, V), "b": (V,), "c": (H,)}``.

    Args:
        n_visible: V.
        n_hidden: H.
        rng: ``np.random.Generator`` for the initial weights (N(0, 0.01²), zero biases) and for every
            sample the machine draws.
    """

    def __init__(self, n_visible, n_hidden, rng=None):
        self.rng = np.random.default_rng() if rng is None else rng
        self.params = {"W": self.rng.normal(0.0, 0.01, (n_hidden, n_visible)),
                       "b": np.zeros(n_visible), "c": np.zeros(n_hidden)}

    def sample_h(self, v):
        """Args: v ``(N, V)`` in [0, 1]. Returns: ``(p(h = 1 | v), a sample of h)``, each ``(N, H)``."""
        probability = hidden_probabilities(v, self.params["W"], self.params["c"])
        return probability, bernoulli(probability, self.rng)

    def sample_v(self, h):
        """Args: h ``(N, H)`` in [0, 1]. Returns: ``(p(v = 1 | h), a sample of v)``, each ``(N, V)``."""
        probability = visible_probabilities(h, self.params["W"], self.params["b"])
        return probability, bernoulli(probability, self.rng)

    def free_energy(self, v):
        """Args: v ``(N, V)``. Returns: F(v), shape ``(N,)``."""
        return free_energy_forward(v, self.params["W"], self.params["b"], self.params["c"])[0]

    def reconstruct(self, v):
        """Mean-field reconstruction p(v' = 1 | h = p(h = 1 | v)), shape ``(N, V)``."""
        return self.sample_v(self.sample_h(v)[0])[0]

    def cd_step(self, v, k=1, lr=0.1):
        """One CD-k update on a batch ``(N, V)``: gradient ascent on the log-likelihood.

        Returns:
            the batch's mean squared reconstruction error before the update (a monitor, not the objective).
        """
        error = float(np.mean((self.reconstruct(v) - v) ** 2))
        grads, _ = cd_gradient(v, self.params["W"], self.params["b"], self.params["c"], k, self.rng)
        for name, grad in grads.items():
            self.params[name] += lr * grad
        return error
# --8<-- [end:rbm]

    @property
    def n_visible(self) -> int:
        return int(self.params["W"].shape[1])

    @property
    def n_hidden(self) -> int:
        return int(self.params["W"].shape[0])

    def free_energy_gradients(self, v: np.ndarray, dout: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Gradients of Σ_n dout_n F(v_n) (dout = 1 by default) w.r.t. ``v``, ``W``, ``b``, ``c``."""
        out, cache = free_energy_forward(v, self.params["W"], self.params["b"], self.params["c"])
        dout = np.ones_like(out) if dout is None else dout
        return dict(zip(("v", "W", "b", "c"), free_energy_backward(dout, cache)))

    def log_likelihood(self, v: np.ndarray) -> float:
        """Exact mean log p(v) in nats (needs min(V, H) <= 20)."""
        return log_likelihood(v, self.params["W"], self.params["b"], self.params["c"])

    def save(self, path: str | os.PathLike) -> None:
        """Write ``params`` to an ``.npz`` file."""
        save_params(path, self.params)

    def load(self, path: str | os.PathLike) -> None:
        """Load ``params`` saved by :meth:`save`; shapes must match this machine."""
        self.params = load_params(path, expected={k: v.shape for k, v in self.params.items()})

    def __repr__(self) -> str:
        return f"RBM(n_visible={self.n_visible}, n_hidden={self.n_hidden})"


def _pretrain_args(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(x: Any, sizes: Any, epochs: Any, lr: Any = 0.1, k: Any = 1, batch_size: Any = 32,
                rng: Any = None) -> list:
        where = "pretrain_rbms"
        if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
            raise ValueError(f"{where}: argument 'sizes' must list at least 2 layer widths [V, H1, ...]; got {sizes!r}")
        sizes = [positive_int("sizes[i]", size, where) for size in sizes]
        x = _matrix("x", x, where, "(N, V)", sizes[0], unit_interval=True)
        positive_int("epochs", epochs, where)
        positive_int("batch_size", batch_size, where)
        positive_int("k", k, where)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"{where}: argument 'rng' must be a np.random.Generator; got {describe(rng)}")
        return fn(x, sizes, epochs, lr, k, batch_size, rng)

    return wrapper


@_pretrain_args
# --8<-- [start:pretrain-rbms]
def pretrain_rbms(x, sizes, epochs, lr=0.1, k=1, batch_size=32, rng=None):
    """Greedy layer-wise training of stacked RBMs (a deep belief network's recipe, without its top layer).

    Each RBM learns, with CD-k, the hidden probabilities p(h = 1 | v) the previous RBM gives its data.

    Args:
        x: unlabelled data, shape ``(N, V)``, values in [0, 1].
        sizes: ``[V, H1, …, Hk]``.
        epochs: CD-k epochs per RBM.
        lr: learning rate of ``cd_step``.
        k: Gibbs steps.
        batch_size: B.
        rng: ``np.random.Generator``.

    Returns:
        ``[(W, c), …]``: each RBM's weights ``(H_l, H_{l−1})`` and hidden biases ``(H_l,)``, ready to
        initialise the sigmoid layers of a feedforward network.
    """
    encoders, data = [], x
    for n_visible, n_hidden in zip(sizes[:-1], sizes[1:]):
        rbm = RBM(n_visible, n_hidden, rng)
        for _ in range(epochs):
            order = rng.permutation(len(data))
            for start in range(0, len(data), batch_size):
                rbm.cd_step(data[order[start:start + batch_size]], k, lr)
        encoders.append((rbm.params["W"].copy(), rbm.params["c"].copy()))
        data = rbm.sample_h(data)[0]  # (N, n_hidden) probabilities: the next RBM's data
    return encoders
# --8<-- [end:pretrain-rbms]
