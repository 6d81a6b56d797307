"""预警: a sign (苗头) recorded, analysed, watched, warned of or proposed for the plan (issue 20).

000 §4.1 (预测与预警): 全区司法行政系统各级应急指挥机构要按照早发现、早报告、早处置的原则,对监测到的信息进行分析,
及时发现事件苗头,并采取措施加以控制。对早期发现的事件及时预警.
000 §2.2(1): the emergency office 负责日常信息监测、采集、汇总、分析与组织协调,及时向区司法局应急指挥领导小组报告,
提出预警及预案启动的建议.
001 §7(1): 定期排查分析社区矫正对象动态,及时发现社区矫正对象各类不稳定因素苗头,采取针对性疏导、管理、教育措施,
加强对突发事件的预测和防范.

One :class:`SignWarning` per sign (``plan/warning.py`` ``WarningInput``):

1. recorded: the analysing office is told (000: the bureau's 应急办公室; 001: its 总指挥部办公室, run by
   the 社区矫正管理科, 001 §3(2)), and the analysis is due within ``policy.warning_analysis`` (local
   policy); missed: escalated to the leadership group / 总指挥部, and in the register (001 §7(4));
2. ``analysis``: ``watch`` (control measures), ``warn`` (a level; the recipients the bureau's policy
   names for it are told, ``DEFAULT_RECIPIENTS`` otherwise) or ``propose`` (提出预案启动的建议: the
   leadership group / 总指挥部 decides within ``policy.warning_decision``); or ``dismissed``, with who
   and why;
3. ``leadership_decision``: start → the incident of the proposed type starts with the sign's facts
   (``workflows/mechanics/handover.py``: its timeline names this warning, this warning closes as
   "escalated to incident X"); declined → recorded with the reason, the sign stays under watch;
4. watching: each measure (疏导、管理、教育) is a duty of the justice office's on-duty officer, due within
   ``policy.warning_measure`` and confirmed with ``verified``; a ``follow_up`` is due every
   ``policy.warning_follow_up`` (missed: escalated to the analysing office) until ``sign_closed``,
   taken once every measure is confirmed.

Queries ``status`` (``WarningStatus``), ``accountability``, ``duties``; reports by update
``submit_report`` (a refusal returns the reason) or signal ``report`` (a refusal goes to the timeline).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from infra import search_attributes as sa
    from plan import texts
    from plan.agencies import Agency
    from plan.models import (
        INCIDENT_INPUT_ADAPTER,
        AccountabilityRecord,
        DeadlineStatus,
        DutyBoard,
        DutyForm,
        DutyStatus,
        EntryKind,
        IncidentInput,
        IncidentPhase,
        IncidentType,
        OnSite,
        Origin,
        OriginKind,
        Phoned,
        Verified,
        describe_validation_error,
    )
    from plan.policy import DEFAULT_POLICY, DeadlinePolicy
    from plan.state import IncidentState
    from plan.warning import (
        DEFAULT_RECIPIENTS,
        WARNING_REPORT_ADAPTER,
        Analysis,
        Dismissed,
        FollowUp,
        LeadershipDecision,
        Measure,
        SignClosed,
        WarningInput,
        WarningLevel,
        WarningOutcome,
        WarningReport,
        WarningStatus,
    )

from workflows import bureau
from workflows.mechanics.handover import start_incident
from workflows.mechanics.inputs import decode_raw, invalid_input
from workflows.mechanics.kit import ReportDoor, wire
from workflows.mechanics.timeline import Timeline

WARNING_WORKFLOW_TYPE = "Warning"
TYPE_CODE = "W"
"""What notifications, logs and metrics call a warning's type."""
ANALYSIS = "analysis"
DECISION = "leadership-decision"
FOLLOW_UP = "follow-up-"

STATE_ZH = {
    "analysing": "待分析研判", "proposed": "已提出预案启动的建议,待领导决定", "watching": "持续关注,落实管控措施",
    "closed": "苗头已化解,关注结束", "dismissed": "已排除", "escalated": "已启动预案,转为事件处置",
}
"""The warning's states as officers read them (ours)."""
OPEN_STATES = frozenset({"analysing", "proposed", "watching"})
WAITING = {"analysing": ["analysis", "dismissed"], "proposed": ["leadership_decision"],
           "watching": ["follow_up", "sign_closed", "verified"]}
