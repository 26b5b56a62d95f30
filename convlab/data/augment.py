"""Random shifts, rotations, scalings and stroke thickness changes of digit batches."""

import numpy as np


def _thickness(x, amount):
    """Thicken (amount > 0) or thin (amount < 0) the strokes of each image.

    x: (N, H, W); amount: (N,) in [-1, 2]. A 3x3 grey dilation (max over the
    neighbours) makes strokes about 2 px wider, an erosion (min) 2 px thinner; the
    image is blended towards one of them by |amount|, so thickness varies smoothly.
    An amount above 1 goes past the dilation (the new ring of ink gets darker than
    the dilation alone makes it; augment_batch clips at 1): the bold, blunt strokes
    of a small digit drawn with a broad brush.
    """
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))  # (N, H+2, W+2)
    h, w = x.shape[1:]
    # The 9 shifted views of each pixel's 3x3 neighbourhood.
    views = [padded[:, i : i + h, j : j + w] for i in range(3) for j in range(3)]
    dilated = np.maximum.reduce(views)
    eroded = np.minimum.reduce(views)
    a = np.abs(amount).astype(x.dtype)[:, None, None]  # (N, 1, 1)
    target = np.where(amount[:, None, None] > 0, dilated, eroded)
    return (1 - a) * x + a * target


def _warp(x, rotation, scale, shift):
    """Rotate (radians), scale and shift each image about its centre, bilinearly.

    x: (N, H, W); rotation, scale: (N,); shift: (N, 2) as (rows, cols) in pixels.
    Every output pixel asks where it came from (the inverse map) and interpolates
    the four input pixels around that point; outside the image counts as 0.
    """
    n, h, w = x.shape
    cy, cx = (h - 1) / 2, (w - 1) / 2
    rows, cols = np.mgrid[0:h, 0:w].astype(x.dtype)  # (H, W) each
    # Output coordinates relative to the centre, minus the shift: (N, H, W).
    dy = rows[None] - (cy + shift[:, 0, None, None]).astype(x.dtype)
    dx = cols[None] - (cx + shift[:, 1, None, None]).astype(x.dtype)
    cos = (np.cos(rotation) / scale).astype(x.dtype)[:, None, None]  # (N, 1, 1)
    sin = (np.sin(rotation) / scale).astype(x.dtype)[:, None, None]
    # Inverse rotation and scaling gives the source point of each output pixel.
    src_y = cos * dy - sin * dx + cy
    src_x = sin * dy + cos * dx + cx

    y0 = np.floor(src_y)
    x0 = np.floor(src_x)
    fy = src_y - y0
    fx = src_x - x0
    # Pad one pixel of zeros on every side so neighbours just outside read 0; points
    # further out are clamped onto that zero border.
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1))).reshape(-1)  # (N*(H+2)*(W+2),)
    # Gather through flat indices: one np.take is faster than 3-array fancy indexing.
    y0 = y0.astype(np.intp) + 1  # (N, H, W), as rows of the padded image
    x0 = x0.astype(np.intp) + 1
    row0, row1 = np.clip(y0, 0, h + 1), np.clip(y0 + 1, 0, h + 1)
    col0, col1 = np.clip(x0, 0, w + 1), np.clip(x0 + 1, 0, w + 1)
    base = np.arange(n)[:, None, None] * ((h + 2) * (w + 2))  # (N, 1, 1)

    def pick(r, c):
        return np.take(padded, base + r * (w + 2) + c)

    top = pick(row0, col0) * (1 - fx) + pick(row0, col1) * fx
    bottom = pick(row1, col0) * (1 - fx) + pick(row1, col1) * fx
    return top * (1 - fy) + bottom * fy


def augment_batch(
    x,
    rng,
    max_shift=2.0,
    max_rotation=15.0,
    scale_range=(0.9, 1.1),
    thickness_range=(-0.5, 1.5),
):
    """Randomly distort a batch of digits, each image its own way; labels still hold.

    x: (N, 1, H, W) in [0, 1]; rng: np.random.Generator (same seed, same result).
    max_shift in pixels, max_rotation in degrees, scale_range as factors,
    thickness_range as blend amounts (-1 = eroded, 0 = unchanged, 1 = dilated, 1.5
    bolder still; the default thins less than it thickens because MNIST strokes are
    already thin and students often draw with a broad brush).
    Returns an array of the same shape and dtype, clipped to [0, 1].
    """
    x = np.asarray(x)
    n, c, h, w = x.shape
    imgs = x.reshape(n * c, h, w)  # (N*C, H, W): channels share one distortion below
    thickness = np.repeat(rng.uniform(*thickness_range, size=n), c)
    rotation = np.repeat(np.radians(rng.uniform(-max_rotation, max_rotation, n)), c)
    scale = np.repeat(rng.uniform(*scale_range, size=n), c)
    shift = np.repeat(rng.uniform(-max_shift, max_shift, size=(n, 2)), c, axis=0)
    out = _warp(_thickness(imgs, thickness), rotation, scale, shift)
    return np.clip(out, 0, 1).astype(x.dtype).reshape(n, c, h, w)
