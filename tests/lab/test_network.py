"""The Network tab's numbers and words: mosaics, levels, titles, enlarged views."""

import numpy as np
import pytest

from convlab import nn
from convlab.lab.network import (
    FILTER_EXPLANATION,
    INPUT_EXPLANATION,
    MAP_EXPLANATION,
    conv_weights,
    enlarged_filter,
    enlarged_map,
    field_growth,
    field_text,
    fit_grid,
    grid_shape,
    layer_title,
    map_explanation,
    mosaic,
    strongest_channels,
    symmetric_levels,
)
from convlab.nn.architectures import NAMED_ARCHS, build


def test_mosaic_places_tiles_in_reading_order():
    """Tile i lands at row i // cols, column i % cols, with NaN gaps between tiles."""
    tiles = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)
    out = mosaic(tiles, rows=2, cols=3, gap=1)
    assert out.shape == (2 * 3 - 1, 3 * 4 - 1)
    np.testing.assert_array_equal(out[0:2, 4:7], tiles[1])
    np.testing.assert_array_equal(out[3:5, 0:3], tiles[3])
    assert np.isnan(out[2]).all() and np.isnan(out[:, 3]).all()
    assert np.isnan(out[3:5, 8:11]).all()  # the sixth place has no tile


def test_grid_shape_holds_every_tile():
    """The grid has room for every tile and no empty row."""
    for count in (1, 8, 10, 32, 64, 128, 1600):
        rows, cols = grid_shape(count)
        assert rows * cols >= count > (rows - 1) * cols


def test_levels_are_round_and_cover_the_values():
    """Colour levels are symmetric round numbers at least as large as every value."""
    assert symmetric_levels(np.array([0.3, -0.72])) == (-0.8, 0.8)
    assert symmetric_levels(np.array([13.0])) == (-15.0, 15.0)
    assert symmetric_levels(np.array([1.0, -1.0])) == (-1.0, 1.0)
    assert symmetric_levels(np.zeros(4)) == (-1.0, 1.0)



def test_strongest_channels_picks_the_largest_kernel_of_each_filter():
    """Each filter's tile is the kernel of its channel with the largest norm."""
    w = np.zeros((3, 4, 3, 3), np.float32)
    w[0, 2] = 1.0
    w[1, 0, 1, 1] = -5.0  # sign does not matter, size does
    w[1, 3] = 1.0
    w[2, 1, 0, 0] = 0.1
    tiles, channels = strongest_channels(w)
    assert channels.tolist() == [2, 0, 1]
    assert tiles.shape == (3, 3, 3)
    for f, c in enumerate(channels):
        np.testing.assert_array_equal(tiles[f], w[f, c])


def test_strongest_channels_of_diverged_weights_neither_overflow_nor_tie():
    """Weights near float32's limit (a diverged run) are compared without overflow."""
    w = np.zeros((2, 3, 3, 3), np.float32)
    w[0, 1] = 1e30  # squared, 1e60 does not fit float32
    w[0, 2] = 2e30
    w[1, 0, 0, 0] = -3e38
    with np.errstate(all="raise"):
        _, channels = strongest_channels(w)
    assert channels.tolist() == [2, 0]


def test_fit_grid_holds_every_tile_and_uses_the_box():
    """The grid has room for every tile, and a wide box gets more columns than rows."""
    for count in (1, 7, 32, 64):
        rows, cols = fit_grid(count, 3, 3, 260, 125)
        assert rows * cols >= count > (rows - 1) * cols
    rows, cols = fit_grid(64, 3, 3, 260, 125)
    assert cols > rows
    assert fit_grid(64, 3, 3, 125, 125) == (8, 8)


@pytest.mark.parametrize(("layer", "title"), [
    (nn.Conv2d(1, 32, 3), "Conv 32 × 3×3"),
    (nn.Conv2d(1, 8, 5, stride=2, padding=1), "Conv 8 × 5×5\nstride 2×2, pad 1×1"),
    (nn.MaxPool2d(2), "Max pool 2×2"),
    (nn.AvgPool2d(3), "Avg pool 3×3"),
    (nn.Linear(10, 128), "Dense 128"),
    (nn.BatchNorm2d(4), "Batch norm"),
    (nn.Dropout(0.3), "Dropout 0.3"),
    (nn.ReLU(), "ReLU"),
    (nn.Flatten(), "Flatten"),
])
def test_layer_title_names_each_kind(layer, title):
    """Each layer kind gets its short column title with its own numbers."""
    assert layer_title(layer) == title


def test_conv_weights_are_keyed_by_column():
    """Only conv layers give weights, keyed by column (the input is column 0)."""
    model = build(NAMED_ARCHS["sample-bn"], np.random.default_rng(0))
    weights = conv_weights(model)
    assert sorted(weights) == [1, 5]  # conv, batch norm, ReLU, pool, conv
    assert weights[5] is model.layers[4].weight.data


def test_enlarged_map_of_a_feature_map_and_of_the_input():
    """A map is shown as it is, with its place among the maps in the heading."""
    a = np.arange(2 * 3 * 4, dtype=float).reshape(1, 2, 3, 4)
    shown = enlarged_map("Conv 2", a, 1)
    np.testing.assert_array_equal(shown.values, a[0, 1])
    assert shown.heading == "Conv 2: map 1 of 2 (maps 0–1), 3 × 4"
    assert shown.explanation == MAP_EXPLANATION and shown.gaps is None
    explanation = map_explanation(None, 0, "input")
    assert enlarged_map("Input", a, 0, explanation).explanation == INPUT_EXPLANATION


