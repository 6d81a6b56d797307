"""The incident's record: every line with time, actor and the clause it fulfils, and its details.

Every notification, report, refusal, deadline and decision is a :class:`TimelineEntry`. The record
also keeps the workflow's current details (the Chinese summary the Web UI shows) and the officers'
search attributes (phase, a missed deadline) up to date, by the safe rule of
``infra/search_attributes.changed_updates``.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from infra import search_attributes as sa
    from plan import texts
    from plan.agencies import Agency
    from plan.models import DeadlineStatus, EntryKind, IncidentPhase, TimelineEntry
    from plan.state import IncidentState

class Timeline:
    """Appends to ``state.timeline``; each entry refreshes the details."""

    def __init__(self, state: IncidentState, title_zh: str, clause: str, *, live: bool) -> None:
        self.state = state
        self.title_zh = title_zh
        self.clause = clause
        self.live = live
        """False for an incident whose input was invalid: nothing is shown or upserted."""
        self.muted = False
        self._details_due = False
        """True while a continued run catches up (``mechanics/continuation.py``): the carried timeline
        already holds what the clause re-reads, so nothing is recorded or sent twice."""

    def record(
        self,
        kind: EntryKind,
        text_zh: str,
        *,
        clause: str,
        actor: str = texts.SYSTEM,
        recipient: Agency | None = None,
        step: str | None = None,
    ) -> TimelineEntry:
        s = self.state
        if self.muted:
            return TimelineEntry(seq=0, at=workflow.now(), kind=kind, actor=actor, clause=clause, text_zh=text_zh,
                                 recipient=recipient, step=step)
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

    def decide(self, text_zh: str, clause: str, *, actor: str = texts.SYSTEM) -> None:
        """Record a decision or a step the plan prescribes (no message sent)."""
        if self.muted:
            return
        self.record(EntryKind.DECISION, text_zh, clause=clause, actor=actor)
        self.state.course.append(text_zh)

    def entry(self, seq: int) -> TimelineEntry | None:
        """The entry numbered ``seq``, if this run still holds it."""
        i = seq - self.state.archived - 1
        return self.state.timeline[i] if 0 <= i < len(self.state.timeline) else None

    def refresh(self) -> None:
        """The Web UI's current details and the officers' search attributes, from the state.

        The search attributes are upserted here and now (an upsert is a command: its place among the
        others is part of the history). The details are not a command (only queries read them): they are
        written once, when the workflow's ready steps of this activation have run, however many entries
        were recorded meanwhile (a first workflow task records about sixteen; issue 19)."""
        if not self.live:
            return
        s = self.state
        self._schedule_details()
        updates = sa.changed_updates(
            workflow.info().typed_search_attributes,
            {sa.INCIDENT_PHASE: s.phase.value, sa.INCIDENT_DEADLINE_MISSED: any(
                d.status is DeadlineStatus.MISSED or d.status is DeadlineStatus.LATE for d in s.deadlines.values())},
        )
        if updates:
            workflow.upsert_search_attributes(updates)

    def _schedule_details(self) -> None:
        if self._details_due:
            return
        try:  # after the steps ready now (the workflow's own event loop: deterministic, no command)
            asyncio.get_running_loop().call_soon(self.write_details)
        except (RuntimeError, workflow.ReadOnlyContextError):  # no workflow loop running here, or a query
            self.write_details()
            return
        self._details_due = True

    def write_details(self) -> None:
        """The Web UI's current details, from the state: title, phase, open duties, deadlines, related."""
        self._details_due = False
        s = self.state
        pending = [d for d in s.deadlines.values() if d.status is DeadlineStatus.PENDING]
        overdue = [d for d in s.deadlines.values() if d.status is DeadlineStatus.MISSED]
        # open duties of people first (issue 16): who, what, by when
        duties = [d for d in sorted(s.duties.values(), key=lambda d: d.due_at) if d.status.value == "open"]
        lines = texts.details(self.title_zh, self.clause, s.phase.zh, s.plan_active, pending, overdue, s.related,
                              duties=duties)
        workflow.set_current_details("\n\n".join(lines))
