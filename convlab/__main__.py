"""Run the command line: ``python -m convlab train | evaluate | export ...``."""

import sys

from convlab.cli import main

sys.exit(main())
