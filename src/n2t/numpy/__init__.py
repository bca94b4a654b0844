"""From-scratch implementations: forward and hand-written backward passes, NumPy only.

This package never imports torch.
"""

from n2t.numpy.attention import (
    additive_attention_scores,
    causal_mask,
    masked_softmax,
    padding_mask,
    scaled_dot_product_attention_backward,
    scaled_dot_product_attention_forward,
)
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
from n2t.numpy.batchnorm import BatchNorm1d, BatchNorm2d, batchnorm_backward, batchnorm_forward
from n2t.numpy.conv import (
    Conv2d,
    conv1d,
    conv2d_backward,
    conv2d_forward,
    conv_output_size,
    conv_transpose2d_backward,
    conv_transpose2d_forward,
)
from n2t.numpy.gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from n2t.numpy.lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from n2t.numpy.recurrent import GRU, LSTM, RNN
from n2t.numpy.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from n2t.numpy.sequence import (
    Embedding,
    embedding_backward,
    embedding_forward,
    temporal_softmax_cross_entropy_backward,
    temporal_softmax_cross_entropy_forward,
)
from n2t.numpy.dropout import Dropout, dropout_backward, dropout_forward
from n2t.numpy.layers import GELU, LeakyReLU, ReLU, Sequential, Sigmoid, Tanh
from n2t.numpy.layernorm import LayerNorm, layernorm_backward, layernorm_forward
from n2t.numpy.multihead import MultiHeadAttention, multi_head_attention_backward, multi_head_attention_forward
from n2t.numpy.positional import rotary_embedding, rotary_embedding_backward, sinusoidal_encoding
from n2t.numpy.transformer import Seq2SeqTransformer, TransformerDecoderLayer, TransformerEncoderLayer
from n2t.numpy.linear import Linear, linear_backward, linear_forward
from n2t.numpy.losses import (
    bce_with_logits_backward,
    bce_with_logits_forward,
    log_softmax,
    logsumexp,
    mse_backward,
    mse_forward,
    softmax,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)
from n2t.numpy.module import Module
from n2t.numpy.optim import SGD, Adam, RMSProp, clip_grad_norm
from n2t.numpy.perceptron import Perceptron
from n2t.numpy.pooling import (
    AvgPool2d,
    Flatten,
    MaxPool2d,
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from n2t.numpy.residual import ResidualBlock
from n2t.numpy.serialize import load_model, save_model
from n2t.numpy.train import evaluate, fit
from n2t.numpy.hopfield import Hopfield, async_sweep, corrupt, glyphs, hebbian_weights, recall, sync_step
from n2t.numpy.autoencoder import Autoencoder, fit_autoencoder, mask_noise, pretrain_layerwise, stacked_classifier
from n2t.numpy.rbm import RBM, cd_gradient, free_energy_backward, free_energy_forward, log_partition, pretrain_rbms

__all__ = [
    "additive_attention_scores", "causal_mask", "masked_softmax", "padding_mask",
    "scaled_dot_product_attention_backward", "scaled_dot_product_attention_forward", "LayerNorm",
    "layernorm_backward", "layernorm_forward", "MultiHeadAttention", "multi_head_attention_backward",
    "multi_head_attention_forward", "rotary_embedding", "rotary_embedding_backward", "sinusoidal_encoding",
    "Seq2SeqTransformer", "TransformerDecoderLayer", "TransformerEncoderLayer",
    "GRU", "LSTM", "RNN", "Embedding", "embedding_backward", "embedding_forward", "gru_backward", "gru_forward",
    "gru_step_backward", "gru_step_forward", "lstm_backward", "lstm_forward", "lstm_step_backward",
    "lstm_step_forward", "rnn_backward", "rnn_forward", "rnn_step_backward", "rnn_step_forward",
    "temporal_softmax_cross_entropy_backward", "temporal_softmax_cross_entropy_forward",
    "AvgPool2d", "BatchNorm2d", "Conv2d", "Flatten", "MaxPool2d", "ResidualBlock", "avg_pool2d_backward",
    "avg_pool2d_forward", "conv1d", "conv2d_backward", "conv2d_forward", "conv_output_size",
    "conv_transpose2d_backward", "conv_transpose2d_forward", "max_pool2d_backward", "max_pool2d_forward",
    "Adam", "BatchNorm1d", "Dropout", "GELU", "LeakyReLU", "Linear", "Module", "Perceptron", "RMSProp", "ReLU",
    "SGD", "Sequential", "Sigmoid", "Tanh", "batchnorm_backward", "batchnorm_forward", "bce_with_logits_backward",
    "bce_with_logits_forward", "clip_grad_norm", "dropout_backward", "dropout_forward", "evaluate", "fit",
    "load_model", "log_softmax", "logsumexp", "mse_backward", "mse_forward", "save_model", "softmax",
    "softmax_cross_entropy_backward", "softmax_cross_entropy_forward",
    "elu_backward", "elu_forward", "erf", "gelu_backward", "gelu_forward",
    "leaky_relu_backward", "leaky_relu_forward", "linear_backward", "linear_forward",
    "prelu_backward", "prelu_forward", "relu_backward", "relu_forward", "sigmoid",
    "sigmoid_backward", "sigmoid_forward", "swish_backward", "swish_forward",
    "tanh_backward", "tanh_forward",
]
__all__ += [
    "Hopfield", "async_sweep", "corrupt", "glyphs", "hebbian_weights", "recall", "sync_step",
    "Autoencoder", "fit_autoencoder", "mask_noise", "pretrain_layerwise", "stacked_classifier",
    "RBM", "cd_gradient", "free_energy_backward", "free_energy_forward", "log_partition", "pretrain_rbms",
]
