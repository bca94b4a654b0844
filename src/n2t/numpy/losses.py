"""Loss functions with hand-written gradients: MSE, binary and multi-class cross-entropy.

Every loss is a pair ``xxx_forward(prediction, target) -> (loss, cache)`` and
``xxx_backward(dout, cache) -> dprediction``; ``loss`` is a 0-d array (the mean over the batch) and
``dout`` is the upstream gradient of that scalar (1.0 when the loss is the objective).
The cross-entropies take logits and are stable for logits of ±1000.
"""

from __future__ import annotations

from n2t._validate import float_args

# --8<-- [start:imports]
import numpy as np
# --8<-- [end:imports]

__all__ = [
    "logsumexp", "log_softmax", "softmax",
    "mse_forward", "mse_backward",
    "bce_with_logits_forward", "bce_with_logits_backward",
    "softmax_cross_entropy_forward", "softmax_cross_entropy_backward",
]


def _check_same_shape(prediction: np.ndarray, target: np.ndarray) -> None:
    """Raise unless prediction and target have the same shape."""
    if prediction.shape != target.shape:
        raise ValueError(
            f"argument 'target' must have the shape of the prediction {prediction.shape}; got {target.shape}"
        )


def _check_class_labels(logits: np.ndarray, labels: np.ndarray) -> None:
    """Raise unless logits are (N, C) and labels are N integers in [0, C)."""
    labels = np.asarray(labels)
    if logits.ndim != 2:
        raise ValueError(f"argument 'logits' must have shape (N, C); got {logits.shape}")
    if labels.shape != (logits.shape[0],) or labels.dtype.kind not in "iu":
        raise ValueError(
            f"argument 'labels' must be {logits.shape[0]} integer class indices, shape (N,); "
            f"got dtype {labels.dtype} and shape {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise ValueError(f"argument 'labels' must lie in [0, {logits.shape[1]}); got {labels.min()}..{labels.max()}")


def _check_upstream(dout: np.ndarray, cache: tuple | None = None) -> None:
    """Raise unless the upstream gradient of a scalar loss is a scalar."""
    if np.ndim(dout) != 0:
        raise ValueError(f"argument 'dout' of a loss must be a scalar; got shape {np.shape(dout)}")


# --8<-- [start:logsumexp]
def logsumexp(z: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log Σ exp(z) along ``axis``, computed as m + log Σ exp(z − m) with m = max z (no overflow).

    Args:
        z: array, e.g. logits of shape ``(N, C)``.
        axis: the axis to reduce.
        keepdims: keep the reduced axis with size 1.

    Returns:
        the reduced array, e.g. shape ``(N,)``.
    """
    m = np.max(z, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax along the last axis: z − logsumexp(z).

    Args:
        z: logits, shape ``(N, C)``.

    Returns:
        log-probabilities, shape ``(N, C)``.
    """
    return z - logsumexp(z, axis=-1, keepdims=True)


def softmax(z: np.ndarray) -> np.ndarray:
    """Probabilities exp(z) / Σ exp(z) along the last axis, as exp(z − m) / Σ exp(z − m) with m = max z.

    Args:
        z: logits, shape ``(N, C)``.

    Returns:
        probabilities, shape ``(N, C)``; each row sums to 1.
    """
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))  # the largest entry is e⁰ = 1, so the sum is ≥ 1
    e /= np.sum(e, axis=-1, keepdims=True)
    return e
# --8<-- [end:logsumexp]


