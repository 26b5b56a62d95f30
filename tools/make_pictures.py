"""Draw the Playground's colour pictures with NumPy: small RGB scenes for filters.

Each picture is 32x32 and has something a colour filter can find: edges in one colour
only, colours of equal brightness, a gradient through the hues. Writes
resources/pictures/*.png (plain PNG, written here with zlib, no image library):

    python tools/make_pictures.py
"""

import struct
import zlib
from pathlib import Path

import numpy as np

PICTURES = Path(__file__).resolve().parents[1] / "resources" / "pictures"
SIZE = 32


def blocks():
    """Four squares: red, green, blue and white, on black."""
    image = np.zeros((SIZE, SIZE, 3))
    half = SIZE // 2
    image[2:half - 2, 2:half - 2] = (1, 0, 0)
    image[2:half - 2, half + 2:SIZE - 2] = (0, 1, 0)
    image[half + 2:SIZE - 2, 2:half - 2] = (0, 0, 1)
    image[half + 2:SIZE - 2, half + 2:SIZE - 2] = (1, 1, 1)
    return image


def red_ring_on_green():
    """A red ring on green grass: edges between two colours, not between bright and
    dark."""
    rows, cols = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    radius = np.hypot(rows - SIZE / 2, cols - SIZE / 2)
    image = np.zeros((SIZE, SIZE, 3))
    image[...] = (0.1, 0.6, 0.15)
    image[(radius > 7) & (radius < 11)] = (0.9, 0.1, 0.1)
    return image


def rainbow():
    """The hues from red through green to blue, left to right, darker downwards."""
    hue = np.linspace(0.0, 1.0, SIZE)[None, :] * 4.0  # 0..4 across the columns
    # Each channel a triangle bump over its part of the hue line.
    red = np.clip(np.abs(hue - 2.0) - 1.0, 0, 1)
    green = np.clip(2.0 - np.abs(hue - 1.333), 0, 1)
    blue = np.clip(2.0 - np.abs(hue - 2.667), 0, 1)
    shade = np.linspace(1.0, 0.35, SIZE)[:, None]
    return np.stack([red * shade, green * shade, blue * shade], axis=-1)


def stripes():
    """Vertical stripes of red, green, blue and white."""
    image = np.zeros((SIZE, SIZE, 3))
    colours = ((1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 1))
    for index, start in enumerate(range(0, SIZE, 4)):
        image[:, start:start + 4] = colours[index % len(colours)]
    return image


PICTURE_MAKERS = {"blocks": blocks, "red-ring-on-green": red_ring_on_green,
                  "rainbow": rainbow, "stripes": stripes}


def png_bytes(image):
    """An (H, W, 3) image in [0, 1] as the bytes of an 8-bit RGB PNG file."""
    pixels = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    height, width, _ = pixels.shape
    # Each row starts with filter type 0 (no filter).
    rows = b"".join(b"\x00" + row.tobytes() for row in pixels)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(
            ">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def main():
    PICTURES.mkdir(parents=True, exist_ok=True)
    for name, make in PICTURE_MAKERS.items():
        path = PICTURES / f"{name}.png"
        path.write_bytes(png_bytes(make()))
        print(f"wrote {path.name}")


if __name__ == "__main__":
    main()
