# %% [markdown]
# # 视觉 Transformer 实验 / Lab: a Vision Transformer on the 8×8 digits
#
# 概念见 [预训练与微调](../../../attention/pretraining/)。
# Concepts: [pretraining and fine-tuning](../../../attention/pretraining/).
#
# 把每张 8×8 的手写数字切成 16 个 2×2 的图块（patch），每个图块线性映射成一个词元，前面加一个可学习的类别词元
# （class token），再加上可学习的位置嵌入，送进 2 层 Transformer 编码器；分类只读类别词元的输出。训练后看两件事：
# 学到的位置嵌入彼此有多相似，以及类别词元把注意力放在哪些图块上。
# Every 8×8 digit is cut into 16 patches of 2×2 pixels; each patch is mapped linearly to a token, a learned class
# token is put in front, learned position embeddings are added, and a 2-layer Transformer encoder reads the 17
# tokens; the classifier looks at the class token's output alone. After training we look at two things: how
# similar the learned position embeddings are to each other, and which patches the class token attends to.
#
# 运行 / Run: `python snippets/attention/vit_digits.py`

# %%
import json
import math
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from n2t.data import digits
from n2t.torch import ViT

SMOKE = bool(os.environ.get("N2T_SMOKE"))
SEED, PATCH, EMBED, DEPTH, HEADS, MLP = 0, 2, 64, 2, 4, 128
BATCH, LR, WEIGHT_DECAY, WARMUP_FRACTION = 64, 3e-3, 0.05, 0.1
EPOCHS = 1 if SMOKE else 25
torch.set_num_threads(1)

x_train, x_test, y_train, y_test = digits()
x_train = torch.tensor(x_train, dtype=torch.float32).reshape(-1, 1, 8, 8)  # (N, C, H, W)
x_test = torch.tensor(x_test, dtype=torch.float32).reshape(-1, 1, 8, 8)
y_train, y_test = torch.tensor(y_train), torch.tensor(y_test)
if SMOKE:
    x_train, y_train, x_test, y_test = x_train[:256], y_train[:256], x_test[:128], y_test[:128]
GRID = 8 // PATCH  # patches per side
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}; {GRID * GRID} patches of {PATCH}×{PATCH} pixels")

torch.manual_seed(SEED)
model = ViT(image_size=8, patch_size=PATCH, in_channels=1, num_classes=10, embed_dim=EMBED, depth=DEPTH,
            num_heads=HEADS, mlp_dim=MLP, dropout=0.0)
parameters = sum(p.numel() for p in model.parameters())
print(f"parameters: {parameters:,}")
print(model)

# %% [markdown]
# ## 训练 / Training: AdamW, warm-up then cosine decay, batches of 64


# %%
def accuracy(images, labels):
    model.eval()
    with torch.no_grad():
        correct = (model(images).argmax(dim=1) == labels).float().mean().item()
    model.train()
    return correct


used = len(x_train) // BATCH * BATCH  # drop the last few images of each epoch: no tiny batches
steps = EPOCHS * used // BATCH
warmup = max(1, int(WARMUP_FRACTION * steps))
optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
schedule = torch.optim.lr_scheduler.LambdaLR(
    optimizer, lambda step: min((step + 1) / warmup, 0.5 * (1 + math.cos(math.pi * step / steps))))
