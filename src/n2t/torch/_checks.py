"""Input checks for the torch twins (kept outside the code shown on the site)."""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, TypeVar

import torch

F = TypeVar("F", bound=Callable[..., Any])


def as_float_tensor(name: str, value: Any, where: str) -> torch.Tensor:
    """Return a floating tensor, or raise TypeError naming the argument."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{where}: argument '{name}' must be a torch.Tensor; got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(
            f"{where}: argument '{name}' must be a floating-point tensor; got dtype {value.dtype} "
            f"(convert with .float() or .double())"
        )
    return value


def float_tensor_args(fn: F) -> F:
    """Decorator: the first positional argument ``x`` must be a floating-point tensor."""

    @functools.wraps(fn)
    def wrapper(x: Any, *args: Any, **kwargs: Any) -> Any:
        as_float_tensor("x", x, fn.__name__)
        return fn(x, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


# ---- recurrent networks (n2t.torch.rnn) ---------------------------------------------------------
NONLINEARITIES = ("tanh", "relu")


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"{value.dtype} tensor of shape {tuple(value.shape)}"
    return type(value).__name__


def check_tensor(where: str, name: str, value: Any, shape: tuple[int | None, ...], letters: str) -> None:
    """``value`` must be a floating tensor of ``shape`` (None matches any size); ``letters`` names the axes."""
    if not isinstance(value, torch.Tensor) or not value.is_floating_point():
        raise TypeError(f"{where}: argument '{name}' must be a floating-point tensor {letters}; got {_describe(value)}")
    if value.ndim != len(shape) or any(want is not None and got != want for got, want in zip(value.shape, shape)):
        want = ", ".join("?" if size is None else str(size) for size in shape)
        raise ValueError(f"{where}: argument '{name}' must have shape {letters} = ({want}); "
                         f"got shape {tuple(value.shape)}")


def check_like(where: str, name: str, value: torch.Tensor, reference: torch.Tensor, what: str) -> None:
    """``value`` must have the dtype and device of ``reference`` (``what`` names it: "x is", "the weights are")."""
    if value.dtype != reference.dtype or value.device != reference.device:
        raise TypeError(f"{where}: argument '{name}' is a {value.dtype} tensor on {value.device} but {what} "
                        f"{reference.dtype} on {reference.device}; convert one with .to()")


def check_module_type(module: Any, kinds: tuple[type, ...], where: str, name: str = "module") -> None:
    if type(module) not in kinds:
        raise TypeError(f"{where}: argument '{name}' must be one of {[kind.__name__ for kind in kinds]}; "
                        f"got {type(module).__name__}")


def _check_nonlinearity(where: str, value: Any) -> None:
    if value not in NONLINEARITIES:
        raise ValueError(f"{where}: argument 'nonlinearity' must be one of {NONLINEARITIES}; got {value!r}")


def _check_step(where: str, gates: int, x: Any, states: dict[str, Any], weights: tuple[Any, ...]) -> None:
    """One time step: x (N, D), each state (N, H), weights (G·H, D), (G·H, H), (G·H,), (G·H,)."""
    w_ih = weights[0]
    check_tensor(where, "w_ih", w_ih, (None, None), f"({gates}H, D)")
    if w_ih.shape[0] % gates:
        raise ValueError(f"{where}: argument 'w_ih' must have {gates}·H rows; got shape {tuple(w_ih.shape)}")
    rows, features = w_ih.shape
    hidden = rows // gates
    for name, value, shape in zip(("w_hh", "b_ih", "b_hh"), weights[1:], ((rows, hidden), (rows,), (rows,))):
        check_tensor(where, name, value, shape, f"({gates}H, H)" if name == "w_hh" else f"({gates}H,)")
        check_like(where, name, value, w_ih, "w_ih is")
    check_tensor(where, "x", x, (None, features), "(N, D)")
    check_like(where, "x", x, w_ih, "the weights are")
    for name, value in states.items():
        check_tensor(where, name, value, (x.shape[0], hidden), "(N, H)")
        check_like(where, name, value, x, "x is")


def checks_step(gates: int) -> Callable[[F], F]:
    """Decorator for a cell function ``(x, h_prev[, c_prev], w_ih, w_hh, b_ih, b_hh[, nonlinearity])``."""
    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            arguments = signature.bind(*args, **kwargs).arguments
            states = {name: value for name, value in arguments.items() if name in ("h_prev", "c_prev")}
            weights = tuple(arguments[name] for name in ("w_ih", "w_hh", "b_ih", "b_hh"))
            _check_step(fn.__name__, gates, arguments["x"], states, weights)
            _check_nonlinearity(fn.__name__, arguments.get("nonlinearity", "tanh"))
            return fn(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return decorate


def check_recurrent_options(module: Any, **arguments: Any) -> None:
    """Constructor arguments of a recurrent cell or layer."""
    where = type(module).__name__
    for name in ("input_size", "hidden_size", "num_layers"):
        value = arguments.get(name, 1)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{where}: argument '{name}' must be an int >= 1; got {value!r}")
    for name in ("bidirectional", "batch_first"):
        if not isinstance(arguments.get(name, True), bool):
            raise TypeError(f"{where}: argument '{name}' must be a bool; got {arguments[name]!r}")
    _check_nonlinearity(where, arguments.get("nonlinearity", "tanh"))


def _check_states(where: str, names: tuple[str, ...], state: Any, shape: tuple[int, ...], letters: str,
                  x: torch.Tensor) -> None:
    if len(names) == 1:
        values: tuple[Any, ...] = (state,)
    elif isinstance(state, (tuple, list)) and len(state) == len(names):
        values = tuple(state)
    else:
        raise TypeError(f"{where}: argument 'state' must be a tuple ({', '.join(names)}); got {_describe(state)}")
    for name, value in zip(names, values):
        check_tensor(where, name, value, shape, letters)
        check_like(where, name, value, x, "x is")


def check_cell_input(cell: Any, x: Any, state_names: tuple[str, ...], **state: Any) -> None:
    """A cell's forward: x (N, D) and its one state argument (named h, or state = (h, c))."""
    where = type(cell).__name__
    check_tensor(where, "x", x, (None, cell.input_size), "(N, D)")
    check_like(where, "x", x, cell.weight_ih, "the weights are")
    [(name, value)] = state.items()
    if value is not None:
        names = state_names if len(state_names) > 1 else (name,)
        _check_states(where, names, value, (x.shape[0], cell.hidden_size), "(N, H)", x)


