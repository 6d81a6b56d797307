"""The two workloads and the measurements taken from their histories.

- bare: ``BenchHello`` (bench/bare.py), one no-op activity;
- incident: real incident workflows from the catalogue (drill mode: notifications go to the drill
  outbox), each driven by officers' progress reports (updates, as ``IncidentClient.report`` sends
  them) through arrival, feedback, the clause's own reports, closing and, for correction incidents,
  the written review (001 §5(2)).

Tasks are counted from the histories: a completed workflow task or activity task is one server round
trip, the unit Temporal's own cost is counted in.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.bare import BARE_WORKFLOW
from starter.api import IncidentClient

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

OFFICER = "东城司法所 值班员"
SECTION = "区司法局社区矫正管理科"
FEEDBACK = {"kind": "feedback", "actor": OFFICER, "situation": "现场处置中,事态已得到控制", "result": "处置基本完成"}
CLOSED = {"kind": "closed", "actor": OFFICER, "result": "事态已平息,处置完毕",
          "current_situation": "现场秩序正常", "measures_taken": ["现场处置"]}
REVIEW = {"kind": "review", "actor": "东城司法所 所长", "course": "接报后司法所立即处置,按预案通知相关单位",
          "cause": "对象法治意识淡薄", "lessons": "信息报告及时,部门联动顺畅", "improvements": "加强日常走访"}
ARRIVED = {"kind": "arrived", "actor": OFFICER}
AFTERMATH = {"kind": "aftermath_done", "actor": "区司法局应急办公室", "summary": "善后处置工作完毕"}


def _punish(decision: str) -> dict[str, Any]:
    return {"kind": "punishment", "actor": SECTION, "decision": decision}


#: Reports that take each incident type of the mix from arrival to its end, in the clause's order
#: (the same paths as tests/test_c0*.py and tests/test_l01_dispute.py).
SCRIPTS: dict[str, list[dict[str, Any]]] = {
    "C1": [ARRIVED, FEEDBACK, {"kind": "handled", "actor": OFFICER, "crime_suspected": False},
           _punish("警告"), CLOSED, REVIEW],
    "C4": [ARRIVED, FEEDBACK, {"kind": "search_result", "actor": OFFICER, "found": True, "methods": ["phone"]},
           _punish("训诫"), CLOSED, REVIEW],
    "C5": [ARRIVED, FEEDBACK, {"kind": "persuasion", "actor": OFFICER, "complied": True},
           _punish("训诫"), CLOSED, REVIEW],
    "C11": [ARRIVED, FEEDBACK, {"kind": "handled", "actor": OFFICER}, _punish("不予处罚"), CLOSED, REVIEW],
    "L1": [ARRIVED, FEEDBACK, {"kind": "mediation_outcome", "actor": "人民调解组 调解员", "outcome": "agreement",
                               "summary": "项目方承诺三日内支付"}, CLOSED, AFTERMATH],
}
MIX = list(SCRIPTS)

STALL_S = 90.0
"""A phase that makes no progress for this long fails (a worker that stopped polling)."""

_run_id = uuid.uuid4().hex[:6]
_seq = itertools.count(1)


def incident_input(type_id: str) -> dict[str, Any]:
    """The catalogue's example input, as a drill, with a unique alert id."""
    data = json.loads((EXAMPLES / f"{type_id}.json").read_text(encoding="utf-8"))
    data["alert_id"] = f"BENCH-{_run_id}-{next(_seq):06d}"
    data["drill"] = True
    return data


@dataclass
class Started:
    workflow_id: str
    kind: str  # "bare" or the incident type
    sent_at: float  # wall time the start request was sent
    started_at: float = 0.0  # wall time the start call returned
    activity_at: float | None = None  # bare: the no-op ran; incident: the 110 notification delivered

    def latency(self) -> float:
        """Start request sent -> the activity ran (seconds); only once ``activity_at`` is known."""
        assert self.activity_at is not None, f"{self.workflow_id}: no activity time yet"
        return self.activity_at - self.sent_at


async def start_bare(client: Client, queue: str) -> Started:
    wf_id = f"bench-bare-{_run_id}-{next(_seq):06d}"
    sent = time.time()
    await client.start_workflow(BARE_WORKFLOW, "world", id=wf_id, task_queue=queue)
    return Started(wf_id, "bare", sent, time.time())


async def run_bare(client: Client, queue: str, on_start: Callable[[Started], None] | None = None) -> Started:
    s = await start_bare(client, queue)
    if on_start:
        on_start(s)
    s.activity_at = await client.get_workflow_handle(s.workflow_id, result_type=float).result()
    return s


