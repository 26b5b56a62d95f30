"""Atomic file writing shared by the command line and the GUI (no Qt, no NumPy).

A temporary file beside the target, then one rename: a reader never sees half a
file, and a killed writer leaves only a temporary that the next save removes.
"""

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path

# A temporary older than this was left by a writer that was killed (a live writer
# keeps touching its file); younger ones may belong to a save still under way.
STALE_TEMPORARY_SECONDS = 60


def write_atomic(path, write):
    """Call ``write(f)`` on a binary file beside ``path``, then rename it over.

    A failure at any point leaves the old file (or none) and no temporary behind,
    never half a file. Temporaries that an earlier, killed writer left for this
    same target are removed first. The new file gets the usual permissions
    (0666 minus umask).
    """
    path = Path(path)
    remove_stale_temporaries(path)
    # Same folder as the target, so os.replace is a rename within one file system,
    # which is atomic.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path),
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private (0600); give it the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path, text: str):
    """Write ``text`` (UTF-8) to ``path`` atomically, as write_atomic does."""
    write_atomic(path, lambda f: f.write(text.encode("utf-8")))


def _temp_prefix(path):
    return f".{path.name}."


def remove_stale_temporaries(path, max_age=STALE_TEMPORARY_SECONDS):
    """Delete our temporaries for ``path`` that are older than ``max_age`` seconds.

    Only names write_atomic makes for this very target count (".NAME.<random>.tmp",
    the random part has no dots); other files are never touched. A temporary that
    cannot be removed is left: cleaning up must never make a save fail.
    """
    path = Path(path)
    # mkstemp's random part is letters, digits and "_".
    ours = re.compile(re.escape(_temp_prefix(path)) + r"[a-z0-9_]+\.tmp")
    cutoff = time.time() - max_age
    try:
        candidates = list(path.parent.iterdir())
    except OSError:
        return
    for candidate in candidates:
        if not ours.fullmatch(candidate.name):
            continue
        with contextlib.suppress(OSError):
            if candidate.stat().st_mtime < cutoff:
                candidate.unlink()
