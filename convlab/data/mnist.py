"""Read MNIST from IDX files (gz or raw) or a Keras mnist.npz, checking everything."""

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from convlab.npz import ArchiveError, read_npz

# The four standard file names; the same names with ".gz" removed are read too.
EXPECTED_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
NPZ_FILE = "mnist.npz"

# IDX magic numbers: 0x00000803 (2051) = unsigned bytes in 3 dimensions (images),
# 0x00000801 (2049) = unsigned bytes in 1 dimension (labels).
IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
IMAGE_SIZE = 28
NUM_CLASSES = 10

# Refuse a gzip file whose header promises more than this: it would unpack to
# gigabytes. The largest MNIST-style file (EMNIST ByClass training images) holds
# 547 MB; MNIST's training images hold 47 MB.
MAX_IDX_BYTES = 2**30

_GZIP_MAGIC = b"\x1f\x8b"
_SPLIT_PREFIX = {"train": "train", "test": "t10k"}
_FIX = "Download MNIST again or replace this file with an intact copy."


class MnistFormatError(ValueError):
    """A data file exists but is not valid MNIST; the message says what is wrong."""


class DataNotFoundError(FileNotFoundError):
    """The MNIST files are not where we looked; the message says where to put them."""


def missing_data_message(folders):
    """Explain which four files are needed, where we looked, and how to fix it."""
    looked = "\n".join(f"  {folder}" for folder in folders)
    names = "\n".join(f"  {name}" for name in EXPECTED_FILES)
    return (
        f"MNIST was not found. ConvLab needs these four files (gz or unpacked):\n"
        f"{names}\n"
        f"or a single {NPZ_FILE}. Looked in:\n{looked}\n"
        f"Fix: use Download MNIST (python -m convlab download), or put the files in "
        f"{folders[-1]}, or point ConvLab at their folder with --data DIR or the "
        f"CONVLAB_DATA environment variable."
    )


def read_idx(path):
    """Read one MNIST IDX file: images -> uint8 (N, rows, cols), labels -> uint8 (N,).

    Checks the magic number (2051 images, 2049 labels), that every dimension is
    positive, and that the data after the header is exactly N*rows*cols (or N) bytes.
    The sizes are checked before the data is read, so a header declaring gigabytes
    costs nothing; a gzip file is unpacked only as far as the header promises.
    """
    path = Path(path)
    with open(path, "rb") as f:
        packed = f.read(len(_GZIP_MAGIC)) == _GZIP_MAGIC
    if not packed:
        with open(path, "rb") as f:
            return _read_idx_stream(path, f, path.stat().st_size)
    try:
        with gzip.open(path, "rb") as f:
            return _read_idx_stream(path, f, None)
    except EOFError as exc:
        raise MnistFormatError(
            f"{path}: the gzip data ends early (the file is truncated). {_FIX}"
        ) from exc
    except (OSError, zlib.error) as exc:
        raise MnistFormatError(f"{path}: corrupt gzip data ({exc}). {_FIX}") from exc


