"""Box utilities for object detection: area, IoU, non-maximum suppression, anchors, box coding.

Boxes are rows ``(x1, y1, x2, y2)`` in pixels with x1 ≤ x2 and y1 ≤ y2, as in torchvision.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, TypeVar

from n2t._validate import as_float_array, describe

# --8<-- [start:imports]
from collections.abc import Sequence

import numpy as np
# --8<-- [end:imports]

__all__ = ["box_area", "box_iou", "nms", "make_anchors", "encode_boxes", "decode_boxes"]

F = TypeVar("F", bound=Callable[..., Any])


def _check_boxes(name: str, value: Any, where: str, positive: bool = False) -> np.ndarray:
    """Return ``value`` as a float array of boxes ``(N, 4)``, or raise naming the argument.

    Args:
        name: the argument's name, for the message.
        value: array-like, shape ``(N, 4)``, rows ``(x1, y1, x2, y2)``.
        where: the calling function's name, for the message.
        positive: also require x2 > x1 and y2 > y1 (a width and height to take the log of).
    """
    boxes = as_float_array(name, value, where)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{where}: argument '{name}' must have shape (N, 4), rows (x1, y1, x2, y2); "
                         f"got shape {boxes.shape}")
    if not np.all(np.isfinite(boxes)):
        raise ValueError(f"{where}: argument '{name}' must be finite; got NaN or inf")
    sizes = boxes[:, 2:] - boxes[:, :2]  # (N, 2): widths and heights
    bad = np.nonzero(np.any(sizes <= 0 if positive else sizes < 0, axis=1))[0]
    if bad.size:
        relation = ">" if positive else ">="
        raise ValueError(f"{where}: argument '{name}' must have x2 {relation} x1 and y2 {relation} y1; "
                         f"box {bad[0]} is {boxes[bad[0]].tolist()}")
    return boxes


def _box_args(*names: str) -> Callable[[F], F]:
    """Decorator: check and convert the named arguments with :func:`_check_boxes`."""

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            for name in names:
                bound.arguments[name] = _check_boxes(name, bound.arguments[name], fn.__name__)
            return fn(*bound.args, **bound.kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _check_fraction(name: str, value: Any, where: str) -> None:
    """Raise unless ``value`` is a real number in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0.0 <= value <= 1.0:
        raise ValueError(f"{where}: argument '{name}' must be a number in [0, 1]; got {describe(value)}")


def _checked_nms(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(boxes: Any, scores: Any, iou_threshold: float) -> Any:
        boxes = _check_boxes("boxes", boxes, "nms")
        scores = as_float_array("scores", scores, "nms")
        if scores.shape != (len(boxes),):
            raise ValueError(f"nms: argument 'scores' must have shape (N,) = ({len(boxes)},), one per box; "
                             f"got shape {scores.shape}")
        if np.isnan(scores).any():
            raise ValueError("nms: argument 'scores' must not contain NaN")
        _check_fraction("iou_threshold", iou_threshold, "nms")
        return fn(boxes, scores, iou_threshold)

    return wrapper  # type: ignore[return-value]


def _positive_ints(name: str, value: Any, where: str, length: int | None = None) -> tuple[int, ...]:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    valid = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in values)
    if not valid or not values or (length is not None and len(values) != length):
        expected = f"{length} " if length is not None else ""
        raise ValueError(f"{where}: argument '{name}' must be {expected}positive int(s); got {value!r}")
    return values


def _positive_reals(name: str, value: Any, where: str) -> None:
    values = list(value) if isinstance(value, (tuple, list, np.ndarray)) else None
    if not values or not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                             and np.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"{where}: argument '{name}' must be a non-empty sequence of positive numbers; "
                         f"got {value!r}")


def _checked_anchors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(feature_size: Any, stride: Any, sizes: Any, ratios: Any) -> Any:
        height_width = _positive_ints("feature_size", feature_size, "make_anchors", length=2)
        (stride,) = _positive_ints("stride", stride, "make_anchors", length=1)
        _positive_reals("sizes", sizes, "make_anchors")
        _positive_reals("ratios", ratios, "make_anchors")
        return fn(height_width, stride, sizes, ratios)

    return wrapper  # type: ignore[return-value]


