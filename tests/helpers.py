"""Test helpers: the ``Harness`` that drives incidents on the time-skipping server, the readers of a
timeline (``steps``, ``notifications``, ``recipients``, ``text_to``, ``decisions``), the example inputs,
and a real dev server with a worker. Tests import them from here (``from helpers import ...``);
``tests/conftest.py`` holds only the fixtures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.channels import read_outbox
from infra.binaries import test_server
from plan.models import EntryKind, IncidentOutcome, IncidentStatus, TimelineEntry
from plan.policy import DEFAULT_POLICY
from starter.api import IncidentClient
from worker import build_worker

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# (Set here too for tests/histories/record.py, which imports this module without conftest.py.)
# The suite runs the workflows on fictitious data, mostly unencrypted, by explicit choice (every process
# refuses to start without keys otherwise: infra/codec.py); tests/test_security.py and test_pii_scan.py
# run without it. The dev stack's var/codec-keys.json is then not picked up either.
os.environ.setdefault("EMERGENCY_INSECURE_PLAINTEXT", "1")


CLOSED = dict(result="事态已平息,处置完毕", current_situation="现场秩序正常", measures_taken=["现场处置"])
REVIEW = dict(
    course="接报后司法所立即处置,按预案通知相关单位",
    cause="对象法治意识淡薄,日常监管存在薄弱环节",
    lessons="信息报告及时,部门联动顺畅",
    improvements="加强日常走访和动态排查",
)

AFTERMATH = dict(summary="配合相关部门做好善后处置工作,当事人情绪稳定,无后续情况")


def example(type_id: str, **overrides: Any) -> dict[str, Any]:
    """An example input (examples/<ID>.json) with top-level fields replaced."""
    data = json.loads((EXAMPLES / f"{type_id}.json").read_text(encoding="utf-8"))
    data.update(overrides)
    return data


STARTED_ON_OWN_QUEUES: list[tuple[str, str]] = []
"""(queue, workflow id) of every incident a Harness started: the conftest terminates those left open
when their test module ends, so that no timer of theirs later schedules a task nobody polls (the
time-skipping server would stop skipping time for every later test) or keeps a recurring duty going."""


class Harness:
    """Drives incidents on the time-skipping server and reads what officers would see."""

    def __init__(self, env: WorkflowEnvironment, queue: str, outbox: Path) -> None:
        self.env = env
        self.queue = queue
        self.outbox_path = outbox
        self.api = IncidentClient(env.client, queue)
        self.started: list[str] = []

    async def start(self, type_id: str, **overrides: Any) -> str:
        data = example(type_id, **overrides)
        # never phone- or ID-number-shaped (plan/ids.py refuses those): no run of more than 6 digits
        data["alert_id"] = f"T-{uuid.uuid4().hex[:6]}-{uuid.uuid4().hex[:6]}"
        wf_id = (await self.api.start(data)).workflow_id
        self.started.append(wf_id)
        STARTED_ON_OWN_QUEUES.append((self.queue, wf_id))
        return wf_id

    async def report(self, wf_id: str, kind: str, **fields: Any):
        return await self.api.report(wf_id, {"kind": kind, "actor": fields.pop("actor", "东城司法所 值班员"), **fields})

    async def close(self, wf_id: str, *, review: bool = True, **closed: Any) -> IncidentOutcome:
        """Report ``closed`` (with sensible defaults) and what ends the after-handling phase: for a
        correction incident the review (001 §5(2)), for a linkage-plan incident (L1–L4) the aftermath
        (000 §4.4, ``aftermath_done``); return the finished incident."""
        await self.report(wf_id, "closed", **{**CLOSED, **closed})
        waiting = (await self.status(wf_id)).waiting_for
        if review and "review" in waiting:
            await self.report(wf_id, "review", actor="东城司法所 所长", **REVIEW)
        if "aftermath_done" in waiting:
            await self.report(wf_id, "aftermath_done", actor="区司法局应急办公室", **AFTERMATH)
        # Acknowledgements still awaited (回执) are escalated within the policy's budget; the incident
        # completes after that, so let that much time pass (nothing else is pending after closing).
        await self.skip(DEFAULT_POLICY.ack_timeout * (DEFAULT_POLICY.ack_renotify + 1) + timedelta(minutes=1))
        return await self.api.outcome(wf_id)

    async def punish_and_close(self, wf_id: str, decision: str, **closed: Any) -> IncidentOutcome:
        """The section's punishment (001 §4), then ``close``: how most correction clauses end."""
        await self.report(wf_id, "punishment", decision=decision, actor="区司法局社区矫正管理科")
        return await self.close(wf_id, **closed)

    async def discharge_duties(self, wf_id: str, actor: str = "东城司法所 值班员") -> list[str]:
        """Confirm every open duty of a person with its evidence (``phoned``, ``on_site``, ``verified``),
        as the responsible officers would; returns the duty ids confirmed (issue 16)."""
        board = await self.api.duties(wf_id)
        done = []
        for d in board.open:
            fields: dict[str, Any] = {"duty": d.id, "actor": actor}
            if d.evidence == "phoned":
                fields["counterpart"] = d.counterpart_zh or "对方值班人员"
            elif d.evidence == "verified":
                fields["result"] = "已核实"
            elif d.evidence != "on_site":
                continue
            await self.report(wf_id, d.evidence, **fields)
            done.append(d.id)
        return done

    async def status(self, wf_id: str) -> IncidentStatus:
        return await self.api.status(wf_id)

    async def until(
        self, wf_id: str, pred: Callable[[IncidentStatus], bool], timeout: float = 15.0
    ) -> IncidentStatus:
        """Poll the status query until ``pred`` holds (activities run in real time)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            st = await self.status(wf_id)
            if pred(st):
                return st
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"condition not reached; waiting_for={st.waiting_for}, timeline:\n"
                                     + "\n".join(f"{e.kind} {e.step} {e.recipient} {e.text_zh[:60]}" for e in st.timeline))
            await asyncio.sleep(0.05)

    async def until_step(self, wf_id: str, step: str, count: int = 1) -> IncidentStatus:
        return await self.until(
            wf_id,
            lambda st: sum(1 for e in st.timeline if e.step == step and e.kind is EntryKind.NOTIFICATION) >= count,
        )

    async def skip(self, duration: timedelta) -> None:
        """Let ``duration`` of workflow time pass (the test server skips it)."""
        await self.env.sleep(duration)

    def outbox(self) -> list[dict[str, Any]]:
        """Deliveries of the incidents this test started."""
        return [d for d in read_outbox(self.outbox_path) if d["workflow_id"] in self.started]


def notifications(timeline: list[TimelineEntry]) -> list[tuple[str, str]]:
    """(step, recipient) of every delivered notification, in the order the workflow *issued* them.

    Notifications run concurrently (nobody waits on another's delivery), so the order of their
    deliveries is the channels' business; the order of issue is the clause's, and that is what the
    clause tests assert. Notifications made by hand (``notified_by_hand``) have no issue entry and
    come after, in the order they were recorded.
    """

    def key(e: TimelineEntry) -> tuple[str, str]:
        return (e.step or "", e.recipient.value if e.recipient else "")

    delivered = {key(e) for e in timeline if e.kind is EntryKind.NOTIFICATION}
    issued = [key(e) for e in timeline if e.kind is EntryKind.NOTIFICATION_ISSUED]
    by_hand = [k for k in (key(e) for e in timeline if e.kind is EntryKind.NOTIFICATION) if k not in set(issued)]
    return [k for k in issued if k in delivered] + by_hand


def steps(timeline: list[TimelineEntry]) -> list[str]:
    """Notification steps in order, each once (recipients of one step are notified together)."""
    out: list[str] = []
    for step, _ in notifications(timeline):
        if not out or out[-1] != step:
            out.append(step)
    return out


def issued_steps(timeline: list[TimelineEntry]) -> list[str]:
    """Notification steps in the order issued, each once, delivered or not yet (for checks made while
    deliveries are still in flight)."""
    out: list[str] = []
    for e in timeline:
        if e.kind is EntryKind.NOTIFICATION_ISSUED and e.step and (not out or out[-1] != e.step):
            out.append(e.step)
    return out


def recipients(timeline: list[TimelineEntry], step: str) -> set[str]:
    return {r for s, r in notifications(timeline) if s == step}


def text_to(timeline: list[TimelineEntry], step: str, recipient: str) -> str:
    for e in timeline:
        if e.kind is EntryKind.NOTIFICATION and e.step == step and e.recipient and e.recipient.value == recipient:
            return e.text_zh
    raise AssertionError(f"no notification {step} -> {recipient}")


def decisions(timeline: list[TimelineEntry]) -> list[str]:
    """The decisions and prescribed steps on the timeline, in order."""
    return [e.text_zh for e in timeline if e.kind is EntryKind.DECISION]


def obligation(outcome: IncidentOutcome, obligation_id: str):
    """One row of the accountability record (001 §7(4)), e.g. ``alarm-110/police_110``."""
    assert outcome.accountability is not None
    return next(o for o in outcome.accountability.obligations if o.id == obligation_id)


async def refused(h: Harness, wf_id: str, kind: str, why: str, **fields: Any) -> None:
    """``kind`` is refused by the incident, and the reason sent back to the officer contains ``why``."""
    from starter.api import ReportRefused

    try:
        await h.report(wf_id, kind, **fields)
    except ReportRefused as err:
        assert why in str(err), str(err)
    else:
        raise AssertionError(f"{kind} was accepted")


TIMEOUT = timedelta(seconds=30)


@contextlib.asynccontextmanager
async def dev_server_with_worker(
    tmp: Path, queue: str, *, keys_file: Path | None = None, **worker_options: Any
) -> AsyncIterator[tuple[Any, Any]]:
    """A real `temporal server start-dev` (attributes registered) and a worker on ``queue``, for a
    module-scoped fixture: yields (server, client). ``keys_file``: payloads encrypted with those keys,
    as deployed (the worker refuses plain payloads); otherwise plain, as this suite's default."""
    from devstack import DevServer, free_port
    from infra.settings import connect, data_converter

    server = DevServer(port=free_port(), ui_port=None, db_file=tmp / "temporal.db").start()
    try:
        converter = ({"data_converter": data_converter({"EMERGENCY_CODEC_KEYS_FILE": str(keys_file)}, worker=True)}
                     if keys_file else {})
        client = await connect(target_host=server.address, **converter)
        async with build_worker(client, queue=queue, outbox=tmp / "outbox.jsonl", drill_outbox=tmp / "drill.jsonl",
                                archive=tmp / "archive",
                                **worker_options):
            yield server, client
    finally:
        server.stop()
