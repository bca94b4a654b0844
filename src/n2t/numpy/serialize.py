"""Saving and loading parameters as ``.npz`` files (no pickle)."""

from __future__ import annotations

import json
import os
import zipfile
from typing import Mapping

import numpy as np

__all__ = ["save_params", "load_params", "save_model", "load_model"]


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
        if value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
            raise ValueError(f"load_params: array {name!r} in {os.fspath(path)!r} contains NaN or inf")
    if expected is not None:
        got = {name: value.shape for name, value in params.items()}
        want = {name: tuple(shape) for name, shape in expected.items()}
        if got != want:
            raise ValueError(f"load_params: {os.fspath(path)!r} holds shapes {got}, expected {want}")
    return params


MANIFEST_KEY = "__manifest__"
FORMAT = "n2t.numpy.Sequential/1"


def _layer_classes() -> dict[str, type]:
    from n2t.numpy import batchnorm, conv, dropout, layers, linear, pooling

    classes = [linear.Linear, batchnorm.BatchNorm1d, batchnorm.BatchNorm2d, dropout.Dropout, layers.ReLU,
               layers.LeakyReLU, layers.Tanh, layers.Sigmoid, layers.GELU, conv.Conv2d, pooling.MaxPool2d,
               pooling.AvgPool2d, pooling.Flatten]
    return {cls.__name__: cls for cls in classes}


def save_model(model, path: str | os.PathLike) -> None:
    """Save a ``Sequential`` to one ``.npz``: its arrays plus a JSON manifest of layer types, configs
    and shapes, so :func:`load_model` can rebuild it without pickle.

    Args:
        model: an ``n2t.numpy.Sequential``.
        path: destination file.
    """
    from n2t.numpy.layers import Sequential

    if not isinstance(model, Sequential):
        raise TypeError(f"save_model: argument 'model' must be an n2t.numpy Sequential; got {type(model).__name__}")
    known = _layer_classes()
    layers = []
    for index, layer in enumerate(model.layers):
        if type(layer).__name__ not in known:
            raise TypeError(f"save_model: layer {index} ({type(layer).__name__}) cannot be saved")
        layers.append({
            "type": type(layer).__name__,
            "config": layer.config(),
            "arrays": {f"{index}.{k}": list(v.shape)
                       for store in (layer.params, layer.buffers) for k, v in store.items()},
        })
    arrays = {name: store[key] for name, store, key in model.named_arrays()}
    manifest = json.dumps({"format": FORMAT, "layers": layers})
    np.savez(path, **arrays, **{MANIFEST_KEY: np.array(manifest)})  # type: ignore[arg-type]


def load_model(path: str | os.PathLike):
    """Rebuild a ``Sequential`` saved by :func:`save_model` (no pickle; shapes checked).

    Args:
        path: an ``.npz`` written by :func:`save_model`.

    Returns:
        the model, in evaluation mode.
    """
    from n2t.numpy.layers import Sequential

    arrays = load_params(path)
    where = os.fspath(path)
    if MANIFEST_KEY not in arrays:
        raise ValueError(f"load_model: {where!r} has no manifest; was it written by save_model?")
    try:
        manifest = json.loads(str(arrays.pop(MANIFEST_KEY)))
    except json.JSONDecodeError as error:
        raise ValueError(f"load_model: the manifest in {where!r} is not valid JSON ({error})") from error
    if manifest.get("format") != FORMAT:
        raise ValueError(f"load_model: {where!r} has format {manifest.get('format')!r}, expected {FORMAT!r}")
    known = _layer_classes()
    layers = []
    for entry in manifest["layers"]:
        if entry["type"] not in known:
            raise ValueError(f"load_model: unknown layer type {entry['type']!r} in {where!r}")
        layers.append(known[entry["type"]](**entry["config"]))
    model = Sequential(*layers)
    expected = {name: tuple(shape) for entry in manifest["layers"] for name, shape in entry["arrays"].items()}
    found = {name: value.shape for name, value in arrays.items()}
    if found != expected:
        raise ValueError(f"load_model: {where!r} holds arrays {found}, but its manifest lists {expected}")
    for name, store, key in model.named_arrays():
        if name not in arrays or arrays[name].shape != store[key].shape:
            raise ValueError(f"load_model: array {name!r} in {where!r} does not fit layer config")
        store[key] = arrays[name]
    return model.eval()
