"""Saving and loading torch modules: ``state_dict`` files read back with ``weights_only=True``."""

from __future__ import annotations

import os
import pickle
import zipfile

import torch
from torch import nn

__all__ = ["save_state", "load_state"]


def save_state(module: nn.Module, path: str | os.PathLike) -> None:
    """Write ``module.state_dict()`` to ``path`` (tensors only, no code).

    Args:
        module: any ``nn.Module``.
        path: destination file, e.g. ``model.pt``.
    """
    torch.save(module.state_dict(), path)


def load_state(module: nn.Module, path: str | os.PathLike, map_location: str | torch.device = "cpu") -> nn.Module:
    """Load a file written by :func:`save_state` into ``module`` (in place) and return it.

    The file is read with ``torch.load(weights_only=True)``, so it can hold tensors but never code.
    Names and shapes must match the module exactly.

    Args:
        module: the module to fill; its architecture must match the saved one.
        path: a file written by :func:`save_state`.
        map_location: where to put the tensors while loading (default CPU).

    Returns:
        ``module``.
    """
    where = os.fspath(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError) as error:
        raise ValueError(f"load_state: {where!r} is not a valid state_dict file ({error})") from error
    if not isinstance(state, dict):
        raise ValueError(f"load_state: {where!r} holds a {type(state).__name__}, expected a state_dict")
    expected = {name: tuple(t.shape) for name, t in module.state_dict().items()}
    found = {name: tuple(t.shape) for name, t in state.items() if isinstance(t, torch.Tensor)}
    if found != expected:
        raise ValueError(f"load_state: {where!r} holds {found}, but the module expects {expected}")
    for name, tensor in state.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ValueError(f"load_state: tensor {name!r} in {where!r} contains NaN or inf")
    module.load_state_dict(state)
    return module
