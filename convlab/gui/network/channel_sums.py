"""ChannelSumsPanel: a deeper filter's channels, added up, in its enlarged view.

A filter of a deeper conv layer reads every map of the column before, one kernel
per map. This panel shows what each kernel makes of its own map (the partial maps,
largest share first), and that their sum plus the bias is the layer's output map,
with the numbers (lab.conv_depth.channel_sums).
"""

import math

from PyQt5.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from convlab.gui.network.map_grid import MapGrid
from convlab.lab.network import symmetric_levels


class ChannelSumsPanel(QWidget):
    """The C partial maps of one filter, their sum + bias, and the layer's map."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.explanation = QLabel()
        self.explanation.setObjectName("Caption")
        self.explanation.setWordWrap(True)
        self.partials = MapGrid(
            "Partial maps",
            "Partial map c: kernel c of this filter slid over map c of the column "
            "before, alone, without the bias. Largest share (sum of |values|) "
            "first. All partial maps share one colour scale.")
        self.result = MapGrid(
            "Sum and output map",
            "Left: the partial maps added up, plus the bias. Right: the map the "
            "layer itself computed. They are the same numbers.")
        self.check = QLabel()
        self.check.setObjectName("Caption")
        self.check.setWordWrap(True)
        self.check.setAccessibleName("Check of the sum")
        self._sums = None
        maps = QHBoxLayout()
        maps.addWidget(self.partials, 4)
        maps.addWidget(self.result, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.explanation)
        layout.addLayout(maps, 1)
        layout.addWidget(self.check)

    def sums(self):
        """The lab.conv_depth.ChannelSums on show, or None."""
        return self._sums

    def set_sums(self, sums):
        """Show a ChannelSums: its partial maps in order, the sum and the check."""
        self._sums = sums
        m = sums.maps
        self.explanation.setText(sums.explanation())
        count = len(m.partial)
        # About twice as wide as tall: 32 channels in 4 rows of 8, 64 in 6 of 11.
        self.partials.set_maps(m.partial[m.order], sums.labels(),
                               math.ceil(math.sqrt(2 * count)))
        plus = "+ bias" if sums.has_bias else "(no bias)"
        both = (m.output, sums.layer_output)
        self.result.set_maps(both, [f"sum of partial\nmaps {plus}",
                                    "the layer's map\n(before ReLU)"], 1,
                             levels=symmetric_levels(both, round_up=False))
        self.check.setText("\n".join(sums.check_lines()))
