"""Small datasets generated in code (nothing is downloaded)."""

from __future__ import annotations

import numpy as np

__all__ = [
    "logic_gate", "triangles_and_squares", "spirals", "moons", "digits", "shapes", "GATES",
    "adding_problem", "sine_waves", "stdlib_text", "CharVocab",
]

GATES = {
    "and": (-1, -1, -1, 1),
    "or": (-1, 1, 1, 1),
    "nand": (1, 1, 1, -1),
    "xor": (-1, 1, 1, -1),
}


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The four points of a two-input logic gate.

    Args:
        name: one of ``"and"``, ``"or"``, ``"nand"``, ``"xor"``.

    Returns:
        ``(x, y)``: inputs in {0, 1}, shape ``(4, 2)``; labels in {+1, −1}, shape ``(4,)``
        (+1 means true).
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in GATES:
        raise ValueError(f"logic_gate: argument 'name' must be one of {sorted(GATES)}; got {name!r}")
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return x, np.array(GATES[key])


def triangles_and_squares(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two classes that no straight line separates: triangles inside a disc, squares around it.

    Args:
        n: number of points (half of each class).
        seed: seed for ``np.random.default_rng``.

    Returns:
        ``(x, y)``: points in [−1, 1]², shape ``(N, 2)``; labels +1 (triangle) / −1 (square),
        shape ``(N,)``.
    """
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"triangles_and_squares: argument 'n' must be an int >= 2; got {n!r}")
    rng = np.random.default_rng(seed)
    n_in = n // 2
    radius_in = 0.5 * np.sqrt(rng.uniform(0, 1, n_in))
    radius_out = rng.uniform(0.7, 1.0, n - n_in)
    angles = rng.uniform(0, 2 * np.pi, n)
    radius = np.concatenate([radius_in, radius_out])
    x = np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)
    y = np.concatenate([np.ones(n_in, dtype=int), -np.ones(n - n_in, dtype=int)])
    order = rng.permutation(n)
    return x[order], y[order]


def _check_count(name: str, value: int, minimum: int, where: str) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{where}: argument '{name}' must be an int >= {minimum}; got {value!r}")


def spirals(
    n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class (the cs231n toy problem).

    Args:
        n_per_class: points per arm.
        n_classes: number of arms (classes), at least 2.
        noise: standard deviation of the angular noise.
        seed: seed for ``np.random.default_rng``.

    Returns:
        ``(x, y)``: points, shape ``(N, 2)`` with N = n_per_class · n_classes, roughly in [−1, 1]²;
        integer labels, shape ``(N,)``.
    """
    _check_count("n_per_class", n_per_class, 1, "spirals")
    _check_count("n_classes", n_classes, 2, "spirals")
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.05, 1.0, n_per_class), n_classes)
    labels = np.repeat(np.arange(n_classes), n_per_class)
    angle = labels * (2 * np.pi / n_classes) + radius * 4.0 + rng.normal(0.0, noise, radius.size)
    x = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    return x, labels


def moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (like scikit-learn's ``make_moons``), generated here.

    Args:
        n: number of points (half per class).
        noise: standard deviation of Gaussian noise added to every coordinate.
        seed: seed for ``np.random.default_rng``.

    Returns:
        ``(x, y)``: points, shape ``(N, 2)``; labels in {0, 1}, shape ``(N,)``.
    """
    _check_count("n", n, 2, "moons")
    rng = np.random.default_rng(seed)
    n_upper = n // 2
    t_upper = np.linspace(0, np.pi, n_upper)
    t_lower = np.linspace(0, np.pi, n - n_upper)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)
    lower = np.stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)
    x = np.concatenate([upper, lower]) + rng.normal(0.0, noise, (n, 2))
    y = np.concatenate([np.zeros(n_upper, dtype=int), np.ones(n - n_upper, dtype=int)])
    return x, y


def digits(test_size: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8×8 digits (1,797 images, no download), split with stratification.

    Pixels are scaled from 0..16 to [0, 1]. Needs scikit-learn (the ``docs`` and ``test`` extras).

    Args:
        test_size: fraction of the images held out for testing.
        seed: seed of the split (the same seed always gives the same split).

    Returns:
        ``(x_train, x_test, y_train, y_test)``: images flattened to shape ``(N, 64)``, float64;
        labels in 0..9, shape ``(N,)``.
    """
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"digits: argument 'test_size' must lie in (0, 1); got {test_size!r}")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = bunch.data.astype(np.float64) / 16.0
    y = bunch.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    return x_train, x_test, y_train, y_test


