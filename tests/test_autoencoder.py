"""Autoencoders: gradients, NumPy/PyTorch parity, masking noise, learning, layer-wise pretraining, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import n2t.numpy.autoencoder as nae
import n2t.torch.autoencoder as tae
from n2t.data import digits
from n2t.gradcheck import check_layer
from n2t.numpy.activations import sigmoid
from n2t.numpy.linear import Linear
from n2t.numpy.losses import bce_with_logits_forward, mse_forward


def linear_layers(model):
    return [(i, layer) for i, layer in enumerate(model.layers) if isinstance(layer, Linear)]


def torch_twin(model: nae.Autoencoder, activation: str, code_activation: bool = True) -> tae.Autoencoder:
    """The torch autoencoder with the NumPy one's weights (same module indices)."""
    twin = tae.Autoencoder(list(model.sizes), activation, model.loss, code_activation).double()
    assert len(twin) == len(model.layers)
    with torch.no_grad():
        for index, layer in linear_layers(model):
            twin[index].weight.copy_(torch.from_numpy(layer.params["W"]))
            twin[index].bias.copy_(torch.from_numpy(layer.params["b"]))
    return twin


# ---- structure ----------------------------------------------------------------------------------
def test_layers_mirror_the_encoder(rng):
    model = nae.Autoencoder([64, 32, 2], "relu", code_activation=False, rng=rng)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Linear", "ReLU", "Linear", "Linear", "ReLU", "Linear"]
    assert [(layer.in_features, layer.out_features) for _, layer in linear_layers(model)] == [
        (64, 32), (32, 2), (2, 32), (32, 64)]
    assert model.encoder_depth == 3 and model.encode(np.zeros((5, 64))).shape == (5, 2)
    shallow = nae.Autoencoder([8, 3], rng=rng)
    assert [type(layer).__name__ for layer in shallow.layers] == ["Linear", "Sigmoid", "Linear"]
    assert shallow.encoder_depth == 2 and repr(shallow).startswith("Autoencoder(")
    twin = tae.Autoencoder([64, 32, 2], "relu", code_activation=False)
    assert [type(m).__name__ for m in twin] == ["Linear", "Activation", "Linear", "Linear", "Activation", "Linear"]


# ---- gradients ----------------------------------------------------------------------------------
@pytest.mark.parametrize("activation,code_activation", [("sigmoid", True), ("tanh", False), ("relu", True)])
def test_backward_matches_finite_differences_and_autograd(activation, code_activation):
    rng = np.random.default_rng(5)
    model = nae.Autoencoder([5, 4, 3], activation, "mse", code_activation, rng=rng)
    layers = linear_layers(model)
    names = [f"{i}.{key}" for i, _ in layers for key in ("W", "b")]
    inputs = {"x": rng.uniform(0.1, 0.9, (6, 5))}
    inputs.update({name: layer.params[key] for (i, layer) in layers for key in ("W", "b")
                   for name in [f"{i}.{key}"]})  # the model's own arrays: finite differences perturb them

    def forward(x, *params):
        return model.forward(x), None

    def backward(dout, _):
        dx = model.backward(dout)
        return (dx, *(layer.grads[key] for _, layer in layers for key in ("W", "b")))

    twin = torch_twin(model, activation, code_activation)
    torch_names = [name.replace("W", "weight").replace("b", "bias") for name in names]

    def torch_fn(x, *params):
        return torch.func.functional_call(twin, dict(zip(torch_names, params)), (x,))

    check_layer(forward, backward, inputs, torch_fn, eps=1e-6)


@pytest.mark.parametrize("loss", ["bce_with_logits", "mse"])
def test_reconstruction_loss_and_its_gradients_equal_torch(loss):
    rng = np.random.default_rng(2)
    model = nae.Autoencoder([7, 5, 3], "sigmoid", loss, rng=rng)
    twin = torch_twin(model, "sigmoid")
    x = rng.uniform(0, 1, (9, 7))
    value = model.reconstruction_loss(x)
    torch_value = twin.reconstruction_loss(torch.from_numpy(x))
    torch_value.backward()
    assert value == pytest.approx(torch_value.item(), rel=1e-12)
    for index, layer in linear_layers(model):
        np.testing.assert_allclose(layer.grads["W"], twin[index].weight.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(layer.grads["b"], twin[index].bias.grad.numpy(), rtol=1e-10, atol=1e-14)


# ---- parity -------------------------------------------------------------------------------------
@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=2, max_size=4), st.sampled_from(["sigmoid", "tanh", "relu"]),
       st.booleans(), st.integers(0, 1000))
