"""The same ideas in PyTorch: modules built from primitives, device-agnostic (CUDA when present).

Needs the ``torch`` extra: ``pip install "n2t[torch]"``.
"""

from n2t.torch.activations import (
    PReLU,
    elu,
    gelu,
    leaky_relu,
    prelu,
    relu,
    sigmoid,
    swish,
    tanh,
)
from n2t.torch.device import default_device
from n2t.torch.linear import Linear, linear
from n2t.torch.perceptron import Perceptron
from n2t.torch.serialize import load_state, save_state

__all__ = [
    "Linear", "PReLU", "Perceptron", "default_device", "elu", "gelu", "leaky_relu", "linear",
    "load_state", "prelu", "relu", "save_state", "sigmoid", "swish", "tanh",
]
