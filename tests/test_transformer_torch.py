"""n2t.torch.transformer against nn.LayerNorm, nn.TransformerEncoderLayer/DecoderLayer/Encoder/Decoder
(outputs and every gradient, float64, Post-LN and Pre-LN, with masks) and the NumPy twins; the encoder–decoder
model (shapes, greedy decoding, a copy task it learns), the decoder-only LM (causality, generation), CUDA
and bad input."""

from __future__ import annotations


import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import n2t.numpy.positional as np_positional
import n2t.numpy.transformer as np_transformer
from n2t.torch.attention import causal_mask, padding_mask
from n2t.torch.transformer import (
    DecoderLM,
    FeedForward,
    LayerNorm,
    SinusoidalEncoding,
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

TIGHT = {"rtol": 1e-10, "atol": 1e-12}
D_MODEL, NHEAD, FF = 8, 2, 12


def randn(*shape, seed: int, device="cpu", dtype=torch.float64) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype).to(device)


def outputs_and_grads(fn, inputs: list[torch.Tensor], module: nn.Module, seed: int = 99):
    """fn's output, and the gradients of a random projection of it w.r.t. the inputs and every parameter."""
    leaves = [t.detach().clone().requires_grad_() for t in inputs]
    out = fn(*leaves)
    upstream = randn(*out.shape, seed=seed, device=out.device, dtype=out.dtype)
    grads = torch.autograd.grad((out * upstream).sum(), leaves + list(module.parameters()))
    return [out.detach(), *grads]


def assert_all_close(ours, theirs, **tolerance):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, **(tolerance or TIGHT))


X = randn(3, 5, D_MODEL, seed=1)  # (N, T, E)
MEMORY = randn(3, 6, D_MODEL, seed=2)  # (N, S, E)
PAD = padding_mask(torch.tensor([6, 2, 4]), 6)  # (N, 1, S)
SELF_PAD = padding_mask(torch.tensor([5, 3, 1]), 5)


# ---- layer norm and the feed-forward sublayer ----------------------------------------------------
def test_layernorm_equals_builtin_values_and_gradients():
    ours = LayerNorm(D_MODEL, eps=1e-3).double()
    with torch.no_grad():
        ours.weight.copy_(randn(D_MODEL, seed=3))
        ours.bias.copy_(randn(D_MODEL, seed=4))
    theirs = nn.LayerNorm(D_MODEL, eps=1e-3).double()
    theirs.load_state_dict(ours.state_dict())
    assert_all_close(outputs_and_grads(ours, [X * 3 + 1], ours), outputs_and_grads(theirs, [X * 3 + 1], theirs))


def test_feedforward_is_the_layers_feedforward_sublayer():
    torch.manual_seed(5)
    layer = TransformerEncoderLayer(D_MODEL, NHEAD, FF, dropout=0.0, activation="gelu").double()
    ff = FeedForward(D_MODEL, FF, activation="gelu").double()
    ff.load_state_dict({k: v for k, v in layer.state_dict().items() if k.startswith("linear")})
    expected = F.linear(F.gelu(F.linear(X, layer.linear1.weight, layer.linear1.bias)), layer.linear2.weight,
                        layer.linear2.bias)
    torch.testing.assert_close(ff(X), expected, **TIGHT)
    torch.testing.assert_close(layer._ff_block(X), expected, **TIGHT)


# ---- encoder and decoder layers against PyTorch's ------------------------------------------------
def builtin_twin(ours: nn.Module, builtin_class: type, **options) -> nn.Module:
    theirs = builtin_class(D_MODEL, NHEAD, FF, dropout=0.0, batch_first=True, **options).double()
    theirs.load_state_dict(ours.state_dict())
    return theirs


ENCODER_MASKS = {  # name: (our mask, nn.TransformerEncoderLayer's mask keywords)
    "none": (None, {}),
    "causal": (causal_mask(5), {"src_mask": ~causal_mask(5)}),
    "padding": (SELF_PAD, {"src_key_padding_mask": ~SELF_PAD[:, 0]}),
}


