"""DetailView: one feature map or filter, enlarged, with its numbers and a legend.

A deeper filter's view also shows its channels added up (ChannelSumsPanel); a
filter's view offers the layer on a batch, a batch-norm map's the batch-norm view.
"""

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtGui import QColor
from PyQt5.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from convlab.gui.common.colormaps import SIGNED_CMAP
from convlab.gui.common.widgets import teach
from convlab.gui.network.channel_sums import ChannelSumsPanel
from convlab.lab.network import (
    COUNTING_NOTE,
    not_finite_note,
    number_text,
    symmetric_levels,
)

MAX_TABLE = 32  # larger arrays would make the table of numbers unreadable anyway
WHITE, BLACK = QColor("white"), QColor("black")
PLAIN_SIZE = (760, 460)
# With a deeper filter's partial maps: still inside a 1024x768 screen.
CHANNELS_SIZE = (1000, 700)
NOT_A_NUMBER = QColor("#c8c8c8")  # the grey of a cell holding NaN or infinity


class DetailView(QDialog):
    """A non-modal window showing a 2-D array as a picture and as a table of numbers."""

    edit_filter_requested = pyqtSignal(int, int)  # column, filter index
    batch_requested = pyqtSignal(int)  # column of the conv layer to run on a batch
    batch_norm_requested = pyqtSignal(int, int)  # column, channel (map index)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Enlarged view")
        self.setModal(False)
        self.resize(*PLAIN_SIZE)
        self._array = None
        self._filter = None
        self._batch_norm = None  # (column, channel) of a batch-norm map on show

        self.heading = QLabel()
        self.heading.setObjectName("DetailHeading")
        self.heading.setWordWrap(True)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setObjectName("Caption")
        self.counting = QLabel(COUNTING_NOTE)
        self.counting.setObjectName("Caption")
        self.counting.setWordWrap(True)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("#fbfbfd")
        self.graphics.setAccessibleName("Enlarged picture")
        self.graphics.setToolTip("The same numbers as the table, as colours.")
        view = self.graphics.addViewBox(row=0, col=0, lockAspect=True, invertY=True,
                                        enableMouse=False, enableMenu=False)
        self.image = pg.ImageItem()
        self.image.setColorMap(SIGNED_CMAP)
        view.addItem(self.image)
        self.legend = pg.ColorBarItem(values=(-1, 1), colorMap=SIGNED_CMAP,
                                      interactive=False, width=14, pen="#888")
        self.graphics.addItem(self.legend, row=0, col=1)

        self.table = QTableWidget()
        self.table.setAccessibleName("Values")
        self.table.setToolTip(
            "Every number of this array. The colour of each cell is the colour in the "
            "picture: blue negative, white zero, red positive."
        )
        self.table.horizontalHeader().setDefaultSectionSize(44)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)

        self.edit_button = QPushButton("Edit this filter in the Playground")
        self.edit_button.setAccessibleName("Edit filter in Playground")
        self.edit_button.setToolTip(
            "Open this filter in the kernel editor: change its numbers and watch the "
            "feature maps and the prediction react."
        )
        self.edit_button.clicked.connect(self._on_edit_button_clicked)
        self.batch_button = teach(
            QPushButton("This layer on a batch…"), "Layer on a batch",
            "Run this conv layer on several images at once and see the shapes: "
            "(N, C, H, W) * (F, C, kh, kw) -> (N, F, out_h, out_w).")
        self.batch_button.clicked.connect(self._on_batch_button_clicked)
        self.batch_norm_button = teach(
            QPushButton("Batch norm, seen…"), "Batch normalization view",
            "Open the batch normalization view: each channel's batch mean and "
            "variance, its values before and after, γ, β, the running statistics, "
            "and training versus eval for your digit.")
        self.batch_norm_button.clicked.connect(self._on_batch_norm_button_clicked)
        self.channel_sums = ChannelSumsPanel()
        self.channel_sums.setVisible(False)
        self.close_button = QPushButton("Close")
        self.close_button.setAccessibleName("Close enlarged view")
        self.close_button.setToolTip("Close this window.")
        self.close_button.clicked.connect(self.close)

        body = QHBoxLayout()
        body.addWidget(self.graphics, 1)
        body.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.batch_button)
        buttons.addWidget(self.batch_norm_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.explanation)
        layout.addLayout(body, 1)
        layout.addWidget(self.channel_sums, 2)
        layout.addWidget(self.counting)
        layout.addLayout(buttons)

    def array(self):
        """The 2-D array on show, or None."""
        return None if self._array is None else self._array.copy()

    def show_array(self, heading, explanation, array, levels=None, cmap=SIGNED_CMAP,
                   filter_ref=None, bring_to_front=True, gaps=None, legend_tip="",
                   text_of=number_text, channel_sums=None, batch_norm_ref=None):
        """Show a 2-D array; filter_ref = (column, filter) offers editing it.

        gaps: a bool mask of the same shape marking cells that hold no number (the
        space between a filter's channels), left blank; any other NaN or infinity
        is shown as such and explained. bring_to_front=False only updates the
        numbers (live updates in training). legend_tip: what the colour scale
        shows (empty: the plain colour key). text_of: a number's text in the
        table (gradients are often far below 0.01, so they need exponents).
        channel_sums: a deeper filter's lab.conv_depth.ChannelSums, shown under it
        (None: none). batch_norm_ref = (column, channel) of a batch-norm map offers
        the batch-norm view.
        """
        a = np.asarray(array, dtype=np.float64)
        gaps = np.zeros(a.shape, bool) if gaps is None else np.asarray(gaps, bool)
        self._array = a.copy()
        self._filter = filter_ref
        self.heading.setText(heading)
        bad = int(np.count_nonzero(~np.isfinite(a) & ~gaps))
        note = not_finite_note(bad, int(np.count_nonzero(~gaps)))
        self.explanation.setText(explanation + (" " + note if note else ""))
        levels = symmetric_levels(a) if levels is None else levels
        self.image.setColorMap(cmap)
        # Infinities as gaps, like NaN: no colour on any scale fits them.
        self.image.setImage(np.where(np.isfinite(a), a, np.nan), levels=levels,
                            autoLevels=False)
        self.legend.setColorMap(cmap)
        self.legend.setLevels(levels)
        self.legend.setToolTip(legend_tip or (
            f"The colour key: {number_text(levels[0], '{:g}')} to "
            f"{number_text(levels[1], '{:g}')}, the colours of the picture and the "
            "table."))
        # Wider cells for exponents such as -3.3e-07.
        width = 44 if text_of is number_text else 62
        self.table.horizontalHeader().setDefaultSectionSize(width)
        self._fill_table(a, gaps, levels, cmap, text_of)
        self.edit_button.setVisible(filter_ref is not None)
        self.batch_button.setVisible(filter_ref is not None)
        self._batch_norm = batch_norm_ref
        self.batch_norm_button.setVisible(batch_norm_ref is not None)
        self._set_channel_sums(channel_sums)
        if bring_to_front:
            self.show()
            self.raise_()

    def _set_channel_sums(self, sums):
        """Show a deeper filter's partial maps under its weights, or hide them."""
        if sums is not None:
            self.channel_sums.set_sums(sums)
        if (sums is not None) == self.channel_sums.isHidden():
            self.channel_sums.setVisible(sums is not None)
            # Room for a few rows of the weights' table above the partial maps.
            self.table.setMinimumHeight(130 if sums is not None else 0)
            self.resize(*(CHANNELS_SIZE if sums is not None else PLAIN_SIZE))

    def _fill_table(self, a, gaps, levels, cmap, text_of):
        shown = a[:MAX_TABLE, :MAX_TABLE]
        self.table.setUpdatesEnabled(False)  # one repaint for the whole table
        if (self.table.rowCount(), self.table.columnCount()) != shown.shape:
            self.table.clear()
            self.table.setRowCount(shown.shape[0])
            self.table.setColumnCount(shown.shape[1])
            # Qt numbers headers from 1; the captions and the code count from 0.
            self.table.setVerticalHeaderLabels(
                [str(r) for r in range(shown.shape[0])])
            self.table.setHorizontalHeaderLabels(
                [str(c) for c in range(shown.shape[1])])
        lo, hi = levels
        span = hi - lo if hi > lo else 1.0
        finite = np.where(np.isfinite(shown), shown, lo)
        colours = cmap.map(np.clip((finite - lo) / span, 0, 1).ravel(), mode="qcolor")
        for (r, c), value in np.ndenumerate(shown):
            if gaps[r, c]:  # the gap between two channels of a filter
                self.table.takeItem(r, c)
                continue
            cell = self.table.item(r, c)
            if cell is None:
                # Items are reused on live updates: creating hundreds is slow.
                cell = QTableWidgetItem()
                cell.setTextAlignment(Qt.AlignCenter)
                self.table.setItem(r, c, cell)
            cell.setText(text_of(value))
            colour = colours[r * shown.shape[1] + c] if np.isfinite(value) \
                else NOT_A_NUMBER
            cell.setBackground(colour)
            # Dark text on pale cells, white text on strong colours.
            cell.setForeground(WHITE if colour.lightness() < 120 else BLACK)
        self.table.setUpdatesEnabled(True)

    def _on_batch_button_clicked(self):
        if self._filter is not None:
            self.batch_requested.emit(self._filter[0])

    def _on_batch_norm_button_clicked(self):
        if self._batch_norm is not None:
            self.batch_norm_requested.emit(*self._batch_norm)

    def _on_edit_button_clicked(self):
        if self._filter is not None:
            self.edit_filter_requested.emit(*self._filter)
