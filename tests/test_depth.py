"""n2t.torch.depth: the sawtooth and its exact deep and shallow ReLU constructions, counting linear pieces,
full-batch training (one net and M nets at once), and the error messages."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from n2t.torch.depth import (
    count_linear_pieces,
    deep_narrow,
    equal_parameter_width,
    fit_ensemble,
    fit_regression,
    fixed_linear,
    sawtooth,
    sawtooth_net,
    sawtooth_shallow,
    shallow_wide,
    tent,
)
from n2t.torch.summary import count_parameters

DENSE = torch.linspace(0, 1, 20001, dtype=torch.float64)[:, None]  # (N, 1), includes the dyadic points
RANDOM = torch.rand(5000, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
GRID = torch.cat([DENSE, RANDOM]).sort(dim=0).values.unique(dim=0)
MIDPOINTS = (GRID[1:] + GRID[:-1]) / 2  # never dyadic with a denominator below 2^6


def composed_tent(x: np.ndarray, k: int) -> np.ndarray:
    """Reference: apply min(2x, 2 − 2x) k times (an independent NumPy loop)."""
    for _ in range(k):
        x = np.minimum(2 * x, 2 - 2 * x)
    return x


def slope_pieces(model: nn.Module, points: torch.Tensor) -> int:
    """Reference: pieces = 1 + changes of the exact slope (autograd) between neighbouring points.

    Where a ReLU's input touches 0 without crossing (the sawtooth net's zeros at dyadic x), autograd takes
    ReLU'(0) = 0 and reports a slope of neither side: pass ``midpoints(GRID)`` for those nets.
    """
    x = points.clone().requires_grad_()
    (slope,) = torch.autograd.grad(model(x).sum(), x)
    slope = slope[:, 0]
    scale = slope.abs().max().clamp(min=1.0)
    return 1 + int(((slope[1:] - slope[:-1]).abs() > 1e-9 * scale).sum())


# ---- the sawtooth ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", range(1, 9))
def test_sawtooth_is_the_tent_map_composed_k_times(k):
    reference = composed_tent(GRID.numpy(), k)
    np.testing.assert_allclose(sawtooth(GRID, k).numpy(), reference, rtol=0, atol=1e-12 * 2 ** k)


def test_tent_is_two_relus_and_sawtooth_one_is_the_tent():
    relu_form = 2 * torch.relu(GRID) - 4 * torch.relu(GRID - 0.5)
    torch.testing.assert_close(tent(GRID), relu_form, rtol=0, atol=1e-15)
    torch.testing.assert_close(sawtooth(GRID, 1), tent(GRID), rtol=0, atol=0)


def test_sawtooth_has_2_to_the_k_minus_1_teeth():
    x = torch.linspace(0, 1, 2 ** 10 + 1, dtype=torch.float64)  # holds every peak for k <= 10
    for k in range(1, 8):
        assert int((sawtooth(x, k) == 1).sum()) == 2 ** (k - 1)


# ---- the exact constructions -----------------------------------------------------------------------------------
@pytest.mark.parametrize("k", range(1, 7))
def test_deep_construction_is_the_sawtooth_with_2_to_the_k_pieces(k):
    net = sawtooth_net(k).double()
    with torch.no_grad():
        error = (net(GRID) - sawtooth(GRID, k)).abs().max()
    assert error <= 1e-6
    assert count_linear_pieces(net, GRID) == 2 ** k == slope_pieces(net, MIDPOINTS)
    hidden = [m.out_features for m in net if isinstance(m, nn.Linear)][:-1]
    assert hidden == [2] * k and count_parameters(net) == 6 * k + 1


def test_deep_construction_in_float32():
    x = GRID.float()
    with torch.no_grad():
        assert (sawtooth_net(6)(x) - sawtooth(x, 6)).abs().max() <= 1e-6


@pytest.mark.parametrize("k", range(1, 7))
def test_shallow_construction_needs_one_unit_per_piece(k):
    net = sawtooth_shallow(k).double()
    with torch.no_grad():
        assert (net(GRID) - sawtooth(GRID, k)).abs().max() <= 1e-9
    assert net[0].out_features == 2 ** k
    assert count_linear_pieces(net, GRID) == 2 ** k == slope_pieces(net, MIDPOINTS)


def test_one_unit_fewer_cannot_make_the_sawtooth():
    """Silence any hidden unit of the shallow construction and the fit breaks; a unit at an inner knot takes
    its piece with it (the unit at x = 0 only sets the first slope, so all slopes shift instead)."""
    k = 4
    net = sawtooth_shallow(k).double()
    for unit in range(2 ** k):
        smaller = copy.deepcopy(net)
        with torch.no_grad():
            smaller[2].weight[0, unit] = 0.0
            error = (smaller(GRID) - sawtooth(GRID, k)).abs().max()
        assert error >= 0.5
        assert slope_pieces(smaller, MIDPOINTS) == (2 ** k if unit == 0 else 2 ** k - 1)


# ---- counting pieces -------------------------------------------------------------------------------------------
def known_function(knots, slopes):
    """slopes[0]·(x + 2) + Σ (slopes[i+1] − slopes[i])·ReLU(x − knots[i]) as a one-hidden-layer net.

    ReLU(x + 2) = x + 2 on [−1, 1] carries the first slope; each knot changes the slope once.
    """
    biases = [2.0] + [-t for t in knots]
    changes = [slopes[0]] + [b - a for a, b in zip(slopes[:-1], slopes[1:])]
    return nn.Sequential(fixed_linear([[1.0]] * len(biases), biases), nn.ReLU(),
                         fixed_linear([changes], [0.0])).double()


def test_count_agrees_with_a_known_piecewise_linear_function():
    knots, slopes = [-0.7, -0.2, 0.1, 0.55], [1.0, -2.0, 0.5, 3.0, -1.0]
    net = known_function(knots, slopes)
    grid = torch.linspace(-1, 1, 4001, dtype=torch.float64)[:, None]
    assert count_linear_pieces(net, grid) == 5
    assert count_linear_pieces(net, grid[grid[:, 0] >= 0]) == 3  # knots 0.1 and 0.55 only
    assert count_linear_pieces(net, grid[grid[:, 0] > 0.6]) == 1
    x = grid.clone().requires_grad_()
    (slope,) = torch.autograd.grad(net(x).sum(), x)
    inside = [(grid[:, 0] > a + 1e-3) & (grid[:, 0] < b - 1e-3) for a, b in zip([-1] + knots, knots + [1])]
    for mask, expected in zip(inside, slopes):
        torch.testing.assert_close(slope[mask], torch.full_like(slope[mask], expected))


def test_two_kinks_between_grid_points_count_once_and_a_finer_grid_separates_them():
    net = known_function([0.501, 0.502], [1.0, -1.0, 1.0])
    assert count_linear_pieces(net, torch.linspace(0, 1, 11, dtype=torch.float64)[:, None]) == 2
    assert count_linear_pieces(net, torch.linspace(0, 1, 10001, dtype=torch.float64)[:, None]) == 3


@settings(max_examples=60, deadline=None)
@given(width=st.integers(1, 12), seed=st.integers(0, 2 ** 32 - 1))
def test_shallow_net_with_n_relus_has_at_most_n_plus_1_pieces(width, seed):
    torch.manual_seed(seed)
    net = shallow_wide(width).double()
    grid = torch.linspace(-2, 2, 3001, dtype=torch.float64)[:, None]
    pieces = count_linear_pieces(net, grid)
    assert pieces <= width + 1
    # independent reference: unit j switches at its kink −b/w; count the grid intervals holding a kink
    w, b = net[0].weight[:, 0].detach().numpy(), net[0].bias.detach().numpy()
    kinks = -b[w != 0] / w[w != 0]
    inside = kinks[(kinks > grid[0, 0].item()) & (kinks <= grid[-1, 0].item())]
    intervals = set(np.searchsorted(grid[:, 0].numpy(), inside).tolist())
    assert pieces == 1 + len(intervals)
    assert pieces == slope_pieces(net, grid)


@settings(max_examples=30, deadline=None)
@given(depth=st.integers(1, 4), width=st.integers(1, 6), seed=st.integers(0, 2 ** 32 - 1))
def test_activation_regions_never_undercount_the_slope_changes(depth, width, seed):
    torch.manual_seed(seed)
    net = deep_narrow(depth, width).double()
    grid = torch.linspace(-3, 3, 2001, dtype=torch.float64)[:, None]
    assert count_linear_pieces(net, grid) >= slope_pieces(net, grid)


def test_count_sees_in_place_relus_and_removes_its_hooks():
    net = sawtooth_net(3).double()
    in_place = nn.Sequential(*[nn.ReLU(inplace=True) if isinstance(m, nn.ReLU) else m for m in net])
    assert count_linear_pieces(in_place, GRID) == 8
    assert all(not m._forward_pre_hooks and not m._forward_hooks for m in in_place.modules())


# ---- sizes and training ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("depth,width", [(1, 3), (3, 2), (3, 8), (4, 4), (6, 5)])
def test_equal_parameter_width_matches_the_parameter_count(depth, width):
    shallow = shallow_wide(equal_parameter_width(depth, width))
    assert abs(count_parameters(shallow) - count_parameters(deep_narrow(depth, width))) <= 1
    assert equal_parameter_width(1, width) == width


def test_fit_regression_lowers_the_loss():
    torch.manual_seed(0)
    x = torch.linspace(-1, 1, 64)[:, None]
    model = deep_narrow(2, 16)
    losses = fit_regression(model, x, torch.sin(3 * x), steps=300, lr=0.01)
    assert len(losses) == 300 and losses[-1] < 0.05 * losses[0]
    with torch.no_grad():
        assert torch.mean((model(x) - torch.sin(3 * x)) ** 2) < 0.05 * losses[0]


def test_fit_ensemble_takes_the_steps_of_separate_runs():
    torch.manual_seed(1)
    models = [deep_narrow(3, 4).double() for _ in range(3)]
    copies = [copy.deepcopy(m) for m in models]
    x = torch.rand(40, 1, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    y = torch.sin(6 * x)
    losses = fit_ensemble(models, x, y, steps=60, lr=0.02)
    assert losses.shape == (60, 3)
    for i, single in enumerate(copies):
        alone = fit_regression(single, x, y, steps=60, lr=0.02)
        torch.testing.assert_close(losses[:, i], torch.tensor(alone, dtype=torch.float64), rtol=1e-12, atol=1e-14)
        for p, q in zip(single.parameters(), models[i].parameters()):
            torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-14)
    assert not torch.equal(models[0][0].weight, models[1][0].weight)


# ---- errors ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call,error,message", [
    (lambda: sawtooth(GRID, 0), ValueError, "argument 'k' must be a positive int; got 0"),
    (lambda: sawtooth(GRID, 1.5), ValueError, "argument 'k' must be a positive int; got 1.5"),
    (lambda: sawtooth(GRID, True), ValueError, "argument 'k' must be a positive int; got True"),
    (lambda: sawtooth(GRID + 0.5, 2), ValueError, r"'x' must lie in \[0, 1\].*got values in \[0.5, 1.5\]"),
    (lambda: sawtooth(torch.tensor([0.2, float("nan")]), 2), ValueError, r"must lie in \[0, 1\].*and NaN"),
    (lambda: tent(torch.tensor([0, 1])), TypeError, "'x' must be a floating-point tensor; got Tensor of dtype"),
    (lambda: tent([0.5]), TypeError, "tent: argument 'x' must be a floating-point tensor; got list"),
    (lambda: sawtooth_net(0), ValueError, "sawtooth_net: argument 'k' must be a positive int; got 0"),
    (lambda: sawtooth_shallow(-1), ValueError, "sawtooth_shallow: argument 'k' must be a positive int; got -1"),
    (lambda: deep_narrow(0, 2), ValueError, "deep_narrow: argument 'depth' must be a positive int; got 0"),
    (lambda: deep_narrow(2, 2.0), ValueError, "deep_narrow: argument 'width' must be a positive int; got 2.0"),
    (lambda: shallow_wide(0), ValueError, "shallow_wide: argument 'width' must be a positive int; got 0"),
    (lambda: equal_parameter_width(2, 0), ValueError, "argument 'width' must be a positive int; got 0"),
    (lambda: fixed_linear([[1.0, 2.0]], [0.0, 1.0]), ValueError, r"'weight' must be \(H, D\).*got shapes \(1, 2\) "
     r"and \(2,\)"),
    (lambda: fixed_linear([[1.0], [2.0, 3.0]], [0.0, 0.0]), TypeError, "must be numbers in nested lists"),
    (lambda: count_linear_pieces(nn.Linear(1, 1), GRID), ValueError, "argument 'model' has no nn.ReLU module"),
    (lambda: count_linear_pieces("net", GRID), TypeError, "argument 'model' must be a torch.nn.Module; got str"),
    (lambda: count_linear_pieces(sawtooth_net(2), DENSE.flip(0)), ValueError, "strictly increasing points; got "
     "20001 points not in increasing order"),
    (lambda: count_linear_pieces(sawtooth_net(2), GRID[:1]), ValueError, "N >= 2 strictly increasing points; got "
     "1 points"),
    (lambda: count_linear_pieces(sawtooth_net(2), GRID.T), ValueError, r"'x_grid' must have shape \(N, 1\)"),
    (lambda: fit_regression(deep_narrow(1, 2), GRID, GRID[:5]), ValueError, r"argument 'y' must have shape \(N, O\) "
     r"with N = 25001"),
    (lambda: fit_regression(deep_narrow(1, 2), GRID, GRID, steps=0), ValueError, "'steps' must be a positive int"),
    (lambda: fit_regression(deep_narrow(1, 2), GRID, GRID, lr=-1.0), ValueError, "'lr' must be a positive number; "
     "got -1.0"),
    (lambda: fit_regression(None, GRID, GRID), TypeError, "argument 'model' must be a torch.nn.Module; got NoneType"),
    (lambda: fit_ensemble([], GRID, GRID), TypeError, "argument 'models' must be a non-empty list of nn.Module"),
    (lambda: fit_ensemble([deep_narrow(1, 2), deep_narrow(1, 3)], GRID, GRID), ValueError,
     "must hold networks of one architecture"),
    (lambda: fit_ensemble([nn.BatchNorm1d(1)], GRID, GRID), ValueError, "no buffers"),
])
def test_bad_arguments_get_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
