"""Tests for the Network tab's Backward view, driven through the real window."""

import numpy as np
import pytest
from PyQt5.QtCore import QPointF, Qt

from convlab import explain
from convlab.gui.common.colormaps import GREY_CMAP
from convlab.lab.backward import (
    RELATIVE_TICKS,
    gradient_text,
    number,
    runner_up,
    scaled_maps,
)
from convlab.lab.network import mosaic
from convlab.lab.snapshots import take_snapshot
from convlab.nn import layers


def click_item(qtbot, graphics, item, x, y):
    """Click a pyqtgraph item at its own coordinates (x, y) through the real view."""
    pos = graphics.mapFromScene(item.mapToScene(QPointF(x, y)))
    qtbot.mouseClick(graphics.viewport(), Qt.LeftButton, pos=pos)


def drawn(window):
    """Draw a stroke on the canvas and bring the views up to date."""
    window.input_panel.canvas.add_stroke([(90, 60), (190, 60), (120, 230)])
    window.controller.refresh_now()
    return window.controller.current_input


def go_backward(qtbot, window):
    """Click the Backward button and redraw at once."""
    qtbot.mouseClick(window.network_view.backward_bar.backward_button, Qt.LeftButton)
    window.controller.refresh_now()


def shown_tiles(item):
    """The image a MosaicItem shows, as the float32 array it was given."""
    return np.asarray(item.image, np.float32)


def assert_backward_shows(view, trace):
    """Every column and filter overview holds and draws trace's gradients."""
    rows = [trace.grad_input] + [layer.grad_output for layer in trace.layers]
    for col, grad in enumerate(rows):
        np.testing.assert_allclose(view.gradient(col), grad)
        item = view.column_item(col)
        if grad.ndim == 3 or col == 0:
            tiles = grad.reshape(-1, *grad.shape[-2:])  # (C, H, W)
            np.testing.assert_allclose(
                shown_tiles(item), mosaic(tiles, item.rows, item.cols), rtol=1e-6,
                atol=1e-12)
    for col in range(1, len(view.columns()) - 1):
        if view.filter_item(col) is None:
            continue
        dw = trace.layers[col - 1].grad_weight
        np.testing.assert_allclose(view.weight_gradient(col), dw)
        item = view.filter_item(col)
        tiles = dw[np.arange(len(dw)), view.filter_channels(col)]  # (F, kh, kw)
        np.testing.assert_allclose(shown_tiles(item),
                                   mosaic(tiles, item.rows, item.cols), rtol=1e-6,
                                   atol=1e-12)


def test_backward_maps_are_backprops_gradients_for_the_predicted_digit(qtbot,
                                                                        window):
    """For a drawing, Backward shows dL/d(output), dL/dx and dL/dW of backprop with
    the predicted digit as target."""
    x = drawn(window)
    go_backward(qtbot, window)
    view, model = window.network_view, window.controller.view_model
    assert view.is_backward()
    predicted = int(np.argmax(window.prediction_panel.probabilities()))
    trace = explain.backprop(model, x, predicted)
    assert_backward_shows(view, trace)
    assert view.column_item(0).getColorMap() is not GREY_CMAP
    bar = view.backward_bar
    assert bar.target() is None
    assert bar.target_combo.currentText() == f"auto: {predicted} (prediction)"
    assert "dL/d(output)" in view.caption.text()


def test_picking_a_target_redraws_the_gradients_for_it(qtbot, window):
    """Choosing another target digit shows backprop's gradients for that digit."""
    x = drawn(window)
    go_backward(qtbot, window)
    view = window.network_view
    before = view.gradient(1).copy()
    predicted = int(np.argmax(window.prediction_panel.probabilities()))
    target = (predicted + 1) % 10
    view.backward_bar.target_combo.setCurrentIndex(target + 1)  # item 0 is auto
    window.controller.refresh_now()
    trace = explain.backprop(window.controller.view_model, x, target)
    assert_backward_shows(view, trace)
    assert not np.allclose(view.gradient(1), before)
    assert f"P({target})" in view.backward_bar.note.text()


