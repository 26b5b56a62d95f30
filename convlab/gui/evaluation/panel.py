"""EvaluationPanel: how well the network does on the test set, and where it fails."""

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import QSize, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QIcon
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QAction,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common import figures
from convlab.gui.common.qimage import array_to_pixmap
from convlab.lab.network import NOT_FINITE_CAUSE

THUMB = 56  # gallery thumbnails: 28x28 digits at twice their size
CONFUSION_CMAP = pg.ColorMap([0.0, 1.0], [(255, 255, 255), (8, 81, 156)])
# The accuracy axis starts this far below the worst digit, rounded down to a whole
# percent: bars of 96% and 99% must look different, not both "full".
ZOOM_MARGIN = 0.02
CELL_PADDING = 10  # pixels beside a count in its confusion-matrix cell


class EvaluationPanel(QWidget):
    """Test accuracy, per-class accuracy, confusion matrix, galleries of examples."""

    evaluate_requested = pyqtSignal()
    shown = pyqtSignal()  # the panel became visible (its tab was chosen)
    cell_selected = pyqtSignal(int, int)  # true digit, predicted digit
    example_selected = pyqtSignal(int)  # index into the test set

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("EvaluationPanel")
        self._available = False  # a test set is loaded
        self._running = False  # an evaluation is under way

        self.evaluate_button = QPushButton("Evaluate on the test set")
        self.evaluate_button.setAccessibleName("Evaluate on the test set")
        self.evaluate_button.setToolTip(
            "Run every test image through the current network and count how many it "
            "gets right. The test images were never used for training, so this "
            "measures how well the network generalises to new handwriting."
        )
        self.evaluate_button.clicked.connect(self.evaluate_requested)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(160)
        self.progress.setAccessibleName("Evaluation running")
        self.progress.setVisible(False)
        self.summary = QLabel("Not evaluated yet.")
        self.summary.setObjectName("Summary")
        self.summary.setAccessibleName("Test accuracy")
        self.summary.setWordWrap(True)

        self.per_class = pg.PlotWidget()
        self.per_class.setMinimumHeight(120)
        # Room above the plot for the top tick's number ("1.00"), which is drawn
        # centred on the top edge and was cut in half there.
        self.per_class.getPlotItem().layout.setContentsMargins(1, 8, 1, 1)
        self.per_class.setBackground("#fbfbfd")
        self.per_class.setAccessibleName("Accuracy per digit")
        self.per_class.setToolTip(
            "For each true digit, the share of its test images the network got right. "
            "Low bars show which digits the network finds hard. The axis starts "
            "just below the worst digit (its label says where), so small "
            "differences between good digits show."
        )
        self.per_class.setMouseEnabled(False, False)
        self.per_class.setMenuEnabled(False)
        self.per_class.setLabel("left", "accuracy")
        self.per_class_box = QGroupBox("Accuracy per digit")
        self._zoom_accuracy_axis(0.0)
        self.per_class.setLabel("bottom", "true digit")
        self.per_class.getAxis("bottom").setTicks([[(d, str(d)) for d in range(10)]])
        self._bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.7,
                                     brush=(8, 81, 156))
        self.per_class.addItem(self._bars)

        self.confusion = QTableWidget(10, 10)
        self.confusion.setAccessibleName("Confusion matrix")
        self.confusion.setToolTip(
            "Row = the true digit, column = what the network answered. The diagonal "
            "holds the correct answers; every other cell is a kind of mistake. Click a "
            "cell to see its images."
        )
        labels = [str(d) for d in range(10)]
        self.confusion.setHorizontalHeaderLabels(labels)
        self.confusion.setVerticalHeaderLabels(labels)
        self.confusion.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.confusion.setSelectionMode(QAbstractItemView.SingleSelection)
        for header in (self.confusion.horizontalHeader(),
                       self.confusion.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.Stretch)
        # A count is never shortened to "1...": the columns are made wide enough
        # for the widest count on show (set_confusion), the tab scrolls if need be.
        self.confusion.setTextElideMode(Qt.ElideNone)
        self.confusion.setWordWrap(False)
        self._fit_cells_to("0000")
        self.confusion.cellClicked.connect(self._on_confusion_cell_clicked)
        self.confusion.setObjectName("ConfusionMatrix")
        # Right-click: the matrix as a picture, like the plots' Export.
        self.confusion.setContextMenuPolicy(Qt.ActionsContextMenu)
        self.export_confusion_action = QAction("Export image…", self.confusion)
        self.export_confusion_action.triggered.connect(
            lambda: figures.export_widget(self, self.confusion, "confusion-matrix"))
        self.confusion.addAction(self.export_confusion_action)
        legend = QLabel("0%   shade = share of the row's images   100%")
        legend.setObjectName("ConfusionLegend")
        legend.setAlignment(Qt.AlignCenter)
        legend.setToolTip("Colour legend: each cell's shade is its count divided by "
                          "the number of test images of that true digit.")

        self.gallery_title = QLabel("Click a cell of the confusion matrix.")
        self.gallery_title.setWordWrap(True)
        self.gallery = self._make_gallery("Gallery of the chosen cell")
        self.mistakes = self._make_gallery("Most confidently wrong test images")
        self.mistakes.setToolTip(
            "The test images the network got wrong while being most sure of itself. "
            "Some are badly written; some show what the network has not learned. "
            "Click one to make it the input and see its feature maps."
        )

        top = QHBoxLayout()
        top.addWidget(self.evaluate_button)
        top.addWidget(self.progress)
        top.addWidget(self.summary, 1)
        matrix_box = QGroupBox("Confusion matrix (row: true, column: answer)")
        matrix = QVBoxLayout(matrix_box)
        matrix.addWidget(self.confusion, 1)
        matrix.addWidget(legend)
        class_box = self.per_class_box
        QVBoxLayout(class_box).addWidget(self.per_class)
        gallery_box = QGroupBox("Images in the chosen cell")
        gallery = QVBoxLayout(gallery_box)
        gallery.addWidget(self.gallery_title)
        gallery.addWidget(self.gallery, 1)
        mistakes_box = QGroupBox("Most confidently wrong")
        QVBoxLayout(mistakes_box).addWidget(self.mistakes)

        # Left: the numbers; right: the images behind them.
        grid = QGridLayout()
        grid.addWidget(matrix_box, 0, 0)
        grid.addWidget(class_box, 1, 0)
        grid.addWidget(gallery_box, 0, 1)
        grid.addWidget(mistakes_box, 1, 1)
        grid.setColumnStretch(0, 4)
        grid.setColumnStretch(1, 3)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(grid, 1)
        self.set_confusion(None)

    def _make_gallery(self, name):
        gallery = QListWidget()
        gallery.setViewMode(QListWidget.IconMode)
        gallery.setIconSize(QSize(THUMB, THUMB))
        gallery.setResizeMode(QListWidget.Adjust)
        gallery.setMovement(QListWidget.Static)
        gallery.setSpacing(4)
        gallery.setMinimumSize(100, 100)
        gallery.setAccessibleName(name)
        gallery.setToolTip(
            "P(d) under an image is the probability the network gave its answer d. "
            "Click an image to make it the input and see its feature maps.")
        gallery.itemClicked.connect(self._on_gallery_item_clicked)
        return gallery

    def confusion_counts(self):
        """The confusion matrix on show (10, 10), or None."""
        return None if self._counts is None else self._counts.copy()

    def per_class_accuracy(self):
        """The heights of the per-digit accuracy bars (10,), 0 for a missing digit."""
        return np.array(self._bars.opts["height"], dtype=float)

    def accuracy_axis_range(self):
        """The (bottom, top) of the per-digit accuracy axis on show."""
        return self._y_range

    def mistake_indices(self):
        """Test-set indices of the most-confidently-wrong images, in order."""
        return [self.mistakes.item(i).data(Qt.UserRole)
                for i in range(self.mistakes.count())]

    def gallery_indices(self):
        """Test-set indices of the images in the cell gallery, in order."""
        return [self.gallery.item(i).data(Qt.UserRole)
                for i in range(self.gallery.count())]

    def set_running(self, running, message=""):
        """Show that an evaluation is (not) in progress."""
        self._running = running
        self.progress.setVisible(running)
        self.evaluate_button.setEnabled(self._available and not running)
        if message:
            self.summary.setText(message)

    def set_available(self, available, reason=""):
        """Enable Evaluate only when there is a test set."""
        self._available = available
        self.evaluate_button.setEnabled(available and not self._running)
        if not available:
            self.summary.setText(reason)

    def set_results(self, accuracy, per_class, confusion, dataset_name,
                    finite=True):
        """Show the numbers of one evaluation run.

        finite=False says the network's outputs held NaN or infinity, so its
        answers (and these counts) mean nothing.
        """
        n = int(np.sum(confusion))
        self.summary.setText(
            f"Test accuracy: {f'{accuracy:.2%}' if np.isfinite(accuracy) else '—'} "
            f"({int(np.trace(confusion))} of {n} right) on {dataset_name}"
            + ("" if finite else ". The network's outputs are not a number (NaN) or "
               "infinite, so these answers are meaningless. " + NOT_FINITE_CAUSE)
        )
        self._bars.setOpts(height=np.nan_to_num(per_class))
        present = np.asarray(per_class, dtype=float)
        present = present[np.isfinite(present)]
        lowest = float(present.min()) if present.size else 0.0
        self._zoom_accuracy_axis(np.floor(round(100 * (lowest - ZOOM_MARGIN), 6)) / 100)
        self.set_confusion(confusion)

    def clear_results(self):
        """Forget the last evaluation (the network changed)."""
        if self._available:  # else it says why it cannot evaluate
            self.summary.setText("Not evaluated yet.")
        self._bars.setOpts(height=np.zeros(10))
        self._zoom_accuracy_axis(0.0)
        self.set_confusion(None)
        self.gallery_title.setText("Click a cell of the confusion matrix.")
        self.gallery.clear()
        self.mistakes.clear()

    def _zoom_accuracy_axis(self, bottom):
        """Show accuracies from bottom (at least 0) to 1, and say so on the axis."""
        bottom = min(max(0.0, float(bottom)), 0.99)
        self._y_range = (bottom, 1.0)
        self.per_class.setYRange(bottom, 1.0, padding=0)
        # Said in the box's title: a rotated axis label longer than the plot's
        # height would be cut off.
        self.per_class_box.setTitle(
            "Accuracy per digit" if bottom == 0
            else f"Accuracy per digit (axis from {bottom:.0%})")

    def _fit_cells_to(self, text):
        """Make every column wide enough for text, and the table for all ten."""
        metrics = self.confusion.fontMetrics()
        width = metrics.horizontalAdvance(text) + CELL_PADDING
        height = metrics.height() + 4
        self.confusion.horizontalHeader().setMinimumSectionSize(width)
        self.confusion.verticalHeader().setMinimumSectionSize(height)
        frame = 2 * self.confusion.frameWidth()
        rows = self.confusion.verticalHeader().sizeHint().width()
        columns = self.confusion.horizontalHeader().sizeHint().height()
        self.confusion.setMinimumSize(10 * width + rows + frame,
                                      max(240, 10 * height + columns + frame))

    def cell_text_fits(self):
        """Whether every count on show fits its cell's width, unshortened."""
        metrics = self.confusion.fontMetrics()
        header = self.confusion.horizontalHeader()
        return all(
            metrics.horizontalAdvance(self.confusion.item(r, c).text())
            <= header.sectionSize(c) - 2
            for r in range(10) for c in range(10))

    def set_confusion(self, confusion):
        """Fill the matrix; None empties it."""
        self._counts = None if confusion is None else np.asarray(confusion)
        widest = 0 if confusion is None else int(self._counts.max())
        self._fit_cells_to("0" * max(4, len(str(widest))))
        totals = None if confusion is None else np.maximum(self._counts.sum(1), 1)
        for r in range(10):
            for c in range(10):
                text = "" if confusion is None else str(self._counts[r, c])
                cell = QTableWidgetItem(text)
                cell.setTextAlignment(Qt.AlignCenter)
                if confusion is not None:
                    share = self._counts[r, c] / totals[r]
                    colour = CONFUSION_CMAP.map(share, mode="qcolor")
                    cell.setBackground(colour)
                    cell.setForeground(QColor("white" if share > 0.5 else "black"))
                    cell.setToolTip(
                        f"{self._counts[r, c]} test images of a {r} were answered "
                        f"{c} ({share:.1%} of the {r}s)."
                    )
                self.confusion.setItem(r, c, cell)

    def show_gallery(self, title, images, indices, captions):
        """Fill the cell gallery with (N, 28, 28) images and their test indices."""
        self.gallery_title.setText(title)
        self._fill(self.gallery, images, indices, captions)

    def show_mistakes(self, images, indices, captions):
        """Fill the most-confidently-wrong gallery."""
        self._fill(self.mistakes, images, indices, captions)

    @staticmethod
    def _fill(gallery, images, indices, captions):
        gallery.clear()
        for image, index, caption in zip(images, indices, captions, strict=True):
            item = QListWidgetItem(QIcon(array_to_pixmap(image, THUMB)), caption)
            item.setData(Qt.UserRole, int(index))
            item.setToolTip(
                f"Test image {index}: {caption}. Click to make it the input.")
            gallery.addItem(item)

    def showEvent(self, event):
        super().showEvent(event)
        self.shown.emit()

    def _on_confusion_cell_clicked(self, row, column):
        if self._counts is not None:
            self.cell_selected.emit(row, column)

    def _on_gallery_item_clicked(self, item):
        self.example_selected.emit(item.data(Qt.UserRole))