def check_sequence_input(layer: Any, x: Any, state: Any, state_names: tuple[str, ...]) -> None:
    """A layer's forward: x (N, T, D) (or (T, N, D)) and the initial state (L·dirs, N, H) per tensor."""
    where = type(layer).__name__
    check_tensor(where, "x", x, (None, None, layer.input_size), "(N, T, D)" if layer.batch_first else "(T, N, D)")
    if x.numel() == 0:
        raise ValueError(f"{where}: argument 'x' must hold at least one sequence of one step; "
                         f"got shape {tuple(x.shape)}")
    check_like(where, "x", x, layer.weight_ih_l0, "the weights are")
    if state is not None:
        batch = x.shape[0 if layer.batch_first else 1]
        shape = ((1 + layer.bidirectional) * layer.num_layers, batch, layer.hidden_size)
        _check_states(where, state_names if len(state_names) > 1 else ("state",), state, shape,
                      "(L·dirs, N, H)", x)


def guard(cls: type, method_name: str, check: Callable[..., None]) -> None:
    """Replace ``cls.method_name`` by a version that first runs ``check(self, **arguments)``."""
    method = getattr(cls, method_name)
    signature = inspect.signature(method)

    @functools.wraps(method)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        check(self, **dict(list(bound.arguments.items())[1:]))
        return method(self, *args, **kwargs)

    setattr(cls, method_name, guarded)


# ---- attention and Transformers (n2t.torch.attention, transformer, vit, bert) -------------------
SIZE_ARGUMENTS = {"embed_dim", "num_heads", "query_dim", "key_dim", "hidden", "d_model", "nhead", "dim_feedforward",
                  "normalized_shape", "num_layers", "num_encoder_layers", "num_decoder_layers", "src_vocab",
                  "tgt_vocab", "vocab_size", "max_len", "image_size", "patch_size", "in_channels", "num_classes",
                  "depth", "mlp_dim"}
ACTIVATION_NAMES = ("relu", "gelu")


def check_size(where: str, name: str, value: Any, minimum: int = 1) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{where}: argument '{name}' must be an int >= {minimum}; got {value!r}")


