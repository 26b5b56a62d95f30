"""MyDigitsPresenter: keeps the student's digits and fine-tunes the network on them.

It owns the MyDigits store (saved after every change; a file that cannot be read is
left alone until the student chooses, a folder that cannot be written keeps the
digits in memory), marks which digits the network reads right, asks for a
fine-tuning run and measures accuracy before and after it, the test set in the
background. MyDigitsPanel shows what it is given and asks through its signals.

The controller hosts it::

    my_digits = MyDigitsPresenter(window.my_digits_panel, parent=controller)
    my_digits.set_storage_folder(path)   # user data folder, holds my_digits.npz
    my_digits.set_model(view_model)      # the GUI's copy of the network
    my_digits.refresh_predictions()      # ... after its weights changed in place
    my_digits.set_base_dataset(dataset)  # a sources.Dataset or None (built-in digits)
    my_digits.set_current_input(x)       # (28, 28) in [0, 1], or None: nothing drawn
    window.digit_key_pressed.connect(my_digits.add_current_input)
    session.running_changed.connect(my_digits.set_training_running)
    session.progress.connect(my_digits.set_training_progress)
    my_digits.fine_tune_requested.connect(
        lambda request: session.start_trainer(
            lambda: request.build_trainer(session.model)))
    window closing: my_digits.shutdown()  # joins the test-set measurements

Signals:
    fine_tune_requested(FineTuneRequest)   start it in the training session
    status_changed(str)                    what the last action did, for the status bar
"""

import numpy as np
from PyQt5.QtCore import QObject, QTimer, pyqtSignal

from convlab.data.my_digits import MyDigits, MyDigitsError
from convlab.evaluation import class_scores, evaluate
from convlab.gui.common.tasks import BackgroundTask, TaskList
from convlab.lab.my_digits import (
    TEST_SUBSET,
    fine_tune_request,
    gallery_summary,
    percent,
)
from convlab.lab.snapshots import clone_model

MARK_DELAY_MS = 150  # calls to refresh_predictions within this become one


