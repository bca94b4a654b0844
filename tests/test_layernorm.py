"""Layer normalisation in NumPy: equal to ``F.layer_norm``, gradients by finite differences and autograd,
independent of the batch, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from n2t.gradcheck import check_layer
from n2t.numpy.layernorm import LayerNorm, layernorm_backward, layernorm_forward


@pytest.mark.parametrize("shape", [(5,), (3, 5), (2, 3, 5)])
def test_gradients(rng, shape):
    inputs = {"x": rng.standard_normal(shape), "gamma": rng.standard_normal(5), "beta": rng.standard_normal(5)}
    check_layer(layernorm_forward, layernorm_backward, inputs, lambda x, g, b: F.layer_norm(x, (5,), g, b))


def test_each_position_is_normalised_on_its_own(rng):
    x = rng.standard_normal((4, 3, 8)) * 10 + 3
    out, _ = layernorm_forward(x, np.ones(8), np.zeros(8))
    np.testing.assert_allclose(out.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(-1), 1, rtol=1e-5)
    alone, _ = layernorm_forward(x[2:3], np.ones(8), np.zeros(8))
    np.testing.assert_array_equal(alone, out[2:3])


def test_layer_equals_nn_layernorm(rng):
    layer = LayerNorm(6)
    layer.params = {"weight": rng.standard_normal(6), "bias": rng.standard_normal(6)}
    builtin = torch.nn.LayerNorm(6).double()
    builtin.load_state_dict({k: torch.from_numpy(v) for k, v in layer.params.items()})
    x = rng.standard_normal((2, 3, 6))
    np.testing.assert_allclose(layer.forward(x), builtin(torch.from_numpy(x)).detach().numpy(), atol=1e-13)


def test_bad_input_is_named(rng):
    with pytest.raises(ValueError, match=r"gamma, beta shape \(D,\)"):
        layernorm_forward(rng.standard_normal((2, 5)), np.ones(4), np.zeros(4))
    with pytest.raises(ValueError, match="'normalized_shape' must be a positive int"):
        LayerNorm(0)
    with pytest.raises(RuntimeError, match="before forward"):
        LayerNorm(3).backward(np.zeros(3))
