"""LessonsPresenter: runs the lessons, asks lab.lessons for every answer.

It loads the bundled lessons (resources/lessons) and those of a folder the student
opens, keeps the progress in the settings (lessons/progress, so a student resumes
where they left), sets the window up for each step (setup.apply_setup), and checks
an answer against the one lab.lessons computes from the live state, the slow ones
in a BackgroundTask on a private copy of the model. It records what the training
session reports, for the steps that ask about a run.

The controller hosts it::

    lessons = LessonsPresenter(window.lessons_panel, window, controller, parent=...)
    window closing: lessons.shutdown()   # joins a measurement still running
"""

import hashlib
import json

import numpy as np
from PyQt5.QtCore import QObject, Qt
from PyQt5.QtWidgets import QDialog, QTextBrowser, QVBoxLayout

from convlab import nn
from convlab.gui.common import dialogs
from convlab.gui.common.tasks import BackgroundTask, TaskList
from convlab.gui.lessons.setup import app_state, apply_setup
from convlab.lab.lesson_files import load_folder
from convlab.lab.lessons import (
    ANSWER_KINDS,
    KIND_OPTIONS,
    AnswerUnavailable,
    PlaygroundSetting,
    TrainingRecord,
    cell_text,
    check,
    compute,
    step_states,
)
from convlab.resources import BUNDLED_MODEL, LESSONS, resource_path
from convlab.train import TrainConfig, Trainer

PROGRESS_KEY = "lessons/progress"
FOLDER_KEY = "lessons/folder"
RESUME_NOTE = ("You left the lesson at this step: press 'Set the window up again' "
               "to show the digit and settings it is about.")
TAB_NAMES = {"network": "Network", "training": "Training", "my_digits": "My digits",
             "evaluation": "Evaluation", "playground": "Playground",
             "lessons": "Lessons"}


def weights_digest(model):
    """A fingerprint of a model's weights (None for no model)."""
    if model is None:
        return None
    digest = hashlib.sha1()
    for name, value in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    return digest.hexdigest()


