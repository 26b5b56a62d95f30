"""The Network tab in depth: a deeper filter's channels added up, a conv layer on a
batch, and batch normalization, each driven through the real window."""

import numpy as np
from PyQt5.QtCore import QPointF, Qt
from PyQt5.QtWidgets import QApplication

from convlab.data.synthetic import generate_digits
from convlab.gui.training.worker import TrainingWorker
from convlab.lab.batch_norm import train_vs_eval
from convlab.lab.conv_depth import example_batch
from convlab.lab.snapshots import SNAPSHOT_BATCH, take_snapshot
from convlab.nn import layers
from convlab.nn.architectures import NAMED_ARCHS, build
from convlab.train import TrainConfig, Trainer
from tests.gui.test_window_sizes import clipping_problems

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


def test_the_batch_view_shows_a_real_batched_call(qtbot, window, tiny_dataset):
    """"This layer on a batch" runs conv 2's first 3 filters on the drawing and 3
    test images: every shape number is batch_shapes' and the N x F maps are the
    model's own outputs for that batch."""
    window.controller.set_dataset(tiny_dataset)
    x = drawn(window)
    view, model = window.network_view, window.controller.view_model
    column = conv_columns(window)[1]
    item = view.filter_item(column)
    click_item(qtbot, view, item, *item.tile_center(0))
    qtbot.mouseClick(window.detail_view.batch_button, Qt.LeftButton)
    batch = window.controller.network.depth.batch_view
    assert batch.isVisible()
    images = np.concatenate([x[None, None], tiny_dataset.x_test[:3]]).astype(
        np.float32)
    expected = model.activations(images)[column - 1][:, :3]  # (4, 3, 11, 11)
    run = batch.run()
    np.testing.assert_allclose(run.inputs[0], model.activations(images)[
        column - 2][0], rtol=1e-6)
    assert run.shapes.output_shape == expected.shape == (4, 3, 11, 11)
    assert run.shapes.input_shape == (4, 32, 13, 13)
    assert run.shapes.weight_shape == (3, 32, 3, 3)
    np.testing.assert_allclose(batch.grid.maps(), expected.reshape(12, 11, 11),
                               rtol=1e-5, atol=1e-6)
    text = batch.shapes.text()
    assert "(4, 32, 13, 13) * (3, 32, 3, 3) -> (4, 3, 11, 11)" in text
    assert "floor((13 + 2*0 - 3) / 1) + 1" in text
    assert batch.grid.labels()[4] == "image 1, filter 1"
    assert "0: your digit" in batch.heading.text()
    assert_fits_the_screen(batch)


def batch_norm_model():
    """The sample network with batch norm after a few training forwards, so its
    γ, β and running statistics are not their defaults."""
    rng = np.random.default_rng(0)
    model = build(NAMED_ARCHS["sample-bn"], rng)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNorm2d):
            layer.weight.data[...] = rng.uniform(0.5, 1.5, layer.num_features)
            layer.bias.data[...] = rng.normal(0, 0.3, layer.num_features)
    model.train()
    for step in range(3):
        model(generate_digits(16, step)[0][:, None])
    model.eval()
    return model


def open_batch_norm_map(qtbot, window, channel):
    """Load batch_norm_model, draw, click map ``channel`` of its first batch-norm
    column and then "Batch norm, seen…"; return the view, the column, the input
    and the state of the GUI's and the live model before the click."""
    window.controller.model_files.model_opened.emit(batch_norm_model(), None, "bn")
    x = drawn(window)
    view = window.network_view
    column = next(i + 1 for i, layer in enumerate(window.controller.view_model.layers)
                  if isinstance(layer, layers.BatchNorm2d))
    item = view.column_item(column)
    click_item(qtbot, view, item, *item.tile_center(channel))
    detail = window.detail_view
    assert "Batch norm, seen" in detail.explanation.text()
    assert detail.batch_norm_button.isVisible()
    before = [state_of(m) for m in (window.controller.view_model,
                                    window.controller.model)]
    qtbot.mouseClick(detail.batch_norm_button, Qt.LeftButton)
    return window.controller.network.depth.batch_norm_view, column, x, before


