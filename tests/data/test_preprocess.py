"""Drawn digits become MNIST-like 28x28 inputs: the properties the GUI relies on."""

import numpy as np
import pytest

from convlab.data.mnist import load_mnist
from convlab.data.preprocess import (
    MAX_STROKE,
    MIN_INK_FRACTION,
    canvas_to_input,
    stroke_width,
    thin_thick_strokes,
    to_mnist,
)

# Pen strokes as polylines of (row, col) points on a 200x200 canvas.
SEVEN = [(40, 50), (40, 110), (150, 70)]
TWO = [(60, 50), (45, 75), (50, 100), (75, 105), (140, 50), (140, 110)]
ONE = [(30, 100), (160, 96)]
DIGITS = {"seven": SEVEN, "two": TWO, "one": ONE}


def render(points, size=200, width=12.0, offset=(0.0, 0.0), scale=1.0):
    """Draw a polyline with an anti-aliased round pen, ink 1 on 0, like the canvas."""
    pts = np.asarray(points, float) * scale + np.asarray(offset)
    r, c = np.mgrid[0:size, 0:size] + 0.5  # pixel centres
    dist = np.full((size, size), np.inf)
    for a, b in zip(pts[:-1], pts[1:], strict=True):
        ab = b - a
        t = np.clip(((r - a[0]) * ab[0] + (c - a[1]) * ab[1]) / (ab @ ab), 0, 1)
        dist = np.minimum(dist, np.hypot(r - a[0] - t * ab[0], c - a[1] - t * ab[1]))
    return np.clip(width * scale / 2 + 0.5 - dist, 0, 1)


