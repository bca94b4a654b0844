"""Box IoU and non-maximum suppression in torch, on whatever device the boxes live on."""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

# --8<-- [start:imports]
import torch
# --8<-- [end:imports]

__all__ = ["box_area", "box_iou", "nms"]

F = TypeVar("F", bound=Callable[..., Any])


def _check_boxes(name: str, value: Any, where: str) -> torch.Tensor:
    """Raise unless ``value`` is a floating tensor of boxes ``(N, 4)`` with x1 ≤ x2 and y1 ≤ y2."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{where}: argument '{name}' must be a torch.Tensor; got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{where}: argument '{name}' must be a floating-point tensor; got dtype {value.dtype}")
    if value.dim() != 2 or value.shape[1] != 4:
        raise ValueError(f"{where}: argument '{name}' must have shape (N, 4), rows (x1, y1, x2, y2); "
                         f"got shape {tuple(value.shape)}")
    if not bool(torch.isfinite(value).all()):
        raise ValueError(f"{where}: argument '{name}' must be finite; got NaN or inf")
    bad = torch.nonzero((value[:, 2:] < value[:, :2]).any(dim=1)).flatten()
    if bad.numel():
        raise ValueError(f"{where}: argument '{name}' must have x2 >= x1 and y2 >= y1; "
                         f"box {int(bad[0])} is {value[bad[0]].tolist()}")
    return value


def _checked_area(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(boxes: Any) -> Any:
        return fn(_check_boxes("boxes", boxes, fn.__name__))

    return wrapper  # type: ignore[return-value]


def _checked_pair(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(boxes1: Any, boxes2: Any) -> Any:
        _check_boxes("boxes1", boxes1, fn.__name__)
        _check_boxes("boxes2", boxes2, fn.__name__)
        if boxes1.device != boxes2.device or boxes1.dtype != boxes2.dtype:
            raise ValueError(f"{fn.__name__}: arguments 'boxes1' and 'boxes2' must share device and dtype; got "
                             f"{boxes1.device}/{boxes1.dtype} and {boxes2.device}/{boxes2.dtype}")
        return fn(boxes1, boxes2)

    return wrapper  # type: ignore[return-value]


def _checked_nms(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(boxes: Any, scores: Any, iou_threshold: float) -> Any:
        _check_boxes("boxes", boxes, "nms")
        if not isinstance(scores, torch.Tensor) or not scores.is_floating_point():
            raise TypeError(f"nms: argument 'scores' must be a floating-point torch.Tensor; got "
                            f"{getattr(scores, 'dtype', type(scores).__name__)}")
        if scores.shape != (len(boxes),) or scores.device != boxes.device:
            raise ValueError(f"nms: argument 'scores' must have shape (N,) = ({len(boxes)},) on {boxes.device}, "
                             f"one per box; got shape {tuple(scores.shape)} on {scores.device}")
        if bool(torch.isnan(scores).any()):
            raise ValueError("nms: argument 'scores' must not contain NaN")
        if isinstance(iou_threshold, bool) or not isinstance(iou_threshold, (int, float)) \
                or not 0.0 <= iou_threshold <= 1.0:
            raise ValueError(f"nms: argument 'iou_threshold' must be a number in [0, 1]; got {iou_threshold!r}")
        return fn(boxes, scores, iou_threshold)

    return wrapper  # type: ignore[return-value]


@_checked_area
# --8<-- [start:box-area]
def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Areas of boxes.

    Args:
        boxes: ``(N, 4)``, rows ``(x1, y1, x2, y2)``.

    Returns:
        ``(N,)``.
    """
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
# --8<-- [end:box-area]


@_checked_pair
# --8<-- [start:box-iou]
def box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    """Intersection over union of every pair (like ``torchvision.ops.box_iou``).

    Two boxes of zero area have IoU 0 with each other (torchvision gives NaN).

    Args:
        boxes1: ``(N, 4)``, rows ``(x1, y1, x2, y2)``.
        boxes2: ``(M, 4)``, same device and dtype.

    Returns:
        ``(N, M)``, entry ``[i, j]`` = IoU(boxes1[i], boxes2[j]), in [0, 1].
    """
    top_left = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])  # (N, M, 2)
    bottom_right = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])  # (N, M, 2)
    width_height = (bottom_right - top_left).clamp(min=0)  # 0 where they do not overlap
    intersection = width_height[..., 0] * width_height[..., 1]  # (N, M)
    union = box_area(boxes1)[:, None] + box_area(boxes2)[None, :] - intersection  # (N, M)
    return torch.where(union > 0, intersection / union, torch.zeros_like(union))
# --8<-- [end:box-iou]


@_checked_nms
# --8<-- [start:nms]
def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression with the rule of ``torchvision.ops.nms``.

    All IoUs are computed at once on the boxes' device; one pass in score order then drops every
    box whose IoU with an earlier kept box is greater than ``iou_threshold``. Equal scores keep the
    order of the input.

    Args:
        boxes: ``(N, 4)``, rows ``(x1, y1, x2, y2)``.
        scores: ``(N,)``, same device.
        iou_threshold: in [0, 1]; lower suppresses more.

    Returns:
        indices of the kept boxes, int64 on the boxes' device, in order of decreasing score.
    """
    order = torch.sort(scores, descending=True, stable=True).indices  # best first
    overlaps = box_iou(boxes[order], boxes[order]) > iou_threshold  # (N, N), in score order
    keep = torch.ones(len(order), dtype=torch.bool, device=boxes.device)
    for i in range(len(order)):
        if keep[i]:  # box i survived every better kept box: it suppresses the worse ones it overlaps
            keep[i + 1:] &= ~overlaps[i, i + 1:]
    return order[keep]
# --8<-- [end:nms]
