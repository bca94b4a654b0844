"""The LSTM in NumPy: step and sequence gradients against finite differences and ``nn.LSTM`` (float64,
random upstream gradient, h0 and c0 included), the i, f, g, o layout, the additive cell path, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from recurrent_reference import builtin_sequence, builtin_step, weights

from n2t.gradcheck import check_layer
from n2t.numpy.lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward, sigmoid

H = 5


def step_as_one_output(x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh):
    """The step's two outputs side by side, so one random upstream gradient covers both."""
    h, c, cache = lstm_step_forward(x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh)
    return np.concatenate([h, c], axis=1), cache


def step_backward_from_one(dout, cache):
    return lstm_step_backward(dout[:, :H], dout[:, H:], cache)


def test_sigmoid_is_the_logistic_function_and_does_not_overflow():
    z = np.linspace(-30, 30, 101)
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-12, atol=1e-15)
    with np.errstate(all="raise"):
        assert sigmoid(np.array([-1000.0]))[0] == 0.0 and sigmoid(np.array([1000.0]))[0] == 1.0


def test_step_gradients_of_h_and_c(rng):
    inputs = {"x": rng.standard_normal((3, 4)), "h_prev": rng.standard_normal((3, H)),
              "c_prev": rng.standard_normal((3, H)), **weights(rng, "lstm", 4, H)}
    check_layer(step_as_one_output, step_backward_from_one, inputs, builtin_step("lstm"))


@pytest.mark.parametrize("steps", [1, 2, 6])
def test_sequence_gradients_including_h0_and_c0(rng, steps):
    inputs = {"x": rng.standard_normal((3, steps, 4)), "h0": rng.standard_normal((3, H)),
              "c0": rng.standard_normal((3, H)), **weights(rng, "lstm", 4, H)}
    result = check_layer(lstm_forward, lstm_backward, inputs, builtin_sequence("lstm"))
    assert set(result.torch) == set(inputs)


def test_gate_rows_are_packed_i_f_g_o(rng):
    """Opening only the forget gate (huge bias on rows H:2H, closed input gate) keeps c unchanged."""
    w = weights(rng, "lstm", 4, H)
    w["b_ih"][:H], w["b_ih"][H:2 * H] = -50.0, 50.0
    x, h0, c0 = rng.standard_normal((2, 3, 4)), np.zeros((2, H)), rng.standard_normal((2, H))
    _, cache = lstm_forward(x, h0, c0, **w)
    np.testing.assert_allclose(cache[1][:, -1], c0, atol=1e-12)


def test_final_states_equal_nn_lstm(rng):
    w = weights(rng, "lstm", 4, H)
    x, h0, c0 = rng.standard_normal((2, 6, 4)), rng.standard_normal((2, H)), rng.standard_normal((2, H))
    h, cache = lstm_forward(x, h0, c0, **w)
    module = torch.nn.LSTM(4, H, batch_first=True).double()
    module.load_state_dict({"weight_ih_l0": torch.from_numpy(w["w_ih"]), "weight_hh_l0": torch.from_numpy(w["w_hh"]),
                            "bias_ih_l0": torch.from_numpy(w["b_ih"]), "bias_hh_l0": torch.from_numpy(w["b_hh"])})
    with torch.no_grad():
        out, (h_n, c_n) = module(torch.from_numpy(x), (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]))
    np.testing.assert_allclose(h, out.numpy(), atol=1e-13)
    np.testing.assert_allclose(cache[1][:, -1], c_n[0].numpy(), atol=1e-13)


def test_cell_path_carries_the_gradient_when_the_forget_gate_is_open(rng):
    """With f ≈ 1, the input gate shut and no recurrent weights (so the only path from c0 to the loss is
    the cell path), ∂L/∂c0 equals ∂L/∂c_T after 50 steps: nothing shrinks along the cell path."""
    w = weights(rng, "lstm", 4, H)
    w["w_hh"][:] = 0.0
    w["b_ih"][:H], w["b_ih"][H:2 * H] = -40.0, 40.0
    x = rng.standard_normal((2, 50, 4))
    h, cache = lstm_forward(x, np.zeros((2, H)), np.ones((2, H)), **w)
    dh = np.zeros_like(h)
    dh[:, -1] = 1.0
    _, _, dc0, *_ = lstm_backward(dh, cache)
    o, tanh_c = cache[2][:, -1, 3 * H:], np.tanh(cache[1][:, -1])
    np.testing.assert_allclose(dc0, o * (1 - tanh_c**2), rtol=1e-12)


def test_bad_input_is_named(rng):
    w = weights(rng, "lstm", 4, H)
    x = rng.standard_normal((2, 3, 4))
    with pytest.raises(ValueError, match=r"'c0' must have shape \(N, H\) = \(2, 5\)"):
        lstm_forward(x, np.zeros((2, H)), np.zeros((3, H)), **w)
    with pytest.raises(ValueError, match=r"'w_ih' must have shape \(4·H, D\)"):
        lstm_forward(x, np.zeros((2, H)), np.zeros((2, H)), w["w_ih"][:H], w["w_hh"], w["b_ih"], w["b_hh"])
    with pytest.raises(ValueError, match=r"'x' must have shape \(N, D\) with D = 4"):
        lstm_step_forward(x, np.zeros((2, H)), np.zeros((2, H)), **w)
    h, c, cache = lstm_step_forward(x[:, 0], np.zeros((2, H)), np.zeros((2, H)), **w)
    with pytest.raises(ValueError, match=r"'dc' has shape \(2, 4\), expected \(2, 5\)"):
        lstm_step_backward(h, c[:, :4], cache)
