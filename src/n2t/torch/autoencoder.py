"""Autoencoders, masking noise and greedy layer-wise pretraining in PyTorch (twin of ``n2t.numpy.autoencoder``).

``Autoencoder`` is an ``nn.Sequential`` whose module indices match the NumPy ``Sequential`` built with
the same arguments (``Linear`` at the same positions, ``weight`` = ``params["W"]``), so weights move
between the two with ``torch.from_numpy``.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from n2t._validate import one_of, positive_int, probability
from n2t.torch._checks import as_float_tensor

# --8<-- [start:imports]
import torch
from torch import nn

from n2t.torch.layers import Activation, mlp
from n2t.torch.linear import Linear
from n2t.torch.losses import bce_with_logits, mse
# --8<-- [end:imports]

__all__ = ["mask_noise", "Autoencoder", "fit_autoencoder", "pretrain_layerwise", "stacked_classifier"]

ACTIVATIONS = ("sigmoid", "relu", "tanh")


def _check_generator(generator: Any, where: str) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"{where}: argument 'generator' must be a torch.Generator or None; "
                        f"got {type(generator).__name__}")


def _check_inputs(x: Any, width: int, where: str) -> torch.Tensor:
    as_float_tensor("x", x, where)
    if x.dim() != 2 or x.shape[1] != width:
        raise ValueError(f"{where}: argument 'x' must have shape (N, D) with D = {width}; got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{where}: argument 'x' contains NaN or infinity")
    return x


def _check_sizes(sizes: Any, where: str) -> tuple[int, ...]:
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
        raise ValueError(f"{where}: argument 'sizes' must be a list of at least 2 layer widths [D, H1, ...]; "
                         f"got {sizes!r}")
    return tuple(positive_int("sizes[i]", size, where) for size in sizes)


def _mask_noise_args(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(x: Any, drop: Any, generator: Any = None) -> torch.Tensor:
        as_float_tensor("x", x, "mask_noise")
        _check_generator(generator, "mask_noise")
        return fn(x, probability("drop", drop, "mask_noise"), generator)

    return wrapper


@_mask_noise_args
# --8<-- [start:mask-noise]
def mask_noise(x: torch.Tensor, drop: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Masking noise: each entry becomes 0 with probability ``drop`` (no rescaling, unlike dropout).

    Args:
        x: inputs, shape ``(N, D)``.
        drop: probability in [0, 1).
        generator: ``torch.Generator`` on x's device, for repeatable noise.

    Returns:
        a corrupted copy, shape ``(N, D)``.
    """
    keep = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) >= drop
    return x * keep
# --8<-- [end:mask-noise]


def _autoencoder_args(cls: type) -> type:
    """Checks for the class below, kept out of the code the page shows."""
    init, forward, encode = cls.__init__, cls.forward, cls.encode  # type: ignore[misc, attr-defined]
    loss_method = cls.reconstruction_loss  # type: ignore[attr-defined]

    @functools.wraps(init)
    def checked_init(self: Any, sizes: Any, activation: str = "sigmoid", loss: str = "bce_with_logits",
                     code_activation: bool = True) -> None:
        sizes = _check_sizes(sizes, "Autoencoder")
        one_of("activation", activation, ACTIVATIONS, "Autoencoder")
        one_of("loss", loss, RECONSTRUCTION_LOSSES, "Autoencoder")
        init(self, sizes, activation, loss, bool(code_activation))

    @functools.wraps(forward)
    def checked_forward(self: Any, x: Any) -> torch.Tensor:
        return forward(self, _check_inputs(x, self.sizes[0], "Autoencoder.forward"))

    @functools.wraps(encode)
    def checked_encode(self: Any, x: Any) -> torch.Tensor:
        return encode(self, _check_inputs(x, self.sizes[0], "Autoencoder.encode"))

    @functools.wraps(loss_method)
    def checked_loss(self: Any, x: Any, noise: Any = 0.0, generator: Any = None) -> torch.Tensor:
        where = "Autoencoder.reconstruction_loss"
        _check_inputs(x, self.sizes[0], where)
        probability("noise", noise, where)
        _check_generator(generator, where)
        if self.loss == "bce_with_logits" and x.numel() and (x.min() < 0 or x.max() > 1):
            raise ValueError(f"{where}: loss 'bce_with_logits' needs targets in [0, 1]; 'x' has values in "
                             f"[{float(x.min()):.4g}, {float(x.max()):.4g}] (use loss='mse')")
        return loss_method(self, x, noise, generator)

    cls.__init__, cls.forward, cls.encode = checked_init, checked_forward, checked_encode  # type: ignore
    cls.reconstruction_loss = checked_loss  # type: ignore[attr-defined]
    return cls


