"""ResNet and ResNeXt (residual units, shortcuts, builders), the plain/residual stacks of the
degradation experiment, and a highway layer."""

from __future__ import annotations

import functools
from typing import Callable, TypeVar

# --8<-- [start:imports]
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
# --8<-- [end:imports]

__all__ = [
    "PaddedIdentity", "make_shortcut", "BasicBlock", "Bottleneck", "init_weights", "ResNet", "resnet",
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "conv_stack",
    "weight_gradient_norms", "Highway",
]

SHORTCUTS = ("A", "B", "C", "none")
C = TypeVar("C", bound=type)
F_ = TypeVar("F_", bound=Callable[..., Any])


def _positive_int(where: str, name: str, value: Any, minimum: int = 1) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{where}: argument '{name}' must be an int >= {minimum}; got {value!r}")


def _check_shortcut(where: str, option: Any, name: str = "shortcut") -> None:
    if not isinstance(option, str) or option not in SHORTCUTS:
        raise ValueError(f"{where}: argument '{name}' must be one of {SHORTCUTS}; got {option!r}")


def _check_bool(where: str, **flags: Any) -> None:
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise TypeError(f"{where}: argument '{name}' must be a bool; got {type(value).__name__}")


def _float_tensor(where: str, x: Any) -> None:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"{where}: argument 'x' must be a floating-point torch.Tensor; got {got}")


def _image_input(module: Any, x: Any) -> None:
    where, channels = type(module).__name__, module.conv1.in_channels
    _float_tensor(where, x)
    if x.dim() != 4 or x.shape[1] != channels:
        raise ValueError(f"{where}: argument 'x' must have shape (N, {channels}, H, W); got {tuple(x.shape)}")


def _feature_input(module: Any, x: Any) -> None:
    _float_tensor("Highway", x)
    if x.dim() < 1 or x.shape[-1] != module.gate.in_features:
        raise ValueError(f"Highway: argument 'x' must have shape (N, {module.gate.in_features}); got {tuple(x.shape)}")


def _validated(check: Callable[..., None]) -> Callable[[F_], F_]:
    """Function decorator: ``check(*args, **kwargs)`` runs first (kept out of the code shown on the page)."""

    def decorate(fn: F_) -> F_:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check(*args, **kwargs)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _checked(check_init: Callable[..., None], check_input: Callable[[Any, Any], None] | None = None
             ) -> Callable[[C], C]:
    """Class decorator: ``check_init`` validates the constructor's arguments and ``check_input(self, x)``
    the input of ``forward``."""

    def decorate(cls: C) -> C:
        cls.__init__ = _validated(lambda self, *args, **kwargs: check_init(*args, **kwargs))(  # type: ignore[misc]
            cls.__init__)  # type: ignore[misc]
        if check_input is not None:
            cls.forward = _validated(check_input)(cls.forward)  # type: ignore[attr-defined]
        return cls

    return decorate


def _check_block(in_channels: Any, channels: Any, stride: Any = 1, groups: Any = 1, base_width: Any = 64,
                 shortcut: Any = "B", *, where: str = "BasicBlock") -> None:
    for name, value in (("in_channels", in_channels), ("channels", channels), ("stride", stride),
                        ("groups", groups), ("base_width", base_width)):
        _positive_int(where, name, value)
    _check_shortcut(where, shortcut)
    if where == "BasicBlock" and (groups != 1 or base_width != 64):
        raise ValueError(f"BasicBlock: arguments 'groups' and 'base_width' must be 1 and 64 (use Bottleneck for "
                         f"ResNeXt); got groups={groups}, base_width={base_width}")
    if where == "Bottleneck" and channels * base_width < 64:
        raise ValueError(f"Bottleneck: channels * base_width / 64 must be >= 1 (each of the {groups} groups needs "
                         f"a channel); got channels={channels}, base_width={base_width}")
    expansion = 4 if where == "Bottleneck" else 1
    if shortcut == "A" and channels * expansion < in_channels:
        raise ValueError(f"{where}: shortcut 'A' pads channels with zeros, so the output width "
                         f"{channels * expansion} must be >= in_channels = {in_channels}")


