"""C3 — 社区矫正对象参与非正常上访的处置 (001 §4(3)).

(三)社区矫正对象参与非正常上访的处置:区司法局社区矫正管理科或司法所应当及时向同级信访部门通报情况,并协助
信访部门对社区矫正对象进行说服教育,将其带回执行地。区司法局社区矫正管理科对社区矫正对象要及时依法处罚,并将
有关情况及时上报上一级社区矫正机构,同时通报执行地人民检察院。对社区矫正对象反映的合法合理诉求,要认真研究
处理。

Reports this clause takes: ``handled`` (the subject persuaded and brought back to the place of
execution; ``claims``: the lawful and reasonable claims the subject raised, each recorded for study),
then ``punishment``, and one ``claim_handled`` per claim (who studied it, and the outcome) before the
incident can close: 对社区矫正对象反映的合法合理诉求,要认真研究处理.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue

from workflows.base import IncidentWorkflow

with workflow.unsafe.imports_passed_through():
    from plan.agencies import Agency
    from plan.models import ClaimHandled, Handled, IncidentOutcome, IncidentType, Punishment, Report

CLAUSE = "001 §4(3)"


@workflow.defn(name="C3AbnormalPetition")
class AbnormalPetition(IncidentWorkflow):
    """001 §4(3): a correction subject takes part in abnormal petitioning (非正常上访)."""

    TYPE = IncidentType.C3
    TITLE_ZH = "社区矫正对象参与非正常上访"
    CLAUSE = CLAUSE
    CLAUSE_REPORTS = frozenset({"handled", "claim_handled", "punishment"})

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    async def respond(self) -> None:
        # 及时向同级信访部门通报情况
        self.notify(
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
        for i, claim in enumerate(handled.claims, 1):
            # 对社区矫正对象反映的合法合理诉求,要认真研究处理: each claim is answered before closing
            self.decide(f"对象反映的合法合理诉求(第{i}项):{claim},认真研究处理", CLAUSE, actor=handled.actor)
        # The punishment (001 §4) and the answer to each claim come as the section decides them, in any order.
        punished = False
        while not punished or self._open_claims():
            awaited: list[type[Punishment] | type[ClaimHandled]] = [] if punished else [Punishment]
            if self._open_claims():
                awaited.append(ClaimHandled)
            report = await self.next_report(*awaited)
            if isinstance(report, Punishment):
                self.punished(report, "参与非正常上访,已带回执行地", clause=CLAUSE)
                punished = True
                continue
            self.decide(
                f"合法合理诉求(第{report.claim}项)经{report.studied_by}研究处理:{report.outcome}",
                CLAUSE,
                actor=report.actor,
            )

    def _claims(self) -> list[str]:
        handled = self.reports_of(Handled)
        return handled[0].claims if handled else []

    def _open_claims(self) -> list[int]:
        """Claims (1-based) not yet answered by a ``claim_handled`` report."""
        answered = {c.claim for c in self.reports_of(ClaimHandled)}
        return [i for i in range(1, len(self._claims()) + 1) if i not in answered]

    def check_clause_report(self, report: Report) -> str | None:
        if isinstance(report, Handled) and report.crime_suspected:
            return "handled: crime_suspected applies to 001 §4(1), not C3"
        if isinstance(report, ClaimHandled) and report.claim not in self._open_claims():
            n = len(self._claims())
            if report.claim > n:
                return f"claim_handled: claim {report.claim} does not exist; the subject raised {n} claim(s)"
            return f"claim_handled: claim {report.claim} was already answered"
        return None
