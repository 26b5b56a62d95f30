"""Run the command line: ``python -m convlab train | evaluate | export | gui ...``.

It stays the command line (scripts and tests call it); the window is
``python -m convlab gui`` or, installed, ``convlab-gui``.
"""

import sys

from convlab.cli import main

sys.exit(main())
