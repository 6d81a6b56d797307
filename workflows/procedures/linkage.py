"""000's linkage procedure, shared by every incident (000 §3, §4.2–§4.4, §2.2(6)).

- the flow decided and recorded (000 §4.3(1)(2)); the 24 h feedback deadline (000 §3(3)) with its
  reminders; the 30 min arrival from the centre's instruction (000 §4.3);
- the information report to the emergency office and the command centre (000 §4.2);
- progress followed by the emergency office (000 §2.2(6)), relayed to the centre in the urgent flow;
- the feedback of the handling situation and result to the centre (000 §3(3));
- the written report when handling ends (000 §4.2), and the aftermath (000 §4.4).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from plan import texts
    from plan.agencies import Agency
    from plan.models import (
        AftermathDone,
        Arrived,
        Closed,
        Dispatched,
        DispatchInstruction,
        Flow,
        IncidentInput,
        Progress,
    )
    from plan.policy import DeadlinePolicy
    from plan.state import IncidentState

from workflows import bureau as bureaus  # issue 17
from workflows.mechanics.deadlines import Deadlines
from workflows.mechanics.notifier import Notifier
from workflows.mechanics.reports import Reports
from workflows.mechanics.timeline import Timeline

ARRIVAL = "arrival"
FEEDBACK = "feedback"


class Linkage:
    def __init__(
        self, *, state: IncidentState, timeline: Timeline, deadlines: Deadlines, notifier: Notifier,
        reports: Reports, policy: DeadlinePolicy, incident: Callable[[], IncidentInput],
        ask: Callable[[str, str], str], title_zh: str,
    ) -> None:
        self.state = state
        self.timeline = timeline
        self.deadlines = deadlines
        self.notifier = notifier
        self.reports = reports
        self.policy = policy
        self.incident = incident
        self.ask = ask
        self.title_zh = title_zh

    # ------------------------------------------------------------------ on receipt

    def flow_and_deadlines(self) -> None:
        """000 §4.3(1)(2): the flow; 000 §3(3): feedback in 24 h; 000 §4.3: arrival in 30 min."""
        inp = self.incident()
        if inp.flow is Flow.URGENT:
            self.timeline.decide(texts.URGENT_FLOW_STARTED, "000 §4.3(1)")
        else:
            self.timeline.decide(texts.GENERAL_FLOW_STARTED, "000 §4.3(2)")
        dispatch = self.state.dispatch
        self.deadlines.start(
            FEEDBACK,
            texts.feedback_deadline(self.policy.feedback),
            "000 §3(3)",
            (dispatch.at if dispatch and dispatch.at else workflow.now()) + self.policy.feedback,
            reminders=self.policy.feedback_reminders,
        )
        if dispatch is not None:
            self.start_arrival(dispatch)

    def start_arrival(self, dispatch: DispatchInstruction) -> None:
        self.deadlines.start(
            ARRIVAL,
            texts.arrival_deadline(self.policy.arrival),
            "000 §4.3",
            (dispatch.at or workflow.now()) + self.policy.arrival,
        )

    def information_report(self) -> None:
        """000 §4.2: the justice office / section reports to the emergency office at once; the office
        relays to the command centre."""
        inp = self.incident()
        self.notifier.notify_all(
            [Agency.EMERGENCY_OFFICE, Agency.COMMAND_CENTRE],
            lambda to: texts.information_report(inp, self.title_zh, to,
                                                centre_zh=self.notifier.name(Agency.COMMAND_CENTRE)),
            step="information-report",
            clause="000 §4.2",
        )

    # ------------------------------------------------------------------ the centre's instruction and arrival

    def check(self, report: Any) -> str | None:
        s = self.state
        prof = self.notifier.bureau
        if report.kind in ("dispatched", "feedback") and not bureaus.linkage(prof):  # issue 17
            assert prof is not None
            return f"{report.kind}: {prof.id} has not adopted a linkage plan (000 §4.3, §3(3) do not apply)"
        if isinstance(report, Dispatched) and s.dispatch is not None:
            return "dispatched: the centre's instruction was already recorded"
        if isinstance(report, Arrived):
            if s.dispatch is None:
                return "arrived: this incident was never dispatched by the command centre (000 §4.3)"
            if s.arrived:
                return "arrived: arrival was already reported"
            if report.at is not None and s.dispatch.at and report.at < s.dispatch.at:
                return "at: arrival before the centre's instruction"
        return None

    def dispatched(self, report: Dispatched) -> None:
        self.state.dispatch = DispatchInstruction(
            at=report.at or workflow.now(),
            designated_place=report.designated_place,
            designated_person=report.designated_person,
        )
        self.start_arrival(self.state.dispatch)

    def arrived(self, report: Arrived) -> None:
        self.state.arrived = True
        self.deadlines.fulfil(ARRIVAL, report.actor)

    def arrival_problem(self) -> str | None:
        if self.state.dispatch is not None and not self.state.arrived:
            return "closed: arrival at the designated place has not been reported (000 §4.3)"
        return None

    def waiting(self) -> list[str]:
        return ["arrived"] if self.state.dispatch is not None and not self.state.arrived else []

    # ------------------------------------------------------------------ progress and feedback

    def progress(self, report: Progress, seq: int) -> None:
        """000 §2.2(6): the emergency office 跟踪了解事件的进展情况和处置情况,及时向区司法局应急指挥领导小组
        报告 (for a major incident, 000 §2.1, the group is told as well); in the urgent flow the centre too
        (000 §4.3(1) 处置过程中,及时向区社会应急联动指挥中心反馈处置情况和有关信息). Each on its own."""
        office = [Agency.EMERGENCY_OFFICE]
        if self.incident().major:
            office.append(Agency.LEADERSHIP_GROUP)
        self.notifier.notify_all(
            office,
            lambda to: self.ask(
                texts.progress_fact(report.current_situation),
                texts.PROGRESS_TO_OFFICE_ASKED if to is Agency.EMERGENCY_OFFICE else texts.PROGRESS_TO_GROUP_ASKED,
            ),
            step=f"progress-office-{seq}",
            clause="000 §2.2(6)",
            merge=report.current_situation,
        )
        if self.incident().flow is Flow.URGENT:
            self.notifier.notify(
                Agency.COMMAND_CENTRE,
                self.ask(texts.progress_fact(report.current_situation), texts.PROGRESS_TO_CENTRE_ASKED),
                step=f"progress-relay-{seq}",
                clause="000 §4.3(1)",
                merge=report.current_situation,
            )

    def aftermath_progress(self, report: Progress, seq: int) -> None:
        """000 §4.4 密切关注以后情况并及时上报: after handling, to the emergency office and the centre."""
        self.notifier.notify_all(
            [Agency.EMERGENCY_OFFICE, Agency.COMMAND_CENTRE],
            self.ask(texts.aftermath_fact(report.current_situation), texts.NOTED),
            step=f"aftermath-{seq}",
            clause="000 §4.4",
            merge=report.current_situation,
        )

    def feed_back(self, situation: str, result: str, *, step: str) -> None:
        """000 §3(3): handling situation and result fed back to the command centre; the 24 h deadline
        is met when this message is delivered (the only place a delivery's result is read)."""
        self.state.feedback_sent = True
        self.notifier.notify(
            Agency.COMMAND_CENTRE,
            self.ask(texts.feedback_fact(situation, result), texts.FEEDBACK_ASKED),
            step=step,
            clause="000 §3(3)",
            fulfils=FEEDBACK,
        )

    # ------------------------------------------------------------------ end of handling

    def written_report(self, inp: IncidentInput, clause: str, closed: Closed, now: datetime,
                       obligations: list[Any], in_flight: frozenset[str]) -> str:
        """000 §4.2: the written report (书面报告) to the centre and the emergency office."""
        prof = self.notifier.bureau
        report = texts.written_report(
            inp, self.title_zh, clause, closed, now, self.deadlines.all(), self.state.course, obligations,
            in_flight=in_flight, **bureaus.report_names(prof),
        )
        linkage = bureaus.linkage(prof)  # issue 17: without a linkage plan, to the 总指挥部 (001 §3(3))
        self.notifier.notify_all(
            [Agency.COMMAND_CENTRE, Agency.EMERGENCY_OFFICE] if linkage else [Agency.CORRECTION_COMMAND],
            lambda _to: report,
            step="written-report",
            clause="000 §4.2" if linkage else "001 §3(3)",
        )
        return report

    async def aftermath(self) -> None:
        """000 §4.4: 在相关突发事件处置完成后,区司法局将配合相关部门积极稳妥、深入细致地做好善后处置工作,
        密切关注以后情况并及时上报 — ``progress`` reports go up as aftermath until it is done."""
        done = await self.reports.next(AftermathDone)
        self.timeline.decide(texts.aftermath_done(done.summary), "000 §4.4", actor=done.actor)
        self.notifier.notify_all(
            [Agency.EMERGENCY_OFFICE, Agency.COMMAND_CENTRE],
            self.ask(texts.aftermath_done(done.summary), texts.NOTED),
            step="aftermath-done",
            clause="000 §4.4",
        )

