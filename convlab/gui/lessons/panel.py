"""LessonsPanel: the Lessons tab, one guided question at a time.

A list of lessons on the left (a tick when done, the files that could not be read
below it); on the right the step: what the window was set up to show, the question,
a box for a number or a list of choices, Check, and the reveal. The panel only
shows what it is given and says what the student asked for.

Signals (intent):
    lesson_chosen(int)          a lesson of the list was picked (its row)
    check_requested(str)        the student's answer, as typed or chosen
    reveal_requested()          show the answer without a (further) try
    step_requested(int)         +1 next step, -1 previous step
    run_requested()             start the training run the step offers
    setup_requested()           set the window up for the step again
    open_folder_requested()     "Open lessons folder..."
    teacher_view_requested()    list every answer for the current state
Setters: set_lessons, set_problems, show_step, set_feedback, show_reveal, set_busy.
"""

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common.widgets import teach
from convlab.gui.playground.kernel_editor import ERROR_STYLE

RIGHT_STYLE = "color: #1d6b2f;"
HINT_STYLE = "color: #555;"


def _wrapped(name):
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    label.setAccessibleName(name)
    return label


class LessonsPanel(QWidget):
    """The lesson list and one step: question, answer box, Check, reveal."""

    lesson_chosen = pyqtSignal(int)
    check_requested = pyqtSignal(str)
    reveal_requested = pyqtSignal()
    step_requested = pyqtSignal(int)
    run_requested = pyqtSignal()
    setup_requested = pyqtSignal()
    open_folder_requested = pyqtSignal()
    teacher_view_requested = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.lesson_list = teach(
            QListWidget(), "Lessons",
            "Short guided exercises: predict the answer, then see the app compute "
            "it from what is on screen. A tick marks a lesson you finished.")
        self.lesson_list.currentRowChanged.connect(self._on_list_current_row_changed)
        self.problems = _wrapped("Lesson files that could not be read")
        self.problems.setStyleSheet(ERROR_STYLE)
        self.open_folder_button = teach(
            QPushButton("Open lessons folder…"), "Open lessons folder",
            "Load the lessons (*.json) of a folder of your choice, e.g. your "
            "teacher's. docs/lessons.md describes the format.")
        self.open_folder_button.clicked.connect(self.open_folder_requested)
        self.teacher_button = teach(
            QPushButton("Teacher view"), "Teacher view",
            "Every lesson's questions with the answers for the window as it is now "
            "(digit, kernel, network).")
        self.teacher_button.clicked.connect(self.teacher_view_requested)
        left = QVBoxLayout()
        left.addWidget(self.lesson_list, 1)
        left.addWidget(self.problems)
        left.addWidget(self.open_folder_button)
        left.addWidget(self.teacher_button)

        # A long title wraps: on one line it widened the tab beyond a 1024 px window.
        self.title = _wrapped("Lesson title")
        self.position = QLabel()
        self.position.setAccessibleName("Step number")
        self.say = _wrapped("What this step shows")
        self.notes = _wrapped("What the setup could not do")
        self.notes.setStyleSheet(ERROR_STYLE)
        self.run_button = teach(
            QPushButton("Run this experiment"), "Run the lesson's training run",
            "Starts the training run this step describes in the Training tab; "
            "answer from what it measures once it has finished.")
        self.run_button.clicked.connect(self.run_requested)
        self.setup_button = teach(
            QPushButton("Set the window up again"), "Set the step up again",
            "Load the digit, kernel and settings this step starts from again (you "
            "may have changed them meanwhile).")
        self.setup_button.clicked.connect(self.setup_requested)
        self.question = _wrapped("Question")
        self.question.setStyleSheet("font-weight: bold;")
        self.number_edit = teach(QLineEdit(), "Your answer",
                                 "Type your prediction (a number), then Check.")
        self.number_edit.returnPressed.connect(self._on_check_clicked)
        self.choice_combo = teach(QComboBox(), "Your answer",
                                  "Pick your prediction, then Check.")
        self.click_hint = _wrapped("How to answer")
        self.click_hint.setText("Answer by clicking the cell in the Playground's "
                                "map: your click is checked at once.")
        self.check_button = teach(QPushButton("Check"), "Check my answer",
                                  "Compare your prediction with the answer the app "
                                  "computes from what is on screen now.")
        self.check_button.clicked.connect(self._on_check_clicked)
        self.reveal_button = teach(QPushButton("Show answer"), "Show the answer",
                                   "Reveal the computed answer and where to see it.")
        self.reveal_button.clicked.connect(self.reveal_requested)
        # The answer above its buttons: a choice such as "about the same as before"
        # beside them widened the tab beyond a 1024 px window.
        answer_row = QVBoxLayout()
        answer_row.addWidget(self.number_edit)
        answer_row.addWidget(self.choice_combo)
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.reveal_button)
        buttons.addStretch(1)
        answer_row.addLayout(buttons)
        self.feedback = _wrapped("Whether the answer was right")
        self.reveal = _wrapped("The answer and why")
        self.previous_button = teach(QPushButton("◀ Previous"), "Previous step",
                                     "Back to the step before.")
        self.previous_button.clicked.connect(lambda: self.step_requested.emit(-1))
        self.next_button = teach(QPushButton("Next ▶"), "Next step",
                                 "On to the next step (it sets the window up).")
        self.next_button.clicked.connect(lambda: self.step_requested.emit(1))
        nav = QHBoxLayout()
        nav.addWidget(self.previous_button)
        nav.addStretch(1)
        nav.addWidget(self.next_button)

        step_box = QGroupBox("Predict, then reveal")
        right = QVBoxLayout(step_box)
        heading = QHBoxLayout()
        heading.addWidget(self.title, 1)
        heading.addWidget(self.position)
        right.addLayout(heading)
        right.addWidget(self.say)
        right.addWidget(self.notes)
        right.addWidget(self.run_button)
        right.addWidget(self.setup_button)
        right.addWidget(self.question)
        right.addWidget(self.click_hint)
        right.addLayout(answer_row)
        right.addWidget(self.feedback)
        right.addWidget(self.reveal)
        right.addStretch(1)
        right.addLayout(nav)

        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(step_box, 2)
        self.show_step(None)

    # Setters

    def set_lessons(self, titles, current):
        """List the lessons: titles (text, done) in order; current row (or -1)."""
        self.lesson_list.blockSignals(True)
        self.lesson_list.clear()
        for title, done in titles:
            self.lesson_list.addItem(("✓ " if done else "    ") + title)
        self.lesson_list.setCurrentRow(current)
        self.lesson_list.blockSignals(False)
        # Wide enough for the longest title: a clipped title hides what it teaches.
        frame = 2 * self.lesson_list.frameWidth()
        scroll = self.lesson_list.verticalScrollBar().sizeHint().width()
        self.lesson_list.setMinimumWidth(
            self.lesson_list.sizeHintForColumn(0) + frame + scroll + 4)

    def set_problems(self, lines):
        """Say which lesson files were refused and why (empty: none)."""
        self.problems.setText("\n".join(f"Not loaded: {line}" for line in lines))
        self.problems.setVisible(bool(lines))

    def show_step(self, step, title="", index=0, count=0, options=None,
                  notes=(), cell=False):
        """Show one step (a lesson file's step dict), or nothing (None).

        options: the choices of a multiple-choice answer (None: a number); cell:
        the answer is a click on a Playground map; notes: what the setup could
        not do.
        """
        shown = step is not None
        for widget in (self.check_button, self.reveal_button, self.previous_button,
                       self.next_button, self.setup_button):
            widget.setEnabled(shown)
        self.title.setText(f"<b>{title}</b>" if shown else "Pick a lesson")
        self.position.setText(f"step {index + 1} of {count}" if shown else "")
        self.say.setText(step.get("say", "") if shown else "")
        self.notes.setText("\n".join(notes))
        self.notes.setVisible(bool(notes))
        self.run_button.setVisible(shown and "run" in step)
        self.setup_button.setVisible(shown and bool(step.get("setup")))
        self.question.setText(step["question"] if shown else "")
        self.number_edit.clear()
        self.number_edit.setVisible(shown and options is None and not cell)
        self.check_button.setVisible(not cell)
        self.click_hint.setVisible(cell)
        self.choice_combo.clear()
        self.choice_combo.addItems(list(options or ()))
        self.choice_combo.setVisible(options is not None)
        self.previous_button.setEnabled(shown and index > 0)
        self.next_button.setEnabled(shown and index + 1 < count)
        self.set_feedback("", "")
        self.reveal.setText("")

    def set_feedback(self, kind, text):
        """kind "right", "wrong", "busy" or "" and the sentence to show."""
        style = {"right": RIGHT_STYLE, "wrong": ERROR_STYLE}.get(kind, HINT_STYLE)
        self.feedback.setStyleSheet(style)
        self.feedback.setText(text)

    def show_reveal(self, text):
        """The computed answer, how it came about and where to look."""
        self.reveal.setText(text)

    def set_busy(self, busy):
        """While an answer is measured in the background, no second Check."""
        self.check_button.setEnabled(not busy)
        self.reveal_button.setEnabled(not busy)

    def response(self):
        """The answer as typed or chosen."""
        if self.choice_combo.count():  # a multiple-choice step
            return self.choice_combo.currentText()
        return self.number_edit.text()

    # Slots

    def _on_list_current_row_changed(self, row):
        if row >= 0:
            self.lesson_chosen.emit(row)

    def _on_check_clicked(self):
        self.check_requested.emit(self.response())
