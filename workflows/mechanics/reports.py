"""Officers' reports: parsed from raw input, checked, accepted, and what the clause awaits.

Reports arrive as the signal ``report`` (fire-and-forget; a refusal goes on the timeline) or the update
``submit_report`` (the refusal goes back to the sender). What the clause waits for has one source: the
clause's ``next_report(...)`` records the kinds it awaits (``state.awaiting``), a recurring duty the
kinds it takes while it runs (``state.standing``); ``waiting_for`` and the "not expected now" refusal
both derive from these.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar, get_args, overload

from temporalio import workflow
from temporalio.common import RawValue

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from plan import labels, texts
    from plan.models import (
        COMMON_REPORT_KINDS,
        MAX_REPORT_BYTES,
        REPORT_ADAPTER,
        EntryKind,
        Report,
        ReportReceipt,
        describe_validation_error,
        report_fingerprint,
    )
    from plan.state import IncidentState

from workflows import bureau as bureaus  # issue 17
from workflows.mechanics.inputs import decode_raw, invalid_report
from workflows.mechanics.timeline import Timeline

R = TypeVar("R")
R2 = TypeVar("R2")
R3 = TypeVar("R3")

#: The clause a common report kind fulfils, for the timeline.
REPORT_CLAUSE = {
    "dispatched": "000 §4.3",
    "arrived": "000 §4.3",
    "progress": "000 §4.3(1)",
    "feedback": "000 §3(3)",
    "closed": "000 §4.2",
    "plan_decision": "000 §2.1",
    "command_set": "001 §3(3)(4)",
    "release": "001 §5(3)",
    "review": "001 §5(2)",
    "aftermath_done": "000 §4.4",
    "notified_by_hand": "001 §7(4)",
}


#: Kinds kept in ``state.reports`` besides the clause's own: what a mechanic takes with ``next`` or
#: reads with ``of``. The others (progress, feedback, ...) act when they arrive and are kept on the
#: timeline only, so a flood of them never grows what continue-as-new carries.
KEPT_KINDS = frozenset({"closed", "review", "aftermath_done"})
MAX_PER_KIND = 200
"""Reports of one kept kind one incident takes (far beyond any clause's need; the bound keeps the carried
state small whatever a sender does)."""


def model_kind(model: type[Any]) -> str:
    """The ``kind`` a report model takes (its discriminator's one value)."""
    return str(get_args(model.model_fields["kind"].annotation)[0])


class Reports:
    """The reports of one incident (``state.reports``) and what the clause awaits."""

    def __init__(self, state: IncidentState, timeline: Timeline, clause: str, clause_kinds: frozenset[str],
                 bureau: bureaus.BureauProfile | None = None) -> None:
        self.bureau = bureau
        self.state = state
        self.timeline = timeline
        self.clause = clause
        self.clause_kinds = clause_kinds
        self.continue_due: Callable[[], bool] = lambda: False
        """Set by the owner: the run should continue as new (``mechanics/continuation.py``)."""
        self.continue_as_new: Callable[[], Any] | None = None
        """Set by the owner: continues as new from the clause's wait (never returns)."""

    # ------------------------------------------------------------------ parse and check

    def parse(self, raw: RawValue) -> Report:
        """A report from raw input, or a non-retryable ``InvalidReport`` naming what is wrong."""
        size = len(raw.payload.data)
        if size > MAX_REPORT_BYTES:
            # Refused before it is parsed: nothing of it is kept in the incident's state.
            raise invalid_report(f"invalid report: {size} bytes, over the limit of {MAX_REPORT_BYTES} bytes")
        try:
            value = decode_raw(raw)
        except Exception:
            raise invalid_report("invalid report: not JSON") from None
        return self.parse_value(value)

    def parse_value(self, value: Any) -> Report:
        """A report from a decoded value (a carried inbox), as :meth:`parse` does."""
        if not isinstance(value, dict):
            raise invalid_report("invalid report: expected a JSON object with a 'kind' field")
        try:
            return REPORT_ADAPTER.validate_python(value)
        except ValidationError as err:
            raise invalid_report(f"invalid report: {describe_validation_error(err)}") from None

    def is_resend(self, report: Report) -> bool:
        return bool(report.report_id) and report.report_id in self.state.report_ids

    def reuse_problem(self, report: Report) -> str | None:
        """A ``report_id`` reused with other content (an idempotency key means the same request)."""
        s = self.state
        first = s.report_hashes.get(report.report_id or "")
        if first is None or first == report_fingerprint(report):
            return None
        seq = s.report_ids[report.report_id or ""]
        entry = self.timeline.entry(seq)
        first_kind = entry.step if entry is not None else "?"
        return (f"report_id: '{report.report_id}' was already used by report #{seq} ({first_kind}) "
                "with other content; give this report its own report_id")

    def kind_problem(self, report: Report, type_id: str, title_zh: str) -> str | None:
        if report.kind not in COMMON_REPORT_KINDS and report.kind not in self.clause_kinds:
            return f"kind: '{report.kind}' does not apply to {type_id} ({title_zh})"
        if self._kept(report.kind) and sum(1 for r in self.state.reports if r.kind == report.kind) >= MAX_PER_KIND:
            return f"{report.kind}: this incident has taken {MAX_PER_KIND} of them, the most it takes"
        return None

    def _kept(self, kind: str) -> bool:
        return kind in self.clause_kinds or kind in KEPT_KINDS

    def time_problem(self, report: Report, occurred_at: datetime, tolerance: timedelta) -> str | None:
        if report.at is None:
            return None
        if report.at > workflow.now() + tolerance:
            return "at: lies in the future"
        if report.at < occurred_at:
            return "at: earlier than the incident's occurred_at"
        return None

    # ------------------------------------------------------------------ accept

    def receipt_of_resend(self, report: Report) -> ReportReceipt:
        return ReportReceipt(accepted=True, seq=self.state.report_ids[report.report_id or ""], message_zh=texts.RESENT_REPORT)

    def take(self, report: Report) -> int:
        """Record an accepted report; its timeline seq. An awaited kind is handed to the waiter."""
        s = self.state
        entry = self.timeline.record(
            EntryKind.REPORT,
            texts.report_received(labels.kind_zh(report.kind), report.at, report.note),
            clause=bureaus.report_clause(self.bureau, report.kind, REPORT_CLAUSE.get(report.kind, self.clause)),
            actor=report.actor,
            step=report.kind,
        )
        if report.report_id:
            s.report_ids[report.report_id] = entry.seq
            s.report_hashes[report.report_id] = report_fingerprint(report)
        if self._kept(report.kind):
            s.reports.append(report)
        if report.kind in s.awaiting:
            s.awaiting = []  # the waiter takes it; what the clause awaits next, it records then
        return entry.seq

    # ------------------------------------------------------------------ what the clause awaits

    def of(self, *kinds: type[R]) -> list[R]:
        return [r for r in self.state.reports if isinstance(r, kinds)]

    @overload
    async def next(self, k1: type[R], /) -> R: ...
    @overload
    async def next(self, k1: type[R], k2: type[R2], /) -> R | R2: ...
    @overload
    async def next(self, k1: type[R], k2: type[R2], k3: type[R3], /) -> R | R2 | R3: ...

    async def next(self, *kinds: type[Any]) -> Any:
        """The next accepted report of one of ``kinds`` the clause has not yet taken; while it is
        awaited, its kinds are what the incident waits for (in this order)."""
        s = self.state

        def find() -> int | None:
            for i, r in enumerate(s.reports):
                if i not in s.consumed and isinstance(r, kinds):
                    return i
            return None

        if find() is None:
            self.timeline.muted = False  # a continued run has caught up: from here on, live
            s.awaiting = [model_kind(k) for k in kinds]
            await workflow.wait_condition(lambda: find() is not None or self.continue_due())
            if find() is None and self.continue_as_new is not None:
                await self.continue_as_new()
        s.awaiting = []
        i = find()
        assert i is not None
        s.consumed.add(i)
        return s.reports[i]

    def waiting(self) -> list[str]:
        """Clause report kinds the incident waits for now (a recurring duty's first)."""
        s = self.state
        kinds = [k for k in s.standing if k in self.clause_kinds]
        return kinds + [k for k in s.awaiting if k in self.clause_kinds and k not in kinds]

    def while_standing(self, kinds: list[str]) -> Callable[[], None]:
        """A recurring duty takes ``kinds`` from now on; call the returned function when it ends."""
        self.state.standing = list(kinds)

        def end() -> None:
            self.state.standing = []

        return end
