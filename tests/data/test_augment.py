"""Batch augmentation: seeded, shape- and range-preserving, and geometrically right."""

import numpy as np
import pytest

from convlab.data.augment import _warp, augment_batch
from convlab.data.mnist import load_mnist

IDENTITY = {
    "max_shift": 0.0,
    "max_rotation": 0.0,
    "scale_range": (1.0, 1.0),
    "thickness_range": (0.0, 0.0),
}


@pytest.fixture
def batch():
    """Eight 28x28 'digits': random blobs of ink away from the border, float32."""
    rng = np.random.default_rng(5)
    x = np.zeros((8, 1, 28, 28), np.float32)
    x[:, :, 6:22, 8:20] = rng.random((8, 1, 16, 12)) > 0.6
    return x


def test_same_seed_same_result(batch):
    """The same seed gives the same distortions; another seed gives others."""
    a = augment_batch(batch, np.random.default_rng(1))
    b = augment_batch(batch, np.random.default_rng(1))
    c = augment_batch(batch, np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_dtype_range(batch, dtype):
    """Output keeps shape and dtype, stays in [0, 1], and leaves the input untouched."""
    x = batch.astype(dtype)
    before = x.copy()
    out = augment_batch(x, np.random.default_rng(0))
    assert out.shape == x.shape and out.dtype == dtype
    assert out.min() >= 0 and out.max() <= 1
    np.testing.assert_array_equal(x, before)


def test_each_image_differs(batch):
    """Each image in the batch gets its own distortion."""
    same = np.repeat(batch[:1], 4, axis=0)
    out = augment_batch(same, np.random.default_rng(0))
    assert not np.allclose(out[0], out[1])


def test_real_digits_stay_in_frame(mnist_dir):
    """Default shifts, rotations and scalings keep real digits whole and centred."""
    images, _ = load_mnist(mnist_dir, "test")
    x = images[:64, None].astype(np.float32) / 255  # (64, 1, 28, 28)
    out = augment_batch(x, np.random.default_rng(0), thickness_range=(0.0, 0.0))
    # Scaling by 0.9-1.1 changes the ink by its square; nothing should be cut off.
    ratio = out.sum(axis=(1, 2, 3)) / x.sum(axis=(1, 2, 3))
    assert np.all((ratio > 0.75) & (ratio < 1.3))
    rows = np.arange(28)
    com = (out.sum(axis=(1, 3)) @ rows) / out.sum(axis=(1, 2, 3))  # (64,)
    assert np.all(np.abs(com - 14) < 3.5)


def test_zero_ranges_are_identity(batch):
    """With every range set to zero the batch comes back unchanged."""
    out = augment_batch(batch, np.random.default_rng(0), **IDENTITY)
    np.testing.assert_allclose(out, batch, atol=1e-5)


def test_thicker_and_thinner(batch):
    """Full dilation adds ink, full erosion removes it."""
    rng = np.random.default_rng(0)
    thick = augment_batch(batch, rng, **{**IDENTITY, "thickness_range": (1.0, 1.0)})
    thin = augment_batch(batch, rng, **{**IDENTITY, "thickness_range": (-1.0, -1.0)})
    ink = batch.sum(axis=(1, 2, 3))
    assert np.all(thick.sum(axis=(1, 2, 3)) > ink)
    assert np.all(thin.sum(axis=(1, 2, 3)) < ink)


def test_thickness_past_one_makes_strokes_bolder_than_the_dilation(mnist_dir):
    """An amount of 1.5 inks real digits' grey stroke edges more than the plain
    dilation does, and stays in [0, 1]."""
    images, _ = load_mnist(mnist_dir, "test")
    batch = images[:16, None].astype(np.float32) / 255  # (16, 1, 28, 28)
    rng = np.random.default_rng(0)
    dilated = augment_batch(batch, rng, **{**IDENTITY, "thickness_range": (1.0, 1.0)})
    bolder = augment_batch(batch, rng, **{**IDENTITY, "thickness_range": (1.5, 1.5)})
    assert np.all(bolder.sum(axis=(1, 2, 3)) > dilated.sum(axis=(1, 2, 3)))
    assert bolder.min() >= 0 and bolder.max() <= 1
    # Bolder, not wider: ink only where the dilation put some.
    assert np.all(bolder[dilated == 0] == 0)


def test_channels_share_a_distortion():
    """Channels of one image move together (one distortion per image)."""
    rng = np.random.default_rng(4)
    x = np.repeat(rng.random((3, 1, 28, 28)).astype(np.float32), 2, axis=1)
    out = augment_batch(x, np.random.default_rng(0))
    np.testing.assert_array_equal(out[:, 0], out[:, 1])


def shifted(x, dy, dx):
    """x (N, H, W) moved by whole pixels (dy, dx), background 0."""
    out = np.zeros_like(x)
    h, w = x.shape[1:]
    out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = x[
        :, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


@pytest.mark.parametrize(("dy", "dx"), [(2, -3), (-12, 9), (0, 26)])
def test_warp_whole_pixel_shift(batch, dy, dx):
    """A whole-pixel shift moves every pixel exactly, even far off the frame."""
    x = batch[:, 0]
    n = len(x)
    out = _warp(x, np.zeros(n), np.ones(n), np.tile([dy, dx], (n, 1)).astype(float))
    np.testing.assert_allclose(out, shifted(x, dy, dx), atol=1e-6)


def test_warp_half_pixel_shift():
    """A shift by half pixels averages the four neighbouring whole-pixel shifts."""
    x = np.random.default_rng(1).random((3, 28, 28))  # ink up to the borders
    out = _warp(x, np.zeros(3), np.ones(3), np.tile([7.5, -10.5], (3, 1)))
    corners = [shifted(x, dy, dx) for dy in (7, 8) for dx in (-10, -11)]
    np.testing.assert_allclose(out, np.mean(corners, axis=0), atol=1e-6)


def test_warp_quarter_turn(batch):
    """A 90 degree rotation about the centre is a np.rot90 of the image."""
    x = batch[:, 0]
    n = len(x)
    out = _warp(x, np.full(n, np.pi / 2), np.ones(n), np.zeros((n, 2)))
    candidates = [np.rot90(x, k, axes=(1, 2)) for k in (1, 3)]
    assert any(np.allclose(out, c, atol=1e-5) for c in candidates)


def test_warp_scale_about_centre():
    """Scaling by 2 doubles a centred square's side and keeps it centred."""
    x = np.zeros((1, 28, 28))
    x[0, 11:17, 11:17] = 1  # 6x6 square centred on 13.5
    out = _warp(x, np.zeros(1), np.full(1, 2.0), np.zeros((1, 2)))
    rows = np.flatnonzero(out[0].max(axis=1) > 0.5)
    assert len(rows) == 12 and rows.mean() == pytest.approx(13.5)
