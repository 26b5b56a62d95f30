"""Where the digits come from: a named folder, $CONVLAB_DATA, the cache, or built in."""

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convlab.data.mnist import (
    DataNotFoundError,
    has_mnist,
    load_mnist,
    missing_data_message,
)

__all__ = [
    "BUILTIN",
    "DataNotFoundError",
    "Dataset",
    "cache_dir",
    "find_mnist",
    "load_dataset",
]

ENV_VAR = "CONVLAB_DATA"
BUILTIN = "builtin"
# Sizes and seeds of the generated ("builtin") digits; different seeds keep the
# test digits out of the training set. 30,000 training digits (about 10 s to draw)
# is what it took for the sample network trained on them alone to pass 90% on real
# MNIST; 10,000 stopped near 88%.
BUILTIN_TRAIN, BUILTIN_TRAIN_SEED = 30000, 0
BUILTIN_TEST, BUILTIN_TEST_SEED = 2000, 1


def cache_dir():
    """The per-user folder where downloaded MNIST lives (it may not exist yet).

    Follows each platform's convention: %LOCALAPPDATA% on Windows,
    ~/Library/Caches on macOS, $XDG_CACHE_HOME or ~/.cache elsewhere.
    """
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "convlab" / "mnist"


def find_mnist(explicit=None):
    """The MNIST folder: explicit if given, else $CONVLAB_DATA, then cache_dir().

    An explicit folder (--data DIR, the GUI's choice) is the only one tried, so a
    typo is reported rather than silently replaced by other data.
    Raises DataNotFoundError naming the four files and every folder looked in.
    """
    if explicit is not None:
        candidates = [Path(explicit).expanduser()]
    else:
        candidates = []
        if os.environ.get(ENV_VAR):
            candidates.append(Path(os.environ[ENV_VAR]).expanduser())
        candidates.append(cache_dir())
    for folder in candidates:
        if has_mnist(folder):
            return folder
    raise DataNotFoundError(missing_data_message(candidates))


@dataclass
class Dataset:
    """Train and test digits ready for the network.

    x_* float32 (N, 1, 28, 28) in [0, 1]; y_* int64 (N,) with digits 0-9.
    name says which data this is, for the GUI and the command line.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _to_network(images, labels):
    """uint8 (N, 28, 28) and labels -> float32 (N, 1, 28, 28) in [0, 1], int64 (N,)."""
    x = images.astype(np.float32)[:, None, :, :] / np.float32(255)  # (N, 1, 28, 28)
    return x, labels.astype(np.int64)


_builtin_cache = {}


def _builtin(progress=None):
    """The generated digits, drawn once per process and kept (read-only) for reuse.

    Drawing 32,000 digits takes seconds, so a second training run, or a second
    window, reuses the first one's. The arrays are made read-only so no caller can
    change what the next one gets. Imported lazily so MNIST users never pay for it.
    """
    if "dataset" in _builtin_cache:
        return _builtin_cache["dataset"]
    from convlab.data.synthetic import generate_digits

    total = BUILTIN_TRAIN + BUILTIN_TEST

    def train_progress(done, _n):
        if progress is not None:
            progress(done, total)

    def test_progress(done, _n):
        if progress is not None:
            progress(BUILTIN_TRAIN + done, total)

    x_train, y_train = generate_digits(
        BUILTIN_TRAIN, BUILTIN_TRAIN_SEED, train_progress)
    x_test, y_test = generate_digits(BUILTIN_TEST, BUILTIN_TEST_SEED, test_progress)
    dataset = Dataset(
        name=f"generated digits ({BUILTIN_TRAIN} train, {BUILTIN_TEST} test)",
        x_train=np.asarray(x_train, np.float32)[:, None, :, :],  # (N, 1, 28, 28)
        y_train=np.asarray(y_train, np.int64),
        x_test=np.asarray(x_test, np.float32)[:, None, :, :],
        y_test=np.asarray(y_test, np.int64),
    )
    for array in (dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test):
        array.setflags(write=False)
    _builtin_cache["dataset"] = dataset
    return dataset


def load_dataset(source=None, progress=None):
    """Load a Dataset from a folder, "builtin" (generated digits), or None (find_mnist).

    ``progress(done, total)`` reports how many generated digits are drawn (only
    "builtin" takes long enough to need it); an exception it raises cancels.

    Raises DataNotFoundError when no MNIST is found and MnistFormatError for a
    damaged file.
    """
    if isinstance(source, str) and source == BUILTIN:
        return _builtin(progress)
    folder = find_mnist(source)
    x_train, y_train = _to_network(*load_mnist(folder, "train"))
    x_test, y_test = _to_network(*load_mnist(folder, "test"))
    return Dataset(
        name=f"MNIST ({len(x_train)} train, {len(x_test)} test) from {folder}",
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
    )