def _checked_encode(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(boxes: Any, anchors: Any) -> Any:
        boxes = _check_boxes("boxes", boxes, "encode_boxes", positive=True)
        anchors = _check_boxes("anchors", anchors, "encode_boxes", positive=True)
        if anchors.shape != boxes.shape:
            raise ValueError(f"encode_boxes: argument 'anchors' must have the shape of 'boxes' {boxes.shape}, "
                             f"one anchor per box; got shape {anchors.shape}")
        return fn(boxes, anchors)

    return wrapper  # type: ignore[return-value]


def _checked_decode(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(deltas: Any, anchors: Any) -> Any:
        anchors = _check_boxes("anchors", anchors, "decode_boxes", positive=True)
        deltas = as_float_array("deltas", deltas, "decode_boxes")
        if deltas.shape != anchors.shape:
            raise ValueError(f"decode_boxes: argument 'deltas' must have the anchors' shape {anchors.shape}, "
                             f"rows (dx, dy, dw, dh); got shape {deltas.shape}")
        return fn(deltas, anchors)

    return wrapper  # type: ignore[return-value]


@_box_args("boxes")
# --8<-- [start:box-area]
def box_area(boxes: np.ndarray) -> np.ndarray:
    """Areas of boxes.

    Args:
        boxes: ``(N, 4)``, rows ``(x1, y1, x2, y2)``.

    Returns:
        ``(N,)``.
    """
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
# --8<-- [end:box-area]


@_box_args("boxes1", "boxes2")
# --8<-- [start:box-iou]
def box_iou(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    """Intersection over union of every pair: area(A ∩ B) / area(A ∪ B).

    Two boxes of zero area (a line or a point) have IoU 0 with each other (torchvision gives NaN).

    Args:
        boxes1: ``(N, 4)``, rows ``(x1, y1, x2, y2)``.
        boxes2: ``(M, 4)``.

    Returns:
        ``(N, M)``, entry ``[i, j]`` = IoU(boxes1[i], boxes2[j]), in [0, 1].
    """
    top_left = np.maximum(boxes1[:, None, :2], boxes2[None, :, :2])  # (N, M, 2)
    bottom_right = np.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])  # (N, M, 2)
    width_height = np.clip(bottom_right - top_left, 0.0, None)  # 0 where they do not overlap
    intersection = width_height[..., 0] * width_height[..., 1]  # (N, M)
    union = box_area(boxes1)[:, None] + box_area(boxes2)[None, :] - intersection  # (N, M)
    return np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)
# --8<-- [end:box-iou]