def ink_box(image):
    """(height, width) of the bounding box of the nonzero pixels."""
    rows = np.flatnonzero(image.any(axis=1))
    cols = np.flatnonzero(image.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def center_of_mass(image):
    """(row, col) centre of mass in pixel indices."""
    rows, cols = np.indices(image.shape)
    return (image * rows).sum() / image.sum(), (image * cols).sum() / image.sum()


def shift(image, dy, dx):
    """Move an image by whole pixels, filling with background."""
    out = np.zeros_like(image)
    h, w = image.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = image[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def closest_shift_diff(a, b):
    """Mean |a - b| after the best whole-pixel shift of a by at most one pixel."""
    return min(
        np.abs(shift(a, dy, dx) - b).mean() for dy in (-1, 0, 1) for dx in (-1, 0, 1)
    )


@pytest.mark.parametrize("name", DIGITS)
def test_output_format(name):
    """The result is a float32 28x28 image in [0, 1] whose strongest ink is 1."""
    out = to_mnist(render(DIGITS[name]))
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() == pytest.approx(1.0)


@pytest.mark.parametrize("name", DIGITS)
def test_longer_side_is_20(name):
    """The ink's bounding box is 20 px on its longer side, as in MNIST."""
    assert max(ink_box(to_mnist(render(DIGITS[name])))) == 20


def test_aspect_ratio_kept():
    """A bar four times wider than tall stays about four times wider than tall."""
    bar = np.zeros((100, 100))
    bar[40:50, 20:60] = 1
    assert ink_box(to_mnist(bar)) == (5, 20)


@pytest.mark.parametrize("name", DIGITS)
def test_center_of_mass_at_centre(name):
    """The centre of mass lands within half a pixel of pixel (14, 14)."""
    cy, cx = center_of_mass(to_mnist(render(DIGITS[name], offset=(13.3, -21.7))))
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


@pytest.mark.parametrize("name", DIGITS)
@pytest.mark.parametrize("offset", [(20.3, -17.6), (-30.0, 22.25), (0.5, 0.5)])
def test_moving_the_drawing(name, offset):
    """Moving the drawing on the canvas changes the input far less than a 1 px shift."""
    ref = to_mnist(render(DIGITS[name]))
    moved = to_mnist(render(DIGITS[name], offset=offset))
    one_pixel = np.abs(shift(ref, 0, 1) - ref).mean()
    assert closest_shift_diff(moved, ref) < 0.25 * one_pixel


def test_whole_pixel_move_is_exact():
    """A move by whole canvas pixels gives exactly the same input."""
    ref = to_mnist(render(TWO))
    np.testing.assert_array_equal(to_mnist(render(TWO, offset=(-25, 31))), ref)


@pytest.mark.parametrize("name", DIGITS)
@pytest.mark.parametrize("scale", [0.4, 1.5])
def test_scaling_the_drawing(name, scale):
    """The same digit drawn smaller or larger (pen too) gives nearly the same input."""
    ref = to_mnist(render(DIGITS[name]))
    size = int(200 * max(scale, 1))
    scaled = to_mnist(render(DIGITS[name], size=size, scale=scale))
    one_pixel = np.abs(shift(ref, 0, 1) - ref).mean()
    assert closest_shift_diff(scaled, ref) < 0.5 * one_pixel


def test_blank_canvas_is_nothing_drawn():
    """An empty canvas, of any size, means nothing drawn: None."""
    assert to_mnist(np.zeros((280, 280))) is None
    assert to_mnist(np.zeros((28, 28), np.float32)) is None


def test_nearly_blank_is_nothing_drawn():
    """A speck or faint haze below the ink threshold is nothing drawn, not a digit."""
    canvas = np.zeros((200, 200))
    canvas[100:103, 50:53] = 1  # 9 px of ink, below 0.1% of 40000
    assert canvas.sum() < MIN_INK_FRACTION * canvas.size
    assert to_mnist(canvas) is None
    assert to_mnist(np.full((200, 200), 0.5 * MIN_INK_FRACTION)) is None
    # Enough total, but every pixel fainter than one 8-bit grey level.
    assert to_mnist(np.full((200, 200), 0.0015)) is None


def test_small_dot_is_a_drawing():
    """Ink just above the threshold is processed, not dropped."""
    canvas = np.zeros((200, 200))
    canvas[90:97, 90:97] = 1  # 49 px > 40
    assert to_mnist(canvas) is not None


def test_rejects_non_2d():
    """A colour (H, W, 3) image is refused with a ValueError naming the shape."""
    with pytest.raises(ValueError, match=r"\(10, 10, 3\)"):
        to_mnist(np.zeros((10, 10, 3)))


def test_out_of_range_values_are_clipped():
    """Values outside [0, 1] (e.g. a careless conversion) still give a valid input."""
    out = to_mnist(render(SEVEN) * 3 - 0.5)
    assert out.min() >= 0 and out.max() <= 1


def test_real_digits_stay_themselves(mnist_dir):
    """Real MNIST digits, processed again, come back within one grey level."""
    images, _ = load_mnist(mnist_dir, "test")
    x = images[:300].astype(np.float64) / 255
    worst = max(np.abs(to_mnist(img) - img).max() for img in x)
    assert worst <= 1 / 255 + 1e-6


def test_canvas_input_is_the_half_size_drawing_preprocessed():
    """A canvas drawing becomes to_mnist of its 2x2 block means; a blank one None."""
    canvas = render(SEVEN, size=280, width=18.0, scale=1.4)
    blocks = canvas.reshape(140, 2, 140, 2).mean(axis=(1, 3))  # (140, 140)
    out = canvas_to_input(canvas)
    assert out.shape == (28, 28)
    np.testing.assert_array_equal(out, to_mnist(blocks))
    # The same digit as preprocessing the full drawing, up to resampling.
    assert np.abs(out - to_mnist(canvas)).mean() < 0.05
    assert canvas_to_input(np.zeros((280, 280))) is None


def small_thick_ring():
    """A 0 drawn small in the bottom-left corner of the canvas with a broad brush."""
    angles = np.radians(np.arange(0, 361, 10))
    ring = np.stack([220 + 22 * np.sin(angles), 60 + 22 * np.cos(angles)], axis=1)
    return render(ring, size=280, width=30.0)


def test_small_thick_drawing_gets_mnist_thick_strokes():
    """A small digit drawn with a broad brush is thinned to MNIST's stroke widths."""
    canvas = small_thick_ring()
    blocks = canvas.reshape(140, 2, 140, 2).mean(axis=(1, 3))  # (140, 140)
    assert stroke_width(to_mnist(blocks)) > MAX_STROKE + 1  # a blob, unthinned
    out = canvas_to_input(canvas)
    assert 2.0 <= stroke_width(out) <= MAX_STROKE
    assert out[13:16, 13:16].max() < 0.5  # the hole in the middle stays open
    assert ink_box(out > 0.1) == (20, 20)


def test_thin_enough_strokes_are_left_alone():
    """A drawing whose strokes are within MNIST's widths is not changed."""
    canvas = render(TWO, size=280, width=18.0, scale=1.4)
    np.testing.assert_array_equal(thin_thick_strokes(canvas), canvas)


def test_stroke_width_of_a_band():
    """stroke_width of a straight band is its width (up to its two short ends)."""
    band = np.zeros((40, 200))
    band[10:16, 20:180] = 1.0
    assert abs(stroke_width(band) - 6.0) < 0.3
    assert stroke_width(np.zeros((5, 5))) == 0.0


def test_mnist_strokes_are_within_max_stroke(mnist_dir):
    """Nearly every MNIST training digit is thinner than MAX_STROKE."""
    images, _ = load_mnist(mnist_dir, "train")
    widths = np.array([stroke_width(img / 255) for img in images[:2000]])
    assert np.mean(widths <= MAX_STROKE) >= 0.99
