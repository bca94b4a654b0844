# %% [markdown]
# # 深与浅 / Lab: deep versus shallow — the sawtooth, trained nets, and what each layer of a CNN responds to
#
# 概念见 [深与浅](../../../bigpicture/depth/)。 Concepts: [deep versus shallow](../../../bigpicture/depth/).
#
# 先用手工设定的权重搭出锯齿函数的深层构造与浅层构造；再在参数个数相同的条件下，用多个随机种子训练深而窄与浅而宽的
# ReLU 网络拟合同一个锯齿，记录拟合误差和沿输入轴数出的线性段数；最后在手写数字上训练一个小卷积网络，比较第一层与
# 更深层的单元对什么有反应。
# First the sawtooth is built by hand, once deep and once shallow; then deep narrow and shallow wide ReLU nets with
# the same number of parameters are trained on it from several seeds, and we record the fit error and the number of
# linear pieces along the input axis; last, a small CNN is trained on the digits and we compare what its first and
# its later layers respond to.
#
# 运行 / Run: `python snippets/bigpicture/depth.py`

# %%
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle
from sklearn.linear_model import LogisticRegression

from n2t.data import digits
from n2t.torch import cross_entropy, evaluate, fit
from n2t.torch.depth import (count_linear_pieces, deep_narrow, equal_parameter_width, fit_ensemble, sawtooth,
                             sawtooth_net, sawtooth_shallow, shallow_wide)
from n2t.torch.lenet import lenet
from n2t.torch.summary import count_parameters

SMOKE = bool(os.environ.get("N2T_SMOKE"))
torch.set_num_threads(1)
K = 3  # the target: the tent map composed K times, 2^(K-1) teeth, 2^K pieces
SEEDS = 2 if SMOKE else 8
STEPS, LR = (60, 0.01) if SMOKE else (2000, 0.01)
WIDTHS = (2,) if SMOKE else (2, 4, 8)  # deep nets: K hidden layers of each width
EPOCHS = 1 if SMOKE else 8
results = {"k": K, "seeds": SEEDS, "steps": STEPS, "lr": LR}

# %% [markdown]
# ## 手工构造 / The sawtooth built by hand

# %%
grid = torch.linspace(0, 1, 20001, dtype=torch.float64)[:, None]  # (N, 1)
exact = []
print(f"{'k':>2}{'deep units':>12}{'max error':>11}{'pieces':>8}{'shallow units':>15}{'max error':>11}{'pieces':>8}")
for k in range(1, 7):
    deep, shallow = sawtooth_net(k).double(), sawtooth_shallow(k).double()
    with torch.no_grad():
        errors = [float((net(grid) - sawtooth(grid, k)).abs().max()) for net in (deep, shallow)]
    exact.append({"k": k, "deep_units": 2 * k, "deep_parameters": count_parameters(deep),
                  "shallow_units": 2 ** k, "shallow_parameters": count_parameters(shallow),
                  "deep_error": errors[0], "shallow_error": errors[1],
                  "deep_pieces": count_linear_pieces(deep, grid), "shallow_pieces": count_linear_pieces(shallow, grid)})
    row = exact[-1]
    print(f"{k:>2}{row['deep_units']:>12}{row['deep_error']:>11.1e}{row['deep_pieces']:>8}{row['shallow_units']:>15}"
          f"{row['shallow_error']:>11.1e}{row['shallow_pieces']:>8}")
results["exact"] = exact

fig, axes = plt.subplots(1, 3, figsize=(12, 3), sharey=True)
for ax, k in zip(axes, (1, 2, 4)):
    with torch.no_grad():
        ax.plot(grid, sawtooth(grid, k), color="0.6", lw=5, label="target")
        ax.plot(grid, sawtooth_net(k).double()(grid), color="tab:blue", lw=1.5, label=f"deep: {2 * k} units")
        ax.plot(grid, sawtooth_shallow(k).double()(grid), "--", color="tab:orange", lw=1.5,
                label=f"shallow: {2 ** k} units")
    ax.set_title(f"k = {k}: {2 ** (k - 1)} teeth, {2 ** k} pieces")
    ax.set_xlabel("x")
    ax.legend(loc="lower center", fontsize=8)
plt.show()

