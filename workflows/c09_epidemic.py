"""C9 — 社区矫正对象发生涉及重大疫情相关情形 (001 §4(9)), four scenarios.

情形一:社区矫正对象在社区矫正工作场所内被疫情防控部门通知为健康码“红黄码”人员的。区司法局社区矫正管理科
或司法所应当立即停止正在开展的活动,将该社区矫正对象单独安置,并立即与社区或疫情防控部门联系,了解下一步举措,
配合疫情防控部门做好人员转运、隔离等相关工作,并做好人员心理疏导。对其他同时在场的社区矫正对象和工作人员,
要求留在社区矫正工作场所内,等待后续疫情防控部门的通知安排。

情形二:社区矫正对象在全市辖区内被疫情防控部门通知为健康码“红黄码”人员的。区司法局社区矫正管理科或司法所
应当向疫情防控部门了解情况,要求“红黄码”的社区矫正对象积极配合属地疫情防控部门开展相关工作,做好人员心理
疏导和后续动态关注。

情形三:社区矫正对象在外出期间被疫情防控部门通知为健康码“红黄码”人员的。区司法局社区矫正管理科或司法所
应当立即与该外出人员取得联系,了解情况,并与当地疫情防控部门取得联系,明确外出人员的状态和将采取的措施,
做好人员心理疏导和后续动态关注。司法所应当每日与外出人员保持联系,做好人员疫情信息的动态关注。

情形四:社区矫正对象被疫情防控部门通知为密接、次密接、确诊人员的。区司法局社区矫正管理科或司法所应当向
疫情防控部门了解情况,要求社区矫正对象积极配合属地疫情防控部门开展相关工作,并根据疫情防控部门的要求对
工作人员和其余社区矫正对象开展情况排查,排查结果和有关情况第一时间电话报告上一级社区矫正机构,并在情况
基本明确后向上一级社区矫正机构书面报告。

Reports this clause takes, by scenario: S1 ``transfer_done`` and ``others_released``; S2 ``cleared``;
S3 ``daily_contact`` (every day) until ``cleared``; S4 ``screening_result`` then ``cleared``.

情形三 can last for weeks. 立即与该外出人员取得联系 is a phone duty of the 司法所's on-duty officer
(``duty-contact-subject``, confirmed by ``phoned``); then each day is a phone duty of the person on duty
at the 司法所 when that day begins (第N日联系外出人员, ``duty-daily-contact-<n>``), discharged by that day's
``daily_contact`` report (or ``phoned``), escalated to the correction section, then the leadership group,
when unconfirmed; every ``CARRY_OVER_DAYS`` days the incident continues as new with its whole record
(the duties included), so no run's history grows without bound. Histories recorded before duties of
people keep a decision and one deadline a day.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.common import RawValue

from workflows.base import IncidentWorkflow
from workflows.mechanics.duties import PATCH

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from plan.agencies import Agency
    from plan.models import (
        Cleared,
        DailyContact,
        EpidemicInput,
        DutyForm,
        EpidemicScenario,
        IncidentOutcome,
        IncidentType,
        OthersReleased,
        Report,
        ScreeningResult,
        TransferDone,
        variant,
    )

CLAUSE = "001 §4(9)"
S = {
    EpidemicScenario.S1: "001 §4(9) 情形一",
    EpidemicScenario.S2: "001 §4(9) 情形二",
    EpidemicScenario.S3: "001 §4(9) 情形三",
    EpidemicScenario.S4: "001 §4(9) 情形四",
}
"""The clause id of each scenario, as the timeline and the messages cite it."""

class DailyContactFacts(BaseModel):
    """情形三's own facts, carried into each next run: the days of contact so far and when they began."""

    day: int = 0
    anchor: datetime | None = None


DAILY = "daily-contact-"
"""情形三's day ``n``: the duty ``daily-contact-<n>`` (histories recorded before: the deadline of that id)."""

CARRY_OVER_DAYS = 7
"""情形三: continue as new after this many days of daily contact (or sooner if Temporal suggests it)."""


