"""C2 — 社区矫正对象非法组织或参与群体性事件的处置 (001 §4(2)).

(二)社区矫正对象非法组织或参与群体性事件的处置:区司法局社区矫正管理科或司法所应当对社区矫正对象开展批评
教育,劝导其离开群体性事件现场,并向公安机关通报情况。如对象不愿离开的,区司法局社区矫正管理科和司法所可以
向公安“110”或执行地公安派出所报警予以处置。区司法局社区矫正管理科对应予处罚的社区矫正对象,要及时依法实施
处罚,并将有关情况及时上报上一级社区矫正机构,同时通报执行地人民检察院。

Reports this clause takes: ``persuasion`` (complied = left the scene; not complied = 110 is called),
then ``punishment``.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue

from workflows.base import IncidentWorkflow

with workflow.unsafe.imports_passed_through():
    from plan.agencies import Agency
    from plan.models import (
        IncidentOutcome,
        IncidentType,
        Persuasion,
        Punishment,
        Report,
    )

CLAUSE = "001 §4(2)"


@workflow.defn(name="C2MassIncident")
class MassIncident(IncidentWorkflow):
    """001 §4(2): a correction subject illegally organises or joins a mass incident."""

    TYPE = IncidentType.C2
    TITLE_ZH = "社区矫正对象非法组织或参与群体性事件"
    CLAUSE = CLAUSE
    CLAUSE_REPORTS = frozenset({"persuasion", "punishment"})

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    async def respond(self) -> None:
        self.decide("对社区矫正对象开展批评教育,劝导其离开群体性事件现场", CLAUSE)
        # 并向公安机关通报情况
        self.notify(
            Agency.POLICE_ORGAN,
            self.ask(
                f"非法组织或参与群体性事件,司法所正在对其开展批评教育、劝导其离开现场。经过:{self.incident.description}",
                "知悉(向公安机关通报情况)",
            ),
            step="inform-police",
            clause=CLAUSE,
        )
        # 如对象不愿离开的,区司法局社区矫正管理科和司法所可以向公安“110”或执行地公安派出所报警予以处置
        await self.persuade(
            complied_zh="对象已听从劝导,离开群体性事件现场",
            refused_zh="对象不愿离开群体性事件现场",
            police_fact="参与群体性事件,经批评教育、劝导仍不愿离开现场",
            clause=CLAUSE,
            police_optional=True,
        )
        await self.punish("非法组织或参与群体性事件", clause=CLAUSE)

    def check_clause_report(self, report: Report) -> str | None:
        return self.check_persuasion(report, police_optional=True)
