"""A Playground map as a figure file: PNG or SVG, through pyqtgraph's exporters.

figure_bytes(item, kind) draws a pyqtgraph item (a map's picture) as PNG or SVG;
save_figure(item, path) writes it atomically, the format from the file's suffix;
export_figure(parent, item, kind, name) asks where (common.dialogs) and says what
went wrong when it cannot write.
"""

import re
from pathlib import Path

import pyqtgraph.exporters as exporters
from PyQt5.QtCore import QBuffer, QIODevice

from convlab.fileio import write_atomic
from convlab.gui.common import dialogs

FILTERS = {"png": "PNG image (*.png)", "svg": "SVG drawing (*.svg)"}
PNG_WIDTH = 600  # pixels: sharper than on screen, still small enough for a report


def figure_bytes(item, kind):
    """The file contents of `item` drawn as "png" or "svg"."""
    if kind == "svg":
        return exporters.SVGExporter(item).export(toBytes=True)
    if kind != "png":
        raise ValueError(f"unknown figure format {kind!r}: use png or svg")
    exporter = exporters.ImageExporter(item)
    exporter.parameters()["width"] = PNG_WIDTH
    image = exporter.export(toBytes=True)
    buffer = QBuffer()
    buffer.open(QIODevice.WriteOnly)
    if image is None or image.isNull() or not image.save(buffer, "PNG"):
        raise OSError("the picture could not be drawn as a PNG image")
    return bytes(buffer.data())


def save_figure(item, path):
    """Write `item` to `path` as PNG or SVG, by its suffix; OSError if it cannot."""
    kind = Path(path).suffix.lower().lstrip(".")
    data = figure_bytes(item, kind)
    write_atomic(path, lambda f: f.write(data))


def default_name(title, kind):
    """A file name from a map's title: "Convolution output" -> convolution_output."""
    stem = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_") or "map"
    return f"{stem}.{kind}"


def export_figure(parent, item, kind, title):
    """Ask where to save `item` as `kind` and save it; returns the path or ""."""
    path = dialogs.ask_save_file(parent, f"Export {title} as {kind.upper()}",
                                 default_name(title, kind), FILTERS[kind])
    if not path:
        return ""
    if not path.lower().endswith(f".{kind}"):
        path += f".{kind}"
    try:
        save_figure(item, path)
    except (OSError, ValueError) as exc:
        dialogs.show_message(
            parent, "error", "Could not export the map",
            f"{path}\n\n{exc}\n\nPick a folder you can write to and try again.")
        return ""
    return path
