"""The fast functional code against the slow reference loops, and the loops alone."""

import numpy as np
import pytest
from cases import conv2d_run

from convlab.nn import functional as F
from convlab.nn import reference as R

CONV_GRID = [
    # N, C, H, W, F, kh, kw, stride, padding
    (2, 1, 8, 8, 3, 3, 3, 1, 0),
    (2, 3, 7, 9, 4, 3, 2, 1, 1),
    (1, 2, 9, 8, 3, 3, 3, 2, 0),
    (2, 2, 10, 11, 2, 4, 3, 3, 2),
    (3, 2, 6, 7, 2, 2, 2, (2, 1), (0, 1)),
    (1, 3, 5, 5, 2, 5, 5, 1, 0),
    (2, 1, 6, 6, 2, 1, 1, 1, 2),
    (3, 16, 7, 7, 2, 3, 3, 2, 1),  # strided, 16 channels: the channels-last im2col
]


@pytest.mark.parametrize("case", CONV_GRID)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_fast_matches_reference(case, bias):
    """conv2d forward and all gradients equal the reference loops."""
    x, w, b, stride, padding, out, dout, dx, dw, db = conv2d_run(case, bias)
    ref_out, ref_cache = R.conv_forward(x, w, b, stride, padding)
    np.testing.assert_allclose(out, ref_out, rtol=1e-10, atol=1e-12)
    ref_dx, ref_dw, ref_db = R.conv_backward(dout, ref_cache)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-10, atol=1e-12)
    if bias:
        np.testing.assert_allclose(db, ref_db, rtol=1e-10, atol=1e-12)
    else:
        assert db is None and ref_db is None


POOL_GRID = [
    # H, W, kernel_size, stride
    (8, 8, 2, None),
    (11, 11, 2, 2),
    (9, 10, 3, 2),
    (7, 7, 3, 1),
    (8, 9, (2, 3), (2, 3)),
    (9, 7, (3, 2), (1, 2)),
    (10, 10, 2, 3),
]


@pytest.mark.parametrize("case", POOL_GRID)
@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool_fast_matches_reference(case, mode):
    """Pooling forward and backward equal the reference loops, ties included."""
    H, W, kernel_size, stride = case
    rng = np.random.default_rng(1)
    # Rounded values and a block of zeros (as after ReLU) make ties common.
    x = np.round(rng.standard_normal((2, 3, H, W)), 1)
    x[:, 0, :4, :4] = 0.0
    kind = "max" if mode == "max" else "avg"
    out, cache = getattr(F, f"{kind}_pool2d_forward")(x, kernel_size, stride)
    ref_out, ref_cache = R.pool_forward(x, kernel_size, stride, mode)
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx = getattr(F, f"{kind}_pool2d_backward")(dout, cache)
    np.testing.assert_allclose(dx, R.pool_backward(dout, ref_cache), atol=1e-12)


def test_zero_pad_shape_and_values():
    """zero_pad adds zero rows and columns around each image only."""
    x = np.ones((2, 3, 4, 5))
    padded = R.zero_pad(x, (1, 2))
    assert padded.shape == (2, 3, 6, 9)
    assert padded.sum() == x.sum()
    np.testing.assert_array_equal(padded[:, :, 1:5, 2:7], x)


def test_conv_single_step_is_sum_of_products_plus_bias():
    """conv_single_step multiplies entry by entry, sums and adds the bias."""
    a_slice = np.arange(12.0).reshape(3, 2, 2)
    w = np.full((3, 2, 2), 0.5)
    assert R.conv_single_step(a_slice, w, 1.5) == pytest.approx(66 * 0.5 + 1.5)


def test_create_mask_from_window_marks_first_max_only():
    """A tie for the maximum marks only the first entry in row-major order."""
    window = np.array([[1.0, 3.0], [3.0, 2.0]])
    mask = R.create_mask_from_window(window)
    np.testing.assert_array_equal(mask, [[False, True], [False, False]])


def test_distribute_value_shares_equally():
    """distribute_value spreads a gradient evenly over the window."""
    np.testing.assert_allclose(R.distribute_value(6.0, (2, 3)), np.ones((2, 3)))


def test_reference_raises_on_impossible_settings():
    """The loops refuse a kernel larger than the input, like the fast code."""
    with pytest.raises(ValueError, match="padding"):
        R.conv_forward(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 4, 4)), None)
    with pytest.raises(ValueError, match="mode"):
        R.pool_forward(np.zeros((1, 1, 4, 4)), 2, mode="median")
