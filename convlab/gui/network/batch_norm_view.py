"""BatchNormView: batch normalization, seen, for one BatchNorm2d layer.

For a batch (the training mini-batch while a run goes, else test images) it shows
each channel's batch mean and variance beside γ, β and the running statistics;
one channel's values before and after normalization as histograms; and the
student's digit through the layer in training (batch statistics) and in eval
(running statistics), the difference, why, and the formula with the numbers
(lab.batch_norm). Nothing here changes the model: lab.batch_norm only reads it.
"""

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import Qt
from PyQt5.QtGui import QFont
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common.widgets import combo, spin_box
from convlab.gui.network.map_grid import MapGrid
from convlab.lab.batch_norm import (
    batch_statistics,
    difference_text,
    formula_text,
    train_vs_eval,
)
from convlab.lab.network import COUNTING_NOTE, NOT_FINITE_CAUSE

STATISTIC_COLUMNS = ("batch\nmean", "batch\nvar", "γ", "β", "running\nmean",
                     "running\nvar")
CELL_WIDTH = 80  # room for a number such as -1.234e-05
TABLE_FRAME = 60  # the row numbers, the scroll bar and the frame beside the columns
TABLE_HEIGHT = 210
HISTOGRAM_PENS = (("before: x", "#2166ac"), ("normalized: x̂", "#888888"),
                  ("after: γ x̂ + β", "#b2182b"))
SIZE = (1000, 700)  # fits a 1024x768 screen


