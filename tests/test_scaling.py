"""n2t.torch.scaling: closed-form counts against modules built on the meta device, FLOPs against
torch.utils.flop_counter, activation memory against the tensors autograd saves, and bad input."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from n2t.data import CharVocab, stdlib_text
from n2t.torch.resnet import resnet50
from n2t.torch.scaling import (
    REFERENCE_MODELS,
    activation_memory,
    flops_per_token,
    format_model_table,
    model_table,
    saved_tensor_bytes,
    transformer_parameters,
    weight_memory,
)
from n2t.torch.summary import count_flops, count_parameters


class BuiltinLM(nn.Module):
    """A pre-norm decoder-only language model from PyTorch's built-in layers (GPT-2's layout)."""

    def __init__(self, vocab: int, d: int, layers: int, heads: int, context: int, d_ff: int | None = None,
                 activation: str = "gelu", tied: bool = True) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.zeros(context, d))
        layer = nn.TransformerEncoderLayer(d, heads, d_ff or 4 * d, dropout=0.0, activation=activation,
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.head = None if tied else nn.Linear(d, vocab, bias=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        length = ids.shape[1]
        x = self.embed(ids) + self.pos[:length]
        mask = nn.Transformer.generate_square_subsequent_mask(length, device=ids.device)
        x = self.norm(self.blocks(x, mask=mask, is_causal=True))
        return F.linear(x, self.embed.weight) if self.head is None else self.head(x)


class BuiltinBert(nn.Module):
    """BERT's encoder: token, position and segment embeddings, an embedding LayerNorm, post-norm blocks, pooler."""

    def __init__(self, vocab: int, d: int, layers: int, heads: int, positions: int) -> None:
        super().__init__()
        self.tokens, self.positions, self.types = nn.Embedding(vocab, d), nn.Embedding(positions, d), nn.Embedding(2, d)
        self.norm = nn.LayerNorm(d)
        layer = nn.TransformerEncoderLayer(d, heads, 4 * d, activation="gelu", batch_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.pooler = nn.Linear(d, d)


# ---- parameters --------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("d_ff", [None, 40])
def test_parameters_of_builtin_layers_and_transformer(bias, d_ff):
    with torch.device("meta"):
        encoder = nn.TransformerEncoderLayer(24, 4, d_ff or 96, bias=bias, batch_first=True)
        decoder = nn.TransformerDecoderLayer(24, 4, d_ff or 96, bias=bias, batch_first=True)
        full = nn.Transformer(24, 4, 3, 2, d_ff or 96, bias=bias, batch_first=True)
    kw = {"d_ff": d_ff, "bias": bias, "extra_norms": 0}
    assert transformer_parameters(24, 1, 0, **kw)["total"] == count_parameters(encoder)
    assert transformer_parameters(24, 0, 0, decoder_layers=1, **kw)["total"] == count_parameters(decoder)
    assert transformer_parameters(24, 3, 0, decoder_layers=2, **{**kw, "extra_norms": 2})["total"] == \
        count_parameters(full)


def test_parts_add_up_and_match_the_modules_parts():
    with torch.device("meta"):
        layer = nn.TransformerEncoderLayer(24, 4, 40, batch_first=True)
    counts = transformer_parameters(24, 1, 0, 40, extra_norms=0)
    assert counts["attention"] == count_parameters(layer.self_attn)
    assert counts["feedforward"] == count_parameters(layer.linear1) + count_parameters(layer.linear2)
    assert counts["norms"] == count_parameters(layer.norm1) + count_parameters(layer.norm2)
    parts = ("embedding", "attention", "feedforward", "norms", "head")
    assert sum(counts[p] for p in parts) == counts["total"] == counts["embedding"] + counts["non_embedding"]


@pytest.mark.parametrize("tied", [True, False])
def test_parameters_of_a_decoder_only_lm(tied):
    with torch.device("meta"):
        model = BuiltinLM(vocab=37, d=32, layers=3, heads=4, context=24, d_ff=48, tied=tied)
    counts = transformer_parameters(32, 3, 37, 48, positions=24, tied=tied)
    assert counts["total"] == count_parameters(model)
    assert counts["embedding"] == count_parameters(model.embed) + model.pos.numel()


@pytest.mark.parametrize("name", ["GPT-2 small", "GPT-2 XL"])
def test_gpt2_sizes_match_a_module_built_on_meta(name):
    config = REFERENCE_MODELS[name]["config"]
    with torch.device("meta"):
        model = BuiltinLM(config["vocab"], config["d_model"], config["n_layers"], REFERENCE_MODELS[name]["heads"],
                          config["positions"])
    assert transformer_parameters(**config)["total"] == count_parameters(model)


def test_bert_base_matches_a_module_built_on_meta():
    config = REFERENCE_MODELS["BERT-base"]["config"]
    with torch.device("meta"):
        model = BuiltinBert(config["vocab"], config["d_model"], config["n_layers"], 12, config["positions"])
    assert transformer_parameters(**config)["total"] == count_parameters(model)


@pytest.mark.parametrize("name", sorted(REFERENCE_MODELS))
def test_reference_counts_are_within_a_few_percent_of_the_published_ones(name):
    spec = REFERENCE_MODELS[name]
    computed = transformer_parameters(**spec["config"])["total"]
    assert abs(computed / spec["published"] - 1) < 0.035, (name, computed, spec["published"])
    assert spec["config"]["d_model"] % spec["heads"] == 0


# ---- FLOPs -------------------------------------------------------------------------------------
def measured_flops(model: nn.Module, ids: torch.Tensor, backward: bool = False) -> int:
    with FlopCounterMode(display=False) as counter:
        logits = model(ids)
        if backward:
            logits.sum().backward()
    return counter.get_total_flops()


@pytest.mark.parametrize("d_ff", [None, 48])
def test_forward_flops_equal_the_flop_counter_on_meta(d_ff):
    batch, context, vocab = 2, 24, 37
    with torch.device("meta"):
        model = BuiltinLM(vocab, 32, 3, 4, context, d_ff=d_ff)
        ids = torch.zeros(batch, context, dtype=torch.long)
        measured = measured_flops(model, ids)
    # a dense kernel computes every score, masked or not: the non-causal count; exact, since the counter
    # also sees only matrix products
    assert measured == batch * context * flops_per_token(32, 3, context, vocab, d_ff, causal=False)["forward"]


def test_forward_flops_on_cpu_with_the_math_kernel():
    torch.manual_seed(0)
    model = BuiltinLM(37, 32, 2, 4, 16)
    ids = torch.randint(0, 37, (3, 16))
    with sdpa_kernel(SDPBackend.MATH):
        measured = measured_flops(model, ids)
    assert measured == 3 * 16 * flops_per_token(32, 2, 16, 37, causal=False)["forward"]


def test_training_is_three_forward_passes():
    with torch.device("meta"):
        model = BuiltinLM(37, 32, 2, 4, 16)
        ids = torch.zeros(2, 16, dtype=torch.long)
        forward, both = measured_flops(model, ids), measured_flops(model, ids, backward=True)
    flops = flops_per_token(32, 2, 16, 37, causal=False)
    assert both == 2 * 16 * flops["training"]
    assert abs(both / forward - 3) < 1e-9


def test_kaplan_form_and_causal_half():
    causal, full = flops_per_token(64, 4, 100), flops_per_token(64, 4, 100, causal=False)
    kaplan_n = 2 * 64 * 4 * (2 * 64 + 4 * 64)  # N = 2 d_model n_layer (2 d_attn + d_ff)
    assert causal["forward"] == 2 * kaplan_n + 2 * 4 * 100 * 64  # C_forward = 2N + 2 n_layer n_ctx d_attn
    without_norms = transformer_parameters(64, 4, 0, bias=False, extra_norms=0)
    assert without_norms["total"] - without_norms["norms"] == kaplan_n
    assert full["attention"] == 2 * causal["attention"]


# ---- memory ------------------------------------------------------------------------------------
def test_weight_memory_rule():
    assert weight_memory(1_000) == {"fp32": 4_000, "fp16": 2_000, "adam": 16_000}
    model = nn.Linear(10, 3)
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.ones(2, 10)).sum().backward()
    optimizer.step()
    tensors = [*model.parameters(), *(p.grad for p in model.parameters()),
               *(state[k] for state in optimizer.state.values() for k in ("exp_avg", "exp_avg_sq"))]
    assert sum(t.numel() * t.element_size() for t in tensors) == weight_memory(count_parameters(model))["adam"]


