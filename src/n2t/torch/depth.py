"""Deep versus shallow ReLU networks on one input: the sawtooth built by hand, counting linear pieces, training.

Telgarsky (2016): composing the tent map k times gives a sawtooth with 2^(k−1) teeth and 2^k linear pieces. A
deep net with k hidden layers of 2 ReLUs computes it exactly; a net with one hidden layer of n ReLUs has at most
n + 1 pieces, so it needs at least 2^k − 1 units.
"""

from __future__ import annotations

import math
from typing import Any

from n2t._validate import checked_by, positive_int
from n2t.torch._checks import check_tensor

# --8<-- [start:imports]
import copy

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
# --8<-- [end:imports]

__all__ = ["tent", "sawtooth", "fixed_linear", "sawtooth_net", "sawtooth_shallow", "deep_narrow", "shallow_wide",
           "equal_parameter_width", "count_linear_pieces", "fit_regression", "fit_ensemble"]


def _check_unit_interval(where: str, x: Any, k: Any = 1) -> None:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"{where}: argument 'x' must be a floating-point tensor; got {type(x).__name__}"
                        + (f" of dtype {x.dtype}" if isinstance(x, torch.Tensor) else ""))
    if x.numel() and not bool(((x >= 0) & (x <= 1)).all()):
        raise ValueError(f"{where}: argument 'x' must lie in [0, 1] (the sawtooth's domain); got values in "
                         f"[{float(x.min()):g}, {float(x.max()):g}]" + (" and NaN" if bool(x.isnan().any()) else ""))
    positive_int("k", k, where)


def _check_sizes(where: str, **sizes: Any) -> None:
    for name, value in sizes.items():
        positive_int(name, value, where)


