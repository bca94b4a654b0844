"""``make bench``: n2t.numpy against PyTorch (CPU): activations, the linear layer, an MLP epoch, convolution,
max-pooling, a LeNet training step, a whole-sequence RNN and LSTM, multi-head attention, and an RNN layer
against an attention layer across sequence lengths (shapes in ``_worker.py``, ``_cnn_cases.py``,
``_rnn_cases.py`` and ``_attention_cases.py``).

Each backend runs in its own process with the same fixed thread count (default 1; set
N2T_BENCH_THREADS), because NumPy's BLAS pool and torch's intra-op pool slow each other down when
they share two cores. Reports seconds per forward+backward and the ratio numpy / torch
(> 1: NumPy is slower). Results are also written to artifacts/bench.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
THREADS = os.environ.get("N2T_BENCH_THREADS", "1")
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
# glibc returns every freed block above its mmap threshold to the kernel, so a NumPy layer that allocates
# megabyte-sized temporaries on each call pays fresh page faults each time (torch keeps its own buffers).
# The "reuse" column raises the threshold for both backends, as a long training process could.
ALLOCATORS = {"default": {}, "reuse": {"MALLOC_MMAP_THRESHOLD_": str(2**30), "MALLOC_TRIM_THRESHOLD_": str(2**30)}}


def run_backend(backend: str, allocator: str = "default") -> dict[str, float]:
    env = {**os.environ, **{name: THREADS for name in THREAD_VARS}, "N2T_BENCH_THREADS": THREADS,
           **ALLOCATORS[allocator]}
    done = subprocess.run([sys.executable, str(HERE / "_worker.py"), backend], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    numpy_times, torch_times = run_backend("numpy"), run_backend("torch")
    numpy_reuse, torch_reuse = run_backend("numpy", "reuse"), run_backend("torch", "reuse")
    from _worker import D, H, N  # noqa: PLC0415

    print(f"n2t.numpy vs torch {__import__('torch').__version__} (CPU), float32, {THREADS} thread(s), "
          f"activations on ({N}, {D}), linear ({N}, {D}) -> ({N}, {H}); forward + backward")
    print(f"{'case':<12}{'numpy ms':>12}{'torch ms':>12}{'numpy/torch':>14}{'with reuse':>12}")
    rows = []
    for case, numpy_seconds in numpy_times.items():
        ratio = numpy_seconds / torch_times[case]
        reuse_ratio = numpy_reuse[case] / torch_reuse[case]
        rows.append({"case": case, "numpy_s": numpy_seconds, "torch_s": torch_times[case], "ratio": ratio,
                     "numpy_reuse_s": numpy_reuse[case], "torch_reuse_s": torch_reuse[case],
                     "reuse_ratio": reuse_ratio})
        print(f"{case:<12}{numpy_seconds * 1e3:>12.3f}{torch_times[case] * 1e3:>12.3f}{ratio:>14.2f}"
              f"{reuse_ratio:>12.2f}")
    from _attention_cases import report  # noqa: PLC0415

    length_rows = report(numpy_times, torch_times)
    out = HERE.parent / "artifacts" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"threads": THREADS, "rows": rows, "rnn_vs_attention": length_rows}, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