@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("mask_name", ENCODER_MASKS)
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_equals_builtin(norm_first, mask_name, activation):
    mask, builtin_masks = ENCODER_MASKS[mask_name]
    ours = TransformerEncoderLayer(D_MODEL, NHEAD, FF, 0.0, activation, norm_first=norm_first).double()
    theirs = builtin_twin(ours, nn.TransformerEncoderLayer, activation=activation, norm_first=norm_first)
    assert_all_close(outputs_and_grads(lambda x: ours(x, mask), [X], ours),
                     outputs_and_grads(lambda x: theirs(x, **builtin_masks), [X], theirs))


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_equals_builtin_with_causal_and_memory_masks(norm_first):
    ours = TransformerDecoderLayer(D_MODEL, NHEAD, FF, dropout=0.0, norm_first=norm_first).double()
    theirs = builtin_twin(ours, nn.TransformerDecoderLayer, norm_first=norm_first)
    assert_all_close(
        outputs_and_grads(lambda x, m: ours(x, m, causal_mask(5), PAD), [X, MEMORY], ours),
        outputs_and_grads(lambda x, m: theirs(x, m, tgt_mask=~causal_mask(5), memory_key_padding_mask=~PAD[:, 0]),
                          [X, MEMORY], theirs))


@pytest.mark.parametrize("kind", ["encoder", "decoder"])
def test_layer_parameters_and_initialisation_equal_the_builtin(kind):
    ours_class, builtin_class = ((TransformerEncoderLayer, nn.TransformerEncoderLayer) if kind == "encoder"
                                 else (TransformerDecoderLayer, nn.TransformerDecoderLayer))
    torch.manual_seed(6)
    ours = ours_class(D_MODEL, NHEAD, FF)
    torch.manual_seed(6)
    theirs = builtin_class(D_MODEL, NHEAD, FF, batch_first=True)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [(n, p.shape) for n, p in theirs.named_parameters()]
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    ours.load_state_dict(builtin_class(D_MODEL, NHEAD, FF, batch_first=True).state_dict())  # and back


@pytest.mark.parametrize("norm_first", [False, True])
def test_stacks_equal_builtin_stacks_with_final_norm(norm_first):
    torch.manual_seed(7)
    encoder = TransformerEncoder(TransformerEncoderLayer(D_MODEL, NHEAD, FF, 0.0, norm_first=norm_first), 2,
                                 LayerNorm(D_MODEL)).double()
    decoder = TransformerDecoder(TransformerDecoderLayer(D_MODEL, NHEAD, FF, 0.0, norm_first=norm_first), 2,
                                 LayerNorm(D_MODEL)).double()
    with torch.no_grad():  # the copies start equal (as in PyTorch); make them differ
        for param in [*encoder.parameters(), *decoder.parameters()]:
            param.add_(0.1 * torch.randn_like(param))
    builtin_encoder = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF, 0.0, batch_first=True, norm_first=norm_first), 2,
        nn.LayerNorm(D_MODEL), enable_nested_tensor=False).double()
    builtin_decoder = nn.TransformerDecoder(
        nn.TransformerDecoderLayer(D_MODEL, NHEAD, FF, 0.0, batch_first=True, norm_first=norm_first), 2,
        nn.LayerNorm(D_MODEL)).double()
    builtin_encoder.load_state_dict(encoder.state_dict())
    builtin_decoder.load_state_dict(decoder.state_dict())
    assert_all_close(outputs_and_grads(lambda x: encoder(x, SELF_PAD), [X], encoder),
                     outputs_and_grads(lambda x: builtin_encoder(x, src_key_padding_mask=~SELF_PAD[:, 0]), [X],
                                       builtin_encoder))
    assert_all_close(outputs_and_grads(lambda x, m: decoder(x, m, causal_mask(5), PAD), [X, MEMORY], decoder),
                     outputs_and_grads(lambda x, m: builtin_decoder(x, m, tgt_mask=~causal_mask(5),
                                                                    memory_key_padding_mask=~PAD[:, 0]),
                                       [X, MEMORY], builtin_decoder))