generator = torch.Generator().manual_seed(SEED)
losses, test_curve, start = [], [], time.perf_counter()
for _ in range(EPOCHS):
    total = 0.0
    for index in torch.randperm(len(x_train), generator=generator)[:used].split(BATCH):
        loss = F.cross_entropy(model(x_train[index]), y_train[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        total += loss.item() * len(index)
    losses.append(total / used)
    test_curve.append(accuracy(x_test, y_test))
seconds = time.perf_counter() - start
train_accuracy, test_accuracy = accuracy(x_train, y_train), accuracy(x_test, y_test)
print(f"{EPOCHS} epochs in {seconds:.1f} s: last-epoch loss {losses[-1]:.4f}, "
      f"train accuracy {train_accuracy:.3f}, test accuracy {test_accuracy:.3f}")

fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
left.plot(range(1, EPOCHS + 1), losses, marker="o", markersize=3)
left.set_yscale("log")
left.set_xlabel("epoch")
left.set_ylabel("training loss")
right.plot(range(1, EPOCHS + 1), test_curve, marker="o", markersize=3, color="C1")
right.set_xlabel("epoch")
right.set_ylabel("test accuracy")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 位置嵌入的相似度 / How similar the learned position embeddings are
#
# 第 (i, j) 个小图是位置 (i, j) 的嵌入与全部 16 个位置嵌入的余弦相似度。模型事先不知道图块排成 4×4 的网格；
# 它只能从数据里学到哪些位置彼此相近。
# Small map (i, j) shows the cosine similarity of position (i, j)'s embedding with all 16 position embeddings.
# Nothing tells the model that the patches lie on a 4×4 grid; whatever nearness it shows was learned from data.

# %%
positions = model.pos_embedding.detach()[0, 1:]  # (P, E): the class token's position is left out
unit = F.normalize(positions, dim=1)
similarity = unit @ unit.T  # (P, P)
rows, cols = torch.arange(GRID * GRID) // GRID, torch.arange(GRID * GRID) % GRID
distance = (rows[:, None] - rows[None]).abs() + (cols[:, None] - cols[None]).abs()  # city-block distance (P, P)
neighbour_similarity = similarity[distance == 1].mean().item()
distant_similarity = similarity[distance >= 3].mean().item()
print(f"mean cosine similarity of position embeddings: neighbours {neighbour_similarity:.3f}, "
      f"3 or more steps apart {distant_similarity:.3f}")

fig, axes = plt.subplots(GRID, GRID, figsize=(5.5, 5.5))
for p, ax in enumerate(axes.flat):
    shown = ax.imshow(similarity[p].reshape(GRID, GRID), cmap="viridis", vmin=-1, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(shown, ax=axes, shrink=0.8, label="cosine similarity")
plt.show()

# %% [markdown]
# ## 类别词元的注意力 / Where the class token looks
#
# 最后一层里类别词元对 16 个图块的注意力权重（各个头取平均），叠在测试图像上。
# The attention weights of the class token on the 16 patches in the last layer (the mean over heads), laid
# over test images.

# %%
model.eval()
with torch.no_grad():
    predicted = model(x_test[:8]).argmax(dim=1)
weights = model.encoder.layers[-1].self_attn.last_weights  # (8, h, 1 + P, 1 + P)
cls_attention = weights[:, :, 0, 1:].mean(dim=1).reshape(-1, GRID, GRID)  # (8, GRID, GRID)
fig, axes = plt.subplots(2, 8, figsize=(12, 3.2))
for i in range(8):
    axes[0, i].imshow(x_test[i, 0], cmap="gray_r")
    axes[0, i].set_title(f"{int(y_test[i])} → {int(predicted[i])}", fontsize=9)
    axes[1, i].imshow(cls_attention[i], cmap="magma")
    for ax in axes[:, i]:
        ax.set_xticks([])
        ax.set_yticks([])
axes[0, 0].set_ylabel("label → predicted")
axes[1, 0].set_ylabel("class-token\nattention")
plt.show()

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
results = {"seed": SEED, "patch_size": PATCH, "patches": GRID * GRID, "embed_dim": EMBED, "depth": DEPTH,
           "heads": HEADS, "mlp_dim": MLP, "batch": BATCH, "lr": LR, "weight_decay": WEIGHT_DECAY,
           "epochs": EPOCHS, "parameters": parameters, "train_images": len(x_train), "test_images": len(x_test),
           "train_seconds": seconds, "last_epoch_loss": losses[-1], "train_accuracy": train_accuracy,
           "test_accuracy": test_accuracy, "neighbour_position_similarity": neighbour_similarity,
           "distant_position_similarity": distant_similarity}
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
if not SMOKE:
    assert test_accuracy > 0.95, "a small ViT learns the digits"
