"""The fully connected layer: gradients, parity with nn.Linear, the class API, saving, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import n2t.torch as nt
from n2t.gradcheck import check_layer
from n2t.numpy import Linear, linear_backward, linear_forward

N, D, H = 3, 5, 4  # distinct sizes: a transposed weight fails on shape


@pytest.fixture
def xwb(rng):
    return rng.standard_normal((N, D)), rng.standard_normal((H, D)), rng.standard_normal(H)


def test_gradients_with_bias(xwb):
    x, w, b = xwb
    result = check_layer(linear_forward, linear_backward, {"x": x, "w": w, "b": b}, torch_fn=F.linear)
    assert set(result.numeric) == {"x", "w", "b"}


def test_gradients_without_bias(xwb):
    x, w, _ = xwb
    check_layer(linear_forward, linear_backward, {"x": x, "w": w}, torch_fn=F.linear)
    assert linear_backward(np.ones((N, H)), linear_forward(x, w)[1])[2] is None


def test_gradients_with_extra_leading_axes(rng):
    x, w, b = rng.standard_normal((2, 3, D)), rng.standard_normal((H, D)), rng.standard_normal(H)
    check_layer(linear_forward, linear_backward, {"x": x, "w": w, "b": b}, torch_fn=F.linear)


def test_weights_move_to_torch_and_give_the_same_output(rng):
    layer = Linear(D, H, rng=rng)
    x = rng.standard_normal((N, D))
    ours = nt.Linear(D, H).double()
    builtin = torch.nn.Linear(D, H).double()
    with torch.no_grad():
        for module in (ours, builtin):
            module.weight.copy_(torch.from_numpy(layer.params["W"]))
            module.bias.copy_(torch.from_numpy(layer.params["b"]))
    expected = layer.forward(x)
    torch.testing.assert_close(ours(torch.from_numpy(x)), torch.from_numpy(expected), rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(builtin(torch.from_numpy(x)), torch.from_numpy(expected), rtol=1e-14, atol=1e-14)
    assert builtin.weight.shape == layer.params["W"].shape == (H, D)


def test_class_backward_fills_grads_like_autograd(rng):
    layer = Linear(D, H, rng=rng)
    x = rng.standard_normal((N, D))
    dout = rng.standard_normal((N, H))
    layer.forward(x)
    dx = layer.backward(dout)
    module = torch.nn.Linear(D, H).double()
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(layer.params["W"]))
        module.bias.copy_(torch.from_numpy(layer.params["b"]))
    xt = torch.tensor(x, requires_grad=True)
    module(xt).backward(torch.from_numpy(dout))
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], module.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], module.bias.grad.numpy(), rtol=1e-12)


def test_parameter_count_is_m_times_n_plus_n():
    assert Linear(7, 3).num_parameters() == 7 * 3 + 3
    assert Linear(7, 3, bias=False).num_parameters() == 21
    assert sum(p.numel() for p in nt.Linear(7, 3).parameters()) == 24


def test_init_bounds_follow_pytorch(rng):
    layer = Linear(100, 50, rng=rng)
    assert np.abs(layer.params["W"]).max() <= 0.1 and np.abs(layer.params["W"]).max() > 0.09


def test_same_seed_same_weights():
    a = Linear(4, 3, rng=np.random.default_rng(7)).params["W"]
    b = Linear(4, 3, rng=np.random.default_rng(7)).params["W"]
    np.testing.assert_array_equal(a, b)


def test_forward_does_not_mutate_inputs(xwb):
    x, w, b = (a.copy() for a in xwb)
    out, cache = linear_forward(x, w, b)
    linear_backward(np.ones_like(out), cache)
    for before, after in zip(xwb, (x, w, b)):
        np.testing.assert_array_equal(before, after)


# ---- saving and loading ------------------------------------------------------------------------
def test_save_and_load_round_trip(tmp_path, rng):
    layer = Linear(D, H, rng=rng)
    layer.save(tmp_path / "layer.npz")
    other = Linear(D, H, rng=np.random.default_rng(99))
    other.load(tmp_path / "layer.npz")
    for key in layer.params:
        np.testing.assert_array_equal(layer.params[key], other.params[key])


def test_load_rejects_wrong_shapes(tmp_path, rng):
    Linear(D, H, rng=rng).save(tmp_path / "layer.npz")
    with pytest.raises(ValueError, match="holds shapes"):
        Linear(D + 1, H).load(tmp_path / "layer.npz")


def test_load_rejects_corrupted_file(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"this is not a zip archive")
    with pytest.raises(ValueError, match="not a valid .npz file"):
        Linear(D, H).load(path)


def test_load_rejects_nan(tmp_path):
    np.savez(tmp_path / "nan.npz", W=np.full((H, D), np.nan), b=np.zeros(H))
    with pytest.raises(ValueError, match="contains NaN or inf"):
        Linear(D, H).load(tmp_path / "nan.npz")


# ---- bad input --------------------------------------------------------------------------------
def test_mismatched_feature_size_is_rejected(xwb):
    x, w, b = xwb
    with pytest.raises(ValueError, match=r"'x' must have shape \(N, D\) with D = 5 .* got shape \(3, 4\)"):
        linear_forward(x[:, :4], w, b)


def test_wrong_bias_shape_is_rejected(xwb):
    x, w, _ = xwb
    with pytest.raises(ValueError, match=r"'b' must have shape \(H,\) = \(4,\); got shape \(5,\)"):
        linear_forward(x, w, np.zeros(5))


def test_weight_must_be_2d(xwb):
    x, _, _ = xwb
    with pytest.raises(ValueError, match="argument 'w' must be 2-D"):
        linear_forward(x, np.zeros(D))


def test_string_input_is_rejected(xwb):
    _, w, b = xwb
    with pytest.raises(TypeError, match="argument 'x' must be a real-valued array"):
        linear_forward(np.array([["a"] * D]), w, b)


def test_backward_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match="before forward"):
        Linear(2, 3).backward(np.ones((1, 3)))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_layer_sizes_must_be_positive_ints(bad):
    with pytest.raises(ValueError, match="'in_features' must be a positive int"):
        Linear(bad, 3)


def test_torch_linear_rejects_mismatch():
    with pytest.raises(ValueError, match="argument 'x' must have shape"):
        nt.linear(torch.zeros(2, 3), torch.zeros(4, 5))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 6), d=st.integers(1, 6), h=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_shapes_and_values_match_torch_for_any_sizes(n, d, h, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((n, d)), rng.standard_normal((h, d)), rng.standard_normal(h)
    out, cache = linear_forward(x, w, b)
    dx, dw, db = linear_backward(np.ones((n, h)), cache)
    assert out.shape == (n, h) and dx.shape == (n, d) and dw.shape == (h, d) and db.shape == (h,)
    np.testing.assert_allclose(out, F.linear(*map(torch.from_numpy, (x, w, b))).numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.gpu
def test_torch_linear_on_cuda(rng):
    layer = nt.Linear(D, H).double()
    x = torch.from_numpy(rng.standard_normal((N, D)))
    torch.testing.assert_close(layer.cuda()(x.cuda()).cpu(), layer.cpu()(x), rtol=1e-12, atol=1e-12)
