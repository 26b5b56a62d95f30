"""Views never assume finite numbers: NaN and infinity are shown and explained."""

import numpy as np
import pytest

from convlab.gui.evaluation.panel import EvaluationPanel
from convlab.gui.input.prediction_panel import PredictionPanel
from convlab.gui.network.detail_view import DetailView

BAD = [np.nan, np.inf, -np.inf]


@pytest.mark.parametrize("bad", BAD)
def test_prediction_panel_says_not_a_number(qtbot, bad):
    """Non-finite probabilities: no digit, no bars, and a sentence saying why."""
    panel = PredictionPanel()
    qtbot.addWidget(panel)
    p = np.full(10, 0.05)
    p[3] = bad
    panel.set_probabilities(p)
    assert panel.predicted_digit() is None
    assert "not a number" in panel.confidence_text()
    assert all(bar.value() == 0 for bar in panel._bars)
    assert panel._values[3].text() == "—"
    panel.set_probabilities(np.eye(10)[7])  # and it recovers with good numbers
    assert panel.predicted_digit() == 7 and panel.confidence_text() == "100% sure"


@pytest.mark.parametrize("bad", BAD)
def test_detail_view_shows_non_finite_cells(qtbot, bad):
    """An array with NaN or infinity is drawn, its cells say what they hold and the
    explanation says how many are not numbers."""
    view = DetailView()
    qtbot.addWidget(view)
    a = np.arange(9, dtype=float).reshape(3, 3)
    a[1, 1] = bad
    view.show_array("map", "A map.", a, bring_to_front=False)
    assert view.table.item(1, 1).text() in ("NaN", "∞", "−∞")
    assert view.table.item(0, 1).text() == "1.00"
    assert "1 of these 9 numbers is not a number" in view.explanation.text()
    view.show_array("map", "A map.", np.full((2, 2), bad), bring_to_front=False)
    assert "4 of these 4 numbers" in view.explanation.text()


def test_detail_view_gaps_stay_empty(qtbot):
    """Cells marked as gaps (between a filter's channels) stay blank and uncounted."""
    view = DetailView()
    qtbot.addWidget(view)
    a = np.array([[1.0, np.nan, 2.0]])
    view.show_array("filter", "A filter.", a, gaps=np.isnan(a), bring_to_front=False)
    assert view.table.item(0, 1) is None
    assert "not a number" not in view.explanation.text()


def test_evaluation_panel_handles_non_finite_results(qtbot):
    """A NaN accuracy and NaN per-digit accuracies show a dash, not "nan%"."""
    panel = EvaluationPanel()
    qtbot.addWidget(panel)
    confusion = np.zeros((10, 10), int)
    confusion[:, 0] = 5
    panel.set_results(np.nan, np.full(10, np.nan), confusion, "test digits")
    assert "nan" not in panel.summary.text().lower()
    assert "—" in panel.summary.text()


def test_nan_weights_redraw_every_view(qtbot, window):
    """NaN weights: the prediction, the network view, an enlarged map and filter all
    redraw without an exception and say the numbers are not numbers."""
    controller = window.controller
    for p in controller.view_model.parameters():
        p.data[...] = np.nan
    window.input_panel.canvas.add_stroke([(80, 60), (200, 220)])
    controller.network.weights_changed()
    controller.refresh_now()
    assert window.prediction_panel.predicted_digit() is None
    assert "not a number" in window.prediction_panel.confidence_text()
    assert "not a number" in window.network_view.caption.text()
    controller.network._on_view_map_clicked(1, 0)
    assert "not a number" in window.detail_view.explanation.text()
    controller.network._on_view_filter_clicked(1, 0)
    assert "not a number" in window.detail_view.explanation.text()
    controller.network._on_view_map_clicked(len(window.network_view.columns()) - 2,
                                            -1)
    assert "not a number" in window.detail_view.explanation.text()


def test_nan_weights_evaluate_with_an_explanation(qtbot, window, tiny_dataset):
    """Evaluating NaN weights finishes and says the answers are meaningless."""
    controller = window.controller
    for p in controller.view_model.parameters():
        p.data[...] = np.nan
    controller.set_dataset(tiny_dataset)
    controller.evaluation.evaluate_test_set()
    qtbot.waitUntil(lambda: controller.evaluation.result is not None, timeout=10000)
    panel = window.evaluation_panel
    assert "not a number" in panel.summary.text()
    captions = [panel.mistakes.item(i).text() for i in range(panel.mistakes.count())]
    assert captions and not any("nan" in c for c in captions)
