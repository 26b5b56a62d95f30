"""The bundled files: trained model, stylesheet, icons, desktop entry, pictures.

They live in the checkout's top-level resources/ folder. A built wheel carries the
same folder inside the package as convlab/assets (pyproject.toml maps one onto the
other), so an installed ConvLab finds its files wherever it was installed and
whatever the current folder. A source checkout and an editable install have no
convlab/assets and read resources/ beside the package. Every bundled file is looked
up through resource_path(), so the three ways of running agree.
"""

from importlib import resources
from pathlib import Path

BUNDLED_MODEL = "models/default.npz"
STYLESHEET = "style.qss"
ICON_SVG = "icons/convlab.svg"
ICON_PNG = "icons/convlab.png"
DESKTOP_ENTRY = "convlab.desktop"
LESSONS = "lessons"  # a folder of lesson files (*.json)
PICTURES = "pictures"  # the Playground's colour pictures (*.png)


def resource_folder() -> Path:
    """The folder holding the bundled files: the installed copy, else the checkout's."""
    # pip installs wheels unpacked, so the package is a real folder and its files
    # have real paths (model files and Qt need paths, not file objects).
    installed = Path(str(resources.files("convlab"))) / "assets"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(name: str) -> Path:
    """The path of one bundled file, e.g. resource_path(BUNDLED_MODEL)."""
    return resource_folder() / name
