"""Chapter 09: the PyTorch LeNet-5 (its shapes, its parameter count, its errors)."""

from __future__ import annotations

import pytest
import torch

from dlcore.models.lenet import LeNet5, lenet5_parameter_count


def test_default_lenet_has_the_classic_parameter_count():
    model = LeNet5()
    assert sum(p.numel() for p in model.parameters()) == 61_706
    assert sum(lenet5_parameter_count().values()) == 61_706


@pytest.mark.parametrize("input_size", [32, 28])
def test_shapes_are_the_papers_for_both_input_sizes(input_size):
    torch.manual_seed(0)
    model = LeNet5(input_size=input_size)
    x = torch.randn(3, 1, input_size, input_size)
    maps = model.feature_maps(x)
    assert {name: tuple(t.shape[1:]) for name, t in maps.items()} == {
        "C1": (6, 28, 28), "S2": (6, 14, 14), "C3": (16, 10, 10), "S4": (16, 5, 5), "C5": (120, 1, 1)}
    assert model(x).shape == (3, 10)
    assert sum(p.numel() for p in model.parameters()) == 61_706


def test_colour_input_and_other_class_counts_change_only_first_and_last_layers():
    model = LeNet5(num_classes=5, in_channels=3)
    counts = lenet5_parameter_count(num_classes=5, in_channels=3)
    assert sum(p.numel() for p in model.parameters()) == sum(counts.values())
    assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 5)


def test_bad_arguments_and_inputs_explain_themselves():
    with pytest.raises(ValueError, match="input_size must be 32"):
        LeNet5(input_size=30)
    with pytest.raises(ValueError, match="activation must be one of"):
        LeNet5(activation="gelu")
    with pytest.raises(ValueError, match=r"expected \(N, 1, 32, 32\); add a channel axis"):
        LeNet5()(torch.zeros(2, 32, 32))
