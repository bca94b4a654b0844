"""Layer normalisation (Ba, Kiros & Hinton 2016) over the last axis, as ``torch.nn.LayerNorm``.

Unlike batch normalisation, every position of every example is normalised with its own mean and
variance, so nothing depends on the batch and training and evaluation compute the same thing.
"""

from __future__ import annotations

from n2t._validate import checks_dout, float_args, positive_int
from n2t.numpy.module import Module

# --8<-- [start:imports]
import numpy as np
# --8<-- [end:imports]

__all__ = ["layernorm_forward", "layernorm_backward", "LayerNorm"]


def _check_layernorm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5) -> None:
    if x.ndim < 1 or gamma.shape != (x.shape[-1],) or beta.shape != (x.shape[-1],):
        raise ValueError(f"layernorm_forward: x must have shape (*, D) and gamma, beta shape (D,); "
                         f"got x {x.shape}, gamma {gamma.shape}, beta {beta.shape}")
    if not eps > 0:
        raise ValueError(f"layernorm_forward: argument 'eps' must be > 0; got {eps!r}")


@float_args("x", "gamma", "beta", check=_check_layernorm)
# --8<-- [start:layernorm-forward]
def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Normalise each row of features to mean 0 and variance 1, then scale by γ and shift by β.

    Args:
        x: shape ``(*, D)``, e.g. ``(N, T, D)``.
        gamma: scale γ, shape ``(D,)``.
        beta: shift β, shape ``(D,)``.
        eps: ε added to the (biased) variance.

    Returns:
        ``(out, cache)``: ``out`` has the shape of x.
    """
    mean = x.mean(axis=-1, keepdims=True)  # (*, 1)
    inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)  # (*, 1)
    x_hat = (x - mean) * inv_std
    out = gamma * x_hat + beta
    return out, (out, x_hat, inv_std, gamma)
# --8<-- [end:layernorm-forward]


@checks_dout
# --8<-- [start:layernorm-backward]
def layernorm_backward(dout, cache):
    """Gradients of layer normalisation: the batch-norm formula with the mean taken over features.

    dx = (1/σ) · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂)) with dx̂ = γ ⊙ dout, means over the last axis.

    Args:
        dout: upstream gradient, shape ``(*, D)``.
        cache: from :func:`layernorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` with shapes ``(*, D)``, ``(D,)``, ``(D,)``.
    """
    _, x_hat, inv_std, gamma = cache
    rows = dout.reshape(-1, dout.shape[-1])  # (M, D), M = every position
    dgamma = (rows * x_hat.reshape(rows.shape)).sum(axis=0)
    dbeta = rows.sum(axis=0)
    dx_hat = dout * gamma
    dx = inv_std * (dx_hat - dx_hat.mean(axis=-1, keepdims=True)
                    - x_hat * (dx_hat * x_hat).mean(axis=-1, keepdims=True))
    return dx, dgamma, dbeta
# --8<-- [end:layernorm-backward]


class LayerNorm(Module):
    """Layer normalisation with learned ``params["weight"]`` (γ, ones) and ``params["bias"]`` (β, zeros),
    the names of ``torch.nn.LayerNorm``.

    Args:
        normalized_shape: D, the size of the last axis.
        eps: ε.
    """

    def __init__(self, normalized_shape: int, eps: float = 1e-5) -> None:
        positive_int("normalized_shape", normalized_shape, "LayerNorm")
        super().__init__()
        self.normalized_shape, self.eps = int(normalized_shape), float(eps)
        self.params = {"weight": np.ones(normalized_shape), "bias": np.zeros(normalized_shape)}
        self.zero_grad()
        self._cache: tuple | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Args: x, shape ``(*, D)``. Returns: the same shape."""
        out, self._cache = layernorm_forward(x, self.params["weight"], self.params["bias"], self.eps)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Fill ``grads`` and return dx."""
        if self._cache is None:
            raise RuntimeError("LayerNorm.backward called before forward")
        dx, self.grads["weight"], self.grads["bias"] = layernorm_backward(dout, self._cache)
        return dx

    def config(self) -> dict:
        """``normalized_shape``, ``eps``."""
        return {"normalized_shape": self.normalized_shape, "eps": self.eps}
