"""n2t.torch.attention against F.scaled_dot_product_attention and nn.MultiheadAttention (values and every
gradient, float64) and against the NumPy twins; masks, dropout, CUDA and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import n2t.numpy.attention as np_attention
import n2t.numpy.multihead as np_multihead
from n2t.torch.attention import (
    AdditiveAttention,
    MultiHeadAttention,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)

TIGHT = {"rtol": 1e-10, "atol": 1e-12}


def randn(*shape, seed: int, device="cpu", dtype=torch.float64) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype).to(device)


def outputs_and_grads(fn, inputs: list[torch.Tensor], params: list[torch.Tensor], seed: int = 99):
    """fn's output, and the gradients of a random projection of it w.r.t. the inputs and the parameters."""
    leaves = [t.detach().clone().requires_grad_() for t in inputs]
    out = fn(*leaves)
    upstream = randn(*out.shape, seed=seed, device=out.device, dtype=out.dtype)
    grads = torch.autograd.grad((out * upstream).sum(), leaves + params)
    return [out.detach(), *grads]


def assert_all_close(ours, theirs, **tolerance):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, **(tolerance or TIGHT))


# ---- scaled dot-product attention ----------------------------------------------------------------
N, H, L, S, E, EV = 2, 3, 4, 5, 6, 7
Q, K, V = randn(N, H, L, E, seed=1), randn(N, H, S, E, seed=2), randn(N, H, S, EV, seed=3)
LENGTHS = torch.tensor([5, 2])
MASKS = {
    "none": None,
    "padding": padding_mask(LENGTHS, S)[:, None],  # (N, 1, 1, S)
    "causal-square": causal_mask(S)[:L],  # (L, S): query t sees keys 0…t
    "random": torch.rand(N, H, L, S, generator=torch.Generator().manual_seed(4)) < 0.6,
}
MASKS["random"][..., 0] = True  # every query keeps at least one key


@pytest.mark.parametrize("mask_name", MASKS)
def test_sdpa_equals_torch_sdpa_values_and_gradients(mask_name):
    mask = MASKS[mask_name]
    ours = outputs_and_grads(lambda q, k, v: scaled_dot_product_attention(q, k, v, mask)[0], [Q, K, V], [])
    theirs = outputs_and_grads(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask), [Q, K, V], [])
    assert_all_close(ours, theirs)


def test_sdpa_weights_are_a_masked_softmax_and_work_without_heads():
    mask = MASKS["random"]
    out, weights = scaled_dot_product_attention(Q, K, V, mask)
    assert weights.shape == (N, H, L, S)
    torch.testing.assert_close(weights.sum(-1), torch.ones(N, H, L, dtype=torch.float64))
    assert (weights[~mask] == 0).all() and (weights[mask] > 0).all()
    torch.testing.assert_close(out, weights @ V, **TIGHT)
    out3, weights3 = scaled_dot_product_attention(Q[:, 0], K[:, 0], V[:, 0])  # (N, L, E): no head axis
    torch.testing.assert_close(out3, F.scaled_dot_product_attention(Q[:, 0], K[:, 0], V[:, 0]), **TIGHT)


@pytest.mark.parametrize("mask_name", ["none", "random"])
def test_sdpa_equals_the_numpy_twin_forward_and_backward(mask_name):
    mask = MASKS[mask_name]
    np_mask = None if mask is None else mask.numpy()
    out_np, cache = np_attention.scaled_dot_product_attention_forward(Q.numpy(), K.numpy(), V.numpy(), np_mask)
    dout = randn(N, H, L, EV, seed=99)
    grads_np = np_attention.scaled_dot_product_attention_backward(dout.numpy(), cache)
    ours = outputs_and_grads(lambda q, k, v: scaled_dot_product_attention(q, k, v, mask)[0], [Q, K, V], [])
    assert_all_close(ours, [torch.from_numpy(a) for a in (out_np, *grads_np)])
    torch.testing.assert_close(scaled_dot_product_attention(Q, K, V, mask)[1], torch.from_numpy(cache[4]), **TIGHT)


