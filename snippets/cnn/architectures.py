# %% [markdown]
# # 经典 CNN 架构对比 / Lab: classic CNN architectures compared
#
# 概念见 [经典 CNN 架构](../../../cnn/architectures/)。
# Concepts: [classic CNN architectures](../../../cnn/architectures/).
#
# 用我们自己实现的全尺寸网络数出每个经典架构的参数量、float32 大小、乘加次数和深度，
# 并核对常见说法（如 "SqueezeNet 4.9 MB，Inception 100 MB"）。
# 网络建在 meta 设备上：形状和计数都是精确的，但不分配权重内存、不做任何运算。
# We count the parameters, float32 size, multiply-accumulates and depth of every classic architecture
# from our own full-size implementations, and check common claims such as "SqueezeNet 4.9 MB, Inception
# 100 MB". The networks are built on the meta device: shapes and counts are exact, yet no weight memory
# is allocated and no arithmetic is done.
#
# 运行 / Run: `python snippets/cnn/architectures.py`

# %%
import os

import matplotlib.pyplot as plt
import torch

from n2t.torch.classic import AlexNet, NiN, vgg16, vgg19
from n2t.torch.compact import densenet121, squeezenet1_0, squeezenet1_1
from n2t.torch.inception import GoogLeNet, inception_v3
from n2t.torch.resnet import resnet18, resnet50, resnet152, resnext50_32x4d
from n2t.torch.summary import (count_flops, count_parameters, count_weight_layers, forward_zeros, model_size_mb,
                               render_table, trace, weight_depth)

SMOKE = bool(os.environ.get("N2T_SMOKE"))
ARCHITECTURES = [  # name, year of first publication (arXiv or conference), builder, input side in pixels
    ("AlexNet", 2012, AlexNet, 224),
    ("NiN", 2013, NiN, 224),
    ("VGG-16", 2014, vgg16, 224),
    ("GoogLeNet", 2014, GoogLeNet, 224),
    ("Inception-v3", 2015, inception_v3, 299),
    ("ResNet-18", 2015, resnet18, 224),
    ("ResNet-50", 2015, resnet50, 224),
    ("ResNet-152", 2015, resnet152, 224),
    ("SqueezeNet 1.0", 2016, squeezenet1_0, 224),
    ("SqueezeNet 1.1", 2016, squeezenet1_1, 224),
    ("ResNeXt-50 32x4d", 2016, resnext50_32x4d, 224),
    ("DenseNet-121", 2016, densenet121, 224),
]
if SMOKE:  # the table's cheapest rows and those the assertions need
    keep = {"AlexNet", "VGG-16", "GoogLeNet", "Inception-v3", "ResNet-152", "SqueezeNet 1.0", "SqueezeNet 1.1"}
    ARCHITECTURES = [row for row in ARCHITECTURES if row[0] in keep]


def on_meta(builder, **kwargs):
    """Build a full-size network on the meta device: every shape, no memory."""
    with torch.device("meta"):
        return builder(**kwargs)


# %% [markdown]
# ## 参数、大小、计算量与深度 / Parameters, size, compute and depth
#
# 大小 = 参数个数 × 4 字节（float32）÷ 2²⁰（MiB）。GMACs = 一次前向的乘加次数（只计卷积和全连接层），FLOPs ≈ 2 × MACs。
# "weight layers" 数出所有卷积和全连接层（分支、捷径都算）；"depth" 是从输入到输出最长路径上的带权层数，即名字里的数字。
# Size = parameters × 4 bytes (float32) / 2²⁰ (MiB). GMACs = multiply-accumulates of one forward pass
# (convs and linear layers only), FLOPs ≈ 2 × MACs. "weight layers" counts every conv and linear layer
# (branches and shortcuts included); "depth" counts those on the longest input-to-output path, the
# number in a network's name.

# %%
rows = []
for name, year, builder, side in ARCHITECTURES:
    model = on_meta(builder)
    shape = (1, 3, side, side)
    rows.append({"model": name, "year": year, "parameters": count_parameters(model),
                 "MiB (float32)": model_size_mb(model), "input": f"{side}x{side}",
                 "GMACs": count_flops(model, shape) / 1e9, "weight layers": count_weight_layers(model),
                 "depth": weight_depth(model, shape)})
print(render_table(rows, formats={"parameters": ",d", "MiB (float32)": ".1f", "GMACs": ".2f"}))
stats = {row["model"]: row for row in rows}

# %% [markdown]
# ## AlexNet 逐层形状 / AlexNet layer by layer (224x224 input)

# %%
alexnet = on_meta(AlexNet)
layers = trace(alexnet, (1, 3, 224, 224))
print(render_table(layers, formats={"parameters": ",d"}))
linear_share = sum(r["parameters"] for r in layers if r["type"] == "Linear") / count_parameters(alexnet)
linear_macs = sum(m.in_features * m.out_features for m in alexnet.modules() if isinstance(m, torch.nn.Linear))
conv_share = 1 - linear_macs / count_flops(alexnet, (1, 3, 224, 224))
print(f"\nThe 3 linear layers hold {linear_share:.1%} of AlexNet's parameters; "
      f"the 5 convs do {conv_share:.1%} of its multiply-accumulates.")

