"""Tests for the feature-map mosaics of the Network tab."""

import numpy as np

from convlab.gui.network.view import (
    MosaicItem,
    NetworkView,
    fit_grid,
    grid_shape,
    mosaic,
    strongest_channels,
    symmetric_levels,
)
from convlab.nn.architectures import NAMED_ARCHS, build
from convlab.nn.functional import softmax


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


def test_tile_at_inverts_tile_center(qtbot):
    """The tile found under a tile's centre is that tile; gaps give None."""
    item = MosaicItem()
    item.set_tiles(np.zeros((10, 4, 4), np.float32), levels=(-1, 1), rows=4, cols=3)
    for index in range(10):
        assert item.tile_at(*item.tile_center(index)) == index
    assert item.tile_at(4.5, 1.0) is None  # the gap after the first column
    assert item.tile_at(7.0, 16.0) is None  # past the last tile


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


def test_fit_grid_holds_every_tile_and_uses_the_box():
    """The grid has room for every tile, and a wide box gets more columns than rows."""
    for count in (1, 7, 32, 64):
        rows, cols = fit_grid(count, 3, 3, 260, 125)
        assert rows * cols >= count > (rows - 1) * cols
    rows, cols = fit_grid(64, 3, 3, 260, 125)
    assert cols > rows
    assert fit_grid(64, 3, 3, 125, 125) == (8, 8)


def _show(view, model):
    """Build view's columns for model and fill them, as the controller does."""
    probe = np.zeros((1, 1, 28, 28), np.float32)
    outputs = model.activations(probe)
    view.set_layers(model.layers, [a.shape for a in outputs])
    view.set_activations(probe, outputs, softmax(outputs[-1].astype(np.float64)))
    view.set_filters({i + 1: layer.weight.data for i, layer in enumerate(model.layers)
                      if type(layer).__name__ == "Conv2d"})


def _layout_cells(view):
    """Every item in the view's layout as (kind, [(row, col), ...]), sorted."""
    return sorted((type(item).__name__, cells)
                  for item, cells in view.graphics.ci.items.items())


def test_set_layers_with_the_same_architecture_reuses_the_columns(qtbot):
    """New weights for the same layers keep every column's items: only data changes."""
    view = NetworkView()
    qtbot.addWidget(view)
    _show(view, build(NAMED_ARCHS["sample"], np.random.default_rng(0)))
    maps = [view.column_item(c) for c in range(len(view.columns()))]
    filters = view.filter_item(1)
    fresh = build(NAMED_ARCHS["sample"], np.random.default_rng(1))
    _show(view, fresh)
    assert [view.column_item(c) for c in range(len(maps))] == maps
    assert all(a is b for a, b in zip(
        maps, [view.column_item(c) for c in range(len(maps))], strict=True))
    assert view.filter_item(1) is filters
    np.testing.assert_array_equal(view.filter_weights(1), fresh.layers[0].weight.data)


def test_changing_the_architecture_lays_out_what_a_new_view_would(qtbot):
    """After switching between networks of different sizes, the layout holds exactly
    the items a freshly built view has for the network now shown, with its titles."""
    view = NetworkView()
    qtbot.addWidget(view)
    rng = np.random.default_rng(0)
    for name in ("deep", "tiny", "sample-bn", "sample"):
        model = build(NAMED_ARCHS[name], rng)
        _show(view, model)
        fresh = NetworkView()
        qtbot.addWidget(fresh)
        _show(fresh, model)
        assert view.columns() == fresh.columns()
        assert _layout_cells(view) == _layout_cells(fresh)
        assert view.graphics.minimumWidth() == fresh.graphics.minimumWidth()
        for col in range(1, len(view.columns())):
            conv = fresh.filter_item(col) is not None
            assert (view.filter_item(col) is not None) == conv
            if conv:
                assert view.filter_caption(col) == fresh.filter_caption(col)
