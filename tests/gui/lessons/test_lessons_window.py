"""The Lessons tab in the real window: every shipped lesson end to end, answers that
follow the live state, bad lesson files, progress kept across windows."""

import json

import numpy as np
import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QTextBrowser

from convlab import explain
from convlab.gui.lessons.setup import app_state
from convlab.gui.main_window import TABS
from convlab.lab import lessons as lab
from convlab.lab.backward import default_target
from convlab.nn.reference import conv_single_step
from convlab.resources import LESSONS, resource_path

SHIPPED = sorted(p.stem for p in resource_path(LESSONS).glob("*.json"))


@pytest.fixture
def room(window, tiny_dataset):
    """The window with the tiny dataset loaded; returns its LessonsPresenter."""
    window.controller.set_dataset(tiny_dataset)
    window.show_tab("lessons")
    return window.controller.lessons


def open_lesson(room, lesson_id):
    """Pick a lesson in the list, as a click on it does."""
    row = [lesson.id for lesson in room.lessons].index(lesson_id)
    room.panel.lesson_list.setCurrentRow(row)
    assert room.lesson().id == lesson_id


def expected(room):
    """The engine's answer for the step on show and the window as it is now."""
    state = app_state(room.window, room.controller, room.record)
    return lab.compute(room.step()["answer"], state)


def click_cell(room, stage, response):
    """Click the Playground map cell that response ("row R, column C") names."""
    row, col = (int(part.split()[1]) for part in response.split(", "))
    maps = room.window.playground_panel.maps
    view = maps.conv_view if stage == "conv" else maps.pool_view
    view.cell_clicked.emit(row, col)  # what a click on the map's cell sends


def give(qtbot, room, response):
    """Type, choose or click response (and press Check); wait for a background
    answer."""
    panel = room.panel
    answer = room.step()["answer"]
    if lab.ANSWER_KINDS[answer["kind"]].cell:
        click_cell(room, answer["stage"], response)
        return panel.feedback.text()
    if panel.choice_combo.count():
        panel.choice_combo.setCurrentIndex(panel.choice_combo.findText(response))
        assert panel.choice_combo.currentText() == response
    else:
        panel.number_edit.setText(str(response))
    qtbot.mouseClick(panel.check_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not room._tasks.running(), timeout=60000)
    return panel.feedback.text()


def wrong_response(room, answer):
    """An answer the step must refuse."""
    if lab.ANSWER_KINDS[room.step()["answer"]["kind"]].cell:
        return lab.cell_text(1, 1) if answer.value == lab.cell_text(0, 0) else \
            lab.cell_text(0, 0)
    if room.panel.choice_combo.count():
        options = [room.panel.choice_combo.itemText(i)
                   for i in range(room.panel.choice_combo.count())]
        return next(o for o in options if o != answer.value)
    return answer.value + 1000


def test_a_click_on_the_playground_map_answers_a_cell_question(qtbot, room):
    """The largest-response step takes a click on the convolution map: a wrong
    cell is refused, the argmax of the Playground's own output accepted."""
    open_lesson(room, "01_convolution_cell")
    qtbot.mouseClick(room.panel.next_button, Qt.LeftButton)
    qtbot.mouseClick(room.panel.next_button, Qt.LeftButton)
    assert room.panel.click_hint.isVisibleTo(room.panel)
    assert not room.panel.check_button.isVisibleTo(room.panel)
    conv = room.window.playground_panel.results().conv
    row, col = np.unravel_index(np.argmax(conv), conv.shape)
    wrong = (row + 1) % conv.shape[0]
    room.window.playground_panel.maps.conv_view.cell_clicked.emit(wrong, col)
    assert "Not quite" in room.panel.feedback.text()
    assert "Not quite" in room.window.statusBar().currentMessage()
    room.window.playground_panel.maps.conv_view.cell_clicked.emit(row, col)
    assert room.panel.feedback.text() == f"Right: row {row}, column {col}."


def run_step(qtbot, room):
    """Press the step's Run button and wait for the run to end (stopping a run
    paused by an exploded loss, as the Training tab tells the student to)."""
    session = room.controller.session
    with qtbot.waitSignal(session.running_changed, timeout=60000):
        qtbot.mouseClick(room.panel.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: session.state in ("idle", "paused"), timeout=120000)
    if session.state == "paused":
        session.stop()
    qtbot.waitUntil(lambda: not session.is_running(), timeout=60000)


