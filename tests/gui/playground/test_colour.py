"""The Playground on a colour picture: pens, opened files, the depth editor, the
partial maps and the step-through, checked against lab.channels and the engine."""

import numpy as np
import pytest
from PyQt5.QtCore import QPoint, Qt
from PyQt5.QtGui import QColor, QImage, QMouseEvent
from PyQt5.QtWidgets import QApplication
from seven_digit import seven

from convlab.gui.playground import PlaygroundPanel
from convlab.gui.playground.bench import measure_colour_kernel_edit
from convlab.gui.playground.colour_input import BUNDLED, DRAWING, OPENED, SCALE, SIZE
from convlab.lab import channels
from convlab.nn import functional as F


@pytest.fixture
def panel(qtbot):
    """A playground showing the test digit, its input switched to a colour drawing."""
    widget = PlaygroundPanel(rng=np.random.default_rng(0))
    qtbot.addWidget(widget)
    widget.set_input_image(seven())
    widget.source.setCurrentIndex(widget.source.findData(DRAWING))
    return widget


def _stroke(canvas, pen, row):
    """A horizontal stroke in colour `pen` across canvas row `row` (input pixels)."""
    canvas.set_pen(pen)
    y = (row + 0.5) * SCALE
    canvas.add_stroke([(3 * SCALE, y), ((SIZE - 4) * SCALE, y)])


def _write_png(path, color):
    """A 40x20 PNG of one colour, written by Qt."""
    image = QImage(40, 20, QImage.Format_RGB32)
    image.fill(QColor(*color))
    assert image.save(str(path))
    return path


def _engine_output(x, w, b, stride, padding):
    """The engine's one output map for image x (C, H, W) and filter w (C, k, k)."""
    out, _ = F.conv2d_forward(x[None], w[None], np.array([b]), stride, padding)
    return out[0, 0]


def test_the_digit_stays_the_default_input(qtbot):
    """A new Playground reads the drawn digit, with the colour parts hidden."""
    widget = PlaygroundPanel(rng=np.random.default_rng(0))
    qtbot.addWidget(widget)
    assert widget.source.currentData() is None
    assert not widget.colour.isVisibleTo(widget)
    assert widget.editor.isVisibleTo(widget)


def test_each_pen_draws_into_its_own_channel(panel):
    """Red ink sets channel 0 only, green channel 1, blue channel 2, white all."""
    canvas = panel.colour.input.canvas
    for pen, row, lit in (("red", 4, [0]), ("green", 12, [1]), ("blue", 20, [2]),
                          ("white", 28, [0, 1, 2])):
        _stroke(canvas, pen, row)
        x = panel.colour.input.image()
        for c in range(3):
            assert (x[c, row].max() > 0.5) == (c in lit), (pen, c)
    np.testing.assert_array_equal(panel.colour.views.inputs[0].current_map()[4],
                                  panel.colour.input.image()[0, 4])


def test_black_pen_wipes_every_channel(panel):
    """Black ink over white ink puts all three channels back to 0 there."""
    canvas = panel.colour.input.canvas
    _stroke(canvas, "white", 10)
    _stroke(canvas, "black", 10)
    assert panel.colour.input.image()[:, 10, 8:24].max() < 0.05


def test_opening_a_png_feeds_the_views(panel, tmp_path):
    """A red PNG opened becomes a 3-channel input: red 1, green and blue 0."""
    panel.source.setCurrentIndex(panel.source.findData(OPENED))
    assert panel.colour.input.open_picture(_write_png(tmp_path / "red.png",
                                                      (255, 0, 0)))
    x = panel.colour.input.image()
    assert x.shape == (3, SIZE, SIZE)
    # 40x20 scaled into 32x32 keeps its shape: rows 8..23 hold the picture.
    np.testing.assert_allclose(x[:, 12], [[1.0] * SIZE, [0.0] * SIZE, [0.0] * SIZE],
                               atol=1e-6)
    np.testing.assert_array_equal(x[:, 0], 0.0)
    np.testing.assert_array_equal(panel.colour.views.inputs[0].current_map(), x[0])
    assert "red.png" in panel.colour.input.message()


def test_a_corrupt_file_says_so_and_keeps_the_previous_picture(panel, tmp_path):
    """Garbage named .png is refused with a message; the input and maps stay."""
    panel.source.setCurrentIndex(panel.source.findData(OPENED))
    panel.colour.input.open_picture(_write_png(tmp_path / "green.png", (0, 255, 0)))
    before = panel.colour.input.image()
    maps_before = panel.colour.maps().output.copy()
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n this is not a picture")
    assert not panel.colour.input.open_picture(bad)
    assert "Could not read broken.png" in panel.colour.input.message()
    assert "kept" in panel.colour.input.message()
    np.testing.assert_array_equal(panel.colour.input.image(), before)
    np.testing.assert_array_equal(panel.colour.maps().output, maps_before)