def test_a_mask_that_hides_every_key_raises_instead_of_nan():
    mask = MASKS["random"].clone()
    mask[1, 2, 3] = False
    with pytest.raises(ValueError, match=r"hides every key from query \(1, 2, 3\).*0/0 = NaN"):
        scaled_dot_product_attention(Q, K, V, mask)
    lengths = torch.tensor([3, 1])
    with pytest.raises(ValueError, match="hides every key"):
        scaled_dot_product_attention(Q, K, V, padding_mask(lengths, S)[:, None] & False)


def test_sdpa_dropout_drops_and_rescales_weights():
    torch.manual_seed(0)
    _, dropped = scaled_dot_product_attention(Q, K, V, dropout_p=0.5)
    _, kept = scaled_dot_product_attention(Q, K, V)
    zeros = dropped == 0
    assert 0.3 < zeros.double().mean() < 0.7
    torch.testing.assert_close(dropped[~zeros], 2 * kept[~zeros], **TIGHT)


def test_masks_equal_the_numpy_masks():
    assert torch.equal(causal_mask(6), torch.from_numpy(np_attention.causal_mask(6)))
    lengths = torch.tensor([1, 4, 6])
    assert torch.equal(padding_mask(lengths, 6), torch.from_numpy(np_attention.padding_mask(lengths.numpy(), 6)))
    assert padding_mask(lengths, 6).dtype == torch.bool and causal_mask(3, "cpu").device.type == "cpu"


# ---- multi-head attention ------------------------------------------------------------------------
def mha_pair(embed_dim=8, num_heads=2, bias=True, seed=5):
    torch.manual_seed(seed)
    ours = MultiHeadAttention(embed_dim, num_heads, bias=bias).double()
    theirs = nn.MultiheadAttention(embed_dim, num_heads, bias=bias, batch_first=True).double()
    theirs.load_state_dict(ours.state_dict())
    return ours, theirs


X = randn(3, 5, 8, seed=6)
MEMORY = randn(3, 7, 8, seed=7)
MHA_CASES = {  # name: (query, key/value, our mask, nn.MultiheadAttention's mask keywords)
    "self": (X, X, None, {}),
    "self-causal": (X, X, causal_mask(5), {"attn_mask": ~causal_mask(5)}),
    "self-padding": (X, X, padding_mask(torch.tensor([5, 3, 1]), 5),
                     {"key_padding_mask": ~padding_mask(torch.tensor([5, 3, 1]), 5)[:, 0]}),
    "cross": (X, MEMORY, None, {}),
    "cross-padding": (X, MEMORY, padding_mask(torch.tensor([7, 2, 4]), 7),
                      {"key_padding_mask": ~padding_mask(torch.tensor([7, 2, 4]), 7)[:, 0]}),
}


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", MHA_CASES)
def test_mha_equals_builtin_outputs_and_every_gradient(case, bias):
    query, memory, mask, builtin_masks = MHA_CASES[case]
    ours, theirs = mha_pair(bias=bias)
    ours_run = outputs_and_grads(lambda q, k, v: ours(q, k, v, mask), [query, memory, memory],
                                 list(ours.parameters()))
    theirs_run = outputs_and_grads(lambda q, k, v: theirs(q, k, v, need_weights=False, **builtin_masks)[0],
                                   [query, memory, memory], list(theirs.parameters()))
    assert_all_close(ours_run, theirs_run)
    _, weights = theirs(query, memory, memory, average_attn_weights=False, **builtin_masks)
    torch.testing.assert_close(ours.last_weights, weights, **TIGHT)


def test_mha_parameters_initialisation_and_state_dict_match_the_builtin():
    torch.manual_seed(8)
    ours = MultiHeadAttention(12, 3)
    torch.manual_seed(8)
    theirs = nn.MultiheadAttention(12, 3, batch_first=True)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [(n, p.shape) for n, p in theirs.named_parameters()]
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    ours.load_state_dict(nn.MultiheadAttention(12, 3, batch_first=True).state_dict())  # and back
    assert list(MultiHeadAttention(4, 2, bias=False).state_dict()) == ["in_proj_weight", "out_proj.weight"]


