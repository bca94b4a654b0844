"""Probes for the regions of n2t.numpy.detection, n2t.torch.detection and n2t.torch.segmentation.

Each probe is called once with the pasted region's objects and once with the package's; the results
must be identical (see test_snippets.py).
"""

from __future__ import annotations

import numpy as np
import torch

_rng = np.random.default_rng(7)
_corners = np.sort(_rng.uniform(0, 20, (12, 2, 2)), axis=1)
BOXES = _corners.reshape(-1, 4)  # (12, 4), x1 <= x2, y1 <= y2
OTHER = BOXES[::-1][:5] + 1.5  # (5, 4)
SCORES = _rng.uniform(0, 1, 12)
ANCHORS = np.array([[0.0, 0.0, 4.0, 8.0], [2.0, 3.0, 5.0, 4.0], [10.0, 10.0, 20.0, 20.0]])
TARGETS = np.array([[1.0, 1.0, 3.0, 9.0], [2.5, 2.0, 4.5, 4.0], [9.0, 12.0, 21.0, 17.0]])
LABELS_TRUE = torch.from_numpy(_rng.integers(0, 3, (2, 5, 4)))
LABELS_PRED = torch.where(torch.from_numpy(_rng.uniform(size=(2, 5, 4))) < 0.7, LABELS_TRUE,
                          torch.from_numpy(_rng.integers(0, 3, (2, 5, 4))))
IMAGES = torch.from_numpy(_rng.standard_normal((2, 1, 16, 12)))


def _seeded(build):
    def probe(get):
        torch.manual_seed(0)
        return build(get)
    return probe


def _decoder_probe(get):
    torch.manual_seed(0)
    block = get("DecoderBlock")(3, 2).double()
    pooled, indices = torch.nn.functional.max_pool2d(torch.randn(2, 3, 7, 6, dtype=torch.float64), 2,
                                                     return_indices=True)
    return block(pooled, indices, torch.Size((7, 6)))


def _training_step(get):
    """One optimiser step changes the output: the parameters are wired into the graph."""
    torch.manual_seed(0)
    model = get("SegNet")(1, 3, (4, 8)).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = torch.nn.functional.cross_entropy(model(IMAGES), LABELS_TRUE[:, :4, :3].repeat(1, 4, 4))
    loss.backward()
    optimizer.step()
    return loss.detach(), model(IMAGES)


PROBES = {
    "n2t.numpy.detection": {
        "box_area": lambda get: get("box_area")(BOXES),
        "box_iou": lambda get: get("box_iou")(BOXES, OTHER),
        "nms": lambda get: tuple(get("nms")(BOXES, SCORES, t) for t in (0.0, 0.2, 0.5, 1.0)),
        "make_anchors": lambda get: get("make_anchors")((2, 3), 8, [4.0, 8.0], [0.5, 1.0, 2.0]),
        "encode_boxes": lambda get: get("encode_boxes")(TARGETS, ANCHORS),
        "decode_boxes": lambda get: get("decode_boxes")(np.linspace(-0.5, 0.5, 12).reshape(3, 4), ANCHORS),
    },
    "n2t.torch.detection": {
        "box_area": lambda get: get("box_area")(torch.from_numpy(BOXES)),
        "box_iou": lambda get: get("box_iou")(torch.from_numpy(BOXES), torch.from_numpy(OTHER)),
        "nms": lambda get: tuple(get("nms")(torch.from_numpy(BOXES), torch.from_numpy(SCORES), t)
                                 for t in (0.0, 0.2, 0.5, 1.0)),
    },
    "n2t.torch.segmentation": {
        "EncoderBlock": _seeded(lambda get: get("EncoderBlock")(1, 3).double()(IMAGES)),
        "DecoderBlock": _decoder_probe,
        "SegNet": _training_step,
        "pixel_accuracy": lambda get: get("pixel_accuracy")(LABELS_PRED, LABELS_TRUE),
        "class_iou": lambda get: get("class_iou")(LABELS_PRED, LABELS_TRUE, 3),
        "mean_iou": lambda get: get("mean_iou")(LABELS_PRED, LABELS_TRUE, 3),
    },
}
