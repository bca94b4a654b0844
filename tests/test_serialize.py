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


# ---- whole NumPy models with a manifest ---------------------------------------------------------
def small_model(rng):
    import n2t.numpy as nnp

    return nnp.Sequential(nnp.Linear(4, 6, rng=rng), nnp.BatchNorm1d(6), nnp.LeakyReLU(0.1), nnp.Dropout(0.2, rng=rng),
                          nnp.Linear(6, 3, rng=rng))


def test_model_round_trip_in_a_fresh_process(tmp_path, rng):
    import subprocess
    import sys

    from n2t.numpy import save_model

    model = small_model(rng)
    for _ in range(3):
        model.forward(rng.standard_normal((8, 4)))  # moves the batch-norm running statistics
    model.eval()
    x = rng.standard_normal((5, 4))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "expected.npy", model.forward(x))
    save_model(model, tmp_path / "model.npz")
    code = ("import numpy as np, sys; from n2t.numpy import load_model; d = sys.argv[1]; "
            "m = load_model(d + '/model.npz'); "
            "assert np.array_equal(m.forward(np.load(d + '/x.npy')), np.load(d + '/expected.npy')); print(m)")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "BatchNorm1d(num_features=6" in done.stdout and "LeakyReLU(negative_slope=0.1)" in done.stdout


def test_model_file_without_manifest_is_rejected(tmp_path, rng):
    from n2t.numpy import load_model

    save_params(tmp_path / "plain.npz", {"W": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="has no manifest"):
        load_model(tmp_path / "plain.npz")


def test_model_file_with_tampered_shapes_is_rejected(tmp_path, rng):
    from n2t.numpy import load_model, save_model

    save_model(small_model(rng), tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["0.W"] = np.zeros((7, 4))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match="but its manifest lists"):
        load_model(tmp_path / "bad.npz")


def test_model_file_truncated_is_rejected(tmp_path, rng):
    from n2t.numpy import load_model, save_model

    save_model(small_model(rng), tmp_path / "m.npz")
    data = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a valid .npz file"):
        load_model(tmp_path / "cut.npz")


def test_save_model_needs_a_sequential():
    from n2t.numpy import Linear, save_model

    with pytest.raises(TypeError, match="must be an n2t.numpy Sequential"):
        save_model(Linear(2, 2), "unused.npz")
