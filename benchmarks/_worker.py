"""Time one backend in its own process: ``python benchmarks/_worker.py numpy|torch``.

Prints JSON {case: seconds per forward+backward}. Thread counts are fixed by the parent through
environment variables (and ``torch.set_num_threads``) so the two backends never compete.
"""

from __future__ import annotations

import json
import os
import sys
import timeit

import numpy as np

N, D, H = 256, 1024, 512
SHAPE = (N, D)
ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish", "gelu", "gelu_tanh"]


def best_time(fn, repeat=7):
    number = max(1, int(0.05 / max(timeit.timeit(fn, number=1), 1e-7)))
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def numpy_cases(rng):
    import n2t.numpy as nnp

    x = rng.standard_normal(SHAPE).astype(np.float32)
    dout = rng.standard_normal(SHAPE).astype(np.float32)
    cases = {}
    for name in ACTIVATIONS:
        base = "gelu" if name.startswith("gelu") else name
        forward, backward = getattr(nnp, f"{base}_forward"), getattr(nnp, f"{base}_backward")
        kwargs = {"approximate": "tanh"} if name == "gelu_tanh" else {}
        cases[name] = lambda f=forward, b=backward, k=kwargs: b(dout, f(x, **k)[1])
    w = rng.standard_normal((H, D)).astype(np.float32)
    b = rng.standard_normal(H).astype(np.float32)
    dy = rng.standard_normal((N, H)).astype(np.float32)
    cases["linear"] = lambda: nnp.linear_backward(dy, nnp.linear_forward(x, w, b)[1])
    cases["digits_epoch"] = numpy_digits_epoch()
    return cases


def numpy_digits_epoch():
    """One epoch (minibatches of 32, Adam) of a 64-128-10 ReLU MLP on the digits training split."""
    import n2t.numpy as nnp
    from n2t.data import digits
    from n2t.numpy.train import minibatches, train_step

    x_train, _, y_train, _ = digits()
    x_train = x_train.astype(np.float32)
    rng = np.random.default_rng(0)
    model = nnp.Sequential(nnp.Linear(64, 128, rng=rng), nnp.ReLU(), nnp.Linear(128, 10, rng=rng))
    for layer in (model[0], model[2]):
        layer.params = {k: v.astype(np.float32) for k, v in layer.params.items()}
    optimizer = nnp.Adam(model.parameters(), lr=1e-3)

    def epoch():
        for index in minibatches(len(x_train), 32, rng):
            train_step(model, optimizer, x_train[index], y_train[index])

    return epoch


def torch_cases(rng):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(int(os.environ.get("N2T_BENCH_THREADS", "1")))
    x = torch.tensor(rng.standard_normal(SHAPE), dtype=torch.float32, requires_grad=True)
    dout = torch.tensor(rng.standard_normal(SHAPE), dtype=torch.float32)
    builtins = {
        "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu, "leaky_relu": F.leaky_relu,
        "elu": F.elu, "swish": F.silu, "gelu": F.gelu, "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"),
    }

    def step(fn):
        x.grad = None
        fn(x).backward(dout)

    cases = {name: (lambda f=fn: step(f)) for name, fn in builtins.items()}
    layer = torch.nn.Linear(D, H)
    dy = torch.tensor(rng.standard_normal((N, H)), dtype=torch.float32)

    def linear_step():
        layer.zero_grad(set_to_none=True)
        x.grad = None
        layer(x).backward(dy)

    cases["linear"] = linear_step
    cases["digits_epoch"] = torch_digits_epoch()
    return cases


def torch_digits_epoch():
    """The same epoch in PyTorch (n2t.torch.mlp, torch.optim.Adam)."""
    import torch

    import n2t.torch as nt
    from n2t.data import digits

    x_train, _, y_train, _ = digits()
    x, y = torch.from_numpy(x_train).float(), torch.from_numpy(y_train)
    model = nt.mlp([64, 128, 10])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)

    def epoch():
        for index in torch.randperm(len(x), generator=generator).split(32):
            optimizer.zero_grad()
            nt.cross_entropy(model(x[index]), y[index]).backward()
            optimizer.step()

    return epoch


def main(backend):
    import _attention_cases
    import _cnn_cases
    import _rnn_cases

    rng = np.random.default_rng(0)
    cases = numpy_cases(rng) if backend == "numpy" else torch_cases(rng)
    for chapter in (_cnn_cases, _rnn_cases, _attention_cases):
        cases.update((chapter.numpy_cases if backend == "numpy" else chapter.torch_cases)(rng))
    print(json.dumps({name: best_time(fn) for name, fn in cases.items()}))


if __name__ == "__main__":
    main(sys.argv[1])
