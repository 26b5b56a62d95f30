"""KernelEditor: type a kernel cell by cell, pick a classic preset, or reshape it.

Signals (intent, for whoever hosts the editor):
    kernel_edited(object)  the new kernel, a (size, size) float64 copy, after any
                           accepted change by the student (cell, size, preset, action)
    weight_clicked(int, int)  the student clicked the cell (row, col) of a weight
Setter slots: set_kernel(kernel), set_title(text), set_size_locked(bool).
Queries: kernel(), editing(), message().
"""

import math

import numpy as np
from PyQt5.QtCore import QEvent, Qt, pyqtSignal
from PyQt5.QtGui import QFont, QFontMetrics
from PyQt5.QtWidgets import (
    QApplication,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common.colormaps import diverging_qcolor
from convlab.gui.common.widgets import combo, spin_box, teach
from convlab.gui.playground.views import LARGE_VALUE, ColorLegendView, LinesLabel
from convlab.lab.network import symmetric_levels
from convlab.lab.presets import (
    MAX_SIZE,
    MIN_SIZE,
    PRESETS,
    make_preset,
    preset_size,
    resize_centred,
)

# Beyond this a float32 network multiplies its way to inf; the editor refuses it.
MAX_MAGNITUDE = 1e30

CELL_CHARS = 8  # "-0.00173": a cell always shows this many characters whole
CELL_POINT_SIZE = 8
CELL_GAP = 2  # pixels between two cells
CELL_FONT = f"font-size: {CELL_POINT_SIZE}pt;"
DEFAULT_TITLE = "Your kernel"
COUNTING_NOTE = ("Rows and columns are counted from 0, as in Python: the top-left "
                 "weight is row 0, column 0.")
ERROR_STYLE = "color: #b00020;"
REFUSED_STYLE = "background: #ffb3b3; border: 2px solid #d00000;"
WARNING_STYLE = "color: #a05a00;"


def parse_cell(text):
    """The float typed in a cell, or raise ValueError saying in plain words why not."""
    stripped = text.strip()
    if not stripped:
        raise ValueError("the cell is empty; type a number such as 0, 1 or -0.5")
    try:
        value = float(stripped)
    except ValueError:
        raise ValueError(f"{stripped!r} is not a number") from None
    if math.isnan(value):
        raise ValueError("NaN (not a number) would poison every output it touches")
    if math.isinf(value):
        raise ValueError("infinity cannot be multiplied and summed into a real output")
    if abs(value) > MAX_MAGNITUDE:
        raise ValueError(f"{value:.3g} is too large: beyond {MAX_MAGNITUDE:.0e} the "
                         "sums overflow to infinity")
    return value


def cell_text(value):
    """How a weight is written in its cell: 4 significant digits, fewer when that
    would not fit CELL_CHARS characters (the cell shows every character)."""
    for digits in (4, 3, 2):
        text = f"{value:.{digits}g}"
        if len(text) <= CELL_CHARS:
            return text
    return f"{value:.0e}"


def cell_width(font):
    """Pixels a cell needs to show any CELL_CHARS-character weight whole."""
    metrics = QFontMetrics(font)
    widest = max(metrics.horizontalAdvance(text)
                 for text in ("-0.00000", "-8.8e-08"))
    return widest + 5  # the line edit's frame and text margins


class KernelEditor(QWidget):
    """A grid of weight cells (1x1 to 7x7), presets and reshaping actions."""

    kernel_edited = pyqtSignal(object)
    weight_clicked = pyqtSignal(int, int)

    def __init__(self, rng=None, parent=None):
        super().__init__(parent)
        # Explicit generator: the "Random" preset is reproducible when a seed is given.
        self._rng = rng if rng is not None else np.random.default_rng()
        self._kernel = make_preset("sobel_x", 3, self._rng)
        self._refused = None  # (row, col) of the cell painted red, if any
        # Two lines kept: a network filter's longer title moves nothing below it.
        self._title = LinesLabel(2, f"<b>{DEFAULT_TITLE}</b>")

        self._size = spin_box(
            MIN_SIZE, MAX_SIZE, 3, "Kernel size",
            "Kernel size f: the window is f x f pixels. A bigger window sees more "
            "context per output, and the output shrinks by f - 1 without padding.")
        self._size.setPrefix("size ")
        self._size.valueChanged.connect(self._on_size_value_changed)

        self._preset = combo(
            [("Preset…", None)] + [(label, key) for key, label, _ in PRESETS],
            "Kernel preset",
            "Load a classic kernel. Blurs average neighbours (weights sum to 1); edge "
            "detectors subtract them (weights sum to 0). Hover an item for its idea.")
        for index, (_, _, lesson) in enumerate(PRESETS, 1):
            self._preset.setItemData(index, lesson, Qt.ToolTipRole)
        self._preset.activated.connect(self._on_preset_activated)

        self._cells = []
        self._positions = {}  # cell -> (row, col), for weight_clicked
        grid = QGridLayout()
        # No spacing of the layout's own: it skips rows whose cells are hidden.
        grid.setSpacing(0)
        grid.setColumnStretch(MAX_SIZE, 1)
        # A smaller font than the UI's keeps a 7x7 grid laptop-sized; set in each
        # cell's style sheet, which outranks the application's.
        font = QFont(QApplication.font())
        font.setPointSizeF(CELL_POINT_SIZE)
        cell_w = cell_width(font)
        cell_h = QFontMetrics(font).height() + 8
        # Room for the largest kernel is kept when a smaller one hides cells: the
        # editor, and everything beside and under it, never moves.
        for index in range(MAX_SIZE):
            grid.setColumnMinimumWidth(index, cell_w + CELL_GAP)
            grid.setRowMinimumHeight(index, cell_h + CELL_GAP)
        for row in range(MAX_SIZE):
            line = []
            for col in range(MAX_SIZE):
                cell = QLineEdit()
                cell.setFixedSize(cell_w, cell_h)
                cell.setTextMargins(0, 0, 0, 0)
                teach(cell, f"Kernel weight row {row} column {col}",
                      "One weight of the kernel. The output is the sum of each weight "
                      "times the pixel under it: positive weights add that pixel, "
                      "negative ones subtract it. Type a number and press Enter.")
                cell.editingFinished.connect(
                    lambda r=row, c=col: self._on_cell_editing_finished(r, c)
                )
                cell.installEventFilter(self)
                self._positions[cell] = (row, col)
                grid.addWidget(cell, row, col, Qt.AlignLeft | Qt.AlignTop)
                line.append(cell)
            self._cells.append(line)

        actions = QGridLayout()
        for index, (text, slot, tip) in enumerate((
            ("Sum to 1", self._on_normalize_clicked,
             "Divide every weight by their sum so they add up to 1: the output keeps "
             "the input's brightness (what every blur does)."),
            ("Negate", self._on_negate_clicked,
             "Flip every sign: bright responses become dark ones; an edge detector "
             "then finds the opposite edge."),
            ("Transpose", self._on_transpose_clicked,
             "Swap rows and columns: a vertical-edge detector becomes a horizontal "
             "one."),
            ("Rotate", self._on_rotate_clicked,
             "Turn the kernel 90 degrees clockwise: it now looks for the pattern "
             "turned the same way."),
        )):
            button = teach(QPushButton(text), f"Kernel action: {text}", tip)
            button.clicked.connect(slot)
            # Two rows of two keep the editor narrow enough for a laptop screen.
            actions.addWidget(button, index // 2, index % 2)

        self._sum = QLabel()
        self._sum.setToolTip(
            "Sum of the weights. 1 keeps overall brightness, 0 means flat regions "
            "give 0 (only changes, such as edges, respond)."
        )
        self._legend = ColorLegendView()
        # Said once, where a student first meets an index: every text in the
        # Playground (errors, hovers, the step-through) counts this way.
        self._counting = QLabel(COUNTING_NOTE)
        self._counting.setWordWrap(True)
        self._counting.setStyleSheet("color: #555555;")
        # Three lines kept free: a message never pushes the settings below down.
        self._message = LinesLabel(3)
        self._message.setFixedHeight(self._message.minimumHeight())
        self._message.setAccessibleName("Kernel editor message")

        top = QHBoxLayout()
        top.addWidget(self._size)
        top.addWidget(self._preset, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._title)
        layout.addLayout(top)
        layout.addLayout(grid)
        layout.addLayout(actions)
        layout.addWidget(self._sum)
        layout.addWidget(self._legend)
        layout.addWidget(self._counting)
        layout.addWidget(self._message)
        self._refresh()

    def eventFilter(self, watched, event):
        # A click into a cell also starts editing it; the click is only reported.
        if (event.type() == QEvent.MouseButtonPress and watched in self._positions
                and event.button() == Qt.LeftButton):
            self.weight_clicked.emit(*self._positions[watched])
        return super().eventFilter(watched, event)

    def kernel(self):
        """A copy of the kernel as shown, (size, size) float64."""
        return self._kernel.copy()

    def cell(self, row, col):
        """The line edit of one weight (for tests and accessibility tools)."""
        return self._cells[row][col]

    def editing(self):
        """Whether the student is in the middle of typing into a cell."""
        return any(cell.hasFocus() for line in self._cells for cell in line)

    def message(self):
        """The feedback line as shown (error, warning or hint)."""
        return self._message.text()

    def set_kernel(self, kernel):
        """Show `kernel` (2-D, square, 1..7) without emitting kernel_edited."""
        kernel = np.array(kernel, dtype=np.float64)
        if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1]:
            raise ValueError(f"a kernel must be square 2-D, got shape {kernel.shape}")
        self._kernel = kernel
        self._size.blockSignals(True)
        self._size.setValue(kernel.shape[0])
        self._size.blockSignals(False)
        self._set_message("")
        self._refresh()

    def set_title(self, text):
        """What the kernel belongs to, e.g. the playground or a network filter."""
        self._title.setText(f"<b>{text}</b>")

    def set_size_locked(self, locked):
        """A trained filter has a fixed size: lock the size box while one is open."""
        self._size.setEnabled(not locked)

    def set_cell_text(self, row, col, text):
        """Type `text` into a cell and finish the edit, exactly as a student would."""
        self._cells[row][col].setText(text)
        self._on_cell_editing_finished(row, col)

    def _on_cell_editing_finished(self, row, col):
        cell = self._cells[row][col]
        size = self._kernel.shape[0]
        if row >= size or col >= size:
            # The kernel shrank while this cell was being typed into; the hidden cell
            # finishes its edit as it loses focus.
            self._set_message(
                f"Row {row}, column {col} is outside the {size}x{size} kernel "
                "now; the number typed there was not used.", WARNING_STYLE)
            return
        old = self._kernel[row, col]
        # Leaving a cell untouched must not round 1/9 to the 4 digits on show; a
        # refused number's red mark and message go once the cell holds a number.
        if cell.text().strip() == cell_text(old):
            self._clear_refusal(row, col)
            return
        try:
            value = parse_cell(cell.text())
        except ValueError as error:
            # Keep the old weight and say why; the red cell shows which one was refused.
            cell.setText(cell_text(old))
            cell.setStyleSheet(CELL_FONT + REFUSED_STYLE)
            self._refused = (row, col)
            self._set_message(
                f"Row {row}, column {col}: {error}. Kept {cell_text(old)}.",
                ERROR_STYLE,
            )
            return
        self._kernel[row, col] = value
        self._set_message("")
        self._changed()

    def _on_size_value_changed(self, size):
        self._kernel = resize_centred(self._kernel, size)
        self._set_message("")
        self._changed()

    def _on_preset_activated(self, index):
        key = self._preset.itemData(index)
        self._preset.setCurrentIndex(0)
        if key is None:
            return
        size = self._size.value()
        needed = preset_size(key, size)
        if needed != size and not self._size.isEnabled():
            self._set_message(f"This preset is {needed}x{needed}; the open filter is "
                              f"{size}x{size}.", ERROR_STYLE)
            return
        self._kernel = make_preset(key, needed, self._rng)
        self._size.blockSignals(True)
        self._size.setValue(needed)
        self._size.blockSignals(False)
        lesson = next(text for k, _, text in PRESETS if k == key)
        grown = "" if needed == size else f" (grown to {needed}x{needed}: a 3x3 kernel)"
        self._set_message(lesson + grown)
        self._changed()

    def _on_normalize_clicked(self):
        total = self._kernel.sum()
        if abs(total) < 1e-12:
            self._set_message(
                "The weights sum to 0, so they cannot be scaled to sum to 1: this "
                "kernel measures change (edges), not brightness.", ERROR_STYLE)
            return
        self._kernel = self._kernel / total
        self._set_message("Weights divided by their sum, which is now 1.")
        self._changed()

    def _on_negate_clicked(self):
        self._kernel = -self._kernel
        self._changed()

    def _on_transpose_clicked(self):
        self._kernel = self._kernel.T.copy()
        self._changed()

    def _on_rotate_clicked(self):
        # np.rot90 turns counter-clockwise; k=-1 is the clockwise quarter turn.
        self._kernel = np.rot90(self._kernel, k=-1).copy()
        self._changed()

    def _clear_refusal(self, row, col):
        """The refused cell holds a number again: repaint it, drop its message."""
        if self._refused != (row, col):
            return
        self._refused = None
        self._set_message("")
        _, level = symmetric_levels(self._kernel, round_up=False)
        self._paint_cell(row, col, level)

    def _changed(self):
        self._refresh()
        self.kernel_edited.emit(self._kernel.copy())

    def _set_message(self, text, style=""):
        self._message.setText(text)
        self._message.setStyleSheet(style)

    def _refresh(self):
        # Every cell is repainted from its weight: no refusal mark survives.
        self._refused = None
        size = self._kernel.shape[0]
        _, level = symmetric_levels(self._kernel, round_up=False)
        for row in range(MAX_SIZE):
            for col in range(MAX_SIZE):
                cell = self._cells[row][col]
                visible = row < size and col < size
                cell.setVisible(visible)
                if visible:
                    cell.setText(cell_text(self._kernel[row, col]))
                    # A number too long for the cell shows its start, not its end.
                    cell.setCursorPosition(0)
                    self._paint_cell(row, col, level)
        self._legend.set_levels(-level, level)
        self._sum.setText(f"Sum of weights: {cell_text(self._kernel.sum())}")
        if level > LARGE_VALUE and not self._message.text():
            self._set_message(
                f"Very large weights (up to {cell_text(level)}): accepted, but the "
                "outputs grow just as large and every colour scale stretches to show "
                "them.", WARNING_STYLE)

    def _paint_cell(self, row, col, level):
        """Colour a cell by its weight on the legend's scale -level..+level."""
        cell = self._cells[row][col]
        color = diverging_qcolor(self._kernel[row, col], level)
        text = "white" if abs(self._kernel[row, col]) > 0.6 * level else "black"
        cell.setStyleSheet(f"{CELL_FONT} background: {color.name()}; color: {text};")
