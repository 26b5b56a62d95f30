"""Handwriting-like digits drawn as random pen strokes: training with no download."""

import dataclasses
from math import comb

import numpy as np

from convlab.data.preprocess import to_mnist

# The generator works in three steps, each one a small idea a student can follow:
#   1. a style function for the digit returns its pen strokes as polylines in a unit
#      box (x to the right, y downwards, the digit roughly inside [0, 1] x [0, 1]);
#      every key point is drawn at random from a range, so no two digits share a shape;
#   2. a random smooth warp and a random affine map (slant, rotation, aspect) move the
#      points, and the result is scaled so its longer side is RENDER_SIZE pixels;
#   3. each stroke segment paints an anti-aliased band around itself (ink coverage falls
#      smoothly from 1 to 0 at the edge of the pen), and the picture goes through the
#      same MNIST normalization as a drawing on the canvas (to_mnist).

RENDER_SIZE = 40  # longer side of the digit's skeleton in render pixels (2x MNIST's 20)
MAX_WIDTH = 1.4  # widest digit allowed, as a multiple of its height
_SEGMENT_PX = 3.0  # strokes are cut into pieces at most this long before painting
_CHUNK = 256  # digits painted together; bounds the size of the temporary arrays
_PRESSURE = (0.9, 1.1)  # range of the pen width's random change from segment to segment


