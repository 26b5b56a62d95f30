"""Start-up survives every bad setting and every hostile remembered file."""

import gzip
import zipfile

import pytest

from convlab.data.mnist import EXPECTED_FILES
from convlab.gui import app
from convlab.gui.common.settings import app_settings


def corrupt_model(folder):
    """A file named like a model that holds random bytes."""
    path = folder / "corrupt.npz"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 20)
    return str(path)


def zip_of_junk(folder):
    """A valid zip archive whose members are not arrays."""
    path = folder / "junk.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{not json")
        archive.writestr("0.weight.npy", b"\x93NUMPY garbage")
    return str(path)


def broken_mnist(folder):
    """A folder with the four MNIST names, each a truncated or garbled file."""
    data = folder / "mnist"
    data.mkdir()
    for i, name in enumerate(EXPECTED_FILES):
        raw = gzip.compress(b"\x00\x00\x08\x03" + b"\xff" * 40)
        (data / name).write_bytes(raw[: len(raw) // 2] if i % 2 else raw)
    return str(data)


BAD_SETTINGS = [
    ("recentModels", lambda tmp: 42),
    ("window/tab", lambda tmp: "abc"),
    ("input/brush", lambda tmp: "abc"),
    ("window/geometry", lambda tmp: "abc"),
    ("training/settings", lambda tmp: "{not json"),
    ("training/settings", lambda tmp: "[1, 2]"),
    ("lastModel", corrupt_model),
    ("lastModel", zip_of_junk),
    ("dataFolder", broken_mnist),
]


@pytest.mark.parametrize(("key", "make"), BAD_SETTINGS, ids=[
    "recent-int", "tab-text", "brush-text", "geometry-text", "training-not-json",
    "training-list", "last-corrupt", "last-junk-zip", "data-broken-mnist"])
def test_start_up_survives_a_bad_setting(qtbot, tmp_path, messages, key, make):
    """A bad stored value: the window opens with defaults and says what it set aside,
    in one message."""
    settings = app_settings()
    settings.setValue(key, make(tmp_path))
    settings.sync()
    app.make_application([])
    window = app.create_window()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: len(messages) > 0)
    qtbot.wait(20)
    assert window.controller.model_files.note == "bundled trained model"
    assert len(messages) == 1, messages
    kind, title, text = messages[0]
    assert kind == "warning" and key in text and "default" in text
    assert "set aside" in window.statusBar().currentMessage()
    window.close()


def test_clean_start_says_nothing(qtbot, messages):
    """With nothing stored there is nothing to report."""
    app.make_application([])
    window = app.create_window()
    qtbot.addWidget(window)
    window.show()
    qtbot.wait(50)
    assert messages == []
    window.close()


def test_a_second_application_call_leaves_style_and_stylesheet_alone(qapp, monkeypatch):
    """Making the application again (a second window) sets neither the style nor the
    stylesheet, which would re-polish every widget alive, the first window's too."""
    from PyQt5.QtWidgets import QApplication

    app.make_application([])
    calls = []
    monkeypatch.setattr(QApplication, "setStyle", lambda *a: calls.append("style"))
    monkeypatch.setattr(QApplication, "setStyleSheet",
                        lambda *a: calls.append("stylesheet"))
    app.make_application([])
    assert calls == []


def test_disabled_labels_and_boxes_are_drawn_grey(qapp, qtbot):
    """With the app's stylesheet a disabled label or check box is drawn light grey,
    an enabled one near black, so a student sees what cannot be changed now."""
    from PyQt5.QtGui import QImage
    from PyQt5.QtWidgets import QCheckBox, QLabel

    app.make_application([])

    def darkest(widget):
        widget.resize(widget.sizeHint())
        image = QImage(widget.size(), QImage.Format_RGB32)
        image.fill(0xFFFFFF)
        widget.render(image)
        return min(image.pixelColor(x, y).lightness() for x in range(image.width())
                   for y in range(image.height()))

    for widget in (QLabel("Plain epochs at the end"), QCheckBox("Augment")):
        qtbot.addWidget(widget)
        enabled = darkest(widget)
        widget.setEnabled(False)
        assert enabled < 80 < darkest(widget), type(widget).__name__
