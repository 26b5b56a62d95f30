"""What the Network tab shows, as numbers and words: mosaics, colour levels, titles.

Every layer's output is drawn as a mosaic of its feature maps (one image per layer),
with signed colour levels that are round and symmetric, so white means zero. An
enlarged map or filter comes with a heading and an explanation (enlarged_map,
enlarged_filter). No Qt here: the view draws what these functions compute.
"""

import math
from dataclasses import dataclass

import numpy as np

from convlab.nn import layers

GAP = 1  # cells of background between tiles in a mosaic
TALLNESS = 3.0  # mosaics are laid out about this many times taller than wide

# What every view says about NaN or infinite numbers, which a diverging training run
# (e.g. a too-high learning rate) or an edited filter can produce.
NOT_FINITE_CAUSE = ("The weights have blown up, e.g. from a too-high learning rate: "
                    "open a trained model or start again from new random weights.")

NICE_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def grid_shape(count, tile_h=1, tile_w=1, tallness=TALLNESS):
    """(rows, cols) for count tiles: a mosaic about tallness times taller than wide."""
    cols = max(1, round(math.sqrt(count * tile_h / (tallness * tile_w))))
    cols = min(cols, count)
    return math.ceil(count / cols), cols


def vector_grid(length):
    """(rows, cols) for showing a vector of length numbers as a block of cells."""
    if length <= 16:
        return length, 1
    return grid_shape(length)


def fit_grid(count, tile_h, tile_w, width, height, gap=GAP):
    """(rows, cols) for count tiles that makes them largest in a width x height box."""
    best, best_scale = (count, 1), -1.0
    for cols in range(1, count + 1):
        rows = math.ceil(count / cols)
        scale = min(width / (cols * (tile_w + gap) - gap),
                    height / (rows * (tile_h + gap) - gap))
        if scale > best_scale:
            best, best_scale = (rows, cols), scale
    return best


def strongest_channels(weights):
    """weights (F, C, kh, kw) -> (tiles (F, kh, kw), channels (F,)).

    For each filter, the kernel of the input channel with the largest norm: the
    previous layer's map this filter listens to most.
    """
    # In float64: a diverged run's float32 weights (up to 3e38) square to
    # infinity in float32, and every channel would tie.
    norms = np.sqrt(np.square(weights, dtype=np.float64).sum(axis=(2, 3)))  # (F, C)
    channels = norms.argmax(axis=1)  # (F,)
    return weights[np.arange(len(weights)), channels], channels


def mosaic(tiles, rows, cols, gap=GAP):
    """tiles (K, h, w) -> (rows*(h+gap)-gap, cols*(w+gap)-gap) image, NaN in gaps."""
    k, h, w = tiles.shape
    # No Python loop over tiles: this runs ~20 times a second while training.
    padded = np.full((rows * cols, h + gap, w + gap), np.nan, np.float32)
    padded[:k, :h, :w] = tiles
    grid = padded.reshape(rows, cols, h + gap, w + gap)  # (rows, cols, h+gap, w+gap)
    grid = grid.transpose(0, 2, 1, 3)  # (rows, h+gap, cols, w+gap)
    out = grid.reshape(rows * (h + gap), cols * (w + gap))
    return out[:-gap or None, :-gap or None]


def conv_weights(model):
    """{column: weights (F, C, kh, kw)} of every conv layer; column 0 is the input."""
    return {i + 1: layer.weight.data for i, layer in enumerate(model.layers)
            if isinstance(layer, layers.Conv2d)}


def _pair(value):
    """(3, 3) or 3 -> "3×3"."""
    if isinstance(value, list | tuple):
        return "×".join(str(v) for v in value)
    return f"{value}×{value}"


