# %% [markdown]
# # Hopfield 网络实验 / Lab: the Hopfield network — recall, energy and capacity
#
# 概念见 [网络家族与 Hopfield 网络](../../../bigpicture/families/)。
# Concepts: [network families and the Hopfield network](../../../bigpicture/families/).
#
# 用 Hebb 规则存入六个图案，从被破坏的版本中找回它们，并检查每一次异步更新都不会让能量升高。然后测量存储容量：
# 随机图案的负载 P/N 增大到多少时，网络就再也找不回存入的图案；基本吸引域怎样随负载缩小；
# 真实的手写数字彼此相关，能存下的又有多少。
# Six glyphs are stored with Hebb's rule and recalled from corrupted copies, checking that no asynchronous
# update ever raises the energy. Then the capacity is measured: at what load P/N random patterns stop being
# retrievable, how the basins of attraction shrink with the load, and how many real handwritten digits,
# which resemble each other, fit.
#
# 运行 / Run: `python snippets/bigpicture/hopfield.py`

# %%
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from n2t.data import digits
from n2t.numpy.hopfield import Hopfield, corrupt, glyphs, hebbian_weights, overlap, recall, sync_step

SMOKE = bool(os.environ.get("N2T_SMOKE"))
SEED, RECALLED = 0, 0.95  # a pattern counts as recalled when the final overlap m >= 0.95 (<= 2.5% wrong units)
SIZES = (50, 100) if SMOKE else (100, 200, 400)  # N, the number of units
TRIALS = {50: 2, 100: 2} if SMOKE else {100: 24, 200: 12, 400: 3}  # independent sets of random patterns per load
LOADS = (0.05, 0.138, 0.3) if SMOKE else (0.025, 0.05, 0.075, 0.1, 0.125, 0.138, 0.15, 0.175, 0.2, 0.25, 0.3)
ALPHA_C = 0.138  # Amit, Gutfreund & Sompolinsky (1985): the limit N -> infinity
rng = np.random.default_rng(SEED)

# %% [markdown]
# ## 存入六个图案，再从噪声中找回 / Store six glyphs, recall them from noise
#
# 每个图案 12×12 = 144 个单元；每个被破坏的版本随机翻转了四分之一的单元。
# Each glyph has 12 × 12 = 144 units; each corrupted copy has a quarter of its units flipped at random.

# %%
images = glyphs()
names = list(images)
patterns = np.stack([images[name].ravel() for name in names])  # (P, N) = (6, 144)
net = Hopfield(patterns.shape[1]).store(patterns)
flips = patterns.shape[1] // 4
probes = corrupt(patterns, flips, rng)
recalled, energies = net.recall(probes, rng)  # energies: (1 + sweeps·N, P)
sweeps = (len(energies) - 1) // net.n_units
print(f"N = {net.n_units}, P = {net.n_patterns}, load P/N = {net.load:.3f}, {flips} units flipped per probe")
print(f"{'glyph':<10}{'overlap before':>16}{'after':>8}")
for name, before, after in zip(names, overlap(probes, patterns), overlap(recalled, patterns)):
    print(f"{name:<10}{before:>16.3f}{after:>8.3f}")
print(f"{sweeps} sweeps (the last one changed nothing)")

fig, axes = plt.subplots(3, len(names), figsize=(1.6 * len(names), 5))
for column in range(len(names)):
    for row, (label, shown) in enumerate((("stored", patterns), ("corrupted", probes), ("recalled", recalled))):
        axes[row, column].imshow(shown[column].reshape(12, 12), cmap="gray_r", vmin=-1, vmax=1)
        axes[row, column].set_xticks([])
        axes[row, column].set_yticks([])
        if column == 0:
            axes[row, column].set_ylabel(label)
plt.show()

# %% [markdown]
# ## 能量只降不升 / The energy never rises
#
# 每一次单元更新之后的能量 $E(\mathbf{s}) = -\frac12 \mathbf{s}^\top W \mathbf{s}$；竖线是每一轮（sweep）的结束。
# The energy $E(\mathbf{s}) = -\frac12 \mathbf{s}^\top W \mathbf{s}$ after every single-unit update; the vertical
# lines end each sweep.

# %%
steps = np.diff(energies, axis=0)  # (sweeps·N, P)
assert np.all(steps <= 1e-9), "an asynchronous update raised the energy"
np.testing.assert_allclose(energies[-1], net.energy(recalled), atol=1e-9)  # the running total is the energy
print(f"largest change over {steps.size} updates: {steps.max():+.2e}; energy falls in {np.sum(steps < 0)} of them")
print("final energies:", net.energy(recalled).round(2), " stored patterns:", net.energy(patterns).round(2))

