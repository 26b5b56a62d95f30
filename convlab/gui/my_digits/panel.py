"""MyDigitsPanel: the My digits tab's widgets; MyDigitsPresenter drives them.

It shows the drawing to add, the gallery of the student's digits, what went wrong
with their file, and the fine-tuning settings, progress and before/after table, as
the presenter tells it (the show_* slots). It decides nothing itself: each click
becomes one of the signals below.

Signals:
    label_chosen(int)             add the drawing as this digit (a label button)
    remove_requested(list)        remove the digits at these gallery positions
    set_aside_requested()         put the unreadable file aside and start anew
    reload_requested()            read the file again
    save_again_requested()        try saving once more
    tune_requested(int, float)    fine-tune for these epochs at this learning rate
    shown()                       the panel came on screen
"""

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common import dialogs
from convlab.gui.common.qimage import array_to_pixmap
from convlab.gui.common.widgets import combo, spin_box
from convlab.gui.my_digits.gallery import MyDigitsGalleryView
from convlab.lab.my_digits import MY_SHARE, TEST_SUBSET, percent

PREVIEW = 56
STEP_SIZES = (("gentle (0.0001)", 1e-4), ("medium (0.0003)", 3e-4),
              ("strong (0.001)", 1e-3))
DEFAULT_STEP = 1
DEFAULT_EPOCHS = 3
MAX_EPOCHS = 30
PROGRESS_STEPS = 1000  # the progress bar's range
ROWS = ("mine", "test")
COLUMNS = ("before", "after")


ZERO_WIDTH = "\u200b"  # an invisible place where a line may break


