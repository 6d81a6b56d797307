"""The record-keeping mechanics wired together: timeline, register, deadlines, acknowledgements,
notifier and duties of people, over one :class:`~plan.state.IncidentState`.

``IncidentWorkflow`` (``workflows/base.py``) and the workflows that are not incidents but keep the
same record (a warning, a screening period: ``workflows/warning.py``, ``workflows/screening.py``, issue
20) build them here, so that the wiring is written once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import TypeAdapter, ValidationError

    from plan import texts
    from plan.models import EntryKind, ReportReceipt, describe_validation_error
    from plan.bureaus import BureauProfile
    from plan.models import IncidentInput, IncidentType
    from plan.policy import DeadlinePolicy
    from plan.state import IncidentState

from workflows.mechanics.accountability import Register
from workflows.mechanics.acknowledgements import Acknowledgements
from workflows.mechanics.deadlines import Deadlines
from workflows.mechanics.duties import Duties
from workflows.mechanics.inputs import decode_raw, invalid_report
from workflows.mechanics.notifier import Notifier
from workflows.mechanics.timeline import Timeline


@dataclass
class Kit:
    timeline: Timeline
    register: Register
    deadlines: Deadlines
    acks: Acknowledgements
    notifier: Notifier
    duties: Duties

    async def finish(self) -> None:
        """The workflow ends: watchers stopped, every notification delivered or failed, handlers done."""
        await self.deadlines.stop()
        await workflow.wait_condition(lambda: self.notifier.settled() and workflow.all_handlers_finished())


def wire(state: IncidentState, *, title_zh: str, clause: str, incident_type: IncidentType, type_code: str,
         policy: DeadlinePolicy, incident: Callable[[], IncidentInput], bureau: BureauProfile | None,
         live: bool, timeline: Timeline | None = None) -> Kit:
    """The mechanics of one workflow's record. ``type_code``: what notifications, logs and metrics name
    the workflow's type by (``C4``; ``W`` for a warning). ``timeline``: a record of the caller's own
    (one that shows other details), over the same state."""
    timeline = timeline or Timeline(state, title_zh, clause, live=live)
    register = Register(state)
    deadlines = Deadlines(state, timeline, type_code, title_zh, incident)
    acks = Acknowledgements(state, timeline, deadlines, policy)
    notifier = Notifier(
        timeline=timeline, register=register, deadlines=deadlines, acks=acks,
        policy=policy, incident_type=type_code, title_zh=title_zh, incident=incident, bureau=bureau,
    )
    deadlines.notifier = acks.notifier = notifier
    duties = Duties(
        state=state, timeline=timeline, notifier=notifier, deadlines=deadlines, policy=policy,
        incident=incident, title_zh=title_zh, incident_type=incident_type,
    )
    return Kit(timeline, register, deadlines, acks, notifier, duties)


class ReportDoor:
    """The report door of a workflow that is not an incident (a warning, a screening period): update
    ``submit_report`` (a refusal returns the reason) and signal ``report`` (a refusal goes to the
    timeline), each report validated by ``REPORTS``, a resent ``report_id`` taken once, then judged by
    ``check_report`` and recorded by ``accept_report``."""

    REPORTS: TypeAdapter[Any]
    kit: Kit
    clause: str
    started: bool
    seen_ids: set[str]

    def check_report(self, report: Any) -> str | None:
        raise NotImplementedError

    def accept_report(self, report: Any, seq: int) -> None:
        raise NotImplementedError

    def report_zh(self, report: Any) -> str:
        raise NotImplementedError

    def _door_parse(self, raw: RawValue) -> Any:
        if not self.started:
            raise invalid_report("report refused: the workflow did not start (invalid input)")
        try:
            report = self.REPORTS.validate_python(decode_raw(raw))
        except ValidationError as err:
            raise invalid_report(f"invalid report: {describe_validation_error(err)}") from None
        except Exception:
            raise invalid_report("invalid report: not a JSON object") from None
        if report.report_id and report.report_id in self.seen_ids:
            return report
        reason = self.check_report(report)
        if reason:
            raise invalid_report(f"report refused: {reason}")
        return report

    def _door_accept(self, report: Any) -> ReportReceipt:
        if report.report_id and report.report_id in self.seen_ids:
            return ReportReceipt(accepted=True, seq=0, message_zh=texts.report_accepted(0))
        if report.report_id:
            self.seen_ids.add(report.report_id)
        entry = self.kit.timeline.record(EntryKind.REPORT, self.report_zh(report), clause=self.clause,
                                         actor=report.actor)
        self.accept_report(report, entry.seq)
        return ReportReceipt(accepted=True, seq=entry.seq, message_zh=texts.report_accepted(entry.seq))

    @workflow.update(name="submit_report")
    def submit_report(self, raw: RawValue) -> ReportReceipt:
        return self._door_accept(self._door_parse(raw))

    @submit_report.validator
    def _validate_report(self, raw: RawValue) -> None:
        self._door_parse(raw)

    @workflow.signal(name="report")
    def report_signal(self, raw: RawValue) -> None:
        if not self.started:
            return
        try:
            self._door_accept(self._door_parse(raw))
        except ApplicationError as err:
            self.kit.timeline.record(EntryKind.REFUSED, texts.report_refused(err.message), clause=self.clause)