def _check_make_shortcut(in_channels: Any, out_channels: Any, stride: Any = 1, option: Any = "B",
                         where: str = "make_shortcut") -> None:
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("stride", stride)):
        _positive_int(where, name, value)
    _check_shortcut(where, option, "option")
    if option == "A" and out_channels < in_channels:
        raise ValueError(f"{where}: zero padding only adds channels, so argument 'out_channels' must be "
                         f">= in_channels = {in_channels}; got {out_channels}")


def _check_padded(in_channels: Any, out_channels: Any, stride: Any = 1) -> None:
    _check_make_shortcut(in_channels, out_channels, stride, "A", where="PaddedIdentity")


@_checked(_check_padded)
# --8<-- [start:padded-identity]
class PaddedIdentity(nn.Module):
    """Option A of He et al. (2016): identity with stride, extra channels filled with zeros (no parameters).

    Args:
        in_channels: C_in.
        out_channels: C_out >= C_in.
        stride: keep every ``stride``-th row and column.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.stride, self.extra = stride, out_channels - in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, C_in, H, W)``. Returns: shape ``(N, C_out, H / stride, W / stride)``."""
        x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.extra))  # (N, C_out, H', W')

# --8<-- [end:padded-identity]


@_validated(_check_make_shortcut)
# --8<-- [start:shortcut]
def make_shortcut(in_channels: int, out_channels: int, stride: int = 1, option: str = "B") -> nn.Module | None:
    """The path that carries x past F(x).

    Args:
        in_channels: C_in.
        out_channels: C_out.
        stride: the block's stride.
        option: ``"A"`` zero-padded identity when the shape changes, ``"B"`` 1x1 projection when the
            shape changes, ``"C"`` projection always, ``"none"`` no shortcut (a plain network).

    Returns:
        an identity, a ``PaddedIdentity``, a 1x1 strided conv + batch norm, or None.
    """
    if option == "none":
        return None
    same_shape = stride == 1 and in_channels == out_channels
    if option == "C" or (option == "B" and not same_shape):
        return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                             nn.BatchNorm2d(out_channels))
    return nn.Identity() if same_shape else PaddedIdentity(in_channels, out_channels, stride)
# --8<-- [end:shortcut]


