"""Probes for the regions of ``n2t.torch.attention``, ``transformer``, ``vit`` and ``bert`` (see
test_snippets.PROBES): each builds the object with a fixed seed, runs it forward and backward, and returns
tensors that must match exactly between the pasted region and the package."""

from __future__ import annotations

import torch


def fixed(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


X = fixed(2, 5, 8, seed=30)  # (N, T, E)
MEMORY = fixed(2, 6, 8, seed=31)  # (N, S, E)
PAD = torch.tensor([[[True] * 6], [[True] * 3 + [False] * 3]])  # (N, 1, S)
CAUSAL = torch.ones(5, 5, dtype=torch.bool).tril()
SRC = torch.tensor([[3, 4, 5, 6, 7, 2], [5, 4, 3, 2, 0, 0]])
TGT = torch.tensor([[1, 3, 4, 5], [1, 5, 4, 3]])
IMAGES = fixed(2, 3, 8, 8, seed=32)


def with_grads(module: torch.nn.Module, output: torch.Tensor) -> list[torch.Tensor]:
    """The output and the gradient of every parameter for a fixed upstream gradient."""
    (output * torch.linspace(-1, 1, output.numel(), dtype=output.dtype).view(output.shape)).sum().backward()
    return [output.detach()] + [p.grad for p in module.parameters() if p.grad is not None]


def module_probe(name: str, args: tuple, call, double: bool = True):
    def probe(get):
        torch.manual_seed(0)
        module = get(name)(*args)
        module = module.double() if double else module
        return with_grads(module, call(module))
    return probe


def sdpa_probe(get):
    q, k, v = X.clone().requires_grad_(), MEMORY.clone().requires_grad_(), (MEMORY * 2).requires_grad_()
    out, weights = get("scaled_dot_product_attention")(q, k, v, PAD)
    out.sum().backward()
    return [out.detach(), weights, q.grad, k.grad, v.grad]


def layer_base_probe(get):
    layer = get("_Layer")()
    results = []
    for norm_first in (False, True):
        layer.norm_first = norm_first
        results.append(layer._residual(X, lambda h: h * h.mean(), lambda h: torch.tanh(h)))
    return results


def stack_probe(name: str):
    def probe(get):
        torch.manual_seed(0)
        if name == "TransformerEncoder":
            stack = get(name)(get("TransformerEncoderLayer")(8, 2, 16, 0.0, norm_first=True), 2,
                              get("LayerNorm")(8)).double()
            return with_grads(stack, stack(X, CAUSAL))
        stack = get(name)(get("TransformerDecoderLayer")(8, 2, 16, 0.0), 2).double()
        return with_grads(stack, stack(X, MEMORY, CAUSAL, PAD))
    return probe


def transformer_probe(get):
    torch.manual_seed(0)
    model = get("Transformer")(8, 9, d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=2,
                               dim_feedforward=16, dropout=0.0).double()
    return with_grads(model, model(SRC, TGT, PAD)) + [model.greedy_decode(SRC, 1, 4, PAD)]


def decoder_lm_probe(get):
    torch.manual_seed(0)
    model = get("DecoderLM")(9, d_model=8, nhead=2, num_layers=2, dim_feedforward=16, max_len=6, dropout=0.0).double()
    grads = with_grads(model, model(SRC))
    sample = model.generate(TGT, 5, 0.7, torch.Generator().manual_seed(1))
    return grads + [sample, model.generate(TGT, 3, 0)]


def mask_tokens_probe(get):
    tokens = torch.randint(4, 50, (6, 20), generator=torch.Generator().manual_seed(2))
    tokens[:, 0] = 1
    return list(get("mask_tokens")(tokens, 3, 50, 0.4, (0, 1), torch.Generator().manual_seed(3)))


def masked_lm_probe(get):
    torch.manual_seed(0)
    model = get("MaskedLM")(9, d_model=8, nhead=2, num_layers=1, dim_feedforward=16, max_len=6, num_classes=3,
                            dropout=0.0).double()
    mask = PAD[:, :, :6]
    return with_grads(model, model(SRC, mask)) + [model.classify(SRC, mask)]


PROBES = {
    "n2t.torch.attention": {
        "scaled_dot_product_attention": sdpa_probe,
        "causal_mask": lambda get: get("causal_mask")(4),
        "padding_mask": lambda get: get("padding_mask")(torch.tensor([1, 3, 2]), 4),
        "MultiHeadAttention": module_probe("MultiHeadAttention", (8, 2), lambda m: m(X, MEMORY, MEMORY, PAD)),
        "AdditiveAttention": module_probe("AdditiveAttention", (8, 8, 5), lambda m: m(X, MEMORY, MEMORY * 2, PAD)),
    },
    "n2t.torch.transformer": {
        "LayerNorm": module_probe("LayerNorm", (8,), lambda m: m(X * 3)),
        "ACTIVATIONS": lambda get: sorted(get("ACTIVATIONS")),
        "FeedForward": module_probe("FeedForward", (8, 16, 0.0, "gelu"), lambda m: m(X)),
        "_Layer": layer_base_probe,
        "TransformerEncoderLayer": module_probe("TransformerEncoderLayer", (8, 2, 16, 0.0, "gelu", 1e-5, True),
                                                lambda m: m(X, CAUSAL)),
        "TransformerDecoderLayer": module_probe("TransformerDecoderLayer", (8, 2, 16, 0.0),
                                                lambda m: m(X, MEMORY, CAUSAL, PAD)),
        "TransformerEncoder": stack_probe("TransformerEncoder"),
        "TransformerDecoder": stack_probe("TransformerDecoder"),
        "SinusoidalEncoding": lambda get: get("SinusoidalEncoding")(8)(X),
        "Transformer": transformer_probe,
        "DecoderLM": decoder_lm_probe,
    },
    "n2t.torch.vit": {
        "PatchEmbedding": module_probe("PatchEmbedding", (8, 4, 3, 8), lambda m: m(IMAGES)),
        "ViT": module_probe("ViT", (8, 4, 3, 5, 8, 2, 2, 16), lambda m: m(IMAGES)),
    },
    "n2t.torch.bert": {
        "mask_tokens": mask_tokens_probe,
        "MaskedLM": masked_lm_probe,
    },
}
