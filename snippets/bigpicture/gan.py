# %% [markdown]
# # 生成对抗网络实验 / Lab: a GAN on a ring of eight Gaussians
#
# 概念见 [生成对抗网络](../../../bigpicture/gan/)。 Concepts: [GANs](../../../bigpicture/gan/).
#
# 数据是平面上 8 个小高斯分布（半径 2 的圆上，标准差 0.02），生成器和判别器都是两层隐藏层的小型 MLP。我们看生成样本
# 在训练中的变化，用 MMD 度量生成分布与数据分布的距离，统计几个随机种子下覆盖了几个模式、多少样本落在模式上；
# 最后让判别器先单独训练一段，比较 minimax 损失与非饱和损失下生成器得到的梯度。
# The data are 8 small Gaussians on a circle of radius 2 (standard deviation 0.02); the generator and the
# discriminator are small MLPs with two hidden layers. We watch the generated samples during training, measure the
# distance between the generated and the real distribution with the MMD, count how many modes several seeds cover
# and how many samples land on a mode, and finally give the discriminator a head start to compare the gradient the
# generator gets from the minimax loss and from the non-saturating loss.
#
# 运行 / Run: `python snippets/bigpicture/gan.py`

# %%
import copy
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from n2t.torch.gan import (
    Discriminator,
    Generator,
    discriminator_loss,
    mmd,
    mode_coverage,
    ring_centres,
    ring_of_gaussians,
    train_gan,
)

SMOKE = bool(os.environ.get("N2T_SMOKE"))
MODES, RADIUS, STD = 8, 2.0, 0.02
DATA_SIZE, EVAL_SIZE, BATCH = 10_000, 512, 128
STEPS, RECORD_EVERY = (60, 20) if SMOKE else (2000, 100)
SEEDS = (0, 1) if SMOKE else (0, 1, 2)
HEAD_START, SATURATION_STEPS = (20, 20) if SMOKE else (500, 300)
HEAD_LR, SGD_LR = 0.1, 0.05
torch.set_num_threads(1)

data = ring_of_gaussians(DATA_SIZE, MODES, RADIUS, STD, generator=torch.Generator().manual_seed(1234))
centres = ring_centres(MODES, RADIUS)
# what "no difference" looks like: MMD between two independent samples of the real distribution
fresh = ring_of_gaussians(EVAL_SIZE, MODES, RADIUS, STD, generator=torch.Generator().manual_seed(99))
mmd_floor = mmd(data[:EVAL_SIZE], fresh).item()
print(f"data {tuple(data.shape)}; MMD between two real samples of {EVAL_SIZE}: {mmd_floor:.3f}")


def networks(seed):
    """The same architecture for every run; the seed fixes the initial weights."""
    torch.manual_seed(seed)
    return Generator(latent=8, hidden=64), Discriminator(hidden=64)


def coverage(samples):
    return mode_coverage(samples, centres, STD)


# %% [markdown]
# ## 训练与快照 / Training and snapshots (non-saturating loss, Adam)

# %%
histories = {}
for seed in SEEDS:
    generator, discriminator = networks(seed)
    histories[seed] = train_gan(generator, discriminator, data, steps=STEPS, batch_size=BATCH, seed=seed,
                                record_every=RECORD_EVERY, eval_size=EVAL_SIZE)
