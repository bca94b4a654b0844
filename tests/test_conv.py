"""Convolution: 1-D modes, 2-D gradients over every stride/padding/dilation/group combination, transposed
convolution, parity with torch.nn.functional and our torch twin, output-size formula, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import n2t.torch as nt
from n2t.gradcheck import check_layer
from n2t.numpy.conv import (
    Conv2d,
    conv1d,
    conv2d_backward,
    conv2d_forward,
    conv_output_size,
    conv_transpose2d_backward,
    conv_transpose2d_forward,
)
from n2t.torch.conv import Conv2d as TorchConv2d
from n2t.torch.conv import conv2d as torch_conv2d


# ---- 1-D ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode,numpy_mode,length", [("narrow", "valid", lambda m, k: m - k + 1),
                                                    ("wide", "full", lambda m, k: m + k - 1),
                                                    ("same", "same", lambda m, k: m)])
@pytest.mark.parametrize("k", [1, 2, 3, 4, 7])
def test_conv1d_modes_match_numpy_convolve_and_lengths(rng, mode, numpy_mode, length, k):
    x, w = rng.standard_normal(11), rng.standard_normal(k)
    y = conv1d(x, w, mode)
    assert y.shape == (length(11, k),)
    np.testing.assert_allclose(y, np.convolve(x, w, numpy_mode), atol=1e-12)


def test_conv1d_flips_the_kernel_while_torch_conv1d_does_not(rng):
    x, w = rng.standard_normal(9), rng.standard_normal(3)
    torch_out = F.conv1d(torch.from_numpy(x)[None, None], torch.from_numpy(w)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(conv1d(x, w[::-1]), torch_out, atol=1e-12)
    assert not np.allclose(conv1d(x, w), torch_out)


def test_conv1d_rejects_bad_input():
    with pytest.raises(ValueError, match="mode"):
        conv1d(np.ones(5), np.ones(2), "valid")
    with pytest.raises(ValueError, match="K = 6 > M = 5"):
        conv1d(np.ones(5), np.ones(6))
    with pytest.raises(ValueError, match="1-D"):
        conv1d(np.ones((2, 5)), np.ones(2))


# ---- 2-D forward and backward -------------------------------------------------------------------
OPTIONS = list(itertools.product([1, 2, (2, 1)], [0, 1, (2, 0)], [1, 2], [1, 2]))


@pytest.mark.parametrize("stride,padding,dilation,groups", OPTIONS)
def test_conv2d_gradients_match_finite_differences_and_autograd(rng, stride, padding, dilation, groups):
    x = rng.standard_normal((2, 4, 6, 5))
    w = rng.standard_normal((6, 4 // groups, 3, 2))
    b = rng.standard_normal(6)
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    check_layer(conv2d_forward, conv2d_backward, {"x": x, "w": w, "b": b}, torch_fn=F.conv2d, kwargs=options)


@pytest.mark.parametrize("stride,padding,dilation,groups", OPTIONS[::5])
def test_numpy_and_torch_twin_equal_f_conv2d(rng, stride, padding, dilation, groups):
    x, w, b = rng.standard_normal((3, 4, 9, 6)), rng.standard_normal((8, 4 // groups, 2, 3)), rng.standard_normal(8)
    args = [torch.from_numpy(a) for a in (x, w, b)]
    reference = F.conv2d(*args, stride=stride, padding=padding, dilation=dilation, groups=groups).numpy()
    ours, _ = conv2d_forward(x, w, b, stride, padding, dilation, groups)
    twin = torch_conv2d(*args, stride=stride, padding=padding, dilation=dilation, groups=groups).numpy()
    np.testing.assert_allclose(ours, reference, atol=1e-12)
    np.testing.assert_allclose(twin, reference, atol=1e-12)


def test_conv2d_without_bias_returns_no_bias_gradient(rng):
    out, cache = conv2d_forward(rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((3, 2, 3, 3)))
    assert conv2d_backward(np.ones_like(out), cache)[2] is None


def test_one_by_one_convolution_is_a_linear_map_over_channels(rng):
    x, w = rng.standard_normal((2, 5, 3, 4)), rng.standard_normal((7, 5, 1, 1))
    out, _ = conv2d_forward(x, w)
    np.testing.assert_allclose(out, np.einsum("nchw,oc->nohw", x, w[:, :, 0, 0]), atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 12), k=st.integers(1, 4), stride=st.integers(1, 3), padding=st.integers(0, 2),
       dilation=st.integers(1, 3))
def test_output_size_formula_matches_actual_outputs(size, k, stride, padding, dilation):
    if k + (k - 1) * (dilation - 1) > size + 2 * padding:
        with pytest.raises(ValueError, match="larger than the padded input"):
            conv2d_forward(np.ones((1, 1, size, size + 1)), np.ones((1, 1, k, k)), None, stride, padding, dilation)
        return
    out, _ = conv2d_forward(np.ones((1, 1, size, size + 1)), np.ones((1, 1, k, k)), None, stride, padding, dilation)
    expected = conv_output_size(size, k, stride, padding, dilation), conv_output_size(size + 1, k, stride, padding,
                                                                                         dilation)
    assert out.shape[2:] == expected
    assert F.conv2d(torch.ones(1, 1, size, size + 1), torch.ones(1, 1, k, k), None, stride, padding,
                    dilation).shape[2:] == expected


def test_effective_kernel_size_of_a_dilated_kernel():
    # a 3×3 kernel with dilation 2 covers 5×5: same output as an undilated 5×5
    assert conv_output_size(9, 3, dilation=2) == conv_output_size(9, 5) == 5


# ---- transposed convolution ---------------------------------------------------------------------
@pytest.mark.parametrize("stride,padding,output_padding,dilation",
                         [(1, 0, 0, 1), (2, 1, 1, 1), (2, 0, 0, 2), ((3, 2), (1, 0), (2, 1), 1)])
def test_conv_transpose2d_matches_torch_and_finite_differences(rng, stride, padding, output_padding, dilation):
    x, w, b = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((3, 2, 3, 2)), rng.standard_normal(2)
    options = {"stride": stride, "padding": padding, "output_padding": output_padding, "dilation": dilation}
    check_layer(conv_transpose2d_forward, conv_transpose2d_backward, {"x": x, "w": w, "b": b},
                torch_fn=F.conv_transpose2d, kwargs=options)


def test_transposed_convolution_is_the_adjoint_of_convolution(rng):
    # ⟨conv(x), y⟩ = ⟨x, conv_transposeᵀ(y)⟩ with the same weights
    x, w = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((4, 3, 3, 3))
    y = rng.standard_normal((2, 4, 3, 3))
    conv_x, _ = conv2d_forward(x, w, None, stride=2)
    transposed_y, _ = conv_transpose2d_forward(y, w, None, stride=2)
    assert transposed_y.shape == x.shape
    np.testing.assert_allclose(np.sum(conv_x * y), np.sum(x * transposed_y), rtol=1e-12)


def test_conv_transpose2d_rejects_bad_input(rng):
    with pytest.raises(ValueError, match="same C_in"):
        conv_transpose2d_forward(np.ones((1, 3, 4, 4)), np.ones((2, 2, 3, 3)))
    with pytest.raises(ValueError, match="output_padding"):
        conv_transpose2d_forward(np.ones((1, 3, 4, 4)), np.ones((3, 2, 3, 3)), stride=2, output_padding=2)


# ---- the layer ----------------------------------------------------------------------------------
def test_conv2d_layer_matches_torch_layer_with_copied_weights(rng):
    layer = Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2, rng=rng)
    twin = TorchConv2d(4, 6, (3, 2), stride=2, padding=1, groups=2).double()
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(layer.params["W"]))
        twin.bias.copy_(torch.from_numpy(layer.params["b"]))
    x = rng.standard_normal((2, 4, 6, 5))
    np.testing.assert_allclose(layer(x), twin(torch.from_numpy(x)).detach().numpy(), atol=1e-12)
    assert layer.num_parameters() == sum(p.numel() for p in twin.parameters()) == 6 * 2 * 3 * 2 + 6


def test_conv2d_layer_backward_fills_grads(rng):
    layer = Conv2d(2, 3, 3, padding=1, rng=rng)
    x = rng.standard_normal((2, 2, 5, 5))
    dout = rng.standard_normal((2, 3, 5, 5))
    layer.forward(x)
    dx = layer.backward(dout)
    _, cache = conv2d_forward(x, layer.params["W"], layer.params["b"], padding=1)
    expected = conv2d_backward(dout, cache)
    np.testing.assert_allclose(dx, expected[0])
    np.testing.assert_allclose(layer.grads["W"], expected[1])
    np.testing.assert_allclose(layer.grads["b"], expected[2])


def test_conv2d_layer_init_matches_torch_bound(rng):
    layer = Conv2d(8, 16, 3, rng=rng)
    bound = 1 / np.sqrt(8 * 9)
    assert np.abs(layer.params["W"]).max() <= bound and np.abs(layer.params["W"]).max() > 0.9 * bound


def test_torch_conv2d_twin_trains_like_nn_conv2d():
    torch.manual_seed(0)
    ours = TorchConv2d(3, 4, 3, padding=1)
    reference = torch.nn.Conv2d(3, 4, 3, padding=1)
    reference.load_state_dict(ours.state_dict())
    x = torch.randn(2, 3, 5, 5)
    ours(x).square().sum().backward()
    reference(x).square().sum().backward()
    torch.testing.assert_close(ours.weight.grad, reference.weight.grad)


@pytest.mark.gpu
def test_torch_conv2d_runs_on_cuda():
    layer = TorchConv2d(3, 4, 3, padding=1, groups=1).cuda()
    x = torch.randn(2, 3, 8, 8, device="cuda")
    torch.testing.assert_close(layer(x), F.conv2d(x, layer.weight, layer.bias, padding=1), rtol=1e-4, atol=1e-4)


# ---- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("x_shape,w_shape,kwargs,message", [
    ((1, 3, 2, 2), (4, 3, 3, 3), {}, "kernel height 3 .* larger than the padded input height 2"),
    ((1, 3, 5, 5), (4, 2, 3, 3), {}, "C_in = 3 channels but w of shape"),
    ((1, 4, 5, 5), (6, 2, 3, 3), {"groups": 3}, "groups"),
    ((3, 5, 5), (4, 3, 3, 3), {}, "4-D with shape \\(N, C, H, W\\)"),
    ((1, 3, 5, 5), (4, 3, 3, 3), {"stride": 0}, "stride"),
    ((1, 3, 5, 5), (4, 3, 3, 3), {"padding": -1}, "padding"),
])
def test_conv2d_forward_rejects_bad_input(x_shape, w_shape, kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv2d_forward(np.ones(x_shape), np.ones(w_shape), **kwargs)


def test_conv2d_rejects_bad_bias_and_dout(rng):
    with pytest.raises(ValueError, match="'b' must have shape"):
        conv2d_forward(np.ones((1, 3, 5, 5)), np.ones((4, 3, 3, 3)), np.ones(3))
    out, cache = conv2d_forward(np.ones((1, 3, 5, 5)), np.ones((4, 3, 3, 3)))
    with pytest.raises(ValueError, match="'dout' has shape"):
        conv2d_backward(np.ones((1, 4, 2, 2)), cache)
    with pytest.raises(TypeError, match="'x' must be a real-valued array"):
        conv2d_forward(np.array([["a"]]), np.ones((4, 3, 3, 3)))


def test_torch_conv2d_rejects_bad_input():
    with pytest.raises(ValueError, match="larger than the padded input"):
        nt.conv2d(torch.ones(1, 3, 2, 2), torch.ones(4, 3, 3, 3))
    with pytest.raises(ValueError, match="C_in = 3 channels"):
        nt.conv2d(torch.ones(1, 3, 5, 5), torch.ones(4, 2, 3, 3))
    with pytest.raises(ValueError, match="4-D floating tensor"):
        nt.conv2d(torch.ones(3, 5, 5), torch.ones(4, 3, 3, 3))


def test_conv2d_layer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="in_channels"):
        Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="kernel_size"):
        Conv2d(3, 4, 0)
    with pytest.raises(RuntimeError, match="forward pass first"):
        Conv2d(3, 4, 3).backward(np.ones((1, 4, 1, 1)))