def lm_loss(model: nn.Module, batch: int, context: int, vocab: int):
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (batch, context), generator=generator)
    targets = torch.randint(0, vocab, (batch, context), generator=generator)
    return lambda: F.cross_entropy(model(ids).reshape(-1, vocab), targets.reshape(-1))


@pytest.mark.parametrize("activation", ["gelu", "relu"])
def test_activation_memory_with_a_fused_attention_kernel(activation):
    torch.manual_seed(0)
    model = BuiltinLM(37, 32, 3, 4, 24, activation=activation)
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        measured = saved_tensor_bytes(lm_loss(model, 2, 24, 37), model.parameters())
    predicted = activation_memory(2, 24, 32, 3, 4, 37, activation=activation, attention_weights=False)["total"]
    assert abs(measured / predicted - 1) < 0.01, (measured, predicted)


def test_activation_memory_with_the_math_kernel():
    torch.manual_seed(0)
    batch, context, d, layers = 2, 24, 32, 3
    model = BuiltinLM(37, d, layers, 4, context)
    with sdpa_kernel(SDPBackend.MATH):
        measured = saved_tensor_bytes(lm_loss(model, batch, context, 37), model.parameters())
    predicted = activation_memory(batch, context, d, layers, 4, 37)["total"]
    # PyTorch's math kernel also keeps scaled copies of q and k: 2 D more values per token and block
    extra = 2 * d * batch * context * layers * 4
    assert abs(measured / (predicted + extra) - 1) < 0.01, (measured, predicted, extra)
    assert predicted < measured < 1.15 * predicted


