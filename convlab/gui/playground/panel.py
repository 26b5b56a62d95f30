"""PlaygroundPanel: the Playground tab, where a student's kernel meets their own digit.

Setter slots for the controller:
    set_input_image(image)      current input, float (28, 28) in [0, 1], or None
    set_model(model)            the nn.Sequential the GUI shows (GUI thread only)
    set_command_runner(runner)  runner(fn) sends fn(model) to the live model
                                (TrainingSession.submit); None = GUI model only
    open_filter(layer_index, filter_index)   edit a trained conv filter
                                (layer_index indexes model.layers)
    set_test_data(x, y)         for "Measure test accuracy now"
    set_learning_rate(lr)       the Training tab's, for the one-step view
    set_kernel(kernel)          show a (f, f) kernel as if the student typed it
    refresh_model()             the set_model model's weights changed (training
                                snapshot): re-read the open filter
    shutdown()                  wait for a running accuracy measurement
    is_measuring()              True while "Measure test accuracy now" runs
Signal:
    model_edited()              a filter tweak changed the model given in set_model:
                                refresh the prediction and the feature maps

The input is the drawn digit (one channel) or, picked in self.source, a colour
picture: then self.colour (a ColourPlayground) takes the digit's views' place.
The numbers come from convlab.lab.pipeline; the settings are a PipelineControls
(self.controls), the maps a PipelineMaps (self.maps), the forward and backward
step-throughs self.step and self.backward (tabs of self.directions); a trained filter
is handled by a FilterPresenter (self.filters).
"""

import numpy as np
from PyQt5.QtCore import QSize, Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QBoxLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QScrollArea,
    QTabBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common.widgets import combo, teach
from convlab.gui.playground.backward_step import BackwardStepView
from convlab.gui.playground.colour_input import BUNDLED, DRAWING, OPENED
from convlab.gui.playground.colour_panel import ColourPlayground
from convlab.gui.playground.controls import PipelineControls
from convlab.gui.playground.filter_presenter import FilterPresenter
from convlab.gui.playground.filter_tools import FilterToolsPanel
from convlab.gui.playground.kernel_editor import DEFAULT_TITLE, KernelEditor
from convlab.gui.playground.maps import PipelineMaps, first_pool
from convlab.gui.playground.setting_note import SettingNote
from convlab.gui.playground.step_through import StepThroughView
from convlab.lab.backward_steps import network_dout
from convlab.lab.pipeline import kernel_pipeline, shrink
from convlab.lab.presets import resize_centred

BANK_SIZE = 4
MAP_WIDTH = 200  # screen pixels one map needs: the maps go in rows of what fits
WIDE_MAPS = 3  # maps a row beside the editor that make a left column worth it
SETTINGS_WIDTH = 230  # the stride/padding form beside the editor, at its narrowest
QWIDGETSIZE_MAX = (1 << 24) - 1


