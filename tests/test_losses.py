"""Losses: gradients, parity with PyTorch's losses, stability at logits ±1000, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import n2t.torch as nt
from n2t.gradcheck import check_layer
from n2t.numpy import losses as L

N, C = 5, 4


@pytest.fixture
def data(rng):
    return {
        "logits": rng.standard_normal((N, C)) * 2,
        "labels": rng.integers(0, C, N),
        "targets": rng.uniform(0, 1, (N, C)),
        "prediction": rng.standard_normal((N, C)),
    }


def test_softmax_cross_entropy_gradient(data):
    labels = data["labels"]
    check_layer(lambda z: L.softmax_cross_entropy_forward(z, labels), L.softmax_cross_entropy_backward,
                {"z": data["logits"]}, torch_fn=lambda t: F.cross_entropy(t, torch.from_numpy(labels)))


def test_bce_with_logits_gradient(data):
    targets = data["targets"]
    check_layer(lambda z: L.bce_with_logits_forward(z, targets), L.bce_with_logits_backward,
                {"z": data["logits"]},
                torch_fn=lambda t: F.binary_cross_entropy_with_logits(t, torch.from_numpy(targets)))


def test_mse_gradient_and_the_half_convention(data):
    targets = data["targets"]
    check_layer(lambda p: L.mse_forward(p, targets), L.mse_backward, {"p": data["prediction"]},
                torch_fn=lambda t: F.mse_loss(t, torch.from_numpy(targets), reduction="sum") / (2 * N))
    ours = float(L.mse_forward(data["prediction"], targets)[0])
    torch_mse = float(F.mse_loss(torch.from_numpy(data["prediction"]), torch.from_numpy(targets)))
    assert ours == pytest.approx(torch_mse * C / 2, rel=1e-12)


def test_upstream_gradient_scales_the_result(data):
    _, cache = L.softmax_cross_entropy_forward(data["logits"], data["labels"])
    np.testing.assert_allclose(L.softmax_cross_entropy_backward(3.0, cache),
                               3.0 * L.softmax_cross_entropy_backward(1.0, cache))


def test_torch_twins_match_builtins(data):
    z, y, t, p = (torch.from_numpy(data[k]) for k in ("logits", "labels", "targets", "prediction"))
    torch.testing.assert_close(nt.cross_entropy(z, y), F.cross_entropy(z, y), rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(nt.bce_with_logits(z, t), F.binary_cross_entropy_with_logits(z, t),
                               rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(nt.mse(p, t), F.mse_loss(p, t, reduction="sum") / (2 * N), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(float(nt.cross_entropy(z, y)),
                               float(L.softmax_cross_entropy_forward(data["logits"], data["labels"])[0]), rtol=1e-14)


@pytest.mark.parametrize("scale", [1000.0, -1000.0])
def test_cross_entropies_are_finite_at_extreme_logits(scale):
    logits = np.array([[scale, -scale, 0.0], [0.0, scale, -scale]])
    labels = np.array([1, 2])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, cache = L.softmax_cross_entropy_forward(logits, labels)
        grad = L.softmax_cross_entropy_backward(1.0, cache)
        bce, bcache = L.bce_with_logits_forward(logits, np.ones_like(logits))
        bgrad = L.bce_with_logits_backward(1.0, bcache)
    for value in (loss, grad, bce, bgrad):
        assert np.all(np.isfinite(value))
    reference = F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels))
    assert float(loss) == pytest.approx(float(reference), rel=1e-12)


def test_softmax_rows_sum_to_one_even_for_huge_logits():
    p = L.softmax(np.array([[1000.0, 1000.0], [-1000.0, 0.0]]))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[0], [0.5, 0.5])


def test_bad_labels_are_rejected(data):
    with pytest.raises(ValueError, match=r"argument 'labels' must lie in \[0, 4\)"):
        L.softmax_cross_entropy_forward(data["logits"], np.array([0, 1, 2, 3, 4]))
    with pytest.raises(ValueError, match="integer class indices"):
        L.softmax_cross_entropy_forward(data["logits"], data["labels"].astype(float))
    with pytest.raises(ValueError, match=r"'logits' must have shape \(N, C\)"):
        L.softmax_cross_entropy_forward(data["logits"][0], data["labels"][:1])


def test_target_shape_must_match(data):
    with pytest.raises(ValueError, match="argument 'target' must have the shape of the prediction"):
        L.mse_forward(data["prediction"], data["targets"][:, :2])


def test_loss_upstream_gradient_must_be_scalar(data):
    _, cache = L.mse_forward(data["prediction"], data["targets"])
    with pytest.raises(ValueError, match="must be a scalar"):
        L.mse_backward(np.ones(3), cache)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 6), c=st.integers(2, 6), seed=st.integers(0, 2**16), scale=st.sampled_from([1.0, 50.0, 900.0]))
def test_cross_entropy_matches_torch_for_any_shape(n, c, seed, scale):
    rng = np.random.default_rng(seed)
    logits, labels = rng.standard_normal((n, c)) * scale, rng.integers(0, c, n)
    loss, cache = L.softmax_cross_entropy_forward(logits, labels)
    t = torch.tensor(logits, requires_grad=True)
    reference = F.cross_entropy(t, torch.from_numpy(labels))
    reference.backward()
    assert float(loss) == pytest.approx(reference.item(), rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(L.softmax_cross_entropy_backward(1.0, cache), t.grad.numpy(), atol=1e-12)
