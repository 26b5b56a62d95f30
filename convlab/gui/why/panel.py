"""WhyPanel: the Why tab's widgets: saliency, occlusion, shift and random weights.

It only shows what its presenter gives it and emits what the student asks for.
"""

import math
import re

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common.widgets import spin_box, teach
from convlab.gui.playground.views import LinesLabel, MapView
from convlab.gui.why.maps import OcclusionView, SaliencyGridView
from convlab.lab import why

MESSAGE_STYLE = "color: #b2182b;"  # what was wrong with a setting
# (text, down, right, what it does) of the four arrow buttons
ARROWS = (("↑", -1, 0, "up"), ("←", 0, -1, "left"), ("→", 0, 1, "right"),
          ("↓", 1, 0, "down"))
ARROW_CELLS = {"up": (0, 1), "left": (1, 0), "right": (1, 2), "down": (2, 1)}


def _text(html, name, chars_per_line=80):
    """A word-wrapped rich-text label for an explanation, tall enough for it at
    chars_per_line characters a line (a fixed height: see LinesLabel)."""
    plain = re.sub("<[^>]+>", "", html)
    label = LinesLabel(math.ceil(len(plain) / chars_per_line) + 1, html)
    label.setTextFormat(Qt.RichText)
    label.setAccessibleName(name)
    return label


def _message_label(name):
    """A hidden red label for what was wrong with the student's choice."""
    label = LinesLabel(3)
    label.setStyleSheet(MESSAGE_STYLE)
    label.setAccessibleName(name)
    label.hide()
    return label


def _show_message(label, text):
    label.setText(text)
    label.setVisible(bool(text))


