"""Magnitude pruning, global and layer-wise, with ``torch.nn.utils.prune`` (chapter 15).

Both kinds remove the weights of *smallest* magnitude |w|; they differ in
where the ranking happens:

- **layer-wise** (local): every layer loses the same fraction of its own weights;
- **global**: all weights of all pruned layers are ranked together and the
  smallest fraction overall is removed, so layers with many small weights lose
  more and small, important layers (often the output layer) lose less.

PyTorch's pruning *masks*: the layer keeps ``weight_orig`` and a 0/1
``weight_mask`` and computes ``weight = weight_orig * weight_mask`` before each
forward. Nothing gets smaller or faster by that; see :func:`storage_bytes`.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune

__all__ = ["prunable", "prune_global", "prune_layerwise", "prune_with_masks", "make_permanent", "LayerSparsity",
           "sparsity_report", "global_magnitude_masks", "layerwise_magnitude_masks", "storage_bytes"]


def prunable(model: nn.Module) -> list[tuple[nn.Module, str]]:
    """(module, "weight") for every Linear and Conv2d layer, in order."""
    return [(m, "weight") for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def prune_global(model: nn.Module, amount: float) -> nn.Module:
    """A copy of ``model`` with the fraction ``amount`` of all its weights of smallest |w| masked to zero."""
    pruned = copy.deepcopy(model)
    prune.global_unstructured(prunable(pruned), pruning_method=prune.L1Unstructured, amount=float(amount))
    return pruned


def prune_layerwise(model: nn.Module, amount: float) -> nn.Module:
    """A copy of ``model`` with the fraction ``amount`` of each layer's weights of smallest |w| masked to zero."""
    pruned = copy.deepcopy(model)
    for module, name in prunable(pruned):
        prune.l1_unstructured(module, name, amount=float(amount))
    return pruned


def prune_with_masks(model: nn.Module, amount: float, masks_of) -> nn.Module:
    """A copy of ``model`` pruned with the masks that ``masks_of(weights, amount)`` computes.

    ``masks_of`` takes the list of the prunable layers' weights as NumPy arrays
    and returns one 0/1 array per layer (:func:`global_magnitude_masks`, or a
    learner's version of it); each is installed with ``prune.custom_from_mask``,
    so the copy holds ``weight_orig`` and ``weight_mask`` as with :func:`prune_global`.
    """
    pruned = copy.deepcopy(model)
    layers = prunable(pruned)
    weights = [getattr(module, name).detach().cpu().numpy() for module, name in layers]
    for (module, name), mask in zip(layers, masks_of(weights, float(amount))):
        weight = getattr(module, name)
        prune.custom_from_mask(module, name, mask=torch.as_tensor(np.asarray(mask), dtype=weight.dtype,
                                                                  device=weight.device))
    return pruned


def make_permanent(model: nn.Module) -> nn.Module:
    """Fold each mask into its weight (``prune.remove``) in place: back to one dense ``weight`` per layer."""
    for module, name in prunable(model):
        if prune.is_pruned(module) and hasattr(module, name + "_mask"):
            prune.remove(module, name)
    return model


class LayerSparsity(NamedTuple):
    """One layer's weight count and how many of its weights are exactly zero."""

    name: str
    num_weights: int
    num_zeros: int

    @property
    def sparsity(self) -> float:
        return self.num_zeros / self.num_weights


def sparsity_report(model: nn.Module) -> list[LayerSparsity]:
    """Per prunable layer (named as in ``model.named_modules()``), the zeros in its effective weight."""
    report = []
    for name, module in model.named_modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            weight = module.weight.detach()
            report.append(LayerSparsity(name, weight.numel(), int((weight == 0).sum())))
    return report


def global_magnitude_masks(weights: list[np.ndarray], amount: float) -> list[np.ndarray]:
    """Reference for exercise 15.1: 0/1 masks removing the round(amount * total) smallest |w| over all arrays.

    Same rule as ``prune.global_unstructured(..., L1Unstructured)``: rank the
    magnitudes of every weight of every layer together.
    """
    magnitudes = np.concatenate([np.abs(w).ravel() for w in weights])  # (total,)
    k = int(round(amount * magnitudes.size))
    keep = np.ones(magnitudes.size)
    keep[np.argsort(magnitudes, kind="stable")[:k]] = 0.0
    masks, start = [], 0
    for w in weights:
        masks.append(keep[start:start + w.size].reshape(w.shape))
        start += w.size
    return masks


def layerwise_magnitude_masks(weights: list[np.ndarray], amount: float) -> list[np.ndarray]:
    """0/1 masks removing round(amount * size) smallest |w| of each array separately (``prune.l1_unstructured``)."""
    return [global_magnitude_masks([w], amount)[0] for w in weights]


def storage_bytes(weight: torch.Tensor, value_bits: int = 32, index_bits: int = 32) -> dict[str, int]:
    """Bytes to store a 2-D weight densely, and in compressed sparse row (CSR) form.

    CSR keeps each non-zero's value and column index, plus one row pointer per
    row (and one more): nnz * (value + index) + (rows + 1) * index bits. It
    beats dense storage only when nnz / numel < value / (value + index), i.e.
    above 50% sparsity for float32 values with 32-bit indices.
    """
    if weight.dim() != 2:
        weight = weight.reshape(weight.shape[0], -1)  # (out, in * kh * kw) for a convolution
    rows, _ = weight.shape
    nnz = int((weight != 0).sum())
    return {"dense": weight.numel() * value_bits // 8,
            "csr": (nnz * (value_bits + index_bits) + (rows + 1) * index_bits) // 8}