def label_digits(room, count):
    """Label test digits in My digits, as drawing them and pressing keys does."""
    controller = room.controller
    for i in range(count):
        controller.show_test_image(i)
        controller.my_digits.add_current_input(int(controller.dataset.y_test[i]))


@pytest.mark.parametrize("lesson_id", SHIPPED)
def test_every_shipped_lesson_runs_end_to_end(qtbot, room, lesson_id):
    """Each step of each shipped lesson refuses a wrong answer, accepts the one
    computed from the live window, reveals it and shows the view it names."""
    open_lesson(room, lesson_id)
    if lesson_id == "13_handwriting":
        label_digits(room, 6)
    for index in range(len(room.lesson().steps)):
        step = room.step()
        assert room.panel.question.text() == step["question"]
        if "run" in step:
            run_step(qtbot, room)
        answer = expected(room)
        assert "Not quite" in give(qtbot, room, wrong_response(room, answer))
        assert room.panel.reveal.text() == ""
        assert give(qtbot, room, answer.text()).startswith("Right")
        assert answer.text() in room.panel.reveal.text()
        if "look_at" in step:
            assert room.window.tabs.currentIndex() == TABS.index(step["look_at"])
        if index + 1 < len(room.lesson().steps):
            qtbot.mouseClick(room.panel.next_button, Qt.LeftButton)
    assert room.panel.lesson_list.currentItem().text().startswith("✓")


def test_conv_cell_answer_is_the_playground_window_and_follows_the_digit(qtbot,
                                                                          room):
    """The conv-cell answer is conv_single_step on the Playground's own window, and
    another digit makes another answer (the old one is then refused)."""
    open_lesson(room, "01_convolution_cell")
    playground = room.window.playground_panel

    def by_hand():
        r = playground.results()
        return conv_single_step(r.padded[2:5, 2:5], r.kernel, r.bias)

    first = by_hand()
    assert give(qtbot, room, f"{first:.4f}").startswith("Right")
    for index in range(1, len(room.controller.dataset.x_test)):
        room.controller.show_test_image(index)
        second = by_hand()
        if abs(second - first) > 0.05:  # beyond the lesson's tolerance of 0.02
            break
    assert abs(second - first) > 0.05
    assert "Not quite" in give(qtbot, room, f"{first:.4f}")
    assert give(qtbot, room, f"{second:.4f}").startswith("Right")


def test_gradient_sign_answer_follows_the_digit(qtbot, room):
    """The gradient-sign answer is explain.backprop's sign for the digit on show:
    two test digits with opposite signs get opposite answers."""
    open_lesson(room, "08_gradient_sign")
    controller = room.controller
    model = controller.view_model

    def sign(index):
        image = controller.dataset.x_test[index, 0].astype(np.float64)
        probabilities = explain.backprop(model, image, 0).probabilities
        target = default_target(probabilities, int(controller.dataset.y_test[index]))
        g = explain.backprop(model, image, target).layers[0].grad_weight[0, 0, 1, 1]
        return "positive" if g > 0 else "negative" if g < 0 else "zero"

    signs = {i: sign(i) for i in range(len(controller.dataset.x_test))}
    a = next(i for i in signs if signs[i] == "positive")
    b = next(i for i in signs if signs[i] == "negative")
    for index in (a, b):
        controller.show_test_image(index)
        other = "negative" if signs[index] == "positive" else "positive"
        assert "Not quite" in give(qtbot, room, other)
        assert give(qtbot, room, signs[index]).startswith("Right")


def test_a_bad_lesson_file_is_refused_with_its_line_and_the_others_load(
        qtbot, room, tmp_path):
    """Opening a folder with a good and two bad files lists the good one beside the
    bundled lessons and names each bad file's line and problem."""
    good = {"title": "My own lesson", "steps": [
        {"question": "How wide is the output?", "answer": {"kind": "output_size"}}]}
    (tmp_path / "good.json").write_text(json.dumps(good, indent=2))
    (tmp_path / "typo.json").write_text(
        '{\n  "title": "Typo",\n  "steps": [\n    {"question": "q",\n'
        '     "answer": {"kind": "output_sise"}}\n  ]\n}\n')
    (tmp_path / "broken.json").write_text('{\n  "title": "Broken",\n  "steps": [,]\n}')
    room.open_folder(str(tmp_path))
    titles = [room.panel.lesson_list.item(i).text().strip()
              for i in range(room.panel.lesson_list.count())]
    assert titles[-1] == "My own lesson"
    assert len(titles) == len(SHIPPED) + 1
    problems = room.panel.problems.text()
    assert "typo.json, line 5: unknown answer kind \"output_sise\"" in problems
    assert "broken.json, line 3: not valid JSON" in problems
    assert room.panel.problems.isVisible()


