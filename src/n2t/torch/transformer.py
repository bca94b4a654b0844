"""Transformer blocks in PyTorch from primitives (Vaswani et al. 2017).

Layer normalisation from a mean and a variance; encoder and decoder layers and stacks with the parameter
names and semantics of ``nn.TransformerEncoderLayer`` / ``nn.TransformerDecoderLayer`` /
``nn.TransformerEncoder`` / ``nn.TransformerDecoder`` (so state dicts load both ways); sinusoidal
positions; an encoder–decoder model with greedy decoding and a decoder-only (GPT-style) language model.
Sequences are batch-first; masks are boolean with True = may attend.
"""

from __future__ import annotations

import functools
from typing import Any

from n2t.torch._checks import (
    check_features_input,
    check_generate,
    check_layer_input,
    check_model_tokens,
    check_options,
    check_seq2seq,
    check_stack,
    guard,
)

# --8<-- [start:imports]
import copy
import math

import torch
from torch import nn

from n2t.torch.attention import MultiHeadAttention, causal_mask
# --8<-- [end:imports]

__all__ = ["LayerNorm", "FeedForward", "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerDecoder", "SinusoidalEncoding", "Transformer", "DecoderLM"]


# --8<-- [start:layer-norm]
class LayerNorm(nn.Module):
    """Layer normalisation over the last axis (Ba et al. 2016), as ``nn.LayerNorm(D)``: every position is
    normalised with its own mean and variance, so nothing depends on the batch.

    Args:
        normalized_shape: D, the size of the last axis.
        eps: ε added to the variance.
    """

    def __init__(self, normalized_shape: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.normalized_shape, self.eps = normalized_shape, eps
        self.weight = nn.Parameter(torch.ones(normalized_shape))  # γ
        self.bias = nn.Parameter(torch.zeros(normalized_shape))  # β

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, ``(*, D)``. Returns: the same shape."""
        centered = x - x.mean(dim=-1, keepdim=True)  # (*, D)
        var = (centered**2).mean(dim=-1, keepdim=True)  # the biased variance, as nn.LayerNorm
        return centered / torch.sqrt(var + self.eps) * self.weight + self.bias
# --8<-- [end:layer-norm]


# --8<-- [start:feed-forward]
ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU}


class FeedForward(nn.Module):
    """The position-wise feed-forward sublayer: linear → ReLU or GELU → dropout → linear, the same small
    MLP applied to every position on its own.

    Args:
        d_model: E.
        dim_feedforward: the hidden width (4E in the original Transformer).
        dropout: dropout probability after the activation.
        activation: ``"relu"`` or ``"gelu"``.
    """

    def __init__(self, d_model: int, dim_feedforward: int, dropout: float = 0.0, activation: str = "relu") -> None:
        super().__init__()
        self.d_model = d_model
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.activation = ACTIVATIONS[activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x, ``(N, T, E)``. Returns: ``(N, T, E)``."""
        return self.linear2(self.dropout(self.activation(self.linear1(x))))
# --8<-- [end:feed-forward]


# --8<-- [start:encoder-layer]
class _Layer(nn.Module):
    """What the encoder and decoder layers share: residual paths with Post-LN or Pre-LN, the feed-forward."""

    norm_first: bool
    linear1: nn.Linear
    linear2: nn.Linear
    dropout: nn.Dropout
    activation: nn.Module

    def _residual(self, x: torch.Tensor, norm: nn.Module, sublayer) -> torch.Tensor:
        """Post-LN (the 2017 paper): norm(x + f(x)). Pre-LN: x + f(norm(x)), a clean path from input to output."""
        if self.norm_first:
            return x + sublayer(norm(x))
        return norm(x + sublayer(x))

    def _ff_block(self, x: torch.Tensor) -> torch.Tensor:
        """The feed-forward sublayer (as :class:`FeedForward`), under PyTorch's names ``linear1``, ``linear2``."""
        return self.linear2(self.dropout(self.activation(self.linear1(x))))


class TransformerEncoderLayer(_Layer):
    """Self-attention, then a feed-forward sublayer, each with a residual path and layer normalisation.

    Args:
        d_model: E.
        nhead: attention heads h, a divisor of E.
        dim_feedforward: hidden width of the feed-forward sublayer.
        dropout: dropout probability (attention weights and each sublayer's output).
        activation: ``"relu"`` or ``"gelu"``.
        layer_norm_eps: ε of the layer norms.
        norm_first: False for Post-LN (the 2017 paper), True for Pre-LN.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str = "relu", layer_norm_eps: float = 1e-5, norm_first: bool = False) -> None:
        super().__init__()
        self.d_model, self.norm_first = d_model, norm_first
        self.self_attn = MultiHeadAttention(d_model, nhead, dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1, self.norm2 = LayerNorm(d_model, layer_norm_eps), LayerNorm(d_model, layer_norm_eps)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)
        self.activation = ACTIVATIONS[activation]()

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Args: x ``(N, T, E)``; mask, boolean ``(T, T)``, ``(N, T, T)`` or ``(N, 1, T)``. Returns: ``(N, T, E)``."""
        x = self._residual(x, self.norm1, lambda h: self.dropout1(self.self_attn(h, h, h, mask)))
        return self._residual(x, self.norm2, lambda h: self.dropout2(self._ff_block(h)))
# --8<-- [end:encoder-layer]


# --8<-- [start:decoder-layer]
class TransformerDecoderLayer(_Layer):
    """Masked self-attention, cross-attention to the encoder's output (the memory), then feed-forward.

    Args: as :class:`TransformerEncoderLayer`.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str = "relu", layer_norm_eps: float = 1e-5, norm_first: bool = False) -> None:
        super().__init__()
        self.d_model, self.norm_first = d_model, norm_first
        self.self_attn = MultiHeadAttention(d_model, nhead, dropout)
        self.multihead_attn = MultiHeadAttention(d_model, nhead, dropout)  # queries from x, keys/values from memory
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1, self.norm2, self.norm3 = (LayerNorm(d_model, layer_norm_eps) for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = (nn.Dropout(dropout) for _ in range(3))
        self.activation = ACTIVATIONS[activation]()

    def forward(self, x: torch.Tensor, memory: torch.Tensor, tgt_mask: torch.Tensor | None = None,
                memory_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Args: x, the target side ``(N, L, E)``; memory, the encoder's output ``(N, S, E)``; tgt_mask, e.g.
        causal ``(L, L)``; memory_mask, e.g. the source padding ``(N, 1, S)``. Returns: ``(N, L, E)``."""
        x = self._residual(x, self.norm1, lambda h: self.dropout1(self.self_attn(h, h, h, tgt_mask)))
        x = self._residual(x, self.norm2,
                           lambda h: self.dropout2(self.multihead_attn(h, memory, memory, memory_mask)))
        return self._residual(x, self.norm3, lambda h: self.dropout3(self._ff_block(h)))
# --8<-- [end:decoder-layer]


# --8<-- [start:stacks]
class TransformerEncoder(nn.Module):
    """``num_layers`` copies of an encoder layer, one after the other, and an optional final norm
    (needed after Pre-LN layers), as ``nn.TransformerEncoder``.

    Args:
        encoder_layer: the layer to copy (the copies start with equal weights, as in PyTorch).
        num_layers: how many.
        norm: applied to the last layer's output, or None.
    """

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm: nn.Module | None = None) -> None:
        super().__init__()
        self.d_model, self.num_layers = encoder_layer.d_model, num_layers
        self.layers = nn.ModuleList(copy.deepcopy(encoder_layer) for _ in range(num_layers))
        self.norm = norm

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Args: x ``(N, T, E)``; mask, as for the layer. Returns: ``(N, T, E)``."""
        for layer in self.layers:
            x = layer(x, mask)
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(nn.Module):
    """``num_layers`` copies of a decoder layer, all reading the same memory, and an optional final norm.

    Args: as :class:`TransformerEncoder`.
    """

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: nn.Module | None = None) -> None:
        super().__init__()
        self.d_model, self.num_layers = decoder_layer.d_model, num_layers
        self.layers = nn.ModuleList(copy.deepcopy(decoder_layer) for _ in range(num_layers))
        self.norm = norm

    def forward(self, x: torch.Tensor, memory: torch.Tensor, tgt_mask: torch.Tensor | None = None,
                memory_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Args: x ``(N, L, E)``; memory ``(N, S, E)``; masks as for the layer. Returns: ``(N, L, E)``."""
        for layer in self.layers:
            x = layer(x, memory, tgt_mask, memory_mask)
        return x if self.norm is None else self.norm(x)
