"""PyTorch models by family, one module per family (e.g. ``dlcore.models.lenet``).

Import the module you need: this package imports nothing by itself, so that
``import dlcore.models`` does not import torch.
"""
