"""Draw generated digits beside real MNIST digits as one PNG (the README's picture)."""

import argparse
import struct
import zlib
from pathlib import Path

import numpy as np

from convlab.data.mnist import load_mnist
from convlab.data.synthetic import generate_digits

GAP = 1  # dark-grey pixels between digits, in 28x28 units before scaling
BACKGROUND = 64  # grey of the gaps, so each digit's black square stays visible


def grid(images, labels, per_class):
    """uint8 mosaic (10 * 29 - 1, per_class * 29 - 1): row k holds per_class k's."""
    cell = 28 + GAP
    out = np.full((10 * cell - GAP, per_class * cell - GAP), BACKGROUND, np.uint8)
    for k in range(10):
        for j, image in enumerate(images[labels == k][:per_class]):
            out[k * cell : k * cell + 28, j * cell : j * cell + 28] = image
    return out


def write_png(path, pixels):
    """Save a uint8 (H, W) array as an 8-bit greyscale PNG."""
    height, width = pixels.shape

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    # Each row starts with filter type 0 (none); zlib does the compression.
    rows = b"".join(b"\x00" + row.tobytes() for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    Path(path).write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def main(argv=None):
    """Parse arguments, draw both grids side by side, write the PNG."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.generated_vs_real",
        description="Left: generated digits, one row per class 0-9. Right: real MNIST "
        "test digits in the same layout. Run from the repository root.",
    )
    parser.add_argument("--mnist", required=True, help="folder with the MNIST files")
    parser.add_argument("--out", default="docs/images/generated_vs_real.png")
    parser.add_argument("--per-class", type=int, default=8)
    parser.add_argument("--scale", type=int, default=2, help="pixels per MNIST pixel")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    x_gen, y_gen = generate_digits(10 * args.per_class, args.seed)
    x_real, y_real = load_mnist(args.mnist, "test")
    left = grid(np.round(x_gen * 255).astype(np.uint8), y_gen, args.per_class)
    right = grid(x_real, y_real, args.per_class)
    middle = np.full((left.shape[0], 14), 255, np.uint8)  # a white bar between halves
    picture = np.hstack([left, middle, right])
    # Nearest-neighbour enlargement keeps the pixels crisp, as the network sees them.
    picture = picture.repeat(args.scale, axis=0).repeat(args.scale, axis=1)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_png(args.out, picture)
    print(f"wrote {args.out} ({picture.shape[1]}x{picture.shape[0]})")


if __name__ == "__main__":
    main()
