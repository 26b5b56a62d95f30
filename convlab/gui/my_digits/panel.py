"""MyDigitsPanel: label your own drawings, keep them, and fine-tune the network on them.

The controller (convlab/gui/controller.py) hosts it::

    panel.set_storage_folder(path)      # user data folder, holds my_digits.npz
    panel.set_model(view_model)         # the GUI's copy of the network
    panel.set_base_dataset(dataset)     # a sources.Dataset or None (built-in digits)
    panel.set_current_input(x)          # (28, 28) in [0, 1], or None when nothing drawn
    panel.add_current_input(label)      # the window's digit keys 0-9 call this
    session.running_changed.connect(panel.set_training_running)
    session.progress.connect(panel.set_training_progress)
    panel.fine_tune_requested.connect(
        lambda request: session.start_trainer(
            lambda: request.build_trainer(session.model)))
    window closing: panel.shutdown()    # joins the test-set measurement thread

Signals:
    fine_tune_requested(FineTuneRequest)   start it in the training session
    status_changed(str)                    what the last action did, for the status bar
"""

import numpy as np
from PyQt5.QtCore import Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import (
    QApplication,
    QComboBox,
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

from convlab.data.my_digits import MyDigits, MyDigitsError
from convlab.gui.common import dialogs
from convlab.gui.common.qimage import array_to_pixmap
from convlab.gui.common.tasks import BackgroundTask, TaskList
from convlab.gui.my_digits.fine_tune import (
    BATCH_SIZE,
    MY_SHARE,
    TEST_SUBSET,
    FineTuneRequest,
    copy_digits,
)
from convlab.gui.my_digits.gallery import MyDigitsGalleryView
from convlab.gui.training.session import clone_model
from convlab.train import TrainConfig, class_scores, evaluate

PREVIEW = 56
STEP_SIZES = (("gentle (0.0001)", 1e-4), ("medium (0.0003)", 3e-4),
              ("strong (0.001)", 1e-3))
DEFAULT_STEP = 1
DEFAULT_EPOCHS = 3
MAX_EPOCHS = 30
MARK_DELAY_MS = 150  # calls to refresh_predictions within this become one
ROWS = ("mine", "test")
COLUMNS = ("before", "after")


class MyDigitsPanel(QWidget):
    """Add the current drawing with a label, see the gallery, fine-tune on it."""

    fine_tune_requested = pyqtSignal(object)
    status_changed = pyqtSignal(str)

    def __init__(self, parent=None, seed=None):
        super().__init__(parent)
        self.setObjectName("MyDigitsPanel")
        self._store = None  # MyDigits once a folder is set
        self._predictions = []  # digit the model reads in each stored image
        self._model = None
        self._dataset = None
        self._input = None  # (28, 28) float32, or None when nothing is drawn
        self._load_error = None  # why the file could not be read (it is left alone)
        self._save_error = None  # why the last save failed (digits stay in memory)
        self._training = False  # a run of the training session is going
        self._fine_tune = None  # the FineTuneRequest of our run, while it goes
        self._tune_message = ""  # what the last fine-tune did
        self._run = 0  # counts fine-tunes: a late result of an old one is dropped
        self._tasks = TaskList()  # test-set measurements in the background
        self._rng = np.random.default_rng(seed)
        self._marks_stale = False  # the gallery's right/wrong marks need a new look
        self._mark_timer = QTimer(self)
        self._mark_timer.setSingleShot(True)
        self._mark_timer.setInterval(MARK_DELAY_MS)
        self._mark_timer.timeout.connect(self._on_mark_timer_timeout)
        self._build()
        app = QApplication.instance()
        if app is not None:
            # Never let Qt destroy a measuring thread at exit.
            app.aboutToQuit.connect(self.shutdown)
        self._update()

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
                lambda _=False, d=digit: self._on_label_button_clicked(d))
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
        self.start_new_button.clicked.connect(self._on_start_new_button_clicked)
        self.reload_button = QPushButton("Read the file again")
        self.reload_button.setAccessibleName("Read the My digits file again")
        self.reload_button.setToolTip(
            "Try the file once more, for example after restoring a backup copy. The "
            "digits you added meanwhile are kept and added to those in the file."
        )
        self.reload_button.clicked.connect(self._on_reload_button_clicked)
        self.save_again_button = QPushButton("Try saving again")
        self.save_again_button.setAccessibleName("Try saving My digits again")
        self.save_again_button.setToolTip(
            "Save your digits once more, for example after freeing disk space or "
            "making the folder writable."
        )
        self.save_again_button.clicked.connect(self._on_save_again_button_clicked)
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
        self.gallery.itemSelectionChanged.connect(self._update)
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
        self.location.setTextInteractionFlags(Qt.TextSelectableByMouse)
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
        self.epochs = QSpinBox()
        self.epochs.setRange(1, MAX_EPOCHS)
        self.epochs.setValue(DEFAULT_EPOCHS)
        self.epochs.setAccessibleName("Fine-tuning epochs")
        self.epochs.setToolTip(
            "How many passes over the mixed images. More epochs fit your digits "
            "better but risk overfitting: learning these exact drawings by heart."
        )
        self.step_size = QComboBox()
        for text, lr in STEP_SIZES:
            self.step_size.addItem(text, lr)
        self.step_size.setCurrentIndex(DEFAULT_STEP)
        self.step_size.setAccessibleName("Fine-tuning learning rate")
        self.step_size.setToolTip(
            "The learning rate: how far each step moves the weights. Fine-tuning "
            "uses smaller steps than training from scratch, so the network adjusts "
            "to your handwriting without losing what it learned before."
        )
        self.fine_tune_button = QPushButton("Fine-tune")
        self.fine_tune_button.setAccessibleName("Fine-tune on My digits")
        self.fine_tune_button.setToolTip(
            "Train the current network a little more on your digits plus the base "
            "digits, in the background, and compare its accuracy before and after."
        )
        self.fine_tune_button.clicked.connect(self._on_fine_tune_button_clicked)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
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
                value = QLabel("—")
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

    # Setter slots

    def set_storage_folder(self, folder):
        """Keep My digits in folder (my_digits.npz) and show the ones already there."""
        self._store = MyDigits(folder)
        self._save_error = None
        try:
            self._store.load()
            self._load_error = None
        except MyDigitsError as exc:
            # The store starts empty in memory and, having failed to load, will not
            # overwrite the file: we also do not save until the student chooses.
            self._load_error = str(exc)
            dialogs.show_message(
                self, "error", "My digits could not be read",
                f"{exc}\n\nThe file was not changed or deleted. New drawings are kept "
                "in memory until you choose what to do in the My digits tab.")
        self.location.setText(f"Kept in {self._store.path}")
        self.location.setToolTip(
            "My digits are one file in your user data folder, rewritten in one step "
            "each time you add or remove a drawing, so a crash never leaves half a "
            "file.")
        self._predictions = [None] * len(self._store)
        self._changed()
        self.refresh_predictions()

    def set_model(self, model):
        """The network whose answers the gallery marks (the GUI's copy); when only
        its weights change in place, call refresh_predictions() instead."""
        if self._fine_tune is not None:
            # A new network replaced the one being fine-tuned: its "after" would
            # compare two different networks.
            self._fine_tune = None
            self._tune_message = ("The network was replaced, so the fine-tuning "
                                  "comparison was abandoned.")
        self._model = model
        self.refresh_predictions()

    def set_base_dataset(self, dataset):
        """The digits mixed in when fine-tuning and used for the test-set row."""
        self._dataset = dataset
        self._update()

    def set_current_input(self, image):
        """The current preprocessed drawing (28, 28) in [0, 1], or None."""
        if image is None or not np.any(image):
            self._input = None
            self.preview.clear()
            self.preview.setText("empty")
        else:
            self._input = np.array(image, dtype=np.float32)
            self.preview.setPixmap(array_to_pixmap(self._input, PREVIEW))

    def set_training_running(self, running):
        """A training run started (True) or ended (False); ours or the student's."""
        self._training = bool(running)
        if running and self._fine_tune is not None:
            self.progress.setValue(0)
            self.progress.setFormat("starting…")
        if not running:
            # The controller copies the final weights into the GUI's model in its own
            # slot for the same event; look at the model once that has happened.
            QTimer.singleShot(0, self._on_training_ended)
        self._update()

    def refresh_predictions(self):
        """Mark the gallery again after the model's weights changed in place.

        Reading every drawing costs a forward pass each, so it waits until the panel
        is on screen and many calls in a row (kernel edits) become one.
        """
        self._marks_stale = True
        if self.isVisible():
            self._mark_timer.start()

    def showEvent(self, event):
        super().showEvent(event)
        if self._marks_stale:
            self._mark_timer.start()

    def set_training_progress(self, progress):
        """Show a TrainingProgress of our fine-tuning run in the progress bar."""
        if self._fine_tune is None:
            return
        self.progress.setValue(round(1000 * progress.fraction))
        self.progress.setFormat(f"%p%  step {progress.step}/{progress.total_steps}  "
                                f"loss {progress.losses[-1]:.3f}")

    # Actions

    def add_current_input(self, label):
        """Add the current drawing as digit label; False (and says why) if not."""
        if self._input is None:
            self._tell("Nothing drawn: draw a digit on the canvas first, then "
                       "press its key.")
            return False
        if self._store is None:
            self._tell("My digits has no folder to live in yet.")
            return False
        self._store.add(self._input, label)
        self._predictions.append(self._read(self._input[None])[0]
                                 if self._model is not None else None)
        saved = self._save()
        count = len(self._store)
        self._tell(
            f"Added your drawing as a {label}. My digits holds {count} drawing"
            f"{'s' if count != 1 else ''}"
            + ("." if saved else ", in memory only (see the My digits tab)."))
        self._changed()
        self.gallery.scrollToBottom()  # the new drawing is the last thumbnail
        return True

    def remove(self, indices):
        """Remove the digits at these gallery positions and save."""
        for index in sorted(set(indices), reverse=True):
            self._store.remove(index)
            del self._predictions[index]
        self._save()
        self._changed()

    def count(self):
        """How many digits My digits holds (in memory)."""
        return 0 if self._store is None else len(self._store)

    def is_measuring(self):
        """True while a test-set measurement runs in the background."""
        return self._tasks.running()

    def result(self, row, column):
        """The text shown for row "mine"|"test" and column "before"|"after"."""
        return self.result_labels[row, column].text()

    def shutdown(self):
        """Wait for background measurements (the window is closing)."""
        self._tasks.cancel_all_and_wait()

    # Slots

    def _on_label_button_clicked(self, digit):
        self.add_current_input(digit)

    def _on_gallery_remove_requested(self):
        self.remove(self.gallery.selected_indices())

    def _on_remove_button_clicked(self):
        self.remove(self.gallery.selected_indices())

    def _on_start_new_button_clicked(self):
        # MyDigits.save() renames the unreadable file before writing a new one.
        folder = self._store.folder
        before = set(folder.glob("my_digits.unreadable-*.npz"))
        self._load_error = None
        if self._save():
            aside = sorted(set(folder.glob("my_digits.unreadable-*.npz")) - before)
            name = aside[0].name if aside else "my_digits.unreadable-N.npz"
            self._tell(f"The damaged file was kept as {name}; My digits starts anew "
                       "with the drawings shown.")
        self._update()

    def _on_reload_button_clicked(self):
        fresh = MyDigits(self._store.folder)
        try:
            fresh.load()
        except MyDigitsError as exc:
            self._load_error = str(exc)
            dialogs.show_message(self, "error", "My digits still cannot be read",
                                 f"{exc}\n\nThe file was not changed or deleted.")
            self._update()
            return
        added_meanwhile = len(self._store)
        for image, label in zip(self._store.images, self._store.labels, strict=True):
            fresh.add(image, label)
        self._store, self._load_error = fresh, None
        if added_meanwhile:
            self._save()
        self._predictions = [None] * len(self._store)
        self._changed()
        self.refresh_predictions()

    def _on_save_again_button_clicked(self):
        self._save()
        self._update()

    def _on_fine_tune_button_clicked(self):
        if not self._can_fine_tune():
            return
        self._run += 1
        digits = copy_digits(self._store)
        base = None if self._dataset is None else (self._dataset.x_train,
                                                   self._dataset.y_train)
        config = TrainConfig(
            epochs=self.epochs.value(), batch_size=BATCH_SIZE,
            lr=self.step_size.currentData(), optimizer="adam", val_fraction=0.0,
            seed=int(self._rng.integers(2**31)))
        request = FineTuneRequest(digits, base, config)
        for key in self.result_labels:
            self._show_result(key, None)
        self._show_result(("mine", "before"), self._mine_accuracy(digits))
        # Copy the weights now: once the run starts, snapshots keep changing them.
        before = clone_model(self._model)
        self._fine_tune = request
        self.fine_tune_requested.emit(request)
        if not self._training:
            self._fine_tune = None
            self._tune_message = ("Fine-tuning did not start: another training run "
                                  "may be going. Stop it in the Training tab first.")
            self._update()
            return
        self._measure_test(before, "before")
        self._tune_message = (
            f"Fine-tuning on {len(digits)} digits of yours and base digits…"
            if base is not None else
            f"Fine-tuning on {len(digits)} digits of yours and generated digits…")
        self._update()

    def _on_training_ended(self):
        request, self._fine_tune = self._fine_tune, None
        if request is None or self._model is None:
            self.refresh_predictions()
            return
        after = self._mine_accuracy(request.digits)
        self._show_result(("mine", "after"), after)
        self._measure_test(clone_model(self._model), "after")
        # The last progress report of a run that was stopped early is below 100%.
        finished = self.progress.value() >= self.progress.maximum()
        self.progress.setFormat("done" if finished else "stopped at %p%")
        self._tune_message = (
            f"Fine-tuning ended. Your digits: {self.result('mine', 'before')} "
            f"before, {self.result('mine', 'after')} after.")
        self._update()
        self.refresh_predictions()

    # Helpers

    def _tell(self, text):
        """Say what happened here and to the window (digit keys work from any tab)."""
        self.add_status.setText(text)
        self.status_changed.emit(text)

    def _save(self):
        """Write the store; on failure say why once and keep the digits in memory."""
        if self._load_error is not None:
            return False  # the student has not yet chosen what to do with the file
        try:
            self._store.save()
        except MyDigitsError as exc:
            if self._save_error is None:
                dialogs.show_message(
                    self, "warning", "My digits not saved",
                    f"{exc}\n\nYour drawings are kept while ConvLab stays open; each "
                    "new one tries to save again.")
            self._save_error = str(exc)
            self._update()
            return False
        self._save_error = None
        return True

    def _read(self, images):
        """The digit the model reads in each of images (N, 28, 28), as a list."""
        return class_scores(self._model, images[:, None]).argmax(axis=1).tolist()

    def _on_mark_timer_timeout(self):
        self._marks_stale = False
        n = self.count()
        if self._model is None or n == 0:
            self._predictions = [None] * n
        else:
            self._predictions = self._read(self._store.images)
        self._changed()

    def _mine_accuracy(self, digits):
        return evaluate(self._model, digits.images[:, None], digits.labels)["accuracy"]

    def _measure_test(self, model, column):
        """Measure the test-set row in a background thread (it takes seconds)."""
        key = ("test", column)
        if self._dataset is None:
            self.result_labels[key].setText("no test set")
            return
        x = self._dataset.x_test[:TEST_SUBSET]
        y = self._dataset.y_test[:TEST_SUBSET]
        self.result_labels[key].setText("measuring…")
        run = self._run
        task = BackgroundTask(lambda report: evaluate(model, x, y)["accuracy"], self)
        task.succeeded.connect(
            lambda accuracy: self._show_result(key, accuracy) if run == self._run
            else None)
        task.failed.connect(lambda message: self.result_labels[key].setText(
            "could not measure"))
        self._tasks.start(task)

    def _show_result(self, key, accuracy):
        self.result_labels[key].setText("—" if accuracy is None else f"{accuracy:.1%}")

    def _can_fine_tune(self):
        return (self._store is not None and len(self._store) > 0
                and self._model is not None and not self._training)

    def _changed(self):
        """Redraw the gallery and what depends on it."""
        images = self._store.images if self._store is not None else []
        labels = self._store.labels.tolist() if self._store is not None else []
        known = self._model is not None and None not in self._predictions
        self.gallery.set_digits(images, labels, self._predictions if known else None)
        self._update()

    def _update(self):
        n = self.count()
        self.gallery_box.setTitle(f"My digits ({n})")
        if n == 0:
            self.summary.setText("No digits yet: draw one and press its key.")
        elif self._model is None or None in self._predictions:
            self.summary.setText(f"{n} labelled drawing{'s' if n != 1 else ''}.")
        else:
            right = sum(p == label for p, label in
                        zip(self._predictions, self._store.labels, strict=True))
            self.summary.setText(
                f"The network reads {right} of your {n} digits right ({right / n:.0%})."
                " Under each: your label → what the network reads. Red ones it gets "
                "wrong: those are what fine-tuning can fix."
                + (" Marks update when training ends." if self._training else ""))
        self.remove_button.setEnabled(bool(self.gallery.selectedItems()))

        if self._load_error is not None:
            self.warning_text.setText(
                f"<b>My digits could not be read.</b> {self._load_error}<br>The file "
                "is left untouched. New drawings stay in memory only until you choose:")
        elif self._save_error is not None:
            self.warning_text.setText(
                f"<b>My digits are not saved.</b> {self._save_error}<br>Your drawings "
                "are kept while ConvLab stays open.")
        self.warning.setVisible(self._load_error is not None
                                or self._save_error is not None)
        self.start_new_button.setVisible(self._load_error is not None)
        self.reload_button.setVisible(self._load_error is not None)
        self.save_again_button.setVisible(self._load_error is None
                                          and self._save_error is not None)

        self.fine_tune_button.setEnabled(self._can_fine_tune())
        self.tune_status.setText(self._tune_hint())

    def _tune_hint(self):
        """What the student should know about fine-tuning right now."""
        if self._training and self._fine_tune is None:
            return "Training is running; fine-tune when it ends."
        if self._tune_message:
            return self._tune_message
        if self.count() == 0:
            return "Add some digits first."
        if self._model is None:
            return "No network yet."
        if self._dataset is None:
            return ("No dataset loaded: your digits will be mixed with built-in "
                    "generated digits.")
        return ""