def _arc(cx, cy, rx, ry, start, stop, n=16):
    """Points (n, 2) on an ellipse arc; degrees, 0 = right, 90 = down (y is down)."""
    t = np.radians(np.linspace(start, stop, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _bezier(*control, n=16):
    """Points (n, 2) on the Bezier curve with the given control points (x, y)."""
    p = np.asarray(control, dtype=np.float64)  # (k, 2)
    k = len(p) - 1
    t = np.linspace(0.0, 1.0, n)[:, None]  # (n, 1)
    # Bernstein weights: how much each control point pulls the curve at time t.
    weights = [comb(k, i) * t**i * (1 - t) ** (k - i) for i in range(k + 1)]
    return sum(w * q for w, q in zip(weights, p, strict=True))


def _closed_spline(*points, n=8):
    """A smooth closed curve (k, 2) through the points and back (Catmull-Rom)."""
    p = np.asarray(points, dtype=np.float64)  # (s, 2)
    # Each piece from p[i] to p[i + 1] also looks at p[i - 1] and p[i + 2] for its
    # direction; wrapping the list around gives every piece those neighbours.
    p = np.concatenate([p[-1:], p, p[:2]])  # (s + 3, 2)
    t = np.linspace(0.0, 1.0, n, endpoint=False)[None, :, None]  # (1, n, 1)
    p0, p1, p2, p3 = (p[i : len(p) - 3 + i, None] for i in range(4))  # (pieces, 1, 2)
    curve = 0.5 * (
        2 * p1
        + (p2 - p0) * t
        + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
        + (3 * p1 - p0 - 3 * p2 + p3) * t**3
    )  # (pieces, n, 2)
    return np.concatenate([curve.reshape(-1, 2), p2[-1]])


def _line(*points):
    """A polyline (k, 2) through the given points; painting splits long pieces later."""
    return np.asarray(points, dtype=np.float64)


def _join(*pieces):
    """One pen stroke (k, 2) made of pieces drawn without lifting the pen."""
    return np.concatenate(pieces, axis=0)


# Style functions: rng -> list of strokes, each an (k, 2) array in the unit box.
# Each one picks among the ways people write that digit, then jitters the key points.


def _zero(rng):
    """An oval started near the top, sometimes left open, sometimes overlapping."""
    rx, ry = rng.uniform(0.2, 0.6), rng.uniform(0.42, 0.5)
    start = rng.uniform(-130, -50)
    sweep = rng.uniform(340, 370) * rng.choice([-1, 1])
    return [_arc(0.5, 0.5, rx, ry, start, start + sweep, n=28)]


def _one(rng):
    """A single stem, with or without a flag at the top and a base at the bottom.

    The continental European 1 starts with a long up-stroke, often half as long as
    the stem: unlike a 7's bar it climbs steeply to the top, and there is no bar.
    """
    top = np.array([0.5 + rng.uniform(-0.05, 0.1), 0.0])
    bottom = np.array([0.5 + rng.uniform(-0.1, 0.05), 1.0])
    bend = rng.uniform(-0.06, 0.06)
    stem = _bezier(top, (top + bottom) / 2 + [bend, 0], bottom, n=8)
    # plain stem, short flag, short flag and base, European, European and base
    style = rng.choice(5, p=[0.35, 0.12, 0.05, 0.28, 0.2])
    if style == 0:
        return [stem]
    if style <= 2:
        flag_len = rng.uniform(0.1, 0.3)
        flag_angle = np.radians(rng.uniform(25, 70))  # below the horizontal, left
    else:
        flag_len = rng.uniform(0.35, 0.65)
        flag_angle = np.radians(rng.uniform(25, 50))
    flag = top + flag_len * np.array([-np.cos(flag_angle), np.sin(flag_angle)])
    strokes = [_join(_line(flag), stem)]
    if style in (2, 4):
        half = rng.uniform(0.15, 0.3)
        tilt = rng.uniform(-0.03, 0.03)
        strokes.append(_line(bottom + [-half, 0.0], bottom + [half, tilt]))
    return strokes


def _two(rng):
    """A hook over the top, a diagonal down to the left, a base; a loop or not."""
    cx, cy = rng.uniform(0.45, 0.55), rng.uniform(0.25, 0.32)
    rx, ry = rng.uniform(0.24, 0.32), rng.uniform(0.2, 0.27)
    hook = _arc(cx, cy, rx, ry, rng.uniform(180, 225), rng.uniform(370, 400))
    corner = np.array([rng.uniform(0.12, 0.25), rng.uniform(0.9, 1.0)])
    mid = (hook[-1] + corner) / 2 + [rng.uniform(-0.05, 0.12), rng.uniform(-0.02, 0.1)]
    diagonal = _bezier(hook[-1], mid, corner, n=10)
    end = np.array([rng.uniform(0.75, 0.95), corner[1] + rng.uniform(-0.08, 0.04)])
    if rng.random() < 0.35:
        # The loop: the pen curls up and round before it runs along the base.
        r = rng.uniform(0.07, 0.14)
        loop = _arc(corner[0] + 0.02, corner[1] - r, r * 1.2, r, 90, 420, n=14)
        return [_join(hook, diagonal, loop, _line(end))]
    return [_join(hook, diagonal, _line(end))]


def _three(rng):
    """Two bumps on the right, or a flat top with a diagonal and one bump."""
    waist = np.array([rng.uniform(0.28, 0.5), rng.uniform(0.4, 0.55)])
    low_rx, low_ry = rng.uniform(0.28, 0.38), (1.0 - waist[1]) / 2
    low = _arc(
        waist[0] + rng.uniform(-0.02, 0.05), waist[1] + low_ry, low_rx, low_ry,
        -90, rng.uniform(125, 175),
    )
    if rng.random() < 0.75:
        up_ry = waist[1] / 2
        up = _arc(
            waist[0] + rng.uniform(-0.02, 0.04), up_ry, rng.uniform(0.22, 0.32), up_ry,
            rng.uniform(160, 230), 450,
        )
        return [_join(up, low)]
    bar = _line((rng.uniform(0.15, 0.3), 0.02), (rng.uniform(0.7, 0.85), 0.0))
    return [_join(bar, low)]


def _four(rng):
    """Closed (diagonal up to the stem) or open (a separate left stroke), and a stem."""
    stem_x = rng.uniform(0.55, 0.75)
    cross_y = rng.uniform(0.45, 0.7)
    right = np.array([rng.uniform(0.8, 1.0), cross_y - rng.uniform(-0.03, 0.12)])
    stem_top = (stem_x, rng.uniform(0.0, 0.3))
    stem = _line(stem_top, (stem_x + rng.uniform(-0.15, 0.03), 1.0))
    left = np.array([rng.uniform(0.05, 0.25), cross_y])
    if rng.random() < 0.4:
        top = (stem_x + rng.uniform(-0.08, 0.02), 0.0)
        return [_line(top, left, right), stem]
    # Open: the left stroke comes down (often slanting in), then turns along the bar;
    # the stem often starts above the top of the left stroke.
    top = np.array([rng.uniform(0.05, 0.4), rng.uniform(0.0, 0.15)])
    turn = left + [rng.uniform(-0.02, 0.1), 0.0]
    elbow = turn + [rng.uniform(-0.05, 0.05), rng.uniform(-0.1, 0.0)]
    return [_join(_bezier(top, elbow, turn, n=8), _line(right)), stem]


def _five(rng):
    """A short stem into a round belly, and a flag on top (one stroke or two)."""
    corner = np.array([rng.uniform(0.2, 0.35), 0.02])
    belly_top = rng.uniform(0.38, 0.5)
    ry = (1.0 - belly_top) / 2
    rx = rng.uniform(0.26, 0.38)
    belly = _arc(
        rng.uniform(0.45, 0.55), belly_top + ry, rx, ry, rng.uniform(210, 240),
        rng.uniform(460, 510),
    )
    flag_end = (rng.uniform(0.75, 1.05), rng.uniform(-0.05, 0.04))
    stem = _line(corner, belly[0])
    style = rng.random()
    if style < 0.35:
        return [_join(stem, belly), _line(corner, flag_end)]
    if style < 0.65:
        # The flag drawn last and a little apart, often not touching the stem.
        flag_start = corner + [rng.uniform(0.0, 0.15), rng.uniform(-0.06, 0.03)]
        return [_join(stem, belly), _line(flag_start, flag_end)]
    return [_join(_line(flag_end), stem, belly)]


def _six(rng):
    """A long stroke down from the top right that rolls into a loop at the bottom."""
    cy = rng.uniform(0.68, 0.8)
    ry = 1.0 - cy
    rx = min(ry * rng.uniform(0.8, 1.2), 0.3)
    cx = rng.uniform(0.4, 0.55)
    start = np.array([cx + rx * rng.uniform(-0.3, 1.5), 0.0])
    # The lead-in comes down into the loop's left side from above (a 6, not a sigma);
    # how far its top leans right and how much it bulges differ from writer to writer.
    first = start + [-rng.uniform(0.0, 0.15), rng.uniform(0.1, 0.3)]
    second = (cx - rx * rng.uniform(0.9, 1.2), cy - ry * rng.uniform(0.3, 0.9))
    lead = _bezier(start, first, second, (cx - rx, cy), n=12)
    loop = _arc(cx, cy, rx, ry, 180, rng.uniform(-200, -140), n=20)
    if rng.random() < 0.3:
        # The pen runs on past the closed loop, across the lead-in, to the left.
        tail = loop[-1] + [-rng.uniform(0.08, 0.25), rng.uniform(-0.03, 0.1)]
        return [_join(lead, loop, _line(tail))]
    return [_join(lead, loop)]


def _seven(rng):
    """A top bar and a long stem; sometimes a tick before the bar, a bar across."""
    left = np.array([rng.uniform(0.0, 0.3), rng.uniform(0.0, 0.1)])
    corner = np.array([rng.uniform(0.8, 0.95), 0.0])
    foot = np.array([rng.uniform(0.4, 0.7), 1.0])
    bend = (corner + foot) / 2 + [rng.uniform(-0.08, 0.06), 0.0]
    stem = _bezier(corner, bend, foot, n=10)
    # The bar often bows up a little, and many writers start it with a short tick
    # coming up from below its left end.
    bow = (left + corner) / 2 - [0.0, rng.uniform(0.0, 0.08)]
    bar = _bezier(left, bow, corner, n=8)
    tick = rng.uniform(0.08, 0.3)
    start = [_line(left + [0.0, tick])] if rng.random() < 0.35 else []
    strokes = [_join(*start, bar, stem)]
    if rng.random() < 0.25:
        mid = stem[len(stem) // 2]
        left_end, right_end = rng.uniform(0.12, 0.2), rng.uniform(0.1, 0.2)
        strokes.append(_line(mid - [left_end, 0.0], mid + [right_end, 0.0]))
    return strokes


def _eight(rng):
    """One smooth stroke round both loops crossing at the waist, or two loops."""
    waist = np.array([rng.uniform(0.42, 0.58), rng.uniform(0.35, 0.52)])
    up_w, low_w = rng.uniform(0.12, 0.28), rng.uniform(0.1, 0.35)
    top = (waist[0] + rng.uniform(0.0, 0.18), 0.0)
    bottom = (waist[0] + rng.uniform(-0.15, 0.0), 1.0)
    up_y, low_y = waist[1] * 0.45, (1 + waist[1]) / 2
    if rng.random() < 0.2:
        # Two separate loops, one stacked on the other.
        up = _arc(top[0], waist[1] / 2, up_w, waist[1] / 2, -90, 270, n=20)
        low = _arc(bottom[0], low_y, low_w, (1 - waist[1]) / 2, -90, 270, n=22)
        return [up, low]
    # Top, down its right side to the waist, round the bottom loop's left side, the
    # bottom, up its right side, back through the waist, up the top loop's left side.
    points = np.array([
        top, (top[0] + up_w, up_y), waist, (bottom[0] - low_w, low_y), bottom,
        (bottom[0] + low_w, low_y), waist, (top[0] - up_w, up_y),
    ])
    points += rng.normal(0.0, 0.025, size=points.shape)
    shape = _closed_spline(*points)
    if rng.random() < 0.4:
        # Many writers stop short of the starting point, leaving the top loop open.
        shape = shape[: -rng.integers(3, 12)]
    return [shape]


def _nine(rng):
    """A loop on top and a stem down from its right side: straight, or curving left."""
    cx, cy = rng.uniform(0.4, 0.5), rng.uniform(0.2, 0.35)
    rx, ry = rng.uniform(0.18, 0.32), cy
    loop = _arc(cx, cy, rx, ry, rng.uniform(10, 30), rng.uniform(-340, -320), n=20)
    stem_top = np.array([cx + rx, cy + rng.uniform(-0.1, 0.05)])
    foot = np.array([stem_top[0] + rng.uniform(-0.35, 0.0), 1.0])
    if rng.random() < 0.7:
        bend = (stem_top + foot) / 2 + [rng.uniform(-0.04, 0.04), 0.0]
        stem = _bezier(stem_top, bend, foot)
    else:
        stem = _bezier(stem_top, (stem_top[0], 0.95), (rng.uniform(0.2, 0.4), 0.98))
    return [_join(loop, stem)]


_STYLES = (_zero, _one, _two, _three, _four, _five, _six, _seven, _eight, _nine)


def _warp(points, rng):
    """Bend the whole digit a little with a random smooth displacement field."""
    # Per axis, two low-frequency sine waves (nearby points move together, so the
    # digit bends as a whole) and a faster, weaker one (the small wobble of a hand).
    freq = rng.uniform(1.0, 3.0, size=(2, 3, 2))  # (axis, wave, xy)
    freq[:, 2] *= 3.0
    phase = rng.uniform(0, 2 * np.pi, size=(2, 3))  # (axis, wave)
    amp = rng.uniform(0.0, 0.06, size=(2, 3))  # (axis, wave)
    amp[:, 2] /= 4.0
    angle = points @ freq.reshape(6, 2).T * np.pi  # (k, 6)
    shift = np.sin(angle + phase.reshape(6)) * amp.reshape(6)  # (k, 6)
    return points + shift.reshape(-1, 2, 3).sum(axis=2)  # (k, 2)


def _affine(rng):
    """A random 2x2 map: width (aspect), slant (shear) and a small rotation."""
    aspect = np.exp(rng.normal(0.0, 0.2))
    slant = rng.normal(0.28, 0.3)  # positive leans the top to the right, as most do
    turn = np.radians(rng.normal(0.0, 8.0))
    scale = np.diag([aspect, 1.0])
    shear = np.array([[1.0, -slant], [0.0, 1.0]])  # y is down: -slant leans right
    rotate = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    return rotate @ shear @ scale


def _skeleton(label, rng):
    """Segments (m, 2, 2) of one random digit in render pixels, origin top left."""
    strokes = _STYLES[label](rng)
    sizes = [len(s) for s in strokes]
    points = _warp(np.concatenate(strokes), rng) @ _affine(rng).T  # (k, 2)
    points -= points.min(axis=0)
    # Handwritten digits are rarely much wider than tall: squeeze the ones that are.
    width, height = points.max(axis=0)
    points[:, 0] *= min(1.0, MAX_WIDTH * height / max(width, 1e-6))
    points *= RENDER_SIZE / max(points.max(), 1e-6)
    # Consecutive points of the same stroke make the segments; strokes are not joined.
    ends = np.cumsum(sizes)
    keep = np.ones(len(points) - 1, dtype=bool)
    keep[ends[:-1] - 1] = False
    return np.stack([points[:-1], points[1:]], axis=1)[keep]  # (m, 2, 2)


def _split(segments, max_len):
    """Cut segments (m, 2, 2) into pieces no longer than max_len; returns (m', 2, 2)."""
    length = np.linalg.norm(segments[:, 1] - segments[:, 0], axis=1)  # (m,)
    pieces = np.maximum(1, np.ceil(length / max_len).astype(int))  # (m,)
    owner = np.repeat(np.arange(len(segments)), pieces)  # (m',)
    # Index of each piece inside its segment: 0, 1, ..., pieces - 1.
    part = np.arange(len(owner)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    a, b = segments[owner, 0], segments[owner, 1]  # (m', 2) each
    t0 = (part / pieces[owner])[:, None]
    t1 = ((part + 1) / pieces[owner])[:, None]
    return np.stack([a + (b - a) * t0, a + (b - a) * t1], axis=1)


def _paint(segments, radius, soft, owner, n_images, size):
    """Anti-aliased ink (n_images, size, size) of pen segments.

    segments (m, 2, 2) in pixels (x, y), radius (m,) half pen width in pixels, soft (m,)
    width of the blurred pen edge in pixels, owner (m,) the image of each segment.
    Each segment only looks at a small window of pixels around itself, which is what
    makes painting thousands of digits cheap.
    """
    reach = radius + soft / 2  # (m,) how far from the segment any ink goes
    win = int(np.ceil(_SEGMENT_PX + 2 * reach.max() + 2))
    corner = np.floor(segments.min(axis=1) - reach[:, None] - 1).astype(int)  # (m, 2)
    offsets = np.arange(win, dtype=np.float32)
    a, b = segments[:, 0], segments[:, 1]  # (m, 2)
    ab = (b - a).astype(np.float32)
    ab_len2 = np.maximum((ab**2).sum(axis=1), 1e-12)  # (m,)
    # Pixel centres relative to the segment's start a: x varies along the last axis,
    # y along the middle one, so the two broadcast to (m, win, win).
    start = (corner + 0.5 - a).astype(np.float32)  # (m, 2)
    apx = start[:, 0, None, None] + offsets[None, None, :]  # (m, 1, win)
    apy = start[:, 1, None, None] + offsets[None, :, None]  # (m, win, 1)
    abx, aby = ab[:, 0, None, None], ab[:, 1, None, None]  # (m, 1, 1)
    # Distance from each pixel centre to the nearest point of the segment: project onto
    # the segment, clamp to its ends, measure.
    t = np.clip((apx * abx + apy * aby) / ab_len2[:, None, None], 0.0, 1.0)
    dist = np.hypot(apx - t * abx, apy - t * aby)  # (m, win, win)
    # Coverage 1 inside the pen, 0 outside, a linear ramp `soft` pixels wide at the
    # edge: the anti-aliasing, and the grey rim that scanned strokes have in MNIST.
    edge = (radius[:, None, None] - dist) / soft[:, None, None] + 0.5
    ink = np.clip(edge, 0.0, 1.0, dtype=np.float32)  # (m, win, win)
    # Where windows overlap, the darker stroke wins (ink does not add up on paper).
    row = owner[:, None] * size + corner[:, 1, None] + np.arange(win)  # (m, win)
    flat = (row * size + corner[:, 0, None])[:, :, None] + np.arange(win)
    # flat (m, win, win): index of each window pixel in the flattened canvas
    canvas = np.zeros(n_images * size * size, dtype=np.float32)
    np.maximum.at(canvas, flat.ravel(), ink.ravel())
    return canvas.reshape(n_images, size, size)


def _render(labels, rng):
    """Normalized images (n, 28, 28) float32 for the given labels (n,)."""
    skeletons = [_skeleton(label, rng) for label in labels]
    # Pen half width in render pixels: MNIST strokes are about 1.5 to 5 pixels wide,
    # thin ones more common than bold ones.
    pen = (0.8 + 2.0 * rng.beta(1.5, 2.5, size=len(labels))) * RENDER_SIZE / 20
    # Width in render pixels of the grey edge of the pen.
    soft = rng.uniform(0.5, 1.5, size=len(labels))
    # The margin keeps every segment's paint window inside its own image.
    margin = int(np.ceil(2 * (_PRESSURE[1] * pen.max() + soft.max()) + _SEGMENT_PX)) + 3
    size = RENDER_SIZE + 2 * margin
    pieces = [_split(s + margin, _SEGMENT_PX) for s in skeletons]
    segments = np.concatenate(pieces)  # (m, 2, 2)
    owner = np.repeat(np.arange(len(labels)), [len(p) for p in pieces])  # (m,)
    # Pen pressure varies a little along the stroke.
    radius = pen[owner] * rng.uniform(*_PRESSURE, size=len(owner))
    # float32 is plenty for pixels and halves the work of the painting.
    radius, soft = radius.astype(np.float32), soft[owner].astype(np.float32)
    ink = _paint(segments, radius, soft, owner, len(labels), size)
    return np.stack([to_mnist(image) for image in ink]).astype(np.float32)


def generate_digits(n, seed_or_rng, progress=None):
    """n random digits: x float32 (n, 28, 28) in [0, 1], y int64 (n,), classes balanced.

    Every class gets n // 10 digits and the remainder goes one each to randomly chosen
    classes (so class counts differ by at most one), all in a random
    order. The same seed (or a generator in the same state) gives the same digits.
    ``progress(done, n)``, when given, is called after each chunk of digits; an
    exception it raises stops the drawing (the GUI cancels a slow start that way).
    """
    rng = np.random.default_rng(seed_or_rng)
    extra = rng.choice(10, size=n % 10, replace=False)
    y = rng.permutation(np.concatenate([np.repeat(np.arange(10), n // 10), extra]))
    y = y.astype(np.int64)
    x = np.empty((n, 28, 28), dtype=np.float32)
    for start in range(0, n, _CHUNK):
        x[start : start + _CHUNK] = _render(y[start : start + _CHUNK], rng)
        if progress is not None:
            progress(min(start + _CHUNK, n), n)
    return x, y



def with_generated(dataset, n, seed):
    """The Dataset with n generated digits added to its training images (the test
    images unchanged): real handwriting plus the styles the generator knows.

    The digits are drawn from the seed sequence [seed, 1], never the same ones as
    the built-in data set's (seeds 0 and 1).
    """
    x, y = generate_digits(n, [seed, 1])
    return dataclasses.replace(
        dataset,
        name=f"{dataset.name} and {n} generated digits",
        x_train=np.concatenate([dataset.x_train, x[:, None]]),  # (N + n, 1, 28, 28)
        y_train=np.concatenate([dataset.y_train, y]),
    )
