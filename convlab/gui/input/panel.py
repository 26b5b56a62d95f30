"""InputPanel: the canvas, the 28x28 image the network sees, and a test-image picker."""

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common.qimage import array_to_pixmap
from convlab.gui.common.widgets import spin_box
from convlab.gui.input.canvas import DrawingCanvas

PREVIEW_SIZE = 112  # 28 x 4: each input pixel becomes a visible 4x4 block


class InputPanel(QWidget):
    """The left column: where the input digit comes from and what the network gets."""

    image_changed = pyqtSignal(object)  # the canvas picture, (280, 280) float32
    sample_requested = pyqtSignal(int)  # index into the test set
    random_sample_requested = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("InputPanel")
        self._preview_array = None

        self.canvas = DrawingCanvas()
        self.canvas.image_changed.connect(self.image_changed)

        self.brush_slider = QSlider(Qt.Horizontal)
        self.brush_slider.setRange(6, 40)
        self.brush_slider.setValue(int(self.canvas.brush_width()))
        self.brush_slider.setAccessibleName("Brush thickness")
        self.brush_slider.setToolTip(
            "Brush thickness in canvas pixels. The digit is shrunk about ten times "
            "before the network sees it, so a thin line here becomes a faint one-pixel "
            "line there; MNIST strokes are two to three pixels wide."
        )
        self.brush_slider.valueChanged.connect(self._on_brush_slider_value_changed)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setAccessibleName("Clear canvas")
        self.clear_button.setToolTip("Wipe the canvas and start a new digit (Delete).")
        self.clear_button.clicked.connect(self.canvas.clear)
        self.undo_button = QPushButton("Undo stroke")
        self.undo_button.setAccessibleName("Undo stroke")
        self.undo_button.setToolTip(
            "Take back the last stroke (Ctrl+Z) and watch how the prediction changes "
            "without it."
        )
        self.undo_button.clicked.connect(self.canvas.undo_stroke)

        self.preview = QLabel()
        self.preview.setObjectName("Preview")
        self.preview.setFixedSize(PREVIEW_SIZE, PREVIEW_SIZE)
        self.preview.setAlignment(Qt.AlignCenter)
        self.preview.setAccessibleName("Network input, 28 by 28 pixels")
        self.preview.setToolTip(
            "Exactly what the network receives: 28x28 numbers between 0 (black) and 1 "
            "(white). Your drawing was cropped to its ink, scaled so the longer side "
            "is 20 pixels and shifted so its centre of mass sits in the middle, as in "
            "MNIST."
        )
        self._source = QLabel("Draw a digit")
        self._source.setObjectName("InputSource")
        self._source.setWordWrap(True)
        self._source.setAccessibleName("Where the input comes from")

        self.sample_spin = spin_box(
            0, 0, 0, "Test image number",
            "Pick an image from the test set by its number. Test images were never "
            "used for training, so they show how the network does on new handwriting.",
        )
        self.show_sample_button = QPushButton("Show")
        self.show_sample_button.setAccessibleName("Show test image")
        self.show_sample_button.setToolTip("Make the chosen test image the input.")
        self.show_sample_button.clicked.connect(self._on_show_sample_button_clicked)
        self.random_button = QPushButton("Random")
        self.random_button.setAccessibleName("Random test image")
        self.random_button.setToolTip(
            "Make a random test image the input, to compare real handwriting with "
            "yours."
        )
        self.random_button.clicked.connect(self.random_sample_requested)

        draw_box = QGroupBox("Draw")
        draw = QVBoxLayout(draw_box)
        draw.addWidget(self.canvas, 0, Qt.AlignHCenter)
        brush_row = QHBoxLayout()
        brush_label = QLabel("Brush")
        brush_label.setBuddy(self.brush_slider)
        brush_row.addWidget(brush_label)
        brush_row.addWidget(self.brush_slider, 1)
        brush_row.addWidget(self.undo_button)
        brush_row.addWidget(self.clear_button)
        draw.addLayout(brush_row)

        legend = QWidget()
        legend.setFixedWidth(PREVIEW_SIZE)
        legend.setToolTip("Colour legend: black is 0 (no ink), white is 1 (full ink).")
        bar = QLabel()
        bar.setObjectName("GreyLegend")
        bar.setFixedHeight(10)
        row = QHBoxLayout(legend)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(3)
        row.addWidget(QLabel("0"))
        row.addWidget(bar, 1)
        row.addWidget(QLabel("1"))
        seen_box = QGroupBox("What the network sees")
        seen = QGridLayout(seen_box)
        seen.addWidget(self.preview, 0, 0)
        seen.addWidget(legend, 1, 0)
        seen.addWidget(self._source, 0, 1, 2, 1)
        seen.setColumnStretch(1, 1)

        sample_box = QGroupBox("Or take a test image")
        sample = QHBoxLayout(sample_box)
        sample.addWidget(self.sample_spin, 1)
        sample.addWidget(self.show_sample_button)
        sample.addWidget(self.random_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(draw_box)
        layout.addWidget(seen_box)
        layout.addWidget(sample_box)
        layout.addStretch(1)
        self.set_sample_count(0)
        self.set_preview(None)

    def place_below_canvas(self, widget):
        """Show widget right under the drawing (the window puts the prediction here
        when it is too narrow for a column of its own)."""
        self.layout().insertWidget(1, widget)

    def preview_array(self):
        """The 28x28 image shown as the network's input, or None."""
        return None if self._preview_array is None else self._preview_array.copy()

    def set_preview(self, image):
        """Show the (28, 28) network input in [0, 1], or an empty frame for None."""
        self._preview_array = None if image is None else image.copy()
        if image is None:
            self.preview.clear()
            self.preview.setText("empty")
            return
        self.preview.setPixmap(array_to_pixmap(image, PREVIEW_SIZE))

    def set_source_text(self, text):
        """Say where the current input came from (drawing, test image n, ...)."""
        self._source.setText(text)

    def set_sample_count(self, count):
        """Enable the picker for a test set of count images (0 = no dataset)."""
        enabled = count > 0
        self.sample_spin.setRange(0, max(count - 1, 0))
        for widget in (self.sample_spin, self.show_sample_button, self.random_button):
            widget.setEnabled(enabled)
        if not enabled:
            self.sample_spin.setToolTip(
                "No dataset loaded yet: use File > Open dataset folder or File > "
                "Download MNIST to pick test images here."
            )

    def show_sample_index(self, index):
        """Put index in the picker without asking for that sample again."""
        self.sample_spin.blockSignals(True)
        self.sample_spin.setValue(index)
        self.sample_spin.blockSignals(False)

    def _on_brush_slider_value_changed(self, value):
        self.canvas.set_brush_width(value)

    def _on_show_sample_button_clicked(self):
        self.sample_requested.emit(self.sample_spin.value())
