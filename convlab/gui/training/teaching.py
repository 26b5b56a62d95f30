"""The Training tab's controls are born teaching: each has a name and a tooltip."""

from PyQt5.QtWidgets import QSpinBox


def teach(widget, name: str, tip: str):
    """Give a control the name screen readers announce and a tooltip that teaches."""
    widget.setAccessibleName(name)
    widget.setToolTip(tip)
    return widget


def spin(lo: int, hi: int, value: int, name: str, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    return teach(box, name, tip)
