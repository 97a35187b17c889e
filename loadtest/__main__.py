"""``python -m loadtest`` (``make loadtest``): see :mod:`loadtest.run`."""

import sys

from .run import main

if __name__ == "__main__":
    sys.exit(main())
