"""The incident's record: every line with time, actor and the clause it fulfils, and its details.

Every notification, report, refusal, deadline and decision is a :class:`TimelineEntry`. The record
also keeps the workflow's current details (the Chinese summary the Web UI shows) and the officers'
search attributes (phase, a missed deadline) up to date, by the safe rule of
``infra/search_attributes.changed_updates``.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from infra import search_attributes as sa
    from plan import texts
    from plan.agencies import Agency
    from plan.models import DeadlineStatus, EntryKind, IncidentPhase, TimelineEntry
    from plan.state import IncidentState

PHASE_ZH = {
    IncidentPhase.OPEN: "处置中",
    IncidentPhase.HANDLED: "处置完毕,待事后总结",
    IncidentPhase.CLOSED: "已办结",
}


class Timeline:
    """Appends to ``state.timeline``; each entry refreshes the details."""

    def __init__(self, state: IncidentState, title_zh: str, clause: str, *, live: bool) -> None:
        self.state = state
        self.title_zh = title_zh
        self.clause = clause
        self.live = live
        """False for an incident whose input was invalid: nothing is shown or upserted."""

    def record(
        self,
        kind: EntryKind,
        text_zh: str,
        *,
        clause: str,
        actor: str = "系统",
        recipient: Agency | None = None,
        step: str | None = None,
    ) -> TimelineEntry:
        s = self.state
        entry = TimelineEntry(
            seq=s.archived + len(s.timeline) + 1,
            at=workflow.now(),
            kind=kind,
            actor=actor,
            clause=clause,
            text_zh=text_zh,
            recipient=recipient,
            step=step,
        )
        s.timeline.append(entry)
        self.refresh()
        return entry

    def decide(self, text_zh: str, clause: str, *, actor: str = "系统") -> None:
        """Record a decision or a step the plan prescribes (no message sent)."""
        self.record(EntryKind.DECISION, text_zh, clause=clause, actor=actor)
        self.state.course.append(text_zh)

    def entry(self, seq: int) -> TimelineEntry | None:
        """The entry numbered ``seq``, if this run still holds it."""
        i = seq - self.state.archived - 1
        return self.state.timeline[i] if 0 <= i < len(self.state.timeline) else None

    def refresh(self) -> None:
        """The Web UI's current details and the officers' search attributes, from the state."""
        if not self.live:
            return
        s = self.state
        pending = [d for d in s.deadlines.values() if d.status is DeadlineStatus.PENDING]
        overdue = [d for d in s.deadlines.values() if d.status is DeadlineStatus.MISSED]
        lines = [f"**{self.title_zh}**({self.clause})", f"状态:{PHASE_ZH[s.phase]}"]
        if s.plan_active:
            lines.append("领导小组已启动预案")
        lines += [f"待办时限:{d.title_zh},{texts.fmt_time(d.due_at)} 到期" for d in pending]
        lines += [f"已超时:{d.title_zh}(应于 {texts.fmt_time(d.due_at)})" for d in overdue]
        lines += [f"关联事件:{r}" for r in s.related]
        workflow.set_current_details("\n\n".join(lines))
        updates = sa.changed_updates(
            workflow.info().typed_search_attributes,
            {sa.INCIDENT_PHASE: s.phase.value, sa.INCIDENT_DEADLINE_MISSED: bool(overdue) or any(
                d.status is DeadlineStatus.LATE for d in s.deadlines.values())},
        )
        if updates:
            workflow.upsert_search_attributes(updates)
