"""Start ConvLab: `python main.py [--model FILE] [--data DIR] [--screenshot PNG]`."""

import sys

from convlab.gui.app import run

if __name__ == "__main__":
    sys.exit(run())
