"""C10 — 社区矫正对象未经允许在特殊敏感时间段进入活动举办场所的处置 (001 §4(10)).

(十)社区矫正对象未经允许在特殊敏感时间段进入活动举办场所的处置:区司法局社区矫正管理科或司法所发现社区矫正对象未经允许在特殊敏感时间段进入活动举办场所的,应当立即联系社区矫正对象核实情况,要求其离开活动举办场所。 如不愿离开的,应立即派员赶赴现场,并同步向公安“110”或执行地公安派出所报警予以处置。事件处置完毕后,区司法局社区矫正管理科对应予处罚的社区矫正对象,要及时依法实施处罚,并将有关情况及时上报上一级社区矫正机构,同时通报执行地人民检察院。

(Quoted verbatim from ../shared/seeds/001_5f209eb0f92587e5.txt, including the source's stray space.)

Steps:

- 立即联系社区矫正对象核实情况,要求其离开活动举办场所: a phone duty of the 司法所's on-duty officer
  (``duty-contact-subject``, with the subject's number, due within ``immediate``), discharged by the
  ``persuasion`` report (or ``phoned``), escalated when unconfirmed (histories recorded before: a decision);
- 已离开: punishment;
- 不愿离开的: staff dispatched to the scene and 110 called in one step, at the same time
  (同步; ``dispatch-and-alarm`` to the justice office and 110); then 事件处置完毕 (``handled``);
- punishment decided by the section, reported up and to the procuratorate (``punishment-report-up``).

Reports this clause takes: ``persuasion``, then (if refused) ``handled``, then ``punishment``.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue

from workflows.base import IncidentWorkflow
from workflows.mechanics.duties import CONTACT_PATCH, PATCH

with workflow.unsafe.imports_passed_through():
    from plan.agencies import Agency
    from plan.models import (
        DutyForm,
        Handled,
        IncidentOutcome,
        IncidentType,
        Persuasion,
        Punishment,
        Report,
    )

CLAUSE = "001 §4(10)"

FACT = "未经允许在特殊敏感时间段进入活动举办场所"


@workflow.defn(name="C10SensitiveVenue")
class SensitiveVenue(IncidentWorkflow):
    """001 §4(10): a correction subject enters an event venue in a sensitive period without permission."""

    TYPE = IncidentType.C10
    TITLE_ZH = "社区矫正对象未经允许在特殊敏感时间段进入活动举办场所"
    CLAUSE = CLAUSE
    CLAUSE_REPORTS = frozenset({"persuasion", "handled", "punishment"})

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    async def respond(self) -> None:
        contact = workflow.patched(CONTACT_PATCH)
        if contact:  # 立即联系社区矫正对象: the 司法所 on-duty officer's call, evidenced by the persuasion report
            subject = self.incident.subject
            self.assign_duty(
                "contact-subject", "立即联系社区矫正对象核实情况,要求其离开活动举办场所", CLAUSE,
                role=Agency.JUSTICE_OFFICE, form=DutyForm.PHONE, counterpart_zh="社区矫正对象",
                phone=subject.phone if subject else None, evidence="persuasion",
                say_zh=f"{FACT};请核实情况,要求其立即离开活动举办场所,并报告其是否离开",
            )
        else:  # histories recorded before
            self.decide("立即联系社区矫正对象核实情况,要求其离开活动举办场所", CLAUSE)
        persuasion = await self.next_report(Persuasion)
        if contact:
            self.discharge_duty("contact-subject", persuasion,
                                "已联系社区矫正对象," + ("已离开活动举办场所" if persuasion.complied else "不愿离开"))
        if persuasion.complied:
            self.decide("社区矫正对象已离开活动举办场所", CLAUSE, actor=persuasion.actor)
        else:
            # 如不愿离开的,应立即派员赶赴现场,并同步向公安“110”或执行地公安派出所报警予以处置
            self.decide("社区矫正对象不愿离开,立即派员赶赴现场,同步报警", CLAUSE, actor=persuasion.actor)
            fact = f"{FACT},经联系要求其离开,不愿离开"
            if workflow.patched(PATCH):
                # 派员赶赴现场: an on-site duty; 同步报警: the on-duty officer's call (and the push), issue 16
                self.alarm_110(fact, "立即出警到现场予以处置(司法所已同步派员赶赴现场)", step="dispatch-and-alarm",
                               clause=CLAUSE, what_zh="同步向公安“110”或执行地公安派出所报警予以处置")
                self.assign_duty("dispatch-on-site", "应立即派员赶赴现场", CLAUSE, role=Agency.JUSTICE_OFFICE,
                                 form=DutyForm.ON_SITE, say_zh=f"{fact};已同步向公安“110”报警")
                handled = await self.next_report(Handled)
                self.decide("事件处置完毕", CLAUSE, actor=handled.actor)
                await self.punish(FACT, clause=CLAUSE)
                return
            self.notify_all(
                [Agency.JUSTICE_OFFICE, Agency.POLICE_110],
                lambda to: self.ask(
                    fact,
                    "立即派员赶赴现场(已同步向公安“110”报警)"
                    if to is Agency.JUSTICE_OFFICE
                    else "立即出警到现场予以处置(司法所已同步派员赶赴现场)",
                ),
                step="dispatch-and-alarm",
                clause=CLAUSE,
            )
            handled = await self.next_report(Handled)
            self.decide("事件处置完毕", CLAUSE, actor=handled.actor)
        await self.punish(FACT, clause=CLAUSE)

    def check_clause_report(self, report: Report) -> str | None:
        return self.check_persuasion(report, police_optional=False)
