# %% [markdown]
# # 批量规范化与暂退法实验 / Lab: batch normalisation and dropout
#
# 概念见 [训练深度网络](../../../training/deep/)。 Concepts: [training deep networks](../../../training/deep/).
#
# 1. 一个 10 层 sigmoid 网络：加批量规范化前后的训练速度。
#    A 10-layer sigmoid network: how fast it trains with and without batch normalisation.
# 2. 只用 200 张训练图：暂退法（Dropout）和权重衰减对过拟合的影响。
#    Only 200 training images: what dropout and weight decay do to overfitting.
#
# 运行 / Run: `python snippets/training/regularization.py`

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import n2t.numpy as nnp
from n2t.data import digits

SMOKE = bool(os.environ.get("N2T_SMOKE"))
x_train, x_test, y_train, y_test = digits()


def deep_sigmoid(batchnorm, depth=10, width=64, seed=0):
    rng = np.random.default_rng(seed)
    layers, fan_in = [], 64
    for _ in range(depth - 1):
        layers.append(nnp.Linear(fan_in, width, rng=rng))
        if batchnorm:
            layers.append(nnp.BatchNorm1d(width))
        layers.append(nnp.Sigmoid())
        fan_in = width
    layers.append(nnp.Linear(fan_in, 10, rng=rng))
    return nnp.Sequential(*layers)


# %% [markdown]
# ## 批量规范化 / Batch normalisation

# %%
epochs = 3 if SMOKE else 10
bn_histories = {}
for batchnorm in (False, True):
    model = deep_sigmoid(batchnorm)
    bn_histories[batchnorm] = nnp.fit(model, nnp.SGD(model.parameters(), lr=0.1, momentum=0.9), x_train, y_train,
                                      epochs=epochs, rng=np.random.default_rng(0), validation=(x_test, y_test))
    print(f"10-layer sigmoid, batch norm {'on ' if batchnorm else 'off'}: "
          f"test accuracy after {epochs} epochs {bn_histories[batchnorm]['val_accuracy'][-1]:.3f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
for batchnorm, history in bn_histories.items():
    ax.plot(range(1, epochs + 1), history["val_accuracy"], marker="o",
            label=f"batch norm {'on' if batchnorm else 'off'}")
ax.set_xlabel("epoch")
ax.set_ylabel("test accuracy")
ax.legend()
plt.show()

# %% [markdown]
# ## 小数据上的过拟合 / Overfitting on 200 images

# %%
small_x, small_y = x_train[:200], y_train[:200]
epochs = 30 if SMOKE else 100
SETUPS = {
    "no regularisation": (0.0, 0.0),
    "dropout 0.5": (0.5, 0.0),
    "weight decay 1e-3": (0.0, 1e-3),
}
results = {}
for name, (p, decay) in SETUPS.items():
    rng = np.random.default_rng(0)
    layers = [nnp.Linear(64, 256, rng=rng), nnp.ReLU()]
    if p:
        layers.append(nnp.Dropout(p, rng=rng))
    layers.append(nnp.Linear(256, 10, rng=rng))
    model = nnp.Sequential(*layers)
    history = nnp.fit(model, nnp.Adam(model.parameters(), lr=1e-3, weight_decay=decay), small_x, small_y,
                      epochs=epochs, batch_size=20, rng=rng, validation=(x_test, y_test))
    results[name] = (history["accuracy"][-1], history["val_accuracy"][-1])
    print(f"{name:<20} train {results[name][0]:.3f}  test {results[name][1]:.3f}  "
          f"gap {results[name][0] - results[name][1]:.3f}")

# %%
assert bn_histories[True]["val_accuracy"][-1] > bn_histories[False]["val_accuracy"][-1]
assert all(train >= test for train, test in results.values()), "training accuracy exceeds test accuracy"
