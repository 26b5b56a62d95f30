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
"""

import numpy as np
from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common.colormaps import symmetric_levels
from convlab.gui.common.tasks import BackgroundTask
from convlab.gui.playground.filter_tools import ACCURACY_IMAGES, FilterToolsPanel
from convlab.gui.playground.kernel_editor import (
    DEFAULT_TITLE,
    ERROR_STYLE,
    KernelEditor,
)
from convlab.gui.playground.step_through import CONV, POOL, StepThroughView
from convlab.gui.playground.views import (
    LinesLabel,
    MapView,
    region_overlay,
)
from convlab.lab.filter_edits import (
    conv_filter,
    freeze_command,
    is_frozen,
    restore_command,
    set_channel_command,
    switch_off_command,
    with_filter,
)
from convlab.lab.presets import resize_centred
from convlab.nn import functional as F
from convlab.nn.layers import Conv2d
from convlab.nn.reference import zero_pad
from convlab.train import class_scores, evaluate

SAME = "same"
CLICK_HINT = "Hover: value. Click: step there."
BANK_SIZE = 4
POOL_NONE, POOL_MAX, POOL_AVERAGE = "none", "max", "average"


def coverage(n, f, stride, out):
    """Which of n rows the out windows of size f (corners i * stride) ever touch."""
    covered = np.zeros(n, dtype=bool)
    for i in range(out):
        covered[i * stride:i * stride + f] = True
    return covered


def formula_text(n, p, f, s, out):
    """The output-size formula with the current numbers filled in."""
    return (f"floor(({n} + 2·{p} − {f}) / {s}) + 1 = floor({n + 2 * p - f} / {s}) + 1 "
            f"= {out}")


def _unreached_note(covered, what):
    """A sentence about rows/columns no window reaches, or "" when all are reached."""
    missed = int(np.sum(~covered))
    if missed == 0:
        return ""
    # Rows missed before the last covered one were jumped over, not left at the end.
    skipped = int(np.sum(~covered[:np.flatnonzero(covered)[-1]]))
    why = ("the stride is larger than the window, so it jumps over some"
           if skipped else "the division is not exact")
    return (f"{what}: {why}; {missed} row(s) and column(s) are never reached by the "
            "window (orange) and are simply ignored.")


def _probabilities(model, image):
    """Class probabilities (K,) of `model` for one (H, W) image."""
    return F.softmax(class_scores(model, image[None, None]))[0]  # (1, 1, H, W) in


class PlaygroundPanel(QWidget):
    """Kernel editor, stride/padding/pooling controls, live views, step-through."""

    model_edited = pyqtSignal()

    def __init__(self, rng=None, parent=None):
        super().__init__(parent)
        self._image = None
        self._model = None
        self._runner = None
        self._test_data = None
        self._filter = None  # (layer_index, filter_index, channel) when one is open
        self._learned = {}  # (layer_index, filter_index) -> (weight, bias) first seen
        self._results = None  # the last valid computation, shown in every view
        self._measuring = []  # running accuracy measurements (BackgroundTask)
        # Counts set_model calls: a measurement started on an earlier model is stale.
        self._model_version = 0
        # Both depend on the input and on other layers only, not on the open filter:
        # cached so that typing into a deep filter stays fast.
        self._below = None  # the open filter's input channel, (H, W)
        self._learned_probs = None  # probabilities with the open filter as learned

        self.editor = KernelEditor(rng=rng)
        self.editor.kernel_edited.connect(self._on_editor_kernel_edited)
        # The student's own kernels: a small filter bank, like one conv layer.
        self._bank = [self.editor.kernel()]
        self._bank_tabs = QTabBar()
        self._bank_tabs.addTab("K1")
        self._bank_tabs.setUsesScrollButtons(False)
        self._bank_tabs.setDrawBase(False)
        self._bank_tabs.setAccessibleName("Filter bank kernels")
        self._bank_tabs.setToolTip(
            "A conv layer is a bank of kernels, each making its own feature map. "
            f"Keep up to {BANK_SIZE} kernels here; the 'Filter bank' view shows all "
            "their outputs side by side, as a layer's output channels."
        )
        self._bank_tabs.currentChanged.connect(self._on_bank_tabs_current_changed)
        self._add_kernel = QPushButton("+")
        self._add_kernel.setFixedWidth(30)
        self._add_kernel.setAccessibleName("Add a kernel to the filter bank")
        self._add_kernel.setToolTip(
            "Add a kernel to the bank (a copy of the one shown, ready to edit or to "
            "replace with a preset). All kernels in a bank share one size."
        )
        self._add_kernel.clicked.connect(self._on_add_kernel_clicked)
        self._remove_kernel = QPushButton("−")
        self._remove_kernel.setFixedWidth(30)
        self._remove_kernel.setEnabled(False)
        self._remove_kernel.setAccessibleName("Remove the kernel from the filter bank")
        self._remove_kernel.setToolTip(
            "Remove the kernel shown from the bank (one kernel always stays).")
        self._remove_kernel.clicked.connect(self._on_remove_kernel_clicked)
        self.tools = FilterToolsPanel()
        self.tools.switch_off_requested.connect(self._on_tools_switch_off_requested)
        self.tools.freeze_toggled.connect(self._on_tools_freeze_toggled)
        self.tools.reset_requested.connect(self._on_tools_reset_requested)
        self.tools.accuracy_requested.connect(self._on_tools_accuracy_requested)
        self.tools.channel_changed.connect(self._on_tools_channel_changed)
        self.tools.close_requested.connect(self._on_tools_close_requested)

        controls = self._build_controls()

        self.input_view = MapView(
            "Padded input",
            "The input with its zero border (blue). The kernel slides over this "
            "padded picture; padding lets it centre on the edge pixels too.",
            kind="pixels", parent=self)
        self.conv_view = MapView(
            "Convolution output",
            "Each cell is the sum of kernel x window for one window position. Red: "
            "positive, blue: negative, white: zero (see the legend).",
            hint=CLICK_HINT, parent=self)
        self.relu_view = MapView(
            "After ReLU",
            "ReLU(x) = max(0, x): negative responses (blue) become 0, positive ones "
            "pass unchanged. Same colour scale as the convolution output.",
            hint=CLICK_HINT, parent=self)
        self.pool_view = MapView(
            "Max pooling",
            "Pooling keeps one number per window of the ReLU output: the largest "
            "(max) or the mean (average). The map shrinks, the strong responses stay.",
            hint=CLICK_HINT, parent=self)
        self.bank_view = MapView(
            "Filter bank",
            "Every kernel of the bank applied to the same input: one feature map per "
            "kernel, side by side, exactly what a conv layer with that many filters "
            "outputs. One shared colour scale.",
            parent=self)
        self.pool_avg_view = MapView(
            "Average pooling",
            "Average pooling: the mean of each window, next to max pooling for "
            "comparison. Averages are softer, max keeps the strongest response.",
            parent=self)
        self.step = StepThroughView()
        self.step.step_changed.connect(self._on_step_step_changed)
        # Clicking an output cell walks the step-through to the window that made it.
        self.conv_view.cell_clicked.connect(self._on_conv_view_cell_clicked)
        self.relu_view.cell_clicked.connect(self._on_relu_view_cell_clicked)
        self.pool_view.cell_clicked.connect(self._on_pool_view_cell_clicked)

        self._maps = QGridLayout()
        # Which maps the settings call for; _reflow_maps shows exactly these.
        self._shown_maps = {self.input_view, self.conv_view, self.relu_view}
        self._map_columns, self._map_shown = 0, ()
        self._reflow_maps(2)
        # Longer explanations go here, full width, so the map columns stay short.
        self._notes = LinesLabel(4)
        self._notes.setStyleSheet("color: #b36200;")
        self._notes.setAccessibleName("Notes on the current setting")
        self._notes.hide()
        right = QVBoxLayout()
        right.addLayout(self._maps, 3)
        right.addWidget(self._notes)
        step_box = QGroupBox("Step through the sliding window")
        step_layout = QVBoxLayout(step_box)
        step_layout.addWidget(self.step)
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

    def _map_views(self):
        return (self.input_view, self.conv_view, self.relu_view, self.pool_view,
                self.pool_avg_view, self.bank_view)

    def _reflow_maps(self, columns=None):
        """Lay the shown maps out in rows of `columns`, in pipeline order."""
        columns = columns or self._map_columns
        shown = tuple(view in self._shown_maps for view in self._map_views())
        if (columns, shown) == (self._map_columns, self._map_shown):
            return
        self._map_columns, self._map_shown = columns, shown
        for view in self._map_views():
            self._maps.removeWidget(view)
            view.setVisible(view in self._shown_maps)
        visible = [view for view in self._map_views() if view in self._shown_maps]
        for i, view in enumerate(visible):
            self._maps.addWidget(view, i // columns, i % columns)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        # A narrow window gets the maps in rows of two or three, not one long row.
        free = event.size().width() - self._left.width()
        self._reflow_maps(max(2, min(len(self._map_views()), free // 200)))

    def _build_controls(self):
        box = QGroupBox("Stride, padding, pooling")
        form = QFormLayout(box)
        self._input_size = QComboBox()
        for text, factor in (("28 × 28 (digit)", 1), ("14 × 14 (2×2 means)", 2),
                             ("7 × 7 (4×4 means)", 4)):
            self._input_size.addItem(text, factor)
        # Narrow combos: the full text still shows in the open list.
        self._input_size.setSizeAdjustPolicy(
            QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self._input_size.setMinimumContentsLength(10)
        self._input_size.setAccessibleName("Input size")
        self._input_size.setToolTip(
            "Shrink the digit by averaging blocks of pixels. A small input makes "
            "every window position easy to follow by hand (and makes impossible "
            "settings easy to reach)."
        )
        self._stride = QSpinBox()
        self._stride.setRange(1, 4)
        self._stride.setAccessibleName("Stride")
        self._stride.setToolTip(
            "Stride s: how many pixels the window jumps between outputs. Stride 2 "
            "halves the output size; a stride larger than the kernel skips pixels."
        )
        self._padding = QComboBox()
        for value in (0, 1, 2, 3, SAME):
            self._padding.addItem(str(value), value)
        self._padding.setAccessibleName("Padding")
        self._padding.setToolTip(
            "Padding p: rings of zeros around the input. They let the window centre "
            "on edge pixels. 'same' picks p = (f - 1) / 2 so that at stride 1 the "
            "output keeps the input's size (it needs an odd kernel)."
        )
        self._pool = QComboBox()
        for text, value in (("none", POOL_NONE), ("max", POOL_MAX),
                            ("average", POOL_AVERAGE)):
            self._pool.addItem(text, value)
        self._pool.setCurrentIndex(1)
        self._pool.setAccessibleName("Pooling type")
        self._pool.setToolTip(
            "Pooling summarises each window of the ReLU output by one number: max "
            "keeps the strongest response, average the mean. It shrinks the maps and "
            "makes the network tolerant to small shifts."
        )
        self._pool_size = QSpinBox()
        self._pool_size.setRange(1, 4)
        self._pool_size.setValue(2)
        self._pool_size.setAccessibleName("Pool size")
        self._pool_size.setToolTip("Pool size: the pooling window is this many pixels "
                                   "square (2 is the classic choice).")
        self._pool_stride = QSpinBox()
        self._pool_stride.setRange(1, 4)
        self._pool_stride.setValue(2)
        self._pool_stride.setAccessibleName("Pool stride")
        self._pool_stride.setToolTip(
            "Pool stride: how far the pooling window jumps. Equal to the pool size, "
            "the windows tile the map; smaller, they overlap; larger, cells are "
            "skipped."
        )
        self._side_by_side = QCheckBox("Max vs average")
        self._side_by_side.setAccessibleName(
            "Show max and average pooling side by side")
        self._side_by_side.setToolTip(
            "Compute both poolings on the same ReLU output to compare what each keeps."
        )
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
        for combo in (self._input_size, self._padding, self._pool):
            combo.currentIndexChanged.connect(self._on_control_changed)
        for spin in (self._stride, self._pool_size, self._pool_stride):
            spin.valueChanged.connect(self._on_control_changed)
        self._side_by_side.toggled.connect(self._on_control_changed)
        return box

    # Setters used by the controller and by tests.

    def set_input_image(self, image):
        """The current input: a (28, 28) float array in [0, 1], or None (blank)."""
        self._image = None if image is None else np.asarray(image, dtype=np.float64)
        self._forget_cached()
        self._update_views()
        self._update_probabilities()

    def set_model(self, model):
        """The model the GUI shows; a new one forgets open filters and saved values."""
        if model is self._model:
            return
        self._model = model
        self._model_version += 1
        self._learned = {}
        self._forget_cached()
        if self._filter is not None:
            self._on_tools_close_requested()

    def set_command_runner(self, runner):
        """runner(fn) applies fn(model) to the live model (TrainingSession.submit)."""
        self._runner = runner

    def refresh_model(self):
        """The shown model's weights changed: follow training in the open filter."""
        # A hidden tab catches up in showEvent; no need to pay for it 20 times a second.
        if self._filter is None or not self.isVisible():
            return
        self._follow_model()

    def shutdown(self):
        """Wait for a running accuracy measurement (the window is closing)."""
        # accuracy_on cannot be interrupted; it works on private copies, so waiting
        # for it is safe and keeps Qt from destroying a running thread.
        for task in list(self._measuring):
            task.wait()
        self._measuring.clear()

    def is_measuring(self):
        """True while a "Measure test accuracy now" measurement runs."""
        return bool(self._measuring)

    def showEvent(self, event):
        super().showEvent(event)
        if self._filter is not None:
            self._follow_model()

    def _follow_model(self):
        # Reloading the kernel would wipe a weight the student is typing: wait for it.
        if self.editor.editing():
            return
        self._forget_cached()
        self._show_open_channel()
        self._update_probabilities()

    def set_test_data(self, x, y):
        """Test images x (N, 1, 28, 28) and labels y (N,) for measuring accuracy."""
        self._test_data = (x[:ACCURACY_IMAGES], y[:ACCURACY_IMAGES])

    def set_stride(self, stride):
        """Set the convolution stride control (1..4)."""
        self._stride.setValue(stride)

    def set_padding(self, padding):
        """Set the padding control: 0..3 or "same"."""
        self._padding.setCurrentIndex(self._padding.findData(padding))

    def set_pooling(self, kind, size=None, stride=None):
        """Set pooling "none", "max" or "average", optionally its size and stride."""
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
        return self._notes.text()

    def problem_text(self):
        """The explanation of an impossible setting, or "" when the setting is valid."""
        return self._problem.text()

    def results(self):
        """The last valid computation: dict of arrays and numbers shown in the views."""
        return self._results

    def open_filter(self, layer_index, filter_index):
        """Open filter `filter_index` of the conv layer model.layers[layer_index]."""
        if self._model is None or not isinstance(self._model.layers[layer_index],
                                                 Conv2d):
            return
        self._forget_cached()
        key = (layer_index, filter_index)
        if key not in self._learned:
            self._learned[key] = conv_filter(self._model, layer_index, filter_index)
        self._filter = (layer_index, filter_index, 0)
        layer = self._model.layers[layer_index]
        convs = [i for i, lay in enumerate(self._model.layers)
                 if isinstance(lay, Conv2d)]
        title = (f"Conv layer {convs.index(layer_index) + 1} (model layer "
                 f"{layer_index}), filter {filter_index + 1} of {layer.out_channels}")
        self.tools.show_filter(title, layer.in_channels, 0,
                               is_frozen(self._model, layer_index, filter_index))
        self.editor.set_size_locked(True)
        self._show_bank_controls(False)
        self.editor.set_title(f"Network filter: {title}")
        # Start from the layer's own stride and padding: the views then show what the
        # network computes (the student may still change them to explore).
        for control in (self._stride, self._padding):
            control.blockSignals(True)
        self._stride.setValue(min(layer.stride[0], self._stride.maximum()))
        if self._padding.findData(layer.padding[0]) >= 0:
            self._padding.setCurrentIndex(self._padding.findData(layer.padding[0]))
        for control in (self._stride, self._padding):
            control.blockSignals(False)
        self._show_open_channel()
        self._update_probabilities()

    # Slots.

    def _on_control_changed(self, *_):
        self._update_views()

    def _on_editor_kernel_edited(self, kernel):
        if self._filter is not None:
            layer_index, filter_index, channel = self._filter
            self._apply(set_channel_command(layer_index, filter_index, channel, kernel))
        else:
            # A new size applies to the whole bank, as in a real conv layer.
            self._bank = [k if k.shape == kernel.shape
                          else resize_centred(k, kernel.shape[0]) for k in self._bank]
            self._bank[self._bank_tabs.currentIndex()] = kernel
        self._update_views()

    def _on_bank_tabs_current_changed(self, index):
        if index < 0 or self._filter is not None:
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

    def _on_tools_switch_off_requested(self):
        layer_index, filter_index, _ = self._filter
        self._apply(switch_off_command(layer_index, filter_index))
        self._show_open_channel()

    def _on_tools_freeze_toggled(self, frozen):
        layer_index, filter_index, _ = self._filter
        self._apply(freeze_command(layer_index, filter_index, frozen))

    def _on_tools_reset_requested(self):
        layer_index, filter_index, _ = self._filter
        weight, bias = self._learned[(layer_index, filter_index)]
        self._apply(restore_command(layer_index, filter_index, weight, bias))
        self._show_open_channel()

    def _on_tools_channel_changed(self, channel):
        layer_index, filter_index, _ = self._filter
        self._filter = (layer_index, filter_index, channel)
        self._forget_cached()
        self._show_open_channel()

    def _on_tools_close_requested(self):
        self._filter = None
        self.tools.show_no_filter()
        self.editor.set_size_locked(False)
        self.editor.set_title(DEFAULT_TITLE)
        self.editor.set_kernel(self._bank[self._bank_tabs.currentIndex()])
        self._show_bank_controls(True)
        self._update_views()

    def _on_tools_accuracy_requested(self):
        if self._test_data is None:
            self.tools.set_accuracy_text(
                "No test set loaded yet: open an MNIST folder first.")
            return
        layer_index, filter_index, _ = self._filter
        weight, bias = self._learned[(layer_index, filter_index)]
        # Private copies: the measurement never reads weights the worker is writing.
        now = with_filter(self._model, layer_index, filter_index,
                          *conv_filter(self._model, layer_index, filter_index))
        learned = with_filter(self._model, layer_index, filter_index, weight, bias)
        x, y = self._test_data
        self.tools.set_busy(True)
        self.tools.set_accuracy_text(f"Measuring on {len(x):,} test images…")
        # What the result is about: it is shown only if this is still on screen.
        key = (self._model_version, layer_index, filter_index)
        task = BackgroundTask(
            lambda report: (evaluate(now, x, y)["accuracy"],
                            evaluate(learned, x, y)["accuracy"], len(x)),
            self)
        task.succeeded.connect(
            lambda result: self._on_measurer_succeeded(key, result))
        task.failed.connect(lambda message: self._on_measurer_failed(key, message))
        task.finished.connect(lambda: self._on_measurer_finished(task))
        self._measuring.append(task)
        task.start()

    def _measured_key(self):
        """(model version, layer, filter) of the filter on show, or None."""
        if self._filter is None:
            return None
        return (self._model_version, *self._filter[:2])

    def _on_measurer_succeeded(self, key, result):
        # A new model (or another filter) came in meanwhile: the figures are about
        # something no longer on screen.
        if key != self._measured_key():
            return
        now, learned, count = result
        self.tools.set_accuracy_text(
            f"Test accuracy on {count:,} images: <b>{now:.1%}</b> now, {learned:.1%} "
            f"with the learned filter (now − learned = {100 * (now - learned):+.1f} "
            "points)."
        )

    def _on_measurer_failed(self, key, message):
        if key == self._measured_key():
            self.tools.set_accuracy_text(f"Could not measure: {message}")

    def _on_measurer_finished(self, task):
        task.wait()
        if task in self._measuring:
            self._measuring.remove(task)
        self.tools.set_busy(self.is_measuring())

    def _on_conv_view_cell_clicked(self, row, col):
        self.step.show_output_cell(CONV, row, col)

    def _on_relu_view_cell_clicked(self, row, col):
        self.step.show_output_cell(CONV, row, col)

    def _on_pool_view_cell_clicked(self, row, col):
        self.step.show_output_cell(POOL, row, col)

    def _on_step_step_changed(self, step):
        if step.stage == CONV:
            self.input_view.set_window(step.top, step.left, step.size, step.size)
            self.conv_view.set_cell(step.out_row, step.out_col)
            self.relu_view.set_window(0, 0, 0, 0)
            self.pool_view.set_cell(0, 0, 0, 0)
        else:
            self.input_view.set_window(0, 0, 0, 0)
            self.conv_view.set_cell(0, 0, 0, 0)
            self.relu_view.set_window(step.top, step.left, step.size, step.size)
            self.pool_view.set_cell(step.out_row, step.out_col)

    # Work.

    def _apply(self, command):
        """Run an edit on the GUI model now and on the live model through the runner."""
        command(self._model)
        if self._runner is not None:
            self._runner(command)
        self._update_probabilities()
        self.model_edited.emit()

    def _show_open_channel(self):
        """Load the open filter's channel into the editor and refresh the views."""
        layer_index, filter_index, channel = self._filter
        weight, _ = conv_filter(self._model, layer_index, filter_index)
        self.editor.set_kernel(weight[channel])
        self._update_views()

    def _forget_cached(self):
        self._below = None
        self._learned_probs = None

    def _update_probabilities(self):
        if self._filter is None or self._image is None or self._model is None:
            return
        if self._learned_probs is None:
            layer_index, filter_index, _ = self._filter
            weight, bias = self._learned[(layer_index, filter_index)]
            learned = with_filter(self._model, layer_index, filter_index, weight, bias)
            self._learned_probs = _probabilities(learned, self._image)
        self.tools.set_probabilities(self._learned_probs,
                                     _probabilities(self._model, self._image))

    def _view_input(self):
        """The 2-D picture the kernel slides over, the bias to add, and a title."""
        image = self._image if self._image is not None else np.zeros((28, 28))
        if self._filter is not None:
            layer_index, filter_index, channel = self._filter
            _, bias = conv_filter(self._model, layer_index, filter_index)
            bias = 0.0 if bias is None else float(bias)
            if layer_index == 0:
                return image, bias, "Padded input"
            # A deeper filter sees the feature maps of the layer below, not the digit.
            if self._below is None:
                dtype = self._model.parameters()[0].data.dtype
                below = self._model.activations(image[None, None].astype(dtype))
                self._below = below[layer_index - 1][0, channel].astype(np.float64)
            return (self._below, bias,
                    f"Input: channel {channel} of layer {layer_index - 1}")
        factor = self._input_size.currentData()
        n = image.shape[0] // factor
        # (n, factor, n, factor): average each factor x factor block of pixels.
        small = image[:n * factor, :n * factor].reshape(n, factor, n, factor)
        title = ("Padded input" if self._image is not None
                 else "Padded input (draw a digit)")
        return small.mean(axis=(1, 3)), 0.0, title

    def _conv_title(self):
        """A deep filter reads many channels; the view shows one channel's share."""
        if self._filter is not None:
            layer_index, _, channel = self._filter
            if self._model.layers[layer_index].in_channels > 1:
                return f"Channel {channel}'s share (+ bias)"
        return "Convolution output"

    def _settings_problem(self, n, f):
        """(padding, None) for valid settings, else (None, explanation in words)."""
        padding = self._padding.currentData()
        stride = self._stride.value()
        if padding == SAME:
            if f % 2 == 0:
                return None, (
                    f"'same' padding needs an odd kernel: p = (f − 1) / 2 = "
                    f"{(f - 1) / 2:g} is not a whole number of pixels for f = {f}. "
                    "Pick an odd size or a number.")
            padding = (f - 1) // 2
        try:
            F.conv_output_size(n, f, stride, padding)
        except ValueError:
            return None, (
                f"The {f}×{f} kernel does not fit: the padded input is only "
                f"{n} + 2·{padding} = {n + 2 * padding} pixels wide, so "
                f"floor(({n} + 2·{padding} − {f}) / {stride}) + 1 < 1. Add padding, "
                "use a smaller kernel or a larger input.")
        return padding, None

    def _update_views(self):
        """Recompute every view; impossible settings keep the last valid views."""
        kernel = self.editor.kernel()
        image, bias, input_title = self._view_input()
        n, f = image.shape[0], kernel.shape[0]
        stride = self._stride.value()
        padding, problem = self._settings_problem(n, f)
        pool = self._pool.currentData()
        size, pool_stride = self._pool_size.value(), self._pool_stride.value()
        if problem is None:
            out_n = F.conv_output_size(n, f, stride, padding)
            if pool != POOL_NONE and size > out_n:
                problem = (
                    f"The {size}×{size} pooling window does not fit the "
                    f"{out_n}×{out_n} convolution output: "
                    f"floor(({out_n} − {size}) / {pool_stride}) + 1 < 1. Use a smaller "
                    "pool, a smaller stride or more padding.")
        self._problem.setText(
            "" if problem is None
            else problem + " (The views keep the last valid setting.)")
        if problem is not None:
            return
        x = image[None, None]  # (1, 1, n, n): one image, one channel
        conv, _ = F.conv2d_forward(x, kernel[None, None], np.array([bias]), stride,
                                   padding)
        relu, _ = F.relu_forward(conv)
        results = {"input": image, "input_title": input_title,
                   "conv_title": self._conv_title(),
                   "padded": zero_pad(x, padding)[0, 0],
                   "conv": conv[0, 0], "relu": relu[0, 0], "kernel": kernel,
                   "bias": bias, "stride": stride, "padding": padding,
                   "pool": pool, "pool_size": size, "pool_stride": pool_stride}
        if pool != POOL_NONE:
            results["max"] = F.max_pool2d_forward(relu, size, pool_stride)[0][0, 0]
            results["average"] = F.avg_pool2d_forward(relu, size, pool_stride)[0][0, 0]
        if self._filter is None and len(self._bank) > 1:
            w = np.stack(self._bank)[:, None]  # (F, 1, f, f): a layer of F filters
            results["bank"] = F.conv2d_forward(x, w, None, stride, padding)[0][0]
        self._results = results
        self._show(results)

    def _show(self, r):
        n, f = r["input"].shape[0], r["kernel"].shape[0]
        s, p = r["stride"], r["padding"]
        out_n = r["conv"].shape[0]
        padded_n = r["padded"].shape[0]
        covered = coverage(padded_n, f, s, out_n)
        self.input_view.set_title(r["input_title"])
        self.input_view.set_map(r["padded"])
        self.input_view.set_overlay(region_overlay(r["padded"].shape, p, covered))
        self.input_view.set_texts(
            f"{n}×{n} + 2·{p} = <b>{padded_n}×{padded_n}</b>",
            f"blue border: {p} ring(s) of zero padding" if p else "no padding (p = 0)")
        notes = [_unreached_note(covered, "Padded input")]
        levels = symmetric_levels(r["conv"], round_up=False)
        conv_formula = formula_text(n, p, f, s, out_n)
        self.conv_view.set_title(r["conv_title"])
        self.conv_view.set_map(r["conv"], levels)
        self.conv_view.set_texts(f"<b>{out_n}×{out_n}</b>: n = {n}, p = {p}, "
                                 f"f = {f}, s = {s}", conv_formula)
        self.relu_view.set_map(r["relu"], levels)
        self.relu_view.set_texts(
            f"<b>{out_n}×{out_n}</b>: ReLU keeps the shape",
            "max(0, x): blue (negative) cells turn white (0).")
        pool = r["pool"]
        self._set_map_shown(self.pool_view, pool != POOL_NONE)
        self._set_map_shown(self.pool_avg_view,
                            pool != POOL_NONE and self._side_by_side.isChecked())
        if pool == POOL_NONE:
            self.relu_view.set_overlay(None)
            self.step.clear_pool_problem()
        else:
            size, ps = r["pool_size"], r["pool_stride"]
            first = POOL_MAX if self._side_by_side.isChecked() else pool
            pooled = r[first]
            pool_n = pooled.shape[0]
            pool_covered = coverage(out_n, size, ps, pool_n)
            self.relu_view.set_overlay(region_overlay((out_n, out_n), 0, pool_covered))
            notes.append(_unreached_note(pool_covered, "ReLU output, under the pool"))
            text = f"<b>{pool_n}×{pool_n}</b>: pool k = {size}, s = {ps}"
            formula = formula_text(out_n, 0, size, ps, pool_n)
            self.pool_view.set_map(pooled, levels)
            self.pool_view.set_title(
                "Max pooling" if first == POOL_MAX else "Average pooling")
            self.pool_view.set_texts(text, formula)
            if self._side_by_side.isChecked():
                self.pool_avg_view.set_map(r["average"], levels)
                self.pool_avg_view.set_texts(text, formula)
            self.step.set_pool_problem(r["relu"], size, ps,
                                       "max" if first == POOL_MAX else "average",
                                       pool_n, pool_n)
        self.step.set_conv_problem(r["padded"], r["kernel"], r["bias"], s, out_n, out_n)
        self._show_bank(r.get("bank"), conv_formula)
        self._reflow_maps()
        note = " ".join(n for n in notes if n)
        self._notes.setText(note)
        self._notes.setVisible(bool(note))

    def _set_map_shown(self, view, shown):
        if shown:
            self._shown_maps.add(view)
        else:
            self._shown_maps.discard(view)

    def _show_bank(self, bank, formula):
        """The filter bank's maps side by side, or nothing for a single kernel."""
        self._set_map_shown(self.bank_view, bank is not None)
        if bank is None:
            return
        count, out_n = bank.shape[0], bank.shape[1]
        # A NaN column between two maps is drawn transparent: it separates them.
        mosaic = np.full((out_n, count * (out_n + 1) - 1), np.nan)
        for i, fmap in enumerate(bank):
            mosaic[:, i * (out_n + 1):i * (out_n + 1) + out_n] = fmap
        self.bank_view.set_map(mosaic)
        self.bank_view.set_texts(
            f"<b>{count} × {out_n}×{out_n}</b>: one map per kernel, kernel 1 on the "
            "left", formula)

