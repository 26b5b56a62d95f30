"""Atomic writes clean up after killed writers."""

import os
import time

from convlab import fileio


def make_temporary(folder, name, age_seconds):
    """A leftover file called ``name`` in ``folder``, last written that long ago."""
    path = folder / name
    path.write_bytes(b"x" * 1000)
    then = time.time() - age_seconds
    os.utime(path, (then, then))
    return path


def test_save_removes_our_stale_temporaries_only(tmp_path):
    """A save deletes old temporaries of its target, and nothing else."""
    target = tmp_path / "net.py"
    make_temporary(tmp_path, ".net.py.a1b2c3d4.tmp", 3600)
    kept = [
        make_temporary(tmp_path, ".net.py.e5f6g7h8.tmp", 1),  # a save under way
        make_temporary(tmp_path, ".net.py.x.a1b2c3d4.tmp", 3600),  # other target
        make_temporary(tmp_path, ".other.py.a1b2c3d4.tmp", 3600),
        make_temporary(tmp_path, "notes.tmp", 3600),
        make_temporary(tmp_path, "net.py.a1b2c3d4.tmp", 3600),  # not hidden: not ours
    ]
    fileio.write_text_atomic(target, "print('hi')")
    assert target.read_text() == "print('hi')"
    assert sorted(tmp_path.iterdir()) == sorted([target, *kept])


def test_failed_cleanup_does_not_stop_the_save(tmp_path, monkeypatch):
    """A stale temporary that cannot be deleted is left, and the save still works."""
    stale = make_temporary(tmp_path, ".m.npz.a1b2c3d4.tmp", 3600)

    def refuse(self, missing_ok=False):
        raise PermissionError("read-only")

    monkeypatch.setattr(type(stale), "unlink", refuse)
    fileio.write_atomic(tmp_path / "m.npz", lambda f: f.write(b"data"))
    assert (tmp_path / "m.npz").read_bytes() == b"data" and stale.exists()
