"""The shapes dataset, the tiny SegNet and the segmentation metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from n2t.data import shapes
from n2t.torch.segmentation import SegNet, class_iou, mean_iou, pixel_accuracy


# ---- the dataset ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dataset():
    return shapes(300, size=32, seed=3)


def test_shapes_types_and_ranges(dataset):
    images, masks, targets = dataset
    assert images.shape == (300, 1, 32, 32) and images.dtype == np.float64
    assert masks.shape == (300, 32, 32) and masks.dtype == np.int64
    assert images.min() >= 0 and images.max() <= 1
    assert set(np.unique(masks)) == {0, 1, 2, 3}, "background and all three shapes occur"
    assert len(targets) == 300
    counts = [len(t["labels"]) for t in targets]
    assert set(counts) == {1, 2, 3}
    assert all((masks[i] > 0).any() for i in range(300)), "every image shows a shape"


def test_shapes_is_deterministic_per_seed():
    first, again, other = shapes(5, 16, seed=1), shapes(5, 16, seed=1), shapes(5, 16, seed=2)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    for a, b in zip(first[2], again[2]):
        np.testing.assert_array_equal(a["boxes"], b["boxes"])
        np.testing.assert_array_equal(a["labels"], b["labels"])
    assert not np.array_equal(first[1], other[1])


def test_shape_pixels_are_brighter_than_background(dataset):
    images, masks, _ = dataset
    for image, mask in zip(images[:, 0], masks):
        assert image[mask > 0].mean() > image[mask == 0].mean() + 0.15


def test_every_shape_pixel_lies_in_a_box_of_its_class(dataset):
    _, masks, targets = dataset
    for mask, target in zip(masks, targets):
        covered = np.zeros_like(mask, dtype=bool)
        for (x1, y1, x2, y2), label in zip(target["boxes"].astype(int), target["labels"]):
            assert 0 <= x1 < x2 <= 32 and 0 <= y1 < y2 <= 32
            covered[y1:y2, x1:x2] |= mask[y1:y2, x1:x2] == label
        np.testing.assert_array_equal(covered, mask > 0)


def test_the_last_drawn_shape_fills_its_box_edges(dataset):
    """The top shape is never covered: its box is the tight box around its pixels of its class there."""
    _, masks, targets = dataset
    for mask, target in zip(masks, targets):
        (x1, y1, x2, y2), label = target["boxes"][-1].astype(int), target["labels"][-1]
        inside = mask[y1:y2, x1:x2] == label
        assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()


def test_every_class_has_the_area_of_a_disc_of_radius_size_over_10_to_size_over_5():
    _, masks, targets = shapes(1500, size=32, seed=0)
    single = [i for i, t in enumerate(targets) if len(t["labels"]) == 1]
    low, high = 3.2, 6.4
    expected = np.pi * (low**2 + low * high + high**2) / 3  # π E[r²] for r uniform in [low, high]
    for c in (1, 2, 3):
        area = np.mean([(masks[i] > 0).sum() for i in single if targets[i]["labels"][0] == c])
        assert abs(area / expected - 1) < 0.08, (c, area, expected)


@pytest.mark.parametrize("kwargs,match", [
    ({"n": 0}, r"shapes: argument 'n' must be an int >= 1; got 0"),
    ({"n": 2.5}, r"argument 'n' must be an int >= 1; got 2.5"),
    ({"n": True}, r"argument 'n' must be an int"),
    ({"size": 15}, r"shapes: argument 'size' must be an int >= 16; got 15"),
    ({"size": "32"}, r"argument 'size' must be an int"),
])
def test_shapes_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        shapes(**kwargs)


# ---- SegNet --------------------------------------------------------------------------------------------
def test_segnet_output_shape_for_even_and_odd_sizes():
    model = SegNet(in_channels=2, classes=5, widths=(4, 8, 8)).double()
    assert model(torch.zeros(3, 2, 32, 32, dtype=torch.float64)).shape == (3, 5, 32, 32)
    assert model(torch.zeros(1, 2, 30, 23, dtype=torch.float64)).shape == (1, 5, 30, 23)


def test_segnet_parameter_count():
    widths, c_in, classes = (16, 32, 64), 1, 4
    convs = [(c_in, 16), (16, 32), (32, 64), (64, 32), (32, 16), (16, 16)]  # encoder, then decoder
    expected = sum(9 * a * b + 2 * b for a, b in convs) + 16 * classes + classes  # conv + BN (γ, β) + 1×1
    assert sum(p.numel() for p in SegNet(c_in, classes, widths).parameters()) == expected


def test_unpooling_puts_values_back_where_the_matching_encoder_found_its_maxima():
    torch.manual_seed(0)
    model = SegNet(1, 3, (4, 6, 8)).double().eval()
    pooled, unpooled = {}, {}
    for k, block in enumerate(model.encoder):
        block.pool.register_forward_hook(lambda m, i, o, k=k: pooled.__setitem__(k, (i[0], *o)))
    for k, block in enumerate(model.decoder):
        block.unpool.register_forward_hook(lambda m, i, o, k=k: unpooled.__setitem__(k, (i[0], o)))
    model(torch.randn(2, 1, 16, 20, dtype=torch.float64))
    depth = len(model.encoder)
    for k in range(depth):
        before, values, indices = pooled[k]  # encoder k: its input, the maxima and where they were
        flat = before.flatten(2)  # (N, C, H·W)
        torch.testing.assert_close(flat.gather(2, indices.flatten(2)).view_as(values), values)
        n, c, h, w = before.shape
        rows, cols = indices // w, indices % w
        out_rows = torch.arange(h // 2).view(1, 1, -1, 1)
        out_cols = torch.arange(w // 2).view(1, 1, 1, -1)
        assert torch.all(rows // 2 == out_rows) and torch.all(cols // 2 == out_cols), "each index is in its window"
        decoder_input, decoder_output = unpooled[depth - 1 - k]  # the decoder twin of encoder k
        expected = torch.zeros(n, decoder_input.shape[1], h * w, dtype=torch.float64)
        expected.scatter_(2, indices.flatten(2), decoder_input.flatten(2))
        torch.testing.assert_close(decoder_output, expected.view(n, -1, h, w))


def test_a_short_training_run_reduces_the_loss():
    images, masks, _ = shapes(32, size=16, seed=0)
    x, y = torch.from_numpy(images).float(), torch.from_numpy(masks)
    torch.manual_seed(0)
    model = SegNet(1, 4, (8, 16))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.5 * losses[0]


def test_segnet_in_eval_mode_is_deterministic():
    model = SegNet(1, 4, (4, 8)).eval()
    x = torch.rand(2, 1, 16, 16)
    torch.testing.assert_close(model(x), model(x), rtol=0, atol=0)


@pytest.mark.gpu
def test_segnet_and_metrics_on_cuda():
    model = SegNet(1, 4, (8, 16)).cuda()
    x = torch.rand(2, 1, 16, 16, device="cuda")
    logits = model(x)
    assert logits.device.type == "cuda" and logits.shape == (2, 4, 16, 16)
    target = torch.randint(0, 4, (2, 16, 16), device="cuda")
    prediction = logits.argmax(1)
    assert mean_iou(prediction, target, 4).device.type == "cuda"
    torch.testing.assert_close(class_iou(prediction, target, 4).cpu(), class_iou(prediction.cpu(), target.cpu(), 4),
                               equal_nan=True)


@pytest.mark.parametrize("kwargs,match", [
    ({"in_channels": 0}, r"SegNet: argument 'in_channels' must be an int >= 1; got 0"),
    ({"classes": 1}, r"argument 'classes' must be an int >= 2; got 1"),
    ({"classes": 2.0}, r"argument 'classes' must be an int >= 2"),
    ({"widths": ()}, r"argument 'widths' must be a non-empty tuple of positive ints; got \(\)"),
    ({"widths": (8, 0)}, r"argument 'widths' must be a non-empty tuple of positive ints"),
    ({"widths": 8}, r"argument 'widths' must be"),
])
def test_segnet_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SegNet(**kwargs)


@pytest.mark.parametrize("x,error,match", [
    (torch.zeros(2, 3, 32, 32), ValueError, r"argument 'x' must have shape \(N, 1, H, W\).*\(2, 3, 32, 32\)"),
    (torch.zeros(2, 1, 32, 4), ValueError, r"with H, W >= 8 \(one halving per encoder block\)"),
    (torch.zeros(1, 32, 32), ValueError, r"argument 'x' must have shape"),
    (torch.zeros(2, 1, 32, 32, dtype=torch.long), TypeError, r"argument 'x' must be a floating-point"),
    (np.zeros((2, 1, 32, 32)), TypeError, r"argument 'x' must be a floating-point torch.Tensor"),
])
def test_segnet_rejects_bad_input(x, error, match):
    with pytest.raises(error, match=match):
        SegNet(1, 4, (4, 4, 4))(x)


# ---- metrics ---------------------------------------------------------------------------------------------
def test_metrics_on_a_hand_computed_2x2_mask():
    target = torch.tensor([[[0, 1], [2, 1]]])
    prediction = torch.tensor([[[0, 1], [1, 1]]])
    # class 0: 1 ∩ / 1 ∪; class 1: 2 ∩ / 3 ∪; class 2: 0 ∩ / 1 ∪; class 3 absent from both
    assert float(pixel_accuracy(prediction, target)) == pytest.approx(3 / 4)
    torch.testing.assert_close(class_iou(prediction, target, 4), torch.tensor([1.0, 2 / 3, 0.0, float("nan")]),
                               equal_nan=True)
    assert float(mean_iou(prediction, target, 4)) == pytest.approx((1 + 2 / 3 + 0) / 3)


def test_perfect_prediction_scores_one():
    target = torch.tensor([[[3, 3], [0, 3]]])
    assert float(pixel_accuracy(target, target)) == 1.0 and float(mean_iou(target, target, 4)) == 1.0


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 5).flatmap(lambda c: st.tuples(
    st.just(c), arrays(np.int64, (2, 3, 4), elements=st.integers(0, c - 1)),
    arrays(np.int64, (2, 3, 4), elements=st.integers(0, c - 1)))))
def test_iou_matches_per_class_pixel_sets(data):
    classes, prediction, target = data
    ious = class_iou(torch.from_numpy(prediction), torch.from_numpy(target), classes).numpy()
    for c in range(classes):
        predicted = {i for i, v in enumerate(prediction.ravel()) if v == c}
        true = {i for i, v in enumerate(target.ravel()) if v == c}
        if predicted | true:
            assert ious[c] == pytest.approx(len(predicted & true) / len(predicted | true))
        else:
            assert np.isnan(ious[c])
    present = [ious[c] for c in range(classes) if not np.isnan(ious[c])]
    assert float(mean_iou(torch.from_numpy(prediction), torch.from_numpy(target), classes)) \
        == pytest.approx(np.mean(present))
    assert float(pixel_accuracy(torch.from_numpy(prediction), torch.from_numpy(target))) \
        == pytest.approx(np.mean(prediction == target))


LABELS = torch.zeros(1, 2, 2, dtype=torch.long)


@pytest.mark.parametrize("call,error,match", [
    (lambda: pixel_accuracy(LABELS.float(), LABELS), TypeError,
     r"pixel_accuracy: argument 'prediction' must be an integer torch.Tensor of class indices"),
    (lambda: mean_iou(LABELS, LABELS.numpy(), 2), TypeError, r"mean_iou: argument 'target' must be an integer"),
    (lambda: pixel_accuracy(LABELS, LABELS[0]), ValueError,
     r"arguments 'prediction' and 'target' must have the same non-empty shape.*\(1, 2, 2\) and \(2, 2\)"),
    (lambda: class_iou(LABELS[:, :0], LABELS[:, :0], 2), ValueError, r"must have the same non-empty shape"),
    (lambda: class_iou(LABELS + 2, LABELS, 2), ValueError,
     r"class_iou: argument 'prediction' must hold classes in \[0, 2\); got 2..2"),
    (lambda: mean_iou(LABELS, LABELS - 1, 2), ValueError, r"argument 'target' must hold classes in \[0, 2\)"),
    (lambda: mean_iou(LABELS, LABELS, 0), ValueError, r"argument 'classes' must be an int >= 1; got 0"),
])
def test_metrics_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
