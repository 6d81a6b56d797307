"""定期排查: one screening period of one justice office (001 §7(1), issue 20).

001 §7(1): 区司法局应建立预防为主、防处结合的工作制度,定期排查分析社区矫正对象动态,及时发现社区矫正对象各类不稳定因素苗头,
采取针对性疏导、管理、教育措施,加强对突发事件的预测和防范.

A Temporal Schedule per justice office (``python -m starter screening-schedule``, every
``policy.screening_interval``, local policy) starts one :class:`ScreeningPeriod` each period. The
office owes the period's screening record (``screening_record``: subjects screened, signs found) within
``policy.screening_due``: the office is told at the start; a record not filed by then is escalated to the
社区矫正管理科 (the emergency office at a bureau without a correction plan) and stands in the register
(001 §7(4): 超时未报 while the period runs, 漏报 once it ended without one). Each sign in the record
opens a warning (``workflows/warning.py``), a child that outlives the period; the period lists the
warnings, each warning names the period (linked both ways).
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from infra import search_attributes as sa
    from plan import texts
    from plan.agencies import Agency
    from plan.models import (
        INCIDENT_INPUT_ADAPTER,
        AccountabilityRecord,
        DeadlineStatus,
        EntryKind,
        IncidentInput,
        IncidentPhase,
        IncidentType,
        Person,
        describe_validation_error,
    )
    from plan.policy import DEFAULT_POLICY, DeadlinePolicy
    from plan.state import IncidentState
    from plan.warning import (
        SCREENING_REPORT_ADAPTER,
        ScreeningInput,
        ScreeningOutcome,
        ScreeningRecord,
        SignFacts,
        SignSource,
        WarningInput,
    )
    from plan.bureaus import profile

from workflows.mechanics.inputs import decode_raw, invalid_input
from workflows.mechanics.kit import ReportDoor, wire
from workflows.warning import WARNING_WORKFLOW_TYPE

SCREENING_WORKFLOW_TYPE = "ScreeningPeriod"
CLAUSE = "001 §7(1)"
RECORD = "screening-record"
TITLE_ZH = "定期排查分析社区矫正对象动态"


def _carrier(inp: ScreeningInput, responsible: Person) -> IncidentInput:  # noqa: D401
    """The period's facts in the form the shared record's texts read (header: time, office, place)."""
    return INCIDENT_INPUT_ADAPTER.validate_python({
        "incident_type": "L1", "flow": "general", "source": "warning", "occurred_at": workflow.now(),
        "place": inp.jurisdiction.justice_office, "jurisdiction": inp.jurisdiction, "description": TITLE_ZH,
        "reporter": responsible, "commander": responsible, "drill": inp.drill,
    })


@workflow.defn(name=SCREENING_WORKFLOW_TYPE)
class ScreeningPeriod(ReportDoor):
    """001 §7(1): one period's screening record of one justice office, and a warning per sign found."""

    REPORTS = SCREENING_REPORT_ADAPTER

    @workflow.init
    def __init__(self, raw: RawValue) -> None:
        self.clause = CLAUSE
        self.seen_ids: set[str] = set()
        self.record: ScreeningRecord | None = None
        self.warnings: list[str] = []
        self._error: ApplicationError | None = None
        self.inp: ScreeningInput | None = None
        try:
            self.inp = ScreeningInput.model_validate(decode_raw(raw))
            prof = profile(self.inp.bureau) if self.inp.bureau else None
        except ValidationError as err:
            self._error = invalid_input(f"invalid screening input: {describe_validation_error(err)}")
        except Exception as err:  # not JSON, an unknown bureau
            self._error = invalid_input(f"invalid screening input: {err}")
        if self._error is not None:
            self.inp, prof = None, None
        self.started = self.inp is not None
        self.bureau = prof
        self.policy: DeadlinePolicy = prof.policy if prof is not None else DEFAULT_POLICY
        self.section = Agency.CORRECTION_SECTION if prof is None or prof.correction else Agency.EMERGENCY_OFFICE
        self.state = IncidentState()
        self.facts = _carrier(self.inp, self.inp.responsible) if self.inp is not None else None
        self._starts: list[asyncio.Future[None]] = []
        self.kit = wire(self.state, title_zh=TITLE_ZH, clause=CLAUSE, incident_type=IncidentType.L1, type_code="S",
                        policy=self.policy, incident=lambda: self._facts, bureau=prof, live=False)

    @property
    def _facts(self) -> IncidentInput:
        assert self.facts is not None
        return self.facts

    @workflow.run
    async def run(self, raw: RawValue) -> ScreeningOutcome:
        if self._error is not None:
            raise self._error
        assert self.inp is not None
        k = self.kit
        k.deadlines.start_watching()
        j = self.inp.jurisdiction
        due = workflow.now() + self.policy.screening_due
        k.timeline.record(EntryKind.INCIDENT, f"本期排查开始:{j.county}{j.justice_office}", clause=CLAUSE)  # (ours)
        k.deadlines.start(RECORD, "报送本期排查记录", CLAUSE, due, escalate_to=(self.section,))
        k.notifier.notify(
            Agency.JUSTICE_OFFICE,
            f"{'【演练】' if self.inp.drill else ''}【定期排查】{j.county}{j.justice_office}:请定期排查分析社区矫正对象动态,"
            f"及时发现社区矫正对象各类不稳定因素苗头,于{texts.fmt_time(due)}前报送本期排查记录"
            f"(排查人数、发现的苗头;排查编号 {workflow.info().workflow_id})。",
            step="screening-due", clause=CLAUSE,
        )
        self._details()
        try:
            await workflow.wait_condition(lambda: self.record is not None, timeout=self.policy.screening_interval,
                                          timeout_summary="本期排查结束")
        except TimeoutError:
            pass
        if self.record is None:
            k.timeline.decide("本期排查结束,未报送排查记录(漏报)", CLAUSE)  # (ours)
        await workflow.wait_condition(lambda: all(f.done() for f in self._starts))
        self.state.phase = IncidentPhase.CLOSED
        await k.finish()
        self._details()
        return ScreeningOutcome(workflow_id=workflow.info().workflow_id, filed=self.record is not None,
                                subjects_screened=self.record.subjects_screened if self.record else 0,
                                warnings=list(self.warnings), accountability=self.accountability())

    def _details(self) -> None:
        assert self.inp is not None
        d = self.state.deadlines.get(RECORD)
        state = ("已报送" if self.record else "已超时未报送" if d and d.status is DeadlineStatus.MISSED
                 else "待报送")
        lines = [f"**定期排查**({CLAUSE})", f"{self.inp.jurisdiction.county}{self.inp.jurisdiction.justice_office}",
                 f"排查记录:{state}" + (f",应于 {texts.fmt_time(d.due_at)} 前" if d and not self.record else "")]
        lines += [f"预警:{w}" for w in self.warnings]
        workflow.set_current_details("\n\n".join(lines))

    # ------------------------------------------------------------------ the record

    def check_report(self, report: ScreeningRecord) -> str | None:
        if self.record is not None:
            return "screening_record: this period's record was already filed"
        if self.state.phase is IncidentPhase.CLOSED:
            return "the screening period is over"
        assert self.inp is not None
        for i, sign in enumerate(report.signs):
            try:
                self._warning_input(report, i)
            except ValidationError as err:
                return f"signs.{i}: {describe_validation_error(err)}"
        return None

    def _warning_input(self, report: ScreeningRecord, i: int) -> WarningInput:
        assert self.inp is not None
        sign = report.signs[i]
        return WarningInput(
            bureau=self.inp.bureau, screening_id=workflow.info().workflow_id, drill=self.inp.drill,
            responsible=report.responsible,
            sign=SignFacts(expected_type=sign.expected_type, what=sign.what, place=sign.place,
                           jurisdiction=self.inp.jurisdiction, concerned=sign.concerned, source=SignSource.SCREENING,
                           reliability=sign.reliability, noticed_at=workflow.now(), recorder=report.recorder),
        )

    def report_zh(self, report: ScreeningRecord) -> str:
        return f"排查记录:排查{report.subjects_screened}人,发现苗头{len(report.signs)}条"  # (ours)

    def accept_report(self, report: ScreeningRecord, seq: int) -> None:
        self.record = report
        self.kit.deadlines.fulfil(RECORD, report.actor)
        for i in range(len(report.signs)):
            wid = f"{workflow.info().workflow_id}-sign-{i + 1}"
            self.warnings.append(wid)
            self._starts.append(asyncio.ensure_future(self._open_warning(self._warning_input(report, i), wid)))
        self._details()

    async def _open_warning(self, inp: WarningInput, wid: str) -> None:
        """Each sign found opens a warning (a child that outlives the period)."""
        present = workflow.info().typed_search_attributes
        attrs = (sa.for_warning(county=inp.sign.jurisdiction.county, justice_office=inp.sign.jurisdiction.justice_office)
                 if any(key in present for key in sa.ALL_KEYS) else None)
        await workflow.start_child_workflow(
            WARNING_WORKFLOW_TYPE, inp, id=wid, parent_close_policy=ParentClosePolicy.ABANDON,
            search_attributes=attrs, static_summary=f"预警 · 定期排查发现 · {inp.sign.jurisdiction.justice_office}",
        )
        self.kit.timeline.decide(f"排查发现的苗头已登记为预警 {wid}", CLAUSE)  # (ours)

    def accountability(self) -> AccountabilityRecord:
        return self.kit.register.record(workflow.info().workflow_id, IncidentType.L1)

    @workflow.query(name="accountability")
    def accountability_query(self) -> AccountabilityRecord:
        return self.accountability()

    @workflow.query(name="screening_status")
    def screening_status(self) -> ScreeningOutcome:
        return ScreeningOutcome(workflow_id=workflow.info().workflow_id, filed=self.record is not None,
                                subjects_screened=self.record.subjects_screened if self.record else 0,
                                warnings=list(self.warnings), accountability=self.accountability())