def test_a_test_image_explains_its_true_digit(qtbot, window, tiny_dataset):
    """A test image's default target is its label, even a picked target before."""
    controller = window.controller
    controller.set_dataset(tiny_dataset)
    go_backward(qtbot, window)
    bar = window.network_view.backward_bar
    bar.set_target(0)
    controller.show_test_image(3)
    controller.refresh_now()
    label = int(tiny_dataset.y_test[3])
    assert bar.target() is None
    assert bar.target_combo.currentText() == f"auto: {label} (true digit)"
    trace = explain.backprop(controller.view_model, controller.current_input, label)
    assert_backward_shows(window.network_view, trace)


def test_sure_network_says_so_and_offers_the_runner_up(qtbot, window):
    """When the network is sure of the target the note says every gradient is close
    to zero; the runner-up button makes the next guess the target."""
    controller = window.controller
    x = drawn(window)
    # Sharpen the GUI copy's scores tenfold: it becomes sure of its prediction.
    last = controller.view_model.layers[-1]
    last.weight.data *= 10
    last.bias.data *= 10
    controller.network.weights_changed()
    go_backward(qtbot, window)
    bar = window.network_view.backward_bar
    trace = explain.backprop(controller.view_model, x,
                             int(np.argmax(window.prediction_panel.probabilities())))
    target = int(np.argmax(trace.probabilities))
    assert trace.probabilities[target] > 0.99
    assert f"already sure this is a {target}" in bar.note.text()
    assert "every gradient is close to zero" in bar.note.text()
    assert bar.note.text().startswith(f"Loss {number(trace.loss)}:")
    other = runner_up(trace.probabilities, target)
    assert bar.runner_up_button.isVisible()
    assert bar.runner_up_button.text() == f"Explain a {other} instead"
    qtbot.mouseClick(bar.runner_up_button, Qt.LeftButton)
    controller.refresh_now()
    assert bar.target() == other
    assert_backward_shows(window.network_view,
                          explain.backprop(controller.view_model, x, other))
    assert "already sure" not in bar.note.text()
    assert not bar.runner_up_button.isVisible()


def test_switching_back_to_forward_shows_the_activations(qtbot, window):
    """Forward after Backward draws the layer outputs, the filters and the input."""
    x = drawn(window)
    go_backward(qtbot, window)
    view = window.network_view
    qtbot.mouseClick(view.backward_bar.forward_button, Qt.LeftButton)
    window.controller.refresh_now()
    assert not view.is_backward()
    model = window.controller.view_model
    outputs = model.activations(x[None, None].astype(np.float32))
    for col, a in enumerate(outputs, start=1):
        np.testing.assert_allclose(view.activation(col), a, rtol=1e-5, atol=1e-6)
        if a.ndim == 4:
            item = view.column_item(col)
            np.testing.assert_allclose(shown_tiles(item),
                                       mosaic(a[0], item.rows, item.cols),
                                       rtol=1e-5, atol=1e-6)
    conv = next(c for c in range(1, len(outputs) + 1) if view.filter_item(c))
    item, w = view.filter_item(conv), view.filter_weights(conv)
    tiles = w[np.arange(len(w)), view.filter_channels(conv)]
    np.testing.assert_allclose(shown_tiles(item), mosaic(tiles, item.rows, item.cols))
    assert view.column_item(0).getColorMap() is GREY_CMAP
    assert not view.backward_bar.target_combo.isVisible()
    assert "dL/d" not in view.caption.text()


