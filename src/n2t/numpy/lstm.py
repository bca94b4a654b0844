"""Long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).

The four gate blocks are packed in ``torch.nn.LSTM``'s order i, f, g, o: ``w_ih`` has shape
``(4H, D)``, ``w_hh`` ``(4H, H)``, ``b_ih`` and ``b_hh`` ``(4H,)``; rows ``0:H`` belong to the input
gate, ``H:2H`` to the forget gate, ``2H:3H`` to the candidate g (c̃) and ``3H:4H`` to the output gate.
"""

from __future__ import annotations

from n2t.numpy._recurrent_checks import backward_args, recurrent_args

# --8<-- [start:imports]
import numpy as np


def sigmoid(z):
    """σ(z) = 1 / (1 + e^−z) as (1 + tanh(z / 2)) / 2: the same function, one ufunc, never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))
# --8<-- [end:imports]

__all__ = ["sigmoid", "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward"]


@recurrent_args(gates=4, state_names=("h_prev", "c_prev"), step=True)
# --8<-- [start:lstm-step-forward]
def lstm_step_forward(x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh):
    """One LSTM step.

    Args:
        x: input at this step, shape ``(N, D)``.
        h_prev: previous hidden state, shape ``(N, H)``.
        c_prev: previous cell state, shape ``(N, H)``.
        w_ih: packed input weights, shape ``(4H, D)``.
        w_hh: packed recurrent weights, shape ``(4H, H)``.
        b_ih: packed biases, shape ``(4H,)``.
        b_hh: packed biases, shape ``(4H,)``.

    Returns:
        ``(h, c, cache)``: new hidden and cell state, shape ``(N, H)`` each.
    """
    z = x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh  # (N, 4H)
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)
    i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)  # gates and candidate c̃
    c = f * c_prev + i * g  # forget part of the old memory, write part of the new
    tanh_c = np.tanh(c)
    h = o * tanh_c  # expose part of the memory
    return h, c, (h, x, h_prev, c_prev, i, f, g, o, tanh_c, w_ih, w_hh)
# --8<-- [end:lstm-step-forward]


@backward_args(11, "dh", "dc")
# --8<-- [start:lstm-step-backward]
def lstm_step_backward(dh, dc, cache):
    """Gradients of one LSTM step.

    Args:
        dh: ∂L/∂h from above, shape ``(N, H)``.
        dc: ∂L/∂c from the next step, shape ``(N, H)`` (zeros at the last step).
        cache: from :func:`lstm_step_forward`.

    Returns:
        ``(dx, dh_prev, dc_prev, dw_ih, dw_hh, db_ih, db_hh)``.
    """
    _, x, h_prev, c_prev, i, f, g, o, tanh_c, w_ih, w_hh = cache
    dc = dc + dh * o * (1.0 - tanh_c**2)  # c reaches the loss directly and through h = o·tanh(c)
    dz = np.concatenate([
        dc * g * i * (1.0 - i),  # ∂L/∂z_i
        dc * c_prev * f * (1.0 - f),  # ∂L/∂z_f
        dc * i * (1.0 - g**2),  # ∂L/∂z_g
        dh * tanh_c * o * (1.0 - o),  # ∂L/∂z_o
    ], axis=1)  # (N, 4H)
    dx = dz @ w_ih  # (N, D)
    dh_prev = dz @ w_hh  # (N, H)
    dc_prev = dc * f  # the additive path: only multiplied by the forget gate
    dw_ih, dw_hh, db = dz.T @ x, dz.T @ h_prev, dz.sum(axis=0)
    return dx, dh_prev, dc_prev, dw_ih, dw_hh, db, db.copy()
# --8<-- [end:lstm-step-backward]


@recurrent_args(gates=4, state_names=("h0", "c0"), step=False)
# --8<-- [start:lstm-forward]
def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    """Run the LSTM over a sequence; only W h_{t−1} and the gate arithmetic are inside the loop.

    The loop runs time-major, ``(T, N, ·)``, so each step reads and writes contiguous rows.

    Args:
        x: inputs, shape ``(N, T, D)``.
        h0: initial hidden state, shape ``(N, H)``.
        c0: initial cell state, shape ``(N, H)``.
        w_ih: as in :func:`lstm_step_forward`.
        w_hh: as in :func:`lstm_step_forward`.
        b_ih: as in :func:`lstm_step_forward`.
        b_hh: as in :func:`lstm_step_forward`.

    Returns:
        ``(h, cache)``: the hidden state of every step, shape ``(N, T, H)``. The cell states are
        ``cache[1]`` and the gates i, f, g, o ``cache[2]``, shapes ``(N, T, H)`` and ``(N, T, 4H)``;
        ``cache[1][:, -1]`` is the final cell state (c_n).
    """
    n, steps, _ = x.shape
    hidden = w_hh.shape[1]
    x_steps = np.ascontiguousarray(x.transpose(1, 0, 2))  # (T, N, D)
    gates = x_steps @ w_ih.T  # U x_t for every step at once, (T, N, 4H); becomes i, f, g, o in place
    gates += b_ih + b_hh
    # σ(z) = (1 + tanh(z/2)) / 2, so scaling the i, f, o blocks by ½ lets one tanh serve all four gates
    half = np.repeat(np.array([0.5, 0.5, 1.0, 0.5], dtype=gates.dtype), hidden)  # (4H,)
    offset = np.repeat(np.array([0.5, 0.5, 0.0, 0.5], dtype=gates.dtype), hidden)
    h, c = np.empty((2, steps, n, hidden), dtype=gates.dtype)
    tanh_c = np.empty_like(h)
    h_t, c_t = h0, c0
    for t in range(steps):
        z = gates[t]
        z += h_t @ w_hh.T
        z *= half
        np.tanh(z, out=z)
        z *= half
        z += offset  # i, f, o = σ(z), g = tanh(z)
        i, f, g, o = np.split(z, 4, axis=1)
        c_t = np.multiply(f, c_t, out=c[t])
        c_t += i * g
        np.tanh(c_t, out=tanh_c[t])
        h_t = np.multiply(o, tanh_c[t], out=h[t])
    batch_first = [a.transpose(1, 0, 2) for a in (h, c, gates, tanh_c)]
    return batch_first[0], (*batch_first, x_steps, h0, c0, w_ih, w_hh)
# --8<-- [end:lstm-forward]


@backward_args(9, "dh")
# --8<-- [start:lstm-backward]
def lstm_backward(dh, cache):
    """Backpropagation through time for the LSTM.

    The loop does :func:`lstm_step_backward`'s arithmetic on time-major rows, keeping each step's
    ∂L/∂z_t; the weight gradients are summed over all steps after it, with one matrix product each.

    Args:
        dh: ∂L/∂h_t for every step, shape ``(N, T, H)``.
        cache: from :func:`lstm_forward`.

    Returns:
        ``(dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh)`` with the shapes of the forward's arguments.
    """
    h, c, gates, tanh_c = (a.transpose(1, 0, 2) for a in cache[:4])  # time-major views, (T, N, ·)
    x_steps, h0, c0, w_ih, w_hh = cache[4:]
    steps, n, hidden = h.shape
    dz = np.empty_like(gates)  # ∂L/∂z_t for every step, (T, N, 4H)
    dh_next, dc_next = np.zeros_like(h0), np.zeros_like(c0)
    for t in reversed(range(steps)):
        i, f, g, o = np.split(gates[t], 4, axis=1)
        dz_i, dz_f, dz_g, dz_o = np.split(dz[t], 4, axis=1)
        c_prev = c[t - 1] if t else c0
        dh_t = dh[:, t] + dh_next
        dc_t = dc_next + dh_t * o * (1.0 - tanh_c[t] ** 2)
        np.multiply(dc_t * g, i * (1.0 - i), out=dz_i)
        np.multiply(dc_t * c_prev, f * (1.0 - f), out=dz_f)
        np.multiply(dc_t * i, 1.0 - g**2, out=dz_g)
        np.multiply(dh_t * tanh_c[t], o * (1.0 - o), out=dz_o)
        dc_next = dc_t * f  # the additive path: only multiplied by the forget gate
        dh_next = dz[t] @ w_hh
    dz = dz.reshape(steps * n, 4 * hidden)  # (T·N, 4H)
    dx = (dz @ w_ih).reshape(steps, n, -1).transpose(1, 0, 2)  # (N, T, D)
    dw_ih = dz.T @ x_steps.reshape(steps * n, -1)  # (4H, D)
    dw_hh = dz[n:].T @ h[:-1].reshape(-1, hidden) + dz[:n].T @ h0  # (4H, H); h_{t−1} is h0 at t = 0
    db = dz.sum(axis=0)
    return dx, dh_next, dc_next, dw_ih, dw_hh, db, db.copy()
# --8<-- [end:lstm-backward]