# --8<-- [end:stacks]


# --8<-- [start:sinusoidal]
class SinusoidalEncoding(nn.Module):
    """Adds PE[t, 2i] = sin(t / base^(2i/E)), PE[t, 2i+1] = cos(t / base^(2i/E)) to a sequence; no parameters.

    Args:
        d_model: E, even.
        base: the longest wavelength is 2π·base.
    """

    def __init__(self, d_model: int, base: float = 10000.0) -> None:
        super().__init__()
        self.d_model, self.base = d_model, base

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x ``(N, T, E)``. Returns: x + PE[:T], computed in x's dtype on x's device."""
        positions = torch.arange(x.shape[1], dtype=x.dtype, device=x.device)[:, None]  # (T, 1)
        frequencies = self.base ** (-torch.arange(0, self.d_model, 2, dtype=x.dtype, device=x.device) / self.d_model)
        angles = positions * frequencies  # (T, E/2)
        encoding = torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1).flatten(1)  # (T, E): sin, cos, …
        return x + encoding
# --8<-- [end:sinusoidal]


# --8<-- [start:transformer]
class Transformer(nn.Module):
    """The encoder–decoder Transformer for sequence-to-sequence tasks (translation, copying, sorting).

    Args:
        src_vocab: source vocabulary size.
        tgt_vocab: target vocabulary size.
        d_model: E.
        nhead: attention heads.
        num_encoder_layers: encoder layers.
        num_decoder_layers: decoder layers.
        dim_feedforward: hidden width of the feed-forward sublayers.
        dropout: dropout probability.
        norm_first: Pre-LN layers if True.
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, d_model: int = 128, nhead: int = 4,
                 num_encoder_layers: int = 2, num_decoder_layers: int = 2, dim_feedforward: int = 512,
                 dropout: float = 0.1, norm_first: bool = False) -> None:
        super().__init__()
        self.d_model, self.src_vocab, self.tgt_vocab = d_model, src_vocab, tgt_vocab
        self.src_embedding = nn.Embedding(src_vocab, d_model)
        self.tgt_embedding = nn.Embedding(tgt_vocab, d_model)
        self.positions = SinusoidalEncoding(d_model)
        self.dropout = nn.Dropout(dropout)
        encoder_layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, norm_first=norm_first)
        decoder_layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, norm_first=norm_first)
        self.encoder = TransformerEncoder(encoder_layer, num_encoder_layers, LayerNorm(d_model))
        self.decoder = TransformerDecoder(decoder_layer, num_decoder_layers, LayerNorm(d_model))
        self.generator = nn.Linear(d_model, tgt_vocab)  # E → target-vocabulary logits
        for param in self.parameters():  # as nn.Transformer: Xavier for every matrix (the layer copies differ)
            if param.dim() > 1:
                nn.init.xavier_uniform_(param)

    def _embed(self, tokens: torch.Tensor, embedding: nn.Embedding) -> torch.Tensor:
        return self.dropout(self.positions(embedding(tokens) * math.sqrt(self.d_model)))  # (N, T, E)

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Args: src, ids ``(N, S)``; src_mask, padding ``(N, 1, S)``. Returns: the memory ``(N, S, E)``."""
        return self.encoder(self._embed(src, self.src_embedding), src_mask)

    def decode(self, tgt: torch.Tensor, memory: torch.Tensor, src_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Args: tgt, ids ``(N, L)`` starting with BOS; memory ``(N, S, E)``. Returns: logits ``(N, L, V)``."""
        causal = causal_mask(tgt.shape[1], tgt.device)  # position t sees targets 0…t only
        return self.generator(self.decoder(self._embed(tgt, self.tgt_embedding), memory, causal, src_mask))

    def forward(self, src: torch.Tensor, tgt: torch.Tensor, src_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Teacher forcing. Args: src ``(N, S)``; tgt ``(N, L)``, the targets shifted right (BOS first);
        src_mask ``(N, 1, S)`` or None. Returns: logits ``(N, L, V)`` for the next target token at each step."""
        return self.decode(tgt, self.encode(src, src_mask), src_mask)

    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, bos_id: int, steps: int,
                      src_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Encode once, then append the most likely next token ``steps`` times.

        Returns: token ids ``(N, 1 + steps)``, BOS first. Call ``.eval()`` first to switch dropout off.
        """
        memory = self.encode(src, src_mask)
        out = torch.full((src.shape[0], 1), bos_id, dtype=torch.long, device=src.device)  # (N, 1)
        for _ in range(steps):
            logits = self.decode(out, memory, src_mask)[:, -1]  # (N, V): the last position's prediction
            out = torch.cat([out, logits.argmax(dim=-1, keepdim=True)], dim=1)
        return out
# --8<-- [end:transformer]


# --8<-- [start:decoder-lm]
class DecoderLM(nn.Module):
    """A decoder-only (GPT-style) causal language model: token + learned position embeddings, Pre-LN blocks
    of masked self-attention and GELU feed-forward (no cross-attention), a final norm, next-token logits.

    Args:
        vocab_size: V, e.g. the number of distinct characters.
        d_model: E.
        nhead: attention heads.
        num_layers: blocks.
        dim_feedforward: hidden width of the feed-forward sublayers.
        max_len: the longest context (learned positions 0…max_len−1).
        dropout: dropout probability.
    """

    def __init__(self, vocab_size: int, d_model: int = 128, nhead: int = 4, num_layers: int = 2,
                 dim_feedforward: int = 512, max_len: int = 128, dropout: float = 0.1) -> None:
        super().__init__()
        self.vocab_size, self.max_len = vocab_size, max_len
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        self.position_embedding = nn.Embedding(max_len, d_model)
        self.dropout = nn.Dropout(dropout)
        block = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, "gelu", norm_first=True)
        self.blocks = TransformerEncoder(block, num_layers, LayerNorm(d_model))  # a causal mask makes them decoders
        self.lm_head = nn.Linear(d_model, vocab_size)
        for param in self.blocks.parameters():  # the block copies must not start equal
            if param.dim() > 1:
                nn.init.xavier_uniform_(param)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Args: tokens ``(N, T)``, T <= max_len. Returns: logits ``(N, T, V)``; position t predicts token t + 1
        from tokens 0…t only."""
        steps = tokens.shape[1]
        positions = torch.arange(steps, device=tokens.device)  # (T,)
        x = self.dropout(self.token_embedding(tokens) + self.position_embedding(positions))  # (N, T, E)
        return self.lm_head(self.blocks(x, causal_mask(steps, tokens.device)))

    @torch.no_grad()
    def generate(self, prompt: torch.Tensor, steps: int, temperature: float = 1.0,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Sample ``steps`` tokens one at a time, each from softmax(logits / temperature) (0: the argmax).

        Args: prompt ``(N, T0)``; generator, for reproducible samples. Returns: ``(N, T0 + steps)``.
        Call ``.eval()`` first to switch dropout off.
        """
        tokens = prompt
        for _ in range(steps):
            logits = self(tokens[:, -self.max_len:])[:, -1]  # (N, V), from at most max_len tokens of context
            if temperature == 0:
                next_token = logits.argmax(dim=-1, keepdim=True)
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
                next_token = torch.multinomial(probs, 1, generator=generator)  # (N, 1)
            tokens = torch.cat([tokens, next_token], dim=1)
        return tokens