def layer_title(layer):
    """A short name for a layer, e.g. "Conv 32 × 3×3" or "Max pool 2×2"."""
    if isinstance(layer, layers.Conv2d):
        extra = []
        if layer.stride != (1, 1):
            extra.append(f"stride {_pair(layer.stride)}")
        if layer.padding != (0, 0):
            extra.append(f"pad {_pair(layer.padding)}")
        title = f"Conv {layer.out_channels} × {_pair(layer.kernel_size)}"
        return title + ("\n" + ", ".join(extra) if extra else "")
    if isinstance(layer, layers.MaxPool2d):
        return f"Max pool {_pair(layer.kernel_size)}"
    if isinstance(layer, layers.AvgPool2d):
        return f"Avg pool {_pair(layer.kernel_size)}"
    if isinstance(layer, layers.Linear):
        return f"Dense {layer.out_features}"
    if isinstance(layer, layers.BatchNorm2d):
        return "Batch norm"
    if isinstance(layer, layers.Dropout):
        return f"Dropout {layer.p}"
    return type(layer).__name__  # ReLU, Flatten: their class name says it


def shape_text(shape):
    """(1, 32, 26, 26) -> "32 × 26 × 26": the batch dimension is always 1 here."""
    return " × ".join(str(n) for n in shape[1:])


def number_text(value, fmt="{:.2f}"):
    """value formatted with fmt, or NaN, ∞ or −∞ for the numbers that are not finite."""
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "∞" if value > 0 else "−∞"
    return fmt.format(value)


def not_finite_note(count, total):
    """A sentence about count of total numbers being NaN or infinite ("" for none)."""
    if count == 0:
        return ""
    verb = "is" if count == 1 else "are"
    return (f"{count} of these {total} numbers {verb} not a number (NaN) or infinite, "
            f"drawn as gaps. {NOT_FINITE_CAUSE}")


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


MAP_EXPLANATION = (
    "One feature map: each number is how strongly one filter matched the patch of "
    "the previous column under that position. Red means a strong match, blue an "
    "opposite pattern, white nothing.")
INPUT_EXPLANATION = "The 28x28 input: 0 is black, 1 is white ink."
FILTER_EXPLANATION = (
    "A filter's weights. The layer slides it over its input and at every position "
    "multiplies these numbers with the pixels under them and adds the products: big "
    "where the input looks like the red pattern.")


@dataclass
class Enlarged:
    """What the enlarged view shows: a 2-D array with a heading and an explanation.

    gaps marks the cells that hold no number (None: every cell holds one).
    """

    heading: str
    explanation: str
    values: np.ndarray
    gaps: np.ndarray | None = None


def enlarged_map(name, a, index, is_input=False):
    """One column's output enlarged: map index of a (1, C, H, W), or for index < 0
    the whole vector a (1, N) in reading order. name is the column's title."""
    if index >= 0:
        values = a[0, index]  # (H, W)
        return Enlarged(f"{name}: map {index} of {a.shape[1]} ({values.shape[0]} × "
                        f"{values.shape[1]})",
                        INPUT_EXPLANATION if is_input else MAP_EXPLANATION, values)
    n = a[0].size
    rows, cols = vector_grid(n)
    grid = np.full(rows * cols, np.nan)
    grid[:n] = a[0]
    return Enlarged(
        f"{name}: all {n} numbers",
        "A dense layer's output is a list of numbers, one per neuron; here they are "
        "in reading order.",
        grid.reshape(rows, cols),  # (rows, cols)
        (np.arange(rows * cols) >= n).reshape(rows, cols))


def enlarged_filter(name, weights, index, shown_channel):
    """Filter index of a conv layer's weights (F, C, kh, kw), every channel in view.

    shown_channel is the channel of its tile in the overview (strongest_channels).
    """
    f = weights[index]  # (C, kh, kw)
    heading = f"{name}: filter {index} ({' × '.join(map(str, f.shape))})"
    if f.shape[0] == 1:
        return Enlarged(heading, FILTER_EXPLANATION, f[0])
    # One tile per input channel, in a grid wider than tall to suit the window.
    rows, cols = grid_shape(f.shape[0], tallness=0.5)
    gaps = np.isnan(mosaic(np.zeros_like(f), rows, cols))  # the space between
    many = (f" This filter reads all the previous layer's maps at once: one "
            f"{f.shape[1]}×{f.shape[2]} tile per map, in reading order. Its tile in "
            f"the Network tab is map {int(shown_channel)}'s, the one with the largest "
            "weights.")
    return Enlarged(heading, FILTER_EXPLANATION + many, mosaic(f, rows, cols), gaps)