class BatchNormView(QDialog):
    """One batch-norm layer on a batch, channel by channel, training versus eval."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Batch normalization, seen")
        self.setModal(False)
        self.resize(*SIZE)
        self._stats = self._result = None
        self._args = None  # what show_layer was last given, to redraw
        self._column = None
        self.heading = QLabel()
        self.heading.setObjectName("DetailHeading")
        self.heading.setWordWrap(True)
        self.layer_combo = combo([], "Batch-norm layer",
                                 "Which batch-norm layer of the network to look at.")
        self.layer_combo.currentIndexChanged.connect(self._on_layer_combo_changed)
        self.channel_spin = spin_box(
            0, 0, 0, "Channel",
            "The channel (map) whose histograms, maps and formula are shown; "
            "counted from 0. Clicking a row of the table picks it too.")
        self.channel_spin.valueChanged.connect(self._on_channel_spin_value_changed)
        self.table = QTableWidget(0, len(STATISTIC_COLUMNS))
        self.table.setAccessibleName("Statistics per channel")
        self.table.setToolTip(
            "One row per channel. Training normalizes with the batch mean and "
            "variance (over all images and positions of the batch); eval with the "
            "running ones, averaged while training. Then it scales by γ and "
            "shifts by β, both learned.")
        self.table.setHorizontalHeaderLabels(STATISTIC_COLUMNS)
        self.table.horizontalHeader().setDefaultSectionSize(CELL_WIDTH)
        self.table.setMinimumWidth(len(STATISTIC_COLUMNS) * CELL_WIDTH + TABLE_FRAME)
        # Ten rows in view; the rest of the height goes to the digit and formulas.
        self.table.setFixedHeight(TABLE_HEIGHT)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.currentCellChanged.connect(self._on_table_current_cell_changed)
        self.histogram = pg.PlotWidget()
        self.histogram.setBackground("#fbfbfd")
        self.histogram.setAccessibleName("Histograms of one channel")
        self.histogram.setToolTip(
            "How many of the channel's values (all images, all positions) fall in "
            "each bin: before batch norm, normalized to mean 0 and variance 1, and "
            "after γ and β.")
        self.histogram_key = QLabel(" ".join(
            f'<span style="color:{colour}">■ {name}</span>'
            for name, colour in HISTOGRAM_PENS))
        self.histogram_key.setObjectName("Caption")
        self.histogram_key.setWordWrap(True)
        self.histogram.setLabel("bottom", "value")
        self.histogram.setLabel("left", "count")
        self.histogram.setFixedHeight(TABLE_HEIGHT - 30)  # its key goes under it
        self.curves = [self.histogram.plot([0, 1], [0], stepMode="center",
                                           pen=pg.mkPen(colour, width=2))
                       for _, colour in HISTOGRAM_PENS]
        self.maps = MapGrid(
            "Your digit, training versus eval",
            "This channel of your digit's output: with the batch's statistics (as "
            "in training), with the running ones (as in eval) and their "
            "difference, on one colour scale.")
        self.why = QLabel()
        self.why.setWordWrap(True)
        self.why.setAccessibleName("Why training and eval differ")
        mono = QFont("monospace")
        mono.setStyleHint(QFont.TypeWriter)
        mono.setPointSize(8)
        # Side by side: the same value with the batch's and the running statistics.
        self.formula, self.eval_formula = QLabel(), QLabel()
        for label, name in ((self.formula, "Formula in training"),
                            (self.eval_formula, "Formula in eval")):
            label.setAccessibleName(name)
            label.setTextInteractionFlags(Qt.TextSelectableByMouse)
            label.setFont(mono)
            label.setWordWrap(True)
        self.close_button = QPushButton("Close")
        self.close_button.setAccessibleName("Close batch-norm view")
        self.close_button.setToolTip("Close this window.")
        self.close_button.clicked.connect(self.close)
        self._body = QWidget()
        self._lay_out()

    def _lay_out(self):
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Layer:"))
        controls.addWidget(self.layer_combo)
        controls.addWidget(QLabel("channel:"))
        controls.addWidget(self.channel_spin)
        controls.addStretch(1)
        plot = QVBoxLayout()
        plot.addWidget(self.histogram, 1)
        plot.addWidget(self.histogram_key)
        top = QHBoxLayout()
        top.addWidget(self.table, 3)
        top.addLayout(plot, 2)
        # The digit's maps beside why they differ, then both formulas in full.
        middle = QHBoxLayout()
        middle.addWidget(self.maps, 1)
        middle.addWidget(self.why, 2)
        formulas = QHBoxLayout()
        formulas.addWidget(self.formula, 1)
        formulas.addWidget(self.eval_formula, 1)
        body = QVBoxLayout(self._body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addLayout(top)
        body.addLayout(middle, 1)
        body.addLayout(formulas)
        counting = QLabel(COUNTING_NOTE)
        counting.setObjectName("Caption")
        buttons = QHBoxLayout()
        buttons.addWidget(counting, 1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(controls)
        layout.addWidget(self._body, 1)
        layout.addLayout(buttons)

    def statistics(self):
        """The lab.batch_norm.BatchStatistics on show, or None."""
        return self._stats

    def result(self):
        """The lab.batch_norm.TrainVsEval of the student's digit, or None."""
        return self._result

    def channel(self):
        return self.channel_spin.value()

    def show_layer(self, model, names, images, source, x, column=None, channel=None,
                   bring_to_front=True):
        """Show the batch-norm layer of ``column`` (None: the one on show, or the
        first of names) of model on images (N, 1, 28, 28), described as source;
        x: the student's digit (28, 28) or None. names: {column: layer title}."""
        if column is None:
            column = self._column if self._column in names else min(names)
        self._args = (model, names, images, source, x)
        self._column = column
        self._fill_layers(names, column)
        try:
            if x is None:
                self._stats, self._result = batch_statistics(
                    model, column - 1, images), None
            else:
                self._result = train_vs_eval(model, column - 1, x, images)
                self._stats = self._result.batch
            if not np.isfinite(self._stats.inputs).all():
                raise ValueError("the layer receives numbers that are NaN or "
                                 "infinite. " + NOT_FINITE_CAUSE)
        except ValueError as exc:
            self._stats = self._result = None
            self.heading.setText(f"{names[column]}: no batch statistics to show: "
                                 f"{exc}")
            self._body.setVisible(False)
            self._raise(bring_to_front)
            return
        self._body.setVisible(True)
        count = len(self._stats.gamma)
        self.channel_spin.blockSignals(True)
        self.channel_spin.setRange(0, count - 1)
        if channel is not None:
            self.channel_spin.setValue(channel)
        self.channel_spin.blockSignals(False)
        digit = ", your digit added as its last image" if x is not None else ""
        self.heading.setText(
            f"{names[column]} (column {column}) on {source}{digit}: "
            f"{len(self._stats.inputs)} images, {count} channels (0–{count - 1})")
        self._fill_table()
        self._show_channel()
        self._raise(bring_to_front)

    def _raise(self, bring_to_front):
        if bring_to_front:
            self.show()
            self.raise_()

    def _fill_layers(self, names, column):
        self.layer_combo.blockSignals(True)
        if [self.layer_combo.itemData(i) for i in range(
                self.layer_combo.count())] != list(names):
            self.layer_combo.clear()
            for c, name in names.items():
                self.layer_combo.addItem(f"{name} (column {c})", c)
        self.layer_combo.setCurrentIndex(self.layer_combo.findData(column))
        self.layer_combo.blockSignals(False)

    def _fill_table(self):
        s = self._stats
        columns = (s.batch_mean, s.batch_var, s.gamma, s.beta, s.running_mean,
                   s.running_var)
        self.table.setRowCount(len(s.gamma))
        self.table.setVerticalHeaderLabels([str(c) for c in range(len(s.gamma))])
        for col, values in enumerate(columns):
            for row, value in enumerate(values):
                cell = self.table.item(row, col)
                if cell is None:
                    cell = QTableWidgetItem()
                    cell.setTextAlignment(Qt.AlignCenter)
                    self.table.setItem(row, col, cell)
                cell.setText(f"{value:.4g}")
        # Each column as wide as its longest number (a few, like -0.0009123, are
        # wider than CELL_WIDTH), so none is cut off; never narrower than that.
        self.table.resizeColumnsToContents()
        widths = [max(CELL_WIDTH, self.table.columnWidth(col))
                  for col in range(self.table.columnCount())]
        for col, width in enumerate(widths):
            self.table.setColumnWidth(col, width)
        self.table.setMinimumWidth(sum(widths) + TABLE_FRAME)

    def _show_channel(self):
        c = self.channel()
        self.table.blockSignals(True)
        self.table.selectRow(c)
        self.table.blockSignals(False)
        hists = self._stats.histograms(c)
        for curve, h in zip(self.curves, (hists.before, hists.normalized,
                                          hists.after), strict=True):
            curve.setData(h.edges, h.counts)
        r = self._result
        if r is None:
            self.maps.setVisible(False)
            self.why.setText("Draw a digit (or pick a test image) to see it through "
                             "this layer in training and in eval.")
            s = self._stats
            flat = s.inputs[0, c]
            row, col = np.unravel_index(int(np.argmax(np.abs(flat))), flat.shape)
            lines = [f"Image 0, row {row}, column {col}, batch statistics:"]
            lines += _formula(s, c, flat[row, col])
            self.formula.setText("\n".join(lines))
            self.eval_formula.setText("")
            return
        self.maps.setVisible(True)
        self.maps.set_maps(
            np.stack([r.train_output[c], r.eval_output[c], r.difference[c]]),
            ["training\n(batch statistics)", "eval\n(running statistics)",
             "training − eval"], 3)
        self.why.setText("\n".join(difference_text(r, c)))
        diff = np.abs(r.difference[c])
        row, col = np.unravel_index(int(np.argmax(diff)), diff.shape)
        where = f"Your digit, row {row}, column {col}"
        self.formula.setText("\n".join([f"{where}, training:"]
                                       + r.formula(c, row, col, "batch")))
        self.eval_formula.setText("\n".join(
            [f"{where}, eval:"] + r.formula(c, row, col, "running")))

    # Slots

    def _on_channel_spin_value_changed(self, value):
        if self._stats is not None:
            self._show_channel()

    def _on_table_current_cell_changed(self, row, col, old_row, old_col):
        if row >= 0:
            self.channel_spin.setValue(row)

    def _on_layer_combo_changed(self, index):
        column = self.layer_combo.itemData(index)
        if self._args is not None and column is not None:
            self.show_layer(*self._args, column=column, channel=0)


def _formula(s, c, value):
    """formula_text of one input value of channel c with the batch's statistics."""
    return formula_text(c, value, s.batch_mean[c], s.batch_var[c], s.gamma[c],
                        s.beta[c], s.eps)
