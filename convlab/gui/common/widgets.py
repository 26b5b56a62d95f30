"""Controls that are born teaching: every one has a name and a tooltip.

Screen readers announce the accessible name; the tooltip says what the control does
to the network, which is the point of a teaching app.
"""

from PyQt5.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox


def teach(widget, name, tip):
    """Give a control the name screen readers announce and a tooltip that teaches."""
    widget.setAccessibleName(name)
    widget.setToolTip(tip)
    return widget


def spin_box(lo, hi, value, name, tip):
    """A named, teaching QSpinBox holding value in lo..hi."""
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    return teach(box, name, tip)


def double_spin_box(lo, hi, value, name, tip, decimals=2):
    """A named, teaching QDoubleSpinBox holding value in lo..hi."""
    box = QDoubleSpinBox()
    # Decimals first: the range and the value are rounded to them.
    box.setDecimals(decimals)
    box.setRange(lo, hi)
    box.setValue(value)
    return teach(box, name, tip)


def combo(items, name, tip, current=0):
    """A named, teaching QComboBox of (text shown, data) items, on item `current`."""
    box = QComboBox()
    for text, data in items:
        box.addItem(text, data)
    box.setCurrentIndex(current)
    return teach(box, name, tip)
