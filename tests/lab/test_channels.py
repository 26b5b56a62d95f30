"""convlab.lab.channels: one filter over a multi-channel image, taken apart."""

import numpy as np
import pytest

from convlab.lab import channels
from convlab.nn import functional as F
from convlab.nn import reference as R

SETTINGS = [(1, 0), (1, 1), (2, 0), (2, 1), (3, 2), ((2, 1), (0, 1))]


def image_and_filter(seed=0, c=3, h=9, w=8, k=3):
    """A random (C, H, W) image, (C, k, k) filter and scalar bias."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((c, h, w)), rng.standard_normal((c, k, k)), 0.37


def engine_output(x, w, b, stride, padding):
    """The engine's output map for one image and one filter: (out_h, out_w)."""
    out, _ = F.conv2d_forward(x[None], w[None], np.array([b]), stride, padding)
    return out[0, 0]


@pytest.mark.parametrize(("stride", "padding"), SETTINGS)
def test_partial_maps_add_up_to_the_engine_output(stride, padding):
    """Partial maps summed plus the bias equal F.conv2d_forward to 1e-6."""
    x, w, b = image_and_filter()
    maps = channels.partial_maps(x, w, b, stride, padding)
    expected = engine_output(x, w, b, stride, padding)
    assert maps.out_shape == expected.shape
    assert maps.partial.shape == (3, *expected.shape)
    np.testing.assert_allclose(maps.output, expected, atol=1e-6)
    np.testing.assert_allclose(maps.total, maps.partial.sum(axis=0), atol=1e-12)
    np.testing.assert_allclose(maps.output, maps.total + b, atol=1e-12)
    assert maps.bias == b


def test_each_partial_map_is_its_own_channel_convolved():
    """Partial map c is channel c alone convolved with kernel c, without bias."""
    x, w, b = image_and_filter(1)
    maps = channels.partial_maps(x, w, b, stride=2, padding=1)
    for c in range(3):
        alone, _ = R.conv_forward(x[None, c : c + 1], w[None, c : c + 1], None, 2, 1)
        np.testing.assert_allclose(maps.partial[c], alone[0, 0], atol=1e-12)


def test_order_puts_the_biggest_contribution_first():
    """A channel with a larger kernel contributes more and is listed first."""
    x, w, _ = image_and_filter(2)
    w[0] *= 0.01
    w[2] *= 100.0
    maps = channels.partial_maps(x, w)
    assert list(maps.order) == [2, 1, 0]
    np.testing.assert_allclose(maps.contribution,
                               np.abs(maps.partial).sum(axis=(1, 2)))


def test_partial_maps_text_names_every_channel_and_the_bias():
    """The summary reads the channel count, the map size and the bias."""
    x, w, b = image_and_filter()
    text = "\n".join(channels.partial_maps(x, w, b).text())
    assert "3 partial maps of 7x6" in text
    assert "partial 0 + partial 1 + partial 2 + bias 0.37" in text


def test_channel_mismatch_names_both_numbers():
    """A 3-channel image with a 2-kernel filter is refused, both counts named."""
    x, w, _ = image_and_filter()
    with pytest.raises(ValueError, match=r"C=3 .* 2 kernels"):
        channels.partial_maps(x, w[:2])
    with pytest.raises(ValueError, match=r"C=3 .* 2 kernels"):
        channels.window_products(x, w[:2], 0.0, 0, 0)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "b", "message"),
    [
        ((9, 8), (1, 3, 3), 0.0, r"x must be one image \(C, H, W\).*x\[None\]"),
        ((3, 9, 8), (3, 3), 0.0, r"w must be one filter \(C, kh, kw\)"),
        ((3, 9, 8), (3, 3, 3), np.zeros(2), "b must be one number"),
        ((3, 9, 8), (3, 3, 3), float("nan"), "b must be finite"),
        ((3, 9, 8), (3, 10, 3), 0.0, r"height: kernel size k=10 .* n \+ 2\*padding"),
    ],
)
def test_bad_shapes_are_explained(x_shape, w_shape, b, message):
    """Wrong dimensions, a non-scalar bias or a kernel too big: clear ValueErrors."""
    with pytest.raises(ValueError, match=message):
        channels.partial_maps(np.ones(x_shape), np.ones(w_shape), b)


def test_non_finite_and_non_numeric_input_is_refused():
    """NaN pixels and text arrays raise ValueError saying what is wrong."""
    x, w, _ = image_and_filter()
    x[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"x must be finite, but 1 value"):
        channels.partial_maps(x, w)
    with pytest.raises(ValueError, match="x must hold real numbers"):
        channels.partial_maps(np.full((3, 9, 8), "a"), w)


