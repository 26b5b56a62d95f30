"""Helpers that write tiny MNIST-style IDX files for the data tests."""

import gzip

import numpy as np


def idx_bytes(array, magic=None):
    """Encode a uint8 array as IDX: big-endian magic, one 4-byte size per dim, data."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = 0x0800 + array.ndim
    header = magic.to_bytes(4, "big")
    header += b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write(path, data):
    """Write bytes, gzipped when the name ends in .gz; returns the path."""
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def tiny_set(n, seed):
    """n random 28x28 uint8 images and their labels."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


def write_folder(folder, gz=True, n_train=5, n_test=3):
    """Write all four tiny IDX files into folder; returns the arrays written."""
    sets = {"train": tiny_set(n_train, 0), "t10k": tiny_set(n_test, 1)}
    for prefix, (images, labels) in sets.items():
        suffix = ".gz" if gz else ""
        write(folder / f"{prefix}-images-idx3-ubyte{suffix}", idx_bytes(images))
        write(folder / f"{prefix}-labels-idx1-ubyte{suffix}", idx_bytes(labels))
    return sets
