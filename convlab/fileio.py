"""Atomic file writing shared by the command line and the GUI (no Qt)."""

import os
import tempfile
from pathlib import Path


def write_text_atomic(path, text: str):
    """Write ``text`` to a temporary file beside ``path``, then rename it over.

    A failure at any point leaves the old file (or none) and no temporary behind,
    never half a file. The new file gets the usual permissions (0666 minus umask).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        # mkstemp makes the file private (0600); give it the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
