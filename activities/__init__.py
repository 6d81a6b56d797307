"""Activities: everything that touches the outside world (notifications). Workflows decide, these act."""

from __future__ import annotations

import os
from pathlib import Path

from activities.channels import DEFAULT_DRILL_OUTBOX, DEFAULT_OUTBOX, OutboxChannel
from activities.notify import Notifier
from plan.agencies import DEFAULT_DIRECTORY_PATH, load_directory


def build_activities(
    *,
    directory_path: Path | str | None = None,
    outbox: Path | str | None = None,
    drill_outbox: Path | str | None = None,
) -> list:
    """Every activity the worker registers, configured from arguments or the environment.

    ``EMERGENCY_DIRECTORY`` (default ``config/directory.json``), ``EMERGENCY_OUTBOX``
    (default ``var/outbox.jsonl``), ``EMERGENCY_DRILL_OUTBOX`` (default ``var/drill-outbox.jsonl``).
    """
    directory = load_directory(
        directory_path or os.environ.get("EMERGENCY_DIRECTORY") or DEFAULT_DIRECTORY_PATH
    )
    notifier = Notifier(
        directory,
        OutboxChannel(outbox or os.environ.get("EMERGENCY_OUTBOX") or DEFAULT_OUTBOX),
        OutboxChannel(
            drill_outbox or os.environ.get("EMERGENCY_DRILL_OUTBOX") or DEFAULT_DRILL_OUTBOX,
            name="drill-outbox",
        ),
    )
    return [notifier.notify]
