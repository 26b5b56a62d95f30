"""PlaygroundPanel: views match nn.functional, formulas, impossible settings, walks."""

import numpy as np
import pytest
from PyQt5.QtCore import QPointF
from PyQt5.QtWidgets import QCheckBox, QComboBox, QPushButton, QSlider, QSpinBox
from seven_digit import seven

from convlab.gui.playground import PlaygroundPanel
from convlab.gui.playground.bench import measure_kernel_edit
from convlab.gui.playground.views import PADDING_TINT, UNREACHED_TINT
from convlab.nn import functional as F
from convlab.nn import reference


@pytest.fixture
def panel(qtbot):
    """A playground showing the test digit."""
    widget = PlaygroundPanel(rng=np.random.default_rng(0))
    qtbot.addWidget(widget)
    widget.set_input_image(seven())
    return widget


def _input_window(image, top, left, f):
    """The f x f window at (top, left) in input coordinates; outside the image is 0."""
    window = np.zeros((f, f))
    for i in range(f):
        for j in range(f):
            if 0 <= top + i < image.shape[0] and 0 <= left + j < image.shape[1]:
                window[i, j] = image[top + i, left + j]
    return window


def _expected_conv(image, kernel, stride, padding):
    """What nn.functional computes for one image and one kernel, no bias."""
    out, _ = F.conv2d_forward(image[None, None], kernel[None, None], np.zeros(1),
                              stride, padding)
    return out[0, 0]


def test_cell_edit_updates_output_to_functional_result(panel):
    """Typing a weight makes the conv view show exactly conv2d_forward's result."""
    panel.controls.set_stride(2)
    panel.controls.set_padding(1)
    panel.editor.set_cell_text(1, 1, "3.5")
    kernel = panel.editor.kernel()
    assert kernel[1, 1] == 3.5
    expected = _expected_conv(seven(), kernel, 2, 1)
    np.testing.assert_allclose(panel.maps.conv_view.current_map(), expected)
    np.testing.assert_allclose(panel.maps.relu_view.current_map(),
                               np.maximum(expected, 0))
    pooled, _ = F.max_pool2d_forward(np.maximum(expected, 0)[None, None], 2, 2)
    np.testing.assert_allclose(panel.maps.pool_view.current_map(), pooled[0, 0])


def test_stride_and_padding_update_shape_and_formula(panel):
    """The conv view's shape line and filled-in formula follow stride and padding."""
    assert "26×26" in panel.maps.conv_view.shape_text()
    assert "floor((28 + 2·0 − 3) / 1) + 1" in panel.maps.conv_view.formula_text()
    panel.controls.set_stride(3)
    panel.controls.set_padding(2)
    out = (28 + 2 * 2 - 3) // 3 + 1
    assert f"{out}×{out}" in panel.maps.conv_view.shape_text()
    assert f"floor((28 + 2·2 − 3) / 3) + 1 = floor(29 / 3) + 1 = {out}" in \
        panel.maps.conv_view.formula_text()
    assert "32×32" in panel.maps.input_view.shape_text()


def test_same_padding_keeps_the_size_for_odd_kernels(panel):
    """'same' uses p = (f - 1) / 2, so a 5x5 kernel at stride 1 keeps 28x28."""
    panel.editor.findChild(QSpinBox).setValue(5)
    panel.controls.set_padding("same")
    assert panel.results().padding == 2
    assert panel.maps.conv_view.current_map().shape == (28, 28)


def test_a_pool_that_cannot_fit_empties_the_pool_maps_and_says_why(panel):
    """A pool larger than the conv output: the pool map is empty, not the old one."""
    panel.controls.set_input_factor(4)  # 7x7 input
    panel.controls.set_stride(4)
    # The conv output is 2x2 here: a 4x4 pool cannot fit.
    panel.controls.set_pooling("max", 4, 2)
    assert "does not fit" in panel.problem_text()
    assert "2×2" in panel.problem_text()
    assert panel.maps.pool_view.is_empty()
    assert panel.maps.pool_view.is_empty()
    assert panel.maps.conv_view.current_map().shape == (2, 2)
    panel.controls.set_pooling("max", 2, 2)
    assert panel.problem_text() == ""
    assert panel.problem_text() == ""
    assert panel.maps.pool_view.current_map().shape == (1, 1)