# --8<-- [start:autoencoder]
RECONSTRUCTION_LOSSES = {"bce_with_logits": bce_with_logits, "mse": mse}


class Autoencoder(nn.Sequential):
    """Encoder ``D → H1 → … → Hk`` and mirrored decoder ``Hk → … → D`` (last layer linear).

    Args:
        sizes: ``[D, H1, …, Hk]``; ``Hk`` is the code size.
        activation: ``"sigmoid"``, ``"relu"`` or ``"tanh"``, after every layer except the last.
        loss: ``"bce_with_logits"`` (inputs in [0, 1]; the output is logits) or ``"mse"``.
        code_activation: False makes the code layer linear.
    """

    def __init__(self, sizes, activation="sigmoid", loss="bce_with_logits", code_activation=True):
        layers, widths = [], [*sizes, *sizes[-2::-1]]  # D, H1, …, Hk, …, H1, D
        for index, (d_in, d_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(Linear(d_in, d_out))
            is_code, is_output = index == len(sizes) - 2, index == len(widths) - 2
            if not is_output and (code_activation or not is_code):
                layers.append(Activation(activation))
        super().__init__(*layers)
        self.sizes, self.loss = tuple(sizes), loss
        self.encoder_depth = 2 * (len(sizes) - 1) - (0 if code_activation else 1)  # modules up to the code

    def forward(self, x):
        """Args: x ``(N, D)``. Returns: logits or values, ``(N, D)``."""
        for layer in self:
            x = layer(x)
        return x

    def encode(self, x):
        """Args: x ``(N, D)``. Returns: the code, ``(N, Hk)``."""
        for layer in list(self)[: self.encoder_depth]:
            x = layer(x)
        return x

    def reconstruct(self, x):
        """Args: x ``(N, D)``. Returns: the reconstruction in input space, ``(N, D)``."""
        out = self(x)
        return torch.sigmoid(out) if self.loss == "bce_with_logits" else out

    def reconstruction_loss(self, x, noise=0.0, generator=None):
        """Loss of reconstructing the clean x from a masked copy (``noise`` = masking probability)."""
        corrupted = mask_noise(x, noise, generator) if noise > 0 else x
        return RECONSTRUCTION_LOSSES[self.loss](self(corrupted), x)  # the target is always the clean x
# --8<-- [end:autoencoder]


_autoencoder_args(Autoencoder)  # wraps its methods with input checks, kept out of the code shown


def _fit_args(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(model: Any, x: Any, epochs: Any, batch_size: Any = 32, lr: Any = 1e-2, noise: Any = 0.0,
                generator: Any = None) -> list[float]:
        where = "fit_autoencoder"
        if not isinstance(model, Autoencoder):
            raise TypeError(f"{where}: argument 'model' must be an Autoencoder; got {type(model).__name__}")
        _check_inputs(x, model.sizes[0], where)
        positive_int("epochs", epochs, where)
        positive_int("batch_size", batch_size, where)
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
            raise ValueError(f"{where}: argument 'lr' must be > 0; got {lr!r}")
        probability("noise", noise, where)
        _check_generator(generator, where)
        return fn(model, x, epochs, batch_size, lr, noise, generator)

    return wrapper


@_fit_args
# --8<-- [start:fit-autoencoder]
def fit_autoencoder(model, x, epochs, batch_size=32, lr=1e-2, noise=0.0, generator=None):
    """Train an autoencoder with Adam on shuffled minibatches; no labels are used.

    Args:
        model: an :class:`Autoencoder`.
        x: training inputs, shape ``(N, D)``.
        epochs: passes over x.
        batch_size: B.
        lr: Adam's learning rate.
        noise: masking probability (0: a plain autoencoder).
        generator: ``torch.Generator`` for the shuffles and the noise.

    Returns:
        the mean training loss of every epoch.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        losses = []
        for index in torch.randperm(len(x), generator=generator).split(batch_size):
            optimizer.zero_grad()
            loss = model.reconstruction_loss(x[index], noise, generator)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        history.append(sum(losses) / len(losses))
    return history
# --8<-- [end:fit-autoencoder]


def _pretrain_args(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(x: Any, sizes: Any, epochs: Any, activation: str = "sigmoid", loss: str = "bce_with_logits",
                noise: Any = 0.0, lr: Any = 1e-2, batch_size: Any = 32, generator: Any = None) -> list:
        where = "pretrain_layerwise"
        sizes = _check_sizes(sizes, where)
        _check_inputs(x, sizes[0], where)
        one_of("activation", activation, ACTIVATIONS, where)
        one_of("loss", loss, RECONSTRUCTION_LOSSES, where)
        return fn(x, sizes, epochs, activation, loss, noise, lr, batch_size, generator)

    return wrapper


@_pretrain_args
# --8<-- [start:pretrain-layerwise]
def pretrain_layerwise(x, sizes, epochs, activation="sigmoid", loss="bce_with_logits", noise=0.0, lr=1e-2,
                       batch_size=32, generator=None):
    """Greedy layer-wise pretraining: one shallow autoencoder per layer, each on the previous codes.

    Args:
        x: unlabelled inputs, shape ``(N, D)``.
        sizes: ``[D, H1, …, Hk]``.
        epochs: training epochs of each shallow autoencoder.
        activation: the units' activation.
        loss: the first layer's loss; later layers use BCE for sigmoid codes, else MSE.
        noise: masking probability (> 0: stacked denoising autoencoders).
        lr: Adam's learning rate.
        batch_size: B.
        generator: ``torch.Generator``.

    Returns:
        ``[(W, b), …]``: detached encoder weights ``(H_l, H_{l−1})`` and biases ``(H_l,)``.
    """
    encoders, codes = [], x
    for d_in, d_out in zip(sizes[:-1], sizes[1:]):
        layer_loss = loss if not encoders else ("bce_with_logits" if activation == "sigmoid" else "mse")
        shallow = Autoencoder([d_in, d_out], activation, layer_loss).to(device=x.device, dtype=x.dtype)
        fit_autoencoder(shallow, codes, epochs, batch_size, lr, noise, generator)
        encoders.append((shallow[0].weight.detach().clone(), shallow[0].bias.detach().clone()))
        with torch.no_grad():
            codes = shallow.encode(codes)  # (N, d_out): the next layer's training data
    return encoders
# --8<-- [end:pretrain-layerwise]


def _classifier_args(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(sizes: Any, n_classes: Any, activation: str = "sigmoid", pretrained: Any = None) -> nn.Sequential:
        where = "stacked_classifier"
        sizes = _check_sizes(sizes, where)
        positive_int("n_classes", n_classes, where)
        one_of("activation", activation, ACTIVATIONS, where)
        if pretrained is not None:
            pretrained = list(pretrained)
            if len(pretrained) != len(sizes) - 1:
                raise ValueError(f"{where}: argument 'pretrained' must hold {len(sizes) - 1} (W, b) pairs, one per "
                                 f"hidden layer of sizes={list(sizes)}; got {len(pretrained)}")
            for index, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
                w, b = pretrained[index]
                if tuple(w.shape) != (d_out, d_in) or tuple(b.shape) != (d_out,):
                    raise ValueError(f"{where}: pretrained[{index}] must be W {(d_out, d_in)} and b {(d_out,)}; "
                                     f"got {tuple(w.shape)} and {tuple(b.shape)}")
        return fn(sizes, n_classes, activation, pretrained)

    return wrapper


@_classifier_args
# --8<-- [start:stacked-classifier]
def stacked_classifier(sizes, n_classes, activation="sigmoid", pretrained=None):
    """A classifier ``D → H1 → … → Hk → C``, its hidden layers copied from ``pretrained`` if given.

    Args:
        sizes: ``[D, H1, …, Hk]``.
        n_classes: C; the output layer is always freshly initialised.
        activation: after every hidden layer.
        pretrained: ``[(W, b), …]`` from :func:`pretrain_layerwise` (None: random initialisation).

    Returns:
        an ``nn.Sequential`` producing logits ``(N, C)``.
    """
    model = mlp([*sizes, n_classes], activation)  # Linear, activation, …, Linear
    if pretrained is not None:
        with torch.no_grad():
            for index, (w, b) in enumerate(pretrained):
                model[2 * index].weight.copy_(w)
                model[2 * index].bias.copy_(b)
    return model
# --8<-- [end:stacked-classifier]
