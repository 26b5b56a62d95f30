"""BatchView: one conv layer on a batch of images, with its shape bookkeeping.

A network never sees one image alone: training feeds it N at a time, and every
layer turns an (N, C, H, W) block into (N, F, out_h, out_w). This window runs the
clicked layer's first filters on a small real batch (lab.conv_depth.layer_on_batch)
and writes every number of the shapes out, beside the N x F output maps.
"""

from PyQt5.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from convlab.gui.network.map_grid import MapGrid
from convlab.lab.network import COUNTING_NOTE, NOT_FINITE_CAUSE

MAX_SIZE = (1000, 700)  # fits a 1024x768 screen


class BatchView(QDialog):
    """The shapes of one conv layer on N images, and its N x F output maps."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("A conv layer on a batch")
        self.setModal(False)
        self.resize(820, 620)
        self.setMaximumSize(*MAX_SIZE)
        self._run = None
        self.heading = QLabel()
        self.heading.setObjectName("DetailHeading")
        self.heading.setWordWrap(True)
        self.shapes = QLabel()
        self.shapes.setAccessibleName("Shapes")
        self.shapes.setWordWrap(True)
        self.shapes.setToolTip(
            "N images, C channels each, H x W pixels; F filters of C kernels, "
            "kh x kw each; out_h x out_w from the size formula.")
        self.grid = MapGrid(
            "Output maps of the batch",
            "Row n: image n of the batch; column f: filter f's output map for it, "
            "before the ReLU. All on one colour scale.")
        self.counting = QLabel(COUNTING_NOTE)
        self.counting.setObjectName("Caption")
        self.close_button = QPushButton("Close")
        self.close_button.setAccessibleName("Close batch view")
        self.close_button.setToolTip("Close this window.")
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.counting, 1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.shapes)
        layout.addWidget(self.grid, 1)
        layout.addLayout(buttons)

    def run(self):
        """The lab.conv_depth.BatchRun on show, or None."""
        return self._run

    def show_error(self, name, message, bring_to_front=True):
        """Say why the layer called name cannot be run on a batch."""
        self._run = None
        self.heading.setText(f"{name} cannot be run on a batch: {message}")
        self.shapes.setText(NOT_FINITE_CAUSE if "finite" in message else "")
        self.grid.setVisible(False)
        if bring_to_front:
            self.show()
            self.raise_()

    def show_run(self, name, run, names, bring_to_front=True):
        """Show a BatchRun of the layer called name; names: its images' names."""
        self._run = run
        self.grid.setVisible(True)
        s = run.shapes
        self.heading.setText(
            f"{name} on a batch: N = {s.n} images × its first F = {s.filters} "
            f"filters ({', '.join(f'{i}: {n}' for i, n in enumerate(names))})")
        self.shapes.setText("\n".join(s.text()))
        n, f = run.output.shape[:2]
        labels = [f"image {i}, filter {j}" for i in range(n) for j in range(f)]
        self.grid.set_maps(run.output.reshape(n * f, *run.output.shape[2:]),
                           labels, f)  # (N*F, out_h, out_w), row by row
        if bring_to_front:
            self.show()
            self.raise_()