def test_bundled_pictures_load_as_colour_input(panel):
    """Each bundled picture is a real 3-channel image the views show."""
    panel.source.setCurrentIndex(panel.source.findData(BUNDLED))
    box = panel.colour.input._bundled
    assert box.count() >= 3
    for index in range(box.count()):
        box.setCurrentIndex(index)
        box.activated.emit(index)
        x = panel.colour.input.image()
        assert x.shape == (3, SIZE, SIZE) and x.max() > 0.5
        np.testing.assert_array_equal(panel.colour.views.inputs[2].current_map(),
                                      x[2])


def test_partial_maps_shown_sum_to_the_output_shown(panel):
    """Shown partial maps add up, with the bias, to conv2d_forward's output."""
    panel.source.setCurrentIndex(panel.source.findData(BUNDLED))
    colour = panel.colour
    colour.editor.set_cell_text(1, 0, 0, "0.5")
    colour.editor.set_cell_text(2, 2, 1, "-2")
    colour.editor.set_bias_text("0.25")
    colour.set_stride(2)
    colour.set_padding(1)
    x, w = colour.input.image(), colour.editor.weights()
    shown = [view.current_map() for view in colour.views.partials]
    np.testing.assert_allclose(sum(shown), colour.views.sum_view.current_map())
    np.testing.assert_allclose(sum(shown) + 0.25,
                               colour.views.output_view.current_map(), atol=1e-12)
    np.testing.assert_allclose(colour.views.output_view.current_map(),
                               _engine_output(x, w, 0.25, 2, 1), atol=1e-6)
    expected = channels.partial_maps(x, w, 0.25, 2, 1)
    for c in range(3):
        np.testing.assert_allclose(shown[c], expected.partial[c])


def test_editing_one_slice_changes_only_its_partial_map(panel):
    """A weight typed into slice 1 changes partial map 1 and no other."""
    panel.source.setCurrentIndex(panel.source.findData(BUNDLED))
    colour = panel.colour
    before = [view.current_map().copy() for view in colour.views.partials]
    colour.editor.set_cell_text(1, 1, 1, "3")
    after = [view.current_map() for view in colour.views.partials]
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_array_equal(after[2], before[2])
    assert not np.array_equal(after[1], before[1])
    expected = channels.partial_maps(colour.input.image(), colour.editor.weights())
    np.testing.assert_allclose(after[1], expected.partial[1])


@pytest.mark.parametrize("text", ["abc", "nan", "inf", ""])
def test_a_bad_cell_is_refused_and_the_filter_kept(panel, text):
    """Text, NaN, inf or nothing in a slice cell: a message, the old weight kept."""
    editor = panel.colour.editor
    before = editor.weights()
    editor.set_cell_text(2, 0, 1, text)
    np.testing.assert_array_equal(editor.weights(), before)
    assert editor.message().startswith("Slice 2, row 0, column 1:")
    assert "Kept" in editor.message()
    assert editor.cell(2, 0, 1).text() == "0"


def test_grey_preset_is_a_1x1_filter_of_luminance_weights(panel):
    """"colour to grey" is a (3, 1, 1) filter: output 0.299 R + 0.587 G + 0.114 B."""
    panel.source.setCurrentIndex(panel.source.findData(BUNDLED))
    colour = panel.colour
    box = colour.editor._preset
    index = box.findText("colour to grey")
    box.setCurrentIndex(index)
    box.activated.emit(index)
    np.testing.assert_allclose(colour.editor.weights().ravel(), [0.299, 0.587, 0.114])
    x = colour.input.image()
    np.testing.assert_allclose(colour.views.output_view.current_map(),
                               0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2], atol=1e-12)


def test_step_through_numbers_equal_window_products(panel):
    """The step-through's grids and sums for a clicked cell are window_products'."""
    panel.source.setCurrentIndex(panel.source.findData(BUNDLED))
    colour = panel.colour
    colour.editor.set_bias_text("-0.5")
    colour.set_padding(1)
    colour.views.cell_clicked.emit(5, 7)
    grids, footer = colour.step.arithmetic()
    x, w = colour.input.image(), colour.editor.weights()
    cell = channels.window_products(x, w, -0.5, 5, 7, 1, 1)
    for c, name in enumerate(channels.CHANNEL_NAMES):
        np.testing.assert_array_equal(grids[f"window {c} ({name})"], cell.window[c])
        np.testing.assert_array_equal(grids[f"slice {c}"], cell.kernel[c])
        products = next(v for k, v in grids.items() if k.startswith(f"products {c}"))
        np.testing.assert_allclose(products, cell.products[c])
    assert footer.splitlines() == cell.text()[1:]
    assert f"{cell.value:.4g}" in footer
    np.testing.assert_allclose(cell.value,
                               colour.views.output_view.current_map()[5, 7])


