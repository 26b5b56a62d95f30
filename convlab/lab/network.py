"""What the Network tab shows, as numbers and words: mosaics, colour levels, titles.

Every layer's output is drawn as a mosaic of its feature maps (one image per layer),
with signed colour levels that are round and symmetric, so white means zero. An
enlarged map or filter comes with a heading and an explanation in the words of its
layer's kind (enlarged_map, map_explanation, enlarged_filter with its bias). A
hovered unit's receptive field is said in numbers (field_text, field_growth).
Indices a student reads count from 0, as the code does (COUNTING_NOTE). No Qt
here: the view draws what these functions compute.
"""

import math
from dataclasses import dataclass

import numpy as np

from convlab.nn import layers
from convlab.nn.functional import as_pair

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


# Said once where a student first meets the numbers: the Network tab's footer and
# the enlarged view. Every index a student reads follows it, as the code does.
COUNTING_NOTE = ("Rows, columns, maps and filters are counted from 0, as in Python: "
                 "filter 0 is the first.")

INPUT_EXPLANATION = "The 28x28 input: 0 is black, 1 is white ink."
FILTER_EXPLANATION = (
    "A filter's weights. The layer slides it over its input and at every position "
    "multiplies these numbers with the pixels under them and adds the products: big "
    "where the input looks like the red pattern.")
MAP_EXPLANATION = (
    "A conv layer's feature map: each number is the filter's weights times the patch "
    "of the previous column under that position, summed, plus the filter's bias. "
    "Red means a strong match, blue an opposite pattern.")
RELU_EXPLANATION = (
    "ReLU's output: every number of the previous column's map with the negative ones "
    "set to 0, max(0, x). Positive numbers pass unchanged, so only the white-to-red "
    "half of the scale is left.")
DROPOUT_EXPLANATION = (
    "Dropout's output: while the network is used, as here, it passes every number on "
    "unchanged. Only during training it sets a random share of them to 0, so no "
    "neuron can be relied on alone.")
FLATTEN_EXPLANATION = (
    "Flatten computes nothing: it lays the previous column's maps end to end as one "
    "long vector (map 0 row by row, then map 1, ...), because a dense layer reads a "
    "list of numbers. Here the vector is folded into rows to fit the window.")
DENSE_EXPLANATION = (
    "A dense layer's output, one number per neuron: each is a weighted sum of every "
    "number of the previous column plus the neuron's bias. Here they are in reading "
    "order.")
SCORES_EXPLANATION = (
    "The ten class scores (logits), one per digit 0-9: each is a weighted sum of the "
    "previous column plus a bias. They can be any size and sign; softmax turns them "
    "into the probabilities.")
PROBABILITIES_EXPLANATION = (
    "The probabilities: softmax of the scores, P(d) = exp(score d) / sum of "
    "exp(every score). Each lies between 0 and 1 and the ten add up to 1; the "
    "largest is the network's answer.")


def _window_text(layer):
    """"2×2 window, stride 2" of a pooling layer."""
    return f"{_pair(layer.kernel_size)} window, stride {_pair(layer.stride)}"


def map_explanation(layer, channel=-1, role="layer"):
    """What one enlarged map or vector of a column means, in the words of its kind.

    layer: the layer whose output it is (None for the input and the probabilities);
    channel: the map's index (-1: the whole vector); role: "input", "layer",
    "scores" (the last layer's ten numbers) or "probabilities". A conv map gets its
    filter's bias and a batch-norm map its own shift and scale, with their numbers.
    """
    if role == "input":
        return INPUT_EXPLANATION
    if role == "probabilities":
        return PROBABILITIES_EXPLANATION
    if role == "scores":
        return SCORES_EXPLANATION
    if isinstance(layer, layers.Conv2d):
        if channel < 0 or layer.bias is None:
            return MAP_EXPLANATION
        bias = float(layer.bias.data[channel])
        return (MAP_EXPLANATION + f" The flat background is filter {channel}'s bias "
                f"b = {number_text(bias, '{:.3g}')}: where the patch is blank every "
                "product is 0, and only b is left.")
    if isinstance(layer, layers.ReLU):
        return RELU_EXPLANATION
    if isinstance(layer, layers.MaxPool2d):
        return ("Max pooling's output: each number is the largest of one "
                f"{_window_text(layer)} of the previous column's map, so the map "
                "shrinks and keeps where a feature was strongest.")
    if isinstance(layer, layers.AvgPool2d):
        return ("Average pooling's output: each number is the mean of one "
                f"{_window_text(layer)} of the previous column's map, so the map "
                "shrinks and gets smoother.")
    if isinstance(layer, layers.BatchNorm2d):
        text = ("Batch norm's output: each number of the previous column's map is "
                "normalized with the running mean and variance averaged over the "
                "training batches, then scaled by γ and shifted by β: "
                "γ (x − mean) / √(var + ε) + β.")
        if channel < 0:
            return text
        values = (layer.weight.data[channel], layer.bias.data[channel],
                  layer.running_mean[channel], layer.running_var[channel])
        gamma, beta, mean, var = (number_text(float(v), "{:.3g}") for v in values)
        return text + (f" For map {channel}: γ = {gamma}, β = {beta}, mean = {mean}, "
                       f"var = {var}.")
    if isinstance(layer, layers.Flatten):
        return FLATTEN_EXPLANATION
    if isinstance(layer, layers.Linear):
        return DENSE_EXPLANATION
    if isinstance(layer, layers.Dropout):
        return DROPOUT_EXPLANATION
    return f"The output of a {type(layer).__name__} layer."


