"""The Training tab's message area: what happened to the run and what to do next.

On the tab rather than in a dialog: nothing waits on a click, and the message stays
beside the curves and controls it is about.
"""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from convlab.gui.common.widgets import teach

STYLES = {  # background and border of the message area, by kind
    "error": ("#fde7e9", "#b00020"),
    "warning": ("#fff4ce", "#9a6700"),
    "info": ("#e8f1fb", "#1f5fa8"),
}


class Notice(QFrame):
    """A non-modal message with (label, callback) buttons and Dismiss."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.StyledPanel)
        self.label = teach(
            QLabel(), "Training message",
            "What happened to the run and what you can do about it.",
        )
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.PlainText)
        self.buttons: list[QPushButton] = []
        self._row = QHBoxLayout()
        self._row.addStretch(1)
        box = QVBoxLayout(self)
        box.addWidget(self.label)
        box.addLayout(self._row)
        self.hide()

    def show_text(self, kind: str, text: str, buttons=()) -> None:
        """Show ``text`` ("error", "warning" or "info"), replacing the last message;
        ``buttons`` are (label, callback) pairs, each press also hides the message."""
        background, border = STYLES[kind]
        self.setStyleSheet(
            f"QFrame {{ background: {background}; border: 1px solid {border}; }}"
            " QLabel { border: none; }")
        self.label.setText(text)
        for button in self.buttons:
            self._row.removeWidget(button)
            button.deleteLater()
        self.buttons = []
        for label, callback in (*buttons, ("Dismiss", None)):
            button = teach(QPushButton(label), label, text)
            button.clicked.connect(self.hide)
            if callback is not None:
                button.clicked.connect(lambda _checked, f=callback: f())
            self._row.insertWidget(len(self.buttons), button)
            self.buttons.append(button)
        self.show()
