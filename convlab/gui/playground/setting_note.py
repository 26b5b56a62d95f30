"""SettingNote: one line of words above the Playground about the current setting.

It says why a setting gives no output (red), else which rows and columns no window
reaches (orange), else how to use the tab (grey). It keeps room for RESERVED_LINES
lines whatever it says, so the views under it never move when a message comes or
goes. Setter slot: show_setting(problem, notes). Queries: problem(), notes().
"""

from PyQt5.QtCore import QEvent, QRect, Qt
from PyQt5.QtGui import QFont, QFontMetrics
from PyQt5.QtWidgets import QLabel, QSizePolicy

from convlab.gui.playground.kernel_editor import ERROR_STYLE, WARNING_STYLE

RESERVED_LINES = 3
# As long as the longest thing it says (two sentences about unreached rows, about
# 270 characters): the room it keeps at the tab's width.
LONGEST = "a few words " * 25
INTRO = ("Type weights or pick a preset, then change the stride, padding and "
         "pooling: every map follows. Click an output cell to step to its window.")


class SettingNote(QLabel):
    """The reason for empty maps, the rows no window reaches, or a how-to line."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)
        self.setAccessibleName("About the current setting")
        self._problem = self._notes = ""
        self.show_setting("", "")

    def show_setting(self, problem, notes):
        """Show `problem` (why there is no output) or else `notes`; "" for none."""
        self._problem, self._notes = problem, notes
        if problem:
            self.setText(problem)
            self.setStyleSheet(f"{ERROR_STYLE} font-weight: bold;")
        elif notes:
            self.setText(notes)
            self.setStyleSheet(WARNING_STYLE)
        else:
            self.setText(INTRO)
            self.setStyleSheet("color: #555555;")
        self._fit_height()

    def problem(self):
        """Why the current setting gives no output (or no pooled output), or ""."""
        return self._problem

    def notes(self):
        """The sentences about rows and columns no window reaches, or ""."""
        return self._notes

    def hasHeightForWidth(self):
        # The height is set from the width below; layouts must not guess their own.
        return False

    def changeEvent(self, event):
        super().changeEvent(event)
        # The application's style sheet sets the font only once the note is shown.
        if event.type() == QEvent.FontChange:
            self._fit_height()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit_height()

    def _fit_height(self):
        """RESERVED_LINES lines, or more when the text needs them at this width."""
        # Measured bold, as a problem is written: the widest any text here gets.
        bold = QFont(self.font())
        bold.setBold(True)
        metrics = QFontMetrics(bold)
        needed = max(
            metrics.boundingRect(QRect(0, 0, max(self.width(), 1), 10_000),
                                 Qt.TextWordWrap, text).height()
            for text in (self.text(), LONGEST))
        self.setFixedHeight(max(needed, RESERVED_LINES * metrics.lineSpacing()) + 2)