def test_numpy_equals_torch_with_the_same_weights(sizes, activation, code_activation, seed):
    rng = np.random.default_rng(seed)
    model = nae.Autoencoder(sizes, activation, "bce_with_logits", code_activation, rng=rng)
    twin = torch_twin(model, activation, code_activation)
    x = rng.uniform(0, 1, (3, sizes[0]))
    with torch.no_grad():
        np.testing.assert_allclose(model.forward(x), twin(torch.from_numpy(x)).numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(model.encode(x), twin.encode(torch.from_numpy(x)).numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(model.reconstruct(x), twin.reconstruct(torch.from_numpy(x)).numpy(), rtol=1e-12)


# ---- masking noise ------------------------------------------------------------------------------
def test_mask_noise_only_zeroes_entries():
    x = np.random.default_rng(0).uniform(0.1, 1.0, (400, 64))
    corrupted = nae.mask_noise(x, 0.3, np.random.default_rng(1))
    zeroed = corrupted == 0
    np.testing.assert_array_equal(corrupted[~zeroed], x[~zeroed])
    assert zeroed.mean() == pytest.approx(0.3, abs=0.01)
    assert np.all(x > 0), "the input is not modified"
    torch_corrupted = tae.mask_noise(torch.from_numpy(x), 0.3, torch.Generator().manual_seed(1)).numpy()
    assert (torch_corrupted == 0).mean() == pytest.approx(0.3, abs=0.01)
    np.testing.assert_array_equal(torch_corrupted[torch_corrupted != 0], x[torch_corrupted != 0])
    np.testing.assert_array_equal(nae.mask_noise(x, 0.0, np.random.default_rng(1)), x)


def test_denoising_corrupts_the_input_but_scores_against_the_clean_target():
    rng = np.random.default_rng(0)
    model = nae.Autoencoder([10, 4], rng=rng)
    x = rng.uniform(0, 1, (8, 10))
    kept = x.copy()
    value = model.reconstruction_loss(x, noise=0.5, rng=np.random.default_rng(42))
    corrupted = nae.mask_noise(x, 0.5, np.random.default_rng(42))
    assert value == pytest.approx(float(bce_with_logits_forward(model.forward(corrupted), x)[0]), rel=1e-12)
    assert value != pytest.approx(float(bce_with_logits_forward(model.forward(corrupted), corrupted)[0]), rel=1e-3)
    assert value != pytest.approx(float(bce_with_logits_forward(model.forward(x), x)[0]), rel=1e-6)
    np.testing.assert_array_equal(x, kept)
    twin = torch_twin(model, "sigmoid")
    torch_value = twin.reconstruction_loss(torch.from_numpy(x), 0.5, torch.Generator().manual_seed(42))
    torch_corrupted = tae.mask_noise(torch.from_numpy(x), 0.5, torch.Generator().manual_seed(42))
    with torch.no_grad():
        expected = tae.bce_with_logits(twin(torch_corrupted), torch.from_numpy(x))
    assert torch_value.item() == pytest.approx(expected.item(), rel=1e-12)


# ---- learning -----------------------------------------------------------------------------------
def test_reconstruction_loss_falls_during_training():
    x = digits()[0][:300]
    rng = np.random.default_rng(0)
    model = nae.Autoencoder([64, 16], rng=rng)
    history = nae.fit_autoencoder(model, x, epochs=5, batch_size=30, lr=1e-2, rng=rng)
    assert history[-1] < 0.85 * history[0], history
    denoising = nae.Autoencoder([64, 16], rng=np.random.default_rng(0))
    noisy = nae.fit_autoencoder(denoising, x, epochs=5, batch_size=30, lr=1e-2, noise=0.3, rng=rng)
    assert noisy[-1] < 0.9 * noisy[0], noisy
    torch.manual_seed(0)
    twin = tae.Autoencoder([64, 16])
    torch_history = tae.fit_autoencoder(twin, torch.tensor(x, dtype=torch.float32), 5, 30, 1e-2,
                                        generator=torch.Generator().manual_seed(0))
    assert torch_history[-1] < 0.85 * torch_history[0], torch_history


def test_mse_autoencoder_with_a_linear_code_learns():
    x = digits()[0][:300]
    rng = np.random.default_rng(1)
    model = nae.Autoencoder([64, 8], "tanh", "mse", code_activation=False, rng=rng)
    before = float(mse_forward(model.forward(x), x)[0])
    nae.fit_autoencoder(model, x, epochs=8, batch_size=30, lr=1e-2, rng=rng)
    assert float(mse_forward(model.reconstruct(x), x)[0]) < 0.5 * before


# ---- layer-wise pretraining ---------------------------------------------------------------------
def test_pretrain_layerwise_trains_each_layer_on_the_previous_codes():
    x = digits()[0][:90]
    encoders = nae.pretrain_layerwise(x, [64, 12, 5], epochs=2, batch_size=30, rng=np.random.default_rng(3))
    assert [(w.shape, b.shape) for w, b in encoders] == [((12, 64), (12,)), ((5, 12), (5,))]
    rng = np.random.default_rng(3)  # replay the same calls by hand
    first = nae.Autoencoder([64, 12], rng=rng)
    nae.fit_autoencoder(first, x, 2, 30, 1e-2, 0.0, rng)
    second = nae.Autoencoder([12, 5], rng=rng)
    nae.fit_autoencoder(second, first.encode(x), 2, 30, 1e-2, 0.0, rng)
    np.testing.assert_array_equal(encoders[0][0], first[0].params["W"])
    np.testing.assert_array_equal(encoders[1][1], second[0].params["b"])


def test_stacked_classifier_starts_from_the_pretrained_encoders():
    x = digits()[0][:60]
    encoders = nae.pretrain_layerwise(x, [64, 10, 6], epochs=1, batch_size=30, rng=np.random.default_rng(0))
    net = nae.stacked_classifier([64, 10, 6], 4, pretrained=encoders, rng=np.random.default_rng(9))
    hidden = x
    for w, b in encoders:
        hidden = sigmoid(hidden @ w.T + b)
    np.testing.assert_allclose(net.layers[3].forward(net.layers[2].forward(net.layers[1].forward(
        net.layers[0].forward(x)))), hidden, rtol=1e-12)
    random = nae.stacked_classifier([64, 10, 6], 4, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(net.layers[-1].params["W"], random.layers[-1].params["W"])  # same head
    assert not np.allclose(random.layers[0].params["W"], encoders[0][0])
    net.layers[0].params["W"] += 1.0
    assert not np.allclose(net.layers[0].params["W"], encoders[0][0]), "the classifier owns a copy"
    assert net.forward(x).shape == (60, 4)


def test_torch_pretraining_and_stacking():
    x = torch.tensor(digits()[0][:60])  # float64: the shallow autoencoders follow x's dtype
    encoders = tae.pretrain_layerwise(x, [64, 10, 6], 2, noise=0.2, batch_size=30,
                                      generator=torch.Generator().manual_seed(0))
    assert [(tuple(w.shape), tuple(b.shape), w.dtype) for w, b in encoders] == [
        ((10, 64), (10,), torch.float64), ((6, 10), (6,), torch.float64)]
    net = tae.stacked_classifier([64, 10, 6], 3, pretrained=encoders).double()
    hidden = x
    for w, b in encoders:
        hidden = torch.sigmoid(hidden @ w.T + b)
    with torch.no_grad():
        torch.testing.assert_close(net[:4](x), hidden)
        assert net(x).shape == (60, 3)


# ---- bad input ----------------------------------------------------------------------------------
def test_bad_input_gets_a_clear_error(rng):
    model = nae.Autoencoder([6, 3], rng=rng)
    x = rng.uniform(0, 1, (4, 6))
    cases = [
        (ValueError, r"'sizes' must be a list of at least 2", lambda: nae.Autoencoder([6])),
        (ValueError, r"'sizes\[i\]' must be a positive int; got 0", lambda: nae.Autoencoder([6, 0])),
        (ValueError, r"'activation' must be one of", lambda: nae.Autoencoder([6, 3], "softmax")),
        (ValueError, r"'loss' must be one of \['bce_with_logits', 'mse'\]", lambda: nae.Autoencoder([6, 3], loss="l1")),
        (TypeError, r"'rng' must be a np.random.Generator", lambda: nae.Autoencoder([6, 3], rng=1)),
        (ValueError, r"'x' must have shape \(N, D\) with D = 6", lambda: model.forward(np.zeros((2, 5)))),
        (ValueError, r"'x' must have shape \(N, D\) with D = 6", lambda: model.encode(np.zeros(6))),
        (ValueError, r"'x' contains NaN", lambda: model.forward(np.full((1, 6), np.nan))),
        (ValueError, r"needs targets in \[0, 1\]", lambda: model.reconstruction_loss(x * 3)),
        (ValueError, r"'noise' must be a probability in \[0, 1\)", lambda: model.reconstruction_loss(x, 1.0, rng)),
        (TypeError, r"'rng' must be a np.random.Generator", lambda: model.reconstruction_loss(x, 0.2)),
        (ValueError, r"'drop' must be a probability", lambda: nae.mask_noise(x, -0.1, rng)),
        (TypeError, r"'model' must be an Autoencoder", lambda: nae.fit_autoencoder(object(), x, 1, rng=rng)),
        (ValueError, r"'epochs' must be a positive int", lambda: nae.fit_autoencoder(model, x, 0, rng=rng)),
        (ValueError, r"'lr' must be > 0", lambda: nae.fit_autoencoder(model, x, 1, lr=0, rng=rng)),
        (TypeError, r"'rng' must be a np.random.Generator", lambda: nae.fit_autoencoder(model, x, 1)),
        (ValueError, r"'x' must have shape \(N, D\) with D = 5", lambda: nae.pretrain_layerwise(x, [5, 2], 1, rng=rng)),
        (ValueError, r"'pretrained' must hold 2 \(W, b\) pairs",
         lambda: nae.stacked_classifier([6, 3, 2], 2, pretrained=[(np.zeros((3, 6)), np.zeros(3))])),
        (ValueError, r"pretrained\[0\] must be W \(3, 6\)",
         lambda: nae.stacked_classifier([6, 3], 2, pretrained=[(np.zeros((6, 3)), np.zeros(3))])),
        (ValueError, r"'n_classes' must be a positive int", lambda: nae.stacked_classifier([6, 3], 0)),
    ]
    for error, message, call in cases:
        with pytest.raises(error, match=message):
            call()


def test_torch_bad_input_gets_a_clear_error():
    model = tae.Autoencoder([6, 3])
    x = torch.rand(4, 6)
    cases = [
        (ValueError, r"'sizes' must be a list of at least 2", lambda: tae.Autoencoder([6])),
        (ValueError, r"'activation' must be one of", lambda: tae.Autoencoder([6, 3], "gelu")),
        (ValueError, r"'x' must have shape \(N, D\) with D = 6", lambda: model(torch.zeros(2, 5))),
        (TypeError, r"'x' must be a floating-point tensor", lambda: model.encode(torch.zeros(2, 6, dtype=torch.long))),
        (ValueError, r"needs targets in \[0, 1\]", lambda: model.reconstruction_loss(x - 2)),
        (ValueError, r"'noise' must be a probability", lambda: model.reconstruction_loss(x, 1.5)),
        (TypeError, r"'generator' must be a torch.Generator", lambda: tae.mask_noise(x, 0.1, 3)),
        (TypeError, r"'model' must be an Autoencoder", lambda: tae.fit_autoencoder(torch.nn.Linear(6, 6), x, 1)),
        (ValueError, r"'batch_size' must be a positive int", lambda: tae.fit_autoencoder(model, x, 1, 0)),
        (ValueError, r"pretrained\[0\] must be W \(3, 6\)",
         lambda: tae.stacked_classifier([6, 3], 2, pretrained=[(torch.zeros(3, 5), torch.zeros(3))])),
    ]
    for error, message, call in cases:
        with pytest.raises(error, match=message):
            call()
