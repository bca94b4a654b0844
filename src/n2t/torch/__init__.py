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
from n2t.torch.conv import AvgPool2d, Conv2d, MaxPool2d, avg_pool2d, conv2d, max_pool2d
from n2t.torch.device import default_device
from n2t.torch.layers import Activation, BatchNorm1d, Dropout, mlp
from n2t.torch.losses import bce_with_logits, cross_entropy, mse
from n2t.torch.linear import Linear, linear
from n2t.torch.perceptron import Perceptron
from n2t.torch.rnn import (
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    RNNCell,
    forget_bias_init,
    gru_cell,
    lstm_cell,
    rnn_cell,
    to_builtin,
)
from n2t.torch.serialize import load_state, save_state
from n2t.torch.train import evaluate, fit
from n2t.torch.attention import (
    AdditiveAttention,
    MultiHeadAttention,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)
from n2t.torch.transformer import (
    DecoderLM,
    FeedForward,
    LayerNorm,
    SinusoidalEncoding,
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from n2t.torch.vit import PatchEmbedding, ViT
from n2t.torch.bert import MaskedLM, mask_tokens
from n2t.torch.autoencoder import Autoencoder, fit_autoencoder, mask_noise, pretrain_layerwise, stacked_classifier
from n2t.torch.gan import (Discriminator, Generator, discriminator_loss, generator_loss, mmd, mode_coverage,
                           ring_centres, ring_of_gaussians, train_gan)
from n2t.torch.depth import (count_linear_pieces, deep_narrow, equal_parameter_width, fit_ensemble, fit_regression,
                             fixed_linear, sawtooth, sawtooth_net, sawtooth_shallow, shallow_wide, tent)

__all__ = [
    "AvgPool2d", "Conv2d", "MaxPool2d", "avg_pool2d", "conv2d", "max_pool2d",
    "Activation", "BatchNorm1d", "Dropout", "evaluate", "fit", "bce_with_logits", "cross_entropy", "mlp", "mse",
    "Linear", "PReLU", "Perceptron", "default_device", "elu", "gelu", "leaky_relu", "linear",
    "load_state", "prelu", "relu", "save_state", "sigmoid", "swish", "tanh",
    "GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNCell", "forget_bias_init", "gru_cell", "lstm_cell", "rnn_cell",
    "to_builtin",
]
__all__ += [
    "AdditiveAttention", "MultiHeadAttention", "causal_mask", "padding_mask", "scaled_dot_product_attention",
    "DecoderLM", "FeedForward", "LayerNorm", "SinusoidalEncoding", "Transformer", "TransformerDecoder",
    "TransformerDecoderLayer", "TransformerEncoder", "TransformerEncoderLayer", "PatchEmbedding", "ViT",
    "MaskedLM", "mask_tokens",
]
__all__ += [
    "Autoencoder", "fit_autoencoder", "mask_noise", "pretrain_layerwise", "stacked_classifier",
    "count_linear_pieces", "deep_narrow", "equal_parameter_width", "fit_ensemble", "fit_regression", "fixed_linear",
    "sawtooth", "sawtooth_net", "sawtooth_shallow", "shallow_wide", "tent",
]
__all__ += [
    "Discriminator", "Generator", "discriminator_loss", "generator_loss", "mmd", "mode_coverage", "ring_centres",
    "ring_of_gaussians", "train_gan",
]
