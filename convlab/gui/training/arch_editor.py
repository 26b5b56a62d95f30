"""The architecture editor: a preset, 1 to MAX_BLOCKS conv blocks, batch norm, dense.

It shows every layer's output shape as the student types and says why a combination
cannot work. It is a view: it emits ``edited`` after each change and shows what it
is given with set_arch.
"""

from __future__ import annotations

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QVBoxLayout,
)

from convlab.gui.common.widgets import spin_box, teach
from convlab.gui.training.request import is_int, is_number
from convlab.nn.architectures import NAMED_ARCHS, ArchSpec, ConvBlock, layer_shapes

MAX_BLOCKS = 3
POOL_CHOICES = (("max", "max"), ("average", "avg"), ("none", "none"))


class _BlockEditor:
    """One row of the architecture editor's grid: a conv layer, ReLU, optional pool."""

    HEADERS = ("filters", "kernel", "stride", "pad", "pool", "size")

    def __init__(self, index: int):
        n = index + 1
        self.label = QLabel(f"Block {n}")
        self.label.setToolTip("Convolution, then ReLU, then optional pooling.")
        self.filters = spin_box(
            1, 128, 8, f"Block {n} filters",
            "How many filters (kernels) this conv layer learns. Each filter looks for "
            "one pattern and makes one feature map, so more filters = more patterns "
            "but more weights and slower training.",
        )
        self.kernel = spin_box(
            1, 9, 3, f"Block {n} kernel size",
            "Side of each square filter in pixels. A 3x3 kernel sees a pixel and its "
            "8 neighbours; larger kernels see more at once but have more weights.",
        )
        self.stride = spin_box(
            1, 4, 1, f"Block {n} stride",
            "How many pixels the filter jumps between positions. Stride 2 halves the "
            "output size: out = (n + 2*padding - k) // stride + 1.",
        )
        self.padding = spin_box(
            0, 4, 0, f"Block {n} padding",
            "Zeros added around the input before convolving. Padding (k-1)/2 with "
            "stride 1 keeps the size the same ('same' convolution).",
        )
        self.pool = teach(
            QComboBox(), f"Block {n} pooling",
            "Pooling shrinks each feature map: max keeps the strongest response in "
            "each window (where a pattern was found), average keeps the mean, none "
            "keeps the full map.",
        )
        for label, value in POOL_CHOICES:
            self.pool.addItem(label, value)
        self.pool_size = spin_box(
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


class ArchEditor(QGroupBox):
    """Edit the network's layers; ``spec`` is what it shows, buildable or not."""

    edited = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__("Architecture", parent)
        self.preset = teach(
            QComboBox(), "Architecture preset",
            "Start from a named network. Any edit below makes it a custom one.",
        )
        for name in NAMED_ARCHS:
            self.preset.addItem(name, name)
        self.preset.addItem("custom", None)
        self.block_count = spin_box(
            1, MAX_BLOCKS, 2, "Number of conv blocks",
            "How many conv -> ReLU -> pool blocks the network stacks. Deeper blocks "
            "combine the patterns found by earlier ones into larger shapes.",
        )
        self.blocks = [_BlockEditor(i) for i in range(MAX_BLOCKS)]
        self.batch_norm = teach(
            QCheckBox("Batch norm"), "Batch normalization",
            "Normalize each feature map over the batch after every conv. It keeps "
            "activations in a steady range, which usually lets training go faster.",
        )
        self.dense = spin_box(
            0, 1024, 128, "Dense layer width",
            "Neurons in the hidden fully connected layer that reads all feature "
            "maps and combines them before the 10 class scores; none connects the "
            "feature maps straight to the scores.",
        )
        self.dense.setSpecialValueText("none")
        self.shapes_label = teach(
            QLabel(), "Layer output shapes",
            "Each layer's output shape (channels, height, width) for a 28x28 digit, "
            "worked out as you edit.",
        )
        self.shapes_label.setTextFormat(Qt.PlainText)
        self.shapes_label.setStyleSheet("font-family: monospace; font-size: 8pt;")
        self.arch_error = teach(
            QLabel(), "Architecture problem",
            "Why this architecture cannot work; Start stays disabled until it can.",
        )
        self.arch_error.setWordWrap(True)
        self.arch_error.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.arch_error.setStyleSheet("color: #b00020;")
        # The problem is said where the shapes were, in a column of fixed width, so
        # the fields beside it do not move while the student types.
        self._shapes_or_error = QStackedWidget()
        self._shapes_or_error.addWidget(self.shapes_label)
        self._shapes_or_error.addWidget(self.arch_error)
        self._layout()

        self.preset.activated.connect(self._on_preset_activated)
        self.block_count.valueChanged.connect(self._on_edited)
        self.batch_norm.toggled.connect(self._on_edited)
        self.dense.valueChanged.connect(self._on_edited)
        for block in self.blocks:
            for widget in block.value_widgets():
                widget.valueChanged.connect(self._on_edited)
            block.pool.currentIndexChanged.connect(self._on_edited)
        self.set_arch(NAMED_ARCHS["sample"])

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Preset"))
        top.addWidget(self.preset)
        top.addWidget(QLabel("Conv blocks"))
        top.addWidget(self.block_count)
        top.addStretch(1)
        grid = QGridLayout()
        grid.setHorizontalSpacing(4)
        for column, header in enumerate(_BlockEditor.HEADERS, start=1):
            grid.addWidget(QLabel(header), 0, column)
        for row, block in enumerate(self.blocks, start=1):
            block.place(grid, row)
        # The spare width goes to an empty last column: on a wide window the
        # fields stay beside their labels.
        grid.setColumnStretch(len(_BlockEditor.HEADERS) + 1, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.batch_norm)
        bottom.addWidget(QLabel("Dense width"))
        bottom.addWidget(self.dense)
        bottom.addStretch(1)
        editor = QVBoxLayout()
        editor.addLayout(top)
        editor.addLayout(grid)
        editor.addLayout(bottom)
        editor.addStretch(1)
        longest = "Block 3 conv 9x9, 128 filters 128x28x28"
        self._shapes_or_error.setFixedWidth(
            self.shapes_label.fontMetrics().horizontalAdvance(longest) + 8)
        box = QHBoxLayout(self)
        # Narrow side margins: at 1024 px the Training tab has no pixel to spare
        # once a vertical scroll bar takes its share of the width.
        margins = box.contentsMargins()
        box.setContentsMargins(4, margins.top(), 4, margins.bottom())
        box.addLayout(editor, 1)
        box.addWidget(self._shapes_or_error)

    def architecture(self) -> ArchSpec | None:
        """The architecture the editor shows, or None when it cannot be built."""
        return self.spec if self._valid else None

    def set_arch(self, spec: ArchSpec) -> None:
        """Show an architecture (a preset or a loaded model's)."""
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
        self._on_edited()

    def editable_arch(self, d) -> ArchSpec | None:
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
                if not (is_int(value) and box.minimum() <= value <= box.maximum()):
                    return None
            if block.pool not in {value for _, value in POOL_CHOICES}:
                return None
        sample = NAMED_ARCHS["sample"]
        fits = (1 <= len(spec.blocks) <= MAX_BLOCKS
                and isinstance(spec.batch_norm, bool) and is_int(spec.dense)
                and self.dense.minimum() <= spec.dense <= self.dense.maximum()
                and is_number(spec.dropout) and 0 <= spec.dropout < 1
                and (spec.in_channels, spec.input_size, spec.num_classes)
                == (sample.in_channels, sample.input_size, sample.num_classes))
        return spec if fits else None

    def _on_preset_activated(self, _index: int) -> None:
        name = self.preset.currentData()
        if name is not None:
            self.set_arch(NAMED_ARCHS[name])

    def _on_edited(self, *_args) -> None:
        count = self.block_count.value()
        for i, editor in enumerate(self.blocks):
            editor.set_visible(i < count)
        base = self._base
        self.spec = ArchSpec(
            blocks=[editor.block() for editor in self.blocks[:count]],
            batch_norm=self.batch_norm.isChecked(),
            dense=self.dense.value(),
            dropout=base.dropout,
            in_channels=base.in_channels,
            input_size=base.input_size,
            num_classes=base.num_classes,
        )
        # Name the preset the editor shows, or "custom" after an edit.
        match = [name for name, spec in NAMED_ARCHS.items() if spec == self.spec]
        self.preset.setCurrentIndex(self.preset.findData(match[0] if match else None))
        try:
            shapes = layer_shapes(self.spec)
        except ValueError as exc:
            self._valid = False
            self.arch_error.setText(f"Cannot build this network: {exc}")
            self._shapes_or_error.setCurrentWidget(self.arch_error)
            self.shapes_label.setText("")
        else:
            self._valid = True
            self.arch_error.setText("")
            self._shapes_or_error.setCurrentWidget(self.shapes_label)
            width = max(len(label) for label, _ in shapes)
            self.shapes_label.setText(
                "\n".join(
                    f"{label:<{width}} {'x'.join(str(d) for d in shape)}"
                    for label, shape in shapes
                )
            )
        self.edited.emit()
