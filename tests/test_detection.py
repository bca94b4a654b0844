"""Box utilities for detection: IoU, NMS, anchors, box coding (NumPy), and their torch twins."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import n2t.torch.detection as tdet
from n2t.numpy.detection import box_area, box_iou, decode_boxes, encode_boxes, make_anchors, nms

# ---- strategies ------------------------------------------------------------------------------------------
coordinate = st.floats(-50, 50, allow_nan=False, allow_infinity=False, width=64)
on_grid = st.integers(-400, 400).map(lambda k: k / 8)  # exact in binary: sums and differences do not round


@st.composite
def boxes(draw, min_size=0, max_size=12, positive=False, elements=coordinate):
    """(N, 4) boxes: two sorted corners; with ``positive``, width and height at least 0.5."""
    n = draw(st.integers(min_size, max_size))
    corners = draw(arrays(np.float64, (n, 2, 2), elements=elements))
    corners.sort(axis=1)
    if positive:
        corners[:, 1] = np.maximum(corners[:, 1], corners[:, 0] + 0.5)
    return corners.reshape(n, 4)


@st.composite
def boxes_and_scores(draw):
    found = draw(boxes(0, 15))
    # few distinct values, so that ties are common
    scores = draw(arrays(np.float64, (len(found),), elements=st.sampled_from([0.1, 0.5, 0.7, 0.9, 1.0])))
    return found, scores


def brute_force_iou(a, b):
    """One pair, written the slow, obvious way."""
    overlap_w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    overlap_h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    intersection = overlap_w * overlap_h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - intersection
    return intersection / union if union > 0 else 0.0


# ---- IoU ---------------------------------------------------------------------------------------------------
def test_iou_of_two_hand_computed_pairs():
    a = np.array([[0.0, 0.0, 2.0, 2.0]])
    shifted = np.array([[1.0, 1.0, 3.0, 3.0], [1.0, 0.0, 3.0, 2.0]])  # overlap 1 of 7; overlap 2 of 6
    np.testing.assert_allclose(box_iou(a, shifted), [[1 / 7, 1 / 3]])
    np.testing.assert_allclose(box_area(shifted), [4.0, 4.0])


@settings(max_examples=60, deadline=None)
@given(boxes(0, 8), boxes(0, 8))
def test_iou_matches_brute_force_is_symmetric_and_in_range(a, b):
    iou = box_iou(a, b)
    assert iou.shape == (len(a), len(b))
    expected = np.array([[brute_force_iou(p, q) for q in b] for p in a]).reshape(len(a), len(b))
    np.testing.assert_allclose(iou, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(box_iou(b, a), iou.T)
    assert np.all((iou >= 0) & (iou <= 1 + 1e-12))


@settings(max_examples=40, deadline=None)
@given(boxes(1, 8, positive=True))
def test_iou_of_a_box_with_itself_is_one(a):
    np.testing.assert_allclose(np.diag(box_iou(a, a)), 1.0)


@settings(max_examples=40, deadline=None)
@given(boxes(1, 6, elements=on_grid), on_grid.map(abs))
def test_disjoint_and_touching_boxes_have_iou_zero(a, gap):
    right = a.copy()
    offset = a[:, 2].max() - a[:, 0].min() + gap  # every moved box starts where all boxes have ended
    right[:, [0, 2]] += offset
    assert np.all(box_iou(a, right) == 0)


def test_zero_area_boxes_have_iou_zero_not_nan():
    point, line = np.array([[1.0, 1.0, 1.0, 1.0]]), np.array([[0.0, 1.0, 3.0, 1.0]])
    assert box_iou(point, point)[0, 0] == 0 and box_iou(point, line)[0, 0] == 0
    assert box_iou(np.zeros((0, 4)), line).shape == (0, 1)


# ---- NMS ---------------------------------------------------------------------------------------------------
def test_nms_hand_example():
    found = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9]], dtype=float)
    scores = np.array([0.8, 0.9, 0.3, 0.5])
    # box 1 (best) overlaps box 0 by 81/119 = 0.68 and box 3 by 72/118 = 0.61; box 2 is alone
    np.testing.assert_array_equal(nms(found, scores, 0.5), [1, 2])
    np.testing.assert_array_equal(nms(found, scores, 0.65), [1, 3, 2])
    np.testing.assert_array_equal(nms(found, scores, 1.0), [1, 0, 3, 2])  # nothing is suppressed
    assert nms(found, scores, 0.5).dtype == np.int64


@settings(max_examples=80, deadline=None)
@given(boxes_and_scores(), st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.7, 1.0]))
def test_nms_is_greedy_suppression(data, threshold):
    found, scores = data
    keep = nms(found, scores, threshold)
    rank = np.empty(len(scores), dtype=int)
    rank[np.argsort(-scores, kind="stable")] = np.arange(len(scores))  # 0 = best, ties by index
    assert len(set(keep.tolist())) == len(keep)
    assert np.all(np.diff(rank[keep]) > 0), "kept boxes come in order of decreasing score"
    iou = box_iou(found, found)
    assert np.all(iou[np.ix_(keep, keep)][np.triu_indices(len(keep), 1)] <= threshold)
    for dropped in sorted(set(range(len(found))) - set(keep.tolist())):
        better = keep[rank[keep] < rank[dropped]]
        assert np.any(iou[dropped, better] > threshold), "a box is dropped only by a better kept box"
        assert np.any(scores[better[iou[dropped, better] > threshold]] >= scores[dropped])


def test_nms_of_no_boxes_and_of_zero_threshold():
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).shape == (0,)
    found = np.array([[0, 0, 2, 2], [1, 1, 3, 3], [2, 2, 4, 4.0]])  # 0-1 and 1-2 overlap, 0-2 touch
    np.testing.assert_array_equal(nms(found, np.array([3.0, 2.0, 1.0]), 0.0), [0, 2])


# ---- torch twins ---------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(boxes(0, 8), boxes(0, 8))
def test_torch_iou_and_area_equal_numpy(a, b):
    torch.testing.assert_close(tdet.box_iou(torch.from_numpy(a), torch.from_numpy(b)),
                               torch.from_numpy(box_iou(a, b)), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(tdet.box_area(torch.from_numpy(a)), torch.from_numpy(box_area(a)))


@settings(max_examples=60, deadline=None)
@given(boxes_and_scores(), st.sampled_from([0.0, 0.3, 0.5, 1.0]))
def test_torch_nms_equals_numpy(data, threshold):
    found, scores = data
    keep = tdet.nms(torch.from_numpy(found), torch.from_numpy(scores), threshold)
    assert keep.dtype == torch.int64
    np.testing.assert_array_equal(keep.numpy(), nms(found, scores, threshold))


def test_torch_twins_in_float32():
    found = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], dtype=torch.float32)
    assert tdet.box_iou(found, found).dtype == torch.float32
    assert tdet.nms(found, torch.tensor([0.5, 0.9, 0.1]), 0.5).tolist() == [1, 2]


@pytest.mark.gpu
def test_torch_twins_run_on_cuda():
    found = np.sort(np.random.default_rng(0).uniform(0, 100, (300, 2, 2)), axis=1).reshape(-1, 4)
    scores = np.random.default_rng(1).uniform(size=300)
    on_gpu = torch.from_numpy(found).cuda()
    keep = tdet.nms(on_gpu, torch.from_numpy(scores).cuda(), 0.4)
    assert keep.device.type == "cuda"
    np.testing.assert_array_equal(keep.cpu().numpy(), nms(found, scores, 0.4))
    np.testing.assert_allclose(tdet.box_iou(on_gpu, on_gpu).cpu().numpy(), box_iou(found, found), atol=1e-12)


# ---- anchors -------------------------------------------------------------------------------------------
def test_anchor_of_one_cell_by_hand():
    np.testing.assert_allclose(make_anchors((1, 1), 16, [8], [1.0]), [[4.0, 4.0, 12.0, 12.0]])
    # ratio 4 = height / width: width 8 / 2, height 8 · 2, centred on (8, 8)
    np.testing.assert_allclose(make_anchors((1, 1), 16, [8], [4.0]), [[6.0, 0.0, 10.0, 16.0]])


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 32),
       st.lists(st.floats(1, 64), min_size=1, max_size=3), st.lists(st.floats(0.2, 5), min_size=1, max_size=3))
def test_anchor_count_order_centres_sizes_and_ratios(height, width, stride, sizes, ratios):
    anchors = make_anchors((height, width), stride, sizes, ratios)
    assert anchors.shape == (height * width * len(ratios) * len(sizes), 4)
    grid = anchors.reshape(height, width, len(ratios), len(sizes), 4)  # the documented order
    centre_x = (grid[..., 0] + grid[..., 2]) / 2
    centre_y = (grid[..., 1] + grid[..., 3]) / 2
    widths, heights = grid[..., 2] - grid[..., 0], grid[..., 3] - grid[..., 1]
    rows, cols = np.arange(height)[:, None, None, None], np.arange(width)[None, :, None, None]
    np.testing.assert_allclose(centre_x, np.broadcast_to((cols + 0.5) * stride, centre_x.shape))
    np.testing.assert_allclose(centre_y, np.broadcast_to((rows + 0.5) * stride, centre_y.shape))
    np.testing.assert_allclose(heights / widths, np.broadcast_to(np.array(ratios)[:, None], heights.shape))
    np.testing.assert_allclose(np.sqrt(widths * heights), np.broadcast_to(np.array(sizes), widths.shape))


# ---- box coding ---------------------------------------------------------------------------------------
def test_encode_by_hand():
    anchor = np.array([[0.0, 0.0, 4.0, 2.0]])  # centre (2, 1), size (4, 2)
    box = np.array([[2.0, 0.0, 10.0, 4.0]])  # centre (6, 2), size (8, 4)
    np.testing.assert_allclose(encode_boxes(box, anchor), [[1.0, 0.5, math.log(2), math.log(2)]])
    np.testing.assert_allclose(encode_boxes(anchor, anchor), np.zeros((1, 4)))


@settings(max_examples=60, deadline=None)
@given(boxes(1, 8, positive=True), st.data())
def test_encode_decode_round_trip(anchors, data):
    targets = data.draw(boxes(len(anchors), len(anchors), positive=True))
    deltas = encode_boxes(targets, anchors)
    np.testing.assert_allclose(decode_boxes(deltas, anchors), targets, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(encode_boxes(decode_boxes(deltas, anchors), anchors), deltas, rtol=1e-7, atol=1e-7)


# ---- bad input -----------------------------------------------------------------------------------------
GOOD = np.array([[0.0, 0.0, 1.0, 1.0], [0.5, 0.5, 2.0, 2.0]])


@pytest.mark.parametrize("call,match", [
    (lambda: box_area(np.zeros((2, 3))), r"box_area: argument 'boxes' must have shape \(N, 4\).*\(2, 3\)"),
    (lambda: box_iou(np.zeros(4), GOOD), r"argument 'boxes1' must have shape \(N, 4\).*got shape \(4,\)"),
    (lambda: box_iou(GOOD, [[2.0, 0.0, 1.0, 1.0]]), r"argument 'boxes2' must have x2 >= x1.*box 0 is \[2.0"),
    (lambda: box_iou(GOOD, [[0.0, 1.0, 1.0, 0.5]]), r"'boxes2' must have x2 >= x1 and y2 >= y1"),
    (lambda: box_iou(GOOD, [[0.0, 0.0, np.nan, 1.0]]), r"argument 'boxes2' must be finite"),
    (lambda: nms(GOOD, [0.5], 0.5), r"nms: argument 'scores' must have shape \(N,\) = \(2,\).*got shape \(1,\)"),
    (lambda: nms(GOOD, [[0.5, 0.1]], 0.5), r"argument 'scores' must have shape"),
    (lambda: nms(GOOD, [0.5, np.nan], 0.5), r"argument 'scores' must not contain NaN"),
    (lambda: nms(GOOD, [0.5, 0.1], 1.5), r"nms: argument 'iou_threshold' must be a number in \[0, 1\]; got float 1.5"),
    (lambda: nms(GOOD, [0.5, 0.1], -0.1), r"argument 'iou_threshold' must be a number in \[0, 1\]"),
    (lambda: nms(GOOD, [0.5, 0.1], True), r"argument 'iou_threshold' must be a number"),
    (lambda: nms(GOOD, [0.5, 0.1], "0.5"), r"argument 'iou_threshold' must be a number"),
    (lambda: nms(GOOD[:, :3], [0.5, 0.1], 0.5), r"nms: argument 'boxes' must have shape \(N, 4\)"),
    (lambda: make_anchors(4, 8, [8], [1]), r"make_anchors: argument 'feature_size' must be 2 positive int"),
    (lambda: make_anchors((4, 0), 8, [8], [1]), r"argument 'feature_size' must be 2 positive int"),
    (lambda: make_anchors((4, 4), 0, [8], [1]), r"argument 'stride' must be 1 positive int"),
    (lambda: make_anchors((4, 4), 2.5, [8], [1]), r"argument 'stride' must be 1 positive int"),
    (lambda: make_anchors((4, 4), 8, [], [1]), r"argument 'sizes' must be a non-empty sequence of positive"),
    (lambda: make_anchors((4, 4), 8, 8, [1]), r"argument 'sizes' must be a non-empty sequence"),
    (lambda: make_anchors((4, 4), 8, [8], [0.0]), r"argument 'ratios' must be a non-empty sequence of positive"),
    (lambda: make_anchors((4, 4), 8, [8], [np.inf]), r"argument 'ratios' must be"),
    (lambda: encode_boxes([[0.0, 0.0, 0.0, 1.0]], GOOD[:1]), r"argument 'boxes' must have x2 > x1 and y2 > y1"),
    (lambda: encode_boxes(GOOD, [[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 0.0]]),
     r"argument 'anchors' must have x2 > x1 and y2 > y1.*box 1"),
    (lambda: decode_boxes(np.zeros((1, 4)), GOOD), r"decode_boxes: argument 'deltas' must have the anchors' shape"),
    (lambda: decode_boxes(np.zeros((2, 4)), [[0.0, 0.0, 0.0, 1.0]] * 2), r"argument 'anchors' must have x2 > x1"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_encode_needs_one_anchor_per_box():
    with pytest.raises(ValueError,
                       match=r"encode_boxes: argument 'anchors' must have the shape of 'boxes' \(2, 4\).*\(1, 4\)"):
        encode_boxes(GOOD, GOOD[:1])


def test_non_numeric_boxes_raise_type_error():
    with pytest.raises(TypeError, match="box_iou: argument 'boxes1' must be a real-valued array"):
        box_iou(np.array([["a", "b", "c", "d"]]), GOOD)


TGOOD = torch.from_numpy(GOOD)


@pytest.mark.parametrize("call,error,match", [
    (lambda: tdet.box_area(GOOD), TypeError, r"box_area: argument 'boxes' must be a torch.Tensor; got ndarray"),
    (lambda: tdet.box_iou(TGOOD, TGOOD.long()), TypeError, r"argument 'boxes2' must be a floating-point tensor"),
    (lambda: tdet.box_iou(TGOOD[:, :3], TGOOD), ValueError, r"argument 'boxes1' must have shape \(N, 4\)"),
    (lambda: tdet.box_iou(TGOOD, TGOOD.flip(1)), ValueError, r"argument 'boxes2' must have x2 >= x1.*box 0"),
    (lambda: tdet.box_iou(TGOOD, TGOOD * np.inf), ValueError, r"argument 'boxes2' must be finite"),
    (lambda: tdet.box_iou(TGOOD, TGOOD.float()), ValueError, r"'boxes1' and 'boxes2' must share device and dtype"),
    (lambda: tdet.nms(TGOOD, [0.5, 0.1], 0.5), TypeError, r"nms: argument 'scores' must be a floating-point"),
    (lambda: tdet.nms(TGOOD, torch.ones(3), 0.5), ValueError, r"nms: argument 'scores' must have shape \(N,\) = \(2"),
    (lambda: tdet.nms(TGOOD, torch.tensor([0.5, float("nan")]), 0.5), ValueError, r"must not contain NaN"),
    (lambda: tdet.nms(TGOOD, torch.ones(2), 2.0), ValueError, r"argument 'iou_threshold' must be a number in \[0, 1\]"),
    (lambda: tdet.nms(TGOOD, torch.ones(2), None), ValueError, r"argument 'iou_threshold' must be a number"),
])
def test_torch_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
