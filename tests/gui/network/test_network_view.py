"""Tests for the feature-map mosaics of the Network tab."""

import itertools

import numpy as np
import pytest
from PyQt5.QtCore import QPointF, QRectF
from PyQt5.QtGui import QFontMetricsF
from PyQt5.QtWidgets import QApplication

from convlab.gui.network.columns import MosaicItem
from convlab.gui.network.view import NetworkView
from convlab.lab.network import GAP, conv_weights
from convlab.nn.architectures import NAMED_ARCHS, build
from convlab.nn.functional import softmax


def test_tile_at_inverts_tile_center(qtbot):
    """The tile found under a tile's centre is that tile; gaps give None."""
    item = MosaicItem()
    item.set_tiles(np.zeros((10, 4, 4), np.float32), levels=(-1, 1), rows=4, cols=3)
    for index in range(10):
        assert item.tile_at(*item.tile_center(index)) == index
    assert item.tile_at(4.5, 1.0) is None  # the gap after the first column
    assert item.tile_at(7.0, 16.0) is None  # past the last tile


def _show(view, model):
    """Build view's columns for model and fill them, as the controller does."""
    probe = np.zeros((1, 1, 28, 28), np.float32)
    outputs = model.activations(probe)
    view.set_layers(model.layers, [a.shape for a in outputs])
    view.set_activations(probe, outputs, softmax(outputs[-1].astype(np.float64)))
    view.set_filters(conv_weights(model))


def _layout_cells(view):
    """Every item in the view's bands as (band, kind, [(row, col), ...]), sorted."""
    return sorted((b, type(item).__name__, cells)
                  for b, band in enumerate(view.graphics.ci.items)
                  for item, cells in band.items.items())


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
        assert view.bands() == fresh.bands()
        for col in range(1, len(view.columns())):
            conv = fresh.filter_item(col) is not None
            assert (view.filter_item(col) is not None) == conv
            if conv:
                assert view.filter_caption(col) == fresh.filter_caption(col)


def _viewport_rect(view, item):
    """An item's rectangle in the pixels of the Network view's viewport."""
    return view.graphics.mapFromScene(item.sceneBoundingRect()).boundingRect()


@pytest.mark.parametrize("size", [(1024, 768), (1280, 800), (1920, 1080)])
def test_every_column_is_in_view_without_scrolling(qtbot, window, size):
    """At each screen size every column's title, maps, shape, legend and filters
    lie inside the visible viewport, and the viewport inside the window."""
    window.resize(*size)
    for _ in range(3):
        QApplication.processEvents()
    assert (window.width(), window.height()) == size
    view = window.network_view
    viewport = view.graphics.viewport()
    visible = viewport.rect()
    corner = viewport.mapTo(window, viewport.rect().bottomRight())
    assert window.rect().contains(corner)
    columns = [view._columns[c] for c in range(len(view.columns()))]
    assert sum(len(band) for band in view.bands()) == len(columns)
    for column in columns:
        parts = list(column.items())
        if column.filters is not None:
            parts += list(column.filters.items())
        for part in parts:
            rect = _viewport_rect(view, part)
            assert visible.contains(rect), (column.name, type(part).__name__, rect)
    assert not view.graphics.horizontalScrollBar().isVisible()


def test_filters_share_the_grid_of_the_maps_they_make(qtbot):
    """Filter k sits where map k does: a conv column's filters and maps use one grid."""
    view = NetworkView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    _show(view, build(NAMED_ARCHS["sample"], np.random.default_rng(0)))
    for col in range(1, len(view.columns())):
        filters = view.filter_item(col)
        if filters is not None:
            maps = view.column_item(col)
            assert (filters.rows, filters.cols) == (maps.rows, maps.cols)
            assert filters.count == maps.count


def test_a_flattened_vector_is_one_strip_with_its_length(qtbot):
    """Flatten's column is one unbroken strip of all its numbers, its length below."""
    model = build(NAMED_ARCHS["sample"], np.random.default_rng(0))
    view = NetworkView()
    qtbot.addWidget(view)
    _show(view, model)
    col = next(i + 1 for i, layer in enumerate(model.layers)
               if type(layer).__name__ == "Flatten")
    item = view.column_item(col)
    n = view.activation(col).size
    assert (item.rows, item.cols, item.gap) == (n, 1, 0)
    assert item.image.shape == (n, 1)
    assert view._columns[col].shape.text == f"{n} numbers"


def test_closing_the_window_empties_the_network_scene(qtbot, window):
    """The window's close takes every band and picture out of the Network scene
    (destroyed with them in it, Qt laid out half-destroyed bands and crashed)."""
    view = window.network_view
    assert view.graphics.ci.items
    window.close()
    assert not view.graphics.ci.items
    assert not [item for item in view.graphics.scene().items()
                if isinstance(item, MosaicItem)]


@pytest.mark.parametrize("size", [(1024, 768), (1280, 800), (1920, 1080)])
def test_class_score_digits_never_overlap(qtbot, window, size):
    """At each screen size the digits 0-9 beside the Scores and Probabilities columns
    stand clear of each other (a clear pixel row between), each level with its cell."""
    window.resize(*size)
    for _ in range(3):
        QApplication.processEvents()
    view = window.network_view
    labelled = [c for c in view._columns
                if c.digit_labels and c.digit_labels[0].isVisible()]
    assert len(labelled) == 2
    for column in labelled:
        assert all(label.isVisible() for label in column.digit_labels)
        glyphs = [_glyph_rect(view, label) for label in column.digit_labels]
        for digit, (upper, lower) in enumerate(itertools.pairwise(glyphs)):
            assert upper.bottom() + 1 < lower.top(), (column.name, digit, size)
        for digit, glyph in enumerate(glyphs):
            centre = column.view.mapViewToScene(QPointF(0.5, digit * (1 + GAP) + 0.5))
            cell_y = view.graphics.mapFromScene(centre).y()
            assert abs(glyph.center().y() - cell_y) <= 2, (column.name, digit, size)


def _glyph_rect(view, label):
    """The viewport pixels a digit label's glyph covers (its text's tight bounds)."""
    metrics = QFontMetricsF(label.textItem.font())
    glyph = metrics.tightBoundingRect(label.textItem.toPlainText())
    box = label.textItem.boundingRect()
    # The text item centres its line box on the anchor; the glyph sits inside it.
    offset = box.center() - QRectF(glyph).center()
    glyph = QRectF(glyph).translated(offset.x(), offset.y())
    return view.graphics.mapFromScene(
        label.textItem.mapRectToScene(glyph)).boundingRect()
