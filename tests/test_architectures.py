"""Classic CNN architectures (n2t.torch.classic, .inception, .compact) and the model summary tools
(n2t.torch.summary): published parameter counts, shapes on the meta device, small variants that learn on
digits, building-block channel arithmetic, MAC counts against PyTorch's own FLOP counter, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from n2t.data import digits
from n2t.torch.classic import VGG, VGG_CONFIGS, AlexNet, NiN, nin_block, vgg11, vgg13, vgg16, vgg19, vgg_block
from n2t.torch.compact import (DenseBlock, DenseLayer, DenseNet, Fire, SqueezeNet, densenet121, squeezenet1_0,
                               squeezenet1_1, transition)
from n2t.torch.inception import GOOGLENET_STAGES, GoogLeNet, Inception, InceptionV3, inception_v3
from n2t.torch.summary import (conv_macs, count_flops, count_parameters, count_weight_layers, forward_zeros,
                               linear_macs, model_size_mb, render_table, trace, weight_depth)


def on_meta(builder, *args, **kwargs) -> nn.Module:
    with torch.device("meta"):
        return builder(*args, **kwargs)


# ---- full size: torchvision's published parameter counts ------------------------------------------
PUBLISHED = [  # torchvision model card counts (weights' "num_params")
    ("alexnet", AlexNet, {}, 61_100_840),
    ("vgg11", vgg11, {}, 132_863_336),
    ("vgg13", vgg13, {}, 133_047_848),
    ("vgg16", vgg16, {}, 138_357_544),
    ("vgg19", vgg19, {}, 143_667_240),
    ("vgg16_bn", vgg16, {"batch_norm": True}, 138_365_992),
    ("googlenet", GoogLeNet, {"wide_kernel": 3}, 6_624_904),
    ("inception_v3", inception_v3, {}, 27_161_264),
    ("inception_v3 without aux", inception_v3, {"aux_logits": False}, 23_834_568),
    ("squeezenet1_0", squeezenet1_0, {}, 1_248_424),
    ("squeezenet1_1", squeezenet1_1, {}, 1_235_496),
    ("densenet121", densenet121, {}, 7_978_856),
]


@pytest.mark.parametrize("name,builder,kwargs,expected", PUBLISHED, ids=[p[0] for p in PUBLISHED])
def test_parameter_count_equals_torchvision(name, builder, kwargs, expected):
    assert count_parameters(on_meta(builder, **kwargs)) == expected


def test_googlenet_with_the_papers_5x5_convs_adds_16_weights_per_channel_pair():
    extra = sum(c5_reduce * c5 * (5 * 5 - 3 * 3) for stage in GOOGLENET_STAGES for *_, c5_reduce, c5, _ in stage)
    assert count_parameters(on_meta(GoogLeNet)) == 6_624_904 + extra


def test_nin_parameter_count_follows_from_its_blocks():
    def block(c_in, c_out, k):  # a KxK conv and two 1x1 convs, all with biases
        return c_in * c_out * k * k + c_out + 2 * (c_out * c_out + c_out)

    expected = block(3, 96, 11) + block(96, 256, 5) + block(256, 384, 3) + block(384, 1000, 3)
    assert count_parameters(on_meta(NiN)) == expected


FULL_SIZE = [("alexnet", AlexNet, 224), ("vgg16", vgg16, 224), ("nin", NiN, 224), ("googlenet", GoogLeNet, 224),
             ("inception_v3", inception_v3, 299), ("squeezenet1_0", squeezenet1_0, 224),
             ("squeezenet1_1", squeezenet1_1, 224), ("densenet121", densenet121, 224)]


@pytest.mark.parametrize("name,builder,side", FULL_SIZE, ids=[f[0] for f in FULL_SIZE])
def test_full_size_output_shape_on_meta(name, builder, side):
    model = on_meta(builder).eval()
    out = model(torch.zeros(2, 3, side, side, device="meta"))
    assert out.shape == (2, 1000) and out.device.type == "meta"


def test_inception_v3_returns_auxiliary_logits_only_in_training():
    model = on_meta(inception_v3)
    logits, aux = model.train()(torch.zeros(2, 3, 299, 299, device="meta"))
    assert logits.shape == aux.shape == (2, 1000)
    assert model.eval()(torch.zeros(2, 3, 299, 299, device="meta")).shape == (2, 1000)


# ---- small variants learn on 8x8 digits ------------------------------------------------------------
SMALL = {"num_classes": 10, "in_channels": 1, "small_input": True}
SMALL_VARIANTS = [
    ("alexnet", lambda: AlexNet(**SMALL, width=1 / 16, dropout=0.0), False),
    ("vgg11", lambda: VGG("vgg11", **SMALL, width=1 / 16, dropout=0.0), False),
    ("vgg16_bn", lambda: VGG("vgg16", **SMALL, width=1 / 16, dropout=0.0, batch_norm=True), True),
    ("nin", lambda: NiN(**SMALL, width=1 / 8, dropout=0.0), False),
    ("googlenet", lambda: GoogLeNet(**SMALL, width=1 / 16, dropout=0.0), True),
    ("squeezenet1_0", lambda: SqueezeNet("1.0", **SMALL, width=1 / 4, dropout=0.0), False),
    ("squeezenet1_1", lambda: SqueezeNet("1.1", **SMALL, width=1 / 4, dropout=0.0), False),
    ("densenet", lambda: DenseNet(8, (2, 2, 2), 16, 2, **SMALL), True),
]


@pytest.fixture(scope="module")
def digit_batch():
    x, _, y, _ = digits()
    return torch.tensor(x[:48], dtype=torch.float32).reshape(-1, 1, 8, 8), torch.tensor(y[:48])


@pytest.mark.parametrize("name,build,batch_norm", SMALL_VARIANTS, ids=[s[0] for s in SMALL_VARIANTS])
def test_small_variant_loss_falls_on_digits(name, build, batch_norm, digit_batch):
    x, y = digit_batch
    torch.manual_seed(0)
    model = build()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    with torch.no_grad():
        before = F.cross_entropy(model(x), y).item()
    for _ in range(10):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    with torch.no_grad():
        after = F.cross_entropy(model(x), y).item()
    assert after < before
    if batch_norm:  # these learn fast: the loss drops by more than a quarter in 10 steps
        assert after < 0.75 * before


def test_small_inception_v3_runs_forward_and_backward_on_digits(digit_batch):
    torch.manual_seed(0)
    model = InceptionV3(**SMALL, aux_logits=False, dropout=0.0)
    loss = F.cross_entropy(model(digit_batch[0][:4]), digit_batch[1][:4])
    loss.backward()
    assert torch.isfinite(loss) and model.head[-1].weight.grad.abs().sum() > 0


@pytest.mark.gpu
def test_small_variants_run_on_cuda(digit_batch):
    for _, build, _ in SMALL_VARIANTS:
        model = build().cuda()
        assert model(digit_batch[0][:4].cuda()).shape == (4, 10)


# ---- building blocks: channel arithmetic ---------------------------------------------------------
sizes = st.integers(1, 6)


@settings(max_examples=10, deadline=None)
@given(c_in=sizes, squeeze=sizes, e1=sizes, e3=sizes, h=st.integers(1, 7), w=st.integers(1, 7))
def test_fire_outputs_expand1x1_plus_expand3x3_channels(c_in, squeeze, e1, e3, h, w):
    assert Fire(c_in, squeeze, e1, e3)(torch.randn(2, c_in, h, w)).shape == (2, e1 + e3, h, w)


@settings(max_examples=10, deadline=None)
@given(c_in=sizes, c=st.lists(sizes, min_size=6, max_size=6), h=st.integers(1, 7), kernel=st.sampled_from([3, 5]))
def test_inception_module_keeps_hw_and_adds_branch_channels(c_in, c, h, kernel):
    module = Inception(c_in, *c, wide_kernel=kernel)
    assert module(torch.randn(2, c_in, h, h + 1)).shape == (2, c[0] + c[2] + c[4] + c[5], h, h + 1)


@settings(max_examples=10, deadline=None)
@given(layers=st.integers(1, 4), c_in=sizes, growth=sizes, bn_size=st.integers(1, 4), h=st.integers(2, 7))
def test_dense_block_grows_by_growth_rate_per_layer(layers, c_in, growth, bn_size, h):
    x = torch.randn(2, c_in, h, h)
    out = DenseBlock(layers, c_in, growth, bn_size)(x)
    assert out.shape == (2, c_in + layers * growth, h, h)
    torch.testing.assert_close(out[:, :c_in], x)  # the block's input is passed on unchanged
    assert transition(c_in, 3)(x).shape == (2, 3, h // 2, h // 2)


def test_dense_layer_and_transition_of_densenet121_sizes():
    assert DenseLayer(64, 32)(torch.randn(1, 64, 5, 5)).shape == (1, 32, 5, 5)
    assert count_parameters(DenseLayer(64, 32)) == 2 * 64 + 64 * 128 + 2 * 128 + 128 * 32 * 9


@settings(max_examples=10, deadline=None)
@given(convs=st.integers(1, 3), c_in=sizes, c_out=sizes, h=st.integers(2, 9))
def test_vgg_block_halves_hw(convs, c_in, c_out, h):
    assert vgg_block(convs, c_in, c_out)(torch.randn(1, c_in, h, h)).shape == (1, c_out, h // 2, h // 2)


def test_nin_block_shape_and_layers():
    block = nin_block(3, 8, 11, stride=4)
    assert block(torch.randn(1, 3, 224, 224)).shape == (1, 8, 54, 54)
    assert [m.kernel_size for m in block if isinstance(m, nn.Conv2d)] == [(11, 11), (1, 1), (1, 1)]


def test_vgg_configs_have_the_papers_conv_counts():
    assert {name: sum(n for n, _ in config) + 3 for name, config in VGG_CONFIGS.items()} == {
        "vgg11": 11, "vgg13": 13, "vgg16": 16, "vgg19": 19}


# ---- summary: MACs, trace, depth, size, table ----------------------------------------------------
def pytorch_flops(model: nn.Module, shape) -> int:
    mode = FlopCounterMode(display=False)
    with mode, torch.no_grad():
        model.eval()(torch.zeros(shape, device=next(model.parameters()).device))
    return mode.get_total_flops()


@settings(max_examples=12, deadline=None)
@given(groups=st.sampled_from([1, 2, 3]), per_group=st.integers(1, 3), c_out_per_group=st.integers(1, 3),
       kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)), stride=st.integers(1, 3), h=st.integers(5, 9))
def test_conv_macs_equal_half_of_pytorch_flop_counter(groups, per_group, c_out_per_group, kernel, stride, h):
    conv = nn.Conv2d(groups * per_group, groups * c_out_per_group, kernel, stride=stride, groups=groups)
    shape = (2, groups * per_group, h, h + 2)
    out = conv(torch.zeros(shape))
    macs = out.numel() * per_group * kernel[0] * kernel[1]
    assert conv_macs(conv, out) == count_flops(conv, shape) == macs == pytorch_flops(conv, shape) // 2


def test_linear_macs_formula():
    layer = nn.Linear(7, 5)
    assert linear_macs(layer, torch.zeros(3, 5)) == 3 * 5 * 7
    assert count_flops(nn.Sequential(nn.Flatten(), layer), (3, 7, 1, 1)) == 105


@pytest.mark.parametrize("builder", [AlexNet, squeezenet1_1, GoogLeNet])
def test_count_flops_matches_pytorch_flop_counter_on_full_models(builder):
    model = on_meta(builder)
    assert 2 * count_flops(model, (2, 3, 224, 224)) == pytorch_flops(model, (2, 3, 224, 224))


@pytest.mark.parametrize("builder,reference", [(AlexNet, 0.714e9), (vgg16, 15.5e9)])
def test_macs_close_to_published_references(builder, reference):
    assert count_flops(on_meta(builder), (1, 3, 224, 224)) == pytest.approx(reference, rel=0.02)


def test_weight_depth_is_the_number_in_the_name():
    assert weight_depth(on_meta(vgg16), (1, 3, 224, 224)) == 16
    assert weight_depth(on_meta(GoogLeNet), (1, 3, 224, 224)) == 22  # 58 conv/linear layers side by side
    assert count_weight_layers(on_meta(GoogLeNet)) == 58
    assert weight_depth(on_meta(densenet121), (1, 3, 224, 224)) == 121


def test_weight_depth_takes_the_longest_branch():
    model = nn.Sequential(nn.Conv2d(1, 2, 1), Fire(2, 2, 2, 2), nn.Flatten(), nn.Linear(4 * 9, 3))
    assert weight_depth(model, (1, 1, 3, 3)) == 4 and count_weight_layers(model) == 5


def test_weight_depth_needs_a_single_tensor_output():
    with pytest.raises(TypeError, match="weight_depth: argument 'model' must return one tensor .*; got tuple"):
        weight_depth(TwoOutputs(), (1, 1, 2, 2))


class TwoOutputs(nn.Module):
    def forward(self, x):
        return x, x


def test_trace_rows_follow_alexnet_layer_by_layer():
    model = on_meta(AlexNet)
    rows = trace(model, (1, 3, 224, 224))
    assert [r["output_shape"] for r in rows if r["type"] == "Conv2d"] == [
        (1, 64, 55, 55), (1, 192, 27, 27), (1, 384, 13, 13), (1, 256, 13, 13), (1, 256, 13, 13)]
    assert rows[0] == {"name": "features.0", "type": "Conv2d", "output_shape": (1, 64, 55, 55),
                       "parameters": 3 * 64 * 11 * 11 + 64}
    assert rows[-1]["output_shape"] == (1, 1000)
    assert sum(r["parameters"] for r in rows) == count_parameters(model)
    assert model.training and not any(m._forward_hooks for m in model.modules())  # mode and hooks restored


def test_forward_zeros_uses_the_models_dtype_and_restores_its_mode():
    model = nn.Sequential(nn.Linear(4, 3)).double().train()
    out = forward_zeros(model, (2, 4))
    assert out.dtype == torch.float64 and model.training
    torch.testing.assert_close(out, model[0].bias.detach().expand(2, 3))


def test_model_size_is_float32_bytes_in_mib():
    model = nn.Linear(1024, 256)
    state_bytes = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    assert model_size_mb(model) == state_bytes / 2**20 == pytest.approx(1.0009765625)
    assert model_size_mb(on_meta(squeezenet1_0)) == pytest.approx(4.76, abs=0.005)


def test_render_table_markdown_and_html():
    rows = [{"model": "a<b", "parameters": 1234567, "MiB": 4.7623}, {"model": "c", "parameters": 5, "MiB": 1.0}]
    markdown = render_table(rows, formats={"parameters": ",d", "MiB": ".2f"})
    assert markdown.splitlines() == ["| model | parameters | MiB |", "| --- | ---: | ---: |",
                                     "| a<b | 1,234,567 | 4.76 |", "| c | 5 | 1.00 |"]
    html = render_table(rows, columns=["model"], fmt="html")
    assert "<td>a&lt;b</td>" in html and "parameters" not in html and html.count("<tr>") == 3


# ---- bad input -----------------------------------------------------------------------------------
ARCHITECTURES = [AlexNet, VGG, NiN, GoogLeNet, InceptionV3, SqueezeNet, DenseNet]


@pytest.mark.parametrize("cls", ARCHITECTURES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name,value", [("in_channels", 0), ("in_channels", -1), ("num_classes", 0),
                                        ("in_channels", 2.0)])
def test_non_positive_sizes_are_rejected(cls, name, value):
    with pytest.raises(ValueError, match=f"{cls.__name__}: argument '{name}' must be an int >= 1; got {value}"):
        cls(**{name: value})


@pytest.mark.parametrize("cls", [AlexNet, VGG, NiN, GoogLeNet, SqueezeNet], ids=lambda c: c.__name__)
def test_width_that_leaves_a_layer_without_channels_is_rejected(cls):
    with pytest.raises(ValueError, match="argument 'width' must be a number >= 1/"):
        cls(width=1 / 200)
    with pytest.raises(ValueError, match="argument 'dropout' must be a probability"):
        cls(dropout=1.0)
    with pytest.raises(TypeError, match="argument 'small_input' must be a bool"):
        cls(small_input="yes")


def test_unknown_configuration_names_are_rejected():
    with pytest.raises(ValueError, match=r"VGG: argument 'config' must be one of \['vgg11', .*got 'vgg17'"):
        VGG("vgg17")
    with pytest.raises(ValueError, match=r"SqueezeNet: argument 'version' must be one of \['1.0', '1.1'\]; got '2.0'"):
        SqueezeNet("2.0")
    with pytest.raises(ValueError, match="GoogLeNet: argument 'wide_kernel' must be 5 .* or 3 .*; got 7"):
        GoogLeNet(wide_kernel=7)
    with pytest.raises(ValueError, match="InceptionV3: argument 'aux_logits' must be False when small_input=True"):
        InceptionV3(small_input=True)


@pytest.mark.parametrize("config,match", [((), "non-empty tuple"), ((6, 0), "'block_config' must be an int >= 1"),
                                          ([6, 1.5], "'block_config' must be an int >= 1")])
def test_densenet_bad_block_config(config, match):
    with pytest.raises(ValueError, match=match):
        DenseNet(block_config=config)
    with pytest.raises(ValueError, match="DenseNet: argument 'growth_rate' must be an int >= 1; got 0"):
        DenseNet(growth_rate=0)


def test_forward_checks_the_images():
    model = on_meta(AlexNet)
    with pytest.raises(ValueError, match=r"AlexNet: argument 'x' must have shape \(N, 3, H, W\); got \(2, 1, 224, 2"):
        model(torch.zeros(2, 1, 224, 224, device="meta"))
    with pytest.raises(ValueError, match=r"got \(3, 224, 224\)"):
        model(torch.zeros(3, 224, 224, device="meta"))
    with pytest.raises(TypeError, match="AlexNet: argument 'x' must be a floating-point torch.Tensor; got torch.int64"):
        model(torch.zeros(2, 3, 224, 224, dtype=torch.long, device="meta"))
    with pytest.raises(TypeError, match="got ndarray"):
        model(np.zeros((2, 3, 224, 224), dtype=np.float32))


@pytest.mark.parametrize("fn", [trace, count_flops, weight_depth])
@pytest.mark.parametrize("shape", [(3, 224, 224), (1, 3, 224), [1, 3, 224, 0], (1, 3, 224.0, 224), "1x3"])
def test_summaries_need_an_nchw_input_shape(fn, shape):
    with pytest.raises(ValueError, match=rf"{fn.__name__}: argument 'input_shape' must be 4 positive ints \(N, C"):
        fn(nn.Conv2d(3, 1, 1), shape)


@pytest.mark.parametrize("shape", [(), (2, 0), (2, 4.0), "2x4", (2, True)])
def test_forward_zeros_needs_positive_ints(shape):
    with pytest.raises(ValueError, match="forward_zeros: argument 'input_shape' must be some positive ints"):
        forward_zeros(nn.Linear(4, 3), shape)


@pytest.mark.parametrize("fn", [count_parameters, model_size_mb, count_weight_layers])
def test_summaries_need_a_module(fn):
    with pytest.raises(TypeError, match=f"{fn.__name__}: argument 'model' must be a torch.nn.Module; got list"):
        fn([nn.Linear(2, 2)])
    with pytest.raises(TypeError, match="trace: argument 'model' must be a torch.nn.Module; got type"):
        trace(AlexNet, (1, 3, 224, 224))


def test_render_table_bad_input():
    with pytest.raises(ValueError, match="render_table: argument 'fmt' must be 'markdown' or 'html'; got 'csv'"):
        render_table([{"a": 1}], fmt="csv")
    with pytest.raises(ValueError, match="argument 'rows' must hold at least one row"):
        render_table([])
    with pytest.raises(ValueError, match=r"argument 'columns' names keys missing from some rows: \['b'\]"):
        render_table([{"a": 1, "b": 2}, {"a": 3}])


def test_published_counts_are_consistent_with_size_in_mib():
    """The 'SqueezeNet 4.9 MB vs Inception 100 MB' claim: Inception-v3 is ~100 MiB, GoogLeNet (v1) ~25."""
    sizes = {b.__name__: model_size_mb(on_meta(b)) for b in (squeezenet1_0, inception_v3, GoogLeNet)}
    assert sizes["squeezenet1_0"] < 5 and 95 < sizes["inception_v3"] < 110 and sizes["GoogLeNet"] < 30
    assert math.isclose(sizes["inception_v3"], 27_161_264 * 4 / 2**20)