def check_options(module: Any, **arguments: Any) -> None:
    """Constructor arguments, checked by name: sizes, dropout, flags, ε, activation, divisibility."""
    where = type(module).__name__
    for name, value in arguments.items():
        if name in SIZE_ARGUMENTS:
            check_size(where, name, value)
        elif name in ("dropout", "p") and (isinstance(value, bool) or not isinstance(value, (int, float))
                                           or not 0 <= value < 1):
            raise ValueError(f"{where}: argument '{name}' must be a number in [0, 1); got {value!r}")
        elif name in ("bias", "norm_first") and not isinstance(value, bool):
            raise TypeError(f"{where}: argument '{name}' must be a bool; got {value!r}")
        elif name in ("eps", "layer_norm_eps", "base") and (isinstance(value, bool) or not isinstance(
                value, (int, float)) or not 0 < value < float("inf")):
            raise ValueError(f"{where}: argument '{name}' must be a positive number; got {value!r}")
        elif name == "activation" and value not in ACTIVATION_NAMES:
            raise ValueError(f"{where}: argument 'activation' must be one of {ACTIVATION_NAMES}; got {value!r}")
    for width, heads in (("embed_dim", "num_heads"), ("d_model", "nhead")):
        if heads in arguments and arguments[width] % arguments[heads]:
            raise ValueError(f"{where}: argument '{heads}' must divide {width} = {arguments[width]}; "
                             f"got {arguments[heads]}")
    if where == "SinusoidalEncoding" and arguments["d_model"] % 2:
        raise ValueError(f"{where}: argument 'd_model' must be even (sin and cos pairs); got {arguments['d_model']}")
    if "patch_size" in arguments and arguments["image_size"] % arguments["patch_size"]:
        raise ValueError(f"{where}: argument 'patch_size' must divide image_size = {arguments['image_size']}; "
                         f"got {arguments['patch_size']}")


def check_mask(where: str, mask: Any, scores_shape: tuple[int, ...], letters: str, reference: torch.Tensor,
               name: str = "mask") -> None:
    """A boolean mask (True = may attend) that broadcasts to the scores and leaves every query a key."""
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        raise TypeError(f"{where}: argument '{name}' must be a boolean tensor (True = may attend); "
                        f"got {_describe(mask)}")
    if mask.device != reference.device:
        raise TypeError(f"{where}: argument '{name}' is on {mask.device} but the inputs are on {reference.device}")
    try:
        fits = torch.broadcast_shapes(mask.shape, scores_shape) == scores_shape
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(f"{where}: argument '{name}' of shape {tuple(mask.shape)} does not broadcast to the "
                         f"scores' shape {letters} = {tuple(scores_shape)}")
    hidden = ~mask.any(dim=-1)
    if hidden.any():
        first = tuple(int(i) for i in hidden.nonzero()[0])
        raise ValueError(f"{where}: argument '{name}' hides every key from query {first} (an index into the "
                         f"mask); its attention weights would be 0/0 = NaN. Let every query see at least one key")


