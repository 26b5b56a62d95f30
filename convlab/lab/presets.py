"""Classic image kernels for the playground's kernel editor, each with its lesson."""

import numpy as np

# Right minus left: lights up vertical edges.
SOBEL_X = ((-1, 0, 1), (-2, 0, 2), (-1, 0, 1))

# The 3x3 classics. A larger grid gets them centred with zeros around: the zeros add
# nothing to the sum, so the filter does the same thing (only the output size changes).
_CLASSICS = {
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "sobel_x": SOBEL_X,
    "sobel_y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "prewitt_x": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
    "prewitt_y": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
    "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    "outline": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
}

# (key, label shown in the menu, what the student should notice)
PRESETS = (
    ("identity", "Identity", "A single 1 in the centre copies the input unchanged."),
    ("box_blur", "Box blur", "All weights equal (1/count): the local mean."),
    ("gaussian", "Gaussian blur", "Weights fall off from the centre: a softer blur."),
    ("sharpen", "Sharpen", "Centre minus neighbours: crisper strokes."),
    ("sobel_x", "Sobel x", "Right minus left: lights up vertical edges."),
    ("sobel_y", "Sobel y", "Bottom minus top: lights up horizontal edges."),
    ("prewitt_x", "Prewitt x", "Like Sobel x without the extra centre weight."),
    ("prewitt_y", "Prewitt y", "Like Sobel y without the extra centre weight."),
    ("laplacian", "Laplacian", "Second differences: responds to blobs and thin lines."),
    ("emboss", "Emboss", "Diagonal difference: the digit looks raised."),
    ("outline", "Outline", "Centre against all 8 neighbours: keeps only the outline."),
    ("random", "Random", "Random weights, as a network starts before it has learned."),
)

MIN_SIZE = 1
MAX_SIZE = 7


def preset_size(key, size):
    """The grid size a preset needs: the 3x3 classics do not fit a 1x1 or 2x2 grid."""
    return max(size, 3) if key in _CLASSICS else size


def make_preset(key, size, rng):
    """Kernel `key` as a (size, size) float64 array; `rng` is only used by "random".

    Size-free presets (identity, blurs, random) fill the whole grid; the 3x3 classics
    are centred in it and need size >= 3 (see `preset_size`).
    """
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"kernel size must be {MIN_SIZE}..{MAX_SIZE}, got {size}")
    # An even size has no true centre; (size - 1) // 2 picks the upper-left one.
    centre = (size - 1) // 2
    if key == "identity":
        k = np.zeros((size, size))
        k[centre, centre] = 1.0
        return k
    if key == "box_blur":
        return np.full((size, size), 1.0 / (size * size))
    if key == "gaussian":
        # Binomial coefficients are the discrete Gaussian: row i of Pascal's triangle.
        row = np.array([1.0])
        for _ in range(size - 1):
            row = np.convolve(row, [1.0, 1.0])
        k = np.outer(row, row)
        return k / k.sum()
    if key == "random":
        # Same spread as a freshly initialised conv layer: std about 1 / sqrt(fan_in).
        return rng.standard_normal((size, size)) / size
    if key in _CLASSICS:
        if size < 3:
            raise ValueError(f"the {key} preset is 3x3 and needs a grid of 3x3 or more")
        k = np.zeros((size, size))
        start = centre - 1
        k[start:start + 3, start:start + 3] = _CLASSICS[key]
        return k
    raise KeyError(f"unknown kernel preset {key!r}")


def resize_centred(kernel, size):
    """A (size, size) copy of a square kernel, centred: growing adds a zero border,
    shrinking trims one (a real conv layer's kernels all share one size)."""
    old = kernel.shape[0]
    new = np.zeros((size, size))
    offset = (size - 1) // 2 - (old - 1) // 2
    for row in range(old):
        for col in range(old):
            r, c = row + offset, col + offset
            if 0 <= r < size and 0 <= c < size:
                new[r, c] = kernel[row, col]
    return new
