# %% [markdown]
# # 用卷积核过滤照片 / Lab: filtering a photo with hand-made kernels
#
# 概念见 [为什么用卷积](../../../cnn/convolution/)。 Concepts: [why convolution](../../../cnn/convolution/).
#
# 用 `n2t.numpy` 的 `conv2d_forward` 把几个手工设计的 3×3 卷积核作用在 scikit-learn 自带的照片上，
# 画出特征图，并与全连接层比较参数量。
# Hand-made 3×3 kernels applied with `n2t.numpy`'s `conv2d_forward` to a photo bundled with scikit-learn;
# the feature maps are plotted and the parameter count is compared with a fully connected layer.
#
# 运行 / Run: `python snippets/cnn/filters.py`

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_sample_images

from n2t.numpy import conv2d_forward, max_pool2d_forward

SMOKE = bool(os.environ.get("N2T_SMOKE"))
photo = load_sample_images().images[0]  # (427, 640, 3) uint8, a temple in China
if SMOKE:
    photo = photo[::8, ::8]
rgb = photo.astype(np.float64) / 255.0
gray = rgb @ np.array([0.299, 0.587, 0.114])  # (H, W), ITU-R 601 luma
image = gray[None, None]  # (N, C, H, W) = (1, 1, H, W)
print(f"photo {photo.shape}, as a batch {image.shape}")

# %% [markdown]
# ## 手工设计的卷积核 / Hand-made kernels

# %%
KERNELS = {
    "Sobel x (vertical edges)": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "Sobel y (horizontal edges)": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "Laplacian (blobs, edges)": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "box blur": [[1 / 9] * 3] * 3,
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
}
w = np.array(list(KERNELS.values()), dtype=np.float64)[:, None]  # (C_out, C_in, kH, kW) = (5, 1, 3, 3)
start = time.perf_counter()
maps, _ = conv2d_forward(image, w, None, padding=1)  # (1, 5, H, W): one feature map per kernel
seconds = time.perf_counter() - start
print(f"feature maps {maps.shape} in {seconds * 1e3:.1f} ms")
reference = F.conv2d(torch.from_numpy(image), torch.from_numpy(w), padding=1).numpy()
print(f"largest difference from torch.nn.functional.conv2d: {np.abs(maps - reference).max():.1e}")

fig, axes = plt.subplots(2, 3, figsize=(9, 4.6))
axes[0, 0].imshow(gray, cmap="gray")
axes[0, 0].set_title("input (grayscale)", fontsize=9)
for ax, name, feature_map in zip(axes.flat[1:], KERNELS, maps[0]):
    limit = np.percentile(np.abs(feature_map), 99)
    ax.imshow(feature_map, cmap="gray" if name in ("box blur", "sharpen") else "RdBu_r",
              vmin=None if name in ("box blur", "sharpen") else -limit,
              vmax=None if name in ("box blur", "sharpen") else limit)
    ax.set_title(name, fontsize=9)
for ax in axes.flat:
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 边缘强度与汇聚 / Edge strength, then pooling
#
# 两个 Sobel 特征图合成梯度幅值；2×2 最大汇聚把特征图缩小四倍，边缘仍在。
# The two Sobel maps combine into the gradient magnitude; 2×2 max pooling shrinks the map four times and
# the edges survive.

# %%
magnitude = np.sqrt(maps[:, :1] ** 2 + maps[:, 1:2] ** 2)  # (1, 1, H, W)
pooled, _ = max_pool2d_forward(magnitude, 2)
pooled_twice, _ = max_pool2d_forward(pooled, 2)
fig, axes = plt.subplots(1, 3, figsize=(9, 2.6))
titles = ("edge magnitude", "max-pool 2x2", "max-pool again")
for ax, data, title in zip(axes, (magnitude, pooled, pooled_twice), titles):
    ax.imshow(data[0, 0], cmap="magma")
    ax.set_title(f"{title} {data.shape[2]}x{data.shape[3]}", fontsize=9)
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 彩色输入：多通道卷积核 / Colour input: multi-channel kernels
#
# 一个卷积核跨越所有输入通道：形状 (C_out, C_in, kH, kW)。这里的 1×1 卷积核计算“红减绿”和亮度。
# A kernel spans every input channel: shape (C_out, C_in, kH, kW). These 1×1 kernels compute "red minus green"
# and the luma.

# %%
colour = rgb.transpose(2, 0, 1)[None]  # (1, 3, H, W)
w_colour = np.array([[1.0, -1.0, 0.0], [0.299, 0.587, 0.114]])[:, :, None, None]  # (2, 3, 1, 1)
colour_maps, _ = conv2d_forward(colour, w_colour)
fig, axes = plt.subplots(1, 3, figsize=(9, 2.6))
axes[0].imshow(photo)
axes[1].imshow(colour_maps[0, 0], cmap="RdBu_r")
axes[2].imshow(colour_maps[0, 1], cmap="gray")
for ax, title in zip(axes, ("RGB input", "red minus green (1x1 conv)", "luma (1x1 conv)")):
    ax.set_title(title, fontsize=9)
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 参数量：卷积层与全连接层 / Parameters: convolution vs a fully connected layer
#
# 同样把这张灰度照片映射成 5 张同样大小的特征图。 Both map this grayscale photo to 5 feature maps of the same size.

# %%
pixels = gray.size
conv_parameters = w.size  # 5 kernels × 3 × 3, shared by every position (no bias here)
dense_parameters = pixels * (5 * pixels)  # every output sees every input pixel
print(f"pixels in the photo:           {pixels:,}")
print(f"convolution, 5 kernels 3x3:    {conv_parameters:,} weights")
print(f"fully connected, same outputs: {dense_parameters:,} weights ({dense_parameters * 4 / 2**30:,.0f} GiB "
      f"in float32)")

# %%
assert np.abs(maps - reference).max() < 1e-12
assert maps.shape == (1, 5, *gray.shape) and pooled.shape[2] == gray.shape[0] // 2
assert dense_parameters > 10**6 * conv_parameters