def test_mha_equals_the_numpy_twin_forward_and_backward():
    np_mha = np_multihead.MultiHeadAttention(8, 2, rng=np.random.default_rng(9))
    ours = MultiHeadAttention(8, 2).double()
    ours.load_state_dict({name: torch.from_numpy(value) for name, value in np_mha.params.items()})
    mask = padding_mask(torch.tensor([7, 2, 4]), 7)
    out_np = np_mha.attend(X.numpy(), MEMORY.numpy(), MEMORY.numpy(), mask.numpy())
    dout = randn(3, 5, 8, seed=99)
    dquery, dkey, dvalue = np_mha.attention_backward(dout.numpy())
    expected = [out_np, dquery, dkey, dvalue, *(np_mha.grads[name] for name in dict(ours.named_parameters()))]
    ours_run = outputs_and_grads(lambda q, k, v: ours(q, k, v, mask), [X, MEMORY, MEMORY], list(ours.parameters()))
    assert_all_close(ours_run, [torch.from_numpy(np.asarray(a)) for a in expected])
    torch.testing.assert_close(ours.last_weights, torch.from_numpy(np_mha.weights), **TIGHT)


def test_mha_dropout_only_in_training():
    torch.manual_seed(10)
    mha = MultiHeadAttention(8, 2, dropout=0.5).double()
    reference = MultiHeadAttention(8, 2).double()
    reference.load_state_dict(mha.state_dict())
    assert not torch.allclose(mha(X, X, X), reference(X, X, X))
    torch.testing.assert_close(mha.eval()(X, X, X), reference(X, X, X), rtol=0, atol=0)


# ---- additive attention --------------------------------------------------------------------------
def test_additive_attention_equals_the_numpy_scores_and_masked_softmax():
    torch.manual_seed(11)
    additive = AdditiveAttention(4, 6, 5).double()
    query, key, value = randn(2, 3, 4, seed=12), randn(2, 7, 6, seed=13), randn(2, 7, 2, seed=14)
    mask = padding_mask(torch.tensor([7, 3]), 7)
    scores = np_attention.additive_attention_scores(query.numpy(), key.numpy(), additive.w_q.weight.detach().numpy(),
                                                    additive.w_k.weight.detach().numpy(),
                                                    additive.w_v.weight.detach().numpy()[0])
    weights = np_attention.masked_softmax(scores, mask.numpy())
    out = additive(query, key, value, mask)
    torch.testing.assert_close(out, torch.from_numpy(weights @ value.numpy()), **TIGHT)
    torch.testing.assert_close(additive.last_weights, torch.from_numpy(weights), **TIGHT)
    assert torch.autograd.gradcheck(lambda q, k, v: additive(q, k, v, mask),
                                    [t.clone().requires_grad_() for t in (query, key, value)])


def test_package_exports_the_attention_names():
    import n2t.torch
    import n2t.torch.attention as module

    for name in module.__all__:
        assert getattr(n2t.torch, name) is getattr(module, name) and name in n2t.torch.__all__


# ---- bad input -----------------------------------------------------------------------------------
MHA = MultiHeadAttention(8, 2).double()


