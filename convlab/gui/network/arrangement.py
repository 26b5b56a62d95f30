"""Where the Network tab's columns go: one band of columns, or several, to fit.

No Qt here: given each column's smallest width (its title, shape and legend must be
readable) and what it shows, arrange() splits the columns into bands, left to right
and then top to bottom like text, and gives every column its width and every band
its heights, so that all of them fit the space the tab has, with nothing clipped and
no scrolling. Of the band counts that fit, it takes the one whose feature maps come
out largest: one band on a wide screen, two or three on a small one. When none fits
(a small screen), the view lays them out for a larger area and shows it scaled
down.
"""

import math
from dataclasses import dataclass

from convlab.lab.network import GAP, fit_grid

SPACING = 6  # pixels between two columns and between two rows of a band
# The pixel heights of a band's rows: title (two lines), maps, shape, legend, then
# a conv layer's filter caption (two lines), filters and legend. The maps and the
# filters get what is left (0 here).
ROW_HEIGHTS = (40, 0, 22, 36, 40, 0, 36)
TEXT_HEIGHT = sum(ROW_HEIGHTS[:4]) + 3 * SPACING
FILTER_TEXT = sum(ROW_HEIGHTS[4:]) + 3 * SPACING
FILTER_SHARE = 0.4  # of the height left for pictures, what the filters get
MIN_MAP_HEIGHT = 24  # below this a band's maps are specks: try fewer bands


@dataclass(frozen=True)
class Spec:
    """What one column needs: its smallest width in pixels, whether it is a conv
    layer (filters below), and for feature maps their (count, h, w) (None for a
    vector, drawn as a strip of fixed width)."""

    min_width: int
    conv: bool = False
    maps: tuple | None = None


@dataclass(frozen=True)
class Band:
    """One row of columns: their indices, widths and the band's picture heights."""

    columns: tuple
    widths: tuple
    map_height: int
    filter_height: int  # 0 when no column of the band is a conv layer


def _split(specs, count):
    """count contiguous groups of column indices whose widest group (in smallest
    widths) is as narrow as it can be: the classic linear partition, by dynamic
    programming (a network has a dozen columns or so)."""
    n = len(specs)
    if count > n:
        return None
    prefix = [0]
    for spec in specs:
        prefix.append(prefix[-1] + spec.min_width)
    # cost[k][i]: the widest group when the first i columns form k groups.
    cost = [[math.inf] * (n + 1) for _ in range(count + 1)]
    cut = [[0] * (n + 1) for _ in range(count + 1)]
    cost[0][0] = 0
    for k in range(1, count + 1):
        for i in range(k, n + 1):
            for j in range(k - 1, i):
                widest = max(cost[k - 1][j], prefix[i] - prefix[j])
                if widest < cost[k][i]:
                    cost[k][i], cut[k][i] = widest, j
    groups, i = [], n
    for k in range(count, 0, -1):
        j = cut[k][i]
        groups.append(list(range(j, i)))
        i = j
    return groups[::-1]


def _band(specs, columns, width):
    """The widths of these columns side by side in width pixels, or None if they
    do not fit."""
    widths = [specs[i].min_width for i in columns]
    free = width - sum(widths) - SPACING * (len(columns) - 1)
    if free < 0:
        return None
    images = [k for k, i in enumerate(columns) if specs[i].maps is not None]
    # The room to spare goes to the feature maps: a strip or ten scores need none.
    for k in images:
        widths[k] += free // len(images)
    return widths


def _heights(specs, groups, height):
    """(map height, filter height) of each group's band in height pixels, or None.

    Every band's maps get the same height; a band with a conv layer also has its
    filters, FILTER_SHARE of its pictures, and their caption and legend.
    """
    convs = [any(specs[i].conv for i in g) for g in groups]
    pictures = (height - SPACING * (len(groups) - 1) - TEXT_HEIGHT * len(groups)
                - FILTER_TEXT * sum(convs))
    factor = 1 / (1 - FILTER_SHARE)  # a band with filters, per unit of map height
    map_height = int(pictures / sum(factor if c else 1.0 for c in convs))
    if map_height < MIN_MAP_HEIGHT:
        return None
    return [(map_height, int(map_height * (factor - 1)) if c else 0) for c in convs]


def _tile_scale(maps, width, height):
    """Screen pixels per map pixel when count h x w maps best fill width x height."""
    count, h, w = maps
    rows, cols = fit_grid(count, h, w, width, height)
    return min(width / (cols * (w + GAP) - GAP), height / (rows * (h + GAP) - GAP))


def arrange(specs, width, height):
    """(bands, score) for columns specs in width x height pixels, or (None, 0) if
    they do not fit at all (then the caller shows them smaller).

    Tries 1, 2, ... bands and keeps the arrangement whose smallest feature-map
    pixel is largest; score is that pixel's size in screen pixels.
    """
    best, best_score = None, -math.inf
    for count in range(1, len(specs) + 1):
        groups = _split(specs, count)
        widths = [_band(specs, g, width) for g in groups]
        heights = _heights(specs, groups, height)
        if None in widths or heights is None:
            continue
        bands = [Band(tuple(g), tuple(w), h, f)
                 for g, w, (h, f) in zip(groups, widths, heights, strict=True)]
        score = min((_tile_scale(specs[i].maps, w, band.map_height)
                     for band in bands
                     for i, w in zip(band.columns, band.widths, strict=True)
                     if specs[i].maps is not None), default=0.0)
        if score > best_score:
            best, best_score = bands, score
    return best, max(best_score, 0.0)
