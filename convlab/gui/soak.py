"""`python -m convlab bench soak`: a seeded random student pokes the real window.

The real main window runs offscreen on real MNIST (or a few generated digits) while
a seeded "student" does what students do, through the widgets themselves: draws,
undoes and clears strokes, switches tabs, types numbers, text, NaN, inf and huge
values into kernel cells, pushes stride, padding and pooling to their limits,
starts, pauses, steps and stops training, changes the learning rate mid-run (also
to 1 and 10), asks for new random weights, clicks the confusion matrix, switches
network filters off, freezes and resets them, labels drawings for My digits and
removes them, picks test images, opens broken model files. Dialogs are answered
automatically (message boxes recorded, file choosers given a path or a cancel).

Measured meanwhile:

* exceptions: everything that reaches sys.excepthook or threading.excepthook, and
  anything an action itself raises, with its stack and the actions before it;
* Qt warnings (qInstallMessageHandler);
* broken promises the window makes (invariants): Step one batch adds a point to
  the curves, the GUI's copy of the network equals the live one when no run is
  going, the probabilities on show are finite and add up to 1;
* GUI stalls: how late a 10 ms QTimer fires (the GuiProbe of `bench gui`), with the
  action that was running;
* memory: resident set size after a warm-up (every action once) and at the end;
* a clean close: window.close() while a run trains, every thread joined, timed.

The actions are drawn from the seed alone (never from the window's state), so the
same seed replays the same sequence; the window decides what each one does.
Floors: no exception, no stall of 1 s or more, RSS growth under 300 MB, clean close,
no broken invariant.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import math
import os
import sys
import tempfile
import threading
import time
import traceback
import warnings
import weakref
from collections import Counter
from contextlib import contextmanager, suppress
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
STALL_LISTED_MS = 150.0  # stalls this long are listed with their action
STEP_WAIT_S = 10.0  # how long one Step one batch may take to show its point
RUN_WAIT_S = 30.0  # how long the closing run may take to report its first weights
FREEZE_S = 20.0  # a GUI thread silent this long is frozen

# What a student types into a kernel cell: numbers, mistakes and traps.
CELL_TEXTS = ("0", "1", "-1", "0.5", "-0.25", "2", "1e-3", " 3 ", "", "abc", "1,5",
              "nan", "NaN", "inf", "-inf", "1e30", "-1e30", "1e31", "1e300",
              "9" * 40, "0x10", "½", "1e-320")
# What a student types into the learning rate box (its range is 1e-5..1).
LR_TEXTS = ("0.001", "0.0001", "0.01", "0.1", "1", "10", "1.0", "0", "abc",
            "0.00001")
TABS = 5
GALLERY_PICK = 120  # the controller shows at most this many images per cell
DATA_TRAIN, DATA_TEST = 2000, 500  # generated digits when there is no MNIST

# Relative frequency of each action in the random phase.
WEIGHTS = {
    "draw": 10, "undo": 3, "clear": 3, "brush": 1, "test_image": 3, "tab": 4,
    "network_map": 2, "network_filter": 3, "kernel_cell": 8, "kernel_size": 3,
    "kernel_preset": 3, "kernel_action": 2, "kernel_bank": 2, "pg_stride": 2,
    "pg_padding": 2, "pg_pooling": 2, "pg_input": 1, "pg_cell": 1,
    "filter_tool": 5, "train_start": 4, "train_pause": 3, "train_step": 4,
    "train_stop": 3, "train_reinit": 2, "train_lr": 3, "train_settings": 2,
    "arch_edit": 3, "arch_preset": 2, "new_network": 1, "evaluate": 2,
    "confusion_cell": 3, "gallery": 2, "my_digit": 3, "my_digit_remove": 2,
    "fine_tune": 1, "open_model": 1, "save_model": 1, "export": 1,
    "open_data": 1, "guide": 1,
}


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m convlab bench soak", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=480.0,
                        help="length of the soak, warm-up included (default 480)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the action sequence (the same seed replays it)")
    parser.add_argument("--data", metavar="DIR",
                        help="MNIST folder (default: $CONVLAB_DATA or the download "
                             "cache; a few generated digits when there is none)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser.parse_args(argv)


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


def load_soak_data(folder):
    """(dataset, folder or None): MNIST if found, else a few generated digits."""
    from convlab.data import sources

    try:
        found = sources.find_mnist(folder)
    except sources.DataNotFoundError:
        if folder is not None:
            raise
    else:
        return sources.load_dataset(found), found
    from convlab.data.synthetic import generate_digits

    # Drawing digits is slow; a couple of thousand are plenty to train on and test.
    x, y = generate_digits(DATA_TRAIN + DATA_TEST, np.random.default_rng(0))
    x = np.asarray(x, np.float32)[:, None]  # (N, 28, 28) -> (N, 1, 28, 28)
    y = np.asarray(y, np.int64)
    dataset = sources.Dataset(
        f"generated digits ({DATA_TRAIN} train, {DATA_TEST} test)",
        x[:DATA_TRAIN], y[:DATA_TRAIN], x[DATA_TRAIN:], y[DATA_TRAIN:])
    return dataset, None


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


class Student:
    """The actions, each done through the window's widgets as a student would."""

    def __init__(self, window, recorder):
        from PyQt5.QtWidgets import (
            QAbstractButton,
            QCheckBox,
            QComboBox,
            QPushButton,
            QSpinBox,
            QTabBar,
        )

        self.window = window
        self.recorder = recorder
        pg = window.playground_panel
        self.pg = {name: named(pg, cls, name) for cls, name in (
            (QSpinBox, "Kernel size"), (QComboBox, "Kernel preset"),
            (QSpinBox, "Stride"), (QComboBox, "Padding"), (QComboBox, "Pooling type"),
            (QSpinBox, "Pool size"), (QSpinBox, "Pool stride"),
            (QComboBox, "Input size"),
            (QCheckBox, "Show max and average pooling side by side"),
            (QTabBar, "Filter bank kernels"),
            (QPushButton, "Add a kernel to the filter bank"),
            (QPushButton, "Remove the kernel from the filter bank"),
            (QPushButton, "Switch the filter off"), (QCheckBox, "Freeze the filter"),
            (QPushButton, "Reset the filter to its learned values"),
            (QPushButton, "Close the network filter"),
            (QPushButton, "Measure test accuracy now"),
            (QSpinBox, "Input channel of the filter"),
        )}
        self.kernel_actions = [b for b in pg.findChildren(QAbstractButton)
                               if b.accessibleName().startswith("Kernel action:")]

    # Helpers

    def _tab(self, index):
        """Click a tab's title, as a student changes tabs."""
        from PyQt5.QtCore import Qt
        from PyQt5.QtTest import QTest

        bar = self.window.tabs.tabBar()
        if bar.currentIndex() != index:
            QTest.mouseClick(bar, Qt.LeftButton, pos=bar.tabRect(index).center())

    def _type(self, widget, text):
        """Select what is in a field, type text and press Enter."""
        from PyQt5.QtCore import Qt
        from PyQt5.QtTest import QTest

        widget.selectAll()
        if text:
            QTest.keyClicks(widget, text)
        else:
            QTest.keyClick(widget, Qt.Key_Backspace)
        QTest.keyClick(widget, Qt.Key_Return)

    @staticmethod
    def _click(button):
        """Click a button if a student could (enabled and on screen)."""
        if button.isEnabled() and button.isVisible():
            button.click()
            return "clicked"
        return "disabled"

    @staticmethod
    def _choose(combo, index):
        """Pick an item of a combo box as a student does (activated is emitted)."""
        if not combo.isEnabled():
            return "disabled"
        combo.setCurrentIndex(index)
        combo.activated.emit(index)
        return combo.itemText(index)

    @staticmethod
    def _set(spin, value):
        if not spin.isEnabled():
            return "disabled"
        spin.setValue(int(value))
        return str(spin.value())

    @staticmethod
    def _pick(rng, options):
        return options[int(rng.integers(len(options)))]

    def _drag(self, widget, points):
        """Press at the first point, move through the others, release at the last."""
        from PyQt5.QtCore import QEvent, QPoint, QPointF, Qt
        from PyQt5.QtGui import QMouseEvent
        from PyQt5.QtTest import QTest
        from PyQt5.QtWidgets import QApplication

        QTest.mousePress(widget, Qt.LeftButton, pos=QPoint(*points[0]))
        for x, y in points[1:]:
            # QTest's mouseMove does not deliver move events offscreen; send real ones.
            QApplication.sendEvent(widget, QMouseEvent(
                QEvent.MouseMove, QPointF(x, y), Qt.NoButton, Qt.LeftButton,
                Qt.NoModifier))
        QTest.mouseRelease(widget, Qt.LeftButton, pos=QPoint(*points[-1]))

    def _click_item(self, graphics, item, x, y):
        """Click a pyqtgraph item at its own coordinates through the real view."""
        from PyQt5.QtCore import QPointF, Qt
        from PyQt5.QtTest import QTest

        pos = graphics.mapFromScene(item.mapToScene(QPointF(x, y)))
        QTest.mouseClick(graphics.viewport(), Qt.LeftButton, pos=pos)

    def _click_cell(self, view, rect):
        from PyQt5.QtCore import Qt
        from PyQt5.QtTest import QTest

        QTest.mouseClick(view.viewport(), Qt.LeftButton, pos=rect.center())

    def _open_filter(self, rng):
        """Click a conv filter in the Network tab and open it in the Playground."""
        self._tab(0)
        view = self.window.network_view
        columns = [c for c in range(len(view.columns()))
                   if view.filter_item(c) is not None]
        if not columns:
            return "no conv filter"
        column = self._pick(rng, columns)
        item = view.filter_item(column)
        index = int(rng.integers(max(item.count, 1)))
        self._click_item(view.graphics, item, *item.tile_center(index))
        detail = self.window.detail_view
        return (f"filter {index} of column {column}, "
                + self._click(detail.edit_button))

    # Actions: each takes its own seeded generator and returns what it did.

    def draw(self, rng):
        n = int(rng.integers(2, 8))
        points = [tuple(int(v) for v in rng.integers(5, 275, 2)) for _ in range(n)]
        self._drag(self.window.input_panel.canvas, points)
        return f"stroke through {points}"

    def undo(self, rng):
        return self._click(self.window.input_panel.undo_button)

    def clear(self, rng):
        return self._click(self.window.input_panel.clear_button)

    def brush(self, rng):
        slider = self.window.input_panel.brush_slider
        slider.setValue(int(rng.integers(slider.minimum(), slider.maximum() + 1)))
        return f"brush {slider.value()}"

    def test_image(self, rng):
        panel = self.window.input_panel
        index = int(rng.integers(10_000))
        if rng.random() < 0.5:
            return "random: " + self._click(panel.random_button)
        if not panel.sample_spin.isEnabled():
            return "no test set"
        panel.sample_spin.setValue(index)
        return f"test image {panel.sample_spin.value()}: " \
            + self._click(panel.show_sample_button)

    def tab(self, rng):
        index = int(rng.integers(TABS))
        self._tab(index)
        return f"tab {index}"

    def network_map(self, rng):
        self._tab(0)
        view = self.window.network_view
        column = int(rng.integers(len(view.columns())))
        item = view.column_item(column)
        index = int(rng.integers(max(item.count, 1)))
        self._click_item(view.graphics, item, *item.tile_center(index))
        close = rng.random() < 0.5
        if close:
            self._click(self.window.detail_view.close_button)
        return f"map {index} of column {column}" + (", closed" if close else "")

    def network_filter(self, rng):
        return self._open_filter(rng)

    def kernel_cell(self, rng):
        self._tab(4)
        editor = self.window.playground_panel.editor
        size = editor.kernel().shape[0]
        row, col = (int(v) for v in rng.integers(0, 7, 2))
        text = self._pick(rng, CELL_TEXTS)
        row, col = row % size, col % size
        self._type(editor.cell(row, col), text)
        return f"cell ({row}, {col}) <- {text!r}"

    def kernel_size(self, rng):
        self._tab(4)
        spin = self.pg["Kernel size"]
        value = self._pick(rng, (spin.minimum(), spin.maximum(),
                                 int(rng.integers(1, 8))))
        return "size " + self._set(spin, value)

    def kernel_preset(self, rng):
        self._tab(4)
        combo = self.pg["Kernel preset"]
        return self._choose(combo, int(rng.integers(1, combo.count())))

    def kernel_action(self, rng):
        self._tab(4)
        button = self._pick(rng, self.kernel_actions)
        return f"{button.text()}: {self._click(button)}"

    def kernel_bank(self, rng):
        self._tab(4)
        tabs = self.pg["Filter bank kernels"]
        what = int(rng.integers(3))
        if what == 0:
            return "add: " + self._click(self.pg["Add a kernel to the filter bank"])
        if what == 1:
            return "remove: " + self._click(
                self.pg["Remove the kernel from the filter bank"])
        index = int(rng.integers(4)) % max(tabs.count(), 1)
        if tabs.isVisible():
            tabs.setCurrentIndex(index)
        return f"kernel K{index + 1}"

    def pg_stride(self, rng):
        self._tab(4)
        spin = self.pg["Stride"]
        return "stride " + self._set(spin, self._pick(rng, (1, 4, 2, 3)))

    def pg_padding(self, rng):
        self._tab(4)
        combo = self.pg["Padding"]
        return "padding " + self._choose(combo, int(rng.integers(combo.count())))

    def pg_pooling(self, rng):
        self._tab(4)
        what = int(rng.integers(4))
        if what == 0:
            combo = self.pg["Pooling type"]
            return "pooling " + self._choose(combo, int(rng.integers(combo.count())))
        if what == 3:
            box = self.pg["Show max and average pooling side by side"]
            box.click()
            return f"max vs average {box.isChecked()}"
        spin = self.pg["Pool size" if what == 1 else "Pool stride"]
        value = self._pick(rng, (spin.minimum(), spin.maximum(), 2))
        return f"{spin.accessibleName()} " + self._set(spin, value)

    def pg_input(self, rng):
        self._tab(4)
        combo = self.pg["Input size"]
        return "input " + self._choose(combo, int(rng.integers(combo.count())))

    def pg_cell(self, rng):
        """Click an output cell: the step-through walks to its window."""
        self._tab(4)
        panel = self.window.playground_panel
        view = self._pick(rng, (panel.maps.conv_view, panel.maps.relu_view,
                                     panel.maps.pool_view))
        r, c = (float(v) for v in rng.random(2))
        shown = view.current_map()
        if shown is None or not view.isVisible() or shown.ndim != 2:
            return "no map"
        row, col = int(r * shown.shape[0]), int(c * shown.shape[1])
        view.cell_clicked.emit(row, col)
        return f"cell ({row}, {col}) of {view.accessibleName() or 'map'}"

    def filter_tool(self, rng):
        what = int(rng.integers(7))
        if not self.pg["Close the network filter"].isVisible() or what == 6:
            return "open " + self._open_filter(rng)
        self._tab(4)
        if what == 5:
            spin = self.pg["Input channel of the filter"]
            if not spin.isVisible():
                return "one channel only"
            return "channel " + self._set(
                spin, rng.integers(spin.minimum(), spin.maximum() + 1))
        name = ("Switch the filter off", "Freeze the filter",
                "Reset the filter to its learned values", "Close the network filter",
                "Measure test accuracy now")[what]
        return f"{name}: {self._click(self.pg[name])}"

    def train_start(self, rng):
        self._tab(1)
        return self._click(self.window.training_panel.start)

    def train_pause(self, rng):
        self._tab(1)
        button = self.window.training_panel.pause
        return f"{button.text()}: {self._click(button)}"

    def train_step(self, rng):
        """Step one batch; the curves must then show that batch's point."""
        self._tab(1)
        panel = self.window.training_panel
        if not (panel.step.isEnabled() and panel.step.isVisible()):
            return "disabled"
        before = panel.curves.curve_points("loss", "step")
        failures = self._failure_count()
        panel.step.click()
        deadline = time.monotonic() + STEP_WAIT_S
        while (panel.curves.curve_points("loss", "step") == before
               and self._failure_count() == failures
               and time.monotonic() < deadline):
            spin(0.02)
        if panel.curves.curve_points("loss", "step") == before \
                and self._failure_count() == failures:
            self.recorder.violation(
                "Step one batch added no point to the loss curve",
                f"still {before} points after {STEP_WAIT_S:g} s; state "
                f"{self.window.controller.session.state}")
        after = panel.curves.curve_points("loss", "step")
        return f"clicked ({before} -> {after} points)"

    def _failure_count(self):
        return sum(n for (_, kind, _), n in self.recorder.dialogs.items()
                   if kind == "error")

    def train_stop(self, rng):
        self._tab(1)
        return self._click(self.window.training_panel.stop)

    def train_reinit(self, rng):
        self._tab(1)
        return self._click(self.window.training_panel.reinit)

    def train_lr(self, rng):
        self._tab(1)
        text = self._pick(rng, LR_TEXTS)
        box = self.window.training_panel.settings.lr
        self._type(box, text)
        return f"typed {text!r}: lr {box.value():g}"

    def train_settings(self, rng):
        self._tab(1)
        panel = self.window.training_panel
        what = int(rng.integers(4))
        if what == 0:
            optimizer = panel.settings.optimizer
            return "optimizer " + self._choose(
                optimizer, int(rng.integers(optimizer.count())))
        if what == 1:
            # Batches up to 256: a 1024-image batch of 32-filter maps is a
            # memory test of its own, not what this soak watches.
            return "batch " + self._set(panel.settings.batch_size,
                                        self._pick(rng, (1, 2, 16, 64, 256)))
        if what == 2:
            return "epochs " + self._set(panel.settings.epochs,
                                         self._pick(rng, (1, 2, 100)))
        if not panel.settings.augment.isEnabled():
            return "augment disabled"
        panel.settings.augment.click()
        return f"augment {panel.settings.augment.isChecked()}"

    def arch_edit(self, rng):
        """Edit the architecture; extremes make it impossible, which must be said."""
        self._tab(1)
        panel = self.window.training_panel
        blocks = panel.arch_editor.blocks
        block = blocks[int(rng.integers(len(blocks)))]
        what = int(rng.integers(8))
        if what == 0:
            return "blocks " + self._set(panel.arch_editor.block_count,
                                         rng.integers(1, 4))
        if what == 1:
            # Up to 32 filters, for the same reason as the batch size.
            return "filters " + self._set(block.filters,
                                          self._pick(rng, (1, 4, 8, 32)))
        if what == 5:
            return "pool " + self._choose(block.pool,
                                          int(rng.integers(block.pool.count())))
        if what == 6:
            if not panel.arch_editor.batch_norm.isEnabled():
                return "batch norm disabled"
            panel.arch_editor.batch_norm.click()
            return f"batch norm {panel.arch_editor.batch_norm.isChecked()}"
        if what == 7:
            return "dense " + self._set(panel.arch_editor.dense,
                                        self._pick(rng, (0, 16, 128)))
        spin = (block.kernel, block.stride, block.padding, block.pool_size)[what - 2]
        value = self._pick(rng, (spin.minimum(), spin.maximum(),
                                 int(rng.integers(spin.minimum(),
                                                  spin.maximum() + 1))))
        return f"{spin.accessibleName()} " + self._set(spin, value)

    def arch_preset(self, rng):
        self._tab(1)
        combo = self.window.training_panel.arch_editor.preset
        names = [i for i in range(combo.count()) if combo.itemData(i) is not None]
        return "preset " + self._choose(combo, self._pick(rng, names))

    def new_network(self, rng):
        self.window.new_action.trigger()
        return "File > New network"

    def evaluate(self, rng):
        self._tab(3)
        return self._click(self.window.evaluation_panel.evaluate_button)

    def confusion_cell(self, rng):
        self._tab(3)
        table = self.window.evaluation_panel.confusion
        row, col = (int(v) for v in rng.integers(0, 10, 2))
        if rng.random() < 0.5:
            row = col  # the diagonal holds most images
        self._click_cell(table, table.visualItemRect(table.item(row, col)))
        return f"cell ({row}, {col})"

    def gallery(self, rng):
        self._tab(3)
        panel = self.window.evaluation_panel
        gallery = panel.gallery if rng.random() < 0.5 else panel.mistakes
        index = int(rng.integers(GALLERY_PICK))
        if gallery.count() == 0:
            return "empty gallery"
        item = gallery.item(index % gallery.count())
        self._click_cell(gallery, gallery.visualItemRect(item))
        return f"{gallery.accessibleName()} item {index % gallery.count()}"

    def my_digit(self, rng):
        """Draw, then press a digit key (or click its button) to keep the drawing."""
        from PyQt5.QtCore import Qt
        from PyQt5.QtTest import QTest

        digit = int(rng.integers(10))
        stroke = self.draw(rng)
        if rng.random() < 0.7:
            QTest.keyClick(self.window, Qt.Key_0 + digit)
            return f"{stroke}, key {digit}"
        self._tab(2)
        button = self.window.my_digits_panel.label_buttons[digit]
        return f"{stroke}, button {digit}: {self._click(button)}"

    def my_digit_remove(self, rng):
        from PyQt5.QtCore import Qt
        from PyQt5.QtTest import QTest

        self._tab(2)
        panel = self.window.my_digits_panel
        gallery = panel.gallery
        picks = [int(v) for v in rng.integers(0, 50, int(rng.integers(1, 4)))]
        with_key = rng.random() < 0.5
        if gallery.count() == 0:
            return "nothing to remove"
        rows = sorted({index % gallery.count() for index in picks})
        gallery.clearSelection()
        for row in rows:
            gallery.item(row).setSelected(True)
        if with_key:
            QTest.keyClick(gallery, Qt.Key_Delete)
            return f"Delete on {rows}"
        return f"remove {rows}: {self._click(panel.remove_button)}"

    def fine_tune(self, rng):
        self._tab(2)
        return self._click(self.window.my_digits_panel.fine_tune_button)

    def open_model(self, rng):
        self.window.open_action.trigger()
        return "File > Open model"

    def save_model(self, rng):
        self.window.save_as_action.trigger()
        return "File > Save model as"

    def export(self, rng):
        self.window.export_action.trigger()
        return "File > Export to PyTorch"

    def open_data(self, rng):
        self.window.open_data_action.trigger()
        return "File > Open dataset folder"

    def guide(self, rng):
        """Open the guide from the Help menu, then close it again."""
        from PyQt5.QtWidgets import QAction, QDialog

        action = next(a for a in self.window.findChildren(QAction)
                      if a.text() == "How a CNN sees your digit")
        action.trigger()
        for dialog in self.window.findChildren(QDialog):
            if dialog.windowTitle() == "How a CNN sees your digit":
                dialog.close()
        return "Help > guide, closed"