def test_step_through_shows_every_number_whole_with_its_sign(panel):
    """Each painted product cell holds its whole number, signed, inside its box."""
    panel.source.setCurrentIndex(panel.source.findData(BUNDLED))
    panel.resize(1000, 2400)
    panel.show()
    colour = panel.colour
    colour.editor.set_cell_text(0, 0, 0, "-0.00173")
    colour.views.cell_clicked.emit(3, 3)
    maths = colour.step.maths()
    metrics = maths.fontMetrics()
    metrics = type(metrics)(maths.cell_font())
    for rect, text in maths.cells():
        assert metrics.horizontalAdvance(text) <= rect.width()
        assert rect.right() <= maths.width()
    signed = [text for _, text in maths.cells()
              if text.startswith(("+", "-"))]
    assert signed and any(text.startswith("-") for text in signed)
    assert maths.footer_fits()
    # Each channel's window, slice and products make a row of their own.
    cells = maths.cells()
    assert [cells[c * 27][0].left() for c in range(3)] == [0, 0, 0]
    assert len({cells[c * 27][0].top() for c in range(3)}) == 3


def test_shapes_follow_the_filter_size(panel):
    """A 5x5 filter: (1, 3, 32, 32) * (1, 3, 5, 5) -> a 28x28 output map."""
    colour = panel.colour
    colour.editor._size.setValue(5)
    assert colour.views.output_view.current_map().shape == (28, 28)
    assert "(1, 3, 32, 32) * (1, 3, 5, 5) -> (1, 1, 28, 28)" in colour.shapes_text()


def test_switching_back_shows_the_digit_unchanged(panel):
    """Back on the digit, the grey views read the digit as before."""
    panel.source.setCurrentIndex(0)
    assert panel.editor.isVisibleTo(panel) and not panel.colour.isVisibleTo(panel)
    out, _ = F.conv2d_forward(seven()[None, None], panel.editor.kernel()[None, None],
                              np.zeros(1), 1, 0)
    np.testing.assert_allclose(panel.results().conv, out[0, 0], atol=1e-6)


def test_canvas_draws_with_the_mouse(panel, qtbot):
    """A mouse drag with the green pen lights channel 1 where it went."""
    canvas = panel.colour.input.canvas
    canvas.set_pen("green")
    y = int(16.5 * SCALE)
    qtbot.mousePress(canvas, Qt.LeftButton, pos=canvas.rect().center())
    move = QMouseEvent(QMouseEvent.MouseMove, QPoint(20 * SCALE, y), Qt.LeftButton,
                       Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(canvas, move)
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=QPoint(20 * SCALE, y))
    x = panel.colour.input.image()
    assert x[1, 16, 17:20].min() > 0.5 and x[0].max() == 0.0 and x[2].max() == 0.0


@pytest.mark.parametrize("size", [(1024, 768), (1280, 800), (1920, 1080)],
                         ids=["1024x768", "1280x800", "1920x1080"])
def test_colour_playground_is_never_cut_off(window, size):
    """Each colour input, at each window size, shows everything whole."""
    from test_window_sizes import clipping_problems

    panel = window.findChild(PlaygroundPanel)
    window.resize(*size)
    window.show_tab("playground")
    problems = []
    for source in (DRAWING, OPENED, BUNDLED):
        panel.source.setCurrentIndex(panel.source.findData(source))
        panel.colour.views.cell_clicked.emit(2, 2)
        for _ in range(3):
            QApplication.processEvents()
        problems += [f"{source}: {p}"
                     for p in clipping_problems(window.tabs.currentWidget())]
    assert not problems, "\n".join(problems)


def test_colour_bench_hook_reports_and_puts_everything_back(panel):
    """measure_colour_kernel_edit times edits in colour, then restores all it moved."""
    panel.source.setCurrentIndex(0)
    weights = panel.colour.editor.weights()
    result = measure_colour_kernel_edit(panel, repeats=5)
    assert set(result) == {"median", "p95"}
    assert 0 < result["median"] <= result["p95"]
    np.testing.assert_array_equal(panel.colour.editor.weights(), weights)
    assert panel.source.currentIndex() == 0


def test_missing_bundled_pictures_say_so_and_keep_the_input(qtbot, monkeypatch,
                                                           tmp_path):
    """With no pictures installed, picking them says so; the drawing stays."""
    from convlab.gui.playground import colour_input

    monkeypatch.setattr(colour_input, "resource_path", lambda name: tmp_path)
    widget = colour_input.ColourInput()
    qtbot.addWidget(widget)
    _stroke(widget.canvas, "blue", 6)
    before = widget.image()
    widget.set_source(BUNDLED)
    assert "missing" in widget.message()
    np.testing.assert_array_equal(widget.image(), before)
