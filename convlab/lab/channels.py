"""Multi-channel convolution, taken apart: one filter over one C-channel image.

A filter for a C-channel input is a stack of C kernels, one per input channel. Kernel
c slides over channel c alone and gives a "partial map"; the filter's output map is
the sum of the C partial maps plus one bias. So a filter always has as many
channels as its input, and the number of filters F sets how many channels come out.

Everything here is float64 and leaves its inputs untouched. Bad input raises
ValueError saying what is wrong.
"""

from dataclasses import dataclass

import numpy as np

from convlab.lab.network import symmetric_levels
from convlab.lab.presets import SOBEL_X
from convlab.nn.functional import conv2d_forward, conv_output_size
from convlab.nn.reference import zero_pad

# The engine's out = (n + 2*padding - k) // stride + 1, written as textbooks and the
# window write it (f is the kernel side).
SIZE_FORMULA = "floor((n + 2p - f) / s) + 1"
# Channel c of an RGB image, in the order pictures store them.
CHANNEL_NAMES = ("red", "green", "blue")


def as_real_array(name, value, what):
    """value as a float64 copy, or ValueError naming ``name`` and ``what`` it is."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be {what}; this cannot be made into one "
                         f"array ({exc})") from exc
    if array.dtype.kind not in "fiub":
        raise ValueError(f"{name} must hold real numbers ({what}), got dtype "
                         f"{array.dtype}")
    bad = int(array.size - np.count_nonzero(np.isfinite(array)))
    if bad:
        raise ValueError(f"{name} must be finite, but {bad} value(s) are NaN or inf")
    return array.astype(np.float64)


def as_whole(name, value, minimum=None):
    """value as a Python int, or ValueError (bools and fractions are refused)."""
    whole = isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_))
    if not whole:
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def as_index(name, value, size, note=""):
    """value as an int in 0..size-1, or ValueError giving the range (and ``note``)."""
    if as_whole(name, value) not in range(size):
        raise ValueError(f"{name} must be 0 to {size - 1}{note}, got {value}")
    return int(value)


def _pair(name, value):
    """An int or an (h, w) pair of whole numbers as two ints, like the engine's."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or an (h, w) pair, got {value!r}")
        return as_whole(name, value[0]), as_whole(name, value[1])
    return as_whole(name, value), as_whole(name, value)


def _image_filter_bias(x, w, b):
    """Checked float64 copies: x (C, H, W), w (C, kh, kw), b a Python float."""
    x = as_real_array("x", x, "one image (C, H, W)")
    w = as_real_array("w", w, "one filter (C, kh, kw)")
    if x.ndim != 3:
        hint = "; a grey (H, W) image needs a channel axis: x[None]"
        raise ValueError(f"x must be one image (C, H, W), got shape {x.shape}"
                         f"{hint if x.ndim == 2 else ''}")
    if w.ndim != 3:
        hint = "; a single (kh, kw) kernel needs a channel axis: w[None]"
        raise ValueError(f"w must be one filter (C, kh, kw), got shape {w.shape}"
                         f"{hint if w.ndim == 2 else ''}")
    if x.shape[0] != w.shape[0]:
        raise ValueError(
            f"channel mismatch: the image has C={x.shape[0]} channels but the filter "
            f"has {w.shape[0]} kernels; a filter needs one kernel per input channel"
        )
    b = as_real_array("b", b, "one number (the filter's bias)")
    if b.ndim != 0:
        raise ValueError(f"b must be one number (the filter's bias), got shape "
                         f"{b.shape}")
    return x, w, float(b)


@dataclass(frozen=True)
class BatchShapes:
    """The shape bookkeeping of one convolution layer on a batch.

    Input (n, channels, height, width) * weights (filters, channels, kh, kw) ->
    output (n, filters, out_h, out_w); stride and padding are (h, w) pairs.
    """

    n: int
    channels: int
    height: int
    width: int
    filters: int
    kh: int
    kw: int
    stride: tuple[int, int]
    padding: tuple[int, int]
    out_h: int
    out_w: int

    @property
    def input_shape(self):
        return (self.n, self.channels, self.height, self.width)

    @property
    def weight_shape(self):
        return (self.filters, self.channels, self.kh, self.kw)

    @property
    def output_shape(self):
        return (self.n, self.filters, self.out_h, self.out_w)

    def _side(self, label, n, f, s, p, out):
        return (f"{label} = {SIZE_FORMULA} = floor(({n} + 2*{p} - {f}) / {s}) + 1 "
                f"= floor({n + 2 * p - f} / {s}) + 1 = {out}")

    def text(self):
        """The lines a student reads: both shapes, then each side's formula."""
        (sh, sw), (ph, pw) = self.stride, self.padding
        return [
            "(N, C, H, W) * (F, C, kh, kw) -> (N, F, out_h, out_w)",
            f"{self.input_shape} * {self.weight_shape} -> {self.output_shape}",
            self._side("out_h", self.height, self.kh, sh, ph, self.out_h),
            self._side("out_w", self.width, self.kw, sw, pw, self.out_w),
            f"Each filter has C = {self.channels} channel(s), one kernel per input "
            f"channel; their partial maps add up to one output map.",
            f"So F = {self.filters} filter(s) give {self.filters} output channel(s), "
            f"for each of the N = {self.n} image(s).",
        ]


