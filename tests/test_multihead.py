"""Multi-head attention in NumPy: equal to ``nn.MultiheadAttention`` with the same weights (outputs,
every gradient, self- and cross-attention, masks), gradients against finite differences, heads, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from n2t.gradcheck import check_layer
from n2t.numpy.attention import causal_mask
from n2t.numpy.multihead import (
    MultiHeadAttention,
    merge_heads,
    multi_head_attention_backward,
    multi_head_attention_forward,
    split_heads,
)

E, HEADS = 6, 3


def test_split_and_merge_heads_are_inverse_and_slice_features(rng):
    x = rng.standard_normal((2, 4, E))
    heads = split_heads(x, HEADS)
    assert heads.shape == (2, HEADS, 4, 2)
    np.testing.assert_array_equal(heads[:, 1], x[:, :, 2:4])
    np.testing.assert_array_equal(merge_heads(heads), x)


@pytest.mark.parametrize("kind", ["self", "cross", "cross with padding", "causal self"])
def test_equals_nn_multihead_attention(rng, kind):
    ours = MultiHeadAttention(E, HEADS, rng=np.random.default_rng(0))
    ours.params["in_proj_bias"] = rng.standard_normal(3 * E)
    ours.params["out_proj.bias"] = rng.standard_normal(E)
    builtin = torch.nn.MultiheadAttention(E, HEADS, batch_first=True).double()
    builtin.load_state_dict({k: torch.from_numpy(v) for k, v in ours.params.items()})
    query = rng.standard_normal((2, 4, E))
    memory = query if kind.endswith("self") else rng.standard_normal((2, 5, E))
    mask = {"self": None, "cross": None, "cross with padding": np.arange(5) < np.array([[5], [2]]),
            "causal self": causal_mask(4)}[kind]
    if kind == "cross with padding":
        mask = mask[:, None, :]  # (N, 1, S)
    out = ours.attend(query, memory, memory, mask)
    dout = rng.standard_normal(out.shape)
    dquery, dkey, dvalue = ours.attention_backward(dout)

    q_t, m_t = torch.from_numpy(query).requires_grad_(), torch.from_numpy(memory).requires_grad_()
    keys = q_t if kind.endswith("self") else m_t
    torch_mask = None
    if mask is not None:  # nn.MultiheadAttention: True = masked out, one (L, S) mask per batch·head
        torch_mask = torch.from_numpy(np.broadcast_to(~mask, (2, 4, keys.shape[1])).copy()).repeat_interleave(HEADS, 0)
    out_t, _ = builtin(q_t, keys, keys, attn_mask=torch_mask, need_weights=False)
    out_t.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), atol=1e-13)
    if kind.endswith("self"):
        np.testing.assert_allclose(dquery + dkey + dvalue, q_t.grad.numpy(), atol=1e-12)
    else:
        np.testing.assert_allclose(dquery, q_t.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(dkey + dvalue, m_t.grad.numpy(), atol=1e-12)
    for name, parameter in builtin.named_parameters():
        np.testing.assert_allclose(ours.grads[name], parameter.grad.numpy(), atol=1e-12, err_msg=name)


def test_gradients_against_finite_differences(rng):
    mask = causal_mask(4)
    inputs = {"query": rng.standard_normal((2, 4, E)), "key": rng.standard_normal((2, 4, E)),
              "value": rng.standard_normal((2, 4, E)), "w_in": 0.5 * rng.standard_normal((3 * E, E)),
              "b_in": rng.standard_normal(3 * E), "w_out": 0.5 * rng.standard_normal((E, E)),
              "b_out": rng.standard_normal(E)}
    check_layer(lambda *a: multi_head_attention_forward(*a, HEADS, mask), multi_head_attention_backward, inputs)


def test_weights_per_head_are_distributions(rng):
    layer = MultiHeadAttention(E, HEADS, rng=rng)
    layer.forward(rng.standard_normal((2, 4, E)), causal_mask(4))
    assert layer.weights.shape == (2, HEADS, 4, 4)
    np.testing.assert_allclose(layer.weights.sum(-1), 1.0)
    assert np.all(np.triu(layer.weights[0, 0], 1) == 0)


def test_bad_input_is_named(rng):
    with pytest.raises(ValueError, match="'num_heads' must divide embed_dim = 6"):
        MultiHeadAttention(6, 4)
    layer = MultiHeadAttention(E, HEADS, rng=rng)
    with pytest.raises(ValueError, match=r"need query \(N, L, E\) and key, value \(N, S, E\)"):
        layer.attend(rng.standard_normal((2, 4, E)), rng.standard_normal((3, 5, E)), rng.standard_normal((3, 5, E)))
    with pytest.raises(ValueError, match="hides every key"):
        layer.forward(rng.standard_normal((2, 4, E)), np.zeros((4, 4), bool))
    with pytest.raises(RuntimeError, match="before forward"):
        MultiHeadAttention(E, HEADS).backward(np.zeros((1, 1, E)))