def checks_sdpa(fn: F) -> F:
    """Decorator for ``scaled_dot_product_attention(q, k, v, mask=None, dropout_p=0.0)``."""
    where = fn.__name__

    @functools.wraps(fn)
    def wrapper(q: Any, k: Any, v: Any, mask: Any = None, dropout_p: float = 0.0) -> Any:
        for name, value in (("q", q), ("k", k), ("v", v)):
            check_tensor(where, name, value, (None,) * max(getattr(value, "ndim", 2), 2), "(N, *, L, E)")
            check_like(where, name, value, q, "q is")
        if q.ndim < 2 or k.ndim != q.ndim or v.ndim != q.ndim or q.shape[-1] != k.shape[-1] \
                or k.shape[-2] != v.shape[-2] or not q.shape[:-2] == k.shape[:-2] == v.shape[:-2]:
            raise ValueError(f"{where}: need q (N, *, L, E), k (N, *, S, E), v (N, *, S, Ev) with the same leading "
                             f"axes, the same E for q and k and the same S for k and v; got shapes "
                             f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
        if isinstance(dropout_p, bool) or not isinstance(dropout_p, (int, float)) or not 0 <= dropout_p < 1:
            raise ValueError(f"{where}: argument 'dropout_p' must be a number in [0, 1); got {dropout_p!r}")
        if mask is not None:
            check_mask(where, mask, (*q.shape[:-1], k.shape[-2]), "(N, *, L, S)", q)
        return fn(q, k, v, mask, dropout_p)

    return wrapper  # type: ignore[return-value]


def checks_mask_builders(causal: Callable[..., Any], padding: Callable[..., Any]) -> tuple[Callable[..., Any], ...]:
    """``causal_mask(length, device)`` and ``padding_mask(lengths, max_length)`` with their inputs checked."""
    @functools.wraps(causal)
    def checked_causal(length: Any, device: Any = None) -> Any:
        check_size("causal_mask", "length", length)
        return causal(length, device)

    @functools.wraps(padding)
    def checked_padding(lengths: Any, max_length: Any) -> Any:
        check_size("padding_mask", "max_length", max_length)
        if not isinstance(lengths, torch.Tensor) or lengths.ndim != 1 or lengths.is_floating_point() \
                or lengths.is_complex() or lengths.dtype == torch.bool or (lengths.numel() and (
                    lengths.min() < 1 or lengths.max() > max_length)):
            raise ValueError(f"padding_mask: argument 'lengths' must be an integer tensor of shape (N,) with "
                             f"values in 1…{max_length}; got {_describe(lengths)}")
        return padding(lengths, max_length)

    return checked_causal, checked_padding


def check_sequence(where: str, name: str, value: Any, features: int, reference: torch.Tensor,
                   letters: str = "(N, T, E)", batch: int | None = None) -> None:
    """A batch-first float sequence ``(N, T, features)`` with at least one step, like ``reference``."""
    check_tensor(where, name, value, (batch, None, features), letters)
    if value.shape[1] == 0:
        raise ValueError(f"{where}: argument '{name}' must have at least one step; got shape {tuple(value.shape)}")
    check_like(where, name, value, reference, "the weights are")


def check_mha_input(module: Any, query: Any, key: Any, value: Any, mask: Any) -> None:
    """query (N, L, E), key and value (N, S, E), mask (L, S), (N, L, S) or (N, 1, S)."""
    where, weight = type(module).__name__, module.in_proj_weight
    check_sequence(where, "query", query, module.embed_dim, weight, "(N, L, E)")
    check_sequence(where, "key", key, module.embed_dim, weight, "(N, S, E)", batch=query.shape[0])
    check_sequence(where, "value", value, module.embed_dim, weight, "(N, S, E)", batch=query.shape[0])
    if value.shape != key.shape:
        raise ValueError(f"{where}: arguments 'key' and 'value' must have the same shape (N, S, E); "
                         f"got {tuple(key.shape)} and {tuple(value.shape)}")
    if mask is not None:
        if getattr(mask, "ndim", 2) not in (2, 3):
            raise ValueError(f"{where}: argument 'mask' must have shape (L, S), (N, L, S) or (N, 1, S); "
                             f"got {_describe(mask)}")
        check_mask(where, mask, (query.shape[0], query.shape[1], key.shape[1]), "(N, L, S)", query)


def check_additive_input(module: Any, query: Any, key: Any, value: Any, mask: Any) -> None:
    """query (N, L, Eq), key (N, S, Ek), value (N, S, Ev), mask broadcastable to (N, L, S)."""
    where, weight = type(module).__name__, module.w_q.weight
    check_sequence(where, "query", query, module.w_q.in_features, weight, "(N, L, Eq)")
    check_sequence(where, "key", key, module.w_k.in_features, weight, "(N, S, Ek)", batch=query.shape[0])
    check_tensor(where, "value", value, (query.shape[0], key.shape[1], None), "(N, S, Ev)")
    check_like(where, "value", value, weight, "the weights are")
    if mask is not None:
        check_mask(where, mask, (query.shape[0], query.shape[1], key.shape[1]), "(N, L, S)", query)


def check_layer_input(layer: Any, x: Any, memory: Any = None, **masks: Any) -> None:
    """An encoder/decoder layer or stack: x (N, T, E); a decoder also needs memory (N, S, E)."""
    where = type(layer).__name__
    weight = next(layer.parameters())
    check_sequence(where, "x", x, layer.d_model, weight)
    if "memory_mask" in masks or memory is not None:
        if memory is None:
            raise ValueError(f"{where}: argument 'memory' (the encoder's output (N, S, E)) is required")
        check_sequence(where, "memory", memory, layer.d_model, weight, "(N, S, E)", batch=x.shape[0])


def check_features_input(module: Any, x: Any) -> None:
    """LayerNorm / FeedForward / SinusoidalEncoding: a float tensor whose last axis is the feature axis."""
    where = type(module).__name__
    size = getattr(module, "normalized_shape", None) or module.d_model
    minimum_axes = 3 if where == "SinusoidalEncoding" else 1
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.ndim < minimum_axes or x.shape[-1] != size:
        shape = "(N, T, E)" if minimum_axes == 3 else "(*, D)"
        raise ValueError(f"{where}: argument 'x' must be a floating-point tensor of shape {shape} with "
                         f"{size} features; got {_describe(x)}")
    for param in module.parameters():
        check_like(where, "x", x, param, "the weights are")
        break


def check_tokens(where: str, name: str, tokens: Any, vocab_size: int, reference: torch.Tensor,
                 max_len: int | None = None) -> None:
    """Token ids: an integer tensor ``(N, T)``, T >= 1 (and <= max_len), values in 0…V−1, on the model's device."""
    if not isinstance(tokens, torch.Tensor) or tokens.dtype not in (torch.int64, torch.int32) or tokens.ndim != 2:
        raise TypeError(f"{where}: argument '{name}' must be an int64 tensor of token ids (N, T); "
                        f"got {_describe(tokens)}")
    if tokens.shape[1] == 0 or (max_len is not None and tokens.shape[1] > max_len):
        raise ValueError(f"{where}: argument '{name}' must have 1…{max_len or 'any'} steps; "
                         f"got shape {tuple(tokens.shape)}")
    if tokens.device != reference.device:
        raise TypeError(f"{where}: argument '{name}' is on {tokens.device} but the model is on {reference.device}")
    if tokens.numel() and (tokens.min() < 0 or tokens.max() >= vocab_size):
        raise ValueError(f"{where}: argument '{name}' must hold ids in 0…{vocab_size - 1}; "
                         f"got values in {int(tokens.min())}…{int(tokens.max())}")


def check_stack(stack: Any, kind: type, **arguments: Any) -> None:
    """TransformerEncoder/Decoder(layer, num_layers, norm)."""
    where = type(stack).__name__
    name, layer = next(iter(arguments.items()))
    if not isinstance(layer, kind):
        raise TypeError(f"{where}: argument '{name}' must be a {kind.__name__}; got {type(layer).__name__}")
    check_size(where, "num_layers", arguments["num_layers"])
    norm = arguments["norm"]
    if norm is not None and not isinstance(norm, torch.nn.Module):
        raise TypeError(f"{where}: argument 'norm' must be an nn.Module or None; got {type(norm).__name__}")


def check_seq2seq(model: Any, src: Any, tgt: Any = None, src_mask: Any = None, **options: Any) -> None:
    """Transformer.forward / encode / greedy_decode: source (and target) ids, BOS and the number of steps."""
    reference = next(model.parameters())
    check_tokens("Transformer", "src", src, model.src_vocab, reference)
    if tgt is not None:
        check_tokens("Transformer", "tgt", tgt, model.tgt_vocab, reference)
        if tgt.shape[0] != src.shape[0]:
            raise ValueError(f"Transformer: arguments 'src' and 'tgt' must have the same batch size N; "
                             f"got {src.shape[0]} and {tgt.shape[0]}")
    if "steps" in options:
        check_size("Transformer.greedy_decode", "steps", options["steps"], minimum=0)
        check_size("Transformer.greedy_decode", "bos_id", options["bos_id"], minimum=0)
        if options["bos_id"] >= model.tgt_vocab:
            raise ValueError(f"Transformer.greedy_decode: argument 'bos_id' must be < tgt_vocab = {model.tgt_vocab}; "
                             f"got {options['bos_id']}")


def check_model_tokens(model: Any, tokens: Any, mask: Any = None) -> None:
    """DecoderLM.forward / MaskedLM.encode: ids (N, T) with T <= the model's max_len."""
    check_tokens(type(model).__name__, "tokens", tokens, model.vocab_size, next(model.parameters()), model.max_len)


def check_generate(model: Any, prompt: Any, steps: Any, temperature: Any, generator: Any) -> None:
    """DecoderLM.generate."""
    where = f"{type(model).__name__}.generate"
    check_tokens(where, "prompt", prompt, model.vocab_size, next(model.parameters()))
    check_size(where, "steps", steps, minimum=0)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature < 1e308:
        raise ValueError(f"{where}: argument 'temperature' must be a finite number >= 0; got {temperature!r}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"{where}: argument 'generator' must be a torch.Generator or None; "
                        f"got {type(generator).__name__}")
