"""convlab.gui.common.colormaps: one signed scale for every room."""

import numpy as np

from convlab.gui.common.colormaps import (
    SIGNED_CMAP,
    diverging_qcolor,
    symmetric_levels,
)


def test_levels_round_up_for_live_views_and_stay_exact_for_the_playground():
    """Rounded: a legend that stays put; exact: the largest |value| itself."""
    values = np.array([0.3, -0.72, np.nan, np.inf])
    assert symmetric_levels(values) == (-0.8, 0.8)
    assert symmetric_levels(values, round_up=False) == (-0.72, 0.72)
    assert symmetric_levels(np.array([13.0])) == (-15.0, 15.0)


def test_levels_are_never_zero_wide():
    """All zeros, all NaN or nothing at all: the scale is -1..1, centred on zero."""
    for values in (np.zeros(4), np.full(3, np.nan), np.zeros((0, 3))):
        assert symmetric_levels(values) == (-1.0, 1.0)
        assert symmetric_levels(values, round_up=False) == (-1.0, 1.0)


def test_diverging_colour_ends_and_middle_match_the_signed_map():
    """-level is the blue end, 0 the white middle, +level (and beyond) the red end."""
    assert diverging_qcolor(-2.0, 2.0).getRgb()[:3] == (33, 102, 172)
    assert diverging_qcolor(0.0, 2.0).getRgb()[:3] == (247, 247, 247)
    assert diverging_qcolor(50.0, 2.0) == SIGNED_CMAP.mapToQColor(1.0)
