"""The Why tab in the real window: saliency, occlusion, shift and random weights."""

import numpy as np
import pytest
from PyQt5.QtWidgets import QLabel

from convlab import explain
from convlab.data.mnist import load_mnist
from convlab.data.sources import Dataset
from convlab.gui.app import demo_digit
from convlab.lab import why

WAIT_MS = 30000  # an upper bound only: the tests wait for state, not for time


def settle(qtbot, window):
    """Wait until the Why tab has shown an explanation of everything asked."""
    presenter = window.controller.why
    qtbot.waitUntil(lambda: not presenter.is_busy(), timeout=WAIT_MS)


def draw_on_why_tab(qtbot, window, draw=demo_digit):
    """Show the Why tab, draw on the canvas and wait for the redraw and the maps."""
    window.show_tab("why")
    with qtbot.waitSignal(window.controller.views_refreshed, timeout=WAIT_MS):
        draw(window.input_panel.canvas)
    settle(qtbot, window)
    return window.controller.current_input


def test_ten_maps_equal_saliency_all_of_the_drawing(qtbot, window):
    """The small maps are explain.saliency_all of the input on one shared scale;
    the enlarged two are the prediction's and the runner-up's."""
    x = draw_on_why_tab(qtbot, window)
    panel, model = window.why_panel, window.controller.view_model
    maps = panel.saliency_grid.maps()
    np.testing.assert_allclose(maps, explain.saliency_all(model, x), rtol=1e-6,
                               atol=1e-9)
    low, high = panel.saliency_grid.levels()
    assert low == -high and high >= np.abs(maps).max()
    probs = window.prediction_panel.probabilities()
    best, runner_up = why.top_two(probs)
    assert window.prediction_panel.predicted_digit() == best
    np.testing.assert_array_equal(panel.best_view.current_map(), maps[best])
    np.testing.assert_array_equal(panel.runner_up_view.current_map(),
                                  maps[runner_up])
    assert panel.best_view.legend_levels() == (low, high)
    assert "(1st)" in panel.saliency_grid.title(best)
    assert f"Why did it say {best}?" in panel.heading()


def test_a_hidden_tab_computes_nothing_until_it_is_shown(qtbot, window):
    """Drawing while another tab is on show starts no explanation; showing the
    Why tab catches up with the drawing."""
    window.show_tab("network")
    with qtbot.waitSignal(window.controller.views_refreshed, timeout=WAIT_MS):
        demo_digit(window.input_panel.canvas)
    assert not window.controller.why.is_busy()
    assert window.why_panel.saliency_grid.maps() is None
    window.show_tab("why")
    settle(qtbot, window)
    np.testing.assert_allclose(
        window.why_panel.saliency_grid.maps(),
        explain.saliency_all(window.controller.view_model,
                             window.controller.current_input), rtol=1e-6, atol=1e-9)


def test_occlusion_overlay_follows_patch_size_and_stride(qtbot, window):
    """The overlay is explain.occlusion of the predicted digit for the size and
    stride set, and changing them recomputes it."""
    x = draw_on_why_tab(qtbot, window)
    panel, model = window.why_panel, window.controller.view_model
    best = window.prediction_panel.predicted_digit()
    view = panel.occlusion_view
    np.testing.assert_allclose(view.occlusion(), explain.occlusion(model, x, best),
                               atol=1e-9)
    panel.size_box.setValue(6)
    panel.stride_box.setValue(3)
    settle(qtbot, window)
    expected = explain.occlusion(model, x, best, 6, 3)
    assert view.occlusion().shape == expected.shape == (8, 8)
    np.testing.assert_allclose(view.occlusion(), expected, atol=1e-9)
    np.testing.assert_allclose(view.per_pixel(),
                               why.occlusion_per_pixel(expected, 6, 3), atol=1e-9)
    np.testing.assert_array_equal(view.input_image(), x)


def test_a_bad_patch_size_says_why_and_keeps_the_last_map(qtbot, window):
    """A patch larger than the image gets a visible message; the map stays."""
    draw_on_why_tab(qtbot, window)
    panel = window.why_panel
    before = panel.occlusion_view.occlusion()
    panel.size_box.setValue(30)
    assert not window.controller.why.is_busy()
    assert "does not fit in the 28x28 image" in panel.occlusion_message_text()
    assert panel.occlusion_message.isVisible()
    np.testing.assert_array_equal(panel.occlusion_view.occlusion(), before)
    panel.size_box.setValue(5)
    settle(qtbot, window)
    assert panel.occlusion_message_text() == ""
    assert panel.occlusion_view.occlusion().shape == (12, 12)


