"""Filter tweaks on a trained network: switch off, reset, edit, freeze, accuracy."""

import copy
import time

import numpy as np
import pytest
from PyQt5.QtWidgets import QCheckBox, QPushButton

from convlab import nn
from convlab.evaluation import class_scores, evaluate
from convlab.gui.playground import PlaygroundPanel
from convlab.nn import functional as F
from convlab.nn import reference
from convlab.train import TrainConfig, Trainer


def _digit():
    """A seven-like stroke, 28x28 in [0, 1]."""
    image = np.zeros((28, 28), np.float32)
    image[5:8, 6:22] = 1.0
    image[8:24, 17:20] = 1.0
    return image


def probabilities(model, image):
    """The model's class probabilities (K,) for one (H, W) image."""
    return F.softmax(class_scores(model, image[None, None]))[0]


def _model():
    """A tiny conv net whose class 3 depends only on filter 0; class 5 is the fallback.

    Filter 0 is a positive blob detector, so with ink present class 3 wins; with
    filter 0 switched off, only class 5's bias is left and the prediction flips.
    """
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 13 * 13, 10, rng=rng))
    conv, linear = model.layers[0], model.layers[4]
    conv.weight.data[0] = 0.2
    conv.bias.data[0] = 0.0
    linear.weight.data[:] = 0.0
    linear.bias.data[:] = 0.0
    linear.bias.data[5] = 0.5
    # Flatten is channel-major: filter 0's 13*13 features come first.
    linear.weight.data[3, :13 * 13] = 0.1
    return model


@pytest.fixture
def panel(qtbot):
    """A playground holding the tiny model, with a runner that records commands."""
    widget = PlaygroundPanel(rng=np.random.default_rng(0))
    qtbot.addWidget(widget)
    widget.set_model(_model())
    widget.set_input_image(_digit())
    widget.sent = []
    widget.set_command_runner(widget.sent.append)
    return widget


def _button(panel, name):
    return next(b for b in panel.tools.findChildren(QPushButton)
                if b.accessibleName() == name)


def test_switch_off_changes_prediction_and_reset_restores_exactly(panel, qtbot):
    """Zeroing filter 0 flips 3 to 5; Reset brings back the exact probabilities."""
    model = panel.filters._model
    before = probabilities(model, _digit())
    weights = model.layers[0].weight.data.copy()
    assert before.argmax() == 3
    panel.open_filter(0, 0)
    with qtbot.waitSignal(panel.model_edited):
        _button(panel, "Switch the filter off").click()
    off = probabilities(model, _digit())
    assert off.argmax() == 5
    assert np.all(model.layers[0].weight.data[0] == 0)
    assert "now: <b>5</b>" in panel.tools.prediction_text()
    _button(panel, "Reset the filter to its learned values").click()
    np.testing.assert_array_equal(probabilities(model, _digit()), before)
    np.testing.assert_array_equal(model.layers[0].weight.data, weights)


def test_tweaks_reach_the_live_model_through_the_runner(panel):
    """Every edit is also sent as fn(model); applied to a live copy it matches."""
    live = copy.deepcopy(panel.filters._model)
    panel.open_filter(0, 1)
    panel.editor.set_cell_text(0, 0, "0.5")
    _button(panel, "Switch the filter off").click()
    _button(panel, "Reset the filter to its learned values").click()
    panel.editor.set_cell_text(2, 2, "-1.25")
    assert len(panel.sent) == 4
    for command in panel.sent:
        command(live)
    shown = panel.filters._model
    for ours, theirs in zip(shown.parameters(), live.parameters(), strict=True):
        np.testing.assert_array_equal(ours.data, theirs.data)
    assert live.layers[0].weight.data[1, 0, 2, 2] == np.float32(-1.25)


def test_open_filter_loads_its_weights_and_edits_write_back(panel):
    """The editor shows the filter's kernel; a typed weight lands in the model."""
    panel.open_filter(0, 2)
    np.testing.assert_allclose(panel.editor.kernel(),
                               panel.filters._model.layers[0].weight.data[2, 0])
    panel.editor.set_cell_text(1, 1, "2")
    assert panel.filters._model.layers[0].weight.data[2, 0, 1, 1] == 2.0
    panel.tools.close_requested.emit()
    assert not panel.filters.is_open()


def test_playground_views_use_the_open_filter_and_bias(panel):
    """With a network filter open, the conv view is that filter (bias included)."""
    panel.open_filter(0, 1)
    layer = panel.filters._model.layers[0]
    x = _digit().astype(np.float64)[None, None]
    w = layer.weight.data[1:2].astype(np.float64)
    b = layer.bias.data[1:2].astype(np.float64)
    expected, _ = F.conv2d_forward(x, w, b)
    np.testing.assert_allclose(panel.maps.conv_view.current_map(), expected[0, 0],
                               rtol=1e-6, atol=1e-6)


