"""The restricted Boltzmann machine: free-energy gradients, exact enumeration of a tiny machine (the
conditionals, log Z, the log-likelihood gradient, what CD-k estimates), sampling, learning, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from n2t.data import digits
from n2t.gradcheck import check_layer, numerical_gradient
from n2t.numpy.rbm import (
    RBM,
    bernoulli,
    cd_gradient,
    energy,
    free_energy_backward,
    free_energy_forward,
    hidden_probabilities,
    log_likelihood,
    log_partition,
    phase_statistics,
    pretrain_rbms,
    visible_probabilities,
)


def states(n: int) -> np.ndarray:
    """All 2**n binary vectors, shape (2**n, n)."""
    return np.array(list(itertools.product((0.0, 1.0), repeat=n)))


def machine(rng, visible=4, hidden=3, scale=1.0):
    return (scale * rng.standard_normal((hidden, visible)), 0.5 * rng.standard_normal(visible),
            0.5 * rng.standard_normal(hidden))


def joint(w, b, c):
    """Exact p(v, h) over every state, shape (2**V, 2**H), by brute force from the energy."""
    vs, hs = states(w.shape[1]), states(w.shape[0])
    energies = np.array([energy(np.repeat(v[None], len(hs), 0), hs, w, b, c) for v in vs])
    unnormalised = np.exp(-energies)
    return unnormalised / unnormalised.sum()


def model_statistics(w, b, c):
    """⟨h vᵀ⟩, ⟨v⟩, ⟨h⟩ under the model, by enumerating every (v, h)."""
    p = joint(w, b, c)
    vs, hs = states(w.shape[1]), states(w.shape[0])
    return {"W": np.einsum("ab,bj,ai->ji", p, hs, vs), "b": p.sum(1) @ vs, "c": p.sum(0) @ hs}


# ---- free energy --------------------------------------------------------------------------------
def torch_free_energy(v, w, b, c):
    return -v @ b - F.softplus(v @ w.T + c).sum(dim=1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_free_energy_gradient_matches_finite_differences_and_autograd(seed):
    rng = np.random.default_rng(seed)
    w, b, c = machine(rng, visible=5, hidden=3)
    v = rng.uniform(0.05, 0.95, (4, 5))  # distinct sizes: N = 4, V = 5, H = 3
    check_layer(free_energy_forward, free_energy_backward, {"v": v, "w": w, "b": b, "c": c},
                torch_free_energy, seed=seed)


def test_the_package_free_energy_gradients_are_the_backward_pass(rng):
    rbm = RBM(5, 3, rng)
    rbm.params = dict(zip(("W", "b", "c"), machine(rng, 5, 3)))
    v, dout = rng.uniform(0, 1, (4, 5)), rng.standard_normal(4)
    grads = rbm.free_energy_gradients(v, dout)
    numeric = numerical_gradient(lambda: float(rbm.free_energy(v) @ dout), rbm.params["W"])
    np.testing.assert_allclose(grads["W"], numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(grads["b"], -dout @ v)


def test_free_energy_marginalises_the_hidden_units(rng):
    w, b, c = machine(rng)
    vs, hs = states(4), states(3)
    brute = np.array([-np.log(np.sum(np.exp(-energy(np.repeat(v[None], 8, 0), hs, w, b, c)))) for v in vs])
    np.testing.assert_allclose(free_energy_forward(vs, w, b, c)[0], brute, rtol=1e-12)


def test_energy_is_the_bilinear_form(rng):
    w, b, c = machine(rng)
    v, h = states(4)[[3, 9, 14]], states(3)[[1, 6, 7]]
    loops = [-(b @ vn) - (c @ hn) - sum(hn[j] * w[j, i] * vn[i] for j in range(3) for i in range(4))
             for vn, hn in zip(v, h)]
    np.testing.assert_allclose(energy(v, h, w, b, c), loops, rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 10_000))
def test_free_energy_is_stable_and_matches_torch_for_any_size(visible, hidden, seed):
    rng = np.random.default_rng(seed)
    w, b, c = (300 * a for a in machine(rng, visible, hidden))  # huge weights: softplus must not overflow
    v = states(visible)
    out, _ = free_energy_forward(v, w, b, c)
    assert np.all(np.isfinite(out))
    reference = torch_free_energy(*(torch.from_numpy(a) for a in (v, w, b, c))).numpy()
    np.testing.assert_allclose(out, reference, rtol=1e-10, atol=1e-8)  # sums of terms of size ~1000


# ---- exact enumeration of a tiny machine --------------------------------------------------------
@pytest.mark.parametrize("visible,hidden", [(4, 3), (2, 6), (3, 3)])
def test_log_partition_matches_brute_force(visible, hidden, rng):
    w, b, c = machine(rng, visible, hidden)
    vs, hs = states(visible), states(hidden)
    brute = np.log(sum(np.exp(-energy(np.repeat(v[None], len(hs), 0), hs, w, b, c)).sum() for v in vs))
    assert log_partition(w, b, c) == pytest.approx(brute, rel=1e-12)


def test_probabilities_sum_to_one_and_log_likelihood_is_their_mean_log(rng):
    w, b, c = machine(rng)
    vs = states(4)
    log_p = -free_energy_forward(vs, w, b, c)[0] - log_partition(w, b, c)
    assert np.exp(log_p).sum() == pytest.approx(1.0, rel=1e-12)
    assert log_likelihood(vs[[2, 5, 5]], w, b, c) == pytest.approx(np.mean(log_p[[2, 5, 5]]), rel=1e-12)


def test_units_of_one_layer_are_independent_given_the_other(rng):
    w, b, c = machine(rng)
    p = joint(w, b, c)
    vs, hs = states(4), states(3)
    p_h_given_v = p / p.sum(axis=1, keepdims=True)
    q = hidden_probabilities(vs, w, c)  # (16, 3)
    product = np.prod(np.where(hs[None] == 1, q[:, None], 1 - q[:, None]), axis=2)  # (16, 8)
    np.testing.assert_allclose(p_h_given_v, product, rtol=1e-10)
    p_v_given_h = (p / p.sum(axis=0, keepdims=True)).T  # (8, 16)
    r = visible_probabilities(hs, w, b)  # (8, 4)
    product = np.prod(np.where(vs[None] == 1, r[:, None], 1 - r[:, None]), axis=2)
    np.testing.assert_allclose(p_v_given_h, product, rtol=1e-10)


def test_positive_phase_is_the_exact_data_expectation_and_minus_the_free_energy_gradient(rng):
    w, b, c = machine(rng)
    data = states(4)[[1, 7, 7, 12, 15]]
    p = joint(w, b, c)
    hs = states(3)
    index = [int("".join(str(int(x)) for x in v), 2) for v in data]
    p_h = p[index] / p[index].sum(axis=1, keepdims=True)  # p(h | v_n), (5, 8)
    brute = np.einsum("nb,bj,ni->ji", p_h, hs, data) / len(data)
    stats = phase_statistics(data, w, c)
    np.testing.assert_allclose(stats["W"], brute, rtol=1e-10)
    _, dw, db, dc = free_energy_backward(np.full(5, 1 / 5), free_energy_forward(data, w, b, c)[1])
    for name, grad in (("W", dw), ("b", db), ("c", dc)):
        np.testing.assert_allclose(stats[name], -grad, rtol=1e-12)


def test_log_likelihood_gradient_is_positive_minus_model_phase(rng):
    w, b, c = machine(rng)
    data = states(4)[[0, 3, 3, 10, 13]]
    exact = {name: phase_statistics(data, w, c)[name] - model_statistics(w, b, c)[name] for name in ("W", "b", "c")}
    for name, array in (("W", w), ("b", b), ("c", c)):
        numeric = numerical_gradient(lambda: log_likelihood(data, w, b, c), array)
        np.testing.assert_allclose(exact[name], numeric, rtol=1e-6, atol=1e-9)


def exact_cd1_expectation(data, w, b, c):
    """E[phase_statistics(v1)] for v1 one Gibbs step from each data row, by enumeration."""
    vs, hs = states(w.shape[1]), states(w.shape[0])
    q = hidden_probabilities(data, w, c)
    p_h = np.prod(np.where(hs[None] == 1, q[:, None], 1 - q[:, None]), axis=2)  # (N, 2^H)
    r = visible_probabilities(hs, w, b)
    p_v = np.prod(np.where(vs[None] == 1, r[:, None], 1 - r[:, None]), axis=2)  # (2^H, 2^V)
    weights = (p_h @ p_v).mean(axis=0)  # distribution of v1, (2^V,)
    stats_each = [phase_statistics(v[None], w, c) for v in vs]
    return {name: sum(p * s[name] for p, s in zip(weights, stats_each)) for name in ("W", "b", "c")}


def mean_cd_gradient(data, w, b, c, k, chains, seed):
    batch = np.repeat(data, chains, axis=0)
    grads, _ = cd_gradient(batch, w, b, c, k, np.random.default_rng(seed))
    return grads


def test_cd1_is_unbiased_for_its_own_expectation_but_biased_for_the_gradient():
    rng = np.random.default_rng(7)
    w, b, c = machine(rng, scale=1.5)  # strong weights: one Gibbs step is far from equilibrium
    data = states(4)[[0, 5, 10, 15]]
    positive = phase_statistics(data, w, c)
    expected = {n: positive[n] - exact_cd1_expectation(data, w, b, c)[n] for n in positive}
    exact = {n: positive[n] - model_statistics(w, b, c)[n] for n in positive}
    estimate = mean_cd_gradient(data, w, b, c, k=1, chains=5000, seed=0)
    for name in ("W", "b", "c"):
        np.testing.assert_allclose(estimate[name], expected[name], atol=0.02)  # ~6 standard errors
    bias = max(np.max(np.abs(expected[n] - exact[n])) for n in exact)
    assert bias > 0.1, "this machine must make CD-1 visibly biased, or the next test proves nothing"


def test_cd_k_approaches_the_exact_log_likelihood_gradient_as_k_grows():
    rng = np.random.default_rng(7)
    w, b, c = machine(rng, scale=1.5)
    data = states(4)[[0, 5, 10, 15]]
    exact = {n: phase_statistics(data, w, c)[n] - model_statistics(w, b, c)[n] for n in ("W", "b", "c")}
    estimate = mean_cd_gradient(data, w, b, c, k=100, chains=5000, seed=1)
    for name in ("W", "b", "c"):
        np.testing.assert_allclose(estimate[name], exact[name], atol=0.02)


# ---- sampling -----------------------------------------------------------------------------------
def test_bernoulli_frequencies_match_the_probabilities(rng):
    p = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    samples = bernoulli(np.tile(p, (40_000, 1)), rng)
    assert set(np.unique(samples)) <= {0.0, 1.0}
    np.testing.assert_allclose(samples.mean(axis=0), p, atol=0.01)  # > 4 standard errors


def test_sample_h_and_sample_v_draw_from_the_conditionals(rng):
    rbm = RBM(4, 3, rng)
    rbm.params = dict(zip(("W", "b", "c"), machine(rng)))
    v = np.tile(states(4)[[6]], (40_000, 1))
    probability, sample = rbm.sample_h(v)
    np.testing.assert_allclose(sample.mean(axis=0), probability[0], atol=0.01)
    h = np.tile(states(3)[[5]], (40_000, 1))
    probability, sample = rbm.sample_v(h)
    np.testing.assert_allclose(sample.mean(axis=0), probability[0], atol=0.01)


def test_a_long_gibbs_chain_samples_the_model_distribution():
    rng = np.random.default_rng(3)
    w, b, c = machine(rng)
    _, v_model = cd_gradient(np.zeros((40_000, 4)), w, b, c, 30, rng)
    codes = v_model @ (2 ** np.arange(3, -1, -1))
    frequencies = np.bincount(codes.astype(int), minlength=16) / len(codes)
    exact = joint(w, b, c).sum(axis=1)
    assert 0.5 * np.abs(frequencies - exact).sum() < 0.015  # total variation distance


# ---- learning -----------------------------------------------------------------------------------
def test_cd1_training_raises_the_exact_log_likelihood():
    rng = np.random.default_rng(0)
    patterns = np.array([[1, 1, 0, 0, 1, 0], [0, 0, 1, 1, 0, 1], [1, 0, 1, 0, 1, 0]], dtype=float)
    data = patterns[rng.integers(0, 3, 300)]
    rbm = RBM(6, 4, rng)
    before = rbm.log_likelihood(data)
    for _ in range(60):
        for start in range(0, 300, 20):
            rbm.cd_step(data[start:start + 20], k=1, lr=0.5)
    after = rbm.log_likelihood(data)
    assert before == pytest.approx(-6 * np.log(2), abs=0.05)  # tiny weights: every state about 1/64
    assert after > -np.log(3) - 0.3, (before, after)  # the best possible is -log 3 ≈ -1.10 nats


def test_reconstruction_error_falls_on_digits():
    x = (digits()[0][:400] > 0.5).astype(float)
    rbm = RBM(64, 32, np.random.default_rng(0))
    errors = [np.mean([rbm.cd_step(x[s:s + 20], lr=0.5) for s in range(0, 400, 20)]) for _ in range(6)]
    assert errors[-1] < 0.8 * errors[0], errors


def test_pretrain_rbms_stacks_hidden_probabilities(rng):
    x = (digits()[0][:120] > 0.5).astype(float)
    encoders = pretrain_rbms(x, [64, 16, 8], epochs=2, lr=0.1, batch_size=30, rng=np.random.default_rng(0))
    assert [(w.shape, c.shape) for w, c in encoders] == [((16, 64), (16,)), ((8, 16), (8,))]
    # the first RBM is exactly what the same loop over RBM.cd_step produces
    again = np.random.default_rng(0)
    rbm = RBM(64, 16, again)
    for _ in range(2):
        order = again.permutation(120)
        for start in range(0, 120, 30):
            rbm.cd_step(x[order[start:start + 30]], 1, 0.1)
    np.testing.assert_array_equal(encoders[0][0], rbm.params["W"])


def test_save_and_load_round_trip(tmp_path, rng):
    rbm = RBM(5, 3, rng)
    rbm.params["W"] += 1.0
    rbm.save(tmp_path / "rbm.npz")
    other = RBM(5, 3, rng)
    other.load(tmp_path / "rbm.npz")
    for name in ("W", "b", "c"):
        np.testing.assert_array_equal(other.params[name], rbm.params[name])
    with pytest.raises(ValueError):
        RBM(4, 3, rng).load(tmp_path / "rbm.npz")


# ---- bad input ----------------------------------------------------------------------------------
def test_bad_input_gets_a_clear_error(rng):
    w, b, c = machine(rng)
    v = states(4)[:3]
    rbm = RBM(4, 3, rng)
    cases = [
        (ValueError, r"'v' holds Bernoulli values and must lie in \[0, 1\]", lambda: hidden_probabilities(v * 2, w, c)),
        (ValueError, r"NaN present", lambda: hidden_probabilities(np.full((1, 4), np.nan), w, c)),
        (ValueError, r"'v' must have shape \(N, V\) with V = 4", lambda: rbm.sample_h(np.zeros((2, 5)))),
        (ValueError, r"'h' .* must lie in \[0, 1\]", lambda: rbm.sample_v(-np.ones((2, 3)))),
        (ValueError, r"'c' must have shape \(H,\) = \(3,\)", lambda: free_energy_forward(v, w, b, np.zeros(4))),
        (ValueError, r"'w' must have shape \(H, V\)", lambda: hidden_probabilities(v, w[0], c)),
        (ValueError, r"'v' and 'h' must have the same N", lambda: energy(v, states(3)[:2], w, b, c)),
        (ValueError, r"'k' must be a positive int; got 0", lambda: cd_gradient(v, w, b, c, 0, rng)),
        (ValueError, r"'k' must be a positive int; got 0", lambda: rbm.cd_step(v, k=0)),
        (ValueError, r"'lr' must be a finite number > 0; got -0.1", lambda: rbm.cd_step(v, lr=-0.1)),
        (TypeError, r"'rng' must be a np.random.Generator", lambda: cd_gradient(v, w, b, c, 1, 3)),
        (TypeError, r"'rng' must be a np.random.Generator", lambda: RBM(4, 3, rng=0)),
        (ValueError, r"'n_hidden' must be a positive int; got 0", lambda: RBM(4, 0)),
        (ValueError, r"'p' must hold probabilities in \[0, 1\]", lambda: bernoulli(np.array([1.5]), rng)),
        (ValueError, r"min\(V, H\) <= 20", lambda: log_partition(np.zeros((21, 22)), np.zeros(22), np.zeros(21))),
        (TypeError, r"'v' must be a real-valued array", lambda: hidden_probabilities(np.array([["a"] * 4]), w, c)),
        (ValueError, r"'dout' has shape \(2,\), expected \(3,\)",
         lambda: free_energy_backward(np.ones(2), free_energy_forward(v, w, b, c)[1])),
        (ValueError, r"'x' .* must lie in \[0, 1\]", lambda: pretrain_rbms(v + 1, [4, 2], 1, rng=rng)),
        (ValueError, r"'sizes' must list at least 2", lambda: pretrain_rbms(v, [4], 1, rng=rng)),
    ]
    for error, message, call in cases:
        with pytest.raises(error, match=message):
            call()
