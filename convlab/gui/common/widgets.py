"""Controls that are born teaching: every one has a name and a tooltip.

Screen readers announce the accessible name; the tooltip says what the control does
to the network, which is the point of a teaching app.

Two more things every control made here gets:

* Spin boxes and combo boxes ignore the mouse wheel unless they have the keyboard
  focus (a click or Tab), so scrolling a page past them never changes a setting;
  the wheel scrolls the page instead.
* A spin box refuses a number outside its range out loud: "Stride must be between 1
  and 4; kept 1", beside the field and in the window's status bar, instead of
  silently dropping keystrokes or clamping.
"""

from PyQt5.QtCore import QEvent, QObject, QPoint, Qt, pyqtSignal
from PyQt5.QtGui import QValidator
from PyQt5.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QMainWindow,
    QSpinBox,
    QToolTip,
)

RANGE_MESSAGE_MS = 8000  # how long the status bar keeps a refused value's message


def teach(widget, name, tip):
    """Give a control the name screen readers announce and a tooltip that teaches."""
    widget.setAccessibleName(name)
    widget.setToolTip(tip)
    if isinstance(widget, (QAbstractSpinBox, QComboBox)):
        guard_wheel(widget)
    return widget


class _WheelGuard(QObject):
    """Hands a wheel turn over an unfocused control to the page that scrolls."""

    def eventFilter(self, watched, event):
        if event.type() != QEvent.Wheel or watched.hasFocus():
            return False
        parent = watched.parentWidget()
        while parent is not None and not isinstance(parent, QAbstractScrollArea):
            parent = parent.parentWidget()
        if parent is not None:
            bar = (parent.horizontalScrollBar()
                   if event.angleDelta().y() == 0 else parent.verticalScrollBar())
            QApplication.sendEvent(bar, event)
        return True  # the control's value never changes by an unfocused wheel


_wheel_guard = None


def guard_wheel(widget):
    """Let widget take the wheel only while it has the focus (see the module doc)."""
    global _wheel_guard
    if _wheel_guard is None:
        _wheel_guard = _WheelGuard(QApplication.instance())
    widget.setFocusPolicy(Qt.StrongFocus)  # a click or Tab focuses it, a wheel not
    widget.installEventFilter(_wheel_guard)
    return widget


def _number(value):
    """A range end or value as a student writes it: 1, 0.00001, 64."""
    if isinstance(value, float):
        return f"{value:.10f}".rstrip("0").rstrip(".")
    return str(value)


class _RangeChecked:
    """Spin-box behaviour: a typed number outside the range is shown as typed and
    refused with a message; the value stays what it was, and the field shows it
    again when the editing ends. The concrete classes add the signal
    ``value_refused(str)``, which carries the message."""

    _refused = None  # the last message given, said once however often Qt asks

    def validate(self, text, pos):
        state, text, pos = super().validate(text, pos)
        if state == QValidator.Invalid:
            typed = self._typed_number(text)
            if typed is not None and not self.minimum() <= typed <= self.maximum():
                self._refuse(typed)
                return QValidator.Intermediate, text, pos
        elif state == QValidator.Acceptable:
            self._refused = None
        return state, text, pos

    def range_message(self, typed):
        """The words that refuse the number typed."""
        name = self.accessibleName() or "This value"
        return (f"{name} must be between {_number(self.minimum())} and "
                f"{_number(self.maximum())}; {_number(typed)} was not taken, kept "
                f"{_number(self.value())}.")

    def _typed_number(self, text):
        """The number in the field's text, whatever its range, or None."""
        text = text.strip()
        if self.prefix() and text.startswith(self.prefix()):
            text = text[len(self.prefix()):]
        if self.suffix() and text.endswith(self.suffix()):
            text = text[: -len(self.suffix())]
        number, ok = self.locale().toDouble(text.strip())
        if not ok:
            return None
        if isinstance(self, QSpinBox) and number == int(number):
            return int(number)
        return number

    def _refuse(self, typed):
        message = self.range_message(typed)
        if message == self._refused:
            return
        self._refused = message
        self.value_refused.emit(message)
        # No widget for the tip to follow: Qt's tip label would keep a bare pointer
        # to it, and touch it after the window (and the spin box) is gone.
        QToolTip.showText(self.mapToGlobal(QPoint(0, self.height())), message)
        window = self.window()
        if isinstance(window, QMainWindow):
            window.statusBar().showMessage(message, RANGE_MESSAGE_MS)

    def _on_editing_finished(self):
        # The refused text goes; the value kept is shown again.
        self.lineEdit().setText(self.textFromValue(self.value()))


def _check_range(box):
    # A typed number takes when the student presses Enter or leaves the field (the
    # arrows still step at once), so "10" is never taken as "1" on the way.
    box.setKeyboardTracking(False)
    box.editingFinished.connect(box._on_editing_finished)


class CheckedSpinBox(_RangeChecked, QSpinBox):
    """A QSpinBox that says why it refuses a number (see _RangeChecked)."""

    value_refused = pyqtSignal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        _check_range(self)


class CheckedDoubleSpinBox(_RangeChecked, QDoubleSpinBox):
    """A QDoubleSpinBox that says why it refuses a number (see _RangeChecked)."""

    value_refused = pyqtSignal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        _check_range(self)


def spin_box(lo, hi, value, name, tip):
    """A named, teaching QSpinBox holding value in lo..hi."""
    box = CheckedSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    return teach(box, name, tip)


def double_spin_box(lo, hi, value, name, tip, decimals=2):
    """A named, teaching QDoubleSpinBox holding value in lo..hi."""
    box = CheckedDoubleSpinBox()
    # Decimals first: the range and the value are rounded to them.
    box.setDecimals(decimals)
    box.setRange(lo, hi)
    box.setValue(value)
    return teach(box, name, tip)


def combo(items, name, tip, current=0):
    """A named, teaching QComboBox of (text shown, data) items, on item `current`."""
    box = QComboBox()
    for text, data in items:
        box.addItem(text, data)
    box.setCurrentIndex(current)
    return teach(box, name, tip)
