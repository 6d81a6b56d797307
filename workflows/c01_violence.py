"""C1 — 社区矫正对象实施行凶等犯罪或以要挟为目的的自杀自残 (001 §4(1)).

(一)社区矫正对象准备或正在实施行凶、杀人、放火、抢劫、绑架等犯罪,或者以要挟或制造重大社会影响为目的的
自杀、自焚、自残等行为的处置:司法所应当立即向公安“110”或执行地公安派出所报警并向区司法局社区矫正管理科
报告,区司法局社区矫正管理科和司法所在第一时间前往事发现场,配合公安机关对社区矫正对象进行思想教育和心理
疏导,控制事态发展。如有人员伤亡的,应立即拨打 120 或协调医院进行救治。事件处置后,区司法局社区矫正管理科
要结合实际情况对社区矫正对象及时予以相应处罚,并将有关情况及时上报上一级社区矫正机构,同时通报执行地人民
检察院。对涉嫌实施犯罪的社区矫正对象,配合公安机关开展犯罪侦查和调查取证工作。

The very first calls (``first_response``, before the base's information report): 110 and the section
at the same time ("alarm-110"), then 120 if casualties are known at the start ("medical-120"). The
section, told here, is not told again by the base's "level-report" (only the higher agency is).

Reports this clause takes: ``casualties`` (any number while on site; each calls 120 again) and
``handled`` (on-site handling over; ``crime_suspected`` sets off the investigation support), then
``punishment``.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue

from workflows.base import IncidentWorkflow

with workflow.unsafe.imports_passed_through():
    from plan.agencies import Agency
    from plan.models import (
        Casualties,
        Handled,
        IncidentOutcome,
        IncidentType,
        Punishment,
        Report,
    )

CLAUSE = "001 §4(1)"

#: The clause's situation, as the texts name it.
FACT_ZH = "准备或正在实施行凶等犯罪,或以要挟、制造重大社会影响为目的实施自杀、自残等行为"


@workflow.defn(name="C1ViolentCrimeOrSelfHarm")
class ViolentCrimeOrSelfHarm(IncidentWorkflow):
    """001 §4(1): a correction subject commits (or prepares) a violent crime, or coercive self-harm."""

    TYPE = IncidentType.C1
    TITLE_ZH = "社区矫正对象实施行凶等犯罪或以要挟为目的的自杀自残"
    CLAUSE = CLAUSE
    CLAUSE_REPORTS = frozenset({"casualties", "handled", "punishment"})

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    def first_response(self) -> None:
        # 司法所应当立即向公安“110”或执行地公安派出所报警并向区司法局社区矫正管理科报告 (同时)
        fact = f"{FACT_ZH}。经过:{self.incident.description}"

        def text(to: Agency) -> str:
            if to is Agency.POLICE_110:
                return self.ask(fact, "立即出警处置")
            return self.ask(
                fact + ",司法所已向公安“110”报警",
                "区司法局社区矫正管理科第一时间前往事发现场,配合公安机关对社区矫正对象进行思想教育和"
                "心理疏导,控制事态发展,并逐级上报",
            )

        self.notify_all(
            [Agency.POLICE_110, Agency.CORRECTION_SECTION], text, step="alarm-110", clause=CLAUSE
        )
        if self.incident.casualties:
            # 如有人员伤亡的,应立即拨打 120 或协调医院进行救治
            self.notify(
                Agency.MEDICAL_120,
                self.ask(f"{FACT_ZH},现场有人员伤亡", "立即派员赶赴现场救治"),
                step="medical-120",
                clause=CLAUSE,
            )

    async def respond(self) -> None:
        self.decide(
            "区司法局社区矫正管理科和司法所第一时间前往事发现场,配合公安机关对社区矫正对象进行思想教育"
            "和心理疏导,控制事态发展",
            CLAUSE,
        )
        n = 0
        while True:
            report = await self.next_report(Handled, Casualties)
            if isinstance(report, Casualties):
                n += 1
                self.notify(
                    Agency.MEDICAL_120,
                    self.ask(
                        f"{FACT_ZH},现场有人员伤亡(受伤{report.injured}人、死亡{report.dead}人)",
                        "立即派员赶赴现场救治",
                    ),
                    step=f"medical-120-{n}",
                    clause=CLAUSE,
                )
                continue
            break
        handled: Handled = report
        self.decide("现场处置完毕,事态得到控制", CLAUSE, actor=handled.actor)
        if handled.crime_suspected:
            # 对涉嫌实施犯罪的社区矫正对象,配合公安机关开展犯罪侦查和调查取证工作
            self.decide("配合公安机关开展犯罪侦查和调查取证工作", CLAUSE, actor=handled.actor)
            self.notify(
                Agency.POLICE_ORGAN,
                self.ask("涉嫌实施犯罪,事件现场处置完毕", "知悉;区司法局社区矫正管理科和司法所配合开展犯罪侦查和调查取证工作"),
                step="investigation-support",
                clause=CLAUSE,
            )
        # 事件处置后,区司法局社区矫正管理科要结合实际情况对社区矫正对象及时予以相应处罚,并将有关情况及时上报上一级社区矫正机构,同时通报执行地人民检察院
        await self.punish(f"{FACT_ZH},事件已处置", clause=CLAUSE, label="相应处罚")

    def check_clause_report(self, report: Report) -> str | None:
        if isinstance(report, Handled) and report.claims:
            return "handled: claims apply to 001 §4(3) (非正常上访), not C1"
        return None
