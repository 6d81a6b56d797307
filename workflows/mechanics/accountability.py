"""The register of 001 §7(4): 对在应急处置工作中有迟报、谎报、 瞒报和漏报…的,依据有关法律和规定对责任人予以严肃处理.

Every report the plans require is an :class:`Obligation` with a due time. It is judged on the time the
workflow received the report or delivery that discharged it; the officer's stated time is kept beside
it and can never turn a late report into an on-time one. Deadlines appear in the register too.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from plan.agencies import Agency
    from plan.models import (
        AccountabilityRecord,
        DeadlineStatus,
        IncidentPhase,
        IncidentType,
        Obligation,
        ObligationStatus,
    )
    from plan.state import IncidentState

BY_HAND = "by-hand/"
"""Prefix of the deadline to notify by hand after a failed notification (``by-hand/<step>/<recipient>``)."""

_DEADLINE_STATUS = {
    DeadlineStatus.MET: ObligationStatus.ON_TIME,
    DeadlineStatus.LATE: ObligationStatus.LATE,
    DeadlineStatus.PENDING: ObligationStatus.PENDING,
    DeadlineStatus.CANCELLED: ObligationStatus.NOT_REQUIRED,
}


class Register:
    """The obligations of one incident (``state.obligations``)."""

    def __init__(self, state: IncidentState) -> None:
        self.state = state

    def get(self, key: str) -> Obligation | None:
        return self.state.obligations.get(key)

    def require(self, key: str, title_zh: str, clause: str, due_at: datetime, recipient: Agency) -> bool:
        """A report the plan demands, due at ``due_at``; False if it was already required."""
        if key in self.state.obligations:
            return False
        self.state.obligations[key] = Obligation(
            id=key, title_zh=title_zh, clause=clause, due_at=due_at, status=ObligationStatus.PENDING,
            recipient=recipient,
        )
        return True

    def discharge(self, key: str, how: str, stated_at: datetime | None = None) -> None:
        """Done now (received now); ``stated_at`` is kept beside it, never used to judge."""
        o = self.state.obligations.get(key)
        if o is None or o.done_at is not None:
            return
        o.done_at = workflow.now()
        o.stated_at = stated_at
        o.how = how
        o.status = ObligationStatus.ON_TIME if o.done_at <= o.due_at else ObligationStatus.LATE

    def recipients(self) -> set[Agency]:
        """Everyone a required notification has gone or is going to."""
        return {o.recipient for o in self.state.obligations.values() if o.recipient is not None}

    def record(self, workflow_id: str, incident_type: IncidentType) -> AccountabilityRecord:
        """001 §7(4): every required report and deadline, on time, late (迟报), overdue (超时未报) or
        missing (漏报)."""
        s = self.state
        now = workflow.now()
        closed = s.phase is IncidentPhase.CLOSED
        items: list[Obligation] = []
        for d in s.deadlines.values():
            if d.id.startswith(BY_HAND):
                continue  # shown as the notification's own obligation
            if d.status is DeadlineStatus.MISSED:
                status = ObligationStatus.MISSING if closed else ObligationStatus.OVERDUE
            else:
                status = _DEADLINE_STATUS[d.status]
            items.append(
                Obligation(
                    id=f"deadline/{d.id}", title_zh=d.title_zh, clause=d.clause, due_at=d.due_at,
                    status=status, done_at=d.fulfilled_at, how="报告" if d.fulfilled_at else "",
                )
            )
        for o in s.obligations.values():
            if o.done_at is None:
                if closed:
                    status = ObligationStatus.MISSING  # 漏报: never sent
                elif now > o.due_at:
                    status = ObligationStatus.OVERDUE  # 超时未报: overdue, not yet sent
                else:
                    status = ObligationStatus.PENDING
                o = o.model_copy(update={"status": status})
            items.append(o)
        items.sort(key=lambda o: o.due_at)
        count = {st: sum(1 for o in items if o.status is st) for st in ObligationStatus}
        return AccountabilityRecord(
            workflow_id=workflow_id,
            incident_type=incident_type,
            obligations=items,
            on_time=count[ObligationStatus.ON_TIME],
            late=count[ObligationStatus.LATE],
            missing=count[ObligationStatus.MISSING],
            pending=count[ObligationStatus.PENDING],
            overdue=count[ObligationStatus.OVERDUE],
        )
