"""Input checks for the torch twins (kept outside the code shown on the site)."""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, TypeVar

import torch

F = TypeVar("F", bound=Callable[..., Any])


def as_float_tensor(name: str, value: Any, where: str) -> torch.Tensor:
    """Return a floating tensor, or raise TypeError naming the argument."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{where}: argument '{name}' must be a torch.Tensor; got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(
            f"{where}: argument '{name}' must be a floating-point tensor; got dtype {value.dtype} "
            f"(convert with .float() or .double())"
        )
    return value


def float_tensor_args(fn: F) -> F:
    """Decorator: the first positional argument ``x`` must be a floating-point tensor."""

    @functools.wraps(fn)
    def wrapper(x: Any, *args: Any, **kwargs: Any) -> Any:
        as_float_tensor("x", x, fn.__name__)
        return fn(x, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


# ---- recurrent networks (n2t.torch.rnn) ---------------------------------------------------------
NONLINEARITIES = ("tanh", "relu")


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"{value.dtype} tensor of shape {tuple(value.shape)}"
    return type(value).__name__


def check_tensor(where: str, name: str, value: Any, shape: tuple[int | None, ...], letters: str) -> None:
    """``value`` must be a floating tensor of ``shape`` (None matches any size); ``letters`` names the axes."""
    if not isinstance(value, torch.Tensor) or not value.is_floating_point():
        raise TypeError(f"{where}: argument '{name}' must be a floating-point tensor {letters}; got {_describe(value)}")
    if value.ndim != len(shape) or any(want is not None and got != want for got, want in zip(value.shape, shape)):
        want = ", ".join("?" if size is None else str(size) for size in shape)
        raise ValueError(f"{where}: argument '{name}' must have shape {letters} = ({want}); "
                         f"got shape {tuple(value.shape)}")


def check_like(where: str, name: str, value: torch.Tensor, reference: torch.Tensor, what: str) -> None:
    """``value`` must have the dtype and device of ``reference`` (``what`` names it: "x is", "the weights are")."""
    if value.dtype != reference.dtype or value.device != reference.device:
        raise TypeError(f"{where}: argument '{name}' is a {value.dtype} tensor on {value.device} but {what} "
                        f"{reference.dtype} on {reference.device}; convert one with .to()")


def check_module_type(module: Any, kinds: tuple[type, ...], where: str, name: str = "module") -> None:
    if type(module) not in kinds:
        raise TypeError(f"{where}: argument '{name}' must be one of {[kind.__name__ for kind in kinds]}; "
                        f"got {type(module).__name__}")


def _check_nonlinearity(where: str, value: Any) -> None:
    if value not in NONLINEARITIES:
        raise ValueError(f"{where}: argument 'nonlinearity' must be one of {NONLINEARITIES}; got {value!r}")


def _check_step(where: str, gates: int, x: Any, states: dict[str, Any], weights: tuple[Any, ...]) -> None:
    """One time step: x (N, D), each state (N, H), weights (G·H, D), (G·H, H), (G·H,), (G·H,)."""
    w_ih = weights[0]
    check_tensor(where, "w_ih", w_ih, (None, None), f"({gates}H, D)")
    if w_ih.shape[0] % gates:
        raise ValueError(f"{where}: argument 'w_ih' must have {gates}·H rows; got shape {tuple(w_ih.shape)}")
    rows, features = w_ih.shape
    hidden = rows // gates
    for name, value, shape in zip(("w_hh", "b_ih", "b_hh"), weights[1:], ((rows, hidden), (rows,), (rows,))):
        check_tensor(where, name, value, shape, f"({gates}H, H)" if name == "w_hh" else f"({gates}H,)")
        check_like(where, name, value, w_ih, "w_ih is")
    check_tensor(where, "x", x, (None, features), "(N, D)")
    check_like(where, "x", x, w_ih, "the weights are")
    for name, value in states.items():
        check_tensor(where, name, value, (x.shape[0], hidden), "(N, H)")
        check_like(where, name, value, x, "x is")


def checks_step(gates: int) -> Callable[[F], F]:
    """Decorator for a cell function ``(x, h_prev[, c_prev], w_ih, w_hh, b_ih, b_hh[, nonlinearity])``."""
    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            arguments = signature.bind(*args, **kwargs).arguments
            states = {name: value for name, value in arguments.items() if name in ("h_prev", "c_prev")}
            weights = tuple(arguments[name] for name in ("w_ih", "w_hh", "b_ih", "b_hh"))
            _check_step(fn.__name__, gates, arguments["x"], states, weights)
            _check_nonlinearity(fn.__name__, arguments.get("nonlinearity", "tanh"))
            return fn(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return decorate


def check_recurrent_options(module: Any, **arguments: Any) -> None:
    """Constructor arguments of a recurrent cell or layer."""
    where = type(module).__name__
    for name in ("input_size", "hidden_size", "num_layers"):
        value = arguments.get(name, 1)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{where}: argument '{name}' must be an int >= 1; got {value!r}")
    for name in ("bidirectional", "batch_first"):
        if not isinstance(arguments.get(name, True), bool):
            raise TypeError(f"{where}: argument '{name}' must be a bool; got {arguments[name]!r}")
    _check_nonlinearity(where, arguments.get("nonlinearity", "tanh"))


def _check_states(where: str, names: tuple[str, ...], state: Any, shape: tuple[int, ...], letters: str,
                  x: torch.Tensor) -> None:
    if len(names) == 1:
        values: tuple[Any, ...] = (state,)
    elif isinstance(state, (tuple, list)) and len(state) == len(names):
        values = tuple(state)
    else:
        raise TypeError(f"{where}: argument 'state' must be a tuple ({', '.join(names)}); got {_describe(state)}")
    for name, value in zip(names, values):
        check_tensor(where, name, value, shape, letters)
        check_like(where, name, value, x, "x is")


def check_cell_input(cell: Any, x: Any, state_names: tuple[str, ...], **state: Any) -> None:
    """A cell's forward: x (N, D) and its one state argument (named h, or state = (h, c))."""
    where = type(cell).__name__
    check_tensor(where, "x", x, (None, cell.input_size), "(N, D)")
    check_like(where, "x", x, cell.weight_ih, "the weights are")
    [(name, value)] = state.items()
    if value is not None:
        names = state_names if len(state_names) > 1 else (name,)
        _check_states(where, names, value, (x.shape[0], cell.hidden_size), "(N, H)", x)


