"""The NumPy residual block and LeNet: gradients, identity vs projection shortcut, parity with torch, learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import n2t.numpy as nnp
from n2t.gradcheck import numerical_gradient, relative_error
from n2t.numpy.lenet import lenet as numpy_lenet
from n2t.numpy.lenet import random_shift as numpy_shift
from n2t.numpy.residual import ResidualBlock
from n2t.numpy.serialize import load_model, save_model
from n2t.numpy.train import evaluate, fit
from n2t.torch.lenet import lenet as torch_lenet
from n2t.torch.lenet import random_shift as torch_shift


def loss_and_grads(block, x, dout):
    block.train()
    block.zero_grad()
    block.forward(x)
    return block.backward(dout)


@pytest.mark.parametrize("c_in,c_out,stride", [(3, 3, 1), (3, 5, 1), (3, 4, 2)])
def test_residual_block_backward_matches_finite_differences(rng, c_in, c_out, stride):
    block = ResidualBlock(c_in, c_out, stride, rng=rng)
    x = rng.standard_normal((3, c_in, 5, 4))
    h, w = (5 + stride - 1) // stride, (4 + stride - 1) // stride
    dout = rng.standard_normal((3, c_out, h, w))
    dx = loss_and_grads(block, x, dout)
    loss = lambda: float(np.sum(block.forward(x) * dout))  # noqa: E731
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    loss_and_grads(block, x, dout)
    for params, grads in block.parameters():
        for key, value in params.items():
            assert relative_error(grads[key], numerical_gradient(loss, value)) < 1e-6, key


def test_shortcut_is_identity_only_when_the_shape_is_kept(rng):
    assert ResidualBlock(4, 4, 1, rng=rng).shortcut is None
    assert ResidualBlock(4, 8, 1, rng=rng).shortcut is not None
    assert ResidualBlock(4, 4, 2, rng=rng).shortcut is not None
    projection = ResidualBlock(4, 8, 2, rng=rng)
    assert projection.shortcut[0].params["W"].shape == (8, 4, 1, 1)
    assert projection.num_parameters() == (8 * 4 * 9 + 8 * 8 * 9 + 2 * 8 * 2) + (8 * 4 + 2 * 8)


def test_identity_block_with_zero_residual_passes_relu_of_x(rng):
    block = ResidualBlock(3, 3, rng=rng)
    block.residual[4].params["gamma"][:] = 0.0  # F(x) = β = 0: the block computes ReLU(x)
    x = rng.standard_normal((2, 3, 4, 4))
    np.testing.assert_allclose(block.forward(x), np.maximum(x, 0.0))
    dout = rng.standard_normal(x.shape)
    np.testing.assert_allclose(block.backward(dout), dout * (x > 0))  # the gradient flows through untouched


def test_residual_block_equals_the_torch_basic_block_with_copied_weights(rng):
    from n2t.torch.resnet import BasicBlock

    block = ResidualBlock(4, 6, 2, rng=rng)
    torch_block = BasicBlock(4, 6, stride=2).double()
    numpy_layers = [layer for seq in (block.residual, block.shortcut) for layer in seq.layers if layer.params]
    torch_layers = [m for m in torch_block.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d))]
    assert len(numpy_layers) == len(torch_layers) == 6
    with torch.no_grad():
        for ours, theirs in zip(numpy_layers, torch_layers):
            if "W" in ours.params:
                theirs.weight.copy_(torch.from_numpy(ours.params["W"]))
            else:
                theirs.weight.copy_(torch.from_numpy(ours.params["gamma"]))
                theirs.bias.copy_(torch.from_numpy(ours.params["beta"]))
    x = rng.standard_normal((3, 4, 6, 6))
    np.testing.assert_allclose(block.forward(x), torch_block(torch.from_numpy(x)).detach().numpy(), atol=1e-10)


def test_residual_block_train_and_eval_modes(rng):
    block = ResidualBlock(2, 3, 2, rng=rng)
    assert all(layer.training for layer in block.residual.layers)
    block.eval()
    assert not any(layer.training for seq in (block.residual, block.shortcut) for layer in seq.layers)
    block.zero_grad()
    assert all(not g.any() for _, grads in block.parameters() for g in grads.values())


# ---- LeNet ---------------------------------------------------------------------------------------
def test_numpy_and_torch_lenet_have_the_same_layers_and_agree_with_copied_weights(rng):
    model = numpy_lenet(rng=rng).eval()
    twin = torch_lenet().double().eval()
    numpy_params = [p for params, _ in model.parameters() for p in params.values()]
    torch_params = list(twin.parameters())
    assert [p.shape for p in numpy_params] == [tuple(p.shape) for p in torch_params]
    with torch.no_grad():
        for ours, theirs in zip(numpy_params, torch_params):
            theirs.copy_(torch.from_numpy(ours))
    x = rng.uniform(0, 1, (5, 1, 8, 8))
    np.testing.assert_allclose(model.forward(x), twin(torch.from_numpy(x)).detach().numpy(), atol=1e-10)


def test_lenet_learns_digits_in_a_few_epochs(rng):
    from n2t.data import digits

    x_train, x_test, y_train, y_test = digits()
    model = numpy_lenet(channels=(8, 16), hidden=32, rng=rng)
    before = evaluate(model, x_test.reshape(-1, 1, 8, 8), y_test)["accuracy"]
    history = fit(model, nnp.Adam(model.parameters(), lr=3e-3), x_train[:600].reshape(-1, 1, 8, 8),
                  y_train[:600], epochs=3, rng=rng)
    after = evaluate(model, x_test.reshape(-1, 1, 8, 8), y_test)["accuracy"]
    assert history["loss"][-1] < history["loss"][0] and after > 0.8 > before


def test_lenet_saves_and_loads(rng, tmp_path):
    model = numpy_lenet(rng=rng).eval()
    save_model(model, tmp_path / "lenet.npz")
    loaded = load_model(tmp_path / "lenet.npz")
    x = rng.uniform(0, 1, (2, 1, 8, 8))
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))


def test_random_shift_moves_whole_images_by_at_most_one_pixel(rng):
    x = rng.uniform(0.5, 1, (50, 2, 6, 6))
    shifted = numpy_shift(x, rng)
    torch_shifted = torch_shift(torch.from_numpy(x), torch.Generator().manual_seed(0)).numpy()
    for result in (shifted, torch_shifted):
        for image, original in zip(result, x):
            matches = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                       if np.array_equal(image[:, max(dy, 0):6 + min(dy, 0), max(dx, 0):6 + min(dx, 0)],
                                         original[:, max(-dy, 0):6 + min(-dy, 0), max(-dx, 0):6 + min(-dx, 0)])]
            assert len(matches) == 1
        assert len({tuple(np.flatnonzero(img[0].any(axis=1))) for img in result}) > 1  # shifts differ
