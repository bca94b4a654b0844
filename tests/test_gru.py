"""The GRU in NumPy, exactly as ``nn.GRU``: step and sequence gradients (float64, random upstream
gradient, h0 included), the update gate's direction, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from recurrent_reference import builtin_sequence, builtin_step, weights

from n2t.gradcheck import check_layer
from n2t.numpy.gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward


def test_step_gradients(rng):
    inputs = {"x": rng.standard_normal((3, 4)), "h_prev": rng.standard_normal((3, 5)), **weights(rng, "gru", 4, 5)}
    check_layer(gru_step_forward, gru_step_backward, inputs, builtin_step("gru"))


@pytest.mark.parametrize("steps", [1, 3, 6])
def test_sequence_gradients_including_h0(rng, steps):
    inputs = {"x": rng.standard_normal((2, steps, 4)), "h0": rng.standard_normal((2, 5)),
              **weights(rng, "gru", 4, 5)}
    check_layer(gru_forward, gru_backward, inputs, builtin_sequence("gru"))


def test_update_gate_one_keeps_the_state(rng):
    """PyTorch's convention: h' = (1 − z)·n + z·h, so z → 1 copies the old state."""
    w = weights(rng, "gru", 4, 5)
    w["b_ih"][5:10] = 60.0
    h0 = rng.standard_normal((2, 5))
    h, _ = gru_forward(rng.standard_normal((2, 4, 4)), h0, **w)
    np.testing.assert_allclose(h[:, -1], h0, atol=1e-12)


def test_bad_input_is_named(rng):
    w = weights(rng, "gru", 4, 5)
    with pytest.raises(ValueError, match=r"'w_hh' must have shape \(3·H, H\)"):
        gru_forward(rng.standard_normal((2, 3, 4)), np.zeros((2, 5)), w["w_ih"], w["w_hh"][:10], w["b_ih"], w["b_hh"])
    with pytest.raises(ValueError, match=r"'h_prev' must have shape \(N, H\) = \(2, 5\)"):
        gru_step_forward(rng.standard_normal((2, 4)), np.zeros((1, 5)), **w)