def spin(seconds):
    """Run the Qt event loop for seconds (the GUI thread stays free meanwhile)."""
    from convlab.gui.bench import spin as bench_spin

    bench_spin(seconds)


def check_invariants(window, recorder):
    """Promises the window makes whatever was done to it."""
    controller = window.controller
    probs = window.prediction_panel.probabilities()
    if probs is not None and not (np.all(np.isfinite(probs))
                                  and math.isclose(float(np.sum(probs)), 1.0,
                                                   abs_tol=1e-3)):
        recorder.violation("the probabilities on show are not finite or do not sum "
                           "to 1", repr(probs))
    curves = window.training_panel.curves
    for plot in (curves.loss_plot, curves.acc_plot):
        for curve in plot.getPlotItem().listDataItems():
            x = curve.xData
            back = np.flatnonzero(np.diff(x) <= 0) if x is not None else []
            if len(back):
                i = int(back[0])
                recorder.violation(
                    "a learning curve's steps go backwards (x not increasing)",
                    f"{curve.name()}: {len(x)} points, step {x[i]:g} then "
                    f"{x[i + 1]:g} at point {i + 1}")
    if controller.session.state == "idle" and controller.model is not None:
        live = controller.model.parameters()
        shown = controller.view_model.parameters()
        same = len(live) == len(shown) and all(
            p.data.shape == q.data.shape and np.array_equal(p.data, q.data)
            for p, q in zip(live, shown, strict=False))
        if not same:
            recorder.violation(
                "with no run going, the GUI's copy of the network differs from the "
                "live network (the window shows other weights than it trains/saves)")


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


