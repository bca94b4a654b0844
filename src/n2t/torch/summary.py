"""Model summaries: parameter count, float32 size, layer-by-layer shape trace, multiply-accumulate count, depth.

Build big models on the meta device (``with torch.device("meta"): model = vgg16()``): shapes and counts
come out exactly, and no weight memory is allocated and no arithmetic is done.
"""

from __future__ import annotations

import functools
import html
from typing import Iterator, Sequence, TypeVar

from torch.overrides import TorchFunctionMode

# --8<-- [start:imports]
from typing import Any, Callable

import torch
from torch import nn
# --8<-- [end:imports]

__all__ = ["count_parameters", "model_size_mb", "count_weight_layers", "forward_zeros", "trace", "conv_macs",
           "linear_macs", "count_flops", "weight_depth", "render_table"]

Fn = TypeVar("Fn", bound=Callable[..., Any])


def _checked_model_and_shape(fn: Fn, rank: int | None = 4) -> Fn:
    """Decorator: ``model`` must be an ``nn.Module`` and ``input_shape`` positive ints, ``rank`` of them
    (any number when ``rank`` is None)."""
    expected = "(N, C, H, W)" if rank == 4 else "(N, ...)"

    @functools.wraps(fn)
    def wrapper(model: Any, input_shape: Any, *args: Any, **kwargs: Any) -> Any:
        _check_module(fn.__name__, model)
        shape_ok = isinstance(input_shape, (tuple, list, torch.Size)) and len(input_shape) == (rank or len(input_shape))
        if not shape_ok or not input_shape or not all(
                isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in input_shape):
            raise ValueError(f"{fn.__name__}: argument 'input_shape' must be {rank or 'some'} positive ints "
                             f"{expected}; got {input_shape!r}")
        return fn(model, tuple(input_shape), *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _check_module(where: str, model: Any) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{where}: argument 'model' must be a torch.nn.Module; got {type(model).__name__}")


def _checked_model(fn: Fn) -> Fn:
    @functools.wraps(fn)
    def wrapper(model: Any) -> Any:
        _check_module(fn.__name__, model)
        return fn(model)

    return wrapper  # type: ignore[return-value]


# --8<-- [start:count-parameters]
def count_parameters(model: nn.Module) -> int:
    """Number of scalars in the model's parameters (buffers such as batch-norm running means excluded)."""
    return sum(p.numel() for p in model.parameters())


def model_size_mb(model: nn.Module) -> float:
    """Size of the parameters stored as float32, in MiB: 4 bytes each, divided by 2**20 = 1,048,576.

    Decimal megabytes (bytes / 10**6) give numbers 4.9 % larger: 4.76 MiB is 4.99 MB.
    """
    return count_parameters(model) * 4 / 2**20


def count_weight_layers(model: nn.Module) -> int:
    """Number of ``nn.Conv2d`` and ``nn.Linear`` modules, wherever they sit (branches and shortcuts included)."""
    return sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules())
# --8<-- [end:count-parameters]


count_parameters = _checked_model(count_parameters)
model_size_mb = _checked_model(model_size_mb)
count_weight_layers = _checked_model(count_weight_layers)


# --8<-- [start:forward-zeros]
def forward_zeros(model: nn.Module, input_shape: tuple[int, ...]) -> torch.Tensor:
    """One forward pass of zeros in evaluation mode (dropout and auxiliary heads off), mode restored.

    The zeros take the device and dtype of the model's first parameter: on the meta device (a model built
    under ``with torch.device("meta"):``) nothing is computed, yet every shape is.
    """
    tensors = [*model.parameters(), *model.buffers()]
    like = tensors[0] if tensors else torch.zeros(())  # zeros of the model's device and dtype
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(torch.zeros(input_shape, device=like.device, dtype=like.dtype))
    finally:
        model.train(was_training)
# --8<-- [end:forward-zeros]


forward_zeros = _checked_model_and_shape(forward_zeros, rank=None)


# --8<-- [start:trace]
def layer_row(name: str, module: nn.Module, output: Any) -> dict[str, Any]:
    """One row of a trace: the module's dotted name, class, output shape and parameter count."""
    shape = tuple(output.shape) if isinstance(output, torch.Tensor) else None
    return {"name": name, "type": type(module).__name__, "output_shape": shape,
            "parameters": sum(p.numel() for p in module.parameters())}


def trace(model: nn.Module, input_shape: tuple[int, int, int, int]) -> list[dict[str, Any]]:
    """Run one batch of zeros through the model and record every leaf module as it is called.

    Forward hooks on the leaf modules (those without children) see each layer's output; operations
    written in ``forward`` (``torch.cat``, ``F.relu``, ``+``) are not modules and do not appear.

    Args:
        model: any ``nn.Module`` taking images; build it on ``torch.device("meta")`` to trace for free.
        input_shape: ``(N, C, H, W)``.

    Returns:
        one dict per call, in call order: ``name`` (dotted path), ``type`` (class name), ``output_shape``
        (tuple) and ``parameters`` (int).
    """
    rows: list[dict[str, Any]] = []
    leaves = [(name, m) for name, m in model.named_modules() if not list(m.children())]
    handles = [m.register_forward_hook(lambda module, inputs, output, name=name: rows.append(
        layer_row(name, module, output))) for name, m in leaves]
    try:
        forward_zeros(model, input_shape)
    finally:
        for handle in handles:
            handle.remove()
    return rows
