"""n2t.torch.vit and n2t.torch.bert: patch embedding against a strided nn.Conv2d, the ViT's shapes, class
token and a toy problem it learns; BERT's 80/10/10 masking rule (statistically, and never on special
tokens), the masked-LM model's heads and padding; CUDA and bad input."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from n2t.torch.attention import padding_mask
from n2t.torch.bert import MaskedLM, mask_tokens
from n2t.torch.vit import PatchEmbedding, ViT

TIGHT = {"rtol": 1e-10, "atol": 1e-12}


def randn(*shape, seed: int, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


IMAGES = randn(2, 3, 12, 12, seed=1)  # (N, C, H, W)


# ---- ViT -----------------------------------------------------------------------------------------
def test_patch_embedding_equals_a_strided_convolution():
    torch.manual_seed(2)
    patches = PatchEmbedding(12, 4, 3, 5).double()
    conv = nn.Conv2d(3, 5, kernel_size=4, stride=4).double()
    with torch.no_grad():
        conv.weight.copy_(patches.proj.weight.view(5, 3, 4, 4))
        conv.bias.copy_(patches.proj.bias)
    out = patches(IMAGES)
    assert out.shape == (2, 9, 5) and patches.num_patches == 9
    torch.testing.assert_close(out, conv(IMAGES).flatten(2).transpose(1, 2), **TIGHT)  # patches in reading order


def tiny_vit(**options) -> ViT:
    torch.manual_seed(3)
    return ViT(12, 4, 3, 7, embed_dim=16, depth=2, num_heads=2, mlp_dim=32, **options).double()


def test_vit_shapes_and_the_class_token_output():
    model = tiny_vit()
    features = model.features(IMAGES)
    assert features.shape == (2, 10, 16) and model.pos_embedding.shape == (1, 10, 16)
    logits = model(IMAGES)
    assert logits.shape == (2, 7)
    torch.testing.assert_close(logits, model.head(features[:, 0]), rtol=0, atol=0)  # the head reads token 0 only
    with torch.no_grad():
        model.cls_token.add_(randn(1, 1, 16, seed=4))  # (a constant shift would vanish in the layer norms)
    assert not torch.allclose(model(IMAGES), logits)
    first, second = model.encoder.layers
    assert not torch.equal(first.linear1.weight, second.linear1.weight)


def test_vit_dropout_only_in_training():
    model = tiny_vit(dropout=0.3)
    assert not torch.allclose(model(IMAGES), model(IMAGES))
    model.eval()
    torch.testing.assert_close(model(IMAGES), model(IMAGES), rtol=0, atol=0)


def bars(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """8×8 noisy images holding one bar: vertical (class 0) or horizontal (class 1), at a random place."""
    labels = torch.randint(2, (n,), generator=generator)
    images = 0.3 * torch.randn(n, 1, 8, 8, generator=generator)
    where = torch.randint(8, (n,), generator=generator)
    rows = torch.arange(8)
    horizontal = (rows[None, :, None] == where[:, None, None]).expand(n, 8, 8)
    vertical = horizontal.transpose(1, 2)
    images[:, 0] += torch.where(labels[:, None, None] == 1, horizontal, vertical).float()
    return images, labels


def test_vit_learns_to_tell_horizontal_from_vertical_bars():
    torch.manual_seed(4)
    model = ViT(8, 4, 1, 2, embed_dim=16, depth=1, num_heads=2, mlp_dim=32)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(5)
    for _ in range(150):
        images, labels = bars(32, generator)
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    images, labels = bars(256, torch.Generator().manual_seed(6))
    assert (model.eval()(images).argmax(1) == labels).double().mean() > 0.9


# ---- BERT: masking -------------------------------------------------------------------------------
PAD, CLS, SEP, MASK, VOCAB = 0, 1, 2, 3, 1000


def corpus() -> torch.Tensor:
    tokens = torch.randint(4, VOCAB, (400, 500), generator=torch.Generator().manual_seed(7))
    tokens[:, 0], tokens[:, 449], tokens[:, 450:] = CLS, SEP, PAD
    return tokens


def test_mask_tokens_follows_the_80_10_10_rule():
    tokens = corpus()
    inputs, labels = mask_tokens(tokens, MASK, VOCAB, special_ids=(PAD, CLS, SEP),
                                 generator=torch.Generator().manual_seed(8))
    chosen = labels != -100
    ordinary = tokens[:, 1:449].numel()  # 179 600 tokens, about 26 940 chosen
    assert abs(chosen.sum().item() / ordinary - 0.15) < 0.005  # > 6 standard deviations
    assert torch.equal(labels[chosen], tokens[chosen])
    assert torch.equal(inputs[~chosen], tokens[~chosen])  # what is not chosen is not touched
    masked = (inputs[chosen] == MASK).double().mean().item()
    random = ((inputs[chosen] != MASK) & (inputs[chosen] != tokens[chosen])).double().mean().item()
    kept = (inputs[chosen] == tokens[chosen]).double().mean().item()
    assert abs(masked - 0.8) < 0.015 and abs(random - 0.1) < 0.012 and abs(kept - 0.1) < 0.012
    assert inputs.min() >= 0 and inputs.max() < VOCAB


def test_mask_tokens_never_chooses_special_tokens_and_is_reproducible():
    tokens = corpus()
    inputs, labels = mask_tokens(tokens, MASK, VOCAB, p=0.9, special_ids=(PAD, CLS, SEP),
                                 generator=torch.Generator().manual_seed(9))
    special = tokens[:, None].eq(torch.tensor([PAD, CLS, SEP])[:, None]).any(1)
    assert (labels[special] == -100).all() and torch.equal(inputs[special], tokens[special])
    assert (labels[~special] != -100).double().mean() > 0.85
    again = mask_tokens(tokens, MASK, VOCAB, p=0.9, special_ids=(PAD, CLS, SEP),
                        generator=torch.Generator().manual_seed(9))
    assert torch.equal(again[0], inputs) and torch.equal(again[1], labels)
    _, without_specials = mask_tokens(tokens, MASK, VOCAB, p=0.9, generator=torch.Generator().manual_seed(9))
    assert (without_specials[special] != -100).any()  # the argument is what protects them


# ---- BERT: the model -----------------------------------------------------------------------------
def tiny_bert(**options) -> MaskedLM:
    torch.manual_seed(10)
    return MaskedLM(30, d_model=16, nhead=2, num_layers=2, dim_feedforward=32, max_len=12, num_classes=3, **options)


TOKENS = torch.randint(4, 30, (3, 10), generator=torch.Generator().manual_seed(11))
TOKENS[:, 0] = CLS
LENGTHS = torch.tensor([10, 6, 3])


def test_masked_lm_shapes_heads_and_padding():
    model = tiny_bert().eval()
    mask = padding_mask(LENGTHS, 10)
    assert model(TOKENS, mask).shape == (3, 10, 30)
    assert model.encode(TOKENS).shape == (3, 10, 16)
    classes = model.classify(TOKENS, mask)
    assert classes.shape == (3, 3)
    torch.testing.assert_close(classes, model.classifier(model.encode(TOKENS, mask)[:, 0]), rtol=0, atol=0)
    padded = TOKENS.clone()
    padded[1, 6:], padded[2, 3:] = PAD, PAD  # changing the padding changes nothing the mask lets through
    torch.testing.assert_close(model(padded, mask)[1, :6], model(TOKENS, mask)[1, :6])
    torch.testing.assert_close(model.classify(padded, mask), classes)
    assert not torch.allclose(model.classify(padded), model.classify(TOKENS))  # without the mask it leaks
    later = TOKENS.clone()
    later[:, 8] = 5  # both directions: an earlier position sees a later token
    assert not torch.allclose(model(later)[:, 2], model(TOKENS)[:, 2])


def test_masked_lm_loss_with_mask_tokens_trains():
    model = tiny_bert(dropout=0.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    generator = torch.Generator().manual_seed(12)
    tokens = torch.arange(4, 14).repeat(16, 1)  # the same sequence each time: learnable from its positions
    losses = []
    for _ in range(40):
        inputs, labels = mask_tokens(tokens, MASK, 30, p=0.3, special_ids=(CLS,), generator=generator)
        loss = F.cross_entropy(model(inputs).reshape(-1, 30), labels.reshape(-1))  # ignore_index = -100
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) < 0.2 * sum(losses[:5])


def test_package_exports_the_vit_and_bert_names():
    import n2t.torch
    import n2t.torch.bert
    import n2t.torch.vit

    for module in (n2t.torch.vit, n2t.torch.bert):
        for name in module.__all__:
            assert getattr(n2t.torch, name) is getattr(module, name) and name in n2t.torch.__all__


# ---- bad input -----------------------------------------------------------------------------------
VIT, BERT = tiny_vit(), tiny_bert()


@pytest.mark.parametrize("call,error,message", [
    (lambda: PatchEmbedding(12, 5, 3, 8), ValueError, "argument 'patch_size' must divide image_size = 12; got 5"),
    (lambda: ViT(12, 4, 3, 0), ValueError, "ViT: argument 'num_classes' must be an int >= 1; got 0"),
    (lambda: ViT(12, 4, 3, 2, embed_dim=10, num_heads=4), ValueError, "'num_heads' must divide embed_dim = 10"),
    (lambda: VIT(IMAGES[:, :1]), ValueError, r"ViT: argument 'images' must be a floating-point tensor of shape "
                                             r"\(N, C, H, W\) = \(\?, 3, 12, 12\); got torch.float64 tensor of "
                                             r"shape \(2, 1, 12, 12\)"),
    (lambda: VIT(IMAGES.float()), TypeError, "argument 'images' is a torch.float32 tensor"),
    (lambda: PatchEmbedding(12, 4, 3, 8)(IMAGES[0]), ValueError, "PatchEmbedding: argument 'images'"),
    (lambda: mask_tokens(TOKENS.float(), MASK, 30), TypeError, "'tokens' must be an integer tensor of token ids"),
    (lambda: mask_tokens(TOKENS, 30, 30), ValueError, "argument 'mask_id' must be < vocab_size = 30; got 30"),
    (lambda: mask_tokens(TOKENS, MASK, 30, p=0), ValueError, r"argument 'p' must be a number in \(0, 1\]"),
    (lambda: mask_tokens(TOKENS, MASK, 30, special_ids=0), TypeError, "'special_ids' must be a tuple of ints"),
    (lambda: mask_tokens(TOKENS, MASK, 30, generator=0), TypeError, "'generator' must be a torch.Generator"),
    (lambda: MaskedLM(30, d_model=16, nhead=3), ValueError, "argument 'nhead' must divide d_model = 16"),
    (lambda: BERT(torch.zeros(2, 13, dtype=torch.long)), ValueError, r"MaskedLM: argument 'tokens' must have 1…12"),
    (lambda: BERT.classify(TOKENS + 30), ValueError, "argument 'tokens' must hold ids in 0…29"),
    (lambda: BERT(TOKENS, padding_mask(LENGTHS - 1, 9)), ValueError, "'mask' of shape .* does not broadcast"),
], ids=lambda value: "" if callable(value) or isinstance(value, type) else value[:40])
def test_bad_input_is_rejected_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- CUDA ----------------------------------------------------------------------------------------
@pytest.mark.gpu
def test_vit_bert_and_masking_on_cuda_equal_cpu():
    vit = tiny_vit().eval()
    vit_cuda = tiny_vit().eval().cuda()
    vit_cuda.load_state_dict(vit.state_dict())
    torch.testing.assert_close(vit_cuda(IMAGES.cuda()).cpu(), vit(IMAGES), **TIGHT)
    bert = tiny_bert().double().eval()
    bert_cuda = tiny_bert().double().eval().cuda()
    bert_cuda.load_state_dict(bert.state_dict())
    mask = padding_mask(LENGTHS, 10)
    torch.testing.assert_close(bert_cuda.classify(TOKENS.cuda(), mask.cuda()).cpu(), bert.classify(TOKENS, mask),
                               **TIGHT)
    inputs, labels = mask_tokens(TOKENS.cuda(), MASK, 30, special_ids=(CLS,),
                                 generator=torch.Generator("cuda").manual_seed(0))
    assert inputs.device.type == labels.device.type == "cuda" and (labels[:, 0] == -100).all()
