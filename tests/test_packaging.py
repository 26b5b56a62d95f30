"""Packaging: bundled files found through convlab.resources, entry points, version."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import convlab
from convlab import cli, nn, resources
from convlab.gui import app
from convlab.resources import (
    BUNDLED_MODEL,
    DESKTOP_ENTRY,
    ICON_PNG,
    ICON_SVG,
    STYLESHEET,
    resource_path,
)

REPO = Path(__file__).resolve().parent.parent
BUNDLED_NAMES = (BUNDLED_MODEL, STYLESHEET, ICON_SVG, ICON_PNG, DESKTOP_ENTRY)


def pyproject():
    """pyproject.toml as a dict (tomllib is in the standard library from 3.11)."""
    tomllib = pytest.importorskip("tomllib")
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_bundled_file_is_found_in_the_checkout():
    """From a source checkout, resource_path() points into the top-level resources/."""
    for name in BUNDLED_NAMES:
        path = resource_path(name)
        assert path.is_file(), name
        assert path.resolve() == (REPO / "resources" / name).resolve()
    assert nn.load_model(str(resource_path(BUNDLED_MODEL))).model is not None


def test_the_installed_copy_wins_over_the_checkout(tmp_path, monkeypatch):
    """An installed package's convlab/assets folder is where bundled files come from."""
    assets = tmp_path / "convlab" / "assets"
    (assets / "models").mkdir(parents=True)
    (assets / BUNDLED_MODEL).write_bytes(b"installed")
    monkeypatch.setattr(resources.resources, "files", lambda name: tmp_path / name)
    assert resources.resource_folder() == assets
    assert resource_path(BUNDLED_MODEL).read_bytes() == b"installed"


def test_no_other_code_builds_a_path_into_the_resources_folder():
    """Only convlab/resources.py knows where resources/ is; the rest asks it. The
    tools that draw bundled files (tools/make_*.py) write the checkout's folder."""
    pattern = re.compile(r"""["']resources["/']|/ ?["']resources""")
    offenders = []
    for folder in ("convlab", "tests", "tools"):
        for path in (REPO / folder).rglob("*.py"):
            if path.name in ("resources.py", "test_packaging.py") or (
                    folder == "tools" and path.name.startswith("make_")):
                continue
            text = path.read_text(encoding="utf-8")
            offenders += [f"{path.relative_to(REPO)}: {line.strip()}"
                          for line in text.splitlines() if pattern.search(line)]
    assert not offenders


def test_pyproject_lists_every_package_and_every_bundled_file():
    """The wheel gets every package folder and, as convlab.assets, all of resources/."""
    config = pyproject()["tool"]["setuptools"]
    folders = {".".join(p.parent.relative_to(REPO).parts)
               for p in (REPO / "convlab").rglob("__init__.py")}
    unlisted = folders - set(config["packages"])
    assert not unlisted, f"add {sorted(unlisted)} to pyproject.toml's packages"
    assert set(config["packages"]) == folders | {"convlab.assets"}
    assert config["package-dir"] == {"convlab.assets": "resources"}
    patterns = config["package-data"]["convlab.assets"]
    shipped = {p for pattern in patterns for p in (REPO / "resources").glob(pattern)}
    present = {p for p in (REPO / "resources").rglob("*") if p.is_file()}
    assert shipped == present


def test_package_version_comes_from_convlab_version():
    """The metadata's version is convlab.__version__, the one --version prints."""
    project = pyproject()
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    dynamic = project["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "convlab.__version__"}


def test_cli_version_prints_the_package_version(capsys):
    """`convlab --version` prints "convlab VERSION" and exits 0."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"convlab {convlab.__version__}"


def test_gui_version_prints_the_package_version(capsys):
    """`convlab-gui --version` prints the same version under its own name."""
    with pytest.raises(SystemExit) as exit_info:
        app.run(["--version"], prog="convlab-gui")
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"convlab-gui {convlab.__version__}"


def test_gui_command_hands_the_window_its_options(monkeypatch):
    """`convlab gui --model M --data D` opens the window with those options."""
    calls = []
    monkeypatch.setattr(app, "run", lambda argv, prog: calls.append((argv, prog)) or 0)
    assert cli.main(["gui", "--model", "m.npz", "--data", "digits"]) == 0
    assert calls == [(["--model", "m.npz", "--data", "digits"], "convlab gui")]


def test_other_commands_still_refuse_unknown_options(capsys):
    """Only `gui` passes options through: a typo in `evaluate` is a usage error."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["evaluate", "--model", "m.npz", "--jsn"])
    assert exit_info.value.code == cli.EXIT_USAGE
    assert "unrecognized arguments: --jsn" in capsys.readouterr().err


def test_window_carries_the_bundled_icon(qtbot):
    """The main window's icon is the project's icon, at its full 256 px size."""
    window = app.create_window(restore=False)
    qtbot.addWidget(window)
    icon = window.windowIcon()
    assert not icon.isNull()
    assert icon.pixmap(256, 256).width() == 256
    window.close()


@pytest.mark.parametrize("start", [[str(REPO / "main.py")], ["-m", "convlab", "gui"]])
def test_screenshot_from_another_folder_uses_the_bundled_model(tmp_path, start):
    """Started outside the checkout, the window opens the bundled trained model."""
    env = dict(os.environ, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen",
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    picture = tmp_path / "window.png"
    proc = subprocess.run([sys.executable, *start, "--screenshot", str(picture)],
                          cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "model: bundled trained model" in proc.stdout.splitlines()
    assert picture.stat().st_size > 0