class PlaygroundPanel(QWidget):
    """Kernel editor, stride/padding/pooling controls, live views, step-through."""

    model_edited = pyqtSignal()

    def __init__(self, rng=None, parent=None):
        super().__init__(parent)
        self._image = None
        self._results = None  # the last valid KernelPipeline, shown in every view
        self._model = None
        self._network_filter = None  # (layer_index, filter_index) when one is open

        self.editor = KernelEditor(rng=rng)
        self.editor.kernel_edited.connect(self._on_editor_kernel_edited)
        # The student's own kernels: a small filter bank, like one conv layer.
        self._bank = [self.editor.kernel()]
        self._bank_tabs = teach(
            QTabBar(), "Filter bank kernels",
            "A conv layer is a bank of kernels, each making its own feature map. "
            f"Keep up to {BANK_SIZE} kernels here; the 'Filter bank' view shows all "
            "their outputs side by side, as a layer's output channels.")
        self._bank_tabs.addTab("K0")
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
        self.editor.weight_clicked.connect(self.filters.check_gradient)

        self.controls = PipelineControls()
        self.controls.changed.connect(self._on_controls_changed)
        self.maps = PipelineMaps()
        self.step = StepThroughView()
        # The step-through frames its window on the maps; a click on an output cell
        # walks it to the window that made that cell.
        self.step.step_changed.connect(self.maps.show_step)
        self.maps.cell_clicked.connect(self.step.show_output_cell)
        # The backward pass walks the same windows, sending the gradient back.
        self.backward = BackwardStepView()
        self.backward.step_changed.connect(self.maps.show_step)
        self.maps.cell_clicked.connect(self.backward.show_output_cell)
        self.directions = teach(
            QTabWidget(), "Forward or backward pass",
            "Forward: each window makes one output value. Backward: each output "
            "cell sends its gradient back to its window, building dW, db and dx.")
        self.directions.addTab(self.step, "Forward pass")
        self.directions.addTab(self.backward, "Backward pass")
        self.directions.currentChanged.connect(self._on_directions_current_changed)

        self.note = SettingNote()
        self.source = combo(
            (("drawn digit (1 channel)", None), ("colour drawing (3 channels)",
                                                 DRAWING),
             ("colour picture from a file (3 channels)", OPENED),
             ("bundled colour picture (3 channels)", BUNDLED)), "Playground input",
            "The digit has one channel, so a kernel is one 2-D grid. A colour "
            "picture has three (red, green, blue): the filter then has three slices, "
            "one per channel, and their partial maps add up to one output map.")
        self.source.currentIndexChanged.connect(self._on_source_current_index_changed)
        self.colour = ColourPlayground()
        self._layout_parts()
        self._update_views()

    def _layout_parts(self):
        """The note on top; the kernel editor and settings ("side"); the views.

        The editor is as wide as a 7x7 kernel needs and every message has its room
        reserved, so nothing moves when the kernel grows or an error appears.
        resizeEvent arranges the parts for the width (see _arrange).
        """
        kernel_box = QGroupBox("Kernel editor")
        kernel_layout = QVBoxLayout(kernel_box)
        bank_row = QHBoxLayout()
        bank_row.addWidget(self._bank_tabs, 1)
        bank_row.addWidget(self._add_kernel)
        bank_row.addWidget(self._remove_kernel)
        kernel_layout.addLayout(bank_row)
        kernel_layout.addWidget(self.editor)
        kernel_layout.addStretch(1)
        kernel_box.setFixedWidth(kernel_box.minimumSizeHint().width())
        tools_box = QGroupBox("Network filter")
        QVBoxLayout(tools_box).addWidget(self.tools)
        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_layout.addWidget(self.controls)
        settings_layout.addWidget(tools_box)
        settings_layout.addStretch(1)
        self._kernel_box, self._settings = kernel_box, settings
        self._side = QBoxLayout(QBoxLayout.TopToBottom)
        self._side.addWidget(kernel_box, 0, Qt.AlignTop)
        self._side.addWidget(settings, 1)
        step_box = QGroupBox("Step through the sliding window")
        QVBoxLayout(step_box).addWidget(self.directions)
        views = QVBoxLayout()
        views.addWidget(self.maps)
        views.addWidget(step_box)
        views.addStretch(1)
        self._body = QBoxLayout(QBoxLayout.LeftToRight)
        self._body.addLayout(self._side)
        self._body.addLayout(views, 1)
        # The digit's parts, hidden for a colour input (hidden, they take no room).
        self._digit_parts = (self.note, kernel_box, settings, self.maps, step_box)
        source_row = QHBoxLayout()
        source_row.addWidget(QLabel("Input:"))
        source_row.addWidget(self.source)
        source_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(source_row)
        layout.addWidget(self.note)
        layout.addLayout(self._body, 1)
        layout.addWidget(self.colour, 1)
        self.colour.hide()
        # The page's scroll area asks minimumSizeHint (below), not the layout: the
        # arrangement then follows the width instead of forcing it.
        layout.setSizeConstraint(QLayout.SetNoConstraint)
        self._arrangement = None
        self._arrange(self.width())

    def minimumSizeHint(self):
        # The narrowest arrangement: everything stacked, as wide as the kernel. The
        # height is what the wrapped labels need at the width the tab has now (the
        # page asks for no height-for-width of its own).
        # Preferred heights, not minimums: a map squeezed by a few pixels when the
        # step-through grows would be a map that moves.
        height = self.layout().sizeHint().height()
        if self.layout().hasHeightForWidth():
            height = max(height, self.layout().heightForWidth(self.width()))
        return QSize(self._narrowest(), height)

    def _narrowest(self):
        if self.colour.isVisibleTo(self):
            return self.colour.minimumSizeHint().width() + 4
        return max(self._kernel_box.width(), self._settings.minimumSizeHint().width(),
                   self.directions.minimumSizeHint().width()) + 8

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._arrange(event.size().width())

    def _arrange(self, width):
        """Wide: editor and settings in a column left of the views. Narrower: the
        editor and settings side by side above the views, or all stacked."""
        kernel_w = self._kernel_box.width()
        settings_w = max(self._settings.minimumSizeHint().width(), SETTINGS_WIDTH)
        if width - kernel_w >= WIDE_MAPS * MAP_WIDTH:
            arrangement, views_w = "column", width - kernel_w - 12
        elif width >= kernel_w + settings_w + 12:
            arrangement, views_w = "band", width - 4
        else:
            arrangement, views_w = "stack", width - 4
        if arrangement != self._arrangement:
            self._arrangement = arrangement
            column = arrangement == "column"
            self._body.setDirection(QBoxLayout.LeftToRight if column
                                    else QBoxLayout.TopToBottom)
            self._side.setDirection(QBoxLayout.LeftToRight if arrangement == "band"
                                    else QBoxLayout.TopToBottom)
            # In a column the settings are as wide as the editor above them.
            self._settings.setMaximumWidth(kernel_w if column else QWIDGETSIZE_MAX)
            self.updateGeometry()
        # A narrow window gets the maps in rows of two or three, not one long row.
        self.maps.set_columns(max(2, min(len(self.maps.views()), views_w // MAP_WIDTH)))

    def arrangement(self):
        """How the parts are arranged for the width: "column", "band" or "stack"."""
        return self._arrangement

    # Setters used by the controller and by tests.

    def set_input_image(self, image):
        """The current input: a (28, 28) float array in [0, 1], or None (blank)."""
        self._image = None if image is None else np.asarray(image, dtype=np.float64)
        self.filters.set_image(self._image)
        self._update_views()

    def set_model(self, model):
        """The model the GUI shows; a new one forgets open filters and saved values."""
        self._model = model
        self.filters.set_model(model)

    def set_command_runner(self, runner):
        """runner(fn) applies fn(model) to the live model (TrainingSession.submit)."""
        self.filters.set_command_runner(runner)

    def open_filter(self, layer_index, filter_index):
        """Open filter `filter_index` of the conv layer model.layers[layer_index]."""
        # Known before the presenter redraws the views, so the backward walk can use
        # the network's gradient at once.
        self._network_filter = (layer_index, filter_index)
        self.filters.open_filter(layer_index, filter_index)
        if not self.filters.is_open():
            self._network_filter = None

    def set_test_data(self, x, y):
        """Test images x (N, 1, 28, 28) and labels y (N,) for measuring accuracy."""
        self.filters.set_test_data(x, y)

    def set_learning_rate(self, lr):
        """The Training tab's learning rate, the one-step view's starting value."""
        self.filters.set_learning_rate(lr)

    def set_kernel(self, kernel):
        """Show kernel (f, f) in the editor and every view, as the student's edit."""
        self.editor.set_kernel(kernel)
        self._on_editor_kernel_edited(self.editor.kernel())

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

    def results(self):
        """The KernelPipeline shown in the views, or None when the kernel cannot fit
        (the views are then empty and say why)."""
        return self._results

    def problem_text(self):
        """Why the setting gives no output (or no pooled output), or ""."""
        return self.note.problem()

    def notes_text(self):
        """The sentences about rows and columns no window reaches, or ""."""
        return self.note.notes()

    # Slots.

    def _on_source_current_index_changed(self, _index):
        source = self.source.currentData()
        if source is not None:
            self.colour.set_source(source)
        for part in self._digit_parts:
            part.setVisible(source is None)
        self.colour.setVisible(source is not None)
        self.updateGeometry()

    def _on_controls_changed(self):
        self._update_views()

    def _on_directions_current_changed(self, index):
        # The maps frame the window of the walk in front.
        (self.step if index == 0 else self.backward).show_current()

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
            self._bank_tabs.setTabText(i, f"K{i}")
        self._bank_tabs.blockSignals(False)
        self._on_bank_tabs_current_changed(self._bank_tabs.currentIndex())
        self._add_kernel.setEnabled(True)
        self._remove_kernel.setEnabled(len(self._bank) > 1)

    def _on_add_kernel_clicked(self):
        self._bank.append(self.editor.kernel())
        self._bank_tabs.addTab(f"K{len(self._bank) - 1}")
        self._bank_tabs.setCurrentIndex(len(self._bank) - 1)
        self._add_kernel.setEnabled(len(self._bank) < BANK_SIZE)
        self._remove_kernel.setEnabled(True)

    def _show_bank_controls(self, shown):
        """Playground-only controls; a network filter has its own input and size."""
        for widget in (self._bank_tabs, self._add_kernel, self._remove_kernel):
            widget.setVisible(shown)
        self.controls.set_input_enabled(shown)

    def _on_filters_filter_opened(self, title, stride, padding):
        self.editor.set_size_locked(True)
        self._show_bank_controls(False)
        self.editor.set_title(f"Network filter: {title}")
        # Start from the layer's own stride and padding: the views then show what the
        # network computes (the student may still change them to explore).
        self.controls.show_layer_setting(stride, padding)

    def _on_filters_filter_closed(self):
        self._network_filter = None
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
        """Recompute every view from the editor's kernel and the controls.

        Whatever a setting leaves without values is shown empty with the reason,
        never the previous setting's maps: what is on screen is what is asked for.
        """
        image = self._image if self._image is not None else np.zeros((28, 28))
        settings = self.controls.settings()
        bank = None
        if self.filters.is_open():
            image, bias, input_title = self.filters.view_input(image)
            conv_title = self.filters.conv_title()
        else:
            image = shrink(image, settings.input_factor)
            bias, conv_title = 0.0, "Convolution output"
            input_title = ("Padded input" if self._image is not None
                           else "Padded input (draw a digit)")
            if len(self._bank) > 1:
                bank = np.stack(self._bank)  # (K, f, f)
        try:
            result = kernel_pipeline(
                image, self.editor.kernel(), bias, settings.stride, settings.padding,
                settings.pool, settings.pool_size, settings.pool_stride, bank)
        except ValueError as problem:
            self._show_problem(image, str(problem))
            return
        self._show_note(result.pool_problem, " ".join(result.notes))
        self._results = result
        side_by_side = self.controls.side_by_side()
        self.maps.show_pipeline(result, input_title, conv_title, side_by_side)
        if result.pool == "none" or result.pool_problem:
            self.step.clear_pool_problem()
        else:
            pool_n = result.max.shape[0]
            self.step.set_pool_problem(result.relu, result.pool_size,
                                       result.pool_stride,
                                       first_pool(result.pool, side_by_side), pool_n,
                                       pool_n)
        out_n = result.conv.shape[0]
        self.step.set_conv_problem(result.padded, result.kernel, result.bias,
                                   result.stride, out_n, out_n)
        self._update_backward(result, side_by_side)

    def _update_backward(self, result, side_by_side):
        """The backward walk of the same numbers, with the network's dout if open."""
        self.backward.set_network(
            self._network_gradient if self._network_filter is not None else None)
        if result.pool == "none" or result.pool_problem:
            self.backward.clear_pool_problem()
        else:
            self.backward.set_pool_problem(
                result.relu, result.pool_size, result.pool_stride,
                first_pool(result.pool, side_by_side), result.max.shape[0])
        self.backward.set_conv_problem(result.input, result.kernel, result.stride,
                                       result.padding, result.conv.shape[0])

    def _show_problem(self, image, text):
        """The kernel cannot fit: every view empties and says why."""
        self._results = None
        self._show_note(text, "")
        self.maps.show_problem(image)
        self.step.clear_problems(text)
        self.backward.clear_problems()

    def _show_note(self, problem, notes):
        """Say it above the tab; a new problem is scrolled into view."""
        new = problem and problem != self.note.problem()
        self.note.show_setting(problem, notes)
        page = self._page()
        if new and page is not None:
            page.ensureWidgetVisible(self.note)

    def _page(self):
        """The scroll area the tab sits in, if any."""
        widget = self.parentWidget()
        while widget is not None and not isinstance(widget, QScrollArea):
            widget = widget.parentWidget()
        return widget

    def _network_gradient(self, target):
        """dL/d(output) of the open network filter for the current digit."""
        image = self._image if self._image is not None else np.zeros((28, 28))
        return network_dout(self._model, image, *self._network_filter, target)
