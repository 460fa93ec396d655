"""Chapter 10's networks: parameter counts equal the reference implementations', blocks behave as defined.

The reference totals are torchvision's (at 1000 classes), which is not installed here, so they are
stated as numbers: AlexNet 61,100,840; VGG-11 132,863,336; VGG-16 138,357,544; GoogLeNet without
auxiliary classifiers 6,624,904; ResNet-18 11,689,512; ResNet-34 21,797,672; ResNet-50 25,557,032.
AlexNet's is also counted by hand below, layer by layer. Full-size models are built on the meta
device: no memory is allocated.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlcore.models.alexnet import AlexNet
from dlcore.models.blocks import BasicBlock, Bottleneck, ConvBNReLU, Inception, conv_out_size
from dlcore.models.googlenet import GoogLeNet
from dlcore.models.lenet import LeNet5
from dlcore.models.resnet import ResNet, SmallConvNet, plain_and_residual, weight_gradient_norms
from dlcore.models.summary import count_parameters
from dlcore.models.vgg import VGG


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


REFERENCE_COUNTS = {
    "alexnet": (lambda: AlexNet(), 61_100_840),
    "vgg11": (lambda: VGG(11), 132_863_336),
    "vgg16": (lambda: VGG(16), 138_357_544),
    "googlenet": (lambda: GoogLeNet(), 6_624_904),
    "resnet18": (lambda: ResNet(18), 11_689_512),
    "resnet34": (lambda: ResNet(34), 21_797_672),
    "resnet50": (lambda: ResNet(50), 25_557_032),
}


def on_meta(build):
    with torch.device("meta"):
        return build()


@pytest.mark.parametrize("name", list(REFERENCE_COUNTS))
def test_parameter_count_equals_the_reference_implementation(name):
    build, expected = REFERENCE_COUNTS[name]
    model = on_meta(build)
    assert all(p.is_meta for p in model.parameters())  # nothing was allocated
    assert count_parameters(model) == expected


def test_lenet5_from_chapter_09_has_61706_parameters():
    assert count_parameters(LeNet5()) == 61_706


def test_alexnet_count_by_hand():
    def conv(c, f, k, groups=1):
        return f * (c // groups) * k * k + f

    def linear(d, m):
        return d * m + m

    torchvision_layout = (conv(3, 64, 11) + conv(64, 192, 5) + conv(192, 384, 3) + conv(384, 256, 3)
                          + conv(256, 256, 3) + linear(9216, 4096) + linear(4096, 4096) + linear(4096, 1000))
    paper_layout = (conv(3, 96, 11) + conv(96, 256, 5, 2) + conv(256, 384, 3) + conv(384, 384, 3, 2)
                    + conv(384, 256, 3, 2) + linear(9216, 4096) + linear(4096, 4096) + linear(4096, 1000))
    assert torchvision_layout == 61_100_840 == count_parameters(on_meta(AlexNet))
    assert paper_layout == 60_965_224 == count_parameters(on_meta(lambda: AlexNet(variant="original")))


def test_googlenet_variants_and_vgg16_first_linear_layer_share():
    assert count_parameters(on_meta(lambda: GoogLeNet(five_by_five=True, batch_norm=False))) == 6_998_552
    filters = 64 * 2 + 128 * 2 + 256 * 3 + 512 * 6
    vgg_bn = count_parameters(on_meta(lambda: VGG(16, batch_norm=True)))
    assert vgg_bn == 138_357_544 - filters + 2 * filters == 138_365_992 - filters  # torchvision keeps the biases
    vgg = on_meta(lambda: VGG(16))
    assert count_parameters(vgg.classifier[0]) == 25088 * 4096 + 4096
    assert count_parameters(vgg.classifier[0]) / count_parameters(vgg) == pytest.approx(0.7427, abs=1e-4)


@pytest.mark.parametrize("build, size", [(AlexNet, 224), (lambda: AlexNet(variant="original"), 227),
                                         (lambda: VGG(11), 224), (GoogLeNet, 224), (lambda: ResNet(50), 224)])
def test_full_models_map_an_image_to_1000_logits_on_meta(build, size):
    model = on_meta(build).eval()
    assert model(torch.zeros(2, 3, size, size, device="meta")).shape == (2, 1000)


def test_small_models_run_and_learn_a_batch_on_cpu():
    torch.manual_seed(0)
    x, y = torch.randn(4, 1, 16, 16), torch.tensor([0, 1, 2, 3])
    for model in (SmallConvNet(3), SmallConvNet(4, residual=False), VGG(config=[8, "M", 16, "M"], num_classes=10,
                                                                         in_channels=1, hidden=32, pooled_size=2)):
        assert model(x).shape == (4, 10)
        names, norms = weight_gradient_norms(model, x, y)
        assert len(names) == len(norms) and (norms > 0).all()


def test_plain_and_residual_small_nets_have_the_same_layers_apart_from_projections():
    residual, plain = SmallConvNet(6, residual=True), SmallConvNet(6, residual=False)
    projections = sum(count_parameters(m) for n, m in residual.named_modules() if n.endswith("shortcut"))
    assert count_parameters(residual) - count_parameters(plain) == projections > 0
    assert len(weight_gradient_norms(plain, torch.randn(2, 1, 8, 8), torch.tensor([0, 1]))[0]) == 2 * 6 + 2


def test_plain_and_residual_twins_share_every_common_weight_and_differ_in_the_shortcuts():
    state = torch.random.get_rng_state()
    plain, residual = plain_and_residual(6, seed=3)
    again, _ = plain_and_residual(6, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), again.state_dict().values()))
    assert torch.equal(torch.random.get_rng_state(), state)  # the global generator is left alone
    assert torch.get_default_dtype() == torch.float32
    shared = residual.state_dict()
    for name, value in plain.state_dict().items():
        assert value.dtype == shared[name].dtype
        assert torch.equal(value, shared[name]), name
    assert next(plain.parameters()).dtype == torch.float64 and next(plain.parameters()).data_ptr() != \
        next(residual.parameters()).data_ptr()  # copies, not the same tensors
    assert set(shared) - set(plain.state_dict()) and all("shortcut" in n for n in set(shared) - set(plain.state_dict()))
    x = torch.randn(2, 1, 8, 8, dtype=torch.float64)
    assert not torch.allclose(plain(x), residual(x))
    other, _ = plain_and_residual(6, seed=4)
    assert not torch.equal(plain.stem[0].weight, other.stem[0].weight)


def test_plain_and_residual_draws_in_float64_and_rounds_for_float32():
    plain32, residual32 = plain_and_residual(2, seed=0, dtype=torch.float32, batch_norm=False)
    assert {p.dtype for p in plain32.parameters()} == {p.dtype for p in residual32.parameters()} == {torch.float32}
    plain64, _ = plain_and_residual(2, seed=0, batch_norm=False)
    weight = plain64.stem[0].weight
    assert (weight.float().double() != weight).float().mean() > 0.9  # float64 draws, not float32 ones cast up
    for a, b in zip(plain32.parameters(), plain64.parameters()):
        assert torch.equal(a, b.float())  # the same weights, rounded


@pytest.mark.parametrize("dtype", [torch.float16, torch.int64, "float64"])
def test_plain_and_residual_names_a_bad_dtype(dtype):
    with pytest.raises(ValueError, match="plain_and_residual: dtype must be torch.float32 or torch.float64"):
        plain_and_residual(2, dtype=dtype)
    assert torch.get_default_dtype() == torch.float32


def test_basic_block_is_relu_of_branch_plus_identity():
    torch.manual_seed(1)
    block = BasicBlock(4, 4).eval()
    x = torch.randn(2, 4, 5, 6)
    branch = block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x)))))
    torch.testing.assert_close(block(x), torch.relu(branch + x))
    assert isinstance(block.shortcut, nn.Identity)
    assert BasicBlock(4, 4, residual=False).shortcut is None


def test_blocks_downsample_with_a_projection_and_count_as_expected():
    block = BasicBlock(64, 128, stride=2)
    assert block(torch.randn(1, 64, 9, 9)).shape == (1, 128, 5, 5)
    # 3×3 64→128, 3×3 128→128, 1×1 64→128 projection, three batch norms (γ and β)
    assert count_parameters(block) == 9 * 64 * 128 + 9 * 128 * 128 + 64 * 128 + 2 * 3 * 128
    bottleneck = Bottleneck(256, 64)
    assert bottleneck(torch.randn(1, 256, 4, 4)).shape == (1, 256, 4, 4)
    assert count_parameters(bottleneck) == 256 * 64 + 9 * 64 * 64 + 64 * 256 + 2 * (64 + 64 + 256)


def test_inception_concatenates_its_branches():
    module = Inception(192, 64, 96, 128, 16, 32, 32)
    assert module.out_channels == 256
    assert module(torch.randn(1, 192, 7, 9)).shape == (1, 256, 7, 9)
    five = Inception(192, 64, 96, 128, 16, 32, 32, five_by_five=True)
    assert count_parameters(five) - count_parameters(module) == (25 - 9) * 16 * 32


def test_conv_bn_relu_drops_the_bias_under_batch_norm():
    assert ConvBNReLU(3, 8, 3)[0].bias is None
    assert ConvBNReLU(3, 8, 3, batch_norm=False)[0].bias is not None


def test_conv_out_size_matches_pytorch():
    for size, k, s, p, ceil in [(224, 11, 4, 2, False), (227, 11, 4, 0, False), (112, 3, 2, 1, False),
                                (55, 3, 2, 0, True), (14, 3, 2, 0, True), (8, 3, 1, 1, False)]:
        pool = nn.MaxPool2d(k, s, p, ceil_mode=ceil) if p <= k // 2 else None
        out = pool(torch.zeros(1, 1, size, size)).shape[-1] if pool else None
        assert out is None or conv_out_size(size, k, s, p, ceil_mode=ceil) == out
    with pytest.raises(ValueError, match="does not fit"):
        conv_out_size(2, 5)


@pytest.mark.parametrize("build, message", [(lambda: VGG(12), "VGG: depth must be one of"),
                                            (lambda: ResNet(20), "ResNet: depth must be one of"),
                                            (lambda: AlexNet(variant="v2"), "AlexNet: variant must be one of"),
                                            (lambda: SmallConvNet(0), "num_blocks must be at least 1")])
def test_bad_configurations_are_named(build, message):
    with pytest.raises(ValueError, match=message):
        build()