def _check_fixed(where: str, weight: Any, bias: Any) -> None:
    try:
        w, b = torch.as_tensor(weight, dtype=torch.float64), torch.as_tensor(bias, dtype=torch.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{where}: arguments 'weight' and 'bias' must be numbers in nested lists; {error}") from None
    if w.ndim != 2 or 0 in w.shape or b.shape != (w.shape[0],):
        raise ValueError(f"{where}: argument 'weight' must be (H, D) with H, D >= 1 and 'bias' (H,); "
                         f"got shapes {tuple(w.shape)} and {tuple(b.shape)}")


def _check_module(where: str, name: str, model: Any) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{where}: argument '{name}' must be a torch.nn.Module; got {type(model).__name__}")


def _check_pieces(where: str, model: Any, x_grid: Any) -> None:
    _check_module(where, "model", model)
    if not any(isinstance(m, nn.ReLU) for m in model.modules()):
        raise ValueError(f"{where}: argument 'model' has no nn.ReLU module; the pieces are read from the on/off "
                         f"pattern of its nn.ReLU modules (torch.relu called inside forward is not seen)")
    check_tensor(where, "x_grid", x_grid, (None, 1), "(N, 1)")
    if len(x_grid) < 2 or not bool((x_grid[1:] > x_grid[:-1]).all()):
        raise ValueError(f"{where}: argument 'x_grid' must hold N >= 2 strictly increasing points; "
                         f"got {len(x_grid)} points" + (" not in increasing order" if len(x_grid) >= 2 else ""))


def _check_training(where: str, x: Any, y: Any, steps: Any, lr: Any) -> None:
    check_tensor(where, "x", x, (None, None), "(N, D)")
    check_tensor(where, "y", y, (x.shape[0], None), f"(N, O) with N = {x.shape[0]}")
    positive_int("steps", steps, where)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < math.inf:
        raise ValueError(f"{where}: argument 'lr' must be a positive number; got {lr!r}")


def _check_regression(where: str, model: Any, x: Any, y: Any, steps: Any, lr: Any) -> None:
    _check_module(where, "model", model)
    _check_training(where, x, y, steps, lr)


def _check_ensemble(where: str, models: Any, x: Any, y: Any, steps: Any, lr: Any) -> None:
    if not isinstance(models, (list, tuple)) or not models:
        raise TypeError(f"{where}: argument 'models' must be a non-empty list of nn.Module; got {models!r:.60}")
    for model in models:
        _check_module(where, "models", model)
    shapes = [[(name, p.shape) for name, p in model.named_parameters()] for model in models]
    if any(s != shapes[0] for s in shapes) or any(list(model.buffers()) for model in models):
        raise ValueError(f"{where}: argument 'models' must hold networks of one architecture (the same parameter "
                         f"names and shapes, no buffers); got {len(models)} that differ")
    _check_training(where, x, y, steps, lr)


@checked_by(_check_unit_interval)
# --8<-- [start:tent]
def tent(x: torch.Tensor) -> torch.Tensor:
    """The tent map on [0, 1]: T(x) = 2x up to x = 1/2, then 2 − 2x.

    Args:
        x: inputs in [0, 1], any shape.
    """
    return 1 - torch.abs(2 * x - 1)
# --8<-- [end:tent]


@checked_by(_check_unit_interval)
# --8<-- [start:sawtooth]
def sawtooth(x: torch.Tensor, k: int) -> torch.Tensor:
    """The tent map composed k times: 2^(k−1) teeth, 2^k linear pieces of slope ±2^k.

    Composing doubles the teeth, so T^k(x) = T(2^(k−1) x mod 1): no loop is needed.

    Args:
        x: inputs in [0, 1], any shape.
        k: number of compositions, k >= 1.
    """
    return tent(torch.remainder(2.0 ** (k - 1) * x, 1.0))
# --8<-- [end:sawtooth]


@checked_by(_check_fixed)
# --8<-- [start:fixed-linear]
def fixed_linear(weight: list[list[float]], bias: list[float]) -> nn.Linear:
    """An ``nn.Linear`` with the given weight (H, D) and bias (H,), written as nested lists."""
    layer = nn.Linear(len(weight[0]), len(weight))
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        layer.bias.copy_(torch.tensor(bias))
    return layer
# --8<-- [end:fixed-linear]


@checked_by(_check_sizes)
# --8<-- [start:sawtooth-net]
def sawtooth_net(k: int) -> nn.Sequential:
    """k hidden layers of 2 ReLUs that compute ``sawtooth(x, k)`` exactly on [0, 1]: 2k units, 6k + 1 weights.

    Each layer holds ReLU(u) and ReLU(u − 1/2) of its input u; T(u) = 2·ReLU(u) − 4·ReLU(u − 1/2) is formed
    by the next layer's weights, which feed T(u) into its own two units.
    """
    tent_out = [2.0, -4.0]
    layers: list[nn.Module] = [fixed_linear([[1.0], [1.0]], [0.0, -0.5]), nn.ReLU()]  # u = x
    for _ in range(k - 1):
        layers += [fixed_linear([tent_out, tent_out], [0.0, -0.5]), nn.ReLU()]  # u = T(previous u)
    layers.append(fixed_linear([tent_out], [0.0]))  # output T(u)
    return nn.Sequential(*layers)
# --8<-- [end:sawtooth-net]


@checked_by(_check_sizes)
# --8<-- [start:sawtooth-shallow]
def sawtooth_shallow(k: int) -> nn.Sequential:
    """One hidden layer of 2^k ReLUs that computes ``sawtooth(x, k)`` exactly on [0, 1]: one unit per piece.

    Unit i is ReLU(x − i/2^k); its output weight is the change of slope at i/2^k: +2^k for the first piece,
    then −2^(k+1), +2^(k+1), ... as the slope flips between +2^k and −2^k.
    """
    n = 2 ** k
    knots = [i / n for i in range(n)]
    slope_changes = [float(n)] + [(-1) ** i * 2.0 * n for i in range(1, n)]
    hidden = fixed_linear([[1.0]] * n, [-t for t in knots])
    return nn.Sequential(hidden, nn.ReLU(), fixed_linear([slope_changes], [0.0]))
# --8<-- [end:sawtooth-shallow]


@checked_by(_check_sizes)
# --8<-- [start:deep-narrow]
def deep_narrow(depth: int, width: int) -> nn.Sequential:
    """A ReLU net from 1 input to 1 output with ``depth`` hidden layers of ``width`` units (PyTorch's init)."""
    layers: list[nn.Module] = [nn.Linear(1, width), nn.ReLU()]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width), nn.ReLU()]
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)
# --8<-- [end:deep-narrow]


