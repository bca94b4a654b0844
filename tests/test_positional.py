"""Positional encodings: the sinusoidal table's formula and properties, rotary embeddings (a rotation:
norms kept, scores depend on relative position only, gradient = inverse rotation), bad input."""

from __future__ import annotations

import numpy as np
import pytest

from n2t.gradcheck import check_layer
from n2t.numpy.positional import rotary_embedding, rotary_embedding_backward, sinusoidal_encoding


def test_sinusoidal_formula():
    table = sinusoidal_encoding(20, 8)
    t, i = 7, 3
    assert table[t, 2 * i] == pytest.approx(np.sin(t / 10000 ** (2 * i / 8)))
    assert table[t, 2 * i + 1] == pytest.approx(np.cos(t / 10000 ** (2 * i / 8)))
    np.testing.assert_allclose(np.linalg.norm(table, axis=1), 2.0)  # √(E/2): sin² + cos² per pair


def test_sinusoidal_shift_is_a_fixed_linear_map():
    """PE[t + k] = M_k PE[t] with M_k independent of t: relative positions are easy to read off."""
    table = sinusoidal_encoding(40, 6)
    shift = 5
    m, *_ = np.linalg.lstsq(table[:20], table[shift:20 + shift], rcond=None)
    np.testing.assert_allclose(table[20:35] @ m, table[25:40], atol=1e-9)


def test_rotary_gradient_and_norm(rng):
    x = rng.standard_normal((2, 5, 6))
    check_layer(rotary_embedding, rotary_embedding_backward, {"x": x})
    out, _ = rotary_embedding(x)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), np.linalg.norm(x, axis=-1))


def test_rotary_scores_depend_on_relative_position_only(rng):
    q, k = rng.standard_normal(8), rng.standard_normal(8)
    q_rot, _ = rotary_embedding(np.tile(q, (12, 1)))
    k_rot, _ = rotary_embedding(np.tile(k, (12, 1)))
    scores = q_rot @ k_rot.T  # (12, 12): query position × key position
    for offset in (0, 1, 4):
        diagonal = np.diagonal(scores, offset)
        np.testing.assert_allclose(diagonal, diagonal[0])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="'d_model' must be a positive even int"):
        sinusoidal_encoding(4, 5)
    with pytest.raises(ValueError, match=r"\(\*, T, E\) with E even"):
        rotary_embedding(np.ones((3, 5)))
