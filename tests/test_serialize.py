"""Saving and loading: NumPy .npz without pickle, torch state_dict with weights_only=True."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import n2t.torch as nt
from n2t.numpy.serialize import load_params, save_params


def test_numpy_params_round_trip(tmp_path, rng):
    params = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(3)}
    save_params(tmp_path / "p.npz", params)
    loaded = load_params(tmp_path / "p.npz", expected={"W": (3, 2), "b": (3,)})
    for key in params:
        np.testing.assert_array_equal(loaded[key], params[key])


def test_numpy_refuses_object_arrays(tmp_path):
    with pytest.raises(TypeError, match=r"params\['W'\] must be a float ndarray"):
        save_params(tmp_path / "p.npz", {"W": np.array([{"a": 1}], dtype=object)})


def test_numpy_refuses_pickled_payload(tmp_path):
    np.savez(tmp_path / "evil.npz", W=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a valid .npz file"):
        load_params(tmp_path / "evil.npz")


def test_torch_state_round_trip(tmp_path):
    torch.manual_seed(0)
    source = nt.Linear(4, 3)
    nt.save_state(source, tmp_path / "m.pt")
    target = nt.load_state(nt.Linear(4, 3), tmp_path / "m.pt")
    for name, tensor in source.state_dict().items():
        assert torch.equal(tensor, target.state_dict()[name])


def test_torch_state_loads_into_the_builtin_module(tmp_path):
    source = nt.Linear(4, 3)
    nt.save_state(source, tmp_path / "m.pt")
    builtin = nt.load_state(torch.nn.Linear(4, 3), tmp_path / "m.pt")
    x = torch.randn(2, 4)
    torch.testing.assert_close(builtin(x), source(x))


def test_torch_rejects_wrong_architecture(tmp_path):
    nt.save_state(nt.Linear(4, 3), tmp_path / "m.pt")
    with pytest.raises(ValueError, match="but the module expects"):
        nt.load_state(nt.Linear(5, 3), tmp_path / "m.pt")


def test_torch_rejects_corrupted_file(tmp_path):
    (tmp_path / "m.pt").write_bytes(b"garbage, not a torch file")
    with pytest.raises(ValueError, match="is not a valid state_dict file"):
        nt.load_state(nt.Linear(4, 3), tmp_path / "m.pt")


def test_torch_refuses_pickled_code(tmp_path):
    torch.save({"weight": torch.zeros(3, 4), "bias": torch.zeros(3), "hook": print}, tmp_path / "m.pt")
    with pytest.raises(ValueError, match="is not a valid state_dict file"):
        nt.load_state(nt.Linear(4, 3), tmp_path / "m.pt")


def test_torch_rejects_nan(tmp_path):
    module = nt.Linear(4, 3)
    with torch.no_grad():
        module.weight[0, 0] = float("nan")
    nt.save_state(module, tmp_path / "m.pt")
    with pytest.raises(ValueError, match="contains NaN or inf"):
        nt.load_state(nt.Linear(4, 3), tmp_path / "m.pt")
