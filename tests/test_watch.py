"""An incident that ends abnormally is never silently lost (issue 13), on a real dev server:

- the worker's watcher (``activities/watch.py``) tells the emergency office, once, through a path that
  does not depend on the incident's own workflow;
- ``status``, ``show``, ``list`` and the SDK say terminated, with the server's reason, never "open";
- starting the same alert again says so and exits non-zero.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
from helpers import ROOT, dev_server_with_worker, example

from activities.watch import IncidentWatch
from activities.channels import read_outbox
from starter.api import IncidentClient, IncidentEnded

pytestmark = pytest.mark.devserver
QUEUE = "watch-queue"


@pytest_asyncio.fixture(scope="module")
async def stack(tmp_path_factory) -> AsyncIterator[tuple]:
    tmp = tmp_path_factory.mktemp("watch")
    async with dev_server_with_worker(tmp, QUEUE) as (server, client):
        yield server, client, tmp


def cli(server, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TEMPORAL_ADDRESS": server.address, "TEMPORAL_TASK_QUEUE": QUEUE}
    return subprocess.run([sys.executable, "-m", "starter", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=env)


async def test_a_terminated_incident_is_reported_to_the_office_and_to_every_operator(stack, tmp_path):
    server, client, tmp = stack
    api = IncidentClient(client, QUEUE)
    data = example("L2", alert_id=f"W-{uuid.uuid4().hex[:8]}")
    wf = (await api.start(data)).workflow_id
    outbox = tmp / "outbox.jsonl"
    for _ in range(200):
        if sum(1 for d in read_outbox(outbox) if d["workflow_id"] == wf and d["step"] == "information-report") == 2:
            break
        await asyncio.sleep(0.1)
    # the watcher, as the worker runs it (1 s interval here, 60 s by default)
    watch = IncidentWatch(client, _notifier(outbox), interval=timedelta(seconds=1))
    stop = asyncio.Event()
    task = asyncio.create_task(watch.run(stop))
    try:
        t0 = time.monotonic()
        await client.get_workflow_handle(wf).terminate(reason="history size limit exceeded")
        told = []
        while time.monotonic() - t0 < 60 and not told:
            told = [d for d in read_outbox(outbox) if d["workflow_id"] == wf and d["step"] == "watch-ended-abnormally"]
            await asyncio.sleep(0.1)
        seconds = time.monotonic() - t0
        print(f"\nemergency office told of the terminated incident after {seconds:.1f} s")
        assert told, "the emergency office was never told"
        assert told[0]["recipient"] == "emergency_office"
        assert "已被终止" in told[0]["message_zh"] and "history size limit exceeded" in told[0]["message_zh"]
        await asyncio.sleep(2.5)  # more sweeps: still told once
        assert len([d for d in read_outbox(outbox) if d["workflow_id"] == wf
                    and d["step"] == "watch-ended-abnormally"]) == 1
    finally:
        stop.set()
        await task
    # the SDK
    with pytest.raises(IncidentEnded) as err:
        await api.status(wf)
    assert err.value.status == "TERMINATED" and err.value.reason == "history size limit exceeded"
    # the CLI: status, show (Chinese, exit 3), --json (English keys), start again (exit 3)
    res = cli(server, "status", wf)
    assert res.returncode == 3 and "已异常结束(已终止,原因:history size limit exceeded)" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and "处置中" not in res.stdout
    res = cli(server, "show", wf)
    assert res.returncode == 3 and "已终止" in res.stderr
    res = cli(server, "status", wf, "--json")
    assert res.returncode == 3 and json.loads(res.stdout)["execution_status"] == "TERMINATED"
    f = tmp_path / "again.json"
    f.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    res = cli(server, "start", str(f))
    assert res.returncode == 3 and "已异常结束" in res.stderr and "已在处置中" not in res.stderr, res.stderr
    # list: the row says 已终止, not 处置中
    for _ in range(50):
        res = cli(server, "list", "--json")
        rows = [r for r in json.loads(res.stdout or "[]") if r["workflow_id"] == wf]
        if rows and rows[0]["execution_status"] == "TERMINATED":
            break
        await asyncio.sleep(0.2)
    assert rows[0]["ended_abnormally"] is True
    res = cli(server, "list")
    row = next(r for r in res.stdout.splitlines() if wf in r)
    assert "已终止" in row and "处置中" not in row, row


def _notifier(outbox):
    from activities import build_activities

    return build_activities(outbox=outbox, drill_outbox=outbox.with_name("drill.jsonl"))[0].__self__
