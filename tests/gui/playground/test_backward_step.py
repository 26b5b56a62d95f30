"""The Playground's backward step-through: running dW, db, dx vs reference's loops."""

import numpy as np
import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtGui import QFontMetrics
from PyQt5.QtWidgets import QComboBox, QPushButton, QSlider, QSpinBox
from seven_digit import seven

from convlab import explain, nn
from convlab.gui.playground import PlaygroundPanel
from convlab.nn import reference


@pytest.fixture
def panel(qtbot):
    """A shown playground on the test digit shrunk to 7x7, the backward tab chosen."""
    widget = PlaygroundPanel(rng=np.random.default_rng(0))
    qtbot.addWidget(widget)
    widget.set_input_image(seven())
    widget.controls.set_input_factor(4)
    widget.controls.set_padding(1)
    widget.resize(1400, 1000)
    widget.show()
    qtbot.waitExposed(widget)
    bar = widget.directions.tabBar()
    qtbot.mouseClick(bar, Qt.LeftButton, pos=bar.tabRect(1).center())
    assert widget.directions.currentWidget() is widget.backward
    return widget


def _control(view, kind, name):
    """The view's control of that kind with that accessible name."""
    return next(w for w in view.findChildren(kind) if w.accessibleName() == name)


def _choose(view, name, data):
    """Pick the item holding `data` in the named combo box, as a student would."""
    box = _control(view, QComboBox, name)
    box.setCurrentIndex(box.findData(data))


def _step_to_end(view):
    """Click "Step forward" until the walk is at its last cell."""
    forward = _control(view, QPushButton, "Step forward")
    for _ in range(view.step_count() - 1 - view.current_step().index):
        forward.click()
    assert view.current_step().index == view.step_count() - 1


def _reference_conv(panel, dout):
    """reference.conv_backward on the pipeline's input, kernel, stride and padding."""
    r = panel.results()
    cache = (r.input[None, None], r.kernel[None, None], np.zeros(1),
             (r.stride, r.stride), (r.padding, r.padding))
    dx, dw, db = reference.conv_backward(dout[None, None], cache)
    return dx[0, 0], dw[0, 0], db[0]


@pytest.mark.parametrize("source", ["ones", "single"])
def test_stepping_to_the_end_gives_conv_backwards_gradients(panel, source):
    """After the last cell dW, db and dx are reference.conv_backward's for dout."""
    view = panel.backward
    _choose(view, "Gradient arriving at the output", source)
    _step_to_end(view)
    dout = view.dout()
    assert dout.shape == panel.results().conv.shape
    dx, dw, db = _reference_conv(panel, dout)
    running = view.running()
    np.testing.assert_array_equal(running["dw"], dw)
    assert running["db"] == db
    assert running["db"] == pytest.approx(dout.sum())
    np.testing.assert_array_equal(running["dx"], dx)
    np.testing.assert_array_equal(view.dw_view.current_map(), dw)


def test_play_walks_back_to_the_end_and_stops(panel, qtbot):
    """Play steps on its timer, stops at the last cell: dW is conv_backward's."""
    view = panel.backward
    play = _control(view, QPushButton, "Play or pause")
    _control(view, QSpinBox, "Step-through speed").setValue(30)
    play.click()
    last = view.step_count() - 1
    # 49 cells at 30 a second take under 2 s; each tick redraws the views, which on a
    # loaded machine can take much longer, so the bound is generous.
    qtbot.waitUntil(lambda: view.current_step().index == last, timeout=30000)
    qtbot.waitUntil(lambda: not play.isChecked(), timeout=5000)
    _, dw, _ = _reference_conv(panel, view.dout())
    np.testing.assert_array_equal(view.running()["dw"], dw)


def test_backward_frames_move_the_maps_window(panel, qtbot):
    """Each backward step frames its window on the padded input and its conv cell."""
    view = panel.backward
    with qtbot.waitSignal(view.step_changed) as blocker:
        _control(view, QPushButton, "Step forward").click()
    step = blocker.args[0]
    assert (step.stage, step.index) == ("conv", 1)
    assert (step.top, step.left, step.size) == (0, 1, 3)


