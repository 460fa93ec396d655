"""Architecture summaries: per-layer output shape, parameters and multiply-accumulates (chapter 10).

``summarize(model, (C, H, W))`` runs one forward pass on a single example with a forward hook on
every leaf module (a module without children) and records what it produced. The model may live
on the ``meta`` device: meta tensors carry shapes but no data, so a summary of VGG-16 allocates
nothing and takes milliseconds.

Multiply-accumulates (MACs) per example, counted for the layers that multiply weights by inputs:

- ``Conv2d``: H_out · W_out · F · (C / groups) · kh · kw (one MAC per weight per output position);
- ``Linear``: M · D.

Batch norm, activations and pooling cost a few operations per element and are left out, as in
the usual tables (torchvision's "GFLOPS" column counts the same MACs). The bias adds are left out too.

``receptive_field(specs)`` follows the receptive field r and the jump j (the input distance
between neighbouring output units) through a stack: r ← r + (k − 1)·d·j, j ← j·s.
``model_receptive_field(model, (C, H, W))`` does the same through any network, tracking every
tensor operation (branches and sums take the largest field of their inputs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, NamedTuple

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from dlcore.errors import ShapeError

__all__ = ["LayerRow", "ArchitectureSummary", "summarize", "layer_macs", "count_parameters",
           "ReceptiveStep", "receptive_field", "conv_specs", "model_receptive_field"]


class LayerRow(NamedTuple):
    """One leaf module call: qualified name, type, output shape (batch of one), parameters, MACs, and the
    receptive field of its output (input pixels per side; 0 once the maps are flattened or pooled away)."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    macs: int
    rf: int = 0


@dataclass(frozen=True)
class ArchitectureSummary:
    """The rows of :func:`summarize` and their totals."""

    rows: tuple[LayerRow, ...]
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    total_params: int
    total_macs: int
    receptive_field: "ReceptiveStep"

    def table(self, max_rows: int | None = None, kinds: Iterable[str] | None = None) -> str:
        """A fixed-width text table; ``kinds`` keeps only those module types (e.g. {"Conv2d", "Linear"})."""
        rows = [r for r in self.rows if kinds is None or r.kind in set(kinds)]
        shown = rows if max_rows is None or len(rows) <= max_rows else rows[:max_rows]
        lines = [f"{'layer':<24} {'type':<18} {'output shape':<14} {'params':>11} {'MACs':>13} {'RF':>4}"]
        for r in shown:
            shape = "×".join(str(s) for s in r.output_shape)
            field = str(r.rf) if r.rf else "-"
            lines.append(f"{r.name[-24:]:<24} {r.kind[:18]:<18} {shape:<14} {r.params:>11,} {r.macs:>13,} {field:>4}")
        if len(shown) < len(rows):
            lines.append(f"... {len(rows) - len(shown)} more rows")
        lines.append(f"{'total':<24} {'':<18} {'':<14} {self.total_params:>11,} {self.total_macs:>13,} "
                     f"{self.receptive_field.r:>4}")
        return "\n".join(lines)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters (works on the meta device: it reads shapes only)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def layer_macs(module: nn.Module, output: torch.Tensor) -> int:
    """Multiply-accumulates of one call of ``module`` for ONE example (output of shape (1, ...))."""
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return output[0].numel() * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, nn.Linear):
        return output[0].numel() * module.in_features
    return 0


def summarize(model: nn.Module, input_shape: tuple[int, ...]) -> ArchitectureSummary:
    """Run one example of shape ``input_shape`` (C, H, W) through ``model`` and tabulate its leaf modules.

    The model is put in evaluation mode for the pass (and restored). A module called twice gets two
    rows; its parameters are counted on the first. The same pass follows the receptive fields
    (see :func:`model_receptive_field`). Raises ShapeError (a ValueError) naming the last layer that
    ran when the shape does not fit (e.g. an image too small for the pools).
    """
    x = _example(model, input_shape)
    tracker = _FieldTracker(x)
    rows: list[LayerRow] = []
    seen: set[int] = set()
    names = {id(m): name for name, m in model.named_modules()}

    def hook(module, inputs, output):
        params = 0 if id(module) in seen else sum(p.numel() for p in module.parameters(recurse=False))
        seen.add(id(module))
        field = tracker.fields.get(id(output), (0, 0))[0]
        rows.append(LayerRow(names.get(id(module), "?"), type(module).__name__, tuple(output.shape[1:]), params,
                             layer_macs(module, output), field))

    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook) for m in leaves]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), tracker:
            out = model(x)
    except RuntimeError as error:
        raise ShapeError(f"summarize: input shape {tuple(input_shape)} does not fit the model (after "
                         f"{rows[-1].name if rows else 'the input'}): {error}") from None
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return ArchitectureSummary(tuple(rows), tuple(input_shape), tuple(out.shape[1:]), count_parameters(model),
                               sum(r.macs for r in rows), ReceptiveStep(*tracker.largest))


def _example(model: nn.Module, input_shape: tuple[int, ...]) -> torch.Tensor:
    """A batch of one zero example, on the model's device (meta for a meta model) and in its dtype."""
    if len(input_shape) != 3:
        raise ShapeError(f"summarize: input_shape must be (C, H, W) for one example, got {tuple(input_shape)}")
    first = next(model.parameters(), None)
    if first is None:
        return torch.zeros((1, *input_shape))
    dtype = first.dtype if first.dtype.is_floating_point else torch.float32
    return torch.zeros((1, *input_shape), device=first.device, dtype=dtype)


# ---------------------------------------------------------------- receptive fields

