"""The bare workload: Temporal's floor on this machine, a hello-world workflow with one no-op activity.

Kept free of project imports so that the sandbox loads nothing but this file.
"""

from __future__ import annotations

import time
from datetime import timedelta

from temporalio import activity, workflow

BARE_WORKFLOW = "BenchHello"


@activity.defn(name="bench_noop")
async def noop(name: str) -> float:
    """Does nothing; returns the wall time it ran at (start -> activity latency)."""
    return time.time()


@workflow.defn(name=BARE_WORKFLOW)
class BenchHello:
    @workflow.run
    async def run(self, name: str) -> float:
        return await workflow.execute_activity(
            noop, name, start_to_close_timeout=timedelta(seconds=30)
        )
