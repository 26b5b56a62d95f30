"""The Training tab: architecture editor, training settings, controls and live curves.

The panel is a view. It never touches the model or the worker; it emits intent signals
and shows what it is given through setter slots (TrainingSession.bind_panel wires both).

Signals (intent):
    start_requested(TrainingRequest)   Start pressed with a valid architecture
    step_requested(TrainingRequest)    Step one batch pressed
    pause_requested(), resume_requested(), stop_requested()
    lr_changed(float)                  learning rate edited (also mid-run)
    reinit_requested(ArchSpec)         New random weights pressed
    download_requested()               Download MNIST pressed (the window downloads)

Slots (setters):
    set_state(str)                     "idle" | "running" | "paused" | "stopping"
    add_progress(TrainingProgress)     per-step points and throughput from the worker
    add_epoch(EpochProgress)           per-epoch training and validation metrics
    new_run()                          the curves so far become the faded previous
                                       run; a run's points start on empty curves
    reset_curves()                     empty every curve, the previous run's too
    set_arch(ArchSpec)                 show an architecture (e.g. of a loaded model)
    add_data_source(path)              offer and select an MNIST folder
    set_loaded_dataset(name)           offer the window's loaded dataset (None: remove)
    show_failure(str)                  a training failure, shown as a dialog (through
                                       dialogs.show_message, like every dialog)
    show_notice(kind, text, buttons)   a non-modal message on the tab ("error",
                                       "warning" or "info") with (label, callback)
                                       buttons and Dismiss; hide_notice()
    saved_state() / restore_state(d)   the settings as JSON-able values, for QSettings
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from convlab.data import sources
from convlab.gui.common import dialogs
from convlab.gui.training.worker import EpochProgress, TrainingProgress
from convlab.nn.architectures import NAMED_ARCHS, ArchSpec, ConvBlock, layer_shapes

pg.setConfigOptions(imageAxisOrder="row-major")

MAX_BLOCKS = 3
BUILTIN_SOURCE = "builtin"
# The dataset the window has loaded and handed over (TrainingSession.set_dataset).
LOADED_SOURCE = "loaded"
POOL_CHOICES = (("max", "max"), ("average", "avg"), ("none", "none"))
NOTICE_STYLES = {  # background and border of the message area, by kind
    "error": ("#fde7e9", "#b00020"),
    "warning": ("#fff4ce", "#9a6700"),
    "info": ("#e8f1fb", "#1f5fa8"),
}


@dataclass
class TrainingRequest:
    """Everything the panel's settings say about the run the student asked for."""

    arch: ArchSpec
    optimizer: str
    lr: float
    batch_size: int
    epochs: int
    augment: bool
    data_source: str


def _teach(widget, name: str, tip: str):
    """Give a control the name screen readers announce and a tooltip that teaches."""
    widget.setAccessibleName(name)
    widget.setToolTip(tip)
    return widget