@pytest.mark.parametrize(("stride", "padding"), SETTINGS)
def test_window_products_match_the_reference_and_the_output(stride, padding):
    """Every cell: products sum to conv_single_step and to the engine's output."""
    x, w, b = image_and_filter(3)
    expected = engine_output(x, w, b, stride, padding)
    x_pad = R.zero_pad(x[None], padding)[0]  # (C, Hp, Wp)
    for row in range(expected.shape[0]):
        for col in range(expected.shape[1]):
            cell = channels.window_products(x, w, b, row, col, stride, padding)
            assert cell.window.shape == cell.products.shape == (3, 3, 3)
            np.testing.assert_allclose(cell.products, cell.window * w, atol=1e-12)
            np.testing.assert_allclose(cell.channel_sums,
                                       cell.products.sum(axis=(1, 2)), atol=1e-12)
            assert cell.value == pytest.approx(cell.total + b, abs=1e-12)
            assert cell.value == pytest.approx(
                R.conv_single_step(cell.window, w, b), abs=1e-12)
            assert cell.value == pytest.approx(expected[row, col], abs=1e-6)
            top, left = cell.top, cell.left
            np.testing.assert_array_equal(cell.window,
                                          x_pad[:, top : top + 3, left : left + 3])


def test_window_products_see_the_zero_padding():
    """With padding 1 the top-left window's first row and column are zeros."""
    x, w, b = image_and_filter(4)
    cell = channels.window_products(x, w, b, 0, 0, stride=1, padding=1)
    assert (cell.top, cell.left) == (0, 0)
    assert not cell.window[:, 0, :].any() and not cell.window[:, :, 0].any()
    np.testing.assert_array_equal(cell.window[:, 1:, 1:], x[:, :2, :2])


def test_window_products_text_adds_channel_sums_then_bias():
    """The step-through text gives each channel's sum, the total and the cell value."""
    x, w, b = image_and_filter(5)
    cell = channels.window_products(x, w, b, 1, 2)
    text = "\n".join(cell.text())
    assert "output cell (1, 2)" in text
    for c in range(3):
        assert f"channel {c}: sum of 9 products = {cell.channel_sums[c]:.4g}" in text
    assert f"+ bias 0.37 = {cell.value:.4g}" in text


def test_window_products_text_writes_negative_terms_with_a_minus():
    """Channel sums 1, -2, 3 read "1 - 2 + 3", not "1 + -2 + 3"."""
    x = np.ones((3, 1, 1))
    w = np.array([1.0, -2.0, 3.0]).reshape(3, 1, 1)
    text = channels.window_products(x, w, 0.0, 0, 0).text()
    assert "total = 1 - 2 + 3 = 2" in text


@pytest.mark.parametrize(("row", "col"), [(7, 0), (0, 6), (-1, 0), (0, 1.5)])
def test_window_outside_the_output_is_refused(row, col):
    """A cell outside the 7x6 output raises ValueError naming the valid range."""
    x, w, b = image_and_filter()
    with pytest.raises(ValueError, match=r"(row|col)"):
        channels.window_products(x, w, b, row, col)


def test_window_outside_names_the_output_size():
    """The message says which rows exist."""
    x, w, b = image_and_filter()
    with pytest.raises(ValueError, match=r"row must be 0 to 6 \(the output is 7x6\)"):
        channels.window_products(x, w, b, 7, 0)


