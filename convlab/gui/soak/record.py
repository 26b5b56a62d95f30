"""What the soak records while the student works, and the guards around it.

The Recorder collects every incident with the actions that led to it; recording()
installs the hooks and the automatic dialog answers; the Watchdog breaks a freeze
of the GUI thread. The floors every soak must meet are set here too.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
import traceback
import warnings
import weakref
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import numpy as np

STALL_FLOOR_MS = 1000.0
RSS_FLOOR_MB = 300.0
FLOORS = {
    "no unhandled exception": lambda r: r["exceptions"]["count"] == 0,
    "max stall < 1 s": lambda r: (r["stalls"]["max_ms"] < STALL_FLOOR_MS
                                  and r["freeze"] is None),
    "RSS growth < 300 MB": lambda r: r["memory"]["growth_mb"] < RSS_FLOOR_MB,
    "clean close": lambda r: r["close"]["clean"],
    "no broken invariant": lambda r: not r["violations"],
}
# Messages the offscreen platform prints by itself, whatever the app does.
BENIGN_QT_MESSAGES = ("This plugin does not support", "XDG_RUNTIME_DIR")
RECENT = 12  # actions listed with each incident
FREEZE_S = 20.0  # a GUI thread silent this long is frozen


def rss_mb() -> float:
    """This process's resident set size in MB (peak size where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import resource

        # ru_maxrss is in KB on Linux, bytes on macOS; only a fallback.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (2**20 if sys.platform == "darwin" else 2**10)


class Recorder:
    """Collects exceptions, Qt warnings, dialogs and broken invariants, each with
    the action during which it happened and the actions before it."""

    def __init__(self):
        self.log = []  # "index name: description" of every action so far
        self.exceptions = {}  # signature -> incident dict
        self.violations = {}  # message -> incident dict
        self.qt_messages = Counter()
        self.warnings = Counter()  # "category: message at file:line"
        self.dialogs = Counter()  # (function, kind or answer, title)
        self.dialog_texts = {}  # "kind: title" -> the first message box's text
        self._lock = threading.Lock()  # hooks fire in worker threads too

    def action(self):
        """The action under way, as logged."""
        return self.log[-1] if self.log else "(setup)"

    def _incident(self, store, key, details):
        with self._lock:
            if key in store:
                store[key]["count"] += 1
                return
            store[key] = {"count": 1, "action": self.action(),
                          "recent_actions": self.log[-RECENT:], **details}

    def exception(self, exc_type, exc, tb, where):
        stack = "".join(traceback.format_exception(exc_type, exc, tb))
        frames = traceback.extract_tb(tb)
        last = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
        key = f"{exc_type.__name__} at {last}"
        self._incident(self.exceptions, key, {
            "type": exc_type.__name__, "message": str(exc), "where": where,
            "stack": stack})

    def violation(self, message, details=""):
        self._incident(self.violations, message, {"details": details})

    def qt_message(self, msg_type, message):
        from PyQt5.QtCore import QtMsgType

        if msg_type == QtMsgType.QtDebugMsg or any(
                b in message for b in BENIGN_QT_MESSAGES):
            return
        with self._lock:
            self.qt_messages[message] += 1

    def warning(self, message, category, filename, lineno, *_):
        with self._lock:
            self.warnings[f"{category.__name__}: {message} at {filename}:{lineno}"] += 1

    def dialog(self, function, kind, title, text=""):
        self.dialogs[function, kind, title] += 1
        if text:
            self.dialog_texts.setdefault(f"{kind}: {title}", text)


@contextmanager
def recording(recorder, answers):
    """Install the hooks and the automatic dialog answers; undo them afterwards."""
    from PyQt5.QtCore import QThread, qInstallMessageHandler
    from PyQt5.QtWidgets import QApplication

    from convlab.gui.common import dialogs

    def excepthook(exc_type, exc, tb):
        if issubclass(exc_type, SoakFrozen):
            # The Watchdog broke a freeze: hidden windows paint nothing, so the
            # same paint cannot freeze the GUI thread again.
            for widget in QApplication.topLevelWidgets():
                widget.hide()
            return
        recorder.exception(exc_type, exc, tb, threading.current_thread().name)

    def thread_excepthook(args):
        recorder.exception(args.exc_type, args.exc_value, args.exc_traceback,
                           getattr(args.thread, "name", "thread"))

    previous_handler = None

    def message_handler(msg_type, context, message):
        recorder.qt_message(msg_type, message)
        if previous_handler is not None:
            previous_handler(msg_type, context, message)

    saved = {name: getattr(dialogs, name) for name in
             ("show_message", "ask_save_changes", "ask_open_file", "ask_save_file",
              "ask_directory")}
    dialogs.show_message = lambda parent, kind, title, text: recorder.dialog(
        "show_message", kind, title, text)
    dialogs.ask_save_changes = lambda parent, title, *_: answers.answer("changes",
                                                                         title)
    dialogs.ask_open_file = lambda parent, title, *_: answers.answer("open", title)
    dialogs.ask_save_file = lambda parent, title, *_: answers.answer("save", title)
    dialogs.ask_directory = lambda parent, title, *_: answers.answer("folder", title)
    started = []  # weak references to every QThread started during the soak
    original_start = QThread.start

    def start(thread, *args):
        started.append(weakref.ref(thread))
        return original_start(thread, *args)

    QThread.start = start
    old_hooks = sys.excepthook, threading.excepthook
    sys.excepthook, threading.excepthook = excepthook, thread_excepthook
    previous_handler = qInstallMessageHandler(message_handler)
    try:
        with warnings.catch_warnings():
            # Every overflow or NaN warning counts, not only the first per line.
            warnings.simplefilter("always")
            warnings.showwarning = recorder.warning
            yield started
    finally:
        qInstallMessageHandler(previous_handler)
        sys.excepthook, threading.excepthook = old_hooks
        QThread.start = original_start
        for name, function in saved.items():
            setattr(dialogs, name, function)


