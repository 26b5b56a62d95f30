"""PipelineControls: input size, stride, padding and pooling for the Playground.

Signal: changed() — the student changed a setting. Queries: settings(),
side_by_side(). Setter slots: set_stride, set_padding, set_pooling,
set_input_factor, set_side_by_side, show_layer_setting, set_input_enabled.
Why a setting is impossible is said above the whole tab (SettingNote).
"""

from typing import NamedTuple

from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox

from convlab.gui.common.widgets import combo, spin_box, teach
from convlab.lab.pipeline import SAME


class Settings(NamedTuple):
    """What the controls ask for: kernel_pipeline's settings and the input shrink."""

    input_factor: int
    stride: int
    padding: object  # pixels, or "same"
    pool: str  # "none", "max" or "avg"
    pool_size: int
    pool_stride: int


class PipelineControls(QGroupBox):
    """The stride, padding and pooling form, with why a setting is impossible."""

    changed = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__("Stride, padding, pooling", parent)
        self._input_size = combo(
            (("28 × 28 (digit)", 1), ("14 × 14 (2×2 means)", 2),
             ("7 × 7 (4×4 means)", 4)), "Input size",
            "Shrink the digit by averaging blocks of pixels. A small input makes "
            "every window position easy to follow by hand (and makes impossible "
            "settings easy to reach).")
        # Narrow combos: the full text still shows in the open list.
        self._input_size.setSizeAdjustPolicy(
            QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self._input_size.setMinimumContentsLength(10)
        self._stride = spin_box(
            1, 4, 1, "Stride",
            "Stride s: how many pixels the window jumps between outputs. Stride 2 "
            "halves the output size; a stride larger than the kernel skips pixels.")
        self._padding = combo(
            [(str(value), value) for value in (0, 1, 2, 3, SAME)], "Padding",
            "Padding p: rings of zeros around the input. They let the window centre "
            "on edge pixels. 'same' picks p = (f - 1) / 2 so that at stride 1 the "
            "output keeps the input's size (it needs an odd kernel).")
        self._pool = combo(
            (("none", "none"), ("max", "max"), ("average", "avg")), "Pooling type",
            "Pooling summarises each window of the ReLU output by one number: max "
            "keeps the strongest response, average the mean. It shrinks the maps and "
            "makes the network tolerant to small shifts.", current=1)
        self._pool_size = spin_box(
            1, 4, 2, "Pool size",
            "Pool size: the pooling window is this many pixels square (2 is the "
            "classic choice).")
        self._pool_stride = spin_box(
            1, 4, 2, "Pool stride",
            "Pool stride: how far the pooling window jumps. Equal to the pool size, "
            "the windows tile the map; smaller, they overlap; larger, cells are "
            "skipped.")
        self._side_by_side = teach(
            QCheckBox("Max vs average"), "Show max and average pooling side by side",
            "Compute both poolings on the same ReLU output to compare what each "
            "keeps.")
        form = QFormLayout(self)
        form.addRow("Input", self._input_size)
        form.addRow("Stride", self._stride)
        form.addRow("Padding", self._padding)
        form.addRow("Pooling", self._pool)
        form.addRow("Pool size", self._pool_size)
        form.addRow("Pool stride", self._pool_stride)
        form.addRow(self._side_by_side)
        for box in (self._input_size, self._padding, self._pool):
            box.currentIndexChanged.connect(self.changed)
        for spin in (self._stride, self._pool_size, self._pool_stride):
            spin.valueChanged.connect(self.changed)
        self._side_by_side.toggled.connect(self.changed)

    def settings(self):
        """The Settings as shown."""
        return Settings(self._input_size.currentData(), self._stride.value(),
                        self._padding.currentData(), self._pool.currentData(),
                        self._pool_size.value(), self._pool_stride.value())

    def side_by_side(self):
        """Whether max and average pooling are to be shown next to each other."""
        return self._side_by_side.isChecked()

    def set_stride(self, stride):
        """Set the convolution stride (1..4)."""
        self._stride.setValue(stride)

    def set_padding(self, padding):
        """Set the padding: 0..3 or "same"."""
        self._padding.setCurrentIndex(self._padding.findData(padding))

    def set_pooling(self, kind, size=None, stride=None):
        """Set pooling "none", "max" or "avg", optionally its size and stride."""
        self._pool.setCurrentIndex(self._pool.findData(kind))
        if size is not None:
            self._pool_size.setValue(size)
        if stride is not None:
            self._pool_stride.setValue(stride)

    def set_input_factor(self, factor):
        """Shrink the digit by averaging factor x factor blocks (1, 2 or 4)."""
        self._input_size.setCurrentIndex(self._input_size.findData(factor))

    def set_side_by_side(self, on):
        """Show max and average pooling next to each other."""
        self._side_by_side.setChecked(on)

    def show_layer_setting(self, stride, padding):
        """Show a network layer's own stride and padding, without emitting changed."""
        for control in (self._stride, self._padding):
            control.blockSignals(True)
        self._stride.setValue(min(stride, self._stride.maximum()))
        if self._padding.findData(padding) >= 0:
            self._padding.setCurrentIndex(self._padding.findData(padding))
        for control in (self._stride, self._padding):
            control.blockSignals(False)

    def set_input_enabled(self, enabled):
        """A network filter reads its own input: the input size is then fixed."""
        self._input_size.setEnabled(enabled)
