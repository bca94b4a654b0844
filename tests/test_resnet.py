"""ResNet / ResNeXt: torchvision's parameter counts, shapes, shortcuts, learning on digits, bad input."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from n2t.data import digits
from n2t.torch.resnet import (
    BasicBlock,
    Bottleneck,
    Highway,
    PaddedIdentity,
    ResNet,
    conv_stack,
    init_weights,
    make_shortcut,
    resnet,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    resnext50_32x4d,
    weight_gradient_norms,
)

# torchvision.models: published parameter counts of the ImageNet models (1000 classes, 224x224 RGB).
PUBLISHED = {
    resnet18: 11_689_512,
    resnet34: 21_797_672,
    resnet50: 25_557_032,
    resnet101: 44_549_160,
    resnet152: 60_192_808,
    resnext50_32x4d: 25_028_904,
}


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def images(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("builder", PUBLISHED, ids=lambda b: b.__name__)
def test_parameter_count_equals_torchvision(builder):
    with torch.device("meta"):
        model = builder()
    assert count(model) == PUBLISHED[builder]


@pytest.mark.parametrize("depth,builder", [(18, resnet18), (50, resnet50), (152, resnet152)])
def test_resnet_by_depth_is_the_named_builder(depth, builder):
    with torch.device("meta"):
        assert count(resnet(depth)) == count(builder())


@pytest.mark.parametrize("builder,channels", [(resnet18, 512), (resnet50, 2048), (resnext50_32x4d, 2048)])
def test_stage_shapes_at_224(builder, channels):
    with torch.device("meta"):
        model, x = builder(), torch.empty(2, 3, 224, 224)
        stem = model.maxpool(F.relu(model.bn1(model.conv1(x))))
        shapes = [tuple(stem.shape)]
        for stage in (model.layer1, model.layer2, model.layer3, model.layer4):
            stem = stage(stem)
            shapes.append(tuple(stem.shape))
        logits = model(x)
    expansion = channels // 512
    assert shapes == [(2, 64, 56, 56), (2, 64 * expansion, 56, 56), (2, 128 * expansion, 28, 28),
                      (2, 256 * expansion, 14, 14), (2, 512 * expansion, 7, 7)]
    assert logits.shape == (2, 1000)


def test_in_channels_and_num_classes_reach_the_first_and_last_layers():
    with torch.device("meta"):
        model = resnet50(in_channels=1, num_classes=7)
        assert model(torch.empty(3, 1, 64, 64)).shape == (3, 7)
    assert model.conv1.weight.shape == (64, 1, 7, 7) and model.fc.weight.shape == (7, 2048)


def test_small_input_keeps_8x8_until_the_first_stride():
    model = resnet18(in_channels=1, num_classes=10, small_input=True, base_channels=4)
    assert isinstance(model.maxpool, nn.Identity) and model.conv1.kernel_size == (3, 3)
    assert model.conv1.stride == (1, 1)
    assert model.layer1(model.conv1(images(2, 1, 8, 8))).shape == (2, 4, 8, 8)
    assert model(images(2, 1, 8, 8)).shape == (2, 10)


@pytest.mark.parametrize("block,args", [(BasicBlock, (16, 16)), (Bottleneck, (64, 16)),
                                        (Bottleneck, (64, 16, 1, 4, 16))])
def test_identity_shortcut_is_identity(block, args):
    torch.manual_seed(0)
    unit = block(*args)
    assert isinstance(unit.shortcut, nn.Identity)
    init_weights(unit, zero_init_residual=True)  # F(x) = 0: the last batch norm outputs β = 0
    x = images(4, 16 if block is BasicBlock else 64, 6, 6)
    assert torch.equal(unit(x), F.relu(x))


def test_without_zero_init_the_block_adds_a_nonzero_residual():
    torch.manual_seed(0)
    unit = BasicBlock(16, 16)
    x = images(4, 16, 6, 6)
    assert not torch.allclose(unit(x), F.relu(x), atol=1e-3)


@pytest.mark.parametrize("in_channels,out_channels,stride,projects", [
    (16, 16, 1, False), (16, 32, 1, True), (16, 16, 2, True), (16, 32, 2, True)])
def test_projection_exactly_when_the_shape_changes(in_channels, out_channels, stride, projects):
    shortcut = make_shortcut(in_channels, out_channels, stride, "B")
    if not projects:
        assert isinstance(shortcut, nn.Identity)
        return
    assert isinstance(shortcut, nn.Sequential)
    conv, norm = shortcut
    assert isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d)
    assert conv.kernel_size == (1, 1) and conv.stride == (stride, stride) and conv.bias is None
    assert conv.weight.shape == (out_channels, in_channels, 1, 1)


@pytest.mark.parametrize("builder,stages", [(resnet18, [2, 3, 4]), (resnet50, [1, 2, 3, 4])])
def test_resnets_project_only_at_the_first_block_of_a_stage(builder, stages):
    with torch.device("meta"):
        model = builder()
    projected = [(stage, index) for stage in range(1, 5) for index, block in enumerate(getattr(model, f"layer{stage}"))
                 if not isinstance(block.shortcut, nn.Identity)]
    assert projected == [(stage, 0) for stage in stages]


def test_option_a_pads_zeros_and_option_c_always_projects():
    x = images(2, 4, 5, 5)
    out = PaddedIdentity(4, 6, 2)(x)
    assert out.shape == (2, 6, 3, 3)
    assert torch.equal(out[:, :4], x[:, :, ::2, ::2]) and torch.equal(out[:, 4:], torch.zeros(2, 2, 3, 3))
    assert isinstance(make_shortcut(4, 4, 1, "A"), nn.Identity)
    assert isinstance(make_shortcut(4, 4, 1, "C"), nn.Sequential)
    assert make_shortcut(4, 8, 2, "none") is None
    with torch.device("meta"):
        option_a, option_b = resnet34(shortcut="A"), resnet34(shortcut="B")
    projections = sum(m.weight.numel() + 2 * m.weight.shape[0] for m in option_b.modules()
                      if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1))
    assert count(option_a) == count(option_b) - projections


@settings(max_examples=15, deadline=None)
@given(block=st.sampled_from([BasicBlock, Bottleneck]), in_channels=st.integers(1, 12),
       channels=st.integers(1, 6), stride=st.integers(1, 3), height=st.integers(1, 9), width=st.integers(1, 9),
       option=st.sampled_from(["A", "B", "C", "none"]))
def test_block_output_shape(block, in_channels, channels, stride, height, width, option):
    out_channels = channels * block.expansion
    if option == "A" and out_channels < in_channels:
        in_channels = out_channels
    unit = block(in_channels, channels, stride, shortcut=option)
    out = unit(images(2, in_channels, height, width))
    assert out.shape == (2, out_channels, -(-height // stride), -(-width // stride))
    assert (out >= 0).all()


def test_resnext_block_is_a_grouped_bottleneck():
    with torch.device("meta"):
        model = resnext50_32x4d()
    for stage, width in zip((model.layer1, model.layer2, model.layer3, model.layer4), (128, 256, 512, 1024)):
        conv = stage[0].conv2
        assert conv.groups == 32 and conv.in_channels == conv.out_channels == width
        assert conv.weight.shape == (width, width // 32, 3, 3)
    assert model.layer1[0].conv3.out_channels == 256 and model.fc.in_features == 2048


def test_resnet_stride_sits_on_the_3x3_conv_of_the_bottleneck():
    with torch.device("meta"):
        block = resnet50().layer2[0]
    assert block.conv1.stride == (1, 1) and block.conv2.stride == (2, 2) and block.conv3.stride == (1, 1)


def test_plain_and_residual_stacks_differ_only_in_the_shortcuts():
    torch.manual_seed(0)
    residual = conv_stack(20, width=8, residual=True)
    torch.manual_seed(0)
    plain = conv_stack(20, width=8, residual=False)
    assert count(residual) == count(plain) > 0
    weighted = [m for m in residual.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(weighted) == 20
    plain_state, residual_state = plain.state_dict(), residual.state_dict()
    assert plain_state.keys() == residual_state.keys()
    assert all(torch.equal(plain_state[k], residual_state[k]) for k in plain_state)
    x = images(4, 1, 8, 8)
    assert not torch.allclose(plain(x), residual(x))
    assert sum(isinstance(m, BasicBlock) and m.shortcut is None for m in plain.modules()) == 9


def test_conv_stack_stages_halve_the_size_and_double_the_width():
    model = conv_stack(14, width=4, stages=3)
    out = images(2, 1, 8, 8)
    sizes = []
    for layer in model:
        out = layer(out)
        if isinstance(layer, BasicBlock):
            sizes.append(tuple(out.shape[1:]))
    assert sizes == [(4, 8, 8)] * 2 + [(8, 4, 4)] * 2 + [(16, 2, 2)] * 2
    assert out.shape == (2, 10)


def test_gradient_norms_one_per_weighted_layer_and_grads_untouched():
    torch.manual_seed(0)
    model = conv_stack(8, width=4)
    x, y = images(16, 1, 8, 8), torch.arange(16) % 10
    norms = weight_gradient_norms(model, x, y)
    assert norms.shape == (8,) and (norms > 0).all()
    assert all(p.grad is None for p in model.parameters())
    F.cross_entropy(model(x), y).backward()
    expected = [m.weight.grad.norm() for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    torch.testing.assert_close(norms, torch.stack(expected))


def digits_images(n: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    x_train, _, y_train, _ = digits()
    return torch.tensor(x_train[:n], dtype=torch.float32).reshape(-1, 1, 8, 8), torch.tensor(y_train[:n])


@pytest.mark.parametrize("build", [
    lambda: resnet18(in_channels=1, num_classes=10, small_input=True, base_channels=8),
    lambda: ResNet(Bottleneck, [1, 1, 1, 1], in_channels=1, num_classes=10, groups=32, width_per_group=4,
                   small_input=True, base_channels=16),  # ResNeXt-50's blocks, one per stage
    lambda: conv_stack(14, width=8, residual=True),
], ids=["resnet18", "resnext", "conv_stack"])
def test_small_variants_learn_digits(build):
    torch.manual_seed(0)
    model = build()
    x, y = digits_images()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for step in range(12):
        index = torch.arange(step * 64, step * 64 + 64) % len(x)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x[index]), y[index])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert sum(losses[-3:]) / 3 < 0.5 * sum(losses[:3]) / 3, losses


def test_highway_gate_closed_is_identity_and_open_is_the_transform():
    torch.manual_seed(0)
    layer = Highway(5)
    x = images(6, 5)
    assert torch.equal(layer.gate.bias, torch.full((5,), -1.0))
    with torch.no_grad():
        layer.gate.weight.zero_()
        layer.gate.bias.fill_(-float("inf"))  # T(x) = 0
        assert torch.equal(layer(x), x)
        layer.gate.bias.fill_(float("inf"))  # T(x) = 1
        assert torch.equal(layer(x), F.relu(layer.transform(x)))
        layer.gate.bias.fill_(0.0)  # T(x) = 1/2
        torch.testing.assert_close(layer(x), 0.5 * F.relu(layer.transform(x)) + 0.5 * x)


@pytest.mark.gpu
def test_resnet_and_conv_stack_run_on_cuda():
    torch.manual_seed(0)
    model = resnet18(in_channels=1, num_classes=10, small_input=True, base_channels=8)
    x, y = digits_images(64)
    cpu = model(x)
    model.cuda()
    torch.testing.assert_close(model(x.cuda()).cpu(), cpu, rtol=1e-3, atol=1e-3)
    stack = conv_stack(8, width=4).cuda()
    assert weight_gradient_norms(stack, x.cuda(), y.cuda()).device.type == "cuda"


@pytest.mark.parametrize("build,error,match", [
    (lambda: resnet(19), ValueError, "'depth' must be one of"),
    (lambda: resnet("50"), ValueError, "'depth'"),
    (lambda: BasicBlock(64, 64, groups=32), ValueError, "'groups' and 'base_width'"),
    (lambda: Bottleneck(64, 8, base_width=4, groups=32), ValueError, "channels \\* base_width / 64"),
    (lambda: Bottleneck(64, 16, groups=0), ValueError, "'groups' must be an int >= 1; got 0"),
    (lambda: BasicBlock(64, 0), ValueError, "'channels' must be an int >= 1"),
    (lambda: BasicBlock(16, 16, stride=1.5), ValueError, "'stride'"),
    (lambda: BasicBlock(16, 16, shortcut="D"), ValueError, "'shortcut' must be one of"),
    (lambda: BasicBlock(64, 32, shortcut="A"), ValueError, "output width 32 must be >= in_channels = 64"),
    (lambda: PaddedIdentity(8, 4), ValueError, "'out_channels' must be >= in_channels = 8"),
    (lambda: ResNet(nn.Linear, [2, 2, 2, 2]), TypeError, "'block' must be BasicBlock or Bottleneck"),
    (lambda: ResNet(BasicBlock, [2, 2, 2]), ValueError, "'layers' must list the blocks of the 4 stages"),
    (lambda: ResNet(BasicBlock, [2, 0, 2, 2]), ValueError, "'layers' must be an int >= 1; got 0"),
    (lambda: resnet18(num_classes=0), ValueError, "'num_classes'"),
    (lambda: resnet18(groups=2), ValueError, "'groups' and 'base_width'"),
    (lambda: resnext50_32x4d(base_channels=8), ValueError, "channels \\* base_width / 64"),
    (lambda: conv_stack(7), ValueError, "'depth' must be 2 \\+ 2 \\* stages \\* n"),
    (lambda: conv_stack(10, stages=3), ValueError, "e.g. 8 or 32 for stages=3; got 10"),
    (lambda: conv_stack(8, residual=1), TypeError, "'residual' must be a bool"),
    (lambda: conv_stack(8, width=0), ValueError, "'width'"),
    (lambda: make_shortcut(8, 16, 2, "D"), ValueError, "'option' must be one of"),
    (lambda: make_shortcut(8, 4, 1, "A"), ValueError, "'out_channels' must be >= in_channels = 8; got 4"),
    (lambda: make_shortcut(8, 0), ValueError, "make_shortcut: argument 'out_channels' must be an int >= 1"),
    (lambda: resnet18(small_input=1), TypeError, "'small_input' must be a bool; got int"),
    (lambda: resnet18(zero_init_residual="yes"), TypeError, "'zero_init_residual' must be a bool"),
    (lambda: init_weights(torch.zeros(3)), TypeError, "init_weights: argument 'model' must be an nn.Module"),
    (lambda: init_weights(nn.Linear(2, 2), zero_init_residual=None), TypeError, "'zero_init_residual'"),
    (lambda: Highway(0), ValueError, "'features'"),
    (lambda: Highway(4, gate_bias="low"), TypeError, "'gate_bias' must be a float"),
])
def test_bad_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_bad_images():
    model = resnet18(in_channels=1, num_classes=10, small_input=True, base_channels=4)
    with pytest.raises(ValueError, match=r"'x' must have shape \(N, 1, H, W\); got \(2, 3, 8, 8\)"):
        model(torch.zeros(2, 3, 8, 8))
    with pytest.raises(ValueError, match=r"got \(1, 8, 8\)"):
        model(torch.zeros(1, 8, 8))
    with pytest.raises(TypeError, match="'x' must be a floating-point torch.Tensor; got torch.int64"):
        model(torch.zeros(2, 1, 8, 8, dtype=torch.long))


def test_bad_block_and_highway_inputs():
    with pytest.raises(ValueError, match=r"BasicBlock: argument 'x' must have shape \(N, 8, H, W\)"):
        BasicBlock(8, 8)(torch.zeros(2, 4, 5, 5))
    with pytest.raises(ValueError, match=r"Bottleneck: argument 'x' must have shape \(N, 8, H, W\)"):
        Bottleneck(8, 4)(torch.zeros(2, 8, 5))
    with pytest.raises(TypeError, match="Highway: argument 'x' must be a floating-point"):
        Highway(4)(torch.zeros(2, 4, dtype=torch.int32))
    with pytest.raises(ValueError, match=r"Highway: argument 'x' must have shape \(N, 4\); got \(2, 5\)"):
        Highway(4)(torch.zeros(2, 5))


def test_bad_gradient_norm_batches():
    model, x = conv_stack(8, width=4), images(4, 1, 8, 8)
    with pytest.raises(TypeError, match="'model' must be an nn.Module"):
        weight_gradient_norms(lambda t: t, x, torch.zeros(4, dtype=torch.long))
    with pytest.raises(TypeError, match="'x' must be a floating-point"):
        weight_gradient_norms(model, x.long(), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"'y' must hold 4 class indices, shape \(4,\) with an integer dtype"):
        weight_gradient_norms(model, x, torch.zeros(4))
    with pytest.raises(ValueError, match=r"got \(3,\)"):
        weight_gradient_norms(model, x, torch.zeros(3, dtype=torch.long))