@pytest.mark.parametrize(("stride", "padding"), SETTINGS)
@pytest.mark.parametrize(("h", "w", "k"), [(28, 28, 5), (9, 12, 3), (6, 5, 1)])
def test_batch_shapes_equal_a_real_batched_convolution(stride, padding, h, w, k):
    """4 images x 3 filters: the bookkeeping equals F.conv2d_forward's shape."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, h, w))
    weights = rng.standard_normal((3, 3, k, k))
    out, _ = F.conv2d_forward(x, weights, np.zeros(3), stride, padding)
    shapes = channels.batch_shapes(4, 3, h, w, 3, k, k, stride, padding)
    assert shapes.output_shape == out.shape
    assert shapes.input_shape == x.shape
    assert shapes.weight_shape == weights.shape


def test_batch_shapes_text_fills_in_the_formula():
    """The student reads both shapes and the formula with the numbers in it."""
    text = channels.batch_shapes(4, 3, 28, 28, 3, 5, 5, stride=2, padding=1).text()
    assert text[0] == "(N, C, H, W) * (F, C, kh, kw) -> (N, F, out_h, out_w)"
    assert text[1] == "(4, 3, 28, 28) * (3, 3, 5, 5) -> (4, 3, 13, 13)"
    assert ("out_h = floor((n + 2p - f) / s) + 1 = floor((28 + 2*1 - 5) / 2) + 1 "
            "= floor(25 / 2) + 1 = 13") in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((4, 3, 4, 28, 3, 5, 5, 1, 0),
         r"height: kernel size k=5 is larger than the padded input "
         r"n \+ 2\*padding = 4 \+ 2\*0 = 4"),
        ((4, 3, 28, 4, 3, 3, 5, 1, 0), r"width: kernel size k=5"),
        ((4, 3, 28, 28, 3, 5, 5, 0, 0), r"stride must be >= 1, got stride=0 .*//"),
        ((4, 3, 28, 28, 3, 5, 5, 1, -1), r"padding must be >= 0"),
        ((0, 3, 28, 28, 3, 5, 5, 1, 0), r"N must be at least 1, got 0"),
        ((4, 3, 28, 28, 2.5, 5, 5, 1, 0), r"F must be a whole number, got 2.5"),
        ((4, 3, 28, 28, 3, 5, 5, 1.5, 0), r"stride must be a whole number"),
        ((4, True, 28, 28, 3, 5, 5, 1, 0), r"C must be a whole number"),
    ],
)
def test_impossible_batch_shapes_name_the_numbers(args, message):
    """Impossible settings raise ValueError with the numbers and the formula."""
    with pytest.raises(ValueError, match=message):
        channels.batch_shapes(*args)


def test_colour_presets_are_rgb_filters_with_lessons():
    """Every preset is a (3, kh, kw) filter with a name and a one-line explanation."""
    presets = channels.colour_presets()
    names = [p.name for p in presets]
    assert names == ["colour to grey", "red edges", "green minus red", "blue blur",
                     "edges in all colours"]
    for preset in presets:
        assert preset.weights.ndim == 3 and preset.weights.shape[0] == 3
        assert preset.explanation and "\n" not in preset.explanation


def test_grey_preset_weights_the_channels_like_the_eye():
    """colour to grey is 1x1 with 0.299, 0.587, 0.114, so white stays white."""
    grey = channels.colour_presets()[0]
    assert grey.weights.shape == (3, 1, 1)
    np.testing.assert_allclose(grey.weights[:, 0, 0], [0.299, 0.587, 0.114])
    maps = channels.partial_maps(np.ones((3, 4, 4)), grey.weights)
    np.testing.assert_allclose(maps.output, 1.0)


def test_single_colour_presets_ignore_the_other_channels():
    """red edges and blue blur have zero kernels on the channels they ignore."""
    presets = {p.name: p.weights for p in channels.colour_presets()}
    red, blur, every = presets["red edges"], presets["blue blur"], presets[
        "edges in all colours"]
    assert red[0].any() and not red[1:].any()
    assert blur[2].sum() == pytest.approx(1.0) and not blur[:2].any()
    np.testing.assert_array_equal(every[0], red[0])
    np.testing.assert_array_equal(every[1], every[2])
    np.testing.assert_array_equal(every[0], every[1])


def test_colour_presets_are_fresh_copies():
    """Editing a returned preset does not change the next call's."""
    channels.colour_presets()[0].weights[:] = 5
    assert channels.colour_presets()[0].weights[0, 0, 0] == pytest.approx(0.299)


def test_rgb_channels_moves_colour_to_the_channel_axis():
    """An (H, W, 3) 0..255 picture becomes (3, H, W) in [0, 1], red first."""
    pixels = np.zeros((2, 4, 3), np.uint8)
    pixels[0, 1] = (255, 0, 0)
    pixels[1, 3] = (0, 51, 255)
    x = channels.rgb_channels(pixels)
    assert x.shape == (3, 2, 4) and x.dtype == np.float64
    assert x[0, 0, 1] == 1.0 and x[1:, 0, 1].tolist() == [0.0, 0.0]
    np.testing.assert_allclose(x[:, 1, 3], [0.0, 0.2, 1.0])


def test_rgb_channels_refuses_a_grey_picture():
    """A (H, W) picture is refused with its shape named."""
    with pytest.raises(ValueError, match=r"\(H, W, 3\).*\(5, 5\)"):
        channels.rgb_channels(np.zeros((5, 5)))


def test_levels_cover_the_partial_maps_the_sum_and_the_output():
    """One symmetric scale whose top is the largest |value| of all three."""
    x, w, b = image_and_filter(3)
    maps = channels.partial_maps(x, w, 5.0)
    low, high = maps.levels()
    top = max(np.abs(maps.partial).max(), np.abs(maps.total).max(),
              np.abs(maps.output).max())
    assert (low, high) == (-top, top)