@dataclass
class Enlarged:
    """What the enlarged view shows: a 2-D array with a heading and an explanation.

    gaps marks the cells that hold no number (None: every cell holds one).
    """

    heading: str
    explanation: str
    values: np.ndarray
    gaps: np.ndarray | None = None


def enlarged_map(name, a, index, explanation=MAP_EXPLANATION):
    """One column's output enlarged: map index of a (1, C, H, W), or for index < 0
    the whole vector a (1, N) in reading order. name is the column's title and
    explanation what its numbers mean (map_explanation)."""
    if index >= 0:
        values = a[0, index]  # (H, W)
        count = a.shape[1]
        return Enlarged(f"{name}: map {index} of {count} (maps 0–{count - 1}), "
                        f"{values.shape[0]} × {values.shape[1]}", explanation, values)
    n = a[0].size
    rows, cols = vector_grid(n)
    grid = np.full(rows * cols, np.nan)
    grid[:n] = a[0]
    return Enlarged(
        f"{name}: all {n} numbers (0–{n - 1}, in reading order)", explanation,
        grid.reshape(rows, cols),  # (rows, cols)
        (np.arange(rows * cols) >= n).reshape(rows, cols))


def bias_text(bias):
    """The sentence about a filter's bias b in its enlarged view."""
    return (f" Its bias b = {number_text(float(bias), '{:.3g}')} is added at every "
            "position: on a blank patch the map shows just b, its flat background.")


def enlarged_filter(name, weights, index, shown_channel, bias=None):
    """Filter index of a conv layer's weights (F, C, kh, kw), every channel in view.

    shown_channel is the channel of its tile in the overview (strongest_channels);
    bias: the layer's biases (F,), whose entry is shown too (None: no bias).
    """
    f = weights[index]  # (C, kh, kw)
    heading = (f"{name}: filter {index} of {len(weights)} (filters 0–"
               f"{len(weights) - 1}), {' × '.join(map(str, f.shape))}")
    if bias is not None:
        heading += f", bias {number_text(float(bias[index]), '{:.3g}')}"
    own = FILTER_EXPLANATION + ("" if bias is None else bias_text(bias[index]))
    if f.shape[0] == 1:
        return Enlarged(heading, own, f[0])
    # One tile per input channel, in a grid wider than tall to suit the window.
    rows, cols = grid_shape(f.shape[0], tallness=0.5)
    gaps = np.isnan(mosaic(np.zeros_like(f), rows, cols))  # the space between
    many = (f" This filter reads all the previous layer's maps at once: one "
            f"{f.shape[1]}×{f.shape[2]} tile per map, in reading order from map 0. "
            f"Its tile in the Network tab is map {int(shown_channel)}'s, the one with "
            "the largest weights.")
    return Enlarged(heading, own + many, mosaic(f, rows, cols), gaps)


def _axis_text(values):
    """(8, 8) -> "8", (3, 5) -> "3×5": one number for a square."""
    return str(values[0]) if values[0] == values[1] else "×".join(map(str, values))


