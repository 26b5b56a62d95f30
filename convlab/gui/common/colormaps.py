"""The colour maps every room paints numbers with, and the scales that go with them."""

import numpy as np
import pyqtgraph as pg

# Signed values: blue below zero, white at zero, red above, so a number's sign and size
# read at a glance. After a ReLU only the white-to-red half is used, which is itself a
# lesson about what ReLU does.
SIGNED_COLORS = ((33, 102, 172), (247, 247, 247), (178, 24, 43))
SIGNED_CMAP = pg.ColorMap([0.0, 0.5, 1.0], SIGNED_COLORS)
GREY_CMAP = pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)])
# Probabilities are never negative: a sequential white-to-green, so they never read
# as the signed scale's blue.
PROB_CMAP = pg.ColorMap([0.0, 1.0], [(247, 252, 245), (0, 109, 44)])

# Colours looked up once: asking the colour map on every repaint cost a millisecond.
_SIGNED_QCOLORS = [SIGNED_CMAP.mapToQColor(t) for t in np.linspace(0, 1, 257)]

def diverging_qcolor(value, level):
    """The signed colour of `value` on the scale -level..+level, clipped at the ends."""
    t = 0.5 + 0.5 * float(np.clip(value / level, -1.0, 1.0))
    return _SIGNED_QCOLORS[round(t * 256)]
