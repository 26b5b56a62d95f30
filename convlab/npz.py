"""Reading .npz archives safely (no Qt).

Every size the archive declares is checked before anything is allocated, so a
small hostile file cannot make ConvLab allocate gigabytes or load Python objects.
"""

import math
import zipfile
import zlib
from pathlib import Path

import numpy as np

# ConvLab writes .npz files uncompressed, and random float weights barely compress,
# so a real archive unpacks to about its own size. Allow 20 times (plus a small
# allowance for tiny, well-compressed files) and refuse "zip bombs" beyond that.
MAX_UNPACK_RATIO = 20
MIN_UNPACK_ALLOWANCE = 64 * 2**20

_NPY_MAGIC = b"\x93NUMPY"
_READ_PIECE = 16 * 2**20


class ArchiveError(ValueError):
    """A .npz archive that cannot be read safely; the message says why ("it ...")."""


def read_npz(path):
    """Every array in the .npz at ``path``, by name without ".npy", read now.

    Sizes are checked before anything is allocated: the archive may unpack to at
    most MAX_UNPACK_RATIO times its real size, and each array's header (shape times
    item size) must fit in the bytes its entry holds. Arrays of Python objects are
    refused (loading them could run code). Raises ArchiveError for any problem.
    """
    path = Path(path)
    try:
        if not zipfile.is_zipfile(path):
            raise ArchiveError(_not_zip_problem(path))
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_unpacked_size(members, path.stat().st_size)
            arrays = {}
            for info in members:
                with archive.open(info) as member:
                    arrays[info.filename.removesuffix(".npy")] = _read_member(
                        member, info)
            return arrays
    except ArchiveError:
        raise
    # RuntimeError: an encrypted entry; NotImplementedError: an unknown compression.
    except (zipfile.BadZipFile, EOFError, zlib.error, ValueError, RuntimeError,
            NotImplementedError) as exc:
        raise ArchiveError(f"it is a damaged .npz archive ({exc})") from exc
    except OSError as exc:
        raise ArchiveError(f"it cannot be read ({exc.strerror or exc})") from exc


def _not_zip_problem(path):
    """Why a file that is not a zip archive is not a .npz, in words."""
    with open(path, "rb") as f:
        start = f.read(len(_NPY_MAGIC))
    if start == _NPY_MAGIC:
        return "it holds a single NumPy array (.npy), not a .npz archive"
    if start.startswith(b"PK"):
        return ("it is not a complete .npz archive; it is probably truncated "
                "(cut short) or damaged")
    return "it is not a .npz (zip) archive: damaged, or another kind of file"


def _check_unpacked_size(members, file_size):
    declared = sum(info.file_size for info in members)
    allowed = max(MIN_UNPACK_ALLOWANCE, MAX_UNPACK_RATIO * file_size)
    if declared > allowed:
        raise ArchiveError(
            f"it would unpack to {declared:,} bytes from a file of {file_size:,} "
            f"bytes, far more than any real .npz (at most {MAX_UNPACK_RATIO} times "
            "its size); it is damaged or made to exhaust memory")


def _read_member(member, info):
    """One .npy entry of an archive as an array, its header checked first."""
    name = info.filename
    try:
        version = np.lib.format.read_magic(member)
    except ValueError as exc:
        raise ArchiveError(f"its entry {name!r} is not a NumPy array") from exc
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise ArchiveError(f"its entry {name!r} uses .npy format version "
                           f"{version}, which ConvLab does not read")
    if dtype.hasobject:
        raise ArchiveError(f"its entry {name!r} holds Python objects, which ConvLab "
                           "never loads from a file (they could run code)")
    # Python ints: a product of huge dimensions must not wrap around as int64 would.
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    available = info.file_size - member.tell()
    if max(count, nbytes) > available:
        raise ArchiveError(
            f"its entry {name!r} declares {count:,} values of {dtype} "
            f"({nbytes:,} bytes) but holds only {max(available, 0):,} bytes")
    data = bytearray(nbytes)  # bytearray, so the array below is writable
    view = memoryview(data)
    done = 0
    # In pieces: one read of everything would hold a second copy of the data.
    while done < nbytes:
        got = member.readinto(view[done:done + _READ_PIECE])
        if not got:
            raise ArchiveError(f"its entry {name!r} ends early; the file is "
                               "truncated")
        done += got
    flat = np.frombuffer(data, dtype=dtype, count=count)
    return flat.reshape(shape, order="F" if fortran_order else "C")
