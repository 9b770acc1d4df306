"""``python -m pycni``: the same as the ``pycni`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
