"""GUI fixtures: private settings, recorded dialogs, no thread left, no Qt warning."""

import threading
import weakref

import numpy as np
import pytest
from PyQt5.QtCore import QSettings, QStandardPaths, QThread, QtMsgType

from convlab.data.sources import Dataset
from convlab.gui.common import dialogs

# Messages the offscreen platform prints by itself, whatever the app does.
BENIGN_QT_MESSAGES = ("This plugin does not support", "XDG_RUNTIME_DIR")


@pytest.fixture(autouse=True, scope="session")
def _pyqtgraph_as_in_the_app():
    """Every view under test draws with the settings the app sets at start-up."""
    from convlab.gui.app import configure_pyqtgraph

    configure_pyqtgraph()


@pytest.fixture(autouse=True)
def _collector_as_in_the_app(qapp):
    """Cycles are collected in the GUI thread between events, as in the app."""
    from convlab.gui.common.collector import collect_in_gui_thread

    collect_in_gui_thread(qapp)


@pytest.fixture(autouse=True)
def _private_settings(tmp_path, monkeypatch):
    """Keep tests out of the user's settings and data folders."""
    folder = str(tmp_path / "config")
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, folder)
    # Test mode sends QStandardPaths (My digits' storage) to ~/.qttest; a private
    # HOME makes that a fresh folder for every test instead of one shared by all.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    QStandardPaths.setTestModeEnabled(True)


@pytest.fixture(autouse=True)
def messages(monkeypatch):
    """Record every message box the app would show, as (kind, title, text)."""
    shown = []

    def record(parent, kind, title, text):
        shown.append((kind, title, text))

    monkeypatch.setattr(dialogs, "show_message", record)
    return shown


class SaveQuestions(list):
    """The "Save changes?" questions asked, as (title, text); answers come from
    .answers in order, then "discard" (what closing a test's window needs)."""

    def __init__(self):
        super().__init__()
        self.answers = []

    def __call__(self, parent, title, text):
        self.append((title, text))
        return self.answers.pop(0) if self.answers else "discard"


@pytest.fixture(autouse=True)
def save_questions(monkeypatch):
    """Answer every "Save changes?" question without a modal box; see SaveQuestions."""
    questions = SaveQuestions()
    monkeypatch.setattr(dialogs, "ask_save_changes", questions)
    return questions


@pytest.fixture(autouse=True)
def no_thread_left(monkeypatch):
    """Fail a test that leaves a QThread or a Python thread running when it ends."""
    started = []
    original_start = QThread.start

    def start(thread, *args):
        started.append(weakref.ref(thread))
        return original_start(thread, *args)

    monkeypatch.setattr(QThread, "start", start)
    before = set(threading.enumerate())
    yield
    running = []
    for ref in started:
        thread = ref()
        try:
            if thread is not None and thread.isRunning():
                running.append(thread)
        except RuntimeError:  # the C++ object is gone, so its thread has ended
            pass
    # Python code running in a QThread registers a _DummyThread that never goes away.
    leftover = [t for t in set(threading.enumerate()) - before
                if not isinstance(t, threading._DummyThread)]
    for t in leftover:
        t.join(timeout=2)
    leftover = [t for t in leftover if t.is_alive()]
    for thread in running:
        thread.wait(5000)  # join before failing, so the process does not abort
    assert not running, f"{len(running)} QThread(s) still running after the test"
    assert not leftover, f"threads still running after the test: {leftover}"


@pytest.fixture(autouse=True)
def no_qt_warning(qtlog):
    """Fail a test during which Qt printed a warning (e.g. about a destroyed thread)."""
    yield
    bad = [r.message for r in qtlog.records
           if r.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg,
                         QtMsgType.QtFatalMsg)
           and not any(b in r.message for b in BENIGN_QT_MESSAGES)]
    assert not bad, f"Qt warnings: {bad}"


@pytest.fixture
def tiny_dataset():
    """A small dataset of blobby fake digits (no files, no network)."""
    rng = np.random.default_rng(0)
    x = np.zeros((60, 1, 28, 28), np.float32)
    y = np.arange(60) % 10
    for i, label in enumerate(y):
        r, c = 6 + label, 6 + (label * 7) % 14
        x[i, 0, r:r + 8, c:c + 6] = 0.6 + 0.4 * rng.random((8, 6))
    return Dataset("tiny test digits", x[:40], y[:40].astype(np.int64),
                   x[40:], y[40:].astype(np.int64))


@pytest.fixture
def window(qtbot):
    """The real main window with a model and no dataset, closed after the test."""
    from convlab.gui.app import create_window, make_application

    make_application([])
    win = create_window(restore=False)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
