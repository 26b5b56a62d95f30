"""Tests that the window follows a training run live and closes cleanly during one."""

import numpy as np

from convlab.train import TrainConfig, Trainer


def start_training(controller, dataset, epochs=1000):
    """Train the window's model on the tiny dataset in the session's worker thread."""
    model = controller.model
    train = (dataset.x_train, dataset.y_train)
    config = TrainConfig(epochs=epochs, batch_size=8, lr=5e-3)
    controller.session.start_trainer(
        lambda: Trainer(model, train, None, config, rng=np.random.default_rng(0)))


def test_feature_maps_and_filters_follow_training(qtbot, window, tiny_dataset):
    """While training runs, snapshots reach the views: filters and maps change."""
    controller = window.controller
    window.input_panel.canvas.add_stroke([(90, 60), (190, 60), (120, 230)])
    controller.refresh_now()
    view = window.network_view
    conv = next(i for i, t in enumerate(view.columns()) if t.startswith("Conv"))
    filters_before = view.filter_weights(conv).copy()
    maps_before = view.activation(conv).copy()
    start_training(controller, tiny_dataset)
    with qtbot.waitSignal(controller.session.weights_updated, timeout=20000):
        pass
    qtbot.waitUntil(
        lambda: not np.array_equal(view.filter_weights(conv), filters_before),
        timeout=5000)
    controller.refresh_now()
    assert not np.array_equal(view.activation(conv), maps_before)
    assert window.prediction_panel.probabilities() is not None
    controller.session.stop()
    with qtbot.waitSignal(controller.session.finished, timeout=20000):
        pass
    # After the run the GUI copy holds exactly the live model's weights.
    for p, q in zip(controller.model.parameters(), controller.view_model.parameters(),
                    strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_closing_during_training_leaves_no_thread(qtbot, window, tiny_dataset):
    """Closing the window mid-run stops and joins the training thread."""
    controller = window.controller
    start_training(controller, tiny_dataset)
    with qtbot.waitSignal(controller.session.weights_updated, timeout=20000):
        pass
    window.close()
    assert not controller.session.is_running()