fig, ax = plt.subplots(figsize=(7, 3.5))
for column, name in enumerate(names):
    ax.plot(energies[:, column], label=name)
for sweep in range(1, sweeps + 1):
    ax.axvline(sweep * net.n_units, color="gray", linewidth=0.5)
ax.set_xlabel("single-unit update")
ax.set_ylabel("energy E")
ax.legend(fontsize=8, ncol=2)
plt.show()

# %% [markdown]
# ## 随机图案的容量 / Capacity for random patterns
#
# 存入 P 个随机 ±1 图案，从每个图案本身出发回忆，统计最终重叠度 m ≥ 0.95 的比例（找回时最多错 2.5% 的单元）。
# 另一条曲线只问每个图案是不是**完全**不动的不动点，这是 N/(2 ln N) 那个界所说的“完美回忆”；
# 它只需要一次矩阵乘法，所以能多做很多次试验。
# P random ±1 patterns are stored; recall starts from each pattern itself and we count how many end with overlap
# m >= 0.95 (at most 2.5% of the units wrong). A second measurement asks only whether each pattern is an
# *exact* fixed point, the "perfect recall" of the N/(2 ln N) bound; it costs one matrix product, so it gets
# many more trials.


# %%
def random_patterns(n_patterns, n_units):
    return rng.choice(np.array([-1.0, 1.0]), size=(n_patterns, n_units))  # (P, N)


def retrieval(n_units, n_patterns, trials):
    """Final overlaps of recall started at each stored pattern, (trials·P,); and how many runs did not settle."""
    overlaps, unsettled = [], 0
    for _ in range(trials):
        stored = random_patterns(n_patterns, n_units)
        weights = hebbian_weights(stored)
        final, _ = recall(weights, stored, rng, max_sweeps=200)
        unsettled += int(np.sum(np.any(sync_step(weights, final) != final, axis=-1)))
        overlaps.append(overlap(final, stored))
    return np.concatenate(overlaps), unsettled


def crossing(loads, fractions, level=0.5):
    """The load where ``fractions`` first falls below ``level`` (linear interpolation), or None."""
    for i in range(1, len(loads)):
        if fractions[i] < level <= fractions[i - 1]:
            share = (fractions[i - 1] - level) / (fractions[i - 1] - fractions[i])
            return loads[i - 1] + share * (loads[i] - loads[i - 1])
    return None


capacity = {}
for n_units in SIZES:
    counts = sorted({max(1, round(load * n_units)) for load in LOADS})
    runs = [retrieval(n_units, count, TRIALS[n_units]) for count in counts]
    fractions = [float(np.mean(m >= RECALLED)) for m, _ in runs]
    capacity[n_units] = {"loads": [count / n_units for count in counts], "recalled": fractions,
                         "mean_overlap": [float(np.mean(m)) for m, _ in runs],
                         "unsettled": sum(u for _, u in runs)}
    half = capacity[n_units]["half_load"] = crossing(capacity[n_units]["loads"], fractions)
    print(f"N = {n_units}: load where recall falls below 50%: {'not reached' if half is None else f'{half:.3f}'}; "
          f"runs that did not settle: {capacity[n_units]['unsettled']}")
    print("  P/N     " + " ".join(f"{load:6.3f}" for load in capacity[n_units]["loads"]))
    print("  recalled" + " ".join(f"{f:6.2f}" for f in fractions))
    print("  mean m  " + " ".join(f"{m:6.2f}" for m in capacity[n_units]["mean_overlap"]))


# %%
def exact_fixed_points(n_units, n_patterns, trials):
    """Fraction of stored patterns that are exact fixed points, and fraction of trials where all of them are."""
    each, every = [], []
    for _ in range(trials):
        stored = random_patterns(n_patterns, n_units)
        fixed = np.all(sync_step(hebbian_weights(stored), stored) == stored, axis=-1)  # (P,)
        each.append(fixed.mean())
        every.append(fixed.all())
    return float(np.mean(each)), float(np.mean(every))


