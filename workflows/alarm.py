"""A platform alarm (信息化核查, 001 §4(4)): verified by the 司法所, closed, escalated or turned into C4.

001 §4(4): 司法所应当立即组织查找,经通讯联络、信息化核查、实地查访等方式进行查找后仍未发现社区矫正对象下落的,
上报区司法局社区矫正管理科 … An alarm of the electronic monitoring platform (越界, 未签到, 人机分离 or
定位信号中断) is where a search may begin. The workflow ``alarm-<alarm id>``:

1. records the alarm and gives the on-duty person of the subject's 司法所 a verification duty
   (初步核实, ``alarm-verify``, the duties mechanic of issue 16), due within the local policy
   ``alarm_verification`` of the bureau's profile (default 1 hour, ours);
2. not verified by then: the duty is escalated (the section at once, the leadership group
   ``duty_leadership_after`` later), the alarm is marked overdue (``AlarmOverdue``) and stays open;
3. ``verified`` with a harmless finding (an approved leave, a device fault, …): closed, with the finding,
   the officer's words and who verified;
4. ``verified`` with ``absconded`` (脱离监督管理): the C4 incident starts with the alarm's facts as an
   abandoned child (``origin`` = this alarm; it outlives the alarm), linked both ways, and the alarm
   closes as 转为事件.

Not an :class:`~workflows.base.IncidentWorkflow`: an alarm has no information report, flows, closing
or review. It composes the same mechanics (timeline, notifier, deadlines, duties, register) on one
:class:`~plan.state.IncidentState`; the mechanics' texts read the alarm as the C4 incident it would be
(:meth:`PlatformAlarm.incident`). The history is small and bounded (one duty, its escalations, one
verification), so it never continues as new.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from infra import search_attributes as sa
    from plan import alarms as al
    from plan.agencies import Agency
    from plan.models import (
        AccountabilityRecord,
        CorrectionInput,
        DutyBoard,
        DutyForm,
        EntryKind,
        Flow,
        IncidentPhase,
        IncidentType,
        Origin,
        OriginKind,
        Source,
        TimelineEntry,
        describe_validation_error,
    )
    from plan.policy import DEFAULT_POLICY, DeadlinePolicy
    from plan.state import IncidentState

from workflows import bureau
from workflows.mechanics.accountability import Register
from workflows.mechanics.acknowledgements import Acknowledgements
from workflows.mechanics.deadlines import Deadlines
from workflows.mechanics.duties import Duties
from workflows.mechanics.handover import start_incident
from workflows.mechanics.inputs import decode_raw, invalid_input, invalid_report
from workflows.mechanics.notifier import Notifier
from workflows.mechanics.timeline import Timeline

TYPE = "ALARM"
"""The notifications' and logs' incident type of an alarm (no catalogue id: not an incident)."""
PLATFORM = "信息化核查平台"  # the alarm's actor on the timeline (ours)


@workflow.defn(name=al.WORKFLOW_TYPE)
class PlatformAlarm:
    """One platform alarm (see the module docstring)."""

    @workflow.init
    def __init__(self, raw: RawValue) -> None:
        self.alarm: al.AlarmInput | None = None
        self._error: ApplicationError | None = None
        try:
            self.alarm = al.ALARM_ADAPTER.validate_python(decode_raw(raw))
        except ValidationError as err:
            self._error = invalid_input(f"invalid alarm: {describe_validation_error(err)}")
        except Exception:
            self._error = invalid_input("invalid alarm: not a JSON object")
        self.inp: CorrectionInput | None = None
        self.bureau: bureau.BureauProfile | None = None
        if self.alarm is not None:
            self.inp = _as_c4(self.alarm)
            self.bureau, refusal = bureau.resolve(self.inp, workflow.info().namespace)
            if refusal:
                self._error, self.alarm, self.inp = invalid_input(f"invalid alarm: {refusal}"), None, None
        self.policy: DeadlinePolicy = self.bureau.policy if self.bureau is not None else DEFAULT_POLICY
        s = self.state = IncidentState()
        self.timeline = Timeline(s, al.TITLE_ZH, al.CLAUSE, live=self.alarm is not None)
        self.register = Register(s)
        self.deadlines = Deadlines(s, self.timeline, TYPE, al.TITLE_ZH, lambda: self.incident)
        self.acks = Acknowledgements(s, self.timeline, self.deadlines, self.policy)
        self.notifier = Notifier(
            timeline=self.timeline, register=self.register, deadlines=self.deadlines, acks=self.acks,
            policy=self.policy, incident_type=TYPE, title_zh=al.TITLE_ZH, incident=lambda: self.incident,
            bureau=self.bureau,
        )
        self.deadlines.notifier = self.acks.notifier = self.notifier
        self.duties = Duties(
            state=s, timeline=self.timeline, notifier=self.notifier, deadlines=self.deadlines, policy=self.policy,
            incident=lambda: self.incident, title_zh=al.TITLE_ZH, incident_type=IncidentType.C4,
        )
        self.received_at = workflow.now()
        self.due_at = self.received_at + self.policy.alarm_verification
        self.verdict: al.AlarmVerified | None = None
        self.overdue = False
        self.outcome = al.AlarmOutcome.PENDING
        self.handed_to: str | None = None

    @property
    def incident(self) -> CorrectionInput:
        """The alarm as the C4 incident it would become: what the mechanics' texts read."""
        assert self.inp is not None
        return self.inp

    # ------------------------------------------------------------------ the alarm's steps

    @workflow.run
    async def run(self, raw: RawValue) -> al.AlarmResult:
        if self._error is not None:
            workflow.logger.error("alarm refused: invalid input", extra={"incident_type": TYPE, "step": "input"})
            raise self._error
        a = self.alarm
        assert a is not None
        problems = al.alarm_problems(a, workflow.now(), check_age=False)
        if problems:
            raise invalid_input("invalid alarm: " + "; ".join(problems))
        self.deadlines.start_watching()
        self.timeline.record(EntryKind.INCIDENT, al.received_zh(a), clause=al.CLAUSE, actor=PLATFORM)
        self.duties.assign(
            al.VERIFY_DUTY, al.duty_what_zh(a), al.CLAUSE, role=Agency.JUSTICE_OFFICE, form=DutyForm.VERIFICATION,
            say_zh=al.duty_say_zh(a), due_at=self.due_at,
        )
        workflow.logger.info("alarm received", extra={"incident_type": TYPE, "step": "duty-" + al.VERIFY_DUTY})
        try:
            await workflow.wait_condition(lambda: self.verdict is not None, timeout=self.due_at - workflow.now(),
                                          timeout_summary="初步核实时限")
        except asyncio.TimeoutError:
            # The duty mechanic escalates it (the section now, the leadership group later); the alarm stays open.
            self.overdue = True
            self.timeline.decide("平台报警超时未核实,已升级督办,报警保持待核实", al.CLAUSE)  # (ours)
            self._upsert()
            await workflow.wait_condition(lambda: self.verdict is not None)
        v = self.verdict
        assert v is not None
        if v.finding.harmless:
            self.outcome = al.AlarmOutcome.HARMLESS
            self.timeline.decide(f"报警核实无异常,关闭:{al.finding_zh(v)}", al.CLAUSE, actor=v.actor)  # (ours)
        else:
            await self._hand_over(a, v)
        self._upsert()
        self.state.phase = IncidentPhase.CLOSED
        await workflow.wait_condition(self.notifier.settled)
        await self.deadlines.stop()
        await workflow.wait_condition(lambda: self.notifier.settled() and workflow.all_handlers_finished())
        self.timeline.refresh()
        workflow.logger.info("alarm closed", extra={"incident_type": TYPE, "step": self.outcome.value})
        return al.AlarmResult.model_validate(self.status().model_dump())

    async def _hand_over(self, a: al.AlarmInput, v: al.AlarmVerified) -> None:
        """脱离监督管理 confirmed: the C4 incident (001 §4(4)) starts with the alarm's facts, linked both ways
        (its ``origin`` is this alarm; this alarm records it and closes)."""
        inp = _as_c4(a, description=al.incident_description_zh(a, v)).model_copy(update={
            "flow": Flow.URGENT, "current_situation": al.SITUATION_ZH, "measures_taken": list(al.MEASURES_ZH),
        })
        origin = Origin(kind=OriginKind.ALARM, workflow_id=workflow.info().workflow_id, clause=al.CLAUSE,
                        summary_zh=f"{a.kind.zh}报警 · {a.jurisdiction.county}{a.jurisdiction.justice_office}")
        wf_id = await start_incident(inp, origin)
        self.handed_to = wf_id
        self.outcome = al.AlarmOutcome.INCIDENT
        self.state.related.append(wf_id)
        self.timeline.decide(f"核实确认脱离监督管理,转为事件 {wf_id}:{al.finding_zh(v)}", al.CLAUSE, actor=v.actor)  # (ours)
        workflow.logger.info("alarm turned into an incident", extra={"incident_type": TYPE, "step": "handover"})

    def _upsert(self) -> None:
        updates = sa.changed_updates(workflow.info().typed_search_attributes,
                                     {sa.ALARM_OUTCOME: self.outcome.value, sa.ALARM_OVERDUE: self.overdue})
        if updates:
            workflow.upsert_search_attributes(updates)

    # ------------------------------------------------------------------ the verification

    def _check(self, raw: RawValue, *, parse_only: bool = False) -> al.AlarmVerified:
        if self.alarm is None:
            raise invalid_report("report refused: this alarm's input was invalid; it accepts no reports")
        try:
            report = al.ALARM_REPORT_ADAPTER.validate_python(decode_raw(raw))
        except ValidationError as err:
            raise invalid_report(f"report refused: {describe_validation_error(err)}") from None
        except Exception:
            raise invalid_report("report refused: not a JSON object") from None
        if parse_only:
            return report
        reason = self.duties.check(report)
        if reason is None and report.at is not None and report.at > workflow.now() + al.MAX_FUTURE:
            reason = "at: in the future (check the clock)"
        if reason is None and self.verdict is not None:
            reason = "verified: the alarm was already verified"
        if reason:
            raise invalid_report(f"report refused: {reason}")
        return report

    def _assigned(self) -> bool:
        return al.VERIFY_DUTY in self.state.duties

    @workflow.update(name="submit_report")
    async def submit_report(self, raw: RawValue) -> str:
        """``verified`` for ``alarm-verify`` with its ``finding``; a refusal returns the reason. One sent
        in the alarm's first workflow task (before the duty is assigned) is judged once it is."""
        await workflow.wait_condition(lambda: self._assigned() or self._error is not None)
        report = self._check(raw)
        self.duties.confirm(report)
        self.verdict = report
        late = workflow.now() > self.due_at
        if late:  # judged on receipt (001 §7(4)), even where the due-time timer has not yet fired
            self.overdue = True
        return f"已受理核实结果:{report.finding.zh}" + ("(超过核实时限)" if late else "")  # (ours)

    @submit_report.validator
    def _validate(self, raw: RawValue) -> None:
        self._check(raw, parse_only=not self._assigned())

    # ------------------------------------------------------------------ queries

    @workflow.query(name="status")
    def status(self) -> al.AlarmStatus:
        a = self.alarm
        if a is None:
            raise ApplicationError(self._error.message if self._error else "not started")
        v = self.verdict
        return al.AlarmStatus(
            workflow_id=workflow.info().workflow_id, alarm_id=a.alarm_id, kind=a.kind,
            justice_office=a.jurisdiction.justice_office, county=a.jurisdiction.county, raised_at=a.raised_at,
            received_at=self.received_at, due_at=self.due_at, outcome=self.outcome, overdue=self.overdue,
            finding=v.finding if v else None, verified_by=v.actor if v else "",
            verified_at=self.state.duties[al.VERIFY_DUTY].done_at if v and al.VERIFY_DUTY in self.state.duties else None,
            incident=self.handed_to, drill=a.drill, duties=list(self.state.duties.values()),
            timeline=list(self.state.timeline),
        )

    @workflow.query(name="duties")
    def duties_query(self) -> DutyBoard:
        return DutyBoard(workflow_id=workflow.info().workflow_id, incident_type=IncidentType.C4,
                         open=self.duties.open(), closed=self.duties.closed())

    @workflow.query(name="timeline")
    def timeline_query(self) -> list[TimelineEntry]:
        return list(self.state.timeline)

    @workflow.query(name="accountability")
    def accountability_query(self) -> AccountabilityRecord:
        """001 §7(4): the verification duty, on time, late or overdue."""
        return self.register.record(workflow.info().workflow_id, IncidentType.C4)


def _as_c4(a: al.AlarmInput, *, description: str | None = None, occurred_at: datetime | None = None) -> CorrectionInput:
    """The alarm's facts as a C4 incident input (001 §4(4)); the officer in charge reports and leads."""
    officer = a.officer.model_copy(update={"unit": a.officer.unit or a.jurisdiction.justice_office})
    return CorrectionInput(
        incident_type=IncidentType.C4, bureau=a.bureau, flow=Flow.GENERAL, source=Source.PLATFORM_ALARM,
        occurred_at=occurred_at or a.raised_at, place=a.place, jurisdiction=a.jurisdiction,
        description=description or al.facts_zh(a), reporter=officer, commander=officer, subject=a.subject,
        drill=a.drill,
    )