def test_shift_moves_the_input_by_the_pixels_asked(qtbot, window):
    """Twelve pixels right and one up: the input explained is the drawing moved
    exactly so (ink pushed past the edge is lost, black comes in), and the
    prediction is the model's for it."""
    x = draw_on_why_tab(qtbot, window)
    panel, model = window.why_panel, window.controller.view_model
    for _ in range(12):
        panel.shift_buttons["right"].click()
    panel.shift_buttons["up"].click()
    settle(qtbot, window)
    expected = np.zeros_like(x)
    expected[:-1, 12:] = x[1:, :-12]
    assert x[:, -12:].sum() > 1.0  # some ink went past the right edge
    shown = panel.occlusion_view.input_image()
    np.testing.assert_array_equal(shown, expected)
    np.testing.assert_allclose(panel.saliency_grid.maps(),
                               explain.saliency_all(model, expected), rtol=1e-6,
                               atol=1e-9)
    before = why.probabilities(model, x)
    after = why.probabilities(model, expected)
    digit, _ = why.top_two(before)
    text = panel.shift_change_text()
    assert f"P({digit}) = {before[digit]:.1%}" in text
    assert f"After: P({digit}) = {after[digit]:.1%}" in text
    assert f"Why did it say {why.top_two(after)[0]}?" in panel.heading()
    panel.reset_button.click()
    settle(qtbot, window)
    np.testing.assert_array_equal(panel.occlusion_view.input_image(), x)
    assert panel.shift_change_text() == ""


def test_random_weights_leave_the_live_model_and_give_another_map(qtbot, window):
    """Randomize builds an untrained copy: the live model's weights are unchanged
    and the untrained saliency differs from the trained one."""
    x = draw_on_why_tab(qtbot, window)
    controller, panel = window.controller, window.why_panel
    live = [p.data.copy() for p in controller.model.parameters()]
    shown = [p.data.copy() for p in controller.view_model.parameters()]
    panel.randomize_button.click()
    settle(qtbot, window)
    assert all(np.array_equal(a, p.data) for a, p in
               zip(live, controller.model.parameters(), strict=True))
    assert all(np.array_equal(a, p.data) for a, p in
               zip(shown, controller.view_model.parameters(), strict=True))
    assert panel.is_comparing()
    best = window.prediction_panel.predicted_digit()
    trained = panel.trained_view.current_map()
    np.testing.assert_allclose(trained,
                               explain.saliency(controller.view_model, x, best),
                               rtol=1e-6, atol=1e-9)
    untrained = panel.untrained_view.current_map()
    assert untrained.shape == (28, 28)
    assert not np.allclose(untrained, trained)


@pytest.fixture
def real_digits(mnist_dir):
    """A Dataset of the first 20 real MNIST test digits."""
    images, labels = load_mnist(mnist_dir, "test")
    x = images[:20, None].astype(np.float32) / 255  # (20, 1, 28, 28)
    y = labels[:20].astype(np.int64)
    return Dataset("20 MNIST test digits", x, y, x, y)


def input_note(prediction_panel):
    """The note about the input beside the prediction, as the student sees it."""
    label, = [w for w in prediction_panel.findChildren(QLabel)
              if w.accessibleName() == "About this input"]
    return label.text() if label.isVisibleTo(prediction_panel) else ""


def test_out_of_range_note_for_a_dot_not_for_a_test_digit(qtbot, window,
                                                          real_digits):
    """A dot gets the note beside the prediction; a real test digit does not."""
    window.controller.set_dataset(real_digits)
    panel = window.prediction_panel
    window.controller.show_test_image(3)
    assert input_note(panel) == ""
    draw_on_why_tab(qtbot, window, lambda canvas: (
        canvas.clear(), canvas.add_stroke([(140, 140)])))
    note = input_note(panel)
    assert "must still pick one of its ten digits" in note
    assert "not the chance that this is a digit" in note
    window.controller.show_test_image(4)
    assert input_note(panel) == ""
