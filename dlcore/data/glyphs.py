"""Procedurally drawn 28x28 digits: the course's offline stand-in for MNIST.

Each digit 0-9 is a few strokes (line segments and arcs) in a unit box. A
sample draws its digit's strokes with a random affine transform (scale,
slant, rotation, shift), a little per-stroke wobble and a random pen width,
then renders them anti-aliased: a pixel's ink is how far its centre lies
inside the pen, clipped to [0, 1]. As in MNIST, the glyph fills about a 20x20
box centred in the 28x28 image, ink is 1 and background 0.

Rendering is vectorised over all samples of one digit at once: for every
pixel the distance to every segment, then the nearest.
Used from chapter 09 on (convolutional networks and what follows).
"""

from __future__ import annotations

import numpy as np

from dlcore.errors import expect_int

from dlcore.data.synthetic import _check_count, _check_noise, _rng

__all__ = ["make_digits28", "digit_strokes"]


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float, points: int = 12) -> np.ndarray:
    """Points on an elliptical arc; angles in degrees, 0 = right, 90 = down (image y points down)."""
    angles = np.deg2rad(np.linspace(start, stop, points))
    return np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], axis=1)


def _line(*points: tuple[float, float]) -> np.ndarray:
    return np.array(points, dtype=np.float64)


# Each digit: a list of polylines (arrays of (x, y) points in the unit box, y down).
_STROKES: dict[int, list[np.ndarray]] = {
    0: [_arc(0.5, 0.5, 0.30, 0.45, -90, 270, 20)],
    1: [_line((0.32, 0.22), (0.52, 0.04), (0.52, 0.96))],
    2: [np.concatenate([_arc(0.5, 0.30, 0.30, 0.25, -165, 25, 12), _line((0.2, 0.95), (0.85, 0.95))])],
    3: [_arc(0.48, 0.28, 0.28, 0.23, -150, 90, 12), _arc(0.48, 0.72, 0.32, 0.24, -90, 150, 12)],
    4: [_line((0.66, 0.96), (0.66, 0.04), (0.14, 0.66), (0.86, 0.66))],
    5: [np.concatenate([_line((0.80, 0.05), (0.30, 0.05), (0.26, 0.44)), _arc(0.48, 0.67, 0.32, 0.28, -125, 150, 12)])],
    6: [np.concatenate([_line((0.72, 0.05), (0.42, 0.28)), _arc(0.5, 0.70, 0.26, 0.26, 200, 560, 18)])],
    7: [_line((0.14, 0.06), (0.86, 0.06), (0.42, 0.96))],
    8: [_arc(0.5, 0.27, 0.22, 0.22, 90, 450, 16), _arc(0.5, 0.72, 0.27, 0.24, -90, 270, 16)],
    9: [_arc(0.48, 0.30, 0.25, 0.24, 0, 360, 16), _line((0.73, 0.30), (0.62, 0.96))],
}


def digit_strokes(digit: int) -> list[np.ndarray]:
    """The template polylines of ``digit`` (copies), each (P, 2) in the unit box with y down."""
    return [stroke.copy() for stroke in _STROKES[expect_int("digit_strokes", "digit", digit, 0, 9)]]


def _wobbled_segments(digit: int, count: int, generator: np.random.Generator) -> np.ndarray:
    """(count, S, 2, 2): each sample's segments as (start, end) pairs, centred on the box.

    Every template point moves a little (the same point for both segments that
    share it, so strokes stay connected).
    """
    pieces = []
    for stroke in _STROKES[digit]:
        points = stroke[None] - 0.5 + generator.normal(0.0, 0.02, (count,) + stroke.shape)  # (count, P, 2)
        pieces.append(np.stack([points[:, :-1], points[:, 1:]], axis=2))  # (count, P-1, 2, 2)
    return np.concatenate(pieces, axis=1)


