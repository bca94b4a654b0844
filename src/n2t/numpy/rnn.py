"""The simple recurrent network h_t = f(U x_t + W h_{t−1} + b) and backpropagation through time.

Weights use ``torch.nn.RNN``'s layout: ``w_ih`` is U with shape ``(H, D)``, ``w_hh`` is W with shape
``(H, H)``, and there are two biases ``b_ih`` and ``b_hh`` (their sum is the b of the equations), so
weights copy one to one into ``nn.RNN``. Sequences are batch-first, ``(N, T, D)``.
"""

from __future__ import annotations

from n2t.numpy._recurrent_checks import backward_args, recurrent_args

# --8<-- [start:imports]
import numpy as np
# --8<-- [end:imports]

__all__ = ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward"]


@recurrent_args(gates=1, state_names=("h_prev",), step=True)
# --8<-- [start:rnn-step-forward]
def rnn_step_forward(x, h_prev, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    """One time step: s = U x + W h_prev + b, h = f(s).

    Args:
        x: input at this step, shape ``(N, D)``.
        h_prev: hidden state of the previous step, shape ``(N, H)``.
        w_ih: U, shape ``(H, D)``.
        w_hh: W, shape ``(H, H)``.
        b_ih: biases, shape ``(H,)``.
        b_hh: biases, shape ``(H,)``.
        nonlinearity: f, ``"tanh"`` or ``"relu"``.

    Returns:
        ``(h, cache)``: ``h`` has shape ``(N, H)``.
    """
    s = x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh  # (N, H)
    h = np.tanh(s) if nonlinearity == "tanh" else np.maximum(s, 0.0)
    return h, (h, x, h_prev, w_ih, w_hh, nonlinearity)
# --8<-- [end:rnn-step-forward]


@backward_args(6, "dh")
# --8<-- [start:rnn-step-backward]
def rnn_step_backward(dh, cache):
    """Gradients of one step, given ∂L/∂h.

    Args:
        dh: upstream gradient ∂L/∂h, shape ``(N, H)``.
        cache: from :func:`rnn_step_forward`.

    Returns:
        ``(dx, dh_prev, dw_ih, dw_hh, db_ih, db_hh)`` with the shapes of the forward's arguments.
    """
    h, x, h_prev, w_ih, w_hh, nonlinearity = cache
    ds = dh * (1.0 - h**2) if nonlinearity == "tanh" else dh * (h > 0)  # ∂L/∂s, (N, H)
    dx = ds @ w_ih  # (N, D)
    dh_prev = ds @ w_hh  # (N, H)
    dw_ih = ds.T @ x  # (H, D)
    dw_hh = ds.T @ h_prev  # (H, H)
    db = ds.sum(axis=0)  # b_ih and b_hh enter s the same way: equal gradients
    return dx, dh_prev, dw_ih, dw_hh, db, db.copy()
# --8<-- [end:rnn-step-backward]


@recurrent_args(gates=1, state_names=("h0",), step=False)
# --8<-- [start:rnn-forward]
def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    """Run the recurrence over a whole sequence (the same weights at every step).

    The input part U x_t + b of every step is computed at once, before the loop: only W h_{t−1}
    has to wait for the previous step.

    Args:
        x: inputs, shape ``(N, T, D)``.
        h0: initial hidden state, shape ``(N, H)``.
        w_ih: as in :func:`rnn_step_forward`.
        w_hh: as in :func:`rnn_step_forward`.
        b_ih: as in :func:`rnn_step_forward`.
        b_hh: as in :func:`rnn_step_forward`.
        nonlinearity: ``"tanh"`` or ``"relu"``.

    Returns:
        ``(h, cache)``: the hidden state of every step, shape ``(N, T, H)``; ``h[:, -1]`` is the last.
    """
    n, steps, _ = x.shape
    s_input = x @ w_ih.T + (b_ih + b_hh)  # (N, T, H)
    h = np.empty((n, steps, w_hh.shape[0]), dtype=s_input.dtype)
    h_t = h0
    for t in range(steps):
        s_t = s_input[:, t] + h_t @ w_hh.T
        h_t = np.tanh(s_t) if nonlinearity == "tanh" else np.maximum(s_t, 0.0)
        h[:, t] = h_t
    return h, (h, x, h0, w_ih, w_hh, nonlinearity)
# --8<-- [end:rnn-forward]


@backward_args(6, "dh")
# --8<-- [start:rnn-backward]
def rnn_backward(dh, cache):
    """Backpropagation through time over the whole sequence.

    Step t receives ∂L/∂h_t from two places: the loss at step t (``dh[:, t]``) and step t + 1
    (``dh_next``). The weights are shared by all steps, so their gradients are sums over t.

    Args:
        dh: upstream gradient ∂L/∂h_t for every step, shape ``(N, T, H)`` (zeros where the loss
            does not read h_t).
        cache: from :func:`rnn_forward`.

    Returns:
        ``(dx, dh0, dw_ih, dw_hh, db_ih, db_hh)`` with the shapes of the forward's arguments.
    """
    h, x, h0, w_ih, w_hh, nonlinearity = cache
    ds = np.empty_like(h)  # ∂L/∂s_t for every step, (N, T, H)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(h.shape[1])):
        dh_t = dh[:, t] + dh_next
        ds[:, t] = dh_t * (1.0 - h[:, t] ** 2) if nonlinearity == "tanh" else dh_t * (h[:, t] > 0)
        dh_next = ds[:, t] @ w_hh
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)  # h_{t−1} for every step, (N, T, H)
    ds_flat = ds.reshape(-1, ds.shape[-1])  # (N·T, H)
    dx = ds @ w_ih  # (N, T, D)
    dw_ih = ds_flat.T @ x.reshape(-1, x.shape[-1])  # (H, D)
    dw_hh = ds_flat.T @ h_prev.reshape(-1, h.shape[-1])  # (H, H)
    db = ds_flat.sum(axis=0)
    return dx, dh_next, dw_ih, dw_hh, db, db.copy()
# --8<-- [end:rnn-backward]
