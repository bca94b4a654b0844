"""Probes for the regions of n2t.torch.resnet: each builds with torch.manual_seed(0) and runs float64 inputs."""

from __future__ import annotations

import torch

X8 = torch.randn(2, 1, 8, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
X16 = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
X_BLOCK = torch.randn(2, 8, 5, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
X_FEATURES = torch.randn(6, 5, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
LABELS = torch.tensor([3, 1])


def seeded(build):
    def probe(get):
        torch.manual_seed(0)
        return build(get)
    return probe


def small(builder, **kwargs):
    """A builder at digits size: one input channel, small-input stem, 3 classes."""
    return seeded(lambda get: get(builder)(in_channels=1, num_classes=3, small_input=True, **kwargs).double()(X8))


PROBES = {
    "n2t.torch.resnet": {
        "PaddedIdentity": lambda get: get("PaddedIdentity")(8, 12, 2)(X_BLOCK),
        "make_shortcut": seeded(lambda get: tuple(
            get("make_shortcut")(8, channels, stride, option).double()(X_BLOCK)
            for channels, stride, option in ((8, 1, "B"), (16, 2, "B"), (16, 2, "A"), (8, 1, "C")))),
        "BasicBlock": seeded(lambda get: tuple(
            get("BasicBlock")(8, channels, stride, shortcut=option).double()(X_BLOCK)
            for channels, stride, option in ((8, 1, "B"), (16, 2, "B"), (16, 2, "A"), (8, 1, "none")))),
        "Bottleneck": seeded(lambda get: tuple(
            get("Bottleneck")(8, 4, stride, groups, base_width).double()(X_BLOCK)
            for stride, groups, base_width in ((1, 1, 64), (2, 4, 32)))),
        "init_weights": seeded(lambda get: (lambda block: (get("init_weights")(block, zero_init_residual=True),
                                                           block.conv1.weight, block.bn2.weight, block(X_BLOCK)))(
            get("BasicBlock")(8, 8).double())),
        "ResNet": seeded(lambda get: (
            get("ResNet")(get("BasicBlock"), [1, 1, 1, 1], num_classes=3, in_channels=1, small_input=True,
                          base_channels=4).double()(X8),
            get("ResNet")(get("Bottleneck"), [1, 2, 1, 1], num_classes=4, groups=2, base_channels=4,
                          shortcut="A").double()(X16))),
        "DEPTHS": lambda get: get("DEPTHS"),
        "resnet": seeded(lambda get: get("resnet")(34, in_channels=1, num_classes=3, small_input=True,
                                                   base_channels=4).double()(X8)),
        "resnet18": small("resnet18", base_channels=4),
        "resnet34": small("resnet34", base_channels=4),
        "resnet50": small("resnet50", base_channels=4),
        "resnet101": small("resnet101", base_channels=4),
        "resnet152": small("resnet152", base_channels=4),
        "resnext50_32x4d": small("resnext50_32x4d", base_channels=16),
        "conv_stack": seeded(lambda get: (get("conv_stack")(8, 4).double()(X8),
                                          get("conv_stack")(8, 4, residual=False).double()(X8),
                                          get("conv_stack")(6, 4, stages=2, num_classes=3).double()(X8))),
        "weight_gradient_norms": seeded(lambda get: get("weight_gradient_norms")(
            get("conv_stack")(8, 4).double(), X8, LABELS)),
        "Highway": seeded(lambda get: get("Highway")(5).double()(X_FEATURES)),
    },
}
