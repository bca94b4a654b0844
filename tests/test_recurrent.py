"""The NumPy ``RNN``/``LSTM``/``GRU`` layers equal ``nn.RNN``/``nn.LSTM``/``nn.GRU`` (outputs, final
states, every gradient, the gradient of the initial state) for stacked and bidirectional layers, and
their backward passes pass finite differences; bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from n2t.gradcheck import numerical_gradient, relative_error
from n2t.numpy.recurrent import GRU, LSTM, RNN

LAYERS = {"RNN": (RNN, torch.nn.RNN), "LSTM": (LSTM, torch.nn.LSTM), "GRU": (GRU, torch.nn.GRU)}


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (1, True), (2, False), (2, True)])
@pytest.mark.parametrize("steps", [1, 5])
def test_equals_the_builtin_with_the_same_params(rng, kind, num_layers, bidirectional, steps):
    ours_cls, builtin_cls = LAYERS[kind]
    ours = ours_cls(4, 3, num_layers, bidirectional, rng=np.random.default_rng(1))
    builtin = builtin_cls(4, 3, num_layers, batch_first=True, bidirectional=bidirectional).double()
    builtin.load_state_dict({k: torch.from_numpy(v) for k, v in ours.params.items()})
    shape = (num_layers * (2 if bidirectional else 1), 2, 3)
    state = tuple(rng.standard_normal(shape) for _ in range(2 if kind == "LSTM" else 1))
    x = rng.standard_normal((2, steps, 4))
    out = ours.forward(x, state if kind == "LSTM" else state[0])
    dout = rng.standard_normal(out.shape)
    dx = ours.backward(dout)

    x_t = torch.from_numpy(x).requires_grad_()
    state_t = tuple(torch.from_numpy(s).requires_grad_() for s in state)
    out_t, final_t = builtin(x_t, state_t if kind == "LSTM" else state_t[0])
    out_t.backward(torch.from_numpy(dout))
    torch.testing.assert_close(torch.from_numpy(out), out_t.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(torch.from_numpy(dx), x_t.grad, rtol=1e-10, atol=1e-12)
    for ours_final, theirs in zip(as_tuple(ours.state), as_tuple(final_t)):
        torch.testing.assert_close(torch.from_numpy(ours_final), theirs.detach(), rtol=1e-12, atol=1e-12)
    for ours_grad, theirs in zip(as_tuple(ours.dstate), state_t):
        torch.testing.assert_close(torch.from_numpy(ours_grad), theirs.grad, rtol=1e-10, atol=1e-12)
    for name, parameter in builtin.named_parameters():
        torch.testing.assert_close(torch.from_numpy(ours.grads[name]), parameter.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", LAYERS)
def test_backward_passes_finite_differences(rng, kind):
    layer = LAYERS[kind][0](3, 2, num_layers=2, bidirectional=True, rng=np.random.default_rng(2))
    x = rng.standard_normal((2, 3, 3))
    dout = rng.standard_normal((2, 3, 4))
    layer.forward(x)
    dx = layer.backward(dout)
    assert relative_error(dx, numerical_gradient(lambda: float(np.sum(layer.forward(x) * dout)), x)) < 1e-6
    weight = layer.params["weight_hh_l0_reverse"]
    layer.forward(x)
    layer.backward(dout)
    analytic = layer.grads["weight_hh_l0_reverse"]
    numeric = numerical_gradient(lambda: float(np.sum(layer.forward(x) * dout)), weight)
    assert relative_error(analytic, numeric) < 1e-6


def test_parameter_counts_follow_the_gates():
    counts = {kind: cls(10, 20).num_parameters() for kind, (cls, _) in LAYERS.items()}
    assert counts == {kind: sum(p.numel() for p in builtin(10, 20).parameters())
                      for kind, (_, builtin) in LAYERS.items()}
    assert counts["GRU"] == 3 * counts["RNN"] and counts["LSTM"] == 4 * counts["RNN"]


def test_bad_input_is_named(rng):
    lstm = LSTM(4, 3, num_layers=2)
    with pytest.raises(ValueError, match=r"'x' must have shape \(N, T, D\) with D = 4"):
        lstm.forward(rng.standard_normal((2, 5, 3)))
    with pytest.raises(ValueError, match=r"'state' must have shape \(layers·directions, N, H\) = \(2, 2, 3\)"):
        lstm.forward(rng.standard_normal((2, 5, 4)), (np.zeros((2, 3, 3)), np.zeros((2, 3, 3))))
    with pytest.raises(ValueError, match=r"'state' must be \(h0, c0\)"):
        lstm.forward(rng.standard_normal((2, 5, 4)), (np.zeros((2, 2, 3)),))
    with pytest.raises(ValueError, match="'hidden_size' must be a positive int"):
        GRU(4, 0)
    with pytest.raises(ValueError, match="'nonlinearity' must be 'tanh' or 'relu'"):
        RNN(4, 3, nonlinearity="sigmoid")
    with pytest.raises(RuntimeError, match="backward called before forward"):
        RNN(4, 3).backward(np.zeros((1, 1, 3)))


@pytest.mark.parametrize("kind", LAYERS)
def test_numpy_layer_equals_our_torch_layer(rng, kind):
    import n2t.torch.rnn as ours_torch

    numpy_layer = LAYERS[kind][0](3, 4, num_layers=2, bidirectional=True, rng=np.random.default_rng(5))
    torch_layer = getattr(ours_torch, kind)(3, 4, num_layers=2, bidirectional=True).double()
    torch_layer.load_state_dict({k: torch.from_numpy(v) for k, v in numpy_layer.params.items()})
    x = rng.standard_normal((2, 6, 3))
    out = numpy_layer.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = numpy_layer.backward(dout)
    x_t = torch.from_numpy(x).requires_grad_()
    out_t, _ = torch_layer(x_t)
    out_t.backward(torch.from_numpy(dout))
    torch.testing.assert_close(torch.from_numpy(out), out_t.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(torch.from_numpy(dx), x_t.grad, rtol=1e-10, atol=1e-12)
    for name, parameter in torch_layer.named_parameters():
        torch.testing.assert_close(torch.from_numpy(numpy_layer.grads[name]), parameter.grad, rtol=1e-10, atol=1e-12)
