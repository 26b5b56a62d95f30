"""The system libraries Qt needs on Linux, and what to say when some are missing.

PyQt5's wheels bring Qt itself but not the X11 (xcb) and graphics libraries of the
system. Without them Qt stops the whole process while the QApplication is made
("Could not load the Qt platform plugin "xcb"") and says nothing about what to
install. So the app looks for those libraries first, the way Qt will load them
(dlopen by name), and names the packages to install. No Qt here: this runs before Qt
is imported.
"""

import ctypes
import re
import sys

# The README's set-up command installs these (Debian/Ubuntu package names): what the
# xcb platform plugin and Qt's GUI library load, and OpenGL/EGL, which Qt's OpenGL
# code loads when it needs it.
APT_PACKAGES = (
    "libxcb-icccm4", "libxcb-keysyms1", "libxcb-xinerama0", "libxcb-image0",
    "libxcb-render-util0", "libxcb-xkb1", "libxkbcommon-x11-0", "libxcb-randr0",
    "libxcb-shape0", "libgl1", "libegl1", "libfontconfig1", "libdbus-1-3",
    "libxkbcommon0", "libglib2.0-0",
)

# (shared library, its package) for the libraries Qt cannot start without: those
# of every platform (Qt's GUI library links them), and those of the xcb plugin,
# the one that opens windows on an X11 desktop.
CORE_LIBRARIES = (
    ("libGL.so.1", "libgl1"), ("libfontconfig.so.1", "libfontconfig1"),
    ("libdbus-1.so.3", "libdbus-1-3"), ("libxkbcommon.so.0", "libxkbcommon0"),
    ("libglib-2.0.so.0", "libglib2.0-0"),
)
XCB_LIBRARIES = (
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-xinerama.so.0", "libxcb-xinerama0"),
    ("libxcb-image.so.0", "libxcb-image0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxcb-xkb.so.1", "libxcb-xkb1"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libxcb-randr.so.0", "libxcb-randr0"),
    ("libxcb-shape.so.0", "libxcb-shape0"),
)
PACKAGE_OF = dict(CORE_LIBRARIES + XCB_LIBRARIES + (("libEGL.so.1", "libegl1"),))


def apt_command(packages=APT_PACKAGES):
    """The command that installs packages on Debian or Ubuntu."""
    return "sudo apt install " + " ".join(packages)


def platform_name(environ, platform=sys.platform):
    """The Qt platform plugin the app will use on Linux ("xcb" unless
    QT_QPA_PLATFORM names another), or None on other systems."""
    if not platform.startswith("linux"):
        return None
    # "offscreen", "xcb:option=value" or a fallback list "wayland;xcb": the first.
    chosen = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0]
    return chosen.strip() or "xcb"


def missing_packages(libraries, load=ctypes.CDLL):
    """The packages of those (library, package) pairs whose library does not load."""
    missing = []
    for library, package in libraries:
        try:
            load(library)
        except OSError:
            if package not in missing:
                missing.append(package)
    return missing


def startup_problem(environ, platform=sys.platform, load=ctypes.CDLL):
    """Why Qt would fail to open a window here, with the fix, or None when it can.

    Checked only for the xcb plugin on Linux, where PyQt5's wheels lean on system
    libraries; other platforms and plugins are left to Qt.
    """
    if platform_name(environ, platform) != "xcb":
        return None
    missing = missing_packages(CORE_LIBRARIES + XCB_LIBRARIES, load)
    if missing:
        return ("ConvLab cannot open its window: Qt needs system libraries that are "
                f"not installed ({', '.join(missing)}). On Debian or Ubuntu install "
                f"them with:\n    {apt_command()}\nthen start ConvLab again.")
    if not environ.get("DISPLAY"):
        wayland = (" On Wayland without X11 support, QT_QPA_PLATFORM=wayland uses "
                   "Wayland directly." if environ.get("WAYLAND_DISPLAY") else "")
        return ("ConvLab cannot open its window: no X11 display (DISPLAY is not "
                "set). Start it from a desktop session, or save a picture of the "
                f"window without one: convlab gui --screenshot window.png.{wayland}")
    return None


def plugin_failure_advice(environ, platform=sys.platform, load=ctypes.CDLL):
    """What to add when Qt reports that no platform plugin could be loaded."""
    problem = startup_problem(environ, platform, load)
    if problem:
        return problem
    return ("ConvLab: Qt could not start its platform plugin. On Debian or Ubuntu "
            f"the usual fix is:\n    {apt_command()}\nRun with QT_DEBUG_PLUGINS=1 "
            "to see which library Qt failed to load.")


def import_failure_advice(exc):
    """What to say when importing PyQt5 fails, e.g. for want of libGL.so.1."""
    found = re.search(r"(lib[\w.+-]+\.so[.\d]*)", str(exc))
    library = found.group(1) if found else None
    if library in PACKAGE_OF:
        fix = apt_command([PACKAGE_OF[library]])
        return (f"ConvLab cannot start: Qt needs {library}, which is not installed. "
                f"On Debian or Ubuntu install it with:\n    {fix}")
    return (f"ConvLab cannot start: importing PyQt5 failed ({exc}). Reinstall it "
            "with `pip install -r requirements.txt`; on Debian or Ubuntu Qt also "
            f"needs:\n    {apt_command()}")
