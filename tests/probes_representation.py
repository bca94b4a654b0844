"""Probes for the regions of ``n2t.numpy.rbm``, ``n2t.numpy.autoencoder`` and ``n2t.torch.autoencoder``
(see test_snippets.PROBES): each calls a region's code and returns values compared exactly."""

from __future__ import annotations

import numpy as np
import torch

RNG = np.random.default_rng(31)
N, V, H = 5, 6, 4
W = RNG.standard_normal((H, V))
B, C = RNG.standard_normal(V), RNG.standard_normal(H)
VISIBLE = (RNG.random((N, V)) < 0.5).astype(float)
HIDDEN = (RNG.random((N, H)) < 0.5).astype(float)
X = RNG.uniform(0, 1, (12, V))
TX = torch.from_numpy(X)


def free_energy_pair(get):
    out, cache = get("free_energy_forward")(VISIBLE, W, B, C)
    return out, get("free_energy_backward")(np.linspace(-1, 1, N), cache)


def cd_probe(get):
    grads, v_model = get("cd_gradient")(VISIBLE, W, B, C, 3, np.random.default_rng(0))
    return [grads["W"], grads["b"], grads["c"], v_model]


def rbm_probe(get):
    rbm = get("RBM")(V, H, np.random.default_rng(1))
    errors = [rbm.cd_step(X, k=2, lr=0.3) for _ in range(3)]
    probability, sample = rbm.sample_h(X)
    return [errors, rbm.params["W"], rbm.params["b"], rbm.params["c"], probability, sample,
            rbm.sample_v(sample)[0], rbm.free_energy(X), rbm.reconstruct(X)]


def autoencoder_probe(get):
    rng = np.random.default_rng(2)
    model = get("Autoencoder")([V, 4, 2], "tanh", "mse", False, rng=rng)
    losses = [model.reconstruction_loss(X), model.reconstruction_loss(X, 0.3, rng)]
    return [losses, model.forward(X), model.encode(X), model.reconstruct(X),
            [grads["W"] for _, grads in model.parameters()]]


def fit_probe(get):
    rng = np.random.default_rng(3)
    model = get("Autoencoder")([V, 3], rng=rng)
    history = get("fit_autoencoder")(model, X, 2, 5, 1e-2, 0.2, rng)
    return [history, model.forward(X)]


def pretrain_probe(get):
    return [array for pair in get("pretrain_layerwise")(X, [V, 4, 3], 2, batch_size=5, rng=np.random.default_rng(4))
            for array in pair]


def classifier_probe(get):
    pretrained = [(W, C), (W[:3, :H], B[:3])]  # (H, V), (H,) then (3, H), (3,)
    net = get("stacked_classifier")([V, H, 3], 2, "sigmoid", pretrained, np.random.default_rng(5))
    plain = get("stacked_classifier")([V, 5, 2], 3, "relu", None, np.random.default_rng(5))
    return [net.forward(X), plain.forward(X)]


def seeded(build):
    def probe(get):
        torch.manual_seed(0)
        return build(get)
    return probe


def torch_autoencoder_probe(get):
    model = get("Autoencoder")([V, 4, 2], "tanh", "mse", False).double()
    loss = model.reconstruction_loss(TX, 0.3, torch.Generator().manual_seed(0))
    loss.backward()
    with torch.no_grad():
        return [loss.detach(), model(TX), model.encode(TX), model.reconstruct(TX), model[0].weight.grad]


def torch_fit_probe(get):
    model = get("Autoencoder")([V, 3]).double()
    history = get("fit_autoencoder")(model, TX, 2, 5, 1e-2, 0.2, torch.Generator().manual_seed(1))
    with torch.no_grad():
        return [history, model(TX)]


def torch_pretrain_probe(get):
    pairs = get("pretrain_layerwise")(TX, [V, 4, 3], 2, batch_size=5, generator=torch.Generator().manual_seed(2))
    return [tensor for pair in pairs for tensor in pair]


def torch_classifier_probe(get):
    pretrained = [(torch.from_numpy(W), torch.from_numpy(C))]
    net = get("stacked_classifier")([V, H], 3, "sigmoid", pretrained).double()
    plain = get("stacked_classifier")([V, 5, 2], 3, "relu").double()
    with torch.no_grad():
        return [net(TX), plain(TX)]


PROBES = {
    "n2t.numpy.rbm": {
        "energy": lambda get: get("energy")(VISIBLE, HIDDEN, W, B, C),
        "hidden_probabilities": lambda get: get("hidden_probabilities")(VISIBLE, W, C),
        "visible_probabilities": lambda get: get("visible_probabilities")(HIDDEN, W, B),
        "bernoulli": lambda get: get("bernoulli")(np.linspace(0, 1, 12).reshape(3, 4), np.random.default_rng(0)),
        "free_energy_forward": free_energy_pair,
        "free_energy_backward": free_energy_pair,
        "phase_statistics": lambda get: list(get("phase_statistics")(X, W, C).values()),
        "cd_gradient": cd_probe,
        "log_partition": lambda get: [get("log_partition")(W, B, C), get("log_partition")(W.T.copy(), C, B)],
        "log_likelihood": lambda get: get("log_likelihood")(VISIBLE, W, B, C),
        "RBM": rbm_probe,
        "pretrain_rbms": lambda get: [a for pair in get("pretrain_rbms")(X, [V, 4, 2], 2, 0.3, 1, 5,
                                                                       np.random.default_rng(6)) for a in pair],
    },
    "n2t.numpy.autoencoder": {
        "mask_noise": lambda get: get("mask_noise")(X, 0.4, np.random.default_rng(0)),
        "ACTIVATIONS": lambda get: sorted(get("ACTIVATIONS")),
        "Autoencoder": autoencoder_probe,
        "fit_autoencoder": fit_probe,
        "pretrain_layerwise": pretrain_probe,
        "stacked_classifier": classifier_probe,
    },
    "n2t.torch.autoencoder": {
        "mask_noise": lambda get: get("mask_noise")(TX, 0.4, torch.Generator().manual_seed(0)),
        "RECONSTRUCTION_LOSSES": lambda get: [fn(TX, TX * 0.5)
                                              for _, fn in sorted(get("RECONSTRUCTION_LOSSES").items())],
        "Autoencoder": seeded(torch_autoencoder_probe),
        "fit_autoencoder": seeded(torch_fit_probe),
        "pretrain_layerwise": seeded(torch_pretrain_probe),
        "stacked_classifier": seeded(torch_classifier_probe),
    },
}