def test_size_7_kernel_on_a_7x7_input_is_shown_in_every_view(panel):
    """7x7 input, kernel 6 then 7: every view uses the editor's 7x7 kernel."""
    panel.controls.set_input_factor(4)
    size = panel.editor.findChild(QSpinBox)
    size.setValue(6)
    size.setValue(7)
    kernel = panel.editor.kernel()
    assert kernel.shape == (7, 7)
    image = panel.maps.input_view.current_map()
    np.testing.assert_array_equal(panel.results().kernel, kernel)
    np.testing.assert_allclose(panel.maps.conv_view.current_map(),
                               _expected_conv(image, kernel, 1, 0))
    grids, _ = panel.step.arithmetic()
    np.testing.assert_array_equal(grids["kernel"], kernel)
    panel.directions.setCurrentIndex(1)
    assert panel.backward.dw_view.current_map().shape == (7, 7)
    # The 2x2 pool has no 1x1 map to pool: it says so instead of showing the old one.
    assert panel.maps.pool_view.is_empty()
    assert "pooling window does not fit the 1×1" in panel.problem_text()


def test_a_kernel_that_cannot_fit_empties_every_view(panel):
    """'same' with an even kernel: no map keeps the previous setting's values."""
    panel.controls.set_input_factor(4)
    panel.controls.set_padding("same")
    panel.editor.findChild(QSpinBox).setValue(4)
    assert panel.results() is None
    for view in panel.maps.views()[1:]:
        assert view.is_empty()
    assert "odd kernel" in panel.problem_text()
    assert "odd kernel" in panel.step.where_text()
    assert panel.step.step_count() == 0 and panel.backward.step_count() == 0
    panel.controls.set_padding(0)
    assert panel.maps.conv_view.current_map().shape == (4, 4)
    assert panel.step.step_count() == 16


def test_same_padding_with_even_kernel_is_explained(panel):
    """'same' padding with a 4x4 kernel would need p = 1.5: the message says so."""
    panel.controls.set_input_factor(4)
    panel.controls.set_padding("same")
    panel.editor.findChild(QSpinBox).setValue(4)
    assert "odd kernel" in panel.problem_text()
    panel.controls.set_padding(0)
    assert panel.problem_text() == ""


def test_unreached_rows_are_reported_when_division_is_not_exact(panel):
    """Stride 2 on 28 + 2 - 3 = 27 leaves one padded row and column unreached."""
    panel.controls.set_stride(2)
    panel.controls.set_padding(1)
    assert "Padded input: the division is not exact" in panel.notes_text()
    panel.controls.set_stride(1)
    assert panel.notes_text() == ""


def test_side_by_side_shows_average_pooling_too(panel):
    """With the box ticked, the second pool view holds avg_pool2d_forward's result."""
    panel.controls.set_side_by_side(True)
    relu = panel.results().relu
    expected, _ = F.avg_pool2d_forward(relu[None, None], 2, 2)
    assert not panel.maps.pool_avg_view.isHidden()
    np.testing.assert_allclose(panel.maps.pool_avg_view.current_map(), expected[0, 0])


def test_signed_views_use_symmetric_levels(panel):
    """Conv, ReLU and pool legends are centred on zero and share one scale."""
    low, high = panel.maps.conv_view.legend_levels()
    assert low == -high and high == pytest.approx(np.abs(panel.results().conv).max())
    assert panel.maps.relu_view.legend_levels() == (low, high)
    assert panel.maps.pool_view.legend_levels() == (low, high)


