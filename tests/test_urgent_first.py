"""The urgent call is never held up: no notification waits on another unless the clause orders them.

001 §4(1) 司法所应当立即向公安“110”或执行地公安派出所报警并向区司法局社区矫正管理科报告 … 如有人员伤亡的,
应立即拨打 120 或协调医院进行救治; 001 §4(7) 应当立即拨打120 或联系协调医院开展救治工作; and the refusal
branches: 001 §4(2) 如对象不愿离开的,区司法局社区矫正管理科和司法所可以向公安“110”或执行地公安派出所报警予以处置,
001 §4(5) 如不愿离开的,区司法局社区矫正管理科或司法所可以向公安“110”或执行地公安派出所报警予以处置,
001 §4(8) 对于不听劝阻的,应当立即向公安“110”或执行地公安派出所报警到现场予以处置, 001 §4(10) 如不愿离开的,
应立即派员赶赴现场,并同步向公安“110”或执行地公安派出所报警予以处置.

Two proofs:

1. time-skipping, from the history itself: the 110/120 activity is scheduled by the very workflow task
   that received the start or the report that triggers it (nothing before it to wait for);
2. on a real dev server with real local receivers: every channel but the 110/120 gateway answers 503
   (the e-mail server is down) for its whole retry budget, and the 110/120 gateway still gets its call
   within 3 s of the triggering start or report, for C1, C2, C5, C7, C8, C10 and L4 handed over to C1
   and to C7.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from helpers import Harness, example
from receivers import HttpReceiver, Request, write_sample_config
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from devstack import DevServer, free_port
from infra.settings import connect
from starter.api import IncidentClient
from worker import build_worker

SECRETS = {"centre-webhook": "centre-secret-0123456789", "alarm-gateway": "alarm-secret-0123456789",
           "sms": "sms-secret-0123456789"}
WITHIN_S = 3.0
"""The 110/120 gateway gets its call within this long of the trigger (issue: 3 s)."""

# (incident example, start overrides, triggering report or None for the start, urgent step, gateway path)
SCENARIOS: dict[str, tuple[str, dict[str, Any], dict[str, Any] | None, str, str]] = {
    "C1 start: 110": ("C1", {"casualties": False}, None, "alarm-110", "/notify/110"),
    "C1 casualties: 120": ("C1", {"casualties": False}, {"kind": "casualties", "injured": 1}, "medical-120-1",
                           "/notify/120"),
    "C2 refuses to leave": ("C2", {}, {"kind": "persuasion", "complied": False}, "alarm-110", "/notify/110"),
    "C5 refuses": ("C5", {}, {"kind": "persuasion", "complied": False}, "alarm-110", "/notify/110"),
    "C7 start: 120": ("C7", {}, None, "medical-120", "/notify/120"),
    "C8 not heeded": ("C8", {}, {"kind": "persuasion", "complied": False}, "alarm-110", "/notify/110"),
    "C10 refuses": ("C10", {}, {"kind": "persuasion", "complied": False}, "dispatch-and-alarm", "/notify/110"),
}
HANDED_OVER = {"L4 handed over to C1": ("C1", "alarm-110", "/notify/110"),
               "L4 handed over to C7": ("C7", "medical-120", "/notify/120")}


# --------------------------------------------------------------------------- 1. from the history


def _activity_input(e: HistoryEvent) -> dict[str, Any]:
    return json.loads(e.activity_task_scheduled_event_attributes.input.payloads[0].data)


def _update_kind(e: HistoryEvent) -> str:
    args = e.workflow_execution_update_accepted_event_attributes.accepted_request.input.args.payloads
    return json.loads(args[0].data)["kind"]


def _task_of(events: list[HistoryEvent], event_id: int) -> int:
    """Which workflow task (1, 2, ...) an event id belongs to: the number of tasks started by then.
    (A command's ``workflow_task_completed_event_id`` is the task's completed event on the server and
    its started event on the time-skipping test server; both count the same.)"""
    return sum(1 for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED and e.event_id <= event_id)


async def _history(h: Harness, wf: str) -> list[HistoryEvent]:
    return list((await h.env.client.get_workflow_handle(wf).fetch_history()).events)


async def _issuing_task(h: Harness, wf: str, trigger: str | None, step: str, recipient: str) -> tuple[int, int]:
    """(the workflow task that received the trigger, the workflow task that scheduled the notification)."""
    events = await _history(h, wf)
    received = 1
    if trigger is not None:
        accepted = next(e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
                        and _update_kind(e) == trigger)
        received = _task_of(events, accepted.event_id)
    sched = next(e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
                 and _activity_input(e)["step"] == step and _activity_input(e)["recipient"] == recipient)
    return received, _task_of(events, sched.activity_task_scheduled_event_attributes.workflow_task_completed_event_id)


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_the_urgent_call_is_issued_by_the_task_that_received_its_trigger(harness: Harness, name: str):
    type_id, overrides, trigger, step, path = SCENARIOS[name]
    wf = await harness.start(type_id, **overrides)
    if trigger is not None:
        await harness.report(wf, trigger["kind"], **{k: v for k, v in trigger.items() if k != "kind"})
    recipient = "medical_120" if path.endswith("120") else "police_110"
    await harness.until_step(wf, step)
    received, issued = await _issuing_task(harness, wf, trigger and trigger["kind"], step, recipient)
    assert issued == received, f"{name}: the {recipient} call waited {issued - received} workflow task(s)"


async def test_c1_calls_110_before_anything_else_in_its_first_task(harness: Harness):
    """001 §4(1): 110 and the section at once, then 120 (casualties known at the start), then the
    information report — all in the first workflow task, 110 the very first command."""
    wf = await harness.start("C1", casualties=True)
    await harness.until_step(wf, "information-report", count=2)
    events = await _history(harness, wf)
    scheduled = [(_activity_input(e)["step"], _activity_input(e)["recipient"],
                  _task_of(events, e.activity_task_scheduled_event_attributes.workflow_task_completed_event_id))
                 for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
    in_first = [(s, r) for s, r, t in scheduled if t == 1]
    assert in_first[:3] == [("alarm-110", "police_110"), ("alarm-110", "correction_section"),
                            ("medical-120", "medical_120")]
    assert {("information-report", "emergency_office"), ("information-report", "command_centre")} <= set(in_first)


@pytest.mark.parametrize("name", list(HANDED_OVER))
async def test_l4_hands_over_in_its_first_task_and_the_child_calls_at_once(harness: Harness, name: str):
    """000 §1.4(4) → 001 §4: the hand-over does not wait for the parent's information report or the
    correction group's message; the child's first task makes the clause's first call."""
    ctype, step, path = HANDED_OVER[name]
    wf = await harness.start("L4", l4={"person": "correction_subject", "correction_type": ctype})
    child = f"{wf}-{ctype}"
    await harness.until(wf, lambda st: child in st.related)
    events = await _history(harness, wf)
    start = next(e for e in events if e.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED)
    assert _task_of(events, start.start_child_workflow_execution_initiated_event_attributes.workflow_task_completed_event_id) == 1
    await harness.until_step(child, step)
    recipient = "medical_120" if path.endswith("120") else "police_110"
    received, issued = await _issuing_task(harness, child, None, step, recipient)
    assert issued == received == 1


