"""Input checks shared by the NumPy layers: clear errors instead of wrong answers.

The checks live in decorators so that the code shown on the site (cut from the function bodies)
stays the plain math, while every public call still rejects bad input.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])


def describe(value: Any) -> str:
    """Short description of a value for error messages, e.g. ``ndarray float32 (2, 3)``."""
    if isinstance(value, np.ndarray):
        return f"ndarray of dtype {value.dtype} and shape {value.shape}"
    return f"{type(value).__name__} {value!r:.60}"


def as_float_array(name: str, value: Any, where: str) -> np.ndarray:
    """Return ``value`` as a floating ndarray, or raise a TypeError naming ``name``.

    Integers and booleans become float64; float16/32/64 keep their dtype.
    """
    array = np.asarray(value)
    if array.dtype.kind in "iub":
        return array.astype(np.float64)
    if array.dtype.kind != "f":
        raise TypeError(
            f"{where}: argument '{name}' must be a real-valued array; "
            f"got {describe(value)} (dtype kind '{array.dtype.kind}')"
        )
    return array


def checked_by(check: Callable[..., Any]) -> Callable[[F], F]:
    """Decorator: call ``check(function name, **arguments)`` (defaults filled in) before the function.

    ``check`` raises on bad input. If it returns a dict, the function receives those arguments (converted,
    e.g. to arrays) instead of the caller's; if it returns None, the caller's arguments pass through unchanged.
    """

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            converted = check(fn.__name__, **bound.arguments)
            return fn(*args, **kwargs) if converted is None else fn(**converted)

        return wrapper  # type: ignore[return-value]

    return decorate


def float_args(*names: str, check: Callable[..., None] | None = None) -> Callable[[F], F]:
    """Decorator: convert the named arguments to floating arrays (see :func:`as_float_array`).

    ``check``, if given, is called with the converted arguments (as keywords) and raises on bad input.
    """

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            for name in names:
                if name in bound.arguments and bound.arguments[name] is not None:
                    bound.arguments[name] = as_float_array(
                        name, bound.arguments[name], fn.__name__
                    )
            if check is not None:
                bound.apply_defaults()
                check(**bound.arguments)
            return fn(*bound.args, **bound.kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def cache_reference(cache: Any) -> np.ndarray | np.generic:
    """The array in a cache whose shape the upstream gradient must have (the first entry)."""
    reference = cache[0] if isinstance(cache, tuple) else cache
    if not isinstance(reference, (np.ndarray, np.generic)):
        raise TypeError(
            f"argument 'cache' must be the cache returned by the matching forward function; "
            f"got {describe(cache)}"
        )
    return reference


def checks_dout(fn: F) -> F:
    """Decorator for ``xxx_backward(dout, cache)``: ``dout`` must match the forward output."""

    @functools.wraps(fn)
    def wrapper(dout: Any, cache: Any, *args: Any, **kwargs: Any) -> Any:
        dout = as_float_array("dout", dout, fn.__name__)
        expected = cache_reference(cache).shape
        if dout.shape != expected:
            raise ValueError(
                f"{fn.__name__}: argument 'dout' has shape {dout.shape}, "
                f"expected {expected} (the shape of the forward output)"
            )
        return fn(dout, cache, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def require_ndim(name: str, array: np.ndarray, ndim: int, where: str, letters: str) -> None:
    """Raise ValueError unless ``array.ndim == ndim``; ``letters`` names the axes, e.g. ``(N, D)``."""
    if array.ndim != ndim:
        raise ValueError(
            f"{where}: argument '{name}' must be {ndim}-D with shape {letters}; "
            f"got shape {array.shape}"
        )


def positive_int(name: str, value: Any, where: str) -> int:
    """``value`` as an int ≥ 1, or a ValueError naming ``name`` (booleans are rejected)."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{where}: argument '{name}' must be a positive int; got {value!r}")
    return int(value)


def probability(name: str, value: Any, where: str) -> float:
    """``value`` as a float in [0, 1) (e.g. a drop or masking rate), or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{where}: argument '{name}' must be a probability in [0, 1); got {value!r}")
    return float(value)


def one_of(name: str, value: Any, choices: Any, where: str) -> None:
    """Raise a ValueError naming ``name`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{where}: argument '{name}' must be one of {sorted(choices)}; got {value!r}")