def test_a_training_snapshot_updates_the_backward_maps(qtbot, window):
    """New weights from the worker redraw the gradients from the GUI's copy."""
    controller = window.controller
    x = drawn(window)
    go_backward(qtbot, window)
    view = window.network_view
    target = 2
    view.backward_bar.set_target(target)
    controller.refresh_now()
    before = view.weight_gradient(1).copy()
    conv = next(layer for layer in controller.model.layers
                if isinstance(layer, layers.Conv2d))
    conv.weight.data *= 0.5  # what a training step would change, in the live model
    probe = x[None, None].astype(np.float32)  # (1, 1, 28, 28)
    controller.session.weights_updated.emit(take_snapshot(controller.model, 1, probe))
    controller.refresh_now()
    np.testing.assert_allclose(controller.view_model.layers[0].weight.data,
                               conv.weight.data)
    assert_backward_shows(view, explain.backprop(controller.view_model, x, target))
    assert not np.allclose(view.weight_gradient(1), before)


def test_backprop_runs_only_when_weights_input_or_target_change(qtbot, window,
                                                                monkeypatch):
    """Redraws with nothing new, a new colour scale or a trip to Forward reuse the
    trace; a new target computes one more."""
    calls = []
    real = explain.backprop
    monkeypatch.setattr(explain, "backprop",
                        lambda *args: calls.append(args[2]) or real(*args))
    drawn(window)
    go_backward(qtbot, window)
    controller, bar = window.controller, window.network_view.backward_bar
    count = len(calls)
    assert count >= 1
    controller.refresh_now()
    bar.scale_combo.setCurrentIndex(1)
    controller.refresh_now()
    qtbot.mouseClick(bar.forward_button, Qt.LeftButton)
    controller.refresh_now()
    qtbot.mouseClick(bar.backward_button, Qt.LeftButton)
    controller.refresh_now()
    assert len(calls) == count
    bar.set_target((calls[-1] + 1) % 10)
    controller.refresh_now()
    assert len(calls) == count + 1


def test_per_map_scale_draws_each_map_on_its_own_scale(qtbot, window):
    """One scale per map: each tile is its gradient over its own largest |value|,
    the legend runs from -1 to 1 and says so."""
    x = drawn(window)
    go_backward(qtbot, window)
    view = window.network_view
    view.backward_bar.scale_combo.setCurrentIndex(1)
    window.controller.refresh_now()
    target = int(np.argmax(window.prediction_panel.probabilities()))
    trace = explain.backprop(window.controller.view_model, x, target)
    grad = trace.layers[0].grad_output
    np.testing.assert_allclose(view.gradient(1), grad)  # the numbers stay the same
    tiles, levels, _ = scaled_maps(grad, per_map=True)
    item = view.column_item(1)
    np.testing.assert_allclose(shown_tiles(item), mosaic(tiles, item.rows, item.cols),
                               rtol=1e-6, atol=1e-12)
    np.testing.assert_array_equal(item.levels, levels)
    axis = view._columns[1].legend.getAxis("bottom")
    assert axis._tickLevels == [list(RELATIVE_TICKS)]
    assert "its own largest |value|" in view._columns[1].legend.toolTip()


def test_legend_tooltip_plugs_in_the_loss(qtbot, window):
    """A Backward column's legend says what it shows, with the loss's numbers."""
    x = drawn(window)
    go_backward(qtbot, window)
    view = window.network_view
    target = int(np.argmax(window.prediction_panel.probabilities()))
    trace = explain.backprop(window.controller.view_model, x, target)
    tip = view._columns[1].legend.toolTip()
    assert tip.startswith("dL/d(output) for Conv")
    assert f"L = −log P({target})" in tip
    largest = np.abs(trace.layers[0].grad_output).max()
    assert f"Largest |dL/d(output)| here: {number(largest)}" in tip
    bar = view.backward_bar
    for control in (bar.forward_button, bar.backward_button, bar.target_combo,
                    bar.scale_combo, bar.runner_up_button):
        assert len(control.toolTip()) > 60 and control.accessibleName()


