"""C7 — 社区矫正对象在参加教育学习、公益活动等过程中发生人身伤亡的处置 (001 §4(7)).

(七)社区矫正对象在参加教育学习、公益活动等过程 中发生人身伤亡的处置:组织教育学习、公益活动的区司法局社区矫正管理科或司法所应当立即拨打120 或联系协调医院开展救治工作,通知社区矫正对象家属,做好解释工作;终止教 育学习、公益活动,开展现场设施安全检查。社区矫正对象 死亡的,区司法局社区矫正管理科按照死亡程序予以终止社区矫正,并将有关情况及时上报上一级社区矫正机构,同时通报决定机关和执行地人民检察院、公安机关。

(Quoted verbatim from ../shared/seeds/001_5f209eb0f92587e5.txt, including the source's stray spaces.)

Steps:

- 立即拨打120或联系协调医院开展救治工作: the very first notification of the incident
  (``first_response``, step ``medical-120``), before the information report;
- 通知社区矫正对象家属,做好解释工作: every contact in ``subject.family`` (``family-<i>``);
- 终止教育学习、公益活动,开展现场设施安全检查: recorded when an officer reports them, in the clause's
  order: ``activity_stopped``, then ``site_inspection`` (refused before the activity is stopped);
- a ``casualty_outcome`` report, refused until the site inspection is reported. Subject died: 按照死亡
  程序予以终止社区矫正 and the report up to the higher agency, the deciding authority, the procuratorate
  and the police organ, at the same time (``termination-report``). Survived: the outcome is reported
  up to the higher agency (``casualty-report``; 001 §5(1)).

No punishment: the clause has none.

Reports this clause takes: ``activity_stopped``, ``site_inspection``, then ``casualty_outcome`` (once each).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue

from workflows.base import IncidentWorkflow

with workflow.unsafe.imports_passed_through():
    from plan.agencies import Agency
    from plan.models import (
        ActivityStopped,
        CasualtyOutcome,
        IncidentOutcome,
        IncidentType,
        Report,
        SiteInspection,
    )

CLAUSE = "001 §4(7)"

#: 上报上一级社区矫正机构,同时通报决定机关和执行地人民检察院、公安机关.
TERMINATION_REPORT_TO = (
    Agency.HIGHER_CORRECTION_AGENCY,
    Agency.DECIDING_AUTHORITY,
    Agency.PROCURATORATE,
    Agency.POLICE_ORGAN,
)

FACT = "在参加教育学习、公益活动过程中发生人身伤亡"


@workflow.defn(name="C7ActivityCasualty")
class ActivityCasualty(IncidentWorkflow):
    """001 §4(7): a correction subject is injured or killed during education or public-service work."""

    TYPE = IncidentType.C7
    TITLE_ZH = "社区矫正对象在教育学习、公益活动中发生人身伤亡"
    CLAUSE = CLAUSE
    CLAUSE_REPORTS = frozenset({"activity_stopped", "site_inspection", "casualty_outcome"})

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    def first_response(self) -> None:
        # 立即拨打120或联系协调医院开展救治工作: before anything else.
        self.notify(
            Agency.MEDICAL_120,
            self.ask(FACT, "立即派员到现场开展救治工作"),
            step="medical-120",
            clause=CLAUSE,
        )

    async def respond(self) -> None:
        # 通知社区矫正对象家属,做好解释工作
        self.notify_family(
            f"{FACT},已联系120/医院开展救治",
            "知悉(司法所将与您联系,做好解释工作)",
            clause=CLAUSE,
            none_zh="未登记家属联系方式,由司法所通过其他途径通知家属并做好解释工作",
        )
        # 终止教育学习、公益活动,开展现场设施安全检查: as the officers report them, in that order
        stopped = await self.next_report(ActivityStopped)
        self.decide("终止教育学习、公益活动", CLAUSE, actor=stopped.actor)
        inspection = await self.next_report(SiteInspection)
        self.decide(f"开展现场设施安全检查:{inspection.findings}", CLAUSE, actor=inspection.actor)
        outcome = await self.next_report(CasualtyOutcome)
        if outcome.subject_died:
            # 死亡的,区司法局社区矫正管理科按照死亡程序予以终止社区矫正,并将有关情况及时上报上一级社区矫正机构…
            self.terminate_correction(
                "按照死亡程序予以终止社区矫正",
                f"{FACT},经抢救无效死亡({outcome.summary}),已按照死亡程序予以终止社区矫正",
                TERMINATION_REPORT_TO,
                clause=CLAUSE,
                actor=outcome.actor,
            )
        else:
            self.decide(f"救治情况:{outcome.summary}", CLAUSE, actor=outcome.actor)
            self.notify(
                Agency.HIGHER_CORRECTION_AGENCY,
                self.ask(
                    f"{FACT},救治情况:{outcome.summary};活动已终止,现场设施安全检查已开展",
                    "知悉",
                ),
                step="casualty-report",
                clause=CLAUSE,
            )

    def check_clause_report(self, report: Report) -> str | None:
        if isinstance(report, CasualtyOutcome) and report.site_inspected is False:
            return (
                "casualty_outcome: the site safety inspection (开展现场设施安全检查, 001 §4(7)) "
                "has not been done; inspect the site and report site_inspection first"
            )
        return None
