"""The Network tab in depth: a deeper filter's channels added up, a conv layer on a
batch, and batch normalization, each driven through the real window."""

import numpy as np
from PyQt5.QtCore import QPointF, Qt

from convlab.nn import layers

SCREEN = (1024, 768)


def click_item(qtbot, view, item, x, y):
    """Click a pyqtgraph item at its own coordinates through the real view."""
    pos = view.graphics.mapFromScene(item.mapToScene(QPointF(x, y)))
    qtbot.mouseClick(view.graphics.viewport(), Qt.LeftButton, pos=pos)


def drawn(window):
    """Draw a stroke and bring the views up to date; return the 28x28 input."""
    window.input_panel.canvas.add_stroke([(90, 60), (190, 60), (120, 230)])
    window.controller.refresh_now()
    return window.controller.current_input


def conv_columns(window):
    """The columns of the conv layers, in order."""
    model = window.controller.view_model
    return [i + 1 for i, layer in enumerate(model.layers)
            if isinstance(layer, layers.Conv2d)]


def state_of(model):
    """Copies of every parameter and buffer, to compare after the views opened."""
    return ([p.data.copy() for p in model.parameters()]
            + [v.copy() for _, v in model.named_buffers()])


def assert_fits_the_screen(dialog):
    """The dialog and everything it needs fit a 1024x768 screen."""
    hint = dialog.minimumSizeHint()
    assert hint.width() <= SCREEN[0] and hint.height() <= SCREEN[1] - 40
    assert dialog.width() <= SCREEN[0] and dialog.height() <= SCREEN[1] - 40


def test_a_deeper_filter_shows_its_partial_maps_adding_up(qtbot, window):
    """Conv 2's filter 6 shows its 32 partial maps, biggest share first and named by
    channel from 0, and they add up with the bias to the layer's own output map."""
    x = drawn(window)
    view, model = window.network_view, window.controller.view_model
    column = conv_columns(window)[1]
    item = view.filter_item(column)
    click_item(qtbot, view, item, *item.tile_center(6))
    detail = window.detail_view
    panel = detail.channel_sums
    assert detail.isVisible() and panel.isVisible()
    layer = model.layers[column - 1]
    expected = model.activations(x[None, None].astype(np.float32))[column - 1][0, 6]
    partials = panel.partials.maps()  # (C, out_h, out_w), biggest share first
    assert len(partials) == layer.in_channels == 32
    np.testing.assert_allclose(partials.sum(axis=0) + layer.bias.data[6], expected,
                               rtol=1e-4, atol=1e-5)
    shares = np.abs(partials).sum(axis=(1, 2))
    assert np.all(np.diff(shares) <= 1e-9)
    order = panel.sums().maps.order
    assert [label.split("\n")[0] for label in panel.partials.labels()] == [
        f"channel {c}" for c in order]
    np.testing.assert_allclose(panel.result.maps()[1], expected, rtol=1e-6)
    assert "before the ReLU" in panel.explanation.text()
    assert "= this layer's output map" in panel.check.text()
    assert f"bias {layer.bias.data[6]:.3g}" in panel.check.text()
    assert_fits_the_screen(detail)


def test_a_first_layer_filter_has_no_partial_maps(qtbot, window):
    """Conv 1's filters read one channel: the enlarged view shows only the weights."""
    drawn(window)
    view = window.network_view
    item = view.filter_item(conv_columns(window)[0])
    click_item(qtbot, view, item, *item.tile_center(2))
    assert window.detail_view.isVisible()
    assert window.detail_view.channel_sums.isHidden()
