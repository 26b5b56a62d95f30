"""The Network tab tells the truth: counting from 0, each layer's own words, the
probabilities' own scale, receptive fields on hover and figures exported."""

import os

import numpy as np
import pytest
from PyQt5.QtCore import QPoint, QPointF, Qt
from PyQt5.QtGui import QImage
from PyQt5.QtWidgets import QApplication

from convlab import explain
from convlab.gui.common import dialogs
from convlab.gui.common.colormaps import PROB_CMAP, SIGNED_CMAP
from convlab.gui.network.columns import MosaicItem
from convlab.gui.network.export import write_figure
from convlab.lab.network import COUNTING_NOTE, field_growth
from convlab.nn import layers

# More than the 10 ms pyqtgraph's scene leaves between two mouse moves it handles.
MOVE_GAP_MS = 30


def _pos(view, item, x, y):
    """The viewport position of item coordinates (x, y)."""
    return view.graphics.mapFromScene(item.mapToScene(QPointF(x, y)))


def click_item(qtbot, view, item, x, y, button=Qt.LeftButton):
    """Click a pyqtgraph item at its own coordinates through the real view."""
    qtbot.mouseClick(view.graphics.viewport(), button, pos=_pos(view, item, x, y))


def drawn(window):
    """Draw a stroke and bring the views up to date."""
    window.input_panel.canvas.add_stroke([(90, 60), (190, 60), (120, 230)])
    window.controller.refresh_now()
    return window.controller.current_input


def column_of(view, kind):
    """The first column showing the output of a layer of that kind."""
    model = view_model(view)
    return next(i + 1 for i, layer in enumerate(model.layers)
                if isinstance(layer, kind))


def view_model(view):
    return view.window().controller.network.model


def test_counting_from_0_is_said_and_followed(qtbot, window):
    """The footer and the enlarged view say that counting starts at 0, and the
    table's headers start at 0 like the heading's map index."""
    view = window.network_view
    assert COUNTING_NOTE in view.caption.text()
    item = view.column_item(1)
    click_item(qtbot, view, item, *item.tile_center(0))
    detail = window.detail_view
    assert detail.counting.text() == COUNTING_NOTE and detail.counting.isVisible()
    assert "map 0 of" in detail.heading.text()
    table = detail.table
    assert table.verticalHeaderItem(0).text() == "0"
    assert table.horizontalHeaderItem(table.columnCount() - 1).text() == str(
        table.columnCount() - 1)


def test_each_layer_kind_is_explained_in_its_own_words(qtbot, window):
    """The enlarged ReLU and pooling maps do not reuse the conv map's text."""
    drawn(window)
    view = window.network_view
    texts = {}
    for kind in (layers.Conv2d, layers.ReLU, layers.MaxPool2d):
        item = view.column_item(column_of(view, kind))
        click_item(qtbot, view, item, *item.tile_center(1))
        texts[kind] = window.detail_view.explanation.text()
    assert len(set(texts.values())) == 3
    assert "max(0, x)" in texts[layers.ReLU]
    assert "filter" not in texts[layers.ReLU] and "largest" in texts[
        layers.MaxPool2d]


def test_a_filter_popup_gives_the_filters_real_bias(qtbot, window):
    """Filter 4's enlarged view shows that filter's own bias value."""
    view = window.network_view
    column = column_of(view, layers.Conv2d)
    bias = float(view_model(view).layers[column - 1].bias.data[4])
    item = view.filter_item(column)
    click_item(qtbot, view, item, *item.tile_center(4))
    detail = window.detail_view
    assert detail.heading.text().endswith(f"bias {bias:.3g}")
    assert f"b = {bias:.3g}" in detail.explanation.text()


def test_probabilities_have_their_own_colour_scale(qtbot, window):
    """The probabilities column is painted with a sequential map, not the signed."""
    view = window.network_view
    last = len(view.columns()) - 1
    assert view.column_item(last).getColorMap() is PROB_CMAP
    assert view.column_item(last - 1).getColorMap() is SIGNED_CMAP
    blue_end = SIGNED_CMAP.map(0.0)
    assert not np.array_equal(PROB_CMAP.map(1.0), blue_end)
    assert "green" in view.caption.text()


