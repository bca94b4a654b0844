"""The perceptron learns AND and OR, never XOR; the torch twin takes the same steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import n2t.torch as nt
from n2t.data import logic_gate
from n2t.numpy import Perceptron
from n2t.numpy.perceptron import perceptron_update


@pytest.mark.parametrize("gate", ["and", "or", "nand"])
def test_learns_linearly_separable_gates(gate):
    x, y = logic_gate(gate)
    model = Perceptron(2)
    history = model.fit(x, y, max_epochs=100)
    assert history[-1] == 0 and len(history) < 100
    np.testing.assert_array_equal(model.predict(x), y)


def test_never_separates_xor():
    x, y = logic_gate("xor")
    model = Perceptron(2)
    history = model.fit(x, y, max_epochs=200)
    assert len(history) == 200 and min(history) > 0
    assert np.mean(model.predict(x) == y) <= 0.75


def test_update_follows_the_rule_and_does_not_mutate():
    x = np.array([[1.0, 2.0]])
    w = np.zeros(2)
    new_w, new_b, mistakes = perceptron_update(x, np.array([-1]), w, 0.0, lr=0.5)
    np.testing.assert_array_equal(new_w, [-0.5, -1.0])
    assert new_b == -0.5 and mistakes == 1
    np.testing.assert_array_equal(w, [0.0, 0.0])


@pytest.mark.parametrize("gate", ["and", "or", "xor"])
def test_torch_twin_takes_the_same_steps(gate):
    x, y = logic_gate(gate)
    reference = Perceptron(2)
    expected = reference.fit(x, y, max_epochs=30)
    twin = nt.Perceptron(2)
    history = twin.fit(torch.from_numpy(x), torch.from_numpy(y), max_epochs=30)
    assert history == expected
    np.testing.assert_array_equal(twin.w.numpy(), reference.params["w"])
    np.testing.assert_array_equal(twin.predict(torch.from_numpy(x)).numpy(), reference.predict(x))


def test_rejects_labels_other_than_plus_minus_one():
    x, _ = logic_gate("and")
    with pytest.raises(ValueError, match=r"argument 'y' must have shape \(4,\) with values in \{\+1, -1\}"):
        Perceptron(2).fit(x, np.array([0, 0, 0, 1]))


def test_rejects_wrong_feature_count():
    with pytest.raises(ValueError, match=r"argument 'x' must have shape \(N, 2\); got \(4, 3\)"):
        Perceptron(2).predict(np.zeros((4, 3)))


def test_rejects_bad_hyperparameters():
    with pytest.raises(ValueError, match="'n_features' must be a positive int"):
        Perceptron(0)
    with pytest.raises(ValueError, match="'lr' must be > 0"):
        Perceptron(2, lr=0)


@pytest.mark.gpu
def test_torch_twin_on_cuda():
    x, y = logic_gate("and")
    twin = nt.Perceptron(2, device="cuda")
    history = twin.fit(torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda())
    assert history[-1] == 0 and twin.w.device.type == "cuda"
