"""The exception hook: errors in slots and threads are logged and shown, never fatal."""

import sys
import threading

import pytest
from PyQt5.QtCore import QTimer

from convlab.gui.common import dialogs, error_hook


@pytest.fixture
def reporter(monkeypatch, tmp_path):
    """ConvLab's hooks, installed for one test and then put back."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    return error_hook.install(folder=tmp_path / "logs")


def test_a_failing_slot_is_shown_and_the_app_keeps_running(qtbot, reporter,
                                                          messages, capfd):
    """A slot that raises: its message is shown, the traceback is logged and
    printed, and later events still run."""
    def broken_slot():
        raise ZeroDivisionError("the slot divided by zero")

    later = []
    QTimer.singleShot(0, broken_slot)
    QTimer.singleShot(5, lambda: later.append(True))
    qtbot.waitUntil(lambda: bool(messages and later))
    kind, title, text = messages[0]
    assert kind == "error"
    assert "ZeroDivisionError: the slot divided by zero" in text
    assert "work is kept" in text and str(reporter.log_path) in text
    assert "broken_slot" in reporter.log_path.read_text(encoding="utf-8")
    assert "broken_slot" in capfd.readouterr().err


def test_an_error_in_a_thread_reaches_the_gui_thread(qtbot, reporter, messages):
    """A Python thread that raises: the message is shown by the GUI thread."""
    def work():
        raise KeyError("missing piece")

    thread = threading.Thread(target=work, name="loader")
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: bool(messages))
    assert "background thread loader" in messages[0][2]
    assert "KeyError" in messages[0][2]


def test_a_failing_report_does_not_recurse(qtbot, reporter, monkeypatch, capfd):
    """A hook whose message itself fails prints both tracebacks and ends there."""
    calls = []

    def broken_message(*args):
        calls.append(args)
        raise RuntimeError("no window")

    monkeypatch.setattr(dialogs, "show_message", broken_message)
    QTimer.singleShot(0, lambda: 1 / 0)
    qtbot.waitUntil(lambda: bool(calls))
    qtbot.wait(20)
    assert len(calls) == 1
    assert "ZeroDivisionError" in capfd.readouterr().err


def test_a_log_that_cannot_be_written_still_gives_a_message(qtbot, tmp_path,
                                                            monkeypatch, messages):
    """With no writable log folder the message says the terminal has the details."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    error_hook.install(folder=blocker)
    QTimer.singleShot(0, lambda: 1 / 0)
    qtbot.waitUntil(lambda: bool(messages))
    assert "printed in the terminal" in messages[0][2]
