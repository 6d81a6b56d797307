"""L3 — 按有关规定对求助人员提供法律援助 (000 §1.4(3)).

000 §1.4: 本方案适用于区司法局组织、指挥、协调和管理全区司法行政系统的各类突发事件。包括:……(3)按有关
规定对求助人员提供法律援助;

000 §2.3: 法律援助组具体负责对求助人员提供法律援助;

The request goes to the legal-aid group, which examines it under the relevant rules (按有关规定) and
decides; the help-seeker is told the decision (a refusal with its reason, and that an objection can be
raised with the judicial administration department that set up the legal-aid agency, as the legal-aid
rules provide); the command centre is told the outcome. The shared mechanics of 000 §3–§4 come from
:class:`IncidentWorkflow`; 000 has no post-incident review.

Reports this clause takes: ``aid_decision`` (once: granted, reason).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue

from workflows.base import IncidentWorkflow

with workflow.unsafe.imports_passed_through():
    from plan.agencies import Agency
    from plan.models import AidDecision, IncidentOutcome, IncidentType

CLAUSE = "000 §1.4(3)"
GROUPS = "000 §2.3"


@workflow.defn(name="L3LegalAid")
class LegalAid(IncidentWorkflow):
    """000 §1.4(3), §2.3: a help-seeker asks for legal aid."""

    TYPE = IncidentType.L3
    TITLE_ZH = "求助人员法律援助"
    CLAUSE = CLAUSE
    CLAUSE_REPORTS = frozenset({"aid_decision"})

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    async def respond(self) -> None:
        seeker = self.incident.help_seeker
        assert seeker is not None  # IncidentInput requires it for L3
        # 法律援助组具体负责对求助人员提供法律援助 (000 §2.3)
        self.notify(
            Agency.LEGAL_AID_GROUP,
            self.ask("求助人员申请法律援助", "法律援助组按有关规定审查并提供法律援助,并报告审查决定"),
            step="aid-request",
            clause=GROUPS,
        )
        decision = await self.next_report(AidDecision)
        if decision.granted:
            outcome = f"给予法律援助:{decision.reason}"
            to_seeker = self.ask(
                f"经审查,决定给予您法律援助:{decision.reason}",
                "与法律援助组指派的法律援助人员联系,由其提供法律援助",
            )
        else:
            outcome = f"不予法律援助:{decision.reason}"
            to_seeker = self.ask(
                f"经审查,决定不予法律援助,理由:{decision.reason}",
                "知悉;对不予法律援助的决定有异议的,可以依法向设立该法律援助机构的司法行政部门提出",
            )
        self.decide(outcome, GROUPS, actor=decision.actor)
        self.notify(
            Agency.PARTY, to_seeker, step="decision-to-help-seeker", clause=CLAUSE, phone=seeker.phone
        )
        self.notify(
            Agency.COMMAND_CENTRE,
            self.ask(f"法律援助审查结果:{outcome}", "知悉"),
            step="outcome-to-centre",
            clause=CLAUSE,
        )
