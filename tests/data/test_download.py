"""The MNIST downloader against a local HTTP server and file:// URLs, never the net."""

import functools
import hashlib
import http.server
import os
import socket
import threading

import pytest

from convlab.data.download import PUBLISHED, DownloadError, download_mnist
from convlab.data.mnist import EXPECTED_FILES

# Tiny stand-ins for the four files; their own sizes and checksums are injected.
PAYLOADS = {
    name: f"fake {name} ".encode() * (i + 3) for i, name in enumerate(EXPECTED_FILES)
}
EXPECTED = {n: (len(d), hashlib.sha256(d).hexdigest()) for n, d in PAYLOADS.items()}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files from a folder without logging every request to stderr."""

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A local HTTP server on 127.0.0.1 (free port) serving good/, corrupt/, long/."""
    root = tmp_path_factory.mktemp("www")
    for sub in ("good", "corrupt", "long", "empty"):
        (root / sub).mkdir(parents=True)
    for name, data in PAYLOADS.items():
        (root / "good" / name).write_bytes(data)
        # Same size, one byte changed: only the checksum can tell.
        (root / "corrupt" / name).write_bytes(bytes([data[0] ^ 1]) + data[1:])
        (root / "long" / name).write_bytes(data + b"extra")
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def dead_url():
    """A URL on a local port where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


def assert_complete(dest):
    """All four files are there with the right bytes, and no .part file is left."""
    for name, data in PAYLOADS.items():
        assert (dest / name).read_bytes() == data
    assert sorted(os.listdir(dest)) == sorted(EXPECTED_FILES)


def test_download_from_good_mirror(server, tmp_path):
    """Files arrive whole, progress counts up to each file's size, dest is returned."""
    dest = tmp_path / "cache" / "mnist"
    calls = []
    result = download_mnist(
        dest, [server + "/good/"], lambda *a: calls.append(a), expected=EXPECTED
    )
    assert result == dest
    assert_complete(dest)
    for name, (size, _) in EXPECTED.items():
        done = [d for n, d, total in calls if n == name and total == size]
        assert done[-1] == size and done == sorted(done)


def test_file_url_mirror(tmp_path):
    """A file:// mirror works like an HTTP one."""
    src = tmp_path / "src"
    src.mkdir()
    for name, data in PAYLOADS.items():
        (src / name).write_bytes(data)
    dest = tmp_path / "dest"
    download_mnist(dest, [src.as_uri() + "/"], expected=EXPECTED)
    assert_complete(dest)


def test_falls_back_to_next_mirror(server, dead_url, tmp_path):
    """A dead server, a 404 and a corrupt copy are each skipped for the next mirror."""
    mirrors = [dead_url, server + "/empty/", server + "/corrupt/", server + "/good/"]
    download_mnist(tmp_path, mirrors, expected=EXPECTED)
    assert_complete(tmp_path)


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    """A same-size corrupt file fails the SHA-256 check and nothing is left behind."""
    with pytest.raises(DownloadError, match="SHA-256") as err:
        download_mnist(tmp_path, [server + "/corrupt/"], expected=EXPECTED)
    assert EXPECTED_FILES[0] in str(err.value)
    assert os.listdir(tmp_path) == []


def test_size_mismatch_leaves_nothing(server, tmp_path):
    """A file longer than the published size is refused and removed."""
    with pytest.raises(DownloadError, match="published") as err:
        download_mnist(tmp_path, [server + "/long/"], expected=EXPECTED)
    assert "bytes" in str(err.value)
    assert os.listdir(tmp_path) == []


def test_short_file_is_refused(server, tmp_path):
    """A file shorter than the published size is refused and removed."""
    expected = {name: (size + 1, sha) for name, (size, sha) in EXPECTED.items()}
    with pytest.raises(DownloadError, match="published size"):
        download_mnist(tmp_path, [server + "/good/"], expected=expected)
    assert os.listdir(tmp_path) == []


