"""DepthEditor: one filter for a colour image, a kernel slice per input channel plus
one bias.

A filter always has the depth of its input: for an RGB picture it is 3 slices of
kh x kw, slice c multiplying channel c. Cells refuse what the 2-D kernel editor
refuses (text, NaN, inf, huge numbers) with the same messages.

Signal: filter_edited(object, float) — the new weights (C, k, k) float64 copy and
the bias, after any accepted change. Setter slots: set_filter(w, b), set_cell_text,
set_bias_text. Queries: weights(), bias(), message(), cell(c, row, col).
"""

import numpy as np
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtGui import QFont, QFontMetrics
from PyQt5.QtWidgets import (
    QApplication,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common.colormaps import diverging_qcolor
from convlab.gui.common.widgets import combo, spin_box, teach
from convlab.gui.playground.kernel_editor import (
    CELL_FONT,
    CELL_POINT_SIZE,
    ERROR_STYLE,
    REFUSED_STYLE,
    cell_text,
    cell_width,
    parse_cell,
)
from convlab.gui.playground.views import ColorLegendView, LinesLabel
from convlab.lab.channels import CHANNEL_NAMES, colour_presets
from convlab.lab.network import symmetric_levels
from convlab.lab.presets import resize_centred

MAX_DEPTH_SIZE = 5  # three 5x5 slices stay laptop-sized; 32x32 inputs need no more


class DepthEditor(QWidget):
    """Three kernel slices (red, green, blue) one under another, a bias, presets."""

    filter_edited = pyqtSignal(object, float)

    def __init__(self, channels=3, parent=None):
        super().__init__(parent)
        preset = colour_presets()[1]  # red edges: a first look that shows depth
        self._w = preset.weights.copy()
        self._b = 0.0
        self._size = spin_box(
            1, MAX_DEPTH_SIZE, 3, "Filter size",
            "Filter size f: each slice is f x f. The filter always has one slice per "
            "input channel, so its full shape is (C, f, f).")
        self._size.setPrefix("size ")
        self._size.valueChanged.connect(self._on_size_value_changed)
        self._presets = colour_presets()
        self._preset = combo(
            [("Colour preset…", None)] + [(p.name, i) for i, p in
                                          enumerate(self._presets)],
            "Colour filter preset",
            "Filters made for colour: each has one slice per channel. Hover an item "
            "for its idea.")
        for index, p in enumerate(self._presets, 1):
            self._preset.setItemData(index, p.explanation, Qt.ToolTipRole)
        self._preset.activated.connect(self._on_preset_activated)

        font = QFont(QApplication.font())
        font.setPointSizeF(CELL_POINT_SIZE)
        cell_w, cell_h = cell_width(font), QFontMetrics(font).height() + 8
        self._cells = []  # [channel][row][col]
        self._styles = {}  # cell -> the style sheet it was given last
        # One under another: three 5x5 slices side by side would not fit a laptop.
        slices = QVBoxLayout()
        for c in range(channels):
            name = CHANNEL_NAMES[c] if c < len(CHANNEL_NAMES) else f"{c}"
            box = QVBoxLayout()
            box.addWidget(QLabel(f"<b>slice {c}</b> ({name})"))
            grid = QGridLayout()
            grid.setSpacing(2)
            rows = []
            for row in range(MAX_DEPTH_SIZE):
                line = []
                for col in range(MAX_DEPTH_SIZE):
                    cell = teach(
                        QLineEdit(), f"Slice {c} row {row} column {col}",
                        f"A weight of slice {c}: it multiplies the {name} channel's "
                        "pixel under it. Type a number and press Enter.")
                    cell.setFixedSize(cell_w, cell_h)
                    cell.editingFinished.connect(
                        lambda c=c, r=row, k=col: self._on_cell_editing_finished(
                            c, r, k))
                    grid.addWidget(cell, row, col, Qt.AlignLeft | Qt.AlignTop)
                    line.append(cell)
                rows.append(line)
            # Room for the largest slice is kept: nothing moves as the size changes.
            for index in range(MAX_DEPTH_SIZE):
                grid.setColumnMinimumWidth(index, cell_w)
                grid.setRowMinimumHeight(index, cell_h)
            box.addLayout(grid)
            box.addStretch(1)
            slices.addLayout(box)
            self._cells.append(rows)
        self._bias = teach(
            QLineEdit(), "Filter bias",
            "One bias for the whole filter, however many slices: it is added once, "
            "after the channels' partial sums are added up.")
        self._bias.setFixedSize(cell_w, cell_h)
        self._bias.setStyleSheet(CELL_FONT)
        self._bias.editingFinished.connect(self._on_bias_editing_finished)
        self._legend = ColorLegendView()
        self._shape = QLabel()
        self._message = LinesLabel(3)
        self._message.setAccessibleName("Colour filter message")

        top = QHBoxLayout()
        top.addWidget(self._size)
        top.addWidget(self._preset, 1)
        bias_row = QFormLayout()
        bias_row.addRow("bias", self._bias)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(slices)
        layout.addLayout(bias_row)
        layout.addWidget(self._shape)
        layout.addWidget(self._legend)
        layout.addWidget(self._message)
        self._refresh()

    def weights(self):
        """A copy of the filter's weights, (C, k, k) float64."""
        return self._w.copy()

    def bias(self):
        """The filter's bias."""
        return self._b

    def message(self):
        """The feedback line as shown (a refused number, a preset's idea)."""
        return self._message.text()

    def cell(self, channel, row, col):
        """The line edit of one weight (for tests and accessibility tools)."""
        return self._cells[channel][row][col]

    def set_filter(self, w, b=0.0):
        """Show weights w (C, k, k) and bias b without emitting filter_edited."""
        w = np.array(w, dtype=np.float64)
        if w.shape[0] != len(self._cells) or w.shape[1] != w.shape[2] \
                or not 1 <= w.shape[1] <= MAX_DEPTH_SIZE:
            raise ValueError(f"a colour filter must be ({len(self._cells)}, k, k) "
                             f"with k 1..{MAX_DEPTH_SIZE}, got shape {w.shape}")
        self._w, self._b = w, float(b)
        self._size.blockSignals(True)
        self._size.setValue(w.shape[1])
        self._size.blockSignals(False)
        self._refresh()

    def set_cell_text(self, channel, row, col, text):
        """Type `text` into one weight and finish the edit, as a student would."""
        self._cells[channel][row][col].setText(text)
        self._on_cell_editing_finished(channel, row, col)

    def set_bias_text(self, text):
        """Type `text` into the bias and finish the edit."""
        self._bias.setText(text)
        self._on_bias_editing_finished()

    def _on_cell_editing_finished(self, channel, row, col):
        cell = self._cells[channel][row][col]
        size = self._w.shape[1]
        if row >= size or col >= size:
            return  # a hidden cell losing focus after the filter shrank
        old = self._w[channel, row, col]
        if cell.text().strip() == cell_text(old):
            return
        try:
            value = parse_cell(cell.text())
        except ValueError as error:
            cell.setText(cell_text(old))
            self._style(cell, CELL_FONT + REFUSED_STYLE)
            self._set_message(f"Slice {channel}, row {row}, column {col}: {error}. "
                              f"Kept {cell_text(old)}.", ERROR_STYLE)
            return
        self._w[channel, row, col] = value
        self._set_message("")
        self._changed()

    def _on_bias_editing_finished(self):
        if self._bias.text().strip() == cell_text(self._b):
            return
        try:
            value = parse_cell(self._bias.text())
        except ValueError as error:
            self._bias.setText(cell_text(self._b))
            self._set_message(f"Bias: {error}. Kept {cell_text(self._b)}.",
                              ERROR_STYLE)
            return
        self._b = value
        self._set_message("")
        self._changed()

    def _on_size_value_changed(self, size):
        self._w = np.stack([resize_centred(k, size) for k in self._w])
        self._set_message("")
        self._changed()

    def _on_preset_activated(self, index):
        key = self._preset.itemData(index)
        self._preset.setCurrentIndex(0)
        if key is None:
            return
        preset = self._presets[key]
        self.set_filter(preset.weights, 0.0)
        self._set_message(preset.explanation)
        self.filter_edited.emit(self._w.copy(), self._b)

    def _changed(self):
        self._refresh()
        self.filter_edited.emit(self._w.copy(), self._b)

    def _set_message(self, text, style=""):
        self._message.setText(text)
        self._message.setStyleSheet(style)

    def _style(self, cell, style):
        """Restyle a cell only when its style changes: restyling all 75 cells cost a
        few milliseconds of every edit's one-frame budget."""
        if self._styles.get(cell) != style:
            self._styles[cell] = style
            cell.setStyleSheet(style)

    def _refresh(self):
        channels, size, _ = self._w.shape
        # One scale for every slice: a weight's colour compares across channels.
        _, level = symmetric_levels(self._w, round_up=False)
        for c in range(channels):
            for row in range(MAX_DEPTH_SIZE):
                for col in range(MAX_DEPTH_SIZE):
                    cell = self._cells[c][row][col]
                    shown = row < size and col < size
                    cell.setVisible(shown)
                    if shown:
                        value = self._w[c, row, col]
                        cell.setText(cell_text(value))
                        cell.setCursorPosition(0)
                        ink = "white" if abs(value) > 0.6 * level else "black"
                        self._style(cell, f"{CELL_FONT} background: "
                                    f"{diverging_qcolor(value, level).name()}; "
                                    f"color: {ink};")
        self._bias.setText(cell_text(self._b))
        self._legend.set_levels(-level, level)
        self._shape.setText(f"Filter shape (C, f, f) = ({channels}, {size}, {size}),"
                            f" one bias")