@_checked(_check_block, _image_input)
# --8<-- [start:basic-block]
class BasicBlock(nn.Module):
    """Two 3x3 convolutions: y = relu(F(x) + shortcut(x)) (ResNet-18/34 and the CIFAR nets).

    Args:
        in_channels: C_in.
        channels: C_out (``expansion`` = 1).
        stride: stride of the first 3x3 conv.
        groups: must be 1 (kept so every block takes the same arguments).
        base_width: must be 64.
        shortcut: ``"A"``, ``"B"``, ``"C"`` or ``"none"``, see ``make_shortcut``.
    """

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1, groups: int = 1, base_width: int = 64,
                 shortcut: str = "B") -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.shortcut = make_shortcut(in_channels, channels, stride, shortcut)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, C_in, H, W)``. Returns: shape ``(N, C_out, H / stride, W / stride)``."""
        out = F.relu(self.bn1(self.conv1(x)))  # (N, C_out, H', W')
        out = self.bn2(self.conv2(out))  # F(x)
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return F.relu(out)
# --8<-- [end:basic-block]


@_checked(functools.partial(_check_block, where="Bottleneck"), _image_input)
# --8<-- [start:bottleneck]
class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (grouped for ResNeXt), 1x1 expand: y = relu(F(x) + shortcut(x)).

    The 3x3 conv has ``width = int(channels * base_width / 64) * groups`` channels in ``groups``
    groups; ResNet-50 is groups=1, base_width=64; ResNeXt-50 32x4d is groups=32, base_width=4.

    Args:
        in_channels: C_in.
        channels: bottleneck size; the block outputs C_out = 4 * channels.
        stride: stride of the 3x3 conv.
        groups: cardinality C of ResNeXt.
        base_width: channels per group at channels = 64.
        shortcut: ``"A"``, ``"B"``, ``"C"`` or ``"none"``, see ``make_shortcut``.
    """

    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1, groups: int = 1, base_width: int = 64,
                 shortcut: str = "B") -> None:
        super().__init__()
        width = int(channels * base_width / 64) * groups
        out_channels = channels * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.shortcut = make_shortcut(in_channels, out_channels, stride, shortcut)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, C_in, H, W)``. Returns: shape ``(N, C_out, H / stride, W / stride)``."""
        out = F.relu(self.bn1(self.conv1(x)))  # (N, width, H, W)
        out = F.relu(self.bn2(self.conv2(out)))  # (N, width, H', W')
        out = self.bn3(self.conv3(out))  # F(x): (N, C_out, H', W')
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return F.relu(out)
# --8<-- [end:bottleneck]


def _check_init(model: Any, zero_init_residual: Any = False) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"init_weights: argument 'model' must be an nn.Module; got {type(model).__name__}")
    _check_bool("init_weights", zero_init_residual=zero_init_residual)


@_validated(_check_init)
# --8<-- [start:init]
def init_weights(model: nn.Module, zero_init_residual: bool = False) -> None:
    """He (fan-out) initialisation for convs, γ = 1 and β = 0 for batch norms, as torchvision does.

    Args:
        model: the network, changed in place.
        zero_init_residual: set γ of each block's last batch norm to 0, so every block starts as
            the identity.
    """
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    if zero_init_residual:
        for module in model.modules():
            if isinstance(module, Bottleneck):
                nn.init.zeros_(module.bn3.weight)
            elif isinstance(module, BasicBlock):
                nn.init.zeros_(module.bn2.weight)
# --8<-- [end:init]


def _check_resnet(block: Any, layers: Any, num_classes: Any = 1000, in_channels: Any = 3, groups: Any = 1,
                  width_per_group: Any = 64, small_input: Any = False, shortcut: Any = "B",
                  base_channels: Any = 64, zero_init_residual: Any = False) -> None:
    if block not in (BasicBlock, Bottleneck):
        raise TypeError(f"ResNet: argument 'block' must be BasicBlock or Bottleneck; got {block!r}")
    if not isinstance(layers, (list, tuple)) or len(layers) != 4:
        raise ValueError(f"ResNet: argument 'layers' must list the blocks of the 4 stages; got {layers!r}")
    for count in layers:
        _positive_int("ResNet", "layers", count)
    for name, value in (("num_classes", num_classes), ("in_channels", in_channels),
                        ("base_channels", base_channels)):
        _positive_int("ResNet", name, value)
    where = "BasicBlock" if block is BasicBlock else "Bottleneck"
    _check_block(base_channels, base_channels, 1, groups, width_per_group, shortcut, where=where)
    _check_bool("ResNet", small_input=small_input, zero_init_residual=zero_init_residual)


@_checked(_check_resnet, _image_input)
# --8<-- [start:resnet]
class ResNet(nn.Module):
    """Stem, four stages of residual blocks (stride 1, 2, 2, 2), global average pool, linear classifier.

    Args:
        block: ``BasicBlock`` or ``Bottleneck``.
        layers: blocks per stage, e.g. ``[3, 4, 6, 3]`` for ResNet-34 and ResNet-50.
        num_classes: outputs of the classifier.
        in_channels: C of the input images.
        groups: cardinality of ResNeXt (Bottleneck only).
        width_per_group: channels per group (Bottleneck only).
        small_input: 3x3 stride-1 stem and no max pool, for tiny images such as 8x8 digits.
        shortcut: ``"A"``, ``"B"``, ``"C"`` or ``"none"``, see ``make_shortcut``.
        base_channels: channels of the first stage (64 in the paper); stages use 1, 2, 4, 8 times it.
        zero_init_residual: start every block as the identity, see ``init_weights``.
    """

    def __init__(self, block: type[BasicBlock] | type[Bottleneck], layers: list[int], num_classes: int = 1000,
                 in_channels: int = 3, groups: int = 1, width_per_group: int = 64, small_input: bool = False,
                 shortcut: str = "B", base_channels: int = 64, zero_init_residual: bool = False) -> None:
        super().__init__()
        if small_input:
            self.conv1 = nn.Conv2d(in_channels, base_channels, 3, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, base_channels, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(base_channels)
        self.maxpool = nn.Identity() if small_input else nn.MaxPool2d(3, stride=2, padding=1)
        in_planes, stages = base_channels, []
        for index, blocks in enumerate(layers):
            channels, stride = base_channels * 2**index, 1 if index == 0 else 2
            stage = []
            for number in range(blocks):
                stage.append(block(in_planes, channels, stride if number == 0 else 1, groups, width_per_group,
                                   shortcut))
                in_planes = channels * block.expansion
            stages.append(nn.Sequential(*stage))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(in_planes, num_classes)
        init_weights(self, zero_init_residual)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, C, H, W)``. Returns: logits, shape ``(N, num_classes)``."""
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))  # (N, 64, H/4, W/4); small_input: (N, 64, H, W)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (N, 512 * expansion, H/32, W/32)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)  # (N, 512 * expansion)
        return self.fc(x)
