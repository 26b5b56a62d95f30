"""KernelEditor: typed weights, refused bad input, presets and reshaping actions."""

import numpy as np
import pytest
from PyQt5.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton, QSpinBox

from convlab.gui.playground.kernel_editor import KernelEditor
from convlab.lab.presets import PRESETS, make_preset


@pytest.fixture
def editor(qtbot):
    """A kernel editor with a seeded generator for the Random preset."""
    widget = KernelEditor(rng=np.random.default_rng(0))
    qtbot.addWidget(widget)
    return widget


def test_typed_cell_changes_the_kernel_and_emits_it(editor, qtbot):
    """Typing a number and pressing Enter stores it and emits the new kernel."""
    with qtbot.waitSignal(editor.kernel_edited) as blocker:
        editor.cell(1, 2).setText("0.75")
        editor.cell(1, 2).editingFinished.emit()
    assert editor.kernel()[1, 2] == 0.75
    assert blocker.args[0][1, 2] == 0.75


@pytest.mark.parametrize("text", ["abc", "", "   ", "nan", "inf", "-inf", "1e400",
                                  "1,5"])
def test_bad_cell_input_is_refused_and_previous_value_kept(editor, qtbot, text):
    """Text, empty cells, NaN and inf are refused with a message; the weight stays."""
    before = editor.kernel()
    with qtbot.assertNotEmitted(editor.kernel_edited):
        editor.set_cell_text(0, 0, text)
    np.testing.assert_array_equal(editor.kernel(), before)
    assert editor.cell(0, 0).text() == "-1"
    assert "Row 0, column 0" in editor.message()
    assert "#d00000" in editor.cell(0, 0).styleSheet()


def test_kernel_errors_count_rows_and_columns_from_zero(editor):
    """A refused weight in the second row, third column is "Row 1, column 2"."""
    editor.set_cell_text(1, 2, "abc")
    assert "Row 1, column 2" in editor.message()
    assert editor.cell(1, 2).accessibleName() == "Kernel weight row 1 column 2"
    assert "counted from 0" in " ".join(
        label.text() for label in editor.findChildren(QLabel))


def test_refused_cell_highlight_clears_once_it_holds_a_number(editor):
    """The red mark and the error go when the cell is left holding its kept value."""
    editor.set_cell_text(0, 0, "nan")
    assert "#d00000" in editor.cell(0, 0).styleSheet()
    editor.set_cell_text(0, 0, "-1")  # the kept value, typed again
    assert "#d00000" not in editor.cell(0, 0).styleSheet()
    assert editor.message() == ""
    editor.set_cell_text(0, 0, "inf")
    editor.set_cell_text(0, 0, "0.25")  # a new, valid value
    assert "#d00000" not in editor.cell(0, 0).styleSheet()
    assert editor.kernel()[0, 0] == 0.25


def test_absurd_magnitude_is_accepted_with_a_warning(editor):
    """A huge but finite weight is kept; the legend stretches and a warning says so."""
    editor.set_cell_text(1, 1, "1e6")
    assert editor.kernel()[1, 1] == 1e6
    assert "large" in editor.message()
    assert editor._legend.levels() == (-1e6, 1e6)


def test_untouched_cell_does_not_round_the_weight(editor):
    """Leaving a cell that shows 0.1111 keeps the exact 1/9 underneath."""
    editor.set_kernel(np.full((3, 3), 1 / 9))
    editor.cell(0, 0).editingFinished.emit()
    assert editor.kernel()[0, 0] == 1 / 9


def test_actions_normalize_negate_transpose_rotate(editor):
    """Each action button does the array operation its name promises."""
    start = np.arange(9, dtype=float).reshape(3, 3)
    buttons = {b.text(): b for b in editor.findChildren(QPushButton)}
    editor.set_kernel(start)
    buttons["Sum to 1"].click()
    np.testing.assert_allclose(editor.kernel(), start / start.sum())
    editor.set_kernel(start)
    buttons["Negate"].click()
    np.testing.assert_array_equal(editor.kernel(), -start)
    editor.set_kernel(start)
    buttons["Transpose"].click()
    np.testing.assert_array_equal(editor.kernel(), start.T)
    editor.set_kernel(start)
    buttons["Rotate"].click()
    np.testing.assert_array_equal(editor.kernel(), np.rot90(start, -1))


def test_normalize_refuses_a_zero_sum_kernel(editor, qtbot):
    """Sobel sums to 0: 'Sum to 1' explains why it cannot and changes nothing."""
    before = editor.kernel()
    with qtbot.assertNotEmitted(editor.kernel_edited):
        buttons = editor.findChildren(QPushButton)
        next(b for b in buttons if b.text() == "Sum to 1").click()
    np.testing.assert_array_equal(editor.kernel(), before)
    assert "sum to 0" in editor.message()


def test_a_classic_preset_grows_a_small_grid(editor):
    """A 3x3 classic picked on a 1x1 grid grows the grid to 3x3 and loads exactly."""
    combo = editor.findChild(QComboBox)
    size = editor.findChild(QSpinBox)
    size.setValue(1)
    combo.activated.emit(combo.findData("laplacian"))
    np.testing.assert_array_equal(editor.kernel(), make_preset("laplacian", 3, None))
    assert combo.count() == len(PRESETS) + 1  # "Preset…" first, then every preset


def test_size_change_keeps_the_kernel_centred(editor):
    """Growing 3x3 to 5x5 adds a zero border around the same weights."""
    before = editor.kernel()
    editor.findChild(QSpinBox).setValue(5)
    grown = editor.kernel()
    assert grown.shape == (5, 5)
    np.testing.assert_array_equal(grown[1:4, 1:4], before)
    assert grown.sum() == before.sum()


def test_every_control_teaches_and_is_named(editor):
    """Each interactive control has a tooltip and an accessible name."""
    controls = editor.findChildren((QLineEdit, QPushButton, QSpinBox, QComboBox))
    # A spin box's own inner line edit is part of the spin box, not a control.
    for widget in [w for w in controls if not isinstance(w.parent(), QSpinBox)]:
        assert widget.toolTip(), widget
        assert widget.accessibleName(), widget


def test_edit_of_a_cell_the_kernel_lost_is_ignored(editor, qtbot):
    """A cell typed into while the kernel shrinks from 7x7 to 5x5: finishing the edit
    changes nothing and says the number was not used."""
    editor._size.setValue(7)
    editor.cell(6, 6).setText("0.5")  # typing, not finished yet
    editor._size.setValue(5)
    before = editor.kernel()
    with qtbot.assertNotEmitted(editor.kernel_edited):
        editor.cell(6, 6).editingFinished.emit()
    np.testing.assert_array_equal(editor.kernel(), before)
    assert editor.kernel().shape == (5, 5)
    assert "outside the 5x5 kernel" in editor.message()
