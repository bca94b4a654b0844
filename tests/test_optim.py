"""Optimisers follow torch.optim step by step; clipping follows clip_grad_norm_; init variances."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import n2t.numpy as nnp
from n2t.numpy import init


def rosenbrock_grad(w):
    x, y = w
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


CASES = [
    (nnp.SGD, torch.optim.SGD, {"lr": 1e-3}),
    (nnp.SGD, torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9, "weight_decay": 0.01}),
    (nnp.RMSProp, torch.optim.RMSprop, {"lr": 1e-3, "alpha": 0.9}),
    (nnp.Adam, torch.optim.Adam, {"lr": 1e-2, "betas": (0.8, 0.99), "weight_decay": 0.1}),
]


@pytest.mark.parametrize("ours,theirs,kwargs", CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_trajectory_matches_torch_optim_step_by_step(ours, theirs, kwargs):
    params, grads = {"w": np.array([-1.2, 1.0])}, {"w": np.zeros(2)}
    optimizer = ours([(params, grads)], **kwargs)
    w = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
    reference = theirs([w], **kwargs)
    for _ in range(50):
        grads["w"] = rosenbrock_grad(params["w"])
        optimizer.step()
        w.grad = torch.from_numpy(rosenbrock_grad(w.detach().numpy()))
        reference.step()
        np.testing.assert_allclose(params["w"], w.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_optimizer_updates_model_params_in_place(rng):
    model = nnp.Sequential(nnp.Linear(3, 2, rng=rng))
    weight = model[0].params["W"]
    before = weight.copy()
    model.forward(rng.standard_normal((4, 3)))
    model.backward(np.ones((4, 2)))
    nnp.Adam(model.parameters(), lr=0.1).step()
    assert model[0].params["W"] is weight and not np.allclose(weight, before)


def test_clip_grad_norm_matches_torch(rng):
    grads = [rng.standard_normal((3, 4)) * 10, rng.standard_normal(4) * 10]
    pairs = [({"a": np.zeros((3, 4))}, {"a": grads[0].copy()}), ({"b": np.zeros(4)}, {"b": grads[1].copy()})]
    tensors = [torch.zeros(3, 4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)]
    for tensor, grad in zip(tensors, grads):
        tensor.grad = torch.from_numpy(grad.copy())
    total = nnp.clip_grad_norm(pairs, 1.5)
    reference = torch.nn.utils.clip_grad_norm_(tensors, 1.5)
    assert total == pytest.approx(float(reference), rel=1e-12)
    np.testing.assert_allclose(pairs[0][1]["a"], tensors[0].grad.numpy(), rtol=1e-12)
    clipped = math.sqrt(sum(float(np.sum(g**2)) for _, gs in pairs for g in gs.values()))
    assert clipped == pytest.approx(1.5, rel=1e-5)


def test_clip_leaves_small_gradients_alone():
    grads = {"w": np.array([0.3, 0.4])}
    assert nnp.clip_grad_norm([({"w": np.zeros(2)}, grads)], 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(grads["w"], [0.3, 0.4])


def test_bad_hyperparameters_are_rejected():
    pairs = [({"w": np.zeros(2)}, {"w": np.zeros(2)})]
    with pytest.raises(ValueError, match="argument 'lr' must be > 0"):
        nnp.SGD(pairs, lr=0)
    with pytest.raises(ValueError, match="argument 'weight_decay' must be >= 0"):
        nnp.Adam(pairs, weight_decay=-1)
    with pytest.raises(ValueError, match="got no parameters"):
        nnp.SGD([], lr=0.1)


@pytest.mark.parametrize("scheme,expected_std", [
    (lambda r: init.xavier_normal((300, 500), r), math.sqrt(2 / 800)),
    (lambda r: init.xavier_uniform((300, 500), r), math.sqrt(2 / 800)),
    (lambda r: init.he_normal((300, 500), r), math.sqrt(2 / 500)),
    (lambda r: init.he_uniform((300, 500), r), math.sqrt(2 / 500)),
])
def test_initialisers_have_the_derived_variance(rng, scheme, expected_std):
    assert scheme(rng).std() == pytest.approx(expected_std, rel=0.02)


def test_gains_and_fans_match_pytorch():
    for name in ("linear", "sigmoid", "tanh", "relu", "leaky_relu"):
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init.fans((8, 3, 5, 5)) == (75, 200)
    with pytest.raises(ValueError, match="argument 'nonlinearity'"):
        init.calculate_gain("softplus")
