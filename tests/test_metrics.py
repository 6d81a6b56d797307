"""The worker's metrics endpoint, scraped over HTTP as Prometheus would: `python worker.py` with
`WORKER_METRICS_PORT` runs an incident and serves the SDK's metrics and the notifications it sent by
channel; the workflow-side helper counts a missed deadline by incident type and deadline."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from helpers import ROOT, example
from temporalio import workflow
from temporalio.worker import Worker

from devstack import DevServer, free_port, port_open
from infra import metrics
from infra.settings import connect
from starter.api import IncidentClient

pytestmark = pytest.mark.devserver
QUEUE = "metrics-queue"


@pytest_asyncio.fixture(scope="module")
async def server(tmp_path_factory):
    server = DevServer(port=free_port(), ui_port=None, db_file=tmp_path_factory.mktemp("metrics") / "t.db").start()
    try:
        yield server
    finally:
        server.stop()


async def scrape(port: int, want: str, attempts: int = 100) -> str:
    """GET /metrics until ``want`` (a regex) shows."""
    text = ""
    async with httpx.AsyncClient() as http:
        for _ in range(attempts):
            try:
                res = await http.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
                text = res.text
                if res.status_code == 200 and re.search(want, text, re.M):
                    return text
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"{want!r} not in /metrics:\n{text[-3000:]}")


async def test_worker_process_serves_sdk_and_notification_metrics(server: DevServer, tmp_path: Path):
    port = free_port()
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "TEMPORAL_ADDRESS": server.address,
           "TEMPORAL_TASK_QUEUE": QUEUE, "EMERGENCY_OUTBOX": str(tmp_path / "outbox.jsonl"),
           "EMERGENCY_DRILL_OUTBOX": str(tmp_path / "drill.jsonl"), "WORKER_METRICS_PORT": str(port),
           "LOG_FORMAT": "json", "EMERGENCY_INSECURE_PLAINTEXT": "1"}  # the test's own incidents are plain
    proc = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(200):
            if port_open(port) or proc.poll() is not None:
                break
            await asyncio.sleep(0.1)
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        client = await connect(target_host=server.address)
        api = IncidentClient(client, QUEUE)
        wf = (await api.start(example("L1", alert_id=f"MET-{uuid.uuid4().hex[:6]}"))).workflow_id
        # the information report goes to the emergency office and the command centre (000 §4.2): two deliveries
        text = await scrape(port, r'^judicial_notifications_sent\{[^}]*channel="outbox"[^}]*\} [2-9]')
        assert re.search(r"^temporal_worker_task_slots_available\{", text, re.M), "SDK runtime metrics missing"
        assert re.search(r'^temporal_workflow_completed|^temporal_workflow_task_execution_latency', text, re.M)
        assert 'drill="false"' in text
        assert "judicial_notifications_failed" not in text or re.search(
            r'^judicial_notifications_failed\{[^}]*\} 0$', text, re.M)
        assert wf
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def test_a_bad_metrics_port_is_one_line_naming_the_variable(server: DevServer):
    res = subprocess.run([sys.executable, "worker.py"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "TEMPORAL_ADDRESS": server.address, "WORKER_METRICS_PORT": "ninety",
                              "LOG_FORMAT": "json"})
    assert res.returncode == 2 and "WORKER_METRICS_PORT" in res.stdout + res.stderr
    assert "Traceback" not in res.stdout + res.stderr


@workflow.defn(name="MetricsDeadlineProbe", sandboxed=False)
class DeadlineProbe:
    """Stands in for the incident workflow's missed-deadline branch (workflows/base.py calls the same
    helper): the counter is recorded once, not again on replay."""

    @workflow.run
    async def run(self) -> None:
        await workflow.sleep(timedelta(milliseconds=10))
        metrics.deadline_missed("C4", "arrival")


async def test_deadline_missed_counter_by_type_and_deadline(server: DevServer):
    port = free_port()
    client = await connect(target_host=server.address, runtime=metrics.prometheus_runtime(f"127.0.0.1:{port}"))
    queue = f"probe-{uuid.uuid4().hex[:6]}"
    async with Worker(client, task_queue=queue, workflows=[DeadlineProbe], max_cached_workflows=0):
        for n in range(2):
            await client.execute_workflow("MetricsDeadlineProbe", id=f"probe-{uuid.uuid4().hex[:6]}", task_queue=queue)
        # no workflow cache: every task replays the history first, yet each miss counts once
        text = await scrape(port, r'^judicial_deadlines_missed\{[^}]*deadline="arrival"[^}]*\} 2$')
    assert 'incident_type="C4"' in text
