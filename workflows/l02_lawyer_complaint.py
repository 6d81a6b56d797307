"""L2 — 受理处置对律师违规接案、收费等行为的投诉和举报 (000 §1.4(2)).

000 §1.4: 本方案适用于区司法局组织、指挥、协调和管理全区司法行政系统的各类突发事件。包括:……(2)受理处置
对律师违规接案、收费等行为的投诉和举报;

000 §2.3: 法律服务组具体负责为突发事件(纠纷)等的妥善处理提供法律服务、受理处置对律师违规接案、收费等
行为的投诉和举报;

The complaint is registered and passed to the legal-service group, which investigates; a named
complainant is told it was registered and, in the end, the outcome; the command centre is told the
outcome. An anonymous report (no ``complainant``) is handled the same way, with nobody to tell. The
shared mechanics of 000 §3–§4 (information report, arrival, 24-hour feedback, written report) come
from :class:`IncidentWorkflow`; 000 has no post-incident review.

Reports this clause takes: ``complaint_result`` (once: substantiated, findings, action).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue

from workflows.base import IncidentWorkflow

with workflow.unsafe.imports_passed_through():
    from plan.agencies import Agency
    from plan.models import ComplaintResult, IncidentOutcome, IncidentType

CLAUSE = "000 §1.4(2)"
GROUPS = "000 §2.3"


@workflow.defn(name="L2LawyerComplaint")
class LawyerComplaint(IncidentWorkflow):
    """000 §1.4(2), §2.3: a complaint or report about a lawyer's improper taking of cases or fees."""

    TYPE = IncidentType.L2
    TITLE_ZH = "律师违规接案、收费投诉举报"
    CLAUSE = CLAUSE
    CLAUSE_REPORTS = frozenset({"complaint_result"})

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    async def respond(self) -> None:
        complainant = self.incident.complainant
        self.decide("受理投诉举报并登记" + ("" if complainant else "(匿名举报)"), CLAUSE)
        # 法律服务组具体负责……受理处置对律师违规接案、收费等行为的投诉和举报 (000 §2.3)
        self.notify(
            Agency.LEGAL_SERVICE_GROUP,
            self.ask(
                "收到对律师违规接案、收费等行为的投诉举报,已受理登记",
                "法律服务组受理处置投诉举报,开展调查,并报告调查处理结果",
            ),
            step="register-complaint",
            clause=GROUPS,
        )
        if complainant is not None:
            self.notify(
                Agency.PARTY,
                self.ask("您对律师违规接案、收费等行为的投诉举报已受理登记,由区司法局法律服务组调查处理", "保持通讯畅通"),
                step="acknowledge-complainant",
                clause=CLAUSE,
                phone=complainant.phone,
            )
        result = await self.next_report(ComplaintResult)
        if result.substantiated:
            outcome = f"投诉举报经调查属实:{result.findings};处理措施:{result.action}"
        else:
            outcome = f"投诉举报经调查不属实:{result.findings};处理意见:{result.action}"
        self.decide(outcome, GROUPS, actor=result.actor)
        if complainant is not None:
            self.notify(
                Agency.PARTY,
                self.ask(f"您的投诉举报调查处理结果:{outcome}", "知悉"),
                step="outcome-to-complainant",
                clause=CLAUSE,
                phone=complainant.phone,
            )
        self.notify(
            Agency.COMMAND_CENTRE,
            self.ask(f"投诉举报调查处理结果:{outcome}", "知悉"),
            step="outcome-to-centre",
            clause=CLAUSE,
        )
