"""ColourPlayground: the Playground on a colour picture, where a filter has depth.

The input has C = 3 channels (red, green, blue), so the filter has 3 slices: slice c
slides over channel c, in two directions only, and gives a partial map; the
partial maps are added up and the bias is added once, making one output map.

Parts: self.input (ColourInput), self.editor (DepthEditor), self.views
(ChannelViews), self.step (ColourStepView). Setter slots: set_source(source),
set_stride(s), set_padding(p). Queries: maps() (the lab.channels.PartialMaps on
show, or None), problem_text().
"""

from PyQt5.QtCore import QSize
from PyQt5.QtWidgets import (
    QBoxLayout,
    QFormLayout,
    QGroupBox,
    QLayout,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common.widgets import spin_box
from convlab.gui.playground.channel_views import ChannelViews
from convlab.gui.playground.colour_input import ColourInput
from convlab.gui.playground.colour_step import ColourStepView
from convlab.gui.playground.depth_editor import DepthEditor
from convlab.gui.playground.kernel_editor import ERROR_STYLE
from convlab.gui.playground.views import LinesLabel
from convlab.lab.channels import batch_shapes, partial_maps
from convlab.nn.reference import zero_pad

MAP_WIDTH = 200  # screen pixels one map needs, as in the digit's Playground


class ColourPlayground(QWidget):
    """Colour input, depth-aware filter, the channels' maps and the step-through."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._maps = None
        self.input = ColourInput()
        self.editor = DepthEditor()
        self.views = ChannelViews()
        self.step = ColourStepView()
        self._stride = spin_box(
            1, 3, 1, "Colour stride",
            "Stride s: how many pixels the filter jumps across or down. It never "
            "jumps between channels: it is as deep as the picture.")
        self._padding = spin_box(
            0, 2, 0, "Colour padding",
            "Padding p: rings of zeros around every channel alike.")
        self._problem = LinesLabel(2)
        self._problem.setStyleSheet(ERROR_STYLE)
        self._problem.setAccessibleName("Colour setting problem")
        # The layer's shapes: the filter's depth C matches the input's.
        self._shapes = LinesLabel(4)
        self._shapes.setAccessibleName("Colour layer shapes")
        self.input.image_changed.connect(self._on_input_image_changed)
        self.editor.filter_edited.connect(self._on_editor_filter_edited)
        self._stride.valueChanged.connect(self._on_setting_changed)
        self._padding.valueChanged.connect(self._on_setting_changed)
        self.step.step_changed.connect(self._on_step_step_changed)
        self.views.cell_clicked.connect(self.step.show_output_cell)
        self._lay_out()
        self._update()

    def _lay_out(self):
        input_box = QGroupBox("Colour input")
        input_layout = QVBoxLayout(input_box)
        input_layout.addWidget(self.input)
        settings = QFormLayout()
        settings.addRow("Stride", self._stride)
        settings.addRow("Padding", self._padding)
        input_layout.addLayout(settings)
        input_layout.addStretch(1)
        editor_box = QGroupBox("Colour filter: one slice per channel")
        editor_layout = QVBoxLayout(editor_box)
        editor_layout.addWidget(self.editor)
        editor_layout.addStretch(1)
        self._side_boxes = (input_box, editor_box)
        self._side = QBoxLayout(QBoxLayout.TopToBottom)
        self._side.addWidget(input_box)
        self._side.addWidget(editor_box)
        # The boxes keep their own height in a column beside the taller maps.
        self._side.addStretch(1)
        step_box = QGroupBox("Step through the colour filter")
        QVBoxLayout(step_box).addWidget(self.step)
        views = QVBoxLayout()
        views.addWidget(self._problem)
        views.addWidget(self._shapes)
        views.addWidget(self.views)
        views.addWidget(step_box)
        views.addStretch(1)
        self._body = QBoxLayout(QBoxLayout.LeftToRight, self)
        self._body.setContentsMargins(0, 0, 0, 0)
        self._body.addLayout(self._side)
        self._body.addLayout(views, 1)
        self._body.setSizeConstraint(QLayout.SetNoConstraint)
        self._arrangement = None

    def minimumSizeHint(self):
        height = self.layout().sizeHint().height()
        return QSize(max(box.minimumSizeHint().width() for box in self._side_boxes)
                     + 8, height)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._arrange(event.size().width())

    def _arrange(self, width):
        """Wide: input and filter in a column left of the maps; narrower: side by
        side above the maps; narrowest: all stacked."""
        side_w = max(box.minimumSizeHint().width() for box in self._side_boxes)
        both_w = sum(box.minimumSizeHint().width() for box in self._side_boxes) + 12
        if width - side_w >= 3 * MAP_WIDTH:
            arrangement, views_w = "column", width - side_w - 12
        elif width >= both_w:
            arrangement, views_w = "band", width
        else:
            arrangement, views_w = "stack", width
        if arrangement != self._arrangement:
            self._arrangement = arrangement
            self._body.setDirection(QBoxLayout.LeftToRight if arrangement == "column"
                                    else QBoxLayout.TopToBottom)
            self._side.setDirection(QBoxLayout.LeftToRight if arrangement == "band"
                                    else QBoxLayout.TopToBottom)
            self.updateGeometry()
        self.views.set_columns(views_w // MAP_WIDTH)

    def arrangement(self):
        """How the parts are arranged for the width: "column", "band" or "stack"."""
        return self._arrangement

    def set_source(self, source):
        """Where the picture comes from: colour_input.DRAWING, OPENED or BUNDLED."""
        self.input.set_source(source)

    def set_stride(self, stride):
        """The filter's stride (1..3)."""
        self._stride.setValue(stride)

    def set_padding(self, padding):
        """Rings of zero padding around every channel (0..2)."""
        self._padding.setValue(padding)

    def maps(self):
        """The lab.channels.PartialMaps on show, or None when the filter cannot fit."""
        return self._maps

    def problem_text(self):
        """Why the setting gives no output, or ""."""
        return self._problem.text()

    def shapes_text(self):
        """The layer's shape lines as shown, (N, C, H, W) * (F, C, kh, kw) -> ..."""
        return self._shapes.text()

    def _on_input_image_changed(self, _image):
        self._update()

    def _on_editor_filter_edited(self, _w, _b):
        self._update()

    def _on_setting_changed(self, _value):
        self._update()

    def _on_step_step_changed(self, step):
        self.views.show_window(*step)

    def _update(self):
        """Recompute every view from the picture, the filter and the settings."""
        x, w, b = self.input.image(), self.editor.weights(), self.editor.bias()
        stride, pad = self._stride.value(), self._padding.value()
        try:
            shapes = batch_shapes(1, *x.shape, 1, *w.shape[1:], stride, pad)
            maps = partial_maps(x, w, b, stride, pad)
        except ValueError as problem:
            self._maps = None
            self._problem.setText(f"No output: {problem}")
            self._shapes.setText("")
            self.views.show_problem("The red note above the maps says why.")
            self.step.clear_problem(str(problem))
            return
        self._maps = maps
        self._problem.setText("")
        self._shapes.setText("<br>".join(shapes.text()[:4]))
        padded = zero_pad(x[None], pad)[0]  # (C, H + 2p, W + 2p)
        self.views.show_maps(padded, maps, pad)
        self.step.set_problem(x, w, b, stride, pad, shapes.out_h, shapes.out_w)
