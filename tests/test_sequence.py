"""Embedding and the temporal softmax cross-entropy: equal to ``F.embedding`` / ``F.cross_entropy``
in value and gradient (masks included), repeated tokens accumulate, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from n2t.gradcheck import check_layer
from n2t.numpy.sequence import (
    Embedding,
    embedding_backward,
    embedding_forward,
    temporal_softmax_cross_entropy_backward,
    temporal_softmax_cross_entropy_forward,
)


def test_embedding_equals_torch_with_repeated_tokens(rng):
    table, idx = rng.standard_normal((7, 3)), np.array([[0, 1, 1, 1], [6, 0, 1, 2]])
    out, cache = embedding_forward(idx, table)
    dout = rng.standard_normal(out.shape)
    reference = torch.from_numpy(table).requires_grad_()
    F.embedding(torch.from_numpy(idx), reference).backward(torch.from_numpy(dout))
    np.testing.assert_array_equal(out, table[idx])
    np.testing.assert_allclose(embedding_backward(dout, cache), reference.grad.numpy(), atol=1e-14)
    assert np.all(embedding_backward(dout, cache)[[3, 4, 5]] == 0)


def test_embedding_layer_fills_grads(rng):
    layer = Embedding(5, 2, rng=np.random.default_rng(0))
    out = layer.forward(np.array([[4, 4]]))
    layer.backward(np.ones_like(out))
    np.testing.assert_array_equal(layer.grads["weight"][4], [2.0, 2.0])
    assert layer.num_parameters() == 10


@pytest.mark.parametrize("masked", [False, True])
def test_temporal_cross_entropy_equals_torch(rng, masked):
    logits, targets = rng.standard_normal((3, 4, 6)), rng.integers(0, 6, (3, 4))
    mask = rng.random((3, 4)) > 0.4 if masked else None
    if mask is not None:
        mask[0, 0] = True
    loss, cache = temporal_softmax_cross_entropy_forward(logits, targets, mask)
    z = torch.from_numpy(logits).requires_grad_()
    per_position = F.cross_entropy(z.reshape(-1, 6), torch.from_numpy(targets).reshape(-1), reduction="none")
    keep = torch.ones(12, dtype=torch.float64) if mask is None else torch.from_numpy(mask.reshape(-1)).double()
    reference = (per_position * keep).sum() / keep.sum()
    reference.backward(torch.tensor(0.7, dtype=torch.float64))
    assert float(loss) == pytest.approx(reference.item(), rel=1e-13)
    np.testing.assert_allclose(temporal_softmax_cross_entropy_backward(0.7, cache), z.grad.numpy(), atol=1e-15)


def test_temporal_cross_entropy_gradient_by_finite_differences(rng):
    targets = rng.integers(0, 5, (2, 3))
    check_layer(lambda z: temporal_softmax_cross_entropy_forward(z, targets),
                lambda dout, cache: temporal_softmax_cross_entropy_backward(dout, cache),
                {"logits": rng.standard_normal((2, 3, 5))})


def test_temporal_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[[1000.0, -1000.0], [-1000.0, 1000.0]]])
    loss, _ = temporal_softmax_cross_entropy_forward(logits, np.array([[0, 1]]))
    assert float(loss) == 0.0


def test_bad_input_is_named(rng):
    table = rng.standard_normal((4, 2))
    with pytest.raises(ValueError, match=r"'idx' must lie in \[0, 4\)"):
        embedding_forward(np.array([[4]]), table)
    with pytest.raises(TypeError, match="'idx' must hold integer indices"):
        embedding_forward(np.array([[1.0]]), table)
    with pytest.raises(ValueError, match=r"'weight' must have shape \(V, E\)"):
        embedding_forward(np.array([[1]]), table[0])
    logits = rng.standard_normal((2, 3, 4))
    with pytest.raises(ValueError, match="'mask' hides every position"):
        temporal_softmax_cross_entropy_forward(logits, np.zeros((2, 3), int), np.zeros((2, 3), bool))
    with pytest.raises(ValueError, match=r"'targets' must have shape \(N, T\) = \(2, 3\)"):
        temporal_softmax_cross_entropy_forward(logits, np.zeros((3, 2), int))
    with pytest.raises(ValueError, match=r"'logits' must have shape \(N, T, V\)"):
        temporal_softmax_cross_entropy_forward(logits[0], np.zeros((3,), int))
    _, cache = temporal_softmax_cross_entropy_forward(logits, np.zeros((2, 3), int))
    with pytest.raises(ValueError, match="'dloss' of a loss must be a scalar"):
        temporal_softmax_cross_entropy_backward(np.ones(2), cache)
