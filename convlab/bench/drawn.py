"""`python -m convlab bench drawn`: does the model read digits drawn with the mouse?

The drawn set is ConvLab's own: each style of writing a digit (a European 1 with its
long up-stroke, a 7 with a bar, an open 4, ...) is a few pen strokes in a unit box,
drawn on the real input canvas with mouse press, move and release events at several
sizes, places, brush widths (set on the brush slider) and slants, then preprocessed
exactly as the app does (canvas_to_input). The report gives the accuracy on the
whole set, per style and per size, brush and slant. Floors: 98% overall and 90% for
every style. ``--json`` prints one JSON object. ``--split validation`` draws the
styles at other sizes, brushes, slants and places instead: the digits training
recipes are compared on, so the test figures stay untouched by those choices.

The styles and the variants are plain NumPy (tests import them without Qt); only
render_set needs a QApplication, and it imports the canvas when called, as the
command line does for the window.
"""

import argparse
import itertools
import json
import sys
from dataclasses import dataclass

import numpy as np

CANVAS = 280  # the drawing canvas's side in pixels (DrawingCanvas.SIZE)
MOVE_PX = 4.0  # distance between two mouse-move events, as a steady hand gives
FLOOR_OVERALL = 0.98
FLOOR_STYLE = 0.90


@dataclass(frozen=True)
class Style:
    """One way of writing a digit: its strokes, each a polyline (k, 2) of (x, y) in
    a unit box (x to the right, y downwards, the digit inside [0, 1] x [0, 1])."""

    name: str
    label: int
    strokes: tuple


@dataclass(frozen=True)
class Variant:
    """Where and how a style is drawn: the digit's height in canvas pixels, the
    brush width, the slant (the top moves right by slant * height) and the place of
    the digit's centre as fractions of the canvas (kept inside it)."""

    size: float
    width: int
    slant: float
    place: tuple


