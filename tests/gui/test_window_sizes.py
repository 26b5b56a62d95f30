"""The window at 1024x768, 1280x800 and 1920x1080: every tab shows all it holds.

Nothing a student reads may be cut off: each visible widget lies inside its visible
parent (or inside a scroll area's content, which scrolls), a one-line label's text
fits its width, a wrapped label gets the height its text needs, a button shows its
whole text and a confusion-matrix cell its whole count.
"""

import numpy as np
import pytest
from PyQt5.QtCore import QRect, Qt
from PyQt5.QtGui import QTextDocument
from PyQt5.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QGroupBox,
    QLabel,
    QProgressBar,
    QScrollArea,
    QStackedWidget,
    QWidget,
)

from convlab.gui.main_window import TABS

SIZES = ((1024, 768), (1280, 800), (1920, 1080))
# Widgets whose insides are theirs to draw (line edits, headers, plot items): only
# their own box is checked, not their children's.
LEAVES = (QAbstractButton, QAbstractSpinBox, QComboBox, QAbstractItemView, QLabel,
          QProgressBar)
SLACK = 1  # pixels of rounding a geometry may be off by


def _text_width(label):
    """The width a label's text needs on one line, rich text or plain."""
    text = label.text()
    if label.textFormat() == Qt.RichText or (
            label.textFormat() == Qt.AutoText and Qt.mightBeRichText(text)):
        document = QTextDocument()
        document.setDefaultFont(label.font())
        document.setDocumentMargin(0)
        document.setHtml(text)
        return document.idealWidth()
    metrics = label.fontMetrics()
    return max(metrics.horizontalAdvance(line) for line in text.split("\n"))


def _name(widget):
    text = widget.text() if hasattr(widget, "text") else ""
    name = widget.accessibleName() or widget.objectName()
    return f"{type(widget).__name__} {name!r} {str(text)[:40]!r}"


def clipping_problems(root):
    """Every widget under root that is cut off or does not show its whole text."""
    problems = []

    def walk(widget):
        if isinstance(widget, QScrollArea) and widget.horizontalScrollBar().maximum():
            # A page that scrolls sideways hides its right-hand part: a page
            # may scroll down, never sideways.
            problems.append(f"{_name(widget)} scrolls sideways by "
                            f"{widget.horizontalScrollBar().maximum()} px")
        for child in widget.findChildren(QWidget, options=Qt.FindDirectChildrenOnly):
            if not child.isVisible() or child.isWindow():
                continue
            inside_scroller = isinstance(widget.parentWidget(), QScrollArea)
            area = widget.rect().adjusted(-SLACK, -SLACK, SLACK, SLACK)
            if not inside_scroller and not area.contains(child.geometry()):
                problems.append(f"{_name(child)} at {child.geometry()} sticks out of "
                                f"{_name(widget)} {widget.rect()}")
            problems.extend(_text_problems(child))
            if not isinstance(child, LEAVES):
                walk(child)

    walk(root)
    return problems


def _text_problems(widget):
    """Whether widget's text is shown whole (labels, buttons, check boxes)."""
    if isinstance(widget, QLabel) and widget.text() and widget.pixmap() is None:
        room = widget.contentsRect()
        if widget.wordWrap():
            need = widget.heightForWidth(widget.width())
            if need > widget.height() + SLACK:
                return [f"{_name(widget)} needs {need} px of height, has "
                        f"{widget.height()}"]
        elif _text_width(widget) > room.width() + SLACK:
            return [f"{_name(widget)} needs {_text_width(widget):.0f} px, has "
                    f"{room.width()}"]
        elif widget.sizeHint().height() > widget.height() + SLACK:
            # Lines of a plain label below or above its rectangle are cut off.
            return [f"{_name(widget)} needs {widget.sizeHint().height()} px of "
                    f"height, has {widget.height()}"]
    if isinstance(widget, QCheckBox) and widget.sizeHint().width() > widget.width():
        return [f"{_name(widget)} needs {widget.sizeHint().width()} px, has "
                f"{widget.width()}"]
    if isinstance(widget, QAbstractButton) and not isinstance(widget, QCheckBox) \
            and widget.text():
        text = widget.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
        need = widget.fontMetrics().horizontalAdvance(text) + 6
        if need > widget.width():
            return [f"{_name(widget)} needs {need} px, has {widget.width()}"]
    if isinstance(widget, QGroupBox) and widget.title():
        need = widget.fontMetrics().horizontalAdvance(widget.title()) + 16
        if need > widget.width():
            return [f"{_name(widget)} title needs {need} px, has {widget.width()}"]
    return []


def _mnist_like_results(panel):
    """Fill the Evaluation tab with four-digit counts, as a real test set gives."""
    confusion = np.full((10, 10), 3) + np.diag(np.full(10, 1132))  # (10, 10)
    per_class = np.diag(confusion) / confusion.sum(1)
    panel.set_results(0.9893, per_class, confusion, "MNIST (10000 test)")


