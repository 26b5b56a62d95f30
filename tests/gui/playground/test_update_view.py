"""One gradient-descent step of a real network filter: shown, applied, undone."""


import numpy as np
import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QComboBox, QDoubleSpinBox

from convlab import explain, nn
from convlab.data.synthetic import generate_digits
from convlab.gui.playground import PlaygroundPanel
from convlab.lab.snapshots import clone_model
from convlab.lab.update import gradient_check, predicted_digit
from convlab.nn.architectures import NAMED_ARCHS, build
from convlab.resources import BUNDLED_MODEL, resource_path

BUNDLED = resource_path(BUNDLED_MODEL)
LAYER = 3  # the second conv layer of the sample network


def network():
    """The bundled trained network, or the sample network with random weights."""
    if BUNDLED.is_file():
        return nn.load_model(BUNDLED).model
    return build(NAMED_ARCHS["sample"], np.random.default_rng(0))


def digit():
    """One generated digit, (28, 28) float in [0, 1]."""
    x, _ = generate_digits(1, 4)
    return x[0].astype(np.float64)


def busiest_filter(model):
    """The filter of LAYER whose channel 0 has the largest gradient for digit()'s
    predicted digit (many have none: a ReLU that is off for this input)."""
    trace = explain.backprop(model, digit(), predicted_digit(model, digit()))
    return int(np.abs(trace.layers[LAYER].grad_weight[:, 0]).sum(axis=(1, 2)).argmax())


FILTER = busiest_filter(network())


@pytest.fixture
def panel(qtbot):
    """A playground on the real network with a filter open and the step view ticked;
    its runner applies every command to a separate live model, as the session does."""
    widget = PlaygroundPanel(rng=np.random.default_rng(0))
    qtbot.addWidget(widget)
    model = network()
    widget.live = clone_model(model)
    widget.set_model(model)
    widget.set_input_image(digit())
    widget.set_command_runner(lambda fn: fn(widget.live))
    widget.open_filter(LAYER, FILTER)
    widget.tools.update_view.setChecked(True)
    return widget


def _view(panel):
    return panel.tools.update_view


def _lr_box(panel):
    return next(box for box in _view(panel).findChildren(QDoubleSpinBox)
                if box.accessibleName() == "Learning rate of the step")


def _filter(model):
    layer = model.layers[LAYER]
    return layer.weight.data[FILTER].copy(), layer.bias.data[FILTER].copy()


def test_grids_show_w_dw_and_w_minus_lr_dw_from_backprop(panel):
    """The grids: w, backprop's grad_weight, w - lr * dW for the predicted digit."""
    _lr_box(panel).setValue(0.05)
    model = panel.filters._model
    target = predicted_digit(model, digit())
    grad = explain.backprop(model, digit(), target).layers[LAYER].grad_weight[FILTER]
    w = model.layers[LAYER].weight.data[FILTER].astype(np.float64)
    shown_w, shown_dw, shown_new = (grid.values() for grid in _view(panel).grids())
    np.testing.assert_array_equal(shown_w, w[0])
    np.testing.assert_array_equal(shown_dw, grad[0])
    np.testing.assert_array_equal(shown_new, w[0] - 0.05 * grad[0])
    assert _view(panel).grids()[1].cell(1, 2).text() == f"{grad[0, 1, 2]:.4g}"
    step = panel.filters.update.step()
    _, preview, _, _ = _view(panel).texts()
    assert f"this {target} from <b>{step.loss_before:.4g}</b>" in preview


def test_apply_then_undo_restores_the_filter_exactly(panel):
    """Apply writes w - lr * dW to both models; Undo restores the exact bits."""
    model = panel.filters._model
    weight, bias = _filter(model)
    _lr_box(panel).setValue(0.01)
    step = panel.filters.update.step()
    apply, undo = _view(panel).buttons()
    apply.click()
    expected = (weight.astype(np.float64) - 0.01 * step.grad_weight).astype(np.float32)
    for copy in (model, panel.live):
        np.testing.assert_array_equal(copy.layers[LAYER].weight.data[FILTER], expected)
    np.testing.assert_array_equal(panel.editor.kernel(), expected[0])
    _, _, result, _ = _view(panel).texts()
    assert (f"the loss for this {step.target} went from {step.loss_before:.2f} to "
            f"{step.loss_after:.2f}") in result
    # The grids now start from the new weights: the loss there is the step's after.
    assert panel.filters.update.step().loss_before == step.loss_after
    assert undo.isEnabled()
    undo.click()
    for copy in (model, panel.live):
        now_weight, now_bias = _filter(copy)
        assert np.array_equal(now_weight, weight)
        assert np.array_equal(now_bias, bias)
    assert not undo.isEnabled()
    assert "Undone" in _view(panel).texts()[2]