def batch_shapes(N, C, H, W, F, kh, kw, stride=1, padding=0):
    """The shapes of (N, C, H, W) * (F, C, kh, kw) -> (N, F, out_h, out_w).

    stride and padding are an int or an (h, w) pair. Returns a BatchShapes; an
    impossible setting raises ValueError naming the numbers and the formula.
    """
    n, c, f = (as_whole(name, value, 1) for name, value in
               (("N", N), ("C", C), ("F", F)))
    h, w, kh, kw = (as_whole(name, value) for name, value in
                    (("H", H), ("W", W), ("kh", kh), ("kw", kw)))
    (sh, sw), (ph, pw) = _pair("stride", stride), _pair("padding", padding)
    sides = []
    # The engine's own size function, so the window and the layers always agree.
    for label, side, k, s, p in (("height", h, kh, sh, ph), ("width", w, kw, sw, pw)):
        try:
            sides.append(conv_output_size(side, k, s, p))
        except ValueError as exc:
            raise ValueError(f"{label}: {exc}") from exc
    return BatchShapes(n, c, h, w, f, kh, kw, (sh, sw), (ph, pw), *sides)


@dataclass(frozen=True)
class PartialMaps:
    """One filter on one image, channel by channel.

    partial (C, out_h, out_w): kernel c over channel c, no bias; total
    (out_h, out_w): their sum; bias: the filter's bias; output (out_h, out_w):
    total + bias, the layer's output map; contribution (C,): sum of |partial[c]|,
    how much each channel moved the output; order (C,): channel indices, biggest
    contribution first.
    """

    partial: np.ndarray
    total: np.ndarray
    bias: float
    output: np.ndarray
    contribution: np.ndarray
    order: np.ndarray

    @property
    def out_shape(self):
        return self.output.shape

    def levels(self):
        """One symmetric colour scale (-m, m) for the partial maps, their sum and the
        output, so the same value has the same colour in each."""
        return symmetric_levels(np.concatenate(
            [self.partial.ravel(), self.total.ravel(), self.output.ravel()]),
            round_up=False)

    def text(self):
        """The lines a student reads: how the partial maps make the output."""
        c = len(self.partial)
        out_h, out_w = self.out_shape
        terms = " + ".join(f"partial {i}" for i in range(c))
        ranking = ", ".join(f"channel {i} ({self.contribution[i]:.4g})"
                            for i in self.order)
        return [
            f"{c} channel(s): each kernel slides over its own channel -> {c} partial "
            f"maps of {out_h}x{out_w}",
            f"output = {terms} + bias {self.bias:.4g}",
            f"Biggest contribution (sum of |partial|) first: {ranking}",
        ]


def partial_maps(x, w, b=0.0, stride=1, padding=0):
    """Convolve each channel of x with its own kernel of w, then add them up.

    x (C, H, W) one image, w (C, kh, kw) one filter, b its bias (a number); stride
    and padding an int or an (h, w) pair. Returns a PartialMaps whose output equals
    the engine's conv2d_forward for this image and filter.
    """
    x, w, b = _image_filter_bias(x, w, b)
    C, H, W = x.shape
    _, kh, kw = w.shape
    shapes = batch_shapes(1, C, H, W, 1, kh, kw, stride, padding)
    # One single-channel convolution per channel: (1, 1, H, W) * (1, 1, kh, kw).
    partial = np.stack([
        conv2d_forward(x[None, None, c], w[None, None, c], None, shapes.stride,
                         shapes.padding)[0][0, 0]
        for c in range(C)
    ])  # (C, out_h, out_w)
    total = partial.sum(axis=0)  # (out_h, out_w)
    contribution = np.abs(partial).sum(axis=(1, 2))  # (C,)
    # Stable, so equal contributions keep channel order.
    order = np.argsort(-contribution, kind="stable")
    return PartialMaps(partial, total, b, total + b, contribution, order)


def _signed_sum(values):
    """Terms added up as a student writes them: 1.5 - 0.25, not 1.5 + -0.25."""
    text = f"{values[0]:.4g}"
    for v in values[1:]:
        text += f" - {-v:.4g}" if v < 0 else f" + {v:.4g}"
    return text


