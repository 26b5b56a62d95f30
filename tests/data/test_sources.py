"""Where data is looked for, the Dataset it becomes, and the error when it is absent."""

import sys

import numpy as np
import pytest
from idx_files import write_folder

from convlab.data import sources
from convlab.data.mnist import EXPECTED_FILES, MnistFormatError
from convlab.data.sources import (
    DataNotFoundError,
    cache_dir,
    find_mnist,
    load_dataset,
)


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    """No $CONVLAB_DATA, and a private (empty) cache folder under tmp_path."""
    monkeypatch.delenv("CONVLAB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(sys, "platform", "linux")


def test_cache_dir_follows_xdg(no_env, tmp_path):
    """On Linux the cache folder lives under $XDG_CACHE_HOME."""
    assert cache_dir() == tmp_path / "cache" / "convlab" / "mnist"


def test_cache_dir_windows_and_macos(monkeypatch, tmp_path):
    """Windows uses %LOCALAPPDATA%, macOS ~/Library/Caches."""
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    monkeypatch.setattr(sys, "platform", "win32")
    assert cache_dir() == tmp_path / "local" / "convlab" / "mnist"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "platform", "darwin")
    assert cache_dir() == tmp_path / "home" / "Library" / "Caches" / "convlab" / "mnist"


def test_explicit_folder_wins(no_env, tmp_path, monkeypatch):
    """An explicit folder is used even when $CONVLAB_DATA and the cache hold data."""
    for name in ("explicit", "env"):
        (tmp_path / name).mkdir()
        write_folder(tmp_path / name)
    cache_dir().mkdir(parents=True)
    write_folder(cache_dir())
    monkeypatch.setenv("CONVLAB_DATA", str(tmp_path / "env"))
    assert find_mnist(tmp_path / "explicit") == tmp_path / "explicit"
    assert find_mnist() == tmp_path / "env"


def test_env_then_cache(no_env, tmp_path, monkeypatch):
    """Without an explicit folder, an empty $CONVLAB_DATA falls back to the cache."""
    (tmp_path / "env").mkdir()
    monkeypatch.setenv("CONVLAB_DATA", str(tmp_path / "env"))
    cache_dir().mkdir(parents=True)
    write_folder(cache_dir(), gz=False)
    assert find_mnist() == cache_dir()


def test_not_found_message(no_env, tmp_path, monkeypatch):
    """The error names the four files, every folder looked in, and how to fix it."""
    monkeypatch.setenv("CONVLAB_DATA", str(tmp_path / "env"))
    with pytest.raises(DataNotFoundError) as err:
        find_mnist()
    message = str(err.value)
    assert all(name in message for name in EXPECTED_FILES)
    assert str(tmp_path / "env") in message and str(cache_dir()) in message
    assert "Download MNIST" in message and "--data" in message
    assert isinstance(err.value, FileNotFoundError)


def test_explicit_missing_is_not_replaced(no_env, tmp_path):
    """A wrong explicit folder is an error even when the cache holds MNIST."""
    cache_dir().mkdir(parents=True)
    write_folder(cache_dir())
    with pytest.raises(DataNotFoundError, match="typo"):
        find_mnist(tmp_path / "typo")


def test_load_dataset_from_folder(no_env, tmp_path):
    """A folder becomes float32 (N, 1, 28, 28) in [0, 1] and int64 labels."""
    arrays = write_folder(tmp_path, n_train=6, n_test=4)
    data = load_dataset(tmp_path)
    assert data.x_train.shape == (6, 1, 28, 28) and data.x_test.shape == (4, 1, 28, 28)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    np.testing.assert_allclose(data.x_train[:, 0] * 255, arrays["train"][0], atol=1e-3)
    np.testing.assert_array_equal(data.y_test, arrays["t10k"][1])
    assert "MNIST" in data.name


def test_load_dataset_none_uses_env(no_env, tmp_path, monkeypatch):
    """load_dataset(None) finds the data through $CONVLAB_DATA."""
    write_folder(tmp_path, n_train=2, n_test=2)
    monkeypatch.setenv("CONVLAB_DATA", str(tmp_path))
    assert len(load_dataset(None).x_train) == 2


def test_load_dataset_damaged(no_env, tmp_path):
    """A damaged file surfaces as MnistFormatError, not as a missing dataset."""
    write_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8bbroken")
    with pytest.raises(MnistFormatError, match="t10k-labels"):
        load_dataset(tmp_path)


@pytest.fixture
def fake_generator(monkeypatch):
    """A stand-in generate_digits that records its calls, and an empty digit cache."""
    import convlab.data.synthetic as synthetic

    calls = []

    def fake_generate(n, seed, progress=None):
        calls.append((n, seed))
        if progress is not None:
            progress(n, n)
        return np.zeros((n, 28, 28), np.float32), np.arange(n, dtype=np.int64) % 10

    monkeypatch.setattr(synthetic, "generate_digits", fake_generate)
    monkeypatch.setattr(sources, "_builtin_cache", {})
    return calls


def test_builtin_uses_generator(fake_generator):
    """"builtin" asks the generator for 30000 + 2000 digits with seeds 0 and 1."""
    data = load_dataset(sources.BUILTIN)
    assert fake_generator == [(30000, 0), (2000, 1)]
    assert data.x_train.shape == (30000, 1, 28, 28) and data.y_test.shape == (2000,)
    assert data.x_test.dtype == np.float32 and data.y_train.dtype == np.int64
    assert "generated" in data.name


def test_builtin_is_drawn_once_and_read_only(fake_generator):
    """A second "builtin" load reuses the first digits, which nobody can change."""
    first = load_dataset(sources.BUILTIN)
    second = load_dataset(sources.BUILTIN)
    assert second is first and len(fake_generator) == 2
    with pytest.raises(ValueError):
        first.x_train[0, 0, 0, 0] = 1.0


def test_builtin_progress_counts_both_splits(fake_generator):
    """Progress runs over train and test digits together, ending at the total."""
    seen = []
    load_dataset(sources.BUILTIN, progress=lambda *counts: seen.append(counts))
    assert seen == [(30000, 32000), (32000, 32000)]


def test_builtin_cancelled_by_progress_caches_nothing(fake_generator):
    """An exception from progress stops the load, and the next load starts afresh."""

    class Cancelled(Exception):
        pass

    def cancel(done, total):
        raise Cancelled

    with pytest.raises(Cancelled):
        load_dataset(sources.BUILTIN, progress=cancel)
    assert sources._builtin_cache == {}
    load_dataset(sources.BUILTIN)
    assert fake_generator == [(30000, 0), (30000, 0), (2000, 1)]


def test_real_dataset(mnist_dir):
    """The real folder loads as a Dataset with 10000 + 10000 digits in [0, 1]."""
    data = load_dataset(mnist_dir)
    assert data.x_train.shape == (10000, 1, 28, 28)
    assert data.x_test.shape == (10000, 1, 28, 28)
    assert data.x_test.min() >= 0.0 and data.x_test.max() == 1.0
