"""lab.out_of_range: real MNIST digits pass; a dot, a dash, a scribble are flagged."""

import numpy as np
import pytest

from convlab.data.mnist import load_mnist
from convlab.data.preprocess import canvas_to_input
from convlab.lab import out_of_range

CANVAS = 280  # the drawing canvas's side, in px
BRUSH = 20.0  # its default brush width


def drawing(points, width=BRUSH):
    """A canvas image with a round brush drawn along points (row, col)."""
    rows, cols = np.mgrid[:CANVAS, :CANVAS]
    image = np.zeros((CANVAS, CANVAS))
    points = np.asarray(points, float)
    segments = list(zip(points[:-1], points[1:], strict=True)) or [(points[0],) * 2]
    for start, end in segments:
        for t in np.linspace(0.0, 1.0, 40):
            r, c = start + t * (end - start)
            edge = width / 2 + 0.5 - np.hypot(rows - r, cols - c)
            image = np.maximum(image, np.clip(edge, 0.0, 1.0))
    return image


DOT = [(140, 140)]
DASH = [(140, 60), (140, 220)]
# Back and forth across the canvas, closer than the brush is wide.
SCRIBBLE = [(70 + 10 * i, 70 if i % 2 == 0 else 210) for i in range(15)]


@pytest.mark.parametrize("points, why", [(DOT, "blob"), (DASH, "high"),
                                         (SCRIBBLE, "blob")])
def test_a_dot_a_dash_and_a_scribble_are_flagged(points, why):
    """Shapes no MNIST digit looks like get a note that says why."""
    x = canvas_to_input(drawing(points))
    judgement = out_of_range.judge(x)
    assert judgement.far
    assert any(why in reason for reason in judgement.reasons)
    text = out_of_range.note(x)
    assert "must still pick one of its ten digits" in text
    assert "not the chance that this is a digit" in text


def test_a_drawn_digit_is_not_flagged():
    """A 7 drawn with the default brush is inside every range."""
    x = canvas_to_input(drawing([(60, 70), (60, 210), (220, 120)]))
    assert out_of_range.note(x) == ""


def test_nothing_drawn_has_no_note():
    """A blank input (None) gets no warning: the panel already says nothing drawn."""
    assert out_of_range.note(None) == ""


def test_real_mnist_digits_are_not_flagged(mnist_dir):
    """None of the 10,000 real MNIST test digits is flagged."""
    images, _ = load_mnist(mnist_dir, "test")
    flagged = [i for i, image in enumerate(images)
               if out_of_range.judge(image / 255.0).far]
    assert flagged == []


def test_largest_solid_square():
    """The largest all-ink square of a known picture."""
    inked = np.zeros((10, 10), bool)
    inked[2:6, 3:8] = True  # a 4 x 5 block
    assert out_of_range.largest_solid_square(inked) == 4
    assert out_of_range.largest_solid_square(np.zeros((5, 5), bool)) == 0
