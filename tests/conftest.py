"""Shared test fixtures: headless Qt and the real MNIST files when they are present."""

import gc
import os
from pathlib import Path

import pytest

# Qt must be told before it loads that there is no screen.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _find_mnist_dir():
    """Real MNIST: $CONVLAB_TEST_MNIST, else the shared data folder beside the clone."""
    shared = REPO.parent / "shared" / "data" / "mnist"
    candidates = [os.environ.get("CONVLAB_TEST_MNIST"), shared]
    for candidate in candidates:
        if candidate and all((Path(candidate) / f).is_file() for f in MNIST_FILES):
            return Path(candidate)
    return None


@pytest.fixture(autouse=True)
def _automatic_gc():
    """Python's automatic cycle collection, which the GUI tests hand to the app's
    GUI-thread timer (tests/gui/conftest.py), is on for every other test."""
    gc.enable()


@pytest.fixture(autouse=True)
def _private_user_folders(monkeypatch, tmp_path):
    """Keep every test away from the user's MNIST, cache and data folders.

    Without this a developer who set $CONVLAB_DATA or ran `convlab download` would
    see the app find data that a test expects to be missing.
    """
    monkeypatch.delenv("CONVLAB_DATA", raising=False)
    for name in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path / "user" / name.lower()))


@pytest.fixture(scope="session")
def mnist_dir():
    """The folder holding real MNIST IDX files; skips the test when there is none."""
    found = _find_mnist_dir()
    if found is None:
        pytest.skip(
            "real MNIST not found: set CONVLAB_TEST_MNIST to a folder holding "
            + ", ".join(MNIST_FILES)
        )
    return found
