"""Starting the app: command-line options, the QApplication, the window, screenshots.

`convlab-gui`, `convlab gui` and `python main.py` all come here. Other tools (the GUI
benchmark) build the same window with::

    app = make_application([])
    window = create_window(model_path=None, data_dir=None)

Qt is imported only inside the functions, so that run() can first say which system
library is missing when Qt cannot start (see qt_libraries.py).
"""

import argparse
import os
import sys

from convlab import __version__
from convlab.gui import qt_libraries
from convlab.gui.desktop_entry import DesktopEntryError, install_desktop_entry
from convlab.resources import ICON_PNG, STYLESHEET, resource_path

APP_ID = "convlab"  # the desktop entry's name, which desktops match windows to


def parse_args(argv, prog=None):
    """The command-line options of the window (`convlab-gui`, `python main.py`)."""
    from convlab.gui.main_window import TABS

    parser = argparse.ArgumentParser(
        prog=prog, description="ConvLab: draw a digit and watch a CNN read it.")
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {__version__}")
    parser.add_argument("--model", metavar="FILE", help="a model file (.npz) to open")
    parser.add_argument("--data", metavar="DIR", help="a folder holding MNIST")
    parser.add_argument("--screenshot", metavar="PATH",
                        help="render the window offscreen, save it as a PNG and exit")
    parser.add_argument("--tab", choices=TABS, default="network",
                        help="the tab to show in the screenshot (default: network)")
    parser.add_argument("--size", metavar="WxH", type=_window_size, default=(1280, 800),
                        help="the window's size in the screenshot (default: 1280x800)")
    parser.add_argument("--install-desktop-entry", action="store_true",
                        help="add ConvLab to your desktop's applications menu and exit")
    return parser.parse_args(argv)


def _window_size(text):
    """'1024x768' as (1024, 768), for --size."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size: write width x height, e.g. 1024x768") from None
    if not (320 <= width <= 7680 and 240 <= height <= 4320):
        raise argparse.ArgumentTypeError(
            f"{text!r}: the width must be 320..7680 and the height 240..4320")
    return width, height


def configure_pyqtgraph():
    """Global pyqtgraph settings, the same for every view (safe to call again)."""
    import pyqtgraph as pg

    # Images are (row, column) arrays like every NumPy image in ConvLab.
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True,
                        background="#fbfbfd", foreground="#333")


def make_application(argv):
    """The QApplication with ConvLab's names, stylesheet and pyqtgraph settings."""
    from PyQt5.QtWidgets import QApplication

    from convlab.gui.common.collector import collect_in_gui_thread

    app = QApplication.instance() or _new_application(list(argv) or ["convlab"])
    app.setOrganizationName("ConvLab")
    app.setApplicationName("ConvLab")
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())  # dialogs' icon too
    # Style and stylesheet only when they change: setting either re-polishes every
    # widget of the application, and a second window (tests, screenshots) would
    # have Qt walk the first one's widgets as they are being destroyed.
    # (Once a stylesheet is set, app.style() is Qt's stylesheet style, whatever
    # the base style, so the application itself remembers the one it was given.)
    if app.property("convlabStyle") != "Fusion":
        app.setStyle("Fusion")
        app.setProperty("convlabStyle", "Fusion")
    style = resource_path(STYLESHEET)
    if style.is_file():
        text = style.read_text(encoding="utf-8")
        if app.styleSheet() != text:
            app.setStyleSheet(text)
    configure_pyqtgraph()
    collect_in_gui_thread(app)
    return app


def _new_application(argv):
    """A QApplication; should Qt find no platform plugin, it stops the process, so
    its last words are followed by what to install."""
    from PyQt5 import QtCore
    from PyQt5.QtWidgets import QApplication

    def on_qt_message(kind, context, message):
        # Qt's own format: "category: message", the default category left out.
        category = context.category if context.category not in (None, "default") else ""
        sys.stderr.write(f"{category}: {message}\n" if category else f"{message}\n")
        if kind == QtCore.QtFatalMsg and "platform plugin" in message:
            sys.stderr.write(qt_libraries.plugin_failure_advice(os.environ) + "\n")
        sys.stderr.flush()

    QtCore.qInstallMessageHandler(on_qt_message)
    try:
        return QApplication(argv)
    finally:
        QtCore.qInstallMessageHandler(None)  # Qt's own handler again


def app_icon():
    """ConvLab's icon (resources/icons, drawn by tools/make_icon.py)."""
    from PyQt5.QtGui import QIcon

    return QIcon(str(resource_path(ICON_PNG)))


def create_window(model_path=None, data_dir=None, restore=True):
    """A MainWindow with its model and data loaded (not shown yet)."""
    from convlab.gui.main_window import MainWindow

    configure_pyqtgraph()
    window = MainWindow()
    window.setWindowIcon(app_icon())
    window.controller.load_startup(model_path, data_dir, restore=restore)
    return window


def demo_digit(canvas):
    """Draw a handwritten-looking 3 on the canvas, for screenshots."""
    canvas.set_brush_width(22)
    canvas.add_stroke([(95, 70), (120, 52), (160, 48), (190, 65), (192, 100),
                       (170, 128), (135, 138)])
    canvas.add_stroke([(135, 138), (175, 148), (198, 180), (190, 215), (155, 235),
                       (115, 232), (88, 212)])


def save_screenshot(window, path, tab, size=(1280, 800)):
    """Show the window offscreen at size (width, height), draw a demo digit and save
    a PNG."""
    from PyQt5.QtWidgets import QApplication

    window.settings.remember = False
    window.resize(*size)
    window.show_tab(tab)
    window.show()
    if window.controller.current_input is None:
        demo_digit(window.input_panel.canvas)
    window.controller.refresh_now()
    for _ in range(5):
        QApplication.processEvents()
    if not window.grab().save(str(path), "PNG"):
        raise OSError(f"could not write {path}")


def run(argv=None, prog=None):
    """Run ConvLab's window (or install its desktop entry); returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    prog = prog or os.path.basename(sys.argv[0]) or "convlab-gui"
    try:
        from PyQt5 import QtWidgets  # noqa: F401 (only: does Qt load at all?)
    except ImportError as exc:
        print(qt_libraries.import_failure_advice(exc), file=sys.stderr)
        return 1
    args = parse_args(argv, prog)
    if args.install_desktop_entry:
        return _install_desktop_entry(prog)
    if args.screenshot:
        # No screen needed: render into memory.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    problem = qt_libraries.startup_problem(os.environ)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from convlab.gui.common import error_hook
    from convlab.nn._malloc import keep_freed_memory

    keep_freed_memory()  # the app trains: reuse freed arrays (see _malloc.py)
    app = make_application([sys.argv[0]])
    shown = []  # the window, once it exists, as the parent of error messages
    error_hook.install(lambda: shown[0] if shown else None)
    window = create_window(args.model, args.data, restore=not args.screenshot)
    shown.append(window)
    if args.screenshot:
        # Which weights the picture shows: a copy of ConvLab that lost its bundled
        # model says "untrained weights" here.
        print(f"model: {window.controller.model_files.note}")
        try:
            save_screenshot(window, args.screenshot, args.tab, args.size)
        finally:
            window.close()
        print(f"saved {args.screenshot}")
        return 0
    window.show()
    return app.exec_()


def _install_desktop_entry(prog):
    """--install-desktop-entry: install it, say where, or say why not."""
    try:
        written = install_desktop_entry()
    except DesktopEntryError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"installed {path}")
    print("ConvLab is now in your applications menu.")
    return 0
