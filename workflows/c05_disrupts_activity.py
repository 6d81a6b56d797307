"""C5 — 社区矫正对象在教育学习、公益活动中严重滋扰管理秩序 (001 §4(5)).

(五)社区矫正对象在参加教育学习、公益活动等过程中严重滋扰管理秩序的处置:组织教育学习、公益活动的区司法局
社区矫正管理科或司法所应当强化现场秩序维护,立即将违规人员劝离现场,进行批评训诫,同时对其他人员进行教育。
如不愿离开的,区司法局社区矫正管理科或司法所可以向公安“110”或执行地公安派出所报警予以处置。区司法局社区矫正
管理科对应予处罚的社区矫正对象,要及时依法处罚,并将有关情况及时上报上一级社区矫正机构,同时通报执行地人民
检察院。

Reports this clause takes: ``persuasion`` (complied = the violator left; not complied = 110 is
called), then ``punishment``.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue

from workflows.base import IncidentWorkflow

with workflow.unsafe.imports_passed_through():
    from plan.models import (
        IncidentOutcome,
        IncidentType,
        Persuasion,
        Punishment,
        Report,
    )

CLAUSE = "001 §4(5)"


@workflow.defn(name="C5DisruptsActivity")
class DisruptsActivity(IncidentWorkflow):
    """001 §4(5): a correction subject seriously disrupts an education or public-service activity."""

    TYPE = IncidentType.C5
    TITLE_ZH = "社区矫正对象在教育学习、公益活动中严重滋扰管理秩序"
    CLAUSE = CLAUSE
    CLAUSE_REPORTS = frozenset({"persuasion", "punishment"})

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    async def respond(self) -> None:
        self.decide("强化现场秩序维护,立即将违规人员劝离现场,进行批评训诫,同时对其他人员进行教育", CLAUSE)
        # 如不愿离开的,区司法局社区矫正管理科或司法所可以向公安“110”或执行地公安派出所报警予以处置
        await self.persuade(
            complied_zh="违规人员已听从劝离,离开活动现场",
            refused_zh="违规人员不愿离开活动现场",
            police_fact=f"在教育学习、公益活动中严重滋扰管理秩序,经劝离、批评训诫仍不愿离开现场。经过:{self.incident.description}",
            clause=CLAUSE,
            police_optional=True,
        )
        await self.punish("在教育学习、公益活动中严重滋扰管理秩序", clause=CLAUSE)

    def check_clause_report(self, report: Report) -> str | None:
        return self.check_persuasion(report, police_optional=True)