@_checked_nms
# --8<-- [start:nms]
def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression (the rule of ``torchvision.ops.nms``).

    Take the highest-scoring box left, keep it, drop every remaining box whose IoU with it is
    greater than ``iou_threshold``; repeat. Equal scores keep the order of the input.

    Args:
        boxes: ``(N, 4)``, rows ``(x1, y1, x2, y2)``.
        scores: ``(N,)``.
        iou_threshold: in [0, 1]; lower suppresses more.

    Returns:
        indices of the kept boxes, int64, in order of decreasing score.
    """
    order = np.argsort(-scores, kind="stable")  # best first
    keep = []
    while order.size > 0:
        best, rest = order[0], order[1:]
        keep.append(best)
        overlap = box_iou(boxes[best][None], boxes[rest])[0]  # (len(rest),)
        order = rest[overlap <= iou_threshold]
    return np.array(keep, dtype=np.int64)
# --8<-- [end:nms]


@_checked_anchors
# --8<-- [start:make-anchors]
def make_anchors(feature_size: tuple[int, int], stride: int, sizes: Sequence[float],
                 ratios: Sequence[float]) -> np.ndarray:
    """Anchor boxes centred on every cell of a feature map (Faster R-CNN's region proposals, SSD).

    The cell in row i, column j covers the image pixels ``[j·stride, (j+1)·stride)`` across and
    ``[i·stride, (i+1)·stride)`` down; its anchors are centred at ``((j + ½)·stride, (i + ½)·stride)``.
    An anchor of size s and ratio r = height / width has width s / √r and height s·√r (area s²).

    Args:
        feature_size: ``(H, W)`` of the feature map.
        stride: image pixels per feature-map cell.
        sizes: S anchor sizes in pixels (the square root of the area).
        ratios: R aspect ratios height / width.

    Returns:
        ``(H·W·R·S, 4)`` boxes ``(x1, y1, x2, y2)``, ordered cell by cell (row-major), then ratio,
        then size, as torchvision's ``AnchorGenerator``: ``anchors.reshape(H, W, R, S, 4)[i, j, r, s]``
        is the anchor of cell (i, j) with ``ratios[r]`` and ``sizes[s]``.
    """
    height, width = feature_size
    ratio_root = np.sqrt(np.asarray(ratios, dtype=np.float64))[:, None]  # (R, 1)
    size = np.asarray(sizes, dtype=np.float64)[None, :]  # (1, S)
    half_w, half_h = (size / ratio_root / 2).ravel(), (size * ratio_root / 2).ravel()  # (R·S,)
    base = np.stack([-half_w, -half_h, half_w, half_h], axis=1)  # (R·S, 4), centred on (0, 0)
    cy, cx = np.meshgrid((np.arange(height) + 0.5) * stride, (np.arange(width) + 0.5) * stride,
                         indexing="ij")  # (H, W) each
    centres = np.stack([cx, cy, cx, cy], axis=-1).reshape(-1, 1, 4)  # (H·W, 1, 4)
    return (centres + base[None]).reshape(-1, 4)  # (H·W·R·S, 4)
# --8<-- [end:make-anchors]


@_checked_encode
# --8<-- [start:encode-boxes]
def encode_boxes(boxes: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """The offsets a detector regresses: each box relative to its anchor (R-CNN's parametrisation).

    With centres (x, y) and sizes (w, h): dx = (x − x_a) / w_a, dy = (y − y_a) / h_a,
    dw = log(w / w_a), dh = log(h / h_a). (torchvision also multiplies by weights such as
    (10, 10, 5, 5); here they are 1.)

    Args:
        boxes: ``(N, 4)`` target boxes with positive width and height.
        anchors: ``(N, 4)``, the anchor matched to each box.

    Returns:
        ``(N, 4)`` rows ``(dx, dy, dw, dh)``.
    """
    anchor_size = anchors[:, 2:] - anchors[:, :2]  # (N, 2): w_a, h_a
    anchor_centre = anchors[:, :2] + anchor_size / 2
    box_size = boxes[:, 2:] - boxes[:, :2]
    box_centre = boxes[:, :2] + box_size / 2
    shift = (box_centre - anchor_centre) / anchor_size  # (N, 2): dx, dy
    scale = np.log(box_size / anchor_size)  # (N, 2): dw, dh
    return np.concatenate([shift, scale], axis=1)
# --8<-- [end:encode-boxes]


@_checked_decode
# --8<-- [start:decode-boxes]
def decode_boxes(deltas: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Inverse of :func:`encode_boxes`: apply offsets ``(dx, dy, dw, dh)`` to anchors.

    Args:
        deltas: ``(N, 4)`` rows ``(dx, dy, dw, dh)``.
        anchors: ``(N, 4)`` with positive width and height.

    Returns:
        ``(N, 4)`` boxes ``(x1, y1, x2, y2)``.
    """
    anchor_size = anchors[:, 2:] - anchors[:, :2]  # (N, 2)
    anchor_centre = anchors[:, :2] + anchor_size / 2
    centre = anchor_centre + deltas[:, :2] * anchor_size
    size = anchor_size * np.exp(deltas[:, 2:])
    return np.concatenate([centre - size / 2, centre + size / 2], axis=1)
# --8<-- [end:decode-boxes]