# --8<-- [end:decoder-lm]


# input checks, installed here so that the code above reads as the pages show it
_CHECKS: list[tuple[type, str, Any]] = [
    *((cls, "__init__", check_options) for cls in (LayerNorm, FeedForward, TransformerEncoderLayer,
                                                   TransformerDecoderLayer, SinusoidalEncoding, Transformer,
                                                   DecoderLM)),
    *((cls, "forward", check_features_input) for cls in (LayerNorm, FeedForward, SinusoidalEncoding)),
    *((cls, "forward", check_layer_input) for cls in (TransformerEncoderLayer, TransformerDecoderLayer,
                                                      TransformerEncoder, TransformerDecoder)),
    (TransformerEncoder, "__init__", functools.partial(check_stack, kind=TransformerEncoderLayer)),
    (TransformerDecoder, "__init__", functools.partial(check_stack, kind=TransformerDecoderLayer)),
    *((Transformer, method, check_seq2seq) for method in ("forward", "encode", "greedy_decode")),
    (DecoderLM, "forward", check_model_tokens), (DecoderLM, "generate", check_generate),
]
for _cls, _method, _check in _CHECKS:
    guard(_cls, _method, _check)
LayerNorm.extra_repr = lambda self: f"{self.normalized_shape}, eps={self.eps}"  # type: ignore[method-assign]
