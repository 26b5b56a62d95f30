"""Put ConvLab in the desktop's applications menu (freedesktop.org desktop entry).

`convlab-gui --install-desktop-entry` copies resources/convlab.desktop into the
user's applications folder, with an Exec line that starts this very installation,
and the icon into the user's hicolor icon theme. No Qt: it works without a display.
"""

import importlib.metadata
import os
import re
import sys
from pathlib import Path

from convlab.fileio import write_atomic
from convlab.resources import DESKTOP_ENTRY, ICON_PNG, ICON_SVG, resource_path

APP_ID = "convlab"  # the desktop file's and the icon's name
# Characters that make an Exec argument need quotes (desktop entry specification).
RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


class DesktopEntryError(Exception):
    """The entry could not be installed; the message says why and what to do."""


def data_home(environ=None):
    """$XDG_DATA_HOME when it is an absolute path (the specification ignores a
    relative one), else ~/.local/share."""
    environ = os.environ if environ is None else environ
    value = environ.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".local" / "share"


def launch_command():
    """(argv that starts this installation's window, the folder to start it in).

    An installed ConvLab has its convlab-gui script beside the interpreter (a
    virtual environment's bin folder is not on a desktop launcher's PATH); a source
    checkout runs `python -m convlab gui` from the checkout's folder.
    """
    script = Path(sys.executable).parent / "convlab-gui"
    if script.is_file():
        return [str(script)], None
    try:
        importlib.metadata.distribution("convlab")
        folder = None  # installed: importable from any folder
    except importlib.metadata.PackageNotFoundError:
        folder = str(Path(__file__).resolve().parents[2])
    return [sys.executable, "-m", "convlab", "gui"], folder


def exec_quote(arg):
    """One Exec argument, quoted and escaped as the specification asks."""
    arg = arg.replace("%", "%%")  # a lone % would start a field code such as %f
    if RESERVED.isdisjoint(arg):
        return arg
    return '"' + re.sub(r'(["`$\\])', r"\\\1", arg) + '"'


def desktop_value(text):
    """A string value of a desktop file key (backslashes doubled, as the format's
    escapes ask)."""
    return text.replace("\\", "\\\\")


def entry_text(template, argv, folder):
    """The desktop file: template with Exec for argv and, when given, Path=folder."""
    exec_line = "Exec=" + desktop_value(" ".join(exec_quote(a) for a in argv))
    lines = [exec_line if line.startswith("Exec=") else line
             for line in template.splitlines()]
    if folder:
        lines.insert(lines.index(exec_line) + 1, "Path=" + desktop_value(folder))
    return "\n".join(lines) + "\n"


def install_desktop_entry(environ=None, command=None):
    """Install the desktop entry and the icons; returns the files written.

    command: (argv, working folder) to launch, by default this installation's.
    Raises DesktopEntryError, saying which folder failed and why.
    """
    if not sys.platform.startswith("linux"):
        raise DesktopEntryError("desktop entries are for Linux desktops; on this "
                                "system start ConvLab with the convlab-gui command")
    argv, folder = command or launch_command()
    home = data_home(environ)
    try:
        template = resource_path(DESKTOP_ENTRY).read_text(encoding="utf-8")
        icons = [(resource_path(name).read_bytes(), size, Path(name).suffix)
                 for name, size in ((ICON_SVG, "scalable"), (ICON_PNG, "256x256"))]
    except OSError as exc:
        raise DesktopEntryError(f"this ConvLab lacks its bundled desktop file or icon "
                                f"({exc.strerror or exc}): reinstall it") from exc
    # The icons first, so the menu never shows an entry whose icon is missing.
    targets = [(home / "icons" / "hicolor" / size / "apps" / (APP_ID + suffix), data)
               for data, size, suffix in icons]
    text = entry_text(template, argv, folder).encode("utf-8")
    targets.append((home / "applications" / (APP_ID + ".desktop"), text))
    for path, data in targets:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, lambda f, data=data: f.write(data))
        except OSError as exc:
            raise DesktopEntryError(
                f"could not write {path}: {exc.strerror or exc}. Make sure {home} is "
                "a folder you can write to, or set XDG_DATA_HOME to one") from exc
    return [path for path, _ in targets]