@pytest.mark.parametrize("stride, padding, unreached", [
    (2, 0, [27]),  # (28 - 3) / 2 = 12.5: the last row and column are left over
    (3, 0, [27]),  # (28 - 3) / 3 = 8.33: windows end at row 26
    (2, 1, [29]),  # (28 + 2 - 3) / 2 = 13.5: the last padded row is left over
    (1, 0, []),  # exact: every row is read
    (3, 1, []),  # (28 + 2 - 3) / 3 = 9 exactly
])
def test_unreached_rows_and_columns_are_tinted(panel, stride, padding, unreached):
    """The padded input marks exactly the rows/columns no window reaches."""
    panel.controls.set_stride(stride)
    panel.controls.set_padding(padding)
    overlay = panel.maps.input_view.overlay()
    size = 28 + 2 * padding
    assert overlay.shape == (size, size, 4)
    lines = np.zeros(size, bool)
    lines[unreached] = True
    marked = lines[:, None] | lines[None, :]
    np.testing.assert_array_equal(np.all(overlay == UNREACHED_TINT, axis=-1), marked)
    border = np.zeros((size, size), bool)
    if padding:
        border[:padding] = border[-padding:] = True
        border[:, :padding] = border[:, -padding:] = True
    np.testing.assert_array_equal(np.all(overlay == PADDING_TINT, axis=-1),
                                  border & ~marked)
    assert not overlay[~border & ~marked].any()


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (3, 0), (3, 2), (4, 3)])
def test_step_through_positions_match_the_formula(panel, stride, padding):
    """Step k's window starts at input (s*i - p, s*j - p): the formula, not the code."""
    panel.controls.set_input_factor(2)  # 14x14 keeps the walk short
    panel.controls.set_stride(stride)
    panel.controls.set_padding(padding)
    image = panel.results().input
    out = (14 + 2 * padding - 3) // stride + 1
    corners = [(stride * i - padding, stride * j - padding)
               for i in range(out) for j in range(out)]
    assert panel.step.step_count() == len(corners)
    # The step-through works in padded coordinates: shift back by p to compare.
    assert [(top - padding, left - padding)
            for top, left in panel.step.positions()] == corners
    for index, (top, left) in enumerate(corners):
        panel.step.set_step(index)
        step = panel.step.current_step()
        assert (step.out_row, step.out_col) == divmod(index, out)
        assert (step.top - padding, step.left - padding) == (top, left)
        grids, _ = panel.step.arithmetic()
        np.testing.assert_array_equal(grids["window (input)"],
                                      _input_window(image, top, left, 3))


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (3, 2)])
def test_step_products_and_sum_match_conv_single_step(panel, stride, padding):
    """The shown products and their sum equal conv_single_step and the conv cell."""
    panel.controls.set_stride(stride)
    panel.controls.set_padding(padding)
    panel.editor.set_cell_text(0, 2, "-1.5")  # no symmetry to hide a flipped kernel
    kernel = panel.editor.kernel()
    conv = panel.maps.conv_view.current_map()
    out = conv.shape[0]
    # The strongest and the weakest responses sit on the stroke; the corners on blank.
    cells = [(0, 0), np.unravel_index(conv.argmax(), conv.shape),
             np.unravel_index(conv.argmin(), conv.shape), (out - 1, out - 1)]
    for row, col in (map(int, cell) for cell in cells):
        panel.maps.conv_view.cell_clicked.emit(row, col)
        grids, footer = panel.step.arithmetic()
        a_slice = _input_window(seven(), stride * row - padding,
                                stride * col - padding, 3)
        value = reference.conv_single_step(a_slice[None], kernel[None], 0.0)
        np.testing.assert_array_equal(grids["window (input)"], a_slice)
        np.testing.assert_array_equal(grids["kernel"], kernel)
        np.testing.assert_allclose(grids["products"], a_slice * kernel)
        assert grids["products"].sum() == pytest.approx(value)
        assert value == pytest.approx(conv[row, col])
        assert f"output[{row}, {col}] = {value:+.4g}" in footer


def test_step_through_moves_back_and_forward(panel, qtbot):
    """The arrow buttons move one position; each move emits where the window is."""
    buttons = {b.accessibleName(): b for b in panel.step.findChildren(QPushButton)}
    panel.step.set_step(5)
    with qtbot.waitSignal(panel.step.step_changed) as blocker:
        buttons["Step forward"].click()
    assert blocker.args[0].index == 6
    buttons["Step back"].click()
    buttons["Step back"].click()
    assert panel.step.current_step().index == 4


def test_pool_walk_marks_the_maximum(panel):
    """Walking the max pool, the marked cell holds the window's maximum."""
    panel.step.set_stage("pool")
    relu = panel.results().relu
    pooled = panel.results().max
    for index in range(panel.step.step_count()):
        panel.step.set_step(index)
        step = panel.step.current_step()
        window = relu[step.top:step.top + 2, step.left:step.left + 2]
        assert window.max() == pooled[step.out_row, step.out_col]


def test_play_walks_to_the_end_and_stops(panel, qtbot):
    """Play advances on its timer and stops by itself at the last position."""
    panel.controls.set_input_factor(4)
    panel.controls.set_stride(2)
    play = next(b for b in panel.step.findChildren(QPushButton) if b.text() == "Play")
    panel.step.findChild(QSpinBox).setValue(30)
    play.click()
    last = panel.step.step_count() - 1
    qtbot.waitUntil(lambda: panel.step.current_step().index == last, timeout=5000)
    qtbot.waitUntil(lambda: not play.isChecked(), timeout=5000)


