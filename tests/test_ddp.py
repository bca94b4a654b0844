"""n2t.torch.ddp: two gloo processes launched by torchrun hold, after their first backward, the gradients one
process computes on the union of their batches; every rank ends with the same weights; the whole run equals
single-process training on the merged batches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DistributedSampler

from n2t.torch.ddp import main, make_model, reference_gradients, synthetic_dataset

ROOT = Path(__file__).resolve().parent.parent


def launch(tmp_path: Path, processes: int, *args: str) -> dict:
    """Run ``torchrun --standalone --nproc_per_node <processes> -m n2t.torch.ddp --out ...`` and read the JSON."""
    out = tmp_path / "ddp.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes),
               "-m", "n2t.torch.ddp", "--out", str(out), *args]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def gloo_run(tmp_path_factory) -> dict:
    return launch(tmp_path_factory.mktemp("ddp"), 2)


def as_tensors(grads: dict) -> dict[str, torch.Tensor]:
    return {name: torch.tensor(value, dtype=torch.float64) for name, value in grads.items()}


def check_first_step(record: dict) -> None:
    first = record["steps"][0]
    merged = [i for batch in first["indices"] for i in batch]
    expected = reference_gradients(merged)
    averaged = as_tensors(first["grads"])
    assert averaged.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(averaged[name], expected[name], rtol=0, atol=1e-6, msg=name)
    x, y = synthetic_dataset()[merged]
    assert first["loss"] == pytest.approx(F.cross_entropy(make_model()(x), y).item(), abs=1e-12)


def test_first_step_averaged_gradients_equal_full_batch_gradients(gloo_run):
    assert gloo_run["world_size"] == 2 and gloo_run["backend"] == "gloo"
    check_first_step(gloo_run)


def test_a_single_rank_shard_alone_gives_different_gradients(gloo_run):
    """The check above can fail: without the all-reduce, rank 0 would hold its own shard's gradients."""
    first = gloo_run["steps"][0]
    own = reference_gradients(first["indices"][0])
    averaged = as_tensors(first["grads"])
    assert max((own[name] - averaged[name]).abs().max().item() for name in own) > 1e-3


def test_ranks_take_the_distributed_sampler_shards(gloo_run):
    """Rank r's first batch is the first b indices of DistributedSampler(rank=r), built here without a group."""
    dataset, batch = synthetic_dataset(), gloo_run["batch_size"]
    first = gloo_run["steps"][0]["indices"]
    for rank in range(2):
        sampler = DistributedSampler(dataset, num_replicas=2, rank=rank, shuffle=True, seed=0)
        assert first[rank] == list(sampler)[:batch]
    assert not set(first[0]) & set(first[1])


def test_final_weights_are_identical_on_every_rank(gloo_run):
    rank0, rank1 = (torch.tensor(w, dtype=torch.float64) for w in gloo_run["weights"])
    assert torch.equal(rank0, rank1)


def test_the_whole_run_equals_single_process_training_on_merged_batches(gloo_run):
    x, y = synthetic_dataset().tensors
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for step in gloo_run["steps"]:
        merged = [i for batch in step["indices"] for i in batch]
        optimizer.zero_grad()
        F.cross_entropy(model(x[merged]), y[merged]).backward()
        optimizer.step()
    weights = torch.cat([p.detach().flatten() for p in model.parameters()])
    torch.testing.assert_close(torch.tensor(gloo_run["weights"][0], dtype=torch.float64), weights,
                               rtol=0, atol=1e-10)
    losses = [step["loss"] for step in gloo_run["steps"]]
    assert losses[-1] < 0.7 * losses[0]


@pytest.mark.gpu
def test_nccl_on_gpus(tmp_path):
    processes = min(2, torch.cuda.device_count())  # one process per GPU
    record = launch(tmp_path, processes)
    assert record["world_size"] == processes and record["backend"] == "nccl"
    check_first_step(record)
    assert all(w == record["weights"][0] for w in record["weights"])


def test_main_needs_torchrun_and_valid_sizes(monkeypatch, capsys):
    monkeypatch.delenv("RANK", raising=False)
    with pytest.raises(SystemExit):
        main([])
    assert "run under torchrun" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--batch-size", "0"])
    assert "--batch-size must be >= 1; got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--epochs", "-1"])
    assert "--epochs must be >= 1; got -1" in capsys.readouterr().err