class DialogAnswers:
    """Answers the file choosers (sometimes a cancel, sometimes a path) and the
    save-changes question, seeded."""

    def __init__(self, recorder, folder, data_folder, seed):
        self._recorder = recorder
        self._rng = np.random.default_rng([seed, 1])
        folder = Path(folder)
        self.broken_model = folder / "broken.npz"
        self.broken_model.write_bytes(b"this is not a model file")
        self.saved_model = folder / "saved.npz"
        self.empty_folder = folder / "no-mnist"
        self.empty_folder.mkdir()
        self._choices = {
            "open": ["", str(self.broken_model), str(self.saved_model)],
            "save": ["", str(folder / "saved")],  # the app adds the extension
            "folder": ["", str(self.empty_folder)]
            + ([str(data_folder)] if data_folder else []),
            # "Save changes?" before replacing trained weights.
            "changes": ["save", "discard", "cancel"],
        }

    def answer(self, what, title):
        choice = str(self._rng.choice(self._choices[what]))
        if what == "open" and choice and not Path(choice).is_file():
            choice = ""  # nothing saved yet: the student cancels
        self._recorder.dialog(f"ask_{what}", choice or "cancel", title)
        return choice


def named(root, cls, name):
    """The child widget of class cls whose accessible name is name."""
    for widget in root.findChildren(cls):
        if widget.accessibleName() == name:
            return widget
    raise LookupError(f"no {cls.__name__} named {name!r}")


def spin(seconds):
    """Run the Qt event loop for seconds (the GUI thread stays free meanwhile)."""
    from convlab.gui.bench import spin as bench_spin

    bench_spin(seconds)


class SoakFrozen(Exception):
    """Raised into the GUI thread by the Watchdog to end a freeze."""


class Watchdog:
    """Breaks a freeze of the GUI thread and keeps its stack for the report.

    The soak runs in the GUI thread, so a frozen event loop would freeze the soak
    too. A plain thread watches a heartbeat timer; after FREEZE_S without one it
    keeps the GUI thread's stack and raises SoakFrozen in it (which works while the
    thread runs Python code, such as a pyqtgraph paint). The excepthook then hides
    the windows, so the same paint cannot freeze it again, and the soak goes on to
    its report. A freeze in C code that outlasts 2 * FREEZE_S ends the process
    (exit code 3) after printing the stack.
    """

    def __init__(self, recorder):
        from PyQt5.QtCore import QTimer

        self.freeze = None  # {"seconds", "action", "recent_actions", "stack"}
        self._recorder = recorder
        self._gui = threading.get_ident()
        self._beat = time.monotonic()
        self._timer = QTimer()
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="soak watchdog",
                                        daemon=True)
        self._thread.start()

    def _on_timer_timeout(self):
        self._beat = time.monotonic()

    def _watch(self):
        while not self._done.wait(1.0):
            silent = time.monotonic() - self._beat
            if silent > FREEZE_S and self.freeze is None:
                self.freeze = {"seconds": round(silent),
                               "action": self._recorder.action(),
                               "recent_actions": self._recorder.log[-RECENT:],
                               "stack": self._gui_stack()}
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(self._gui), ctypes.py_object(SoakFrozen))
            elif silent > 2 * FREEZE_S:
                sys.stderr.write(
                    f"soak: the GUI thread has not answered for {silent:.0f} s "
                    f"during {self._recorder.action()}\nactions before: "
                    + " | ".join(self._recorder.log[-RECENT:])
                    + f"\nGUI thread stack:\n{self._gui_stack()}")
                sys.stderr.flush()
                os._exit(3)

    def _gui_stack(self):
        frame = sys._current_frames().get(self._gui)
        return "".join(traceback.format_stack(frame)) if frame else "?"

    def stop(self):
        self._timer.stop()
        self._done.set()
        self._thread.join()
