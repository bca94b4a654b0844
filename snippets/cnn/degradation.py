# %% [markdown]
# # 退化实验 / Lab: degradation — deeper plain nets train worse, residual nets do not
#
# 概念见 [ResNet](../../../cnn/resnet/)。 Concepts: [ResNet](../../../cnn/resnet/).
#
# 用完全相同的设置训练 8 层普通网络、32 层普通网络和 32 层残差网络，比较训练损失，并测量初始化时每层的梯度范数。
# Three convolutional networks trained identically on the digits (an 8-layer plain net, a 32-layer plain net and
# a 32-layer residual net): we compare their training loss and measure the gradient norm of every layer at
# initialisation.
#
# 运行 / Run: `python snippets/cnn/degradation.py`

# %%
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from n2t.data import digits
from n2t.torch import cross_entropy, evaluate
from n2t.torch.resnet import conv_stack, weight_gradient_norms

SMOKE = bool(os.environ.get("N2T_SMOKE"))
SEED, EPOCHS, LR, BATCH = 0, (1 if SMOKE else 5), 0.02, 64
SHALLOW, DEEP = 8, 32  # weighted layers: 2 + 6n, n = 1 and n = 5 blocks per stage (He et al.'s CIFAR nets)
torch.set_num_threads(1)
x_train, x_test, y_train, y_test = digits()
x_train = torch.tensor(x_train, dtype=torch.float32).reshape(-1, 1, 8, 8)  # (N, C, H, W)
x_test = torch.tensor(x_test, dtype=torch.float32).reshape(-1, 1, 8, 8)
y_train, y_test = torch.tensor(y_train), torch.tensor(y_test)
if SMOKE:
    x_train, y_train, x_test, y_test = x_train[:128], y_train[:128], x_test[:128], y_test[:128]
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}")


def build(depth, residual):
    """Every net starts from the same seed: the plain and residual 32-layer nets get identical weights."""
    torch.manual_seed(SEED)
    return conv_stack(depth, width=16, residual=residual, stages=3)


NETS = {
    f"plain-{SHALLOW}": (SHALLOW, False),
    f"plain-{DEEP}": (DEEP, False),
    f"residual-{DEEP}": (DEEP, True),
}
parameters = {name: sum(p.numel() for p in build(*setup).parameters()) for name, setup in NETS.items()}
for name, count in parameters.items():
    print(f"{name:<12} parameters: {count:,}")

# %% [markdown]
# ## 初始化时的梯度 / Gradient flow at initialisation

# %%
# ||dL/dW|| of every conv and linear layer, one batch of 256 training images, before any training
norms = {name: weight_gradient_norms(build(*NETS[name]), x_train[:256], y_train[:256])
         for name in (f"plain-{DEEP}", f"residual-{DEEP}")}
print(f"{'net':<12}{'layer 1':>11}{'layer 16':>11}{'layer 31 (last conv)':>22}{'layer 1 / layer 31':>21}")
for name, values in norms.items():
    print(f"{name:<12}{values[0]:>11.2e}{values[15]:>11.2e}{values[30]:>22.2e}{values[0] / values[30]:>21.2f}")

fig, ax = plt.subplots(figsize=(7, 4))
for name, values in norms.items():
    ax.plot(range(1, len(values) + 1), values.numpy(), marker="o", markersize=3, label=name)
ax.set_yscale("log")
ax.set_xlabel("layer (1 = next to the input)")
ax.set_ylabel("||dL/dW|| at initialisation")
ax.legend()
plt.show()

# %% [markdown]
# ## 同样的训练 / Identical training (SGD + momentum, lr 0.02 → 0, batches of 64)


# %%
def train(model):
    """Mean training loss of every epoch; all three nets see the same batches in the same order."""
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    used = len(x_train) // BATCH * BATCH  # drop the last batch of 3 images: batch norm over 3 is noise
    steps = EPOCHS * used // BATCH
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps)
    generator = torch.Generator().manual_seed(SEED)
    losses = []
    for _ in range(EPOCHS):
        total = 0.0
        for index in torch.randperm(len(x_train), generator=generator)[:used].split(BATCH):
            optimizer.zero_grad()
            loss = cross_entropy(model(x_train[index]), y_train[index])
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(index)
        losses.append(total / used)
    return losses


histories, scores = {}, {}
for name, setup in NETS.items():
    model = build(*setup)
    histories[name] = train(model)
    scores[name] = (evaluate(model, x_train, y_train, cross_entropy), evaluate(model, x_test, y_test, cross_entropy))

print(f"{'net':<12}{'last-epoch loss':>17}{'train loss':>12}{'train acc':>11}{'test acc':>10}")
for name, (on_train, on_test) in scores.items():
    last = histories[name][-1]
    print(f"{name:<12}{last:>17.3f}{on_train['loss']:>12.3f}{on_train['accuracy']:>11.3f}"
          f"{on_test['accuracy']:>10.3f}")

fig, ax = plt.subplots(figsize=(7, 4))
for name, history in histories.items():
    ax.plot(range(1, EPOCHS + 1), history, marker="o", label=name)
ax.set_yscale("log")
ax.set_xticks(range(1, EPOCHS + 1))
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (mean over the epoch)")
ax.legend()
plt.show()

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
results = {"seed": SEED, "epochs": EPOCHS, "lr": LR, "batch": BATCH, "shallow_depth": SHALLOW, "deep_depth": DEEP}
for key, name in zip(("shallow", "plain", "residual"), NETS):
    on_train, on_test = scores[name]
    results |= {f"{key}_parameters": parameters[name],
                f"{key}_last_epoch_loss": histories[name][-1], f"{key}_train_loss": on_train["loss"],
                f"{key}_train_accuracy": on_train["accuracy"], f"{key}_test_accuracy": on_test["accuracy"]}
for key, name in (("plain", f"plain-{DEEP}"), ("residual", f"residual-{DEEP}")):
    values = norms[name]
    results |= {f"{key}_grad_first": float(values[0]), f"{key}_grad_last_conv": float(values[30]),
                f"{key}_grad_ratio": float(values[0] / values[30])}
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
if not SMOKE:
    loss, accuracy = (tuple(results[f"{key}_{what}"] for key in ("shallow", "plain", "residual"))
                      for what in ("last_epoch_loss", "train_accuracy"))
    assert loss[1] > 1.5 * loss[0], "the deeper plain net trains worse than the shallow one: degradation"
    assert loss[2] < loss[0], "the residual net of the same depth trains better than the shallow one"
    assert accuracy[1] < accuracy[0] <= accuracy[2], "the same order in training accuracy"
    assert results["plain_grad_ratio"] > 5 * results["residual_grad_ratio"], "plain gradients grow toward the input"
assert results["plain_parameters"] == results["residual_parameters"], "a fair comparison: the same parameters"
