"""Chapter 7 cases for ``_worker.py``: multi-head self-attention, and an RNN layer against an attention layer
across sequence lengths; every case is forward + backward, float32.

``mha``: a batch of N = 32 sequences of T = 64 tokens, E = 128 features, 4 heads, self-attention (query = key =
value = x), an upstream gradient on every output. NumPy: ``multi_head_attention_forward/backward``; torch: the
built-in ``nn.MultiheadAttention`` called with ``need_weights=False``, as ``nn.TransformerEncoderLayer`` calls it
(it then uses the fused ``scaled_dot_product_attention`` kernel).

``rnn_T<T>`` / ``attn_T<T>``: N = 8 sequences of T = 16 … 512 steps, 128 features, one tanh RNN layer (NumPy
``rnn_forward/rnn_backward``, torch ``nn.RNN``) and one 4-head self-attention layer (as ``mha``). :func:`report`
prints one row per length: time per sequence of both layers in both backends.
"""

from __future__ import annotations

import numpy as np

N, T, E, HEADS = 32, 64, 128, 4
LENGTH_BATCH = 8
LENGTHS = (16, 32, 64, 128, 256, 512)


def _mha_weights(rng: np.random.Generator) -> list[np.ndarray]:
    """Xavier-uniform projections and small random biases, float32: ``w_in (3E, E), b_in, w_out (E, E), b_out``."""
    bound_in, bound_out = np.sqrt(6 / (E + 3 * E)), np.sqrt(6 / (2 * E))
    shapes_bounds = [((3 * E, E), bound_in), ((3 * E,), 0.1), ((E, E), bound_out), ((E,), 0.1)]
    return [rng.uniform(-bound, bound, shape).astype(np.float32) for shape, bound in shapes_bounds]


def _rnn_weights(rng: np.random.Generator) -> list[np.ndarray]:
    bound = 1 / np.sqrt(E)
    shapes = [(E, E), (E, E), (E,), (E,)]  # w_ih, w_hh, b_ih, b_hh
    return [rng.uniform(-bound, bound, shape).astype(np.float32) for shape in shapes]


def numpy_cases(rng: np.random.Generator) -> dict:
    from n2t.numpy.multihead import multi_head_attention_backward, multi_head_attention_forward
    from n2t.numpy.rnn import rnn_backward, rnn_forward

    weights = _mha_weights(rng)

    def mha_case(batch: int, steps: int):
        x = rng.standard_normal((batch, steps, E)).astype(np.float32)
        dout = rng.standard_normal((batch, steps, E)).astype(np.float32)
        return lambda: multi_head_attention_backward(dout, multi_head_attention_forward(x, x, x, *weights, HEADS)[1])

    def rnn_case(steps: int):
        x = rng.standard_normal((LENGTH_BATCH, steps, E)).astype(np.float32)
        dh = rng.standard_normal((LENGTH_BATCH, steps, E)).astype(np.float32)
        zeros, rnn_weights = np.zeros((LENGTH_BATCH, E), dtype=np.float32), _rnn_weights(rng)
        return lambda: rnn_backward(dh, rnn_forward(x, zeros, *rnn_weights)[1])

    cases = {"mha": mha_case(N, T)}
    for steps in LENGTHS:
        cases[f"rnn_T{steps}"] = rnn_case(steps)
        cases[f"attn_T{steps}"] = mha_case(LENGTH_BATCH, steps)
    return cases


def torch_cases(rng: np.random.Generator) -> dict:
    import torch
    from torch import nn

    def timed_step(module, x, dout, call):
        def step():
            module.zero_grad(set_to_none=True)
            x.grad = None
            call(x).backward(dout)
        return step

    def mha_case(batch: int, steps: int):
        x = torch.tensor(rng.standard_normal((batch, steps, E)), dtype=torch.float32, requires_grad=True)
        dout = torch.tensor(rng.standard_normal((batch, steps, E)), dtype=torch.float32)
        mha = nn.MultiheadAttention(E, HEADS, batch_first=True)
        return timed_step(mha, x, dout, lambda t: mha(t, t, t, need_weights=False)[0])

    def rnn_case(steps: int):
        x = torch.tensor(rng.standard_normal((LENGTH_BATCH, steps, E)), dtype=torch.float32, requires_grad=True)
        dh = torch.tensor(rng.standard_normal((LENGTH_BATCH, steps, E)), dtype=torch.float32)
        rnn, zeros = nn.RNN(E, E, batch_first=True), torch.zeros(1, LENGTH_BATCH, E)
        return timed_step(rnn, x, dh, lambda t: rnn(t, zeros)[0])

    cases = {"mha": mha_case(N, T)}
    for steps in LENGTHS:
        cases[f"rnn_T{steps}"] = rnn_case(steps)
        cases[f"attn_T{steps}"] = mha_case(LENGTH_BATCH, steps)
    return cases


def report(numpy_times: dict[str, float], torch_times: dict[str, float]) -> list[dict]:
    """Print and return one row per length: ms per sequence (forward + backward) of each layer in each backend."""
    print(f"\nRNN layer vs 4-head self-attention, forward + backward, N = {LENGTH_BATCH}, {E} features "
          f"(ms per sequence)")
    print(f"{'T':>6}{'numpy rnn':>11}{'numpy attn':>12}{'torch rnn':>11}{'torch attn':>12}{'torch attn/rnn':>16}")
    rows = []
    for steps in LENGTHS:
        row = {"length": steps}
        for backend, times in (("numpy", numpy_times), ("torch", torch_times)):
            for layer in ("rnn", "attn"):
                row[f"{backend}_{layer}_ms"] = times[f"{layer}_T{steps}"] / LENGTH_BATCH * 1e3
        row["torch_attn_over_rnn"] = row["torch_attn_ms"] / row["torch_rnn_ms"]
        rows.append(row)
        print(f"{steps:>6}{row['numpy_rnn_ms']:>11.3f}{row['numpy_attn_ms']:>12.3f}{row['torch_rnn_ms']:>11.3f}"
              f"{row['torch_attn_ms']:>12.3f}{row['torch_attn_over_rnn']:>16.2f}")
    return rows