@workflow.defn(name="C9Epidemic")
class Epidemic(IncidentWorkflow):
    """001 §4(9): a correction subject in an epidemic-related situation (four scenarios)."""

    TYPE = IncidentType.C9
    TITLE_ZH = "社区矫正对象发生涉及重大疫情相关情形"
    CLAUSE = CLAUSE
    CLAUSE_REPORTS = frozenset(
        {"transfer_done", "others_released", "daily_contact", "cleared", "screening_result"}
    )
    ClauseState = DailyContactFacts

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    @property
    def scenario(self) -> EpidemicScenario:
        return variant(self.incident, EpidemicInput).epidemic.scenario

    @property
    def clause(self) -> str:
        return S[self.scenario]

    async def respond(self) -> None:
        await {
            EpidemicScenario.S1: self._at_workplace,
            EpidemicScenario.S2: self._within_city,
            EpidemicScenario.S3: self._while_away,
            EpidemicScenario.S4: self._contact_or_confirmed,
        }[self.scenario]()

    # ------------------------------------------------------------------ 情形一

    async def _at_workplace(self) -> None:
        c = self.clause
        self.decide("立即停止正在开展的活动,将该社区矫正对象单独安置", c)
        self.notify(
            Agency.EPIDEMIC_DEPARTMENT,
            self.ask(
                "在社区矫正工作场所内被疫情防控部门通知为健康码“红黄码”人员,已停止活动并单独安置",
                "告知下一步举措,司法所配合做好人员转运、隔离等相关工作",
            ),
            step="contact-epidemic-dept",
            clause=c,
        )
        self.decide("要求其他同时在场的社区矫正对象和工作人员留在工作场所内,等待疫情防控部门的通知安排", c)
        self.decide("做好人员心理疏导", c)
        while pending := [k for k in (TransferDone, OthersReleased) if not self.reports_of(k)]:
            report = await self.next_report(*pending)
            if isinstance(report, TransferDone):
                self.decide("配合疫情防控部门完成人员转运、隔离", c, actor=report.actor)
            else:
                self.decide("按疫情防控部门通知,其他在场人员离开工作场所", c, actor=report.actor)

    # ------------------------------------------------------------------ 情形二

    async def _within_city(self) -> None:
        c = self.clause
        self.notify(
            Agency.EPIDEMIC_DEPARTMENT,
            self.ask("在全市辖区内被疫情防控部门通知为健康码“红黄码”人员", "介绍情况,司法所将要求对象积极配合"),
            step="consult-epidemic-dept",
            clause=c,
        )
        self.decide("要求对象积极配合属地疫情防控部门开展相关工作", c)
        self.decide("做好人员心理疏导和后续动态关注", c)
        cleared = await self.next_report(Cleared)
        self.decide(f"红黄码解除:{cleared.summary}", c, actor=cleared.actor)

    # ------------------------------------------------------------------ 情形三

    async def _while_away(self) -> None:
        c = self.clause
        epidemic = variant(self.incident, EpidemicInput).epidemic
        assert epidemic.away_place  # EpidemicCase requires it for S3
        people = workflow.patched(PATCH)  # duties of people (issue 16); histories recorded before: deadlines
        if not self.resumed:
            if people:  # 立即与该外出人员取得联系,了解情况: the 司法所 on-duty officer's call
                subject = self.incident.subject
                self.assign_duty(
                    "contact-subject", "立即与该外出人员取得联系,了解情况", c, role=Agency.JUSTICE_OFFICE,
                    form=DutyForm.PHONE, counterpart_zh="外出的社区矫正对象", phone=subject.phone if subject else None,
                    say_zh=f"外出期间(外出地:{epidemic.away_place})被疫情防控部门通知为健康码“红黄码”人员;"
                           "请了解其状态,做好人员心理疏导",
                )
            else:
                self.decide("立即与外出人员取得联系,了解情况", c)
            # 并与当地疫情防控部门取得联系: the department of the place where the subject is, directly.
            local = epidemic.away_epidemic_department or f"{epidemic.away_place}当地疫情防控部门"
            if epidemic.away_epidemic_phone:
                self.notify(
                    Agency.AWAY_EPIDEMIC_DEPARTMENT,
                    self.ask(
                        f"外出期间(外出地:{epidemic.away_place})被疫情防控部门通知为健康码“红黄码”人员(致{local})",
                        "请告知外出人员的状态和将采取的措施,司法所将配合做好人员心理疏导和后续动态关注",
                    ),
                    step="contact-local-epidemic-dept",
                    clause=c,
                    phone=epidemic.away_epidemic_phone,
                )
            else:
                self.decide(f"未提供{local}联系方式,由司法所人工联系,明确外出人员的状态和将采取的措施", c)
                self.require_by_hand(
                    Agency.AWAY_EPIDEMIC_DEPARTMENT,
                    f"联系{local}",
                    step="contact-local-epidemic-dept",
                    clause=c,
                )
            self.decide("做好人员心理疏导和后续动态关注;司法所每日与外出人员保持联系", c)
            self.clause_state.anchor = workflow.now()
        facts: DailyContactFacts = self.clause_state
        assert facts.anchor is not None
        if people:
            await self._daily_call(facts)
        else:
            await self._daily_deadlines(facts)
        cleared = self.reports_of(Cleared)[0]
        self.decide(f"红黄码解除,结束每日联系:{cleared.summary}", c, actor=cleared.actor)

    async def _daily_call(self, facts: DailyContactFacts) -> None:
        """司法所应当每日与外出人员保持联系,做好人员疫情信息的动态关注: each day a phone duty of the person on
        duty at the 司法所 that day (``duty-daily-contact-<n>``, due at the day's end), discharged by that
        day's ``daily_contact`` report (or ``phoned``), escalated to the section, then the leadership
        group, when unconfirmed; until cleared (issue 16)."""
        assert facts.anchor is not None
        subject = self.incident.subject
        place = variant(self.incident, EpidemicInput).epidemic.away_place
        async for day in self.recurring_duty(
            prefix=DAILY,
            title_zh=lambda n: f"第{n}日联系外出人员",
            clause=self.clause,
            anchor=facts.anchor,
            period=self.policy.daily_contact,
            done=facts.day,
            role=Agency.JUSTICE_OFFICE,
            form=DutyForm.PHONE,
            say_zh=f"了解外出人员(外出地:{place})当日健康状况和疫情防控部门采取的措施,做好人员心理疏导",
            counterpart_zh="外出的社区矫正对象",
            phone=subject.phone if subject else None,
            report=DailyContact,
            until=Cleared,
        ):
            facts.day = day
            if day % CARRY_OVER_DAYS == 0 or workflow.info().is_continue_as_new_suggested():
                await self.continue_as_new()

    async def _daily_deadlines(self, facts: DailyContactFacts) -> None:
        """Histories recorded before duties of people: one deadline a day, met by ``daily_contact``."""
        assert facts.anchor is not None
        c = self.clause
        # 司法所应当每日与外出人员保持联系: a recurring duty, one deadline a day, until cleared.
        async for day in self.recurring(
            prefix="daily-contact-",
            title_zh=lambda n: f"第{n}日联系外出人员",
            clause=c,
            anchor=facts.anchor,
            period=self.policy.daily_contact,
            done=facts.day,
            escalate_to=(Agency.CORRECTION_SECTION,),
            report=DailyContact,
            until=Cleared,
        ):
            facts.day = day
            if day % CARRY_OVER_DAYS == 0 or workflow.info().is_continue_as_new_suggested():
                await self.continue_as_new()

    def on_report(self, report: Report, seq: int) -> None:
        if self.scenario is not EpidemicScenario.S3:
            return
        # A day's contact counts for that day only: a day that passed without contact stays missed.
        pending = self.pending_deadlines(DAILY)
        today = [d for d in self.open_duties(DAILY) if d.due_at > workflow.now()]
        if isinstance(report, DailyContact):
            for d in pending:
                self.fulfil(d.id, report.actor)
            for duty in today:
                health = f",{report.health}" if report.health else ""
                self.discharge_duty(duty.id, report, ("已取得联系" if report.reached else "当日未能取得联系") + health)
            if not report.reached:
                self.notify(
                    Agency.CORRECTION_SECTION,
                    self.ask("外出期间(红黄码)当日未能取得联系", "知悉,督促司法所继续联系并做好动态关注"),
                    step=f"unreachable-{seq}",
                    clause=self.clause,
                )
        elif isinstance(report, Cleared):
            for d in pending:
                self.cancel_deadline(d.id, "红黄码已解除")
            for duty in today:
                self.cancel_duty(duty.id, "红黄码已解除")

    # ------------------------------------------------------------------ 情形四

    async def _contact_or_confirmed(self) -> None:
        c = self.clause
        self.notify(
            Agency.EPIDEMIC_DEPARTMENT,
            self.ask("被疫情防控部门通知为密接、次密接或确诊人员", "介绍情况,并告知对工作人员和其余社区矫正对象的排查要求"),
            step="consult-epidemic-dept",
            clause=c,
        )
        self.decide("要求对象积极配合属地疫情防控部门开展相关工作", c)
        self.decide("根据疫情防控部门的要求对工作人员和其余社区矫正对象开展情况排查", c)
        screening = await self.next_report(ScreeningResult)
        if workflow.patched(PATCH):
            await self._report_up_by_phone_then_in_writing(screening)
            return
        # 排查结果和有关情况第一时间电话报告上一级社区矫正机构 (histories recorded before duties of people)
        self.notify(
            Agency.HIGHER_CORRECTION_AGENCY,
            self.ask(f"【电话报告】排查结果:{screening.result}", "知悉,书面报告待情况基本明确后报送"),
            step="phone-report-up",
            clause=c,
        )
        cleared = await self.next_report(Cleared)
        # 并在情况基本明确后向上一级社区矫正机构书面报告
        self.notify(
            Agency.HIGHER_CORRECTION_AGENCY,
            self.ask(
                f"【书面报告】{self.scenario.zh};排查结果:{screening.result};"
                f"情况已基本明确:{cleared.summary}",
                "知悉",
            ),
            step="written-report-up",
            clause=c,
        )

    async def _report_up_by_phone_then_in_writing(self, screening: ScreeningResult) -> None:
        """排查结果和有关情况第一时间电话报告上一级社区矫正机构,并在情况基本明确后向上一级社区矫正机构书面报告:
        first a person's phone duty, then, once ``cleared`` says the situation is basically clear, the
        written report (a message duty, discharged by its delivery), in that order."""
        c = self.clause
        self.assign_duty(
            "phone-report-up", "排查结果和有关情况第一时间电话报告上一级社区矫正机构", c,
            role=Agency.CORRECTION_SECTION, form=DutyForm.PHONE, counterpart=Agency.HIGHER_CORRECTION_AGENCY,
            say_zh=f"排查结果:{screening.result};书面报告待情况基本明确后报送",
        )
        cleared = await self.next_report(Cleared)
        self.message_duty(
            "written-report-up", "在情况基本明确后向上一级社区矫正机构书面报告", c,
            role=Agency.CORRECTION_SECTION, to=Agency.HIGHER_CORRECTION_AGENCY, form=DutyForm.WRITTEN,
            text_zh=self.ask(
                f"【书面报告】{self.scenario.zh};排查结果:{screening.result};"
                f"情况已基本明确:{cleared.summary}",
                "知悉",
            ),
        )

    # ------------------------------------------------------------------ what the clause waits for

    def check_clause_report(self, report: Report) -> str | None:
        s = self.scenario
        allowed = {
            EpidemicScenario.S1: {"transfer_done", "others_released"},
            EpidemicScenario.S2: {"cleared"},
            EpidemicScenario.S3: {"daily_contact", "cleared"},
            EpidemicScenario.S4: {"screening_result", "cleared"},
        }[s]
        if report.kind in self.CLAUSE_REPORTS and report.kind not in allowed:
            return f"{report.kind}: does not apply to scenario {s.value} ({s.zh})"
        return None
