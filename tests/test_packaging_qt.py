"""Qt's system libraries: missing ones are named with the command that installs them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from convlab.gui import qt_libraries
from convlab.gui.qt_libraries import (
    APT_PACKAGES,
    CORE_LIBRARIES,
    XCB_LIBRARIES,
    apt_command,
    import_failure_advice,
    missing_packages,
    platform_name,
    startup_problem,
)

REPO = Path(__file__).resolve().parent.parent
DESKTOP = {"DISPLAY": ":0"}


def loader_without(*absent):
    """A stand-in for ctypes.CDLL that fails, as dlopen does, for the absent names."""
    def load(name):
        if name in absent:
            raise OSError(f"{name}: cannot open shared object file")
        return object()
    return load


def test_missing_xcb_libraries_are_named_with_the_apt_command():
    """Two libraries absent: both packages named, and the full install command."""
    load = loader_without("libxcb-icccm.so.4", "libGL.so.1")
    problem = startup_problem(DESKTOP, "linux", load)
    assert "(libgl1, libxcb-icccm4)" in problem
    assert apt_command() in problem


def test_nothing_is_said_when_qt_can_start():
    """Every library present and a display: no problem to report."""
    assert startup_problem(DESKTOP, "linux", loader_without()) is None


@pytest.mark.parametrize(("environ", "platform"), [
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux"),
    ({"QT_QPA_PLATFORM": "wayland"}, "linux"),
    ({}, "darwin"),
    ({}, "win32"),
])
def test_only_the_xcb_plugin_on_linux_is_checked(environ, platform):
    """Offscreen, Wayland and other systems are left to Qt, even with nothing found."""
    def nothing(name):
        raise OSError(name)
    assert startup_problem(environ, platform, nothing) is None


@pytest.mark.parametrize(("value", "expected"), [
    (None, "xcb"), ("", "xcb"), ("offscreen", "offscreen"),
    ("xcb:nograb", "xcb"), ("wayland;xcb", "wayland"),
])
def test_platform_name_follows_qt_qpa_platform(value, expected):
    """QT_QPA_PLATFORM's first plugin, without options; xcb when unset."""
    environ = {} if value is None else {"QT_QPA_PLATFORM": value}
    assert platform_name(environ, "linux") == expected


def test_no_display_is_explained():
    """Libraries present but no DISPLAY: say so, and how to get a picture anyway."""
    problem = startup_problem({}, "linux", loader_without())
    assert "DISPLAY is not set" in problem and "--screenshot" in problem
    wayland = startup_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux",
                              loader_without())
    assert "QT_QPA_PLATFORM=wayland" in wayland


def test_each_missing_package_is_named_once():
    """Two libraries of one package (none here today) still name it once."""
    load = loader_without("a.so", "b.so")
    libraries = [("a.so", "p"), ("b.so", "p"), ("c.so", "q")]
    assert missing_packages(libraries, load) == ["p"]


def test_the_apt_command_installs_every_library_checked():
    """Whatever the check finds missing, the README's command installs it."""
    checked = {package for _, package in CORE_LIBRARIES + XCB_LIBRARIES}
    assert checked <= set(APT_PACKAGES)


def test_the_readme_gives_the_same_apt_command():
    """README's set-up names exactly the packages the app's message names."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert apt_command() in readme


def test_a_failed_pyqt5_import_names_the_package():
    """ImportError for libGL.so.1: the message says `sudo apt install libgl1`."""
    exc = ImportError("libGL.so.1: cannot open shared object file: No such file")
    assert "sudo apt install libgl1" in import_failure_advice(exc)
    other = import_failure_advice(ImportError("No module named 'PyQt5'"))
    assert "pip install -r requirements.txt" in other


def test_qt_plugin_failure_is_followed_by_the_fix():
    """Real Qt, xcb with no display: Qt's fatal error, then ConvLab's advice."""
    code = "from convlab.gui.app import make_application; make_application([])"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY",
                                                            "WAYLAND_DISPLAY")}
    env.update(PYTHONPATH=str(REPO), QT_QPA_PLATFORM="xcb")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert 'Could not load the Qt platform plugin "xcb"' in proc.stderr
    assert proc.stderr.rstrip().endswith(
        qt_libraries.plugin_failure_advice(env).splitlines()[-1])


def test_the_app_stops_with_the_message_before_qt_fails():
    """`python main.py` with no display: exit 1 and the explanation, no Qt abort."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY",
                                                            "WAYLAND_DISPLAY")}
    env.update(PYTHONPATH=str(REPO), QT_QPA_PLATFORM="xcb")
    proc = subprocess.run([sys.executable, str(REPO / "main.py")], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip() == startup_problem(env)