def test_clicking_a_dout_cell_puts_the_single_one_there(panel):
    """A click on dout cell (2, 3) makes dout a single 1 there; dW ends at its patch."""
    view = panel.backward
    view.dout_view.cell_clicked.emit(2, 3)
    assert view.source() == "single"
    expected = np.zeros((7, 7))
    expected[2, 3] = 1.0
    np.testing.assert_array_equal(view.dout(), expected)
    _step_to_end(view)
    padded = panel.results().padded
    np.testing.assert_array_equal(view.running()["dw"], padded[2:5, 3:6])


def test_back_steps_undo_exactly(panel):
    """Each "Step back" restores exactly the running dW, db and dx of the step."""
    view = panel.backward
    _choose(view, "Gradient arriving at the output", "ones")
    panel.editor.set_cell_text(0, 0, "0.7")
    forward = _control(view, QPushButton, "Step forward")
    back = _control(view, QPushButton, "Step back")
    seen = [dict(view.running())]
    for _ in range(10):
        forward.click()
        seen.append(dict(view.running()))
    for expected in reversed(seen[:-1]):
        back.click()
        running = view.running()
        np.testing.assert_array_equal(running["dw"], expected["dw"])
        assert running["db"] == expected["db"]
        np.testing.assert_array_equal(running["dx_pad"], expected["dx_pad"])
    assert view.current_step().index == 0


def test_each_step_shows_dout_times_patch_and_w(panel):
    """The rows show patch, dout[i, j] x patch, dW before/after and dout x W."""
    view = panel.backward
    panel.editor.set_cell_text(1, 1, "2.5")
    view.set_step(9)
    step = view.current_step()
    g = view.dout()[step.out_row, step.out_col]
    padded, kernel = panel.results().padded, panel.results().kernel
    patch = padded[step.top:step.top + 3, step.left:step.left + 3]
    (products, _), (dw_row, dw_text), (dx_row, _) = view.arithmetic()
    cell = f"dout[{step.out_row}, {step.out_col}]"
    np.testing.assert_array_equal(products["patch (the window)"], patch)
    np.testing.assert_array_equal(dw_row[f"{cell} × patch"], g * patch)
    np.testing.assert_array_equal(dw_row["dW after"],
                                  dw_row["dW before"] + g * patch)
    np.testing.assert_array_equal(dx_row[f"{cell} × W"], g * kernel)
    assert f"db += {cell}" in dw_text


def test_buttons_and_rows_teach_the_formula_with_the_numbers(panel):
    """Forward's tooltip gives the next cell's updates with its dout plugged in."""
    view = panel.backward
    _choose(view, "Gradient arriving at the output", "ones")
    view.set_step(0)
    forward = _control(view, QPushButton, "Step forward")
    back = _control(view, QPushButton, "Step back")
    assert "dW += dout[0, 1] × patch = +1 × patch" in forward.toolTip()
    assert "dx[rows 0..2, cols 1..3] += +1 × W" in forward.toolTip()
    assert "dW −= dout[0, 0] × patch" in back.toolTip()
    source = _control(view, QComboBox, "Gradient arriving at the output")
    assert "db = 49" in source.toolTip()


def test_arithmetic_is_never_cut_off(panel, qtbot):
    """With a 7x7 kernel every number shows whole, inside its row, footer too."""
    panel.editor.findChild(QSpinBox).setValue(7)
    panel.controls.set_input_factor(1)
    view = panel.backward
    view.set_step(3)
    qtbot.wait(1)
    rows = [row for row in view._rows if row.isVisible()]
    assert len(rows) == 3
    for row in rows:
        metrics = QFontMetrics(row.cell_font())
        for rect, text in row.cells():
            assert metrics.horizontalAdvance(text) <= rect.width() - 2
            assert rect.right() < row.width() and rect.bottom() < row.height()
        assert row.footer_fits()


@pytest.mark.parametrize("pool", ["max", "avg"])
def test_pool_walk_ends_at_pool_backward(panel, pool):
    """Walking the pooling back to the end gives reference.pool_backward's dx."""
    panel.controls.set_pooling(pool, 2, 2)
    view = panel.backward
    _choose(view, "Backward pass to step through", "pool")
    _choose(view, "Gradient arriving at the output", "ones")
    relu = panel.results().relu
    mode = "max" if pool == "max" else "average"
    _, cache = reference.pool_forward(relu[None, None], 2, 2, mode)
    expected = reference.pool_backward(view.dout()[None, None], cache)[0, 0]
    _step_to_end(view)
    np.testing.assert_array_equal(view.running()["dx"], expected)


