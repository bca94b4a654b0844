"""Scaled dot-product attention in NumPy: values and gradients against finite differences and
``F.scaled_dot_product_attention`` (no mask, padding, causal, per-head masks), masks that hide every key
raise instead of giving NaN, the masked softmax, the masks, additive scores, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from n2t.gradcheck import check_layer
from n2t.numpy.attention import (
    additive_attention_scores,
    causal_mask,
    masked_softmax,
    padding_mask,
    scaled_dot_product_attention_backward,
    scaled_dot_product_attention_forward,
)


def builtin(mask):
    torch_mask = None if mask is None else torch.from_numpy(mask)
    return lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=torch_mask)


def mask_cases(rng):
    random = rng.random((2, 3, 4, 6)) > 0.4
    random[..., 2] = True
    return {"none": None, "random per head": random, "padding": padding_mask(np.array([6, 2]), 6)[:, None],
            "keys of the first half": np.arange(6)[None] < 3}


@pytest.mark.parametrize("case", ["none", "random per head", "padding", "keys of the first half"])
def test_gradients_against_finite_differences_and_torch(rng, case):
    mask = mask_cases(rng)[case]
    inputs = {"q": rng.standard_normal((2, 3, 4, 5)), "k": rng.standard_normal((2, 3, 6, 5)),
              "v": rng.standard_normal((2, 3, 6, 7))}
    check_layer(lambda q, k, v: scaled_dot_product_attention_forward(q, k, v, mask),
                scaled_dot_product_attention_backward, inputs, builtin(mask))


def test_causal_mask_equals_torch_is_causal(rng):
    q, k, v = (rng.standard_normal((3, 5, 4)) for _ in range(3))
    out, _ = scaled_dot_product_attention_forward(q, k, v, causal_mask(5))
    reference = F.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)), is_causal=True)
    np.testing.assert_allclose(out, reference.numpy(), atol=1e-14)


def test_masked_keys_get_zero_weight_and_zero_gradient(rng):
    q, k, v = rng.standard_normal((1, 2, 3)), rng.standard_normal((1, 4, 3)), rng.standard_normal((1, 4, 2))
    mask = np.array([True, False, True, False])
    out, cache = scaled_dot_product_attention_forward(q, k, v, mask)
    assert np.all(cache[4][..., ~mask] == 0)
    _, dk, dv = scaled_dot_product_attention_backward(rng.standard_normal(out.shape), cache)
    assert np.all(dk[:, ~mask] == 0) and np.all(dv[:, ~mask] == 0)


def test_weights_are_a_distribution_even_for_huge_scores():
    weights = masked_softmax(np.array([[1000.0, 999.0, -1000.0]]))
    assert np.isfinite(weights).all() and weights.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(weights[0, :2], [1 / (1 + np.exp(-1)), 1 / (1 + np.exp(1))])


def test_a_mask_that_hides_every_key_is_an_error_not_nan(rng):
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 4))
    mask = np.ones((2, 3, 5), dtype=bool)
    mask[1, 2] = False
    with pytest.raises(ValueError, match=r"hides every key from query \(1, 2\)"):
        scaled_dot_product_attention_forward(q, k, v, mask)
    with pytest.raises(ValueError, match="hides every key"):
        masked_softmax(np.zeros((2, 3)), np.array([True, False, False]) & False)


def test_masks():
    np.testing.assert_array_equal(causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(padding_mask(np.array([1, 3]), 3), [[[1, 0, 0]], [[1, 1, 1]]])
    with pytest.raises(ValueError, match="'lengths' must be integers in 1…3"):
        padding_mask(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="'length' must be a positive int"):
        causal_mask(0)


def test_additive_scores_equal_a_loop(rng):
    q, k = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 6))
    w_q, w_k, w_v = rng.standard_normal((7, 4)), rng.standard_normal((7, 6)), rng.standard_normal(7)
    scores = additive_attention_scores(q, k, w_q, w_k, w_v)
    assert scores[1, 2, 3] == pytest.approx(w_v @ np.tanh(w_q @ q[1, 2] + w_k @ k[1, 3]))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 3), heads=st.integers(1, 3), length=st.integers(1, 5), keys=st.integers(1, 5),
       e=st.integers(1, 4), ev=st.integers(1, 4))
def test_shapes(n, heads, length, keys, e, ev):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((n, heads, t, w)) for t, w in ((length, e), (keys, e), (keys, ev)))
    out, cache = scaled_dot_product_attention_forward(q, k, v)
    assert out.shape == (n, heads, length, ev) and cache[4].shape == (n, heads, length, keys)
    assert [g.shape for g in scaled_dot_product_attention_backward(out, cache)] == [q.shape, k.shape, v.shape]


def test_bad_input_is_named(rng):
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 6))
    with pytest.raises(ValueError, match="the same E for q and k"):
        scaled_dot_product_attention_forward(q, k[..., :3], v)
    with pytest.raises(ValueError, match="the same S for k and v"):
        scaled_dot_product_attention_forward(q, k, v[:, :4])
    with pytest.raises(TypeError, match="'mask' must be boolean"):
        scaled_dot_product_attention_forward(q, k, v, np.ones((3, 5)))
    with pytest.raises(ValueError, match=r"does not broadcast to the scores' shape \(N, \*, L, S\) = \(2, 3, 5\)"):
        scaled_dot_product_attention_forward(q, k, v, np.ones((3, 4), bool))
    out, cache = scaled_dot_product_attention_forward(q, k, v)
    with pytest.raises(ValueError, match="'dout' has shape"):
        scaled_dot_product_attention_backward(out[:1], cache)
