"""Recipients' acknowledgements (回执) of the notifications that need one (110, 120, the centre).

A required notification to a recipient in ``policy.ack_required`` awaits its acknowledgement (the
``acknowledge`` signal, from the gateway's callback or an officer): without one in ``ack_timeout`` it
is sent again (``ack_renotify`` times), then escalated to the emergency office and the leadership
group when the whole budget is spent.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from plan import texts
    from plan.agencies import AGENCY_NAME_ZH, Agency
    from plan.models import Acknowledgement, Deadline, DeadlineStatus, EntryKind
    from plan.policy import DeadlinePolicy
    from plan.state import IncidentState

from workflows.mechanics.deadlines import ESCALATE_TO, Deadlines
from workflows.mechanics.timeline import Timeline

if TYPE_CHECKING:
    from workflows.mechanics.notifier import Notifier

ACK = "ack/"
"""Prefix of the deadline for a recipient's acknowledgement (``ack/<step>/<recipient>``)."""


class Acknowledgements:
    def __init__(self, state: IncidentState, timeline: Timeline, deadlines: Deadlines, policy: DeadlinePolicy) -> None:
        self.state = state
        self.timeline = timeline
        self.deadlines = deadlines
        self.policy = policy
        self.notifier: Notifier
        """Set by the owner (a re-send is a notification)."""

    def expect(self, key: str, recipient: Agency, message_zh: str, *, step: str, clause: str) -> None:
        """The notification with idempotency key ``key`` was delivered: its 回执 is now awaited."""
        p = self.policy
        deadline = self.deadlines.start(
            f"{ACK}{step}/{recipient.value}",
            f"{AGENCY_NAME_ZH[recipient]}回执",
            clause,
            workflow.now() + p.ack_timeout * (p.ack_renotify + 1),
            escalate_to=ESCALATE_TO,
            watch=False,
        )
        self.state.ack_of[key] = deadline.id
        self.deadlines.watch_with(self._await(deadline, recipient, message_zh, step, clause))

    def resent(self, key: str, deadline_id: str) -> None:
        """A re-send (key ``key``) answers the same acknowledgement deadline."""
        self.state.ack_of[key] = deadline_id

    def awaited(self) -> bool:
        """Some acknowledgement is still awaited."""
        return bool(self.deadlines.pending(ACK))

    def receive(self, ack: Acknowledgement) -> str | None:
        """Record an acknowledgement; the reason it cannot be taken, or None."""
        deadline_id = self.state.ack_of.get(ack.key)
        deadline = self.deadlines.by_id(deadline_id) if deadline_id else None
        if deadline is None:
            return "acknowledge: key: no notification of this incident awaits an acknowledgement with this key"
        if deadline.status in (DeadlineStatus.MET, DeadlineStatus.LATE):
            return None  # a gateway repeating its callback
        self.timeline.record(
            EntryKind.ACKNOWLEDGED,
            f"收到回执:{deadline.title_zh.removesuffix('回执')}({ack.by})",
            clause=deadline.clause,
            actor=ack.by,
            step=deadline.id,
        )
        self.deadlines.fulfil(deadline.id, ack.by)
        return None

    async def _await(self, deadline: Deadline, recipient: Agency, message_zh: str, step: str, clause: str) -> None:
        renotify = self.policy.ack_renotify
        for n in range(1, renotify + 1):
            at = deadline.due_at - (renotify + 1 - n) * self.policy.ack_timeout
            wait = at - workflow.now()
            if wait > timedelta(0):
                try:
                    await workflow.wait_condition(
                        lambda: deadline.status is not DeadlineStatus.PENDING,
                        timeout=wait,
                        timeout_summary=f"{deadline.title_zh}·等待",
                    )
                    return
                except asyncio.TimeoutError:
                    pass
            if deadline.status is not DeadlineStatus.PENDING:
                return
            self.timeline.record(
                EntryKind.REMINDER,
                f"{deadline.title_zh}:{texts.fmt_duration(self.policy.ack_timeout)}内未收到回执,第{n}次重新通知",
                clause=clause,
                recipient=recipient,
            )
            self.notifier.notify(
                recipient, f"【重复通知】{message_zh}", step=f"{step}-renotify-{n}", clause=clause,
                required=False, ack_for=deadline.id,
            )
        await self.deadlines.wait(deadline)
