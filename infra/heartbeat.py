"""Activities heartbeat while they run, so a crashed worker's activity is retried within seconds.

The ``notify`` activity is scheduled with a short heartbeat timeout (``workflows/base.py``). If the
worker dies (kill -9, a lost host), heartbeats stop and Temporal starts the next attempt on another
worker as soon as the heartbeat timeout passes, instead of waiting out the start-to-close timeout.
A slow but alive delivery (an SMS gateway taking 20 s) keeps heartbeating and is not retried.

This interceptor heartbeats every activity that has a heartbeat timeout, every third of it, for as
long as the activity runs; activities need no heartbeat code of their own.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)


class _Inbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        timeout = activity.info().heartbeat_timeout
        if not timeout or not asyncio.iscoroutinefunction(input.fn):
            return await self.next.execute_activity(input)
        interval = max(timeout.total_seconds() / 3, 0.2)

        async def beat() -> None:
            while True:
                activity.heartbeat()
                await asyncio.sleep(interval)

        task = asyncio.create_task(beat())
        try:
            return await self.next.execute_activity(input)
        finally:
            task.cancel()


class AutoHeartbeat(Interceptor):
    """Worker interceptor: ``Worker(..., interceptors=[AutoHeartbeat()])``."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(next)