async def start_incident(api: IncidentClient, type_id: str) -> Started:
    data = incident_input(type_id)
    sent = time.time()
    started = await api.start(data)
    return Started(started.workflow_id, type_id, sent, time.time())


async def run_incident(
    api: IncidentClient, type_id: str, on_start: Callable[[Started], None] | None = None
) -> Started:
    """One incident from the alert to its end, driven by its officers' reports."""
    s = await start_incident(api, type_id)
    if on_start:
        on_start(s)
    for report in SCRIPTS[type_id]:
        await api.report(s.workflow_id, report)
    await api.outcome(s.workflow_id)
    return s


async def closed_loop(
    make: Callable[[int, Callable[[Started], None]], Awaitable[Started]], *, seconds: float,
    concurrency: int, ramp: float, snapshot: Callable[[], Any],
) -> tuple[list[Started], float, float, Any, Any]:
    """Keep ``concurrency`` workflows in flight; after ``ramp`` seconds measure a window of
    ``seconds``, then stop driving them. ``snapshot()`` (CPU counters) is taken at both ends.

    Workflows still in flight at the end are left as they are (an incident then stays open, waiting
    for its next report): only what happened inside the window is counted, from the histories.
    Returns every workflow started, the window (start, end) in wall time and both snapshots.
    """
    started: list[Started] = []
    counter = itertools.count()

    async def lane() -> None:
        while True:
            async with asyncio.timeout(STALL_S):
                await make(next(counter), started.append)

    lanes = [asyncio.ensure_future(lane()) for _ in range(concurrency)]
    await asyncio.sleep(ramp)
    t0, s0 = time.time(), snapshot()
    await asyncio.sleep(seconds)
    t1, s1 = time.time(), snapshot()
    for task in lanes:
        task.cancel()
    await asyncio.gather(*lanes, return_exceptions=True)
    return started, t0, t1, s0, s1


@dataclass
class HistoryStats:
    completed: int = 0
    completed_in_window: int = 0
    events: int = 0
    events_in_window: int = 0
    tasks_in_window: int = 0
    workflow_tasks: int = 0
    activity_tasks: int = 0
    failed_workflow_tasks: int = 0
    per_type_events: dict[str, list[int]] = field(default_factory=dict)
    per_type_tasks: dict[str, list[int]] = field(default_factory=dict)


_TASK_DONE = {EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED}
_CLOSED = {EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW}


async def history_stats(client: Client, runs: list[Started], t0: float, t1: float) -> HistoryStats:
    """Count events and tasks from the histories; ``*_in_window`` counts those timed in [t0, t1]."""
    stats = HistoryStats()
    sem = asyncio.Semaphore(16)

    async def one(s: Started) -> None:
        async with sem:
            history = await client.get_workflow_handle(s.workflow_id).fetch_history()
        tasks = 0
        closed = False
        for e in history.events:
            at = _ts(e.event_time)
            inside = t0 <= at <= t1
            stats.events += 1
            stats.events_in_window += inside
            if e.event_type in _TASK_DONE:
                tasks += 1
                stats.tasks_in_window += inside
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                    stats.workflow_tasks += 1
                else:
                    stats.activity_tasks += 1
            elif e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                stats.failed_workflow_tasks += 1
            elif e.event_type in _CLOSED:
                closed = True
                stats.completed_in_window += inside
        if closed:  # events and tasks of a whole workflow, start to end
            stats.completed += 1
            stats.per_type_events.setdefault(s.kind, []).append(len(history.events))
            stats.per_type_tasks.setdefault(s.kind, []).append(tasks)

    await asyncio.gather(*(one(s) for s in runs))
    return stats


def _ts(ts: Any) -> float:
    return ts.seconds + ts.nanos / 1e9


class OutboxTail:
    """Follows the drill outbox: each incident's first 110 delivery time (step ``alarm-110``, the
    notify activity's own clock) and how many notifications each incident has had delivered."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.first_110: dict[str, float] = {}
        self.first_duty: dict[str, float] = {}
        """A platform alarm's verification duty task (``duty-alarm-verify``) delivered (bench/alarms.py)."""
        self.delivered: Counter[str] = Counter()

    def poll(self) -> None:
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            data = fh.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        for raw in data[:end].splitlines():
            d = json.loads(raw)
            wf = d["workflow_id"]
            self.delivered[wf] += 1
            if d["recipient"] == "police_110" and wf not in self.first_110:
                self.first_110[wf] = datetime.fromisoformat(d["delivered_at"]).timestamp()
            elif d.get("step") == "duty-alarm-verify" and wf not in self.first_duty:
                self.first_duty[wf] = datetime.fromisoformat(d["delivered_at"]).timestamp()