def test_the_batch_norm_view_shows_the_batchs_statistics(qtbot, window,
                                                         tiny_dataset):
    """Each channel's batch mean and variance are np.mean and np.var of what the
    layer receives for the batch shown (test images and the digit), beside γ, β
    and the running statistics; the histograms are of that channel's values."""
    window.controller.set_dataset(tiny_dataset)
    bn, column, x, _ = open_batch_norm_map(qtbot, window, 3)
    assert bn.isVisible() and bn.channel() == 3
    model = window.controller.view_model
    layer = model.layers[column - 1]
    images = np.concatenate([tiny_dataset.x_test[:16], x[None, None]])
    inputs = model.activations(images.astype(np.float64))[column - 2]
    stats = bn.statistics()
    assert len(stats.inputs) == 17
    np.testing.assert_allclose(stats.batch_mean, np.mean(inputs, axis=(0, 2, 3)),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(stats.batch_var, np.var(inputs, axis=(0, 2, 3)),
                               rtol=1e-6, atol=1e-7)
    assert bn.table.item(3, 0).text() == f"{np.mean(inputs[:, 3]):.4g}"
    assert bn.table.item(3, 1).text() == f"{np.var(inputs[:, 3]):.4g}"
    assert bn.table.item(3, 2).text() == f"{layer.weight.data[3]:.4g}"
    assert bn.table.item(3, 5).text() == f"{layer.running_var[3]:.4g}"
    counts, edges = np.histogram(inputs[:, 3], bins=30)
    shown_edges, shown_counts = bn.curves[0].getData()
    np.testing.assert_array_equal(shown_counts, counts)
    np.testing.assert_allclose(shown_edges, edges, rtol=1e-6)
    assert "test images" in bn.heading.text()
    assert_fits_the_screen(bn)


def test_the_batch_norm_view_compares_training_and_eval(qtbot, window):
    """Your digit's channel with batch and with running statistics is exactly
    lab.batch_norm.train_vs_eval's, with the formula's numbers and why they
    differ; opening the views changes no weight and no running statistic."""
    bn, column, x, before = open_batch_norm_map(qtbot, window, 2)
    model = window.controller.view_model
    bn.channel_spin.setValue(5)
    # No dataset: the batch is 16 generated digits (seed 0), the digit added last.
    batch, _ = example_batch(None, None, 16)
    expected = train_vs_eval(model, column - 1, x, batch)
    np.testing.assert_allclose(bn.result().train_output, expected.train_output)
    np.testing.assert_allclose(bn.result().eval_output, expected.eval_output)
    shown = bn.maps.maps()
    np.testing.assert_allclose(shown[0], expected.train_output[5])
    np.testing.assert_allclose(shown[1], expected.eval_output[5])
    assert f"{expected.running_mean[5]:.4g}" in bn.why.text()
    assert "channel 5:" in bn.formula.text()
    assert "generated images" in bn.heading.text()
    for old, m in zip(before, (model, window.controller.model), strict=True):
        for a, b in zip(old, state_of(m), strict=True):
            np.testing.assert_array_equal(a, b)


def test_while_training_the_batch_norm_view_reads_the_snapshots_batch(qtbot,
                                                                      window):
    """A training snapshot's mini-batch is the batch the batch-norm view shows:
    its statistics are those of the snapshot's images with the digit added."""
    bn, column, x, _ = open_batch_norm_map(qtbot, window, 1)
    controller = window.controller
    batch = generate_digits(8, 5)[0][:, None]  # (8, 1, 28, 28)
    snapshot = take_snapshot(controller.model, 1, None, batch)
    batch[...] = 0  # the snapshot holds its own copy
    controller._on_session_weights_updated(snapshot)
    controller.refresh_now()
    assert "current training mini-batch (8 images)" in bn.heading.text()
    model = controller.view_model
    images = np.concatenate([snapshot.batch, x[None, None]]).astype(np.float64)
    inputs = model.activations(images)[column - 2]
    np.testing.assert_allclose(bn.statistics().batch_mean,
                               inputs.mean(axis=(0, 2, 3)), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(bn.statistics().batch_var,
                               inputs.var(axis=(0, 2, 3)), rtol=1e-6, atol=1e-7)
    controller.network.weights_changed()  # no snapshot: training is over
    controller.refresh_now()
    assert "generated images" in bn.heading.text()


def test_a_large_mini_batch_is_named_as_the_part_shown(qtbot, window):
    """Of a 64-image batch a snapshot keeps the first SNAPSHOT_BATCH images, and the
    heading says so instead of calling them the whole mini-batch."""
    bn, *_ = open_batch_norm_map(qtbot, window, 0)
    controller = window.controller
    batch = generate_digits(64, 5)[0][:, None]  # (64, 1, 28, 28)
    controller._on_session_weights_updated(
        take_snapshot(controller.model, 1, None, batch))
    controller.refresh_now()
    assert (f"the first {SNAPSHOT_BATCH} images of the current training mini-batch"
            in bn.heading.text())
    assert len(bn.statistics().inputs) == SNAPSHOT_BATCH + 1  # and your digit


def test_training_snapshots_carry_their_mini_batch():
    """A snapshot taken while training holds a copy of the images of the batch
    trained on last, which the batch-norm view then shows."""
    model = build(NAMED_ARCHS["tiny"], np.random.default_rng(0))
    x = np.random.default_rng(1).random((64, 1, 28, 28), dtype=np.float32)
    y = np.arange(64) % 10
    trainers = []

    def prepare():
        trainers.append(Trainer(model, (x, y), (x[:16], y[:16]),
                                TrainConfig(epochs=1, batch_size=16, seed=0)))
        return trainers[0]

    worker = TrainingWorker(model, prepare, interval=0.0)
    snapshots = []
    worker.snapshot_ready.connect(snapshots.append)
    worker.run()
    batches = [s.batch for s in snapshots if s.batch is not None]
    assert batches
    last = trainers[0].last_batch[0]
    np.testing.assert_array_equal(batches[-1], last)
    assert batches[-1] is not last
    for batch in batches:  # every image is one of the training images
        assert batch.shape == (16, 1, 28, 28)
        assert all((x == image).all(axis=(1, 2, 3)).any() for image in batch)


def test_the_bar_offers_batch_norm_only_for_a_network_with_it(qtbot, window):
    """"Batch normalization…" on the Network tab shows for a network with batch
    norm and opens its view on the first batch-norm layer; without, it is hidden."""
    bar = window.network_view.backward_bar
    assert bar.batch_norm_button.isHidden()  # the bundled model has none
    window.controller.model_files.model_opened.emit(batch_norm_model(), None, "bn")
    assert not bar.batch_norm_button.isHidden()
    assert bar.batch_norm_button.text() == "Batch normalization…"
    qtbot.mouseClick(bar.batch_norm_button, Qt.LeftButton)
    bn = window.controller.network.depth.batch_norm_view
    assert bn.isVisible() and bn.layer_combo.count() == 2
    assert bn.layer_combo.currentData() == 2 and bn.result() is None
    assert "Draw a digit" in bn.why.text()


def test_blown_up_weights_give_the_batch_norm_view_a_message(qtbot, window):
    """NaN weights before a batch-norm layer: the view says what is wrong and what
    to do instead of failing."""
    model = batch_norm_model()
    model.layers[0].weight.data[0] = np.nan
    window.controller.model_files.model_opened.emit(model, None, "bn")
    bar = window.network_view.backward_bar
    qtbot.mouseClick(bar.batch_norm_button, Qt.LeftButton)
    bn = window.controller.network.depth.batch_norm_view
    assert bn.isVisible() and bn.statistics() is None
    assert "NaN" in bn.heading.text() and "learning rate" in bn.heading.text()


def test_the_bar_with_its_batch_norm_button_fits_1024_wide(qtbot, window):
    """At 1024x768, in Forward and in Backward, nothing of the Network tab with
    the batch-norm button is cut off."""
    window.controller.model_files.model_opened.emit(batch_norm_model(), None, "bn")
    window.resize(*SCREEN)
    window.show_tab("network")
    bar = window.network_view.backward_bar
    for button in (bar.forward_button, bar.backward_button):
        qtbot.mouseClick(button, Qt.LeftButton)
        window.controller.refresh_now()
        for _ in range(3):
            QApplication.processEvents()
        assert bar.batch_norm_button.isVisible()
        problems = clipping_problems(window.tabs.currentWidget())
        assert not problems, "\n".join(problems)


def test_the_depth_windows_cut_nothing_off(qtbot, window, tiny_dataset):
    """The enlarged filter with its partial maps, the batch view and the
    batch-norm view show every label and button whole at their sizes."""
    window.controller.set_dataset(tiny_dataset)
    bn, *_ = open_batch_norm_map(qtbot, window, 0)
    view = window.network_view
    column = conv_columns(window)[1]
    item = view.filter_item(column)
    click_item(qtbot, view, item, *item.tile_center(0))
    qtbot.mouseClick(window.detail_view.batch_button, Qt.LeftButton)
    batch = window.controller.network.depth.batch_view
    for _ in range(3):
        QApplication.processEvents()
    for dialog in (window.detail_view, batch, bn):
        assert dialog.isVisible()
        assert_fits_the_screen(dialog)
        problems = clipping_problems(dialog)
        assert not problems, "\n".join(problems)


def test_the_batch_norm_table_shows_every_number_whole(qtbot, window):
    """Long numbers (-0.0009123, 1.235e-05, -1.235e+04) fit their column."""
    bn, column, _, _ = open_batch_norm_map(qtbot, window, 0)
    layer = window.controller.view_model.layers[column - 1]
    long_numbers = [-0.000912345, 1.23456e-05, -12345.6789, -0.000654321]
    layer.bias.data[:4] = long_numbers
    layer.running_mean[:4] = long_numbers[::-1]
    window.controller.network.depth.refresh()
    table = bn.table
    assert table.item(0, 3).text() == "-0.0009123"
    metrics = table.fontMetrics()
    for row in range(table.rowCount()):
        for col in range(table.columnCount()):
            text = table.item(row, col).text()
            # The cell draws its text inside a margin of a few pixels each side.
            assert metrics.horizontalAdvance(text) + 8 <= table.columnWidth(col), (
                row, col, text)
