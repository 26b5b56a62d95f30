"""StepTransport: the slider and the back / play / forward / speed buttons of a walk.

Both step-throughs (the forward pass and the backward pass) walk a list of window
positions with the same controls, like a media player.

Signal: position_changed(int) — the student (or the play timer) moved to a step.
Setter slots: set_count(count, position), set_position(index), set_step_tips(...).
"""

from PyQt5.QtCore import Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import QHBoxLayout, QPushButton, QSlider, QVBoxLayout, QWidget

from convlab.gui.common.widgets import spin_box, teach


class StepTransport(QWidget):
    """A slider over the steps, one-step buttons, play/pause and a speed."""

    position_changed = pyqtSignal(int)

    def __init__(self, leading, slider_tip, back_tip, forward_tip, parent=None):
        """leading: widgets placed before the buttons (e.g. a stage combo)."""
        super().__init__(parent)
        self._slider = teach(QSlider(Qt.Horizontal), "Window position", slider_tip)
        self._slider.valueChanged.connect(self._on_slider_value_changed)
        self._back = self._button("◀", "Step back", back_tip, self._on_back_clicked)
        self._play = self._button("Play", "Play or pause",
                                  "Slide the window automatically, one output cell "
                                  "per tick.", self._on_play_toggled)
        self._play.setCheckable(True)
        self._play.setFixedWidth(70)
        self._forward = self._button("▶", "Step forward", forward_tip,
                                     self._on_forward_clicked)
        self._speed = spin_box(1, 30, 4, "Step-through speed",
                               "How many window positions per second while playing.")
        self._speed.setSuffix(" /s")
        self._speed.valueChanged.connect(self._on_speed_value_changed)
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._on_timer_timeout)

        row = QHBoxLayout()
        for widget in (*leading, self._back, self._play, self._forward, self._speed):
            row.addWidget(widget)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self._slider)

    def _button(self, text, name, tip, slot):
        button = teach(QPushButton(text), name, tip)
        if len(text) == 1:
            button.setFixedWidth(36)
        button.clicked.connect(slot)
        return button

    def set_count(self, count, position=None):
        """Walk `count` steps; move to `position` if given. Emits nothing: the host
        redraws the step itself."""
        self._slider.blockSignals(True)
        self._slider.setRange(0, max(count - 1, 0))
        if position is not None:
            self._slider.setValue(position)
        self._slider.blockSignals(False)

    def position(self):
        """The step on show (0-based)."""
        return self._slider.value()

    def set_position(self, index):
        """Move to step `index` (clamped to the walk)."""
        self._slider.setValue(index)

    def set_step_tips(self, back_tip, forward_tip):
        """Say what one step back and one step forward will do, numbers included."""
        self._back.setToolTip(back_tip)
        self._forward.setToolTip(forward_tip)

    def _on_slider_value_changed(self, value):
        self.position_changed.emit(value)

    def _on_back_clicked(self):
        self._slider.setValue(self._slider.value() - 1)

    def _on_forward_clicked(self):
        self._slider.setValue(self._slider.value() + 1)

    def _on_play_toggled(self, playing):
        if playing:
            # Playing from the last position starts over, as a media player does.
            if self._slider.value() >= self._slider.maximum():
                self._slider.setValue(0)
            self._timer.start()
        else:
            self._timer.stop()
        self._play.setText("Pause" if playing else "Play")

    def _on_speed_value_changed(self, steps_per_second):
        self._timer.setInterval(int(1000 / steps_per_second))

    def _on_timer_timeout(self):
        if self._slider.value() >= self._slider.maximum():
            self._play.setChecked(False)
            self._on_play_toggled(False)
            return
        self._slider.setValue(self._slider.value() + 1)