def shapes(n: int = 1000, size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[dict[str, np.ndarray]]]:
    """Noisy grey images with one to three filled shapes (discs, squares, triangles), for segmentation.

    Each shape has the area of a disc of radius size/10 … size/5 (so size does not give the class away)
    and its own brightness in [0.55, 1], above the background's [0, 0.35]; Gaussian noise (σ = 0.08)
    is added and the result clipped to [0, 1]. Shapes may overlap: a later shape covers an earlier one
    in the mask. Squares are axis-aligned, triangles equilateral and rotated at random.

    Args:
        n: number of images N.
        size: height and width of each image (at least 16).
        seed: seed for ``np.random.default_rng`` (the same seed always gives the same data).

    Returns:
        ``(images, masks, targets)``: images ``(N, 1, size, size)`` float64 in [0, 1]; masks
        ``(N, size, size)`` int64 with classes 0 background, 1 disc, 2 square, 3 triangle; and per
        image a dict (torchvision's detection format) with ``"boxes"`` ``(K, 4)`` float64
        ``(x1, y1, x2, y2)`` — the pixel edges around each whole shape, x along columns — and
        ``"labels"`` ``(K,)`` int64 in 1..3.
    """
    _check_count("n", n, 1, "shapes")
    _check_count("size", size, 16, "shapes")
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size] + 0.5  # pixel centres, (size, size) each
    images = np.empty((n, 1, size, size))
    masks = np.zeros((n, size, size), dtype=np.int64)
    targets = []
    for index in range(n):
        image = np.full((size, size), rng.uniform(0.0, 0.35))
        boxes, labels = [], []
        for _ in range(rng.integers(1, 4)):
            label = int(rng.integers(1, 4))
            radius = rng.uniform(size / 10, size / 5)
            half_side = radius * np.sqrt(np.pi) / 2  # the square with the disc's area
            circumradius = radius * np.sqrt(4 * np.pi / (3 * np.sqrt(3)))  # the triangle with it
            reach = (radius, half_side, circumradius)[label - 1]  # the whole shape stays inside
            cy, cx = rng.uniform(reach + 0.5, size - reach - 0.5, 2)
            dy, dx = rows - cy, cols - cx
            if label == 1:
                inside = dx**2 + dy**2 <= radius**2
            elif label == 2:
                inside = np.maximum(abs(dx), abs(dy)) <= half_side
            else:  # inside three half-planes whose normals are 120° apart
                normals = rng.uniform(0, 2 * np.pi) + np.array([0, 2, 4]) * np.pi / 3
                distances = np.cos(normals)[:, None, None] * dx + np.sin(normals)[:, None, None] * dy
                inside = np.all(distances <= circumradius / 2, axis=0)
            ys, xs = np.nonzero(inside)
            image[inside] = rng.uniform(0.55, 1.0)
            masks[index][inside] = label
            boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
            labels.append(label)
        images[index, 0] = np.clip(image + rng.normal(0.0, 0.08, image.shape), 0.0, 1.0)
        targets.append({"boxes": np.array(boxes, dtype=np.float64), "labels": np.array(labels, dtype=np.int64)})
    return images, masks, targets


