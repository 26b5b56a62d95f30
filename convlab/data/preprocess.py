"""Turn a drawing into a 28x28 input the way MNIST digits were made."""

import numpy as np

SIZE = 28  # the MNIST frame
BOX = 20  # MNIST scaled each digit so its longer side is 20 px
# Where MNIST puts the centre of mass, in pixel indices (row, col). Measured on the
# official test set: mean (13.99, 14.01), spread +-0.5 (std 0.29), which shows the
# digits were moved by whole pixels so that the centre of mass lands at pixel 14.
TARGET = 14.0
# A pixel counts as ink from one grey level of an 8-bit image upwards, so the faint
# anti-aliased edge of a stroke belongs to the digit's bounding box.
INK_CUTOFF = 0.5 / 255
# "Nothing drawn": less ink in total than 0.1% of the canvas area at full
# intensity (a real MNIST digit has about 13% of its frame inked). A stray click or
# speck stays below this, and is not blown up to fill the frame.
MIN_INK_FRACTION = 1e-3
# Stroke width (see stroke_width) in pixels of the 20 px box. MNIST's 10,000
# training digits: median 2.0, 99.6% at most 4.0. A small digit drawn with a broad
# brush comes out far thicker once scaled up (6 to 7 px: the holes of a 5 or an 8
# close into a blob), so such a drawing is thinned to THIN_TO before scaling.
MAX_STROKE = 4.0
THIN_TO = 3.0


def _area_matrix(n_in, scale):
    """(n_out, n_in) weights that shrink a line of n_in pixels by scale <= 1, by area.

    Output pixel i covers input [i / scale, (i + 1) / scale) and takes the average
    of what it covers, each input pixel weighted by the part of it inside: the
    anti-aliasing that keeps thin strokes as grey instead of losing them between
    samples. The last pixel may stick out past the input; that part is background.
    """
    n_out = _out_size(n_in, scale)
    edges = np.minimum(np.arange(n_out + 1) / scale, n_in)  # borders in input units
    lo, hi = edges[:-1, None], edges[1:, None]  # (n_out, 1)
    j = np.arange(n_in)[None, :]  # (1, n_in)
    overlap = np.clip(np.minimum(hi, j + 1) - np.maximum(lo, j), 0, None)
    return overlap * scale


def _bilinear_matrix(n_in, scale):
    """(n_out, n_in) weights that stretch a line of n_in pixels by scale > 1.

    Output pixel i sits at input coordinate (i + 0.5) / scale - 0.5 (pixel centres
    aligned) and mixes the two input pixels around it; past the ends, the end pixel.
    """
    n_out = _out_size(n_in, scale)
    pos = np.clip((np.arange(n_out) + 0.5) / scale - 0.5, 0, n_in - 1)
    left = np.floor(pos).astype(int)
    right = np.minimum(left + 1, n_in - 1)
    frac = pos - left
    weights = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    np.add.at(weights, (rows, left), 1 - frac)
    np.add.at(weights, (rows, right), frac)
    return weights


def _out_size(n_in, scale):
    """Pixels needed for n_in pixels times scale (a partly covered one counts)."""
    return max(1, int(np.ceil(n_in * scale - 1e-9)))


def rescale(image, scale):
    """Scale a 2-D image (H, W) by one factor on both axes, keeping its aspect ratio.

    Returns (ceil(H * scale), ceil(W * scale)): area averaging when shrinking,
    bilinear when growing. Separable, one matrix product per axis.
    """
    h, w = image.shape
    make = _area_matrix if scale <= 1 else _bilinear_matrix
    return make(h, scale) @ image @ make(w, scale).T  # (out_h, h) (h, w) (w, out_w)


def center_of_mass(image):
    """(row, col) centre of mass of a non-empty 2-D image, in pixel indices."""
    total = image.sum()
    rows = image.sum(axis=1) @ np.arange(image.shape[0]) / total
    cols = image.sum(axis=0) @ np.arange(image.shape[1]) / total
    return rows, cols