def test_offline_message(dead_url, tmp_path):
    """With no server reachable the error names all four files and the folder."""
    dest = tmp_path / "here"
    with pytest.raises(DownloadError) as err:
        download_mnist(dest, [dead_url], timeout=5, expected=EXPECTED)
    message = str(err.value)
    assert all(name in message for name in EXPECTED_FILES)
    assert str(dest) in message and dead_url in message
    assert os.listdir(dest) == []


def test_existing_valid_files_are_kept(dead_url, tmp_path):
    """Files already present and valid need no network at all."""
    for name, data in PAYLOADS.items():
        (tmp_path / name).write_bytes(data)
    calls = []
    download_mnist(tmp_path, [dead_url], lambda *a: calls.append(a), expected=EXPECTED)
    assert_complete(tmp_path)
    assert sorted(calls) == sorted((n, s, s) for n, (s, _) in EXPECTED.items())


def test_existing_invalid_file_is_replaced(server, tmp_path):
    """A damaged file already in the folder is downloaded again."""
    (tmp_path / EXPECTED_FILES[1]).write_bytes(b"half a file")
    download_mnist(tmp_path, [server + "/good/"], expected=EXPECTED)
    assert_complete(tmp_path)


def test_interrupted_download_removes_part(server, tmp_path):
    """An exception mid-download (e.g. Ctrl+C) propagates and removes the .part file."""

    def stop(name, done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download_mnist(tmp_path, [server + "/good/"], stop, expected=EXPECTED)
    assert os.listdir(tmp_path) == []


def test_destination_under_a_file(server, tmp_path):
    """A destination that cannot be created gives a clear error before any download."""
    (tmp_path / "file").write_text("not a folder")
    dest = tmp_path / "file" / "mnist"
    with pytest.raises(DownloadError, match="Cannot write to the folder") as err:
        download_mnist(dest, [server + "/good/"], expected=EXPECTED)
    assert str(dest) in str(err.value)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="needs a non-root POSIX user: root may write into read-only folders",
)
def test_read_only_destination(server, tmp_path):
    """A read-only folder gives a clear error naming it, and stays empty."""
    dest = tmp_path / "ro"
    dest.mkdir()
    dest.chmod(0o555)
    try:
        with pytest.raises(DownloadError, match="Cannot write to the folder") as err:
            download_mnist(dest, [server + "/good/"], expected=EXPECTED)
        assert str(dest) in str(err.value)
        assert os.listdir(dest) == []
    finally:
        dest.chmod(0o755)


def test_unwritable_destination_message(server, tmp_path, monkeypatch):
    """A permission error on the folder becomes a DownloadError naming the folder."""

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("convlab.data.download.tempfile.TemporaryFile", refuse)
    with pytest.raises(DownloadError, match="Permission denied") as err:
        download_mnist(tmp_path, [server + "/good/"], expected=EXPECTED)
    assert str(tmp_path) in str(err.value) and "write to" in str(err.value)
    assert os.listdir(tmp_path) == []


def test_write_error_is_not_a_mirror_problem(server, tmp_path):
    """An unwritable .part file is a local write error, not blamed on the mirrors."""
    (tmp_path / (EXPECTED_FILES[0] + ".part")).mkdir()
    with pytest.raises(DownloadError, match="Cannot write") as err:
        download_mnist(tmp_path, [server + "/good/"], expected=EXPECTED)
    assert "mirror" not in str(err.value)
    assert not (tmp_path / EXPECTED_FILES[0]).exists()


def test_published_values():
    """The built-in table has the published compressed sizes for all four files."""
    assert {name: size for name, (size, _) in PUBLISHED.items()} == {
        "train-images-idx3-ubyte.gz": 9912422,
        "train-labels-idx1-ubyte.gz": 28881,
        "t10k-images-idx3-ubyte.gz": 1648877,
        "t10k-labels-idx1-ubyte.gz": 4542,
    }
    assert all(len(sha) == 64 for _, sha in PUBLISHED.values())
