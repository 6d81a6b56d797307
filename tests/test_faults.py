"""Fault tests on a real dev server (SQLite file) with workers as separate processes, killed for real.

1. kill -9 the worker while a notification is being delivered → a new worker finishes the incident and
   the receiver saw the notification once (the activity heartbeats: the retry starts within seconds);
2. stop and restart the dev server on its SQLite file while incidents wait on deadlines, one falling due
   during the outage → every incident still runs, the overdue deadline fires on restart, the other on time;
3. a channel down for a notification's whole retry budget → recorded and escalated to the emergency
   office; after recovery the later notifications are delivered and the failed one is closed by hand:
   nothing lost, nothing twice.

The plan numbers are not changed: the 30-minute arrival deadline falls due at a chosen real moment
because the ``dispatched`` report states a time in the past. Only test 3's worker shortens the
notification retry budget (a local policy, 10 min by default) to 6 s.

The fault worker is this file run as a script: ``python tests/test_faults.py`` (see ``fault_worker``).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":  # the fault worker process
    sys.path.insert(0, str(ROOT))


def fault_worker() -> None:
    """A normal worker (``worker.run_worker``) with a fault put into the local delivery channel.

    ``FAULT_MODE=hang``: the first delivery to ``FAULT_RECIPIENT`` is written to the outbox, then the
    activity hangs (it is killed there). ``FAULT_MODE=down``: deliveries to ``FAULT_RECIPIENT`` fail while
    ``$FAULT_DIR/down`` exists. ``FAULT_BUDGET_SECONDS`` shortens the notification retry budget.
    """
    mode = os.environ.get("FAULT_MODE", "")
    fault_dir = Path(os.environ.get("FAULT_DIR", "."))
    recipient = os.environ.get("FAULT_RECIPIENT", "command_centre")
    if os.environ.get("FAULT_BUDGET_SECONDS"):
        import plan.policy

        plan.policy.DEFAULT_POLICY = plan.policy.DeadlinePolicy(
            notification_budget=timedelta(seconds=float(os.environ["FAULT_BUDGET_SECONDS"]))
        )
    from activities.channels import OutboxChannel

    original = OutboxChannel.deliver

    async def deliver(self, delivery):
        if delivery.request.recipient.value == recipient:
            if mode == "down" and (fault_dir / "down").exists():
                with open(fault_dir / "failed-attempts", "a") as fh:
                    fh.write(delivery.request.idempotency_key + "\n")
                raise ConnectionError("channel down (fault injected)")
            if mode == "hang" and not (fault_dir / "hung").exists():
                duplicate = await original(self, delivery)  # the receiver has it now ...
                (fault_dir / "hung").write_text(delivery.request.idempotency_key)
                await asyncio.sleep(3600)  # ... but the worker dies before reporting success
                return duplicate
        return await original(self, delivery)

    OutboxChannel.deliver = deliver
    from infra import logging as logs
    from worker import run_worker

    logs.configure()
    asyncio.run(run_worker())


if __name__ == "__main__":
    fault_worker()
    raise SystemExit(0)

import pytest  # noqa: E402
import pytest_asyncio  # noqa: E402
from helpers import example  # noqa: E402

from activities.channels import read_outbox  # noqa: E402
from devstack import DevServer, free_port  # noqa: E402
from infra.settings import connect  # noqa: E402
from plan.models import DeadlineStatus, EntryKind, IncidentStatus  # noqa: E402
from starter.api import IncidentClient  # noqa: E402

pytestmark = pytest.mark.devserver


class Stack:
    def __init__(self, server: DevServer, tmp: Path) -> None:
        self.tmp = tmp
        self.server = server
        self.outbox = tmp / "outbox.jsonl"
        self.workers: list[subprocess.Popen[bytes]] = []
        self.api: IncidentClient

    def worker(self, name: str, **fault: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, "TEMPORAL_ADDRESS": self.server.address, "TEMPORAL_TASK_QUEUE": self.queue,
               "EMERGENCY_OUTBOX": str(self.outbox), "EMERGENCY_DRILL_OUTBOX": str(self.tmp / "drill.jsonl"),
               "LOG_FORMAT": "json", "FAULT_DIR": str(self.tmp), **fault}
        for k in ("EMERGENCY_CODEC_KEYS", "EMERGENCY_CODEC_KEYS_FILE", "EMERGENCY_ROSTER", "EMERGENCY_CHANNELS"):
            env.pop(k, None)
        log = open(self.tmp / f"{name}.log", "wb")
        proc = subprocess.Popen([sys.executable, str(Path(__file__))], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        self.workers.append(proc)
        return proc

    def stop_workers(self) -> None:
        for p in self.workers:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.workers:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.workers.clear()

    async def until(self, wf: str, pred, timeout: float = 60.0) -> IncidentStatus:
        deadline = time.monotonic() + timeout
        while True:
            try:
                st = await self.api.status(wf)
                if pred(st):
                    return st
            except Exception:  # server restarting, worker not yet polling
                st = None
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached in {timeout:.0f}s; timeline: "
                                     + ("\n".join(f"{e.kind} {e.step} {e.recipient}" for e in st.timeline) if st else "-"))
            await asyncio.sleep(0.2)

    def deliveries(self, wf: str) -> Counter[tuple[str, str]]:
        return Counter((d["step"], d["recipient"]) for d in read_outbox(self.outbox) if d["workflow_id"] == wf)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> AsyncIterator[DevServer]:
    """One dev server on a SQLite file for the module (the restart test stops and restarts it)."""
    server = DevServer(port=free_port(), ui_port=None, db_file=tmp_path_factory.mktemp("faults") / "temporal.db")
    server.start()
    yield server
    server.stop()


@pytest_asyncio.fixture
async def stack(server: DevServer, tmp_path: Path) -> AsyncIterator[Stack]:
    s = Stack(server, tmp_path)
    s.queue = "faults-" + uuid.uuid4().hex[:6]
    try:
        s.api = IncidentClient(await connect(target_host=s.server.address), s.queue)
        yield s
    finally:
        s.stop_workers()


def notified(st: IncidentStatus, step: str, recipient: str) -> list:
    return [e for e in st.timeline if e.kind is EntryKind.NOTIFICATION and e.step == step
            and e.recipient is not None and e.recipient.value == recipient]


async def finish_l1(s: Stack, wf: str) -> None:
    await s.api.report(wf, {"kind": "mediation_outcome", "actor": "人民调解组", "outcome": "agreement", "summary": "已调解"})
    await s.api.report(wf, {"kind": "closed", "actor": "北城司法所", "result": "已调解", "current_situation": "平稳",
                            "measures_taken": ["调解"]})
    await s.api.report(wf, {"kind": "aftermath_done", "actor": "区司法局应急办公室", "summary": "善后处置完毕"})
    await asyncio.wait_for(s.api.outcome(wf), 60)


async def test_kill_9_during_a_notification_a_new_worker_finishes_and_the_receiver_saw_it_once(stack: Stack):
    s = stack
    first = s.worker("worker-1", FAULT_MODE="hang", FAULT_RECIPIENT="command_centre")
    wf = (await s.api.start(example("L1", alert_id=f"KILL-{uuid.uuid4().hex[:6]}"))).workflow_id
    key = f"{wf}/information-report/command_centre"
    for _ in range(600):
        if (s.tmp / "hung").exists():
            break
        await asyncio.sleep(0.1)
    assert (s.tmp / "hung").read_text() == key, "the notification never started"
    assert s.deliveries(wf)[("information-report", "command_centre")] == 1  # the receiver has it ...
    # a slow delivery on a live worker keeps heartbeating: past the 10 s heartbeat timeout, no retry
    await asyncio.sleep(12)
    pending = (await s.api.handle(wf).describe()).raw_description.pending_activities
    assert [(p.attempt, p.HasField("last_heartbeat_time")) for p in pending] == [(1, True)]
    os.kill(first.pid, signal.SIGKILL)  # ... and the worker dies before the activity completes
    killed_at = time.monotonic()
    first.wait()
    s.worker("worker-2")
    st = await s.until(wf, lambda st: notified(st, "information-report", "command_centre"))
    retried_after = time.monotonic() - killed_at
    await s.api.report(wf, {"kind": "arrived", "actor": "北城司法所 值班员"})
    await finish_l1(s, wf)
    sent = s.deliveries(wf)
    print(f"\nkill -9: incident completed by a new worker; the command centre received the information "
          f"report {sent[('information-report', 'command_centre')]}x; the notification completed "
          f"{retried_after:.1f}s after the kill (heartbeat timeout 10 s, start-to-close 30 s)")
    assert sent[("information-report", "command_centre")] == 1
    assert all(n == 1 for n in sent.values()), sent  # nothing twice
    entry = notified(st, "information-report", "command_centre")
    assert len(entry) == 1 and "第2次尝试" in entry[0].text_zh  # delivered by the retry, recorded once
    desc = await s.api.handle(wf).describe()
    assert desc.status.name == "COMPLETED"


async def test_dev_server_restart_deadlines_survive_overdue_fires_on_restart_other_on_time(stack: Stack):
    s = stack
    s.worker("worker")
    ids = {name: (await s.api.start(example("L1", alert_id=f"RST-{name}-{uuid.uuid4().hex[:4]}",
                                            source="citizen_request", dispatch=None))).workflow_id
           for name in ("during-outage", "after-restart", "no-deadline-soon")}
    due = {}
    for name, seconds in (("after-restart", 16), ("during-outage", 5)):
        # the centre's instruction, stated 30 minutes minus a few seconds ago: arrival falls due then
        due[name] = datetime.now(UTC) + timedelta(seconds=seconds)
        await s.api.report(ids[name], {"kind": "dispatched", "actor": "区社会应急联动指挥中心", "designated_place": "工地门口",
                                       "designated_person": "北城司法所所长",
                                       "at": (due[name] - timedelta(minutes=30)).isoformat()})
    s.server.stop()  # outage: the first deadline falls due while the server is down
    down_at = datetime.now(UTC)
    assert down_at < due["during-outage"], "the machine was too slow to stop the server before the deadline"
    await asyncio.sleep(max(0.0, (due["during-outage"] - datetime.now(UTC)).total_seconds()) + 3)
    s.server.start()
    up_at = datetime.now(UTC)
    arrival = {}
    for name in due:
        # the miss is escalated (000 §4.3): the emergency office and the leadership group are told
        st = await s.until(ids[name], lambda st: {e.recipient.value for e in st.timeline if e.kind is
                                                  EntryKind.NOTIFICATION and e.step == "arrival-missed"}
                           >= {"emergency_office", "leadership_group"})
        arrival[name] = next(d for d in st.deadlines if d.id == "arrival")
        assert arrival[name].status is DeadlineStatus.MISSED
    running = {name: (await s.api.handle(wf).describe()).status.name for name, wf in ids.items()}
    lines = [f"  {n}: due {a.due_at:%H:%M:%S}, fired {a.missed_at:%H:%M:%S} "
             f"({(a.missed_at - a.due_at).total_seconds():.1f}s after due)" for n, a in arrival.items()]
    print(f"\nserver down {down_at:%H:%M:%S}–{up_at:%H:%M:%S}; after restart {running}\n" + "\n".join(lines))
    assert set(running.values()) == {"RUNNING"}
    outage = arrival["during-outage"]
    assert outage.due_at < up_at and outage.missed_at >= up_at - timedelta(seconds=1)  # fired on restart
    later = arrival["after-restart"]
    assert later.due_at > up_at and later.missed_at >= later.due_at  # fired when due, not before


async def test_channel_down_for_the_whole_budget_escalates_then_delivers_nothing_lost(stack: Stack):
    s = stack
    (s.tmp / "down").touch()
    s.worker("worker", FAULT_MODE="down", FAULT_RECIPIENT="command_centre", FAULT_BUDGET_SECONDS="6")
    wf = (await s.api.start(example("L1", alert_id=f"DOWN-{uuid.uuid4().hex[:6]}"))).workflow_id
    st = await s.until(wf, lambda st: any(e.step and e.step.startswith("notify-failed-information-report")
                                          for e in st.timeline if e.kind is EntryKind.NOTIFICATION))
    failed = [e for e in st.timeline if e.kind is EntryKind.NOTIFICATION_FAILED]
    assert [(e.step, e.recipient.value) for e in failed] == [("information-report", "command_centre")]
    attempts = (s.tmp / "failed-attempts").read_text().split()
    (s.tmp / "down").unlink()  # the channel recovers
    await s.api.report(wf, {"kind": "arrived", "actor": "北城司法所 值班员"})
    await s.api.report(wf, {"kind": "progress", "actor": "北城司法所", "current_situation": "双方已坐下协商"})
    await s.api.report(wf, {"kind": "notified_by_hand", "actor": "区司法局应急办公室 值班员",
                            "step": "information-report", "recipient": "command_centre"})
    await finish_l1(s, wf)
    out = await s.api.outcome(wf)
    sent = s.deliveries(wf)
    to_centre = {step: n for (step, r), n in sent.items() if r == "command_centre"}
    acc = {o.id: o.status.value for o in out.accountability.obligations}
    print(f"\nchannel down: {len(attempts)} failed attempts in the 6 s budget, then escalated to the emergency "
          f"office ({sent[('notify-failed-information-report-command_centre', 'emergency_office')]}x); after "
          f"recovery the command centre received {to_centre}; accountability: "
          f"{Counter(acc.values())}; duplicates: {sum(n - 1 for n in sent.values())}")
    assert len(attempts) >= 2 and set(attempts) == {f"{wf}/information-report/command_centre"}
    assert sent[("notify-failed-information-report-command_centre", "emergency_office")] == 1
    assert "information-report" not in to_centre  # never delivered by the channel ...
    assert acc["information-report/command_centre"] in ("on_time", "late")  # ... but made by hand, recorded
    assert to_centre.get("written-report") == 1 and any(k.startswith("progress-relay") for k in to_centre)
    assert "missing" not in acc.values()
    assert all(n == 1 for n in sent.values()), sent  # nothing twice
