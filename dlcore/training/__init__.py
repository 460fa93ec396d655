"""Training deep networks (chapter 07): one loop for scratch and PyTorch models.

- ``loop``      Trainer / train / measure: the loop, per-layer capture, clipping, early stopping
- ``events``    the named events the loop emits ("train_start", "step_end", "epoch_end", "train_end")
- ``history``   History: losses per step and epoch, per-layer snapshots
- ``stats``     the per-layer statistics (means, spreads, fixed-bin histograms, dead units, update ratios)
- ``models``    deep MLPs by depth / activation / init / norm / dropout / residual (``torch_models``: in PyTorch)
- ``kernel_layers`` batch norm and dropout layers that run given functions (the learner's, in chapter 07)
- ``scratch_adapter``, ``torch_adapter``: how the loop drives each kind of model
- ``batches``   index_batches: one shuffle per epoch, cut into mini-batches (NumPy or torch generator)
- ``torch_fit`` fit: the lean PyTorch loop of the chapters after 07 (shuffle, step per batch, epoch means)

Importing this package does not import torch or matplotlib.
"""

from dlcore.scratch.clipping import clip_grad_norm, clip_grad_value, total_grad_norm
from dlcore.training.events import EVENT_NAMES, EventBus, TrainingEvent
from dlcore.training.history import History
from dlcore.training.loop import Trainer, measure, train
from dlcore.training.models import LayerKernels, Residual, mlp_plan, scratch_mlp
from dlcore.training.stats import ACTIVATION_BINS, GRADIENT_LOG_BINS, Snapshot

__all__ = [
    "ACTIVATION_BINS", "EVENT_NAMES", "EventBus", "GRADIENT_LOG_BINS", "History", "LayerKernels", "Residual", "Snapshot",
    "Trainer", "TrainingEvent", "clip_grad_norm", "clip_grad_value", "measure", "mlp_plan", "scratch_mlp",
    "total_grad_norm", "train",
]
