"""The Playground in the real window: Network filters open in it, edits reach models."""

import numpy as np
from PyQt5.QtWidgets import QCheckBox, QPushButton

from convlab.gui.playground import PlaygroundPanel
from convlab.gui.playground.bench import measure_kernel_edit
from convlab.train import TrainConfig, Trainer


def test_network_filter_click_opens_it_and_switch_off_reaches_the_live_model(window):
    """Filter click -> 'Edit in Playground' -> Switch off zeroes the live filter too."""
    panel = window.findChild(PlaygroundPanel)
    controller = window.controller
    window.network_view.filter_clicked.emit(1, 3)  # column 1 = the first conv layer
    window.detail_view.edit_button.click()
    assert window.tabs.currentWidget().isAncestorOf(panel)
    live = controller.model.layers[0]
    np.testing.assert_array_equal(panel.editor.kernel(), live.weight.data[3, 0])
    off = next(b for b in panel.tools.findChildren(QPushButton)
               if b.accessibleName() == "Switch the filter off")
    off.click()
    assert np.all(live.weight.data[3] == 0)
    assert np.all(controller.view_model.layers[0].weight.data[3] == 0)


def test_bench_hook_measures_inside_the_window_and_restores_the_tab(window):
    """measure_kernel_edit(window, n) finds the panel, reports ms, restores the tab."""
    window.tabs.setCurrentIndex(0)
    result = measure_kernel_edit(window, 5)
    assert 0 < result["median"] <= result["p95"]
    assert window.tabs.currentIndex() == 0


def test_freeze_during_training_reaches_the_worker(qtbot, window, tiny_dataset):
    """Freezing mid-run goes to the worker between steps: the filter stops moving."""
    controller = window.controller
    panel = window.findChild(PlaygroundPanel)
    live = controller.model.layers[0]
    config = TrainConfig(epochs=1000, batch_size=8, lr=5e-3)
    train = (tiny_dataset.x_train, tiny_dataset.y_train)
    controller.session.start_trainer(lambda: Trainer(
        controller.model, train, None, config, rng=np.random.default_rng(0)))
    with qtbot.waitSignal(controller.session.weights_updated, timeout=20000):
        pass
    window.network_view.filter_clicked.emit(1, 2)
    window.detail_view.edit_button.click()
    panel.tools.findChild(QCheckBox).setChecked(True)
    qtbot.waitUntil(lambda: live.weight.freeze_mask is not None, timeout=10000)
    frozen = live.weight.data[2].copy()
    free = live.weight.data[0].copy()
    # Training goes on around the frozen filter: wait until a free one has moved.
    qtbot.waitUntil(lambda: not np.array_equal(live.weight.data[0], free),
                    timeout=20000)
    controller.session.stop()
    with qtbot.waitSignal(controller.session.finished, timeout=20000):
        pass
    np.testing.assert_array_equal(live.weight.data[2], frozen)