# %% [markdown]
# ## 每个网络的逐级形状 / Every network, stage by stage
#
# 对每个网络的顶层子模块（主干、各阶段、分类头；`Sequential` 展开一层）挂前向钩子，记录输出形状和参数量。
# A forward hook on each top-level child (stem, stages, classifier head; a `Sequential` is opened one level)
# records its output shape and parameters.


# %%
def stage_trace(model, side):
    """Output shape and parameter count of each top-level child (or of its children), in call order."""
    rows = []

    def record(module, inputs, output, name):
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else "-"
        rows.append({"stage": name, "type": type(module).__name__, "output": shape,
                     "parameters": count_parameters(module)})

    units = []
    for name, child in model.named_children():
        inner = list(child.named_children()) if isinstance(child, torch.nn.Sequential) else []
        units += [(f"{name}.{n}", c) for n, c in inner] if 1 < len(inner) <= 40 else [(name, child)]
    hooks = [unit.register_forward_hook(lambda m, i, o, name=name: record(m, i, o, name)) for name, unit in units]
    try:
        forward_zeros(model, (1, 3, side, side))
    finally:
        for hook in hooks:
            hook.remove()
    return rows


for name, _, builder, side in ARCHITECTURES:
    stages = stage_trace(on_meta(builder), side)
    print(f"{name} ({side}x{side} input)")
    print(render_table(stages, formats={"parameters": ",d"}))
    print()
    assert stages[-1]["output"] == (1, 1000), (name, stages[-1])


# %% [markdown]
# ## 核对 "SqueezeNet 4.9 MB，Inception 100 MB" / Checking "SqueezeNet 4.9 MB vs Inception 100 MB"

# %%
squeeze = stats["SqueezeNet 1.0"]
v3_aux, v3 = on_meta(inception_v3), on_meta(inception_v3, aux_logits=False)
googlenet_tv = on_meta(GoogLeNet, wide_kernel=3)
alexnet_ratio = stats["AlexNet"]["parameters"] / squeeze["parameters"]
print(f"SqueezeNet 1.0 has {squeeze['parameters']:,} parameters: {squeeze['MiB (float32)']:.2f} MiB "
      f"({squeeze['parameters'] * 4 / 1e6:.2f} MB) in float32, {alexnet_ratio:.1f}x fewer than AlexNet.")
print(f"Inception-v3 has {count_parameters(v3_aux):,} parameters with its auxiliary classifier "
      f"({model_size_mb(v3_aux):.1f} MiB) and {count_parameters(v3):,} without ({model_size_mb(v3):.1f} MiB), "
      f"so '100 MB' fits Inception-v3.")
print(f"GoogLeNet (Inception v1) has {stats['GoogLeNet']['parameters']:,} parameters "
      f"({stats['GoogLeNet']['MiB (float32)']:.1f} MiB; torchvision's variant with 3x3 instead of 5x5 convs: "
      f"{count_parameters(googlenet_tv):,}), far from 100 MB.")
print(f"Depth: GoogLeNet {stats['GoogLeNet']['depth']} weighted layers, VGG-16 {stats['VGG-16']['depth']}, "
      f"VGG-19 {weight_depth(on_meta(vgg19), (1, 3, 224, 224))}.")

# %% [markdown]
# ## 计算量与参数量 / Compute versus parameters

# %%
fig, ax = plt.subplots(figsize=(7, 5))
for row in rows:
    ax.scatter(row["parameters"] / 1e6, row["GMACs"], color="tab:blue", zorder=3)
    ax.annotate(row["model"], (row["parameters"] / 1e6, row["GMACs"]), textcoords="offset points",
                xytext=(5, 4), fontsize=8)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("parameters (millions)")
ax.set_ylabel("GMACs per image")
ax.grid(True, which="both", alpha=0.3)
plt.show()

# %%
assert alexnet_ratio > 40, "SqueezeNet: about 50x fewer parameters than AlexNet"
assert 4.5 < squeeze["MiB (float32)"] < squeeze["parameters"] * 4 / 1e6 < 5, "SqueezeNet 1.0: under 5 MB either way"
assert 90 < model_size_mb(v3) < model_size_mb(v3_aux) < 110, "Inception-v3 is about 100 MB in float32"
assert stats["GoogLeNet"]["MiB (float32)"] < 30, "GoogLeNet (v1) is about a quarter of that"
assert stats["SqueezeNet 1.1"]["GMACs"] < stats["SqueezeNet 1.0"]["GMACs"] / 2, "1.1: same size, < half the work"
assert stats["GoogLeNet"]["depth"] == 22 and stats["VGG-16"]["depth"] == 16
assert stats["ResNet-152"]["depth"] == 152
assert stats["ResNet-152"]["parameters"] < stats["VGG-16"]["parameters"], "deeper, yet fewer weights than VGG-16"
assert stats["ResNet-152"]["GMACs"] < stats["VGG-16"]["GMACs"]
assert max(rows, key=lambda row: row["parameters"])["model"] == "VGG-16"
assert linear_share > 0.9 and conv_share > 0.9, "AlexNet: weights sit in the linear layers, work in the convs"
if not SMOKE:
    assert stats["DenseNet-121"]["depth"] == 121 and stats["ResNet-50"]["depth"] == 50
    assert stats["DenseNet-121"]["parameters"] < stats["ResNet-18"]["parameters"], "DenseNet-121: 8.0 M < 11.7 M"