def _arc(cx, cy, rx, ry, start, stop, n=24):
    """Points (n, 2) on an ellipse arc; degrees, 0 = right, 90 = down (y is down)."""
    t = np.radians(np.linspace(start, stop, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _bezier(a, b, c, n=16):
    """Points (n, 2) on the quadratic Bezier curve from a to c pulled towards b."""
    t = np.linspace(0.0, 1.0, n)[:, None]  # (n, 1)
    a, b, c = (np.asarray(p, dtype=np.float64) for p in (a, b, c))
    return (1 - t) ** 2 * a + 2 * t * (1 - t) * b + t**2 * c


def _line(*points):
    return np.asarray(points, dtype=np.float64)


def _join(*pieces):
    return np.concatenate(pieces, axis=0)


def _figure_eight():
    """A crossed 8 in one stroke: down the right of the top loop, through the waist,
    round the bottom and back up through the waist."""
    t = np.linspace(0.0, 1.0, 64)
    return np.stack([0.5 + 0.3 * np.sin(4 * np.pi * t),
                     0.5 - 0.5 * np.cos(2 * np.pi * t)], axis=1)


_NINE_LOOP = _arc(0.45, 0.27, 0.27, 0.27, 0, -360)
_TWO_TOP = _arc(0.5, 0.28, 0.36, 0.28, 195, 380)
_FIVE_BELLY = _arc(0.5, 0.7, 0.34, 0.3, 235, 510)
_SIX_LOOP = _arc(0.48, 0.72, 0.28, 0.28, 180, -175)
_EURO_FLAG = _line((0.15, 0.4), (0.6, 0.0), (0.6, 1.0))

STYLES = (
    Style("0 oval", 0, (_arc(0.5, 0.5, 0.32, 0.5, -90, 280, n=40),)),
    Style("0 round", 0, (_arc(0.5, 0.5, 0.45, 0.5, -100, 265, n=40),)),
    Style("1 stick", 1, (_line((0.5, 0.0), (0.5, 1.0)),)),
    Style("1 short flag", 1, (_line((0.35, 0.2), (0.52, 0.0), (0.52, 1.0)),)),
    Style("1 European", 1, (_EURO_FLAG,)),
    Style("1 European, base", 1, (_EURO_FLAG, _line((0.3, 1.0), (0.9, 1.0)))),
    Style("2 plain", 2, (_join(_TWO_TOP, _line((0.1, 1.0), (0.9, 1.0))),)),
    Style("2 loop", 2, (_join(
        _TWO_TOP, _line((0.18, 0.92)), _arc(0.24, 0.86, 0.1, 0.1, 135, 470, n=16),
        _line((0.9, 0.98))),)),
    Style("3 round", 3, (_join(_arc(0.45, 0.25, 0.3, 0.25, 200, 450),
                               _arc(0.45, 0.75, 0.36, 0.25, 270, 510)),)),
    Style("3 flat top", 3, (_join(_line((0.15, 0.0), (0.8, 0.0), (0.4, 0.4)),
                                  _arc(0.45, 0.7, 0.36, 0.3, -100, 150)),)),
    Style("4 closed", 4, (_line((0.65, 0.0), (0.05, 0.65), (0.92, 0.65)),
                          _line((0.65, 0.0), (0.65, 1.0)))),
    Style("4 open", 4, (_line((0.2, 0.0), (0.12, 0.6), (0.92, 0.6)),
                        _line((0.68, 0.05), (0.68, 1.0)))),
    Style("5 two strokes", 5, (_join(_line((0.3, 0.0)), _FIVE_BELLY),
                               _line((0.3, 0.0), (0.88, 0.0)))),
    Style("5 one stroke", 5, (_join(_line((0.88, 0.0), (0.3, 0.0)), _FIVE_BELLY),)),
    Style("6 curved", 6, (_join(_bezier((0.72, 0.0), (0.25, 0.2), (0.2, 0.72)),
                                _SIX_LOOP),)),
    Style("6 straight", 6, (_join(_line((0.62, 0.0), (0.2, 0.72)), _SIX_LOOP),)),
    Style("7 plain", 7, (_line((0.1, 0.0), (0.9, 0.0), (0.45, 1.0)),)),
    Style("7 barred", 7, (_line((0.1, 0.0), (0.9, 0.0), (0.45, 1.0)),
                          _line((0.45, 0.5), (0.88, 0.5)))),
    Style("8 crossed", 8, (_figure_eight(),)),
    Style("8 two loops", 8, (_arc(0.5, 0.24, 0.24, 0.24, 90, 450),
                             _arc(0.5, 0.74, 0.3, 0.26, -90, 270))),
    Style("9 straight tail", 9, (_join(_NINE_LOOP, _line((0.72, 0.27), (0.7, 1.0))),)),
    Style("9 curved tail", 9, (_join(
        _NINE_LOOP, _bezier((0.72, 0.27), (0.74, 1.0), (0.3, 0.95))),)),
)

# Every style at every size x brush x slant; the place moves round the canvas so
# each style is also drawn in the middle and in three corners.
SIZES = (55, 90, 150, 230)
WIDTHS = (10, 20, 32)
SLANTS = (-0.1, 0.15, 0.35)
PLACES = ((0.5, 0.5), (0.25, 0.25), (0.75, 0.75), (0.25, 0.75))


def _variants(sizes, widths, slants, places):
    """Every size x brush x slant once, the place going round the given places."""
    return tuple(
        Variant(size, width, slant, places[i % len(places)])
        for i, (size, width, slant) in enumerate(
            itertools.product(sizes, widths, slants))
    )


VARIANTS = _variants(SIZES, WIDTHS, SLANTS, PLACES)

# The validation variants: the same styles at sizes, brushes, slants and places the
# test variants do not use. Training recipes are compared on these, so that the
# figures reported on VARIANTS come from digits no choice was made on.
VALIDATION_SIZES = (45, 65, 110, 190)
VALIDATION_WIDTHS = (16, 28)
VALIDATION_SLANTS = (0.0, 0.25)
VALIDATION_PLACES = ((0.4, 0.6), (0.7, 0.3), (0.3, 0.35), (0.65, 0.7))
VALIDATION_VARIANTS = _variants(VALIDATION_SIZES, VALIDATION_WIDTHS,
                                VALIDATION_SLANTS, VALIDATION_PLACES)
SPLITS = {"test": VARIANTS, "validation": VALIDATION_VARIANTS}


def canvas_strokes(style, variant):
    """The style's strokes as mouse paths on the canvas: a list of (k, 2) points
    (x, y) in canvas pixels, a point every MOVE_PX or so, all inside the canvas."""
    points = []
    for stroke in style.strokes:
        p = np.asarray(stroke, dtype=np.float64) * variant.size  # (k, 2)
        # Slant: the higher a point, the further right (y is down).
        p[:, 0] += variant.slant * (variant.size - p[:, 1])
        points.append(p)
    every = np.concatenate(points)
    low, high = every.min(axis=0), every.max(axis=0)
    margin = variant.width / 2 + 2
    centre = np.asarray(variant.place) * CANVAS
    # Put the box's centre at the place, then slide it back inside the canvas.
    half = (high - low) / 2
    centre = np.clip(centre, margin + half, CANVAS - margin - half)
    shift = centre - (low + high) / 2
    return [_resample(p + shift, MOVE_PX) for p in points]


def _resample(points, step):
    """The polyline (k, 2) with extra points so no two are more than step apart."""
    out = [points[:1]]
    for a, b in zip(points[:-1], points[1:], strict=True):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / step)))
        t = np.arange(1, n + 1)[:, None] / n  # (n, 1)
        out.append(a + (b - a) * t)
    return np.concatenate(out)