FINE = np.linspace(0.01, 0.2, 6 if SMOKE else 20)
perfect = {}
for n_units in SIZES:
    counts = sorted({max(1, round(load * n_units)) for load in FINE})
    trials = 4 if SMOKE else 10_000 // n_units
    measured = [exact_fixed_points(n_units, count, trials) for count in counts]
    bounds = {"each": n_units / (2 * np.log(n_units)), "all": n_units / (4 * np.log(n_units))}
    perfect[n_units] = {"loads": [count / n_units for count in counts], "each": [m[0] for m in measured],
                        "all": [m[1] for m in measured], "bound_each": bounds["each"], "bound_all": bounds["all"],
                        "at_bound_each": exact_fixed_points(n_units, round(bounds["each"]), 2 * trials)[0],
                        "at_bound_all": exact_fixed_points(n_units, round(bounds["all"]), 2 * trials)[1]}
    print(f"N = {n_units}: N/(2 ln N) = {bounds['each']:.1f} patterns, of which "
          f"{perfect[n_units]['at_bound_each']:.0%} are exact fixed points; N/(4 ln N) = {bounds['all']:.1f} "
          f"patterns, all of them fixed in {perfect[n_units]['at_bound_all']:.0%} of the trials")

fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
for n_units, marker in zip(SIZES, "osD"):
    axes[0].plot(capacity[n_units]["loads"], capacity[n_units]["recalled"], marker=marker, label=f"N = {n_units}")
    line, = axes[1].plot(perfect[n_units]["loads"], perfect[n_units]["each"], marker=marker, label=f"N = {n_units}")
    axes[1].plot(perfect[n_units]["loads"], perfect[n_units]["all"], linestyle="--", color=line.get_color())
    axes[1].axvline(perfect[n_units]["bound_each"] / n_units, color=line.get_color(), linestyle=":")
axes[0].axvline(ALPHA_C, color="k", linestyle=":", label="0.138")
axes[0].set_ylabel(f"fraction recalled with m >= {RECALLED}")
axes[1].set_ylabel("exact fixed points: each pattern (solid), all (dashed)")
for ax in axes:
    ax.set_xlabel("load P/N")
    ax.legend()
plt.show()

# %% [markdown]
# ## 吸引域随负载缩小 / Basins of attraction shrink with the load
#
# N = 200，从翻转了一部分单元的图案出发回忆。
# N = 200; recall starts from patterns with a fraction of their units flipped.

# %%
BASIN_UNITS = 100 if SMOKE else 200
BASIN_LOADS = (0.05, 0.15) if SMOKE else (0.05, 0.1, 0.15)
NOISE = (0.0, 0.2, 0.4) if SMOKE else (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45)
BASIN_TRIALS = 1 if SMOKE else 8
basins = {}
for load in BASIN_LOADS:
    hits = np.zeros(len(NOISE))
    n_patterns = round(load * BASIN_UNITS)
    for _ in range(BASIN_TRIALS):
        stored = random_patterns(n_patterns, BASIN_UNITS)
        targets = np.tile(stored, (len(NOISE), 1))  # (levels·P, N): every pattern at every noise level
        starts = np.concatenate([corrupt(stored, round(noise * BASIN_UNITS), rng) for noise in NOISE])
        final, _ = recall(hebbian_weights(stored), starts, rng, max_sweeps=200)
        hits += (overlap(final, targets) >= RECALLED).reshape(len(NOISE), n_patterns).mean(axis=1)
    basins[load] = (hits / BASIN_TRIALS).tolist()
    print(f"P/N = {load}: " + "  ".join(f"{noise:.0%}: {f:.2f}" for noise, f in zip(NOISE, basins[load])))

fig, ax = plt.subplots(figsize=(6.5, 4))
for load, fractions in basins.items():
    ax.plot(NOISE, fractions, marker="o", label=f"P/N = {load}")
ax.set_xlabel("fraction of units flipped in the probe")
ax.set_ylabel(f"fraction recalled with m >= {RECALLED}")
ax.legend()
plt.show()

# %% [markdown]
# ## 手写数字：相关的图案 / Handwritten digits: correlated patterns
#
# 每一类数字的平均图像，像素均值大于 0.5 的记 +1，其余记 −1（64 个单元）。数字共用空白的背景和中间的笔画，
# 彼此的重叠度远大于随机图案。存入 k 类数字，统计从数字本身出发能找回的比例，与 64 个单元的随机图案比较。
# The mean image of each digit class, +1 where the mean pixel exceeds 0.5 and −1 elsewhere (64 units). Digits
# share the blank border and the strokes in the middle, so they overlap far more than random patterns do. We store
# k classes and count how many are recalled starting from the digit itself, against random patterns of 64 units.

# %%
x_train, x_test, y_train, y_test = digits()
x, y = np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])
prototypes = np.stack([np.where(x[y == digit].mean(axis=0) > 0.5, 1.0, -1.0) for digit in range(10)])  # (10, 64)
upper = np.triu_indices(10, 1)
digit_overlap = float(np.abs(overlap(prototypes[:, None], prototypes[None]))[upper].mean())
random_overlap = float(np.mean([np.abs(overlap(*random_patterns(2, 64))) for _ in range(2000)]))
print(f"mean |overlap| between two digit prototypes: {digit_overlap:.2f}; between two random patterns: "
      f"{random_overlap:.2f}")