def _spin(lo: int, hi: int, value: int, name: str, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    return _teach(box, name, tip)


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


class _BlockEditor:
    """One row of the architecture editor's grid: a conv layer, ReLU, optional pool."""

    HEADERS = ("filters", "kernel", "stride", "pad", "pool", "size")

    def __init__(self, index: int):
        n = index + 1
        self.label = QLabel(f"Block {n}")
        self.label.setToolTip("Convolution, then ReLU, then optional pooling.")
        self.filters = _spin(
            1, 128, 8, f"Block {n} filters",
            "How many filters (kernels) this conv layer learns. Each filter looks for "
            "one pattern and makes one feature map, so more filters = more patterns "
            "but more weights and slower training.",
        )
        self.kernel = _spin(
            1, 9, 3, f"Block {n} kernel size",
            "Side of each square filter in pixels. A 3x3 kernel sees a pixel and its "
            "8 neighbours; larger kernels see more at once but have more weights.",
        )
        self.stride = _spin(
            1, 4, 1, f"Block {n} stride",
            "How many pixels the filter jumps between positions. Stride 2 halves the "
            "output size: out = (n + 2*padding - k) // stride + 1.",
        )
        self.padding = _spin(
            0, 4, 0, f"Block {n} padding",
            "Zeros added around the input before convolving. Padding (k-1)/2 with "
            "stride 1 keeps the size the same ('same' convolution).",
        )
        self.pool = _teach(
            QComboBox(), f"Block {n} pooling",
            "Pooling shrinks each feature map: max keeps the strongest response in "
            "each window (where a pattern was found), average keeps the mean, none "
            "keeps the full map.",
        )
        for label, value in POOL_CHOICES:
            self.pool.addItem(label, value)
        self.pool_size = _spin(
            1, 4, 2, f"Block {n} pool size",
            "Side of the pooling window; it also moves by this much, so pool size 2 "
            "halves the height and width.",
        )
        self.pool.currentIndexChanged.connect(self._on_pool_currentIndexChanged)

    def _widgets(self):
        return (self.label, self.filters, self.kernel, self.stride, self.padding,
                self.pool, self.pool_size)

    def place(self, grid: QGridLayout, row: int) -> None:
        for column, widget in enumerate(self._widgets()):
            if column:
                # Two-digit numbers need little room; the tab must stay narrow.
                widget.setMaximumWidth(64 if widget is self.pool else 52)
            grid.addWidget(widget, row, column)

    def set_visible(self, visible: bool) -> None:
        for widget in self._widgets():
            widget.setVisible(visible)

    def _on_pool_currentIndexChanged(self, _index: int) -> None:
        self.pool_size.setEnabled(self.pool.currentData() != "none")

    def block(self) -> ConvBlock:
        return ConvBlock(
            filters=self.filters.value(),
            kernel_size=self.kernel.value(),
            stride=self.stride.value(),
            padding=self.padding.value(),
            pool=self.pool.currentData(),
            pool_size=self.pool_size.value(),
        )

    def set_block(self, block: ConvBlock) -> None:
        self.filters.setValue(block.filters)
        self.kernel.setValue(block.kernel_size)
        self.stride.setValue(block.stride)
        self.padding.setValue(block.padding)
        self.pool.setCurrentIndex(max(0, self.pool.findData(block.pool)))
        self.pool_size.setValue(block.pool_size)

    def value_widgets(self):
        return (self.filters, self.kernel, self.stride, self.padding, self.pool_size)


class TrainingPanel(QWidget):
    """The Training tab: edit the network, set up a run, drive it and watch it learn."""

    start_requested = pyqtSignal(object)
    step_requested = pyqtSignal(object)
    pause_requested = pyqtSignal()
    resume_requested = pyqtSignal()
    stop_requested = pyqtSignal()
    lr_changed = pyqtSignal(float)
    reinit_requested = pyqtSignal(object)
    download_requested = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._state = "idle"
        self._arch_valid = False
        self._build_notice()
        self._build_arch_editor()
        self._build_settings()
        self._build_controls()
        self._build_curves()

        # Stacked so the tab fits beside the window's input and prediction columns
        # (about 725 px wide).
        middle = QHBoxLayout()
        middle.addWidget(self.settings_group, 1)
        middle.addWidget(self.controls_group, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.arch_group)
        layout.addLayout(middle)
        layout.addWidget(self.curves_group, 1)

        self.set_arch(NAMED_ARCHS["sample"])
        self._update_buttons()

    def _build_notice(self) -> None:
        # On the tab rather than in a dialog: nothing waits on a click, and the
        # message stays beside the curves and controls it is about.
        self.notice = QFrame()
        self.notice.setFrameShape(QFrame.StyledPanel)
        self.notice_label = _teach(
            QLabel(), "Training message",
            "What happened to the run and what you can do about it.",
        )
        self.notice_label.setWordWrap(True)
        self.notice_label.setTextFormat(Qt.PlainText)
        self.notice_buttons: list[QPushButton] = []
        self._notice_row = QHBoxLayout()
        self._notice_row.addStretch(1)
        box = QVBoxLayout(self.notice)
        box.addWidget(self.notice_label)
        box.addLayout(self._notice_row)
        self.notice.hide()

    def _build_arch_editor(self) -> None:
        self.arch_group = QGroupBox("Architecture")
        self.preset = _teach(
            QComboBox(), "Architecture preset",
            "Start from a named network. Any edit below makes it a custom one.",
        )
        for name in NAMED_ARCHS:
            self.preset.addItem(name, name)
        self.preset.addItem("custom", None)
        self.block_count = _spin(
            1, MAX_BLOCKS, 2, "Number of conv blocks",
            "How many conv -> ReLU -> pool blocks the network stacks. Deeper blocks "
            "combine the patterns found by earlier ones into larger shapes.",
        )
        self.blocks = [_BlockEditor(i) for i in range(MAX_BLOCKS)]
        self.batch_norm = _teach(
            QCheckBox("Batch norm"), "Batch normalization",
            "Normalize each feature map over the batch after every conv. It keeps "
            "activations in a steady range, which usually lets training go faster.",
        )
        self.dense = _spin(
            0, 1024, 128, "Dense layer width",
            "Neurons in the hidden fully connected layer that reads all feature "
            "maps and combines them before the 10 class scores; none connects the "
            "feature maps straight to the scores.",
        )
        self.dense.setSpecialValueText("none")
        self.shapes_label = _teach(
            QLabel(), "Layer output shapes",
            "Each layer's output shape (channels, height, width) for a 28x28 digit, "
            "worked out as you edit.",
        )
        self.shapes_label.setTextFormat(Qt.PlainText)
        self.shapes_label.setStyleSheet("font-family: monospace; font-size: 8pt;")
        self.arch_error = _teach(
            QLabel(), "Architecture problem",
            "Why this architecture cannot work; Start stays disabled until it can.",
        )
        self.arch_error.setWordWrap(True)
        self.arch_error.setStyleSheet("color: #b00020;")
        self.arch_error.hide()

        top = QHBoxLayout()
        top.addWidget(QLabel("Preset"))
        top.addWidget(self.preset)
        top.addWidget(QLabel("Conv blocks"))
        top.addWidget(self.block_count)
        top.addStretch(1)
        grid = QGridLayout()
        for column, header in enumerate(_BlockEditor.HEADERS, start=1):
            grid.addWidget(QLabel(header), 0, column)
        for row, block in enumerate(self.blocks, start=1):
            block.place(grid, row)
        bottom = QHBoxLayout()
        bottom.addWidget(self.batch_norm)
        bottom.addWidget(QLabel("Dense width"))
        bottom.addWidget(self.dense)
        bottom.addStretch(1)
        editor = QVBoxLayout()
        editor.addLayout(top)
        editor.addLayout(grid)
        editor.addLayout(bottom)
        editor.addWidget(self.arch_error)
        editor.addStretch(1)
        box = QHBoxLayout(self.arch_group)
        box.addLayout(editor, 1)
        box.addWidget(self.shapes_label)

        self.preset.activated.connect(self._on_preset_activated)
        self.block_count.valueChanged.connect(self._on_arch_edited)
        self.batch_norm.toggled.connect(self._on_arch_edited)
        self.dense.valueChanged.connect(self._on_arch_edited)
        for block in self.blocks:
            for widget in block.value_widgets():
                widget.valueChanged.connect(self._on_arch_edited)
            block.pool.currentIndexChanged.connect(self._on_arch_edited)

    def _build_settings(self) -> None:
        self.settings_group = QGroupBox("Training settings")
        self.optimizer = _teach(
            QComboBox(), "Optimizer",
            "How the weights move downhill on the loss. SGD (with momentum 0.9) steps "
            "along the gradient and keeps some speed; Adam adapts a step size for "
            "every weight and is forgiving of the learning rate.",
        )
        self.optimizer.addItem("Adam", "adam")
        self.optimizer.addItem("SGD", "sgd")
        self.lr = _teach(
            QDoubleSpinBox(), "Learning rate",
            "How big each weight update is. Too small: slow learning; too big: the "
            "loss jumps around or explodes. You can change it while training runs.",
        )
        self.lr.setDecimals(5)
        self.lr.setRange(1e-5, 1.0)
        self.lr.setStepType(QDoubleSpinBox.AdaptiveDecimalStepType)
        self.lr.setValue(1e-3)
        self.batch_size = _spin(
            1, 1024, 64, "Batch size",
            "Images per weight update. Larger batches give smoother gradients and "
            "more images per second; smaller ones update more often.",
        )
        self.epochs = _spin(
            1, 100, 1, "Epochs",
            "How many times training goes through the whole training set.",
        )
        self.augment = _teach(
            QCheckBox("Augment (shift, rotate, scale)"), "Data augmentation",
            "Randomly move, turn and resize each training image a little, so the "
            "network learns the digit, not its exact position, and overfits less.",
        )
        self.data_source = _teach(
            QComboBox(), "Dataset",
            "The digits to learn from: real MNIST (70,000 handwritten digits in the "
            "full set) from a folder, or digits drawn by the program itself from "
            "random pen strokes, which need no download.",
        )
        self.data_source.addItem("Generated digits (built-in)", BUILTIN_SOURCE)
        self.open_folder = _teach(
            QPushButton("MNIST folder..."), "Choose MNIST folder",
            "Pick a folder holding the four MNIST files (train-images-idx3-ubyte.gz, "
            "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
            "t10k-labels-idx1-ubyte.gz).",
        )
        self.download = _teach(
            QPushButton("Download MNIST"), "Download MNIST",
            "Fetch the MNIST files (about 11 MB) into your cache folder; checked "
            "against their published checksums.",
        )
        with contextlib.suppress(FileNotFoundError):
            self.add_data_source(sources.find_mnist())
        # A long folder path must not widen the whole tab.
        self.data_source.setSizeAdjustPolicy(
            QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.data_source.setMinimumContentsLength(16)
        grid = QGridLayout(self.settings_group)
        for row, column, label, widget in (
            (0, 0, "Optimizer", self.optimizer), (0, 2, "Learning rate", self.lr),
            (1, 0, "Batch size", self.batch_size), (1, 2, "Epochs", self.epochs),
        ):
            grid.addWidget(QLabel(label), row, column)
            grid.addWidget(widget, row, column + 1)
        grid.addWidget(self.augment, 2, 0, 1, 4)
        grid.addWidget(QLabel("Data"), 3, 0)
        grid.addWidget(self.data_source, 3, 1, 1, 3)
        data_buttons = QHBoxLayout()
        data_buttons.addWidget(self.open_folder)
        data_buttons.addWidget(self.download)
        grid.addLayout(data_buttons, 4, 0, 1, 4)

        self.lr.valueChanged.connect(self._on_lr_valueChanged)
        self.open_folder.clicked.connect(self._on_open_folder_clicked)
        self.download.clicked.connect(self.download_requested)

    def _build_controls(self) -> None:
        self.controls_group = QGroupBox("Run")
        self.start = _teach(
            QPushButton("Start"), "Start training",
            "Train the network in the background; the feature maps and curves "
            "update while it learns, and you can keep drawing.",
        )
        self.pause = _teach(
            QPushButton("Pause"), "Pause or resume training",
            "Hold training between two steps, to look closely or to step one "
            "batch at a time; press again to resume.",
        )
        self.stop = _teach(
            QPushButton("Stop"), "Stop training",
            "End the run after the current step; the weights learned so far stay.",
        )
        self.step = _teach(
            QPushButton("Step one batch"), "Step one batch",
            "Do exactly one forward pass, backward pass and weight update on one "
            "batch, then wait. Watch how one update changes the filters.",
        )
        self.reinit = _teach(
            QPushButton("New random weights"), "New random weights",
            "Throw away what was learned: build this architecture with fresh random "
            "weights, so you can watch it learn from scratch.",
        )
        self.progress = _teach(
            QProgressBar(), "Training progress",
            "How far through all epochs the run is, and an estimate of the time left.",
        )
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("not started")
        self.speed_label = _teach(
            QLabel("- images/s"), "Training speed",
            "Training images processed per second (forward, backward and update).",
        )
        grid = QGridLayout(self.controls_group)
        grid.addWidget(self.start, 0, 0)
        grid.addWidget(self.pause, 0, 1)
        grid.addWidget(self.stop, 0, 2)
        grid.addWidget(self.step, 1, 0, 1, 3)
        grid.addWidget(self.reinit, 2, 0, 1, 3)
        grid.addWidget(self.progress, 3, 0, 1, 3)
        grid.addWidget(self.speed_label, 4, 0)

        self.start.clicked.connect(self._on_start_clicked)
        self.pause.clicked.connect(self._on_pause_clicked)
        self.stop.clicked.connect(self.stop_requested)
        self.step.clicked.connect(self._on_step_clicked)
        self.reinit.clicked.connect(self._on_reinit_clicked)

    def _build_curves(self) -> None:
        self.curves_group = QGroupBox("Learning curves")
        self.loss_plot = pg.PlotWidget()
        self.acc_plot = pg.PlotWidget()
        _teach(
            self.loss_plot, "Loss curve",
            "Cross-entropy loss: how surprised the network is by the right answer. "
            "Thin line: every training step; dots: epoch averages (training) and "
            "the held-out validation set. Validation rising while training falls "
            "means overfitting.",
        )
        _teach(
            self.acc_plot, "Accuracy curve",
            "Fraction of digits classified correctly, per step (thin line) and per "
            "epoch on training and validation digits (dots).",
        )
        self.clear_previous = _teach(
            QPushButton("Clear previous run"), "Clear previous run",
            "Remove the faded curves of the run before this one, kept so you can "
            "compare two runs (say, two learning rates).",
        )
        self.clear_previous.setEnabled(False)
        self.clear_previous.clicked.connect(self._on_clear_previous_clicked)
        curves = {}
        previous = {}
        # Each legend sits where its curves are not: loss falls, accuracy rises.
        for plot, key, ylabel, legend_offset in (
            (self.loss_plot, "loss", "loss", (-10, 10)),
            (self.acc_plot, "acc", "accuracy", (-10, -30)),
        ):
            plot.setBackground("w")
            plot.showGrid(x=True, y=True, alpha=0.3)
            plot.setLabel("left", ylabel)
            plot.setLabel("bottom", "step")
            plot.addLegend(offset=legend_offset)
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
        self.acc_plot.setYRange(0.0, 1.0)
        self._curves = curves
        self._series = {key: _GrowingSeries() for key in curves}
        self._previous = previous
        box = QHBoxLayout(self.curves_group)
        box.addWidget(self.loss_plot, 1)
        box.addWidget(self.acc_plot, 1)
        # Beside the speed, so the plots keep all the group's height.
        self.controls_group.layout().addWidget(self.clear_previous, 4, 1, 1, 2)

    def architecture(self) -> ArchSpec | None:
        """The architecture the editor shows, or None when it cannot be built."""
        return self._arch if self._arch_valid else None

    def request(self) -> TrainingRequest:
        """The run the settings describe (the architecture must be valid)."""
        return TrainingRequest(
            arch=self._arch,
            optimizer=self.optimizer.currentData(),
            lr=self.lr.value(),
            batch_size=self.batch_size.value(),
            epochs=self.epochs.value(),
            augment=self.augment.isChecked(),
            data_source=self.data_source.currentData(),
        )

    def saved_state(self) -> dict:
        """The settings as JSON-able values, to remember them between sessions."""
        return {
            "arch": self._arch.to_dict(),
            "optimizer": self.optimizer.currentData(),
            "lr": self.lr.value(),
            "batch_size": self.batch_size.value(),
            "epochs": self.epochs.value(),
            "augment": self.augment.isChecked(),
            "data_source": self.data_source.currentData(),
        }

    def restore_state(self, state) -> None:
        """Show settings remembered by saved_state.

        Stored values may be old or hand-edited: each one that is missing or not
        valid keeps the control's current value, and nothing raises.
        """
        if not isinstance(state, dict):
            return
        spec = self._editable_arch(state.get("arch"))
        if spec is not None:
            self.set_arch(spec)
        index = self.optimizer.findData(state.get("optimizer"))
        if index >= 0:
            self.optimizer.setCurrentIndex(index)
        lr = state.get("lr")
        if _is_number(lr) and self.lr.minimum() <= lr <= self.lr.maximum():
            self.lr.setValue(float(lr))
        for box, key in ((self.batch_size, "batch_size"), (self.epochs, "epochs")):
            value = state.get(key)
            if _is_int(value) and box.minimum() <= value <= box.maximum():
                box.setValue(value)
        if isinstance(state.get("augment"), bool):
            self.augment.setChecked(state["augment"])
        source = state.get("data_source")
        if isinstance(source, str) and source not in (BUILTIN_SOURCE, LOADED_SOURCE) \
                and Path(source).is_dir():
            self.add_data_source(source)
        index = self.data_source.findData(source) if isinstance(source, str) else -1
        if index >= 0:
            self.data_source.setCurrentIndex(index)

    def _editable_arch(self, d) -> ArchSpec | None:
        """The ArchSpec stored as d, or None unless the editor can show it exactly."""
        try:
            spec = ArchSpec.from_dict(d)
        except (TypeError, ValueError):
            return None
        editor = self.blocks[0]  # its spin boxes know the ranges the editor allows
        boxes = {"filters": editor.filters, "kernel_size": editor.kernel,
                 "stride": editor.stride, "padding": editor.padding,
                 "pool_size": editor.pool_size}
        for block in spec.blocks:
            for name, box in boxes.items():
                value = getattr(block, name)
                if not (_is_int(value) and box.minimum() <= value <= box.maximum()):
                    return None
            if block.pool not in {value for _, value in POOL_CHOICES}:
                return None
        sample = NAMED_ARCHS["sample"]
        fits = (1 <= len(spec.blocks) <= MAX_BLOCKS
                and isinstance(spec.batch_norm, bool) and _is_int(spec.dense)
                and self.dense.minimum() <= spec.dense <= self.dense.maximum()
                and _is_number(spec.dropout) and 0 <= spec.dropout < 1
                and (spec.in_channels, spec.input_size, spec.num_classes)
                == (sample.in_channels, sample.input_size, sample.num_classes))
        return spec if fits else None

    def set_arch(self, spec: ArchSpec) -> None:
        """Show an architecture in the editor (a preset or a loaded model's)."""
        widgets = [self.block_count, self.batch_norm, self.dense]
        for block in self.blocks:
            widgets.extend(block.value_widgets())
            widgets.append(block.pool)
        # One recomputation at the end instead of one per field.
        for widget in widgets:
            widget.blockSignals(True)
        self.block_count.setValue(len(spec.blocks))
        for editor, block in zip(self.blocks, spec.blocks, strict=False):
            editor.set_block(block)
        self.batch_norm.setChecked(spec.batch_norm)
        self.dense.setValue(spec.dense)
        for widget in widgets:
            widget.blockSignals(False)
        self._base = spec
        self._on_arch_edited()

    def add_data_source(self, path) -> None:
        """Offer an MNIST folder as a dataset and select it."""
        path = str(Path(path))
        index = self.data_source.findData(path)
        if index < 0:
            self.data_source.addItem(f"MNIST: {path}", path)
            index = self.data_source.count() - 1
        self.data_source.setCurrentIndex(index)

    def set_loaded_dataset(self, name: str | None) -> None:
        """Offer (and select) the window's loaded dataset, or withdraw it (None)."""
        index = self.data_source.findData(LOADED_SOURCE)
        if index >= 0:
            self.data_source.removeItem(index)
        if name is not None:
            self.data_source.addItem(f"Loaded: {name}", LOADED_SOURCE)
            self.data_source.setCurrentIndex(self.data_source.count() - 1)

    def set_state(self, state: str) -> None:
        """Reflect the session's state ("idle", "running", "paused", "stopping")."""
        self._state = state
        self._update_buttons()

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

    def reset_curves(self) -> None:
        """Empty every curve, the previous run's too, for a fresh start."""
        self._on_clear_previous_clicked()
        self._clear_current()

    def _clear_current(self) -> None:
        for series in self._series.values():
            series.clear()
        for curve in self._curves.values():
            curve.setData([], [])
        self.progress.setValue(0)
        self.progress.setFormat("not started")

    def show_loading(self, done: int, total: int) -> None:
        """Say how far the drawing of generated digits got, before training starts."""
        self.progress.setValue(round(1000 * done / max(total, 1)))
        self.progress.setFormat(f"drawing digits {done:,} of {total:,}")

    def add_progress(self, progress: TrainingProgress) -> None:
        """Append a batch of per-step points and show speed and progress."""
        for key, values in (("loss", progress.losses), ("acc", progress.accuracies)):
            series = self._series[key, "step"]
            series.extend(progress.steps, values)
            self._curves[key, "step"].setData(*series.data())
        self.speed_label.setText(f"{progress.images_per_s:,.0f} images/s")
        self.progress.setValue(round(1000 * progress.fraction))
        self.progress.setFormat(
            f"%p%  step {progress.step}/{progress.total_steps}  "
            f"{_format_duration(progress.seconds_left)} left"
        )

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

    def show_failure(self, message: str) -> None:
        """Tell the student a run failed; the app and the last good weights stay."""
        dialogs.show_message(self, "error", "Training stopped", message)

    def show_notice(self, kind: str, text: str, buttons=()) -> None:
        """Show a message on the tab, replacing the last one; ``buttons`` are
        (label, callback) pairs, each press also hides the message."""
        background, border = NOTICE_STYLES[kind]
        self.notice.setStyleSheet(
            f"QFrame {{ background: {background}; border: 1px solid {border}; }}"
            " QLabel { border: none; }")
        self.notice_label.setText(text)
        for button in self.notice_buttons:
            self._notice_row.removeWidget(button)
            button.deleteLater()
        self.notice_buttons = []
        for label, callback in (*buttons, ("Dismiss", None)):
            button = _teach(QPushButton(label), label, text)
            button.clicked.connect(self.hide_notice)
            if callback is not None:
                button.clicked.connect(lambda _checked, f=callback: f())
            self._notice_row.insertWidget(len(self.notice_buttons), button)
            self.notice_buttons.append(button)
        self.notice.show()

    def hide_notice(self) -> None:
        self.notice.hide()

    def _on_clear_previous_clicked(self) -> None:
        for curve in self._previous.values():
            curve.setData([], [])
        self.clear_previous.setEnabled(False)

    def _on_preset_activated(self, _index: int) -> None:
        name = self.preset.currentData()
        if name is not None:
            self.set_arch(NAMED_ARCHS[name])

    def _on_arch_edited(self, *_args) -> None:
        count = self.block_count.value()
        for i, editor in enumerate(self.blocks):
            editor.set_visible(i < count)
        base = getattr(self, "_base", NAMED_ARCHS["sample"])
        self._arch = ArchSpec(
            blocks=[editor.block() for editor in self.blocks[:count]],
            batch_norm=self.batch_norm.isChecked(),
            dense=self.dense.value(),
            dropout=base.dropout,
            in_channels=base.in_channels,
            input_size=base.input_size,
            num_classes=base.num_classes,
        )
        # Name the preset the editor shows, or "custom" after an edit.
        match = [name for name, spec in NAMED_ARCHS.items() if spec == self._arch]
        self.preset.setCurrentIndex(self.preset.findData(match[0] if match else None))
        try:
            shapes = layer_shapes(self._arch)
        except ValueError as exc:
            self._arch_valid = False
            self.arch_error.setText(f"Cannot build this network: {exc}")
            self.arch_error.show()
            self.shapes_label.setText("")
        else:
            self._arch_valid = True
            self.arch_error.hide()
            width = max(len(label) for label, _ in shapes)
            self.shapes_label.setText(
                "\n".join(
                    f"{label:<{width}} {'x'.join(str(d) for d in shape)}"
                    for label, shape in shapes
                )
            )
        self._update_buttons()

    def _on_lr_valueChanged(self, value: float) -> None:
        self.lr_changed.emit(value)

    def _on_open_folder_clicked(self) -> None:
        folder = dialogs.ask_directory(self, "Folder with the MNIST files", "")
        if folder:
            self.add_data_source(folder)

    def _on_start_clicked(self) -> None:
        if self._arch_valid:
            self.start_requested.emit(self.request())

    def _on_pause_clicked(self) -> None:
        if self._state == "paused":
            self.resume_requested.emit()
        else:
            self.pause_requested.emit()

    def _on_step_clicked(self) -> None:
        if self._arch_valid or self._state != "idle":
            self.step_requested.emit(self.request())

    def _on_reinit_clicked(self) -> None:
        if self._arch_valid:
            self.reset_curves()
            self.reinit_requested.emit(self._arch)

    def _update_buttons(self) -> None:
        idle = self._state == "idle"
        active = self._state in ("running", "paused")
        self.start.setEnabled(idle and self._arch_valid)
        self.step.setEnabled((idle and self._arch_valid) or self._state == "paused")
        self.pause.setEnabled(active)
        self.pause.setText("Resume" if self._state == "paused" else "Pause")
        self.stop.setEnabled(active)
        self.reinit.setEnabled(idle and self._arch_valid)
        # The network's shape cannot change under a running trainer.
        self.arch_group.setEnabled(idle)
        for widget in (self.optimizer, self.batch_size, self.epochs, self.augment,
                       self.data_source, self.open_folder, self.download):
            widget.setEnabled(idle)
        if not self._arch_valid and idle:
            self.start.setToolTip(
                "Start is disabled: the architecture cannot be built (see the "
                "message under the layer shapes)."
            )
        else:
            self.start.setToolTip(
                "Train the network in the background; the feature maps and curves "
                "update while it learns, and you can keep drawing."
            )


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _format_duration(seconds: float | None) -> str:
    if seconds is None or not np.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
