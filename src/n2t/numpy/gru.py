"""The gated recurrent unit (Cho et al. 2014) exactly as ``torch.nn.GRU`` computes it.

Gate blocks are packed in the order r, z, n: ``w_ih`` has shape ``(3H, D)``, ``w_hh`` ``(3H, H)``,
``b_ih`` and ``b_hh`` ``(3H,)``. The reset gate multiplies ``W_hn h + b_hn`` (after the matrix
product), and the new state is h' = (1 − z) ⊙ n + z ⊙ h.
"""

from __future__ import annotations

from n2t.numpy._recurrent_checks import backward_args, recurrent_args

# --8<-- [start:imports]
import numpy as np


def sigmoid(z):
    """σ(z) = 1 / (1 + e^−z) as (1 + tanh(z / 2)) / 2: the same function, one ufunc, never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))
# --8<-- [end:imports]

__all__ = ["gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward"]


@recurrent_args(gates=3, state_names=("h_prev",), step=True)
# --8<-- [start:gru-step-forward]
def gru_step_forward(x, h_prev, w_ih, w_hh, b_ih, b_hh):
    """One GRU step.

    Args:
        x: input at this step, shape ``(N, D)``.
        h_prev: previous hidden state, shape ``(N, H)``.
        w_ih: packed input weights, shape ``(3H, D)``.
        w_hh: packed recurrent weights, shape ``(3H, H)``.
        b_ih: packed biases, shape ``(3H,)``.
        b_hh: packed biases, shape ``(3H,)``.

    Returns:
        ``(h, cache)``: the new hidden state, shape ``(N, H)``.
    """
    x_r, x_z, x_n = np.split(x @ w_ih.T + b_ih, 3, axis=1)  # (N, H) each
    h_r, h_z, h_n = np.split(h_prev @ w_hh.T + b_hh, 3, axis=1)
    r = sigmoid(x_r + h_r)  # reset gate
    z = sigmoid(x_z + h_z)  # update gate
    n = np.tanh(x_n + r * h_n)  # candidate state
    h = (1.0 - z) * n + z * h_prev  # z = 1 keeps the old state
    return h, (h, x, h_prev, r, z, n, h_n, w_ih, w_hh)
# --8<-- [end:gru-step-forward]


@backward_args(9, "dh")
# --8<-- [start:gru-step-backward]
def gru_step_backward(dh, cache):
    """Gradients of one GRU step.

    Args:
        dh: ∂L/∂h, shape ``(N, H)``.
        cache: from :func:`gru_step_forward`.

    Returns:
        ``(dx, dh_prev, dw_ih, dw_hh, db_ih, db_hh)``.
    """
    _, x, h_prev, r, z, n, h_n, w_ih, w_hh = cache
    da_n = dh * (1.0 - z) * (1.0 - n**2)  # ∂L/∂(x_n + r·h_n)
    da_z = dh * (h_prev - n) * z * (1.0 - z)
    da_r = da_n * h_n * r * (1.0 - r)
    d_input = np.concatenate([da_r, da_z, da_n], axis=1)  # ∂L/∂(x W_ihᵀ + b_ih), (N, 3H)
    d_hidden = np.concatenate([da_r, da_z, da_n * r], axis=1)  # ∂L/∂(h W_hhᵀ + b_hh), (N, 3H)
    dx = d_input @ w_ih  # (N, D)
    dh_prev = dh * z + d_hidden @ w_hh  # the direct path z ⊙ h plus the gates' paths
    return dx, dh_prev, d_input.T @ x, d_hidden.T @ h_prev, d_input.sum(axis=0), d_hidden.sum(axis=0)
# --8<-- [end:gru-step-backward]


@recurrent_args(gates=3, state_names=("h0",), step=False)
# --8<-- [start:gru-forward]
def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh):
    """Run the GRU over a sequence; the input part of the gates is computed before the loop.

    Args:
        x: inputs, shape ``(N, T, D)``.
        h0: initial hidden state, shape ``(N, H)``.
        w_ih: as in :func:`gru_step_forward`.
        w_hh: as in :func:`gru_step_forward`.
        b_ih: as in :func:`gru_step_forward`.
        b_hh: as in :func:`gru_step_forward`.

    Returns:
        ``(h, cache)``: the hidden state of every step, shape ``(N, T, H)``.
    """
    n_batch, steps, _ = x.shape
    hidden = w_hh.shape[1]
    a_input = x @ w_ih.T + b_ih  # (N, T, 3H)
    gates = np.empty_like(a_input)  # r, z, n of every step
    h_n = np.empty((n_batch, steps, hidden), dtype=a_input.dtype)  # W_hn h + b_hn of every step
    h = np.empty_like(h_n)
    h_t = h0
    for t in range(steps):
        a_hidden = h_t @ w_hh.T + b_hh  # (N, 3H)
        rz = sigmoid(a_input[:, t, :2 * hidden] + a_hidden[:, :2 * hidden])
        r, z = rz[:, :hidden], rz[:, hidden:]
        n = np.tanh(a_input[:, t, 2 * hidden:] + r * a_hidden[:, 2 * hidden:])
        h_t = (1.0 - z) * n + z * h_t
        gates[:, t, :2 * hidden], gates[:, t, 2 * hidden:] = rz, n
        h_n[:, t], h[:, t] = a_hidden[:, 2 * hidden:], h_t
    return h, (h, gates, h_n, x, h0, w_ih, w_hh)
# --8<-- [end:gru-forward]


@backward_args(7, "dh")
# --8<-- [start:gru-backward]
def gru_backward(dh, cache):
    """Backpropagation through time for the GRU.

    Args:
        dh: ∂L/∂h_t for every step, shape ``(N, T, H)``.
        cache: from :func:`gru_forward`.

    Returns:
        ``(dx, dh0, dw_ih, dw_hh, db_ih, db_hh)`` with the shapes of the forward's arguments.
    """
    h, gates, h_n, x, h0, w_ih, w_hh = cache
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)  # (N, T, H)
    d_input, d_hidden = np.empty_like(gates), np.empty_like(gates)  # (N, T, 3H) each
    dh_next = np.zeros_like(h0)
    for t in reversed(range(h.shape[1])):
        r, z, n = np.split(gates[:, t], 3, axis=1)
        dh_t = dh[:, t] + dh_next
        da_n = dh_t * (1.0 - z) * (1.0 - n**2)
        da_z = dh_t * (h_prev[:, t] - n) * z * (1.0 - z)
        da_r = da_n * h_n[:, t] * r * (1.0 - r)
        d_input[:, t] = np.concatenate([da_r, da_z, da_n], axis=1)
        d_hidden[:, t] = np.concatenate([da_r, da_z, da_n * r], axis=1)
        dh_next = dh_t * z + d_hidden[:, t] @ w_hh
    d_input_flat = d_input.reshape(-1, d_input.shape[-1])  # (N·T, 3H)
    d_hidden_flat = d_hidden.reshape(-1, d_hidden.shape[-1])
    dx = d_input @ w_ih  # (N, T, D)
    dw_ih = d_input_flat.T @ x.reshape(-1, x.shape[-1])  # (3H, D)
    dw_hh = d_hidden_flat.T @ h_prev.reshape(-1, h.shape[-1])  # (3H, H)
    return dx, dh_next, dw_ih, dw_hh, d_input_flat.sum(axis=0), d_hidden_flat.sum(axis=0)
# --8<-- [end:gru-backward]
