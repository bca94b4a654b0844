"""Probes for the regions of n2t.torch.{classic, inception, compact, summary} (see test_snippets.PROBES):
each builds a small module from the seed 0 and returns its output on fixed float64 images."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

X8 = torch.from_numpy(np.random.default_rng(0).standard_normal((2, 1, 8, 8)))
X16 = torch.from_numpy(np.random.default_rng(1).standard_normal((2, 16, 5, 5)))


def seeded(build):
    def probe(get):
        torch.manual_seed(0)
        return build(get)
    return probe


def output(module: nn.Module, x: torch.Tensor = X8) -> torch.Tensor:
    return module.double().eval()(x)


def full_size_count(builder, **kwargs) -> int:
    with torch.device("meta"):
        return sum(p.numel() for p in builder(**kwargs).parameters())


SMALL = {"num_classes": 10, "in_channels": 1, "small_input": True}


def tiny_net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 6, 3, padding=1, groups=2), nn.Flatten(),
                         nn.Linear(216, 5))


PROBES = {
    "n2t.torch.classic": {
        "AlexNet": seeded(lambda get: output(get("AlexNet")(**SMALL, width=1 / 16))),
        "vgg_block": seeded(lambda get: output(get("vgg_block")(2, 1, 3, batch_norm=True))),
        "VGG_CONFIGS": lambda get: get("VGG_CONFIGS"),
        "VGG": seeded(lambda get: output(get("VGG")("vgg11", **SMALL, width=1 / 32))),
        "nin_block": seeded(lambda get: output(get("nin_block")(1, 3, 3, 2, 1))),
        "NiN": seeded(lambda get: output(get("NiN")(**SMALL, width=1 / 16))),
    },
    "n2t.torch.inception": {
        "conv_bn": seeded(lambda get: output(get("conv_bn")(1, 3, (1, 3), padding=(0, 1)))),
        "Inception": seeded(lambda get: output(get("Inception")(1, 2, 2, 3, 2, 4, 5))),
        "GOOGLENET_STAGES": lambda get: get("GOOGLENET_STAGES"),
        "GoogLeNet": seeded(lambda get: output(get("GoogLeNet")(**SMALL, width=1 / 16))),
        "Concat": seeded(lambda get: output(get("Concat")([nn.Conv2d(1, 2, 1), nn.Conv2d(1, 3, 3, padding=1)]))),
        "avg_pool_branch": seeded(lambda get: output(get("avg_pool_branch")(1, 2))),
        "inception_a": seeded(lambda get: output(get("inception_a")(16, 8), X16)),
        "inception_c": seeded(lambda get: output(get("inception_c")(16, 8), X16)),
        "inception_e": seeded(lambda get: output(get("inception_e")(16), X16)),
        "reduction_b": seeded(lambda get: output(get("reduction_b")(16), X16)),
        "reduction_d": seeded(lambda get: output(get("reduction_d")(16), X16)),
    },
    "n2t.torch.compact": {
        "Fire": seeded(lambda get: output(get("Fire")(1, 2, 3, 4))),
        "SQUEEZENET_CONFIGS": lambda get: get("SQUEEZENET_CONFIGS"),
        "SqueezeNet": seeded(lambda get: output(get("SqueezeNet")("1.1", **SMALL, width=1 / 8))),
        "DenseLayer": seeded(lambda get: output(get("DenseLayer")(1, 3, 2))),
        "DenseBlock": seeded(lambda get: output(get("DenseBlock")(3, 1, 2, 2))),
        "transition": seeded(lambda get: output(get("transition")(1, 2))),
        "DenseNet": seeded(lambda get: output(get("DenseNet")(4, (2, 2), 8, 2, **SMALL))),
    },
    "n2t.torch.summary": {
        "count_parameters": lambda get: get("count_parameters")(tiny_net()),
        "model_size_mb": lambda get: get("model_size_mb")(tiny_net()),
        "count_weight_layers": lambda get: get("count_weight_layers")(tiny_net()),
        "forward_zeros": lambda get: get("forward_zeros")(tiny_net().double().train(), (2, 1, 8, 8)),
        "layer_row": lambda get: get("layer_row")("conv", nn.Conv2d(1, 2, 3), torch.zeros(4, 2, 6, 6)),
        "trace": lambda get: get("trace")(tiny_net(), (2, 1, 8, 8)),
        "conv_macs": lambda get: get("conv_macs")(nn.Conv2d(4, 6, 3, groups=2), torch.zeros(2, 6, 5, 7)),
        "linear_macs": lambda get: get("linear_macs")(nn.Linear(5, 3), torch.zeros(2, 4, 3)),
        "count_flops": lambda get: get("count_flops")(tiny_net(), (2, 1, 8, 8)),
    },
}
