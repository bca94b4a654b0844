"""Hopfield network: Hebbian weights, the energy against an explicit double sum, asynchronous updates that never
raise the energy (a property test that replays every update with a naive loop), recall at low load, spurious
states, and every bad-input path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from n2t.numpy.hopfield import (
    Hopfield,
    async_sweep,
    corrupt,
    energy,
    glyphs,
    hebbian_weights,
    overlap,
    recall,
    sync_step,
)


def random_patterns(rng, n_patterns, n_units):
    return rng.choice(np.array([-1.0, 1.0]), size=(n_patterns, n_units))


def naive_energy(weights, state):
    """−½ Σ_i Σ_j W_ij s_i s_j with two explicit loops."""
    total = 0.0
    for i in range(len(state)):
        for j in range(len(state)):
            total += weights[i][j] * state[i] * state[j]
    return -0.5 * total


def naive_update(weights, state, unit):
    """Unit ``unit`` takes the sign of Σ_j W_ij s_j, written out as a loop; ties (|h| < 1e-9) keep the state."""
    field = sum(weights[unit][j] * state[j] for j in range(len(state)))
    new = list(state)
    if abs(field) > 1e-9:
        new[unit] = 1.0 if field > 0 else -1.0
    return new


# ---- storage and energy -------------------------------------------------------------------------------
def test_hebbian_weights_are_the_mean_outer_product_with_a_zero_diagonal(rng):
    patterns = random_patterns(rng, 4, 7)
    weights = hebbian_weights(patterns)
    expected = sum(np.outer(p, p) for p in patterns) / 7
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(weights, expected, atol=1e-15)
    np.testing.assert_array_equal(weights, weights.T)
    assert np.all(np.diag(weights) == 0)


def test_energy_matches_an_explicit_double_sum(rng):
    weights = hebbian_weights(random_patterns(rng, 3, 6))
    states = random_patterns(rng, 5, 6)
    expected = [naive_energy(weights.tolist(), s.tolist()) for s in states]
    np.testing.assert_allclose(energy(weights, states), expected, atol=1e-12)
    np.testing.assert_allclose(energy(weights, states[2]), expected[2], atol=1e-12)  # one state, shape ()
    assert np.shape(energy(weights, states[2])) == ()
    asymmetric = rng.standard_normal((6, 6))  # the energy itself is defined for any square W
    np.testing.assert_allclose(energy(asymmetric, states[0]), naive_energy(asymmetric.tolist(), states[0].tolist()))


def test_a_stored_pattern_has_the_energy_of_its_reverse(rng):
    net = Hopfield(30).store(random_patterns(rng, 3, 30))
    states = random_patterns(rng, 4, 30)
    np.testing.assert_allclose(net.energy(states), net.energy(-states))


# ---- asynchronous dynamics ----------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(n_units=st.integers(2, 24), n_patterns=st.integers(1, 8), seed=st.integers(0, 2**32 - 1),
       sweeps=st.integers(1, 3))
def test_asynchronous_updates_never_raise_the_energy(n_units, n_patterns, seed, sweeps):
    rng = np.random.default_rng(seed)
    weights = hebbian_weights(random_patterns(rng, n_patterns, n_units))
    state = rng.choice(np.array([-1.0, 1.0]), size=n_units)
    order = np.concatenate([rng.permutation(n_units) for _ in range(sweeps)])  # units may repeat
    final, energies = async_sweep(weights, state, order)

    replay, expected = state.tolist(), []  # every update again, with loops and the explicit double sum
    for unit in order:
        replay = naive_update(weights.tolist(), replay, int(unit))
        expected.append(naive_energy(weights.tolist(), replay))
    np.testing.assert_array_equal(final, replay)
    np.testing.assert_allclose(energies, expected, atol=1e-9)
    previous = naive_energy(weights.tolist(), state.tolist())
    assert np.all(np.diff([previous, *expected]) <= 1e-9), "an asynchronous update raised the energy"


@settings(max_examples=30, deadline=None)
@given(n_units=st.integers(2, 40), n_patterns=st.integers(1, 12), batch=st.integers(1, 5),
       seed=st.integers(0, 2**32 - 1))
def test_recall_descends_to_a_fixed_point(n_units, n_patterns, batch, seed):
    rng = np.random.default_rng(seed)
    weights = hebbian_weights(random_patterns(rng, n_patterns, n_units))
    probes = random_patterns(rng, batch, n_units)
    final, energies = recall(weights, probes, rng, max_sweeps=1000)
    assert energies.shape[1:] == (batch,) and (energies.shape[0] - 1) % n_units == 0
    assert np.all(np.diff(energies, axis=0) <= 1e-9)
    np.testing.assert_allclose(energies[0], [naive_energy(weights.tolist(), p.tolist()) for p in probes], atol=1e-9)
    np.testing.assert_allclose(energies[-1], [naive_energy(weights.tolist(), s.tolist()) for s in final], atol=1e-9)
    fields = final @ weights  # a fixed point: every unit agrees with the sign of its field, or the field is 0
    assert np.all((final * fields > 0) | (np.abs(fields) < 1e-9))


def exact_ties(stored, states):
    """(state, unit) pairs whose field is exactly 0 in integer arithmetic but not in floating point."""
    counts = stored.T.astype(np.int64) @ stored.astype(np.int64)  # N·W, integers
    np.fill_diagonal(counts, 0)
    weights = hebbian_weights(stored)
    exact, computed = states.astype(np.int64) @ counts, states @ weights  # (B, N) numerators and fields
    return np.argwhere((exact == 0) & (computed != 0)), weights


def test_a_field_that_is_zero_up_to_rounding_is_a_tie():
    # W holds multiples of 1/100, which binary floats round: a field of exactly 0 comes out as ±1e-17
    rng = np.random.default_rng(0)
    stored, states = random_patterns(rng, 30, 100), random_patterns(rng, 20, 100)
    ties, weights = exact_ties(stored, states)
    assert len(ties) > 0
    for row, unit in ties[:20]:
        for value in (1.0, -1.0):  # the field of a unit does not depend on its own state (zero diagonal)
            state = states[row].copy()
            state[unit] = value
            after, step = async_sweep(weights, state, [unit])
            assert after[unit] == value and step[0] == energy(weights, state)
            assert sync_step(weights, state)[unit] == value


def test_recall_ends_where_sync_step_agrees_it_is_a_fixed_point():
    # sync_step sums the fields in another order than async_sweep: the two must agree on ties
    rng = np.random.default_rng(0)
    stored = random_patterns(rng, 30, 100)
    weights = hebbian_weights(stored)
    final, energies = recall(weights, stored, rng, max_sweeps=200)
    assert len(energies) < 1 + 200 * 100, "recall did not reach a fixed point in 200 sweeps"
    np.testing.assert_array_equal(sync_step(weights, final), final)


def test_stored_patterns_are_fixed_points_at_low_load(rng):
    stored = random_patterns(rng, 5, 200)  # load 0.025
    net = Hopfield(200).store(stored)
    np.testing.assert_array_equal(sync_step(net.weights, stored), stored)
    final, energies = net.recall(stored, rng)
    np.testing.assert_array_equal(final, stored)
    assert energies.shape == (1 + 200, 5), "one sweep that changes nothing"
    assert np.all(energies == energies[0])


def test_corrupted_patterns_are_recalled_at_low_load(rng):
    stored = random_patterns(rng, 8, 200)  # load 0.04
    net = Hopfield(200).store(stored)
    probes = corrupt(np.repeat(stored, 5, axis=0), 40, rng)  # 20% of the units flipped
    np.testing.assert_allclose(overlap(probes, np.repeat(stored, 5, axis=0)), 0.6)
    final, _ = net.recall(probes, rng)
    np.testing.assert_array_equal(final, np.repeat(stored, 5, axis=0))


def test_glyphs_are_recalled_and_their_reverses_are_spurious_fixed_points(rng):
    images = glyphs()
    patterns = np.stack([image.ravel() for image in images.values()])
    assert patterns.shape == (6, 144) and set(np.unique(patterns)) == {-1.0, 1.0}
    assert np.abs(overlap(patterns[:, None], patterns[None]) - np.eye(6)).max() <= 0.34
    net = Hopfield(144).store(patterns)
    final, _ = net.recall(corrupt(patterns, 30, rng), rng)
    np.testing.assert_array_equal(final, patterns)
    np.testing.assert_array_equal(sync_step(net.weights, -patterns), -patterns)  # reversed patterns are stable too


def test_synchronous_updates_can_cycle_where_asynchronous_ones_settle(rng):
    weights = np.array([[0.0, 1.0], [1.0, 0.0]])
    state = np.array([1.0, -1.0])
    once = sync_step(weights, state)
    np.testing.assert_array_equal(once, -state)
    np.testing.assert_array_equal(sync_step(weights, once), state)  # period 2, energy stays at +1
    assert energy(weights, state) == energy(weights, once) == 1.0
    final, energies = recall(weights, state, rng)
    assert abs(final.sum()) == 2 and energies[-1] == -1.0  # both units agree: a minimum


def test_async_sweep_does_not_modify_its_input(rng):
    weights = hebbian_weights(random_patterns(rng, 2, 10))
    state = random_patterns(rng, 3, 10)
    kept = state.copy()
    async_sweep(weights, state, np.arange(10))
    np.testing.assert_array_equal(state, kept)


# ---- corrupt, overlap, the class --------------------------------------------------------------------------
def test_corrupt_flips_exactly_the_requested_number_of_units(rng):
    patterns = random_patterns(rng, 50, 20)
    kept = patterns.copy()
    for flips in (0, 1, 7, 20):
        noisy = corrupt(patterns, flips, rng)
        np.testing.assert_array_equal(np.sum(noisy != patterns, axis=1), flips)
    np.testing.assert_array_equal(patterns, kept)
    chosen = np.array([np.flatnonzero(corrupt(patterns[0], 1, rng) != patterns[0])[0] for _ in range(4000)])
    assert np.bincount(chosen, minlength=20).min() > 130  # every unit is chosen (expected 200 each)
    first = corrupt(patterns, 5, np.random.default_rng(3))
    np.testing.assert_array_equal(first, corrupt(patterns, 5, np.random.default_rng(3)))


def test_overlap(rng):
    p = random_patterns(rng, 1, 8)[0]
    q = p.copy()
    q[:3] *= -1
    assert overlap(p, p) == 1.0 and overlap(p, -p) == -1.0 and overlap(p, q) == 1 - 2 * 3 / 8
    matrix = overlap(random_patterns(rng, 4, 8)[:, None], random_patterns(rng, 3, 8)[None])
    assert matrix.shape == (4, 3)


def test_storing_in_two_calls_equals_storing_at_once(rng):
    patterns = random_patterns(rng, 5, 12)
    at_once = Hopfield(12).store(patterns)
    in_two = Hopfield(12).store(patterns[:2]).store(patterns[2:])
    one_by_one = Hopfield(12)
    for p in patterns:
        one_by_one.store(p)
    np.testing.assert_allclose(in_two.weights, at_once.weights, atol=1e-15)
    np.testing.assert_allclose(one_by_one.weights, at_once.weights, atol=1e-15)
    assert at_once.n_patterns == in_two.n_patterns == one_by_one.n_patterns == 5
    assert at_once.load == 5 / 12


def test_an_empty_network_changes_nothing(rng):
    net = Hopfield(5)
    state = random_patterns(rng, 2, 5)
    final, energies = net.recall(state, rng)
    np.testing.assert_array_equal(final, state)
    assert np.all(energies == 0)


# ---- bad input --------------------------------------------------------------------------------------------
W3 = hebbian_weights(np.array([[1.0, -1.0, 1.0]]))
S3 = np.array([1.0, 1.0, -1.0])
GEN = np.random.default_rng(0)


@pytest.mark.parametrize("call,error,message", [
    (lambda: hebbian_weights(np.array([[1.0, 0.0, -1.0]])), ValueError, "'patterns' must hold only \\+1 and -1"),
    (lambda: hebbian_weights(np.array([[1.0, 0.5]])), ValueError, "'patterns' must hold only"),
    (lambda: hebbian_weights(np.array([[1.0, np.nan]])), ValueError, "'patterns' must hold only"),
    (lambda: hebbian_weights(np.array([1.0, -1.0])), ValueError,
     "'patterns' must be a non-empty array of shape \\(P, N\\)"),
    (lambda: hebbian_weights(np.ones((0, 3))), ValueError, "'patterns' must be a non-empty"),
    (lambda: hebbian_weights(np.array([[True, False]])), TypeError, "'patterns' must be a numeric array"),
    (lambda: hebbian_weights("1, -1"), TypeError, "'patterns' must be a numeric array"),
    (lambda: energy(W3, np.array([1.0, 2.0, -1.0])), ValueError, "energy: argument 'states' must hold only"),
    (lambda: energy(W3, np.ones((2, 2, 3))), ValueError, "'states' must be a non-empty array of shape \\(N,\\) or"),
    (lambda: energy(W3, np.ones(4)), ValueError, "'states' has 4 units on its last axis"),
    (lambda: energy(np.ones((3, 2)), S3), ValueError, "'weights' must be a square matrix"),
    (lambda: energy(np.full((3, 3), np.inf), S3), ValueError, "'weights' contains NaN or infinity"),
    (lambda: async_sweep(W3 + np.triu(np.ones((3, 3)), 1), S3, [0]), ValueError, "'weights' must be symmetric"),
    (lambda: async_sweep(W3 + np.eye(3), S3, [0]), ValueError, "'weights' must have a zero diagonal"),
    (lambda: async_sweep(W3, S3, [0, 3]), ValueError, "'order' holds indices outside 0..2"),
    (lambda: async_sweep(W3, S3, [0.0, 1.0]), ValueError, "'order' must be a non-empty 1-D array of unit indices"),
    (lambda: async_sweep(W3, S3, []), ValueError, "'order' must be a non-empty"),
    (lambda: recall(W3, S3, 0), TypeError, "'rng' must be a numpy.random.Generator"),
    (lambda: recall(W3, S3, GEN, max_sweeps=0), ValueError, "'max_sweeps' must be a positive int"),
    (lambda: recall(W3 + np.eye(3), S3, GEN), ValueError, "zero diagonal"),
    (lambda: sync_step(W3, np.zeros(3)), ValueError, "'states' must hold only"),
    (lambda: corrupt(S3, 4, GEN), ValueError, "'flips' must be an int in 0..3"),
    (lambda: corrupt(S3, -1, GEN), ValueError, "'flips' must be an int"),
    (lambda: corrupt(S3, 1.0, GEN), ValueError, "'flips' must be an int"),
    (lambda: corrupt(S3, 1, None), TypeError, "'rng' must be a numpy.random.Generator"),
    (lambda: corrupt(np.array([1, 3, 1]), 1, GEN), ValueError, "'patterns' must hold only"),
    (lambda: overlap(S3, np.ones(4)), ValueError, "do not broadcast"),
    (lambda: overlap(S3, np.zeros(3)), ValueError, "'patterns' must hold only"),
    (lambda: glyphs(5), ValueError, "'size' must be an int >= 6"),
    (lambda: Hopfield(0), ValueError, "'n_units' must be a positive int"),
    (lambda: Hopfield(3).store(np.ones((2, 4))), ValueError, "Hopfield.store: argument 'patterns' must have 3 units"),
    (lambda: Hopfield(3).store(np.array([[1.0, 0.0, 1.0]])), ValueError,
     "Hopfield.store: argument 'patterns' must hold"),
    (lambda: Hopfield(3).energy(np.ones(2)), ValueError, "Hopfield.energy: argument 'states' must have 3 units"),
    (lambda: Hopfield(3).recall(np.ones((1, 1, 3)), GEN), ValueError, "Hopfield.recall: argument 'states' must be"),
    (lambda: Hopfield(3).recall(S3, "seed"), TypeError, "'rng' must be a numpy.random.Generator"),
])
def test_bad_input_is_rejected_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()
