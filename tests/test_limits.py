"""Oversized signals past every door (issue 13), on a real dev server: 35 reports of 1.5 MB each sent
with the raw ``temporal workflow signal`` CLI to one incident.

Each is refused by the workflow before it is parsed (over the 64 KiB report limit) and the refusal is
recorded; nothing of it reaches the incident's state. The signals themselves are in the history,
though, and 35 x 1.5 MB is past the server's 50 MB history limit, so the server ends the run. What
must hold then: the officer is told the truth (status: terminated, with the server's reason) and the
emergency office is told by the worker's watcher, not by the incident.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
from helpers import dev_server_with_worker, example

from activities.channels import read_outbox
from activities.watch import IncidentWatch
from infra.binaries import temporal_cli
from plan.models import EntryKind
from starter.api import IncidentClient, IncidentEnded

pytestmark = [pytest.mark.devserver, pytest.mark.slow]
QUEUE = "limits-queue"


@pytest_asyncio.fixture(scope="module")
async def stack(tmp_path_factory) -> AsyncIterator[tuple]:
    tmp = tmp_path_factory.mktemp("limits")
    async with dev_server_with_worker(tmp, QUEUE) as (server, client):
        yield server, client, tmp


async def test_35_signals_of_1_5_mb_through_the_raw_cli(stack, tmp_path):
    from test_watch import _notifier

    server, client, tmp = stack
    api = IncidentClient(client, QUEUE)
    wf = (await api.start(example("L2", alert_id=f"BIG-{uuid.uuid4().hex[:8]}"))).workflow_id
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"kind": "progress", "actor": "x", "current_situation": "况" * 500_000},
                              ensure_ascii=False), encoding="utf-8")  # 1.5 MB
    watch = IncidentWatch(client, _notifier(tmp / "outbox.jsonl"), interval=timedelta(seconds=1))
    stop = asyncio.Event()
    task = asyncio.create_task(watch.run(stop))
    outcomes = []
    try:
        for i in range(35):
            res = await asyncio.to_thread(
                subprocess.run,
                [temporal_cli(), "workflow", "signal", "--address", server.address, "--workflow-id", wf,
                 "--name", "report", "--input-file", str(big)],
                capture_output=True, text=True, timeout=60)
            outcomes.append(res.returncode)
            if i == 0:
                for _ in range(100):
                    st = await api.status(wf)
                    if any(e.kind is EntryKind.REFUSED for e in st.timeline):
                        break
                    await asyncio.sleep(0.1)
                refused = [e.text_zh for e in st.timeline if e.kind is EntryKind.REFUSED]
                assert refused and "over the limit of 65536 bytes" in refused[0]
                assert not any("况况况" in e.text_zh for e in st.timeline)
        for _ in range(100):  # the server ends the run when it next checks the history size
            desc = await client.get_workflow_handle(wf).describe()
            if desc.status.name != "RUNNING":
                break
            await asyncio.sleep(0.1)
        info = desc.raw_description.workflow_execution_info
        print(f"\n35 x 1.5 MB signals: {outcomes.count(0)} accepted by the server, status {desc.status.name}, "
              f"history {info.history_length} events, {info.history_size_bytes / 1e6:.1f} MB")
        if desc.status.name == "RUNNING":
            return  # the incident survived: nothing else to tell
        t0 = time.monotonic()
        told = []
        while time.monotonic() - t0 < 60 and not told:
            told = [d for d in read_outbox(tmp / "outbox.jsonl")
                    if d["workflow_id"] == wf and d["step"] == "watch-ended-abnormally"]
            await asyncio.sleep(0.2)
        print(f"emergency office told {time.monotonic() - t0:.1f} s after the server ended the run")
        assert told, "the server ended the incident and nobody was told"
    finally:
        stop.set()
        await task
    with pytest.raises(IncidentEnded) as err:
        await api.status(wf)
    print(f"status: {err.value}")
    assert err.value.status in ("TERMINATED", "FAILED")
