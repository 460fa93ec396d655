"""Chapter 13: LatentExplorer, headless, driven through its controls."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.models.autoencoders import Autoencoder
from dlcore.models.autoencoders import encode_means
from dlcore.widgets.latent import LatentExplorer


@pytest.fixture(scope="module")
def explorer():
    torch.set_num_threads(1)
    e = LatentExplorer(rng=np.random.default_rng(0))  # trains its default VAE (bounded: a fixed epoch count)
    yield e
    e.widget.close()


def test_sliders_move_the_point_and_the_decoded_image(explorer):
    explorer.z1.value, explorer.z2.value = 0.0, 0.0
    centre = explorer.state.image.copy()
    explorer.z1.value = 2.0
    state = explorer.state
    assert np.array_equal(state.z, [2.0, 0.0])
    assert state.image.shape == (8, 8) and not np.allclose(state.image, centre)
    assert np.array_equal(explorer.point_marker.get_xdata(), [2.0])


def test_interpolation_runs_from_one_digit_to_the_other(explorer):
    explorer.space.value = "latent"
    explorer.start.value, explorer.end.value = 0, 7
    explorer.t.value = 0.0
    assert np.allclose(explorer.state.path_point, explorer.codes[explorer.examples[0]])
    explorer.t.value = 1.0
    assert np.allclose(explorer.state.path_point, explorer.codes[explorer.examples[7]])
    explorer.t.value = 0.5
    middle = (explorer.codes[explorer.examples[0]] + explorer.codes[explorer.examples[7]]) / 2
    assert np.allclose(explorer.state.path_point, middle)


def test_pixel_space_interpolation_blends_the_images(explorer):
    explorer.space.value = "pixels"
    explorer.t.value = 0.25
    a = explorer.images[explorer.examples[explorer.start.value]]
    b = explorer.images[explorer.examples[explorer.end.value]]
    assert np.allclose(explorer.state.blend.ravel(), 0.75 * a + 0.25 * b)
    assert "not a digit" in explorer.describe(explorer.state)
    explorer.space.value = "latent"


def test_extreme_values_give_finite_images(explorer):
    for z1, z2 in [(explorer.z1.min, explorer.z2.min), (explorer.z1.max, explorer.z2.max)]:
        explorer.z1.value, explorer.z2.value = z1, z2
        assert np.all(np.isfinite(explorer.state.image))
        assert 0 <= explorer.state.image.min() and explorer.state.image.max() <= 1
    explorer.start.value = explorer.end.value  # the same digit at both ends
    explorer.t.value = 1.0
    assert np.all(np.isfinite(explorer.state.blend))
    assert explorer.renders > 5


def test_accepts_a_plain_autoencoder_and_rejects_a_wrong_latent_size():
    images = np.random.default_rng(0).random((30, 16))
    labels = np.arange(30) % 3
    e = LatentExplorer(Autoencoder(16, 2, (8,)), images, labels)
    assert e.codes.shape == (30, 2) and e.state.image.shape == (4, 4)
    assert encode_means(e.model, images[:2]).shape == (2, 2)
    e.widget.close()
    with pytest.raises(ValueError, match="must be 2-D, got 3-D"):
        LatentExplorer(Autoencoder(16, 3, (8,)), images, labels)
    with pytest.raises(ValueError, match="pass images"):
        LatentExplorer(Autoencoder(16, 2, (8,)))


def test_default_model_leaves_the_global_torch_state_alone():
    from dlcore.models.digits_vae import default_vae

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first, _, _ = default_vae(np.random.default_rng(1), num_epochs=1)
    assert torch.equal(torch.rand(3), expected)
    second, _, _ = default_vae(np.random.default_rng(1), num_epochs=1)
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), second.parameters()))
