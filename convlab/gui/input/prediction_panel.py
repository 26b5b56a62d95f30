"""PredictionPanel: the network's answer, as ten probability bars and a big digit."""

import numpy as np
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from convlab.lab.network import NOT_FINITE_CAUSE
from convlab.lab.out_of_range import HOW_JUDGED


class PredictionPanel(QWidget):
    """Shows the predicted digit, its confidence and all ten class probabilities."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("PredictionPanel")
        self._probabilities = None
        self._best = None

        box = QGroupBox("Prediction")
        self._digit = QLabel("–")
        self._digit.setObjectName("PredictedDigit")
        self._digit.setAlignment(Qt.AlignCenter)
        self._digit.setAccessibleName("Predicted digit")
        self._digit.setToolTip(
            "The digit with the highest probability: the network's best guess."
        )
        self._confidence = QLabel("Nothing drawn")
        self._confidence.setObjectName("Confidence")
        self._confidence.setAlignment(Qt.AlignCenter)
        self._confidence.setWordWrap(True)
        self._confidence.setAccessibleName("Prediction confidence")

        self._note = QLabel("")
        self._note.setObjectName("Caption")
        self._note.setWordWrap(True)
        self._note.setAlignment(Qt.AlignCenter)
        self._note.setAccessibleName("About these weights")
        self._input_note = QLabel("")
        self._input_note.setObjectName("Caption")
        self._input_note.setWordWrap(True)
        self._input_note.setAccessibleName("About this input")
        self._input_note.setToolTip(HOW_JUDGED)
        self._input_note.hide()

        grid = QGridLayout()
        grid.setVerticalSpacing(4)
        self._bars = []
        self._values = []
        for digit in range(10):
            label = QLabel(str(digit))
            label.setObjectName("BarDigit")
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setTextVisible(False)
            bar.setFixedHeight(14)
            bar.setAccessibleName(f"Probability of {digit}")
            bar.setToolTip(
                f"How sure the network is that the input is a {digit}. The ten bars "
                "come from a softmax, so they are all positive and add up to 100%."
            )
            value = QLabel("")
            value.setObjectName("BarValue")
            value.setMinimumWidth(44)
            value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            grid.addWidget(label, digit, 0)
            grid.addWidget(bar, digit, 1)
            grid.addWidget(value, digit, 2)
            self._bars.append(bar)
            self._values.append(value)

        inner = QVBoxLayout(box)
        inner.addWidget(self._digit)
        inner.addWidget(self._confidence)
        inner.addWidget(self._input_note)
        inner.addSpacing(6)
        inner.addLayout(grid)
        inner.addWidget(self._note)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(box)
        self.set_probabilities(None)

    def probabilities(self):
        """The ten probabilities shown, or None when nothing is drawn."""
        return None if self._probabilities is None else self._probabilities.copy()

    def confidence_text(self):
        """The line under the digit, e.g. "97% sure" or "Nothing drawn"."""
        return self._confidence.text()

    def predicted_digit(self):
        """The digit shown as the answer, or None when nothing is drawn."""
        if self._probabilities is None or not np.isfinite(self._probabilities).all():
            return None
        return int(np.argmax(self._probabilities))

    def note(self):
        """The warning under the bars ("" for none)."""
        return self._note.text()

    def set_note(self, text):
        """A warning under the bars, e.g. about untrained weights ("" for none)."""
        self._note.setText(text)
        self._note.setVisible(bool(text))

    def set_input_note(self, text):
        """A warning that the input is unlike the training digits ("" for none)."""
        self._input_note.setText(text)
        self._input_note.setVisible(bool(text))

    def set_probabilities(self, probabilities):
        """Show (10,) probabilities, or None for an empty canvas."""
        if probabilities is None:
            self._probabilities = None
            self._digit.setText("–")
            self._confidence.setText("Nothing drawn")
            for bar, value in zip(self._bars, self._values, strict=True):
                bar.setValue(0)
                value.setText("")
            self._mark_winner(None)
            return
        p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
        self._probabilities = p
        if not np.isfinite(p).all():
            self._digit.setText("—")
            self._confidence.setText(
                "No answer: the network's outputs are not a number (NaN) or infinite. "
                + NOT_FINITE_CAUSE)
            for bar, value in zip(self._bars, self._values, strict=True):
                bar.setValue(0)
                value.setText("—")
            self._mark_winner(None)
            return
        best = int(np.argmax(p))
        self._digit.setText(str(best))
        self._confidence.setText(f"{p[best]:.0%} sure")
        for bar, value, p_digit in zip(self._bars, self._values, p, strict=True):
            bar.setValue(int(round(p_digit * 1000)))
            value.setText(f"{p_digit:.0%}")
        self._mark_winner(best)

    def _mark_winner(self, best):
        # The winning bar has its own colour through a dynamic property in style.qss.
        # Qt only re-reads such properties on a repolish, which is slow-ish, so it
        # happens only when the winner changes, not on every update while drawing.
        if best == self._best:
            return
        self._best = best
        for digit, bar in enumerate(self._bars):
            bar.setProperty("winner", digit == best)
            bar.style().unpolish(bar)
            bar.style().polish(bar)
