"""The drawn-digit set: styles drawn on the real canvas with the mouse, and read."""

import json

import numpy as np
import pytest

from convlab import cli
from convlab.bench import drawn
from convlab.data.preprocess import BOX, SIZE, center_of_mass
from convlab.resources import BUNDLED_MODEL, resource_path


def style(name):
    """The drawn set's style of that name."""
    return next(s for s in drawn.STYLES if s.name == name)


def ink_box(image):
    """(height, width) of the pixels above 0.05."""
    rows = np.flatnonzero((image > 0.05).any(axis=1))
    cols = np.flatnonzero((image > 0.05).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_every_style_and_variant_fits_the_canvas():
    """Every mouse path of every style in every variant stays on the canvas."""
    for s in drawn.STYLES:
        for v in drawn.VARIANTS:
            points = np.concatenate(drawn.canvas_strokes(s, v))
            assert points.min() >= v.width / 2
            assert points.max() <= drawn.CANVAS - v.width / 2
            steps = np.linalg.norm(np.diff(points, axis=0), axis=1)
            assert len(points) > 10 and np.median(steps) <= drawn.MOVE_PX


def test_variants_cover_sizes_brushes_slants_and_places():
    """Each size x brush x slant is drawn once, in the middle and three corners."""
    combos = {(v.size, v.width, v.slant) for v in drawn.VARIANTS}
    assert len(combos) == len(drawn.VARIANTS) == (
        len(drawn.SIZES) * len(drawn.WIDTHS) * len(drawn.SLANTS))
    assert {v.place for v in drawn.VARIANTS} == set(drawn.PLACES)


def test_validation_variants_share_nothing_with_the_test_variants():
    """Recipes are chosen on variants whose size, brush, slant and place the test
    variants never use, and they include small digits under a broad brush."""
    validation, test = drawn.VALIDATION_VARIANTS, drawn.VARIANTS
    for attribute in ("size", "width", "slant", "place"):
        assert not ({getattr(v, attribute) for v in validation}
                    & {getattr(v, attribute) for v in test}), attribute
    assert {"test": test, "validation": validation} == drawn.SPLITS
    assert any(v.size < min(drawn.SIZES) and v.width > 2 * min(drawn.WIDTHS)
               for v in validation)
    for s in drawn.STYLES:
        for v in validation:
            points = np.concatenate(drawn.canvas_strokes(s, v))
            assert points.min() >= v.width / 2
            assert points.max() <= drawn.CANVAS - v.width / 2


def test_styles_drawn_with_the_mouse_become_centred_digits(qtbot):
    """A European 1 and a barred 7, drawn through the canvas, are MNIST-like inputs."""
    styles = [style("1 European"), style("7 barred"), style("1 stick")]
    variants = [drawn.Variant(230, 20, 0.15, (0.5, 0.5)),
                drawn.Variant(55, 32, -0.1, (0.25, 0.75))]
    x, y, names, used = drawn.render_set(styles, variants)
    assert x.shape == (6, 1, SIZE, SIZE) and x.dtype == np.float32
    assert list(y) == [1, 1, 7, 7, 1, 1]
    assert names == ["1 European"] * 2 + ["7 barred"] * 2 + ["1 stick"] * 2
    assert used == variants * 3
    for image in x[:, 0]:
        assert max(ink_box(image)) == BOX  # the longer side is 20 px
        np.testing.assert_allclose(center_of_mass(image), (14, 14), atol=0.6)
    # The European 1's long up-stroke puts ink left of the stem in the top third;
    # the plain stick has none there.
    euro, stick = x[0, 0], x[4, 0]
    assert euro[8:15, 6:13].sum() > 5 * max(stick[8:15, 6:13].sum(), 0.1)
    # The barred 7's bar crosses the stem halfway down: a row of at least 7 ink
    # pixels there, where a stem alone is 2 or 3 wide.
    assert (x[2, 0][14:19] > 0.5).sum(axis=1).max() >= 7


def test_score_groups_by_style_and_variant():
    """score counts right answers per style, size, brush and slant."""
    a = drawn.Variant(55, 10, 0.0, (0.5, 0.5))
    b = drawn.Variant(230, 32, 0.3, (0.5, 0.5))
    result = drawn.score([1, 7, 7, 7], [1, 1, 7, 7], ["one", "one", "seven", "seven"],
                         [a, b, a, b])
    assert result["accuracy"] == 0.75 and result["images"] == 4
    assert result["per_style"] == {"one": 0.5, "seven": 1.0}
    assert result["per_size"] == {55: 1.0, 230: 0.5}
    assert result["per_width"] == {10: 1.0, 32: 0.5}
    assert result["per_place"] == {(0.5, 0.5): 0.75}
    assert result["misread"] == [("one", b, 7)]


def test_bundled_model_reads_the_drawn_set(qtbot, capsys):
    """`bench drawn --json`: the bundled model reads >= 98%, every style >= 90%."""
    if not resource_path(BUNDLED_MODEL).is_file():
        pytest.skip("no bundled model in resources/models")
    assert cli.main(["bench", "drawn", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["images"] == len(drawn.STYLES) * len(drawn.VARIANTS)
    assert set(result["per_style"]) == {s.name for s in drawn.STYLES}
    assert result["accuracy"] >= drawn.FLOOR_OVERALL
    worst = min(result["per_style"], key=result["per_style"].get)
    assert result["per_style"][worst] >= drawn.FLOOR_STYLE, worst
    assert all(result["floors"].values())
    assert set(result["per_place"]) == {"middle", "top left", "bottom right",
                                        "bottom left"}


def test_bench_drawn_reads_the_validation_split(qtbot, capsys):
    """`bench drawn --split validation` draws and scores the validation variants."""
    if not resource_path(BUNDLED_MODEL).is_file():
        pytest.skip("no bundled model in resources/models")
    assert cli.main(["bench", "drawn", "--split", "validation", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["split"] == "validation"
    assert result["images"] == len(drawn.STYLES) * len(drawn.VALIDATION_VARIANTS)
    assert set(result["per_size"]) == {f"{s:g}" for s in drawn.VALIDATION_SIZES}