# %% [markdown]
# ## 训练：深而窄与浅而宽 / Training: deep narrow against shallow wide, equal parameters
#
# 每对网络参数个数相同，每种网络从 `SEEDS` 个随机种子出发。另外，把深层构造改成读 $u$，每个参数加上标准差为
# σ 的高斯噪声，作为起点。全部用全批量 Adam 训练，学习率按余弦降到 0；输入是 $u = 2x - 1 \in [-1, 1]$（居中的输入）。
# Each pair has the same number of parameters, and every net starts from `SEEDS` random seeds. More starts: the
# exact deep construction, rewritten to read $u$, with Gaussian noise of standard deviation σ on every parameter.
# All are trained with full-batch Adam, the learning rate decaying to 0 on a cosine; the input is
# $u = 2x - 1 \in [-1, 1]$ (centred inputs).

# %%
x_train = torch.linspace(0, 1, 256)[:, None]  # (N, 1)
y_train = sawtooth(x_train, K)
u_train = 2 * x_train - 1
u_grid = torch.linspace(-1, 1, 20001)[:, None]  # for counting pieces
constant_mse = float(y_train.var(unbiased=False))  # the best a constant can do
results["constant_mse"] = constant_mse
NOISES = (0.05,) if SMOKE else (0.02, 0.05, 0.1)


def seeded(depth, width):
    """SEEDS freshly initialised nets, from seeds 0, 1, ..."""
    nets = []
    for seed in range(SEEDS):
        torch.manual_seed(seed)
        nets.append(deep_narrow(depth, width) if depth > 1 else shallow_wide(width))
    return nets


def near_construction(noise, seed):
    """sawtooth_net(K) reading u = 2x - 1 (so x = (u + 1) / 2), every parameter moved by N(0, noise^2)."""
    net = sawtooth_net(K)
    with torch.no_grad():
        net[0].bias += net[0].weight[:, 0] / 2
        net[0].weight /= 2
        generator = torch.Generator().manual_seed(seed)
        for p in net.parameters():
            p += noise * torch.randn(p.shape, generator=generator)
    return net


def mse(nets):
    with torch.no_grad():
        return [float(torch.mean((net(u_train) - y_train) ** 2)) for net in nets]


groups = {}  # name -> SEEDS nets
for width in WIDTHS:
    groups["deep", width] = seeded(K, width)
    groups["shallow", width] = seeded(1, equal_parameter_width(K, width))
for noise in NOISES:
    groups["near", noise] = [near_construction(noise, seed) for seed in range(SEEDS)]
start_mse = {name: mse(nets) for name, nets in groups.items()}

# nets of one architecture train together in one fit_ensemble call (each takes exactly its own steps)
by_shape = {}
for nets in groups.values():
    by_shape.setdefault(tuple(p.shape for p in nets[0].parameters()), []).extend(nets)
for nets in by_shape.values():
    fit_ensemble(nets, u_train, y_train, steps=STEPS, lr=LR)

runs = []
for width in WIDTHS:
    for kind in ("deep", "shallow"):
        nets = groups[kind, width]
        hidden = [m.out_features for m in nets[0] if isinstance(m, torch.nn.Linear)][:-1]
        final = mse(nets)
        runs.append({"kind": kind, "depth": len(hidden), "width": hidden[0], "parameters": count_parameters(nets[0]),
                     "mse": final, "pieces": [count_linear_pieces(net, u_grid) for net in nets],
                     "constant": sum(m > 0.99 * constant_mse for m in final), "nets": nets})
        run = runs[-1]
        print(f"{kind:<8} {run['depth']} x {run['width']:<3} {run['parameters']:>4} parameters: median MSE "
              f"{np.median(final):.4f}, best {min(final):.2e}, {run['constant']}/{SEEDS} no better than a constant; "
              f"pieces {run['pieces']}")
results["runs"] = [{key: value for key, value in run.items() if key != "nets"} for run in runs]

near = []
for noise in NOISES:
    final = mse(groups["near", noise])
    near.append({"noise": noise, "start_mse": start_mse["near", noise], "mse": final,
                 "recovered": sum(m < 1e-6 for m in final)})
    print(f"exact deep construction + noise {noise}: median MSE {np.median(near[-1]['start_mse']):.3f} before "
          f"training, {np.median(final):.2e} after; {near[-1]['recovered']}/{SEEDS} back below 1e-6")
results["near"] = near

fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
for i, run in enumerate(runs):
    color = "tab:blue" if run["kind"] == "deep" else "tab:orange"
    label = f"{run['kind']} {run['depth']}x{run['width']} ({run['parameters']} p.)"
    axes[0].scatter([i] * SEEDS, run["mse"], color=color, alpha=0.7)
    axes[1].scatter([i] * SEEDS, run["pieces"], color=color, alpha=0.7)
    for ax in axes:
        ax.text(i, -0.14, label, transform=ax.get_xaxis_transform(), rotation=20, ha="right", fontsize=8)
