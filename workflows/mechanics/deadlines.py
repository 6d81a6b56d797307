"""Due times the plans set: reminders before, escalation at the due time, and recurring duties.

A :class:`Deadline` is met when fulfilled on time, late when fulfilled after it was missed, missed
(and escalated: 升级督办) at its due time, or cancelled when its situation ended. The incident goes on
either way. Each pending deadline has a watcher (durable timers), restarted by a continued run from the
carried state. A recurring duty (001 §4(9) 情形三 司法所应当每日与外出人员保持联系) is one deadline per
period, met by the duty's report.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from infra import metrics
    from plan import texts
    from plan.agencies import Agency
    from plan.models import Deadline, DeadlineStatus, EntryKind, IncidentInput
    from plan.state import IncidentState

from workflows.mechanics.timeline import Timeline

if TYPE_CHECKING:
    from workflows.mechanics.notifier import Notifier

ESCALATE_TO = (Agency.EMERGENCY_OFFICE, Agency.LEADERSHIP_GROUP)
"""Who is told of a missed deadline unless the clause names others (000 §2.2)."""


def deadline_kind(deadline_id: str) -> str:
    """A deadline's kind for metrics labels (bounded): ``ack/alarm-110/police_110`` -> ``ack``,
    ``daily-contact-12`` -> ``daily-contact``."""
    return re.sub(r"-\d+$", "", deadline_id.split("/")[0])


class Deadlines:
    """The deadlines of one incident (``state.deadlines``) and their watchers."""

    def __init__(
        self, state: IncidentState, timeline: Timeline, incident_type: str, title_zh: str,
        incident: Callable[[], IncidentInput],
    ) -> None:
        self.state = state
        self.timeline = timeline
        self.incident_type = incident_type
        self.title_zh = title_zh
        self.incident = incident
        self.notifier: Notifier
        """Set by the owner once the notifier exists (reminders and escalations are notifications)."""
        self.running = False
        """Watchers start once the run starts (deadlines set before, in ``__init__``, wait for it)."""
        self._watchers: list[asyncio.Task[Any]] = []

    # ------------------------------------------------------------------ set, met, cancelled

    def start(
        self,
        deadline_id: str,
        title_zh: str,
        clause: str,
        due_at: datetime,
        *,
        reminders: tuple[timedelta, ...] = (),
        escalate_to: tuple[Agency, ...] = ESCALATE_TO,
        watch: bool = True,
    ) -> Deadline:
        """An obligation with a due time. ``watch=False``: the caller awaits :meth:`wait` itself."""
        deadline = Deadline(
            id=deadline_id, title_zh=title_zh, clause=clause, due_at=due_at,
            reminders=list(reminders), escalate_to=list(escalate_to),
        )
        self.state.deadlines[deadline_id] = deadline
        self.timeline.record(EntryKind.DEADLINE_SET, f"{title_zh}:应于 {texts.fmt_time(due_at)} 前完成", clause=clause)
        if self.running and watch:
            self.watch(deadline)
        return deadline

    def fulfil(self, deadline_id: str, actor: str) -> None:
        """Fulfilled now: met if on time, late if it had already been missed."""
        d = self.state.deadlines.get(deadline_id)
        if d is None or d.status in (DeadlineStatus.MET, DeadlineStatus.LATE, DeadlineStatus.CANCELLED):
            return
        now = workflow.now()
        d.fulfilled_at = now
        if d.status is DeadlineStatus.MISSED or now > d.due_at:
            d.status = DeadlineStatus.LATE
            d.missed_at = d.missed_at or d.due_at
            text = f"{d.title_zh}:超时后完成(应于 {texts.fmt_time(d.due_at)})"
            kind = EntryKind.DEADLINE_LATE
        else:
            d.status = DeadlineStatus.MET
            text = f"{d.title_zh}:按时完成"
            kind = EntryKind.DEADLINE_MET
        self.timeline.record(kind, text, clause=d.clause, actor=actor)

    def cancel(self, deadline_id: str, reason_zh: str) -> None:
        """A deadline that no longer applies (its situation ended): recorded, no longer watched."""
        d = self.state.deadlines.get(deadline_id)
        if d is None or d.status is not DeadlineStatus.PENDING:
            return
        d.status = DeadlineStatus.CANCELLED
        self.timeline.record(EntryKind.DECISION, f"{d.title_zh}:{reason_zh},不再适用", clause=d.clause)

    def by_id(self, deadline_id: str) -> Deadline | None:
        return self.state.deadlines.get(deadline_id)

    def pending(self, prefix: str = "") -> list[Deadline]:
        """Deadlines still pending whose id starts with ``prefix``."""
        return [d for d in self.state.deadlines.values() if d.id.startswith(prefix) and d.status is DeadlineStatus.PENDING]

    def all(self) -> list[Deadline]:
        return list(self.state.deadlines.values())

    # ------------------------------------------------------------------ watching

    def start_watching(self) -> None:
        """The run has started: watch every pending deadline (a continued run's carried ones too)."""
        self.running = True
        for d in self.state.deadlines.values():
            if d.status is DeadlineStatus.PENDING:
                self.watch(d)

    def watch(self, deadline: Deadline) -> None:
        self._watchers.append(asyncio.ensure_future(self.wait(deadline)))

    def watch_with(self, coro: Any) -> None:
        """A watcher of another component's (an acknowledgement awaited); stopped with the rest."""
        self._watchers.append(asyncio.ensure_future(coro))

    async def wait(self, deadline: Deadline) -> None:
        """Remind before the due time, escalate at it; return once met or escalated."""

        def settled() -> bool:
            return deadline.status is not DeadlineStatus.PENDING

        for before in sorted(deadline.reminders, reverse=True):
            wait = deadline.due_at - before - workflow.now()
            if wait <= timedelta(0):
                continue
            try:
                await workflow.wait_condition(settled, timeout=wait, timeout_summary=f"{deadline.title_zh}·提醒")
                return
            except asyncio.TimeoutError:
                left = deadline.due_at - workflow.now()
                self.timeline.record(
                    EntryKind.REMINDER, f"{deadline.title_zh}:剩余{texts.fmt_duration(left)}", clause=deadline.clause
                )
                self.notifier.notify(
                    Agency.JUSTICE_OFFICE,
                    texts.deadline_reminder(self.incident(), self.title_zh, deadline, before),
                    step=f"{deadline.id}-reminder-{int(before.total_seconds())}",
                    clause=deadline.clause,
                    required=False,
                )
        wait = deadline.due_at - workflow.now()
        if wait > timedelta(0):
            try:
                await workflow.wait_condition(settled, timeout=wait, timeout_summary=deadline.title_zh)
                return
            except asyncio.TimeoutError:
                pass
        if settled():
            return
        self.missed(deadline)

    def missed(self, deadline: Deadline) -> None:
        """The due time passed: recorded, counted, and escalated to whom the deadline names."""
        deadline.status = DeadlineStatus.MISSED
        deadline.missed_at = workflow.now()
        metrics.deadline_missed(self.incident_type, deadline_kind(deadline.id))
        self.timeline.record(
            EntryKind.DEADLINE_MISSED,
            f"{deadline.title_zh}:已于 {texts.fmt_time(deadline.due_at)} 到期未完成,升级督办",
            clause=deadline.clause,
        )
        workflow.logger.warning("deadline missed", extra={"incident_type": self.incident_type, "step": deadline.id})
        text = texts.deadline_missed(self.incident(), self.title_zh, deadline)
        for to in deadline.escalate_to:
            self.notifier.notify(to, text, step=f"{deadline.id}-missed", clause=deadline.clause, required=False)

    async def stop(self) -> None:
        """Cancel the watchers (a reminder or escalation they issued is delivered regardless:
        notifications are not the watchers' children)."""
        for t in self._watchers:
            if not t.done():
                t.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        self._watchers.clear()

    def expire_unsettled(self) -> None:
        """The incident completes: what is still pending (an acknowledgement that never came) is missed."""
        for d in self.state.deadlines.values():
            if d.status is DeadlineStatus.PENDING:
                d.status, d.missed_at = DeadlineStatus.MISSED, workflow.now()

    # ------------------------------------------------------------------ recurring duties

    async def recurring(
        self,
        *,
        prefix: str,
        title_zh: Callable[[int], str],
        clause: str,
        anchor: datetime,
        period: timedelta,
        done: int,
        escalate_to: tuple[Agency, ...],
        until: Callable[[], bool],
    ) -> AsyncIterator[int]:
        """One deadline per period (``<prefix><n>``, due ``anchor + n * period``), each watched to its
        end (met by the duty's report, or escalated), and the period waited out; yields each period's
        number once it has ended without ``until`` becoming true. ``done``: periods already past (a
        continued run goes on from there)."""
        n = done
        while not until():
            n += 1
            due = anchor + n * period
            deadline = self.by_id(f"{prefix}{n}") or self.start(
                f"{prefix}{n}", title_zh(n), clause, due, escalate_to=escalate_to, watch=False
            )
            await self.wait(deadline)  # met by the duty's report, or escalated when missed
            remaining = due - workflow.now()
            if remaining.total_seconds() > 0 and not until():
                try:
                    await workflow.wait_condition(until, timeout=remaining, timeout_summary=f"第{n}日结束")
                except TimeoutError:
                    pass
            if until():
                return
            yield n
