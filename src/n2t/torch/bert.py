"""Masked language modelling (BERT, Devlin et al. 2019): pretrain an encoder by hiding tokens and predicting
them from both sides, then fine-tune a small head on the [CLS] token.

The tokenizer (not this module) puts [CLS] at position 0 of every sequence. :func:`mask_tokens` picks 15 % of
the ordinary tokens as prediction targets and replaces 80 % of those by [MASK], 10 % by a random token and
leaves 10 % unchanged; the labels are -100 (cross-entropy's ``ignore_index``) everywhere else.
"""

from __future__ import annotations

import functools
from typing import Any

from n2t.torch._checks import _describe, check_model_tokens, check_options, check_size, guard

# --8<-- [start:imports]
import torch
from torch import nn

from n2t.torch.transformer import LayerNorm, TransformerEncoder, TransformerEncoderLayer
# --8<-- [end:imports]

__all__ = ["mask_tokens", "MaskedLM"]


# --8<-- [start:mask-tokens]
def mask_tokens(tokens: torch.Tensor, mask_id: int, vocab_size: int, p: float = 0.15,
                special_ids: tuple[int, ...] = (), generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking rule: choose each ordinary token with probability p; of the chosen, 80 % become [MASK],
    10 % a random token, 10 % stay as they are (so the model cannot trust that unmasked tokens are right).

    Args:
        tokens: token ids, any shape, e.g. ``(N, T)``.
        mask_id: the id of [MASK].
        vocab_size: V; random replacements are drawn from 0…V−1.
        p: the fraction of tokens to predict.
        special_ids: ids never chosen, e.g. [PAD], [CLS], [SEP].
        generator: for reproducible masks (on the tokens' device).

    Returns:
        ``(inputs, labels)``: the corrupted tokens, and the original ids at chosen positions, -100 elsewhere.
    """
    ordinary = ~torch.isin(tokens, torch.tensor(special_ids, dtype=tokens.dtype, device=tokens.device))
    chosen = (torch.rand(tokens.shape, generator=generator, device=tokens.device) < p) & ordinary
    labels = torch.where(chosen, tokens, -100)  # the loss counts only the chosen positions
    roll = torch.rand(tokens.shape, generator=generator, device=tokens.device)  # which of the three fates
    inputs = tokens.masked_fill(chosen & (roll < 0.8), mask_id)  # 80 %: [MASK]
    random_tokens = torch.randint(vocab_size, tokens.shape, generator=generator, device=tokens.device)
    swap = chosen & (roll >= 0.8) & (roll < 0.9)  # 10 %: a random token; the last 10 % keep theirs
    return torch.where(swap, random_tokens, inputs), labels
# --8<-- [end:mask-tokens]


# --8<-- [start:masked-lm]
class MaskedLM(nn.Module):
    """A BERT-style encoder: token + learned position embeddings, Pre-LN GELU encoder layers, and two heads,
    one predicting every position's token (MLM) and one classifying the sequence from its [CLS] token.

    Args:
        vocab_size: V.
        d_model: E.
        nhead: attention heads.
        num_layers: encoder layers.
        dim_feedforward: hidden width of the feed-forward sublayers.
        max_len: the longest sequence (learned positions).
        num_classes: K, outputs of the classification head.
        dropout: dropout probability.
    """

    def __init__(self, vocab_size: int, d_model: int = 128, nhead: int = 4, num_layers: int = 2,
                 dim_feedforward: int = 512, max_len: int = 128, num_classes: int = 2, dropout: float = 0.1) -> None:
        super().__init__()
        self.vocab_size, self.max_len = vocab_size, max_len
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        self.position_embedding = nn.Embedding(max_len, d_model)
        self.dropout = nn.Dropout(dropout)
        layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, "gelu", norm_first=True)
        self.encoder = TransformerEncoder(layer, num_layers, LayerNorm(d_model))
        self.mlm_head = nn.Linear(d_model, vocab_size)
        self.classifier = nn.Linear(d_model, num_classes)
        for param in self.encoder.parameters():  # the layer copies must not start equal
            if param.dim() > 1:
                nn.init.xavier_uniform_(param)

    def encode(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Args: tokens ``(N, T)``, [CLS] first; mask, padding ``(N, 1, T)`` (True = real token).
        Returns: ``(N, T, E)``, every position seeing both sides."""
        positions = torch.arange(tokens.shape[1], device=tokens.device)  # (T,)
        x = self.dropout(self.token_embedding(tokens) + self.position_embedding(positions))  # (N, T, E)
        return self.encoder(x, mask)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Masked-LM logits ``(N, T, V)``: train with cross-entropy against :func:`mask_tokens`' labels."""
        return self.mlm_head(self.encode(tokens, mask))

    def classify(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Sequence-class logits ``(N, K)`` from the [CLS] token's output (fine-tuning)."""
        return self.classifier(self.encode(tokens, mask)[:, 0])
# --8<-- [end:masked-lm]


def _checked_mask_tokens(tokens: Any, mask_id: Any, vocab_size: Any, p: Any = 0.15, special_ids: Any = (),
                         generator: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
    where = "mask_tokens"
    if not isinstance(tokens, torch.Tensor) or tokens.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"{where}: argument 'tokens' must be an integer tensor of token ids; got {_describe(tokens)}")
    check_size(where, "vocab_size", vocab_size)
    check_size(where, "mask_id", mask_id, minimum=0)
    if mask_id >= vocab_size:
        raise ValueError(f"{where}: argument 'mask_id' must be < vocab_size = {vocab_size}; got {mask_id}")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p <= 1:
        raise ValueError(f"{where}: argument 'p' must be a number in (0, 1]; got {p!r}")
    if not isinstance(special_ids, (tuple, list)) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in special_ids):
        raise TypeError(f"{where}: argument 'special_ids' must be a tuple of ints; got {special_ids!r}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"{where}: argument 'generator' must be a torch.Generator or None; "
                        f"got {type(generator).__name__}")
    return _mask_tokens(tokens, mask_id, vocab_size, float(p), tuple(special_ids), generator)


# input checks, installed here so that the code above reads as the pages show it
_mask_tokens = mask_tokens
mask_tokens = functools.wraps(_mask_tokens)(_checked_mask_tokens)
guard(MaskedLM, "__init__", check_options)
guard(MaskedLM, "encode", check_model_tokens)
