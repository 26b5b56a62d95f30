"""Start ConvLab from a checkout: `python main.py [--model FILE] [--data DIR] ...`.

Installed, the same window is `convlab-gui` or `convlab gui` (see convlab/gui/app.py).
"""

import sys

from convlab.gui.app import run

if __name__ == "__main__":
    sys.exit(run())
