"""C8 — 社区矫正工作场所内发生暴力事件的处置 (001 §4(8)).

(八)社区矫正工作场所内发生暴力事件的处置:社区矫正工作场所内发生社区矫正对象暴力事件的,工作人员应立即通过语言劝诫制止社区矫正对象,对于不听劝阻的,应当立即向公安“110”或执行地公安派出所报警到现场予以处置,如事态紧急的,可通过执勤执法装备制止暴力行为。司法所办公场所内发生暴力事件的,司法所工作人员在处置后应当立即电话报告区司法局社区矫正管理科。区司法局社区矫正管理科对应予处罚的社区矫正对象,要及时依法实施处罚,并将有关情况及时上报上一级社区矫正机构,同时通报执行地人民检察院。

(Quoted verbatim from ../shared/seeds/001_5f209eb0f92587e5.txt.)

Steps:

- 工作人员应立即通过语言劝诫制止社区矫正对象: a decision on the timeline; then a ``persuasion`` report;
- 不听劝阻的: 110 to the scene (``alarm-110``); 事态紧急的,可通过执勤执法装备制止暴力行为: recorded
  as a decision when ``equipment_used`` is reported;
- 事件处置后 (``handled``): when the violence happened in a justice office's premises
  (``incident.at_justice_office``), the justice office telephones the correction section at once
  (``phone-report-section``);
- punishment decided by the section, reported up and to the procuratorate (``punishment-report-up``).

Reports this clause takes: ``persuasion``, then ``handled``, then ``punishment``.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue

from workflows.base import IncidentWorkflow

with workflow.unsafe.imports_passed_through():
    from plan.agencies import Agency
    from plan.models import (
        Handled,
        IncidentOutcome,
        IncidentType,
        Persuasion,
        Punishment,
        Report,
    )

CLAUSE = "001 §4(8)"


@workflow.defn(name="C8WorkplaceViolence")
class WorkplaceViolence(IncidentWorkflow):
    """001 §4(8): violence by a correction subject at a community-correction workplace."""

    TYPE = IncidentType.C8
    TITLE_ZH = "社区矫正工作场所内发生暴力事件"
    CLAUSE = CLAUSE
    CLAUSE_REPORTS = frozenset({"persuasion", "handled", "punishment"})

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    async def respond(self) -> None:
        self.decide("工作人员立即通过语言劝诫制止社区矫正对象", CLAUSE)
        # 对于不听劝阻的,应当立即向公安“110”或执行地公安派出所报警到现场予以处置
        persuasion = await self.persuade(
            complied_zh="社区矫正对象听从劝诫,停止暴力行为",
            refused_zh="社区矫正对象不听劝阻",
            police_fact="在社区矫正工作场所内实施暴力,经语言劝诫不听劝阻",
            asked="立即出警到现场予以处置",
            clause=CLAUSE,
            police_optional=False,
        )
        if persuasion.equipment_used:
            # 如事态紧急的,可通过执勤执法装备制止暴力行为 (recorded whenever it was used)
            self.decide("事态紧急,通过执勤执法装备制止暴力行为", CLAUSE, actor=persuasion.actor)
        handled = await self.next_report(Handled)
        self.decide("暴力事件处置完毕", CLAUSE, actor=handled.actor)
        if self.incident.at_justice_office:
            # 司法所办公场所内发生暴力事件的,司法所工作人员在处置后应当立即电话报告区司法局社区矫正管理科
            office = self.incident.jurisdiction.justice_office
            self.notify(
                Agency.CORRECTION_SECTION,
                self.ask(
                    f"在{office}办公场所内实施暴力,事件已处置完毕(司法所工作人员处置后立即电话报告)",
                    "知悉,并对应予处罚的社区矫正对象及时依法实施处罚",
                ),
                step="phone-report-section",
                clause=CLAUSE,
            )
        await self.punish("在社区矫正工作场所内实施暴力", clause=CLAUSE)

    def check_clause_report(self, report: Report) -> str | None:
        return self.check_persuasion(report, police_optional=False)
