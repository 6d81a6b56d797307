"""Notifications: each its own activity, issued at once; **nothing waits on another** (urgent first).

A 110 call that waits behind an SMS gateway that is down is the one failure an emergency plan must
never have. :meth:`Notifier.notify` is the one place that decides what runs concurrently: every
notification is its own ``notify`` activity with its own retries and budget, scheduled in the workflow
task that issues it, and the caller goes on at once. Where a clause orders two steps, the order follows
the officers' reports, never the delivery of a message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import Priority, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import NotifyReceipt, NotifyRequest
    from activities.notify import BAD_RECIPIENT, UNKNOWN_RECIPIENT
    from plan import texts
    from plan.agencies import Agency
    from plan.models import EntryKind, IncidentInput
    from plan.policy import DeadlinePolicy

from workflows import bureau as bureaus  # issue 17: the bureau's bodies and names
from workflows.mechanics.accountability import BY_HAND, Register
from workflows.mechanics.acknowledgements import Acknowledgements
from workflows.mechanics.deadlines import Deadlines
from workflows.mechanics.timeline import Timeline

R = TypeVar("R")

#: Recipients whose notifications are dispatched first when notifications queue up (priority key 1
#: of 1–5; every other notification has the default, 3).
URGENT_RECIPIENTS = frozenset({Agency.POLICE_110, Agency.MEDICAL_120})
URGENT_PRIORITY = Priority(priority_key=1)


class Delivery:
    """A notification issued by :meth:`Notifier.notify`: its activity is already scheduled.

    Deliberately not awaitable: a clause never waits for a message to land (``await self.notify(...)``
    is a ``TypeError``). Only a mechanic acting on this same notification's result reads it.
    """

    __slots__ = ("_task",)

    def __init__(self, task: asyncio.Task[bool]) -> None:
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
        self._work: list[asyncio.Task[Any]] = []

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
        name_zh: str | None = None,
    ) -> Delivery:
        """Issue one notification now; the caller goes on at once.

        The issue goes on the timeline at once (``notification_issued``), the delivery when it lands
        (``notification``, with channel and attempt) or fails (``notification_failed``). ``required``: a
        report the plan demands (001 §7(4)), due within the ``immediate`` policy, in the register. To a
        recipient in ``policy.ack_required`` a required notification also awaits the recipient's
        acknowledgement (回执); ``ack_for`` marks a re-send. A notification that cannot be delivered
        within the budget is recorded as failed and the emergency office is told to notify by hand.

        Issue 17: at a bureau without a linkage plan 000's emergency office and leadership group are its
        001 §3 总指挥部办公室 and 总指挥部 (``workflows/bureau.py`` ``recipient``); every recipient is named
        as the bureau names it, or ``name_zh`` (a county's bureau, with its ``phone``).
        """
        info = workflow.info()
        recipient = bureaus.recipient(self.bureau, recipient)
        name = name_zh or bureaus.name_zh(self.bureau, recipient)
        key = f"{step}/{recipient.value}"
        if required:
            self.register.require(
                key, f"通知{name}", clause, workflow.now() + self.policy.immediate, recipient
            )
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
            recipient_name_zh=name_zh,
            bureau=self.bureau.id if self.bureau else None,
        )
        self.timeline.record(
            EntryKind.NOTIFICATION_ISSUED, f"发出通知:{name}",
            clause=clause, recipient=recipient, step=step,
        )
        task = asyncio.ensure_future(self._deliver(req, required=required, ack_for=ack_for))
        self._work.append(task)
        return Delivery(task)

    def name(self, agency: Agency) -> str:
        """The recipient as the bureau running the incident names it."""
        return bureaus.name_zh(self.bureau, agency)

    def notify_all(self, recipients: list[Agency], message: Any, *, step: str, clause: str) -> list[Delivery]:
        """Several recipients at the same time (the plan's 同时); ``message(to)`` builds each text."""
        return [
            self.notify(to, message(to) if callable(message) else message, step=step, clause=clause)
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

    def forget_finished(self) -> None:
        self._work.clear()

    async def _deliver(self, req: NotifyRequest, *, required: bool, ack_for: str | None) -> bool:
        """Run one ``notify`` activity to its end and record what became of it."""
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
            )
        except ActivityError as err:
            self._failed(req, err, required=required)
            return False
        self.register.discharge(key, "系统")
        via = f"(渠道 {receipt.channel}" + (f",第{receipt.attempt}次尝试" if receipt.attempt > 1 else "") + ")"
        self.timeline.record(
            EntryKind.NOTIFICATION, f"已通知{receipt.recipient_name_zh}{via}:{message_zh}",
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
