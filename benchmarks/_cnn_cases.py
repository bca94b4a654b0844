"""Chapter 5 cases for ``_worker.py``: convolution, max-pooling and a LeNet training step, forward + backward.

Shapes: conv 3→16 on (64, 3, 32, 32), conv 16→32 on (64, 16, 16, 16), both 3×3 with padding 1; max-pool 2×2 on
(64, 16, 32, 32); one Adam step of LeNet (the digits network of chapter 5) on a batch of 64 images.
"""

from __future__ import annotations

import numpy as np

CONVS = {"conv3to16": (64, 3, 16, 32), "conv16to32": (64, 16, 32, 16)}  # name: (N, C_in, C_out, size)
POOL_SHAPE = (64, 16, 32, 32)
LENET_BATCH = 64


def numpy_cases(rng: np.random.Generator) -> dict:
    import n2t.numpy as nnp
    from n2t.numpy.lenet import lenet
    from n2t.numpy.train import train_step

    cases = {}
    for name, (n, c_in, c_out, size) in CONVS.items():
        x = rng.standard_normal((n, c_in, size, size)).astype(np.float32)
        w = rng.standard_normal((c_out, c_in, 3, 3)).astype(np.float32)
        b = rng.standard_normal(c_out).astype(np.float32)
        dout = rng.standard_normal((n, c_out, size, size)).astype(np.float32)
        cases[name] = lambda x=x, w=w, b=b, d=dout: nnp.conv2d_backward(d, nnp.conv2d_forward(x, w, b, 1, 1)[1])
    x = rng.standard_normal(POOL_SHAPE).astype(np.float32)
    d_pool = rng.standard_normal((*POOL_SHAPE[:2], POOL_SHAPE[2] // 2, POOL_SHAPE[3] // 2)).astype(np.float32)
    cases["maxpool"] = lambda: nnp.max_pool2d_backward(d_pool, nnp.max_pool2d_forward(x, 2)[1])
    model = lenet(rng=rng)
    for params, _ in model.parameters():
        for key in params:
            params[key] = params[key].astype(np.float32)
    optimizer = nnp.Adam(model.parameters(), lr=1e-3)
    images = rng.uniform(0, 1, (LENET_BATCH, 1, 8, 8)).astype(np.float32)
    labels = rng.integers(0, 10, LENET_BATCH)
    cases["lenet_step"] = lambda: train_step(model, optimizer, images, labels)
    return cases


def torch_cases(rng: np.random.Generator) -> dict:
    import torch
    import torch.nn.functional as F
    from torch import nn

    def timed_step(module, x, dout):
        def step():
            module.zero_grad(set_to_none=True)
            x.grad = None
            module(x).backward(dout)
        return step

    cases = {}
    for name, (n, c_in, c_out, size) in CONVS.items():
        conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        x = torch.tensor(rng.standard_normal((n, c_in, size, size)), dtype=torch.float32, requires_grad=True)
        dout = torch.tensor(rng.standard_normal((n, c_out, size, size)), dtype=torch.float32)
        cases[name] = timed_step(conv, x, dout)
    x = torch.tensor(rng.standard_normal(POOL_SHAPE), dtype=torch.float32, requires_grad=True)
    d_pool = torch.randn(*POOL_SHAPE[:2], POOL_SHAPE[2] // 2, POOL_SHAPE[3] // 2)
    cases["maxpool"] = timed_step(nn.MaxPool2d(2), x, d_pool)
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1),
                          nn.ReLU(), nn.Flatten(), nn.Dropout(0.3), nn.Linear(1024, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = torch.rand(LENET_BATCH, 1, 8, 8)
    labels = torch.randint(0, 10, (LENET_BATCH,))

    def lenet_step():
        optimizer.zero_grad()
        F.cross_entropy(model(images), labels).backward()
        optimizer.step()

    cases["lenet_step"] = lenet_step
    return cases