# ---- against the NumPy twins ---------------------------------------------------------------------
@pytest.mark.parametrize("norm_first", [False, True])
def test_layers_equal_the_numpy_twins_forward_and_backward(norm_first):
    rng = np.random.default_rng(8)
    np_encoder = np_transformer.TransformerEncoderLayer(D_MODEL, NHEAD, FF, norm_first, rng)
    np_decoder = np_transformer.TransformerDecoderLayer(D_MODEL, NHEAD, FF, norm_first, rng)
    dout = randn(3, 5, D_MODEL, seed=99)
    for np_layer, ours, inputs, masks in (
            (np_encoder, TransformerEncoderLayer(D_MODEL, NHEAD, FF, 0.0, norm_first=norm_first), [X], [SELF_PAD]),
            (np_decoder, TransformerDecoderLayer(D_MODEL, NHEAD, FF, 0.0, norm_first=norm_first), [X, MEMORY],
             [causal_mask(5), PAD])):
        ours = ours.double()
        ours.load_state_dict({name: torch.from_numpy(value) for name, value in np_layer.state_dict().items()})
        out = np_layer.forward(*(t.numpy() for t in inputs), *(m.numpy() for m in masks))
        dx = np_layer.backward(dout.numpy())
        input_grads = [dx] if len(inputs) == 1 else [dx, np_layer.dmemory]
        grads = np_layer.grad_dict()
        expected = [out, *input_grads, *(grads[name] for name, _ in ours.named_parameters())]
        ours_run = outputs_and_grads(lambda *xs, layer=ours, masks=masks: layer(*xs, *masks), inputs, ours)
        assert_all_close(ours_run, [torch.from_numpy(np.asarray(a)) for a in expected], rtol=1e-9, atol=1e-11)


def test_sinusoidal_encoding_equals_the_numpy_twin():
    zeros = torch.zeros(2, 9, 6, dtype=torch.float64)
    expected = torch.from_numpy(np_positional.sinusoidal_encoding(9, 6))
    torch.testing.assert_close(SinusoidalEncoding(6)(zeros), expected.expand(2, 9, 6), **TIGHT)
    assert SinusoidalEncoding(6)(zeros.float()).dtype == torch.float32
    assert list(SinusoidalEncoding(6).state_dict()) == []