def test_enlarged_vector_fills_a_block_in_reading_order():
    """A dense output becomes a block of cells, its unused cells marked as gaps."""
    a = np.arange(20, dtype=float)[None]  # (1, 20)
    shown = enlarged_map("Dense 20", a, -1)
    assert shown.heading == "Dense 20: all 20 numbers (0–19, in reading order)"
    assert shown.values.size >= 20 and shown.gaps.sum() == shown.values.size - 20
    np.testing.assert_array_equal(shown.values[~shown.gaps], a[0])


def test_enlarged_filter_shows_every_channel():
    """A one-channel filter is its kernel; a many-channel one a mosaic of all of them,
    saying which channel its overview tile shows."""
    w = np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2)
    shown = enlarged_filter("Conv 2", w, 1, shown_channel=2)
    assert shown.heading == "Conv 2: filter 1 of 2 (filters 0–1), 3 × 2 × 2"
    np.testing.assert_array_equal(np.sort(shown.values[~shown.gaps]),
                                  np.sort(w[1].ravel()))
    assert "map 2's" in shown.explanation
    single = enlarged_filter("Conv 2", w[:, :1], 0, shown_channel=0)
    np.testing.assert_array_equal(single.values, w[0, 0])
    assert single.explanation == FILTER_EXPLANATION and single.gaps is None


def test_levels_round_up_for_live_views_and_stay_exact_for_the_playground():
    """Rounded: a legend that stays put; exact: the largest |value| itself."""
    values = np.array([0.3, -0.72, np.nan, np.inf])
    assert symmetric_levels(values) == (-0.8, 0.8)
    assert symmetric_levels(values, round_up=False) == (-0.72, 0.72)
    assert symmetric_levels(np.array([13.0])) == (-15.0, 15.0)


def test_levels_are_never_zero_wide():
    """All zeros, all NaN or nothing at all: the scale is -1..1, centred on zero."""
    for values in (np.zeros(4), np.full(3, np.nan), np.zeros((0, 3))):
        assert symmetric_levels(values) == (-1.0, 1.0)
        assert symmetric_levels(values, round_up=False) == (-1.0, 1.0)


KINDS = [nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.AvgPool2d(2),
         nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(4, 3), nn.Dropout(0.5)]


def test_every_layer_kind_has_its_own_enlarged_text():
    """ReLU, pooling, batch norm, ... are not explained with the conv layer's words."""
    texts = [map_explanation(layer, 0) for layer in KINDS]
    texts += [map_explanation(None, 0, role)
              for role in ("input", "scores", "probabilities")]
    assert len(set(texts)) == len(texts)
    assert all("filter" not in text for text in texts[1:])
    assert "max(0, x)" in texts[1] and "largest" in texts[2] and "mean" in texts[3]


def test_a_conv_map_names_its_filters_bias_as_its_background():
    """The text of conv map 1 gives filter 1's real bias: a blank patch shows it."""
    conv = nn.Conv2d(1, 2, 3, rng=np.random.default_rng(0))
    conv.bias.data[:] = [0.25, -0.125]
    text = map_explanation(conv, 1)
    assert "filter 1's bias b = -0.125" in text and "background" in text


def test_a_batch_norm_map_gives_its_own_scale_and_shift():
    """Batch norm map 0's text holds that channel's gamma and beta."""
    bn = nn.BatchNorm2d(2)
    bn.weight.data[:] = [1.5, 2.0]
    bn.bias.data[:] = [-0.5, 0.0]
    assert "γ = 1.5, β = -0.5" in map_explanation(bn, 0)


def test_enlarged_filter_shows_its_bias():
    """A filter's heading and text carry its own entry of the layer's biases."""
    w = np.zeros((3, 1, 3, 3), np.float32)
    shown = enlarged_filter("Conv 3", w, 2, 0, bias=np.array([0.1, 0.2, -0.375]))
    assert shown.heading.endswith("bias -0.375")
    assert "b = -0.375" in shown.explanation


def test_field_growth_of_the_sample_network_follows_kernels_and_strides():
    """conv 3 -> 3 px, pool 2 -> 4 px, conv 3 -> 8 px, pool 2 -> 10 px, then all."""
    model = build(NAMED_ARCHS["sample"], np.random.default_rng(0))
    assert field_growth(model, 3) == ("conv 3×3 → 3 px, max pool 2×2 → 4 px, "
                                      "conv 3×3 → 8 px")
    assert field_growth(model, 5).endswith("max pool 2×2 → 10 px")
    assert field_growth(model, 7).endswith("dense → every pixel")


def test_field_growth_counts_a_stride():
    """A stride-2 conv doubles the steps of every later window."""
    model = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2), nn.Conv2d(2, 2, 3))
    assert field_growth(model, 1) == "conv 3×3 stride 2 → 3 px, conv 3×3 → 7 px"


def test_field_text_gives_the_box_in_rows_and_columns_from_0():
    """The box (2, 4, 6, 8) reads as rows 2–5 and columns 4–7, 4 × 4 pixels."""
    model = build(NAMED_ARCHS["sample"], np.random.default_rng(0))
    text = field_text(model, 2, "map 0", (2, 4, 6, 8))
    assert "rows 2–5, columns 4–7 (4 × 4 px" in text