def adding_problem(n: int, length: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter & Schmidhuber, 1997): add the two marked numbers of a long sequence.

    Channel 0 holds numbers drawn uniformly from [0, 1); channel 1 is 1 at exactly two positions, one in
    each half of the sequence, and 0 elsewhere. The target is the sum of the two marked numbers, so
    always predicting its mean 1 gives a mean squared error of about 1/6.

    Args:
        n: number of sequences N.
        length: sequence length T, at least 2.
        seed: seed for ``np.random.default_rng`` (the same seed always gives the same data).

    Returns:
        ``(x, y)``: inputs ``(N, T, 2)`` float64; targets ``(N,)`` float64 in [0, 2).
    """
    _check_count("n", n, 1, "adding_problem")
    _check_count("length", length, 2, "adding_problem")
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, (n, length))
    half = length // 2
    first = rng.integers(0, half, n)  # one mark in [0, T/2)
    second = rng.integers(half, length, n)  # the other in [T/2, T)
    rows = np.arange(n)
    marks = np.zeros((n, length))
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    x = np.stack([values, marks], axis=2)  # (N, T, 2)
    y = values[rows, first] + values[rows, second]
    return x, y


def sine_waves(n: int, length: int, seed: int = 0) -> np.ndarray:
    """Sine waves with a random phase and frequency, for next-step prediction.

    Each row is ``sin(ω t + φ)`` for t = 0 … T, with φ uniform in [0, 2π) and ω uniform in
    [0.2, 0.8] radians per step (a period of about 8 to 31 steps). Feed ``waves[:, :-1]`` and predict
    ``waves[:, 1:]``.

    Args:
        n: number of waves N.
        length: number of input steps T (each row has T + 1 samples), at least 1.
        seed: seed for ``np.random.default_rng`` (the same seed always gives the same data).

    Returns:
        ``(N, T + 1)`` float64 in [−1, 1].
    """
    _check_count("n", n, 1, "sine_waves")
    _check_count("length", length, 1, "sine_waves")
    rng = np.random.default_rng(seed)
    omega = rng.uniform(0.2, 0.8, (n, 1))
    phase = rng.uniform(0.0, 2 * np.pi, (n, 1))
    steps = np.arange(length + 1)
    return np.sin(omega * steps + phase)  # (N, T + 1)


def stdlib_text() -> str:
    """Real English text shipped with Python: the help topics of ``pydoc_data.topics`` (nothing is downloaded).

    The topics are joined in sorted order of their names, separated by blank lines, so the text is the same
    on every run of one Python version (about 460,000 characters on Python 3.11).

    Returns:
        The text.
    """
    from pydoc_data.topics import topics

    return "\n".join(topics[name] for name in sorted(topics))


class CharVocab:
    """Character vocabulary: each distinct character of a text gets an integer id.

    Args:
        text: the text whose characters make the vocabulary (ids follow the sorted characters).

    Attributes:
        chars: the sorted distinct characters; ``chars[i]`` has id i.
    """

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text:
            got = f"{type(text).__name__} {text!r:.40}" if isinstance(text, str) else type(text).__name__
            raise ValueError(f"CharVocab: argument 'text' must be a non-empty str; got {got}")
        self.chars = sorted(set(text))
        self._ids = {char: index for index, char in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} characters)"

    def encode(self, text: str) -> np.ndarray:
        """Args: text, a str of T characters. Returns: ids ``(T,)`` int64."""
        if not isinstance(text, str):
            raise TypeError(f"CharVocab.encode: argument 'text' must be a str; got {type(text).__name__}")
        unknown = sorted(set(text) - self._ids.keys())
        if unknown:
            raise ValueError(f"CharVocab.encode: characters {''.join(unknown)!r} are not in the vocabulary")
        return np.fromiter((self._ids[char] for char in text), dtype=np.int64, count=len(text))

    def decode(self, ids) -> str:
        """Args: ids, integers in [0, V) of any shape (array, list or tensor). Returns: their characters."""
        if hasattr(ids, "detach"):  # a torch tensor, possibly on a GPU
            ids = ids.detach().cpu().numpy()
        ids = np.asarray(ids).ravel()
        if ids.size and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"CharVocab.decode: argument 'ids' must hold integers in [0, {len(self)}); "
                             f"got dtype {ids.dtype}, values {ids.min()} … {ids.max()}")
        return "".join(self.chars[i] for i in ids.tolist())
