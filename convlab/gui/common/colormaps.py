"""The colour maps every room paints numbers with, and the scales that go with them."""

import math

import numpy as np
import pyqtgraph as pg

# Signed values: blue below zero, white at zero, red above, so a number's sign and size
# read at a glance. After a ReLU only the white-to-red half is used, which is itself a
# lesson about what ReLU does.
SIGNED_COLORS = ((33, 102, 172), (247, 247, 247), (178, 24, 43))
SIGNED_CMAP = pg.ColorMap([0.0, 0.5, 1.0], SIGNED_COLORS)
GREY_CMAP = pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)])
PROB_CMAP = pg.ColorMap([0.0, 1.0], [(247, 251, 255), (8, 48, 107)])

# Colours looked up once: asking the colour map on every repaint cost a millisecond.
_SIGNED_QCOLORS = [SIGNED_CMAP.mapToQColor(t) for t in np.linspace(0, 1, 257)]

NICE_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_ceil(m):
    """The smallest 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten >= m."""
    if not m > 1e-12:
        return 1.0
    power = 10.0 ** math.floor(math.log10(m))
    return next(step * power for step in NICE_STEPS if step * power >= m * (1 - 1e-9))


def symmetric_levels(values, round_up=True):
    """(-m, m) with m the largest finite |value|, and 1 when there is none or it is 0.

    Symmetric so white always means exactly zero. round_up makes m a round number
    just above it: the legend reads well and stays put while training nudges the
    values (redrawing legends is costly). Without it m is the exact largest |value|,
    for views that are redrawn only when the student edits something.
    """
    values = np.asarray(values)
    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if finite.size else 0.0
    exact = top if top > 0 else 1.0
    m = nice_ceil(top) if round_up else exact
    return -m, m


def diverging_qcolor(value, level):
    """The signed colour of `value` on the scale -level..+level, clipped at the ends."""
    t = 0.5 + 0.5 * float(np.clip(value / level, -1.0, 1.0))
    return _SIGNED_QCOLORS[round(t * 256)]
