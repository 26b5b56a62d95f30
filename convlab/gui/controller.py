"""Controller: owns the model and the dataset and wires every widget of the window.

Widgets only emit intents and show what they are given; all decisions live here.
Two copies of the network exist: ``model`` is the live one (trained by the
TrainingSession's worker thread, saved to files) and ``view_model`` is the GUI's copy
that draws feature maps and predictions. While training runs, snapshots of the live
weights are copied into ``view_model`` at most ~20 times a second.
"""

import os
import time
from pathlib import Path

import numpy as np
from PyQt5.QtCore import (
    QCoreApplication,
    QObject,
    QSettings,
    QStandardPaths,
    QThread,
    QTimer,
    pyqtSignal,
)
from PyQt5.QtWidgets import QProgressDialog

from convlab import nn
from convlab.data import sources
from convlab.data.download import DownloadError, download_mnist
from convlab.data.mnist import EXPECTED_FILES, MnistFormatError
from convlab.data.preprocess import to_mnist
from convlab.export import ExportError, export_pytorch
from convlab.fileio import write_text_atomic
from convlab.gui.common import dialogs
from convlab.gui.common.tasks import EXPECTED_FAILURES, BackgroundTask
from convlab.gui.my_digits.presenter import MyDigitsPresenter
from convlab.gui.network.view import GREY_CMAP, PROB_CMAP, SIGNED_CMAP
from convlab.gui.training.panel import BUILTIN_SOURCE, LOADED_SOURCE
from convlab.gui.training.session import TrainingSession, clone_model
from convlab.lab.network import grid_shape, mosaic, number_text, vector_grid
from convlab.nn.architectures import NAMED_ARCHS, ArchSpec, ConvBlock, build
from convlab.nn.functional import softmax
from convlab.train import evaluate

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = REPO / "resources" / "models" / "default.npz"
REFRESH_MS = 40  # at most 25 redraws a second while the student draws
TRAINING_REFRESH_MS = 80  # 12.5 a second for new weights: live, yet leaves the GUI idle
DETAIL_INTERVAL = 0.25  # seconds between live updates of the enlarged view
MAX_RECENT = 6
GALLERY_LIMIT = 120  # thumbnails per confusion-matrix cell
MISTAKES = 24
# What reading a damaged, hostile or huge file may raise: it is reported, never fatal.
LOAD_ERRORS = (OSError, ValueError, EOFError, MemoryError)
DATA_ERRORS = (*LOAD_ERRORS, sources.DataNotFoundError, MnistFormatError)
EVALUATION_WAIT_S = 60  # refresh_now waits at most this long for a running evaluation


def app_settings():
    """The one QSettings store (an INI file in the user's config folder)."""
    return QSettings(QSettings.IniFormat, QSettings.UserScope, "ConvLab", "ConvLab")


def read_setting(settings, key, default, kind, set_aside, valid=None):
    """The stored value of key as kind (str, int, list, QByteArray), or default.

    The settings file may be old or edited by hand: a value that cannot be read as
    kind, or that valid(value) rejects, gives default and appends (key, why) to the
    list set_aside, so the window can say once what it put back to its default
    instead of failing to start.
    """
    if not settings.contains(key):
        return default
    try:
        value = settings.value(key, default, kind)
    except TypeError:  # PyQt cannot convert the stored text to kind
        value = None
    if kind is list and isinstance(value, list) and not all(
            isinstance(v, str) for v in value):
        value = None  # the stored lists hold file paths
    if not isinstance(value, kind) or (valid is not None and not valid(value)):
        stored = settings.value(key)
        set_aside.append((key, f"{str(stored)[:60]!r} is not a valid value"))
        return default
    return value


class _DownloadCancelled(Exception):
    """Raised from the progress callback to abandon a download the student cancelled."""


