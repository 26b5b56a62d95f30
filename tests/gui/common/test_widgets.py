"""convlab.gui.common.widgets: controls that are born named and teaching, that
refuse out-of-range numbers out loud and never take an unfocused mouse wheel."""

import pytest
from PyQt5.QtCore import QPoint, QPointF, Qt
from PyQt5.QtGui import QWheelEvent
from PyQt5.QtWidgets import (
    QApplication,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common.widgets import combo, double_spin_box, spin_box, teach


def test_teach_names_the_widget_and_gives_its_tooltip(qtbot):
    """teach sets the accessible name and the tooltip, and hands the widget back."""
    button = QPushButton("Go")
    qtbot.addWidget(button)
    assert teach(button, "Start", "Starts it.") is button
    assert (button.accessibleName(), button.toolTip()) == ("Start", "Starts it.")


def test_spin_boxes_hold_their_range_and_value(qtbot):
    """spin_box and double_spin_box clamp to lo..hi and keep the decimals asked for."""
    box = spin_box(1, 4, 2, "Stride", "How far it jumps.")
    qtbot.addWidget(box)
    assert (box.minimum(), box.maximum(), box.value()) == (1, 4, 2)
    assert (box.accessibleName(), box.toolTip()) == ("Stride", "How far it jumps.")
    box.setValue(9)
    assert box.value() == 4
    rate = double_spin_box(1e-5, 1.0, 1e-3, "Learning rate", "Step size.", decimals=5)
    qtbot.addWidget(rate)
    assert (rate.decimals(), rate.minimum(), rate.value()) == (5, 1e-5, 1e-3)
    assert rate.accessibleName() == "Learning rate"


def test_combo_holds_its_choices_with_their_data(qtbot):
    """combo lists (text, data) pairs in order and starts on the one asked for."""
    box = combo((("none", "none"), ("max", "max"), ("average", "avg")), "Pooling",
                "How to pool.", current=1)
    qtbot.addWidget(box)
    assert [box.itemText(i) for i in range(box.count())] == ["none", "max", "average"]
    assert box.currentData() == "max"
    assert box.findData("avg") == 2
    assert (box.accessibleName(), box.toolTip()) == ("Pooling", "How to pool.")


@pytest.fixture
def page(qtbot):
    """A window whose page scrolls, holding a stride box, a learning-rate box and a
    pooling combo above a tall spacer."""
    window = QMainWindow()
    content = QWidget()
    layout = QVBoxLayout(content)
    window.stride = spin_box(1, 4, 1, "Stride", "How far the filter jumps.")
    window.lr = double_spin_box(1e-4, 1.0, 1e-3, "Learning rate", "Step size.",
                                decimals=4)
    window.pool = combo([("max", "max"), ("average", "avg")], "Pooling", "Pooling.")
    for widget in (window.stride, window.lr, window.pool):
        layout.addWidget(widget)
    layout.addSpacing(2000)
    window.area = QScrollArea()
    window.area.setWidget(content)
    window.area.setWidgetResizable(True)
    window.setCentralWidget(window.area)
    qtbot.addWidget(window)
    window.resize(400, 300)
    window.show()
    qtbot.waitExposed(window)
    return window


def type_into(qtbot, box, text):
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key_Return)


def test_learning_rate_ten_is_refused_with_its_range(qtbot, page):
    """Typing 10 keeps the learning rate and says the allowed range."""
    refused = []
    page.lr.value_refused.connect(refused.append)
    type_into(qtbot, page.lr, "10")
    assert page.lr.value() == pytest.approx(1e-3)
    assert refused[-1] == ("Learning rate must be between 0.0001 and 1; 10 was not "
                           "taken, kept 0.001.")
    assert page.statusBar().currentMessage() == refused[-1]
    assert page.lr.text() == "0.0010"  # the kept value is shown again


def test_stride_99_is_refused_and_a_valid_value_takes(qtbot, page):
    """99 for a stride of 1..4 is refused out loud; 3 then takes."""
    refused = []
    page.stride.value_refused.connect(refused.append)
    type_into(qtbot, page.stride, "99")
    assert page.stride.value() == 1
    assert "Stride must be between 1 and 4; 99 was not taken, kept 1." in refused
    type_into(qtbot, page.stride, "3")
    assert page.stride.value() == 3 and len(refused) == 2  # "9", then "99"


def wheel(widget, steps=-1):
    """Turn the mouse wheel over widget's centre (negative: towards the user)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())),
                        QPoint(), QPoint(0, 120 * steps), Qt.NoButton,
                        Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_wheel_over_unfocused_fields_scrolls_the_page(qtbot, page):
    """A wheel turn over an unfocused spin box or combo scrolls the page instead."""
    page.setFocus()
    page.stride.setValue(2)
    for widget in (page.stride, page.pool):
        wheel(widget)
    assert page.stride.value() == 2 and page.pool.currentIndex() == 0
    assert page.area.verticalScrollBar().value() > 0


def test_wheel_over_a_focused_field_changes_it(qtbot, page):
    """Once clicked (focused), the wheel steps the value as usual."""
    page.stride.setValue(2)
    page.stride.setFocus()
    wheel(page.stride, steps=-1)
    assert page.stride.value() == 1
    assert page.stride.focusPolicy() == Qt.StrongFocus
