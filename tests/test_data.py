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


def test_adding_problem_marks_two_positions_one_per_half_and_sums_them():
    from n2t.data import adding_problem

    x, y = adding_problem(500, 11, seed=4)
    assert x.shape == (500, 11, 2) and y.shape == (500,)
    marks = x[:, :, 1]
    assert set(np.unique(marks)) == {0.0, 1.0}
    assert np.all(marks[:, :5].sum(axis=1) == 1) and np.all(marks[:, 5:].sum(axis=1) == 1)
    np.testing.assert_allclose(y, (x[:, :, 0] * marks).sum(axis=1))
    assert 0.0 <= x[:, :, 0].min() and x[:, :, 0].max() < 1.0
    assert abs(np.mean((y - 1.0) ** 2) - 1 / 6) < 0.03  # the baseline the pages quote
    np.testing.assert_array_equal(adding_problem(3, 2, seed=1)[0], adding_problem(3, 2, seed=1)[0])
    assert not np.array_equal(adding_problem(3, 20, seed=1)[0], adding_problem(3, 20, seed=2)[0])


def test_adding_problem_rejects_bad_sizes():
    from n2t.data import adding_problem

    with pytest.raises(ValueError, match="argument 'length' must be an int >= 2; got 1"):
        adding_problem(4, 1)
    with pytest.raises(ValueError, match="argument 'n' must be an int >= 1; got 2.0"):
        adding_problem(2.0, 5)


def test_sine_waves_are_sines_with_random_phase_and_frequency():
    from n2t.data import sine_waves

    waves = sine_waves(6, 40, seed=3)
    assert waves.shape == (6, 41) and np.abs(waves).max() <= 1.0
    # a sine satisfies s[t+1] + s[t-1] = 2 cos(ω) s[t]; recover ω per row and check it is constant
    ratio = (waves[:, 2:] + waves[:, :-2]) / (2 * waves[:, 1:-1])
    keep = np.abs(waves[:, 1:-1]) > 0.3
    for row, mask in zip(ratio, keep):
        assert np.ptp(row[mask]) < 1e-9 and 0.2 <= np.arccos(row[mask][0]) <= 0.8
    assert len({round(w, 6) for w in waves[:, 0]}) == 6
    np.testing.assert_array_equal(sine_waves(2, 5, seed=1), sine_waves(2, 5, seed=1))
    with pytest.raises(ValueError, match="argument 'length'"):
        sine_waves(2, 0)


def test_stdlib_text_is_english_and_fixed():
    from n2t.data import stdlib_text

    text = stdlib_text()
    assert len(text) > 100_000 and text == stdlib_text()
    assert "The \"assert\" statement" in text and text.count(" the ") > 1000


def test_char_vocab_round_trips_and_rejects_unknown_characters():
    import torch

    from n2t.data import CharVocab

    vocab = CharVocab("hello world")
    assert vocab.chars == [" ", "d", "e", "h", "l", "o", "r", "w"] and len(vocab) == 8
    ids = vocab.encode("hold")
    assert ids.dtype == np.int64 and ids.tolist() == [3, 5, 4, 1]
    assert vocab.decode(ids) == "hold" and vocab.decode(torch.tensor([[3, 2]])) == "he" and vocab.decode([]) == ""
    with pytest.raises(ValueError, match="characters 'xz' are not in the vocabulary"):
        vocab.encode("hex low z")
    with pytest.raises(ValueError, match=r"integers in \[0, 8\); got dtype int64, values 0 … 8"):
        vocab.decode(np.array([0, 8]))
    with pytest.raises(ValueError, match="argument 'text' must be a non-empty str"):
        CharVocab("")
    with pytest.raises(TypeError, match="argument 'text' must be a str; got list"):
        vocab.encode(["h"])
