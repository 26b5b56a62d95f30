"""Tests for the My digits store: editing, atomic saving, refusing bad files, mixing."""

import errno
import io
import os
import time
import zipfile

import numpy as np
import pytest
from fitting import fit

from convlab import fileio, nn
from convlab.data import my_digits
from convlab.data.my_digits import (
    FILE_NAME,
    MyDigits,
    MyDigitsError,
    mix_for_fine_tuning,
)
from convlab.data.synthetic import generate_digits
from convlab.evaluation import evaluate


def _digit(value):
    """A recognisable 28x28 test image whose pixels all equal value."""
    return np.full((28, 28), value, dtype=np.float32)


@pytest.fixture
def store(tmp_path):
    """A store with three digits, saved once, in a temporary folder."""
    s = MyDigits(tmp_path / "data")
    for k, label in enumerate([3, 7, 3]):
        s.add(_digit(0.1 * (k + 1)), label)
    s.save()
    return s


def test_survives_restart(store):
    """A new store loading the same folder sees the same images and labels."""
    again = MyDigits(store.folder)
    again.load()
    np.testing.assert_array_equal(again.images, store.images)
    np.testing.assert_array_equal(again.labels, [3, 7, 3])
    assert again.images.dtype == np.float32 and again.labels.dtype == np.int64


def test_missing_file_loads_empty(tmp_path):
    """A folder without a file gives an empty store with correctly shaped arrays."""
    s = MyDigits(tmp_path)
    s.load()
    assert len(s) == 0
    assert s.images.shape == (0, 28, 28) and s.labels.shape == (0,)


def test_add_and_remove(tmp_path):
    """add returns the new index, remove deletes by index, bad input is refused."""
    s = MyDigits(tmp_path)
    assert s.add(_digit(0.5), 1) == 0
    assert s.add(_digit(0.7), 2) == 1
    s.remove(0)
    np.testing.assert_array_equal(s.labels, [2])
    np.testing.assert_allclose(s.images[0], 0.7)
    with pytest.raises(IndexError, match="holds 1"):
        s.remove(5)
    with pytest.raises(ValueError, match="28x28"):
        s.add(np.zeros((20, 20)), 1)
    with pytest.raises(ValueError, match="0-9"):
        s.add(_digit(0.5), 10)
    assert len(s) == 1


def test_extend_appends_another_stores_digits(store, tmp_path):
    """extend adds every digit of another store after these, as copies."""
    other = MyDigits(tmp_path / "other")
    other.add(_digit(0.9), 8)
    other.extend(store)
    np.testing.assert_array_equal(other.labels, [8, 3, 7, 3])
    np.testing.assert_array_equal(other.images[1:], store.images)
    store.remove(0)
    assert len(other) == 4


def test_save_leaves_no_temporary_files(store):
    """After a save the folder holds exactly the one .npz."""
    assert [p.name for p in store.folder.iterdir()] == [FILE_NAME]


def test_refuses_garbage_file_and_keeps_it(tmp_path):
    """A file that is not an .npz gives a clear error naming it, and stays on disk."""
    path = tmp_path / FILE_NAME
    path.write_bytes(b"this is not a zip file")
    s = MyDigits(tmp_path)
    with pytest.raises(MyDigitsError, match="not a usable My digits file") as info:
        s.load()
    assert str(path) in str(info.value)
    assert "not a .npz (zip) archive" in str(info.value)
    assert "pickle" not in str(info.value)
    assert path.read_bytes() == b"this is not a zip file"


def test_refuses_object_arrays_without_unpickling(tmp_path):
    """An archive holding pickled objects is refused without any advice to unpickle."""
    np.savez(
        tmp_path / FILE_NAME,
        images=np.array([None], dtype=object),
        labels=np.zeros(1, np.int64),
        format_version=np.int64(1),
    )
    with pytest.raises(MyDigitsError, match="Python objects") as info:
        MyDigits(tmp_path).load()
    assert "allow_pickle" not in str(info.value)