WAITING_ZH = {"analysis": "分析研判(analysis)", "dismissed": "排除(dismissed)",
              "leadership_decision": "领导决定是否启动预案(leadership_decision)",
              "follow_up": "跟踪了解(follow_up)", "sign_closed": "苗头化解(sign_closed)",
              "verified": "措施落实(verified)"}
"""What the warning waits for, as the Web UI's details say it (ours)."""


def sign_incident(inp: WarningInput, *, incident_type: str | None = None, commander: object | None = None) -> IncidentInput:
    """The sign's facts as an incident input of its type: what the record's texts read, and what the
    incident starts with on the leadership's decision (000 §4.2's time, place, course, contact)."""
    s = inp.sign
    return INCIDENT_INPUT_ADAPTER.validate_python({
        "incident_type": incident_type or s.expected_type.value, "bureau": inp.bureau, "flow": "general",
        "source": "warning", "occurred_at": s.noticed_at, "place": s.place, "jurisdiction": s.jurisdiction,
        "description": s.what, "reporter": s.recorder, "commander": commander or inp.responsible,
        "subject": s.concerned if s.expected_type.is_correction or (incident_type or "").startswith("C") else None,
        "drill": inp.drill,
    })


class _WarningTimeline(Timeline):
    """The record of a warning: its own details and search attributes (``owner.refresh``)."""

    owner: SignWarning

    def refresh(self) -> None:
        if self.live:
            self.owner.refresh()


