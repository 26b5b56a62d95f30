"""PlaygroundPanel: the Playground tab, where a student's kernel meets their own digit.

Setter slots for the controller:
    set_input_image(image)      current input, float (28, 28) in [0, 1], or None
    set_model(model)            the nn.Sequential the GUI shows (GUI thread only)
    set_command_runner(runner)  runner(fn) sends fn(model) to the live model
                                (TrainingSession.submit); None = GUI model only
    open_filter(layer_index, filter_index)   edit a trained conv filter
                                (layer_index indexes model.layers)
    set_test_data(x, y)         for "Measure test accuracy now"
    refresh_model()             the set_model model's weights changed (training
                                snapshot): re-read the open filter
    shutdown()                  wait for a running accuracy measurement
    is_measuring()              True while "Measure test accuracy now" runs
Signal:
    model_edited()              a filter tweak changed the model given in set_model:
                                refresh the prediction and the feature maps

The numbers come from convlab.lab.pipeline; the maps are a PipelineMaps; a trained
filter is handled by a FilterPresenter (self.filters).
"""

import numpy as np
from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common.widgets import combo, spin_box, teach
from convlab.gui.playground.filter_presenter import FilterPresenter
from convlab.gui.playground.filter_tools import FilterToolsPanel
from convlab.gui.playground.kernel_editor import (
    DEFAULT_TITLE,
    ERROR_STYLE,
    KernelEditor,
)
from convlab.gui.playground.maps import PipelineMaps, first_pool
from convlab.gui.playground.step_through import StepThroughView
from convlab.lab.pipeline import SAME, kernel_pipeline, shrink
from convlab.lab.presets import resize_centred

BANK_SIZE = 4
MAP_WIDTH = 200  # screen pixels one map needs: the maps go in rows of what fits