@pytest.mark.parametrize("call,error,message", [
    (lambda: scaled_dot_product_attention(Q, K[..., :4], V), ValueError, "the same E for q and k"),
    (lambda: scaled_dot_product_attention(Q, K, V[:, :, :3]), ValueError, "the same S for k and v"),
    (lambda: scaled_dot_product_attention(Q, K, V.float()), TypeError, "'v' is a torch.float32 tensor"),
    (lambda: scaled_dot_product_attention(Q.numpy(), K, V), TypeError, "'q' must be a floating-point tensor"),
    (lambda: scaled_dot_product_attention(Q, K, V, MASKS["random"].double()), TypeError,
     r"'mask' must be a boolean tensor \(True = may attend\); got torch.float64"),
    (lambda: scaled_dot_product_attention(Q, K, V, torch.ones(L, L, dtype=torch.bool)), ValueError,
     r"'mask' of shape \(4, 4\) does not broadcast to the scores' shape \(N, \*, L, S\) = \(2, 3, 4, 5\)"),
    (lambda: scaled_dot_product_attention(Q, K, V, dropout_p=1.0), ValueError, "'dropout_p' must be a number"),
    (lambda: causal_mask(0), ValueError, "causal_mask: argument 'length' must be an int >= 1; got 0"),
    (lambda: padding_mask(torch.tensor([0, 2]), 3), ValueError, r"'lengths' must be an integer tensor .* 1…3"),
    (lambda: padding_mask(torch.tensor([1.0]), 3), ValueError, "padding_mask: argument 'lengths'"),
    (lambda: MultiHeadAttention(8, 3), ValueError, "argument 'num_heads' must divide embed_dim = 8; got 3"),
    (lambda: MultiHeadAttention(0, 1), ValueError, "argument 'embed_dim' must be an int >= 1; got 0"),
    (lambda: MultiHeadAttention(8, 2, dropout=1.5), ValueError, r"'dropout' must be a number in \[0, 1\)"),
    (lambda: MultiHeadAttention(8, 2, bias=1), TypeError, "argument 'bias' must be a bool"),
    (lambda: MHA(X[..., :6], X, X), ValueError, r"MultiHeadAttention: argument 'query' must have shape \(N, L, E\) "
                                                r"= \(\?, \?, 8\); got shape \(3, 5, 6\)"),
    (lambda: MHA(X, MEMORY, MEMORY[:, :4]), ValueError, "'key' and 'value' must have the same shape"),
    (lambda: MHA(X, MEMORY[:2], MEMORY[:2]), ValueError, r"'key' must have shape \(N, S, E\) = \(3, \?, 8\)"),
    (lambda: MHA(X.float(), X.float(), X.float()), TypeError, "'query' is a torch.float32 tensor on cpu but the "
                                                              "weights are torch.float64"),
    (lambda: MHA(X, X, X, causal_mask(4)), ValueError, r"does not broadcast to the scores' shape \(N, L, S\)"),
    (lambda: MHA(X, X, X, causal_mask(5)[None, None]), ValueError, r"'mask' must have shape \(L, S\), \(N, L, S\)"),
    (lambda: MHA(X, X, X, padding_mask(torch.tensor([5, 1, 3]), 5) & torch.tensor([0, 1, 1, 1, 1]).bool()),
     ValueError, r"MultiHeadAttention: argument 'mask' hides every key from query \(1, 0\)"),
    (lambda: AdditiveAttention(4, 6, 0), ValueError, "argument 'hidden' must be an int >= 1"),
    (lambda: AdditiveAttention(4, 6, 5).double()(X, X, X), ValueError, r"'query' must have shape \(N, L, Eq\)"),
], ids=lambda value: "" if callable(value) or isinstance(value, type) else value[:40])
def test_bad_input_is_rejected_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- CUDA ----------------------------------------------------------------------------------------
@pytest.mark.gpu
def test_attention_on_cuda_equals_cpu():
    query, memory, mask, _ = MHA_CASES["cross-padding"]
    ours, _ = mha_pair()
    cuda = MultiHeadAttention(8, 2).double().cuda()
    cuda.load_state_dict(ours.state_dict())
    cpu_run = outputs_and_grads(lambda q, k, v: ours(q, k, v, mask), [query, memory, memory], list(ours.parameters()))
    cuda_run = outputs_and_grads(lambda q, k, v: cuda(q, k, v, mask.cuda()),
                                 [query.cuda(), memory.cuda(), memory.cuda()], list(cuda.parameters()))
    assert all(t.device.type == "cuda" for t in cuda_run)
    assert_all_close(cpu_run, [t.cpu() for t in cuda_run], rtol=1e-9, atol=1e-10)
    assert causal_mask(4, "cuda").device.type == "cuda"
    assert padding_mask(torch.tensor([1, 2], device="cuda"), 3).device.type == "cuda"
    out, _ = scaled_dot_product_attention(Q.cuda(), K.cuda(), V.cuda(), MASKS["random"].cuda())
    torch.testing.assert_close(out.cpu(), scaled_dot_product_attention(Q, K, V, MASKS["random"])[0], **TIGHT)
