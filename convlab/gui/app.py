"""Starting the app: command-line options, the QApplication, the window, screenshots.

Other tools (the GUI benchmark) build the same window with::

    app = make_application([])
    window = create_window(model_path=None, data_dir=None)
"""

import argparse
import os
import sys
from pathlib import Path

import pyqtgraph as pg

from convlab.gui.common import error_hook
from convlab.gui.main_window import TABS
from convlab.nn._malloc import keep_freed_memory

STYLE = Path(__file__).resolve().parents[2] / "resources" / "style.qss"


def parse_args(argv):
    """The command-line options of `python main.py`."""
    parser = argparse.ArgumentParser(
        prog="main.py", description="ConvLab: draw a digit and watch a CNN read it.")
    parser.add_argument("--model", metavar="FILE", help="a model file (.npz) to open")
    parser.add_argument("--data", metavar="DIR", help="a folder holding MNIST")
    parser.add_argument("--screenshot", metavar="PATH",
                        help="render the window offscreen, save it as a PNG and exit")
    parser.add_argument("--tab", choices=TABS, default="network",
                        help="the tab to show in the screenshot (default: network)")
    return parser.parse_args(argv)


def configure_pyqtgraph():
    """Global pyqtgraph settings, the same for every view (safe to call again)."""
    # Images are (row, column) arrays like every NumPy image in ConvLab.
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True,
                        background="#fbfbfd", foreground="#333")


def make_application(argv):
    """The QApplication with ConvLab's names, stylesheet and pyqtgraph settings."""
    from PyQt5.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(list(argv) or ["convlab"])
    app.setOrganizationName("ConvLab")
    app.setApplicationName("ConvLab")
    app.setStyle("Fusion")
    if STYLE.is_file():
        app.setStyleSheet(STYLE.read_text(encoding="utf-8"))
    configure_pyqtgraph()
    return app


def create_window(model_path=None, data_dir=None, restore=True):
    """A MainWindow with its model and data loaded (not shown yet)."""
    from convlab.gui.main_window import MainWindow

    configure_pyqtgraph()
    window = MainWindow()
    window.controller.load_startup(model_path, data_dir, restore=restore)
    return window


def demo_digit(canvas):
    """Draw a handwritten-looking 3 on the canvas, for screenshots."""
    canvas.set_brush_width(22)
    canvas.add_stroke([(95, 70), (120, 52), (160, 48), (190, 65), (192, 100),
                       (170, 128), (135, 138)])
    canvas.add_stroke([(135, 138), (175, 148), (198, 180), (190, 215), (155, 235),
                       (115, 232), (88, 212)])


def save_screenshot(window, path, tab):
    """Show the window offscreen at 1280x800, draw a demo digit and save a PNG."""
    from PyQt5.QtWidgets import QApplication

    window.settings.remember = False
    window.resize(1280, 800)
    window.show_tab(tab)
    window.show()
    if window.controller.current_input is None:
        demo_digit(window.input_panel.canvas)
    window.controller.refresh_now()
    for _ in range(5):
        QApplication.processEvents()
    if not window.grab().save(str(path), "PNG"):
        raise OSError(f"could not write {path}")


def run(argv=None):
    """Run ConvLab; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    keep_freed_memory()  # the app trains: reuse freed arrays (see _malloc.py)
    if args.screenshot:
        # No screen needed: render into memory.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = make_application([sys.argv[0]])
    shown = []  # the window, once it exists, as the parent of error messages
    error_hook.install(lambda: shown[0] if shown else None)
    window = create_window(args.model, args.data, restore=not args.screenshot)
    shown.append(window)
    if args.screenshot:
        try:
            save_screenshot(window, args.screenshot, args.tab)
        finally:
            window.close()
        print(f"saved {args.screenshot}")
        return 0
    window.show()
    return app.exec_()