def field_growth(model, layer_index):
    """How a unit's receptive field grows, layer by layer, up to layer_index.

    E.g. "conv 3×3 → 3 px, max pool 2×2 → 4 px, conv 3×3 → 8 px": each window of
    k pixels adds k − 1 steps of the layer before it, and a stride s makes those
    steps s times longer. Padding only shifts the box. Computed from the layers,
    so it holds for any architecture.
    """
    size, step = [1, 1], [1, 1]  # field size and the input pixels between units
    parts = []
    for layer in model.layers[:layer_index + 1]:
        if isinstance(layer, layers.Linear):
            parts.append("dense → every pixel")
            break
        if isinstance(layer, layers.Conv2d):
            kernel, stride = layer.kernel_size, layer.stride
            name = f"conv {_pair(kernel)}"
            default = (1, 1)
        elif isinstance(layer, (layers.MaxPool2d, layers.AvgPool2d)):
            kernel, stride = (as_pair(layer.kernel_size, "kernel_size"),
                              as_pair(layer.stride, "stride"))
            kind = "max" if isinstance(layer, layers.MaxPool2d) else "avg"
            name = f"{kind} pool {_pair(kernel)}"
            default = kernel
        else:
            continue  # ReLU, batch norm, ... work pixel by pixel: no growth
        for axis in (0, 1):
            size[axis] += (kernel[axis] - 1) * step[axis]
            step[axis] *= stride[axis]
        if tuple(stride) != tuple(default):
            name += f" stride {_axis_text(stride)}"
        parts.append(f"{name} → {_axis_text(size)} px")
    return ", ".join(parts) or "1 px"


def field_text(model, layer_index, unit, box):
    """The sentence beside a unit's receptive field: its box in input pixels and
    how it follows from the layers. unit names it (e.g. "Map 3, row 5, column 7
    of Conv 64 × 3×3"); box is explain.receptive_field's (top, left, bottom, right)
    with bottom and right exclusive."""
    top, left, bottom, right = box
    if bottom <= top or right <= left:
        return f"{unit} sees only padding: no input pixel reaches it."
    return (f"{unit} reads input rows {top}–{bottom - 1}, columns {left}–"
            f"{right - 1} ({bottom - top} × {right - left} px): "
            f"{field_growth(model, layer_index)}.")


FIELD_HINT = ("Hover a unit of any layer: its receptive field, the input pixels it "
              "can read, is boxed on the input (cut off at the image's edge), "
              "tinted orange where d(unit)/dx is large: the pixels that move it "
              "most for this image.")


# The Network tab's captions and tooltips.

BACKWARD_CAPTION = (
    "Backward: each column shows dL/d(output), how the loss of the target digit "
    "changes when one number of that layer grows; the filters show dL/dW. Blue is "
    "negative, white zero, red positive; the bar under a column is its scale. The "
    "probabilities keep their white-to-green scale from 0 to 1.")
PER_MAP_CAPTION = (
    " One scale per map: each map is divided by its own largest |value|, so −1 and "
    "1 on the bars are each map's own largest gradient.")
CAPTION = ("Colours: blue is negative, white is zero, red is positive; each column "
           "has its own scale (the bar under it). The input is grey (black 0, white "
           "1); the probabilities have their own white-to-green scale from 0 to 1. "
           "Right-click a picture to export it.")


def filter_caption(shape, backward):
    """The caption of a filter overview for weights of shape (F, C, kh, kw)."""
    f, c, kh, kw = shape
    text = ("dL/dW, " if backward else "") + f"{f} filters, {c} × {kh} × {kw}"
    return text + ("<br>tile: strongest channel" if c > 1 else "")


def forward_tip(col, last, levels):
    """The tooltip of a Forward column's legend."""
    if col == 0:
        return "The input's colour scale: 0 is black (no ink), 1 is white (ink)."
    if col == last:
        return ("Probabilities, on their own scale: 0 is white, 1 dark green (not the "
                "blue-white-red of the signed numbers); the ten add up to 1.")
    return (f"This column's colour scale: {levels[0]:g} (blue) to {levels[1]:g} "
            "(red), white is exactly 0. Each column has its own.")


def weight_gradient_tip(channels):
    """The tooltip of a filter overview in Backward."""
    tile = "" if channels == 1 else (
        f" Each filter has one kernel per input map ({channels}); the tile shows "
        "the kernel the Forward tile shows, the one with the largest weights.")
    return ("One tile per filter: dL/dW, how the loss changes with each weight. "
            "Training moves every weight by −learning rate × this number." + tile
            + " Click a filter for all its numbers.")


def filter_tip(channels):
    """The tooltip of a filter overview whose filters read that many channels."""
    if channels == 1:
        return ("One tile per filter: the weights it slides over the image. Click one "
                "to see its numbers.")
    return (f"One tile per filter. Each filter reads all {channels} maps of the "
            "previous layer, with one kernel per map; its tile shows the kernel with "
            "the largest weights (the map it listens to most). Click a filter to see "
            "all its kernels and their numbers.")

