"""110 and 120 never share a task queue with the other notifications (issue 19, plan/queues.py): they
stay on the incident's own queue, every other notification runs on ``<queue>-notifications``, which the
worker as shipped also polls, and a flood of other notifications does not hold up a 110 call (001 §4(1):
司法所应当立即向公安“110”或执行地公安派出所报警)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from helpers import Harness
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from activities.channels import Delivery, OutboxChannel, read_outbox
from activities.notify import Notifier
from plan.agencies import load_directory
from plan.queues import URGENT_RECIPIENTS, notification_queue, notifications_queue
from worker import build_worker


async def scheduled_queues(env: WorkflowEnvironment, wf: str) -> dict[str, str]:
    """Recipient of every notification activity scheduled so far -> the task queue it was scheduled on."""
    out = {}
    async for event in env.client.get_workflow_handle(wf).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            req = env.client.data_converter.payload_converter.from_payload(attrs.input.payloads[0], dict)
            out[f"{req['step']}/{req['recipient']}"] = attrs.task_queue.name
    return out


def test_the_queue_rule():
    from plan.agencies import Agency

    assert notifications_queue("judicial-emergency") == "judicial-emergency-notifications"
    assert notification_queue("q", Agency.POLICE_110) is None  # the workflow's own queue
    assert notification_queue("q", Agency.MEDICAL_120) is None
    assert notification_queue("q", Agency.CORRECTION_SECTION) == notification_queue("q", Agency.FAMILY) == "q-notifications"
    assert URGENT_RECIPIENTS == {Agency.POLICE_110, Agency.MEDICAL_120}


async def test_the_default_worker_delivers_110_and_the_others_from_their_queues(harness: Harness,
                                                                               env: WorkflowEnvironment):
    """The session's worker is ``worker.build_worker`` as shipped: the 110 call is scheduled on the
    incident's queue, the section's report of the same step and the information report on
    ``<queue>-notifications``; all are delivered."""
    wf = await harness.start("C1")
    await harness.until_step(wf, "alarm-110", count=2)
    queues = await scheduled_queues(env, wf)
    assert queues["alarm-110/police_110"] == harness.queue
    assert queues["alarm-110/correction_section"] == notifications_queue(harness.queue)
    assert queues["information-report/emergency_office"] == notifications_queue(harness.queue)
    await harness.until_step(wf, "information-report", count=2)
    assert [d["recipient"] for d in harness.outbox() if d["step"] == "alarm-110"].count("police_110") == 1
    await harness.report(wf, "casualties", injured=2)  # 如有人员伤亡的,应立即拨打 120
    await harness.until_step(wf, "medical-120-1")
    assert (await scheduled_queues(env, wf))["medical-120-1/medical_120"] == harness.queue


class HeldChannel(OutboxChannel):
    """Holds every delivery but 110's and 120's until released: the incidents' queue flooded and its
    activity slots all taken by slow deliveries."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.release = asyncio.Event()
        self.held = 0

    async def deliver(self, delivery: Delivery) -> bool:
        if delivery.request.recipient not in URGENT_RECIPIENTS:
            self.held += 1
            await self.release.wait()
        return await super().deliver(delivery)


async def test_a_flood_of_other_notifications_does_not_hold_up_110(env: WorkflowEnvironment, tmp_path: Path):
    """Eight C1 incidents at once, the other notifications' queue down to 2 activity slots, every
    notification but 110's held by its channel: 32 other notifications wait (2 running, 30 queued), and
    all eight 110 calls are delivered meanwhile. On one shared queue they would wait behind the held ones."""
    outbox = tmp_path / "outbox.jsonl"
    channel = HeldChannel(outbox)
    notifier = Notifier(load_directory(), channel, channel)
    queue = "test-urgent-flood"
    OPENING = 8  # notifications a C1 issues in its first workflow task
    h = Harness(env, queue, outbox)
    worker = build_worker(env.client, queue=queue, activities=[notifier.notify], notification_slots=2)
    async with worker:
        ids = [await h.start("C1") for _ in range(8)]
        try:
            t0 = time.monotonic()
            while sum(1 for d in read_outbox(outbox) if d["recipient"] == "police_110") < len(ids):
                assert time.monotonic() - t0 < 20, "110 calls held up behind other notifications"
                await asyncio.sleep(0.05)
            delivered = read_outbox(outbox)
            assert {d["workflow_id"] for d in delivered} == set(ids)
            assert {d["recipient"] for d in delivered} == {"police_110"}  # nothing else got through yet
            assert channel.held == 2  # the notifications queue's two slots are busy with held deliveries
            for wf in ids:  # the others are issued, scheduled on the notifications queue, and waiting
                queues = await scheduled_queues(env, wf)
                assert {k: v for k, v in queues.items() if v == queue} == {"alarm-110/police_110": queue}
                # 110 and the section (alarm-110), the information report x2, the level report, and the
                # officers' duty tasks (the 司法所's 110 phone duty, on-site duties of office and section)
                assert len(queues) == OPENING, queues
            channel.release.set()
            for wf in ids:  # once the flood drains, every opening notification is delivered
                await h.until_step(wf, "level-report")
                await h.until_step(wf, "information-report", count=2)
            assert len({(d["workflow_id"], d["step"], d["recipient"]) for d in read_outbox(outbox)}) == OPENING * len(ids)
        finally:
            channel.release.set()
            for wf in ids:  # nobody polls this queue after the test: leave no incident to the server
                await env.client.get_workflow_handle(wf).terminate("test over")


async def test_a_110_outbox_write_does_not_queue_behind_other_writes(tmp_path: Path, monkeypatch):
    """In the worker's process the outbox writes run in threads: 40 slow writes to the section queue for
    them, and the 110 call issued after them is written while they are still queued (its own thread)."""
    import activities.channels as channels
    from activities.contracts import NotifyRequest
    from plan.agencies import Agency

    fields = channels.delivery_fields

    def slow(delivery: Delivery) -> dict:  # before the file's lock: writes run in parallel, 4 at a time
        time.sleep(0.05)
        return fields(delivery)

    monkeypatch.setattr(channels, "delivery_fields", slow)
    outbox = OutboxChannel(tmp_path / "outbox.jsonl", codec=None)
    done: list[str] = []

    async def deliver(i: int, to: Agency) -> None:
        req = NotifyRequest(idempotency_key=f"wf-{i}/{to.value}", workflow_id=f"wf-{i}", incident_type="C1",
                            step="alarm-110", clause="001 §4(1)", recipient=to, message_zh="(ours) 测试")
        await outbox.deliver(Delivery(req, "x", "0576-84110001", "2026-11-23T08:30:00+08:00"))
        done.append(to.value)

    others = [asyncio.create_task(deliver(i, Agency.CORRECTION_SECTION)) for i in range(40)]
    await asyncio.sleep(0)  # all 40 queued for the threads first
    await asyncio.gather(deliver(99, Agency.POLICE_110), *others)
    assert done.index("police_110") < 8, done  # not 41st: it did not wait for the 40 before it
    assert len(read_outbox(tmp_path / "outbox.jsonl", codec=None)) == 41
