"""Sequential, dropout and batch normalisation: gradients, parity with PyTorch, modes, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import n2t.numpy as nnp
import n2t.torch as nt
from n2t.gradcheck import check_layer, numerical_gradient, relative_error


def test_sequential_backward_matches_finite_differences(rng):
    model = nnp.Sequential(nnp.Linear(3, 5, rng=rng), nnp.Tanh(), nnp.Linear(5, 4, rng=rng), nnp.GELU(),
                           nnp.Linear(4, 2, rng=rng))
    x = rng.standard_normal((6, 3))
    dout = rng.standard_normal((6, 2))
    model.forward(x)
    dx = model.backward(dout)
    np.testing.assert_allclose(dx, numerical_gradient(lambda: float(np.sum(model.forward(x) * dout)), x), rtol=1e-6)
    for params, grads in model.parameters():
        for key, value in params.items():
            numeric = numerical_gradient(lambda: float(np.sum(model.forward(x) * dout)), value)
            assert relative_error(grads[key], numeric) < 1e-6


def test_sequential_counts_parameters_and_switches_modes(rng):
    model = nnp.Sequential(nnp.Linear(4, 3, rng=rng), nnp.BatchNorm1d(3), nnp.ReLU(), nnp.Dropout(0.5))
    assert model.num_parameters() == 4 * 3 + 3 + 3 + 3
    model.eval()
    assert not any(layer.training for layer in model.layers)
    assert len(model) == 4 and isinstance(model[1], nnp.BatchNorm1d)


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="layer 1 must be an n2t.numpy Module"):
        nnp.Sequential(nnp.ReLU(), lambda x: x)


def test_layer_backward_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match="before forward"):
        nnp.ReLU().backward(np.ones(3))


# ---- dropout ------------------------------------------------------------------------------------
def test_dropout_keeps_the_expectation_and_scales(rng):
    x = np.ones((200, 500))
    out, _ = nnp.dropout_forward(x, 0.3, True, rng)
    assert set(np.unique(out)) <= {0.0, 1 / 0.7}
    assert out.mean() == pytest.approx(1.0, abs=0.01)
    assert np.mean(out == 0) == pytest.approx(0.3, abs=0.01)


def test_dropout_gradient_uses_the_same_mask(rng):
    x = rng.standard_normal((4, 6))
    check_layer(lambda x: nnp.dropout_forward(x, 0.4, True, np.random.default_rng(3)), nnp.dropout_backward, {"x": x})


def test_dropout_is_identity_in_eval_mode(rng):
    layer = nnp.Dropout(0.9, rng=rng).eval()
    x = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(layer(x), x)
    torch_layer = nt.Dropout(0.9).eval()
    assert torch.equal(torch_layer(torch.from_numpy(x)), torch.from_numpy(x))


def test_torch_dropout_matches_functional_dropout_statistics():
    torch.manual_seed(0)
    out = nt.Dropout(0.25)(torch.ones(100_000))
    assert float((out == 0).float().mean()) == pytest.approx(0.25, abs=0.01)
    assert float(out.mean()) == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("p", [-0.1, 1.0])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(ValueError, match=r"argument 'p' must lie in \[0, 1\)"):
        nnp.dropout_forward(np.ones(3), p)


# ---- batch normalisation ------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (2, 4, 3, 5)])
def test_batchnorm_gradients(rng, shape):
    x = rng.standard_normal(shape) * 2 + 1
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    check_layer(nnp.batchnorm_forward, nnp.batchnorm_backward, {"x": x, "gamma": gamma, "beta": beta},
                torch_fn=lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True))


def test_batchnorm_running_statistics_match_pytorch(rng):
    ours, builtin, twin = nnp.BatchNorm1d(4, momentum=0.2), torch.nn.BatchNorm1d(4, momentum=0.2).double(), \
        nt.BatchNorm1d(4, momentum=0.2).double()
    for _ in range(5):
        x = rng.standard_normal((8, 4)) * 3 + 2
        expected = builtin(torch.from_numpy(x)).detach().numpy()
        np.testing.assert_allclose(ours(x), expected, atol=1e-12)
        np.testing.assert_allclose(twin(torch.from_numpy(x)).detach().numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(ours.buffers["running_mean"], builtin.running_mean.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.buffers["running_var"], builtin.running_var.numpy(), atol=1e-12)
    np.testing.assert_allclose(twin.running_var.numpy(), builtin.running_var.numpy(), atol=1e-12)
    x = rng.standard_normal((5, 4))
    ours.eval(), builtin.eval(), twin.eval()
    expected = builtin(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(x), expected, atol=1e-12)
    np.testing.assert_allclose(twin(torch.from_numpy(x)).detach().numpy(), expected, atol=1e-12)


def test_batchnorm_layer_fills_grads(rng):
    layer = nnp.BatchNorm1d(3)
    x, dout = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    layer(x)
    layer.backward(dout)
    np.testing.assert_allclose(layer.grads["beta"], dout.sum(axis=0))


def test_batchnorm_rejects_bad_shapes(rng):
    with pytest.raises(ValueError, match=r"gamma, beta shape \(C,\)"):
        nnp.batchnorm_forward(rng.standard_normal((4, 3)), np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match="more than one value per channel"):
        nnp.batchnorm_forward(rng.standard_normal((1, 3)), np.ones(3), np.zeros(3))
    with pytest.raises(RuntimeError, match="training mode"):
        nnp.BatchNorm1d(3).eval().backward(np.ones((2, 3)))


def test_mlp_builder_matches_numpy_layout():
    model = nt.mlp([64, 32, 10], batchnorm=True, dropout=0.1)
    names = [type(m).__name__ for m in model]
    assert names == ["Linear", "BatchNorm1d", "Activation", "Dropout", "Linear"]
    assert sum(p.numel() for p in model.parameters()) == 64 * 32 + 32 + 2 * 32 + 32 * 10 + 10
    with pytest.raises(ValueError, match="argument 'sizes'"):
        nt.mlp([3])


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 6), c=st.integers(1, 5), extra=st.lists(st.integers(1, 3), max_size=2),
       seed=st.integers(0, 2**16))
def test_batchnorm_matches_torch_for_any_shape(n, c, extra, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, *extra)) * 3
    gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
    out, cache = nnp.batchnorm_forward(x, gamma, beta)
    dout = rng.standard_normal(x.shape)
    dx, dgamma, dbeta = nnp.batchnorm_backward(dout, cache)
    tensors = [torch.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    reference = F.batch_norm(tensors[0], None, None, tensors[1], tensors[2], training=True)
    reference.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(out, reference.detach().numpy(), atol=1e-10)
    for ours, tensor in zip((dx, dgamma, dbeta), tensors):
        np.testing.assert_allclose(ours, tensor.grad.numpy(), atol=1e-8)


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3), p=st.floats(0.0, 0.9), seed=st.integers(0, 99))
def test_dropout_shapes_and_values_for_any_input(shape, p, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    out, cache = nnp.dropout_forward(x, p, True, np.random.default_rng(seed))
    assert out.shape == x.shape
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / (1 - p))
    gradient = nnp.dropout_backward(np.ones_like(x), cache)
    np.testing.assert_array_equal(gradient != 0, kept)  # the gradient flows exactly where x was kept


@pytest.mark.gpu
def test_torch_batchnorm_and_mlp_on_cuda(rng):
    x = torch.from_numpy(rng.standard_normal((8, 4)))
    cpu, gpu = nt.BatchNorm1d(4).double(), nt.BatchNorm1d(4).double().cuda()
    torch.testing.assert_close(gpu(x.cuda()).cpu(), cpu(x), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gpu.running_var.cpu(), cpu.running_var, rtol=1e-12, atol=1e-12)
    model = nt.mlp([4, 8, 3], batchnorm=True).double()
    expected = model.eval()(x)
    torch.testing.assert_close(model.cuda()(x.cuda()).cpu(), expected, rtol=1e-10, atol=1e-10)
