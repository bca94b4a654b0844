# %% [markdown]
# # 保存与加载实验 / Lab: saving and loading a trained model
#
# 概念见 [保存与加载模型](../../../training/saving/)。
# Concepts: [saving and loading a model](../../../training/saving/).
#
# 训练一个手写数字 MLP，保存到文件，在一个全新的 Python 进程中加载，预测完全相同。
# Train a digits MLP, save it, load it in a fresh Python process: identical predictions.
#
# 运行 / Run: `python snippets/training/saving.py`

# %%
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

import n2t.numpy as nnp
import n2t.torch as nt
from n2t.data import digits

SMOKE = bool(os.environ.get("N2T_SMOKE"))
x_train, x_test, y_train, y_test = digits()
rng = np.random.default_rng(0)
model = nnp.Sequential(nnp.Linear(64, 64, rng=rng), nnp.BatchNorm1d(64), nnp.ReLU(), nnp.Linear(64, 10, rng=rng))
nnp.fit(model, nnp.Adam(model.parameters(), lr=1e-3), x_train, y_train, epochs=3 if SMOKE else 15, rng=rng)
print("test accuracy:", nnp.evaluate(model, x_test, y_test)["accuracy"])

# %% [markdown]
# ## NumPy：.npz 加清单 / NumPy: an .npz with a manifest

# %%
folder = Path(tempfile.mkdtemp())
nnp.save_model(model, folder / "digits.npz")
np.save(folder / "x_test.npy", x_test)
with np.load(folder / "digits.npz", allow_pickle=False) as archive:
    manifest = json.loads(str(archive["__manifest__"]))
    print({name: archive[name].shape for name in archive.files if name != "__manifest__"})
print(json.dumps(manifest, indent=1)[:600])

# %% [markdown]
# ## 在新进程中加载 / Loading in a fresh process

# %%
fresh = """
import sys, numpy as np
from n2t.numpy import load_model
model = load_model(sys.argv[1] + "/digits.npz")
np.save(sys.argv[1] + "/logits.npy", model.forward(np.load(sys.argv[1] + "/x_test.npy")))
"""
subprocess.run([sys.executable, "-c", fresh, str(folder)], check=True)
model.eval()
ours, theirs = model.forward(x_test), np.load(folder / "logits.npy")
print("identical logits:", np.array_equal(ours, theirs))
print("same predictions:", int(np.sum(ours.argmax(1) == theirs.argmax(1))), "of", len(x_test))

# %% [markdown]
# ## PyTorch：state_dict / PyTorch: a state_dict

# %%
torch.manual_seed(0)
net = nt.mlp([64, 64, 10])
nt.fit(net, torch.optim.Adam(net.parameters(), lr=1e-3), torch.from_numpy(x_train).float(),
       torch.from_numpy(y_train), 3 if SMOKE else 15, nt.cross_entropy, device="cpu")
nt.save_state(net, folder / "digits.pt")
restored = nt.load_state(nt.mlp([64, 64, 10]), folder / "digits.pt").eval()
net.eval()
with torch.no_grad():
    same = torch.equal(net(torch.from_numpy(x_test).float()), restored(torch.from_numpy(x_test).float()))
print("PyTorch round trip identical:", same)

# %% [markdown]
# ## 坏文件 / Bad files give clear errors

# %%
(folder / "truncated.npz").write_bytes((folder / "digits.npz").read_bytes()[:500])
for attempt in (lambda: nnp.load_model(folder / "truncated.npz"),
                lambda: nt.load_state(nt.mlp([64, 32, 10]), folder / "digits.pt")):
    try:
        attempt()
    except ValueError as error:
        print("ValueError:", str(error)[:160])

# %%
assert np.array_equal(ours, theirs) and same

# %%
import shutil

shutil.rmtree(folder)
