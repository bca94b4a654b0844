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


def test_spirals_and_moons_shapes_and_labels():
    from n2t.data import moons, spirals

    x, y = spirals(50, 4, seed=2)
    assert x.shape == (200, 2) and np.bincount(y).tolist() == [50] * 4
    x, y = moons(101, seed=2)
    assert x.shape == (101, 2) and set(np.unique(y)) == {0, 1}
    with pytest.raises(ValueError, match="argument 'n_classes'"):
        spirals(10, 1)


def test_digits_split_is_stratified_and_fixed():
    from n2t.data import digits

    x_train, x_test, y_train, y_test = digits()
    assert x_train.shape[1] == 64 and len(x_train) + len(x_test) == 1797
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    share = np.bincount(y_test) / len(y_test)
    assert np.all(np.abs(share - 0.1) < 0.01)
    np.testing.assert_array_equal(digits()[3], y_test)
    with pytest.raises(ValueError, match="argument 'test_size'"):
        digits(test_size=1.5)