class PlaygroundPanel(QWidget):
    """Kernel editor, stride/padding/pooling controls, live views, step-through."""

    model_edited = pyqtSignal()

    def __init__(self, rng=None, parent=None):
        super().__init__(parent)
        self._image = None
        self._results = None  # the last valid KernelPipeline, shown in every view

        self.editor = KernelEditor(rng=rng)
        self.editor.kernel_edited.connect(self._on_editor_kernel_edited)
        # The student's own kernels: a small filter bank, like one conv layer.
        self._bank = [self.editor.kernel()]
        self._bank_tabs = teach(
            QTabBar(), "Filter bank kernels",
            "A conv layer is a bank of kernels, each making its own feature map. "
            f"Keep up to {BANK_SIZE} kernels here; the 'Filter bank' view shows all "
            "their outputs side by side, as a layer's output channels.")
        self._bank_tabs.addTab("K1")
        self._bank_tabs.setUsesScrollButtons(False)
        self._bank_tabs.setDrawBase(False)
        self._bank_tabs.currentChanged.connect(self._on_bank_tabs_current_changed)
        self._add_kernel = teach(
            QPushButton("+"), "Add a kernel to the filter bank",
            "Add a kernel to the bank (a copy of the one shown, ready to edit or to "
            "replace with a preset). All kernels in a bank share one size.")
        self._add_kernel.setFixedWidth(30)
        self._add_kernel.clicked.connect(self._on_add_kernel_clicked)
        self._remove_kernel = teach(
            QPushButton("−"), "Remove the kernel from the filter bank",
            "Remove the kernel shown from the bank (one kernel always stays).")
        self._remove_kernel.setFixedWidth(30)
        self._remove_kernel.setEnabled(False)
        self._remove_kernel.clicked.connect(self._on_remove_kernel_clicked)

        self.tools = FilterToolsPanel()
        self.filters = FilterPresenter(self.tools, self)
        self.filters.filter_opened.connect(self._on_filters_filter_opened)
        self.filters.filter_closed.connect(self._on_filters_filter_closed)
        self.filters.kernel_changed.connect(self._on_filters_kernel_changed)
        self.filters.model_edited.connect(self.model_edited)

        controls = self._build_controls()
        self.maps = PipelineMaps()
        self.step = StepThroughView()
        # The step-through frames its window on the maps; a click on an output cell
        # walks it to the window that made that cell.
        self.step.step_changed.connect(self.maps.show_step)
        self.maps.cell_clicked.connect(self.step.show_output_cell)

        right = QVBoxLayout()
        right.addWidget(self.maps, 3)
        step_box = QGroupBox("Step through the sliding window")
        QVBoxLayout(step_box).addWidget(self.step)
        right.addWidget(step_box, 2)

        left = QVBoxLayout()
        kernel_box = QGroupBox("Kernel editor")
        kernel_layout = QVBoxLayout(kernel_box)
        bank_row = QHBoxLayout()
        bank_row.addWidget(self._bank_tabs, 1)
        bank_row.addWidget(self._add_kernel)
        bank_row.addWidget(self._remove_kernel)
        kernel_layout.addLayout(bank_row)
        kernel_layout.addWidget(self.editor)
        tools_box = QGroupBox("Network filter")
        QVBoxLayout(tools_box).addWidget(self.tools)
        left.addWidget(kernel_box)
        left.addWidget(controls)
        left.addWidget(tools_box)
        left.addStretch(1)
        # No scroll area of its own: the column widens with a 7x7 kernel instead of
        # hiding half of it, and the tab's page scrolls as a whole.
        self._left = QWidget()
        self._left.setLayout(left)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self._left)
        layout.addLayout(right, 1)
        self._update_views()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        # A narrow window gets the maps in rows of two or three, not one long row.
        free = event.size().width() - self._left.width()
        self.maps.set_columns(max(2, min(len(self.maps.views()), free // MAP_WIDTH)))

    def _build_controls(self):
        box = QGroupBox("Stride, padding, pooling")
        form = QFormLayout(box)
        self._input_size = combo(
            (("28 × 28 (digit)", 1), ("14 × 14 (2×2 means)", 2),
             ("7 × 7 (4×4 means)", 4)), "Input size",
            "Shrink the digit by averaging blocks of pixels. A small input makes "
            "every window position easy to follow by hand (and makes impossible "
            "settings easy to reach).")
        # Narrow combos: the full text still shows in the open list.
        self._input_size.setSizeAdjustPolicy(
            QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self._input_size.setMinimumContentsLength(10)
        self._stride = spin_box(
            1, 4, 1, "Stride",
            "Stride s: how many pixels the window jumps between outputs. Stride 2 "
            "halves the output size; a stride larger than the kernel skips pixels.")
        self._padding = combo(
            [(str(value), value) for value in (0, 1, 2, 3, SAME)], "Padding",
            "Padding p: rings of zeros around the input. They let the window centre "
            "on edge pixels. 'same' picks p = (f - 1) / 2 so that at stride 1 the "
            "output keeps the input's size (it needs an odd kernel).")
        self._pool = combo(
            (("none", "none"), ("max", "max"), ("average", "avg")), "Pooling type",
            "Pooling summarises each window of the ReLU output by one number: max "
            "keeps the strongest response, average the mean. It shrinks the maps and "
            "makes the network tolerant to small shifts.", current=1)
        self._pool_size = spin_box(
            1, 4, 2, "Pool size",
            "Pool size: the pooling window is this many pixels square (2 is the "
            "classic choice).")
        self._pool_stride = spin_box(
            1, 4, 2, "Pool stride",
            "Pool stride: how far the pooling window jumps. Equal to the pool size, "
            "the windows tile the map; smaller, they overlap; larger, cells are "
            "skipped.")
        self._side_by_side = teach(
            QCheckBox("Max vs average"), "Show max and average pooling side by side",
            "Compute both poolings on the same ReLU output to compare what each "
            "keeps.")
        self._problem = QLabel()
        self._problem.setWordWrap(True)
        self._problem.setStyleSheet(ERROR_STYLE)
        self._problem.setAccessibleName("Why these settings are impossible")
        form.addRow("Input", self._input_size)
        form.addRow("Stride", self._stride)
        form.addRow("Padding", self._padding)
        form.addRow("Pooling", self._pool)
        form.addRow("Pool size", self._pool_size)
        form.addRow("Pool stride", self._pool_stride)
        form.addRow(self._side_by_side)
        form.addRow(self._problem)
        for box_ in (self._input_size, self._padding, self._pool):
            box_.currentIndexChanged.connect(self._on_control_changed)
        for spin in (self._stride, self._pool_size, self._pool_stride):
            spin.valueChanged.connect(self._on_control_changed)
        self._side_by_side.toggled.connect(self._on_control_changed)
        return box

    # Setters used by the controller and by tests.

    def set_input_image(self, image):
        """The current input: a (28, 28) float array in [0, 1], or None (blank)."""
        self._image = None if image is None else np.asarray(image, dtype=np.float64)
        self.filters.set_image(self._image)
        self._update_views()

    def set_model(self, model):
        """The model the GUI shows; a new one forgets open filters and saved values."""
        self.filters.set_model(model)

    def set_command_runner(self, runner):
        """runner(fn) applies fn(model) to the live model (TrainingSession.submit)."""
        self.filters.set_command_runner(runner)

    def open_filter(self, layer_index, filter_index):
        """Open filter `filter_index` of the conv layer model.layers[layer_index]."""
        self.filters.open_filter(layer_index, filter_index)

    def set_test_data(self, x, y):
        """Test images x (N, 1, 28, 28) and labels y (N,) for measuring accuracy."""
        self.filters.set_test_data(x, y)

    def refresh_model(self):
        """The shown model's weights changed: follow training in the open filter."""
        # A hidden tab catches up in showEvent; no need to pay for it 20 times a second.
        if self.filters.is_open() and self.isVisible():
            self._follow_model()

    def shutdown(self):
        """Wait for a running accuracy measurement (the window is closing)."""
        self.filters.shutdown()

    def is_measuring(self):
        """True while a "Measure test accuracy now" measurement runs."""
        return self.filters.is_measuring()

    def showEvent(self, event):
        super().showEvent(event)
        if self.filters.is_open():
            self._follow_model()

    def _follow_model(self):
        # Reloading the kernel would wipe a weight the student is typing: wait for it.
        if not self.editor.editing():
            self.filters.follow_model()

    def set_stride(self, stride):
        """Set the convolution stride control (1..4)."""
        self._stride.setValue(stride)

    def set_padding(self, padding):
        """Set the padding control: 0..3 or "same"."""
        self._padding.setCurrentIndex(self._padding.findData(padding))

    def set_pooling(self, kind, size=None, stride=None):
        """Set pooling "none", "max" or "avg", optionally its size and stride."""
        self._pool.setCurrentIndex(self._pool.findData(kind))
        if size is not None:
            self._pool_size.setValue(size)
        if stride is not None:
            self._pool_stride.setValue(stride)

    def set_input_factor(self, factor):
        """Shrink the digit by averaging factor x factor blocks (1, 2 or 4)."""
        self._input_size.setCurrentIndex(self._input_size.findData(factor))

    def set_side_by_side(self, on):
        """Show max and average pooling next to each other."""
        self._side_by_side.setChecked(on)

    def notes_text(self):
        """The full-width note under the maps (unreached rows), or ""."""
        return self.maps.notes_text()

    def problem_text(self):
        """The explanation of an impossible setting, or "" when the setting is valid."""
        return self._problem.text()

    def results(self):
        """The last valid computation: the KernelPipeline shown in the views."""
        return self._results

    # Slots.

    def _on_control_changed(self, *_):
        self._update_views()

    def _on_editor_kernel_edited(self, kernel):
        if self.filters.is_open():
            self.filters.edit_kernel(kernel)
        else:
            # A new size applies to the whole bank, as in a real conv layer.
            self._bank = [k if k.shape == kernel.shape
                          else resize_centred(k, kernel.shape[0]) for k in self._bank]
            self._bank[self._bank_tabs.currentIndex()] = kernel
        self._update_views()

    def _on_bank_tabs_current_changed(self, index):
        if index < 0 or self.filters.is_open():
            return
        self.editor.set_kernel(self._bank[index])
        self._update_views()

    def _on_remove_kernel_clicked(self):
        index = self._bank_tabs.currentIndex()
        del self._bank[index]
        self._bank_tabs.blockSignals(True)
        self._bank_tabs.removeTab(index)
        for i in range(len(self._bank)):
            self._bank_tabs.setTabText(i, f"K{i + 1}")
        self._bank_tabs.blockSignals(False)
        self._on_bank_tabs_current_changed(self._bank_tabs.currentIndex())
        self._add_kernel.setEnabled(True)
        self._remove_kernel.setEnabled(len(self._bank) > 1)

    def _on_add_kernel_clicked(self):
        self._bank.append(self.editor.kernel())
        self._bank_tabs.addTab(f"K{len(self._bank)}")
        self._bank_tabs.setCurrentIndex(len(self._bank) - 1)
        self._add_kernel.setEnabled(len(self._bank) < BANK_SIZE)
        self._remove_kernel.setEnabled(True)

    def _show_bank_controls(self, shown):
        """Playground-only controls; a network filter has its own input and size."""
        for widget in (self._bank_tabs, self._add_kernel, self._remove_kernel):
            widget.setVisible(shown)
        self._input_size.setEnabled(shown)

    def _on_filters_filter_opened(self, title, stride, padding):
        self.editor.set_size_locked(True)
        self._show_bank_controls(False)
        self.editor.set_title(f"Network filter: {title}")
        # Start from the layer's own stride and padding: the views then show what the
        # network computes (the student may still change them to explore).
        for control in (self._stride, self._padding):
            control.blockSignals(True)
        self._stride.setValue(min(stride, self._stride.maximum()))
        if self._padding.findData(padding) >= 0:
            self._padding.setCurrentIndex(self._padding.findData(padding))
        for control in (self._stride, self._padding):
            control.blockSignals(False)

    def _on_filters_filter_closed(self):
        self.editor.set_size_locked(False)
        self.editor.set_title(DEFAULT_TITLE)
        self.editor.set_kernel(self._bank[self._bank_tabs.currentIndex()])
        self._show_bank_controls(True)
        self._update_views()

    def _on_filters_kernel_changed(self, kernel):
        self.editor.set_kernel(kernel)
        self._update_views()

    # Work.

    def _update_views(self):
        """Recompute every view; impossible settings keep the last valid views."""
        image = self._image if self._image is not None else np.zeros((28, 28))
        bank = None
        if self.filters.is_open():
            image, bias, input_title = self.filters.view_input(image)
            conv_title = self.filters.conv_title()
        else:
            image = shrink(image, self._input_size.currentData())
            bias, conv_title = 0.0, "Convolution output"
            input_title = ("Padded input" if self._image is not None
                           else "Padded input (draw a digit)")
            if len(self._bank) > 1:
                bank = np.stack(self._bank)  # (K, f, f)
        pool = self._pool.currentData()
        try:
            result = kernel_pipeline(
                image, self.editor.kernel(), bias, self._stride.value(),
                self._padding.currentData(), pool, self._pool_size.value(),
                self._pool_stride.value(), bank)
        except ValueError as problem:
            self._problem.setText(f"{problem} (The views keep the last valid setting.)")
            return
        self._problem.setText("")
        self._results = result
        side_by_side = self._side_by_side.isChecked()
        self.maps.show_pipeline(result, input_title, conv_title, side_by_side)
        if pool == "none":
            self.step.clear_pool_problem()
        else:
            pool_n = result.max.shape[0]
            self.step.set_pool_problem(result.relu, result.pool_size,
                                       result.pool_stride,
                                       first_pool(pool, side_by_side), pool_n, pool_n)
        out_n = result.conv.shape[0]
        self.step.set_conv_problem(result.padded, result.kernel, result.bias,
                                   result.stride, out_n, out_n)
