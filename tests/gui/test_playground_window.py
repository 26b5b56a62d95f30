"""The Playground in the real window: Network filters open in it, edits reach models."""

import numpy as np
from PyQt5.QtWidgets import QPushButton

from convlab.gui.playground import PlaygroundPanel
from convlab.gui.playground.bench import measure_kernel_edit


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
