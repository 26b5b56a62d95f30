"""FilterToolsPanel: switch off, freeze or reset a trained filter; see its worth.

The edits themselves are commands from convlab.lab.filter_edits. Below the tools,
an UpdateView (self.update_view) shows one gradient-descent step of the filter.

Signals (intent): switch_off_requested(), switch_on_requested(), freeze_toggled(bool),
reset_requested(), accuracy_requested(), channel_changed(int), close_requested().
Setter slots: show_filter(...), show_no_filter(), set_probabilities(learned, now),
set_accuracy_text(text), set_busy(bool), set_switched_off(bool).
"""

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common.widgets import teach
from convlab.gui.playground.update_view import UpdateView

# All of the official test set: a filter's worth is often a fraction of a point, less
# than the noise of a smaller sample, and 10,000 images take about a second.
ACCURACY_IMAGES = 10_000
LEARNED_COLOR = (170, 170, 170)
NOW_COLOR = (33, 102, 172)
SWITCH_OFF_TIP = (
    "Set this filter's weights and bias to zero: its feature map goes blank and the "
    "layers above lose what it detected. Watch the probabilities.")
SWITCH_ON_TIP = (
    "The filter is off (all its weights and its bias are 0). Turn it back on: its "
    "weights from before it was switched off come back.")


