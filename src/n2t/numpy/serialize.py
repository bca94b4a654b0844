"""Saving and loading parameters as ``.npz`` files (no pickle)."""

from __future__ import annotations

import os
import zipfile
from typing import Mapping

import numpy as np

__all__ = ["save_params", "load_params"]


def save_params(path: str | os.PathLike, params: Mapping[str, np.ndarray]) -> None:
    """Save named float arrays to ``path`` (an ``.npz`` file).

    Args:
        path: destination file.
        params: name → array, e.g. a layer's ``params`` dict.
    """
    for name, value in params.items():
        if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
            raise TypeError(f"save_params: params[{name!r}] must be a float ndarray; got {type(value).__name__}")
    np.savez(path, **params)  # type: ignore[arg-type]  # numpy stubs confuse **kwargs with allow_pickle


def load_params(
    path: str | os.PathLike, expected: Mapping[str, tuple[int, ...]] | None = None
) -> dict[str, np.ndarray]:
    """Load arrays saved by :func:`save_params`, refusing pickles, NaN/inf and wrong shapes.

    Args:
        path: an ``.npz`` file.
        expected: name → shape that the file must hold exactly (optional).

    Returns:
        name → array.
    """
    if not zipfile.is_zipfile(path):
        raise ValueError(f"load_params: {os.fspath(path)!r} is not a valid .npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            params = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise ValueError(f"load_params: {os.fspath(path)!r} is not a valid .npz file ({error})") from error
    for name, value in params.items():
        if not np.all(np.isfinite(value)):
            raise ValueError(f"load_params: array {name!r} in {os.fspath(path)!r} contains NaN or inf")
    if expected is not None:
        got = {name: value.shape for name, value in params.items()}
        want = {name: tuple(shape) for name, shape in expected.items()}
        if got != want:
            raise ValueError(f"load_params: {os.fspath(path)!r} holds shapes {got}, expected {want}")
    return params
