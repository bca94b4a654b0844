"""Weight initialisation: Xavier (Glorot) and He (Kaiming), derived from keeping variances constant."""

from __future__ import annotations

# --8<-- [start:imports]
import math

import numpy as np
# --8<-- [end:imports]

__all__ = ["calculate_gain", "fans", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal", "normal"]


# --8<-- [start:gain]
def calculate_gain(nonlinearity: str, negative_slope: float = 0.01) -> float:
    """The factor by which an activation shrinks the variance, undone by the init (as PyTorch).

    Args:
        nonlinearity: ``"linear"``, ``"sigmoid"``, ``"tanh"``, ``"relu"`` or ``"leaky_relu"``.
        negative_slope: the slope of Leaky ReLU.

    Returns:
        1 for linear/sigmoid, 5/3 for tanh, √2 for ReLU, √(2 / (1 + slope²)) for Leaky ReLU.
    """
    gains = {"linear": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0),
             "leaky_relu": math.sqrt(2.0 / (1.0 + negative_slope**2))}
    if nonlinearity not in gains:
        raise ValueError(
            f"calculate_gain: argument 'nonlinearity' must be one of {sorted(gains)}; got {nonlinearity!r}"
        )
    return gains[nonlinearity]


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape ``(H, D)`` or ``(C_out, C_in, K, K)``."""
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive
# --8<-- [end:gain]


# --8<-- [start:xavier]
def xavier_uniform(shape: tuple[int, ...], rng: np.random.Generator, gain: float = 1.0) -> np.ndarray:
    """U(−a, a) with a = gain·√(6 / (fan_in + fan_out)): Var = gain²·2/(fan_in + fan_out).

    Args:
        shape: weight shape, e.g. ``(H, D)``.
        rng: ``np.random.Generator``.
        gain: see :func:`calculate_gain`.
    """
    fan_in, fan_out = fans(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape)


def xavier_normal(shape: tuple[int, ...], rng: np.random.Generator, gain: float = 1.0) -> np.ndarray:
    """N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out)).

    Args:
        shape: weight shape, e.g. ``(H, D)``.
        rng: ``np.random.Generator``.
        gain: see :func:`calculate_gain`.
    """
    fan_in, fan_out = fans(shape)
    return rng.normal(0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), size=shape)
# --8<-- [end:xavier]


# --8<-- [start:he]
def he_normal(shape: tuple[int, ...], rng: np.random.Generator, nonlinearity: str = "relu") -> np.ndarray:
    """N(0, σ²) with σ = gain/√fan_in (Kaiming normal, fan-in mode): keeps Var(z) constant with ReLU.

    Args:
        shape: weight shape, e.g. ``(H, D)``.
        rng: ``np.random.Generator``.
        nonlinearity: the activation after this layer (sets the gain).
    """
    fan_in, _ = fans(shape)
    return rng.normal(0.0, calculate_gain(nonlinearity) / math.sqrt(fan_in), size=shape)


def he_uniform(shape: tuple[int, ...], rng: np.random.Generator, nonlinearity: str = "relu") -> np.ndarray:
    """U(−a, a) with a = gain·√(3 / fan_in) (Kaiming uniform, fan-in mode).

    Args:
        shape: weight shape, e.g. ``(H, D)``.
        rng: ``np.random.Generator``.
        nonlinearity: the activation after this layer (sets the gain).
    """
    fan_in, _ = fans(shape)
    bound = calculate_gain(nonlinearity) * math.sqrt(3.0 / fan_in)
    return rng.uniform(-bound, bound, size=shape)
# --8<-- [end:he]


def normal(shape: tuple[int, ...], rng: np.random.Generator, std: float = 0.01) -> np.ndarray:
    """N(0, std²) regardless of the layer size: the naive scheme the others replace.

    Args:
        shape: weight shape.
        rng: ``np.random.Generator``.
        std: standard deviation.
    """
    return rng.normal(0.0, std, size=shape)
