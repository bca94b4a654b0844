"""Activations: gradients (float64, random upstream), parity with torch, stability, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import n2t.numpy as nnp
import n2t.torch as nt
from n2t.gradcheck import check_layer

# name → (numpy forward, numpy backward, n2t.torch twin, PyTorch built-in, kwargs)
CASES = {
    "sigmoid": (nnp.sigmoid_forward, nnp.sigmoid_backward, nt.sigmoid, torch.sigmoid, {}),
    "tanh": (nnp.tanh_forward, nnp.tanh_backward, nt.tanh, torch.tanh, {}),
    "relu": (nnp.relu_forward, nnp.relu_backward, nt.relu, F.relu, {}),
    "leaky_relu": (nnp.leaky_relu_forward, nnp.leaky_relu_backward, nt.leaky_relu, F.leaky_relu,
                   {"negative_slope": 0.07}),
    "elu": (nnp.elu_forward, nnp.elu_backward, nt.elu, F.elu, {"alpha": 1.3}),
    "swish": (nnp.swish_forward, nnp.swish_backward, nt.swish, F.silu, {}),
    "gelu": (nnp.gelu_forward, nnp.gelu_backward, nt.gelu, F.gelu, {}),
    "gelu_tanh": (nnp.gelu_forward, nnp.gelu_backward, nt.gelu, F.gelu, {"approximate": "tanh"}),
}


def away_from_kinks(x: np.ndarray) -> np.ndarray:
    """Push entries within 1e-3 of 0 (the kink of ReLU-like functions) away from it."""
    x = x.copy()
    near = np.abs(x) < 1e-3
    x[near] = np.where(x[near] >= 0, 0.25, -0.25)
    return x


@pytest.fixture
def x(rng):
    return away_from_kinks(2.0 * rng.standard_normal((3, 4, 5)))


@pytest.mark.parametrize("name", CASES)
def test_gradient_matches_finite_differences_and_autograd(name, x):
    forward, backward, _, builtin, kwargs = CASES[name]
    result = check_layer(forward, backward, {"x": x}, torch_fn=builtin, kwargs=kwargs)
    assert set(result.numeric) == {"x"} and set(result.torch) == {"x"}


@pytest.mark.parametrize("name", CASES)
def test_numpy_twin_and_builtin_agree(name, x):
    forward, _, twin, builtin, kwargs = CASES[name]
    reference = builtin(torch.from_numpy(x), **kwargs).numpy()
    np.testing.assert_allclose(forward(x, **kwargs)[0], reference, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(twin(torch.from_numpy(x), **kwargs).numpy(), reference, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", CASES)
def test_torch_twin_gradient_matches_builtin(name, x):
    _, _, twin, builtin, kwargs = CASES[name]
    grads = []
    for fn in (twin, builtin):
        t = torch.tensor(x, requires_grad=True)
        fn(t, **kwargs).backward(torch.ones_like(t) * 0.7)
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_at_plus_minus_1000(name, dtype):
    forward, backward, twin, builtin, kwargs = CASES[name]
    x = np.array([-1000.0, -30.0, -1e-3, 1e-3, 30.0, 1000.0], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out, cache = forward(x, **kwargs)
        dx = backward(np.ones_like(out), cache)
    assert out.dtype == dtype and dx.dtype == dtype
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))
    reference = builtin(torch.from_numpy(x.astype(np.float64)), **kwargs).numpy()
    np.testing.assert_allclose(out, reference, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)
    assert torch.isfinite(twin(torch.from_numpy(x), **kwargs)).all()


def test_sigmoid_limits_are_exact():
    out, _ = nnp.sigmoid_forward(np.array([-1000.0, 0.0, 1000.0]))
    assert out.tolist() == [0.0, 0.5, 1.0]


def test_tanh_is_two_sigmoid_of_two_x_minus_one(rng):
    x = rng.uniform(-8, 8, 500)
    np.testing.assert_allclose(nnp.tanh_forward(x)[0], 2 * nnp.sigmoid(2 * x) - 1, atol=1e-12)


def test_erf_matches_math_erf():
    import math

    x = np.linspace(-7, 7, 2801)
    np.testing.assert_allclose(nnp.erf(x), [math.erf(v) for v in x], rtol=0, atol=4e-16)


@pytest.mark.parametrize("alpha_shape", [(1,), (4,)])
def test_prelu_gradients_and_parity(rng, x, alpha_shape):
    alpha = rng.uniform(0.05, 0.4, alpha_shape)
    check_layer(nnp.prelu_forward, nnp.prelu_backward, {"x": x, "alpha": alpha}, torch_fn=F.prelu)
    module = nt.PReLU(num_parameters=alpha_shape[0]).double()
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(alpha))
    reference = F.prelu(torch.from_numpy(x), torch.from_numpy(alpha)).numpy()
    np.testing.assert_allclose(module(torch.from_numpy(x)).detach().numpy(), reference, rtol=1e-14)
    np.testing.assert_allclose(nnp.prelu_forward(x, alpha)[0], reference, rtol=1e-14)


def test_prelu_module_matches_nn_prelu_init():
    assert torch.equal(nt.PReLU(3).weight.detach(), torch.nn.PReLU(3).weight.detach())


# ---- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CASES)
def test_non_numeric_input_is_rejected(name):
    forward = CASES[name][0]
    with pytest.raises(TypeError, match="argument 'x' must be a real-valued array"):
        forward(np.array(["a", "b"]))


@pytest.mark.parametrize("name", CASES)
def test_dout_of_wrong_shape_is_rejected(name, x):
    forward, backward, *_, kwargs = CASES[name]
    _, cache = forward(x, **kwargs)
    with pytest.raises(ValueError, match=r"'dout' has shape \(3, 5, 4\), expected \(3, 4, 5\)"):
        backward(np.ones((3, 5, 4)), cache)


def test_backward_rejects_something_that_is_not_a_cache():
    with pytest.raises(TypeError, match="argument 'cache'"):
        nnp.relu_backward(np.ones(3), "not a cache")


def test_integer_input_is_promoted_to_float():
    out, _ = nnp.relu_forward(np.array([-2, 3]))
    assert out.dtype == np.float64 and out.tolist() == [0.0, 3.0]


def test_prelu_rejects_alpha_of_wrong_length(x):
    with pytest.raises(ValueError, match=r"'alpha' must have shape \(1,\) or \(C,\) = \(4,\)"):
        nnp.prelu_forward(x, np.ones(5))


def test_gelu_rejects_unknown_approximation(x):
    with pytest.raises(ValueError, match="'approximate' must be 'none' or 'tanh'"):
        nnp.gelu_forward(x, approximate="fast")
    with pytest.raises(ValueError, match="'approximate' must be 'none' or 'tanh'"):
        nt.gelu(torch.from_numpy(x), approximate="fast")


def test_torch_twin_rejects_integer_tensor():
    with pytest.raises(TypeError, match="argument 'x' must be a floating-point tensor"):
        nt.relu(torch.arange(3))


# ---- properties over shapes ------------------------------------------------------------------
finite = st.floats(-50, 50, allow_nan=False, width=64)


@settings(max_examples=40, deadline=None)
@given(x=arrays(np.float64, array_shapes(min_dims=0, max_dims=4, max_side=5), elements=finite),
       name=st.sampled_from(sorted(CASES)))
def test_shapes_are_preserved_and_match_torch(x, name):
    forward, backward, _, builtin, kwargs = CASES[name]
    out, cache = forward(x, **kwargs)
    dx = backward(np.ones_like(out), cache)
    assert out.shape == x.shape and dx.shape == x.shape
    np.testing.assert_allclose(out, builtin(torch.from_numpy(x), **kwargs).numpy(), rtol=1e-10, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(x=arrays(np.float64, array_shapes(min_dims=1, max_dims=3, max_side=6), elements=finite))
def test_sigmoid_is_bounded_and_monotone(x):
    out, _ = nnp.sigmoid_forward(x)
    assert np.all((out >= 0) & (out <= 1))
    flat = np.sort(x.ravel())
    assert np.all(np.diff(nnp.sigmoid_forward(flat)[0]) >= 0)


# ---- CUDA ------------------------------------------------------------------------------------
@pytest.mark.gpu
@pytest.mark.parametrize("name", CASES)
def test_torch_twin_on_cuda_matches_cpu(name, x):
    _, _, twin, builtin, kwargs = CASES[name]
    cpu = twin(torch.from_numpy(x), **kwargs)
    gpu = twin(torch.from_numpy(x).cuda(), **kwargs)
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gpu, builtin(torch.from_numpy(x).cuda(), **kwargs), rtol=1e-12, atol=1e-12)
