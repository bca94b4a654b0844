"""From-scratch implementations: forward and hand-written backward passes, NumPy only.

This package never imports torch.
"""

from n2t.numpy.activations import (
    elu_backward,
    elu_forward,
    erf,
    gelu_backward,
    gelu_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    prelu_backward,
    prelu_forward,
    relu_backward,
    relu_forward,
    sigmoid,
    sigmoid_backward,
    sigmoid_forward,
    swish_backward,
    swish_forward,
    tanh_backward,
    tanh_forward,
)
from n2t.numpy.linear import Linear, linear_backward, linear_forward
from n2t.numpy.perceptron import Perceptron

__all__ = [
    "Linear", "Perceptron",
    "elu_backward", "elu_forward", "erf", "gelu_backward", "gelu_forward",
    "leaky_relu_backward", "leaky_relu_forward", "linear_backward", "linear_forward",
    "prelu_backward", "prelu_forward", "relu_backward", "relu_forward", "sigmoid",
    "sigmoid_backward", "sigmoid_forward", "swish_backward", "swish_forward",
    "tanh_backward", "tanh_forward",
]