def check_sequence_input(layer: Any, x: Any, state: Any, state_names: tuple[str, ...]) -> None:
    """A layer's forward: x (N, T, D) (or (T, N, D)) and the initial state (L·dirs, N, H) per tensor."""
    where = type(layer).__name__
    check_tensor(where, "x", x, (None, None, layer.input_size), "(N, T, D)" if layer.batch_first else "(T, N, D)")
    if x.numel() == 0:
        raise ValueError(f"{where}: argument 'x' must hold at least one sequence of one step; "
                         f"got shape {tuple(x.shape)}")
    check_like(where, "x", x, layer.weight_ih_l0, "the weights are")
    if state is not None:
        batch = x.shape[0 if layer.batch_first else 1]
        shape = ((1 + layer.bidirectional) * layer.num_layers, batch, layer.hidden_size)
        _check_states(where, state_names if len(state_names) > 1 else ("state",), state, shape,
                      "(L·dirs, N, H)", x)


def guard(cls: type, method_name: str, check: Callable[..., None]) -> None:
    """Replace ``cls.method_name`` by a version that first runs ``check(self, **arguments)``."""
    method = getattr(cls, method_name)
    signature = inspect.signature(method)

    @functools.wraps(method)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        check(self, **dict(list(bound.arguments.items())[1:]))
        return method(self, *args, **kwargs)

    setattr(cls, method_name, guarded)