@workflow.defn(name=WARNING_WORKFLOW_TYPE)
class SignWarning(ReportDoor):
    """000 §4.1, §2.2(1); 001 §7(1): one sign, from record to close, dismissal or incident."""

    REPORTS = WARNING_REPORT_ADAPTER

    @workflow.init
    def __init__(self, raw: RawValue) -> None:
        self._error: ApplicationError | None = None
        self.inp: WarningInput | None = None
        self.facts: IncidentInput | None = None
        self.bureau: bureau.BureauProfile | None = None
        try:
            self.inp = WarningInput.model_validate(decode_raw(raw))
            self.facts = sign_incident(self.inp)
            self.bureau, refusal = bureau.resolve(self.facts, workflow.info().namespace)
            if refusal:
                raise invalid_input(f"invalid warning input: {refusal}")
        except ValidationError as err:
            self._error = invalid_input(f"invalid warning input: {describe_validation_error(err)}")
        except ApplicationError as err:
            self._error = err
        except Exception:
            self._error = invalid_input("invalid warning input: not a JSON object")
        if self._error is not None:
            self.inp = self.facts = None
        self.started = self.inp is not None
        self.policy: DeadlinePolicy = self.bureau.policy if self.bureau is not None else DEFAULT_POLICY
        self.correction = self.facts is not None and self.facts.incident_type.is_correction
        self.clause = "001 §7(1)" if self.correction else "000 §4.1"
        self.analyst = Agency.CORRECTION_COMMAND_OFFICE if self.correction else Agency.EMERGENCY_OFFICE
        self.decider = Agency.CORRECTION_COMMAND if self.correction else Agency.LEADERSHIP_GROUP
        self.title_zh = "预警"  # (ours)
        self.state = IncidentState()
        self.status_code = "analysing"
        self.level: WarningLevel | None = None
        self.incident_id: str | None = None
        self.reports: list[WarningReport] = []
        self.seen_ids: set[str] = set()
        timeline = _WarningTimeline(self.state, self.title_zh, self.clause, live=self.inp is not None)
        timeline.owner = self
        self._taken = 0
        itype = self.facts.incident_type if self.facts is not None else IncidentType.L1
        self.kit = wire(self.state, title_zh=self.title_zh, clause=self.clause, incident_type=itype,
                        type_code=TYPE_CODE, policy=self.policy, incident=lambda: self._facts, bureau=self.bureau,
                        live=self.inp is not None, timeline=timeline)
        if self.inp is not None:
            self._recorded()

    @property
    def _facts(self) -> IncidentInput:
        assert self.facts is not None
        return self.facts

    def name(self, agency: Agency) -> str:
        return bureau.name_zh(self.bureau, agency)

    # ------------------------------------------------------------------ the record

    def _header(self) -> str:
        f = self._facts
        drill = "【演练】" if f.drill else ""
        return (f"{drill}【预警·{f.incident_type.value}苗头】{texts.fmt_time(f.occurred_at)},"  # (ours)
                f"{f.jurisdiction.county}{f.jurisdiction.justice_office}辖区")

    def _recorded(self) -> None:
        assert self.inp is not None
        s = self.inp.sign
        self.kit.timeline.record(
            EntryKind.INCIDENT,
            f"苗头登记:{s.what}(来源:{s.source.zh};可靠程度:{s.reliability.zh})",  # (ours)
            clause=self.clause, actor=s.recorder.unit or s.recorder.name,
        )
        if self.inp.screening_id:
            self.state.related.append(self.inp.screening_id)
        due = workflow.now() + self.policy.warning_analysis
        self.kit.deadlines.start(ANALYSIS, "分析研判苗头", "000 §2.2(1)" if not self.correction else self.clause,
                                 due, escalate_to=(self.decider,))

    def refresh(self) -> None:
        """The Web UI's details (what the warning is, what it waits for) and the search attributes."""
        f = self._facts
        pending = [d for d in self.state.deadlines.values() if d.status is DeadlineStatus.PENDING]
        lines = [f"**预警:{f.incident_type.value}苗头**({self.clause})",  # (ours)
                 f"{f.jurisdiction.county}{f.jurisdiction.justice_office} · 状态:{STATE_ZH[self.status_code]}"]
        if self.level is not None:
            lines.append(f"预警等级:{self.level.zh}")
        waits = self.waiting_for()
        if waits:
            lines.append("等待:" + "、".join(WAITING_ZH[w] for w in waits))
        lines += [f"待办时限:{d.title_zh},{texts.fmt_time(d.due_at)} 到期" for d in pending]
        lines += [f"待办任务:{d.title_zh},{texts.fmt_time(d.due_at)} 前"
                  for d in self.state.duties.values() if d.status is DutyStatus.OPEN]
        lines += [f"关联:{r}" for r in self.state.related]
        workflow.set_current_details("\n\n".join(lines))
        updates = sa.changed_updates(workflow.info().typed_search_attributes, {
            sa.WARNING_STATE: self.status_code, sa.WARNING_LEVEL: self.level.value if self.level else "none",
            sa.INCIDENT_DEADLINE_MISSED: self.overdue(),
        })
        if updates:
            workflow.upsert_search_attributes(updates)

    def overdue(self) -> bool:
        return any(d.status is DeadlineStatus.MISSED for k, d in self.state.deadlines.items() if k in (ANALYSIS, DECISION))

    def waiting_for(self) -> list[str]:
        return list(WAITING.get(self.status_code, []))

    # ------------------------------------------------------------------ the run

    @workflow.run
    async def run(self, raw: RawValue) -> WarningOutcome:
        if self._error is not None:
            raise self._error
        assert self.inp is not None
        k = self.kit
        k.deadlines.start_watching()
        k.duties.start_watching()
        due = self.state.deadlines[ANALYSIS].due_at
        s = self.inp.sign
        k.notifier.notify(
            self.analyst,
            f"{self._header()}。登记苗头:{s.what}(来源:{s.source.zh},可靠程度:{s.reliability.zh})。"
            f"请于{texts.fmt_time(due)}前分析研判:继续关注并采取疏导、管理、教育措施,发布预警,"  # (ours)
            f"或向{self.name(self.decider)}提出预案启动的建议。预警编号 {workflow.info().workflow_id}。",
            step="sign-recorded", clause=self.clause,
        )
        first = await self._next(Analysis, Dismissed)
        k.deadlines.fulfil(ANALYSIS, first.actor)
        if isinstance(first, Dismissed):
            return await self._end("dismissed", f"苗头已排除:{first.reason}(排除人:{first.actor})", first.actor)
        analysis = first
        k.timeline.decide(f"分析研判:{analysis.assessment}", self.clause, actor=analysis.actor)
        measures = analysis.measures
        if analysis.decision == "warn":
            assert analysis.level is not None
            self._warn(analysis.level, analysis)
        elif analysis.decision == "propose":
            decision = await self._propose(analysis)
            if decision.start:
                return await self._escalate(analysis, decision)
            k.timeline.decide(f"{self.name(self.decider)}决定暂不启动预案:{decision.reason};继续关注苗头",
                              self.clause, actor=decision.actor)
            measures = decision.measures
        await self._watch(measures)
        closed = next(r for r in self.reports if isinstance(r, SignClosed))
        return await self._end("closed", f"苗头已化解,关注结束:{closed.result}", closed.actor)

    def _warn(self, level: WarningLevel, analysis: Analysis) -> None:
        """000 §4.1 对早期发现的事件及时预警: the level's recipients (the bureau's policy, else the plan's default)."""
        self.level = level
        plan = "correction" if self.correction else "linkage"
        recipients = self.policy.warning_recipients.get(level) or DEFAULT_RECIPIENTS[plan][level]
        self.kit.timeline.decide(f"发布{level.zh}", "000 §4.1", actor=analysis.actor)
        text = (f"{self._header()}。【{level.zh}】{self._facts.description}。研判意见:{analysis.assessment}。"
                f"请加强防范,落实管控措施,发现异常立即报告。预警编号 {workflow.info().workflow_id}。")  # (ours)
        self.kit.notifier.notify_all(list(recipients), text, step="warning-issued", clause="000 §4.1")

    async def _propose(self, analysis: Analysis) -> LeadershipDecision:
        """000 §2.2(1) 提出预警及预案启动的建议: the leadership group / 总指挥部 decides."""
        self.status_code = "proposed"
        ctype = analysis.incident_type or self._facts.incident_type
        due = workflow.now() + self.policy.warning_decision
        self.kit.deadlines.start(DECISION, "领导决定是否启动预案", "000 §2.2(1)", due,
                                 escalate_to=(self.decider,))
        self.kit.notifier.notify(
            self.decider,
            f"{self._header()}。{self.name(self.analyst)}提出预案启动的建议:{self._facts.description}。"
            f"研判意见:{analysis.assessment}。建议按{ctype.value}事件启动预案。请于{texts.fmt_time(due)}前"
            f"决定是否启动(预警编号 {workflow.info().workflow_id})。",  # (ours)
            step="plan-proposal", clause="000 §2.2(1)",
        )
        decision = await self._next(LeadershipDecision)
        self.kit.deadlines.fulfil(DECISION, decision.actor)
        return decision

    async def _escalate(self, analysis: Analysis, decision: LeadershipDecision) -> WarningOutcome:
        assert self.inp is not None
        ctype = analysis.incident_type or self._facts.incident_type
        facts = sign_incident(self.inp, incident_type=ctype.value, commander=decision.commander)
        origin = Origin(kind=OriginKind.WARNING, workflow_id=workflow.info().workflow_id, clause=self.clause,
                        summary_zh=f"{self.level.zh if self.level else '苗头'},{self.name(self.decider)}决定启动预案")
        self.incident_id = await start_incident(facts, origin)
        self.state.related.append(self.incident_id)
        return await self._end("escalated", f"{self.name(self.decider)}决定启动预案:{decision.reason};"
                               f"已转为事件 {self.incident_id}", decision.actor)

    async def _watch(self, measures: list[Measure]) -> None:
        """001 §7(1) 采取针对性疏导、管理、教育措施: duties of the justice office; follow-ups until closed."""
        self.status_code = "watching"
        due = workflow.now() + self.policy.warning_measure
        for i, m in enumerate(measures, 1):
            self.kit.duties.assign(
                f"measure-{i}", f"落实{m.kind.zh}措施:{m.what}", "001 §7(1)", role=Agency.JUSTICE_OFFICE,
                form=DutyForm.VERIFICATION, say_zh=f"{m.kind.zh}措施落实情况", due_at=due,
            )
        self.kit.timeline.refresh()
        async for _ in self.kit.deadlines.recurring(
            prefix=FOLLOW_UP, title_zh=lambda n: f"第{n}次跟踪了解苗头动态", clause=self.clause,
            anchor=workflow.now(), period=self.policy.warning_follow_up, done=0,
            escalate_to=(self.analyst,), until=lambda: any(isinstance(r, SignClosed) for r in self.reports),
        ):
            pass

    async def _end(self, code: str, text_zh: str, actor: str) -> WarningOutcome:
        k = self.kit
        for d in self.state.deadlines.values():
            if d.status is DeadlineStatus.PENDING:
                d.status = DeadlineStatus.CANCELLED
        self.status_code = code
        k.timeline.decide(text_zh, self.clause, actor=actor)
        self.state.phase = IncidentPhase.CLOSED
        await k.finish()
        k.timeline.refresh()
        workflow.logger.info("warning ended", extra={"incident_type": TYPE_CODE, "step": code})
        return WarningOutcome(workflow_id=workflow.info().workflow_id, state=code, incident_id=self.incident_id,
                              timeline=list(self.state.timeline), accountability=self.accountability())

    async def _next(self, *kinds: type) -> Any:
        """The next report of one of ``kinds`` not yet taken (in the order received)."""
        def found() -> int | None:
            return next((i for i in range(self._taken, len(self.reports)) if isinstance(self.reports[i], kinds)), None)

        await workflow.wait_condition(lambda: found() is not None)
        i = found()
        assert i is not None
        self._taken = i + 1
        return self.reports[i]

    # ------------------------------------------------------------------ reports

    def check_report(self, r: WarningReport) -> str | None:
        code = self.status_code
        if code not in OPEN_STATES:
            return f"the warning is {code}; reports are no longer taken"
        if isinstance(r, Phoned | OnSite | Verified):
            return self.kit.duties.check(r)
        if isinstance(r, Dismissed):
            return None if code == "analysing" else "dismissed: only before the analysis (a watched sign ends with sign_closed)"
        if r.kind not in self.waiting_for():
            return f"{r.kind}: not expected now; the warning is waiting for {', '.join(self.waiting_for())}"
        if isinstance(r, Analysis) and r.decision == "propose":
            ctype = r.incident_type or self._facts.incident_type
            if ctype.is_correction != self.correction:
                return f"incident_type: {ctype.value} is not under this warning's plan ({self.clause})"
            try:
                assert self.inp is not None
                sign_incident(self.inp, incident_type=ctype.value)
            except ValidationError as err:
                return f"incident_type: the sign cannot start that incident ({describe_validation_error(err)})"
        if isinstance(r, SignClosed):
            open_measures = [d.id for d in self.state.duties.values() if d.status is DutyStatus.OPEN]
            if open_measures:
                return f"sign_closed: control measures not yet confirmed ({', '.join(open_measures)}; report verified)"
        return None

    def accept_report(self, r: WarningReport, seq: int) -> None:
        self.reports.append(r)
        if isinstance(r, Phoned | OnSite | Verified):
            self.kit.duties.confirm(r)
        elif isinstance(r, FollowUp):
            for d in self.kit.deadlines.pending(FOLLOW_UP):
                self.kit.deadlines.fulfil(d.id, r.actor)

    def report_zh(self, r: WarningReport) -> str:
        return _report_zh(r)

    # ------------------------------------------------------------------ queries

    def accountability(self) -> AccountabilityRecord:
        return self.kit.register.record(workflow.info().workflow_id, self._facts.incident_type)

    @workflow.query(name="status")
    def status(self) -> WarningStatus:
        if self.inp is None:
            raise self._error or invalid_input("not started")
        return WarningStatus(
            workflow_id=workflow.info().workflow_id, state=self.status_code, state_zh=STATE_ZH[self.status_code],
            level=self.level, waiting_for=self.waiting_for(), incident_id=self.incident_id,
            summary_zh=f"{self._facts.incident_type.value}苗头 · {self._facts.jurisdiction.justice_office}",
            timeline=list(self.state.timeline), deadlines=self.kit.deadlines.all(), duties=self.kit.duties.open(),
            related=list(self.state.related),
        )

    @workflow.query(name="accountability")
    def accountability_query(self) -> AccountabilityRecord:
        return self.accountability()

    @workflow.query(name="duties")
    def duties_query(self) -> DutyBoard:
        return DutyBoard(workflow_id=workflow.info().workflow_id, incident_type=self._facts.incident_type,
                         open=self.kit.duties.open(), closed=self.kit.duties.closed())


def _report_zh(r: WarningReport) -> str:
    """A report as the timeline shows it (ours)."""
    if isinstance(r, Analysis):
        return {"watch": "研判:继续关注,采取管控措施", "warn": "研判:发布预警", "propose": "研判:提出预案启动的建议"}[r.decision]
    if isinstance(r, LeadershipDecision):
        return "领导决定:启动预案" if r.start else "领导决定:暂不启动预案"
    if isinstance(r, FollowUp):
        return f"跟踪了解:{r.situation}"
    if isinstance(r, SignClosed):
        return f"苗头化解:{r.result}"
    if isinstance(r, Dismissed):
        return f"排除苗头:{r.reason}"
    return f"任务确认:{r.duty}"

