"""Exporting a picture of the Network tab (a column's maps, a filter overview) as
PNG or SVG, with pyqtgraph's own exporters, written atomically.

A picture that cannot be written (a read-only folder, a full disk) gets a message
saying why and what to do; nothing half-written is left behind.
"""

from pathlib import Path

from PyQt5.QtCore import QBuffer, QByteArray, QIODevice, QStandardPaths
from pyqtgraph.exporters import ImageExporter, SVGExporter

from convlab.fileio import write_atomic
from convlab.gui.common import dialogs

FILE_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"
MIN_EXPORT_WIDTH = 800  # pixels: a small map exported at its screen size is a speck


def figure_bytes(item, suffix):
    """The picture of a pyqtgraph item as PNG (suffix ".png") or SVG bytes."""
    if suffix == ".svg":
        return SVGExporter(item).export(toBytes=True)
    exporter = ImageExporter(item)
    width = exporter.parameters()["width"]
    if width < MIN_EXPORT_WIDTH:
        # Setting the width makes the exporter keep the picture's aspect ratio.
        exporter.parameters()["width"] = MIN_EXPORT_WIDTH
    image = exporter.export(toBytes=True)  # a QImage
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError("the picture could not be encoded as PNG")
    return bytes(data)


def write_figure(parent, item, path):
    """Write item's picture to path (PNG unless it ends in .svg); True if written,
    else a message says why and False."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg"):
        path = path.with_name(path.name + ".png")
    try:
        data = figure_bytes(item, path.suffix.lower())
        write_atomic(path, lambda f: f.write(data))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        dialogs.show_message(
            parent, "error", "Export failed",
            f"The picture could not be saved as {path}: {reason}. Choose a folder "
            "you can write to, such as your Pictures or Documents folder, and try "
            "again.")
        return False
    return True


def export_figure(parent, item, name):
    """Ask where to save item's picture (name: a suggested file name) and save it."""
    folder = QStandardPaths.writableLocation(QStandardPaths.PicturesLocation)
    path = dialogs.ask_save_file(parent, "Export picture",
                                 str(Path(folder) / f"{name}.png"), FILE_FILTER)
    return write_figure(parent, item, path) if path else False


def offer_export(menu, parent, item, name, pos):
    """Pop up menu at screen position pos offering to export item's picture; name
    (e.g. a column's title) becomes the suggested file name."""
    menu.clear()
    action = menu.addAction("Export picture as PNG or SVG…")
    name = "".join(ch if ch.isalnum() else "-" for ch in name.lower())
    action.triggered.connect(lambda: export_figure(parent, item, name))
    menu.popup(pos)
