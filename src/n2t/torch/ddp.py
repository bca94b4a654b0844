"""Data-parallel training with ``DistributedDataParallel``: one process per device, gradients averaged by all-reduce.

Run it with two processes on CPU (gloo) or on two GPUs (NCCL), unchanged::

    torchrun --standalone --nproc_per_node 2 -m n2t.torch.ddp --out ddp.json

``reference_gradients`` computes in one process, on the union of the ranks' first batches, the gradients that
the ranks hold after their first ``backward``; ``tests/test_ddp.py`` checks the two agree.
"""

from __future__ import annotations

import argparse
import gc
import json
from pathlib import Path
from typing import Sequence

# --8<-- [start:imports]
import os
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset
# --8<-- [end:imports]

__all__ = ["synthetic_dataset", "make_model", "setup", "gather", "record_step", "train", "reference_gradients", "main"]


# --8<-- [start:data]
def synthetic_dataset(n: int = 64, features: int = 6, classes: int = 3, seed: int = 0) -> TensorDataset:
    """A fixed classification set in float64: x (N, D) standard normal, labels from a random linear map."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, features, generator=generator, dtype=torch.float64)  # (N, D)
    w = torch.randn(features, classes, generator=generator, dtype=torch.float64)
    return TensorDataset(x, (x @ w).argmax(dim=1))


def make_model(features: int = 6, hidden: int = 16, classes: int = 3, seed: int = 0) -> nn.Module:
    """A small MLP in float64, initialised from ``seed`` (every rank builds the same one)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(features, hidden), nn.Tanh(), nn.Linear(hidden, classes)).double()
# --8<-- [end:data]


# --8<-- [start:setup]
def setup() -> tuple[int, int, torch.device]:
    """Join the process group that ``torchrun`` describes in environment variables (RANK, WORLD_SIZE, ...).

    Returns:
        this process's rank, the number of processes and its device: NCCL and one GPU per process when CUDA
        is available, else gloo on the CPU.
    """
    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
        dist.init_process_group("nccl")
    else:
        device = torch.device("cpu")
        dist.init_process_group("gloo")
    return dist.get_rank(), dist.get_world_size(), device
# --8<-- [end:setup]


# --8<-- [start:record]
def gather(tensor: torch.Tensor) -> list[torch.Tensor]:
    """Every rank's copy of ``tensor`` (the same shape on every rank), in rank order."""
    copies = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
    dist.all_gather(copies, tensor)
    return copies


def record_step(model: nn.Module, loss: torch.Tensor, batch: torch.Tensor) -> dict[str, Any]:
    """The loss averaged over the ranks, each rank's batch (dataset indices) and this rank's gradients."""
    total = loss.detach().clone()
    dist.all_reduce(total)  # sum over the ranks
    return {"loss": total.item() / dist.get_world_size(), "indices": [b.tolist() for b in gather(batch)],
            "grads": {name: p.grad.tolist() for name, p in model.named_parameters() if p.grad is not None}}
# --8<-- [end:record]


# --8<-- [start:train]
def train(device: torch.device, epochs: int = 2, batch_size: int = 8, lr: float = 0.5) -> dict[str, Any]:
    """Train ``make_model()`` on ``synthetic_dataset()`` with DDP; call after ``setup()`` on every rank.

    Each rank reads its own shard (``DistributedSampler``) in batches of ``batch_size``; after ``backward``
    every gradient is the mean over the ranks, so every rank takes the same optimiser step.

    Returns:
        ``steps``: one ``record_step`` per step; ``weights``: every rank's final weights as a flat vector.
    """
    dataset = synthetic_dataset()
    # a shuffled order of the indices, the same on every rank; rank r takes positions r, r + W, r + 2W, ...
    sampler: DistributedSampler[int] = DistributedSampler(dataset, shuffle=True, seed=0)
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler)
    model = DistributedDataParallel(make_model().to(device))  # broadcasts rank 0's weights
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    steps = []
    for epoch in range(epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        shard = list(sampler)  # this rank's indices, in this epoch's order
        for step, (x, y) in enumerate(loader):
            loss = F.cross_entropy(model(x.to(device)), y.to(device))
            optimizer.zero_grad()
            loss.backward()  # DDP all-reduces the gradients here: the sum over ranks / W
            batch = torch.tensor(shard[step * batch_size:(step + 1) * batch_size], device=device)
            steps.append(record_step(model.module, loss, batch))
            optimizer.step()
    weights = torch.cat([p.detach().flatten() for p in model.module.parameters()])
    return {"steps": steps, "weights": [w.tolist() for w in gather(weights)]}
# --8<-- [end:train]


# --8<-- [start:reference]
def reference_gradients(indices: list[int]) -> dict[str, torch.Tensor]:
    """Gradients of the mean loss over the examples ``indices``, in one process, from the initial weights.

    With the union of the ranks' first batches (equal sizes), they equal what DDP's all-reduce gives:
    the mean of W per-rank means of b examples each is the mean over all W·b examples.
    """
    x, y = synthetic_dataset()[indices]
    model = make_model()
    loss = F.cross_entropy(model(x), y)
    names, parameters = zip(*model.named_parameters())
    return dict(zip(names, torch.autograd.grad(loss, parameters)))
# --8<-- [end:reference]


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point for ``torchrun ... -m n2t.torch.ddp [--epochs E] [--batch-size B] [--lr LR] [--out FILE]``."""
    parser = argparse.ArgumentParser(description="Data-parallel training of a small MLP with DDP.")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8, help="examples per rank and step")
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--out", type=Path, help="rank 0 writes the per-step record here as JSON")
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1; got {getattr(args, name)}")
    if "RANK" not in os.environ:
        parser.error("no process group to join: run under torchrun, e.g. "
                     "torchrun --standalone --nproc_per_node 2 -m n2t.torch.ddp")
    rank, world_size, device = setup()
    try:
        record = train(device, args.epochs, args.batch_size, args.lr)
        if rank == 0:
            record.update(world_size=world_size, backend=dist.get_backend(), batch_size=args.batch_size)
            if args.out is not None:
                args.out.write_text(json.dumps(record))
            print(f"{world_size} ranks ({dist.get_backend()}), {len(record['steps'])} steps: loss "
                  f"{record['steps'][0]['loss']:.4f} -> {record['steps'][-1]['loss']:.4f}")
    finally:
        gc.collect()  # DDP's reducer sits in reference cycles: free it, and the group it holds, before teardown
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