@pytest.fixture
def shown(window):
    """The window at a given size on a given tab, laid out and painted."""

    def show(tab, size):
        window.resize(*size)
        window.show_tab(tab)
        for _ in range(3):
            QApplication.processEvents()
        assert (window.width(), window.height()) == size  # no minimum size bigger
        return window.tabs.currentWidget()

    return show


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_nothing_is_cut_off(window, shown, size):
    """Every view of every tab, and the columns beside the tabs, show all they hold
    (one window per size, every tab shown in turn)."""
    _mnist_like_results(window.evaluation_panel)
    problems = []
    for tab in TABS:
        page = shown(tab, size)
        problems += [f"{tab}: {problem}" for problem in clipping_problems(page)]
        problems += [f"{tab}: {problem}" for problem in
                     clipping_problems(window.input_panel)
                     + clipping_problems(window.prediction_panel)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_run_buttons_are_in_view_without_scrolling(window, shown, size):
    """The Training tab's Start, Pause, Stop and Step are on screen as it opens."""
    shown("training", size)
    panel = window.training_panel
    for button in (panel.start, panel.pause, panel.stop, panel.step, panel.reinit):
        assert button.visibleRegion().boundingRect() == button.rect(), button.text()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_confusion_counts_are_never_shortened(window, shown, size):
    """A diagonal of 1132 shows as 1132 in its cell, not as "1..."."""
    _mnist_like_results(window.evaluation_panel)
    shown("evaluation", size)
    panel = window.evaluation_panel
    assert panel.confusion.textElideMode() == Qt.ElideNone
    assert panel.cell_text_fits()


def test_wide_window_keeps_fields_beside_their_labels(window, shown):
    """At 1920 px the architecture's fields start right after the block labels."""
    shown("training", (1920, 1080))
    block = window.training_panel.arch_editor.blocks[0]
    gap = block.filters.geometry().left() - block.label.geometry().right()
    assert gap < 60


def test_prediction_moves_under_the_canvas_on_a_narrow_window(window, shown):
    """At 1024 px the prediction sits under the drawing, giving the tabs room."""
    shown("training", (1024, 768))
    assert window.input_panel.isAncestorOf(window.prediction_panel)
    assert window.tabs.width() >= 660
    shown("training", (1280, 800))
    assert not window.input_panel.isAncestorOf(window.prediction_panel)


def test_saved_geometry_larger_than_the_screen_is_fitted_to_it(qtbot):
    """A window saved at 2400x1500 opens inside the screen it is on."""
    from convlab.gui.app import create_window, make_application
    from convlab.gui.common.settings import app_settings

    make_application([])
    big = create_window(restore=False)
    big.setGeometry(QRect(-300, -200, 2400, 1500))
    app_settings().setValue("window/geometry", big.saveGeometry())
    big.settings.remember = False
    big.close()
    window = create_window(restore=False)
    qtbot.addWidget(window)
    room = window.screen().availableGeometry()
    assert room.contains(window.frameGeometry())
    window.settings.remember = False
    window.close()


def test_tabs_fit_under_the_tab_bar(window, shown):
    """Each tab's name is shown whole in the tab bar at 1024 px."""
    shown("training", (1024, 768))
    bar = window.tabs.tabBar()
    for i in range(bar.count()):
        assert bar.tabRect(i).right() <= bar.width(), bar.tabText(i)


def test_shapes_and_problem_share_one_place(window, shown):
    """An impossible architecture says why where the shapes were: the fields do
    not move and the editor keeps its size."""
    shown("training", (1280, 800))
    editor = window.training_panel.arch_editor
    editor.blocks[0].pool_size.setValue(4)  # block 2 now sees 6x6 maps
    block = editor.blocks[1]
    QApplication.processEvents()
    before = (block.filters.mapTo(window, block.filters.rect().topLeft()),
              editor.height())
    block.kernel.setValue(9)  # a 9x9 kernel on a 6x6 map cannot work
    QApplication.processEvents()
    assert editor.architecture() is None and editor.arch_error.isVisible()
    assert isinstance(editor.arch_error.parentWidget(), QStackedWidget)
    after = (block.filters.mapTo(window, block.filters.rect().topLeft()),
             editor.height())
    assert after == before


def test_a_paused_step_of_a_batch_norm_network_fits_the_training_tab(
        window, shown, qtbot, tiny_dataset):
    """After Step one batch of a fresh batch-norm network (run paused, its summary
    and progress shown), the Training tab shows everything whole, with no sideways
    scrolling, at every window size."""
    panel = window.training_panel
    window.controller.set_dataset(tiny_dataset)
    shown("training", SIZES[0])
    panel.arch_editor.batch_norm.setChecked(True)
    panel.settings.batch_size.setValue(8)
    panel.reinit.click()
    panel.step.click()
    qtbot.waitUntil(lambda: panel.step_summary.shown() is not None, timeout=60000)
    problems = []
    for size in SIZES:
        page = shown("training", size)
        problems += [f"{size}: {problem}" for problem in clipping_problems(page)]
    window.controller.session.shutdown()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_a_batch_norm_network_fits_the_training_tab(window, shown, size):
    """With batch norm the architecture lists twelve layer shapes; every line shows
    at every window size."""
    window.training_panel.arch_editor.batch_norm.setChecked(True)
    page = shown("training", size)
    problems = clipping_problems(page)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_learning_curve_labels_fit_beside_their_plots(window, shown, size):
    """The turned "loss" and "accuracy" labels are never taller than their axes."""
    from PyQt5.QtGui import QFontMetrics

    shown("training", size)
    curves = window.training_panel.curves
    for plot in (curves.loss_plot, curves.acc_plot):
        axis = plot.getAxis("left")
        text = QFontMetrics(axis.label.font()).horizontalAdvance(axis.labelText)
        assert axis.geometry().height() >= text, (axis.labelText, size)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_shipped_lesson_fits_the_lessons_tab(window, shown, size,
                                                    tiny_dataset):
    """The first step of each shipped lesson shows its title, text, question and
    buttons whole, with no sideways scrolling."""
    window.controller.set_dataset(tiny_dataset)
    lessons = window.controller.lessons
    problems = []
    for row, lesson in enumerate(lessons.lessons):
        lessons.panel.lesson_list.setCurrentRow(row)
        page = shown("lessons", size)
        problems += [f"{lesson.id}: {problem}" for problem in clipping_problems(page)]
    assert not problems, "\n".join(problems)
