"""The Temporal server limits this project runs under (issue 13), set once here for the dev server
(``devstack.DevServer``) and the compose server (``docker/dynamicconfig.yaml``; a test compares them).

A flood of signalled reports (a service retrying in a loop, an attacker, a worker back after an outage)
reaches one incident at the server's pace, not the worker's. Temporal takes 10,000 signals per run by
default; a run holding that many cannot continue as new while they still arrive (the server rejects a
continue-as-new with new events buffered), its first task after the flood applies all of them at once,
past the SDK's 2 s deadlock check, and its history is past the 4,096 events a run should stay under.

So the server takes at most :data:`SIGNALS_PER_RUN` signals per run. Past that it answers the sender
"exceeded workflow execution limit for signal events" (nothing is recorded, nothing is lost: the
project's doors retry it, ``starter/api.py``, and a raw sender sees the refusal); the run judges what it
holds, continues as new (``workflows/mechanics/continuation.py``) and the next run takes the rest.
"""

from __future__ import annotations

SIGNALS_PER_RUN = 2000
"""Signals one run takes (``history.maximumSignalsPerExecution``; the server's default is 10,000)."""

DYNAMIC_CONFIG: dict[str, int] = {"history.maximumSignalsPerExecution": SIGNALS_PER_RUN}
"""The dynamic config keys this module sets, with their values."""


def dev_server_flags() -> list[str]:
    """``temporal server start-dev`` flags setting :data:`DYNAMIC_CONFIG`."""
    flags: list[str] = []
    for key, value in DYNAMIC_CONFIG.items():
        flags += ["--dynamic-config-value", f"{key}={value}"]
    return flags