def _render(segments: np.ndarray, width: np.ndarray, size: int) -> np.ndarray:
    """Anti-aliased ink of B drawings: segments (B, S, 2, 2) in pixels, width (B,) -> (B, size, size)."""
    centres = np.arange(size, dtype=np.float32) + 0.5
    px = np.tile(centres, size)[None, None, :]  # (1, 1, P): x of each pixel, row by row
    py = np.repeat(centres, size)[None, None, :]
    segments = segments.astype(np.float32)
    x0, y0 = segments[..., 0, 0, None], segments[..., 0, 1, None]  # (B, S, 1)
    dx, dy = segments[..., 1, 0, None] - x0, segments[..., 1, 1, None] - y0
    length2 = np.maximum(dx * dx + dy * dy, 1e-12)
    t = np.clip(((px - x0) * dx + (py - y0) * dy) / length2, 0.0, 1.0)  # (B, S, P)
    ex, ey = px - x0 - t * dx, py - y0 - t * dy
    distance = np.sqrt((ex * ex + ey * ey).min(axis=1))  # (B, P): to the nearest segment
    ink = np.clip(width[:, None].astype(np.float32) / 2 + 0.5 - distance, 0.0, 1.0)
    return ink.reshape(-1, size, size)


def make_digits28(num_samples: int, *, seed: int | np.random.Generator | None = 0,
                  rng: np.random.Generator | None = None, noise: float = 0.0,
                  size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Drawn digits 0-9 with random pen, slant, scale, rotation and position.

    ink(pixel) = clip(width/2 + 1/2 - distance(pixel centre, nearest stroke), 0, 1), plus
    Gaussian ``noise`` (standard deviation), clipped back to [0, 1].

    Args:
        num_samples: N, how many images (labels drawn uniformly from 0..9).
        seed: an int or a Generator; ignored when ``rng`` is given.
        rng: an explicit ``np.random.Generator`` (takes precedence over ``seed``).
        noise: standard deviation of pixel noise, >= 0.
        size: side of the square image in pixels (>= 8); 28 like MNIST.

    Returns:
        X float32 (N, size, size) in [0, 1]; y int64 (N,).

    Raises:
        ValueError: for a non-positive ``num_samples`` or ``size`` < 8, a negative ``noise``.

    Taught in chapter 09; used by the later chapters on images.
    """
    num_samples = _check_count("make_digits28", "num_samples", num_samples)
    size = _check_count("make_digits28", "size", size, minimum=8)
    noise = _check_noise("make_digits28", noise)
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"make_digits28: rng must be a numpy Generator, got {type(rng).__name__}")
    generator = rng if rng is not None else _rng("make_digits28", seed)

    labels = generator.integers(0, 10, size=num_samples)
    images = np.zeros((num_samples, size, size), dtype=np.float32)
    box, scale_px = size / 28 * 20, size / 28
    for digit in range(10):
        index = np.flatnonzero(labels == digit)
        if index.size == 0:
            continue
        count = index.size
        # Per-sample affine map: scale, slant (shear), rotation, then shift to the image centre.
        scale = generator.uniform(0.85, 1.1, count) * box
        aspect = generator.uniform(0.8, 1.1, count)
        slant = generator.uniform(-0.35, 0.25, count)
        angle = np.deg2rad(generator.uniform(-10.0, 10.0, count))
        shift = generator.uniform(-2.0, 2.0, (count, 2)) * scale_px + size / 2
        cos, sin = np.cos(angle), np.sin(angle)
        # matrix = rotation @ shear @ diag(scale * aspect, scale); (count, 2, 2)
        a, d = scale * aspect, scale
        matrix = np.stack([np.stack([cos * a, cos * slant * d - sin * d], -1),
                           np.stack([sin * a, sin * slant * d + cos * d], -1)], axis=1)
        segments = _wobbled_segments(digit, count, generator)  # (count, S, 2, 2)
        drawn = np.einsum("bij,bskj->bski", matrix, segments) + shift[:, None, None, :]
        width = generator.uniform(1.4, 2.8, count) * scale_px
        for chunk in range(0, count, 256):  # bounded temporaries: (256, S, size*size) floats
            part = slice(chunk, chunk + 256)
            images[index[part]] = _render(drawn[part], width[part], size)
    if noise > 0:
        images += generator.normal(0.0, noise, images.shape).astype(np.float32)
        np.clip(images, 0.0, 1.0, out=images)
    return images, labels.astype(np.int64)