# --8<-- [end:resnet]


def _check_depth(depth: Any, **kwargs: Any) -> None:  # kwargs are checked by ResNet
    if not isinstance(depth, int) or isinstance(depth, bool) or depth not in DEPTHS:
        raise ValueError(f"resnet: argument 'depth' must be one of {sorted(DEPTHS)}; got {depth!r}")


# --8<-- [start:depths]
DEPTHS = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}
# --8<-- [end:depths]


@_validated(_check_depth)
# --8<-- [start:builders]
def resnet(depth: int, **kwargs: Any) -> ResNet:
    """ResNet-``depth`` (18, 34, 50, 101 or 152); ``kwargs`` go to ``ResNet``."""
    block = BasicBlock if depth < 50 else Bottleneck
    return ResNet(block, DEPTHS[depth], **kwargs)


def resnet18(**kwargs: Any) -> ResNet:
    """ResNet-18: 11,689,512 parameters at the default sizes."""
    return resnet(18, **kwargs)


def resnet34(**kwargs: Any) -> ResNet:
    """ResNet-34: 21,797,672 parameters."""
    return resnet(34, **kwargs)


def resnet50(**kwargs: Any) -> ResNet:
    """ResNet-50: 25,557,032 parameters."""
    return resnet(50, **kwargs)


def resnet101(**kwargs: Any) -> ResNet:
    """ResNet-101: 44,549,160 parameters."""
    return resnet(101, **kwargs)


def resnet152(**kwargs: Any) -> ResNet:
    """ResNet-152: 60,192,808 parameters."""
    return resnet(152, **kwargs)


def resnext50_32x4d(**kwargs: Any) -> ResNet:
    """ResNeXt-50 (32x4d): ResNet-50's layout, 3x3 convs in 32 groups of 4 channels at the first stage."""
    return ResNet(Bottleneck, [3, 4, 6, 3], groups=32, width_per_group=4, **kwargs)
# --8<-- [end:builders]


def _check_stack(depth: Any, width: Any = 16, residual: Any = True, stages: Any = 3, in_channels: Any = 1,
                 num_classes: Any = 10) -> None:
    for name, value in (("width", width), ("stages", stages), ("in_channels", in_channels),
                        ("num_classes", num_classes)):
        _positive_int("conv_stack", name, value)
    if (not isinstance(depth, int) or isinstance(depth, bool) or depth < 2 + 2 * stages
            or (depth - 2) % (2 * stages)):
        raise ValueError(f"conv_stack: argument 'depth' must be 2 + 2 * stages * n with n >= 1 (stem conv, n blocks "
                         f"of two 3x3 convs per stage, linear layer), e.g. {2 + 2 * stages} or {2 + 10 * stages} "
                         f"for stages={stages}; got {depth!r}")
    _check_bool("conv_stack", residual=residual)


