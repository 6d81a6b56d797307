"""The worker: runs every incident workflow and every activity from one registry.

Connection settings come from the environment (see ``infra/settings.py``): ``TEMPORAL_ADDRESS``,
``TEMPORAL_NAMESPACE``, TLS / API key, client configuration profiles, and ``TEMPORAL_TASK_QUEUE``
(default ``judicial-emergency``). SIGINT/SIGTERM stop polling, let running activities finish
(``WORKER_SHUTDOWN_GRACE_SECONDS``, default 30) and exit.

    python worker.py
"""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import timedelta

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities import build_activities
from infra import logging as logs
from infra.codec import CodecConfigError
from infra.guard import PayloadGuard
from infra.heartbeat import AutoHeartbeat
from infra.settings import connect, task_queue
from plan.agencies import DirectoryError
from workflows import ALL_WORKFLOWS

log = structlog.get_logger("worker")


def build_worker(
    client: Client, *, queue: str | None = None, activities: list | None = None, **activity_config
) -> Worker:
    """The worker with every workflow and activity registered (also used by tests and the dev stack)."""
    return Worker(
        client,
        task_queue=queue or task_queue(),
        workflows=ALL_WORKFLOWS,
        activities=activities if activities is not None else build_activities(**activity_config),
        graceful_shutdown_timeout=timedelta(
            seconds=float(os.environ.get("WORKER_SHUTDOWN_GRACE_SECONDS", "30"))
        ),
        # a killed worker's activity is retried within seconds; unencrypted payloads and ids with
        # personal data are refused (infra/guard.py)
        interceptors=[AutoHeartbeat(), PayloadGuard()],
    )


async def run_worker(client: Client | None = None, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or ``stop`` is set), then shut down gracefully."""
    # Configuration first: a bad directory, roster or channel file is reported before connecting.
    activities = build_activities()
    client = client or await connect(worker=True)
    worker = build_worker(client, activities=activities)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread
            pass
    log.info("worker started", task_queue=worker.config()["task_queue"], namespace=client.namespace,
             payload_encryption=client.data_converter.payload_codec is not None)
    async with worker:
        await stop.wait()
        log.info("worker stopping: finishing running tasks")
    log.info("worker stopped")


def main() -> int:
    logs.configure()
    try:
        asyncio.run(run_worker())
    except (DirectoryError, CodecConfigError) as err:
        log.error("configuration error", error=str(err))
        return 2
    except RuntimeError as err:  # connection refused and similar
        log.error("worker failed", error=str(err))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
