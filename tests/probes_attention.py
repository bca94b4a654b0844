"""Probes for the regions of the NumPy attention chapter's modules (see test_snippets.PROBES)."""

from __future__ import annotations

import numpy as np

RNG = np.random.default_rng(30)
Q, K, V = RNG.standard_normal((2, 3, 4, 6)), RNG.standard_normal((2, 3, 5, 6)), RNG.standard_normal((2, 3, 5, 2))
MASK = RNG.random((2, 1, 4, 5)) > 0.3
MASK[..., 0] = True
X = RNG.standard_normal((2, 4, 6))
MEMORY = RNG.standard_normal((2, 5, 6))
W_IN, B_IN = RNG.standard_normal((18, 6)), RNG.standard_normal(18)
W_OUT, B_OUT = RNG.standard_normal((6, 6)), RNG.standard_normal(6)
GAMMA, BETA = RNG.standard_normal(6), RNG.standard_normal(6)


def sdpa_pair(get):
    out, cache = get("scaled_dot_product_attention_forward")(Q, K, V, MASK)
    return out, get("scaled_dot_product_attention_backward")(out * 0.5, cache)


def mha_pair(get):
    out, cache = get("multi_head_attention_forward")(X, MEMORY, MEMORY, W_IN, B_IN, W_OUT, B_OUT, 3)
    return out, get("multi_head_attention_backward")(out * 0.5, cache)


def layernorm_pair(get):
    out, cache = get("layernorm_forward")(X, GAMMA, BETA)
    return out, get("layernorm_backward")(out * 0.5, cache)


def rotary_pair(get):
    out, cache = get("rotary_embedding")(X)
    return out, get("rotary_embedding_backward")(out * 0.5, cache)


def pair_for(names, probe):
    return {name: probe for name in names}


PROBES = {
    "n2t.numpy.attention": {
        "masked_softmax": lambda get: get("masked_softmax")(Q[..., :5], MASK),
        **pair_for(("scaled_dot_product_attention_forward", "scaled_dot_product_attention_backward"), sdpa_pair),
        "causal_mask": lambda get: get("causal_mask")(4),
        "padding_mask": lambda get: get("padding_mask")(np.array([2, 4]), 5),
        "additive_attention_scores": lambda get: get("additive_attention_scores")(
            X, MEMORY, W_IN[:7], W_IN[7:14], B_IN[:7]),
    },
    "n2t.numpy.multihead": {
        "split_heads": lambda get: get("split_heads")(X, 3),
        "merge_heads": lambda get: get("merge_heads")(Q),
        **pair_for(("multi_head_attention_forward", "multi_head_attention_backward"), mha_pair),
    },
    "n2t.numpy.layernorm": pair_for(("layernorm_forward", "layernorm_backward"), layernorm_pair),
    "n2t.numpy.positional": {
        "sinusoidal_encoding": lambda get: get("sinusoidal_encoding")(7, 6),
        **pair_for(("rotary_embedding", "rotary_embedding_backward"), rotary_pair),
    },
}
