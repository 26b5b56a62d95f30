"""Right-click a Playground map -> Export as PNG or SVG: a file that loads."""

import numpy as np
import pytest
from PyQt5.QtGui import QImage

from convlab.gui.common import dialogs
from convlab.gui.playground import PlaygroundPanel


@pytest.fixture
def panel(qtbot):
    """A playground showing a small stroke."""
    widget = PlaygroundPanel(rng=np.random.default_rng(0))
    qtbot.addWidget(widget)
    image = np.zeros((28, 28))
    image[5:20, 12:15] = 1.0
    widget.set_input_image(image)
    return widget


def _choose(monkeypatch, path):
    """The save dialog answers `path`; returns the (title, name) it was asked."""
    asked = []

    def answer(parent, title, directory, file_filter):
        asked.append((title, directory))
        return str(path)

    monkeypatch.setattr(dialogs, "ask_save_file", answer)
    return asked


def test_every_map_offers_png_and_svg_export(panel):
    """Each map's right-click menu has Export as PNG and Export as SVG."""
    for view in panel.maps.views():
        texts = [action.text() for action in view.export_menu().actions()]
        assert texts == ["Export as PNG…", "Export as SVG…"]


def test_export_png_writes_an_image_qimage_loads(panel, monkeypatch, tmp_path):
    """The menu's PNG action writes a picture of the map, not an empty file."""
    asked = _choose(monkeypatch, tmp_path / "conv")
    view = panel.maps.conv_view
    view.export_menu().actions()[0].trigger()
    image = QImage(str(tmp_path / "conv.png"))
    assert not image.isNull() and image.width() >= 500
    assert asked[0][1] == "convolution_output.png"
    # Not one flat colour: the map's values are in it.
    pixels = {image.pixel(x, y) for x in range(0, image.width(), 7)
              for y in range(0, image.height(), 7)}
    assert len(pixels) > 3


def test_export_svg_writes_an_svg_drawing(panel, monkeypatch, tmp_path):
    """The SVG action writes an SVG document."""
    _choose(monkeypatch, tmp_path / "input.svg")
    assert panel.maps.input_view.export_figure("svg") == str(tmp_path / "input.svg")
    text = (tmp_path / "input.svg").read_text(encoding="utf-8")
    assert "<svg" in text


def test_a_failed_export_says_why_and_leaves_no_file(panel, monkeypatch, tmp_path,
                                                      messages):
    """An unwritable folder gives a clear error message, not a crash."""
    target = tmp_path / "no such folder" / "map.png"
    _choose(monkeypatch, target)
    assert panel.maps.relu_view.export_figure("png") == ""
    kind, title, text = messages[-1]
    assert kind == "error" and title == "Could not export the map"
    assert str(target) in text and "Pick a folder" in text
    assert not target.exists()


def test_cancelled_export_writes_nothing(panel, monkeypatch, tmp_path, messages):
    """Cancelling the dialog does nothing and says nothing."""
    monkeypatch.setattr(dialogs, "ask_save_file", lambda *args: "")
    assert panel.maps.pool_view.export_figure("png") == ""
    assert messages == [] and list(tmp_path.iterdir()) == []
