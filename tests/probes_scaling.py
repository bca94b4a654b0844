"""Probes for the regions of ``n2t.torch.scaling`` and ``n2t.torch.ddp`` (see test_snippets.PROBES).

The DDP probes join a one-process gloo group (what ``torchrun --nproc_per_node 1`` would set up) and leave it.
"""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Iterator

import torch
import torch.distributed as dist
from torch import nn


@contextlib.contextmanager
def one_process_environment() -> Iterator[None]:
    """The environment variables torchrun sets, for a world of one process on a free local port."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    values = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": "0", "WORLD_SIZE": "1",
              "LOCAL_RANK": "0"}
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def setup_probe(get):
    with one_process_environment():
        rank, world_size, device = get("setup")()
        return rank, world_size, device.type, dist.get_backend()


def train_probe(get):
    with one_process_environment():
        _, _, device = get("setup")()
        record = get("train")(device, epochs=1, batch_size=16)
        return [step["loss"] for step in record["steps"]], record["steps"][-1]["grads"], record["weights"]


def gather_probe(get):
    with one_process_environment():
        _, _, device = get("setup")()
        return [t.cpu() for t in get("gather")(torch.arange(5.0, device=device))]


def record_probe(get):
    with one_process_environment():
        _, _, device = get("setup")()  # gloo on CPU, NCCL (tensors on the GPU) with CUDA
        model = get("make_model")().to(device)
        loss = model(torch.ones(2, 6, dtype=torch.float64, device=device)).sum()
        loss.backward()
        return get("record_step")(model, loss, torch.tensor([4, 2], device=device))


def loss_fn():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 7), nn.GELU(), nn.Linear(7, 2))
    x = torch.randn(4, 5)
    return lambda: model(x).pow(2).mean()


PROBES = {
    "n2t.torch.scaling": {
        "transformer_parameters": lambda get: [
            get("transformer_parameters")(768, 12, 50257, positions=1024),
            get("transformer_parameters")(64, 2, 100, 96, decoder_layers=3, bias=False, tied=False, pooler=True)],
        "flops_per_token": lambda get: [get("flops_per_token")(768, 12, 1024, 50257),
                                        get("flops_per_token")(64, 2, 10, d_ff=96, causal=False)],
        "weight_memory": lambda get: get("weight_memory")(123_456),
        "activation_memory": lambda get: [
            get("activation_memory")(8, 1024, 768, 12, 12, 50257),
            get("activation_memory")(2, 16, 64, 3, 4, activation="relu", attention_weights=False, bytes_per_value=2)],
        "saved_tensor_bytes": lambda get: get("saved_tensor_bytes")(loss_fn()),
    },
    "n2t.torch.ddp": {
        "synthetic_dataset": lambda get: get("synthetic_dataset")(n=10, features=3, classes=2, seed=4).tensors,
        "make_model": lambda get: get("make_model")(features=6, hidden=5, classes=3, seed=2)(
            torch.linspace(-1, 1, 12, dtype=torch.float64).view(2, 6)),
        "setup": setup_probe,
        "gather": gather_probe,
        "record_step": record_probe,
        "train": train_probe,
        "reference_gradients": lambda get: list(get("reference_gradients")([3, 1, 4, 15, 9, 2]).values()),
    },
}
