"""Batch normalisation over axis 1 (features or channels): ``(N, C)`` and ``(N, C, H, W)`` alike."""

from __future__ import annotations

from n2t._validate import float_args
from n2t.numpy.module import Module

# --8<-- [start:imports]
import numpy as np
# --8<-- [end:imports]

__all__ = ["batchnorm_forward", "batchnorm_backward", "BatchNorm1d", "BatchNorm2d"]


def _check_affine(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5) -> None:
    """Raise unless x has a channel axis 1 that gamma and beta match."""
    if x.ndim < 2 or gamma.shape != (x.shape[1],) or beta.shape != (x.shape[1],):
        raise ValueError(
            f"batchnorm_forward: x must have shape (N, C, *) and gamma, beta shape (C,); "
            f"got x {x.shape}, gamma {gamma.shape}, beta {beta.shape}"
        )
    if x.size // x.shape[1] < 2:
        raise ValueError(f"batchnorm_forward: need more than one value per channel to normalise; got x {x.shape}")


# --8<-- [start:channel-view]
def _channel_view(v: np.ndarray, ndim: int) -> np.ndarray:
    """Reshape a per-channel vector (C,) to broadcast along axis 1 of an ndim-D array."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))
# --8<-- [end:channel-view]


@float_args("x", "gamma", "beta", check=_check_affine)
# --8<-- [start:batchnorm-forward]
def batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> tuple[np.ndarray, tuple]:
    """Normalise each channel with the batch's own mean and variance, then scale and shift.

    x̂ = (x − μ_B) / √(σ²_B + ε), out = γ x̂ + β, with μ_B and the biased σ²_B taken over every
    axis except 1.

    Args:
        x: shape ``(N, C)`` or ``(N, C, *)``.
        gamma: scale γ, shape ``(C,)``.
        beta: shift β, shape ``(C,)``.
        eps: ε added to the variance.

    Returns:
        ``(out, cache)``: ``out`` has the shape of x; ``cache`` also holds μ_B and σ²_B.
    """
    axes = (0,) + tuple(range(2, x.ndim))
    mean = x.mean(axis=axes)  # (C,)
    var = x.var(axis=axes)  # (C,), biased: divides by the count
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - _channel_view(mean, x.ndim)) * _channel_view(inv_std, x.ndim)
    out = _channel_view(gamma, x.ndim) * x_hat + _channel_view(beta, x.ndim)
    return out, (x_hat, gamma, inv_std, axes, mean, var)
# --8<-- [end:batchnorm-forward]


# --8<-- [start:batchnorm-backward]
def batchnorm_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of batch normalisation in training mode (μ_B and σ²_B depend on x too).

    dx = (γ / √(σ² + ε)) · (dout − mean(dout) − x̂ · mean(dout ⊙ x̂)), means per channel.

    Args:
        dout: upstream gradient, shape of x.
        cache: from :func:`batchnorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` with shapes of x, ``(C,)``, ``(C,)``.
    """
    x_hat, gamma, inv_std, axes, _, _ = cache
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * x_hat).sum(axis=axes)
    mean_dout = dout.mean(axis=axes, keepdims=True)
    mean_dout_xhat = (dout * x_hat).mean(axis=axes, keepdims=True)
    scale = _channel_view(gamma * inv_std, dout.ndim)
    dx = scale * (dout - mean_dout - x_hat * mean_dout_xhat)
    return dx, dgamma, dbeta
# --8<-- [end:batchnorm-backward]



class BatchNorm1d(Module):
    """Batch normalisation with running statistics, matching ``torch.nn.BatchNorm1d``.

    Training: normalise with the batch statistics and update
    ``running_mean ← (1 − m)·running_mean + m·μ_B`` and
    ``running_var ← (1 − m)·running_var + m·σ²_B·n/(n − 1)`` (the *unbiased* batch variance, as
    PyTorch does). Evaluation: normalise with the running statistics.

    Args:
        num_features: C.
        eps: ε added to the variance.
        momentum: m, the weight of the current batch in the running averages.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), float(momentum)
        self.params = {"gamma": np.ones(num_features), "beta": np.zeros(num_features)}
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        self.buffers = {"running_mean": np.zeros(num_features), "running_var": np.ones(num_features)}
        self._cache: tuple | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Args: x, shape ``(N, C)`` or ``(N, C, *)``. Returns: the same shape."""
        gamma, beta = self.params["gamma"], self.params["beta"]
        if not self.training:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
            x_hat = (x - _channel_view(mean, x.ndim)) / _channel_view(np.sqrt(var + self.eps), x.ndim)
            self._cache = None
            return _channel_view(gamma, x.ndim) * x_hat + _channel_view(beta, x.ndim)
        out, self._cache = batchnorm_forward(x, gamma, beta, self.eps)
        count = x.size // x.shape[1]
        _, _, _, _, mean, var = self._cache
        m = self.momentum
        self.buffers["running_mean"] = (1 - m) * self.buffers["running_mean"] + m * mean
        self.buffers["running_var"] = (1 - m) * self.buffers["running_var"] + m * var * count / (count - 1)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Fill ``grads`` (gamma, beta) and return dx (training mode only)."""
        if self._cache is None:
            raise RuntimeError("BatchNorm1d.backward needs a forward pass in training mode first")
        dx, self.grads["gamma"], self.grads["beta"] = batchnorm_backward(dout, self._cache)
        return dx

    def config(self) -> dict:
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum}


class BatchNorm2d(BatchNorm1d):
    """Batch normalisation of images ``(N, C, H, W)``: one mean and variance per channel, taken over the
    batch and every pixel (as ``torch.nn.BatchNorm2d``). Same arguments as :class:`BatchNorm1d`."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Args: x, shape ``(N, C, H, W)``. Returns: the same shape."""
        if np.ndim(x) != 4:
            raise ValueError(f"BatchNorm2d: argument 'x' must be 4-D with shape (N, C, H, W); got shape {np.shape(x)}")
        return super().forward(x)