def test_max_pool_mask_routes_to_the_argmax(panel):
    """Every max-pool step sends the whole dout to the window's argmax, nothing else."""
    panel.controls.set_pooling("max", 2, 2)
    view = panel.backward
    _choose(view, "Backward pass to step through", "pool")
    relu = panel.results().relu
    for index in range(view.step_count()):
        view.set_step(index)
        step = view.current_step()
        window = relu[step.top:step.top + 2, step.left:step.left + 2]
        (first, _), _ = view.arithmetic()
        share = first[f"mask × dout[{step.out_row}, {step.out_col}]"]
        expected = np.zeros((2, 2))
        expected[np.unravel_index(np.argmax(window), (2, 2))] = 1.0
        np.testing.assert_array_equal(share, expected)


def test_average_pool_shares_one_over_f_squared(panel):
    """Average pooling gives every cell of a 2x2 window dout / 4."""
    panel.controls.set_pooling("avg", 2, 2)
    view = panel.backward
    _choose(view, "Backward pass to step through", "pool")
    view.set_step(4)
    assert (view.current_step().out_row, view.current_step().out_col) == (1, 1)
    (first, footer), _ = view.arithmetic()
    np.testing.assert_array_equal(first["dout[1, 1] / (2·2)"], np.full((2, 2), 0.25))
    assert "1/4 in the mean" in footer


def _model():
    """A small conv net: conv 3x3 (4 filters), ReLU, max pool, dense."""
    rng = np.random.default_rng(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 13 * 13, 10, rng=rng))


@pytest.fixture
def network_panel(qtbot):
    """A shown playground with a network filter open and the backward tab chosen."""
    widget = PlaygroundPanel(rng=np.random.default_rng(0))
    qtbot.addWidget(widget)
    widget.set_model(_model())
    widget.set_input_image(seven())
    widget.open_filter(0, 2)
    widget.show()
    qtbot.waitExposed(widget)
    widget.directions.setCurrentWidget(widget.backward)
    return widget


def test_real_network_dout_is_backprops_grad_output(network_panel):
    """'From the real network' is backprop's grad_output of the filter, any target."""
    view = network_panel.backward
    model = network_panel.filters._model
    _choose(view, "Gradient arriving at the output", "network")
    predicted = int(np.argmax(explain.backprop(model, seven(), 0).probabilities))
    trace = explain.backprop(model, seven(), predicted)
    np.testing.assert_array_equal(view.dout(), trace.layers[0].grad_output[2])
    assert view.network_gradient().target == predicted
    other = (predicted + 3) % 10
    _control(view, QSpinBox, "Target digit").setValue(other)
    trace = explain.backprop(model, seven(), other)
    np.testing.assert_array_equal(view.dout(), trace.layers[0].grad_output[2])
    slider = _control(view, QSlider, "Window position")
    slider.setFocus()
    slider.triggerAction(QSlider.SliderToMaximum)
    np.testing.assert_allclose(view.running()["dw"], trace.layers[0].grad_weight[2, 0],
                               rtol=1e-9, atol=1e-12)
    assert view.running()["db"] == pytest.approx(trace.layers[0].grad_bias[2])


def test_network_dout_of_another_shape_is_explained(network_panel):
    """With stride 2 the network's 26x26 dout does not fit: a note, and all ones."""
    view = network_panel.backward
    _choose(view, "Gradient arriving at the output", "network")
    network_panel.controls.set_stride(2)
    assert "26×26" in view.note_text() and "13×13" in view.note_text()
    np.testing.assert_array_equal(view.dout(), np.ones((13, 13)))
    network_panel.controls.set_stride(1)
    assert view.note_text() == ""
    assert view.network_gradient() is not None


def test_network_source_is_offered_only_with_an_open_filter(network_panel):
    """Closing the network filter takes the real gradient away: back to all ones."""
    view = network_panel.backward
    _choose(view, "Gradient arriving at the output", "network")
    assert view.source() == "network"
    network_panel.filters.close()
    assert view.source() == "ones"
    box = _control(view, QComboBox, "Gradient arriving at the output")
    assert not box.model().item(box.findData("network")).isEnabled()
