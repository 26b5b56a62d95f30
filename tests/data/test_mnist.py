"""The MNIST readers: tiny files round trip, and each kind of damage has its error."""

import gzip
import io
import zipfile

import numpy as np
import pytest
from idx_files import idx_bytes, tiny_set, write, write_folder

from convlab.data.mnist import (
    EXPECTED_FILES,
    DataNotFoundError,
    MnistFormatError,
    load_mnist,
    load_npz,
    read_idx,
)

# Class counts from the README beside the real files.
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
TRAIN_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]


@pytest.mark.parametrize("gz", [True, False])
def test_round_trip_folder(tmp_path, gz):
    """Tiny IDX files, gzipped or raw, read back exactly as written."""
    sets = write_folder(tmp_path, gz=gz)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images, labels = load_mnist(tmp_path, split)
        assert images.dtype == np.uint8 and labels.dtype == np.uint8
        np.testing.assert_array_equal(images, sets[prefix][0])
        np.testing.assert_array_equal(labels, sets[prefix][1])


def test_read_idx_shapes(tmp_path):
    """read_idx returns (N, rows, cols) for images and (N,) for labels."""
    images, labels = tiny_set(4, 2)
    path_i = write(tmp_path / "i.gz", idx_bytes(images))
    path_l = write(tmp_path / "l", idx_bytes(labels))
    assert read_idx(path_i).shape == (4, 28, 28)
    assert read_idx(path_l).shape == (4,)


def test_wrong_magic(tmp_path):
    """A foreign magic number is rejected, naming the file and the number."""
    images, _ = tiny_set(2, 0)
    path = write(tmp_path / "bad.gz", idx_bytes(images, magic=0x0D03))
    with pytest.raises(MnistFormatError) as err:
        read_idx(path)
    message = str(err.value)
    assert str(path) in message and "3331" in message and "2051" in message


@pytest.mark.parametrize("extra", [-100, -1, 1, 50])
def test_length_mismatch(tmp_path, extra):
    """Missing or extra data bytes are called truncated / extra, with the counts."""
    images, _ = tiny_set(3, 0)
    data = idx_bytes(images)
    data = data[:extra] if extra < 0 else data + b"\0" * extra
    path = write(tmp_path / "train-images-idx3-ubyte", data)
    with pytest.raises(MnistFormatError) as err:
        read_idx(path)
    message = str(err.value)
    assert str(path) in message
    assert "2352" in message and str(2352 + extra) in message  # promised vs present
    assert ("the file is truncated" if extra < 0
            else "the file has extra bytes at the end") in message


def idx_header(magic, *dims):
    """An IDX header: the magic number, then one big-endian 4-byte size per dim."""
    return b"".join(n.to_bytes(4, "big") for n in (magic, *dims))


@pytest.mark.parametrize("gz", [False, True])
def test_header_sizes_that_wrap_around_are_refused(tmp_path, gz):
    """Dimensions whose product is 2**64 (0 as int64) are compared as real numbers."""
    path = write(tmp_path / ("images.gz" if gz else "images"),
                 idx_header(2051, 2**31, 2**31, 4) + bytes(100))
    with pytest.raises(MnistFormatError) as err:
        read_idx(path)
    message = str(err.value)
    assert str(path) in message and "18446744073709551616 bytes" in message
    assert "the file is truncated" in message or "more than any MNIST" in message


def test_gzip_declaring_gigabytes_is_refused_unread(tmp_path):
    """A small gzip whose header declares 4 GB is refused before unpacking its data."""
    path = write(tmp_path / "images.gz",
                 idx_header(2051, 5_000_000, 28, 28) + bytes(2**20))
    with pytest.raises(MnistFormatError, match="more than any MNIST file") as err:
        read_idx(path)
    assert str(path) in str(err.value) and "3920000000 bytes" in str(err.value)


def test_gzip_with_extra_data_is_refused_without_reading_it_all(tmp_path):
    """Extra bytes after a gzipped IDX body are reported as extra bytes."""
    images, _ = tiny_set(3, 0)
    path = write(tmp_path / "images.gz", idx_bytes(images) + bytes(10 * 2**20))
    with pytest.raises(MnistFormatError, match="the file has extra bytes") as err:
        read_idx(path)
    assert "more than 2352" in str(err.value)


def test_header_too_short(tmp_path):
    """A file shorter than an IDX header says so."""
    path = write(tmp_path / "x", b"\0\0\x08")
    with pytest.raises(MnistFormatError, match="too short"):
        read_idx(path)