# --------------------------------------------------------------------------- 2. real receivers, channels down


@dataclass
class Gateway:
    """The 110/120 gateway: answers 200 and notes when each call arrived (monotonic clock)."""

    arrived: dict[str, list[tuple[float, str]]] = field(default_factory=dict)

    def status(self, r: Request, n: int) -> int:
        self.arrived.setdefault(r.path, []).append((time.monotonic(), r.json().get("notification_key", "")))
        return 200

    async def first_call(self, path: str, key_prefix: str, timeout: float = 20.0) -> float:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for at, key in self.arrived.get(path, []):
                if key.startswith(key_prefix):
                    return at
            await asyncio.sleep(0.02)
        raise AssertionError(f"no call on {path} for {key_prefix} within {timeout} s")


@dataclass
class Degraded:
    api: IncidentClient
    gateway: Gateway
    down: list[HttpReceiver]


@pytest_asyncio.fixture(scope="module")
async def degraded(tmp_path_factory) -> AsyncIterator[Degraded]:
    """A dev server; the shipped sample channels pointed at local receivers; the centre's platform and
    the SMS gateway answer 503 to everything, the mail server refuses connections (nothing listens)."""
    tmp = tmp_path_factory.mktemp("degraded")
    server = DevServer(port=free_port(), ui_port=None, db_file=tmp / "temporal.db").start()
    gateway = Gateway()
    try:
        async with HttpReceiver(status=gateway.status) as alarm, \
                HttpReceiver(status=lambda r, n: 503) as centre, HttpReceiver(status=lambda r, n: 503) as sms:
            write_sample_config(tmp, SECRETS, alarm=alarm.url, centre=centre.url, sms=sms.url, smtp_port=free_port())
            client = await connect(target_host=server.address)
            queue = "urgent-first"
            worker = build_worker(client, queue=queue, outbox=tmp / "outbox.jsonl", drill_outbox=tmp / "drill.jsonl",
                                  channels_path=tmp / "channels.json", roster_path=tmp / "roster.json")
            async with worker:
                yield Degraded(IncidentClient(client, queue), gateway, [centre, sms])
                # the failing notifications are still retrying: the incidents are left to the server
    finally:
        server.stop()