class FilterToolsPanel(QWidget):
    """Switch off, freeze or reset the open filter; see its effect on the prediction."""

    switch_off_requested = pyqtSignal()
    switch_on_requested = pyqtSignal()
    freeze_toggled = pyqtSignal(bool)
    reset_requested = pyqtSignal()
    accuracy_requested = pyqtSignal()
    channel_changed = pyqtSignal(int)
    close_requested = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._title = QLabel()
        self._title.setWordWrap(True)
        self._channel = teach(
            QSpinBox(), "Input channel of the filter",
            "A filter in a deeper layer has one kernel per input channel (one per "
            "feature map of the layer below); pick which one to see and edit.")
        self._channel.setPrefix("input channel ")
        self._channel.valueChanged.connect(self.channel_changed)

        self._off = teach(QPushButton("Switch off"), "Switch the filter off",
                          SWITCH_OFF_TIP)
        self._off.clicked.connect(self._on_off_clicked)
        self._switched_off = False
        self._freeze = teach(
            QCheckBox("Freeze"), "Freeze the filter",
            "Training leaves a frozen filter exactly as it is (the optimizer skips its "
            "weights), while the rest of the network keeps learning around it.")
        self._freeze.toggled.connect(self.freeze_toggled)
        self._reset = teach(
            QPushButton("Reset"), "Reset the filter to its learned values",
            "Put back the weights the network had learned when you opened this filter.")
        self._reset.clicked.connect(self.reset_requested)
        self._close = teach(
            QPushButton("My kernel"), "Close the network filter",
            "Stop editing the network's filter and go back to your own kernel.")
        self._close.clicked.connect(self.close_requested)

        self._plot = teach(
            pg.PlotWidget(), "Probabilities, learned filter versus now",
            "Grey: the network's probabilities with the learned filter. Blue: with the "
            "filter as it is now. The gap is what your change did to the decision.")
        self._plot.setBackground("w")
        self._plot.setFixedHeight(150)
        self._plot.setMouseEnabled(False, False)
        self._plot.setMenuEnabled(False)
        self._plot.setYRange(0, 1, padding=0.02)
        self._plot.setXRange(-0.6, 9.6, padding=0)
        self._plot.getAxis("bottom").setTicks([[(d, str(d)) for d in range(10)]])
        self._plot.setLabel("left", "probability")
        digits = np.arange(10)
        self._learned_bars = pg.BarGraphItem(x=digits - 0.2, height=np.zeros(10),
                                             width=0.4, brush=LEARNED_COLOR)
        self._now_bars = pg.BarGraphItem(x=digits + 0.2, height=np.zeros(10),
                                         width=0.4, brush=NOW_COLOR)
        self._plot.addItem(self._learned_bars)
        self._plot.addItem(self._now_bars)
        # The legend sits under the plot: inside it would hide the bars.
        self._legend = QLabel(
            f"<span style='color:rgb{LEARNED_COLOR}'>■</span> learned filter "
            f"&nbsp; <span style='color:rgb{NOW_COLOR}'>■</span> now")
        self._prediction = QLabel()
        self._prediction.setWordWrap(True)

        self._measure = teach(
            QPushButton("Measure test accuracy now"), "Measure test accuracy now",
            f"Classify the first {ACCURACY_IMAGES:,} test images twice, with the "
            "filter as it is now and with its learned values: the difference is "
            "what this one filter is worth to the network.")
        self._measure.clicked.connect(self.accuracy_requested)
        self._accuracy = QLabel()
        self._accuracy.setWordWrap(True)
        self.update_view = UpdateView()

        # Two short rows keep the tools as narrow as the kernel editor above them.
        buttons = QGridLayout()
        buttons.addWidget(self._off, 0, 0)
        buttons.addWidget(self._freeze, 0, 1)
        buttons.addWidget(self._reset, 1, 0)
        buttons.addWidget(self._close, 1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._title)
        layout.addWidget(self._channel)
        layout.addLayout(buttons)
        layout.addWidget(self._plot)
        layout.addWidget(self._legend)
        layout.addWidget(self._prediction)
        layout.addWidget(self._measure)
        layout.addWidget(self._accuracy)
        layout.addWidget(self.update_view)
        self.show_no_filter()

    def show_filter(self, title, channels, channel, frozen):
        """Show the tools for an open filter with `channels` input channels."""
        self._title.setText(title)
        self._channel.blockSignals(True)
        self._channel.setRange(0, channels - 1)
        self._channel.setSuffix(f" of 0..{channels - 1}")
        self._channel.setValue(channel)
        self._channel.blockSignals(False)
        self._channel.setVisible(channels > 1)
        self._freeze.blockSignals(True)
        self._freeze.setChecked(frozen)
        self._freeze.blockSignals(False)
        self._accuracy.setText("")
        for widget in (self._off, self._freeze, self._reset, self._plot, self._legend,
                       self._prediction, self._measure, self._close,
                       self.update_view):
            widget.setVisible(True)

    def show_no_filter(self):
        """No network filter open: a hint on how to open one."""
        self._title.setText(
            "Click a conv filter in the Network tab to open it here: then switch it "
            "off, freeze it or edit it and see what the network makes of your digit."
        )
        self._channel.setVisible(False)
        for widget in (self._off, self._freeze, self._reset, self._plot, self._legend,
                       self._prediction, self._measure, self._accuracy, self._close,
                       self.update_view):
            widget.setVisible(False)

    def set_probabilities(self, learned, now):
        """Bars for the class probabilities with the learned filter and with it now."""
        self._learned_bars.setOpts(height=np.asarray(learned))
        self._now_bars.setOpts(height=np.asarray(now))
        was, is_ = int(np.argmax(learned)), int(np.argmax(now))
        self._prediction.setText(
            f"Prediction with the learned filter: <b>{was}</b> ({learned[was]:.1%}); "
            f"now: <b>{is_}</b> ({now[is_]:.1%})."
        )

    def set_accuracy_text(self, text):
        """Show the result (or progress) of a test-accuracy measurement."""
        self._accuracy.setText(text)
        self._accuracy.setVisible(True)

    def set_switched_off(self, off):
        """Label the switch by what a click does: off, or back on."""
        self._switched_off = off
        self._off.setText("Turn back on" if off else "Switch off")
        self._off.setToolTip(SWITCH_ON_TIP if off else SWITCH_OFF_TIP)

    def switch_text(self):
        """The switch button's label as shown."""
        return self._off.text()

    def _on_off_clicked(self):
        if self._switched_off:
            self.switch_on_requested.emit()
        else:
            self.switch_off_requested.emit()

    def set_busy(self, busy):
        """Disable the measure button while a measurement runs."""
        self._measure.setEnabled(not busy)

    def prediction_text(self):
        """The prediction line as shown."""
        return self._prediction.text()

    def accuracy_text(self):
        """The accuracy line as shown."""
        return self._accuracy.text()
