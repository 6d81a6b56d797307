"""An incident at and past Temporal's limits (issue 13), on a real dev server.

- 10,000 progress reports by signal to one L2 (the server takes 10,000 signals per run): every one
  recorded, the incident still answering, each run's history under 4,096 events
  (``workflows/mechanics/continuation.py`` continues it as new before any limit).
- 2,500 reports by update (the SDK door; the server takes 2,000 updates per run): all accepted, and
  ``closed`` after them too.
- 35 reports of 1.5 MB each sent with the raw ``temporal workflow signal`` CLI: each is refused by the
  workflow before it is parsed (over the 64 KiB report limit) and the refusal recorded; the signals
  themselves are in the history (35 x 1.5 MB is past the server's 50 MB), so the incident continues as
  new at 8 MB of history and survives. The raw CLI does not retry a signal the server answers "workflow
  is closing" (the instant a run continues as new): the sender sees it; ``python -m starter`` and the
  SDK door retry it. Should the server end a run anyway, the officer is told the truth
  and the emergency office is told by the worker's watcher (tests/test_watch.py).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
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
from plan.models import EntryKind, TimelineEntry
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
            if res.returncode:  # the sender is told, never silently dropped
                assert "workflow is closing" in res.stderr, res.stderr
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
        for _ in range(100):  # the last signals' workflow task may still be running
            st = await api.status(wf)
            refusals = [e for e in st.timeline if e.kind is EntryKind.REFUSED]
            if len(refusals) >= outcomes.count(0):
                break
            await asyncio.sleep(0.1)
        print(f"survived: run {st.run}, {len(refusals)} refusals recorded")
        assert desc.status.name == "RUNNING" and st.run > 1  # continued as new in time
        # every signal the server took is refused and recorded; the few sent in the instant a run was
        # continuing as new were answered "workflow is closing" (the project's doors retry those)
        assert len(refusals) == outcomes.count(0) >= 25
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


SENDER = """
import asyncio, sys
from infra.settings import connect
from starter.api import IncidentClient
async def main(address, wf, n):
    api, gate = IncidentClient(await connect(target_host=address), "limits-queue"), asyncio.Semaphore(64)
    async def send(i):
        async with gate:  # the SDK door: retried in the instant a run continues as new
            await api.signal_report(wf, {"kind": "progress", "actor": "东城司法所 值班员", "report_id": f"p-{i}",
                                         "current_situation": f"现场秩序正常(第{i}次报告)"})
    await asyncio.gather(*(send(i) for i in range(n)))
asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


async def _runs(client, wf: str) -> list[int]:
    """Events of every run of ``wf``, first to last (walking back from the latest)."""
    lengths, run_id = [], None
    while True:
        history = await client.get_workflow_handle(wf, run_id=run_id).fetch_history()
        lengths.append(len(history.events))
        prev = history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id
        if not prev:
            return lengths[::-1]
        run_id = prev


def _reports_recorded(timeline, archived: list[dict], kind: str = "progress") -> int:
    """Reports on the record: this run's timeline (the ``timeline`` query, its whole record; ``status``
    shows the last 1,000 entries only) and every archived part."""
    live = sum(1 for e in timeline if e.kind is EntryKind.REPORT and e.step == kind)
    old = sum(1 for part in archived for e in part["timeline"] if e["kind"] == "report" and e["step"] == kind)
    return live + old


async def test_10000_progress_signals_to_one_incident(stack):
    """Past the 10,000 signals a run takes: every report recorded, queries answered, runs bounded."""
    from activities.archive import read_archive

    server, client, tmp = stack
    api = IncidentClient(client, QUEUE)
    wf = (await api.start(example("L2", alert_id=f"FLOOD-{uuid.uuid4().hex[:8]}"))).workflow_id
    n = 10_000
    t0 = time.monotonic()
    # Sent from another process, as a service would (the worker here shares this test's process).
    sender = await asyncio.create_subprocess_exec(sys.executable, "-c", SENDER, server.address, wf, str(n))
    assert await sender.wait() == 0
    sent = time.monotonic() - t0
    recorded, deadline = 0, time.monotonic() + 900
    while time.monotonic() < deadline:
        st = await api.status(wf)  # still answering throughout
        timeline = await client.get_workflow_handle(wf).query("timeline", result_type=list[TimelineEntry])
        recorded = _reports_recorded(timeline, read_archive(wf, tmp / "archive"))
        if recorded >= n:
            break
        await asyncio.sleep(2)
    lengths = await _runs(client, wf)
    print(f"\n{n} signals sent in {sent:.0f} s; {recorded} recorded after {time.monotonic() - t0:.0f} s; "
          f"{len(lengths)} runs, peak {max(lengths)} events per run, {st.archived} timeline entries archived")
    assert recorded == n
    assert len(lengths) > 1 and max(lengths) < 4096, lengths
    assert st.phase.value == "open" and "complaint_result" in st.waiting_for
    # the incident goes on to its end as usual
    await api.report(wf, {"kind": "complaint_result", "actor": "法律服务组", "substantiated": False,
                          "findings": "经调查,律师收费符合规定", "action": "向投诉人说明情况"})
    await api.report(wf, {"kind": "closed", "actor": "法律服务组", "result": "投诉已处理完毕",
                          "current_situation": "投诉人表示理解", "measures_taken": ["调查核实"]})
    await api.report(wf, {"kind": "aftermath_done", "actor": "区司法局应急办公室", "summary": "善后处置完毕"})  # 000 §4.4
    out = await asyncio.wait_for(api.outcome(wf), 300)
    # the written report of 10,000 reports is longer than a message carries: cut, whole on the record
    sent = [d for d in read_outbox(tmp / "outbox.jsonl") if d["workflow_id"] == wf and d["step"] == "written-report"]
    assert sent and all(len(d["message_zh"]) <= 8000 for d in sent)
    assert out.written_report_zh.startswith(sent[0]["message_zh"][:200])