def render_set(styles=STYLES, variants=VARIANTS):
    """Draw every style in every variant on a real InputPanel with mouse events.

    Returns (x, y, names, variants): the network's inputs (N, 1, 28, 28) float32
    from canvas_to_input, the labels (N,) int64, and each image's style name and
    Variant. Needs a QApplication.
    """
    from PyQt5.QtCore import QEvent, QPoint, QPointF, Qt
    from PyQt5.QtGui import QMouseEvent
    from PyQt5.QtTest import QTest
    from PyQt5.QtWidgets import QApplication

    from convlab.data.preprocess import canvas_to_input
    from convlab.gui.input.panel import InputPanel

    panel = InputPanel()
    canvas = panel.canvas
    images, labels, names, used = [], [], [], []
    try:
        for style in styles:
            for variant in variants:
                panel.clear_button.click()
                panel.brush_slider.setValue(variant.width)
                for path in canvas_strokes(style, variant):
                    start, *rest = (QPointF(x, y) for x, y in path)
                    QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier,
                                     start.toPoint())
                    for point in rest:
                        # QTest's mouseMove only moves the cursor on some
                        # platforms; a move event with the button held is a drag.
                        QApplication.sendEvent(canvas, QMouseEvent(
                            QEvent.MouseMove, point, Qt.NoButton, Qt.LeftButton,
                            Qt.NoModifier))
                    end = (rest or [start])[-1]
                    QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier,
                                       QPoint(round(end.x()), round(end.y())))
                images.append(canvas_to_input(canvas.image()))
                labels.append(style.label)
                names.append(style.name)
                used.append(variant)
    finally:
        panel.deleteLater()
    x = np.stack(images)[:, None].astype(np.float32)  # (N, 1, 28, 28)
    return x, np.asarray(labels, np.int64), names, used


def score(predictions, labels, names, variants):
    """Accuracy overall, per style and per size, brush width, slant and place
    (dicts of fractions), and the misread digits as (style, variant, prediction)
    rows."""
    right = np.asarray(predictions) == np.asarray(labels)

    def by(keys):
        groups = {}
        for key, ok in zip(keys, right, strict=True):
            groups.setdefault(key, []).append(ok)
        return {key: float(np.mean(oks)) for key, oks in groups.items()}

    misread = [(name, variant, int(p))
               for name, variant, p, ok in zip(names, variants, predictions, right,
                                               strict=True) if not ok]
    return {
        "accuracy": float(right.mean()),
        "images": len(right),
        "per_style": by(names),
        "per_size": by(v.size for v in variants),
        "per_width": by(v.width for v in variants),
        "per_slant": by(v.slant for v in variants),
        "per_place": by(v.place for v in variants),
        "misread": misread,
    }


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m convlab bench drawn", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, metavar="FILE",
                        help="model file (default: the bundled model)")
    parser.add_argument("--split", choices=tuple(SPLITS), default="test",
                        help="the test variants (default) or the validation "
                             "variants that training recipes are chosen on")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser.parse_args(argv)


def run(args):
    """Render the drawn set, read it with the model; every figure as a dict."""
    from PyQt5.QtWidgets import QApplication
    from threadpoolctl import threadpool_limits

    from convlab import nn
    from convlab.evaluation import class_scores
    from convlab.resources import BUNDLED_MODEL, resource_path

    path = args.model or str(resource_path(BUNDLED_MODEL))
    model = nn.load_model(path).model
    app = QApplication.instance() or QApplication(["convlab bench drawn"])
    x, y, names, variants = render_set(variants=SPLITS[args.split])
    with threadpool_limits(limits=1, user_api="blas"):
        predictions = class_scores(model, x).argmax(axis=1)
    del app
    result = score(predictions, y, names, variants)
    result["model"] = "bundled model" if args.model is None else args.model
    result["split"] = args.split
    result["misread"] = [
        {"style": name, "size": v.size, "width": v.width, "slant": v.slant,
         "place": list(v.place), "read_as": p}
        for name, v, p in result["misread"]]
    result["floors"] = {
        f"overall >= {FLOOR_OVERALL:.0%}": result["accuracy"] >= FLOOR_OVERALL,
        f"every style >= {FLOOR_STYLE:.0%}":
            min(result["per_style"].values()) >= FLOOR_STYLE,
    }
    # JSON keys must be strings.
    for key in ("per_size", "per_width", "per_slant"):
        result[key] = {f"{k:g}": v for k, v in result[key].items()}
    result["per_place"] = {_place_name(k): v for k, v in result["per_place"].items()}
    return result


def _place_name(place):
    """Where on the canvas a place is, in words: "middle", "top left", ..."""
    if place == (0.5, 0.5):
        return "middle"
    x, y = place
    return f"{'top' if y < 0.5 else 'bottom'} {'left' if x < 0.5 else 'right'}"


def format_report(result):
    """The human-readable report of run()'s figures."""
    lines = [f"drawn digits ({result['split']} variants) read by the "
             f"{result['model']}: {result['accuracy']:.2%} of {result['images']}"]
    lines += [f"  {name:<20} {acc:7.1%}" for name, acc in result["per_style"].items()]
    for key, title in (("per_size", "digit height (px)"), ("per_width", "brush (px)"),
                       ("per_slant", "slant"), ("per_place", "place")):
        lines.append(f"{title}: " + ", ".join(
            f"{k} {v:.1%}" for k, v in result[key].items()))
    for m in result["misread"]:
        lines.append(f"  misread: {m['style']} (height {m['size']:g}, brush "
                     f"{m['width']}, slant {m['slant']:g}) as {m['read_as']}")
    lines += [f"  {'ok  ' if ok else 'MISS'} {name}"
              for name, ok in result["floors"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m convlab bench drawn`; returns the exit code."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
