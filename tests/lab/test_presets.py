"""convlab.lab.presets: the classic kernels and their defining sums."""

import numpy as np
import pytest

from convlab.lab import channels
from convlab.lab.presets import PRESETS, SOBEL_X, make_preset, resize_centred


def test_blurs_sum_to_one_and_edge_detectors_to_zero():
    """Blurs keep brightness (sum 1) at every size; edge detectors sum to 0."""
    for key in ("box_blur", "gaussian"):
        for n in (2, 5, 7):
            assert make_preset(key, n, None).sum() == pytest.approx(1.0)
    for key in ("sobel_x", "sobel_y", "prewitt_x", "prewitt_y", "laplacian", "outline"):
        assert make_preset(key, 5, None).sum() == 0
    assert len(PRESETS) == 12


def test_colour_presets_use_the_same_sobel_kernel():
    """The RGB 'red edges' filter is the editor's Sobel x on the red channel."""
    np.testing.assert_array_equal(make_preset("sobel_x", 3, None), SOBEL_X)
    red_edges = next(p for p in channels.colour_presets() if p.name == "red edges")
    np.testing.assert_array_equal(red_edges.weights[0], SOBEL_X)


def test_resize_centred_grows_with_zeros_and_shrinks_by_trimming():
    """3x3 -> 5x5 adds a zero ring; 5x5 -> 3x3 gives back the same centre."""
    kernel = np.arange(9.0).reshape(3, 3)
    grown = resize_centred(kernel, 5)
    np.testing.assert_array_equal(grown[1:4, 1:4], kernel)
    assert grown.sum() == kernel.sum()
    np.testing.assert_array_equal(resize_centred(grown, 3), kernel)
