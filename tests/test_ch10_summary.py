"""The architecture summary: shapes, parameters, MACs and receptive fields, checked by hand on small cases."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlcore.errors import ShapeError
from dlcore.models.alexnet import AlexNet
from dlcore.models.googlenet import GoogLeNet
from dlcore.models.resnet import ResNet, SmallConvNet
from dlcore.models.summary import (conv_specs, count_parameters, model_receptive_field, receptive_field,
                                   summarize)
from dlcore.models.vgg import VGG


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def test_tiny_network_by_hand():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * 2 * 2, 4))
    summary = summarize(model, (1, 6, 6))
    rows = {r.name: r for r in summary.rows}
    # conv: 6 - 3 + 1 = 4 → (2, 4, 4); 2·1·3·3 weights + 2 biases; 4·4 positions × 2 filters × 9 products
    assert rows["0"].output_shape == (2, 4, 4) and rows["0"].params == 20 and rows["0"].macs == 4 * 4 * 2 * 9
    assert rows["2"].output_shape == (2, 2, 2) and rows["2"].macs == 0
    # linear 8 → 4: 32 weights + 4 biases, 32 MACs
    assert rows["4"].params == 36 and rows["4"].macs == 32
    assert summary.total_params == 56 and summary.total_macs == 288 + 32
    assert summary.output_shape == (4,)
    # receptive field: conv 3 → 3; pool 2 (stride 2) → 3 + 1 = 4
    assert rows["0"].rf == 3 and rows["2"].rf == 4 and summary.receptive_field.r == 4
    assert "total" in summary.table() and "56" in summary.table()


def test_grouped_and_strided_convolution_by_hand():
    model = nn.Sequential(nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, bias=False))
    row = summarize(model, (4, 7, 5)).rows[0]
    # output ⌊(7 + 2 - 3)/2⌋ + 1 = 4 by ⌊(5 + 2 - 3)/2⌋ + 1 = 3; each filter sees 4/2 = 2 channels
    assert row.output_shape == (6, 4, 3)
    assert row.params == 6 * 2 * 9
    assert row.macs == 4 * 3 * 6 * 2 * 9


def test_a_module_called_twice_counts_its_parameters_once():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 1)

        def forward(self, x):
            return self.conv(self.conv(x))

    summary = summarize(Twice(), (2, 3, 3))
    assert [r.params for r in summary.rows] == [6, 0]
    assert summary.total_params == 6 and summary.total_macs == 2 * 9 * 2 * 2


# MACs of the reference networks as published with torchvision's weights ("GFLOPS", which count MACs)
PUBLISHED_GMACS = [(AlexNet, 0.71), (lambda: VGG(11), 7.61), (lambda: VGG(16), 15.47), (GoogLeNet, 1.50),
                   (lambda: ResNet(18), 1.81), (lambda: ResNet(34), 3.66), (lambda: ResNet(50), 4.09)]


@pytest.mark.parametrize("build, gmacs", PUBLISHED_GMACS)
def test_meta_summaries_reproduce_the_published_compute(build, gmacs):
    with torch.device("meta"):
        model = build()
    summary = summarize(model, (3, 224, 224))
    assert round(summary.total_macs / 1e9, 2) == gmacs
    assert summary.total_params == count_parameters(model)
    assert summary.output_shape == (1000,)


def test_receptive_field_recurrence_by_hand():
    # two 3×3: 3, 5 (one 5×5's field with fewer weights); three: 7
    assert [s.r for s in receptive_field([(3, 1)] * 3)] == [3, 5, 7]
    # 3×3, pool 2 stride 2, 3×3: 3, 4, 4 + 2·2 = 8
    assert receptive_field([(3, 1), (2, 2), (3, 1)]) == [(3, 1), (4, 2), (8, 2)]
    # dilation 2 spreads a 3×3 kernel over 5 pixels
    assert receptive_field([(3, 1, 2, 2)])[0].r == 5
    with pytest.raises(ValueError, match="must be ≥ 1"):
        receptive_field([(0, 1)])


def test_known_receptive_fields_of_classic_networks():
    with torch.device("meta"):
        vgg, resnet18, resnet50, alexnet = VGG(16), ResNet(18), ResNet(50), AlexNet()
    assert receptive_field(spec for _, spec in conv_specs(vgg.features))[-1].r == 212
    assert model_receptive_field(vgg, (3, 224, 224)).r == 212
    assert model_receptive_field(alexnet, (3, 224, 224)) == (195, 32)
    assert model_receptive_field(resnet18, (3, 224, 224)).r == 435
    assert model_receptive_field(resnet50, (3, 224, 224)).r == 427


def _empirical_field(model, size):
    """Width of the input patch that the centre output pixel depends on (gradient support)."""
    x = torch.rand(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    out = model(x)
    out[0, :, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
    columns = (x.grad[0].abs().sum(dim=(0, 1)) > 0).nonzero().flatten()
    return int(columns.max() - columns.min() + 1)


def test_theoretical_field_equals_the_gradient_support():
    torch.manual_seed(0)
    stack = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(3, 3, 5, padding=2),
                          nn.Tanh(), nn.Conv2d(3, 2, 3, stride=2, padding=1)).double()
    assert model_receptive_field(stack, (1, 48, 48)).r == _empirical_field(stack, 48) == 3 + 1 + 4 * 2 + 2 * 2
    small = SmallConvNet(3, batch_norm=False).double()
    body = nn.Sequential(small.stem, small.blocks)
    assert model_receptive_field(body, (1, 64, 64)).r == _empirical_field(body, 64)


def test_input_that_does_not_fit_is_reported():
    with torch.device("meta"):
        model = AlexNet()
    with pytest.raises(ShapeError, match=r"summarize: input shape \(3, 16, 16\) does not fit"):
        summarize(model, (3, 16, 16))
    with pytest.raises(ShapeError, match=r"input_shape must be \(C, H, W\) for one example"):
        summarize(model, (224, 224))