axes[0].axhline(constant_mse, color="gray", ls=":", label="best constant")
axes[0].set_yscale("log")
axes[0].set_ylabel("training MSE, one dot per seed")
axes[0].legend(fontsize=8)
axes[1].axhline(2 ** K, color="gray", ls=":", label=f"target: {2 ** K} pieces")
axes[1].set_ylabel("linear pieces on [-1, 1]")
axes[1].legend(fontsize=8)
for ax in axes:
    ax.set_xticks([])
plt.show()

# the best seed of the widest pair
fig, axes = plt.subplots(1, 2, figsize=(12, 3), sharey=True)
u_plot = torch.linspace(-1, 1, 1001)[:, None]
for ax, run in zip(axes, runs[-2:]):
    best = int(np.argmin(run["mse"]))
    with torch.no_grad():
        ax.plot(u_plot, sawtooth((u_plot + 1) / 2, K), color="0.6", lw=4, label="target")
        ax.plot(u_plot, run["nets"][best](u_plot), color="tab:red", lw=1.5, label="trained net")
    ax.set_title(f"{run['kind']} {run['depth']}x{run['width']}, best of {SEEDS} seeds: MSE {run['mse'][best]:.1e}")
    ax.set_xlabel("u = 2x - 1")
    ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 小卷积网络各层的单元对什么有反应 / What units at each depth of a small CNN respond to

# %%
x_tr, x_te, y_tr, y_te = digits()
x_tr = torch.tensor(x_tr, dtype=torch.float32).reshape(-1, 1, 8, 8)  # (N, C, H, W)
x_te = torch.tensor(x_te, dtype=torch.float32).reshape(-1, 1, 8, 8)
y_tr, y_te = torch.tensor(y_tr), torch.tensor(y_te)
if SMOKE:
    x_tr, y_tr = x_tr[:256], y_tr[:256]
torch.manual_seed(0)
cnn = lenet(channels=(8, 16), hidden=32, dropout=0.0)
fit(cnn, torch.optim.Adam(cnn.parameters(), lr=3e-3), x_tr, y_tr, epochs=EPOCHS, loss_fn=cross_entropy,
    batch_size=32, generator=torch.Generator().manual_seed(0), device="cpu")
test_accuracy = evaluate(cnn, x_te, y_te, cross_entropy)["accuracy"]
print(f"test accuracy after {EPOCHS} epochs: {test_accuracy:.3f}")


def layer_outputs(x):
    """Activations after each ReLU: conv1 (N, 8, 8, 8), conv2 (N, 16, 4, 4), hidden (N, 32)."""
    with torch.no_grad():
        conv1 = cnn[1](cnn[0](x))
        conv2 = cnn[4](cnn[3](cnn[2](conv1)))
        hidden = cnn[8](cnn[7](cnn[6](cnn[5](conv2))))
    return {"conv1": conv1, "conv2": conv2, "hidden": hidden}


# the first and last input pixel (along one axis) that a unit at position i sees; conv1: its 3x3 window,
# conv2: a 3x3 window over 2x2-pooled conv1 outputs, each of which sees 3x3 pixels
REACH = {"conv1": lambda i: (i - 1, i + 1), "conv2": lambda i: (2 * i - 3, 2 * i + 4)}
RECEPTIVE_FIELD = {layer: reach(0)[1] - reach(0)[0] + 1 for layer, reach in REACH.items()} | {"hidden": 8}


def receptive_box(layer, row, col):
    """First and last pixel row and column that a unit at (row, col) sees, clipped to the 8x8 image."""
    (r0, r1), (c0, c1) = REACH[layer](row), REACH[layer](col)
    return max(r0, 0), min(r1, 7), max(c0, 0), min(c1, 7)


TOP = 20  # top images per unit
outputs = layer_outputs(x_te)
features = {}
for layer, a in outputs.items():
    strength = a.flatten(2).amax(2) if a.ndim == 4 else a  # (N, units): a channel's strongest response
    alive = strength.amax(0) > 0
    top = strength.argsort(0, descending=True)[:TOP]  # (TOP, units)
    purity = [torch.bincount(y_te[top[:, u]], minlength=10).max().item() / TOP for u in range(a.shape[1]) if alive[u]]
    features[layer] = {"units": a.shape[1], "alive": int(alive.sum()), "purity": float(np.mean(purity)),
                       "receptive_field": RECEPTIVE_FIELD[layer], "top": top, "strength": strength}
    print(f"{layer:<7} {a.shape[1]:>3} units ({int(alive.sum())} ever active): mean share of the most common digit "
          f"among each unit's top {TOP} test images {np.mean(purity):.2f}")