@_validated(_check_stack)
# --8<-- [start:conv-stack]
def conv_stack(depth: int, width: int = 16, residual: bool = True, stages: int = 3, in_channels: int = 1,
               num_classes: int = 10) -> nn.Sequential:
    """The nets of the degradation experiment (He et al. 2016, CIFAR-10 section), for small images.

    A 3x3 stem conv, then ``stages`` stages of n = (depth − 2) / (2 · stages) BasicBlocks with width,
    2 · width, 4 · width, … channels (each later stage starts with stride 2), global average pool and a
    linear layer: ``depth`` weighted layers. The shortcuts are parameter-free (option A), so
    ``residual=False`` removes them and changes nothing else: same layers, same parameter count and,
    given the same seed, the same initial weights.

    Args:
        depth: number of conv and linear layers, 2 + 2 · stages · n.
        width: channels C of the first stage.
        residual: keep the shortcuts (a ResNet) or drop them (a plain net).
        stages: number of stages.
        in_channels: C of the input images.
        num_classes: outputs of the classifier.
    """
    blocks_per_stage = (depth - 2) // (2 * stages)
    shortcut = "A" if residual else "none"
    layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                               nn.ReLU()]
    channels = width
    for stage in range(stages):
        for number in range(blocks_per_stage):
            stride = 2 if stage > 0 and number == 0 else 1
            layers.append(BasicBlock(channels, width * 2**stage, stride, shortcut=shortcut))
            channels = width * 2**stage  # (N, C · 2^stage, H / 2^stage, W / 2^stage)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes)]  # (N, num_classes)
    model = nn.Sequential(*layers)
    init_weights(model)
    return model
# --8<-- [end:conv-stack]


def _check_gradient_batch(model: Any, x: Any, y: Any) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"weight_gradient_norms: argument 'model' must be an nn.Module; got {type(model).__name__}")
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("weight_gradient_norms: argument 'x' must be a floating-point torch.Tensor")
    if not isinstance(y, torch.Tensor) or y.is_floating_point() or y.shape != (len(x),):
        got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(f"weight_gradient_norms: argument 'y' must hold {len(x)} class indices, shape "
                         f"({len(x)},) with an integer dtype; got {got}")


@_validated(_check_gradient_batch)
# --8<-- [start:gradient-norms]
def weight_gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """‖∂L/∂W‖ of every conv and linear weight, input side first, for one cross-entropy batch.

    Args:
        model: a classifier returning logits ``(N, K)``.
        x: images, shape ``(N, C, H, W)``.
        y: class indices, shape ``(N,)``.

    Returns:
        one norm per weighted layer, shape ``(L,)``; the model's ``.grad`` fields are left untouched.
    """
    weights = [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, weights)
    return torch.stack([g.norm() for g in grads])
# --8<-- [end:gradient-norms]


def _check_highway(features: Any, gate_bias: Any = -1.0) -> None:
    _positive_int("Highway", "features", features)
    if not isinstance(gate_bias, (int, float)) or isinstance(gate_bias, bool):
        raise TypeError(f"Highway: argument 'gate_bias' must be a float; got {type(gate_bias).__name__}")


@_checked(_check_highway, _feature_input)
# --8<-- [start:highway]
class Highway(nn.Module):
    """Highway layer (Srivastava et al. 2015): y = T(x) · H(x) + (1 − T(x)) · x.

    T(x) = sigmoid(W_T x + b_T) is a learned gate; a negative ``gate_bias`` starts the layer close to
    carrying x through unchanged. A residual unit is the ungated case: y = x + F(x).

    Args:
        features: D, the size of x and y.
        gate_bias: initial b_T.
    """

    def __init__(self, features: int, gate_bias: float = -1.0) -> None:
        super().__init__()
        self.transform = nn.Linear(features, features)  # H
        self.gate = nn.Linear(features, features)  # T
        nn.init.constant_(self.gate.bias, gate_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, shape ``(N, D)``. Returns: shape ``(N, D)``."""
        h = F.relu(self.transform(x))
        t = torch.sigmoid(self.gate(x))
        return t * h + (1 - t) * x
# --8<-- [end:highway]