async def _start(d: Degraded, type_id: str, **overrides: Any) -> tuple[str, float]:
    data = example(type_id, **overrides)
    data["alert_id"] = f"UF-{uuid.uuid4().hex[:10]}"
    t0 = time.monotonic()
    return (await d.api.start(data)).workflow_id, t0


@pytest.mark.devserver
@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_110_and_120_reach_their_gateway_within_3s_while_every_other_channel_fails(degraded: Degraded, name):
    type_id, overrides, trigger, step, path = SCENARIOS[name]
    wf, t0 = await _start(degraded, type_id, **overrides)
    if trigger is not None:
        await asyncio.sleep(1.0)  # the opening reports are failing by now
        t0 = time.monotonic()
        await degraded.api.report(wf, {"actor": "东城司法所 值班员", **trigger})
    recipient = "medical_120" if path.endswith("120") else "police_110"
    at = await degraded.gateway.first_call(path, f"{wf}/{step}/{recipient}")
    assert at - t0 <= WITHIN_S, f"{name}: {recipient} called {at - t0:.2f} s after the trigger"
    # and the others really were failing meanwhile: tried (503), never delivered
    tried = time.monotonic() + 10
    while not any(wf.encode() in r.body for rec in degraded.down for r in rec.requests):
        assert time.monotonic() < tried, "the failing channels were never tried"
        await asyncio.sleep(0.05)
    assert not any(wf.encode() in r.body for rec in degraded.down for r in rec.delivered.values())


@pytest.mark.devserver
@pytest.mark.parametrize("name", list(HANDED_OVER))
async def test_l4_handed_over_calls_within_3s_while_every_other_channel_fails(degraded: Degraded, name):
    ctype, step, path = HANDED_OVER[name]
    wf, t0 = await _start(degraded, "L4", l4={"person": "correction_subject", "correction_type": ctype})
    recipient = "medical_120" if path.endswith("120") else "police_110"
    at = await degraded.gateway.first_call(path, f"{wf}-{ctype}/{step}/{recipient}")
    assert at - t0 <= WITHIN_S, f"{name}: {recipient} called {at - t0:.2f} s after the start"