def test_saved_tensor_bytes_counts_each_storage_once_and_skips_excluded():
    x = torch.ones(3, 5, requires_grad=True)
    assert saved_tensor_bytes(lambda: x.exp().sum()) == 3 * 5 * 4  # exp keeps its output
    assert saved_tensor_bytes(lambda: (x * x).sum(), exclude=[x]) == 0  # x * x saves x twice, excluded
    assert saved_tensor_bytes(lambda: (x * x).sum()) == 3 * 5 * 4
    assert saved_tensor_bytes(lambda: (x + 1).sum()) == 0


def test_activation_memory_parts():
    memory = activation_memory(2, 8, 16, 3, 4, vocab=0)
    assert memory["head"] == memory["tokens"] == 0
    assert memory["attention"] == 3 * 2 * 8 * 4 * 8 * 4
    half = activation_memory(2, 8, 16, 3, 4, vocab=0, bytes_per_value=2)
    assert half["total"] * 2 == memory["total"]


# ---- the table ---------------------------------------------------------------------------------
def test_model_table():
    rows = {row["model"]: row for row in model_table()}
    lstm = next(row for name, row in rows.items() if name.startswith("LSTM"))
    vocab, e, h = len(CharVocab(stdlib_text())), 32, 256  # the model of snippets/rnn/charlm.py
    with torch.device("meta"):  # the built-in layers as an independent reference
        builtin = nn.ModuleList([nn.Embedding(vocab, e), nn.LSTM(e, h, 1), nn.Linear(h, vocab)])
    assert lstm["parameters"] == count_parameters(builtin)
    assert lstm["flops"] == 2 * (4 * h * (e + h) + h * vocab)
    decoder = next(row for name, row in rows.items() if name.startswith("Transformer char LM"))
    formula = transformer_parameters(64, 2, vocab, positions=64, tied=False)["total"]
    assert decoder["parameters"] == formula + vocab  # the formula's untied head has no bias; DecoderLM's has
    with torch.device("meta"):
        assert rows["ResNet-50 (224x224)"]["flops"] == 2 * count_flops(resnet50(), (1, 3, 224, 224))
    assert rows["ResNet-50 (224x224)"]["parameters"] == 25_557_032  # torchvision's resnet50
    for row in rows.values():
        assert row["adam"] == 16 * row["parameters"] == 4 * row["fp32"] == 8 * row["fp16"]
    text = format_model_table(list(rows.values()))
    assert len(text.splitlines()) == len(rows) + 2 and "GPT-3 175B" in text


# ---- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("call,kind,match", [
    (lambda: transformer_parameters(0, 2, 10), ValueError, "'d_model' must be an int >= 1; got 0"),
    (lambda: transformer_parameters(16, -1, 10), ValueError, "'n_layers' must be an int >= 0"),
    (lambda: transformer_parameters(16, 2, 10.0), ValueError, "'vocab' must be an int"),
    (lambda: transformer_parameters(16, 2, 10, d_ff=0), ValueError, "'d_ff'"),
    (lambda: transformer_parameters(16, 2, 10, bias=1), TypeError, "'bias' must be a bool"),
    (lambda: transformer_parameters(16, 2, 0, tied=False), ValueError, "'tied' is False but vocab is 0"),
    (lambda: flops_per_token(16, 2, 0), ValueError, "'context' must be an int >= 1"),
    (lambda: flops_per_token(16, True, 8), ValueError, "'n_layers'"),
    (lambda: flops_per_token(16, 2, 8, causal="yes"), TypeError, "'causal' must be a bool"),
    (lambda: weight_memory(-1), ValueError, "'parameters' must be an int >= 0"),
    (lambda: activation_memory(2, 8, 16, 2, 3), ValueError, "'n_heads' must divide d_model=16; got 3"),
    (lambda: activation_memory(2, 8, 16, 2, 4, activation="tanh"), ValueError, "'activation' must be one of"),
    (lambda: activation_memory(0, 8, 16, 2, 4), ValueError, "'batch'"),
    (lambda: saved_tensor_bytes(3), TypeError, "'loss_fn' must be callable"),
    (lambda: saved_tensor_bytes(lambda: None, [1.0]), TypeError, "'exclude' must hold tensors"),
    (lambda: saved_tensor_bytes(lambda: None, [torch.empty(2, device="meta")]), ValueError, "meta"),
])
def test_bad_input(call, kind, match):
    with pytest.raises(kind, match=match):
        call()
