"""C11 — 社区矫正对象其他突发情况 (001 §4(11)).

(十一)其他突发情况的处置:区司法局社区矫正管理科或司法所发现社区矫正对象存在其他突发情况,可能影响社区矫正工作或社会秩序的,可以根据实际情况先予现场处置,并联系协调公安等相关职能部门予以妥善处置。对应予处罚的社区矫正对象,区司法局社区矫正管理科要及时依法实施处罚,并将有关情况及时上报上一级社区矫正机构,同时通报执行地人民检察院。

(Quoted verbatim from ../shared/seeds/001_5f209eb0f92587e5.txt.)

Steps:

- 根据实际情况先予现场处置: a decision;
- 可以…联系协调公安等相关职能部门予以妥善处置: *may* — the officer chooses which departments (the police
  among them or not) with a ``coordinate`` report, any number of times while handling; each chosen
  department is asked to help handle the situation (``coordinate-<n>``). Nothing is sent unasked;
- while handling, each ``police_requested`` report makes 110 a phone duty of the 司法所 on-duty officer
  (``duty-alarm-110-<n>``, n = 1, 2, ..., each confirmed by its own ``phoned``), beside the automated push
  where the bureau's platform takes one (``POLICY.pushed``: ``alarm-110-<n>``);
- ``handled``: on-site handling over; then punishment, reported up and to the procuratorate
  (``punishment-report-up``).

Reports this clause takes: ``coordinate`` and ``police_requested`` (any number) until ``handled``, then
``punishment``.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue

from workflows.base import IncidentWorkflow
from workflows.mechanics.duties import PATCH

with workflow.unsafe.imports_passed_through():
    from plan.agencies import Agency
    from plan.models import (
        Coordinate,
        Handled,
        IncidentOutcome,
        IncidentType,
        PoliceRequested,
        Punishment,
    )

CLAUSE = "001 §4(11)"

FACT = "存在其他突发情况,可能影响社区矫正工作或社会秩序"


@workflow.defn(name="C11OtherEmergency")
class OtherEmergency(IncidentWorkflow):
    """001 §4(11): any other emergency of a correction subject."""

    TYPE = IncidentType.C11
    TITLE_ZH = "社区矫正对象其他突发情况"
    CLAUSE = CLAUSE
    CLAUSE_REPORTS = frozenset({"coordinate", "police_requested", "handled", "punishment"})

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    async def respond(self) -> None:
        self.decide("根据实际情况先予现场处置", CLAUSE)
        n = asked = 0
        while True:
            report = await self.next_report(Handled, Coordinate, PoliceRequested)
            if isinstance(report, Handled):
                self.decide("现场处置完毕", CLAUSE, actor=report.actor)
                break
            if isinstance(report, Coordinate):
                asked += 1
                # 联系协调公安等相关职能部门予以妥善处置: the departments the officer chose
                names = "、".join(Agency(d.value).zh for d in report.departments)
                self.decide(f"联系协调{names}予以妥善处置", CLAUSE, actor=report.actor)
                self.notify_all(
                    [Agency(d.value) for d in report.departments],
                    self.ask(f"{FACT},司法所已先予现场处置", f"协助予以妥善处置:{report.request}"),
                    step=f"coordinate-{asked}",
                    clause=CLAUSE,
                )
                continue
            n += 1
            fact = f"{FACT},需警方处置:{report.reason}"
            if workflow.patched(PATCH):  # each request: the 司法所 on-duty officer's phone duty, and the push
                self.alarm_110(fact, "立即出警到现场予以处置", step=f"alarm-110-{n}", clause=CLAUSE,
                               what_zh="联系协调公安等相关职能部门予以妥善处置:向公安“110”报警")  # (ours)
                continue
            self.notify(  # histories recorded before duties of people
                Agency.POLICE_110, self.ask(fact, "立即出警到现场予以处置"), step=f"alarm-110-{n}", clause=CLAUSE,
            )
        await self.punish(FACT, clause=CLAUSE)
