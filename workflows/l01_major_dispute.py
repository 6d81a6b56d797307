"""L1 — 协调突发重大矛盾纠纷等调处工作,为事件妥善处理提供法律服务 (000 §1.4(1)).

000 §2.3: 人民调解组具体负责参与协调突发重大矛盾纠纷的调处工作;法律服务组具体负责为突发事件(纠纷)
等的妥善处理提供法律服务。The shared mechanics of 000 §3–§4 (information report, 30-minute arrival,
24-hour feedback, written report) come from :class:`IncidentWorkflow`.

Reports this clause takes: ``legal_support_requested`` (any number, while mediating) and
``mediation_outcome`` (once).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue

from workflows.base import IncidentWorkflow

with workflow.unsafe.imports_passed_through():
    from plan.agencies import Agency
    from plan.models import (
        MEDIATION_OUTCOME_ZH,
        Flow,
        IncidentOutcome,
        IncidentType,
        LegalSupportRequested,
        MediationOutcome,
    )

CLAUSE = "000 §1.4(1)"


@workflow.defn(name="L1MajorDisputeMediation")
class MajorDisputeMediation(IncidentWorkflow):
    """000 §1.4(1), §2.3: a major sudden dispute needing mediation."""

    TYPE = IncidentType.L1
    TITLE_ZH = "突发重大矛盾纠纷调处"
    CLAUSE = CLAUSE
    CLAUSE_REPORTS = frozenset({"legal_support_requested", "mediation_outcome"})

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    async def respond(self) -> None:
        # 人民调解组参与协调调处 (000 §2.3); 组织应急队伍及时赶赴现场处置 (000 §3(2))
        self.notify(
            Agency.MEDIATION_GROUP,
            self.ask("发生突发重大矛盾纠纷", "人民调解组立即组织调解人员赶赴现场,参与协调调处"),
            step="dispatch-mediation-group",
            clause="000 §2.3",
        )
        self.decide("人民调解组赶赴现场参与协调调处", "000 §2.3")
        while True:
            report = await self.next_report(MediationOutcome, LegalSupportRequested)
            if isinstance(report, LegalSupportRequested):
                n = len(self.reports_of(LegalSupportRequested))
                self.notify(
                    Agency.LEGAL_SERVICE_GROUP,
                    self.ask(f"调处需要法律服务:{report.need}", "法律服务组为事件妥善处理提供法律服务"),
                    step=f"legal-support-{n}",
                    clause="000 §2.3",
                )
                self.decide(f"申请法律服务支持:{report.need}", "000 §1.4(1)", actor=report.actor)
                continue
            outcome_zh = MEDIATION_OUTCOME_ZH[report.outcome]
            self.decide(f"调处结果:{outcome_zh};{report.summary}", "000 §2.3", actor=report.actor)
            if self.incident.flow is Flow.URGENT:
                # 紧急处置流程 (000 §4.3(1)): 处置过程中,及时向区社会应急联动指挥中心反馈处置情况和有关信息
                self.notify(
                    Agency.COMMAND_CENTRE,
                    self.ask(f"调处结果:{outcome_zh};{report.summary}", "知悉"),
                    step="mediation-outcome-relay",
                    clause="000 §4.3(1)",
                )
            return
