"""Notifications: each its own activity, issued at once; **nothing waits on another** (urgent first).

A 110 call that waits behind an SMS gateway that is down is the one failure an emergency plan must
never have. :meth:`Notifier.notify` is the one place that decides what runs concurrently: every
notification is its own ``notify`` activity with its own retries and budget, scheduled in the workflow
task that issues it, and the caller goes on at once. Where a clause orders two steps, the order follows
the officers' reports, never the delivery of a message.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import Priority, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import PHONE_SLOT, NotifyReceipt, NotifyRequest
    from activities.notify import BAD_RECIPIENT, UNKNOWN_RECIPIENT
    from plan import texts
    from plan.agencies import Agency
    from plan.models import EntryKind, IncidentInput
    from plan.policy import DeadlinePolicy
    from plan.queues import URGENT_RECIPIENTS, notification_queue

from workflows import bureau as bureaus  # issue 17: the bureau's bodies and names
from workflows.mechanics.accountability import BY_HAND, Register
from workflows.mechanics.acknowledgements import Acknowledgements
from workflows.mechanics.deadlines import Deadlines
from workflows.mechanics.timeline import Timeline

R = TypeVar("R")

#: Recipients whose notifications are dispatched first when notifications queue up (priority key 1
#: of 1–5; every other notification has the default, 3).
URGENT_PRIORITY = Priority(priority_key=1)

MAX_IN_FLIGHT = 200
"""Notification activities one incident has running at a time (the server refuses a workflow task that
would leave more than 2,000 pending). Beyond it notifications wait their turn in the workflow, in order;
110 and 120 never wait. A relay of progress that is still waiting takes the next progress reports into
the same message (``merge``), so a flood of reports never floods the emergency office."""
MAX_MERGED_LINES = 20
MAX_MESSAGE_CHARS = 8000
"""The longest message a notification carries (``NotifyRequest.message_zh``). A longer one (the
written report of an incident that took thousands of reports) is cut with :data:`texts.MESSAGE_CLIPPED`:
the whole text stays on the record. Before, it failed the workflow task for ever (issue 13)."""
RELAYS_IN_FLIGHT = 2
"""Messages of one relay (``merge``: the progress relayed to one recipient) running at a time. While
they run, the next reports' facts gather in one waiting message of that relay: a flood of thousands
of progress reports reaches the emergency office as a few messages carrying every report (the rest
counted), and adds a few activities to the incident's history, not one per report (issue 13)."""
RELAY_PATCH = "relays-in-flight"
"""``workflow.patched`` id of :data:`RELAYS_IN_FLIGHT` (asked only when a third message of one relay
would start: histories recorded before it replay as they ran)."""


class _Waiting:
    """A notification waiting for a slot (see :data:`MAX_IN_FLIGHT`)."""

    __slots__ = ("req", "required", "ack_for", "fulfils", "future", "merge_key", "lines", "more")

    def __init__(self, req: NotifyRequest, required: bool, ack_for: str | None, fulfils: str | None,
                 future: asyncio.Future[bool], merge_key: str | None) -> None:
        self.req, self.required, self.ack_for, self.fulfils = req, required, ack_for, fulfils
        self.future, self.merge_key = future, merge_key
        self.lines = 0
        self.more = 0

    def add(self, line: str) -> None:
        """Another report's fact joins this message (bounded: the rest are counted)."""
        if self.lines < MAX_MERGED_LINES:
            self.lines += 1
            text = f"{self.req.message_zh}\n【后续进展】{line}"
        else:
            self.more += 1
            base = self.req.message_zh.split("\n(另有")[0]
            text = f"{base}\n(另有{self.more}条后续进展,见事件记录)"
        self.req = self.req.model_copy(update={"message_zh": text[:MAX_MESSAGE_CHARS]})


class Delivery:
    """A notification issued by :meth:`Notifier.notify`: its activity is already scheduled.

    Deliberately not awaitable: a clause never waits for a message to land (``await self.notify(...)``
    is a ``TypeError``). Only a mechanic acting on this same notification's result reads it.
    """

    __slots__ = ("_task",)

    def __init__(self, task: asyncio.Future[bool]) -> None:
        self._task = task

    @property
    def done(self) -> bool:
        return self._task.done()

    async def delivered(self) -> bool:
        """True once delivered, False once it failed for its whole budget."""
        return await asyncio.shield(self._task)