@checked_by(_check_sizes)
# --8<-- [start:shallow-wide]
def shallow_wide(width: int) -> nn.Sequential:
    """One hidden layer of ``width`` ReLUs, 1 input, 1 output: 3·width + 1 parameters."""
    return deep_narrow(1, width)
# --8<-- [end:shallow-wide]


@checked_by(_check_sizes)
# --8<-- [start:equal-parameter-width]
def equal_parameter_width(depth: int, width: int) -> int:
    """The width of a one-hidden-layer net with (about) as many parameters as ``deep_narrow(depth, width)``.

    Deep: 3·width + 1 + (depth − 1)(width² + width) parameters; shallow: 3·W + 1.
    """
    deep = 3 * width + 1 + (depth - 1) * (width * width + width)
    return max(1, round((deep - 1) / 3))
# --8<-- [end:equal-parameter-width]


@checked_by(_check_pieces)
# --8<-- [start:count-linear-pieces]
def count_linear_pieces(model: nn.Module, x_grid: torch.Tensor) -> int:
    """Linear pieces of a ReLU net along sorted inputs: a new piece starts where any unit switches on or off.

    Inside one on/off pattern every ReLU acts as 0 or as the identity, so the net is one affine function there.
    The count is of such regions: two kinks between neighbouring grid points count once (a finer grid finds
    them), and two neighbouring regions that happen to share a slope count twice.

    Args:
        model: a network whose ReLUs are ``nn.ReLU`` modules.
        x_grid: strictly increasing inputs, shape ``(N, 1)``.
    """
    patterns: list[torch.Tensor] = []
    hooks = [m.register_forward_pre_hook(lambda module, inputs: patterns.append(inputs[0] >= 0))
             for m in model.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            model(x_grid)
    finally:
        for hook in hooks:
            hook.remove()
    on = torch.cat([p.flatten(1) for p in patterns], dim=1)  # (N, every ReLU unit)
    switches = (on[1:] != on[:-1]).any(dim=1)  # (N − 1,)
    return 1 + int(switches.sum())
# --8<-- [end:count-linear-pieces]


@checked_by(_check_regression)
# --8<-- [start:fit-regression]
def fit_regression(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int = 2000,
                   lr: float = 0.01) -> list[float]:
    """Full-batch Adam on the mean squared error, the learning rate decaying to 0 on a cosine.

    Args:
        model: maps ``(N, D)`` to ``(N, O)``.
        x: inputs ``(N, D)``.
        y: targets ``(N, O)``.
        steps: number of updates.
        lr: initial learning rate.

    Returns:
        the loss before each update.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.mean((model(x) - y) ** 2)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    return losses
# --8<-- [end:fit-regression]


@checked_by(_check_ensemble)
# --8<-- [start:fit-ensemble]
def fit_ensemble(models: list[nn.Module], x: torch.Tensor, y: torch.Tensor, steps: int = 2000,
                 lr: float = 0.01) -> torch.Tensor:
    """``fit_regression`` for M nets of one architecture at once (say one per seed), vectorised with ``vmap``.

    Adam updates each number on its own, and the summed loss gives each net the gradient of its own loss, so
    every net takes the steps ``fit_regression`` would give it. The trained weights are copied back.

    Args:
        models: M networks with the same parameter names and shapes (no buffers).
        x: inputs ``(N, D)``, shared by all nets.
        y: targets ``(N, O)``.
        steps: number of updates.
        lr: initial learning rate.

    Returns:
        the loss of every net before each update, shape ``(steps, M)``.
    """
    params, buffers = stack_module_state(models)  # each (M, ...)
    template = copy.deepcopy(models[0]).to("meta")

    def predict(p: dict[str, torch.Tensor], b: dict[str, torch.Tensor], inputs: torch.Tensor) -> torch.Tensor:
        return functional_call(template, (p, b), (inputs,))

    optimizer = torch.optim.Adam(params.values(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        out = vmap(predict, in_dims=(0, 0, None))(params, buffers, x)  # (M, N, O)
        loss = torch.mean((out - y) ** 2, dim=(1, 2))  # (M,)
        loss.sum().backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.detach())
    with torch.no_grad():
        for i, model in enumerate(models):
            for name, p in model.named_parameters():
                p.copy_(params[name][i])
    return torch.stack(losses)  # (steps, M)
# --8<-- [end:fit-ensemble]
