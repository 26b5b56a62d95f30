"""convlab.lab.pipeline: pad, convolve, ReLU and pool one kernel, with the words."""

import numpy as np
import pytest

from convlab.lab.pipeline import (
    coverage,
    formula_text,
    kernel_pipeline,
    shrink,
    unreached_note,
)
from convlab.nn import functional as F
from convlab.nn import reference

SOBEL = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])


def _digit():
    """A seven-like stroke, 28x28 in [0, 1]."""
    image = np.zeros((28, 28))
    image[5:8, 6:22] = 1.0
    image[8:24, 17:20] = 0.8
    return image


@pytest.mark.parametrize("stride, padding, pool", [(1, 0, "max"), (2, 1, "avg"),
                                                   (3, 2, "none")])
def test_every_stage_is_what_the_engine_computes(stride, padding, pool):
    """Padded input, conv (+ bias), ReLU and both poolings equal nn's own functions."""
    result = kernel_pipeline(_digit(), SOBEL, 0.25, stride, padding, pool, 2, 2)
    x = _digit()[None, None]  # (1, 1, 28, 28)
    conv, _ = F.conv2d_forward(x, SOBEL[None, None], np.array([0.25]), stride, padding)
    np.testing.assert_array_equal(result.padded, reference.zero_pad(x, padding)[0, 0])
    np.testing.assert_allclose(result.conv, conv[0, 0])
    np.testing.assert_allclose(result.relu, np.maximum(conv[0, 0], 0))
    if pool == "none":
        assert result.max is None and result.avg is None
        return
    relu = np.maximum(conv, 0)
    np.testing.assert_allclose(result.max, F.max_pool2d_forward(relu, 2, 2)[0][0, 0])
    np.testing.assert_allclose(result.avg, F.avg_pool2d_forward(relu, 2, 2)[0][0, 0])


def test_formula_is_filled_in_with_the_students_numbers():
    """The output-size formula shows n, p, f, s, the difference and the result."""
    assert formula_text(28, 2, 3, 3) == \
        "floor((28 + 2·2 − 3) / 3) + 1 = floor(29 / 3) + 1 = 10"
    result = kernel_pipeline(_digit(), SOBEL, 0.0, 2, 1, "max", 2, 2)
    assert result.conv_formula == formula_text(28, 1, 3, 2)
    assert result.pool_formula == formula_text(14, 0, 2, 2)
    assert result.conv.shape == (14, 14)


def test_same_padding_keeps_the_size_for_an_odd_kernel():
    """'same' is p = (f - 1) / 2: a 5x5 kernel at stride 1 keeps 28x28."""
    result = kernel_pipeline(_digit(), np.ones((5, 5)), 0.0, 1, "same", "none", 2, 2)
    assert result.padding == 2 and result.conv.shape == (28, 28)


@pytest.mark.parametrize("kernel, stride, padding, pool_size, words", [
    (np.ones((4, 4)), 1, "same", 2, "'same' padding needs an odd kernel"),
    (np.ones((9, 9)), 1, 0, 2, "The 9×9 kernel does not fit"),
])
def test_impossible_settings_are_explained(kernel, stride, padding, pool_size, words):
    """An even kernel with 'same' or a kernel too large: ValueError in words."""
    with pytest.raises(ValueError, match=words):
        kernel_pipeline(np.zeros((7, 7)), kernel, 0.0, stride, padding, "max",
                        pool_size, 2)


def test_a_pool_that_cannot_fit_keeps_the_convolution_and_says_why():
    """7x7 input, 7x7 kernel: the 1x1 conv output is computed, the 2x2 pool is not."""
    image = np.arange(49, dtype=float).reshape(7, 7) / 49
    kernel = np.ones((7, 7)) / 49
    result = kernel_pipeline(image, kernel, 0.0, 1, 0, "max", 2, 2)
    np.testing.assert_allclose(result.conv, [[image.mean()]])
    np.testing.assert_array_equal(result.kernel, kernel)
    assert result.max is None and result.avg is None
    assert "The 2×2 pooling window does not fit the 1×1" in result.pool_problem
    assert kernel_pipeline(image, kernel, 0.0, 1, 0, "none", 2, 2).pool_problem == ""


def test_coverage_and_notes_tell_why_rows_are_never_read():
    """An inexact division leaves the end over; a long stride jumps over rows."""
    covered = coverage(30, 3, 2, 14)  # 28 + 2 - 3 = 27 is odd: row 29 is left over
    assert np.flatnonzero(~covered).tolist() == [29]
    assert unreached_note(covered, "Padded input").startswith(
        "Padded input: the division is not exact; 1 row(s)")
    jumped = coverage(28, 1, 3, 10)  # a 1x1 window every 3 rows
    assert "jumps over some; 18 row(s)" in unreached_note(jumped, "Padded input")
    assert unreached_note(coverage(28, 3, 1, 26), "Padded input") == ""
    result = kernel_pipeline(_digit(), SOBEL, 0.0, 2, 1, "max", 2, 2)
    np.testing.assert_array_equal(result.input_covered, covered)
    assert result.notes == (unreached_note(covered, "Padded input"),)


def test_filter_bank_gives_one_map_per_kernel():
    """A bank of two kernels gives conv2d_forward's two maps, without bias."""
    bank = np.stack([SOBEL, SOBEL.T])  # (2, 3, 3)
    result = kernel_pipeline(_digit(), SOBEL, 0.0, 2, 0, "none", 2, 2, bank=bank)
    expected, _ = F.conv2d_forward(_digit()[None, None], bank[:, None], None, 2, 0)
    np.testing.assert_allclose(result.bank, expected[0])


def test_shrink_averages_blocks_of_pixels():
    """Factor 4 turns 28x28 into 7x7 block means; factor 1 leaves the image alone."""
    image = np.arange(28 * 28, dtype=float).reshape(28, 28)
    small = shrink(image, 4)
    assert small.shape == (7, 7)
    assert small[1, 2] == image[4:8, 8:12].mean()
    np.testing.assert_array_equal(shrink(image, 1), image)