class ReceptiveStep(NamedTuple):
    """After one layer: receptive field r (input pixels per side) and jump j (input pixels between outputs)."""

    r: int
    j: int


def receptive_field(specs: Iterable[tuple]) -> list[ReceptiveStep]:
    """r and j after each layer of a stack of (kernel, stride[, padding[, dilation]]) specs.

    r_0 = 1, j_0 = 1; r_l = r_{l−1} + (k_l − 1) d_l j_{l−1}; j_l = j_{l−1} s_l. Padding moves the
    field's position, not its size.
    """
    r, j, steps = 1, 1, []
    for spec in specs:
        kernel, stride = int(spec[0]), int(spec[1])
        dilation = int(spec[3]) if len(spec) > 3 else 1
        if kernel < 1 or stride < 1 or dilation < 1:
            raise ValueError(f"receptive_field: kernel, stride and dilation must be ≥ 1, got {spec}")
        r, j = r + (kernel - 1) * dilation * j, j * stride
        steps.append(ReceptiveStep(r, j))
    return steps


def _pair(value) -> int:
    return int(value[0] if isinstance(value, (tuple, list)) else value)


def conv_specs(model: nn.Module) -> list[tuple[str, tuple[int, int, int, int]]]:
    """(name, (kernel, stride, padding, dilation)) of every Conv2d / MaxPool2d / AvgPool2d, in module order
    (meaningful for a plain stack; use :func:`model_receptive_field` for branches and shortcuts)."""
    specs = []
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            dilation = _pair(getattr(m, "dilation", 1))
            specs.append((name, (_pair(m.kernel_size), _pair(m.stride), _pair(m.padding), dilation)))
    return specs


def _adaptive_shape(x, size):
    size = (size, size) if isinstance(size, int) else tuple(size)
    return (*x.shape[:-2], *(x.shape[-2 + i] if s is None else s for i, s in enumerate(size)))


def _cat_shape(tensors, dim=0):
    shape = list(tensors[0].shape)
    shape[dim] = sum(t.shape[dim] for t in tensors)
    return tuple(shape)


# Output shapes of the ops whose meta kernels are written in Python: PyTorch's first use of those
# imports its compiler stack (seconds), which a shape-only pass does not need.
_META_SHAPES = {
    "batch_norm": lambda x, *a, **k: x.shape, "relu": lambda x, *a, **k: x.shape,
    "dropout": lambda x, *a, **k: x.shape, "local_response_norm": lambda x, *a, **k: x.shape,
    "cat": lambda tensors, dim=0, **k: _cat_shape(tensors, dim),
    "adaptive_avg_pool2d": lambda x, size, **k: _adaptive_shape(x, size),
    "linear": lambda x, weight, *a, **k: (*x.shape[:-1], weight.shape[0]),
    "add": lambda x, y, **k: torch.broadcast_shapes(x.shape, getattr(y, "shape", ())),
    "__add__": lambda x, y, **k: torch.broadcast_shapes(x.shape, getattr(y, "shape", ())),
}


def _on_meta(args) -> bool:
    first = args[0] if args else None
    if isinstance(first, (list, tuple)) and first:
        first = first[0]
    return isinstance(first, torch.Tensor) and first.is_meta


class _FieldTracker(TorchFunctionMode):
    """Attach (r, j) to every tensor a forward pass makes; windows grow r, everything else takes the max."""

    def __init__(self, x: torch.Tensor) -> None:
        super().__init__()
        self.fields = {id(x): (1, 1)}
        self.keep = [x]  # keep tensors alive so their ids are not reused
        self.largest = (1, 1)

    def _inputs(self, args, kwargs):
        flat = list(args) + list(kwargs.values())
        flat += [t for a in flat if isinstance(a, (list, tuple)) for t in a]
        return [self.fields[id(t)] for t in flat if isinstance(t, torch.Tensor) and id(t) in self.fields]

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name in _META_SHAPES and _on_meta(args):
            out = torch.empty(_META_SHAPES[name](*args, **kwargs), device="meta")
        else:
            out = func(*args, **kwargs)
        known = self._inputs(args, kwargs)
        if not known or not isinstance(out, torch.Tensor):
            return out
        r, j = max(known)
        if name in ("conv2d", "max_pool2d", "avg_pool2d", "max_pool2d_with_indices"):
            weight_or_kernel = args[1] if len(args) > 1 else kwargs.get("weight", kwargs.get("kernel_size"))
            kernel = weight_or_kernel.shape[-1] if isinstance(weight_or_kernel, torch.Tensor) else _pair(weight_or_kernel)
            stride = kwargs.get("stride", args[3] if name == "conv2d" and len(args) > 3 else
                                (args[2] if name != "conv2d" and len(args) > 2 else None))
            stride = (kernel if name != "conv2d" else 1) if stride in (None, ()) else _pair(stride)
            dilation = _pair(kwargs.get("dilation", args[5] if name == "conv2d" and len(args) > 5 else 1))
            r, j = r + (kernel - 1) * dilation * j, j * stride
        if out.ndim == 4:
            self.fields[id(out)] = (r, j)
            self.keep.append(out)
            self.largest = max(self.largest, (r, j))
        return out


def model_receptive_field(model: nn.Module, input_shape: tuple[int, ...]) -> ReceptiveStep:
    """The largest receptive field (and its jump) of any feature map in one forward pass of ``model``.

    The theoretical field: it may exceed the image (the padding is part of it). Works on meta models.
    """
    x = _example(model, input_shape)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), _FieldTracker(x) as tracker:
            model(x)
    finally:
        model.train(was_training)
    return ReceptiveStep(*tracker.largest)
