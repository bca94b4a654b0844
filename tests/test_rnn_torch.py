"""n2t.torch.rnn against PyTorch's own nn.RNNCell/LSTMCell/GRUCell and nn.RNN/LSTM/GRU (forward and every
gradient, float64), plus initialisation, to_builtin, forget_bias_init, CUDA and bad input."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from n2t.torch.rnn import (
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    RNNCell,
    forget_bias_init,
    gru_cell,
    lstm_cell,
    rnn_cell,
    to_builtin,
)

TIGHT = {"rtol": 1e-10, "atol": 1e-12}
CELLS = {
    "rnn-tanh": (RNNCell, nn.RNNCell, {"nonlinearity": "tanh"}),
    "rnn-relu": (RNNCell, nn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (LSTMCell, nn.LSTMCell, {}),
    "gru": (GRUCell, nn.GRUCell, {}),
}
LAYERS = {
    "rnn-tanh": (RNN, nn.RNN, {"nonlinearity": "tanh"}),
    "rnn-relu": (RNN, nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (LSTM, nn.LSTM, {}),
    "gru": (GRU, nn.GRU, {}),
}


def randn(*shape, seed: int, device="cpu", dtype=torch.float64) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype).to(device)


def flatten(output) -> list[torch.Tensor]:
    if isinstance(output, torch.Tensor):
        return [output]
    return [t for item in output for t in flatten(item)]


def run(module: nn.Module, x: torch.Tensor, state) -> tuple[list[torch.Tensor], tuple[torch.Tensor, ...]]:
    """Outputs, and the gradients of a random projection of them w.r.t. x, the state and every parameter."""
    x = x.clone().requires_grad_()
    leaves = [t.clone().requires_grad_() for t in flatten(state)] if state is not None else []
    if state is None:
        given_state = None
    elif isinstance(state, tuple):
        given_state = tuple(leaves)
    else:
        given_state = leaves[0]
    outputs = flatten(module(x, given_state))
    upstream = [randn(*t.shape, seed=100 + i, device=t.device, dtype=t.dtype) for i, t in enumerate(outputs)]
    loss = sum((t * g).sum() for t, g in zip(outputs, upstream))
    grads = torch.autograd.grad(loss, [x, *leaves, *module.parameters()])
    return [t.detach() for t in outputs], grads


def assert_same_run(ours: nn.Module, theirs: nn.Module, x: torch.Tensor, state, **tolerance) -> None:
    out_ours, grads_ours = run(ours, x, state)
    out_theirs, grads_theirs = run(theirs, x, state)
    assert len(out_ours) == len(out_theirs) and len(grads_ours) == len(grads_theirs)
    for a, b in zip(out_ours + list(grads_ours), out_theirs + list(grads_theirs)):
        torch.testing.assert_close(a, b, **(tolerance or TIGHT))


def builtin_twin(ours: nn.Module, builtin_class: type, **options) -> nn.Module:
    """The built-in module with our weights, copied by load_state_dict (independent of to_builtin)."""
    theirs = builtin_class(ours.input_size, ours.hidden_size, **options).double()
    theirs.load_state_dict(ours.state_dict())
    return theirs


# ---- cells --------------------------------------------------------------------------------------
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("kind", CELLS)
def test_cell_equals_builtin_cell_forward_and_gradients(kind, with_state):
    ours_class, builtin_class, options = CELLS[kind]
    ours = ours_class(5, 3, **options).double()
    theirs = builtin_twin(ours, builtin_class, **options)
    x = randn(4, 5, seed=1)
    h, c = randn(4, 3, seed=2), randn(4, 3, seed=3)
    state = ((h, c) if kind == "lstm" else h) if with_state else None
    assert_same_run(ours, theirs, x, state)


@pytest.mark.parametrize("kind", CELLS)
def test_cell_parameters_and_initialisation_equal_the_builtin(kind):
    ours_class, builtin_class, options = CELLS[kind]
    torch.manual_seed(7)
    ours = ours_class(5, 3, **options)
    torch.manual_seed(7)
    theirs = builtin_class(5, 3, **options)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [(n, p.shape) for n, p in theirs.named_parameters()]
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_cell_functions_compute_the_documented_equations():
    x, h, c = randn(2, 3, seed=4), randn(2, 4, seed=5), randn(2, 4, seed=6)
    w_ih, w_hh, b_ih, b_hh = randn(12, 3, seed=7), randn(12, 4, seed=8), randn(12, seed=9), randn(12, seed=10)
    s = x @ w_ih[:4].T + b_ih[:4] + h @ w_hh[:4].T + b_hh[:4]
    torch.testing.assert_close(rnn_cell(x, h, w_ih[:4], w_hh[:4], b_ih[:4], b_hh[:4], "relu"), s.clamp(min=0))
    # GRU: the reset gate multiplies (W_hn h + b_hn), not h
    gx, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    r, z = torch.sigmoid(gx[:, :4] + gh[:, :4]), torch.sigmoid(gx[:, 4:8] + gh[:, 4:8])
    n = torch.tanh(gx[:, 8:] + r * gh[:, 8:])
    torch.testing.assert_close(gru_cell(x, h, w_ih, w_hh, b_ih, b_hh), (1 - z) * n + z * h)
    # LSTM with the forget gate forced open and the input gate shut: c passes through unchanged
    w4, u4, b4 = torch.zeros(16, 3, dtype=torch.float64), torch.zeros(16, 4, dtype=torch.float64), torch.zeros(16)
    b4 = torch.cat([torch.full((4,), -50.0), torch.full((4,), 50.0), torch.zeros(8)]).double()
    h_new, c_new = lstm_cell(x, h, c, w4, u4, b4, torch.zeros_like(b4))
    torch.testing.assert_close(c_new, c)
    torch.testing.assert_close(h_new, 0.5 * torch.tanh(c))


# ---- layers -------------------------------------------------------------------------------------
@pytest.mark.parametrize("steps", [1, 6])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("kind", LAYERS)
def test_layer_equals_builtin_layer_forward_and_gradients(kind, num_layers, bidirectional, with_state, steps):
    ours_class, builtin_class, options = LAYERS[kind]
    ours = ours_class(5, 3, num_layers=num_layers, bidirectional=bidirectional, **options).double()
    theirs = builtin_twin(ours, builtin_class, num_layers=num_layers, bidirectional=bidirectional,
                          batch_first=True, **options)
    x = randn(4, steps, 5, seed=11)
    layers = num_layers * (2 if bidirectional else 1)
    h0, c0 = randn(layers, 4, 3, seed=12), randn(layers, 4, 3, seed=13)
    state = ((h0, c0) if kind == "lstm" else h0) if with_state else None
    assert_same_run(ours, theirs, x, state)


@pytest.mark.parametrize("kind", LAYERS)
def test_layer_time_major_equals_builtin(kind):
    ours_class, builtin_class, options = LAYERS[kind]
    ours = ours_class(5, 3, num_layers=2, bidirectional=True, batch_first=False, **options).double()
    theirs = builtin_twin(ours, builtin_class, num_layers=2, bidirectional=True, batch_first=False, **options)
    h0 = randn(4, 2, 3, seed=15)
    assert_same_run(ours, theirs, randn(7, 2, 5, seed=14), (h0, h0 * 0.5) if kind == "lstm" else h0)


@pytest.mark.parametrize("kind", LAYERS)
def test_layer_parameters_and_initialisation_equal_the_builtin(kind):
    ours_class, builtin_class, options = LAYERS[kind]
    torch.manual_seed(3)
    ours = ours_class(5, 3, num_layers=2, bidirectional=True, **options)
    torch.manual_seed(3)
    theirs = builtin_class(5, 3, num_layers=2, bidirectional=True, batch_first=True, **options)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [(n, p.shape) for n, p in theirs.named_parameters()]
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert theirs.load_state_dict(ours.state_dict()) is not None


def test_float32_layer_matches_builtin():
    ours = LSTM(5, 8, num_layers=2)
    theirs = to_builtin(ours)
    x = randn(3, 9, 5, seed=16, dtype=torch.float32)
    assert_same_run(ours, theirs, x, None, rtol=1e-5, atol=1e-6)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 3), steps=st.integers(1, 4), features=st.integers(1, 4), hidden=st.integers(1, 4),
       kind=st.sampled_from(sorted(LAYERS)), bidirectional=st.booleans())
def test_layer_shapes_match_builtin_for_any_size(n, steps, features, hidden, kind, bidirectional):
    ours_class, builtin_class, options = LAYERS[kind]
    ours = ours_class(features, hidden, bidirectional=bidirectional, **options).double()
    theirs = builtin_twin(ours, builtin_class, bidirectional=bidirectional, batch_first=True, **options)
    x = randn(n, steps, features, seed=n * 100 + steps)
    for a, b in zip(flatten(ours(x)), flatten(theirs(x))):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, **TIGHT)


# ---- to_builtin and forget_bias_init ------------------------------------------------------------
@pytest.mark.parametrize("ours", [
    RNN(4, 3, num_layers=2, nonlinearity="relu", batch_first=False), LSTM(4, 3, bidirectional=True),
    GRU(4, 3, num_layers=3), RNNCell(4, 3, "relu"), LSTMCell(4, 3), GRUCell(4, 3)], ids=repr)
def test_to_builtin_copies_weights_and_options(ours):
    ours = ours.double()
    theirs = to_builtin(ours)
    assert type(theirs).__name__ == type(ours).__name__ and type(theirs).__module__.startswith("torch.nn")
    for name in ("input_size", "hidden_size", "num_layers", "bidirectional", "batch_first", "nonlinearity"):
        assert getattr(theirs, name, None) == getattr(ours, name, None), name
    for (name, a), (name_b, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert name == name_b and b.dtype == torch.float64
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    with torch.no_grad():
        next(theirs.parameters()).add_(1.0)  # a copy: ours is unchanged
    assert not torch.equal(next(theirs.parameters()), next(ours.parameters()))
    x = randn(2, 4, seed=17) if "Cell" in type(ours).__name__ else randn(2, 5, 4, seed=17)
    back = type(ours)(4, 3, **{k: getattr(ours, k) for k in ("num_layers", "bidirectional", "batch_first",
                                                              "nonlinearity") if hasattr(ours, k)}).double()
    back.load_state_dict(theirs.state_dict())  # and back again
    torch.testing.assert_close(flatten(back(x)), flatten(theirs(x)), **TIGHT)


@pytest.mark.parametrize("lstm", [LSTM(3, 4, num_layers=2, bidirectional=True), LSTMCell(3, 4),
                                  nn.LSTM(3, 4, num_layers=2), nn.LSTMCell(3, 4)], ids=repr)
def test_forget_bias_init_sets_the_effective_forget_bias(lstm):
    before = {name: p.detach().clone() for name, p in lstm.named_parameters()}
    assert forget_bias_init(lstm, 2.5) is lstm
    for name, p in lstm.named_parameters():
        if name.startswith("bias_ih"):
            partner = dict(lstm.named_parameters())[name.replace("bias_ih", "bias_hh")]
            torch.testing.assert_close(p[4:8] + partner[4:8], torch.full((4,), 2.5))
        keep = torch.ones(p.shape[0], dtype=torch.bool)
        if name.startswith("bias_"):
            keep[4:8] = False
        torch.testing.assert_close(p[keep], before[name][keep], rtol=0, atol=0)


def test_forget_bias_init_rejects_other_modules_and_values():
    with pytest.raises(TypeError, match="argument 'lstm' must be one of .*got GRU"):
        forget_bias_init(GRU(3, 4))
    with pytest.raises(ValueError, match="argument 'value' must be a finite number; got nan"):
        forget_bias_init(LSTM(3, 4), float("nan"))


def test_to_builtin_rejects_other_modules():
    with pytest.raises(TypeError, match="argument 'module' must be one of .*got LSTM"):
        to_builtin(nn.LSTM(3, 4))


def test_package_exports_the_recurrent_names():
    import n2t.torch

    for name in ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "to_builtin", "forget_bias_init"):
        assert getattr(n2t.torch, name) is getattr(__import__("n2t.torch.rnn", fromlist=[name]), name)
        assert name in n2t.torch.__all__


# ---- bad input ----------------------------------------------------------------------------------
LSTM_LAYER = LSTM(5, 3, num_layers=2).double()
X = randn(4, 6, 5, seed=18)


@pytest.mark.parametrize("call,error,message", [
    (lambda: LSTM_LAYER(randn(4, 6, 2, seed=0)), ValueError, r"'x' must have shape \(N, T, D\) = \(\?, \?, 5\); "
                                                            r"got shape \(4, 6, 2\)"),
    (lambda: LSTM_LAYER(randn(6, 5, seed=0)), ValueError, r"'x' must have shape \(N, T, D\) .* got shape \(6, 5\)"),
    (lambda: LSTM_LAYER(torch.ones(4, 6, 5, dtype=torch.long)), TypeError, "'x' must be a floating-point tensor"),
    (lambda: LSTM_LAYER(X.numpy()), TypeError, "'x' must be a floating-point tensor .* got ndarray"),
    (lambda: LSTM_LAYER(X.float()), TypeError, "'x' is a torch.float32 tensor on cpu but the weights are "
                                               "torch.float64"),
    (lambda: LSTM_LAYER(X[:, :0]), ValueError, "at least one sequence of one step"),
    (lambda: LSTM_LAYER(X, randn(2, 4, 3, seed=0)), TypeError, r"'state' must be a tuple \(h0, c0\)"),
    (lambda: LSTM_LAYER(X, (randn(2, 3, 3, seed=0), randn(2, 4, 3, seed=0))), ValueError,
     r"LSTM: argument 'h0' must have shape \(L·dirs, N, H\) = \(2, 4, 3\); got shape \(2, 3, 3\)"),
    (lambda: GRU(5, 3, bidirectional=True).double()(X, randn(1, 4, 3, seed=0)), ValueError,
     r"GRU: argument 'state' must have shape \(L·dirs, N, H\) = \(2, 4, 3\)"),
    (lambda: RNN(5, 3, batch_first=False).double()(X, randn(1, 4, 3, seed=0)), ValueError,
     r"'state' must have shape \(L·dirs, N, H\) = \(1, 6, 3\)"),
    (lambda: LSTMCell(5, 3).double()(X[:, 0], (randn(4, 3, seed=0), randn(3, 3, seed=0))), ValueError,
     r"LSTMCell: argument 'c' must have shape \(N, H\) = \(4, 3\); got shape \(3, 3\)"),
    (lambda: GRUCell(5, 3).double()(X), ValueError, r"GRUCell: argument 'x' must have shape \(N, D\)"),
    (lambda: RNNCell(5, 3).double()(X[:, 0], randn(4, 3, seed=0).float()), TypeError,
     "RNNCell: argument 'h' is a torch.float32 tensor"),
    (lambda: LSTM(5, 0), ValueError, "LSTM: argument 'hidden_size' must be an int >= 1; got 0"),
    (lambda: GRU(5, 3, num_layers=1.5), ValueError, "argument 'num_layers' must be an int >= 1; got 1.5"),
    (lambda: RNN(5, 3, nonlinearity="sigmoid"), ValueError, "RNN: argument 'nonlinearity' must be one of"),
    (lambda: RNNCell(5, 3, "gelu"), ValueError, "RNNCell: argument 'nonlinearity' must be one of"),
    (lambda: LSTM(5, 3, bidirectional="yes"), TypeError, "argument 'bidirectional' must be a bool"),
    (lambda: rnn_cell(X[:, 0], randn(4, 3, seed=0), *[randn(3, 5, seed=0), randn(3, 3, seed=0), randn(3, seed=0),
                                                      randn(3, seed=0)], "sigmoid"),
     ValueError, "rnn_cell: argument 'nonlinearity'"),
    (lambda: lstm_cell(X[:, 0], *[randn(4, 3, seed=0)] * 2, randn(10, 5, seed=0), randn(10, 3, seed=0),
                       randn(10, seed=0), randn(10, seed=0)), ValueError, "'w_ih' must have 4·H rows"),
    (lambda: gru_cell(X[:, 0], randn(2, 3, seed=0), randn(9, 5, seed=0), randn(9, 3, seed=0), randn(9, seed=0),
                      randn(9, seed=0)), ValueError, r"gru_cell: argument 'h_prev' must have shape \(N, H\) = \(4, 3"),
    (lambda: gru_cell(X[:, 0], randn(4, 3, seed=0), randn(9, 4, seed=0), randn(9, 3, seed=0), randn(9, seed=0),
                      randn(9, seed=0)), ValueError, r"gru_cell: argument 'x' must have shape \(N, D\) = \(\?, 4\)"),
], ids=lambda value: "" if callable(value) or isinstance(value, type) else value[:40])
def test_bad_input_is_rejected_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- CUDA ---------------------------------------------------------------------------------------
@pytest.mark.gpu
@pytest.mark.parametrize("kind", LAYERS)
def test_layer_on_cuda_equals_cpu_and_builtin(kind):
    ours_class, builtin_class, options = LAYERS[kind]
    ours = ours_class(5, 3, num_layers=2, bidirectional=True, **options).double()
    cuda = ours_class(5, 3, num_layers=2, bidirectional=True, **options).double().cuda()
    cuda.load_state_dict(ours.state_dict())
    x = randn(4, 6, 5, seed=19)
    h0 = randn(4, 4, 3, seed=20)
    state = (h0, -h0) if kind == "lstm" else h0
    on_cuda = tuple(t.cuda() for t in state) if kind == "lstm" else h0.cuda()
    out_cpu, grads_cpu = run(ours, x, state)
    out_cuda, grads_cuda = run(cuda, x.cuda(), on_cuda)
    assert all(t.device.type == "cuda" for t in out_cuda + list(grads_cuda))
    for a, b in zip(out_cpu + list(grads_cpu), out_cuda + list(grads_cuda)):
        torch.testing.assert_close(a, b.cpu(), **TIGHT)
    builtin = to_builtin(cuda)
    assert next(builtin.parameters()).device.type == "cuda"
    assert_same_run(cuda, builtin, x.cuda(), on_cuda, rtol=1e-9, atol=1e-10)
