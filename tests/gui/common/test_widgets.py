"""convlab.gui.common.widgets: controls that are born named and teaching."""

from PyQt5.QtWidgets import QPushButton

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