# linear probes: logistic regression on each layer's (flattened) output
probes = {}
train_out, test_out = layer_outputs(x_tr), layer_outputs(x_te)
for layer, (a_tr, a_te) in {"pixels": (x_tr, x_te), **{n: (train_out[n], test_out[n]) for n in train_out}}.items():
    clf = LogisticRegression(max_iter=2000).fit(a_tr.flatten(1).numpy(), y_tr.numpy())
    probes[layer] = float(clf.score(a_te.flatten(1).numpy(), y_te.numpy()))
    print(f"linear probe on {layer:<7} ({a_tr.flatten(1).shape[1]:>3} features): test accuracy {probes[layer]:.3f}")

# first-layer kernels
kernels = cnn[0].weight.detach()[:, 0]  # (8, 3, 3)
fig, axes = plt.subplots(1, 8, figsize=(10, 1.6))
limit = float(kernels.abs().max())
for ax, kernel in zip(axes, kernels):
    ax.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.axis("off")
fig.suptitle("first-layer 3x3 kernels (red +, blue -)")
plt.show()

# for three units per layer (the first three that ever fire), the six test images that excite it most
SHOW = 6
fig, axes = plt.subplots(9, SHOW, figsize=(SHOW * 1.1, 9 * 1.2))
for block, layer in enumerate(("conv1", "conv2", "hidden")):
    info = features[layer]
    units = [u for u in range(info["units"]) if info["strength"][:, u].max() > 0][:3]
    for r, unit in enumerate(units):
        for c in range(SHOW):
            ax = axes[3 * block + r, c]
            n = int(info["top"][c, unit])
            ax.imshow(x_te[n, 0], cmap="gray_r")
            a = outputs[layer][n, unit]
            if a.ndim == 2:
                row, col = divmod(int(a.argmax()), a.shape[1])
                r0, r1, c0, c1 = receptive_box(layer, row, col)
                ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0 + 1, r1 - r0 + 1, fill=False, color="tab:red",
                                       lw=2))
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"label {int(y_te[n])}", fontsize=7)
        axes[3 * block + r, 0].set_ylabel(f"{layer} #{unit}", fontsize=8)
fig.tight_layout()
plt.show()

results["cnn"] = {"epochs": EPOCHS, "test_accuracy": test_accuracy, "top": TOP, "probes": probes,
                  **{layer: {k: v for k, v in info.items() if k not in ("top", "strength")}
                     for layer, info in features.items()}}

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
assert all(row["deep_error"] < 1e-9 and row["deep_pieces"] == 2 ** row["k"] for row in exact), "exact construction"
assert all(run["parameters"] == runs[0]["parameters"] for run in runs[:2]), "a fair pair: equal parameters"
assert all(max(run["pieces"]) <= run["width"] + 1 for run in runs if run["kind"] == "shallow"), "n + 1 pieces"
if not SMOKE:  # the claims the page makes
    median = [float(np.median(run["mse"])) for run in runs]
    assert runs[0]["constant"] == SEEDS, "every deep net of width 2 ends no better than a constant"
    assert all(median[i + 1] < median[i] for i in range(0, len(runs), 2)), "shallow beats deep in every pair"
    assert median[-1] < 0.01 * constant_mse < median[-2], "the widest shallow net fits, its deep partner does not"
    assert all(max(run["pieces"]) <= run["depth"] * run["width"] for run in runs), "trained: pieces <= units"
    recovered = [row["recovered"] for row in near]
    assert recovered[0] >= SEEDS - 1 and 0 < recovered[1] < SEEDS and recovered[2] == 0, "a narrow basin"
    assert np.median(near[0]["start_mse"]) > 0.5 * constant_mse, "small weight noise already ruins the function"
    purity = {layer: info["purity"] for layer, info in features.items()}
    assert purity["hidden"] > max(purity["conv1"], purity["conv2"]) + 0.1, "the hidden layer is the most selective"
    assert probes["pixels"] > 0.9 and max(probes.values()) - probes["pixels"] < 0.03, "pixels are nearly separable"
    assert min(probes.values()) == probes["pixels"], "every layer's probe still beats the pixels, if only a little"
    assert features["hidden"]["alive"] < features["hidden"]["units"], "some hidden ReLUs never fire (dead)"
