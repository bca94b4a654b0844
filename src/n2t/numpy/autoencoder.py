"""Autoencoders built from ``Linear`` and activation layers, denoising by masking noise, and greedy
layer-wise pretraining (Hinton & Salakhutdinov 2006; Bengio et al. 2007; Vincent et al. 2008).

The network is a ``Sequential``: encoder layers ``D → H1 → … → Hk`` then the mirrored decoder
``Hk → … → D``, whose last layer is linear. With ``loss="bce_with_logits"`` its output is read as
logits of pixels in [0, 1]; with ``loss="mse"`` as the reconstruction itself.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from n2t._validate import as_float_array, describe, one_of, positive_int, probability

# --8<-- [start:imports]
import numpy as np

from n2t.numpy.activations import sigmoid
from n2t.numpy.layers import ReLU, Sequential, Sigmoid, Tanh
from n2t.numpy.linear import Linear
from n2t.numpy.optim import Adam
from n2t.numpy.train import LOSSES, minibatches
# --8<-- [end:imports]

__all__ = ["ACTIVATIONS", "mask_noise", "Autoencoder", "fit_autoencoder", "pretrain_layerwise",
           "stacked_classifier"]

RECONSTRUCTION_LOSSES = ("bce_with_logits", "mse")


def _check_rng(rng: Any, where: str, required: bool) -> None:
    if rng is None and not required:
        return
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{where}: argument 'rng' must be a np.random.Generator; got {describe(rng)}")


def _check_inputs(x: Any, width: int, where: str) -> np.ndarray:
    x = as_float_array("x", x, where)
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(f"{where}: argument 'x' must have shape (N, D) with D = {width}; got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{where}: argument 'x' contains NaN or infinity")
    return x


def _check_sizes(sizes: Any, where: str, minimum: int = 2) -> tuple[int, ...]:
    if not isinstance(sizes, (list, tuple)) or len(sizes) < minimum:
        raise ValueError(f"{where}: argument 'sizes' must be a list of at least {minimum} layer widths "
                         f"[D, H1, ...]; got {sizes!r}")
    return tuple(positive_int("sizes[i]", size, where) for size in sizes)


def _mask_noise_args(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(x: Any, drop: Any, rng: Any) -> np.ndarray:
        x = as_float_array("x", x, "mask_noise")
        _check_rng(rng, "mask_noise", required=True)
        return fn(x, probability("drop", drop, "mask_noise"), rng)

    return wrapper


@_mask_noise_args
# --8<-- [start:mask-noise]
def mask_noise(x, drop, rng):
    """Masking noise: set each entry to 0 with probability ``drop``, keep it otherwise.

    Unlike dropout there is no rescaling: the corrupted image is what the encoder sees, the clean one
    is what the decoder must produce.

    Args:
        x: inputs, shape ``(N, D)``.
        drop: probability of zeroing an entry, in [0, 1).
        rng: ``np.random.Generator``.

    Returns:
        a corrupted copy, shape ``(N, D)`` (``x`` is unchanged).
    """
    return x * (rng.random(x.shape) >= drop)
# --8<-- [end:mask-noise]


def _autoencoder_args(cls: type) -> type:
    """Checks for the class below, kept out of the code the page shows."""
    init, forward, encode = cls.__init__, cls.forward, cls.encode  # type: ignore[misc, attr-defined]
    loss_method = cls.reconstruction_loss  # type: ignore[attr-defined]

    @functools.wraps(init)
    def checked_init(self: Any, sizes: Any, activation: str = "sigmoid", loss: str = "bce_with_logits",
                     code_activation: bool = True, rng: Any = None) -> None:
        sizes = _check_sizes(sizes, "Autoencoder")
        one_of("activation", activation, ACTIVATIONS, "Autoencoder")
        one_of("loss", loss, RECONSTRUCTION_LOSSES, "Autoencoder")
        _check_rng(rng, "Autoencoder", required=False)
        init(self, sizes, activation, loss, bool(code_activation), rng)

    @functools.wraps(forward)
    def checked_forward(self: Any, x: Any) -> np.ndarray:
        return forward(self, _check_inputs(x, self.sizes[0], "Autoencoder.forward"))

    @functools.wraps(encode)
    def checked_encode(self: Any, x: Any) -> np.ndarray:
        return encode(self, _check_inputs(x, self.sizes[0], "Autoencoder.encode"))

    @functools.wraps(loss_method)
    def checked_loss(self: Any, x: Any, noise: float = 0.0, rng: Any = None) -> float:
        where = "Autoencoder.reconstruction_loss"
        x = _check_inputs(x, self.sizes[0], where)
        _check_rng(rng, where, required=probability("noise", noise, where) > 0)
        if self.loss == "bce_with_logits" and x.size and (x.min() < 0 or x.max() > 1):
            raise ValueError(f"{where}: loss 'bce_with_logits' needs targets in [0, 1]; 'x' has values in "
                             f"[{x.min():.4g}, {x.max():.4g}] (use loss='mse')")
        return loss_method(self, x, noise, rng)

    cls.__init__, cls.forward, cls.encode = checked_init, checked_forward, checked_encode  # type: ignore
    cls.reconstruction_loss = checked_loss  # type: ignore[attr-defined]
    return cls


# --8<-- [start:autoencoder]
ACTIVATIONS = {"sigmoid": Sigmoid, "relu": ReLU, "tanh": Tanh}


class Autoencoder(Sequential):
    """Encoder ``D → H1 → … → Hk`` and mirrored decoder ``Hk → … → D`` in one ``Sequential``.

    Args:
        sizes: ``[D, H1, …, Hk]``; ``Hk`` is the code size (smaller than D: undercomplete).
        activation: ``"sigmoid"``, ``"relu"`` or ``"tanh"``, after every layer except the last.
        loss: ``"bce_with_logits"`` (inputs in [0, 1]; the output is logits) or ``"mse"``.
        code_activation: False makes the code layer linear (e.g. for a 2-D code to plot).
        rng: ``np.random.Generator`` for the initial weights.
    """

    def __init__(self, sizes, activation="sigmoid", loss="bce_with_logits", code_activation=True, rng=None):
        rng = np.random.default_rng() if rng is None else rng
        layers, widths = [], [*sizes, *sizes[-2::-1]]  # D, H1, …, Hk, …, H1, D
        for index, (d_in, d_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(Linear(d_in, d_out, rng=rng))
            is_code, is_output = index == len(sizes) - 2, index == len(widths) - 2
            if not is_output and (code_activation or not is_code):
                layers.append(ACTIVATIONS[activation]())
        super().__init__(*layers)
        self.sizes, self.loss = tuple(sizes), loss
        self.encoder_depth = 2 * (len(sizes) - 1) - (0 if code_activation else 1)  # layers up to the code

    def encode(self, x):
        """Args: x ``(N, D)``. Returns: the code, ``(N, Hk)``."""
        for layer in self.layers[: self.encoder_depth]:
            x = layer.forward(x)
        return x

    def reconstruct(self, x):
        """Args: x ``(N, D)``. Returns: the reconstruction in input space, ``(N, D)``."""
        out = self.forward(x)
        return sigmoid(out) if self.loss == "bce_with_logits" else out

    def reconstruction_loss(self, x, noise=0.0, rng=None):
        """Forward and backward on one batch: encode a corrupted x, score the reconstruction of the clean x.

        Args:
            x: clean inputs, shape ``(N, D)``.
            noise: masking probability (0: a plain autoencoder).
            rng: ``np.random.Generator`` for the noise.

        Returns:
            the loss (fills ``grads`` of every layer).
        """
        corrupted = mask_noise(x, noise, rng) if noise > 0 else x
        loss_forward, loss_backward = LOSSES[self.loss]
        value, cache = loss_forward(self.forward(corrupted), x)  # the target is always the clean x
        self.backward(loss_backward(1.0, cache))
        return float(value)
# --8<-- [end:autoencoder]


    def config(self) -> dict:
        """Constructor arguments (without ``rng``)."""
        return {"sizes": list(self.sizes), "loss": self.loss, "encoder_depth": self.encoder_depth}

    def __repr__(self) -> str:
        return "Autoencoder" + super().__repr__()[len("Sequential"):]


_autoencoder_args(Autoencoder)  # wraps its methods with input checks, kept out of the code shown


def _fit_args(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(model: Any, x: Any, epochs: Any, batch_size: Any = 32, lr: Any = 1e-2, noise: Any = 0.0,
                rng: Any = None) -> list[float]:
        where = "fit_autoencoder"
        if not isinstance(model, Autoencoder):
            raise TypeError(f"{where}: argument 'model' must be an Autoencoder; got {type(model).__name__}")
        x = _check_inputs(x, model.sizes[0], where)
        positive_int("epochs", epochs, where)
        positive_int("batch_size", batch_size, where)
        if isinstance(lr, bool) or not (isinstance(lr, (int, float)) and lr > 0):
            raise ValueError(f"{where}: argument 'lr' must be > 0; got {lr!r}")
        probability("noise", noise, where)
        _check_rng(rng, where, required=True)
        return fn(model, x, epochs, batch_size, lr, noise, rng)

    return wrapper


@_fit_args
# --8<-- [start:fit-autoencoder]
def fit_autoencoder(model, x, epochs, batch_size=32, lr=1e-2, noise=0.0, rng=None):
    """Train an autoencoder with Adam on shuffled minibatches; no labels are used.

    Args:
        model: an :class:`Autoencoder`.
        x: training inputs, shape ``(N, D)``.
        epochs: passes over x.
        batch_size: B.
        lr: Adam's learning rate.
        noise: masking probability of the denoising autoencoder (0: none).
        rng: ``np.random.Generator`` for the shuffles and the noise.

    Returns:
        the mean training loss of every epoch.
    """
    optimizer = Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        losses = []
        for index in minibatches(len(x), batch_size, rng):
            losses.append(model.reconstruction_loss(x[index], noise, rng))
            optimizer.step()
        history.append(float(np.mean(losses)))
    return history
# --8<-- [end:fit-autoencoder]


def _pretrain_args(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(x: Any, sizes: Any, epochs: Any, activation: str = "sigmoid", loss: str = "bce_with_logits",
                noise: Any = 0.0, lr: Any = 1e-2, batch_size: Any = 32, rng: Any = None) -> list:
        where = "pretrain_layerwise"
        sizes = _check_sizes(sizes, where)
        x = _check_inputs(x, sizes[0], where)
        one_of("activation", activation, ACTIVATIONS, where)
        one_of("loss", loss, RECONSTRUCTION_LOSSES, where)
        _check_rng(rng, where, required=True)
        return fn(x, sizes, epochs, activation, loss, noise, lr, batch_size, rng)

    return wrapper


@_pretrain_args
# --8<-- [start:pretrain-layerwise]
def pretrain_layerwise(x, sizes, epochs, activation="sigmoid", loss="bce_with_logits", noise=0.0, lr=1e-2,
                       batch_size=32, rng=None):
    """Greedy layer-wise pretraining: one shallow autoencoder per layer, each on the previous codes.

    Args:
        x: unlabelled inputs, shape ``(N, D)``.
        sizes: ``[D, H1, …, Hk]``, the hidden layers of the network to initialise.
        epochs: training epochs of each shallow autoencoder.
        activation: the units' activation (``"sigmoid"`` keeps every code in [0, 1]).
        loss: the first layer's reconstruction loss; later layers use BCE for sigmoid codes, else MSE.
        noise: masking probability (> 0: stacked denoising autoencoders).
        lr: Adam's learning rate.
        batch_size: B.
        rng: ``np.random.Generator``.

    Returns:
        ``[(W, b), …]``, the encoder weights ``(H_l, H_{l−1})`` and biases ``(H_l,)`` of every layer.
    """
    encoders, codes = [], x
    for d_in, d_out in zip(sizes[:-1], sizes[1:]):
        layer_loss = loss if not encoders else ("bce_with_logits" if activation == "sigmoid" else "mse")
        shallow = Autoencoder([d_in, d_out], activation, layer_loss, rng=rng)
        fit_autoencoder(shallow, codes, epochs, batch_size, lr, noise, rng)
        encoders.append((shallow[0].params["W"].copy(), shallow[0].params["b"].copy()))
        codes = shallow.encode(codes)  # (N, d_out): the next layer's training data
    return encoders
# --8<-- [end:pretrain-layerwise]


def _classifier_args(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(sizes: Any, n_classes: Any, activation: str = "sigmoid", pretrained: Any = None,
                rng: Any = None) -> Sequential:
        where = "stacked_classifier"
        sizes = _check_sizes(sizes, where)
        positive_int("n_classes", n_classes, where)
        one_of("activation", activation, ACTIVATIONS, where)
        _check_rng(rng, where, required=False)
        if pretrained is not None:
            pretrained = list(pretrained)
            if len(pretrained) != len(sizes) - 1:
                raise ValueError(f"{where}: argument 'pretrained' must hold {len(sizes) - 1} (W, b) pairs, one per "
                                 f"hidden layer of sizes={list(sizes)}; got {len(pretrained)}")
            for index, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
                w, b = (np.asarray(a) for a in pretrained[index])
                if w.shape != (d_out, d_in) or b.shape != (d_out,):
                    raise ValueError(f"{where}: pretrained[{index}] must be W {(d_out, d_in)} and b {(d_out,)}; "
                                     f"got {w.shape} and {b.shape}")
        return fn(sizes, n_classes, activation, pretrained, rng)

    return wrapper


@_classifier_args
# --8<-- [start:stacked-classifier]
def stacked_classifier(sizes, n_classes, activation="sigmoid", pretrained=None, rng=None):
    """A classifier ``D → H1 → … → Hk → C``, its hidden layers copied from ``pretrained`` if given.

    Args:
        sizes: ``[D, H1, …, Hk]``.
        n_classes: C; the output layer is always freshly (randomly) initialised.
        activation: after every hidden layer.
        pretrained: ``[(W, b), …]`` from :func:`pretrain_layerwise` (None: random initialisation).
        rng: ``np.random.Generator``.

    Returns:
        a ``Sequential`` producing logits ``(N, C)``.
    """
    rng = np.random.default_rng() if rng is None else rng
    layers = []
    for index, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = Linear(d_in, d_out, rng=rng)
        if pretrained is not None:
            linear.params["W"], linear.params["b"] = (np.array(a, dtype=float) for a in pretrained[index])
        layers += [linear, ACTIVATIONS[activation]()]
    return Sequential(*layers, Linear(sizes[-1], n_classes, rng=rng))
# --8<-- [end:stacked-classifier]
