"""Scale: parameters, memory and compute of Transformers in closed form, and a table over the book's models.

The formulas count what ``nn.TransformerEncoderLayer``, ``nn.TransformerDecoderLayer`` and GPT-2/BERT-style
models hold (tests compare them with modules built on the meta device); FLOPs follow Kaplan et al. (2020,
"Scaling Laws for Neural Language Models", Table 1); activation memory is checked against the tensors autograd
actually saves. Parameter counting of built modules reuses ``n2t.torch.summary``.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, TypeVar

from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from n2t.torch.summary import count_parameters, render_table

# --8<-- [start:imports]
from typing import Callable, Iterable

import torch
# --8<-- [end:imports]

__all__ = ["count_parameters", "transformer_parameters", "flops_per_token", "activation_memory", "weight_memory",
           "saved_tensor_bytes", "REFERENCE_MODELS", "model_table", "format_model_table"]

Fn = TypeVar("Fn", bound=Callable[..., Any])


# --8<-- [start:transformer-parameters]
def transformer_parameters(d_model: int, n_layers: int, vocab: int, d_ff: int | None = None, *,
                           decoder_layers: int = 0, positions: int = 0, token_types: int = 0, bias: bool = True,
                           tied: bool = True, extra_norms: int = 1, pooler: bool = False) -> dict[str, int]:
    """Parameters of a Transformer with LayerNorm, counted part by part.

    Args:
        d_model: width D of the residual stream.
        n_layers: blocks of self-attention + feed-forward (a GPT's stack, BERT's or an encoder's).
        vocab: vocabulary size V (token embedding V x D); 0 counts no embedding.
        d_ff: hidden width of the feed-forward network; default 4 D.
        decoder_layers: blocks that also attend to an encoder's output (the decoder of an encoder-decoder).
        positions: learned position embeddings (GPT-2: 1024); 0 for sinusoidal or rotary positions.
        token_types: BERT's segment embeddings (2).
        bias: biases in the linear maps and the LayerNorms' shifts (``bias`` of ``nn.TransformerEncoderLayer``).
        tied: the output layer reuses the token embedding; if False it adds a V x D matrix.
        extra_norms: LayerNorms outside the blocks (GPT-2's final norm 1, BERT's embedding norm 1,
            ``nn.Transformer`` 2, a post-norm Transformer 0).
        pooler: BERT's D x D pooler on the class token.

    Returns:
        counts of ``embedding``, ``attention``, ``feedforward``, ``norms``, ``head``, ``non_embedding``
        (everything but the embeddings) and ``total``.
    """
    d, ff = d_model, d_ff or 4 * d_model
    b = 1 if bias else 0
    attention = 4 * d * d + 4 * d * b  # W_q, W_k, W_v, W_o (D x D each) and their biases
    feedforward = 2 * d * ff + (ff + d) * b  # D -> d_ff -> D
    norm = 2 * d if bias else d  # LayerNorm's scale and shift
    counts = {
        "embedding": (vocab + positions + token_types) * d,
        "attention": (n_layers + 2 * decoder_layers) * attention,  # decoder blocks: self- and cross-attention
        "feedforward": (n_layers + decoder_layers) * feedforward,
        "norms": (2 * n_layers + 3 * decoder_layers + extra_norms) * norm,
        "head": (0 if tied else vocab * d) + (d * d + d * b if pooler else 0),
    }
    counts["non_embedding"] = sum(counts.values()) - counts["embedding"]
    counts["total"] = counts["embedding"] + counts["non_embedding"]
    return counts
# --8<-- [end:transformer-parameters]


# --8<-- [start:flops-per-token]
def flops_per_token(d_model: int, n_layers: int, context: int, vocab: int = 0, d_ff: int | None = None, *,
                    causal: bool = True) -> dict[str, int]:
    """Floating-point operations per token of a stack of self-attention blocks (Kaplan et al. 2020, Table 1).

    A multiply-add counts as 2 FLOPs. Norms, softmax, activations and biases are left out (under 1 %).

    Args:
        d_model: width D.
        n_layers: number of blocks L.
        context: tokens T in the window each token attends over.
        vocab: vocabulary size V of the output layer; 0 leaves it out.
        d_ff: hidden width of the feed-forward network; default 4 D.
        causal: count the useful half of the T x T scores, as Kaplan et al. do (2 L T D); False counts the
            whole matrix, 4 L T D, what an encoder or a dense attention kernel computes.

    Returns:
        FLOPs per token of ``weights`` (2 per weight of the blocks' matrices), ``attention`` (q·k and
        weights·v), ``head`` (the logits), ``forward`` (their sum) and ``training`` (3 x forward).
    """
    d, ff = d_model, d_ff or 4 * d_model
    matrices = n_layers * (4 * d * d + 2 * d * ff)  # weights that multiply each token
    flops = {
        "weights": 2 * matrices,
        "attention": (2 if causal else 4) * n_layers * context * d,
        "head": 2 * d * vocab,
    }
    flops["forward"] = sum(flops.values())
    flops["training"] = 3 * flops["forward"]  # backward: one product for the inputs' gradient, one for the weights'
    return flops
# --8<-- [end:flops-per-token]


# --8<-- [start:weight-memory]
def weight_memory(parameters: int) -> dict[str, int]:
    """Bytes to store a model's weights, and to train it with Adam (activations not included).

    Training with Adam keeps 16 bytes per parameter either way: in float32, weights 4 + gradients 4 + the two
    moments 4 + 4; in mixed precision, fp16 weights 2 + fp16 gradients 2 + fp32 master weights 4 + moments 4 + 4.
    """
    return {"fp32": 4 * parameters, "fp16": 2 * parameters, "adam": 16 * parameters}
# --8<-- [end:weight-memory]


# --8<-- [start:activation-memory]
def activation_memory(batch: int, context: int, d_model: int, n_layers: int, n_heads: int, vocab: int = 0,
                      d_ff: int | None = None, *, activation: str = "gelu", attention_weights: bool = True,
                      bytes_per_value: int = 4) -> dict[str, int]:
    """Bytes autograd keeps for the backward pass of a pre-norm decoder-only Transformer, without dropout.

    Per token and block it saves the block input and the first norm's output (2 D), q, k and v (3 D), the
    attention output (D), the second residual stream and its norm's output (2 D), the feed-forward hidden
    layer before the activation (d_ff) and, for GELU, after it (d_ff more; ReLU's backward needs only its
    output, which the second linear map keeps anyway), and each norm's mean and 1/std (4). Attention adds
    the H x T weights of each token if the kernel stores them (the math kernel), or one log-sum-exp per head
    (fused kernels such as FlashAttention, which recompute the weights in the backward pass). With a
    vocabulary, the final norm, the output layer and the log-softmax of the loss keep 2 D + 2 + V values per
    token, and the input ids and targets 8 bytes each. Dropout would add its masks.

    Args:
        batch: sequences N per step.
        context: tokens T per sequence.
        d_model: width D.
        n_layers: blocks L.
        n_heads: attention heads H.
        vocab: vocabulary size V; 0 for a bare stack of blocks.
        d_ff: hidden width of the feed-forward network; default 4 D.
        activation: ``"gelu"`` or ``"relu"``.
        attention_weights: whether the attention kernel stores the T x T weights.
        bytes_per_value: 4 for float32, 2 for float16/bfloat16.

    Returns:
        bytes of ``blocks``, ``attention``, ``head``, ``tokens`` and ``total``.
    """
    d, ff = d_model, d_ff or 4 * d_model
    tokens = batch * context
    per_block = 8 * d + (2 if activation == "gelu" else 1) * ff + 4  # values per token
    per_head = context if attention_weights else 1
    values = {
        "blocks": n_layers * tokens * per_block,
        "attention": n_layers * tokens * n_heads * per_head,
        "head": tokens * (2 * d + 2 + vocab) if vocab else 0,
    }
    memory = {part: count * bytes_per_value for part, count in values.items()}
    memory["tokens"] = 2 * tokens * 8 if vocab else 0  # int64 ids and targets
    memory["total"] = sum(memory.values())
    return memory
# --8<-- [end:activation-memory]


# --8<-- [start:saved-bytes]
def saved_tensor_bytes(loss_fn: Callable[[], torch.Tensor], exclude: Iterable[torch.Tensor] = ()) -> int:
    """Bytes of the tensors autograd saves while ``loss_fn()`` runs, each storage counted once.

    Args:
        loss_fn: runs a forward pass on a real device (not meta) and returns the loss.
        exclude: tensors not to count, usually ``model.parameters()`` (operations save the weights too).
    """
    skip = {tensor.untyped_storage().data_ptr() for tensor in exclude}
    saved: dict[int, int] = {}  # storage address -> bytes

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in skip:
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss_fn()
    return sum(saved.values())
# --8<-- [end:saved-bytes]


# ---- argument checks (kept out of the code shown on the site) ------------------------------------
def _checked(fn: Fn, positive: tuple[str, ...], non_negative: tuple[str, ...] = (), flags: tuple[str, ...] = (),
             choices: dict[str, tuple[str, ...]] | None = None) -> Fn:
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = bound.arguments
        for name in (*positive, *non_negative):
            value, least = values[name], 1 if name in positive else 0
            if value is None and name == "d_ff":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"{fn.__name__}: argument '{name}' must be an int >= {least}; got {value!r}")
        for name in flags:
            if not isinstance(values[name], bool):
                raise TypeError(f"{fn.__name__}: argument '{name}' must be a bool; got {type(values[name]).__name__}")
        for name, allowed in (choices or {}).items():
            if values[name] not in allowed:
                raise ValueError(f"{fn.__name__}: argument '{name}' must be one of {allowed}; got {values[name]!r}")
        _check_model_specific(fn.__name__, values)
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _check_model_specific(where: str, values: dict[str, Any]) -> None:
    if where == "activation_memory" and values["d_model"] % values["n_heads"]:
        raise ValueError(f"activation_memory: argument 'n_heads' must divide d_model={values['d_model']}; "
                         f"got {values['n_heads']}")
    if where == "transformer_parameters" and not values["tied"] and values["vocab"] == 0:
        raise ValueError("transformer_parameters: argument 'tied' is False but vocab is 0: an untied output "
                         "layer needs a vocabulary")


transformer_parameters = _checked(
    transformer_parameters, positive=("d_model", "d_ff"),
    non_negative=("n_layers", "vocab", "decoder_layers", "positions", "token_types", "extra_norms"),
    flags=("bias", "tied", "pooler"))
flops_per_token = _checked(flops_per_token, positive=("d_model", "n_layers", "context", "d_ff"),
                           non_negative=("vocab",), flags=("causal",))
weight_memory = _checked(weight_memory, positive=(), non_negative=("parameters",))
activation_memory = _checked(
    activation_memory, positive=("batch", "context", "d_model", "n_layers", "n_heads", "d_ff", "bytes_per_value"),
    non_negative=("vocab",), flags=("attention_weights",), choices={"activation": ("gelu", "relu")})


def _checked_measurement(fn: Fn) -> Fn:
    @functools.wraps(fn)
    def wrapper(loss_fn: Any, exclude: Iterable[Any] = ()) -> int:
        if not callable(loss_fn):
            raise TypeError(f"saved_tensor_bytes: argument 'loss_fn' must be callable; got {type(loss_fn).__name__}")
        exclude = list(exclude)
        if any(not isinstance(t, torch.Tensor) for t in exclude):
            raise TypeError("saved_tensor_bytes: argument 'exclude' must hold tensors only")
        if any(t.is_meta for t in exclude):
            raise ValueError("saved_tensor_bytes: argument 'exclude' holds meta tensors, which have no storage to "
                             "measure; build the model on a real device")
        return fn(loss_fn, exclude)

    return wrapper  # type: ignore[return-value]


saved_tensor_bytes = _checked_measurement(saved_tensor_bytes)


# ---- the models of the book and published reference points --------------------------------------
CHAR_LM = {"embedding": 32, "hidden": 256, "layers": 1}  # the LSTM language model of snippets/rnn/charlm.py
# the decoder-only model of snippets/attention/char_transformer.py
SMALL_TRANSFORMER = {"d_model": 64, "n_layers": 2, "n_heads": 4, "d_ff": 256, "context": 64}
# Published configurations; each count is computed by transformer_parameters from the paper's sizes.
REFERENCE_MODELS: dict[str, dict[str, Any]] = {
    "Transformer base": {
        "config": {"d_model": 512, "n_layers": 6, "vocab": 37000, "decoder_layers": 6, "extra_norms": 0},
        "heads": 8, "context": None, "causal": False, "published": 65e6,
        "source": "Vaswani et al. 2017, Table 3 (shared 37k BPE vocabulary, post-norm)"},
    "BERT-base": {
        "config": {"d_model": 768, "n_layers": 12, "vocab": 30522, "positions": 512, "token_types": 2,
                   "pooler": True},
        "heads": 12, "context": 512, "causal": False, "published": 110e6, "source": "Devlin et al. 2018"},
    "GPT-2 small": {
        "config": {"d_model": 768, "n_layers": 12, "vocab": 50257, "positions": 1024},
        "heads": 12, "context": 1024, "causal": True, "published": 124e6,
        "source": "OpenAI's released 124M model (the paper's Table 2 says 117M)"},
    "GPT-2 XL": {
        "config": {"d_model": 1600, "n_layers": 48, "vocab": 50257, "positions": 1024},
        "heads": 25, "context": 1024, "causal": True, "published": 1542e6, "source": "Radford et al. 2019, Table 2"},
    "GPT-3 175B": {
        "config": {"d_model": 12288, "n_layers": 96, "vocab": 50257, "positions": 2048},
        "heads": 96, "context": 2048, "causal": True, "published": 175.0e9, "source": "Brown et al. 2020, Table 2.1"},
}


def _char_vocab_size() -> int:
    from n2t.data import CharVocab, stdlib_text
    return len(CharVocab(stdlib_text()))


def _lstm_char_lm_row(vocab: int) -> dict[str, Any]:
    from n2t.torch.rnn import LSTM
    with torch.device("meta"):
        parts = nn.ModuleList([nn.Embedding(vocab, CHAR_LM["embedding"]),
                               LSTM(CHAR_LM["embedding"], CHAR_LM["hidden"], num_layers=CHAR_LM["layers"]),
                               nn.Linear(CHAR_LM["hidden"], vocab)])
        embedding, lstm, head = parts
        steps = 8
        with FlopCounterMode(display=False) as counter:
            head(lstm(embedding(torch.zeros(1, steps, dtype=torch.long)))[0])
    return {"parameters": count_parameters(parts), "flops": counter.get_total_flops() // steps, "per": "character"}


def _decoder_lm_row(vocab: int) -> dict[str, Any]:
    from n2t.torch.transformer import DecoderLM
    small = SMALL_TRANSFORMER
    model = DecoderLM(vocab, small["d_model"], small["n_heads"], small["n_layers"], small["d_ff"],
                      max_len=small["context"], dropout=0.0)  # small enough for the CPU (its input checks read values)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, small["context"], dtype=torch.long))
    return {"parameters": count_parameters(model), "flops": counter.get_total_flops() // small["context"],
            "per": "token"}


def _cnn_row(builder: Callable[[], nn.Module], input_shape: tuple[int, int, int, int]) -> dict[str, Any]:
    with torch.device("meta"):
        model = builder().eval()
        with FlopCounterMode(display=False) as counter:  # sees n2t's own Conv2d too, unlike count_flops' hooks
            model(torch.zeros(input_shape))
    return {"parameters": count_parameters(model), "flops": counter.get_total_flops(), "per": "image"}


def model_table() -> list[dict[str, Any]]:
    """Parameters, weight memory, Adam training memory and forward FLOPs of the book's models and of published ones.

    The book's models (the two character-level language models, LeNet, the ResNets) are built and counted
    (``count_parameters``; FLOPs by ``FlopCounterMode``); the published Transformers are computed by
    ``transformer_parameters`` and ``flops_per_token`` from their sizes (the output layer's FLOPs
    counted for the causal language models only: BERT's row is its encoder).

    Returns:
        one dict per model: ``model``, ``parameters``, ``fp32``, ``fp16``, ``adam`` (bytes), ``flops`` (forward
        FLOPs per ``per``: character, image or token; None for the encoder-decoder), ``counted`` (how),
        ``published`` (the paper's count or None) and ``source``.
    """
    from n2t.torch.lenet import lenet
    from n2t.torch.resnet import resnet18, resnet50

    vocab = _char_vocab_size()
    book = {
        f"LSTM char LM ({CHAR_LM['layers']}x{CHAR_LM['hidden']})": _lstm_char_lm_row(vocab),
        "LeNet (8x8 digits)": _cnn_row(lenet, (1, 1, 8, 8)),
        "ResNet-18 (224x224)": _cnn_row(resnet18, (1, 3, 224, 224)),
        "ResNet-50 (224x224)": _cnn_row(resnet50, (1, 3, 224, 224)),
        f"Transformer char LM ({SMALL_TRANSFORMER['n_layers']}x{SMALL_TRANSFORMER['d_model']})": _decoder_lm_row(vocab),
    }
    rows = [{"model": name, **row, "counted": "built and counted", "published": None, "source": ""}
            for name, row in book.items()]
    for name, spec in REFERENCE_MODELS.items():
        config = spec["config"]
        head = config["vocab"] if spec["causal"] else 0  # language models predict at every position
        flops = None if spec["context"] is None else flops_per_token(
            config["d_model"], config["n_layers"], spec["context"], head, causal=spec["causal"])["forward"]
        rows.append({"model": name, "parameters": transformer_parameters(**config)["total"], "flops": flops,
                     "per": "token" if flops else "", "counted": "formula", "published": spec["published"],
                     "source": spec["source"]})
    for row in rows:
        memory = weight_memory(row["parameters"])
        row.update(fp32=memory["fp32"], fp16=memory["fp16"], adam=memory["adam"])
    keys = ("model", "parameters", "fp32", "fp16", "adam", "flops", "per", "counted", "published", "source")
    return [{key: row[key] for key in keys} for row in rows]


def _si(value: float, unit: str = "", prefixes: str = "kMGT") -> str:
    """1234567 -> '1.23 M'; decimal prefixes (1 GB = 10**9 bytes)."""
    for power, prefix in reversed(list(enumerate(prefixes, start=1))):
        if value >= 1000**power:
            return f"{value / 1000**power:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}".rstrip()


def format_model_table(rows: list[dict[str, Any]] | None = None) -> str:
    """``model_table()`` as Markdown: counts in k, M (10**6), B (10**9); bytes in decimal units (GB = 10**9 B)."""
    rows = model_table() if rows is None else rows
    shown = [{"model": row["model"], "parameters": f"{row['parameters']:,}",
              "published": _si(row["published"], prefixes="kMBT") if row["published"] else "",
              "fp32 weights": _si(row["fp32"], "B"), "fp16 weights": _si(row["fp16"], "B"),
              "Adam training": _si(row["adam"], "B"),
              "forward FLOPs": f"{_si(row['flops'])} per {row['per']}" if row["flops"] else "—"} for row in rows]
    return render_table(shown)
