"""arrangement.arrange: the Network tab's columns split into bands that fit."""

from convlab.gui.network.arrangement import SPACING, Spec, arrange

SAMPLE = [Spec(60, False, (1, 28, 28)), Spec(80, True, (32, 26, 26)),
          Spec(60, False, (32, 26, 26)), Spec(60, False, (32, 13, 13)),
          Spec(80, True, (64, 11, 11)), Spec(60, False, (64, 11, 11)),
          Spec(60, False, (64, 5, 5)), Spec(60), Spec(60), Spec(60), Spec(84),
          Spec(84)]


def test_bands_hold_every_column_in_order_and_fit_the_width():
    """Each arrangement keeps the columns in order, each once, within the width."""
    for width, height in ((500, 600), (760, 620), (1360, 900)):
        bands, _ = arrange(SAMPLE, width, height)
        assert [c for band in bands for c in band.columns] == list(range(12))
        for band in bands:
            assert sum(band.widths) + SPACING * (len(band.widths) - 1) <= width
            assert all(w >= SAMPLE[c].min_width
                       for c, w in zip(band.columns, band.widths, strict=True))


def test_a_wide_screen_gets_one_band_and_a_narrow_one_several():
    """Wide and short: one band; narrow and tall: more than one."""
    assert len(arrange(SAMPLE, 1800, 500)[0]) == 1
    assert len(arrange(SAMPLE, 500, 1000)[0]) > 1


def test_nothing_fits_in_a_tiny_area():
    """Too small for the columns' smallest widths: no arrangement, the view shrinks."""
    assert arrange(SAMPLE, 100, 100) == (None, 0.0)