main = histories[SEEDS[0]]
snapshot_steps = [s for s in (0, 100, 300, 700, 1200, 2000) if s in main["step"]] if not SMOKE else main["step"]
fig, axes = plt.subplots(1, len(snapshot_steps), figsize=(2.6 * len(snapshot_steps), 2.8), sharex=True, sharey=True)
for ax, step in zip(axes, snapshot_steps):
    samples = main["samples"][main["step"].index(step)]
    ax.scatter(*data[:2000].T, s=2, color="0.8")
    ax.scatter(*samples.T, s=2, color="C0")
    ax.set_title(f"step {step}\nMMD {main['mmd'][main['step'].index(step)]:.3f}", fontsize=9)
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_aspect("equal")
fig.suptitle(f"seed {SEEDS[0]}: generated (blue) over real (grey)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 距离与模式覆盖 / Distance and mode coverage over training

# %%
covered = {seed: [coverage(s) for s in h["samples"]] for seed, h in histories.items()}
fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
for seed, history in histories.items():
    axes[0].plot(history["step"], history["mmd"], label=f"seed {seed}")
    axes[1].plot(history["step"], [c["modes"] for c in covered[seed]], label=f"seed {seed}")
    axes[2].plot(history["step"], [c["high_quality"] for c in covered[seed]], label=f"seed {seed}")
axes[0].axhline(mmd_floor, color="0.5", linestyle="--", label="two real samples")
axes[0].set_yscale("log")
axes[0].set_ylabel("MMD(generated, real)")
axes[1].set_ylabel(f"modes covered (of {MODES})")
axes[2].set_ylabel("fraction within 3 std of a mode")
for ax in axes:
    ax.set_xlabel("step")
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

fig, axes = plt.subplots(1, len(SEEDS), figsize=(2.8 * len(SEEDS), 3), sharex=True, sharey=True)
for ax, (seed, history) in zip(axes, histories.items()):
    ax.scatter(*data[:2000].T, s=2, color="0.8")
    ax.scatter(*history["samples"][-1].T, s=2, color="C0")
    final = covered[seed][-1]
    ax.set_title(f"seed {seed}, step {history['step'][-1]}\n{final['modes']} modes, "
                 f"{final['high_quality']:.0%} within 3 std", fontsize=9)
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_aspect("equal")
plt.tight_layout()
plt.show()

# share of all samples nearest to the most popular mode: 1/8 if spread evenly, 1 if collapsed onto one mode
print(f"{'seed':>4}{'MMD start':>11}{'MMD end':>9}{'min MMD':>9}{'modes end':>11}{'high quality':>14}"
      f"{'most popular mode':>19}")
for seed, history in histories.items():
    final = covered[seed][-1]
    share = max(final["nearest"]) / EVAL_SIZE
    print(f"{seed:>4}{history['mmd'][0]:>11.3f}{history['mmd'][-1]:>9.3f}{min(history['mmd']):>9.3f}"
          f"{final['modes']:>11}{final['high_quality']:>14.2f}{share:>19.2f}")

# %% [markdown]
# ## 判别器先行时的饱和 / Saturation after a discriminator head start
#
# 判别器先单独训练，直到它以很高的把握拒绝生成样本；然后从同一个起点，分别用两种生成器损失交替训练（普通 SGD）。
# The discriminator trains alone until it rejects the generated samples with high confidence; then, from the same
# start, the game runs with each generator loss (plain SGD).

# %%
generator, discriminator = networks(SEEDS[0])
d_optimizer = torch.optim.SGD(discriminator.parameters(), lr=HEAD_LR)
rng = torch.Generator().manual_seed(7)
for _ in range(HEAD_START):
    real = data[torch.randint(len(data), (BATCH,), generator=rng)]
    with torch.no_grad():
        fake = generator.sample(BATCH, rng)
    loss = discriminator_loss(discriminator(real), discriminator(fake))
    d_optimizer.zero_grad()
    loss.backward()
    d_optimizer.step()
with torch.no_grad():
    head_d_fake = torch.sigmoid(discriminator(generator.sample(EVAL_SIZE, rng))).mean().item()
print(f"after {HEAD_START} discriminator-only steps: mean D(G(z)) = {head_d_fake:.1e}")

runs = {}
for label, kind, optimizer in (
        ("minimax, SGD", "minimax", lambda params: torch.optim.SGD(params, lr=SGD_LR)),
        ("non-saturating, SGD", "non_saturating", lambda params: torch.optim.SGD(params, lr=SGD_LR)),
        ("minimax, Adam", "minimax", None)):
    runs[label] = train_gan(copy.deepcopy(generator), copy.deepcopy(discriminator), data, steps=SATURATION_STEPS,
                            batch_size=BATCH, kind=kind, optimizer=optimizer, seed=3,
                            record_every=max(SATURATION_STEPS // 20, 1), eval_size=EVAL_SIZE)

fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
for label, history in runs.items():
    axes[0].plot(history["g_grad_norm"], label=label)
    axes[1].plot(history["d_fake"], label=label)
    axes[2].plot(history["step"], history["mmd"], label=label)
axes[0].set_yscale("log")
axes[0].set_ylabel("||dL_G / dθ_G||")
axes[1].set_yscale("log")
axes[1].set_ylabel("mean D(G(z)) on the batch")
axes[2].set_ylabel("MMD(generated, real)")
for ax in axes:
    ax.set_xlabel("step")
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
print(f"{'run':<22}{'|grad| at step 0':>17}{'D(G(z)) at end':>16}{'MMD start':>11}{'MMD end':>9}")
for label, history in runs.items():
    print(f"{label:<22}{history['g_grad_norm'][0]:>17.2e}{history['d_fake'][-1]:>16.2e}"
          f"{history['mmd'][0]:>11.3f}{history['mmd'][-1]:>9.3f}")

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.

# %%
results = {"modes": MODES, "radius": RADIUS, "std": STD, "data_size": DATA_SIZE, "eval_size": EVAL_SIZE,
           "batch": BATCH, "steps": STEPS, "seeds": list(SEEDS), "mmd_floor": mmd_floor,
           "head_start": HEAD_START, "head_lr": HEAD_LR, "saturation_steps": SATURATION_STEPS, "sgd_lr": SGD_LR,
           "head_start_d_fake": head_d_fake, "snapshot_steps": snapshot_steps}
for seed, history in histories.items():
    final = covered[seed][-1]
    results[f"seed{seed}"] = {
        "mmd_start": history["mmd"][0], "mmd_end": history["mmd"][-1], "mmd_min": min(history["mmd"]),
        "modes_end": final["modes"], "high_quality_end": final["high_quality"], "counts_end": final["counts"],
        "nearest_share_max": max(final["nearest"]) / EVAL_SIZE,
        "modes_max": max(c["modes"] for c in covered[seed]),
        "modes_trace": [c["modes"] for c in covered[seed]], "step_trace": history["step"],
        "mmd_trace": history["mmd"],
        "final_samples": history["samples"][-1][:300].round(decimals=3).tolist()}  # for the page's figure
results["snapshots"] = {str(step): main["samples"][main["step"].index(step)][:300].round(decimals=3).tolist()
                        for step in snapshot_steps}
for label, history in runs.items():
    key = label.replace(", ", "_").replace("-", "_").lower()
    results[key] = {"grad_start": history["g_grad_norm"][0], "d_fake_end": history["d_fake"][-1],
                    "mmd_start": history["mmd"][0], "mmd_end": history["mmd"][-1]}
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
if not SMOKE:
    for seed in SEEDS:
        assert results[f"seed{seed}"]["mmd_end"] < 0.5 * results[f"seed{seed}"]["mmd_start"], "the distance falls"
    sgd_minimax, sgd_ns = results["minimax_sgd"], results["non_saturating_sgd"]
    assert sgd_ns["grad_start"] > 100 * sgd_minimax["grad_start"], "the minimax gradient has vanished"
    assert sgd_minimax["mmd_end"] > 0.9 * sgd_minimax["mmd_start"], "the minimax generator stays put under SGD"
    assert sgd_ns["mmd_end"] < 0.7 * sgd_ns["mmd_start"], "the non-saturating generator moves"
    assert results["minimax_adam"]["mmd_end"] < 0.8 * sgd_minimax["mmd_start"], "Adam rescales the tiny gradient"
