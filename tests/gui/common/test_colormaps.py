"""convlab.gui.common.colormaps: one signed scale for every room."""

from convlab.gui.common.colormaps import SIGNED_CMAP, diverging_qcolor


def test_diverging_colour_ends_and_middle_match_the_signed_map():
    """-level is the blue end, 0 the white middle, +level (and beyond) the red end."""
    assert diverging_qcolor(-2.0, 2.0).getRgb()[:3] == (33, 102, 172)
    assert diverging_qcolor(0.0, 2.0).getRgb()[:3] == (247, 247, 247)
    assert diverging_qcolor(50.0, 2.0) == SIGNED_CMAP.mapToQColor(1.0)
