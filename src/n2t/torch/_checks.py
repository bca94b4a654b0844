"""Input checks for the torch twins (kept outside the code shown on the site)."""

from __future__ import annotations

import functools
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
