"""The learning curves: loss and accuracy per step and per epoch, live while training.

The run before the current one stays as a faded line to compare with, until the
student clears it (the ``clear_previous`` button, which the panel places).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt5.QtGui import QFontMetrics
from PyQt5.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from convlab.gui.common.widgets import teach
from convlab.gui.training.worker import EpochProgress, TrainingProgress

LEGEND = (
    '<span style="color:#828282">&#8212;</span> previous run (faded) &nbsp; '
    '<span style="color:#7896c8">&#8212;</span> train (each step) &nbsp; '
    '<span style="color:#1e5ac8">&#9679;</span> train (epoch average) &nbsp; '
    '<span style="color:#dc6e14">&#9632;</span> validation (end of epoch)')
TRAIN_BELOW_VALIDATION = (
    "The training dot is the average over the whole epoch, while the weights were "
    "still changing: its early batches were seen by a worse network. Training "
    "also runs with dropout and augmentation (when on), which make its digits "
    "harder. Validation is measured once, at the end of the epoch, by the "
    "finished weights without dropout. So training loss can sit above validation "
    "loss (and training accuracy below), most of all in the first epochs; "
    "validation worse than training and getting worse means overfitting.")


class _GrowingSeries:
    """x/y points appended in batches; the arrays double so appending stays cheap."""

    def __init__(self):
        self._x = np.empty(256)
        self._y = np.empty(256)
        self.n = 0

    def extend(self, xs, ys) -> None:
        """Append the points whose x lies beyond every x so far; drop the others.

        x must increase: a line that folds back on itself makes pyqtgraph's
        clip-to-view and downsampling repaint without end, freezing the window.
        """
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        last = self._x[self.n - 1] if self.n else -np.inf
        before = np.maximum.accumulate(np.concatenate([[last], xs[:-1]]))  # (k,)
        keep = xs > before
        xs, ys = xs[keep], ys[keep]
        k = len(xs)
        if self.n + k > len(self._x):
            size = max(2 * len(self._x), self.n + k)
            self._x = np.resize(self._x, size)
            self._y = np.resize(self._y, size)
        self._x[self.n : self.n + k] = xs
        self._y[self.n : self.n + k] = ys
        self.n += k

    def clear(self) -> None:
        self.n = 0

    def data(self):
        return self._x[: self.n], self._y[: self.n]


Y_LABELS = {"loss": "loss", "acc": "accuracy"}


class LearningCurves(QGroupBox):
    """Loss and accuracy plots: a thin line per step, dots per epoch."""

    def hasHeightForWidth(self):
        # Its wrapped legend and caption would make the Training tab's layout take
        # the plots' preferred height as their minimum; the tab, a page too short
        # for that, then squeezed every box above below its own minimum.
        return False

    def __init__(self, parent=None):
        super().__init__("Learning curves", parent)
        self.loss_plot = pg.PlotWidget()
        self.acc_plot = pg.PlotWidget()
        teach(
            self.loss_plot, "Loss curve",
            "Cross-entropy loss: how surprised the network is by the right answer. "
            "Thin line: every training step; dots: epoch averages (training) and "
            "the held-out validation set. Validation rising while training falls "
            "means overfitting.",
        )
        teach(
            self.acc_plot, "Accuracy curve",
            "Fraction of digits classified correctly, per step (thin line) and per "
            "epoch on training and validation digits (dots).",
        )
        self.clear_previous = teach(
            QPushButton("Clear previous run"), "Clear previous run",
            "Remove the faded curves of the run before this one, kept so you can "
            "compare two runs (say, two learning rates).",
        )
        self.clear_previous.setEnabled(False)
        self.clear_previous.clicked.connect(self._on_clear_previous_clicked)
        curves = {}
        previous = {}
        for plot, key in ((self.loss_plot, "loss"), (self.acc_plot, "acc")):
            plot.setBackground("w")
            plot.showGrid(x=True, y=True, alpha=0.3)
            plot.setLabel("left", Y_LABELS[key])
            plot.setLabel("bottom", "step")
            # Plain numbers on the axes: a "(x0.001)" beside the label says nothing
            # to a student.
            for side in ("left", "bottom"):
                plot.getAxis(side).enableAutoSIPrefix(False)
            # Many steps make a long line; draw only what is on screen, thinned.
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            # Drawn first, so the current run's lines lie on top of it.
            previous[key] = plot.plot(
                pen=pg.mkPen((130, 130, 130, 150), width=1), name="previous run"
            )
            curves[key, "step"] = plot.plot(
                pen=pg.mkPen((120, 150, 200), width=1), name="train (step)"
            )
            curves[key, "train"] = plot.plot(
                pen=pg.mkPen((30, 90, 200), width=2), symbol="o", symbolSize=7,
                symbolBrush=(30, 90, 200), name="train (epoch)",
            )
            curves[key, "val"] = plot.plot(
                pen=pg.mkPen((220, 110, 20), width=2), symbol="s", symbolSize=7,
                symbolBrush=(220, 110, 20), name="validation (epoch)",
            )
        # Tall enough, both of them, for the turned "accuracy" beside the plot and
        # the step axis under it (ticks and label, about three lines): a short
        # window would cut the label short.
        metrics = QFontMetrics(self.acc_plot.getAxis("left").label.font())
        for plot in (self.loss_plot, self.acc_plot):
            plot.setMinimumHeight(metrics.horizontalAdvance(Y_LABELS["acc"])
                                  + 3 * metrics.height() + 16)
        self.acc_plot.setYRange(0.0, 1.0)
        self._curves = curves
        self._series = {key: _GrowingSeries() for key in curves}
        self._previous = previous
        # The legend is a line above the plots, so it never hides a point.
        self.legend = teach(QLabel(LEGEND), "Legend of the learning curves",
                            TRAIN_BELOW_VALIDATION)
        self.legend.setWordWrap(True)
        self.caption = QLabel(
            "Training dots average the epoch while the weights changed, with "
            "dropout and augmentation; validation uses the finished weights. So "
            "training can look worse than validation.")
        self.caption.setObjectName("Caption")
        self.caption.setWordWrap(True)
        self.caption.setToolTip(TRAIN_BELOW_VALIDATION)
        plots = QHBoxLayout()
        plots.addWidget(self.loss_plot, 1)
        plots.addWidget(self.acc_plot, 1)
        box = QVBoxLayout(self)
        box.addWidget(self.legend)
        box.addLayout(plots, 1)
        box.addWidget(self.caption)

    def new_run(self) -> None:
        """Keep the last run's step curves, faded, and start empty ones for a new run.

        Each run numbers its steps from its own start, so its points must never
        join another run's line.
        """
        if self._series["loss", "step"].n:
            for key, curve in self._previous.items():
                curve.setData(*(a.copy() for a in self._series[key, "step"].data()))
            self.clear_previous.setEnabled(True)
        self._clear_current()

    def reset(self) -> None:
        """Empty every curve, the previous run's too, for a fresh start."""
        self._on_clear_previous_clicked()
        self._clear_current()

    def _clear_current(self) -> None:
        """Empty the current run's curves (the previous run's stay)."""
        for series in self._series.values():
            series.clear()
        for curve in self._curves.values():
            curve.setData([], [])

    def add_steps(self, progress: TrainingProgress) -> None:
        """Append a batch of per-step points."""
        for key, values in (("loss", progress.losses), ("acc", progress.accuracies)):
            series = self._series[key, "step"]
            series.extend(progress.steps, values)
            self._curves[key, "step"].setData(*series.data())

    def add_epoch(self, epoch: EpochProgress) -> None:
        """Append one epoch's training and validation points."""
        for key, (train, val) in (
            ("loss", (epoch.train_loss, epoch.val_loss)),
            ("acc", (epoch.train_acc, epoch.val_acc)),
        ):
            for part, value in (("train", train), ("val", val)):
                if value is None:
                    continue
                series = self._series[key, part]
                series.extend([epoch.step], [value])
                self._curves[key, part].setData(*series.data())

    def curve_points(self, key: str, part: str) -> int:
        """Points in a curve; key "loss" or "acc", part "step", "train" or "val"."""
        return self._series[key, part].n

    def _on_clear_previous_clicked(self) -> None:
        for curve in self._previous.values():
            curve.setData([], [])
        self.clear_previous.setEnabled(False)