class WhyPanel(QWidget):
    """Why did the network say that? Saliency, occlusion, a shift, random weights."""

    occlusion_settings_changed = pyqtSignal(int, int)  # patch size, stride
    shift_requested = pyqtSignal(int, int)  # pixels down, right (added to the shift)
    shift_reset_requested = pyqtSignal()
    randomize_requested = pyqtSignal()
    shown = pyqtSignal()  # the tab came into view: time to catch up

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("WhyPanel")
        self._heading = QLabel("")
        self._heading.setObjectName("Heading")
        self._heading.setAccessibleName("What the network said")
        self._status = LinesLabel(2)
        self._status.setAccessibleName("Why tab status")

        bottom = QHBoxLayout()
        bottom.addWidget(self._shift_box(), 1)
        bottom.addWidget(self._random_box(), 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self._heading)
        layout.addWidget(self._status)
        layout.addWidget(self._saliency_box())
        layout.addWidget(self._occlusion_box())
        layout.addLayout(bottom)
        layout.addStretch(1)
        self.set_nothing_drawn()

    # Building the boxes

    def _saliency_box(self):
        box = QGroupBox("Saliency: which pixels move each digit's score")
        self.saliency_grid = SaliencyGridView()
        tip = ("d score / d pixel of this digit, on the same colour scale as the "
               "small maps.")
        self.best_view = MapView("Predicted", tip)
        self.runner_up_view = MapView("Runner-up", tip)
        maps = QHBoxLayout()
        maps.addWidget(self.saliency_grid, 2)
        maps.addWidget(self.best_view, 1)
        maps.addWidget(self.runner_up_view, 1)
        inner = QVBoxLayout(box)
        inner.addLayout(maps)
        inner.addWidget(_text(why.SALIENCY_HOW, "How to read the saliency maps"))
        inner.addWidget(_text(why.SALIENCY_LIMITS, "What saliency cannot show"))
        return box

    def _occlusion_box(self):
        box = QGroupBox("Occlusion: hide a patch, watch the probability")
        self.size_box = spin_box(
            1, 40, why.DEFAULT_PATCH, "Occlusion patch size",
            "The side of the square patch that is set to black, in pixels (1 to "
            "28: it must fit in the 28x28 image). Big patches hide whole strokes; "
            "small ones single pixels, which the network barely notices.")
        self.stride_box = spin_box(
            1, 28, why.DEFAULT_STRIDE, "Occlusion stride",
            "Pixels between one patch and the next. A stride larger than the patch "
            "leaves pixels that are never hidden; a small stride means many more "
            "patches to compute.")
        for spin in (self.size_box, self.stride_box):
            spin.valueChanged.connect(self._on_spin_value_changed)
        form = QFormLayout()
        form.addRow("Patch size (px)", self.size_box)
        form.addRow("Stride (px)", self.stride_box)
        self.occlusion_message = _message_label("Occlusion settings problem")
        self._grid_text = LinesLabel(3)
        self._grid_text.setAccessibleName("Occlusion patches")
        self._occlusion_title = QLabel("")
        self.occlusion_view = OcclusionView()
        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.occlusion_message)
        left.addWidget(self._grid_text)
        left.addWidget(self._occlusion_title)
        left.addWidget(self.occlusion_view)
        texts = QVBoxLayout()
        texts.addWidget(_text(why.OCCLUSION_HOW, "How to read the occlusion map",
                              40))
        texts.addWidget(_text(why.OCCLUSION_LIMITS, "What occlusion cannot show", 40))
        texts.addStretch(1)
        inner = QHBoxLayout(box)
        inner.addLayout(left, 1)
        inner.addLayout(texts, 1)
        return box

    def _shift_box(self):
        box = QGroupBox("Shift the input")
        arrows = QGridLayout()
        self.shift_buttons = {}
        for text, down, right, where in ARROWS:
            button = teach(QPushButton(text), f"Shift {where}",
                           f"Move the 28x28 input one pixel {where} (not centred "
                           "again): does the network still see the same digit?")
            button.setFixedWidth(36)
            button.clicked.connect(
                lambda _=False, d=down, r=right: self.shift_requested.emit(d, r))
            arrows.addWidget(button, *ARROW_CELLS[where])
            self.shift_buttons[where] = button
        self.reset_button = teach(QPushButton("Reset"), "Reset the shift",
                                  "Put the input back where preprocessing centred "
                                  "it.")
        self.reset_button.clicked.connect(self.shift_reset_requested)
        arrows.addWidget(self.reset_button, 1, 1)
        self._shift_text = QLabel("")
        self._shift_text.setAccessibleName("Shift")
        self._shift_change = LinesLabel(3)
        self._shift_change.setAccessibleName("Probability before and after the shift")
        texts = QVBoxLayout()
        texts.addWidget(self._shift_text)
        texts.addWidget(self._shift_change)
        texts.addWidget(_text(why.SHIFT_HOW, "What the shift does", 28))
        inner = QVBoxLayout(box)
        inner.addLayout(arrows)
        inner.addLayout(texts)
        inner.addStretch(1)
        return box

    def _random_box(self):
        box = QGroupBox("Sanity check: the same network with random weights")
        self.randomize_button = teach(
            QPushButton("Randomize the weights (a copy)"), "Randomize the weights",
            "Build an untrained network of the same architecture with fresh random "
            "weights and show its saliency beside the trained one's. The network "
            "you trained is not touched.")
        self.randomize_button.clicked.connect(self.randomize_requested)
        self.random_message = _message_label("Random weights problem")
        tip = "d score / d pixel of the predicted digit, on this map's own scale."
        self.trained_view = MapView("Trained network", tip)
        self.untrained_view = MapView("Random weights", tip)
        self._comparison = QWidget()
        maps = QHBoxLayout(self._comparison)
        maps.setContentsMargins(0, 0, 0, 0)
        maps.addWidget(self.trained_view)
        maps.addWidget(self.untrained_view)
        self._comparison.hide()
        inner = QVBoxLayout(box)
        inner.addWidget(self.randomize_button)
        inner.addWidget(self.random_message)
        inner.addWidget(self._comparison)
        inner.addWidget(_text(why.RANDOM_HOW, "What the sanity check shows", 40))
        return box

    # What the presenter shows

    def occlusion_settings(self):
        """The (patch size, stride) the spin boxes hold."""
        return self.size_box.value(), self.stride_box.value()

    def set_explanation(self, result, per_pixel, occlusion_levels):
        """Show a lab.why.Explanation; per_pixel (28, 28) is its occlusion spread
        over the pixels, coloured on occlusion_levels."""
        best, runner_up = result.best, result.runner_up
        p = result.probabilities
        self._heading.setText(f"<b>Why did it say {best}?</b> ({p[best]:.0%} sure; "
                              f"runner-up {runner_up} at {p[runner_up]:.0%})")
        self._status.hide()
        self.saliency_grid.set_maps(result.saliency, result.levels, best, runner_up)
        for view, digit, role in ((self.best_view, best, "Predicted"),
                                  (self.runner_up_view, runner_up, "Runner-up")):
            view.set_title(f"{role}: {digit} ({p[digit]:.0%})")
            view.set_map(result.saliency[digit], result.levels)
            view.set_texts(f"d score[{digit}] / dx, shape (28, 28)", "")
        self._occlusion_title.setText(
            f"Drop of P({best}) when a patch is hidden")
        self._grid_text.setText(why.occlusion_grid_text(result.size, result.stride))
        self.occlusion_view.set_occlusion(result.x, result.occlusion, per_pixel,
                                          occlusion_levels)
        if result.untrained is not None:
            self.trained_view.set_title(f"Trained network, digit {best}")
            self.trained_view.set_map(result.saliency[best])
            self.untrained_view.set_title(f"Random weights, digit {best}")
            self.untrained_view.set_map(result.untrained)

    def set_nothing_drawn(self):
        """Nothing to explain: clear the maps and say so."""
        self.set_unavailable("Nothing drawn: draw a digit or pick a test image, and "
                             "this tab shows which pixels led to the answer.")

    def set_unavailable(self, text):
        """No explanation to show: clear the maps and say why in text."""
        self._heading.setText("<b>Why did it say that?</b>")
        self._status.setText(text)
        self._status.show()
        self.saliency_grid.clear()
        self.occlusion_view.clear()

    def set_occlusion_message(self, text):
        """Say what is wrong with the patch size or stride ("" for nothing)."""
        _show_message(self.occlusion_message, text)

    def occlusion_message_text(self):
        """The occlusion settings message on show ("" for none)."""
        return self.occlusion_message.text() if \
            self.occlusion_message.isVisibleTo(self) else ""

    def set_shift(self, down, right, change_text):
        """Show the shift and what it did to the prediction ("" before any)."""
        self._shift_text.setText(f"Shift: {why.shift_text(down, right)}")
        self._shift_change.setText(change_text)

    def shift_change_text(self):
        """The before/after line of the shift."""
        return self._shift_change.text()

    def show_comparison(self, message=""):
        """Show the trained/untrained maps, or hide them and say why not."""
        _show_message(self.random_message, message)
        self._comparison.setVisible(not message)

    def hide_comparison(self):
        """No untrained copy to compare with (a new network): hide the maps."""
        _show_message(self.random_message, "")
        self._comparison.hide()

    def is_comparing(self):
        """True while the trained and untrained maps are on show."""
        return self._comparison.isVisibleTo(self)

    def status_text(self):
        """The line under the heading ("" when an explanation is on show)."""
        return self._status.text()

    def random_message_text(self):
        """Why no untrained copy could be made ("" for none)."""
        return self.random_message.text() if \
            self.random_message.isVisibleTo(self) else ""

    def heading(self):
        """The heading line as shown (rich text)."""
        return self._heading.text()

    # Slots

    def showEvent(self, event):
        super().showEvent(event)
        self.shown.emit()

    def _on_spin_value_changed(self, _value):
        self.occlusion_settings_changed.emit(*self.occlusion_settings())
