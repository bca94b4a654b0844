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
    return cases


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
    return cases


def main(backend):
    rng = np.random.default_rng(0)
    cases = numpy_cases(rng) if backend == "numpy" else torch_cases(rng)
    print(json.dumps({name: best_time(fn) for name, fn in cases.items()}))


if __name__ == "__main__":
    main(sys.argv[1])