@float_args("prediction", "target", check=_check_same_shape)
# --8<-- [start:mse-forward]
def mse_forward(prediction: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Mean squared error with the 1/2 convention: L = 1/(2N) Σᵢ ‖ŷᵢ − yᵢ‖².

    The 1/2 cancels the 2 of the derivative, so ∂L/∂ŷ = (ŷ − y)/N. ``torch.nn.MSELoss`` has no
    1/2 and also divides by the number of outputs per sample: it equals 2L/D for D outputs.

    Args:
        prediction: ŷ, shape ``(N, D)`` (or ``(N,)``).
        target: y, same shape.

    Returns:
        ``(loss, cache)``: ``loss`` is a 0-d array.
    """
    diff = prediction - target
    n = prediction.shape[0]
    loss = np.sum(diff**2) / (2 * n)
    return np.asarray(loss), (diff, n)
# --8<-- [end:mse-forward]


@float_args("dout", check=_check_upstream)
# --8<-- [start:mse-backward]
def mse_backward(dout: float, cache: tuple) -> np.ndarray:
    """∂L/∂ŷ = dout · (ŷ − y)/N.

    Args:
        dout: upstream gradient of the scalar loss (1.0 when L is the objective).
        cache: from :func:`mse_forward`.

    Returns:
        dprediction, shape of the prediction.
    """
    diff, n = cache
    return dout * diff / n
# --8<-- [end:mse-backward]


@float_args("logits", "target", check=lambda logits, target: _check_same_shape(logits, target))
# --8<-- [start:bce-forward]
def bce_with_logits_forward(logits: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Binary cross-entropy on logits z with targets t ∈ [0, 1], averaged over all entries.

    −[t log σ(z) + (1 − t) log(1 − σ(z))] = log(1 + eᶻ) − t·z, and log(1 + eᶻ) is computed as
    ``np.logaddexp(0, z)``, so z = ±1000 gives finite values (``nn.BCEWithLogitsLoss``).

    Args:
        logits: z, shape ``(N,)`` or ``(N, 1)``.
        target: t, same shape.

    Returns:
        ``(loss, cache)``: ``loss`` is a 0-d array.
    """
    loss = np.mean(np.logaddexp(0.0, logits) - target * logits)
    return np.asarray(loss), (logits, target)
# --8<-- [end:bce-forward]


@float_args("dout", check=_check_upstream)
# --8<-- [start:bce-backward]
def bce_with_logits_backward(dout: float, cache: tuple) -> np.ndarray:
    """∂L/∂z = dout · (σ(z) − t)/n for n entries.

    Args:
        dout: upstream gradient of the scalar loss.
        cache: from :func:`bce_with_logits_forward`.

    Returns:
        dlogits, shape of the logits.
    """
    logits, target = cache
    probability = np.exp(-np.logaddexp(0.0, -logits))  # σ(z), stable
    return dout * (probability - target) / logits.size
# --8<-- [end:bce-backward]


@float_args("logits", check=_check_class_labels)
# --8<-- [start:softmax-ce-forward]
def softmax_cross_entropy_forward(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Softmax followed by the cross-entropy with integer labels, fused (``nn.CrossEntropyLoss``).

    L = −1/N Σᵢ log softmax(zᵢ)[yᵢ], using the stable log-softmax.

    Args:
        logits: z, shape ``(N, C)``.
        labels: class indices, shape ``(N,)``, integers in ``[0, C)``.

    Returns:
        ``(loss, cache)``: ``loss`` is a 0-d array.
    """
    log_p = log_softmax(logits)  # (N, C)
    n = logits.shape[0]
    loss = -np.mean(log_p[np.arange(n), labels])
    return np.asarray(loss), (log_p, labels)
# --8<-- [end:softmax-ce-forward]


@float_args("dout", check=_check_upstream)
# --8<-- [start:softmax-ce-backward]
def softmax_cross_entropy_backward(dout: float, cache: tuple) -> np.ndarray:
    """The fused gradient ∂L/∂z = dout · (p − onehot(y))/N with p = softmax(z).

    Args:
        dout: upstream gradient of the scalar loss.
        cache: from :func:`softmax_cross_entropy_forward`.

    Returns:
        dlogits, shape ``(N, C)``.
    """
    log_p, labels = cache
    n = log_p.shape[0]
    grad = np.exp(log_p)  # p, (N, C)
    grad[np.arange(n), labels] -= 1.0
    return dout * grad / n
# --8<-- [end:softmax-ce-backward]