class Controller(QObject):
    """Keeps model, dataset and current input, and tells every view what to show."""

    views_refreshed = pyqtSignal()  # feature maps and prediction were redrawn

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.settings = app_settings()
        self.model = None
        self.view_model = None
        self.model_path = None
        self.model_note = ""
        self.dataset = None
        self.current_input = None  # (28, 28) float32 in [0, 1], or None
        self.current_label = None  # true digit when the input is a test image
        self.evaluation = None  # the last evaluate() result
        self._evaluated_on = None  # the dataset that result is about
        self._evaluation_task = None  # the newest running evaluation
        self._auto_evaluated = None  # (view_model, dataset) last evaluated unasked
        self._pending_canvas = None
        self._weights_changed = False  # filters need redrawing
        self._weights_trained = False  # training changed weights the Playground shows
        self._tasks = []  # running BackgroundTasks (evaluation, download)
        self._download = None  # the running download's task
        self._detail = None  # (show function, column, index) of the enlarged view
        self._last_detail = 0.0  # time.monotonic() of its last live update
        self._input_changed = False  # since the last redraw
        self._snapshot_outputs = None  # the newest training snapshot's activations
        self._rng = np.random.default_rng()
        self._starting_fresh = False  # load_startup without the saved state
        self._training_data = None  # the Training tab's data, when not self.dataset
        self._open_failure = ""  # why the last model or dataset did not open
        self._saved_state = None  # the weights as last opened or saved
        self._data_task = None  # the newest dataset load in the background
        self._trained_model = None  # the model of the last training run started

        self._last_refresh = 0.0  # time.monotonic() of the last redraw
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self._on_refresh_timer_timeout)

        data_folder = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation)
        # A run in progress is saved in the user's data folder, to resume after a
        # close.
        self.session = TrainingSession(window.training_panel, parent=self,
                                       checkpoint_dir=data_folder or None)
        # New random weights replace trained ones: ask about saving them first.
        self.session.confirm_replace = lambda: self.confirm_discard(
            "replacing them by new random weights")
        self.my_digits = MyDigitsPresenter(window.my_digits_panel, parent=self)
        self._wire()

    def _wire(self):
        w = self.window
        w.input_panel.image_changed.connect(self._on_input_panel_image_changed)
        w.input_panel.sample_requested.connect(self.show_test_image)
        w.input_panel.random_sample_requested.connect(
            self._on_input_panel_random_sample_requested)
        w.network_view.map_clicked.connect(self._on_network_view_map_clicked)
        w.network_view.filter_clicked.connect(self._on_network_view_filter_clicked)
        w.detail_view.edit_filter_requested.connect(
            self._on_detail_view_edit_filter_requested)
        w.evaluation_panel.evaluate_requested.connect(self.evaluate_test_set)
        w.evaluation_panel.shown.connect(self._evaluate_if_needed)
        w.evaluation_panel.cell_selected.connect(self._on_evaluation_panel_cell_selected)
        w.evaluation_panel.example_selected.connect(self.show_test_image)
        w.closing.connect(self.shutdown)

        w.new_action.triggered.connect(self._on_new_action_triggered)
        w.open_action.triggered.connect(self._on_open_action_triggered)
        w.save_action.triggered.connect(self.save_model)
        w.save_as_action.triggered.connect(self._on_save_as_action_triggered)
        w.recent_model_chosen.connect(self._on_recent_model_chosen)
        w.open_data_action.triggered.connect(self._on_open_data_action_triggered)
        w.download_action.triggered.connect(self.download_mnist)
        w.export_action.triggered.connect(self._on_export_action_triggered)
        w.clear_action.triggered.connect(w.input_panel.canvas.clear)
        w.undo_action.triggered.connect(w.input_panel.canvas.undo_stroke)
        w.training_panel.download_requested.connect(self.download_mnist)
        w.training_panel.start_requested.connect(self._on_training_panel_run_requested)
        w.training_panel.step_requested.connect(self._on_training_panel_run_requested)

        s = self.session
        s.weights_updated.connect(self._on_session_weights_updated)
        s.model_changed.connect(self._on_session_model_changed)
        s.running_changed.connect(self._on_session_running_changed)
        s.finished.connect(self._on_session_finished)
        s.message.connect(self._status)
        # The Training tab shows the failure dialog; the status bar keeps the gist.
        s.failed.connect(lambda message: self._status(
            "Training stopped: " + message.splitlines()[0]))

        w.playground_panel.set_command_runner(self.session.submit)
        w.playground_panel.model_edited.connect(self._on_playground_model_edited)

        m = self.my_digits
        m.set_storage_folder(
            QStandardPaths.writableLocation(QStandardPaths.AppDataLocation))
        w.digit_key_pressed.connect(m.add_current_input)
        m.fine_tune_requested.connect(self._on_my_digits_fine_tune_requested)
        m.status_changed.connect(self._status)
        s.running_changed.connect(m.set_training_running)
        s.progress.connect(m.set_training_progress)

    # Start-up and shutdown

    def load_startup(self, model_path=None, data_dir=None, restore=True):
        """Load the model and data the app starts with.

        model_path: --model; otherwise the last model (when restore) or the bundled
        one, or fresh random weights if neither loads. data_dir: --data; otherwise
        the last folder, $CONVLAB_DATA or the download cache, quietly when absent.
        restore=False (screenshots) neither reads nor writes the saved state.
        """
        self._starting_fresh = not restore
        try:
            self._load_startup(model_path, data_dir, restore)
        finally:
            self._starting_fresh = False
        self.refresh_now()
        self._report_set_aside(restore)

    def _load_startup(self, model_path, data_dir, restore):
        set_aside = self.window.set_aside
        last = read_setting(self.settings, "lastModel", "", str, set_aside) \
            if restore else ""
        candidates = [p for p in (model_path, last, str(DEFAULT_MODEL)) if p]
        for path in candidates:
            loud = path == model_path  # only an explicit choice deserves a dialog
            if Path(path).is_file() and self.open_model(path, report=loud):
                break
            if loud and not Path(path).is_file():
                self._message("error", "Model not found",
                              f"There is no model file at\n{path}\n\nStarting with "
                              "the bundled model instead.")
            elif path == last:
                why = self._open_failure if Path(path).is_file() else "no such file"
                set_aside.append(("lastModel", f"{path}: {why}"))
        else:
            self.new_model(note="untrained weights: the bundled model was not found")
        if data_dir:
            self.open_dataset(data_dir)
        else:
            folder = read_setting(self.settings, "dataFolder", "", str, set_aside) \
                if restore else ""
            if not self.open_dataset(folder or None, report=False) and folder:
                set_aside.append(("dataFolder", f"{folder}: {self._open_failure}"))
        if restore:
            # After the model and data: they reset the architecture and data choice.
            self.window.restore_training_settings()
            self.session.offer_unfinished_run()

    def _report_set_aside(self, restore):
        """Say once, after the window shows, which stored settings were not used."""
        set_aside, self.window.set_aside = self.window.set_aside, []
        if not set_aside:
            return
        if restore and self.window.remember_state:
            for key, _ in set_aside:  # so the next start does not meet them again
                self.settings.remove(key)
        lines = "\n".join(f"• {key}: {why}" for key, why in set_aside)
        text = (f"ConvLab set aside {len(set_aside)} remembered setting(s) it could "
                f"not use and started with the default instead:\n\n{lines}\n\n"
                "Nothing else changed; your files are untouched.")
        # After show(): a message box before the window would appear on its own.
        QTimer.singleShot(0, lambda: self._message(
            "warning", "Some remembered settings were set aside", text))
        self._status(f"Remembered settings set aside: {len(set_aside)}")

    def shutdown(self):
        """Stop training and background work and join their threads (window closing)."""
        self._refresh_timer.stop()
        for task in self._tasks:  # they wind down while training stops
            task.cancel()
        self.session.shutdown()
        for task in list(self._tasks):
            task.wait()
        self._tasks.clear()
        self.window.playground_panel.shutdown()
        self.my_digits.shutdown()
        self.window.detail_view.close()

    # The model

    def open_model(self, path, report=True):
        """Load a model file; on any problem show why and keep the current model."""
        try:
            model = nn.load_model(path).model
            _check_fits_mnist(model)
        except (*LOAD_ERRORS, nn.ModelFileError) as exc:
            self._open_failure = str(exc) or type(exc).__name__
            if report:
                self._message("error", "Could not open the model",
                              f"{path}\n\n{exc}\n\nThe current model is unchanged.")
            return False
        bundled = Path(path).resolve() == DEFAULT_MODEL.resolve()
        note = "bundled trained model" if bundled else Path(path).name
        self._set_model(model, path=None if bundled else str(path), note=note)
        spec = arch_of(model)
        if spec is not None:  # the Training tab starts from the opened architecture
            self.window.training_panel.set_arch(spec)
        if not bundled:
            self._remember_model(str(path))
        self._status(f"Opened {path}")
        return True

    def new_model(self, checked=False, note="untrained weights"):
        """Replace the model by the sample architecture with fresh random weights."""
        self._set_model(build(NAMED_ARCHS["sample"], self._rng), path=None, note=note)
        self.window.training_panel.set_arch(NAMED_ARCHS["sample"])
        self._status("New network with random weights: train it in the Training tab.")

    def save_model(self, checked=False, path=None):
        """Save the model's current weights (to its own file unless a path is given)."""
        path = path or self.model_path
        if not path:
            return self._on_save_as_action_triggered()
        try:
            # The GUI copy holds the latest weights, and reading it cannot race with
            # the training thread writing the live model.
            nn.save_model(path, self.view_model)
        except (OSError, ValueError) as exc:
            self._message("error", "Could not save the model", f"{path}\n\n{exc}")
            return False
        self.model_path = str(path)
        self.model_note = Path(path).name
        self._saved_state = self.view_model.state_dict()
        self._remember_model(self.model_path)
        self._update_title()
        self._status(f"Saved {path}")
        return True

    def export_pytorch(self, path):
        """Write the model as a self-contained PyTorch .py file."""
        try:
            text = export_pytorch(self.view_model, module=Path(path).stem,
                                  source=self.model_note)
            write_text_atomic(path, text)
        except (OSError, ExportError) as exc:
            self._message("error", "Could not export", f"{path}\n\n{exc}")
            return False
        self._status(f"Exported to {path}: `from {Path(path).stem} import build`")
        return True

    def has_unsaved_changes(self):
        """True when the weights differ from those last opened or saved.

        Training or a filter edit changes them; a run under way is still changing
        them, even if the GUI's copy has not caught up yet.
        """
        if self.session.is_running() and self._trained_model is self.model:
            return True
        if self._saved_state is None:
            return False
        state = self.view_model.state_dict()
        return any(not np.array_equal(state[name], saved, equal_nan=True)
                   for name, saved in self._saved_state.items())

    def confirm_discard(self, doing):
        """Offer to save changed weights before doing something that replaces them.

        doing completes "Save them before ..." (e.g. "opening another model").
        Returns True to go ahead: nothing to save, saved, or discarded on purpose.
        """
        if not self.has_unsaved_changes():
            return True
        answer = dialogs.ask_save_changes(
            self.window, "Save the trained weights?",
            "The network's weights have changed since they were last saved (by "
            f"training or by editing filters). Save them before {doing}?\n\n"
            "Discard throws the changes away; Cancel keeps everything as it is.")
        if answer == "save":
            return bool(self.save_model())  # False when saving failed or was cancelled
        return answer == "discard"

    def _set_model(self, model, path, note):
        self.model = model
        self.view_model = clone_model(model)
        self.view_model.eval()
        self._saved_state = self.view_model.state_dict()
        self.model_path = path
        self.model_note = note
        self.evaluation = self._evaluated_on = None
        self._snapshot_outputs = None
        self._detail = None  # its column may not exist in the new network
        self.window.detail_view.close()
        self.session.set_model(model)
        probe = np.zeros((1, 1, 28, 28), np.float32)
        shapes = [a.shape for a in self.view_model.activations(probe)]
        self.window.network_view.set_layers(self.view_model.layers, shapes)
        self._weights_changed = True
        self.window.playground_panel.set_model(self.view_model)
        self.my_digits.set_model(self.view_model)
        self.window.evaluation_panel.clear_results()
        self._update_title()
        self.request_refresh()
        self._evaluate_if_needed()

    def _remember_model(self, path):
        path = os.path.abspath(path)  # still found when started from another folder
        stored = read_setting(self.settings, "recentModels", [], list, [])
        recent = [p for p in stored if p != path]
        recent = [path] + recent[: MAX_RECENT - 1]
        self._save_setting("recentModels", recent)
        self._save_setting("lastModel", path)
        self.window.set_recent_models(recent)

    def _update_title(self):
        name = Path(self.model_path).name if self.model_path else "unsaved network"
        # [*] is where Qt writes the "*" of a window with unsaved changes.
        self.window.setWindowTitle(f"ConvLab — {name}[*]")
        self.window.setWindowModified(self.has_unsaved_changes())
        self.window.set_model_note(self.model_note)
        untrained = self.model_note.startswith("untrained")
        self.window.prediction_panel.set_note(
            "Untrained weights: these answers are guesses. Train the network in the "
            "Training tab or open a trained model." if untrained else "")

    # The data

    def open_dataset(self, folder, report=True):
        """Load MNIST from a folder (None: $CONVLAB_DATA or the download cache).

        On the GUI thread, for the start-up and for tests; the File menu and the
        download use open_dataset_in_background. Returns True when it loaded.
        """
        try:
            dataset = sources.load_dataset(folder)
        except DATA_ERRORS as exc:
            self._dataset_failed(str(exc) or type(exc).__name__, report)
            return False
        self._dataset_loaded(folder, dataset)
        return True

    def open_dataset_in_background(self, folder):
        """Load MNIST from a folder on a BackgroundTask, keeping the current dataset
        (and the GUI responsive: 70,000 digits take about a second) until it has
        loaded; a failure keeps it too. Returns the task."""
        task = BackgroundTask(lambda report: sources.load_dataset(folder), self,
                              expected=DATA_ERRORS)
        self._data_task = task  # only the newest load is used
        self._status(f"Loading MNIST from {folder}…")
        task.succeeded.connect(lambda dataset: self._dataset_loaded(folder, dataset)
                               if task is self._data_task else None)
        task.failed.connect(lambda message: self._dataset_failed(message, True)
                            if task is self._data_task else None)

        def on_finished():
            self._forget(task)
            if task is self._data_task:
                self._data_task = None

        task.finished.connect(on_finished)
        self._tasks.append(task)
        task.start()
        return task

    def _dataset_failed(self, message, report):
        self._open_failure = message
        if report:
            names = "\n".join(f"  {n}" for n in EXPECTED_FILES)
            text = message
            if not all(n in text for n in EXPECTED_FILES):
                text += f"\n\nMNIST is these four files:\n{names}"
            kept = "" if self.dataset is None else (
                "\n\nThe digits loaded before are still in use.")
            self._message("error", "No MNIST in that folder", text + kept)
        else:
            self._status("No dataset yet: File > Open dataset folder or "
                         "File > Download MNIST.")
        if self.dataset is None:
            self.set_dataset(None)  # still say in every panel that data is missing

    def _dataset_loaded(self, folder, dataset):
        if folder:
            # Absolute: a folder given relative to where the app was started
            # (--data mnist) must still be found at the next start.
            self._save_setting("dataFolder", os.path.abspath(folder))
        self.set_dataset(dataset)
        self._status(f"Loaded {dataset.name.split(' from ')[0]}")

    def set_dataset(self, dataset):
        """Use a loaded Dataset (or None) for test images, evaluation and training."""
        self.dataset = dataset
        if dataset is not self._evaluated_on:  # the results are about other digits
            self.evaluation = self._evaluated_on = None
            self.window.evaluation_panel.clear_results()
        self.session.set_dataset(dataset)
        count = 0 if dataset is None else len(dataset.x_test)
        self.window.input_panel.set_sample_count(count)
        self.window.evaluation_panel.set_available(
            dataset is not None,
            "Load MNIST first (File > Open dataset folder or Download MNIST).")
        if dataset is not None:
            self.window.playground_panel.set_test_data(dataset.x_test, dataset.y_test)
        self.my_digits.set_base_dataset(dataset)
        self._update_data_note()
        self._evaluate_if_needed()

    def download_mnist(self, checked=False, dest=None, mirrors=None):
        """Download MNIST in the background with a progress dialog, then load it."""
        if self._download is not None:  # one download at a time
            return None
        cancelled = []

        def work(report):
            def progress(name, done, total):
                if cancelled:
                    raise _DownloadCancelled("download cancelled")
                report((name, done, total))

            return download_mnist(dest=dest, mirrors=mirrors, progress=progress)

        dialog = QProgressDialog("Downloading MNIST…", "Cancel", 0, 100, self.window)
        dialog.setWindowTitle("Download MNIST")
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(lambda: cancelled.append(True))
        task = BackgroundTask(work, self, on_cancel=lambda: cancelled.append(True),
                              expected=(*EXPECTED_FAILURES, DownloadError,
                                        _DownloadCancelled))
        self._download = task

        def on_progress(value):
            name, done, total = value
            dialog.setLabelText(f"Downloading {name}: {done / 1e6:.1f} of "
                                f"{total / 1e6:.1f} MB")
            dialog.setValue(int(100 * done / max(total, 1)))

        def on_failed(message):
            if not cancelled:
                self._message("error", "Download failed",
                              f"{message}\n\nNothing half-written was kept.")

        def on_finished():
            dialog.close()
            self._download = None
            self._forget(task)

        task.progressed.connect(on_progress)
        task.succeeded.connect(
            lambda folder: self.open_dataset_in_background(str(folder)))
        task.failed.connect(on_failed)
        task.finished.connect(on_finished)
        self._tasks.append(task)
        dialog.show()
        task.start()
        return task

    # The input

    def show_test_image(self, index):
        """Make test image number index the input."""
        if self.dataset is None or not 0 <= index < len(self.dataset.x_test):
            return
        image = self.dataset.x_test[index, 0]  # (28, 28)
        self.current_label = int(self.dataset.y_test[index])
        panel = self.window.input_panel
        panel.canvas.set_background(image)
        panel.show_sample_index(index)
        self._pending_canvas = None
        self._set_input(image.copy(),
                        f"Test image {index}\ntrue digit: {self.current_label}")

    def _set_input(self, image, text):
        self.current_input = image
        self._input_changed = True
        self.window.input_panel.set_source_text(text)
        self.session.set_probe(image)
        self.window.playground_panel.set_input_image(image)
        self.my_digits.set_current_input(image)
        self.request_refresh()

    # Drawing the views

    def request_refresh(self, interval_ms=REFRESH_MS):
        """Redraw as soon as interval_ms have passed since the last redraw.

        All requests until then become one redraw, so the views never redraw more
        often than 1000 / interval_ms times a second, and never wait longer.
        """
        since = (time.monotonic() - self._last_refresh) * 1000.0
        delay = int(max(0.0, interval_ms - since))
        timer = self._refresh_timer
        if not timer.isActive() or timer.remainingTime() > delay:
            timer.start(delay)

    def refresh_now(self):
        """Bring every view up to date at once (start-up, screenshots, tests).

        An evaluation under way is finished first (waiting at most
        EVALUATION_WAIT_S), so a screenshot taken next shows its confusion matrix.
        """
        self._finish_evaluation(EVALUATION_WAIT_S)
        self._refresh_timer.stop()
        self._on_refresh_timer_timeout()

    def _on_refresh_timer_timeout(self):
        self._last_refresh = time.monotonic()
        if self._pending_canvas is not None:
            canvas, self._pending_canvas = self._pending_canvas, None
            self.current_label = None
            # Averaging 2x2 blocks first makes preprocessing four times cheaper and
            # changes nothing visible: the digit ends up 20 pixels tall anyway.
            half = canvas.reshape(canvas.shape[0] // 2, 2, canvas.shape[1] // 2, 2)
            # half: (140, 2, 140, 2), each 2x2 block on axes 1 and 3
            image = to_mnist(half.mean(axis=(1, 3)))  # (140, 140) -> (28, 28)
            self._set_input(image, "Your drawing" if image is not None
                            else "Nothing drawn yet")
            self._refresh_timer.stop()  # _set_input asked again; we draw right now
        if self.view_model is None:
            return
        w = self.window
        if self._weights_changed:
            self._weights_changed = False
            w.setWindowModified(self.has_unsaved_changes())
            weights = {i + 1: layer.weight.data for i, layer in
                       enumerate(self.view_model.layers) if type(layer).__name__ ==
                       "Conv2d"}
            w.network_view.set_filters(weights)
        if self._weights_trained:
            # Training moved the weights under the Playground's open filter.
            self._weights_trained = False
            w.playground_panel.refresh_model()
        x = self.current_input
        probe = np.zeros((1, 1, 28, 28), np.float32) if x is None else \
            x[None, None].astype(np.float32)  # (1, 1, 28, 28)
        outputs = self._outputs_for(probe)
        probs = softmax(outputs[-1].astype(np.float64))  # (1, 10)
        w.input_panel.set_preview(x)
        w.prediction_panel.set_probabilities(None if x is None else probs[0])
        w.network_view.set_activations(probe, outputs, probs)
        now = time.monotonic()
        input_changed, self._input_changed = self._input_changed, False
        if (self._detail is not None and w.detail_view.isVisible()
                and (input_changed or now - self._last_detail >= DETAIL_INTERVAL)):
            # The enlarged map or filter follows a new input at once, and training
            # at a pace at which its numbers can still be read.
            self._last_detail = now
            show, column, index = self._detail
            show(column, index, bring_to_front=False)
        self.views_refreshed.emit()

    def _outputs_for(self, probe):
        """Every layer's output of the view model for probe (1, 1, 28, 28).

        While training, the newest snapshot carries them, computed by the worker
        with the very weights just copied into view_model; using them keeps that
        forward pass off the GUI thread. They count only if the worker saw this
        input: the student may have drawn since it took the snapshot.
        """
        outputs, self._snapshot_outputs = self._snapshot_outputs, None
        if outputs is not None:
            # Every later layer follows from the first one's output and the same
            # weights, so one cheap layer tells whether the snapshot is for probe.
            # (view_model is always in evaluation mode, like activations().)
            first = self.view_model.layers[0].forward(probe)
            if first.shape == outputs[0].shape and np.allclose(
                    first, outputs[0], rtol=1e-4, atol=1e-6):
                return outputs
        return self.view_model.activations(probe)

    # Evaluation

    def evaluate_test_set(self):
        """Evaluate a copy of the current network on the test set, in the background.

        Returns the BackgroundTask (the one already running for this network and
        data, if any), or None without a dataset.
        """
        if self.dataset is None:
            return None
        source, dataset = self.view_model, self.dataset
        running = self._evaluation_task
        if running is not None and _same(running.evaluates, (source, dataset)):
            return running
        if running is not None:
            running.cancel()  # about a network or data no longer shown
        model = clone_model(source)
        # task.cancel() (shutdown, a newer evaluation) stops it at the next batch.
        task = BackgroundTask(
            lambda report: evaluate(model, dataset.x_test, dataset.y_test,
                                    cancelled=task.is_cancelled), self)
        task.evaluates = (source, dataset)
        panel = self.window.evaluation_panel
        panel.set_running(True, f"Evaluating {len(dataset.x_test)} test images…")
        task.succeeded.connect(lambda result: self._on_evaluation_succeeded(
            result, source, dataset))
        task.failed.connect(lambda message: None if task.is_cancelled() else
                            self._message("error", "Evaluation failed", message))

        def on_finished():
            self._forget(task)
            if task is self._evaluation_task:  # not an older run for an old network
                self._evaluation_task = None
                panel.set_running(False)
                self._evaluate_if_needed()  # the network changed while it ran

        task.finished.connect(on_finished)
        self._tasks.append(task)
        self._evaluation_task = task
        task.start()
        return task

    def _evaluate_if_needed(self):
        """Evaluate unasked when the Evaluation tab is on show and has no result.

        A student then sees the confusion matrix without hunting for the button.
        Once per network and dataset (a failed run is not retried in a loop), and
        not while training changes the weights.
        """
        key = (self.view_model, self.dataset)
        if (self.dataset is None or self.view_model is None
                or self.evaluation is not None or self._evaluation_task is not None
                or not self.window.evaluation_panel.isVisible()
                or self.session.is_running() or _same(self._auto_evaluated, key)):
            return None
        self._auto_evaluated = key
        return self.evaluate_test_set()

    def _finish_evaluation(self, timeout_s):
        """Wait (at most timeout_s) for the running evaluation and show its result."""
        task = self._evaluation_task
        if task is None:
            return
        deadline = time.monotonic() + timeout_s
        while task.is_running() and time.monotonic() < deadline:
            QThread.msleep(10)
        if not task.is_running():
            # Its result and end are queued signals: deliver them now, in order.
            QCoreApplication.sendPostedEvents(task, 0)

    def _on_evaluation_succeeded(self, result, source, dataset):
        if source is not self.view_model or dataset is not self.dataset:
            return  # the network or the data changed meanwhile: old news
        self.evaluation, self._evaluated_on = result, dataset
        panel = self.window.evaluation_panel
        probabilities = result["probabilities"]
        panel.set_results(result["accuracy"], result["per_class"], result["confusion"],
                          dataset.name.split(" from ")[0],
                          finite=bool(np.isfinite(probabilities).all()))
        y, pred = dataset.y_test, result["predictions"]
        confidence = probabilities[np.arange(len(y)), pred]
        wrong = np.flatnonzero(pred != y)
        worst = wrong[np.argsort(-confidence[wrong], kind="stable")][:MISTAKES]
        panel.show_mistakes(
            dataset.x_test[worst, 0], worst,
            [f"{y[i]} → {pred[i]} ({number_text(confidence[i], '{:.0%}')})"
             for i in worst])
        self._status(f"Test accuracy {result['accuracy']:.2%}")

    def _on_evaluation_panel_cell_selected(self, true_digit, predicted):
        if (self.evaluation is None or self.dataset is None
                or self._evaluated_on is not self.dataset):
            return  # no result for the digits now loaded
        y, pred = self.dataset.y_test, self.evaluation["predictions"]
        hits = np.flatnonzero((y == true_digit) & (pred == predicted))
        shown = hits[:GALLERY_LIMIT]
        kind = "right" if true_digit == predicted else "wrong"
        title = (f"True {true_digit}, answered {predicted} ({kind}): {len(hits)} "
                 f"images" + (f", first {len(shown)} shown" if len(hits) > len(shown)
                              else ""))
        probs = self.evaluation["probabilities"]
        self.window.evaluation_panel.show_gallery(
            title, self.dataset.x_test[shown, 0], shown,
            [f"#{i} {number_text(probs[i, predicted], '{:.0%}')}" for i in shown])

    # Slots

    def _on_input_panel_image_changed(self, canvas_image):
        # Preprocessing waits for the refresh timer, so a fast stroke costs one
        # preprocessing per redraw rather than one per mouse event.
        self._pending_canvas = canvas_image
        self.request_refresh()

    def _on_input_panel_random_sample_requested(self):
        if self.dataset is not None:
            self.show_test_image(int(self._rng.integers(len(self.dataset.x_test))))

    def _on_network_view_map_clicked(self, column, index):
        self._detail = (self._show_map, column, index)
        self._show_map(column, index)

    def _on_network_view_filter_clicked(self, column, index):
        self._detail = (self._show_filter, column, index)
        self._show_filter(column, index)

    def _show_map(self, column, index, bring_to_front=True):
        view = self.window.network_view
        a = view.activation(column)
        if a is None:
            return
        titles = view.columns()
        name = titles[column].replace("\n", ", ")
        gaps = None
        if index < 0:
            values = a[0]
            heading = f"{name}: all {values.size} numbers"
            explanation = ("A dense layer's output is a list of numbers, one per "
                           "neuron; here they are in reading order.")
            rows, cols = vector_grid(values.size)
            grid = np.full(rows * cols, np.nan)
            grid[:values.size] = values
            values = grid.reshape(rows, cols)  # (rows, cols)
            gaps = (np.arange(rows * cols) >= a[0].size).reshape(rows, cols)
        else:
            values = a[0, index]
            heading = f"{name}: map {index} of {a.shape[1]} ({values.shape[0]} × " \
                      f"{values.shape[1]})"
            explanation = (
                "One feature map: each number is how strongly one filter matched the "
                "patch of the previous column under that position. Red means a strong "
                "match, blue an opposite pattern, white nothing."
                if column > 0 else "The 28x28 input: 0 is black, 1 is white ink.")
        levels = (0.0, 1.0) if column in (0, len(titles) - 1) else None
        cmap = GREY_CMAP if column == 0 else PROB_CMAP if column == len(titles) - 1 \
            else SIGNED_CMAP
        self.window.detail_view.show_array(heading, explanation, values, levels, cmap,
                                           bring_to_front=bring_to_front, gaps=gaps)

    def _show_filter(self, column, index, bring_to_front=True):
        w = self.window.network_view.filter_weights(column)
        if w is None:
            return
        f = w[index]  # (C, kh, kw)
        gaps = None
        if f.shape[0] == 1:
            values = f[0]
        else:
            # One tile per input channel, in a grid wider than tall to suit the window.
            rows, cols = grid_shape(f.shape[0], tallness=0.5)
            values = mosaic(f, rows, cols)
            gaps = np.isnan(mosaic(np.zeros_like(f), rows, cols))  # the space between
        view = self.window.network_view
        name = view.columns()[column].replace("\n", ", ")
        many = ""
        if f.shape[0] > 1:
            shown = int(view.filter_channels(column)[index])
            many = (f" This filter reads all the previous layer's maps at once: one "
                    f"{f.shape[1]}×{f.shape[2]} tile per map, in reading order. Its "
                    f"tile in the Network tab is map {shown}'s, the one with the "
                    "largest weights.")
        self.window.detail_view.show_array(
            f"{name}: filter {index} ({' × '.join(map(str, f.shape))})",
            "A filter's weights. The layer slides it over its input and at every "
            "position multiplies these numbers with the pixels under them and adds "
            "the products: big where the input looks like the red pattern." + many,
            values, filter_ref=(column, index), bring_to_front=bring_to_front,
            gaps=gaps)

    def _on_detail_view_edit_filter_requested(self, column, index):
        self.window.playground_panel.open_filter(column - 1, index)
        self.window.show_tab("playground")

    def _on_playground_model_edited(self):
        self._snapshot_outputs = None  # the edit changed the weights they came from
        self._weights_changed = True
        self.my_digits.refresh_predictions()
        self.request_refresh()

    def _on_training_panel_run_requested(self, request):
        self._training_data = training_data_name(request.data_source)
        self._update_data_note()

    def _on_my_digits_fine_tune_requested(self, request):
        self._training_data = None  # fine-tuning mixes in the loaded dataset
        self._update_data_note()
        self.window.training_panel.reset_curves()  # a fresh run on the curves
        self.session.start_trainer(lambda: request.build_trainer(self.session.model))

    def _on_session_weights_updated(self, snapshot):
        if not snapshot.is_from(self.model):
            # Queued before the model was replaced: old weights, maybe another shape.
            return
        snapshot.apply_to(self.view_model)
        self._snapshot_outputs = snapshot.activations  # None without a probe
        self._weights_changed = self._weights_trained = True
        self.request_refresh(TRAINING_REFRESH_MS)

    def _on_session_model_changed(self, model, note):
        self._set_model(model, path=None, note=note)
        spec = arch_of(model)
        if spec is not None:  # a resumed run's network may differ from the editor's
            self.window.training_panel.set_arch(spec)

    def _on_session_running_changed(self, running):
        if running:
            self._trained_model = self.model
        self.window.set_training_note("training…" if running else "")

    def _on_session_finished(self):
        if self._trained_model is not self.model:
            # The run's network was replaced meanwhile: the one shown is unchanged.
            self._evaluate_if_needed()
            return
        # The run is over, so reading the live model is safe again.
        self.view_model.load_state_dict(self.model.state_dict())
        self._snapshot_outputs = None
        self.model_note = "trained in this session" if self.model_path is None \
            else self.model_note
        self._update_title()
        self._weights_changed = self._weights_trained = True
        self.request_refresh()
        self._evaluate_if_needed()

    def _on_new_action_triggered(self):
        if self.confirm_discard("starting a new network"):
            self.new_model()

    def _on_open_action_triggered(self):
        if not self.confirm_discard("opening another model"):
            return
        path = dialogs.ask_open_file(self.window, "Open model", self._last_folder(),
                                     "ConvLab models (*.npz)")
        if path:
            self.open_model(path)

    def _on_recent_model_chosen(self, path):
        if self.confirm_discard("opening another model"):
            self.open_model(path)

    def _on_save_as_action_triggered(self):
        path = dialogs.ask_save_file(self.window, "Save model as", self._last_folder(),
                                     "ConvLab models (*.npz)")
        if not path:
            return False
        if not path.endswith(".npz"):
            path += ".npz"
        return self.save_model(path=path)

    def _on_open_data_action_triggered(self):
        start = read_setting(self.settings, "dataFolder", "", str, [])
        folder = dialogs.ask_directory(self.window, "Open MNIST folder", start)
        if folder:
            self.open_dataset_in_background(folder)

    def _on_export_action_triggered(self):
        path = dialogs.ask_save_file(self.window, "Export to PyTorch",
                                     self._last_folder(), "Python files (*.py)")
        if path:
            self.export_pytorch(path if path.endswith(".py") else path + ".py")

    # Helpers

    def _forget(self, task):
        task.wait()
        if task in self._tasks:
            self._tasks.remove(task)

    def _last_folder(self):
        return str(Path(self.model_path).parent) if self.model_path else ""

    def _message(self, kind, title, text):
        dialogs.show_message(self.window, kind, title, text)
        self._status(title)

    def _update_data_note(self):
        self.window.set_dataset_note(
            None if self.dataset is None else self.dataset.name, self._training_data)

    def _save_setting(self, key, value):
        """Store a preference, unless this window must leave the saved state alone."""
        if self.window.remember_state and not self._starting_fresh:
            self.settings.setValue(key, value)

    def _status(self, text):
        self.window.statusBar().showMessage(text, 8000)


def arch_of(model):
    """The ArchSpec that builds a network like model, or None for any other network."""
    cfgs = [layer.get_config() for layer in model.layers]
    blocks, batch_norm, i = [], False, 0
    try:
        while i < len(cfgs) and cfgs[i]["type"] == "Conv2d":
            conv, i = cfgs[i], i + 1
            if cfgs[i]["type"] == "BatchNorm2d":
                batch_norm, i = True, i + 1
            if cfgs[i]["type"] == "ReLU":
                i += 1
            pool, size = "none", 2
            if cfgs[i]["type"] in ("MaxPool2d", "AvgPool2d"):
                pool = "max" if cfgs[i]["type"] == "MaxPool2d" else "avg"
                size = np.ravel(cfgs[i]["kernel_size"])[0]
                i += 1
            blocks.append(ConvBlock(conv["out_channels"], conv["kernel_size"][0],
                                    conv["stride"][0], conv["padding"][0], pool,
                                    int(size)))
        linears = [c for c in cfgs[i:] if c["type"] == "Linear"]
        dense = linears[0]["out_features"] if len(linears) == 2 else 0
        dropout = next((c["p"] for c in cfgs[i:] if c["type"] == "Dropout"), 0.0)
        spec = ArchSpec(blocks, batch_norm, dense, dropout)
        # Only a spec that rebuilds exactly these layers describes the model.
        same = build(spec, np.random.default_rng(0)).get_config() == model.get_config()
    except (IndexError, KeyError, TypeError, ValueError):
        return None
    return spec if same else None


def training_data_name(source):
    """What the status bar calls a Training-tab data choice; None for the loaded one."""
    if source == BUILTIN_SOURCE:
        return (f"generated digits ({sources.BUILTIN_TRAIN} train, "
                f"{sources.BUILTIN_TEST} test)")
    if source == LOADED_SOURCE or not source:
        return None
    return f"MNIST from {source}"


def _same(pair, other):
    """True when two (model, dataset) pairs hold the very same objects."""
    return pair is not None and all(a is b for a, b in zip(pair, other, strict=True))


def _check_fits_mnist(model):
    """Raise ValueError unless model maps (1, 1, 28, 28) images to 10 class scores."""
    try:
        out = model.activations(np.zeros((1, 1, 28, 28), np.float32))[-1]
    except (ValueError, IndexError) as exc:
        raise ValueError(f"this network cannot read 28x28 digits: {exc}") from exc
    if out.shape != (1, 10):
        raise ValueError(f"this network gives {out.shape[1:]} outputs, not 10 digit "
                         "scores")

