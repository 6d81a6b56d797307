"""The leadership group's decisions on a major incident (000 §2.1).

000 §2.1: 决定启动、终止本方案…及时向区委、区政府、区委政法委、市司法局报告有关情况 — the group is told and must decide (``plan_decision``) within the ``immediate`` policy; on
activation and on termination the district committee and government, the political-legal committee and
the city bureau are told; the incident cannot close while the plan is active.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from plan.agencies import Agency
    from plan.models import PlanDecision, PlanDecisionKind
    from plan.policy import DeadlinePolicy
    from plan.state import IncidentState

from workflows.mechanics.deadlines import ESCALATE_TO, Deadlines
from workflows.mechanics.notifier import Notifier
from workflows.mechanics.timeline import Timeline

CLAUSE = "000 §2.1"
LEADERSHIP = "leadership-decision"

#: Who a major incident is reported to once the plan is activated or terminated (000 §2.1; 001 §3(1)).
MAJOR_REPORT_TO = (
    Agency.DISTRICT_COMMITTEE_GOVERNMENT,
    Agency.POLITICAL_LEGAL_COMMITTEE,
    Agency.CITY_JUSTICE_BUREAU,
)


class Leadership:
    def __init__(
        self, state: IncidentState, timeline: Timeline, deadlines: Deadlines, notifier: Notifier,
        policy: DeadlinePolicy, ask: Callable[[str, str], str],
    ) -> None:
        self.state = state
        self.timeline = timeline
        self.deadlines = deadlines
        self.notifier = notifier
        self.policy = policy
        self.ask = ask

    def decision_due(self) -> None:
        """A major incident: the group's decision to activate the plan is due at once."""
        self.deadlines.start(LEADERSHIP, "领导小组决定启动预案", CLAUSE, workflow.now() + self.policy.immediate,
                             escalate_to=ESCALATE_TO)

    def tell_group(self) -> None:
        self.notifier.notify(
            Agency.LEADERSHIP_GROUP,
            self.ask("属重大突发事件", "领导小组决定启动本方案,统一领导、组织、协调处置"),
            step="major-incident",
            clause=CLAUSE,
        )

    def check(self, d: PlanDecision) -> str | None:
        if d.decision is PlanDecisionKind.ACTIVATE and self.state.plan_active:
            return "plan_decision: the plan is already activated"
        if d.decision is PlanDecisionKind.TERMINATE and not self.state.plan_active:
            return "plan_decision: the plan is not activated, so it cannot be terminated"
        return None

    def decided(self, d: PlanDecision, seq: int) -> None:
        s = self.state
        if d.decision is PlanDecisionKind.ACTIVATE:
            s.plan_active = s.plan_activated = True
            self.deadlines.fulfil(LEADERSHIP, d.actor)
            self.timeline.decide("领导小组决定启动本方案,统一领导、组织、协调处置", CLAUSE, actor=d.actor)
            fact, asked = "属重大突发事件,区司法局应急联动指挥领导小组已决定启动应急预案", "知悉"
            step = "plan-activated-report"
        else:
            s.plan_active = False
            self.timeline.decide("领导小组决定终止本方案", CLAUSE, actor=d.actor)
            fact, asked = "区司法局应急联动指挥领导小组已决定终止应急预案", "知悉"
            step = "plan-terminated-report"
        self.notifier.notify_all(list(MAJOR_REPORT_TO), self.ask(fact, asked), step=f"{step}-{seq}", clause=CLAUSE)

    def close_problem(self, major: bool) -> str | None:
        if major and not self.state.plan_activated:
            return "closed: the leadership group has not decided on the plan (plan_decision, 000 §2.1)"
        if self.state.plan_active:
            return "closed: the leadership group has not terminated the plan (plan_decision terminate, 000 §2.1)"
        return None

    def waiting(self, major: bool) -> list[str]:
        return ["plan_decision (activate)"] if major and not self.state.plan_activated else []
