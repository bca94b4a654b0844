"""Generated datasets."""

from __future__ import annotations

import numpy as np
import pytest

from n2t.data import logic_gate, triangles_and_squares


def test_xor_truth_table():
    x, y = logic_gate("XOR")
    expected = np.where(np.logical_xor(x[:, 0], x[:, 1]), 1, -1)
    np.testing.assert_array_equal(y, expected)


def test_unknown_gate_is_rejected():
    with pytest.raises(ValueError, match="argument 'name' must be one of"):
        logic_gate("nor")


def test_triangles_are_inside_squares_outside():
    x, y = triangles_and_squares(300, seed=3)
    radius = np.linalg.norm(x, axis=1)
    assert x.shape == (300, 2) and y.shape == (300,)
    assert radius[y == 1].max() <= 0.5 < 0.7 <= radius[y == -1].min()
    assert (y == 1).sum() == 150


def test_triangles_and_squares_is_repeatable_and_validated():
    np.testing.assert_array_equal(triangles_and_squares(10, seed=1)[0], triangles_and_squares(10, seed=1)[0])
    with pytest.raises(ValueError, match="argument 'n'"):
        triangles_and_squares(1)
