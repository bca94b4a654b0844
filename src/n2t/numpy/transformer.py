"""Transformer encoder and decoder layers (Vaswani et al. 2017) with hand-written backward passes.

Each layer matches ``torch.nn.TransformerEncoderLayer`` / ``TransformerDecoderLayer`` with
``batch_first=True``, ReLU, ``dropout=0``: :meth:`state_dict` gives PyTorch's parameter names, so
``layer_t.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})`` works.
``norm_first=False`` is the original Post-LN layer, ``True`` the Pre-LN layer.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from n2t.numpy.attention import causal_mask
from n2t.numpy.layernorm import LayerNorm
from n2t.numpy.layers import ReLU
from n2t.numpy.linear import Linear
from n2t.numpy.module import Module
from n2t.numpy.multihead import MultiHeadAttention
from n2t.numpy.positional import sinusoidal_encoding
from n2t.numpy.sequence import Embedding

__all__ = ["Composite", "TransformerEncoderLayer", "TransformerDecoderLayer", "Seq2SeqTransformer"]

TORCH_NAMES = {"W": "weight", "b": "bias"}  # n2t.numpy.Linear's keys → nn.Linear's


class Composite(Module):
    """A module made of named child modules (their parameters are theirs)."""

    def __init__(self) -> None:
        super().__init__()
        self.children: dict[str, Any] = {}  # name → Module

    def named_params(self) -> Iterator[tuple[str, dict[str, np.ndarray], str]]:
        """``(PyTorch-style dotted name, the child's params dict, key)`` for every parameter."""
        for child_name, child in self.children.items():
            if isinstance(child, Composite):
                for name, store, key in child.named_params():
                    yield f"{child_name}.{name}", store, key
            else:
                for key in child.params:
                    yield f"{child_name}.{TORCH_NAMES.get(key, key)}", child.params, key

    def state_dict(self) -> dict[str, np.ndarray]:
        """Dotted name → array, with PyTorch's names."""
        return {name: store[key] for name, store, key in self.named_params()}

    def grad_dict(self) -> dict[str, np.ndarray]:
        """Dotted name → gradient, the names of :meth:`state_dict`."""
        grads = {id(c.params): c.grads for c in self._leaves()}
        return {name: grads[id(store)][key] for name, store, key in self.named_params()}

    def load_state_dict(self, arrays: dict[str, np.ndarray]) -> None:
        """Copy arrays in by name; names and shapes must match :meth:`state_dict` exactly."""
        expected = self.state_dict()
        if set(arrays) != set(expected):
            raise ValueError(f"{type(self).__name__}.load_state_dict: missing {sorted(set(expected) - set(arrays))}, "
                             f"unexpected {sorted(set(arrays) - set(expected))}")
        for name, store, key in self.named_params():
            value = np.asarray(arrays[name], dtype=np.float64)
            if value.shape != store[key].shape:
                raise ValueError(f"{type(self).__name__}.load_state_dict: '{name}' must have shape "
                                 f"{store[key].shape}; got {value.shape}")
            store[key] = value.copy()

    def _leaves(self) -> list[Module]:
        leaves: list[Module] = []
        for child in self.children.values():
            leaves.extend(child._leaves() if isinstance(child, Composite) else [child])
        return leaves

    def parameters(self) -> list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
        return [pair for leaf in self._leaves() for pair in leaf.parameters()]

    def zero_grad(self) -> None:
        for leaf in self._leaves():
            leaf.zero_grad()

    def train(self, mode: bool = True) -> "Composite":
        self.training = mode
        for leaf in self._leaves():
            leaf.train(mode)
        return self

    def num_parameters(self) -> int:
        return sum(leaf.num_parameters() for leaf in self._leaves())


def _feedforward(d_model: int, dim_feedforward: int, rng: np.random.Generator) -> dict[str, Module]:
    return {"linear1": Linear(d_model, dim_feedforward, rng=rng), "activation": ReLU(),
            "linear2": Linear(dim_feedforward, d_model, rng=rng)}


class _Layer(Composite):
    """Shared sublayer plumbing: a residual path around each sublayer, LayerNorm after (Post-LN) or
    before (Pre-LN) it."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, norm_first: bool, norms: int,
                 rng: np.random.Generator | None) -> None:
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.d_model, self.nhead, self.dim_feedforward = d_model, nhead, dim_feedforward
        self.norm_first = bool(norm_first)
        self._rng = rng
        self._norms = [f"norm{i}" for i in range(1, norms + 1)]

    def _ff_forward(self, x: np.ndarray) -> np.ndarray:
        c = self.children
        return c["linear2"].forward(c["activation"].forward(c["linear1"].forward(x)))

    def _ff_backward(self, dout: np.ndarray) -> np.ndarray:
        c = self.children
        return c["linear1"].backward(c["activation"].backward(c["linear2"].backward(dout)))

    def _sublayer_forward(self, x: np.ndarray, norm: str, sublayer: Any) -> np.ndarray:
        """Post-LN: norm(x + f(x)). Pre-LN: x + f(norm(x))."""
        layer_norm = self.children[norm]
        if self.norm_first:
            return x + sublayer(layer_norm.forward(x))
        return layer_norm.forward(x + sublayer(x))

    def _sublayer_backward(self, dout: np.ndarray, norm: str, sublayer_backward: Any) -> np.ndarray:
        """The gradient reaches x through the residual path and through the sublayer; they add."""
        layer_norm = self.children[norm]
        if self.norm_first:
            return dout + layer_norm.backward(sublayer_backward(dout))
        d_sum = layer_norm.backward(dout)
        return d_sum + sublayer_backward(d_sum)

    def config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {"d_model": self.d_model, "nhead": self.nhead, "dim_feedforward": self.dim_feedforward,
                "norm_first": self.norm_first}


class TransformerEncoderLayer(_Layer):
    """Self-attention and a feed-forward sublayer, each with a residual path and layer normalisation.

    Args:
        d_model: E.
        nhead: attention heads (a divisor of E).
        dim_feedforward: hidden width of the feed-forward sublayer.
        norm_first: False for Post-LN (the 2017 paper), True for Pre-LN.
        rng: generator for the initial weights.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, norm_first: bool = False,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__(d_model, nhead, dim_feedforward, norm_first, 2, rng)
        self.children = {"self_attn": MultiHeadAttention(d_model, nhead, rng=self._rng),
                         **_feedforward(d_model, dim_feedforward, self._rng),
                         "norm1": LayerNorm(d_model), "norm2": LayerNorm(d_model)}
        self._mask: Any = None

    def forward(self, x: np.ndarray, mask: Any = None) -> np.ndarray:  # type: ignore[override]
        """Args: x ``(N, T, E)``; mask, boolean (True = may attend). Returns: ``(N, T, E)``."""
        attention = self.children["self_attn"]
        x = self._sublayer_forward(x, "norm1", lambda h: attention.forward(h, mask))
        return self._sublayer_forward(x, "norm2", self._ff_forward)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Fill every child's ``grads``; return dx ``(N, T, E)``."""
        d = self._sublayer_backward(dout, "norm2", self._ff_backward)
        return self._sublayer_backward(d, "norm1", self.children["self_attn"].backward)


class TransformerDecoderLayer(_Layer):
    """Masked self-attention, cross-attention to the encoder's output (the memory), feed-forward.

    Args:
        d_model: E.
        nhead: attention heads.
        dim_feedforward: hidden width of the feed-forward sublayer.
        norm_first: False for Post-LN, True for Pre-LN.
        rng: generator for the initial weights.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, norm_first: bool = False,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__(d_model, nhead, dim_feedforward, norm_first, 3, rng)
        self.children = {"self_attn": MultiHeadAttention(d_model, nhead, rng=self._rng),
                         "multihead_attn": MultiHeadAttention(d_model, nhead, rng=self._rng),
                         **_feedforward(d_model, dim_feedforward, self._rng),
                         "norm1": LayerNorm(d_model), "norm2": LayerNorm(d_model), "norm3": LayerNorm(d_model)}
        self.dmemory: np.ndarray | None = None

    def forward(self, x: np.ndarray, memory: np.ndarray | None = None,  # type: ignore[override]
                tgt_mask: Any = None,
                memory_mask: Any = None) -> np.ndarray:
        """Args: x (target side) ``(N, L, E)``; memory (encoder output) ``(N, S, E)``; tgt_mask, e.g. causal
        ``(L, L)``; memory_mask ``(N, 1, S)`` or ``(L, S)``. Returns: ``(N, L, E)``."""
        if memory is None:
            raise ValueError("TransformerDecoderLayer.forward: argument 'memory' (the encoder output) is required")
        c = self.children
        x = self._sublayer_forward(x, "norm1", lambda h: c["self_attn"].forward(h, tgt_mask))
        x = self._sublayer_forward(x, "norm2", lambda h: c["multihead_attn"].attend(h, memory, memory, memory_mask))
        return self._sublayer_forward(x, "norm3", self._ff_forward)

    def _cross_backward(self, dout: np.ndarray) -> np.ndarray:
        dquery, dkey, dvalue = self.children["multihead_attn"].attention_backward(dout)
        self.dmemory = dkey + dvalue
        return dquery

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Fill ``grads``; return dx ``(N, L, E)``; the memory's gradient is left in ``self.dmemory``."""
        d = self._sublayer_backward(dout, "norm3", self._ff_backward)
        d = self._sublayer_backward(d, "norm2", self._cross_backward)
        return self._sublayer_backward(d, "norm1", self.children["self_attn"].backward)


class Seq2SeqTransformer(Composite):
    """A small encoder–decoder Transformer for token sequences, trainable in NumPy.

    Token embeddings are scaled by √E and added to sinusoidal position encodings; the decoder reads
    the target shifted right (teacher forcing) under a causal mask, and a linear layer gives the logits.

    Args:
        vocab: V, the size of the (shared) source and target vocabulary.
        d_model: E.
        nhead: attention heads.
        dim_feedforward: feed-forward width.
        num_layers: encoder layers and decoder layers (each).
        norm_first: Pre-LN if True.
        max_length: the longest sequence the position table covers.
        rng: generator for the initial weights.
    """

    def __init__(self, vocab: int, d_model: int, nhead: int, dim_feedforward: int, num_layers: int = 1,
                 norm_first: bool = False, max_length: int = 64, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.d_model = d_model
        self.positions = sinusoidal_encoding(max_length, d_model)  # (max_length, E)
        self.children = {"src_embed": Embedding(vocab, d_model, rng=rng),
                         "tgt_embed": Embedding(vocab, d_model, rng=rng)}
        for name in ("src_embed", "tgt_embed"):  # N(0, 1/E): after the ×√E the embeddings have unit scale
            self.children[name].params["weight"] /= np.sqrt(d_model)
        for i in range(num_layers):
            self.children[f"encoder{i}"] = TransformerEncoderLayer(d_model, nhead, dim_feedforward, norm_first, rng)
        for i in range(num_layers):
            self.children[f"decoder{i}"] = TransformerDecoderLayer(d_model, nhead, dim_feedforward, norm_first, rng)
        self.children["out"] = Linear(d_model, vocab, rng=rng)
        self.num_layers = num_layers

    def _embed(self, name: str, tokens: np.ndarray) -> np.ndarray:
        if tokens.shape[1] > len(self.positions):
            raise ValueError(f"Seq2SeqTransformer: sequences of length {tokens.shape[1]} exceed max_length "
                             f"{len(self.positions)}")
        return self.children[name].forward(tokens) * np.sqrt(self.d_model) + self.positions[: tokens.shape[1]]

    def encode(self, src: np.ndarray) -> np.ndarray:
        """Args: src, token ids ``(N, S)``. Returns: the memory, ``(N, S, E)``."""
        x = self._embed("src_embed", src)
        for i in range(self.num_layers):
            x = self.children[f"encoder{i}"].forward(x)
        return x

    def decode(self, tgt_in: np.ndarray, memory: np.ndarray) -> np.ndarray:
        """Args: tgt_in, token ids ``(N, L)`` (the target shifted right); memory ``(N, S, E)``.
        Returns: logits ``(N, L, V)``."""
        y = self._embed("tgt_embed", tgt_in)
        mask = causal_mask(tgt_in.shape[1])
        for i in range(self.num_layers):
            y = self.children[f"decoder{i}"].forward(y, memory, mask)
        return self.children["out"].forward(y)

    def forward(self, src: np.ndarray, tgt_in: np.ndarray | None = None) -> np.ndarray:  # type: ignore[override]
        """Args: src ``(N, S)``, tgt_in ``(N, L)`` token ids. Returns: logits ``(N, L, V)``."""
        if tgt_in is None:
            raise ValueError("Seq2SeqTransformer.forward: argument 'tgt_in' (the target shifted right) is required")
        return self.decode(tgt_in, self.encode(src))

    def backward(self, dlogits: np.ndarray) -> np.ndarray:
        """Fill every ``grads`` from ∂L/∂logits ``(N, L, V)``; returns an empty array (token ids have
        no gradient)."""
        scale = np.sqrt(self.d_model)
        dy = self.children["out"].backward(dlogits)
        dmemory: Any = 0.0
        for i in reversed(range(self.num_layers)):
            layer = self.children[f"decoder{i}"]
            dy = layer.backward(dy)
            dmemory = dmemory + layer.dmemory  # every decoder layer reads the memory
        self.children["tgt_embed"].backward(dy * scale)
        dx = dmemory
        for i in reversed(range(self.num_layers)):
            dx = self.children[f"encoder{i}"].backward(dx)
        return self.children["src_embed"].backward(dx * scale)

    def greedy_decode(self, src: np.ndarray, start: int, length: int) -> np.ndarray:
        """Generate ``length`` tokens after a start token, one at a time, always the most likely.

        Args:
            src: token ids ``(N, S)``.
            start: the start-of-sequence token id.
            length: tokens to generate.

        Returns:
            token ids ``(N, length)``.
        """
        memory = self.encode(src)
        out = np.full((src.shape[0], 1), start, dtype=np.int64)
        for _ in range(length):
            logits = self.decode(out, memory)
            out = np.concatenate([out, logits[:, -1].argmax(axis=-1)[:, None]], axis=1)
        return out[:, 1:]
