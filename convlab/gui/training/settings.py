"""The training settings: optimizer, learning rate, batch size, epochs, augmentation
(and how many plain epochs end an augmented run) and the digits to learn from.

A view: it emits ``lr_changed`` (also mid-run) and ``download_requested`` and keeps
its values; values() are the TrainingRequest's fields besides the architecture.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
)

from convlab.data import sources
from convlab.gui.common import dialogs
from convlab.gui.common.widgets import combo, double_spin_box, spin_box, teach
from convlab.gui.training.request import (
    BUILTIN_SOURCE,
    LOADED_SOURCE,
    is_int,
    is_number,
)


class TrainingSettings(QGroupBox):
    """How to train: the optimizer and its numbers, and the data."""

    lr_changed = pyqtSignal(float)
    download_requested = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__("Training settings", parent)
        self.optimizer = combo(
            (("Adam", "adam"), ("SGD", "sgd")), "Optimizer",
            "How the weights move downhill on the loss. SGD (with momentum 0.9) steps "
            "along the gradient and keeps some speed; Adam adapts a step size for "
            "every weight and is forgiving of the learning rate.",
        )
        self.lr = double_spin_box(
            1e-5, 1.0, 1e-3, "Learning rate",
            "How big each weight update is. Too small: slow learning; too big: the "
            "loss jumps around or explodes. You can change it while training runs.",
            decimals=5,
        )
        self.lr.setStepType(QDoubleSpinBox.AdaptiveDecimalStepType)
        self.batch_size = spin_box(
            1, 1024, 64, "Batch size",
            "Images per weight update. Larger batches give smoother gradients and "
            "more images per second; smaller ones update more often.",
        )
        self.epochs = spin_box(
            1, 100, 1, "Epochs",
            "How many times training goes through the whole training set.",
        )
        self.augment = teach(
            QCheckBox("Augment (shift, rotate, scale)"), "Data augmentation",
            "Randomly move, turn and resize each training image a little, so the "
            "network learns the digit, not its exact position, and overfits less.",
        )
        self.clean_epochs = spin_box(
            0, self.epochs.value(), 0, "Plain epochs at the end",
            "With augmentation: how many of the last epochs train on the digits as "
            "they are, neither moved, turned nor resized. The network first learns "
            "from varied digits, then settles its weights on digits as they really "
            "look, like the ones it is tested on. 0: every epoch is augmented. At "
            "most the number of epochs.",
        )
        self.clean_epochs_label = QLabel("Plain epochs at the end")
        self.clean_epochs_label.setBuddy(self.clean_epochs)
        self.data_source = teach(
            QComboBox(), "Dataset",
            "The digits to learn from: real MNIST (70,000 handwritten digits in the "
            "full set) from a folder, or digits drawn by the program itself from "
            "random pen strokes, which need no download.",
        )
        self.data_source.addItem("Generated digits (built-in)", BUILTIN_SOURCE)
        self.open_folder = teach(
            QPushButton("MNIST folder..."), "Choose MNIST folder",
            "Pick a folder holding the four MNIST files (train-images-idx3-ubyte.gz, "
            "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
            "t10k-labels-idx1-ubyte.gz).",
        )
        self.download = teach(
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
        grid = QGridLayout(self)
        for row, column, label, widget in (
            (0, 0, "Optimizer", self.optimizer), (0, 2, "Learning rate", self.lr),
            (1, 0, "Batch size", self.batch_size), (1, 2, "Epochs", self.epochs),
        ):
            grid.addWidget(QLabel(label), row, column)
            grid.addWidget(widget, row, column + 1)
        grid.addWidget(self.augment, 2, 0, 1, 4)
        # Under the box it belongs to, lined up with the spin boxes above.
        grid.addWidget(self.clean_epochs_label, 3, 0, 1, 3)
        grid.addWidget(self.clean_epochs, 3, 3)
        grid.addWidget(QLabel("Data"), 4, 0)
        grid.addWidget(self.data_source, 4, 1, 1, 3)
        data_buttons = QHBoxLayout()
        data_buttons.addWidget(self.open_folder)
        data_buttons.addWidget(self.download)
        grid.addLayout(data_buttons, 5, 0, 1, 4)

        self.lr.valueChanged.connect(self.lr_changed)
        # A run cannot have more plain epochs than epochs (TrainConfig refuses it).
        self.epochs.valueChanged.connect(self.clean_epochs.setMaximum)
        self.augment.toggled.connect(self._update_clean_epochs)
        self._update_clean_epochs()
        self.open_folder.clicked.connect(self._on_open_folder_clicked)
        self.download.clicked.connect(self.download_requested)

    def values(self) -> dict:
        """The settings as JSON-able values, named like TrainingRequest's fields."""
        return {
            "optimizer": self.optimizer.currentData(),
            "lr": self.lr.value(),
            "batch_size": self.batch_size.value(),
            "epochs": self.epochs.value(),
            "augment": self.augment.isChecked(),
            "clean_epochs": self.clean_epochs.value(),
            "data_source": self.data_source.currentData(),
        }

    def restore(self, state: dict) -> None:
        """Show stored values; each one missing or not valid keeps its control."""
        index = self.optimizer.findData(state.get("optimizer"))
        if index >= 0:
            self.optimizer.setCurrentIndex(index)
        lr = state.get("lr")
        if is_number(lr) and self.lr.minimum() <= lr <= self.lr.maximum():
            self.lr.setValue(float(lr))
        # Epochs before the plain epochs: they bound them.
        for box, key in ((self.batch_size, "batch_size"), (self.epochs, "epochs"),
                         (self.clean_epochs, "clean_epochs")):
            value = state.get(key)
            if is_int(value) and box.minimum() <= value <= box.maximum():
                box.setValue(value)
        if isinstance(state.get("augment"), bool):
            self.augment.setChecked(state["augment"])
        source = state.get("data_source")
        if source == BUILTIN_SOURCE and self.data_source.findData(LOADED_SOURCE) >= 0:
            # The generated digits were most likely chosen for want of data; a
            # dataset loaded at this start (--data, the last folder) wins.
            source = LOADED_SOURCE
        if isinstance(source, str) and source not in (BUILTIN_SOURCE, LOADED_SOURCE) \
                and Path(source).is_dir():
            self.add_data_source(source)
        index = self.data_source.findData(source) if isinstance(source, str) else -1
        if index >= 0:
            self.data_source.setCurrentIndex(index)

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
            # "MNIST (10000 train, 10000 test) from <folder>" would be cut off
            # mid-number in a narrow window: the box shows the name before its
            # details, and the whole of it is the entry's tooltip.
            self.data_source.addItem(f"Loaded: {name.split(' (')[0]}", LOADED_SOURCE)
            index = self.data_source.count() - 1
            self.data_source.setItemData(index, name, Qt.ToolTipRole)
            self.data_source.setCurrentIndex(index)

    def set_idle(self, idle: bool) -> None:
        """Only the learning rate can change while a run is going."""
        for widget in (self.optimizer, self.batch_size, self.epochs, self.augment,
                       self.data_source, self.open_folder, self.download):
            widget.setEnabled(idle)
        self._update_clean_epochs()

    def _update_clean_epochs(self) -> None:
        # Plain epochs only mean something in an augmented run, and like the
        # Augment box they wait while a run is going.
        enabled = self.augment.isEnabledTo(self) and self.augment.isChecked()
        self.clean_epochs.setEnabled(enabled)
        self.clean_epochs_label.setEnabled(enabled)

    def _on_open_folder_clicked(self) -> None:
        folder = dialogs.ask_directory(self, "Folder with the MNIST files", "")
        if folder:
            self.add_data_source(folder)
