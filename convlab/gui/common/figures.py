"""Figures out of the app: a widget as it is on screen, saved as a PNG image.

The file is written atomically (convlab.fileio), so a full disk or a folder the
student may not write to leaves no half image, and the failure is said in words.
"""

from pathlib import Path

from PyQt5.QtCore import QBuffer, QByteArray, QIODevice

from convlab.fileio import write_atomic
from convlab.gui.common import dialogs

PNG_FILTER = "PNG image (*.png)"


def png_bytes(widget):
    """The widget drawn as it is now, as the bytes of a PNG file."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.WriteOnly)
    if not widget.grab().save(buffer, "PNG"):
        raise OSError("the picture could not be made")
    buffer.close()
    return bytes(data)


def save_png(widget, path):
    """Write the widget's picture to path (a .png), atomically."""
    data = png_bytes(widget)
    write_atomic(path, lambda f: f.write(data))


def export_widget(parent, widget, name):
    """Ask where to save the widget's picture (suggesting name.png) and save it.

    Returns the path written, or "" when cancelled or when it failed (the student
    is told why; nothing else changes).
    """
    path = dialogs.ask_save_file(parent, "Export figure", f"{name}.png", PNG_FILTER)
    if not path:
        return ""
    if Path(path).suffix.lower() != ".png":
        path += ".png"
    try:
        save_png(widget, path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        dialogs.show_message(
            parent, "error", "Could not export the figure",
            f"ConvLab could not write {path}: {reason}.\n\nChoose a folder you may "
            "write to, on a disk with free space. Nothing else changed.")
        return ""
    return path