# ---- the encoder–decoder model -------------------------------------------------------------------
def tiny_transformer(**options) -> Transformer:
    torch.manual_seed(9)
    defaults = {"d_model": 16, "nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 1, "dim_feedforward": 32}
    return Transformer(10, 12, **{**defaults, **options})


SRC = torch.randint(10, (3, 6), generator=torch.Generator().manual_seed(10))
TGT = torch.randint(12, (3, 4), generator=torch.Generator().manual_seed(11))


def test_transformer_shapes_masks_and_dropout():
    model = tiny_transformer(dropout=0.3)
    assert model(SRC, TGT).shape == (3, 4, 12)
    assert model.encode(SRC, PAD).shape == (3, 6, 16)
    assert not torch.allclose(model(SRC, TGT), model(SRC, TGT))  # dropout in training
    model.eval()
    torch.testing.assert_close(model(SRC, TGT), model(SRC, TGT), rtol=0, atol=0)
    changed = SRC.clone()
    changed[1, 3:] = 0  # hidden by the padding mask (the second source has length 2)
    torch.testing.assert_close(model(changed, TGT, PAD), model(SRC, TGT, PAD))
    assert not torch.allclose(model(changed, TGT), model(SRC, TGT))
    later = TGT.clone()
    later[:, 2] = (TGT[:, 2] + 1) % 12  # the causal mask: earlier target positions cannot see it
    torch.testing.assert_close(model(SRC, later)[:, :2], model(SRC, TGT)[:, :2])
    assert not torch.allclose(model(SRC, later)[:, 2:], model(SRC, TGT)[:, 2:])


def test_transformer_layer_copies_are_reinitialised():
    model = tiny_transformer(num_encoder_layers=2)
    first, second = model.encoder.layers
    assert not torch.equal(first.linear1.weight, second.linear1.weight)


def test_greedy_decode_length_and_consistency_with_teacher_forcing():
    model = tiny_transformer().eval()
    out = model.greedy_decode(SRC, bos_id=1, steps=5)
    assert out.shape == (3, 6) and out.dtype == torch.long and (out[:, 0] == 1).all()
    torch.testing.assert_close(model(SRC, out[:, :-1]).argmax(-1), out[:, 1:])
    assert model.greedy_decode(SRC, bos_id=1, steps=0).shape == (3, 1)


def test_transformer_learns_to_copy():
    torch.manual_seed(12)
    bos, length = 1, 5
    model = Transformer(8, 8, d_model=32, nhead=4, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=64,
                        dropout=0.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(250):
        src = torch.randint(2, 8, (32, length))
        tgt = torch.cat([torch.full((32, 1), bos), src], dim=1)
        loss = F.cross_entropy(model(src, tgt[:, :-1]).reshape(-1, 8), tgt[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-10:]) < 0.1 * np.mean(losses[:10]), (losses[:3], losses[-3:])
    src = torch.randint(2, 8, (64, length), generator=torch.Generator().manual_seed(13))
    copied = model.eval().greedy_decode(src, bos, length)[:, 1:]
    assert (copied == src).double().mean() > 0.9


# ---- the decoder-only language model -------------------------------------------------------------
def tiny_lm(**options) -> DecoderLM:
    torch.manual_seed(14)
    return DecoderLM(11, d_model=16, nhead=2, num_layers=2, dim_feedforward=32, max_len=8, **options)


TOKENS = torch.randint(11, (2, 8), generator=torch.Generator().manual_seed(15))


@pytest.mark.parametrize("position", [0, 3, 7])
def test_decoder_lm_is_causal(position):
    model = tiny_lm().eval()
    changed = TOKENS.clone()
    changed[:, position] = (TOKENS[:, position] + 1) % 11
    before, after = model(TOKENS), model(changed)
    assert before.shape == (2, 8, 11)
    torch.testing.assert_close(after[:, :position], before[:, :position], rtol=0, atol=0)
    assert not torch.allclose(after[:, position:], before[:, position:])  # every later position can see it


def test_generate_length_greedy_sampling_and_context_crop():
    model = tiny_lm().eval()
    prompt = TOKENS[:, :3]
    greedy = model.generate(prompt, steps=12, temperature=0)  # past max_len = 8: the context is cropped
    assert greedy.shape == (2, 15) and torch.equal(greedy[:, :3], prompt)
    assert torch.equal(greedy[:, 3], model(prompt)[:, -1].argmax(-1))
    assert torch.equal(greedy[:, 14], model(greedy[:, 6:14])[:, -1].argmax(-1))
    sample = lambda seed: model.generate(prompt, 6, 1.5, torch.Generator().manual_seed(seed))  # noqa: E731
    assert torch.equal(sample(0), sample(0)) and not torch.equal(sample(0), sample(1))
    assert model.generate(prompt, 0).shape == (2, 3)


def test_package_exports_the_transformer_names():
    import n2t.torch
    import n2t.torch.transformer as module

    for name in module.__all__:
        assert getattr(n2t.torch, name) is getattr(module, name) and name in n2t.torch.__all__


# ---- bad input -----------------------------------------------------------------------------------
ENCODER = TransformerEncoderLayer(D_MODEL, NHEAD, FF).double()
DECODER = TransformerDecoderLayer(D_MODEL, NHEAD, FF).double()
MODEL, LM = tiny_transformer(), tiny_lm()


@pytest.mark.parametrize("call,error,message", [
    (lambda: LayerNorm(0), ValueError, "LayerNorm: argument 'normalized_shape' must be an int >= 1; got 0"),
    (lambda: LayerNorm(4, eps=0), ValueError, "argument 'eps' must be a positive number"),
    (lambda: LayerNorm(4)(torch.ones(2, 5)), ValueError, r"LayerNorm: argument 'x' must be a floating-point tensor "
                                                         r"of shape \(\*, D\) with 4 features"),
    (lambda: FeedForward(8, 16, activation="tanh"), ValueError, r"'activation' must be one of \('relu', 'gelu'\)"),
    (lambda: TransformerEncoderLayer(8, 3), ValueError, "argument 'nhead' must divide d_model = 8; got 3"),
    (lambda: TransformerEncoderLayer(8, 2, norm_first=1), TypeError, "argument 'norm_first' must be a bool"),
    (lambda: TransformerDecoderLayer(8, 2, dropout=-0.1), ValueError, r"'dropout' must be a number in \[0, 1\)"),
    (lambda: ENCODER(X[..., :6]), ValueError, r"TransformerEncoderLayer: argument 'x' must have shape \(N, T, E\) = "
                                              r"\(\?, \?, 8\); got shape \(3, 5, 6\)"),
    (lambda: ENCODER(X.float()), TypeError, "argument 'x' is a torch.float32 tensor on cpu but the weights are"),
    (lambda: ENCODER(X[:, :0]), ValueError, "argument 'x' must have at least one step"),
    (lambda: ENCODER(X, causal_mask(4)), ValueError, r"MultiHeadAttention: argument 'mask' of shape \(4, 4\) does "
                                                     r"not broadcast"),
    (lambda: DECODER(X, None), ValueError, r"argument 'memory' \(the encoder's output \(N, S, E\)\) is required"),
    (lambda: DECODER(X, MEMORY[:2]), ValueError, r"'memory' must have shape \(N, S, E\) = \(3, \?, 8\)"),
    (lambda: TransformerEncoder(DECODER, 2), TypeError, "argument 'encoder_layer' must be a TransformerEncoderLayer"),
    (lambda: TransformerDecoder(DECODER, 0), ValueError, "argument 'num_layers' must be an int >= 1; got 0"),
    (lambda: TransformerEncoder(ENCODER, 2, norm="yes"), TypeError, "'norm' must be an nn.Module or None"),
    (lambda: SinusoidalEncoding(7), ValueError, "argument 'd_model' must be even"),
    (lambda: SinusoidalEncoding(8)(X[0]), ValueError, r"SinusoidalEncoding: argument 'x' must be a floating-point "
                                                      r"tensor of shape \(N, T, E\)"),
    (lambda: Transformer(0, 5), ValueError, "Transformer: argument 'src_vocab' must be an int >= 1"),
    (lambda: MODEL(SRC.float(), TGT), TypeError, r"argument 'src' must be an int64 tensor of token ids \(N, T\)"),
    (lambda: MODEL(SRC, TGT + 20), ValueError, r"argument 'tgt' must hold ids in 0…11; got values in 20…31"),
    (lambda: MODEL(SRC, TGT[:2]), ValueError, "'src' and 'tgt' must have the same batch size N; got 3 and 2"),
    (lambda: MODEL.greedy_decode(SRC, 12, 3), ValueError, "argument 'bos_id' must be < tgt_vocab = 12; got 12"),
    (lambda: MODEL.greedy_decode(SRC, 1, -1), ValueError, "argument 'steps' must be an int >= 0; got -1"),
    (lambda: LM(torch.zeros(2, 9, dtype=torch.long)), ValueError, r"DecoderLM: argument 'tokens' must have 1…8 steps"),
    (lambda: LM(torch.zeros(8, dtype=torch.long)), TypeError, r"must be an int64 tensor of token ids \(N, T\)"),
    (lambda: LM.generate(TOKENS[:, :2], 3, temperature=-1.0), ValueError, "'temperature' must be a finite number"),
    (lambda: LM.generate(TOKENS[0], 3), TypeError, r"DecoderLM.generate: argument 'prompt' must be an int64 tensor"),
], ids=lambda value: "" if callable(value) or isinstance(value, type) else value[:40])
def test_bad_input_is_rejected_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- CUDA ----------------------------------------------------------------------------------------
@pytest.mark.gpu
def test_layers_and_models_on_cuda_equal_cpu():
    decoder = TransformerDecoderLayer(D_MODEL, NHEAD, FF, 0.0, norm_first=True).double()
    cuda = TransformerDecoderLayer(D_MODEL, NHEAD, FF, 0.0, norm_first=True).double().cuda()
    cuda.load_state_dict(decoder.state_dict())
    cpu_run = outputs_and_grads(lambda x, m: decoder(x, m, causal_mask(5), PAD), [X, MEMORY], decoder)
    cuda_run = outputs_and_grads(lambda x, m: cuda(x, m, causal_mask(5, "cuda"), PAD.cuda()),
                                 [X.cuda(), MEMORY.cuda()], cuda)
    assert all(t.device.type == "cuda" for t in cuda_run)
    assert_all_close(cpu_run, [t.cpu() for t in cuda_run], rtol=1e-9, atol=1e-10)
    model = tiny_transformer().double().eval()
    on_cuda = tiny_transformer().double().eval().cuda()
    on_cuda.load_state_dict(model.state_dict())
    torch.testing.assert_close(on_cuda(SRC.cuda(), TGT.cuda(), PAD.cuda()).cpu(), model(SRC, TGT, PAD), **TIGHT)
    assert torch.equal(on_cuda.greedy_decode(SRC.cuda(), 1, 4).cpu(), model.greedy_decode(SRC, 1, 4))
    lm = tiny_lm().double().eval()
    lm_cuda = tiny_lm().double().eval().cuda()
    lm_cuda.load_state_dict(lm.state_dict())
    torch.testing.assert_close(lm_cuda(TOKENS.cuda()).cpu(), lm(TOKENS), **TIGHT)
    assert lm_cuda.generate(TOKENS[:, :2].cuda(), 5, 0.8).shape == (2, 7)
