"""Input checks shared by the recurrent layers (kept out of the code shown on the pages)."""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

import numpy as np

from n2t._validate import as_float_array, describe

NONLINEARITIES = ("tanh", "relu")


def _require_shape(where: str, name: str, array: np.ndarray, expected: tuple[int, ...], letters: str) -> None:
    if array.shape != expected:
        raise ValueError(f"{where}: argument '{name}' must have shape {letters} = {expected}; got shape {array.shape}")


def check_recurrent(where: str, gates: int, x: np.ndarray, states: dict[str, np.ndarray],
                    w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray, step: bool) -> None:
    """Raise a clear error unless the arguments of a recurrent forward function fit together.

    Args:
        where: the function's name, for the message.
        gates: rows of the packed weights per hidden unit (RNN 1, GRU 3, LSTM 4).
        x: ``(N, D)`` for one step, ``(N, T, D)`` for a sequence.
        states: name → initial state, each ``(N, H)``.
        w_ih, w_hh, b_ih, b_hh: the packed weights.
        step: whether ``x`` is one step.
    """
    if w_hh.ndim != 2 or w_hh.shape[0] != gates * w_hh.shape[1]:
        raise ValueError(f"{where}: argument 'w_hh' must have shape ({gates}·H, H); got shape {w_hh.shape}")
    hidden = w_hh.shape[1]
    if w_ih.ndim != 2 or w_ih.shape[0] != gates * hidden:
        raise ValueError(f"{where}: argument 'w_ih' must have shape ({gates}·H, D) with H = {hidden} "
                         f"(from w_hh); got shape {w_ih.shape}")
    for name, bias in (("b_ih", b_ih), ("b_hh", b_hh)):
        _require_shape(where, name, bias, (gates * hidden,), f"({gates}·H,)")
    letters = "(N, D)" if step else "(N, T, D)"
    if x.ndim != (2 if step else 3) or x.shape[-1] != w_ih.shape[1]:
        raise ValueError(f"{where}: argument 'x' must have shape {letters} with D = {w_ih.shape[1]} "
                         f"(from w_ih); got shape {x.shape}")
    if not step and x.shape[1] < 1:
        raise ValueError(f"{where}: argument 'x' must hold at least one time step; got shape {x.shape}")
    for name, state in states.items():
        _require_shape(where, name, state, (x.shape[0], hidden), "(N, H)")


def recurrent_args(gates: int, state_names: tuple[str, ...], step: bool) -> Callable:
    """Decorator for ``f(x, *states, w_ih, w_hh, b_ih, b_hh[, nonlinearity])``: floats in, shapes checked."""

    def decorate(fn: Callable) -> Callable:
        signature = inspect.signature(fn)
        where = fn.__name__

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            values = bound.arguments
            for name in ("x", *state_names, "w_ih", "w_hh", "b_ih", "b_hh"):
                values[name] = as_float_array(name, values[name], where)
            states = {name: values[name] for name in state_names}
            check_recurrent(where, gates, values["x"], states, values["w_ih"], values["w_hh"],
                            values["b_ih"], values["b_hh"], step)
            if values.get("nonlinearity", "tanh") not in NONLINEARITIES:
                raise ValueError(f"{where}: argument 'nonlinearity' must be one of {NONLINEARITIES}; "
                                 f"got {values['nonlinearity']!r}")
            return fn(*bound.args, **bound.kwargs)

        return wrapper

    return decorate


def check_upstream(where: str, name: str, grad: Any, expected: tuple[int, ...]) -> np.ndarray:
    """The upstream gradient as a float array of the forward output's shape, or a clear error."""
    grad = as_float_array(name, grad, where)
    if grad.shape != expected:
        raise ValueError(f"{where}: argument '{name}' has shape {grad.shape}, expected {expected} "
                         f"(the shape of the forward output)")
    return grad


def check_cache(where: str, cache: Any, length: int) -> tuple:
    """``cache`` must be the tuple the matching forward function returned."""
    if not isinstance(cache, tuple) or len(cache) != length or not isinstance(cache[0], np.ndarray):
        raise TypeError(f"{where}: argument 'cache' must be the cache returned by the matching forward "
                        f"function; got {describe(cache)}")
    return cache


def backward_args(cache_length: int, *grad_names: str) -> Callable:
    """Decorator for ``f(*grads, cache)``: each upstream gradient must have the shape of ``cache[0]``."""

    def decorate(fn: Callable) -> Callable:
        where = fn.__name__

        @functools.wraps(fn)
        def wrapper(*args: Any) -> Any:
            if len(args) != len(grad_names) + 1:
                raise TypeError(f"{where}: expected the arguments {', '.join(grad_names)}, cache; "
                                f"got {len(args)} arguments")
            cache = check_cache(where, args[-1], cache_length)
            grads = [check_upstream(where, name, grad, cache[0].shape) for name, grad in zip(grad_names, args)]
            return fn(*grads, cache)

        return wrapper

    return decorate
