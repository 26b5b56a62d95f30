"""BackwardBar: the Network tab's Forward / Backward switch and the Backward controls.

Forward shows what every layer computes from the input. Backward shows the other
half of learning: for a target digit the student picks, how the loss depends on
every number of every layer (dL/d(output)) and on every filter weight (dL/dW).
The bar only emits what the student chose; the presenter draws it.
"""

from PyQt5.QtCore import pyqtSignal
from PyQt5.QtGui import QFont, QFontMetrics
from PyQt5.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common.widgets import combo, teach

AUTO = "auto"


class BackwardBar(QWidget):
    """Forward / Backward buttons, the target digit, the scale and the loss note."""

    mode_changed = pyqtSignal(bool)  # True: Backward
    target_changed = pyqtSignal(object)  # the digit picked 0-9, or None: automatic
    per_map_changed = pyqtSignal(bool)  # True: every map on its own scale
    batch_norm_requested = pyqtSignal()  # open the batch normalization view

    def __init__(self, parent=None):
        super().__init__(parent)
        self.forward_button = teach(
            QPushButton("Forward"), "Forward pass",
            "Forward pass: what every layer computes from the input, left to right, "
            "ending in the ten probabilities.")
        self.backward_button = teach(
            QPushButton("Backward"), "Backward pass",
            "Backward pass: how the loss L = −log P(target) depends on every number "
            "of every layer, dL/d(output), and on every filter weight, dL/dW. These "
            "gradients, computed right to left with the chain rule, are what "
            "training follows: each weight moves by −learning rate × dL/dW.")
        self._mode = QButtonGroup(self)
        for button in (self.forward_button, self.backward_button):
            button.setCheckable(True)
            # The pass on show looks pressed: the app's style has no checked look.
            button.setStyleSheet("QPushButton:checked { background: #dde7f7; "
                                 "border-color: #2b5fb4; font-weight: bold; }")
            # Wide enough for the bold text of the checked look, never clipped.
            bold = QFont(button.font())
            bold.setBold(True)
            button.setMinimumWidth(
                QFontMetrics(bold).horizontalAdvance(button.text()) + 24)
            self._mode.addButton(button)
        self.forward_button.setChecked(True)
        self.backward_button.toggled.connect(self._on_backward_button_toggled)

        items = [(AUTO, None)] + [(str(d), d) for d in range(10)]
        self.target_combo = combo(
            items, "Target digit",
            "What the network should have said. The loss is L = −log P(target): "
            "small when the network gives the target a high probability. The maps "
            "show how each number would have to change to make the target more "
            "likely. Auto: the true digit of a test image, else the network's own "
            "prediction.")
        # Wide enough for the automatic choice's text, e.g. "auto: 3 (true digit)".
        self.target_combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.target_combo.currentIndexChanged.connect(
            self._on_target_combo_current_index_changed)
        self.scale_combo = combo(
            [("one per layer", False), ("one per map", True)], "Gradient colour scale",
            "One per layer: every map of a column shares one colour scale, so you "
            "can see which maps matter most. One per map: each map is scaled to its "
            "own largest |gradient|, so even a map with tiny gradients shows its "
            "pattern (compare the numbers in the enlarged view).")
        self.scale_combo.currentIndexChanged.connect(
            self._on_scale_combo_current_index_changed)
        self.note = QLabel()
        self.note.setObjectName("Caption")
        self.note.setWordWrap(True)
        self.note.setAccessibleName("Loss note")
        self.note.setToolTip(
            "The loss of the target digit for this input. Every gradient is "
            "proportional to how wrong the network still is: near zero when it is "
            "already sure of the target.")
        self.runner_up_button = teach(
            QPushButton(), "Explain the runner-up digit",
            "Use the network's second guess as the target: its probability is far "
            "from 1, so the gradients are large and show what would make the "
            "network say that digit instead.")
        self.runner_up_button.clicked.connect(self._on_runner_up_button_clicked)
        self._offer = None
        self.batch_norm_button = teach(
            QPushButton("Batch normalization…"), "Batch normalization view",
            "This network normalizes its maps with batch norm. Open a view of it: "
            "each channel's batch mean and variance, its values before and after, "
            "γ and β, the running statistics, and your digit in training versus "
            "eval.")
        self.batch_norm_button.clicked.connect(self.batch_norm_requested)
        self.batch_norm_button.setVisible(False)

        self._target_label = QLabel("should have said:")
        self._scale_label = QLabel("colour scale:")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.forward_button, self.backward_button, self._target_label,
                       self.target_combo, self._scale_label, self.scale_combo):
            row.addWidget(widget)
        row.addStretch(1)
        notes = QHBoxLayout()
        notes.addWidget(self.note, 1)
        notes.addWidget(self.runner_up_button)
        # Under the pass buttons, so the first row still fits a 1024 px window.
        notes.addWidget(self.batch_norm_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.addLayout(row)
        layout.addLayout(notes)
        self._show_backward_controls(False)

    def is_backward(self):
        """True when the student asked for the backward pass."""
        return self.backward_button.isChecked()

    def target(self):
        """The digit the student picked, or None for the automatic choice."""
        return self.target_combo.currentData()

    def per_map(self):
        """True when every gradient map has its own colour scale."""
        return bool(self.scale_combo.currentData())

    def set_backward(self, backward):
        """Show the backward pass (True) or the forward pass (emits mode_changed)."""
        (self.backward_button if backward else self.forward_button).setChecked(True)

    def set_target(self, digit):
        """Pick digit 0-9, or None for the automatic choice (emits target_changed)."""
        self.target_combo.setCurrentIndex(0 if digit is None else digit + 1)

    def set_auto_target(self, digit, reason):
        """Say which digit the automatic choice is now, and why (e.g. "true digit")."""
        text = f"auto: {digit} ({reason})"
        if self.target_combo.itemText(0) != text:
            self.target_combo.setItemText(0, text)

    def set_note(self, text, offer=None):
        """The loss note, and a button offering digit ``offer`` as target (None: no
        offer)."""
        self.note.setText(text)
        self._offer = offer
        if offer is not None:
            self.runner_up_button.setText(f"Explain a {offer} instead")
        self.runner_up_button.setVisible(offer is not None and self.is_backward())

    def set_batch_norm_offered(self, offered):
        """Offer the batch normalization view (for a network with batch norm)."""
        self.batch_norm_button.setVisible(offered)

    def _show_backward_controls(self, visible):
        for widget in (self._target_label, self.target_combo, self._scale_label,
                       self.scale_combo, self.note):
            widget.setVisible(visible)
        self.runner_up_button.setVisible(visible and self._offer is not None)

    # Slots

    def _on_backward_button_toggled(self, checked):
        self._show_backward_controls(checked)
        self.mode_changed.emit(checked)

    def _on_target_combo_current_index_changed(self, index):
        self.target_changed.emit(self.target_combo.itemData(index))

    def _on_scale_combo_current_index_changed(self, index):
        self.per_map_changed.emit(bool(self.scale_combo.itemData(index)))

    def _on_runner_up_button_clicked(self):
        if self._offer is not None:
            self.set_target(self._offer)
