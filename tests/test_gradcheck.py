"""The gradient checker itself: it must fail on wrong backward passes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from n2t.gradcheck import check_layer, numerical_gradient, relative_error
from n2t.numpy import linear_backward, linear_forward, sigmoid_forward


def test_numerical_gradient_of_a_quadratic(rng):
    x = rng.standard_normal((3, 4))
    grad = numerical_gradient(lambda: float(np.sum(x**2)), x)
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-8)


def test_catches_a_missing_factor(rng):
    def bad_backward(dout, cache):
        (out,) = cache
        return dout * out  # forgot (1 - out)

    with pytest.raises(AssertionError, match="disagrees with finite differences"):
        check_layer(sigmoid_forward, bad_backward, {"x": rng.standard_normal((3, 4))})


def test_catches_a_backward_that_ignores_dout(rng):
    """An all-ones upstream gradient would hide this bug; the random one does not."""

    def bad_backward(dout, cache):
        (out,) = cache
        return np.ones_like(dout) * out * (1 - out)

    with pytest.raises(AssertionError):
        check_layer(sigmoid_forward, bad_backward, {"x": rng.standard_normal((3, 4))})


def test_catches_a_transposed_weight_gradient_via_torch(rng):
    def bad_backward(dout, cache):
        dx, dw, db = linear_backward(dout, cache)
        return dx, dw * 1.0001, db

    inputs = {"x": rng.standard_normal((3, 5)), "w": rng.standard_normal((4, 5)), "b": rng.standard_normal(4)}
    with pytest.raises(AssertionError, match="'w'"):
        check_layer(linear_forward, bad_backward, inputs, torch_fn=torch.nn.functional.linear)


def test_rejects_float32_inputs(rng):
    with pytest.raises(TypeError, match="must be a float64 ndarray"):
        check_layer(sigmoid_forward, lambda d, c: d, {"x": rng.standard_normal(3).astype(np.float32)})


def test_relative_error_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="shapes differ"):
        relative_error(np.zeros(3), np.zeros(4))
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