def test_bench_hook_reports_median_and_p95(panel):
    """measure_kernel_edit returns both figures and leaves the kernel as it was."""
    before = panel.editor.kernel()
    result = measure_kernel_edit(panel, repeats=5)
    assert set(result) == {"median", "p95"}
    assert 0 < result["median"] <= result["p95"]
    np.testing.assert_array_equal(panel.editor.kernel(), before)


def test_every_control_teaches_and_is_named(panel):
    """Each interactive control of the tab has a tooltip and an accessible name."""
    kinds = (QSpinBox, QComboBox, QCheckBox, QPushButton, QSlider)
    controls = [w for w in panel.findChildren(kinds)
                if not isinstance(w.parent(), QSpinBox)]
    assert len(controls) > 20
    for widget in controls:
        assert widget.toolTip(), widget.accessibleName() or widget
        assert widget.accessibleName(), widget.toolTip()


def test_filter_bank_shows_every_kernel_like_a_conv_layer(panel):
    """Two kernels in the bank give conv2d_forward's two maps, side by side."""
    panel.controls.set_stride(2)
    panel._add_kernel.click()
    panel.editor.findChild(QComboBox).activated.emit(
        panel.editor.findChild(QComboBox).findData("sobel_y"))
    bank = np.stack(panel._bank)[:, None]  # (2, 1, 3, 3)
    expected, _ = F.conv2d_forward(seven()[None, None], bank, None, 2, 0)
    out = expected.shape[-1]
    mosaic = panel.maps.bank_view.current_map()
    np.testing.assert_allclose(mosaic[:, :out], expected[0, 0])
    np.testing.assert_allclose(mosaic[:, out + 1:], expected[0, 1])
    assert np.isnan(mosaic[:, out]).all()
    assert "2 × 13×13" in panel.maps.bank_view.shape_text()


def test_filter_bank_tabs_switch_resize_and_close(panel):
    """Tabs load their kernel; a new size resizes the bank; − removes one."""
    first = panel.editor.kernel()
    panel._add_kernel.click()
    panel.editor.set_cell_text(0, 0, "9")
    panel._bank_tabs.setCurrentIndex(0)
    np.testing.assert_array_equal(panel.editor.kernel(), first)
    panel.editor.findChild(QSpinBox).setValue(5)
    assert [k.shape for k in panel._bank] == [(5, 5), (5, 5)]
    assert panel._bank[1][1, 1] == 9
    panel._bank_tabs.setCurrentIndex(1)
    panel._remove_kernel.click()
    assert len(panel._bank) == 1 and panel.maps.bank_view.isHidden()


def test_new_walk_starts_at_the_first_window_with_ink(panel):
    """After a stride change the walk skips the blank margin: earlier windows are 0."""
    panel.controls.set_stride(2)
    padded = panel.results().padded
    step = panel.step.current_step()
    positions = panel.step.positions()
    assert np.any(padded[step.top:step.top + 3, step.left:step.left + 3])
    for top, left in positions[:step.index]:
        assert not np.any(padded[top:top + 3, left:left + 3])


def test_clicking_an_output_cell_walks_to_its_window(panel):
    """A click on conv cell (4, 7) or pool cell (2, 3) moves the step-through there."""
    panel.maps.conv_view.cell_clicked.emit(4, 7)
    step = panel.step.current_step()
    assert (step.stage, step.out_row, step.out_col) == ("conv", 4, 7)
    assert (step.top, step.left) == (4, 7)
    panel.maps.pool_view.cell_clicked.emit(2, 3)
    step = panel.step.current_step()
    assert (step.stage, step.out_row, step.out_col) == ("pool", 2, 3)
    assert (step.top, step.left) == (4, 6)


def test_hovering_a_cell_reads_its_value(panel):
    """The readout under a map names the hovered cell and its exact value."""
    view = panel.maps.conv_view
    scene_pos = view._box.mapViewToScene(QPointF(7.5, 9.5))
    assert view.cell_at(scene_pos) == (9, 7)
    view._on_scene_mouse_moved(scene_pos)
    assert view.readout() == f"row 9, col 7: {panel.results().conv[9, 7]:.4g}"


def test_stride_larger_than_kernel_reports_skipped_rows(panel):
    """A 1x1 kernel at stride 3 jumps over rows: the note says why and how many."""
    panel.editor.findChild(QSpinBox).setValue(1)
    panel.controls.set_stride(3)
    covered = np.zeros(28, bool)
    covered[::3] = True
    note = panel.notes_text()
    assert "jumps over some" in note
    assert f"{int(np.sum(~covered))} row(s)" in note
