# %% [markdown]
# # 手写数字 MLP 实验 / Lab: a digits MLP in NumPy and in PyTorch
#
# 概念见 [反向传播](../../../mlp/backprop/)。 Concepts: [backpropagation](../../../mlp/backprop/).
#
# 同一个网络、同样的初始权重、同样的小批量顺序，分别用 `n2t.numpy`（手写反向传播）和 PyTorch（自动微分）训练。
# The same network, the same initial weights and the same minibatches, trained with `n2t.numpy`
# (hand-written backward passes) and with PyTorch (autograd).
#
# 运行 / Run: `python snippets/mlp/digits.py`

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import torch

import n2t.numpy as nnp
import n2t.torch as nt
from n2t.data import digits
from n2t.numpy.train import minibatches, train_step

SMOKE = bool(os.environ.get("N2T_SMOKE"))
EPOCHS = 4 if SMOKE else 30
HIDDEN, BATCH, LR = 128, 32, 1e-3
torch.set_num_threads(1)

x_train, x_test, y_train, y_test = digits()
print(f"train {x_train.shape}, test {x_test.shape}")

# %% [markdown]
# ## 同一初值 / The same starting point

# %%
rng = np.random.default_rng(0)
model = nnp.Sequential(nnp.Linear(64, HIDDEN, rng=rng), nnp.ReLU(), nnp.Linear(HIDDEN, 10, rng=rng))
twin = nt.mlp([64, HIDDEN, 10]).double()
with torch.no_grad():
    for ours, theirs in zip([model[0], model[2]], [twin[0], twin[2]]):
        theirs.weight.copy_(torch.from_numpy(ours.params["W"]))  # (out, in) on both sides
        theirs.bias.copy_(torch.from_numpy(ours.params["b"]))
print(model)
print(twin)
print("parameters:", model.num_parameters(), sum(p.numel() for p in twin.parameters()))

# %% [markdown]
# ## 训练 / Training

# %%
batches = [list(minibatches(len(x_train), BATCH, np.random.default_rng(epoch))) for epoch in range(EPOCHS)]
optimizer = nnp.Adam(model.parameters(), lr=LR)
numpy_accuracy = []
for epoch in range(EPOCHS):
    model.train()
    for index in batches[epoch]:
        train_step(model, optimizer, x_train[index], y_train[index])
    numpy_accuracy.append(nnp.evaluate(model, x_test, y_test)["accuracy"])

torch_history = nt.fit(
    twin, torch.optim.Adam(twin.parameters(), lr=LR), torch.from_numpy(x_train), torch.from_numpy(y_train),
    EPOCHS, nt.cross_entropy, validation=(torch.from_numpy(x_test), torch.from_numpy(y_test)), device="cpu",
    batches=[[torch.from_numpy(index) for index in epoch] for epoch in batches],
)
torch_accuracy = torch_history["val_accuracy"]
gap = np.max(np.abs(np.array(numpy_accuracy) - np.array(torch_accuracy))) * 100
print(f"final test accuracy: NumPy {numpy_accuracy[-1]:.4f}, PyTorch {torch_accuracy[-1]:.4f}")
print(f"largest gap between the two curves over {EPOCHS} epochs: {gap:.2f} percentage points")

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(range(1, EPOCHS + 1), np.array(numpy_accuracy) * 100, marker="o", label="n2t.numpy")
ax.plot(range(1, EPOCHS + 1), np.array(torch_accuracy) * 100, marker="x", ls="--", label="PyTorch")
ax.set_xlabel("epoch")
ax.set_ylabel("test accuracy (%)")
ax.legend()
plt.show()

# %% [markdown]
# ## 错分的样本 / Misclassified test images

# %%
model.eval()
predicted = model.forward(x_test).argmax(axis=1)
wrong = np.flatnonzero(predicted != y_test)[:10]
fig, axes = plt.subplots(1, max(len(wrong), 1), figsize=(1.2 * max(len(wrong), 1), 1.6))
for ax, index in zip(np.atleast_1d(axes), wrong):
    ax.imshow(x_test[index].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"{y_test[index]}→{predicted[index]}", fontsize=9)
    ax.axis("off")
plt.show()

# %%
assert gap <= 1.0, "NumPy and PyTorch must stay within 1 point at every epoch"
assert numpy_accuracy[-1] >= (0.85 if SMOKE else 0.97)
