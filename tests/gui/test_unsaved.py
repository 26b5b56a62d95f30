"""Changed weights are never lost without the "Save changes?" question."""

import numpy as np
import pytest

from convlab import nn
from convlab.gui.common import dialogs
from convlab.gui.model_files import DEFAULT_MODEL


def edit_a_filter(window):
    """Change one conv weight the way the Playground does, and let the window see it."""
    window.controller.view_model.layers[0].weight.data[0, 0, 0, 0] += 1.0
    window.playground_panel.model_edited.emit()
    window.controller.refresh_now()


@pytest.fixture
def other_model(tmp_path):
    """A saved model file to open."""
    path = tmp_path / "other.npz"
    nn.save_model(str(path), nn.load_model(str(DEFAULT_MODEL)).model)
    return str(path)


def new_network(window, other):
    window.new_action.trigger()


def open_model(window, other):
    window.open_action.trigger()


def open_recent(window, other):
    window.recent_model_chosen.emit(other)


def new_random_weights(window, other):
    window.show_tab("training")
    window.training_panel.reinit.click()


def close_window(window, other):
    window.close()


ACTIONS = [new_network, open_model, open_recent, new_random_weights, close_window]


def replaced(window, weights):
    """Whether the action went ahead: the edited weights are gone or the window."""
    if not window.isVisible():
        return True
    now = window.controller.view_model.layers[0].weight.data
    return now.shape != weights.shape or not np.array_equal(now, weights)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("answer", ["save", "discard", "cancel"])
def test_changed_weights_get_the_question(window, tmp_path, monkeypatch, other_model,
                                          save_questions, action, answer):
    """Every action that replaces edited weights asks first: Save writes them and goes
    on, Discard goes on, Cancel keeps everything."""
    monkeypatch.setattr(dialogs, "ask_open_file", lambda *a: other_model)
    saved = tmp_path / "mine.npz"
    monkeypatch.setattr(dialogs, "ask_save_file", lambda *a: str(saved))
    edit_a_filter(window)
    assert window.isWindowModified()
    weights = window.controller.view_model.layers[0].weight.data.copy()
    save_questions.answers.append(answer)
    action(window, other_model)
    assert len(save_questions) == 1
    assert "Save" in save_questions[0][1]
    assert replaced(window, weights) == (answer != "cancel")
    assert saved.is_file() == (answer == "save")
    if answer == "save":
        np.testing.assert_array_equal(
            nn.load_model(str(saved)).model.layers[0].weight.data, weights)
    if answer == "cancel":
        assert window.isVisible() and window.isWindowModified()


@pytest.mark.parametrize("action", ACTIONS)
def test_unchanged_weights_are_replaced_without_a_question(window, monkeypatch,
                                                          other_model, save_questions,
                                                          action):
    """Nothing to lose: no question."""
    monkeypatch.setattr(dialogs, "ask_open_file", lambda *a: other_model)
    action(window, other_model)
    assert save_questions == []


def test_a_failed_save_keeps_the_window_open(window, tmp_path, monkeypatch,
                                             save_questions, messages):
    """Save that fails while closing: the window stays, the weights stay."""
    monkeypatch.setattr(dialogs, "ask_save_file",
                        lambda *a: str(tmp_path / "missing" / "folder" / "x.npz"))
    edit_a_filter(window)
    weights = window.controller.view_model.layers[0].weight.data.copy()
    save_questions.answers.append("save")
    window.close()
    assert window.isVisible()
    assert messages[-1][1] == "Could not save the model"
    np.testing.assert_array_equal(window.controller.view_model.layers[0].weight.data,
                                  weights)


def test_saving_and_opening_clear_the_star(window, tmp_path):
    """The title's "*" appears with an edit and goes with a save; undoing the edit by
    hand clears it too, since the weights are the saved ones again."""
    assert not window.isWindowModified()
    assert window.windowTitle().endswith("[*]")
    edit_a_filter(window)
    assert window.isWindowModified()
    assert window.controller.model_files.save_model(path=str(tmp_path / "saved.npz"))
    assert not window.isWindowModified()
    weight = window.controller.view_model.layers[0].weight.data
    saved = weight[0, 0, 0, 0]
    edit_a_filter(window)
    assert window.isWindowModified()
    weight[0, 0, 0, 0] = saved
    window.playground_panel.model_edited.emit()
    window.controller.refresh_now()
    assert not window.isWindowModified()


def test_a_training_step_marks_the_weights_changed(qtbot, window, tiny_dataset):
    """One training step on the loaded data: the title shows "*"."""
    controller = window.controller
    controller.set_dataset(tiny_dataset)
    window.show_tab("training")
    window.training_panel.step.click()
    qtbot.waitUntil(lambda: controller.session.state == "paused", timeout=20000)
    qtbot.waitUntil(window.isWindowModified, timeout=20000)
