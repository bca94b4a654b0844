"""Pooling: gradients, parity with F.max_pool2d / F.avg_pool2d and our torch twins, ties, layers, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import n2t.numpy as nnp
import n2t.torch as nt
from n2t.gradcheck import check_layer
from n2t.numpy.pooling import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward

CASES = [(2, None, 0), (3, 2, 1), ((3, 2), (1, 2), (1, 1)), (3, 1, 0), (2, 1, 0)]
POOLS = [("max", max_pool2d_forward, max_pool2d_backward, F.max_pool2d, nt.max_pool2d),
         ("avg", avg_pool2d_forward, avg_pool2d_backward, F.avg_pool2d, nt.avg_pool2d)]


@pytest.mark.parametrize("kernel,stride,padding", CASES)
@pytest.mark.parametrize("name,forward,backward,reference,twin", POOLS, ids=[p[0] for p in POOLS])
def test_pool_gradients_match_finite_differences_and_autograd(rng, kernel, stride, padding, name, forward,
                                                              backward, reference, twin):
    x = rng.permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) / 10.0  # distinct values: no ties, no kinks
    options = {"kernel_size": kernel, "stride": stride, "padding": padding}
    check_layer(forward, backward, {"x": x}, torch_fn=reference, kwargs=options)


@pytest.mark.parametrize("kernel,stride,padding", CASES)
@pytest.mark.parametrize("name,forward,backward,reference,twin", POOLS, ids=[p[0] for p in POOLS])
def test_pool_forward_equals_torch_and_our_twin(rng, kernel, stride, padding, name, forward, backward, reference,
                                                twin):
    x = rng.standard_normal((2, 3, 9, 8))
    expected = reference(torch.from_numpy(x), kernel, stride, padding)
    np.testing.assert_array_equal(forward(x, kernel, stride, padding)[0], expected.numpy())
    torch.testing.assert_close(twin(torch.from_numpy(x), kernel, stride, padding), expected, rtol=0, atol=1e-15)


def test_torch_twin_max_pool_backward_routes_like_f_max_pool2d(rng):
    x = torch.tensor(rng.standard_normal((2, 3, 6, 6)), requires_grad=True)
    y = x.detach().clone().requires_grad_(True)
    dout = torch.tensor(rng.standard_normal((2, 3, 2, 2)))
    nt.max_pool2d(x, 3, 2).backward(dout)
    F.max_pool2d(y, 3, 2).backward(dout)
    torch.testing.assert_close(x.grad, y.grad)


def test_max_pool_ties_send_the_gradient_to_the_first_maximum_like_torch():
    x = np.ones((1, 1, 4, 4))
    out, cache = max_pool2d_forward(x, 2)
    dx = max_pool2d_backward(np.ones_like(out), cache)
    reference = torch.ones(1, 1, 4, 4, dtype=torch.float64, requires_grad=True)
    F.max_pool2d(reference, 2).sum().backward()
    np.testing.assert_array_equal(dx, reference.grad.numpy())
    assert dx.sum() == out.size  # each window passes its gradient exactly once


def test_overlapping_windows_accumulate_gradient():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0  # the centre is the maximum of all four 2×2 windows
    out, cache = max_pool2d_forward(x, 2, 1)
    dx = max_pool2d_backward(np.ones_like(out), cache)
    assert dx[0, 0, 1, 1] == 4.0 and dx.sum() == 4.0


@settings(max_examples=30, deadline=None)
@given(h=st.integers(2, 10), w=st.integers(2, 10), k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 1))
def test_pool_output_shapes_match_torch(h, w, k, s, p):
    if p > k // 2 or k > min(h, w) + 2 * p:
        with pytest.raises(ValueError):
            max_pool2d_forward(np.ones((1, 1, h, w)), k, s, p)
        return
    out, _ = max_pool2d_forward(np.ones((1, 2, h, w)), k, s, p)
    assert out.shape == F.max_pool2d(torch.ones(1, 2, h, w), k, s, p).shape


def test_pool_layers_and_flatten(rng):
    x = rng.standard_normal((2, 3, 6, 6))
    for layer, reference in ((nnp.MaxPool2d(2), F.max_pool2d), (nnp.AvgPool2d(3, 1, 1), F.avg_pool2d)):
        kwargs = layer.config()
        out = layer(x)
        expected = reference(torch.from_numpy(x), tuple(kwargs["kernel_size"]), tuple(kwargs["stride"]),
                             tuple(kwargs["padding"]))
        np.testing.assert_allclose(out, expected.numpy(), atol=1e-15)
        assert layer.backward(np.ones_like(out)).shape == x.shape
        assert layer.num_parameters() == 0
    flatten = nnp.Flatten()
    assert flatten(x).shape == (2, 108)
    np.testing.assert_array_equal(flatten.backward(flatten(x)), x)
    torch_layer = nt.MaxPool2d(2)
    torch.testing.assert_close(torch_layer(torch.from_numpy(x)), F.max_pool2d(torch.from_numpy(x), 2))


def test_pooling_rejects_bad_input():
    with pytest.raises(ValueError, match="4-D"):
        max_pool2d_forward(np.ones((3, 4, 4)), 2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        avg_pool2d_forward(np.ones((1, 1, 2, 2)), 3)
    with pytest.raises(ValueError, match="at most half the kernel"):
        max_pool2d_forward(np.ones((1, 1, 4, 4)), 2, 2, 2)
    with pytest.raises(ValueError, match="kernel_size"):
        nnp.MaxPool2d(0)
    with pytest.raises(RuntimeError, match="forward pass first"):
        nnp.MaxPool2d(2).backward(np.ones((1, 1, 1, 1)))
    with pytest.raises(RuntimeError, match="forward pass first"):
        nnp.Flatten().backward(np.ones((1, 4)))
    with pytest.raises(ValueError, match="larger than the padded input"):
        nt.max_pool2d(torch.ones(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match="4-D"):
        nt.MaxPool2d(2)(torch.ones(4, 4))
    out, cache = max_pool2d_forward(np.ones((1, 1, 4, 4)), 2)
    with pytest.raises(ValueError, match="'dout' has shape"):
        max_pool2d_backward(np.ones((1, 1, 4, 4)), cache)