def test_truncated_gzip(tmp_path):
    """A gzip file cut short is reported as truncated, not as a raw zlib error."""
    images, _ = tiny_set(3, 0)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(images))[:-30])
    with pytest.raises(MnistFormatError, match="truncated") as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_corrupt_gzip(tmp_path):
    """Garbage inside a gzip stream is reported as corrupt, naming the file."""
    images, _ = tiny_set(3, 0)
    data = bytearray(gzip.compress(idx_bytes(images)))
    # Past the IDX header: the header is read (and checked) before the rest.
    data[100:140] = bytes(40)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(MnistFormatError, match="corrupt gzip") as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_image_label_count_mismatch(tmp_path):
    """5 images with 4 labels is an error naming both files and both counts."""
    write_folder(tmp_path)
    _, labels = tiny_set(4, 9)
    write(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(labels))
    with pytest.raises(MnistFormatError) as err:
        load_mnist(tmp_path, "train")
    message = str(err.value)
    assert "5 images but 4 labels" in message
    assert "train-images-idx3-ubyte.gz" in message
    assert "train-labels-idx1-ubyte.gz" in message


def test_wrong_image_size(tmp_path):
    """Images that are not 28x28 are rejected with the shape found."""
    write_folder(tmp_path)
    write(tmp_path / "t10k-images-idx3-ubyte.gz", idx_bytes(np.zeros((3, 32, 32))))
    with pytest.raises(MnistFormatError, match=r"\(3, 32, 32\)"):
        load_mnist(tmp_path, "test")


def test_swapped_files(tmp_path):
    """A label file under an image file's name is called out as swapped."""
    write_folder(tmp_path)
    labels = (tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(labels)
    with pytest.raises(MnistFormatError, match="swapped"):
        load_mnist(tmp_path, "test")


def test_label_out_of_range(tmp_path):
    """A label of 10 or more is rejected."""
    write_folder(tmp_path)
    write(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes([1, 2, 12]))
    with pytest.raises(MnistFormatError, match="12"):
        load_mnist(tmp_path, "test")


def test_missing_files(tmp_path):
    """An empty folder raises DataNotFoundError naming the four files and the folder."""
    with pytest.raises(DataNotFoundError) as err:
        load_mnist(tmp_path, "train")
    message = str(err.value)
    assert str(tmp_path) in message
    assert all(name in message for name in EXPECTED_FILES)


def test_bad_split(tmp_path):
    """An unknown split name is a ValueError listing the choices."""
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_mnist(tmp_path, "validation")


def test_npz_round_trip(tmp_path):
    """The Keras mnist.npz layout loads when the IDX files are absent."""
    train, test = tiny_set(5, 0), tiny_set(3, 1)
    np.savez(
        tmp_path / "mnist.npz",
        x_train=train[0], y_train=train[1], x_test=test[0], y_test=test[1],
    )
    images, labels = load_mnist(tmp_path, "test")
    np.testing.assert_array_equal(images, test[0])
    np.testing.assert_array_equal(labels, test[1])


def test_npz_missing_key(tmp_path):
    """An npz without y_test names the missing array."""
    train, test = tiny_set(5, 0), tiny_set(3, 1)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=train[0], y_train=train[1], x_test=test[0])
    with pytest.raises(MnistFormatError, match="y_test"):
        load_npz(path, "test")


def test_npz_count_mismatch(tmp_path):
    """An npz whose x_train and y_train differ in length is rejected."""
    train = tiny_set(5, 0)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=train[0], y_train=train[1][:4])
    with pytest.raises(MnistFormatError, match="5 images but 4 labels"):
        load_npz(path, "train")


def test_npz_corrupt(tmp_path):
    """A damaged npz gives MnistFormatError naming the file."""
    path = tmp_path / "mnist.npz"
    path.write_bytes(b"PK\x03\x04 definitely not a zip archive")
    with pytest.raises(MnistFormatError) as err:
        load_npz(path, "train")
    assert str(path) in str(err.value)


def test_npz_declaring_huge_array_is_refused(tmp_path):
    """An npz entry whose header declares billions of pixels is refused unread."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False,
                 "shape": (50_000_000, 28, 28)})
    path = tmp_path / "mnist.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", header.getvalue() + bytes(100))
        archive.writestr("y_train.npy", header.getvalue())
    with pytest.raises(MnistFormatError, match="declares 39,200,000,000 values") as err:
        load_npz(path, "train")
    assert str(path) in str(err.value)


def test_npz_wrong_dtype(tmp_path):
    """Float images in an npz are rejected: MNIST is uint8."""
    train = tiny_set(5, 0)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=train[0].astype(np.float32), y_train=train[1])
    with pytest.raises(MnistFormatError, match="uint8"):
        load_npz(path, "train")


@pytest.mark.parametrize(
    ("split", "counts"), [("test", TEST_COUNTS), ("train", TRAIN_COUNTS)]
)
def test_real_files(mnist_dir, split, counts):
    """The real files load with 10000 digits each and the README's class counts."""
    images, labels = load_mnist(mnist_dir, split)
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    assert np.bincount(labels, minlength=10).tolist() == counts
    assert images.max() == 255 and images.min() == 0