def test_undo_refuses_when_the_filter_changed_since_the_step(panel):
    """An edit after Apply is not silently thrown away by Undo."""
    apply, undo = _view(panel).buttons()
    apply.click()
    panel.editor.set_cell_text(0, 0, "0.5")
    edited = _filter(panel.filters._model)[0]
    undo.click()
    assert np.array_equal(_filter(panel.filters._model)[0], edited)
    assert "Not undone" in _view(panel).texts()[2]


def test_a_chosen_target_digit_sets_the_loss(panel):
    """Choosing the digit 0 makes the step lower the loss of 0."""
    box = next(b for b in _view(panel).findChildren(QComboBox)
               if b.accessibleName() == "Target digit")
    box.setCurrentIndex(box.findData(0))
    box.activated.emit(box.currentIndex())
    step = panel.filters.update.step()
    assert step.target == 0
    assert step.loss_before == pytest.approx(
        explain.backprop(panel.filters._model, digit(), 0).loss)
    assert "the digit 0" in _view(panel).texts()[1]


def test_clicking_a_weight_in_the_kernel_editor_checks_its_gradient(panel, qtbot):
    """The check shown is backprop's gradient beside a central difference that
    agrees to 1e-3 relative, with h written out."""
    model = panel.filters._model
    target = panel.filters.update.step().target
    qtbot.mouseClick(panel.editor.cell(1, 0), Qt.LeftButton)
    check = _view(panel).shown_check()
    assert check.index == (0, 1, 0)
    expected = gradient_check(model, digit(), target, LAYER, FILTER, 0, 1, 0)
    assert check == expected
    grad = explain.backprop(model, digit(), target).layers[LAYER].grad_weight
    assert check.backprop == pytest.approx(grad[FILTER, 0, 1, 0], rel=1e-9)
    if abs(check.backprop) > 1e-6:
        assert check.relative_difference < 1e-3
    text = _view(panel).texts()[3]
    assert f"{check.backprop:.8g}" in text and f"{check.h:g}" in text
    assert f"{check.relative_difference:.2e}" in text


def test_clicking_a_cell_of_the_step_grids_checks_that_weight(panel, qtbot):
    """A click on dW's cell (2, 2) checks weight [channel, 2, 2] of the filter."""
    panel.tools.show()
    qtbot.mouseClick(_view(panel).grids()[1].cell(2, 2), Qt.LeftButton)
    assert _view(panel).shown_check().index == (0, 2, 2)


def test_a_deeper_channel_shows_that_channels_kernel(panel):
    """With input channel 7 open the grids show channel 7 of w and dW."""
    panel.tools._channel.setValue(7)
    step = panel.filters.update.step()
    np.testing.assert_array_equal(_view(panel).grids()[1].values(),
                                  step.grad_weight[7])


def test_without_a_digit_there_is_no_step_and_apply_is_off(panel):
    """A blank input gets a hint, and Apply cannot be pressed."""
    panel.set_input_image(None)
    assert panel.filters.update.step() is None
    assert "Draw a digit" in _view(panel).texts()[1]
    assert not _view(panel).buttons()[0].isEnabled()


def test_the_closed_view_computes_nothing(panel):
    """Unticked, an edit computes no new step; ticked again, it catches up."""
    _view(panel).setChecked(False)
    before = panel.filters.update.step()
    panel.editor.set_cell_text(0, 0, "0.25")
    assert panel.filters.update.step() is before
    _view(panel).setChecked(True)
    assert panel.filters.update.step().weight[0, 0, 0] == 0.25


def test_the_training_tabs_learning_rate_is_the_starting_value(panel):
    """set_learning_rate shows the rate and the step uses it."""
    panel.set_learning_rate(0.002)
    assert _lr_box(panel).value() == 0.002
    assert panel.filters.update.step().lr == 0.002


def test_in_the_window_apply_and_undo_reach_the_live_model(qtbot, window):
    """Opened from the Network tab's edit path with the Training tab's learning rate,
    Apply and Undo change the live model through the session, Undo exactly."""
    controller = window.controller
    window.training_panel.settings.lr.setValue(0.004)
    controller.network.edit_filter_requested.emit(LAYER, FILTER)
    playground = window.playground_panel
    playground.set_input_image(digit())
    view = playground.tools.update_view
    view.setChecked(True)
    assert _lr_box(playground).value() == 0.004
    live, shown = controller.model, controller.view_model
    weight, bias = _filter(live)
    step = playground.filters.update.step()
    assert step.lr == 0.004
    apply, undo = view.buttons()
    apply.click()
    expected = (weight.astype(np.float64) - 0.004 * step.grad_weight).astype(np.float32)
    for model in (live, shown):
        np.testing.assert_array_equal(model.layers[LAYER].weight.data[FILTER], expected)
    undo.click()
    for model in (live, shown):
        now_weight, now_bias = _filter(model)
        assert np.array_equal(now_weight, weight) and np.array_equal(now_bias, bias)
