"""Training loops learn: digits MLP in NumPy and torch from the same weights and batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import n2t.numpy as nnp
import n2t.torch as nt
from n2t.data import digits, moons, spirals
from n2t.numpy.train import minibatches


def numpy_mlp(rng, sizes=(64, 64, 10)):
    return nnp.Sequential(nnp.Linear(sizes[0], sizes[1], rng=rng), nnp.ReLU(), nnp.Linear(sizes[1], sizes[2], rng=rng))


def copy_weights(numpy_model, torch_model):
    linears = [layer for layer in numpy_model.layers if isinstance(layer, nnp.Linear)]
    with torch.no_grad():
        for ours, theirs in zip(linears, [m for m in torch_model if isinstance(m, nt.Linear)]):
            theirs.weight.copy_(torch.from_numpy(ours.params["W"]))
            theirs.bias.copy_(torch.from_numpy(ours.params["b"]))


def test_numpy_and_torch_follow_the_same_path_on_digits():
    x_train, x_test, y_train, y_test = digits()
    rng = np.random.default_rng(0)
    model = numpy_mlp(rng)
    twin = nt.mlp([64, 64, 10]).double()
    copy_weights(model, twin)
    epochs = 3
    batches = [list(minibatches(len(x_train), 64, np.random.default_rng(e))) for e in range(epochs)]
    history = {"accuracy": []}
    optimizer = nnp.Adam(model.parameters(), lr=1e-2)
    for epoch in range(epochs):
        for index in batches[epoch]:
            nnp.train.train_step(model, optimizer, x_train[index], y_train[index])
        history["accuracy"].append(nnp.evaluate(model, x_test, y_test)["accuracy"])
    torch_history = nt.train.fit(
        twin, torch.optim.Adam(twin.parameters(), lr=1e-2), torch.from_numpy(x_train), torch.from_numpy(y_train),
        epochs, nt.cross_entropy, validation=(torch.from_numpy(x_test), torch.from_numpy(y_test)),
        device="cpu", batches=[[torch.from_numpy(i) for i in epoch] for epoch in batches])
    np.testing.assert_allclose(history["accuracy"], torch_history["val_accuracy"], atol=1 / len(y_test) + 1e-12)
    with torch.no_grad():
        np.testing.assert_allclose(model.forward(x_test), twin(torch.from_numpy(x_test)).numpy(), atol=1e-8)


def test_fit_learns_spirals_and_reports_history():
    x, y = spirals(60, 3, noise=0.1, seed=0)
    rng = np.random.default_rng(0)
    model = nnp.Sequential(nnp.Linear(2, 64, rng=rng), nnp.Tanh(), nnp.Linear(64, 3, rng=rng))
    history = nnp.fit(model, nnp.Adam(model.parameters(), lr=0.02), x, y, epochs=60, batch_size=32, rng=rng,
                      validation=(x, y))
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["accuracy"][-1] > 0.9


def test_bce_and_mse_losses_train_too():
    x, y = moons(200, noise=0.1, seed=0)
    rng = np.random.default_rng(1)
    model = nnp.Sequential(nnp.Linear(2, 16, rng=rng), nnp.Tanh(), nnp.Linear(16, 1, rng=rng))
    target = y[:, None].astype(float)
    history = nnp.fit(model, nnp.Adam(model.parameters(), lr=0.05), x, target, epochs=40, loss="bce_with_logits",
                      rng=rng)
    assert history["accuracy"][-1] > 0.95
    regression = nnp.Sequential(nnp.Linear(1, 1, rng=rng))
    xs = rng.uniform(-1, 1, (100, 1))
    fitted = nnp.fit(regression, nnp.SGD(regression.parameters(), lr=0.5), xs, 3 * xs - 1, epochs=50, loss="mse",
                     rng=rng)
    assert fitted["loss"][-1] < 1e-6
    np.testing.assert_allclose(regression[0].params["W"], [[3.0]], atol=1e-3)


def test_fit_rejects_mismatched_data_and_unknown_loss(rng):
    model = numpy_mlp(rng)
    with pytest.raises(ValueError, match="same length"):
        nnp.fit(model, nnp.SGD(model.parameters()), np.zeros((3, 64)), np.zeros(2, dtype=int), epochs=1)
    with pytest.raises(ValueError, match="argument 'loss' must be one of"):
        nnp.evaluate(model, np.zeros((3, 64)), np.zeros(3, dtype=int), loss="hinge")


def test_minibatches_cover_every_index_once(rng):
    batches = list(minibatches(10, 3, rng))
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert sorted(np.concatenate(batches).tolist()) == list(range(10))


@pytest.mark.gpu
def test_torch_fit_runs_on_cuda():
    x, y = spirals(30, 3, seed=0)
    model = nt.mlp([2, 32, 3])
    history = nt.train.fit(model, torch.optim.Adam(model.parameters(), lr=0.01), torch.from_numpy(x).float(),
                           torch.from_numpy(y), 5, nt.cross_entropy, device="cuda")
    assert next(model.parameters()).device.type == "cuda" and len(history["loss"]) == 5