async def test_l4_flooded_while_following_continues_as_new_and_ends_with_its_child(stack):
    """An L4 that handed its subject over (000 §1.4(4)) only follows its C-type child; 2,100 reports
    sent to it (each refused, naming the child) continue it as new, and the continued run, which has no
    handle on the child any more, ends with the child's outcome when the child says it ended
    (``handed_over_ended``), sending nothing twice."""
    server, client, tmp = stack
    api = IncidentClient(client, QUEUE)
    wf = (await api.start(example("L4", alert_id=f"L4F-{uuid.uuid4().hex[:8]}"))).workflow_id
    child = f"{wf}-C4"
    for _ in range(200):
        if (await api.status(wf)).related == [child]:
            break
        await asyncio.sleep(0.1)
    first_run = (await client.get_workflow_handle(wf).describe()).run_id
    sender = await asyncio.create_subprocess_exec(sys.executable, "-c", SENDER, server.address, wf, "2100")
    assert await sender.wait() == 0
    for _ in range(600):
        if (await client.get_workflow_handle(wf).describe()).run_id != first_run:
            break
        await asyncio.sleep(0.2)
    st = await api.status(wf)
    refusals = [e for e in st.timeline if e.kind is EntryKind.REFUSED]
    assert st.run > 1 and refusals and f"send reports to {child}" in refusals[-1].text_zh
    for report in ({"kind": "arrived", "actor": "东城司法所 值班员"},
                   {"kind": "search_result", "actor": "东城司法所 值班员", "found": True, "methods": ["phone"]},
                   {"kind": "punishment", "actor": "区司法局社区矫正管理科", "decision": "训诫"},
                   {"kind": "closed", "actor": "东城司法所", "result": "对象已到司法所报告,依法予以训诫",
                    "current_situation": "对象已在监管之中", "measures_taken": ["训诫"]},
                   {"kind": "review", "actor": "区司法局社区矫正管理科", "course": "对象脱管后当日找回",
                    "cause": "对象外出未请假", "lessons": "加强日常监管", "improvements": "每日电话核查"}):
        await api.report(child, report)
    child_out = await asyncio.wait_for(api.outcome(child), 120)
    out = await asyncio.wait_for(api.outcome(wf), 120)
    lengths = await _runs(client, wf)
    print(f"\nL4 flooded: {len(lengths)} runs, peak {max(lengths)} events per run")
    assert out.written_report_zh == child_out.written_report_zh and out.related == [child]
    assert [e.text_zh for e in out.timeline if e.kind is EntryKind.DECISION][-1].startswith("移交事件已办结")
    sent = [(d["step"], d["recipient"]) for d in read_outbox(tmp / "outbox.jsonl") if d["workflow_id"] == wf]
    assert sorted(sent) == sorted(set(sent)) and {s for s, _ in sent} == {"information-report", "hand-over"}
    assert max(lengths) < 4096, lengths


async def test_2500_reports_by_update_then_closed(stack):
    """Past the 2,000 updates a run takes: every report accepted (the SDK door), ``closed`` too."""
    server, client, tmp = stack
    api = IncidentClient(client, QUEUE)
    wf = (await api.start(example("L2", alert_id=f"UPD-{uuid.uuid4().hex[:8]}"))).workflow_id
    n, gate = 2_500, asyncio.Semaphore(16)
    seqs: list[int] = []

    async def send(i: int) -> None:
        async with gate:
            receipt = await api.report(wf, {"kind": "progress", "actor": "东城司法所 值班员", "report_id": f"u-{i}",
                                            "current_situation": f"现场秩序正常(第{i}次更新)"})
            seqs.append(receipt.seq)

    t0 = time.monotonic()
    await asyncio.gather(*(send(i) for i in range(n)))
    assert len(seqs) == n and len(set(seqs)) == n  # each its own record
    await api.report(wf, {"kind": "complaint_result", "actor": "法律服务组", "substantiated": False,
                          "findings": "经调查,律师收费符合规定", "action": "向投诉人说明情况"})
    receipt = await api.report(wf, {"kind": "closed", "actor": "法律服务组", "result": "投诉已处理完毕",
                                    "current_situation": "投诉人表示理解", "measures_taken": ["调查核实"]})
    lengths = await _runs(client, wf)
    st = await api.status(wf)
    print(f"\n{n} updates in {time.monotonic() - t0:.0f} s; closed accepted as record {receipt.seq}; "
          f"{len(lengths)} runs, peak {max(lengths)} events per run")
    assert receipt.accepted and st.phase.value == "handled"
    assert len(lengths) > 1 and max(lengths) < 4096, lengths