def plan(seed, count, names, weights):
    """The seeded sequence of count action names, drawn with the given weights."""
    rng = np.random.default_rng(seed)
    p = np.array(weights, float) / sum(weights)
    return [str(name) for name in rng.choice(names, size=count, p=p)]


def run_soak(seconds=480.0, seed=0, data=None):
    """Build the window, soak it for about `seconds` and return the results."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5.QtCore import QSettings

    with tempfile.TemporaryDirectory() as folder:
        # Settings and My digits go to a throwaway folder: the soak must not change
        # the student's recent models, window layout or handwriting collection.
        QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, folder)
        old_data_home = os.environ.get("XDG_DATA_HOME")
        os.environ["XDG_DATA_HOME"] = str(Path(folder) / "data")
        try:
            return _soak(seconds, seed, data, Path(folder))
        finally:
            if old_data_home is None:
                os.environ.pop("XDG_DATA_HOME", None)
            else:
                os.environ["XDG_DATA_HOME"] = old_data_home


def _soak(seconds, seed, data, folder):
    from convlab.gui.app import create_window, make_application
    from convlab.gui.bench import GuiProbe

    start = time.monotonic()
    recorder = Recorder()
    dataset, data_folder = load_soak_data(data)
    answers = DialogAnswers(recorder, folder, data_folder, seed)
    # Kept in a name: a QApplication nobody refers to is destroyed at once.
    app = make_application(["convlab-soak"])
    watchdog = Watchdog(recorder)
    threads_before = set(threading.enumerate())
    with recording(recorder, answers) as started:
        window = create_window(restore=False)
        window.remember_state = False
        window.resize(1280, 800)
        window.show()
        window.controller.set_dataset(dataset)
        student = Student(window, recorder)
        probe = GuiProbe(window.controller.views_refreshed)
        names = list(WEIGHTS)
        warm_up = [str(n) for n in np.random.default_rng(seed).permutation(names)]
        random_phase = plan(seed, 100_000, names, list(WEIGHTS.values()))
        stalls, rss_by_action = [], Counter()
        memory = {"start_mb": rss_mb()}
        actions = Counter()
        deadline = start + seconds
        index = 0
        objects_after_warm_up = census(window)
        probe.enabled = True
        for name in warm_up + random_phase:
            if index == len(warm_up):
                probe.enabled = False
                gc.collect()
                memory["after_warm_up_mb"] = rss_mb()
                memory["warm_up_actions"] = index
                objects_after_warm_up = census(window)
                probe.enabled = True
            elif (index > len(warm_up) and time.monotonic() >= deadline) \
                    or watchdog.freeze is not None:
                break
            before_ticks, before_rss = len(probe.late_ms), rss_mb()
            # After a freeze the Watchdog has the stack; the soak stops and reports.
            with suppress(SoakFrozen):
                act(student, name, index, seed)
            actions[name] += 1
            rss_by_action[name] += rss_mb() - before_rss
            late = probe.late_ms[before_ticks:]
            if late and max(late) >= STALL_LISTED_MS:
                stalls.append({"ms": round(max(late), 1), "action": recorder.log[-1]})
            index += 1
        memory["peak_mb"] = max(memory["start_mb"], rss_mb())
        # Qt objects that piled up: a finished task or a closed view nobody deletes.
        memory["qobjects_added"] = dict(
            (census(window) - objects_after_warm_up).most_common(8))
        close = close_while_training(window, student, recorder, started,
                                     threads_before)
        probe.stop()
        probe.enabled = False
        watchdog.stop()
        gc.collect()
        app.processEvents()
        memory["end_mb"] = rss_mb()
    late = np.array(probe.late_ms or [0.0])
    memory["growth_mb"] = memory["end_mb"] - memory.get("after_warm_up_mb",
                                                        memory["start_mb"])
    # Background work (evaluation, training) lands on whichever action was going.
    memory["growth_by_action_mb"] = {
        str(k): round(v, 1) for k, v in rss_by_action.most_common(5)}
    result = {
        "seed": seed,
        "seconds": round(time.monotonic() - start, 1),
        "data": dataset.name.split(" from ")[0],
        "actions": {"count": index, "by_name": dict(actions), "log": recorder.log},
        "exceptions": {"count": sum(e["count"] for e in recorder.exceptions.values()),
                       "distinct": recorder.exceptions},
        "violations": recorder.violations,
        "qt_warnings": {"count": sum(recorder.qt_messages.values()),
                        "messages": dict(recorder.qt_messages)},
        "dialogs": {"count": sum(recorder.dialogs.values()),
                    "by_kind": {" | ".join(k): n for k, n in recorder.dialogs.items()},
                    "texts": recorder.dialog_texts},
        "stalls": {"max_ms": float(late.max()),
                   "p95_ms": float(np.percentile(late, 95)),
                   "ticks": len(probe.late_ms),
                   "worst": sorted(stalls, key=lambda s: -s["ms"])[:10]},
        "memory": {k: round(v, 1) if isinstance(v, float) else v
                   for k, v in memory.items()},
        "close": close,
        "freeze": watchdog.freeze,
        "python_warnings": dict(recorder.warnings),
    }
    result["floors"] = {name: bool(check(result)) for name, check in FLOORS.items()}
    return result


def census(window):
    """How many QObjects of each class the window holds, as a Counter."""
    from PyQt5.QtCore import QObject

    return Counter(type(o).__name__ for o in window.findChildren(QObject))


def act(student, name, index, seed):
    """Do action number index, let the student think, then check the invariants."""
    recorder = student.recorder
    rng = np.random.default_rng([seed, index])  # this action's own numbers
    recorder.log.append(f"{index} {name}")
    try:
        what = getattr(student, name)(rng)
    except SoakFrozen:
        raise
    except Exception:
        recorder.exception(*sys.exc_info(), "the action itself")
        what = "raised"
    # The run's state after the action tells what a click could do.
    state = student.window.controller.session.state
    recorder.log[-1] = f"{index} {name} [{state}]: {what}"
    spin(float(np.clip(rng.exponential(0.12), 0.02, 0.6)))  # thinking
    check_invariants(student.window, recorder)


def close_while_training(window, student, recorder, started, threads_before):
    """Make sure a run trains, then close the window; return how that went."""
    recorder.log.append("close: start a run, then window.close()")
    session = window.controller.session
    panel = window.training_panel
    got_weights = []
    session.weights_updated.connect(lambda _: got_weights.append(True))
    # Earlier actions may have left a learning rate or weights that make the loss
    # explode and the run pause itself. Start afresh, as a student would: stop,
    # new random weights (the changes discarded), a calm learning rate, Start.
    student._tab(1)
    if session.is_running():
        panel.stop.click()
        deadline = time.monotonic() + RUN_WAIT_S
        while session.is_running() and time.monotonic() < deadline:
            spin(0.05)
    preset = panel.arch_editor.preset
    student._choose(preset, preset.findData("sample"))
    from convlab.gui.common import dialogs

    ask = dialogs.ask_save_changes
    dialogs.ask_save_changes = lambda *_: "discard"
    try:
        panel.reinit.click()
    finally:
        dialogs.ask_save_changes = ask
    student._type(panel.settings.lr, "0.001")
    panel.settings.epochs.setValue(panel.settings.epochs.maximum())
    panel.start.click()
    deadline = time.monotonic() + RUN_WAIT_S
    while not got_weights and time.monotonic() < deadline:
        spin(0.05)
    training = session.state == "running" and bool(got_weights)
    # Closing asks about the weights the run changed; the student discards them.
    dialogs.ask_save_changes = lambda *_: "discard"
    t0 = time.perf_counter()
    try:
        window.close()
    except Exception:
        recorder.exception(*sys.exc_info(), "window.close()")
    finally:
        dialogs.ask_save_changes = ask
    close_s = time.perf_counter() - t0
    running = []
    for ref in started:
        thread = ref()
        try:
            if thread is not None and thread.isRunning():
                running.append(thread)
        except RuntimeError:  # the C++ object is gone, so its thread has ended
            pass
    leftover = [t for t in set(threading.enumerate()) - threads_before
                if not isinstance(t, threading._DummyThread) and t.is_alive()]
    for thread in running:
        thread.wait(5000)  # join before reporting, so the process does not abort
    return {
        "seconds": round(close_s, 3),
        "was_training": training,
        "qthreads_running": len(running),
        "threads_left": [t.name for t in leftover],
        "clean": training and not running and not leftover,
    }


def format_table(result):
    """A readable report: floors first, then every incident with its actions."""
    lines = [f"soak: seed {result['seed']}, {result['seconds']:g} s, "
             f"{result['actions']['count']} actions on {result['data']}"]
    lines += [f"  {'ok  ' if ok else 'MISS'} {name}"
              for name, ok in result["floors"].items()]
    s, m, c = result["stalls"], result["memory"], result["close"]
    lines.append(f"GUI timer lateness: max {s['max_ms']:.0f} ms, p95 "
                 f"{s['p95_ms']:.1f} ms ({s['ticks']} ticks)")
    lines.append(f"RSS: {m['start_mb']:.0f} MB at start, "
                 f"{m.get('after_warm_up_mb', 0):.0f} after warm-up, {m['end_mb']:.0f} "
                 f"at the end (growth {m['growth_mb']:+.0f} MB; by action "
                 f"{m['growth_by_action_mb']})")
    lines.append(f"Qt objects added after the warm-up: {m['qobjects_added']}")
    lines.append(f"close while training: {c['seconds']:.2f} s, was training "
                 f"{c['was_training']}, QThreads left {c['qthreads_running']}, "
                 f"threads left {c['threads_left']}")
    lines.append(f"Qt warnings: {result['qt_warnings']['count']}; dialogs: "
                 f"{result['dialogs']['count']}")
    for text, n in result["qt_warnings"]["messages"].items():
        lines.append(f"  {n} x {text}")
    for what, n in result["dialogs"]["by_kind"].items():
        lines.append(f"  {n} x {what}")
    for title, incidents in (("exceptions", result["exceptions"]["distinct"]),
                             ("broken invariants", result["violations"])):
        lines.append(f"{title}: {len(incidents)} distinct")
        for key, incident in incidents.items():
            lines.append(f"--- {incident['count']} x {key}")
            lines.append(f"    during: {incident['action']}")
            if incident.get("message"):
                lines.append(f"    message: {incident['message']}")
            if incident.get("details"):
                lines.append(f"    details: {incident['details']}")
            lines.append("    actions before: "
                         + " | ".join(incident["recent_actions"][:-1]))
            if incident.get("stack"):
                lines.append("    " + incident["stack"].rstrip().replace(
                    "\n", "\n    "))
    if result["freeze"] is not None:
        f = result["freeze"]
        lines.append(f"FROZEN: the GUI thread did not answer for {f['seconds']} s "
                     f"during {f['action']}")
        lines.append("    actions before: " + " | ".join(f["recent_actions"][:-1]))
        lines.append("    GUI thread stack:\n    "
                     + f["stack"].rstrip().replace("\n", "\n    "))
    lines.append(f"Python warnings: {sum(result['python_warnings'].values())}")
    for text, n in result["python_warnings"].items():
        lines.append(f"  {n} x {text}")
    for stall in s["worst"]:
        lines.append(f"stall {stall['ms']:.0f} ms after: {stall['action']}")
    return "\n".join(lines)


def main(argv=None):
    """Run the soak and print its report; returns 0 when every floor is met."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    result = run_soak(args.seconds, args.seed, args.data)
    print(json.dumps(result) if args.json else format_table(result))
    return 0 if all(result["floors"].values()) else 1
