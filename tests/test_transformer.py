"""Transformer layers in NumPy: encoder and decoder layers equal ``nn.TransformerEncoderLayer`` /
``nn.TransformerDecoderLayer`` (Post-LN and Pre-LN, masks; outputs and every gradient), the backward
pass against finite differences, state dicts, and a NumPy encoder–decoder that learns to reverse."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from n2t.gradcheck import numerical_gradient, relative_error
from n2t.numpy.attention import causal_mask, padding_mask
from n2t.numpy.optim import Adam
from n2t.numpy.sequence import temporal_softmax_cross_entropy_backward, temporal_softmax_cross_entropy_forward
from n2t.numpy.transformer import Seq2SeqTransformer, TransformerDecoderLayer, TransformerEncoderLayer

E, HEADS, FF = 8, 2, 12


def builtin(kind, norm_first, ours):
    cls = torch.nn.TransformerEncoderLayer if kind == "encoder" else torch.nn.TransformerDecoderLayer
    layer = cls(E, HEADS, FF, dropout=0.0, batch_first=True, norm_first=norm_first).double()
    layer.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return layer


def randomise(layer, rng):
    """Biases and norm parameters away from their 0/1 initial values, so a mix-up would show."""
    for name, store, key in layer.named_params():
        if "bias" in name or "norm" in name:
            store[key] = store[key] + 0.3 * rng.standard_normal(store[key].shape)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_equals_the_builtin(rng, norm_first):
    ours = TransformerEncoderLayer(E, HEADS, FF, norm_first, rng=np.random.default_rng(0))
    randomise(ours, rng)
    theirs = builtin("encoder", norm_first, ours)
    x, mask = rng.standard_normal((3, 5, E)), padding_mask(np.array([5, 3, 1]), 5)
    out = ours.forward(x, mask)
    dout = rng.standard_normal(out.shape)
    dx = ours.backward(dout)
    x_t = torch.from_numpy(x).requires_grad_()
    out_t = theirs(x_t, src_key_padding_mask=torch.from_numpy(~mask[:, 0]))
    out_t.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dx, x_t.grad.numpy(), atol=1e-11)
    grads = ours.grad_dict()
    for name, parameter in theirs.named_parameters():
        np.testing.assert_allclose(grads[name], parameter.grad.numpy(), atol=1e-11, err_msg=name)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_equals_the_builtin(rng, norm_first):
    ours = TransformerDecoderLayer(E, HEADS, FF, norm_first, rng=np.random.default_rng(1))
    randomise(ours, rng)
    theirs = builtin("decoder", norm_first, ours)
    x, memory = rng.standard_normal((2, 4, E)), rng.standard_normal((2, 6, E))
    out = ours.forward(x, memory, causal_mask(4))
    dout = rng.standard_normal(out.shape)
    dx = ours.backward(dout)
    x_t, m_t = torch.from_numpy(x).requires_grad_(), torch.from_numpy(memory).requires_grad_()
    out_t = theirs(x_t, m_t, tgt_mask=torch.from_numpy(~causal_mask(4)))
    out_t.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dx, x_t.grad.numpy(), atol=1e-11)
    np.testing.assert_allclose(ours.dmemory, m_t.grad.numpy(), atol=1e-11)
    grads = ours.grad_dict()
    for name, parameter in theirs.named_parameters():
        np.testing.assert_allclose(grads[name], parameter.grad.numpy(), atol=1e-11, err_msg=name)


def test_encoder_backward_against_finite_differences(rng):
    layer = TransformerEncoderLayer(4, 2, 6, norm_first=False, rng=np.random.default_rng(2))
    x, dout = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    layer.forward(x, causal_mask(3))
    dx = layer.backward(dout)
    numeric = numerical_gradient(lambda: float(np.sum(layer.forward(x, causal_mask(3)) * dout)), x)
    assert relative_error(dx, numeric) < 1e-6


def test_state_dict_round_trip_and_errors(rng):
    layer = TransformerEncoderLayer(E, HEADS, FF, rng=np.random.default_rng(3))
    state = {k: v + 1 for k, v in layer.state_dict().items()}
    layer.load_state_dict(state)
    np.testing.assert_array_equal(layer.state_dict()["linear1.weight"], state["linear1.weight"])
    assert layer.num_parameters() == sum(v.size for v in state.values())
    with pytest.raises(ValueError, match="missing"):
        layer.load_state_dict({k: v for k, v in state.items() if k != "norm1.bias"})
    with pytest.raises(ValueError, match="'norm1.bias' must have shape"):
        layer.load_state_dict({**state, "norm1.bias": np.zeros(3)})
    with pytest.raises(ValueError, match="'memory'"):
        TransformerDecoderLayer(E, HEADS, FF).forward(rng.standard_normal((1, 2, E)))


def test_numpy_encoder_decoder_learns_to_reverse_sequences():
    rng = np.random.default_rng(0)
    vocab, length, start = 8, 5, 0
    model = Seq2SeqTransformer(vocab, 32, 4, 64, norm_first=True, rng=rng)
    optimizer = Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(250):
        src = rng.integers(1, vocab, (32, length))
        target = src[:, ::-1]
        tgt_in = np.concatenate([np.full((32, 1), start), target[:, :-1]], axis=1)  # shifted right
        loss, cache = temporal_softmax_cross_entropy_forward(model.forward(src, tgt_in), target)
        model.zero_grad()
        model.backward(temporal_softmax_cross_entropy_backward(1.0, cache))
        optimizer.step()
        losses.append(float(loss))
    src = rng.integers(1, vocab, (100, length))
    exact = np.mean(np.all(model.greedy_decode(src, start, length) == src[:, ::-1], axis=1))
    assert losses[-1] < 0.05 * losses[0] and exact > 0.9
