"""ConvLab's own sys.excepthook and threading.excepthook for the GUI's whole life.

Without them an exception in a slot reaches only the terminal (pyqtgraph installs a
hook that prints it), so a student sees a button that silently did nothing. With
them the traceback goes to the terminal and to a log file, and a message says what
happened and that the window, the model and the digits are still there.
"""

import sys
import threading
import traceback
from pathlib import Path

from PyQt5.QtCore import QObject, QStandardPaths, pyqtSignal, pyqtSlot

from convlab.gui.common import dialogs

LOG_NAME = "errors.log"
MAX_LOG_BYTES = 1_000_000  # then the log starts again, the older part kept once


def log_folder():
    """The app's data folder, where the error log is kept."""
    return Path(QStandardPaths.writableLocation(QStandardPaths.AppDataLocation))


class ErrorReporter(QObject):
    """Logs an unhandled exception and shows one message about it.

    report() may be called from any thread: the message travels to the GUI thread
    through a queued signal, because only that thread may touch a widget.
    """

    _show = pyqtSignal(str)

    def __init__(self, window_of=lambda: None, folder=None):
        super().__init__()
        self._window_of = window_of  # the window the message belongs to, or None
        self._folder = folder
        self._busy = threading.local()  # set while this thread is reporting
        self._box = None  # the message on show, so a repeating error shows one
        self._show.connect(self._on_show)

    @property
    def log_path(self):
        return (self._folder or log_folder()) / LOG_NAME

    def report(self, exc_type, exc, tb, where="the window"):
        """Print and log the traceback, then ask the GUI thread to show a message."""
        if getattr(self._busy, "on", False):
            return  # reporting itself failed: never loop
        self._busy.on = True
        try:
            text = "".join(traceback.format_exception(exc_type, exc, tb))
            print(f"ConvLab: unexpected error in {where}\n{text}", file=sys.stderr)
            logged = self._write_log(f"In {where}:\n{text}")
            summary = "".join(traceback.format_exception_only(exc_type, exc)).strip()
            details = (f"The details are in {self.log_path}." if logged else
                       "The details were printed in the terminal.")
            self._show.emit(
                f"Something went wrong in {where}:\n\n{summary}\n\nConvLab is still "
                "running and your work is kept: the network, its weights, your "
                "drawing and your digits are as they were, though the action that "
                "failed may not have finished. Save your model to be safe. "
                f"{details} Please include them if you report the problem.")
        except Exception:  # the report must never raise in its turn
            traceback.print_exc()
        finally:
            self._busy.on = False

    def _write_log(self, text):
        path = self.log_path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_file() and path.stat().st_size > MAX_LOG_BYTES:
                path.replace(path.with_name(LOG_NAME + ".old"))
            with path.open("a", encoding="utf-8") as log:
                log.write(text + "\n")
        except OSError:
            return False
        return True

    @pyqtSlot(str)
    def _on_show(self, text):
        try:
            if self._box is not None and self._box.isVisible():
                return  # one message at a time: a slot failing on every redraw
        except RuntimeError:  # that message was closed and deleted
            pass
        try:
            self._box = dialogs.show_message(self._window_of(), "error",
                                             "Unexpected error", text)
        except RuntimeError:  # the window is already gone
            self._box = None

    def excepthook(self, exc_type, exc, tb):
        """sys.excepthook: Ctrl+C still ends the app; every other error is shown."""
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.report(exc_type, exc, tb)

    def threading_excepthook(self, args):
        """threading.excepthook, for plain Python threads."""
        if issubclass(args.exc_type, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "a thread"
        self.report(args.exc_type, args.exc_value, args.exc_traceback,
                    where=f"background thread {name}")


def install(window_of=lambda: None, folder=None):
    """Make an ErrorReporter the handler of every unhandled exception; returns it.

    Call it once the QApplication exists and pyqtgraph is imported (pyqtgraph
    replaces sys.excepthook when it loads).
    """
    reporter = ErrorReporter(window_of, folder)
    sys.excepthook = reporter.excepthook
    threading.excepthook = reporter.threading_excepthook
    return reporter