def _read_idx_stream(path, f, size):
    """read_idx on the open stream ``f``; ``size`` is its length, None if unknown."""
    head = f.read(8)
    if len(head) < 8:
        raise MnistFormatError(
            f"{path}: only {len(head)} bytes, too short for an IDX header. {_FIX}"
        )
    magic = int.from_bytes(head[:4], "big")
    if magic == IMAGES_MAGIC:
        ndim = 3
    elif magic == LABELS_MAGIC:
        ndim = 1
    else:
        raise MnistFormatError(
            f"{path}: magic number {magic} (0x{magic:08x}); an MNIST file starts with "
            f"{IMAGES_MAGIC} (images) or {LABELS_MAGIC} (labels). This is not an "
            f"MNIST IDX file. {_FIX}"
        )
    header_len = 4 + 4 * ndim
    header = head + f.read(header_len - len(head))
    if len(header) < header_len:
        raise MnistFormatError(
            f"{path}: the header needs {header_len} bytes but the file has "
            f"{len(header)}. {_FIX}"
        )
    dims = tuple(
        int.from_bytes(header[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    if 0 in dims:
        raise MnistFormatError(f"{path}: the header gives a zero size {dims}. {_FIX}")
    # Python ints: NumPy's int64 product would wrap around (2**64 becomes 0).
    expected = math.prod(dims)
    shape = " x ".join(str(d) for d in dims)
    promise = f"{path}: the header promises {shape} = {expected} bytes of data"
    if size is not None:
        _check_length(promise, expected, size - header_len)
    elif expected > MAX_IDX_BYTES:
        raise MnistFormatError(
            f"{promise}, more than any MNIST file holds (at most {MAX_IDX_BYTES} "
            f"are read); the file is damaged. {_FIX}"
        )
    # One byte more than promised, to notice extra data without reading all of it.
    data = f.read(expected + 1)
    if len(data) > expected:
        raise MnistFormatError(
            f"{promise} but there are more than {expected}; the file has extra "
            f"bytes at the end. {_FIX}"
        )
    _check_length(promise, expected, len(data))
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def _check_length(promise, expected, actual):
    """Refuse data of ``actual`` bytes where the header promised ``expected``."""
    if actual != expected:
        what = "is truncated" if actual < expected else "has extra bytes at the end"
        raise MnistFormatError(
            f"{promise} but there are {actual}; the file {what}. {_FIX}"
        )


def _find_file(folder, name):
    """The gz file if present, else the unpacked one, else None."""
    for candidate in (folder / name, folder / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def has_mnist(folder):
    """True when folder holds the four IDX files (gz or raw) or an mnist.npz."""
    folder = Path(folder)
    if (folder / NPZ_FILE).is_file():
        return True
    return all(_find_file(folder, name) is not None for name in EXPECTED_FILES)


def _check_pair(images, labels, where):
    """Check a pair: images (N, 28, 28), labels (N,) with digits 0-9, equal counts."""
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise MnistFormatError(
            f"{where}: images have shape {images.shape}, expected "
            f"(N, {IMAGE_SIZE}, {IMAGE_SIZE}). {_FIX}"
        )
    if labels.ndim != 1:
        raise MnistFormatError(
            f"{where}: labels have shape {labels.shape}, expected (N,). {_FIX}"
        )
    if len(images) != len(labels):
        raise MnistFormatError(
            f"{where}: {len(images)} images but {len(labels)} labels; the two files "
            f"must come from the same set (both train-* or both t10k-*). {_FIX}"
        )
    if labels.size and labels.max() >= NUM_CLASSES:
        raise MnistFormatError(
            f"{where}: a label is {int(labels.max())}, but digits are 0-9. {_FIX}"
        )


def load_npz(path, split="train"):
    """Read the Keras mnist.npz layout (x_train, y_train, x_test, y_test).

    Returns (images uint8 (N, 28, 28), labels uint8 (N,)) for the split.
    """
    path = Path(path)
    keys = (f"x_{_check_split(split)}", f"y_{split}")
    try:
        archive = read_npz(path)
    except ArchiveError as exc:
        raise MnistFormatError(f"{path}: {exc}. {_FIX}") from exc
    missing = [key for key in keys if key not in archive]
    arrays = [archive[key] for key in keys if key in archive]
    if missing:
        raise MnistFormatError(
            f"{path}: missing array(s) {', '.join(missing)}; a Keras mnist.npz "
            f"holds x_train, y_train, x_test, y_test. {_FIX}"
        )
    images, labels = arrays
    for key, array in zip(keys, arrays, strict=True):
        if array.dtype != np.uint8:
            raise MnistFormatError(
                f"{path}: {key} is {array.dtype}, expected uint8. {_FIX}"
            )
    _check_pair(images, labels, f"{path} ({split})")
    return images, labels


def _check_split(split):
    """Return split if it is 'train' or 'test', else raise a ValueError naming both."""
    if split not in _SPLIT_PREFIX:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    return split


def load_mnist(folder, split="train"):
    """Load one MNIST split from a folder of IDX files (gz or raw) or an mnist.npz.

    Returns (images uint8 (N, 28, 28), labels uint8 (N,)); raises DataNotFoundError
    when the files are absent and MnistFormatError when one is damaged.
    """
    folder = Path(folder)
    prefix = _SPLIT_PREFIX[_check_split(split)]
    image_name = f"{prefix}-images-idx3-ubyte.gz"
    label_name = f"{prefix}-labels-idx1-ubyte.gz"
    image_path = _find_file(folder, image_name)
    label_path = _find_file(folder, label_name)
    if image_path is None or label_path is None:
        if (folder / NPZ_FILE).is_file():
            return load_npz(folder / NPZ_FILE, split)
        raise DataNotFoundError(missing_data_message([folder]))
    images = read_idx(image_path)
    labels = read_idx(label_path)
    # Catch swapped files first: the generic shape message would be less helpful.
    if images.ndim == 1:
        raise MnistFormatError(
            f"{image_path}: holds labels, not images; the files look swapped or "
            f"renamed. {_FIX}"
        )
    if labels.ndim == 3:
        raise MnistFormatError(
            f"{label_path}: holds images, not labels; the files look swapped or "
            f"renamed. {_FIX}"
        )
    _check_pair(images, labels, f"{image_path.name} + {label_path.name} in {folder}")
    return images, labels
