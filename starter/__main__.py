"""``python -m starter``: see :mod:`starter.cli`."""

import os
import sys

from starter.cli import main

if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Exit without interpreter teardown: the SDK's runtime can abort there (sdk-python #300).
    os._exit(code)