@dataclass(frozen=True)
class WindowProducts:
    """One output cell of one filter, every multiplication in view.

    row, col: the output cell; top, left: its window's corner in the padded input;
    window (C, kh, kw): the padded input the filter sits on; kernel (C, kh, kw): the
    filter; products (C, kh, kw): window * kernel; channel_sums (C,): each channel's
    products added up; total: their sum; bias; value: total + bias, the cell's output.
    """

    row: int
    col: int
    top: int
    left: int
    window: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    channel_sums: np.ndarray
    total: float
    bias: float
    value: float

    def text(self):
        """The lines of the step-through: each channel's sum, the total, the bias."""
        _, kh, kw = self.window.shape
        lines = [f"output cell ({self.row}, {self.col}): window at rows "
                 f"{self.top}..{self.top + kh - 1}, columns "
                 f"{self.left}..{self.left + kw - 1} of the padded input"]
        lines += [f"channel {c}: sum of {kh * kw} products = {s:.4g}"
                  for c, s in enumerate(self.channel_sums)]
        lines.append(f"total = {_signed_sum(self.channel_sums)} = {self.total:.4g}")
        lines.append(f"{self.total:.4g} + bias {self.bias:.4g} = {self.value:.4g}")
        return lines


def window_products(x, w, b, row, col, stride=1, padding=0):
    """The arithmetic of output cell (row, col): x (C, H, W) under w (C, kh, kw).

    b is the filter's bias (a number); stride and padding an int or an (h, w) pair.
    Returns a WindowProducts; a cell outside the output raises ValueError.
    """
    x, w, b = _image_filter_bias(x, w, b)
    C, H, W = x.shape
    _, kh, kw = w.shape
    shapes = batch_shapes(1, C, H, W, 1, kh, kw, stride, padding)
    note = f" (the output is {shapes.out_h}x{shapes.out_w})"
    row = as_index("row", row, shapes.out_h, note)
    col = as_index("col", col, shapes.out_w, note)
    (sh, sw), (ph, pw) = shapes.stride, shapes.padding
    x_pad = zero_pad(x[None], (ph, pw))[0]  # (C, H + 2*ph, W + 2*pw)
    top, left = row * sh, col * sw
    window = x_pad[:, top : top + kh, left : left + kw]  # (C, kh, kw)
    products = window * w  # (C, kh, kw)
    channel_sums = products.sum(axis=(1, 2))  # (C,)
    total = float(channel_sums.sum())
    return WindowProducts(row, col, top, left, window, w, products,
                          channel_sums, total, b, total + b)


def rgb_channels(pixels):
    """An (H, W, 3) picture of 0..255 values (R, G, B) as (3, H, W) float64 in [0, 1].

    Pictures store a pixel's three colours together; a convolution layer wants
    each colour as its own channel, one 2-D map per colour.
    """
    pixels = as_real_array("pixels", pixels, "an (H, W, 3) RGB picture")
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"pixels must be an (H, W, 3) RGB picture, got shape "
                         f"{pixels.shape}")
    return np.clip(pixels.transpose(2, 0, 1) / 255.0, 0.0, 1.0)  # (3, H, W)


@dataclass(frozen=True)
class ColourPreset:
    """A filter for RGB input: name, one-line lesson, weights (3, kh, kw) (R, G, B)."""

    name: str
    explanation: str
    weights: np.ndarray


def _on_channels(kernel, channels):
    """(3, kh, kw) weights: ``kernel`` on the listed channels, zeros elsewhere."""
    kernel = np.asarray(kernel, dtype=np.float64)
    weights = np.zeros((3, *kernel.shape))
    weights[list(channels)] = kernel
    return weights


def colour_presets():
    """Depth-aware filters for (3, H, W) RGB images, as fresh ColourPreset copies."""
    box = np.full((3, 3), 1.0 / 9.0)
    return [
        ColourPreset("colour to grey",
                     "1x1: 0.299 R + 0.587 G + 0.114 B, the brightness the eye sees.",
                     np.array([0.299, 0.587, 0.114]).reshape(3, 1, 1)),
        ColourPreset("red edges",
                     "Sobel x on red, zeros on green and blue: only red edges show.",
                     _on_channels(SOBEL_X, [0])),
        ColourPreset("green minus red",
                     "1x1: +1 on green, -1 on red: positive where green beats red.",
                     np.array([-1.0, 1.0, 0.0]).reshape(3, 1, 1)),
        ColourPreset("blue blur",
                     "A 3x3 box blur on blue, zeros elsewhere: red and green vanish.",
                     _on_channels(box, [2])),
        ColourPreset("edges in all colours",
                     "Sobel x on every channel, summed: an edge in any colour shows.",
                     _on_channels(SOBEL_X, [0, 1, 2])),
    ]