def test_refuses_truncated_file_and_keeps_it(store):
    """A file cut in half is refused; its bytes and the digits in memory stay."""
    data = store.path.read_bytes()
    store.path.write_bytes(data[: len(data) // 2])
    before = store.images
    with pytest.raises(MyDigitsError, match=FILE_NAME):
        store.load()
    assert store.path.read_bytes() == data[: len(data) // 2]
    np.testing.assert_array_equal(store.images, before)


def _huge_images_file(path):
    """A My digits file whose images header declares 10**10 digits in 100 bytes."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False,
                 "shape": (10**10, 28, 28)})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("images.npy", header.getvalue() + bytes(100))
    with zipfile.ZipFile(path, "a") as archive:
        for name, value in (("labels", np.zeros(1, np.int64)),
                            ("format_version", np.int64(1))):
            buffer = io.BytesIO()
            np.save(buffer, value)
            archive.writestr(f"{name}.npy", buffer.getvalue())


@pytest.mark.parametrize(
    ("write_file", "match"),
    [
        (lambda p: np.savez(p, images=np.zeros((1, 28, 28), np.float32),
                            labels=np.zeros(1, np.int64),
                            format_version=np.array("abc")),
         "format version 'abc', expected 1"),
        (lambda p: np.savez(p, images=np.zeros((1, 28, 28), np.float32),
                            labels=np.zeros(1, np.int64),
                            format_version=np.float64(1.5)),
         "format version 1.5, expected 1"),
        (_huge_images_file, "declares 7,840,000,000,000 values"),
    ],
    ids=["text-version", "fractional-version", "huge-array"],
)
def test_bad_file_gives_the_documented_error_and_is_kept(tmp_path, write_file,
                                                         match):
    """Each damaged file raises MyDigitsError, stays on disk and is set aside."""
    path = tmp_path / FILE_NAME
    write_file(path)
    data = path.read_bytes()
    s = MyDigits(tmp_path)
    with pytest.raises(MyDigitsError, match=match) as info:
        s.load()
    assert str(path) in str(info.value)
    assert path.read_bytes() == data
    s.add(_digit(0.3), 4)
    s.save()
    assert (tmp_path / "my_digits.unreadable-1.npz").read_bytes() == data


def test_refuses_mismatched_arrays(tmp_path):
    """Labels that do not match the images are reported as such."""
    np.savez(
        tmp_path / FILE_NAME,
        images=np.zeros((3, 28, 28), np.float32),
        labels=np.zeros(2, np.int64),
        format_version=np.int64(1),
    )
    with pytest.raises(MyDigitsError, match="labels must be integers"):
        MyDigits(tmp_path).load()


def test_refuses_labels_out_of_range(tmp_path):
    """A label outside 0-9 is reported instead of silently loaded."""
    np.savez(
        tmp_path / FILE_NAME,
        images=np.zeros((1, 28, 28), np.float32),
        labels=np.array([12]),
        format_version=np.int64(1),
    )
    with pytest.raises(MyDigitsError, match="digits 0-9"):
        MyDigits(tmp_path).load()


def test_save_after_bad_file_sets_it_aside(tmp_path):
    """Saving after a failed load moves the unreadable file aside, not over it."""
    path = tmp_path / FILE_NAME
    path.write_bytes(b"garbage")
    s = MyDigits(tmp_path)
    with pytest.raises(MyDigitsError):
        s.load()
    s.add(_digit(0.3), 4)
    aside = s.save()
    assert aside == tmp_path / "my_digits.unreadable-1.npz"
    assert aside.read_bytes() == b"garbage"
    assert s.save() is None  # the next save has nothing to set aside
    again = MyDigits(tmp_path)
    again.load()
    np.testing.assert_array_equal(again.labels, [4])


def test_save_removes_stale_temporaries(store):
    """A killed save's old temporary goes at the next save; a fresh one stays."""
    stale = store.folder / f".{FILE_NAME}.k1ll3d_0.tmp"
    fresh = store.folder / f".{FILE_NAME}.wr1t1ng0.tmp"
    for temporary in (stale, fresh):
        temporary.write_bytes(b"half a file")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    store.save()
    assert sorted(p.name for p in store.folder.iterdir()) == [fresh.name, FILE_NAME]


def test_full_disk_keeps_memory_and_old_file(store, monkeypatch):
    """A write that fails (disk full) raises a clear error and changes nothing."""
    old_bytes = store.path.read_bytes()

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(my_digits.np, "savez", no_space)
    store.add(_digit(0.9), 9)
    with pytest.raises(MyDigitsError, match="cannot save My digits") as info:
        store.save()
    assert os.strerror(errno.ENOSPC) in str(info.value)
    np.testing.assert_array_equal(store.labels, [3, 7, 3, 9])
    assert store.path.read_bytes() == old_bytes
    assert [p.name for p in store.folder.iterdir()] == [FILE_NAME]


def test_unwritable_folder_keeps_memory(store, monkeypatch):
    """When no file can be created in the folder, the error says why; digits stay."""

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(fileio.tempfile, "mkstemp", denied)
    store.remove(1)
    with pytest.raises(MyDigitsError, match=os.strerror(errno.EACCES)):
        store.save()
    np.testing.assert_array_equal(store.labels, [3, 3])
    on_disk = MyDigits(store.folder)
    on_disk.load()
    np.testing.assert_array_equal(on_disk.labels, [3, 7, 3])


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="needs a non-root POSIX user for a read-only folder",
)
def test_read_only_folder_keeps_memory(tmp_path):
    """Saving into a read-only folder raises a clear error and keeps the digits."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        s = MyDigits(folder)
        s.add(_digit(0.5), 5)
        with pytest.raises(MyDigitsError, match="Permission denied"):
            s.save()
        np.testing.assert_array_equal(s.labels, [5])
    finally:
        folder.chmod(0o700)


def test_mix_oversamples_my_digits(store):
    """The mix holds the base sample plus My digits repeated to the requested share."""
    rng = np.random.default_rng(0)
    x_base = np.zeros((500, 1, 28, 28), np.float32)
    y_base = np.zeros(500, np.int64)
    x, y = mix_for_fine_tuning(store, x_base, y_base, rng, my_share=0.2, base_size=400)
    assert x.shape == (500, 1, 28, 28) and x.dtype == np.float32
    assert y.shape == (500,) and y.dtype == np.int64
    # My digits are the only non-zero images here: 100 of 500 is the 20% share.
    mine = x.reshape(len(x), -1).max(axis=1) > 0
    assert mine.sum() == 100
    # The three drawings (labels 3, 7, 3) are repeated equally often, up to one.
    counts = np.unique(x[mine, 0, 0, 0], return_counts=True)[1]
    assert counts.max() - counts.min() <= 1
    np.testing.assert_array_equal(np.unique(y[mine]), [3, 7])


def test_fine_tuning_raises_accuracy_on_my_digits(tmp_path):
    """Fine-tuning on the mix teaches a model a handwriting it misread before."""
    rng = np.random.default_rng(0)
    x_base, y_base = generate_digits(1000, 1)
    x_base = x_base[:, None]  # (N, 1, 28, 28)
    model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10, rng=rng))
    fit(model, x_base, y_base, rng, epochs=3)

    # "My handwriting": mirror-image digits, which the model has never seen.
    mine, labels = generate_digits(30, 2)
    store = MyDigits(tmp_path)
    for image, label in zip(mine[:, :, ::-1], labels, strict=True):
        store.add(image, label)
    before = evaluate(model, store.images[:, None], store.labels)["accuracy"]

    x, y = mix_for_fine_tuning(store, x_base, y_base, rng, my_share=0.3, base_size=700)
    fit(model, x, y, rng, epochs=5)
    after = evaluate(model, store.images[:, None], store.labels)["accuracy"]
    assert after >= before + 0.3
    assert after >= 0.8
