"""Draw ConvLab's icon: a 3x3 kernel over a 5x5 digit, summed into one output cell.

Writes resources/icons/convlab.svg and a 256x256 PNG rendered from it by Qt:

    QT_QPA_PLATFORM=offscreen python tools/make_icon.py
"""

from pathlib import Path

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SIZE = 256
CELL, GAP = 26, 4  # a grid cell and the space between cells, in icon pixels
GRID_X, GRID_Y = 24, 55  # top-left corner of the 5x5 input
BACKGROUND, EMPTY, INK, KERNEL = "#1f4e99", (42, 99, 192), (255, 255, 255), "#ffb020"

# The input: a 7, as 5x5 ink intensities in [0, 1] (row 0 at the top).
DIGIT = (
    (0.9, 0.9, 0.9, 0.9, 0.2),
    (0.0, 0.0, 0.1, 0.8, 0.1),
    (0.0, 0.0, 0.6, 0.7, 0.0),
    (0.0, 0.2, 0.9, 0.1, 0.0),
    (0.0, 0.6, 0.5, 0.0, 0.0),
)
WINDOW_ROW, WINDOW_COL = 1, 1  # the kernel's top-left cell, zero-based
OUTPUT = (196, 110, 36)  # the output cell: x, y, side


def shade(value):
    """The cell colour for an ink intensity: from the empty blue to white."""
    rgb = (round(e + value * (i - e)) for e, i in zip(EMPTY, INK, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def cell_corner(row, col):
    """Top-left corner of a grid cell, in icon pixels."""
    return GRID_X + col * (CELL + GAP), GRID_Y + row * (CELL + GAP)


def svg():
    """The icon as SVG text."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 {SIZE} {SIZE}">',
        "<title>ConvLab</title>",
        f'<rect width="{SIZE}" height="{SIZE}" rx="44" fill="{BACKGROUND}"/>',
    ]
    for row, values in enumerate(DIGIT):
        for col, value in enumerate(values):
            x, y = cell_corner(row, col)
            parts.append(f'<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" '
                         f'rx="4" fill="{shade(value)}"/>')
    left, top = cell_corner(WINDOW_ROW, WINDOW_COL)
    side = 3 * CELL + 2 * GAP
    out_x, out_y, out_side = OUTPUT
    # The window's right edge fans into the output cell: nine products, one sum.
    parts.append(f'<polygon points="{left + side},{top} {out_x},{out_y} '
                 f'{out_x},{out_y + out_side} {left + side},{top + side}" '
                 f'fill="{KERNEL}" fill-opacity="0.45"/>')
    parts.append(f'<rect x="{left - 3}" y="{top - 3}" width="{side + 6}" '
                 f'height="{side + 6}" rx="7" fill="none" stroke="{KERNEL}" '
                 'stroke-width="6"/>')
    parts.append(f'<rect x="{out_x}" y="{out_y}" width="{out_side}" '
                 f'height="{out_side}" rx="5" fill="{KERNEL}"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def render_png(svg_path, png_path):
    """Render the SVG into a SIZE x SIZE PNG with Qt's SVG renderer."""
    from PyQt5.QtCore import Qt
    from PyQt5.QtGui import QGuiApplication, QImage, QPainter
    from PyQt5.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (kept alive)
    image = QImage(SIZE, SIZE, QImage.Format_ARGB32)
    image.fill(Qt.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing)
    QSvgRenderer(str(svg_path)).render(painter)
    painter.end()
    if not image.save(str(png_path), "PNG"):
        raise OSError(f"could not write {png_path}")


def main():
    ICONS.mkdir(parents=True, exist_ok=True)
    svg_path, png_path = ICONS / "convlab.svg", ICONS / "convlab.png"
    svg_path.write_text(svg(), encoding="utf-8")
    render_png(svg_path, png_path)
    print(f"wrote {svg_path} and {png_path}")


if __name__ == "__main__":
    main()