def to_mnist(image):
    """Make a drawing an MNIST digit: (H, W), ink 1 on 0 -> (28, 28) float32, or None.

    1. crop to the bounding box of the ink,
    2. scale so the longer side is 20 px, keeping the aspect ratio (area resampling,
       which anti-aliases like the original),
    3. put it in a 28x28 frame with its centre of mass at pixel (14, 14), moving by
       whole pixels as MNIST did (so the box stays 20 px and sharp),
    4. stretch the values so the strongest ink is 1, as in nearly every MNIST digit.

    Returns None when nothing (or almost nothing, see MIN_INK_FRACTION) is drawn.
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"to_mnist expects a 2-D image, got shape {image.shape}")
    image = np.clip(np.nan_to_num(image), 0.0, 1.0)
    inked = image > INK_CUTOFF
    if image.sum() < MIN_INK_FRACTION * image.size or not inked.any():
        return None

    inked_rows = np.flatnonzero(inked.any(axis=1))
    inked_cols = np.flatnonzero(inked.any(axis=0))
    crop = image[inked_rows[0] : inked_rows[-1] + 1, inked_cols[0] : inked_cols[-1] + 1]

    # One factor for both axes keeps the aspect ratio; the longer side becomes 20.
    digit = rescale(crop, BOX / max(crop.shape))
    new_h, new_w = digit.shape
    digit /= digit.max()

    # Place the box so that its centre of mass lands on the target pixel. For a
    # lopsided shape (most ink at one end) part of the box can then fall outside
    # the 28x28 frame; that ink is dropped, since the frame cannot hold it.
    com_row, com_col = center_of_mass(digit)
    top = int(round(TARGET - com_row))
    left = int(round(TARGET - com_col))
    frame = np.zeros((SIZE, SIZE))
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + new_h, SIZE), min(left + new_w, SIZE)
    frame[r0:r1, c0:c1] = digit[r0 - top : r1 - top, c0 - left : c1 - left]
    return frame.astype(np.float32)


def stroke_width(image):
    """The typical pen width of a 2-D image's ink (above 0.5), in pixels: 2 * area /
    perimeter, since a band of width w and length L has area wL and perimeter
    about 2L. 0 for no ink."""
    inked = np.pad(np.asarray(image) > 0.5, 1)
    area = inked.sum()
    if area == 0:
        return 0.0
    edges = (inked[1:] != inked[:-1]).sum() + (inked[:, 1:] != inked[:, :-1]).sum()
    return float(2 * area / edges)


def _erode(image, steps):
    """Grey erosion: each step, every pixel takes the minimum of its neighbours,
    alternating the 4 side neighbours and all 8, so strokes thin by about 2 px a
    step in every direction."""
    for step in range(steps):
        padded = np.pad(image, 1)
        h, w = image.shape
        offsets = ((0, 1), (1, 0), (1, 1), (1, 2), (2, 1))
        if step % 2:
            offsets = tuple((i, j) for i in range(3) for j in range(3))
        image = np.minimum.reduce([padded[i : i + h, j : j + w] for i, j in offsets])
    return image


def thin_thick_strokes(image):
    """A drawing (H, W) whose strokes would be thicker than MAX_STROKE px in the
    20 px box, eroded so they come out about THIN_TO px; any other drawing as it is.

    Eroding by k px on each side narrows a stroke of width w to w - 2k and the
    ink's box of side L to L - 2k, so the width in the box becomes
    BOX * (w - 2k) / (L - 2k); k is chosen to make that THIN_TO.
    """
    image = np.asarray(image, dtype=np.float64)
    inked = image > INK_CUTOFF
    if not inked.any():
        return image
    rows, cols = np.flatnonzero(inked.any(axis=1)), np.flatnonzero(inked.any(axis=0))
    side = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
    width = stroke_width(image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    if BOX * width <= MAX_STROKE * side:
        return image
    steps = int(np.ceil((BOX * width - THIN_TO * side) / (2 * (BOX - THIN_TO))))
    thinned = _erode(image, steps)
    # A blot with no stroke left to find is kept as drawn.
    return thinned if thinned.max() > 0.5 else image


def canvas_to_input(canvas):
    """The network's input for a canvas drawing (H, W), ink 1 on 0: to_mnist of the
    drawing at half size, strokes thinned when too thick for its size, (28, 28)
    float32, or None when nothing is drawn.

    Averaging 2x2 blocks first makes preprocessing four times cheaper and changes
    nothing visible: the digit ends up 20 pixels tall anyway.
    """
    canvas = np.asarray(canvas)
    h, w = canvas.shape[0] // 2, canvas.shape[1] // 2
    half = canvas[:2 * h, :2 * w].reshape(h, 2, w, 2)  # each 2x2 block on axes 1, 3
    return to_mnist(thin_thick_strokes(half.mean(axis=(1, 3))))  # (h, w) -> (28, 28)