# --8<-- [end:trace]


trace = _checked_model_and_shape(trace)


# --8<-- [start:count-flops]
def conv_macs(layer: nn.Conv2d, output: torch.Tensor) -> int:
    """Each of the N · C_out · H_out · W_out outputs sums (C_in / groups) · kH · kW products."""
    kernel_h, kernel_w = layer.kernel_size
    return output.numel() * (layer.in_channels // layer.groups) * kernel_h * kernel_w


def linear_macs(layer: nn.Linear, output: torch.Tensor) -> int:
    """Each of the N · D_out outputs sums D_in products."""
    return output.numel() * layer.in_features


def count_flops(model: nn.Module, input_shape: tuple[int, int, int, int]) -> int:
    """Multiply-accumulate operations (MACs) of one forward pass, counting Conv2d and Linear layers only.

    One MAC is a multiply and an add, so FLOPs ≈ 2 × MACs; published "FLOPs" of CNNs (e.g. 15.5 G for
    VGG-16) are usually MACs. Biases, batch norm, activations and pooling are left out (a few percent).

    Args:
        model: any ``nn.Module``; build it on ``torch.device("meta")`` to count for free.
        input_shape: ``(N, C, H, W)``; the count covers all N images.
    """
    macs: list[int] = []
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    handles = [m.register_forward_hook(lambda layer, inputs, output: macs.append(conv_macs(layer, output)))
               for m in convs]
    handles += [m.register_forward_hook(lambda layer, inputs, output: macs.append(linear_macs(layer, output)))
                for m in linears]
    try:
        forward_zeros(model, input_shape)
    finally:
        for handle in handles:
            handle.remove()
    return sum(macs)
# --8<-- [end:count-flops]


count_flops = _checked_model_and_shape(count_flops)


def _tensors(value: Any) -> Iterator[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


class _DepthMode(TorchFunctionMode):
    """Tags every tensor made during a forward pass with the number of convs and linear maps on the
    longest path from the input to it."""

    WEIGHTED = (torch.nn.functional.conv2d, torch.nn.functional.linear)

    def __init__(self) -> None:
        super().__init__()
        self.depth: dict[int, int] = {}
        self.alive: list[torch.Tensor] = []  # keeps ids unique while the pass runs

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        depth = max((self.depth.get(id(t), 0) for t in _tensors((args, kwargs))), default=0)
        if func in self.WEIGHTED:
            depth += 1
        for tensor in _tensors(out):
            self.depth[id(tensor)] = depth
            self.alive.append(tensor)
        return out


@_checked_model_and_shape
def weight_depth(model: nn.Module, input_shape: tuple[int, int, int, int]) -> int:
    """Depth in weighted layers: convs and linear maps on the longest path from input to output.

    This is the number in a network's name (VGG-16, ResNet-152, DenseNet-121; 22 for GoogLeNet): layers
    side by side in a module's branches count once, a 1x1 projection shortcut does not lengthen the path.

    Args:
        model: a network returning one tensor in evaluation mode; best built on ``torch.device("meta")``.
        input_shape: ``(N, C, H, W)``.
    """
    mode = _DepthMode()
    with mode:
        output = forward_zeros(model, input_shape)
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"weight_depth: argument 'model' must return one tensor in evaluation mode; "
                        f"got {type(output).__name__}")
    return mode.depth[id(output)]


def render_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, fmt: str = "markdown",
                 formats: dict[str, str] | None = None) -> str:
    """Render rows (dicts) as a Markdown or HTML table.

    Args:
        rows: one dict per table row.
        columns: keys to show, in order (default: the first row's keys).
        fmt: ``"markdown"`` or ``"html"``.
        formats: per column, a format spec such as ``",d"`` or ``".2f"``; others use ``str``.

    Returns:
        the table as text; numbers are right-aligned in Markdown.
    """
    if fmt not in ("markdown", "html"):
        raise ValueError(f"render_table: argument 'fmt' must be 'markdown' or 'html'; got {fmt!r}")
    if not rows:
        raise ValueError("render_table: argument 'rows' must hold at least one row; got an empty sequence")
    columns = list(columns) if columns is not None else list(rows[0])
    missing = [c for c in columns if any(c not in row for row in rows)]
    if missing:
        raise ValueError(f"render_table: argument 'columns' names keys missing from some rows: {missing}")
    formats = formats or {}

    def cell(row: dict[str, Any], column: str) -> str:
        value = row[column]
        return format(value, formats[column]) if column in formats else str(value)

    body = [[cell(row, c) for c in columns] for row in rows]
    numeric = [all(isinstance(row[c], (int, float)) for row in rows) for c in columns]
    if fmt == "html":
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        lines = ["<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in values) + "</tr>" for values in body]
        return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(lines) + "\n</tbody>\n</table>"
    align = ["---:" if is_number else "---" for is_number in numeric]
    lines = ["| " + " | ".join(values) + " |" for values in [columns, align, *body]]
    return "\n".join(lines)
