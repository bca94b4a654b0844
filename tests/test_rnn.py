"""The simple RNN in NumPy: one step and BPTT over a sequence checked against finite differences and
``nn.RNN`` (float64, random upstream gradient, gradient into h0 included), shapes and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from recurrent_reference import builtin_sequence, builtin_step, weights

from n2t.gradcheck import check_layer
from n2t.numpy.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_step_gradients(rng, nonlinearity):
    inputs = {"x": rng.standard_normal((3, 4)), "h_prev": rng.standard_normal((3, 5)), **weights(rng, "rnn", 4, 5)}
    check_layer(rnn_step_forward, rnn_step_backward, inputs, builtin_step("rnn", nonlinearity),
                kwargs={"nonlinearity": nonlinearity})


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("steps", [1, 2, 7])
def test_sequence_gradients_including_h0(rng, nonlinearity, steps):
    inputs = {"x": rng.standard_normal((3, steps, 4)), "h0": rng.standard_normal((3, 5)),
              **weights(rng, "rnn", 4, 5)}
    result = check_layer(rnn_forward, rnn_backward, inputs, builtin_sequence("rnn", nonlinearity),
                         kwargs={"nonlinearity": nonlinearity})
    assert set(result.numeric) == set(inputs)


def test_sequence_equals_the_steps_it_is_made_of(rng):
    w = weights(rng, "rnn", 4, 5)
    x, h = rng.standard_normal((2, 6, 4)), rng.standard_normal((2, 5))
    out, _ = rnn_forward(x, h, **w)
    for t in range(6):
        h, _ = rnn_step_forward(x[:, t], h, **w)
        np.testing.assert_allclose(out[:, t], h, rtol=1e-12, atol=1e-12)


def test_only_the_last_step_in_the_loss_still_reaches_every_input(rng):
    w = weights(rng, "rnn", 4, 5)
    x = rng.standard_normal((2, 6, 4))
    h, cache = rnn_forward(x, np.zeros((2, 5)), **w)
    dh = np.zeros_like(h)
    dh[:, -1] = 1.0
    dx, *_ = rnn_backward(dh, cache)
    assert np.all(np.abs(dx).sum(axis=(0, 2)) > 0)


def test_float32_stays_float32(rng):
    w = {k: v.astype(np.float32) for k, v in weights(rng, "rnn", 4, 5).items()}
    out, cache = rnn_forward(rng.standard_normal((2, 3, 4)).astype(np.float32), np.zeros((2, 5), np.float32), **w)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in rnn_backward(np.ones_like(out), cache))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 4), t=st.integers(1, 5), d=st.integers(1, 4), h=st.integers(1, 4))
def test_shapes(n, t, d, h):
    rng = np.random.default_rng(0)
    out, cache = rnn_forward(rng.standard_normal((n, t, d)), np.zeros((n, h)), **weights(rng, "rnn", d, h))
    assert out.shape == (n, t, h)
    grads = rnn_backward(np.ones_like(out), cache)
    assert [g.shape for g in grads] == [(n, t, d), (n, h), (h, d), (h, h), (h,), (h,)]


@pytest.mark.parametrize("change,message", [
    (lambda a: a.update(x=a["x"][:, :, :3]), r"'x' must have shape \(N, T, D\) with D = 4"),
    (lambda a: a.update(h0=a["h0"][:1]), r"'h0' must have shape \(N, H\) = \(2, 5\)"),
    (lambda a: a.update(x=a["x"][:, :0]), "at least one time step"),
    (lambda a: a.update(w_hh=a["w_hh"][:, :4]), r"'w_hh' must have shape \(1·H, H\)"),
    (lambda a: a.update(b_ih=a["b_ih"][:3]), r"'b_ih' must have shape"),
    (lambda a: a.update(x=a["x"][0]), r"'x' must have shape \(N, T, D\)"),
    (lambda a: a.update(nonlinearity="sigmoid"), "'nonlinearity' must be one of"),
])
def test_bad_input_is_named(rng, change, message):
    arguments = {"x": rng.standard_normal((2, 3, 4)), "h0": np.zeros((2, 5)), **weights(rng, "rnn", 4, 5)}
    change(arguments)
    with pytest.raises(ValueError, match=message):
        rnn_forward(**arguments)


def test_bad_backward_input_is_named(rng):
    out, cache = rnn_forward(rng.standard_normal((2, 3, 4)), np.zeros((2, 5)), **weights(rng, "rnn", 4, 5))
    with pytest.raises(ValueError, match=r"'dh' has shape \(2, 5\), expected \(2, 3, 5\)"):
        rnn_backward(np.ones((2, 5)), cache)
    with pytest.raises(TypeError, match="'cache' must be the cache"):
        rnn_backward(np.ones_like(out), cache[:3])
    with pytest.raises(TypeError, match="'x' must be a real-valued array"):
        rnn_forward(np.array([["a"]]), np.zeros((2, 5)), **weights(rng, "rnn", 4, 5))
