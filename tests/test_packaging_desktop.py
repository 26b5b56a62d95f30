"""The desktop entry: where it goes, what it starts, and failures that say why."""

import configparser
import importlib.metadata
import shlex
import sys
from pathlib import Path

import pytest

from convlab.gui import app, desktop_entry
from convlab.gui.desktop_entry import (
    DesktopEntryError,
    data_home,
    entry_text,
    exec_quote,
    install_desktop_entry,
    launch_command,
)
from convlab.resources import ICON_PNG, ICON_SVG, resource_path

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="freedesktop entries are a Linux feature")


def read_entry(path):
    """The [Desktop Entry] group of a desktop file as a dict."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def exec_argv(value):
    """Split an Exec value back into arguments, as a desktop launcher does."""
    return shlex.split(value.replace("\\\\", "\\"))


def test_install_writes_the_entry_and_icons_into_xdg_data_home(tmp_path):
    """The entry lands in $XDG_DATA_HOME/applications, the icons in hicolor."""
    command = (["/opt/conv lab/bin/convlab-gui"], None)
    written = install_desktop_entry({"XDG_DATA_HOME": str(tmp_path)}, command)
    entry = tmp_path / "applications" / "convlab.desktop"
    svg = tmp_path / "icons/hicolor/scalable/apps/convlab.svg"
    png = tmp_path / "icons/hicolor/256x256/apps/convlab.png"
    assert written == [svg, png, entry]
    assert svg.read_bytes() == resource_path(ICON_SVG).read_bytes()
    assert png.read_bytes() == resource_path(ICON_PNG).read_bytes()
    keys = read_entry(entry)
    assert keys["Type"] == "Application" and keys["Name"] == "ConvLab"
    assert keys["Icon"] == "convlab"
    assert exec_argv(keys["Exec"]) == ["/opt/conv lab/bin/convlab-gui"]
    assert "Path" not in keys


def test_a_checkout_entry_runs_python_from_the_checkout(tmp_path):
    """An entry for a source checkout starts `python -m convlab gui` in its folder."""
    text = entry_text(resource_path("convlab.desktop").read_text(encoding="utf-8"),
                      ["/usr/bin/python3", "-m", "convlab", "gui"], "/home/a b/convlab")
    (tmp_path / "e.desktop").write_text(text, encoding="utf-8")
    keys = read_entry(tmp_path / "e.desktop")
    assert exec_argv(keys["Exec"]) == ["/usr/bin/python3", "-m", "convlab", "gui"]
    assert keys["Path"] == "/home/a b/convlab"


@pytest.mark.parametrize(("arg", "quoted"), [
    ("/usr/bin/convlab-gui", "/usr/bin/convlab-gui"),
    ("/a b/python", '"/a b/python"'),
    ('/say "hi"/x', '"/say \\"hi\\"/x"'),
    ("/cost$/x", '"/cost\\$/x"'),
    ("/100%/x", "/100%%/x"),
])
def test_exec_arguments_are_quoted_as_the_specification_asks(arg, quoted):
    """Spaces, quotes and $ get double quotes and backslashes; % is doubled."""
    assert exec_quote(arg) == quoted


def test_relative_xdg_data_home_is_ignored(tmp_path, monkeypatch):
    """A relative $XDG_DATA_HOME is invalid: ~/.local/share is used instead."""
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_home({"XDG_DATA_HOME": "relative/share"}) == tmp_path / ".local/share"
    assert data_home({}) == tmp_path / ".local/share"
    assert data_home({"XDG_DATA_HOME": "/x/share"}) == Path("/x/share")


def test_an_unwritable_folder_gives_a_clear_error(tmp_path):
    """A data folder that cannot hold the entry: an error naming it and the fix."""
    blocked = tmp_path / "share"
    blocked.write_text("a file where a folder should be")
    with pytest.raises(DesktopEntryError) as error:
        install_desktop_entry({"XDG_DATA_HOME": str(blocked)}, (["convlab-gui"], None))
    message = str(error.value)
    assert str(blocked) in message and "XDG_DATA_HOME" in message


def test_launch_command_prefers_the_script_beside_the_interpreter(tmp_path,
                                                                  monkeypatch):
    """In a virtual environment the entry starts its bin/convlab-gui directly."""
    (tmp_path / "convlab-gui").write_text("#!/bin/sh\n")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    assert launch_command() == ([str(tmp_path / "convlab-gui")], None)


def test_launch_command_without_an_install_runs_from_the_checkout(tmp_path,
                                                                   monkeypatch):
    """With no script and no installed package: python -m convlab gui, in REPO."""
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setattr(desktop_entry.importlib.metadata, "distribution", not_installed)
    assert launch_command() == ([str(tmp_path / "python"), "-m", "convlab", "gui"],
                                str(REPO))


def test_install_option_reports_where_or_why_not(tmp_path, monkeypatch, capsys):
    """`convlab-gui --install-desktop-entry`: exit 0 and the paths, or 1 and why."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert app.run(["--install-desktop-entry"], prog="convlab-gui") == 0
    out = capsys.readouterr().out
    assert f"installed {tmp_path / 'share/applications/convlab.desktop'}" in out
    (tmp_path / "blocked").write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "blocked"))
    assert app.run(["--install-desktop-entry"], prog="convlab-gui") == 1
    assert capsys.readouterr().err.startswith("convlab-gui: error: could not write")