class LessonsPresenter(QObject):
    """The Lessons room: which lesson and step, the answers, the progress."""

    def __init__(self, panel, window, controller, parent=None):
        super().__init__(parent)
        self.panel = panel
        self.window = window
        self.controller = controller
        self.settings = controller.settings
        self.lessons = []  # lab.lessons.Lesson, bundled first
        self.errors = []  # LessonError of every file refused
        self.record = TrainingRecord()  # what the last training run reported
        self._lesson = None  # index into self.lessons
        self._step = 0
        self._asked = 0  # counts questions: a late background answer is dropped
        self._tasks = TaskList()
        self._bundled = None  # the bundled network, once the teacher view needs it
        self._measured = {}  # slow answers by (answer, weights, test set size)
        self._rng = np.random.default_rng()
        self._progress = self._read_progress()

        panel.lesson_chosen.connect(self._on_panel_lesson_chosen)
        panel.check_requested.connect(self._on_panel_check_requested)
        panel.reveal_requested.connect(self._on_panel_reveal_requested)
        panel.step_requested.connect(self._on_panel_step_requested)
        panel.setup_requested.connect(self._on_panel_setup_requested)
        panel.run_requested.connect(self._on_panel_run_requested)
        panel.open_folder_requested.connect(self.ask_folder)
        panel.teacher_view_requested.connect(self.show_teacher_view)
        window.open_lessons_action.triggered.connect(self.ask_folder)
        window.playground_panel.maps.cell_clicked.connect(
            self._on_playground_cell_clicked)
        session = controller.session
        session.run_started.connect(self._on_session_run_started)
        session.progress.connect(self._on_session_progress)
        session.epoch_finished.connect(self._on_session_epoch_finished)
        self.load(self.settings.read(FOLDER_KEY, "", str) or None)

    # Loading

    def load(self, folder=None):
        """Load the bundled lessons and those of folder (None: only the bundled);
        returns (lessons, files refused) of folder."""
        self.lessons, self.errors = load_folder(resource_path(LESSONS))
        extra, errors = load_folder(folder) if folder else ([], [])
        self.lessons += extra
        self.errors += errors
        self.panel.set_problems([str(e) for e in self.errors])
        ids = [lesson.id for lesson in self.lessons]
        current = self._progress.get("current")
        self._lesson = ids.index(current) if current in ids else None
        self._step = self._saved_step(self._lesson)
        self._show_list()
        # The window starts as the student left it, not as the step sets it up.
        resumed = self.step() is not None and self.step().get("setup")
        self._show_step([RESUME_NOTE] if resumed else [])
        return len(extra), len(errors)

    def ask_folder(self):
        """Ask for a folder of lesson files and load it beside the bundled ones."""
        folder = dialogs.ask_directory(self.window, "Open lessons folder",
                                       self.settings.read(FOLDER_KEY, "", str))
        if folder:
            self.open_folder(folder)

    def open_folder(self, folder):
        """Load the lessons of folder (and remember it for the next start)."""
        found, refused = self.load(folder)
        self.settings.save(FOLDER_KEY, folder)
        text = f"Lessons folder opened: {found} lesson(s) added"
        if refused:
            text += f", {refused} file(s) refused (the Lessons tab says why)"
        self.window.statusBar().showMessage(text, 8000)

    def shutdown(self):
        """Stop and join a background measurement (the window is closing)."""
        self._tasks.cancel_all_and_wait()

    # Which lesson and step

    def lesson(self):
        """The Lesson on show, or None."""
        return None if self._lesson is None else self.lessons[self._lesson]

    def step(self):
        """The step dict on show, or None."""
        lesson = self.lesson()
        return None if lesson is None else lesson.steps[self._step]

    def choose(self, index):
        """Open lesson number index at the step the student had reached."""
        self._lesson = index
        self._step = self._saved_step(index)
        self._enter_step()

    def go(self, delta):
        """Move delta steps (+1 next, -1 previous) within the lesson."""
        lesson = self.lesson()
        if lesson is None or not 0 <= self._step + delta < len(lesson.steps):
            return
        self._step += delta
        self._enter_step()

    def _enter_step(self):
        step = self.step()
        notes = apply_setup(step.get("setup", {}), self.window, self.controller,
                            self._rng)
        # Redraw now: the answer reads the views the setup just changed.
        self.controller.refresh_now()
        entry = self._entry(self.lesson().id)
        entry["step"] = self._step
        self._progress["current"] = self.lesson().id
        self._save_progress()
        self._show_step(notes)

    def _show_step(self, notes):
        self._asked += 1  # an answer still being measured is for another step
        lesson = self.lesson()
        if lesson is None:
            self.panel.show_step(None)
            return
        step = self.step()
        spec = ANSWER_KINDS[step["answer"]["kind"]]
        options = KIND_OPTIONS.get(step["answer"]["kind"]) if spec.choice else None
        self.panel.show_step(step, lesson.title, self._step, len(lesson.steps),
                             options, notes, spec.cell)

    def _show_list(self):
        titles = [(lesson.title, self._is_done(lesson)) for lesson in self.lessons]
        self.panel.set_lessons(titles, -1 if self._lesson is None else self._lesson)

    # Answers

    def _answer_now(self, on_answer, on_problem):
        """Compute the step's answer from the live state; call on_answer(answer) or
        on_problem(text), at once or, for a slow kind, when the task is done."""
        answer = self.step()["answer"]
        if not ANSWER_KINDS[answer["kind"]].slow:
            try:
                result = compute(answer, self._state())
            except AnswerUnavailable as problem:
                on_problem(str(problem))
            else:
                on_answer(result)
            return
        state = self._state(private=True)
        # A second try on the same weights and test set needs no new measurement.
        key = (json.dumps(answer, sort_keys=True), weights_digest(state.model),
               None if state.x_test is None else len(state.x_test))
        if key in self._measured:
            on_answer(self._measured[key])
            return
        asked = self._asked
        self.panel.set_busy(True)
        self.panel.set_feedback("busy", "Measuring the answer on test digits…")
        task = BackgroundTask(lambda report: compute(answer, state,
                                                     task.is_cancelled), self)
        task.succeeded.connect(lambda result: self._measured.update({key: result}))
        task.succeeded.connect(lambda result: asked == self._asked and on_answer(
            result))
        task.failed.connect(lambda text: asked == self._asked and on_problem(text))
        self._tasks.start(task)
        task.finished.connect(lambda: self.panel.set_busy(self._tasks.running()))

    def _state(self, private=False):
        return app_state(self.window, self.controller, self.record, private)

    def _on_panel_check_requested(self, response):
        if self.step() is None:
            return
        self._answer_now(lambda result: self._judge(response, result),
                         lambda text: self.panel.set_feedback("wrong", text))

    def _on_playground_cell_clicked(self, stage, row, col):
        step = self.step()
        if step is None or not ANSWER_KINDS[step["answer"]["kind"]].cell or \
                step["answer"].get("stage") != stage:
            return
        self._on_panel_check_requested(cell_text(row, col))

    def _judge(self, response, result):
        answer = self.step()["answer"]
        try:
            right = check(answer, result, response)
        except ValueError as problem:
            self.panel.set_feedback("wrong", str(problem))
            return
        if not right:
            text = (f"Not quite: {response} is not it. Look again and try once "
                    "more, or press Show answer.")
            self.panel.set_feedback("wrong", text)
            if ANSWER_KINDS[answer["kind"]].cell:  # answered in another tab
                self.window.statusBar().showMessage("Lesson: " + text, 8000)
            return
        self.panel.set_feedback("right", f"Right: {result.text()}.")
        self._reveal(result)

    def _on_panel_reveal_requested(self):
        if self.step() is not None:
            self._answer_now(self._reveal,
                             lambda text: self.panel.set_feedback("wrong", text))

    def _reveal(self, result):
        step = self.step()
        look_at = step.get("look_at")
        where = f" See it in the {TAB_NAMES[look_at]} tab." if look_at else ""
        self.panel.show_reveal(f"Answer: <b>{result.text()}</b> ({result.working})"
                               f"<br>{step.get('reveal', '')}{where}")
        lesson = self.lesson()
        entry = self._entry(lesson.id)
        entry["answered"] = sorted(set(entry.get("answered", [])) | {self._step})
        self._save_progress()
        self._show_list()
        if look_at:
            self.window.show_tab(look_at)
            self.window.statusBar().showMessage(
                f"Lesson: the answer is {result.text()}. Back to the Lessons tab for "
                "the next step.", 8000)

    # The step's extras

    def _on_panel_lesson_chosen(self, row):
        self.choose(row)

    def _on_panel_step_requested(self, delta):
        self.go(delta)

    def _on_panel_setup_requested(self):
        if self.step() is not None:
            self._enter_step()

    def _on_panel_run_requested(self):
        """Start the step's training run on the live model."""
        run = self.step().get("run")
        session, dataset = self.controller.session, self.controller.dataset
        if run is None:
            return
        if dataset is None:
            self.panel.set_feedback("wrong", "This run trains on loaded digits: "
                                    "File > Open dataset folder or Download MNIST.")
            return
        if session.is_running():
            self.panel.set_feedback("wrong", "A training run is going: stop it in the "
                                    "Training tab first.")
            return
        images, validation = run["images"], run.get("validation", 1000)
        train = dataset.x_train[:images], dataset.y_train[:images]
        val = dataset.x_test[:validation], dataset.y_test[:validation]
        config = TrainConfig(epochs=run["epochs"], batch_size=run.get("batch_size", 32),
                             lr=run.get("lr", 1e-3),
                             optimizer=run.get("optimizer", "adam"), val_fraction=0.0)
        seed = int(self._rng.integers(2**31))
        self.window.training_panel.reset_curves()
        session.start_trainer(lambda: Trainer(session.model, train, val, config,
                                              rng=np.random.default_rng(seed)))
        self.panel.set_feedback("busy", f"Training on {len(train[0])} digits, "
                                f"validating on {len(val[0])}: watch the curves in "
                                "the Training tab, then come back and answer.")
        self.window.show_tab("training")

    def _on_session_run_started(self):
        self.record = TrainingRecord()

    def _on_session_progress(self, progress):
        self.record.losses.extend(float(v) for v in progress.losses)

    def _on_session_epoch_finished(self, epoch):
        self.record.train_acc, self.record.val_acc = epoch.train_acc, epoch.val_acc
        self.record.epochs = epoch.epoch

    # Teacher view

    def teacher_text(self):
        """Every lesson's questions with their answers (HTML): for the window as it
        is now, each step as its setup would leave it."""
        state, playground = self._state(), self._playground_setting()
        parts = []
        for lesson in self.lessons:
            parts.append(f"<h3>{lesson.title}</h3><ol>")
            states = step_states(lesson, state, playground, self._bundled_model)
            for step, (step_state, note) in zip(lesson.steps, states, strict=True):
                parts.append(f"<li>{step['question']}<br>&rarr; "
                             f"{self._teacher_answer(step, step_state, note)}</li>")
            parts.append("</ol>")
        if self.errors:
            parts.append("<h3>Files not loaded</h3>" + "<br>".join(
                str(e) for e in self.errors))
        return "".join(parts)

    @staticmethod
    def _teacher_answer(step, state, note):
        answer = step["answer"]
        if ANSWER_KINDS[answer["kind"]].slow:
            return "measured on test digits when the student checks"
        if state is None:
            return f"known only when the student checks ({note})"
        try:
            result = compute(answer, state)
        except AnswerUnavailable as problem:
            return f"not computable now: {problem}"
        return f"<b>{result.text()}</b> ({result.working})"

    def _playground_setting(self):
        """The Playground's kernel and controls now, for the teacher view."""
        playground = self.window.playground_panel
        s = playground.controls.settings()
        return PlaygroundSetting(playground.editor.kernel(),
                                 playground.filters.is_open(), s.input_factor,
                                 s.stride, s.padding, s.pool, s.pool_size,
                                 s.pool_stride)

    def _bundled_model(self):
        """The bundled trained network, loaded once for the teacher view."""
        if self._bundled is None:
            self._bundled = nn.load_model(str(resource_path(BUNDLED_MODEL))).model
        return self._bundled

    def show_teacher_view(self):
        """A window listing every question and its answer for the current state."""
        dialog = QDialog(self.window)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.setWindowTitle("Lessons: teacher view (answers for what is on screen)")
        text = QTextBrowser()
        text.setAccessibleName("Every lesson's answers")
        text.setHtml(self.teacher_text())
        QVBoxLayout(dialog).addWidget(text)
        dialog.resize(640, 600)
        dialog.show()
        return dialog

    # Progress

    def _read_progress(self):
        text = self.settings.read(PROGRESS_KEY, "", str)
        if not text:
            return {}
        try:
            progress = json.loads(text)
        except ValueError:
            progress = None
        if not isinstance(progress, dict) or not isinstance(
                progress.get("lessons", {}), dict):
            self.settings.set_aside.append((PROGRESS_KEY, "not a saved lesson "
                                            "progress"))
            return {}
        return progress

    def _save_progress(self):
        self.settings.save(PROGRESS_KEY, json.dumps(self._progress))

    def _entry(self, lesson_id):
        lessons = self._progress.setdefault("lessons", {})
        entry = lessons.get(lesson_id)
        if not isinstance(entry, dict):
            entry = lessons[lesson_id] = {}
        return entry

    def _saved_step(self, index):
        if index is None:
            return 0
        step = self._progress.get("lessons", {}).get(self.lessons[index].id, {}).get(
            "step", 0)
        last = len(self.lessons[index].steps) - 1
        return step if isinstance(step, int) and 0 <= step <= last else 0

    def _is_done(self, lesson):
        entry = self._progress.get("lessons", {}).get(lesson.id, {})
        answered = entry.get("answered", []) if isinstance(entry, dict) else []
        return set(range(len(lesson.steps))) <= set(answered)
