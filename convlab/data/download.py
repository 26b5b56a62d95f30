"""Download MNIST: mirrors in order, checked size and SHA-256, then an atomic rename."""

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from convlab.data.mnist import EXPECTED_FILES
from convlab.data.sources import cache_dir

# Public mirrors holding byte-identical copies of the original files, tried in order
# (the same list torchvision uses; TensorFlow Datasets uses the Google one).
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

# Published compressed size in bytes and SHA-256 of each file, as listed in
# TensorFlow Datasets' checksum file tensorflow_datasets/url_checksums/mnist.txt
# (github.com/tensorflow/datasets). torchvision's MNIST lists the same SHA-256s.
PUBLISHED = {
    "train-images-idx3-ubyte.gz": (
        9912422,
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    "train-labels-idx1-ubyte.gz": (
        28881,
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    "t10k-images-idx3-ubyte.gz": (
        1648877,
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        4542,
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
}

CHUNK = 64 * 1024


class DownloadError(RuntimeError):
    """MNIST could not be downloaded; the message says why and what to do instead."""


class _MirrorFailed(Exception):
    """One mirror did not deliver a good file; the next one is tried."""


def _manual_fix(dest):
    """The sentence telling the user how to get the files without this downloader."""
    names = ", ".join(EXPECTED_FILES)
    return (
        f"Download these four files by other means: {names}; and put them in "
        f"{dest} (or point ConvLab at their folder with --data DIR or CONVLAB_DATA)."
    )


def _sha256(path):
    """Hex SHA-256 of a file, read in chunks so big files need little memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_valid(path, size, sha256):
    """True when the file exists with exactly the published size and checksum."""
    return path.is_file() and path.stat().st_size == size and _sha256(path) == sha256


def _fetch(url, part, name, size, sha256, timeout, progress):
    """Stream url into the .part file, checking size and SHA-256 on the way.

    Raises _MirrorFailed for anything the server did wrong (try the next mirror);
    any other OSError is local trouble (unwritable folder, full disk).
    """
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise _MirrorFailed(f"{url}: {getattr(exc, 'reason', exc)}") from exc
    digest = hashlib.sha256()
    done = 0
    with response, open(part, "wb") as out:
        while True:
            try:
                chunk = response.read(CHUNK)
            except (OSError, http.client.HTTPException) as exc:
                raise _MirrorFailed(
                    f"{url}: broke off after {done} bytes ({exc})"
                ) from exc
            if not chunk:
                break
            done += len(chunk)
            if done > size:
                raise _MirrorFailed(
                    f"{url}: more than the published {size} bytes; wrong file"
                )
            digest.update(chunk)
            out.write(chunk)
            if progress is not None:
                progress(name, done, size)
    if done != size:
        raise _MirrorFailed(f"{url}: {done} bytes, but the published size is {size}")
    if digest.hexdigest() != sha256:
        raise _MirrorFailed(
            f"{url}: SHA-256 {digest.hexdigest()} differs from the published {sha256}"
        )


def _check_writable(dest):
    """Create dest if needed and prove we can write there, before any network use."""
    try:
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=dest):
            pass
    except OSError as exc:
        raise DownloadError(
            f"Cannot write to the folder {dest}: {exc.strerror or exc}. Choose a "
            f"folder you can write to, or fix its permissions."
        ) from exc


def download_mnist(dest=None, mirrors=None, progress=None, timeout=30, expected=None):
    """Download the four MNIST files into dest (default cache_dir()) and return dest.

    mirrors: base URLs tried in order for each file (http(s):// or file://).
    progress: called as progress(file_name, bytes_done, bytes_total); it may raise
    (say, to cancel from a GUI), and the exception propagates after clean-up.
    expected: {file_name: (size, sha256)}, the published values by default; tests
    pass their own to serve tiny fake files.
    Files already present and valid are kept. Each download goes to
    "<name>.part", is checked against the published size and SHA-256, and only then
    renamed into place, so a failure never leaves a half-written file.
    """
    dest = Path(dest) if dest is not None else cache_dir()
    mirrors = MIRRORS if mirrors is None else tuple(mirrors)
    expected = PUBLISHED if expected is None else expected
    _check_writable(dest)
    for name in EXPECTED_FILES:
        size, sha256 = expected[name]
        final = dest / name
        if _is_valid(final, size, sha256):
            if progress is not None:
                progress(name, size, size)
            continue
        part = dest / (name + ".part")
        failures = []
        try:
            for mirror in mirrors:
                url = mirror.rstrip("/") + "/" + name
                try:
                    _fetch(url, part, name, size, sha256, timeout, progress)
                except _MirrorFailed as exc:
                    failures.append(str(exc))
                    continue
                except OSError as exc:
                    # Not the server's fault, so no other mirror would help.
                    raise DownloadError(
                        f"Cannot write {part}: {exc.strerror or exc}. Free some "
                        f"space or choose a folder you can write to."
                    ) from exc
                os.replace(part, final)  # atomic: the name appears only when complete
                break
            else:
                tried = "\n".join(f"  {reason}" for reason in failures)
                raise DownloadError(
                    f"Could not download {name} from any mirror:\n{tried}\n"
                    + _manual_fix(dest)
                )
        finally:
            if part.is_file():
                part.unlink()
    return dest
