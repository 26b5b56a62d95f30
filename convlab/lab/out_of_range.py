"""Is this input far from every digit the network learned from?

A classifier must answer with one of its ten digits whatever it is shown: a dot, a
line or a scribble gets "97% sure" like a real 7. That number compares the ten
digits with each other; it is not the chance that the input is a digit at all.

How the input is judged (on the 28x28 image the network sees, after the MNIST-style
preprocessing): three plain measurements, each compared with the range of the
10,000 MNIST training digits ConvLab trains on, with a small margin. Model-free, so
the judgement stays the same while the network trains or another model is opened.

* ink: the sum of the pixel values. MNIST digits hold 22 to 267.
* height of the ink's box (pixels above INK_CUT). Preprocessing makes the longer
  side 20 px, so a wide flat shape (a dash) ends up a few pixels high; MNIST
  training digits are at least 10 px high (one flat test digit, 8).
* thickest solid block: the side of the largest square that is ink all over.
  MNIST pen strokes are thin: the block is at most 10 px; a dot or a dense scribble
  becomes one big blob once scaled to 20 px.

What it cannot tell: a shape within all three ranges that is still no digit (a
thin wavy line, two separate strokes) passes unflagged.
"""

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

INK_CUT = 0.5  # a pixel counts as ink above this value
# Ranges of the 10,000 MNIST training digits, widened a little so no real digit is
# flagged (of the 10,000 test digits none is).
MNIST_INK = (21.9, 266.9)
INK_RANGE = (15.0, 280.0)
MNIST_MIN_HEIGHT = 10
MIN_HEIGHT = 7  # one flat test digit (a 2) is 8 px high
MNIST_MAX_SOLID = 10
MAX_SOLID = 10

HOW_JUDGED = (
    "How ConvLab judges \"unlike the training digits\": it measures the 28x28 input "
    "the network sees and compares with the 10,000 MNIST training digits. Their ink "
    f"(the sum of the pixels) is {MNIST_INK[0]:.0f} to {MNIST_INK[1]:.0f}; they are "
    f"at least {MNIST_MIN_HEIGHT} px high; their strokes are thin, the largest solid "
    f"square of ink at most {MNIST_MAX_SOLID} px wide. The note appears for ink "
    f"below {INK_RANGE[0]:.0f} or above {INK_RANGE[1]:.0f}, a height under "
    f"{MIN_HEIGHT} px or a solid square wider than {MAX_SOLID} px. A shape inside "
    "these ranges can still be no digit at all: the note is a warning, not a "
    "guarantee."
)


@dataclass(frozen=True)
class Judgement:
    """The measurements of one input and what is out of range.

    ink: sum of the pixels; height, width: the ink's box in px (0 for no ink);
    solid: side of the largest all-ink square; reasons: one phrase per measurement
    out of MNIST's range (empty: the input looks like a digit by these measures).
    """

    ink: float
    height: int
    width: int
    solid: int
    reasons: tuple[str, ...]

    @property
    def far(self):
        """True when some measurement is outside MNIST's range."""
        return bool(self.reasons)


def largest_solid_square(inked):
    """The side of the largest square of True pixels in a 2-D bool array."""
    side = 0
    while side < min(inked.shape):
        k = side + 1
        # windows[i, j] is the k x k block whose top-left corner is (i, j).
        windows = sliding_window_view(inked, (k, k))  # (H-k+1, W-k+1, k, k)
        if not windows.all(axis=(2, 3)).any():
            break
        side = k
    return side


def judge(x):
    """Measure x, the network's (28, 28) input in [0, 1], against MNIST's ranges."""
    x = np.asarray(x, dtype=np.float64)
    inked = x > INK_CUT
    ink = float(x.sum())
    rows, cols = np.flatnonzero(inked.any(axis=1)), np.flatnonzero(inked.any(axis=0))
    height = int(rows[-1] - rows[0] + 1) if rows.size else 0
    width = int(cols[-1] - cols[0] + 1) if cols.size else 0
    solid = largest_solid_square(inked)
    reasons = []
    if ink < INK_RANGE[0]:
        reasons.append(f"far less ink than MNIST digits ({ink:.0f}; they hold "
                       f"{MNIST_INK[0]:.0f} to {MNIST_INK[1]:.0f})")
    elif ink > INK_RANGE[1]:
        reasons.append(f"far more ink than MNIST digits ({ink:.0f}; they hold "
                       f"{MNIST_INK[0]:.0f} to {MNIST_INK[1]:.0f})")
    if 0 < height < MIN_HEIGHT:
        reasons.append(f"only {height} px high (MNIST training digits "
                       f"are at least {MNIST_MIN_HEIGHT})")
    if solid > MAX_SOLID:
        reasons.append(f"a solid blob of ink {solid} px wide (in MNIST digits "
                       f"at most {MNIST_MAX_SOLID})")
    return Judgement(ink, height, width, solid, tuple(reasons))


def note(x):
    """The warning the prediction panel shows for input x, or "" when there is
    none (x looks like a digit by these measures, or x is None: nothing drawn)."""
    if x is None:
        return ""
    judgement = judge(x)
    if not judgement.far:
        return ""
    return ("This is unlike the digits the network learned from: "
            + "; ".join(judgement.reasons) + ". The network must still pick one of "
            "its ten digits, and its confidence is not the chance that this is a "
            "digit at all.")