def test_step_through_adds_the_open_filter_bias(panel):
    """On a network filter, window products + bias = conv_single_step = conv cell."""
    panel.open_filter(0, 1)
    bias = float(panel.filters._model.layers[0].bias.data[1])
    assert bias != 0.0
    kernel = panel.filters._model.layers[0].weight.data[1, 0].astype(np.float64)
    conv = panel.maps.conv_view.current_map()
    row, col = np.unravel_index(np.abs(conv - bias).argmax(), conv.shape)
    panel.maps.conv_view.cell_clicked.emit(int(row), int(col))
    grids, footer = panel.step.arithmetic()
    a_slice = _digit()[row:row + 3, col:col + 3].astype(np.float64)  # stride 1, p 0
    value = reference.conv_single_step(a_slice[None], kernel[None], bias)
    np.testing.assert_allclose(grids["products"], a_slice * kernel, rtol=1e-6)
    assert grids["products"].sum() + bias == pytest.approx(value)
    assert value == pytest.approx(conv[row, col], rel=1e-5)
    assert f"plus bias {bias:+.4g}" in footer


@pytest.mark.parametrize("make_optimizer", [
    lambda params: nn.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-3),
    lambda params: nn.Adam(params, lr=1e-2, weight_decay=1e-3),
], ids=["sgd", "adam"])
def test_frozen_filter_is_unchanged_after_training_steps(panel, make_optimizer):
    """Freeze filter 1; after optimizer steps it is bit-identical, the others moved."""
    model = panel.filters._model
    panel.open_filter(0, 1)
    panel.tools.findChild(QCheckBox).setChecked(True)
    frozen_w = model.layers[0].weight.data[1].copy()
    frozen_b = model.layers[0].bias.data[1].copy()
    other_w = model.layers[0].weight.data[2].copy()
    rng = np.random.default_rng(1)
    x = rng.random((8, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 8)
    optimizer = make_optimizer(model.parameters())
    for _ in range(3):
        optimizer.zero_grad()
        loss, dlogits = nn.softmax_cross_entropy(model.forward(x), y)
        model.backward(dlogits)
        optimizer.step()
    np.testing.assert_array_equal(model.layers[0].weight.data[1], frozen_w)
    assert model.layers[0].bias.data[1] == frozen_b
    assert not np.array_equal(model.layers[0].weight.data[2], other_w)


def _test_set(panel):
    """20 copies of the digit, 15 labelled 3 (right with filter 0 on) and 5 not."""
    rng = np.random.default_rng(2)
    x = np.repeat(_digit()[None, None], 20, axis=0)
    y = np.full(20, 3)
    y[:5] = rng.integers(0, 3, 5)
    panel.set_test_data(x, y)
    return x, y


def test_measure_accuracy_compares_now_with_learned(panel, qtbot):
    """The measurement runs off the GUI thread on copies and reports both figures."""
    x, y = _test_set(panel)
    panel.open_filter(0, 0)
    _button(panel, "Switch the filter off").click()
    measure = _button(panel, "Measure test accuracy now")
    measure.click()
    assert panel.is_measuring() and not measure.isEnabled()
    qtbot.waitUntil(lambda: not panel.is_measuring(), timeout=10000)
    assert measure.isEnabled()
    text = panel.tools.accuracy_text()
    assert "0.0%</b> now" in text and "75.0% with the learned filter" in text
    assert evaluate(panel.filters._model, x, y)["accuracy"] == 0.0


def test_measurement_of_a_replaced_model_is_ignored(panel, qtbot):
    """A result arriving after set_model gave a new model is not shown for it."""
    _test_set(panel)
    panel.open_filter(0, 0)
    _button(panel, "Measure test accuracy now").click()
    # The result reaches the GUI thread through the event loop, so it arrives later.
    panel.set_model(_model())
    panel.open_filter(0, 0)
    qtbot.waitUntil(lambda: not panel.is_measuring(), timeout=10000)
    assert panel.tools.accuracy_text() == ""
    assert _button(panel, "Measure test accuracy now").isEnabled()


def test_shutdown_joins_a_running_measurement(panel):
    """shutdown() returns only once the measuring thread has ended."""
    _test_set(panel)
    panel.open_filter(0, 0)
    _button(panel, "Measure test accuracy now").click()
    tasks = list(panel.filters._measuring)
    assert len(tasks) == 1
    panel.shutdown()
    assert not panel.is_measuring()
    assert not tasks[0].is_running()


def test_shutdown_cancels_a_long_measurement(panel, monkeypatch):
    """shutdown() stops a measurement on many images after the batch under way
    instead of running both passes to the end."""
    from convlab.gui.playground import filter_presenter

    batches, real_evaluate = [], filter_presenter.evaluate

    def counting_evaluate(model, x, y, **kwargs):
        infer = model.infer

        def counted(xb):
            batches.append(len(xb))
            time.sleep(0.02)  # a slow network, so shutdown comes mid-way
            return infer(xb)

        model.infer = counted
        return real_evaluate(model, x, y, batch_size=250, **kwargs)

    monkeypatch.setattr(filter_presenter, "evaluate", counting_evaluate)
    panel.set_test_data(np.repeat(_digit()[None, None], 10_000, axis=0),
                        np.full(10_000, 3))
    panel.open_filter(0, 0)
    _button(panel, "Measure test accuracy now").click()
    [task] = panel.filters._measuring
    while not batches:
        time.sleep(0.01)
    panel.shutdown()
    assert not task.is_running()
    assert len(batches) < 2 * 10_000 // 250


def test_refresh_model_follows_training_in_the_open_filter(panel, qtbot):
    """After a snapshot changes the weights, refresh_model shows the new kernel."""
    panel.show()
    qtbot.waitExposed(panel)
    panel.open_filter(0, 1)
    panel.filters._model.layers[0].weight.data[1, 0] += 0.5  # what a snapshot would do
    panel.refresh_model()
    np.testing.assert_allclose(panel.editor.kernel(),
                               panel.filters._model.layers[0].weight.data[1, 0])


def test_frozen_filter_is_unchanged_while_a_trainer_runs(panel):
    """Freezing mid-run through Trainer.submit: later steps leave the filter alone."""
    model = panel.filters._model
    rng = np.random.default_rng(3)
    x = rng.random((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    trainer = Trainer(model, train=(x, y), val=None,
                      config=TrainConfig(epochs=2, batch_size=8, lr=1e-2))
    # The same hand-over TrainingSession.submit does: fn(model) between two steps.
    panel.set_command_runner(lambda fn: trainer.submit(lambda: fn(model)))
    steps = trainer.steps()
    next(steps)
    panel.open_filter(0, 2)
    panel.tools.findChild(QCheckBox).setChecked(True)
    next(steps)
    frozen = model.layers[0].weight.data[2].copy()
    others = model.layers[0].weight.data[[0, 1, 3]].copy()
    for _ in range(5):
        next(steps)
    np.testing.assert_array_equal(model.layers[0].weight.data[2], frozen)
    assert not np.array_equal(model.layers[0].weight.data[[0, 1, 3]], others)


def test_deep_filter_slides_over_the_layer_below(qtbot):
    """A deep filter slides over the layer below's map, with the layer's padding."""
    rng = np.random.default_rng(4)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, rng=rng), nn.ReLU(),
                          nn.Conv2d(3, 2, 3, padding=1, rng=rng), nn.Flatten(),
                          nn.Linear(2 * 26 * 26, 10, rng=rng))
    panel = PlaygroundPanel(rng=rng)
    qtbot.addWidget(panel)
    panel.set_model(model)
    panel.set_input_image(_digit())
    panel.open_filter(2, 1)
    panel.tools.channel_changed.emit(2)
    below = model.activations(_digit()[None, None])[1][0, 2]
    np.testing.assert_allclose(panel.results().input, below, rtol=1e-6)
    kernel = model.layers[2].weight.data[1, 2].astype(np.float64)
    bias = float(model.layers[2].bias.data[1])
    # The views start from the layer's own padding of 1.
    expected, _ = F.conv2d_forward(below[None, None].astype(np.float64),
                                   kernel[None, None], np.array([bias]), 1, 1)
    np.testing.assert_allclose(panel.maps.conv_view.current_map(), expected[0, 0],
                               rtol=1e-5, atol=1e-6)
    assert panel.filters.conv_title() == "Channel 2's share (+ bias)"


def test_switch_label_follows_the_filter_state(panel):
    """Switch off reads "Turn back on" while the filter is 0; a click restores it."""
    model = panel.filters._model
    panel.open_filter(0, 1)
    before = model.layers[0].weight.data[1].copy()
    switch = _button(panel, "Switch the filter off")
    assert switch.text() == "Switch off"
    switch.click()
    assert switch.text() == "Turn back on"
    assert np.all(model.layers[0].weight.data[1] == 0)
    switch.click()
    np.testing.assert_array_equal(model.layers[0].weight.data[1], before)
    assert switch.text() == "Switch off"
    # Typing a weight into a switched-off filter turns it on: the label follows.
    switch.click()
    panel.editor.set_cell_text(0, 0, "0.5")
    assert switch.text() == "Switch off"


def test_filter_title_and_channel_box_count_from_zero(panel):
    """The open filter's title names layer and filter from 0, with their range."""
    panel.open_filter(0, 3)
    assert "Conv layer 0 (model layer 0), filter 3 of 0..3" in panel.tools._title.text()