def test_enlarged_map_in_backward_shows_its_gradient(qtbot, window):
    """Clicking a map in Backward enlarges its dL/d(output) with a gradient text;
    clicking a filter enlarges its dL/dW without the edit button."""
    x = drawn(window)
    go_backward(qtbot, window)
    view, detail = window.network_view, window.detail_view
    target = int(np.argmax(window.prediction_panel.probabilities()))
    trace = explain.backprop(window.controller.view_model, x, target)
    item = view.column_item(1)
    click_item(qtbot, view.graphics, item, *item.tile_center(3))
    np.testing.assert_allclose(detail.array(), trace.layers[0].grad_output[3])
    assert detail.heading.text().startswith("Gradient dL/d(output)")
    assert "A gradient map" in detail.explanation.text()
    assert "feature map: each number is how strongly" not in \
        detail.explanation.text()
    assert "dL/d(output) for map 3 of" in detail.legend.toolTip()
    assert "One scale for the whole map" in detail.legend.toolTip()
    value = float(trace.layers[0].grad_output[3].flat[0])
    assert detail.table.item(0, 0).text() == gradient_text(value)
    item = view.filter_item(1)
    click_item(qtbot, view.graphics, item, *item.tile_center(5))
    np.testing.assert_allclose(detail.array(), trace.layers[0].grad_weight[5, 0])
    assert "dL/dW" in detail.explanation.text()
    assert not detail.edit_button.isVisible()


@pytest.mark.parametrize("column", [0, -2])
def test_enlarged_input_and_vector_gradients(qtbot, window, column):
    """The input's enlarged gradient is dL/dx; a dense layer's is its vector."""
    x = drawn(window)
    go_backward(qtbot, window)
    view, detail = window.network_view, window.detail_view
    column = column % len(view.columns())
    target = int(np.argmax(window.prediction_panel.probabilities()))
    trace = explain.backprop(window.controller.view_model, x, target)
    item = view.column_item(column)
    click_item(qtbot, view.graphics, item, *item.tile_center(0))
    expected = trace.grad_input if column == 0 else \
        trace.layers[column - 1].grad_output
    shown = detail.array()
    np.testing.assert_allclose(shown[np.isfinite(shown)], expected.ravel())
    assert "dL/dx" in detail.heading.text() or column != 0


def test_backward_maps_follow_a_real_training_run(qtbot, window, tiny_dataset):
    """While the worker trains, its snapshots redraw the gradients; after the run
    they are backprop's for the final weights."""
    from convlab.train import TrainConfig, Trainer

    controller = window.controller
    x = drawn(window)
    go_backward(qtbot, window)
    view = window.network_view
    before = view.weight_gradient(1).copy()
    model, train = controller.model, (tiny_dataset.x_train, tiny_dataset.y_train)
    config = TrainConfig(epochs=1000, batch_size=8, lr=5e-3)
    controller.session.start_trainer(
        lambda: Trainer(model, train, None, config, rng=np.random.default_rng(0)))
    qtbot.waitUntil(lambda: not np.allclose(view.weight_gradient(1), before),
                    timeout=20000)
    controller.session.stop()
    with qtbot.waitSignal(controller.session.finished, timeout=20000):
        pass
    controller.refresh_now()
    target = int(np.argmax(window.prediction_panel.probabilities()))
    assert_backward_shows(view, explain.backprop(controller.view_model, x, target))


def test_blank_input_says_nothing_is_drawn(qtbot, window):
    """With nothing drawn, the note says the gradients are for a blank image."""
    window.input_panel.canvas.clear()
    go_backward(qtbot, window)
    assert window.network_view.backward_bar.note.text().startswith("Nothing drawn")
    model, blank = window.controller.view_model, np.zeros((28, 28))
    # The prediction panel shows nothing for a blank input: ask the network.
    target = int(np.argmax(explain.backprop(model, blank, 0).probabilities))
    assert_backward_shows(window.network_view, explain.backprop(model, blank, target))
