"""Claims the tensors page (docs/bigpicture/tensors.md) makes about NumPy and PyTorch, checked so that a
library upgrade that changes them fails here, plus the page's own code blocks run as the build runs them."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from n2t.numpy.activations import tanh_backward, tanh_forward
from n2t.numpy.linear import linear_backward, linear_forward
from n2t.numpy.losses import mse_backward, mse_forward

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "bigpicture" / "tensors.md"
EXEC_BLOCK = re.compile(r'^```python exec="on"[^\n]*session="tensors"[^\n]*\n(.*?)^```\s*$', re.S | re.M)

shapes = st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple)


# ---- memory: from_numpy shares, tensor copies, views ----------------------------------------------
def test_from_numpy_shares_memory_and_tensor_copies():
    a = np.zeros(4)
    shared, copied, as_tensor = torch.from_numpy(a), torch.tensor(a), torch.as_tensor(a)
    a[0] = 7.0
    assert shared[0].item() == 7.0 and as_tensor[0].item() == 7.0
    assert copied[0].item() == 0.0
    shared[1] = 5.0
    assert a[1] == 5.0
    assert np.shares_memory(a, shared.numpy()) and not np.shares_memory(a, copied.numpy())


def test_numpy_of_a_tensor_that_requires_grad_needs_detach():
    w = torch.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        w.numpy()
    assert w.detach().data_ptr() == w.data_ptr()


@settings(max_examples=30, deadline=None)
@given(shape=shapes, dtype=st.sampled_from([np.float32, np.float64, np.int64, np.int16]), step=st.integers(1, 3))
def test_numpy_strides_are_torch_strides_times_the_item_size(shape, dtype, step):
    a = np.zeros(shape, dtype=dtype)[..., ::step]
    t = torch.from_numpy(a)
    assert a.strides == tuple(s * a.itemsize for s in t.stride())
    reversed_axes = t.permute(*reversed(range(t.ndim)))  # what NumPy's .T does for any ndim
    assert a.T.strides == tuple(s * a.itemsize for s in reversed_axes.stride())


def test_transpose_is_a_view_that_view_refuses_and_reshape_copies():
    t = torch.arange(12.0).reshape(3, 4)
    tt = t.T
    storage = t.untyped_storage().data_ptr()
    assert not tt.is_contiguous() and tt.untyped_storage().data_ptr() == storage
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        tt.view(12)
    assert tt.reshape(12).untyped_storage().data_ptr() != storage
    assert torch.equal(tt.reshape(12), tt.contiguous().view(12))
    a = np.arange(12.0).reshape(3, 4)
    assert np.shares_memory(a, a.T) and np.shares_memory(a, a[:, ::2]) and np.shares_memory(a, a.reshape(4, 3))
    assert not np.shares_memory(a, a[[0, 2]]) and not np.shares_memory(a, a.T.reshape(-1))


def test_in_place_change_is_visible_through_a_view():
    t = torch.arange(12.0).reshape(3, 4)
    part = t[1, 1:]
    assert part.storage_offset() == 5
    assert part.data_ptr() - t.data_ptr() == 5 * t.element_size()
    part.mul_(10)
    assert t[1].tolist() == [4.0, 50.0, 60.0, 70.0]


# ---- dtypes and broadcasting ----------------------------------------------------------------------
def test_default_float_types_differ_and_matmul_refuses_to_mix_them():
    assert np.array([1.0]).dtype == np.float64 and torch.tensor([1.0]).dtype == torch.float32
    assert torch.from_numpy(np.array([1.0])).dtype == torch.float64
    x64, x32 = torch.ones(2, 3, dtype=torch.float64), torch.ones(2, 3)
    assert (x64 + x32).dtype == torch.float64
    with pytest.raises(RuntimeError, match="same dtype"):
        x32 @ x64.T
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.nn.Linear(3, 2)(x64)


def _broadcast(library, first, second):
    try:
        if library == "numpy":
            return tuple(np.broadcast_shapes(first, second))
        return tuple(torch.broadcast_shapes(first, second))
    except (ValueError, RuntimeError):
        return None


def _broadcast_by_the_rules(first, second):
    """The three rules the page states, written out."""
    n = max(len(first), len(second))
    first, second = (1,) * (n - len(first)) + first, (1,) * (n - len(second)) + second
    out = []
    for p, q in zip(first, second):
        if p != q and 1 not in (p, q):
            return None
        out.append(max(p, q))
    return tuple(out)


@settings(max_examples=60, deadline=None)
@given(first=shapes, second=shapes)
def test_numpy_and_torch_broadcast_by_the_stated_rules(first, second):
    expected = _broadcast_by_the_rules(first, second)
    assert _broadcast("numpy", first, second) == expected
    assert _broadcast("torch", first, second) == expected
    if expected is not None:
        assert (np.zeros(first) + np.zeros(second)).shape == expected


def test_column_vector_minus_row_vector_is_a_matrix_and_the_n2t_loss_refuses_it():
    prediction, target = np.zeros((5, 1)), np.arange(5.0)
    assert (prediction - target).shape == (5, 5)
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(torch.from_numpy(prediction), torch.from_numpy(target))
    with pytest.raises(ValueError, match=r"argument 'target' must have the shape of the prediction \(5, 1\)"):
        mse_forward(prediction, target)


def test_broadcast_expansion_has_stride_zero():
    assert torch.arange(3.0).expand(4, 3).stride() == (0, 1)
    assert np.broadcast_to(np.arange(3.0), (4, 3)).strides == (0, 8)


# ---- devices ----------------------------------------------------------------------------------------
def test_to_the_device_a_tensor_is_on_returns_the_tensor_itself():
    x = torch.arange(6.0)
    assert x.to("cpu") is x
    assert x.to(torch.float64) is not x


@pytest.mark.gpu
def test_cuda_round_trip_and_numpy_needs_cpu():
    from n2t.torch.device import default_device

    device = default_device()
    assert device.type == "cuda"
    x = torch.arange(6.0).reshape(2, 3)
    x_dev = x.to(device)
    assert x_dev is not x and x_dev.is_cuda
    with pytest.raises(TypeError, match="cpu"):
        x_dev.numpy()
    np.testing.assert_array_equal((x_dev @ x_dev.T).cpu().numpy(), (x @ x.T).numpy())


# ---- hand-written backward against autograd ---------------------------------------------------------
def _hand_written(x, w, b, target):
    z, linear_cache = linear_forward(x, w, b)
    h, tanh_cache = tanh_forward(z)
    loss, mse_cache = mse_forward(h, target)
    dx, dw, db = linear_backward(tanh_backward(mse_backward(1.0, mse_cache), tanh_cache), linear_cache)
    return float(loss), dx, dw, db


def _autograd(x, w, b, target, dtype):
    xt, wt, bt = (torch.tensor(v, dtype=dtype, requires_grad=True) for v in (x, w, b))
    loss = ((torch.tanh(F.linear(xt, wt, bt)) - torch.tensor(target, dtype=dtype)) ** 2).sum() / (2 * len(x))
    loss.backward()
    return loss.item(), xt.grad.double().numpy(), wt.grad.double().numpy(), bt.grad.double().numpy()


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 6), d=st.integers(1, 6), h=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_hand_written_linear_tanh_mse_gradients_equal_autograd_in_float64(n, d, h, seed):
    rng = np.random.default_rng(seed)
    x, target = rng.normal(size=(n, d)), rng.normal(size=(n, h))
    w, b = 0.5 * rng.normal(size=(h, d)), 0.1 * rng.normal(size=h)
    ours, theirs = _hand_written(x, w, b, target), _autograd(x, w, b, target, torch.float64)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-12, abs=1e-14)
    for mine, reference in zip(ours[1:], theirs[1:]):
        assert mine.shape == reference.shape
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-13)


def test_float32_autograd_differs_from_float64_by_float32_rounding():
    rng = np.random.default_rng(0)
    x, target = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    w, b = 0.5 * rng.normal(size=(3, 4)), 0.1 * rng.normal(size=3)
    ours = _hand_written(x, w, b, target)
    gap64 = max(np.abs(g - o).max() for g, o in zip(_autograd(x, w, b, target, torch.float64)[1:], ours[1:]))
    gap32 = max(np.abs(g - o).max() for g, o in zip(_autograd(x, w, b, target, torch.float32)[1:], ours[1:]))
    assert gap64 < 1e-14
    assert 1e-10 < gap32 < 1e-5
    assert gap32 > 1e3 * gap64


def test_a_wrong_backward_is_caught_by_the_comparison():
    rng = np.random.default_rng(1)
    x, target = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    w, b = rng.normal(size=(2, 3)), rng.normal(size=2)
    _, _, dw, _ = _hand_written(x, w, b, target)
    wrong = dw * 2.0  # e.g. a forgotten 1/2 in the loss
    reference = _autograd(x, w, b, target, torch.float64)[2]
    assert not np.allclose(wrong, reference, rtol=1e-10, atol=1e-13)


# ---- the page's code ----------------------------------------------------------------------------------
def _page_blocks(page: Path) -> list[str]:
    return EXEC_BLOCK.findall(page.read_text(encoding="utf-8"))


def test_twin_pages_run_the_same_code():
    blocks = _page_blocks(PAGE)
    assert len(blocks) >= 10
    assert blocks == _page_blocks(PAGE.with_name("tensors.en.md"))


def test_page_blocks_run_in_order_and_print_what_the_prose_says(monkeypatch):
    monkeypatch.chdir(ROOT)
    namespace: dict = {"__name__": "__main__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for code in _page_blocks(PAGE):
            exec(compile(code, str(PAGE), "exec"), namespace)
    text = out.getvalue()
    assert "dtype float64" in text and "dtype torch.float32" in text
    assert "a[[0, 2]]        shares memory with a: False" in text
    assert "t.T.reshape(12) shares t's storage: False" in text
    assert "after a[0] = 7: from_numpy [7.0, 0.0, 0.0], tensor [0.0, 0.0, 0.0]" in text
    assert "x.to(device) is x: True" in text or "cuda" in text
    gaps = {dtype: [float(v) for v in re.findall(r"\b[xWb] (\d\.\de[-+]\d+)", line)]
            for dtype, line in re.findall(r"autograd in torch\.(float\d+)\s*:(.*)", text)}
    assert [len(values) for values in gaps.values()] == [3, 3]
    assert max(gaps["float64"]) < 1e-14 and min(gaps["float32"]) > 1e-10
