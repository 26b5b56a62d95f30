"""Replacing the window's model while it trains: late snapshots of the old one are
dropped, so the new model is what the window draws and saves."""

import numpy as np
from PyQt5.QtCore import QCoreApplication

from convlab import nn
from convlab.nn.architectures import ArchSpec, ConvBlock, build
from convlab.train import TrainConfig, Trainer


def train_until_snapshot(qtbot, controller, dataset):
    """Train the window's model in the background until its first snapshot."""
    model = controller.model
    config = TrainConfig(epochs=1000, batch_size=8, lr=5e-3)
    controller.session.start_trainer(lambda: Trainer(
        model, (dataset.x_train, dataset.y_train), None, config,
        rng=np.random.default_rng(0)))
    with qtbot.waitSignal(controller.session.weights_updated, timeout=20000):
        pass
    # A command makes the worker send one more snapshot of the model it trains,
    # so one is surely still on its way when the test replaces the model.
    controller.session.submit(lambda model: None)


def assert_same_weights(model, other):
    for p, q in zip(model.parameters(), other.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_new_network_while_training_draws_and_saves_the_new_weights(
        qtbot, window, tiny_dataset, tmp_path):
    """File > New network mid-run: the old run's late snapshots do not overwrite
    the new network's weights, neither on screen nor in the saved file."""
    controller = window.controller
    train_until_snapshot(qtbot, controller, tiny_dataset)
    window.new_action.trigger()
    qtbot.waitUntil(lambda: not controller.session.is_running(), timeout=20000)
    QCoreApplication.sendPostedEvents()          # the old run's queued reports
    assert_same_weights(controller.model, controller.view_model)
    path = tmp_path / "new.npz"
    assert controller.model_files.save_model(path=str(path))
    assert_same_weights(controller.model, nn.load_model(path).model)


def test_new_network_while_training_shows_it_at_once_and_the_old_run_ends(
        qtbot, window, tiny_dataset):
    """File > New network mid-run returns before the old run's thread has ended and
    shows the new network; the old thread then ends without writing the new weights,
    and the new network stays untrained and unmodified."""
    controller, session = window.controller, window.controller.session
    train_until_snapshot(qtbot, controller, tiny_dataset)
    old = controller.model
    window.new_action.trigger()
    new = controller.model
    assert new is not old and session.model is new
    assert session.is_running() and session.state == "stopping"  # did not wait
    assert_same_weights(new, controller.view_model)
    untouched = {name: value.copy() for name, value in new.state_dict().items()}
    qtbot.waitUntil(lambda: not session.is_running(), timeout=20000)
    QCoreApplication.sendPostedEvents()          # the old run's queued reports
    controller.refresh_now()
    assert session.state == "idle"
    for name, value in new.state_dict().items():
        np.testing.assert_array_equal(value, untouched[name])
    assert_same_weights(new, controller.view_model)
    np.testing.assert_array_equal(window.network_view.filter_weights(1),
                                  new.layers[0].weight.data)
    assert controller.model_files.note == "untrained weights"
    assert not controller.model_files.has_unsaved_changes()


def test_opening_another_architecture_while_training_shows_it(
        qtbot, window, tiny_dataset, tmp_path):
    """Opening a model of another shape mid-run shows that model; snapshots of the
    old one, which no longer fit, are dropped instead of raising."""
    other = build(ArchSpec([ConvBlock(6, 5, pool="max", pool_size=2)], dense=12),
                  np.random.default_rng(3))
    path = tmp_path / "other.npz"
    nn.save_model(path, other)
    controller = window.controller
    train_until_snapshot(qtbot, controller, tiny_dataset)
    assert controller.model_files.open_model(str(path))
    QCoreApplication.sendPostedEvents()
    assert controller.view_model.layers[0].weight.data.shape == (6, 1, 5, 5)
    assert_same_weights(other, controller.view_model)


def test_an_edit_while_the_run_stops_waits_for_the_training_thread(
        qtbot, window, tiny_dataset):
    """An edit sent while the run winds down is applied once its thread has ended,
    never in the GUI thread beside the training thread's last step."""
    controller = window.controller
    session = controller.session
    train_until_snapshot(qtbot, controller, tiny_dataset)
    session.stop()
    assert session.state == "stopping"
    seen = []
    session.submit(lambda model: seen.append(session.is_running()))
    with qtbot.waitSignal(session.finished, timeout=20000):
        pass
    assert seen == [False]