DIGIT_TRIALS, MOST_RANDOM = (3, 12) if SMOKE else (40, 16)


def recalled_fraction(stored):
    final, _ = recall(hebbian_weights(stored), stored, rng)
    return np.mean(overlap(final, stored) >= RECALLED)


digit_recalled = [float(np.mean([recalled_fraction(prototypes[rng.choice(10, k, replace=False)])
                                 for _ in range(DIGIT_TRIALS)])) for k in range(1, 11)]
random_recalled = [float(np.mean([recalled_fraction(random_patterns(k, 64)) for _ in range(DIGIT_TRIALS)]))
                   for k in range(1, MOST_RANDOM + 1)]
print(" k        " + " ".join(f"{k:5d}" for k in range(1, MOST_RANDOM + 1)))
print(" digits   " + " ".join(f"{f:5.2f}" for f in digit_recalled))
print(" random   " + " ".join(f"{f:5.2f}" for f in random_recalled))

fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [1.3, 1]})
axes[0].imshow(np.hstack([np.pad(p.reshape(8, 8), 1, constant_values=-1) for p in prototypes]), cmap="gray_r")
axes[0].set_axis_off()
axes[0].set_title("digit prototypes (64 units each)")
axes[1].plot(range(1, 11), digit_recalled, marker="o", label="digit prototypes")
axes[1].plot(range(1, MOST_RANDOM + 1), random_recalled, marker="s", label="random patterns, N = 64")
axes[1].axvline(ALPHA_C * 64, color="k", linestyle=":", label="0.138 · 64")
axes[1].set_xlabel("patterns stored, k")
axes[1].set_ylabel(f"fraction recalled with m >= {RECALLED}")
axes[1].legend()
plt.show()

# %% [markdown]
# ## 记录结果 / Record the results
#
# 建站时设置 `N2T_LAB_RESULTS`，概念页引用这里记下的数字。
# The site build sets `N2T_LAB_RESULTS`; the concept page quotes the numbers recorded here.


# %%
def largest_reliable(fractions, level=0.9):
    """The largest k such that every k' <= k is recalled at least ``level`` of the time."""
    return next((k for k, f in enumerate(fractions) if f < level), len(fractions))


results = {
    "seed": SEED, "recalled_threshold": RECALLED, "alpha_c": ALPHA_C, "sizes": list(SIZES),
    "glyph_units": int(net.n_units), "glyph_count": int(net.n_patterns), "glyph_flips": int(flips),
    "glyph_overlap_before": overlap(probes, patterns).tolist(),
    "glyph_overlap_after": overlap(recalled, patterns).tolist(),
    "glyph_sweeps": int(sweeps), "glyph_energy_max_step": float(steps.max()),
    "capacity": {str(n): value for n, value in capacity.items()},
    "perfect": {str(n): value for n, value in perfect.items()},
    "basin_units": BASIN_UNITS, "basin_noise": list(NOISE), "basins": {str(load): f for load, f in basins.items()},
    "digit_overlap": digit_overlap, "random_overlap_64": random_overlap,
    "digit_recalled": digit_recalled, "random_recalled_64": random_recalled,
    "digit_reliable_k": largest_reliable(digit_recalled), "random_reliable_k": largest_reliable(random_recalled),
}
print(f"reliably stored (>= 90% recalled for every k up to it): {results['digit_reliable_k']} digit prototypes, "
      f"{results['random_reliable_k']} random patterns; 0.138 · 64 = {ALPHA_C * 64:.1f}")
if os.environ.get("N2T_LAB_RESULTS"):
    Path(os.environ["N2T_LAB_RESULTS"]).write_text(json.dumps(results))
if not SMOKE:
    assert min(results["glyph_overlap_after"]) == 1.0, "every glyph is recalled exactly"
    for n_units in SIZES:
        assert capacity[n_units]["recalled"][1] > 0.99, "low load: every pattern is recalled"
        assert capacity[n_units]["recalled"][-1] < 0.2, "load 0.3: retrieval has broken down"
        assert capacity[n_units]["unsettled"] == 0, "asynchronous recall always reaches a fixed point"
    assert basins[0.05][6] > basins[0.15][6], "the basins shrink as the load grows"
    assert results["digit_reliable_k"] < results["random_reliable_k"], "correlated digits fit fewer"