class MyDigitsPresenter(QObject):
    """The My digits room's state and work, shown by a MyDigitsPanel."""

    fine_tune_requested = pyqtSignal(object)
    status_changed = pyqtSignal(str)

    def __init__(self, panel, parent=None, seed=None):
        super().__init__(parent)
        self._panel = panel
        self._store = None  # MyDigits once a folder is set
        self._predictions = []  # digit the model reads in each stored image
        self._model = None
        self._dataset = None
        self._input = None  # (28, 28) float32, or None when nothing is drawn
        self._load_error = None  # why the file could not be read (it is left alone)
        self._save_error = None  # why the last save failed (digits stay in memory)
        self._training = False  # a run of the training session is going
        self._fine_tune = None  # the FineTuneRequest of our run, while it goes
        self._mine_before = None  # accuracy on My digits when our run started
        self._last_progress = None  # the newest TrainingProgress of our run
        self._tune_message = ""  # what the last fine-tune did
        self._run = 0  # counts fine-tunes: a late result of an old one is dropped
        self._tasks = TaskList()  # test-set measurements in the background
        self._rng = np.random.default_rng(seed)
        self._marks_stale = False  # the gallery's right/wrong marks need a new look
        self._mark_timer = QTimer(self)
        self._mark_timer.setSingleShot(True)
        self._mark_timer.setInterval(MARK_DELAY_MS)
        self._mark_timer.timeout.connect(self._on_mark_timer_timeout)

        panel.label_chosen.connect(self.add_current_input)
        panel.remove_requested.connect(self.remove)
        panel.set_aside_requested.connect(self._on_panel_set_aside_requested)
        panel.reload_requested.connect(self._on_panel_reload_requested)
        panel.save_again_requested.connect(self._on_panel_save_again_requested)
        panel.tune_requested.connect(self._on_panel_tune_requested)
        panel.shown.connect(self._on_panel_shown)
        self._update()

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
            self._panel.show_problem(
                "error", "My digits could not be read",
                f"{exc}\n\nThe file was not changed or deleted. New drawings are kept "
                "in memory until you choose what to do in the My digits tab.")
        self._panel.show_location(self._store.path)
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
        blank = image is None or not np.any(image)
        self._input = None if blank else np.array(image, dtype=np.float32)
        self._panel.show_preview(self._input)

    def set_training_running(self, running):
        """A training run started (True) or ended (False); ours or the student's."""
        self._training = bool(running)
        if running and self._fine_tune is not None:
            self._last_progress = None
            self._panel.show_progress(0.0, "starting…")
        if not running:
            # The controller copies the final weights into the GUI's model in its own
            # slot for the same event; look at the model once that has happened.
            QTimer.singleShot(0, self._on_training_ended)
        self._update()

    def set_training_progress(self, progress):
        """Show a TrainingProgress of our fine-tuning run in the progress bar."""
        if self._fine_tune is None:
            return
        self._last_progress = progress
        self._panel.show_progress(
            progress.fraction, f"%p%  step {progress.step}/{progress.total_steps}  "
                               f"loss {progress.losses[-1]:.3f}")

    def refresh_predictions(self):
        """Mark the gallery again after the model's weights changed in place.

        Reading every drawing costs a forward pass each, so it waits until the panel
        is on screen and many calls in a row (kernel edits) become one.
        """
        self._marks_stale = True
        if self._panel.isVisible():
            self._mark_timer.start()

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
        self._panel.scroll_to_newest()
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

    def digits(self):
        """(images (N, 28, 28), labels (N,)) of the digits held, copies (N may be 0)."""
        if self._store is None or not len(self._store):
            return np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64)
        return self._store.images, self._store.labels

    def shutdown(self):
        """Wait for background measurements (the window is closing)."""
        self._tasks.cancel_all_and_wait()

    # Slots

    def _on_panel_shown(self):
        if self._marks_stale:
            self._mark_timer.start()

    def _on_panel_set_aside_requested(self):
        # The next save renames the unreadable file before writing a new one.
        self._load_error = None
        self._save()
        self._update()

    def _on_panel_reload_requested(self):
        fresh = MyDigits(self._store.folder)
        try:
            fresh.load()
        except MyDigitsError as exc:
            self._load_error = str(exc)
            self._panel.show_problem("error", "My digits still cannot be read",
                                     f"{exc}\n\nThe file was not changed or deleted.")
            self._update()
            return
        added_meanwhile = len(self._store)
        fresh.extend(self._store)
        self._store, self._load_error = fresh, None
        if added_meanwhile:
            self._save()
        self._predictions = [None] * len(self._store)
        self._changed()
        self.refresh_predictions()

    def _on_panel_save_again_requested(self):
        self._save()
        self._update()

    def _on_panel_tune_requested(self, epochs, lr):
        if not self._can_fine_tune():
            return
        self._run += 1
        base = None if self._dataset is None else (self._dataset.x_train,
                                                   self._dataset.y_train)
        request = fine_tune_request(self._store, base, epochs, lr,
                                    seed=int(self._rng.integers(2**31)))
        self._panel.clear_results()
        self._mine_before = self._accuracy(request.digits)
        self._panel.show_result("mine", "before", percent(self._mine_before))
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
        mixed_with = "base" if base is not None else "generated"
        self._tune_message = (f"Fine-tuning on {len(request.digits)} digits of yours "
                              f"and {mixed_with} digits…")
        self._update()

    def _on_training_ended(self):
        request, self._fine_tune = self._fine_tune, None
        if request is None or self._model is None:
            self.refresh_predictions()
            return
        after = self._accuracy(request.digits)
        self._panel.show_result("mine", "after", percent(after))
        self._measure_test(clone_model(self._model), "after")
        # The last progress report of a run that was stopped early is short of the end.
        last = self._last_progress
        finished = last is not None and last.step >= last.total_steps
        self._panel.show_progress(0.0 if last is None else last.fraction,
                                  "done" if finished else "stopped at %p%")
        self._tune_message = (
            f"Fine-tuning ended. Your digits: {percent(self._mine_before)} "
            f"before, {percent(after)} after.")
        self._update()
        self.refresh_predictions()

    def _on_mark_timer_timeout(self):
        self._marks_stale = False
        n = self.count()
        if self._model is None or n == 0:
            self._predictions = [None] * n
        else:
            self._predictions = self._read(self._store.images)
        self._changed()

    # Helpers

    def _tell(self, text):
        """Say what happened here and to the window (digit keys work from any tab)."""
        self._panel.show_add_status(text)
        self.status_changed.emit(text)

    def _save(self):
        """Write the store; on failure say why once and keep the digits in memory."""
        if self._load_error is not None:
            return False  # the student has not yet chosen what to do with the file
        try:
            aside = self._store.save()
        except MyDigitsError as exc:
            if self._save_error is None:
                self._panel.show_problem(
                    "warning", "My digits not saved",
                    f"{exc}\n\nYour drawings are kept while ConvLab stays open; each "
                    "new one tries to save again.")
            self._save_error = str(exc)
            self._update()
            return False
        self._save_error = None
        if aside is not None:
            self._tell(f"The damaged file was kept as {aside.name}; My digits starts "
                       "anew with the drawings shown.")
        return True

    def _read(self, images):
        """The digit the model reads in each of images (N, 28, 28), as a list."""
        return class_scores(self._model, images[:, None]).argmax(axis=1).tolist()

    def _accuracy(self, digits):
        """The model's accuracy on a MyDigits holding at least one digit."""
        return evaluate(self._model, digits.images[:, None], digits.labels)["accuracy"]

    def _measure_test(self, model, column):
        """Measure the test-set row in a background thread (it takes seconds)."""
        if self._dataset is None:
            self._panel.show_result("test", column, "no test set")
            return
        x = self._dataset.x_test[:TEST_SUBSET]
        y = self._dataset.y_test[:TEST_SUBSET]
        self._panel.show_result("test", column, "measuring…")
        run = self._run
        task = BackgroundTask(lambda report: evaluate(
            model, x, y, cancelled=task.is_cancelled)["accuracy"], self)
        task.succeeded.connect(
            lambda accuracy: self._panel.show_result("test", column, percent(accuracy))
            if run == self._run else None)
        task.failed.connect(
            lambda message: self._panel.show_result("test", column,
                                                    "could not measure"))
        self._tasks.start(task)

    def _can_fine_tune(self):
        return (self._store is not None and len(self._store) > 0
                and self._model is not None and not self._training)

    def _changed(self):
        """Redraw the gallery and what depends on it."""
        images = self._store.images if self._store is not None else []
        labels = self._store.labels.tolist() if self._store is not None else []
        self._panel.show_digits(images, labels, self._marks())
        self._update()

    def _marks(self):
        """What the network reads in each digit, or None before it has looked."""
        known = self._model is not None and None not in self._predictions
        return self._predictions if known else None

    def _update(self):
        labels = [] if self._store is None else self._store.labels
        self._panel.show_summary(
            self.count(), gallery_summary(labels, self._marks(), self._training))
        self._panel.show_file_warning(self._file_warning(),
                                      unreadable=self._load_error is not None)
        self._panel.show_tune_state(self._can_fine_tune(), self._tune_hint())

    def _file_warning(self):
        """What is wrong with the My digits file, or None."""
        if self._load_error is not None:
            return (f"<b>My digits could not be read.</b> {self._load_error}<br>The "
                    "file is left untouched. New drawings stay in memory only until "
                    "you choose:")
        if self._save_error is not None:
            return (f"<b>My digits are not saved.</b> {self._save_error}<br>Your "
                    "drawings are kept while ConvLab stays open.")
        return None

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
