"""Optimisers that update ``params`` in place from ``grads``: SGD (with momentum), RMSProp, Adam.

Each follows ``torch.optim``'s update rule exactly (tests compare trajectories step by step), and
``weight_decay`` adds λ·w to the gradient (L2 regularisation) as PyTorch's SGD, RMSprop and Adam do.
"""

from __future__ import annotations

# --8<-- [start:imports]
from typing import Iterable

import numpy as np
# --8<-- [end:imports]

__all__ = ["Optimizer", "SGD", "RMSProp", "Adam", "clip_grad_norm"]

# --8<-- [start:optimizer]
Pairs = Iterable[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]


class Optimizer:
    """Base class: walks every ``(params, grads)`` pair and calls :meth:`update` per array.

    Args:
        parameters: ``model.parameters()``, a list of ``(params, grads)`` dict pairs.
        lr: learning rate η > 0.
        weight_decay: λ ≥ 0; the gradient used is g + λ·w.
    """

    def __init__(self, parameters: Pairs, lr: float, weight_decay: float = 0.0) -> None:
        self.groups = list(parameters)
        if not self.groups:
            raise ValueError("optimizer got no parameters: pass model.parameters() of a model with weights")
        if not lr > 0:
            raise ValueError(f"argument 'lr' must be > 0; got {lr!r}")
        if weight_decay < 0:
            raise ValueError(f"argument 'weight_decay' must be >= 0; got {weight_decay!r}")
        self.lr, self.weight_decay = float(lr), float(weight_decay)
        self.state: dict[tuple[int, str], dict[str, np.ndarray]] = {}
        self.steps = 0

    def zero_grad(self) -> None:
        """Set every gradient to zero."""
        for params, grads in self.groups:
            for key, value in params.items():
                grads[key] = np.zeros_like(value)

    def step(self) -> None:
        """Update every parameter array in place."""
        self.steps += 1
        for index, (params, grads) in enumerate(self.groups):
            for key, param in params.items():
                grad = grads[key] + self.weight_decay * param if self.weight_decay else grads[key]
                self.update(param, grad, self.state.setdefault((index, key), {}))

    def update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        """Change ``param`` in place given its gradient and its per-array ``state``."""
        raise NotImplementedError
# --8<-- [end:optimizer]


# --8<-- [start:sgd]
class SGD(Optimizer):
    """w ← w − η·v with v ← μ·v + g (v = g without momentum), as ``torch.optim.SGD``.

    Args:
        parameters: ``model.parameters()``.
        lr: η.
        momentum: μ in [0, 1).
        weight_decay: λ (L2).
    """

    def __init__(self, parameters, lr=0.01, momentum=0.0, weight_decay=0.0):
        super().__init__(parameters, lr, weight_decay)
        self.momentum = float(momentum)

    def update(self, param, grad, state):
        if self.momentum:
            velocity = state.get("velocity")
            state["velocity"] = grad.copy() if velocity is None else self.momentum * velocity + grad
            grad = state["velocity"]
        param -= self.lr * grad
# --8<-- [end:sgd]


# --8<-- [start:rmsprop]
class RMSProp(Optimizer):
    """s ← α·s + (1 − α)·g², w ← w − η·g / (√s + ε), as ``torch.optim.RMSprop``.

    Args:
        parameters: ``model.parameters()``.
        lr: η.
        alpha: α, the decay of the running mean of g².
        eps: ε.
        weight_decay: λ (L2).
    """

    def __init__(self, parameters, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(parameters, lr, weight_decay)
        self.alpha, self.eps = float(alpha), float(eps)

    def update(self, param, grad, state):
        square = state.setdefault("square_avg", np.zeros_like(param))
        square *= self.alpha
        square += (1 - self.alpha) * grad**2
        param -= self.lr * grad / (np.sqrt(square) + self.eps)
# --8<-- [end:rmsprop]


# --8<-- [start:adam]
class Adam(Optimizer):
    """Adam with bias correction, as ``torch.optim.Adam``.

    m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ),
    w ← w − η·m̂ / (√v̂ + ε).

    Args:
        parameters: ``model.parameters()``.
        lr: η.
        betas: (β₁, β₂).
        eps: ε.
        weight_decay: λ (L2, added to g; not AdamW's decoupled decay).
    """

    def __init__(self, parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(parameters, lr, weight_decay)
        self.beta1, self.beta2 = map(float, betas)
        self.eps = float(eps)

    def update(self, param, grad, state):
        m = state.setdefault("m", np.zeros_like(param))
        v = state.setdefault("v", np.zeros_like(param))
        m *= self.beta1
        m += (1 - self.beta1) * grad
        v *= self.beta2
        v += (1 - self.beta2) * grad**2
        m_hat = m / (1 - self.beta1**self.steps)
        v_hat = v / (1 - self.beta2**self.steps)
        param -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
# --8<-- [end:adam]


# --8<-- [start:clip]
def clip_grad_norm(parameters, max_norm: float) -> float:
    """Rescale all gradients together so their global L2 norm is at most ``max_norm``.

    Same rule as ``torch.nn.utils.clip_grad_norm_``: multiply by max_norm / (norm + 1e-6) when
    that factor is below 1. The direction of the update is unchanged.

    Args:
        parameters: ``model.parameters()``.
        max_norm: the largest allowed norm.

    Returns:
        the norm before clipping.
    """
    pairs = list(parameters)
    total = float(np.sqrt(sum(np.sum(g**2) for _, grads in pairs for g in grads.values())))
    factor = max_norm / (total + 1e-6)
    if factor < 1.0:
        for _, grads in pairs:
            for key in grads:
                grads[key] = grads[key] * factor
    return total
# --8<-- [end:clip]
