"""Probes for the regions of the convolution chapter's own modules (see test_snippets.PROBES)."""

from __future__ import annotations

import numpy as np
import torch

IMAGES = np.random.default_rng(10).standard_normal((2, 4, 7, 6))
KERNELS = np.random.default_rng(11).standard_normal((6, 2, 3, 2))
BIAS = np.random.default_rng(12).standard_normal(6)
SIGNAL, TAPS = np.random.default_rng(13).standard_normal(9), np.array([1.0, -2.0, 0.5])
DIGITS = np.random.default_rng(14).uniform(0, 1, (3, 1, 8, 8))
CONV = {"stride": (2, 1), "padding": 1, "dilation": (1, 2), "groups": 2}


def conv_pair(get):
    out, cache = get("conv2d_forward")(IMAGES, KERNELS, BIAS, **CONV)
    return out, get("conv2d_backward")(out * 0.5, cache)


def transpose_probe(get):
    return get("conv_transpose2d_forward")(IMAGES, KERNELS[:4], None, 2, 1, 1)[0]


def pool_pair(kind):
    def probe(get):
        out, cache = get(f"{kind}_pool2d_forward")(IMAGES, 3, 2, 1)
        return out, get(f"{kind}_pool2d_backward")(out * 0.5, cache)
    return probe


def numpy_lenet_probe(get):
    model = get("lenet")(rng=np.random.default_rng(0)).eval()
    return model.forward(DIGITS)


def residual_probe(get):
    block = get("ResidualBlock")(4, 6, stride=2, rng=np.random.default_rng(0))
    out = block.forward(IMAGES)
    return out, block.backward(out * 0.5)


def seeded(build):
    def probe(get):
        torch.manual_seed(0)
        return build(get)
    return probe


T_IMAGES, T_KERNELS, T_BIAS = (torch.from_numpy(a) for a in (IMAGES, KERNELS, BIAS))

PROBES = {
    "n2t.numpy.conv": {
        "_as_pair": lambda get: [get("_as_pair")(3), get("_as_pair")((2, 5))],
        "conv_output_size": lambda get: get("conv_output_size")(32, 5, 2, 2, 2),
        "conv1d": lambda get: [get("conv1d")(SIGNAL, TAPS, mode) for mode in ("narrow", "wide", "same")],
        "_windows": lambda get: get("_windows")(IMAGES, (3, 2), (2, 1), (1, 2)),
        "conv2d_forward": lambda get: get("conv2d_forward")(IMAGES, KERNELS, BIAS, **CONV)[0],
        "_col2im": lambda get: get("_col2im")(np.ones((1, 2, 2, 2, 3, 3)), (1, 2, 4, 4), (1, 1), (0, 0), (1, 1)),
        "conv2d_backward": conv_pair,
        "conv_transpose2d_forward": transpose_probe,
    },
    "n2t.numpy.pooling": {
        "_pool_slices": lambda get: [str(s) for s in get("_pool_slices")((1, 1, 5, 5), (2, 2), (2, 1))],
        "_pool_args": lambda get: get("_pool_args")(3, None, (1, 0)),
        "max_pool2d_forward": lambda get: get("max_pool2d_forward")(IMAGES, 2)[0],
        "max_pool2d_backward": pool_pair("max"),
        "avg_pool2d_forward": lambda get: get("avg_pool2d_forward")(IMAGES, 2)[0],
        "avg_pool2d_backward": pool_pair("avg"),
    },
    "n2t.numpy.lenet": {
        "lenet": numpy_lenet_probe,
        "random_shift": lambda get: get("random_shift")(DIGITS, np.random.default_rng(0)),
    },
    "n2t.numpy.residual": {"ResidualBlock": residual_probe},
    "n2t.torch.conv": {
        "_pair": lambda get: [get("_pair")(3), get("_pair")((2, 5))],
        "conv2d": lambda get: get("conv2d")(T_IMAGES, T_KERNELS, T_BIAS, **CONV),
        "Conv2d": seeded(lambda get: get("Conv2d")(4, 6, 3, padding=1, groups=2).double()(T_IMAGES)),
        "_windows": lambda get: get("_windows")(T_IMAGES, 3, 2, 1, -1.0),
        "max_pool2d": lambda get: get("max_pool2d")(T_IMAGES, 3, 2, 1),
        "avg_pool2d": lambda get: get("avg_pool2d")(T_IMAGES, 3, 2, 1),
    },
    "n2t.torch.lenet": {
        "lenet": seeded(lambda get: get("lenet")().double().eval()(torch.from_numpy(DIGITS))),
        "random_shift": lambda get: get("random_shift")(torch.from_numpy(DIGITS), torch.Generator().manual_seed(0)),
    },
}