class MyDigitsPanel(QWidget):
    """Add the current drawing with a label, see the gallery, fine-tune on it."""

    label_chosen = pyqtSignal(int)
    remove_requested = pyqtSignal(list)
    set_aside_requested = pyqtSignal()
    reload_requested = pyqtSignal()
    save_again_requested = pyqtSignal()
    tune_requested = pyqtSignal(int, float)
    shown = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("MyDigitsPanel")
        self._build()
        self.show_file_warning(None, unreadable=False)

    def _build(self):
        add_box = QGroupBox("Add your drawing")
        self.preview = QLabel()
        self.preview.setObjectName("Preview")
        self.preview.setFixedSize(PREVIEW + 2, PREVIEW + 2)
        self.preview.setAlignment(Qt.AlignCenter)
        self.preview.setAccessibleName("Drawing to add")
        self.preview.setToolTip(
            "Your drawing as the network sees it: cropped, scaled and centred in 28 x "
            "28 pixels like MNIST. This is exactly what gets stored."
        )
        hint = QLabel("Draw a digit on the canvas, then press its key (0-9) or click "
                      "the digit it is. Each labelled drawing is one example the "
                      "network can learn from.")
        hint.setWordWrap(True)
        self.label_buttons = []
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for digit in range(10):
            button = QPushButton(str(digit))
            button.setAccessibleName(f"Add drawing as {digit}")
            button.setToolTip(
                f"Add the drawing on the canvas to My digits as a {digit} (or press "
                f"{digit} on the keyboard). A drawing with its correct answer is a "
                "labelled example: the only thing a network learns from."
            )
            button.setMinimumWidth(34)
            button.clicked.connect(
                lambda _=False, d=digit: self.label_chosen.emit(d))
            buttons.addWidget(button)
            self.label_buttons.append(button)
        buttons.addStretch(1)
        self.add_status = QLabel()
        self.add_status.setObjectName("Caption")
        self.add_status.setWordWrap(True)
        self.add_status.setAccessibleName("What happened to the last drawing")
        right = QVBoxLayout()
        right.addWidget(hint)
        right.addLayout(buttons)
        right.addWidget(self.add_status)
        row = QHBoxLayout(add_box)
        row.addWidget(self.preview, 0, Qt.AlignTop)
        row.addLayout(right, 1)

        self.warning = QFrame()
        self.warning.setObjectName("MyDigitsWarning")
        self.warning.setStyleSheet(
            "#MyDigitsWarning { background: #fff4e0; border: 1px solid #e0a040;"
            " border-radius: 4px; }")
        self.warning_text = QLabel()
        self.warning_text.setWordWrap(True)
        self.warning_text.setAccessibleName("Problem with the My digits file")
        self.start_new_button = QPushButton("Put the damaged file aside and start anew")
        self.start_new_button.setAccessibleName("Put the damaged file aside")
        self.start_new_button.setToolTip(
            "Rename the unreadable file to my_digits.unreadable-N.npz (it is never "
            "deleted, so nothing is lost) and save your digits to a fresh file."
        )
        self.start_new_button.clicked.connect(self.set_aside_requested)
        self.reload_button = QPushButton("Read the file again")
        self.reload_button.setAccessibleName("Read the My digits file again")
        self.reload_button.setToolTip(
            "Try the file once more, for example after restoring a backup copy. The "
            "digits you added meanwhile are kept and added to those in the file."
        )
        self.reload_button.clicked.connect(self.reload_requested)
        self.save_again_button = QPushButton("Try saving again")
        self.save_again_button.setAccessibleName("Try saving My digits again")
        self.save_again_button.setToolTip(
            "Save your digits once more, for example after freeing disk space or "
            "making the folder writable."
        )
        self.save_again_button.clicked.connect(self.save_again_requested)
        fixes = QHBoxLayout()
        for button in (self.start_new_button, self.reload_button,
                       self.save_again_button):
            fixes.addWidget(button)
        fixes.addStretch(1)
        warning_layout = QVBoxLayout(self.warning)
        warning_layout.addWidget(self.warning_text)
        warning_layout.addLayout(fixes)

        self.gallery_box = QGroupBox("My digits")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Your digits the network reads right")
        self.gallery = MyDigitsGalleryView()
        self.gallery.remove_requested.connect(self._on_gallery_remove_requested)
        self.gallery.itemSelectionChanged.connect(
            self._on_gallery_item_selection_changed)
        self.remove_button = QPushButton("Remove selected")
        self.remove_button.setAccessibleName("Remove selected digits")
        self.remove_button.setToolTip(
            "Delete the selected drawings from My digits (also the Delete key). Remove "
            "a drawing with the wrong label: a network trained on wrong answers learns "
            "wrong answers."
        )
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        self.location = QLabel()
        self.location.setObjectName("Caption")
        self.location.setAccessibleName("Where My digits are kept")
        # A long path breaks after its slashes rather than widen the tab.
        self.location.setWordWrap(True)
        self._location_tip = (
            "My digits are one file in your user data folder, rewritten in one step "
            "each time you add or remove a drawing, so a crash never leaves half a "
            "file.")
        self.location.setToolTip(self._location_tip)
        under = QHBoxLayout()
        under.addWidget(self.remove_button)
        under.addWidget(self.location, 1)
        gallery_layout = QVBoxLayout(self.gallery_box)
        gallery_layout.addWidget(self.summary)
        gallery_layout.addWidget(self.gallery, 1)
        gallery_layout.addLayout(under)

        tune_box = QGroupBox("Fine-tune the network on My digits")
        explain = QLabel(
            "Trains the current network a few more epochs on your digits mixed with "
            f"base digits ({MY_SHARE:.0%} of the images are yours). Small steps adjust "
            "what it knows instead of starting over; the test-set row shows whether "
            "it forgot anything. The curves are in the Training tab."
        )
        explain.setWordWrap(True)
        self.epochs = spin_box(
            1, MAX_EPOCHS, DEFAULT_EPOCHS, "Fine-tuning epochs",
            "How many passes over the mixed images. More epochs fit your digits "
            "better but risk overfitting: learning these exact drawings by heart.",
        )
        self.step_size = combo(
            STEP_SIZES, "Fine-tuning learning rate",
            "The learning rate: how far each step moves the weights. Fine-tuning "
            "uses smaller steps than training from scratch, so the network adjusts "
            "to your handwriting without losing what it learned before.",
            current=DEFAULT_STEP,
        )
        self.fine_tune_button = QPushButton("Fine-tune")
        self.fine_tune_button.setAccessibleName("Fine-tune on My digits")
        self.fine_tune_button.setToolTip(
            "Train the current network a little more on your digits plus the base "
            "digits, in the background, and compare its accuracy before and after."
        )
        self.fine_tune_button.clicked.connect(self._on_fine_tune_button_clicked)
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setAccessibleName("Fine-tuning progress")
        self.progress.setValue(0)
        self.progress.setFormat("not started")
        self.progress.setTextVisible(True)
        self.progress.setAlignment(Qt.AlignCenter)
        settings = QHBoxLayout()
        settings.addWidget(QLabel("Epochs"))
        settings.addWidget(self.epochs)
        settings.addSpacing(8)
        settings.addWidget(QLabel("Step size"))
        settings.addWidget(self.step_size)
        settings.addSpacing(8)
        settings.addWidget(self.fine_tune_button)
        settings.addWidget(self.progress, 1)
        self.tune_status = QLabel()
        self.tune_status.setObjectName("Caption")
        self.tune_status.setWordWrap(True)
        self.tune_status.setAccessibleName("Fine-tuning status")

        results = QGridLayout()
        results.setHorizontalSpacing(18)
        for column, title in enumerate(("", "before", "after"), start=0):
            header = QLabel(f"<b>{title}</b>")
            results.addWidget(header, 0, column)
        row_titles = {"mine": "Your digits",
                      "test": f"Test set (first {TEST_SUBSET:,} images)"}
        row_tips = {
            "mine": "Share of your own drawings the network reads right. Fine-tuning "
                    "should raise it.",
            "test": "Share of MNIST test images (never trained on) read right. If it "
                    "drops a lot, the network forgot general digits while learning "
                    "yours.",
        }
        self.result_labels = {}
        for r, row_key in enumerate(ROWS, start=1):
            title = QLabel(row_titles[row_key])
            title.setToolTip(row_tips[row_key])
            results.addWidget(title, r, 0)
            for c, column_key in enumerate(COLUMNS, start=1):
                value = QLabel(percent(None))
                value.setAccessibleName(f"{row_titles[row_key]} {column_key}")
                value.setToolTip(row_tips[row_key])
                results.addWidget(value, r, c)
                self.result_labels[row_key, column_key] = value
        results.setColumnStretch(3, 1)

        tune_layout = QVBoxLayout(tune_box)
        tune_layout.addWidget(explain)
        tune_layout.addLayout(settings)
        tune_layout.addWidget(self.tune_status)
        tune_layout.addLayout(results)

        layout = QVBoxLayout(self)
        layout.addWidget(add_box)
        layout.addWidget(self.warning)
        layout.addWidget(self.gallery_box, 1)
        layout.addWidget(tune_box)

    # What the presenter shows

    def show_preview(self, image):
        """The drawing that a label would add, (28, 28) in [0, 1], or None."""
        if image is None:
            self.preview.clear()
            self.preview.setText("empty")
        else:
            self.preview.setPixmap(array_to_pixmap(image, PREVIEW))

    def show_add_status(self, text):
        """What happened to the last drawing."""
        self.add_status.setText(text)

    def show_location(self, path):
        """The file My digits are kept in."""
        # Zero-width spaces after the slashes let the label wrap there.
        shown = str(path)
        for slash in "/\\":
            shown = shown.replace(slash, slash + ZERO_WIDTH)
        self.location.setText(f"Kept in {shown}")
        self.location.setToolTip(f"{path}\n\n{self._location_tip}")

    def show_digits(self, images, labels, predictions):
        """The gallery: images (N, 28, 28), labels (N,), predictions (N,) or None."""
        self.gallery.set_digits(images, labels, predictions)
        self._on_gallery_item_selection_changed()

    def scroll_to_newest(self):
        """Bring the last thumbnail (the digit just added) into view."""
        self.gallery.scrollToBottom()

    def show_summary(self, count, text):
        """How many digits there are and what the network makes of them."""
        self.gallery_box.setTitle(f"My digits ({count})")
        self.summary.setText(text)

    def show_file_warning(self, text, unreadable):
        """Why My digits cannot be read or saved (None: all is well) with the fixes
        that apply: set aside or read again for an unreadable file, else save again."""
        self.warning.setVisible(text is not None)
        if text is not None:
            self.warning_text.setText(text)
        self.start_new_button.setVisible(unreadable)
        self.reload_button.setVisible(unreadable)
        self.save_again_button.setVisible(text is not None and not unreadable)

    def show_tune_state(self, enabled, hint):
        """Whether Fine-tune can be pressed, and what to know about it now."""
        self.fine_tune_button.setEnabled(enabled)
        self.tune_status.setText(hint)

    def show_progress(self, fraction, text):
        """The fine-tuning run's progress, 0..1; %p% in text is the percentage."""
        self.progress.setValue(round(PROGRESS_STEPS * fraction))
        self.progress.setFormat(text)

    def clear_results(self):
        """Empty the before/after table."""
        for row in ROWS:
            for column in COLUMNS:
                self.show_result(row, column, percent(None))

    def show_result(self, row, column, text):
        """Show text for row "mine"|"test" and column "before"|"after"."""
        self.result_labels[row, column].setText(text)

    def show_problem(self, kind, title, text):
        """A message box about My digits' file ("error" or "warning")."""
        dialogs.show_message(self, kind, title, text)

    # Slots

    def showEvent(self, event):
        super().showEvent(event)
        self.shown.emit()

    def _on_gallery_remove_requested(self):
        self.remove_requested.emit(self.gallery.selected_indices())

    def _on_remove_button_clicked(self):
        self.remove_requested.emit(self.gallery.selected_indices())

    def _on_gallery_item_selection_changed(self):
        self.remove_button.setEnabled(bool(self.gallery.selectedItems()))

    def _on_fine_tune_button_clicked(self):
        self.tune_requested.emit(self.epochs.value(), self.step_size.currentData())