class Notifier:
    """Issues notifications and records what became of each (see the module docstring)."""

    def __init__(
        self,
        *,
        timeline: Timeline,
        register: Register,
        deadlines: Deadlines,
        acks: Acknowledgements,
        policy: DeadlinePolicy,
        incident_type: str,
        title_zh: str,
        incident: Callable[[], IncidentInput],
        bureau: bureaus.BureauProfile | None = None,
    ) -> None:
        self.bureau = bureau
        """The bureau running the incident (issue 17): whom 000's bodies stand for, and every name."""
        self.timeline = timeline
        self.register = register
        self.deadlines = deadlines
        self.acks = acks
        self.policy = policy
        self.incident_type = incident_type
        self.title_zh = title_zh
        self.incident = incident
        self._work: list[asyncio.Future[Any]] = []
        self._pending: dict[str, dict[str, Any]] = {}
        """Notifications issued and not yet delivered or failed, by idempotency key (carried on continue-as-new)."""
        self._daemons: list[asyncio.Task[Any]] = []
        self._running = 0
        self._waiting: deque[_Waiting] = deque()
        self._mergeable: dict[str, _Waiting] = {}
        self._relaying: dict[str, int] = {}
        """Messages of each relay (merge key) running now (:data:`RELAYS_IN_FLIGHT`)."""
        self.receipts: dict[str, NotifyReceipt] = {}
        """Receipts of delivered notifications by idempotency key (a duty task's receipt names its person)."""

    def notify(
        self,
        recipient: Agency,
        message_zh: str,
        *,
        step: str,
        clause: str,
        phone: str | None = None,
        required: bool = True,
        ack_for: str | None = None,
        fulfils: str | None = None,
        merge: str | None = None,
        duty_task: bool = False,
        duty_counterpart: Agency | None = None,
        name_zh: str | None = None,
    ) -> Delivery:
        """Issue one notification now; the caller goes on at once.

        The issue goes on the timeline at once (``notification_issued``), the delivery when it lands
        (``notification``, with channel and attempt) or fails (``notification_failed``). ``required``: a
        report the plan demands (001 §7(4)), due within the ``immediate`` policy, in the register. To a
        recipient in ``policy.ack_required`` a required notification also awaits the recipient's
        acknowledgement (回执); ``ack_for`` marks a re-send. A notification that cannot be delivered
        within the budget is recorded as failed and the emergency office is told to notify by hand.
        ``fulfils``: the deadline its delivery meets (the 24 h feedback of 000 §3(3)). ``merge``: the
        fact this message adds, for a relay that may join a message of the same relay still waiting.

        Issue 17: at a bureau without a linkage plan 000's emergency office and leadership group are its
        001 §3 总指挥部办公室 and 总指挥部 (``workflows/bureau.py`` ``recipient``); every recipient is named
        as the bureau names it, or ``name_zh`` (a county's bureau, with its ``phone``).
        """
        if self.timeline.muted:  # a continued run catching up: issued by an earlier run already
            done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            done.set_result(True)
            return Delivery(done)
        info = workflow.info()
        recipient = bureaus.recipient(self.bureau, recipient)
        name = name_zh or bureaus.name_zh(self.bureau, recipient)
        key = f"{step}/{recipient.value}"
        merge_key = f"{re.sub(r'-[0-9]+$', '', step)}/{recipient.value}" if merge is not None else None
        carrier = self._mergeable.get(merge_key) if merge_key else None
        if carrier is not None and merge is not None:
            # Its facts ride on a message of the same relay still waiting for a slot (already required).
            carrier.add(merge)
            self._pending[carrier.req.idempotency_key]["request"] = carrier.req.model_dump(mode="json")
            self.timeline.record(
                EntryKind.NOTIFICATION_ISSUED, f"发出通知:{name}(并入待发的{carrier.req.step})",
                clause=clause, recipient=recipient, step=step,
            )
            return Delivery(carrier.future)
        if required:
            self.register.require(
                key, f"通知{name}", clause, workflow.now() + self.policy.immediate, recipient
            )
        if len(message_zh) > MAX_MESSAGE_CHARS:
            message_zh = message_zh[:MAX_MESSAGE_CHARS - len(texts.MESSAGE_CLIPPED)] + texts.MESSAGE_CLIPPED
        inp = self.incident()
        req = NotifyRequest(
            idempotency_key=f"{info.workflow_id}/{key}",
            workflow_id=info.workflow_id,
            incident_type=self.incident_type,
            step=step,
            clause=clause,
            recipient=recipient,
            recipient_phone=phone,
            message_zh=message_zh,
            drill=inp.drill,
            jurisdiction=(inp.jurisdiction.justice_office, inp.jurisdiction.county),
            duty_task=duty_task,
            duty_counterpart=duty_counterpart,
            recipient_name_zh=name_zh,
            bureau=self.bureau.id if self.bureau else None,
        )
        self.timeline.record(
            EntryKind.NOTIFICATION_ISSUED, f"发出通知:{name}",
            clause=clause, recipient=recipient, step=step,
        )
        return Delivery(self._issue(req, required=required, ack_for=ack_for, fulfils=fulfils, merge_key=merge_key))

    def _issue(self, req: NotifyRequest, *, required: bool, ack_for: str | None, fulfils: str | None,
               merge_key: str | None = None) -> asyncio.Future[bool]:
        self._pending[req.idempotency_key] = {"request": req.model_dump(mode="json"), "required": required,
                                               "ack_for": ack_for, "fulfils": fulfils}
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        item = _Waiting(req, required, ack_for, fulfils, future, merge_key)
        self._work.append(future)
        if self._may_start(item):
            self._start(item)
        else:
            self._waiting.append(item)
            if merge_key:
                self._mergeable[merge_key] = item
        return future

    def _may_start(self, item: _Waiting) -> bool:
        if item.req.recipient in URGENT_RECIPIENTS:
            return True
        if self._running >= MAX_IN_FLIGHT:
            return False
        key = item.merge_key
        return not (key and self._relaying.get(key, 0) >= RELAYS_IN_FLIGHT and workflow.patched(RELAY_PATCH))

    def _start(self, item: _Waiting) -> None:
        key = item.merge_key
        if key and self._mergeable.get(key) is item:
            del self._mergeable[key]
        self._running += 1
        if key:
            self._relaying[key] = self._relaying.get(key, 0) + 1
        task = asyncio.ensure_future(
            self._deliver(item.req, required=item.required, ack_for=item.ack_for, fulfils=item.fulfils))

        def landed(t: asyncio.Task[bool]) -> None:
            self._running -= 1
            if key:
                self._relaying[key] -= 1
            if t.cancelled():
                item.future.cancel()
            elif t.exception() is not None:
                item.future.set_exception(t.exception())  # type: ignore[arg-type]
            else:
                item.future.set_result(t.result())
            self._start_waiting()

        task.add_done_callback(landed)

    def _start_waiting(self) -> None:
        """Start what may start now, in order; the rest keeps its place."""
        kept: deque[_Waiting] = deque()
        while self._waiting:
            item = self._waiting.popleft()
            if self._may_start(item):
                self._start(item)
            else:
                kept.append(item)
        self._waiting = kept

    def in_flight(self) -> list[dict[str, Any]]:
        """What is still on its way, for the next run to issue again (continue-as-new)."""
        return list(self._pending.values())

    def reissue(self, carried: list[dict[str, Any]]) -> None:
        """Issue again what an earlier run had in flight, under the same idempotency keys (the issue is
        on the timeline already; receivers deduplicate by key)."""
        for item in carried:
            self._issue(NotifyRequest.model_validate(item["request"]), required=bool(item["required"]),
                        ack_for=item.get("ack_for"), fulfils=item.get("fulfils"))

    def name(self, agency: Agency) -> str:
        """The recipient as the bureau running the incident names it."""
        return bureaus.name_zh(self.bureau, agency)

    def notify_all(self, recipients: list[Agency], message: Any, *, step: str, clause: str,
                   merge: str | None = None) -> list[Delivery]:
        """Several recipients at the same time (the plan's 同时); ``message(to)`` builds each text."""
        return [
            self.notify(to, message(to) if callable(message) else message, step=step, clause=clause, merge=merge)
            for to in recipients
        ]

    def settled(self) -> bool:
        """Every notification (and spawned work) so far has finished (each is bounded by its budget)."""
        return all(t.done() for t in self._work)

    def spawn(self, coro: Coroutine[Any, Any, R]) -> asyncio.Task[R]:
        """Work beside the clause; finished before the incident completes or continues as new."""
        task = asyncio.ensure_future(coro)
        self._work.append(task)
        return task

    def spawn_daemon(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Work that lives as long as the run (the report pump); nothing waits for it to finish."""
        self._daemons.append(asyncio.ensure_future(coro))

    def forget_finished(self) -> None:
        self._work.clear()

    async def _deliver(self, req: NotifyRequest, *, required: bool, ack_for: str | None, fulfils: str | None) -> bool:
        """Run one ``notify`` activity to its end and record what became of it."""
        try:
            delivered = await self._run(req, required=required, ack_for=ack_for)
        finally:
            self._pending.pop(req.idempotency_key, None)
        if delivered and fulfils is not None:
            self.deadlines.fulfil(fulfils, "系统")
        return delivered

    async def _run(self, req: NotifyRequest, *, required: bool, ack_for: str | None) -> bool:
        recipient, step, clause, message_zh = req.recipient, req.step, req.clause, req.message_zh
        key = f"{step}/{recipient.value}"
        try:
            receipt = await workflow.execute_activity(
                "notify",
                req,
                result_type=NotifyReceipt,
                start_to_close_timeout=timedelta(seconds=30),
                heartbeat_timeout=timedelta(seconds=10),  # heartbeats: infra/heartbeat.py
                schedule_to_close_timeout=self.policy.notification_budget,
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=1),
                    backoff_coefficient=2.0,
                    maximum_interval=timedelta(seconds=30),
                    non_retryable_error_types=[UNKNOWN_RECIPIENT, BAD_RECIPIENT],
                ),
                summary=f"通知{self.name(recipient)}",
                # A call to the police or the ambulance goes ahead of other notifications waiting in
                # the queue (a city-wide burst of incidents): the worst failure is a late 110 call.
                priority=URGENT_PRIORITY if recipient in URGENT_RECIPIENTS else Priority.default,
                # 110 and 120 on the incident's own queue (dispatched eagerly); every other notification
                # on ``<queue>-notifications``, with slots of its own (plan/queues.py, issue 19)
                task_queue=notification_queue(workflow.info().task_queue, recipient),
            )
        except ActivityError as err:
            self._failed(req, err, required=required)
            return False
        self.register.discharge(key, texts.SYSTEM)
        self.receipts[req.idempotency_key] = receipt
        if receipt.counterpart_phone:  # a duty task: the number the activity wrote in (mechanics/duties.py)
            message_zh = message_zh.replace(PHONE_SLOT, receipt.counterpart_phone)
        self.timeline.record(
            EntryKind.NOTIFICATION, texts.delivered(receipt.recipient_name_zh, receipt.channel, receipt.attempt, message_zh),
            clause=clause, recipient=recipient, step=step,
        )
        if ack_for is not None:
            self.acks.resent(req.idempotency_key, ack_for)
        elif required and receipt.ack_expected and recipient in self.policy.ack_required:
            self.acks.expect(req.idempotency_key, recipient, message_zh, step=step, clause=clause)
        workflow.logger.info(
            "notified", extra={"incident_type": self.incident_type, "step": step, "recipient": recipient.value}
        )
        return True

    def _failed(self, req: NotifyRequest, err: ActivityError, *, required: bool) -> None:
        recipient, step, clause = req.recipient, req.step, req.clause
        key = f"{step}/{recipient.value}"
        cause = err.cause
        reason = cause.message if isinstance(cause, ApplicationError) else type(cause).__name__
        self.timeline.record(
            EntryKind.NOTIFICATION_FAILED, f"通知{req.recipient_name_zh or self.name(recipient)}失败:{reason}",
            clause=clause, recipient=recipient, step=step,
        )
        workflow.logger.error(
            "notification failed",
            extra={"incident_type": self.incident_type, "step": step, "recipient": recipient.value, "reason": reason},
        )
        obligation = self.register.get(key)
        if required and obligation is not None:
            # The obligation stays open: the duty officer must notify by hand and record it
            # (``notified_by_hand``) before it falls due, or it is escalated (001 §7(4) 漏报).
            self.deadlines.start(f"{BY_HAND}{key}", f"人工补报:通知{self.name(recipient)}", clause, obligation.due_at)
        if recipient is not bureaus.recipient(self.bureau, Agency.EMERGENCY_OFFICE) and not step.startswith("notify-failed"):
            self.notify(
                Agency.EMERGENCY_OFFICE,
                texts.notification_failed(self.incident(), self.title_zh, recipient, clause, step),
                step=f"notify-failed-{step}-{recipient.value}",
                clause=clause,
                required=False,
            )