def test_hovering_a_unit_draws_its_receptive_field(qtbot, window):
    """Hovering a unit of map 5 after the second conv boxes exactly
    explain.receptive_field of that unit on the input, tinted with d(unit)/dx."""
    window.resize(1920, 1080)
    x = drawn(window)
    view = window.network_view
    model = view_model(view)
    column = [i + 1 for i, layer in enumerate(model.layers)
              if isinstance(layer, layers.Conv2d)][1]
    item = view.column_item(column)
    qtbot.wait(MOVE_GAP_MS)
    qtbot.mouseMove(view.graphics.viewport(),
                    _pos(view, item, *item.unit_center(5, 2, 3)))
    QApplication.processEvents()
    # The unit under the mouse's whole pixel (a map cell may be under 2 pixels).
    hovered = view.window().controller.network._hovered
    assert hovered[:2] == (column, 5)
    row, col = hovered[2:]
    assert abs(row - 2) <= 1 and abs(col - 3) <= 1
    box, gradient = view.field_shown()
    assert box == explain.receptive_field(model, column - 1, row, col)
    np.testing.assert_allclose(
        gradient, explain.unit_gradient(model, x, column - 1, 5, row, col))
    text = view.field_label.text()
    top, left, bottom, right = box
    assert f"rows {top}–{bottom - 1}, columns {left}–{right - 1}" in text
    assert field_growth(model, column - 1) in text
    off = _off_every_map(view)
    # pyqtgraph's scene ignores a mouse move within 10 ms of the last one it took
    # (its mouseRateLimit), so each move waits that long first. Two moves: QTest
    # drops a move to where its last one left the cursor.
    for point in (off - QPoint(1, 1), off):
        qtbot.wait(MOVE_GAP_MS)
        qtbot.mouseMove(view.graphics.viewport(), point)
        QApplication.processEvents()
    qtbot.waitUntil(lambda: view.field_shown() is None, timeout=2000)


def _off_every_map(view):
    """A point of the Network view's viewport over no map, filter or vector."""
    viewport = view.graphics.viewport()
    for y in range(viewport.height() - 2, 1, -10):
        for x in range(viewport.width() - 2, 1, -10):
            if not any(isinstance(item, MosaicItem)
                       for item in view.graphics.items(QPoint(x, y))):
                return QPoint(x, y)
    raise AssertionError("every point of the view is on a map")


def test_export_writes_a_png_that_loads_back(qtbot, window, tmp_path, monkeypatch):
    """Right-click a column, choose Export, name a .png: the file is a real image."""
    view = window.network_view
    target = tmp_path / "conv.png"
    monkeypatch.setattr(dialogs, "ask_save_file", lambda *args: str(target))
    item = view.column_item(1)
    click_item(qtbot, view, item, *item.tile_center(0), button=Qt.RightButton)
    actions = view.export_menu.actions()
    assert [a.text() for a in actions] == ["Export picture as PNG or SVG…"]
    actions[0].trigger()
    image = QImage(str(target))
    assert not image.isNull() and image.width() >= 800


def test_export_as_svg_writes_an_svg_document(qtbot, window, tmp_path):
    """A .svg name gives an SVG drawing."""
    target = tmp_path / "filters.svg"
    assert write_figure(window, window.network_view.filter_item(1).getViewBox(),
                        target)
    assert b"<svg" in target.read_bytes()


def test_export_to_a_folder_that_cannot_be_written_says_so(window, tmp_path,
                                                           messages):
    """A target under a file (no folder can be made there) gives a clear message
    and leaves nothing behind."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    item = window.network_view.column_item(1).getViewBox()
    assert not write_figure(window, item, blocker / "map.png")
    (kind, title, text), = messages
    assert kind == "error" and "could not be saved" in text
    assert "folder you can write to" in text


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_export_to_a_read_only_folder_says_so(window, tmp_path, messages):
    """A read-only folder gives the message and no file."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    item = window.network_view.column_item(1).getViewBox()
    assert not write_figure(window, item, folder / "map.png")
    assert messages and "Permission denied" in messages[0][2]
    assert not list(folder.iterdir())
