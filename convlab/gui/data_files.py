"""DataFiles: the File menu's dataset actions, opening MNIST and downloading it.

A folder opens on the GUI thread at start-up (open_dataset) and in the background
from the menu (open_dataset_in_background: 70,000 digits take about a second); the
download runs in the background with a progress dialog and then opens what it
fetched. A dataset that loads is handed over with dataset_loaded; one that does not
keeps the digits loaded before, with a message saying what was wrong.
"""

import os

from PyQt5.QtCore import QObject, pyqtSignal
from PyQt5.QtWidgets import QProgressDialog

from convlab.data import sources
from convlab.data.download import DownloadError, download_mnist
from convlab.data.mnist import EXPECTED_FILES, MnistFormatError
from convlab.gui.common import dialogs
from convlab.gui.common.tasks import EXPECTED_FAILURES, BackgroundTask, TaskList
from convlab.gui.model_files import LOAD_ERRORS
from convlab.gui.training.request import BUILTIN_SOURCE, LOADED_SOURCE

DATA_ERRORS = (*LOAD_ERRORS, sources.DataNotFoundError, MnistFormatError)


def training_data_name(source):
    """What the status bar calls a Training-tab data choice; None for the loaded one."""
    if source == BUILTIN_SOURCE:
        return (f"generated digits ({sources.BUILTIN_TRAIN} train, "
                f"{sources.BUILTIN_TEST} test)")
    if source == LOADED_SOURCE or not source:
        return None
    return f"MNIST from {source}"


class _DownloadCancelled(Exception):
    """Raised from the progress callback to abandon a download the student cancelled."""


class DataFiles(QObject):
    """Loads MNIST from a folder or the internet, never losing the digits in use."""

    dataset_loaded = pyqtSignal(object)  # a Dataset, or None: still none loaded
    status_changed = pyqtSignal(str)  # a short note for the status bar

    def __init__(self, window, settings, has_dataset, parent=None):
        """has_dataset() says whether digits are loaded (and so kept on a failure)."""
        super().__init__(parent)
        self.window = window
        self.settings = settings
        self.last_failure = ""  # why the last folder did not load
        self._has_dataset = has_dataset
        self._data_task = None  # the newest dataset load in the background
        self._download = None  # the running download's task
        self._tasks = TaskList()
        window.open_data_action.triggered.connect(self._on_open_data_action_triggered)
        window.download_action.triggered.connect(self.download_mnist)

    def open_at_start(self, data_dir, restore):
        """Open the data the app starts with: data_dir (--data), else the last folder
        (when restore), $CONVLAB_DATA or the download cache, quietly when absent."""
        if data_dir:
            self.open_dataset(data_dir)
            return
        folder = self.settings.read("dataFolder", "", str) if restore else ""
        if not self.open_dataset(folder or None, report=False) and folder:
            self.settings.set_aside.append(("dataFolder",
                                            f"{folder}: {self.last_failure}"))

    def open_dataset(self, folder, report=True):
        """Load MNIST from a folder (None: $CONVLAB_DATA or the download cache).

        On the GUI thread, for the start-up and for tests; the File menu and the
        download use open_dataset_in_background. Returns True when it loaded.
        """
        try:
            dataset = sources.load_dataset(folder)
        except DATA_ERRORS as exc:
            self._failed(str(exc) or type(exc).__name__, report)
            return False
        self._loaded(folder, dataset)
        return True

    def open_dataset_in_background(self, folder):
        """Load MNIST from a folder on a BackgroundTask, keeping the current dataset
        until it has loaded; a failure keeps it too. Returns the task."""
        task = BackgroundTask(lambda report: sources.load_dataset(folder), self,
                              expected=DATA_ERRORS)
        self._data_task = task  # only the newest load is used
        self.status_changed.emit(f"Loading MNIST from {folder}…")
        task.succeeded.connect(lambda dataset: self._loaded(folder, dataset)
                               if task is self._data_task else None)
        task.failed.connect(lambda message: self._failed(message, True)
                            if task is self._data_task else None)
        task.finished.connect(lambda: self._on_data_task_finished(task))
        return self._tasks.start(task)

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
                self._message("Download failed",
                              f"{message}\n\nNothing half-written was kept.")

        def on_finished():
            dialog.close()
            self._download = None

        task.progressed.connect(on_progress)
        task.succeeded.connect(
            lambda folder: self.open_dataset_in_background(str(folder)))
        task.failed.connect(on_failed)
        task.finished.connect(on_finished)
        dialog.show()
        return self._tasks.start(task)

    def shutdown(self):
        """Stop a download and join every background thread (the window is closing)."""
        self._tasks.cancel_all_and_wait()

    def _failed(self, message, report):
        self.last_failure = message
        if report:
            names = "\n".join(f"  {n}" for n in EXPECTED_FILES)
            text = message
            if not all(n in text for n in EXPECTED_FILES):
                text += f"\n\nMNIST is these four files:\n{names}"
            kept = "\n\nThe digits loaded before are still in use." \
                if self._has_dataset() else ""
            self._message("No MNIST in that folder", text + kept)
        else:
            self.status_changed.emit("No dataset yet: File > Open dataset folder or "
                                     "File > Download MNIST.")
        if not self._has_dataset():
            self.dataset_loaded.emit(None)  # still say in every panel data is missing

    def _loaded(self, folder, dataset):
        if folder:
            # Absolute: a folder given relative to where the app was started
            # (--data mnist) must still be found at the next start.
            self.settings.save("dataFolder", os.path.abspath(folder))
        self.dataset_loaded.emit(dataset)
        self.status_changed.emit(f"Loaded {dataset.name.split(' from ')[0]}")

    def _message(self, title, text):
        dialogs.show_message(self.window, "error", title, text)
        self.status_changed.emit(title)

    # Slots

    def _on_data_task_finished(self, task):
        if task is self._data_task:
            self._data_task = None

    def _on_open_data_action_triggered(self):
        start = self.settings.peek("dataFolder", "", str)
        folder = dialogs.ask_directory(self.window, "Open MNIST folder", start)
        if folder:
            self.open_dataset_in_background(folder)