def test_the_file_menu_opens_a_lessons_folder(qtbot, room, tmp_path, monkeypatch):
    """File > Open lessons folder asks for a folder and loads its lessons."""
    from convlab.gui.common import dialogs

    lesson = {"title": "From the menu", "steps": [
        {"question": "How wide?", "answer": {"kind": "output_size"}}]}
    (tmp_path / "menu.json").write_text(json.dumps(lesson))
    monkeypatch.setattr(dialogs, "ask_directory", lambda *args: str(tmp_path))
    room.window.open_lessons_action.trigger()
    assert room.lessons[-1].title == "From the menu"


def test_progress_survives_a_new_window(qtbot, room, tiny_dataset):
    """A step answered and the step reached come back in a new window."""
    from convlab.gui.app import create_window

    open_lesson(room, "02_padding")
    answer = expected(room)
    assert give(qtbot, room, answer.text()).startswith("Right")
    qtbot.mouseClick(room.panel.next_button, Qt.LeftButton)
    room.window.close()
    again = create_window(restore=False)
    qtbot.addWidget(again)
    try:
        lessons = again.controller.lessons
        assert lessons.lesson().id == "02_padding"
        assert lessons.panel.position.text() == "step 2 of 3"
        assert lessons._progress["lessons"]["02_padding"]["answered"] == [0]
        assert "Set the window up again" in lessons.panel.notes.text()
        qtbot.mouseClick(lessons.panel.setup_button, Qt.LeftButton)
        assert again.playground_panel.results().padding == 2  # step 2's setting
    finally:
        again.close()


def test_teacher_view_lists_the_answers_for_the_current_state(qtbot, room):
    """The teacher view shows each question with its answer for the window now,
    each step as its setup leaves it (the padding lesson's three sizes)."""
    open_lesson(room, "03_stride")
    dialog = room.show_teacher_view()
    qtbot.addWidget(dialog)
    text = dialog.findChild(QTextBrowser).toPlainText()
    assert room.lesson().steps[0]["question"] in text
    assert f"→ {expected(room).text()} (" in text
    for p, f, out in ((0, 5, 24), (2, 5, 28), (1, 7, 24)):
        assert f"→ {out} (floor((28 + 2·{p} − {f}) / 1) + 1" in text
    assert "measured on test digits when the student checks" in text
    assert "known only when the student checks (the step makes fresh random " \
        "weights)" in text


def test_a_step_that_cannot_be_answered_says_what_to_do(qtbot, window):
    """Without a dataset the trained-filter lesson says to load one, not crash."""
    room = window.controller.lessons
    open_lesson(room, "05_trained_filter")
    assert "load a dataset" in room.panel.notes.text()
    assert "File > Open dataset folder" in give(qtbot, room, "changes by 1 point or "
                                                "less")


def test_a_slow_answer_is_measured_once_per_set_of_weights(qtbot, room, monkeypatch):
    """A second try on the same weights reuses the measurement; new weights (the
    filter switched off for real) are measured again."""
    from convlab.gui.lessons import presenter

    started = []
    original = presenter.BackgroundTask

    def counting(*args, **kwargs):
        started.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(presenter, "BackgroundTask", counting)
    open_lesson(room, "05_trained_filter")
    answer = expected(room)
    assert "Not quite" in give(qtbot, room, wrong_response(room, answer))
    assert give(qtbot, room, answer.text()).startswith("Right")
    assert len(started) == 1
    room.window.playground_panel.tools.switch_off_requested.emit()  # its button
    give(qtbot, room, answer.text())
    assert len(started) == 2


def test_lesson_files_know_every_tab_of_the_window():
    """A lesson may name exactly the window's tabs (lab cannot import the GUI)."""
    from convlab.lab.lesson_files import TABS as LESSON_TABS

    assert LESSON_TABS == TABS
