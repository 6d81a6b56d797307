"""C3 — 社区矫正对象参与非正常上访的处置 (001 §4(3)).

(三)社区矫正对象参与非正常上访的处置:区司法局社区矫正管理科或司法所应当及时向同级信访部门通报情况,并协助
信访部门对社区矫正对象进行说服教育,将其带回执行地。区司法局社区矫正管理科对社区矫正对象要及时依法处罚,并将
有关情况及时上报上一级社区矫正机构,同时通报执行地人民检察院。对社区矫正对象反映的合法合理诉求,要认真研究
处理。

Reports this clause takes: ``handled`` (the subject persuaded and brought back to the place of
execution; ``claims``: lawful and reasonable claims the subject raised, recorded for study), then
``punishment``.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue

from workflows.base import IncidentWorkflow

with workflow.unsafe.imports_passed_through():
    from plan.agencies import Agency
    from plan.models import Handled, IncidentOutcome, IncidentType, Punishment, Report

CLAUSE = "001 §4(3)"


@workflow.defn(name="C3AbnormalPetition")
class AbnormalPetition(IncidentWorkflow):
    """001 §4(3): a correction subject takes part in abnormal petitioning (非正常上访)."""

    TYPE = IncidentType.C3
    TITLE_ZH = "社区矫正对象参与非正常上访"
    CLAUSE = CLAUSE
    CLAUSE_REPORTS = frozenset({"handled", "punishment"})

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    async def respond(self) -> None:
        # 及时向同级信访部门通报情况
        await self.notify(
            Agency.PETITION_OFFICE,
            self.ask(
                f"参与非正常上访。经过:{self.incident.description}",
                "知悉;区司法局社区矫正管理科和司法所协助信访部门对社区矫正对象进行说服教育,将其带回执行地",
            ),
            step="inform-petition-office",
            clause=CLAUSE,
        )
        self.decide("协助信访部门对社区矫正对象进行说服教育", CLAUSE)
        handled = await self.next_report(Handled)
        self.decide("经说服教育,将社区矫正对象带回执行地", CLAUSE, actor=handled.actor)
        if handled.claims:
            # 对社区矫正对象反映的合法合理诉求,要认真研究处理
            self.decide(f"对象反映的合法合理诉求:{handled.claims},认真研究处理", CLAUSE, actor=handled.actor)
        await self.punish("参与非正常上访,已带回执行地", clause=CLAUSE)

    def waiting_for(self) -> list[str]:
        if not self.reports_of(Handled):
            return ["handled"]
        if not self.reports_of(Punishment):
            return ["punishment"]
        return []

    def check_clause_report(self, report: Report) -> str | None:
        if isinstance(report, Handled) and report.crime_suspected:
            return "handled: crime_suspected applies to 001 §4(1), not C3"
        return None
