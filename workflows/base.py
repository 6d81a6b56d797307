"""Shared mechanics of every incident workflow, written once (000 §2–§4, 001 §3, §5, §7(4)).

- input: taken raw and validated inside, failing with a named non-retryable error (no endless retry);
- the clause's first calls (e.g. 110 in 001 §4(1)) before anything else (``first_response``);
- information report to the emergency office and the command centre (000 §4.2); for a correction
  incident, report to the correction section and up a level (001 §5(1)); cross-county notice;
- major incidents: the leadership group decides to activate and terminate the plan; the district
  committee and government, the political-legal committee and the city bureau are told (000 §2.1);
- on-site command and its five groups recorded as the commander sets them (001 §3(3)(4));
- arrival deadline, 30 min from the centre's instruction (000 §4.3); feedback deadline, 24 h
  (000 §3(3)), with reminders and escalation to the emergency office and leadership group;
- officers' progress reports as a signal (``report``) and as an update with a validator
  (``submit_report``), both taking raw JSON so that no report is dropped without a trace;
- punishment decided by the section, reported up and to the procuratorate (001 §4);
- the written report to the centre when handling ends (000 §4.2, §4.3), aftermath reports (000 §4.4),
  the post-incident review reported up (001 §5(2)) and the information release, drafted, reviewed by
  the functional department and published once (001 §5(3));
- accountability (001 §7(4)): every report the plans require has a due time, and the ``accountability``
  query says which were on time, late (迟报) or missing (漏报);
- continue-as-new for long incidents (001 §4(9) 情形三), carrying the whole record.

Each incident type subclasses :class:`IncidentWorkflow` and writes only its clause in ``respond()``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar, overload

from temporalio import workflow
from temporalio.common import Priority, RawValue, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.contracts import NotifyReceipt, NotifyRequest
    from activities.notify import BAD_RECIPIENT, UNKNOWN_RECIPIENT
    from infra import metrics
    from infra import search_attributes as sa
    from plan import labels, texts
    from plan.agencies import AGENCY_NAME_ZH, Agency
    from plan.models import (
        COMMAND_GROUP_ZH,
        MAX_REPORT_BYTES,
        COMMON_REPORT_KINDS,
        REPORT_ADAPTER,
        AccountabilityRecord,
        Acknowledgement,
        AftermathDone,
        Arrived,
        CarriedState,
        Closed,
        CommandSet,
        Continued,
        Deadline,
        DeadlineStatus,
        Dispatched,
        DispatchInstruction,
        EntryKind,
        Feedback,
        Flow,
        IncidentInput,
        IncidentOutcome,
        IncidentPhase,
        IncidentStatus,
        IncidentType,
        NotifiedByHand,
        Obligation,
        ObligationStatus,
        Persuasion,
        PlanDecision,
        PlanDecisionKind,
        Progress,
        Punishment,
        Release,
        ReleaseAction,
        Report,
        ReportReceipt,
        Review,
        TimelineEntry,
        describe_validation_error,
        incident_problems,
        report_fingerprint,
    )
    from plan.policy import DEFAULT_POLICY, DeadlinePolicy
    from plan.queues import URGENT_RECIPIENTS, notification_queue  # issue 19: which queue a notification runs on

INVALID_INPUT = "InvalidIncidentInput"
"""Failure type of an incident whose start input is malformed (non-retryable)."""
INVALID_REPORT = "InvalidReport"
"""Failure type of a refused progress report (returned to an update's sender)."""

FUTURE_TOLERANCE = timedelta(minutes=5)
"""How far in the future an officer's stated time may be (clock skew)."""

R = TypeVar("R")
R2 = TypeVar("R2")
R3 = TypeVar("R3")

ARRIVAL = "arrival"
FEEDBACK = "feedback"
LEADERSHIP = "leadership-decision"
REVIEW = "review"
ACK = "ack/"
"""Prefix of the deadline for a recipient's acknowledgement (``ack/<step>/<recipient>``)."""
BY_HAND = "by-hand/"
"""Prefix of the deadline to notify by hand after a failed notification (``by-hand/<step>/<recipient>``)."""

#: Report kinds still taken once handling is over (000 §4.4 aftermath, 001 §5(2)(3)).
AFTER_HANDLING_KINDS = frozenset({"progress", "review", "aftermath_done", "release", "notified_by_hand"})
#: Report kinds taken at any time while handling (besides the clause's own).
ANYTIME_KINDS = frozenset({"progress", "feedback", "command_set", "release", "notified_by_hand", "plan_decision"})

#: Recipients whose notifications are dispatched first when notifications queue up (priority key 1
#: of 1–5; every other notification has the default, 3).
URGENT_PRIORITY = Priority(priority_key=1)

#: Who a major incident is reported to once the plan is activated (000 §2.1; 001 §3(1)).
MAJOR_REPORT_TO = (
    Agency.DISTRICT_COMMITTEE_GOVERNMENT,
    Agency.POLITICAL_LEGAL_COMMITTEE,
    Agency.CITY_JUSTICE_BUREAU,
)


def deadline_kind(deadline_id: str) -> str:
    """A deadline's kind for metrics labels (bounded): ``ack/alarm-110/police_110`` -> ``ack``,
    ``daily-contact-12`` -> ``daily-contact``."""
    return re.sub(r"-\d+$", "", deadline_id.split("/")[0])


def decode_raw(raw: RawValue) -> Any:
    """Decode a raw payload with the workflow's converter; any failure is reported, not raised."""
    return workflow.payload_converter().from_payload(raw.payload)


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type=INVALID_INPUT, non_retryable=True)


def parse_input(raw: RawValue, expected: IncidentType) -> tuple[IncidentInput, CarriedState | None]:
    """Validate the start input (or a continued run's envelope); raise a non-retryable
    ``InvalidIncidentInput`` naming the bad field, never echoing values (they may be personal)."""
    try:
        value = decode_raw(raw)
    except Exception:
        raise _invalid("invalid incident input: not a JSON object") from None
    if not isinstance(value, dict):
        raise _invalid("invalid incident input: expected a JSON object")
    carried: CarriedState | None = None
    try:
        if "carried" in value:
            continued = Continued.model_validate(value)
            inp, carried = continued.input, continued.carried
        else:
            inp = IncidentInput.model_validate(value)
    except ValidationError as err:
        raise _invalid(f"invalid incident input: {describe_validation_error(err)}") from None
    if inp.incident_type is not expected:
        raise _invalid(
            f"invalid incident input: incident_type: {inp.incident_type.value} sent to the "
            f"{expected.value} workflow; start the {inp.incident_type.value} workflow type instead"
        )
    return inp, carried


class Delivery:
    """A notification issued by :meth:`IncidentWorkflow.notify`: its activity is already scheduled.

    It is deliberately not awaitable: a clause never waits for a message to land (``await
    self.notify(...)`` is a ``TypeError``). Only a mechanic that acts on this same notification's result
    reads it, through :meth:`delivered`.
    """

    __slots__ = ("_task",)

    def __init__(self, task: asyncio.Task[bool]) -> None:
        self._task = task

    @property
    def done(self) -> bool:
        return self._task.done()

    async def delivered(self) -> bool:
        """True once delivered, False once it failed for its whole budget."""
        return await asyncio.shield(self._task)


class IncidentWorkflow:
    """Base of every incident workflow. Subclasses set the class attributes and write ``respond()``."""

    TYPE: ClassVar[IncidentType]
    TITLE_ZH: ClassVar[str]
    CLAUSE: ClassVar[str]
    CLAUSE_REPORTS: ClassVar[frozenset[str]] = frozenset()
    """Report kinds specific to this clause (besides the common ones)."""
    POLICY: ClassVar[DeadlinePolicy] = DEFAULT_POLICY
    REPORT_UP_ON_OPEN: ClassVar[bool] = True
    """Correction incidents: report to the section and up a level at once (001 §5(1)). C4 sets False:
    its clause reports to the section only once the search has failed."""

    # ------------------------------------------------------------------ lifecycle

    @workflow.init
    def __init__(self, raw: RawValue) -> None:
        self._input_error: ApplicationError | None = None
        self.inp: IncidentInput | None = None
        carried: CarriedState | None = None
        try:
            self.inp, carried = parse_input(raw, self.TYPE)
        except ApplicationError as err:
            self._input_error = err
        self._timeline: list[TimelineEntry] = []
        self._deadlines: dict[str, Deadline] = {}
        self._obligations: dict[str, Obligation] = {}
        self._reports: list[Report] = []
        self._consumed: set[int] = set()
        self._report_ids: dict[str, int] = {}
        self._report_hashes: dict[str, str] = {}
        """report_id -> fingerprint of the report first sent with it (a reuse with other content is refused)."""
        self._dispatch: DispatchInstruction | None = None
        self._arrived = False
        self._feedback_sent = False
        self._phase = IncidentPhase.OPEN
        self._work: list[asyncio.Task[Any]] = []
        self._watchers: list[asyncio.Task[Any]] = []
        self._running = False
        self._course: list[str] = []
        self._plan_active = False
        self._plan_activated = False
        self._command: dict[str, str] = {}
        self._release = "none"
        self._release_content = ""
        self._related: list[str] = []
        self._ack_of: dict[str, str] = {}
        """Idempotency key of a notification (or its re-send) -> the acknowledgement deadline it answers."""
        self.run_number = 1
        self.clause_state: dict[str, int | str | bool] = {}
        """Clause data a continued run needs (e.g. the day count of 001 §4(9) 情形三)."""
        self.resumed = carried is not None
        """True in a continued run: the opening steps were taken by an earlier run."""
        if self.inp is not None and self.inp.handed_over_from:
            self._related.append(self.inp.handed_over_from)
        if carried is not None:
            self._restore(carried)
        elif self.inp is not None:
            if self.inp.dispatch is not None and not self.delegated():
                self._dispatch = self.inp.dispatch.model_copy(
                    update={"at": self.inp.dispatch.at or workflow.now()}
                )
            # Set up the record and the deadlines before any handler runs: a report can arrive in the
            # same workflow task that starts the incident, before ``run`` has taken a step.
            self._receive()

    async def handle(self) -> IncidentOutcome:
        """The incident from information report to review; subclasses' ``run`` calls this."""
        if self._input_error is not None:
            workflow.logger.error(
                "incident refused: invalid input",
                extra={"incident_type": self.TYPE.value, "step": "input"},
            )
            raise self._input_error
        if not self.resumed:
            # Times out of bounds, a resident ID number whose check digit fails: refused at the doors,
            # and here for a raw start (``temporal workflow start``). Asked only when there is a problem,
            # so that a recorded history without one replays unchanged, and one recorded before this
            # check (no marker) replays as it ran.
            problems = incident_problems(self.incident, workflow.now(), check_age=False)
            if problems and workflow.patched("incident-problems-refused"):
                raise _invalid("invalid incident input: " + "; ".join(problems))
        self._running = True
        for d in self._deadlines.values():
            if d.status is DeadlineStatus.PENDING:
                self._watchers.append(asyncio.ensure_future(self._watch(d)))
        if not self.resumed:
            self.first_response()
            self._open()
        await self.respond()
        closed = await self.closing()
        return await self._close(closed)

    def first_response(self) -> None:
        """Calls the clause makes before anything else (e.g. 110 in 001 §4(1), 120 in 001 §4(7)).

        Issued in the incident's first workflow task, before the information report, each as its own
        activity: no other recipient's delivery can hold them up (see ``notify``)."""

    async def respond(self) -> None:
        """The clause's own steps, in the plan's order. Overridden by every incident type."""
        raise NotImplementedError

    async def closing(self) -> Closed:
        """What ends handling: by default the officers' ``closed`` report."""
        return await self.next_report(Closed)

    def waiting_for(self) -> list[str]:
        """Clause report kinds acceptable now, derived from the reports accepted so far."""
        return []

    def check_clause_report(self, report: Report) -> str | None:
        """A clause-specific reason to refuse ``report`` now, or None."""
        return None

    def accepts_now(self) -> frozenset[str]:
        """Clause report kinds taken now besides those ``waiting_for`` names (reports the clause takes at
        any time in a situation, e.g. 001 §4(4)'s risk while the subject is missing)."""
        return frozenset()

    def on_report(self, report: Report, seq: int) -> None:
        """A clause report was accepted (in the handler, the same workflow task that received it).

        For what a clause does the moment a report arrives, wherever ``respond()`` stands, e.g. the
        risk of 001 §4(4) (立即通知执行地公安派出所…并上报) or a day's contact of 001 §4(9) 情形三.
        Whatever it notifies is issued at once, like everything (``notify``)."""

    def delegated(self) -> bool:
        """True when the whole incident is handed over to a child incident (000 §1.4(4) → 001 §4),
        which holds the deadlines and takes the reports; this one only follows it."""
        return False

    @property
    def review_required(self) -> bool:
        """001 §5(2) applies to correction incidents: a written review is reported up after handling."""
        return self.TYPE.is_correction

    # ------------------------------------------------------------------ opening and closing

    @property
    def incident(self) -> IncidentInput:
        assert self.inp is not None
        return self.inp

    def _receive(self) -> None:
        """Record the incident, its flow and its deadlines (000 §3, §4.3, §3(3), §2.1)."""
        inp = self.incident
        self.record(
            EntryKind.INCIDENT,
            f"事件受理:{self.TITLE_ZH};{texts.SOURCE_ZH[inp.source]};{texts.FLOW_ZH[inp.flow]}"
            + (";重大突发事件" if inp.major else "")
            + (";演练" if inp.drill else ""),
            clause="000 §3(1)(2)",
            actor=inp.reporter.unit or "报告人",
        )
        if self.delegated():
            return
        if inp.flow is Flow.URGENT:
            self.decide("启动紧急事件处置预案,处置过程中及时向区社会应急联动指挥中心反馈", "000 §4.3(1)")
        else:
            self.decide("启动一般事件处置预案,根据区社会应急联动指挥中心指令进行处置", "000 §4.3(2)")
        self.start_deadline(
            FEEDBACK,
            f"反馈时限 {texts.fmt_duration(self.POLICY.feedback)}",
            "000 §3(3)",
            (self._dispatch.at if self._dispatch and self._dispatch.at else workflow.now())
            + self.POLICY.feedback,
            reminders=self.POLICY.feedback_reminders,
        )
        if self._dispatch is not None:
            self._start_arrival(self._dispatch)
        if inp.major:
            self.start_deadline(
                LEADERSHIP,
                "领导小组决定启动预案",
                "000 §2.1",
                workflow.now() + self.POLICY.immediate,
                escalate_to=(Agency.EMERGENCY_OFFICE, Agency.LEADERSHIP_GROUP),
            )

    def _open(self) -> None:
        inp = self.incident
        if inp.handed_over_from:
            self.decide(
                f"由{inp.handed_over_from}移交处置,信息报告已由移交方报送区司法局应急办公室和指挥中心",
                "000 §1.4(4)",
            )
        else:
            # 000 §4.2: the justice office / section reports to the emergency office at once; the
            # office relays to the command centre.
            self.notify_all(
                [Agency.EMERGENCY_OFFICE, Agency.COMMAND_CENTRE],
                lambda to: texts.information_report(inp, self.TITLE_ZH, to),
                step="information-report",
                clause="000 §4.2",
            )
        if self.TYPE.is_correction and self.REPORT_UP_ON_OPEN:
            # 001 §5(1): the justice office reports to the section at once; the section reports up
            # level by level. A recipient the clause has already told is not told twice.
            told = {o.recipient for o in self._obligations.values()}
            level = [a for a in (Agency.CORRECTION_SECTION, Agency.HIGHER_CORRECTION_AGENCY) if a not in told]
            if level:
                self.notify_all(
                    level,
                    lambda to: self.ask(
                        "发生社区矫正突发事件",
                        "知悉并逐级上报" if to is Agency.CORRECTION_SECTION else "知悉",
                    ),
                    step="level-report",
                    clause="001 §5(1)",
                )
        if inp.major and not inp.handed_over_from:  # a handing-over incident told the group already
            self.notify(
                Agency.LEADERSHIP_GROUP,
                self.ask("属重大突发事件", "领导小组决定启动本方案,统一领导、组织、协调处置"),
                step="major-incident",
                clause="000 §2.1",
            )
        if self.TYPE.is_correction:
            for i, county in enumerate(inp.other_counties):
                self.notify(
                    Agency.OTHER_COUNTY_BUREAU,
                    self.ask(f"事件涉及{county}", f"{county}司法行政机关协助配合"),
                    step=f"cross-county-{i}",
                    clause="001 §5(1)",
                )

    async def _close(self, closed: Closed) -> IncidentOutcome:
        """Handling over: feedback, written report (000 §4.2), review (001 §5(2)), release settled."""
        inp = self.incident
        now = workflow.now()
        if not self._feedback_sent:
            self._feed_back(closed.current_situation, closed.result, step="feedback-on-close")
        in_flight = {FEEDBACK} if self._feedback_sent else set()
        """Deadlines met by a message already issued: they stand until it is delivered or fails."""
        for d in self._deadlines.values():
            if d.status is DeadlineStatus.PENDING and not d.id.startswith(ACK) and d.id not in in_flight:
                d.status = DeadlineStatus.CANCELLED
        self._phase = IncidentPhase.HANDLED
        self.record(EntryKind.DECISION, "处置完毕", clause="000 §4.3", actor=closed.actor)
        report = texts.written_report(
            inp,
            self.TITLE_ZH,
            self.CLAUSE,
            closed,
            now,
            self._deadlines.values(),
            self._course,
            self.accountability().obligations,
            in_flight=frozenset(in_flight),
        )
        self.notify_all(
            [Agency.COMMAND_CENTRE, Agency.EMERGENCY_OFFICE],
            lambda _to: report,
            step="written-report",
            clause="000 §4.2",
        )
        review_zh = ""
        if self.review_required:
            self.start_deadline(
                REVIEW,
                "事后总结书面报告",
                "001 §5(2)",
                workflow.now() + self.POLICY.review,
                escalate_to=(Agency.CORRECTION_SECTION, Agency.EMERGENCY_OFFICE),
            )
            review = await self.next_report(Review)
            self.fulfil(REVIEW, review.actor)
            review_zh = texts.review_report(inp, self.TITLE_ZH, self.CLAUSE, review, workflow.now())
            # 形成书面报告逐级上报: the justice office to the section, the section up a level.
            self.notify_all(
                [Agency.CORRECTION_SECTION, Agency.HIGHER_CORRECTION_AGENCY],
                lambda _to: review_zh,
                step="review-report",
                clause="001 §5(2)",
            )
        else:
            # 000 §4.4: 在相关突发事件处置完成后,区司法局将配合相关部门积极稳妥、深入细致地做好善后处置
            # 工作,密切关注以后情况并及时上报 — ``progress`` reports go up as aftermath until it is done.
            done = await self.next_report(AftermathDone)
            self.decide(f"善后处置工作完毕:{done.summary}", "000 §4.4", actor=done.actor)
            self.notify_all(
                [Agency.EMERGENCY_OFFICE, Agency.COMMAND_CENTRE],
                self.ask(f"善后处置工作完毕:{done.summary}", "知悉"),
                step="aftermath-done",
                clause="000 §4.4",
            )
        # A release under way is finished (published or withdrawn) before the incident completes, and
        # acknowledgements still awaited come in or are escalated (each is bounded by its deadline).
        await workflow.wait_condition(lambda: self._release not in ("drafted", "approved"))
        # Every notification delivered or failed (each is bounded by the notification budget), so that
        # the acknowledgements they await are known, then those come in or are escalated.
        await workflow.wait_condition(self.deliveries_settled)
        await workflow.wait_condition(
            lambda: not any(
                d.id.startswith(ACK) and d.status is DeadlineStatus.PENDING for d in self._deadlines.values()
            )
        )
        self._phase = IncidentPhase.CLOSED
        await self._drain()
        for d in self._deadlines.values():
            if d.status is DeadlineStatus.PENDING:  # an acknowledgement that never came
                d.status, d.missed_at = DeadlineStatus.MISSED, workflow.now()
        self._refresh_details()
        workflow.logger.info(
            "incident closed", extra={"incident_type": self.TYPE.value, "step": "closed"}
        )
        return self.outcome(written_report_zh=report, closed=closed, review_report_zh=review_zh)

    def outcome(
        self, *, written_report_zh: str, closed: Closed | None, review_report_zh: str = "",
        related: list[str] | None = None,
    ) -> IncidentOutcome:
        """This incident's result: the written report(s) with its own deadlines, timeline and record."""
        return IncidentOutcome(
            workflow_id=workflow.info().workflow_id,
            incident_type=self.TYPE,
            written_report_zh=written_report_zh,
            deadlines=list(self._deadlines.values()),
            timeline=list(self._timeline),
            closed=closed,
            review_report_zh=review_report_zh,
            accountability=self.accountability(),
            related=list(self._related) if related is None else related,
        )

    # ------------------------------------------------------------------ an incident that hands over (000 §1.4(4))

    @property
    def input_valid(self) -> bool:
        return self._input_error is None

    def open_only(self) -> None:
        """Start an incident whose handling is handed over: the information report (000 §4.2) and
        nothing else; the incident that takes over holds the deadlines and the clause."""
        self._running = True
        self._open()

    def relate(self, workflow_id: str) -> None:
        """Record an incident this one is linked to (handed over to or from), shown in its details."""
        self._related.append(workflow_id)
        self._refresh_details()

    async def end(self) -> None:
        """Closed: deadline watchers stopped, deliveries and handlers finished, the details say so."""
        self._phase = IncidentPhase.CLOSED
        await self._drain()
        self._refresh_details()

    async def _drain(self) -> None:
        """Stop deadline watchers, finish spawned work and running handlers before completing."""
        await self._stop_watchers()
        await workflow.wait_condition(
            lambda: all(t.done() for t in self._work) and workflow.all_handlers_finished()
        )
        self._work.clear()

    # ------------------------------------------------------------------ continue-as-new

    def _snapshot(self) -> CarriedState:
        return CarriedState(
            run=self.run_number + 1,
            timeline=self._timeline,
            deadlines=list(self._deadlines.values()),
            obligations=list(self._obligations.values()),
            reports=[r.model_dump(mode="json") for r in self._reports],
            consumed=sorted(self._consumed),
            report_ids=self._report_ids,
            dispatch=self._dispatch,
            arrived=self._arrived,
            feedback_sent=self._feedback_sent,
            course=self._course,
            plan_active=self._plan_active,
            plan_activated=self._plan_activated,
            command=self._command,
            release=self._release,
            release_content=self._release_content,
            clause_state=self.clause_state,
            report_hashes=self._report_hashes,
        )

    def _restore(self, c: CarriedState) -> None:
        self.run_number = c.run
        self._timeline = list(c.timeline)
        self._deadlines = {d.id: d for d in c.deadlines}
        self._obligations = {o.id: o for o in c.obligations}
        self._reports = [REPORT_ADAPTER.validate_python(r) for r in c.reports]
        self._consumed = set(c.consumed)
        self._report_ids = dict(c.report_ids)
        self._report_hashes = dict(c.report_hashes)
        self._dispatch = c.dispatch
        self._arrived = c.arrived
        self._feedback_sent = c.feedback_sent
        self._course = list(c.course)
        self._plan_active = c.plan_active
        self._plan_activated = c.plan_activated
        self._command = dict(c.command)
        self._release = c.release
        self._release_content = c.release_content
        self.clause_state = dict(c.clause_state)

    async def continue_as_new(self) -> None:
        """Start the next run of this incident with the whole record, keeping each history bounded.

        Spawned work and running handlers finish first; deadline watchers are restarted by the next
        run from the carried deadlines.
        """
        await workflow.wait_condition(
            lambda: all(t.done() for t in self._work) and workflow.all_handlers_finished()
        )
        await self._stop_watchers()
        workflow.logger.info(
            "continuing as new",
            extra={"incident_type": self.TYPE.value, "step": f"run-{self.run_number + 1}"},
        )
        workflow.continue_as_new(Continued(input=self.incident, carried=self._snapshot()))

    # ------------------------------------------------------------------ the timeline

    def record(
        self,
        kind: EntryKind,
        text_zh: str,
        *,
        clause: str,
        actor: str = "系统",
        recipient: Agency | None = None,
        step: str | None = None,
    ) -> TimelineEntry:
        entry = TimelineEntry(
            seq=len(self._timeline) + 1,
            at=workflow.now(),
            kind=kind,
            actor=actor,
            clause=clause,
            text_zh=text_zh,
            recipient=recipient,
            step=step,
        )
        self._timeline.append(entry)
        self._refresh_details()
        return entry

    def decide(self, text_zh: str, clause: str, *, actor: str = "系统") -> None:
        """Record a decision or a step the plan prescribes (no message sent)."""
        self.record(EntryKind.DECISION, text_zh, clause=clause, actor=actor)
        self._course.append(text_zh)

    def _refresh_details(self) -> None:
        if self.inp is None:
            return
        phase = {IncidentPhase.OPEN: "处置中", IncidentPhase.HANDLED: "处置完毕,待事后总结", IncidentPhase.CLOSED: "已办结"}
        pending = [d for d in self._deadlines.values() if d.status is DeadlineStatus.PENDING]
        overdue = [d for d in self._deadlines.values() if d.status is DeadlineStatus.MISSED]
        lines = [f"**{self.TITLE_ZH}**({self.CLAUSE})", f"状态:{phase[self._phase]}"]
        if self._plan_active:
            lines.append("领导小组已启动预案")
        lines += [f"待办时限:{d.title_zh},{texts.fmt_time(d.due_at)} 到期" for d in pending]
        lines += [f"已超时:{d.title_zh}(应于 {texts.fmt_time(d.due_at)})" for d in overdue]
        lines += [f"关联事件:{r}" for r in self._related]
        workflow.set_current_details("\n\n".join(lines))
        # Keep the officers' filters current (phase, missed deadline), by the safe rule of
        # infra/search_attributes.changed_updates: never an attribute the incident did not start with.
        updates = sa.changed_updates(
            workflow.info().typed_search_attributes,
            {sa.INCIDENT_PHASE: self._phase.value, sa.INCIDENT_DEADLINE_MISSED: bool(overdue) or any(
                d.status is DeadlineStatus.LATE for d in self._deadlines.values())},
        )
        if updates:
            workflow.upsert_search_attributes(updates)

    # ------------------------------------------------------------------ notifications

    def ask(self, fact: str, asked: str) -> str:
        """A Chinese notification: incident, place, time, the fact and what is asked."""
        return texts.ask(self.incident, self.TITLE_ZH, fact, asked)

    def notify(
        self,
        recipient: Agency,
        message_zh: str,
        *,
        step: str,
        clause: str,
        phone: str | None = None,
        required: bool = True,
        ack_for: str | None = None,
    ) -> Delivery:
        """Issue one notification now; **nothing waits on its delivery** (the urgent-first rule).

        This is the one place that decides what runs concurrently: every notification is its own
        ``notify`` activity with its own retries, scheduled in the workflow task that issues it, and
        the caller goes on at once. A recipient whose channel is down delays nobody: the 110 call of
        001 §4(1) is never held up behind the section's SMS. Where a clause orders two steps
        ("处置后…报告", "核实死亡真实性后"), the order follows the officers' reports
        (``next_report``), never the delivery of a message. The returned :class:`Delivery` is only for
        a mechanic that acts on *this* notification's own result (the 24 h feedback of 000 §3(3) is met
        when its message is delivered); a clause never awaits it.

        The issue goes on the timeline at once (``notification_issued``), the delivery when it lands
        (``notification``, with channel and attempt) or fails (``notification_failed``).

        To a recipient in ``POLICY.ack_required`` (110, 120, the command centre) a required notification
        also awaits the recipient's acknowledgement (回执, the ``acknowledge`` signal): without one in
        ``ack_timeout`` it is sent again, then escalated (see ``_await_ack``). ``ack_for`` marks a re-send.

        ``required``: a report the plan demands (001 §7(4)); it is due within the ``immediate`` policy
        and appears in the accountability record. Reminders and escalations are not.

        A notification that cannot be delivered within the policy's budget is recorded as failed and
        the emergency office is told to notify by hand: it never fails the incident silently.
        """
        info = workflow.info()
        key = f"{step}/{recipient.value}"
        if required and key not in self._obligations:
            self._obligations[key] = Obligation(
                id=key,
                title_zh=f"通知{AGENCY_NAME_ZH[recipient]}",
                clause=clause,
                due_at=workflow.now() + self.POLICY.immediate,
                status=ObligationStatus.PENDING,
                recipient=recipient,
            )
        req = NotifyRequest(
            idempotency_key=f"{info.workflow_id}/{key}",
            workflow_id=info.workflow_id,
            incident_type=self.TYPE.value,
            step=step,
            clause=clause,
            recipient=recipient,
            recipient_phone=phone,
            message_zh=message_zh,
            drill=self.incident.drill,
            jurisdiction=(self.incident.jurisdiction.justice_office, self.incident.jurisdiction.county),
        )
        self.record(
            EntryKind.NOTIFICATION_ISSUED,
            f"发出通知:{AGENCY_NAME_ZH[recipient]}",
            clause=clause,
            recipient=recipient,
            step=step,
        )
        task = asyncio.ensure_future(self._deliver(req, required=required, ack_for=ack_for))
        self._work.append(task)
        return Delivery(task)

    async def _deliver(self, req: NotifyRequest, *, required: bool, ack_for: str | None) -> bool:
        """Run one ``notify`` activity to its end and record what became of it (see ``notify``)."""
        recipient, step, clause, message_zh = req.recipient, req.step, req.clause, req.message_zh
        key = f"{step}/{recipient.value}"
        try:
            receipt = await workflow.execute_activity(
                "notify",
                req,
                result_type=NotifyReceipt,
                start_to_close_timeout=timedelta(seconds=30),
                heartbeat_timeout=timedelta(seconds=10),  # heartbeats: infra/heartbeat.py
                schedule_to_close_timeout=self.POLICY.notification_budget,
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=1),
                    backoff_coefficient=2.0,
                    maximum_interval=timedelta(seconds=30),
                    non_retryable_error_types=[UNKNOWN_RECIPIENT, BAD_RECIPIENT],
                ),
                summary=f"通知{AGENCY_NAME_ZH[recipient]}",
                # A call to the police or the ambulance goes ahead of other notifications waiting in
                # the queue (a city-wide burst of incidents): the worst failure is a late 110 call.
                priority=URGENT_PRIORITY if recipient in URGENT_RECIPIENTS else Priority.default,
                # issue 19: every notification but 110/120 on ``<queue>-notifications`` (plan/queues.py)
                task_queue=notification_queue(workflow.info().task_queue, recipient),
            )
        except ActivityError as err:
            cause = err.cause
            reason = cause.message if isinstance(cause, ApplicationError) else type(cause).__name__
            self.record(
                EntryKind.NOTIFICATION_FAILED,
                f"通知{AGENCY_NAME_ZH[recipient]}失败:{reason}",
                clause=clause,
                recipient=recipient,
                step=step,
            )
            workflow.logger.error(
                "notification failed",
                extra={
                    "incident_type": self.TYPE.value,
                    "step": step,
                    "recipient": recipient.value,
                    "reason": reason,
                },
            )
            if required:
                # The obligation stays open: the duty officer must notify by hand and record it
                # (``notified_by_hand``) before it falls due, or it is escalated (001 §7(4) 漏报).
                self.start_deadline(
                    f"{BY_HAND}{key}",
                    f"人工补报:通知{AGENCY_NAME_ZH[recipient]}",
                    clause,
                    self._obligations[key].due_at,
                )
            if recipient is not Agency.EMERGENCY_OFFICE and not step.startswith("notify-failed"):
                self.notify(
                    Agency.EMERGENCY_OFFICE,
                    texts.notification_failed(self.incident, self.TITLE_ZH, recipient, clause, step),
                    step=f"notify-failed-{step}-{recipient.value}",
                    clause=clause,
                    required=False,
                )
            return False
        self._obligation_done(key, "系统")
        via = f"(渠道 {receipt.channel}" + (f",第{receipt.attempt}次尝试" if receipt.attempt > 1 else "") + ")"
        self.record(
            EntryKind.NOTIFICATION,
            f"已通知{receipt.recipient_name_zh}{via}:{message_zh}",
            clause=clause,
            recipient=recipient,
            step=step,
        )
        if ack_for is not None:
            self._ack_of[req.idempotency_key] = ack_for
        elif required and receipt.ack_expected and recipient in self.POLICY.ack_required:
            deadline = self.start_deadline(
                f"{ACK}{key}",
                f"{AGENCY_NAME_ZH[recipient]}回执",
                clause,
                workflow.now() + self.POLICY.ack_timeout * (self.POLICY.ack_renotify + 1),
                escalate_to=(Agency.EMERGENCY_OFFICE, Agency.LEADERSHIP_GROUP),
                watch=False,
            )
            self._ack_of[req.idempotency_key] = deadline.id
            self._watchers.append(
                asyncio.ensure_future(self._await_ack(deadline, recipient, message_zh, step, clause))
            )
        workflow.logger.info(
            "notified",
            extra={"incident_type": self.TYPE.value, "step": step, "recipient": recipient.value},
        )
        return True

    def notify_all(
        self, recipients: list[Agency], message: Any, *, step: str, clause: str
    ) -> list[Delivery]:
        """Notify several recipients at the same time (the plan's 同时); ``message(to)`` builds each text."""
        return [
            self.notify(to, message(to) if callable(message) else message, step=step, clause=clause)
            for to in recipients
        ]

    def deliveries_settled(self) -> bool:
        """Every notification issued so far has been delivered or has failed (its budget is bounded)."""
        return all(t.done() for t in self._work)

    def spawn(self, coro: Coroutine[Any, Any, R]) -> asyncio.Task[R]:
        """Run work beside the clause (relays of reports); finished before the incident completes."""
        task = asyncio.ensure_future(coro)
        self._work.append(task)
        return task

    # ------------------------------------------------------------------ 001 §4: punishment and report up

    async def punish(
        self, fact: str, *, clause: str, step: str = "punishment-report-up", label: str = "处罚决定"
    ) -> Punishment:
        """001 §4: 对应予处罚的社区矫正对象,要及时依法实施处罚,并将有关情况及时上报上一级社区矫正机构,同时通报执行地人民检察院."""
        p = await self.next_report(Punishment)
        self.decide(f"社区矫正管理科依法处罚:{p.decision}", clause, actor=p.actor)
        self.notify_all(
            [Agency.HIGHER_CORRECTION_AGENCY, Agency.PROCURATORATE],
            self.ask(f"{fact},{label}:{p.decision}", "知悉"),
            step=step,
            clause=clause,
        )
        return p

    async def persuade(
        self,
        *,
        complied_zh: str,
        refused_zh: str,
        police_fact: str,
        clause: str,
        police_optional: bool,
        step: str = "alarm-110",
        asked: str = "立即出警予以处置",
    ) -> Persuasion:
        """Told to leave or to stop: wait for the ``persuasion`` report; if refused, call 110.

        ``police_optional``: the clause says the section *may* call (可以, 001 §4(2)(5)) and the report's
        ``call_police`` decides; otherwise it must (应当, 001 §4(8)) and 110 is always called.
        """
        p = await self.next_report(Persuasion)
        if p.complied:
            self.decide(complied_zh, clause, actor=p.actor)
        elif police_optional and not p.call_police:
            self.decide(f"{refused_zh};经研究决定暂不报警{(':' + p.note) if p.note else ''}", clause, actor=p.actor)
        else:
            self.decide(f"{refused_zh},向公安“110”报警予以处置", clause, actor=p.actor)
            self.notify(Agency.POLICE_110, self.ask(police_fact, asked), step=step, clause=clause)
        return p

    def notify_family(self, fact: str, asked: str, *, clause: str, none_zh: str) -> None:
        """Each registered family member, guardian, guarantor (001 §4(6)(7)), one step each
        (``family-<i>``); with none registered, ``none_zh`` is recorded as the step taken instead."""
        family = self.incident.subject.family if self.incident.subject else []
        if not family:
            self.decide(none_zh, clause)
        for i, contact in enumerate(family):
            self.notify(
                Agency.FAMILY,
                self.ask(f"{fact}(致{contact.relation})", asked),
                step=f"family-{i}",
                clause=clause,
                phone=contact.phone,
            )

    def terminate_correction(
        self, decision_zh: str, fact: str, recipients: tuple[Agency, ...], *, clause: str, actor: str
    ) -> None:
        """终止社区矫正 (001 §4(6)(7)): recorded, and reported up and to the named agencies at the same time."""
        self.decide(decision_zh, clause, actor=actor)
        self.notify_all(
            list(recipients),
            lambda to: self.ask(
                fact, "知悉并依法办理终止社区矫正相关事宜" if to is Agency.DECIDING_AUTHORITY else "知悉"
            ),
            step="termination-report",
            clause=clause,
        )

    def check_persuasion(self, report: Report, *, police_optional: bool) -> str | None:
        """Refuse persuasion fields that belong to another clause."""
        if not isinstance(report, Persuasion):
            return None
        if report.equipment_used and self.TYPE is not IncidentType.C8:
            return f"persuasion: equipment_used applies to 001 §4(8) (工作场所内暴力事件), not {self.TYPE.value}"
        if not report.call_police and not police_optional:
            return f"persuasion: call_police cannot be false: {self.CLAUSE} says 110 must (应当) be called"
        return None

    # ------------------------------------------------------------------ deadlines and obligations

    def _start_arrival(self, dispatch: DispatchInstruction) -> None:
        self.start_deadline(
            ARRIVAL,
            f"到场时限 {texts.fmt_duration(self.POLICY.arrival)}",
            "000 §4.3",
            (dispatch.at or workflow.now()) + self.POLICY.arrival,
        )

    def start_deadline(
        self,
        deadline_id: str,
        title_zh: str,
        clause: str,
        due_at: datetime,
        *,
        reminders: tuple[timedelta, ...] = (),
        escalate_to: tuple[Agency, ...] = (Agency.EMERGENCY_OFFICE, Agency.LEADERSHIP_GROUP),
        watch: bool = True,
    ) -> Deadline:
        """An obligation with a due time. ``watch=False``: the caller awaits ``_watch`` itself."""
        deadline = Deadline(
            id=deadline_id,
            title_zh=title_zh,
            clause=clause,
            due_at=due_at,
            reminders=list(reminders),
            escalate_to=list(escalate_to),
        )
        self._deadlines[deadline_id] = deadline
        self.record(
            EntryKind.DEADLINE_SET,
            f"{title_zh}:应于 {texts.fmt_time(due_at)} 前完成",
            clause=clause,
        )
        if self._running and watch:
            self._watchers.append(asyncio.ensure_future(self._watch(deadline)))
        return deadline

    async def _watch(self, deadline: Deadline) -> None:
        """Remind before the due time, escalate at it; the incident goes on either way."""

        def settled() -> bool:
            return deadline.status is not DeadlineStatus.PENDING

        for before in sorted(deadline.reminders, reverse=True):
            wait = deadline.due_at - before - workflow.now()
            if wait <= timedelta(0):
                continue
            try:
                await workflow.wait_condition(
                    settled, timeout=wait, timeout_summary=f"{deadline.title_zh}·提醒"
                )
                return
            except asyncio.TimeoutError:
                left = deadline.due_at - workflow.now()
                self.record(
                    EntryKind.REMINDER,
                    f"{deadline.title_zh}:剩余{texts.fmt_duration(left)}",
                    clause=deadline.clause,
                )
                self.notify(
                    Agency.JUSTICE_OFFICE,
                    texts.deadline_reminder(self.incident, self.TITLE_ZH, deadline, before),
                    step=f"{deadline.id}-reminder-{int(before.total_seconds())}",
                    clause=deadline.clause,
                    required=False,
                )
        wait = deadline.due_at - workflow.now()
        if wait > timedelta(0):
            try:
                await workflow.wait_condition(settled, timeout=wait, timeout_summary=deadline.title_zh)
                return
            except asyncio.TimeoutError:
                pass
        if settled():
            return
        deadline.status = DeadlineStatus.MISSED
        deadline.missed_at = workflow.now()
        metrics.deadline_missed(self.TYPE.value, deadline_kind(deadline.id))
        self.record(
            EntryKind.DEADLINE_MISSED,
            f"{deadline.title_zh}:已于 {texts.fmt_time(deadline.due_at)} 到期未完成,升级督办",
            clause=deadline.clause,
        )
        workflow.logger.warning(
            "deadline missed",
            extra={"incident_type": self.TYPE.value, "step": deadline.id},
        )
        text = texts.deadline_missed(self.incident, self.TITLE_ZH, deadline)
        for to in deadline.escalate_to:
            self.notify(to, text, step=f"{deadline.id}-missed", clause=deadline.clause, required=False)

    async def _stop_watchers(self) -> None:
        """Cancel the deadline watchers (a reminder or escalation they issued is delivered regardless:
        notifications are not the watchers' children)."""
        for t in self._watchers:
            if not t.done():
                t.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        self._watchers.clear()

    def fulfil(self, deadline_id: str, actor: str) -> None:
        """Mark a deadline fulfilled now: met if on time, late if it had already been missed."""
        d = self._deadlines.get(deadline_id)
        if d is None or d.status in (DeadlineStatus.MET, DeadlineStatus.LATE, DeadlineStatus.CANCELLED):
            return
        now = workflow.now()
        d.fulfilled_at = now
        if d.status is DeadlineStatus.MISSED or now > d.due_at:
            d.status = DeadlineStatus.LATE
            d.missed_at = d.missed_at or d.due_at
            text = f"{d.title_zh}:超时后完成(应于 {texts.fmt_time(d.due_at)})"
            kind = EntryKind.DEADLINE_LATE
        else:
            d.status = DeadlineStatus.MET
            text = f"{d.title_zh}:按时完成"
            kind = EntryKind.DEADLINE_MET
        self.record(kind, text, clause=d.clause, actor=actor)

    async def _await_ack(
        self, deadline: Deadline, recipient: Agency, message_zh: str, step: str, clause: str
    ) -> None:
        """No acknowledgement within ``ack_timeout``: send again (``ack_renotify`` times), then escalate
        to the emergency office and the leadership group when the whole budget is spent."""
        renotify = self.POLICY.ack_renotify
        for n in range(1, renotify + 1):
            at = deadline.due_at - (renotify + 1 - n) * self.POLICY.ack_timeout
            wait = at - workflow.now()
            if wait > timedelta(0):
                try:
                    await workflow.wait_condition(
                        lambda: deadline.status is not DeadlineStatus.PENDING,
                        timeout=wait,
                        timeout_summary=f"{deadline.title_zh}·等待",
                    )
                    return
                except asyncio.TimeoutError:
                    pass
            if deadline.status is not DeadlineStatus.PENDING:
                return
            self.record(
                EntryKind.REMINDER,
                f"{deadline.title_zh}:{texts.fmt_duration(self.POLICY.ack_timeout)}内未收到回执,第{n}次重新通知",
                clause=clause,
                recipient=recipient,
            )
            self.notify(
                recipient,
                f"【重复通知】{message_zh}",
                step=f"{step}-renotify-{n}",
                clause=clause,
                required=False,
                ack_for=deadline.id,
            )
        await self._watch(deadline)

    def deadline_by_id(self, deadline_id: str) -> Deadline | None:
        return self._deadlines.get(deadline_id)

    def pending_deadlines(self, prefix: str) -> list[Deadline]:
        """Deadlines still pending whose id starts with ``prefix`` (e.g. the days of 001 §4(9) 情形三)."""
        return [d for d in self._deadlines.values() if d.id.startswith(prefix) and d.status is DeadlineStatus.PENDING]

    async def await_deadline(self, deadline: Deadline) -> None:
        """Wait for a deadline started with ``watch=False`` (reminders, then escalation when missed);
        the caller goes on once it is met or escalated."""
        await self._watch(deadline)

    def cancel_deadline(self, deadline_id: str, reason_zh: str) -> None:
        """A deadline that no longer applies (its situation ended): recorded, no longer watched."""
        d = self._deadlines.get(deadline_id)
        if d is None or d.status is not DeadlineStatus.PENDING:
            return
        d.status = DeadlineStatus.CANCELLED
        self.record(EntryKind.DECISION, f"{d.title_zh}:{reason_zh},不再适用", clause=d.clause)

    def _obligation_done(self, key: str, how: str, stated_at: datetime | None = None) -> None:
        """001 §7(4): judged on the time the workflow received it; the officer's stated time is kept
        beside it and can never turn a late report into an on-time one."""
        o = self._obligations.get(key)
        if o is None or o.done_at is not None:
            return
        o.done_at = workflow.now()
        o.stated_at = stated_at
        o.how = how
        o.status = ObligationStatus.ON_TIME if o.done_at <= o.due_at else ObligationStatus.LATE

    def require_by_hand(self, recipient: Agency, title_zh: str, *, step: str, clause: str) -> None:
        """A contact the system cannot make (no number known): a required notification the duty
        officer makes by phone and records with ``notified_by_hand`` (step, recipient) before the
        ``immediate`` policy runs out, or it is escalated (001 §7(4))."""
        key = f"{step}/{recipient.value}"
        if key in self._obligations:
            return
        due = workflow.now() + self.POLICY.immediate
        self._obligations[key] = Obligation(
            id=key, title_zh=title_zh, clause=clause, due_at=due, status=ObligationStatus.PENDING,
            recipient=recipient,
        )
        self.start_deadline(f"{BY_HAND}{key}", f"人工联系:{title_zh}", clause, due)

    def accountability(self) -> AccountabilityRecord:
        """001 §7(4): every required report and deadline, on time, late (迟报) or missing (漏报)."""
        now = workflow.now()
        closed = self._phase is IncidentPhase.CLOSED
        items: list[Obligation] = []
        deadline_status = {
            DeadlineStatus.MET: ObligationStatus.ON_TIME,
            DeadlineStatus.LATE: ObligationStatus.LATE,
            DeadlineStatus.MISSED: ObligationStatus.MISSING if closed else ObligationStatus.OVERDUE,
            DeadlineStatus.PENDING: ObligationStatus.PENDING,
            DeadlineStatus.CANCELLED: ObligationStatus.NOT_REQUIRED,
        }
        for d in self._deadlines.values():
            if d.id.startswith(BY_HAND):
                continue  # shown as the notification's own obligation
            items.append(
                Obligation(
                    id=f"deadline/{d.id}",
                    title_zh=d.title_zh,
                    clause=d.clause,
                    due_at=d.due_at,
                    status=deadline_status[d.status],
                    done_at=d.fulfilled_at,
                    how="报告" if d.fulfilled_at else "",
                )
            )
        for o in self._obligations.values():
            if o.done_at is None:
                if closed:
                    status = ObligationStatus.MISSING  # 漏报: never sent
                elif now > o.due_at:
                    status = ObligationStatus.OVERDUE  # 超时未报: overdue, not yet sent
                else:
                    status = ObligationStatus.PENDING
                o = o.model_copy(update={"status": status})
            items.append(o)
        items.sort(key=lambda o: o.due_at)
        count = {s: sum(1 for o in items if o.status is s) for s in ObligationStatus}
        return AccountabilityRecord(
            workflow_id=workflow.info().workflow_id,
            incident_type=self.TYPE,
            obligations=items,
            on_time=count[ObligationStatus.ON_TIME],
            late=count[ObligationStatus.LATE],
            missing=count[ObligationStatus.MISSING],
            pending=count[ObligationStatus.PENDING],
            overdue=count[ObligationStatus.OVERDUE],
        )

    # ------------------------------------------------------------------ reports

    def reports_of(self, *kinds: type[R]) -> list[R]:
        return [r for r in self._reports if isinstance(r, kinds)]  # type: ignore[misc]

    @overload
    async def next_report(self, k1: type[R], /) -> R: ...
    @overload
    async def next_report(self, k1: type[R], k2: type[R2], /) -> R | R2: ...
    @overload
    async def next_report(self, k1: type[R], k2: type[R2], k3: type[R3], /) -> R | R2 | R3: ...

    async def next_report(self, *kinds: type[Any]) -> Any:
        """Wait for the next accepted report of one of ``kinds`` that the clause has not yet taken."""

        def find() -> int | None:
            for i, r in enumerate(self._reports):
                if i not in self._consumed and isinstance(r, kinds):
                    return i
            return None

        await workflow.wait_condition(lambda: find() is not None)
        i = find()
        assert i is not None
        self._consumed.add(i)
        return self._reports[i]

    def _parse_report(self, raw: RawValue) -> Report:
        size = len(raw.payload.data)
        if size > MAX_REPORT_BYTES:
            # Refused before it is parsed: nothing of it is kept in the incident's state.
            raise ApplicationError(
                f"invalid report: {size} bytes, over the limit of {MAX_REPORT_BYTES} bytes",
                type=INVALID_REPORT,
                non_retryable=True,
            )
        try:
            value = decode_raw(raw)
        except Exception:
            raise ApplicationError(
                "invalid report: not JSON", type=INVALID_REPORT, non_retryable=True
            ) from None
        if not isinstance(value, dict):
            raise ApplicationError(
                "invalid report: expected a JSON object with a 'kind' field",
                type=INVALID_REPORT,
                non_retryable=True,
            )
        try:
            report = REPORT_ADAPTER.validate_python(value)
        except ValidationError as err:
            raise ApplicationError(
                f"invalid report: {describe_validation_error(err)}",
                type=INVALID_REPORT,
                non_retryable=True,
            ) from None
        reason = self._check(report)
        if reason:
            raise ApplicationError(f"report refused: {reason}", type=INVALID_REPORT, non_retryable=True)
        return report

    def _all_waiting(self) -> list[str]:
        if self.inp is None or self._phase is IncidentPhase.CLOSED or self.delegated():
            return []
        waiting: list[str] = []
        if self._release == "drafted":
            waiting.append("release (approve / reject)")
        elif self._release == "approved":
            waiting.append("release (publish / withdraw)")
        if self._phase is IncidentPhase.HANDLED:
            if self.review_required and not self.reports_of(Review):
                waiting.insert(0, "review")
            elif not self.review_required and not self.reports_of(AftermathDone):
                waiting.insert(0, "aftermath_done")
            if any(d.id.startswith(ACK) and d.status is DeadlineStatus.PENDING for d in self._deadlines.values()):
                waiting.append("acknowledge (回执)")
            return waiting
        if self.incident.major and not self._plan_activated:
            waiting.append("plan_decision (activate)")
        if self._dispatch is not None and not self._arrived:
            waiting.append("arrived")
        clause = list(self.waiting_for())
        waiting += clause
        if not clause:
            if self._plan_active:
                waiting.append("plan_decision (terminate)")
            waiting.append("closed")
        return waiting

    def _check(self, report: Report) -> str | None:
        """Why ``report`` makes no sense now, or None (000 §4.3 and the clause's order)."""
        if self._input_error is not None:
            return "this incident's input was invalid; it accepts no reports"
        if self._phase is IncidentPhase.CLOSED:
            return "the incident is closed"
        if self.delegated():
            where = ", ".join(self._related) or "the handed-over incident (starting)"
            return f"this incident was handed over; send reports to {where}"
        if report.report_id and report.report_id in self._report_ids:
            first = self._report_hashes.get(report.report_id)
            if first is not None and first != report_fingerprint(report):
                seq = self._report_ids[report.report_id]
                first_kind = self._timeline[seq - 1].step if 0 < seq <= len(self._timeline) else "?"
                return (f"report_id: '{report.report_id}' was already used by report #{seq} ({first_kind}) "
                        "with other content; give this report its own report_id")
            return None  # a resend: accepted once, acknowledged again
        kind = report.kind
        if kind not in COMMON_REPORT_KINDS and kind not in self.CLAUSE_REPORTS:
            return f"kind: '{kind}' does not apply to {self.TYPE.value} ({self.TITLE_ZH})"
        now = workflow.now()
        if report.at is not None:
            if report.at > now + FUTURE_TOLERANCE:
                return "at: lies in the future"
            if report.at < self.incident.occurred_at:
                return "at: earlier than the incident's occurred_at"
        if self._phase is IncidentPhase.HANDLED:
            if kind not in AFTER_HANDLING_KINDS:
                return f"{kind}: handling is over; now only progress (aftermath), review, release are taken"
        elif isinstance(report, Review):
            return "review: the post-incident review (001 §5(2)) comes after handling is closed"
        if isinstance(report, AftermathDone):
            if self.review_required:
                return "aftermath_done: correction incidents end with the review (001 §5(2)); send review"
            if self._phase is not IncidentPhase.HANDLED:
                return "aftermath_done: the aftermath (善后处置, 000 §4.4) comes after handling is closed"
            if self.reports_of(AftermathDone):
                return "aftermath_done: the aftermath was already reported complete"
        if isinstance(report, Review):
            if not self.review_required:
                return f"review: 001 §5(2) applies to correction incidents, not {self.TYPE.value}"
            if self.reports_of(Review):
                return "review: the review was already reported"
        if isinstance(report, Dispatched) and self._dispatch is not None:
            return "dispatched: the centre's instruction was already recorded"
        if isinstance(report, Arrived):
            if self._dispatch is None:
                return "arrived: this incident was never dispatched by the command centre (000 §4.3)"
            if self._arrived:
                return "arrived: arrival was already reported"
            if report.at is not None and self._dispatch.at and report.at < self._dispatch.at:
                return "at: arrival before the centre's instruction"
        if isinstance(report, PlanDecision):
            if report.decision is PlanDecisionKind.ACTIVATE and self._plan_active:
                return "plan_decision: the plan is already activated"
            if report.decision is PlanDecisionKind.TERMINATE and not self._plan_active:
                return "plan_decision: the plan is not activated, so it cannot be terminated"
        if isinstance(report, Release):
            reason = self._check_release(report)
            if reason:
                return reason
        if isinstance(report, NotifiedByHand):
            o = self._obligations.get(f"{report.step}/{report.recipient.value}")
            if o is None:
                return f"step: no required notification '{report.step}' to {report.recipient.value} in this incident"
            if o.done_at is not None:
                return f"step: '{report.step}' to {report.recipient.value} was already delivered"
        if isinstance(report, Closed):
            clause_waiting = self.waiting_for()
            if clause_waiting:
                return f"closed: handling is not finished; waiting for {', '.join(clause_waiting)}"
            if self._dispatch is not None and not self._arrived:
                return "closed: arrival at the designated place has not been reported (000 §4.3)"
            if self.incident.major and not self._plan_activated:
                return "closed: the leadership group has not decided on the plan (plan_decision, 000 §2.1)"
            if self._plan_active:
                return "closed: the leadership group has not terminated the plan (plan_decision terminate, 000 §2.1)"
        if kind in self.CLAUSE_REPORTS and kind not in self.waiting_for() and kind not in self.accepts_now():
            waiting = ", ".join(self._all_waiting()) or "nothing"
            return f"{kind}: not expected now; the incident is waiting for {waiting}"
        return self.check_clause_report(report)

    def _check_release(self, r: Release) -> str | None:
        """001 §5(3): 拟定信息内容,报送职能部门审核后统一发布 — nothing is published unreviewed."""
        state = self._release
        if state == "published":
            return "release: the information was already published (统一发布, once)"
        allowed = {
            "none": {ReleaseAction.DRAFT},
            "rejected": {ReleaseAction.DRAFT},
            "withdrawn": {ReleaseAction.DRAFT},
            "drafted": {ReleaseAction.APPROVE, ReleaseAction.REJECT, ReleaseAction.WITHDRAW},
            "approved": {ReleaseAction.PUBLISH, ReleaseAction.WITHDRAW},
        }[state]
        if r.action not in allowed:
            if r.action is ReleaseAction.PUBLISH:
                return "release: publish needs a draft approved by the functional department first"
            return f"release: '{r.action.value}' not possible now (release is {state})"
        return None

    def _accept(self, report: Report) -> ReportReceipt:
        """Record an accepted report and start what it sets off (000 §4.3, §3(3), §2.1; 001 §3, §5)."""
        if report.report_id and report.report_id in self._report_ids:
            return ReportReceipt(
                accepted=True, seq=self._report_ids[report.report_id], message_zh="重复报告,已记录"
            )
        stated = f"(报告时间 {texts.fmt_time(report.at)})" if report.at else ""
        entry = self.record(
            EntryKind.REPORT,
            f"收到报告[{labels.kind_zh(report.kind)}]{stated}{':' + report.note if report.note else ''}",
            clause=_REPORT_CLAUSE.get(report.kind, self.CLAUSE),
            actor=report.actor,
            step=report.kind,
        )
        seq = entry.seq
        if report.report_id:
            self._report_ids[report.report_id] = seq
            self._report_hashes[report.report_id] = report_fingerprint(report)
        self._reports.append(report)
        workflow.logger.info(
            "report accepted", extra={"incident_type": self.TYPE.value, "step": report.kind}
        )
        if isinstance(report, Dispatched):
            self._dispatch = DispatchInstruction(
                at=report.at or workflow.now(),
                designated_place=report.designated_place,
                designated_person=report.designated_person,
            )
            self._start_arrival(self._dispatch)
        elif isinstance(report, Arrived):
            self._arrived = True
            self.fulfil(ARRIVAL, report.actor)
        elif isinstance(report, Progress):
            self._relay_progress(report, seq)
        elif isinstance(report, Feedback):
            self._feed_back(report.situation, report.result, step=f"feedback-{seq}")
        elif isinstance(report, PlanDecision):
            self._plan_decided(report, seq)
        elif isinstance(report, CommandSet):
            self._command = {"现场指挥部": report.commander}
            self._command.update({COMMAND_GROUP_ZH[g]: who for g, who in report.groups.items()})
            self.decide(f"设立现场指挥部,现场指挥:{report.commander}", "001 §3(3)", actor=report.actor)
            for g, who in report.groups.items():
                self.decide(f"{COMMAND_GROUP_ZH[g]}:{who}", "001 §3(4)", actor=report.actor)
        elif isinstance(report, Closed):
            self._phase = IncidentPhase.HANDLED  # from now on only after-handling reports are taken
        elif isinstance(report, Release):
            self._released(report)
        elif isinstance(report, NotifiedByHand):
            key = f"{report.step}/{report.recipient.value}"
            self._obligation_done(key, f"人工({report.actor})", report.at)
            self.fulfil(f"{BY_HAND}{key}", report.actor)
            self.record(
                EntryKind.NOTIFICATION,
                f"已人工通知{AGENCY_NAME_ZH[report.recipient]}(补报 {report.step})",
                clause=self._obligations[key].clause,
                actor=report.actor,
                recipient=report.recipient,
                step=f"by-hand-{report.step}",
            )
        if report.kind in self.CLAUSE_REPORTS:
            self.on_report(report, seq)
        return ReportReceipt(accepted=True, seq=seq, message_zh=f"报告已受理(第{seq}条记录)")

    def _released(self, r: Release) -> None:
        clause = "001 §5(3)"
        if r.action is ReleaseAction.DRAFT:
            self._release, self._release_content = "drafted", r.content
            self.decide(f"拟定对外发布信息,报送职能部门审核:{r.content}", clause, actor=r.actor)
        elif r.action is ReleaseAction.APPROVE:
            self._release = "approved"
            self.decide(f"{r.department}审核通过拟发布信息", clause, actor=r.actor)
        elif r.action is ReleaseAction.REJECT:
            self._release = "rejected"
            self.decide(f"{r.department}审核未通过拟发布信息:{r.note or '需修改'}", clause, actor=r.actor)
        elif r.action is ReleaseAction.WITHDRAW:
            self._release = "withdrawn"
            self.decide("撤回拟发布信息,不予发布", clause, actor=r.actor)
        else:
            self._release = "published"
            self.decide(f"信息经审核后统一发布:{self._release_content}", clause, actor=r.actor)

    def _relay_progress(self, report: Progress, seq: int) -> None:
        """Progress goes where the plans send it, each recipient on its own (nobody waits on another):

        - the emergency office, which 跟踪了解事件的进展情况和处置情况,及时向区司法局应急指挥领导小组报告
          (000 §2.2(6)); for a major incident (000 §2.1) the leadership group is told as well;
        - the centre in the urgent flow (000 §4.3(1) 处置过程中,及时向区社会应急联动指挥中心反馈处置情况和有关信息);
        - the section and up a level for correction incidents (001 §5(1));
        - after handling, aftermath reports (000 §4.4 密切关注以后情况并及时上报) to the emergency office
          and the centre.
        """
        self._course.append(report.current_situation)
        if self._phase is IncidentPhase.HANDLED:
            self.notify_all(
                [Agency.EMERGENCY_OFFICE, Agency.COMMAND_CENTRE],
                self.ask(f"善后处置情况:{report.current_situation}", "知悉"),
                step=f"aftermath-{seq}",
                clause="000 §4.4",
            )
            return
        office = [Agency.EMERGENCY_OFFICE]
        if self.incident.major:
            office.append(Agency.LEADERSHIP_GROUP)
        self.notify_all(
            office,
            lambda to: self.ask(
                f"处置进展:{report.current_situation}",
                "知悉(应急办公室跟踪了解事件的进展情况和处置情况)"
                if to is Agency.EMERGENCY_OFFICE
                else "知悉(应急办公室报告领导小组)",
            ),
            step=f"progress-office-{seq}",
            clause="000 §2.2(6)",
        )
        if self.incident.flow is Flow.URGENT:
            self.notify(
                Agency.COMMAND_CENTRE,
                self.ask(f"处置进展:{report.current_situation}", "知悉(紧急处置流程处置过程中及时反馈)"),
                step=f"progress-relay-{seq}",
                clause="000 §4.3(1)",
            )
        if self.TYPE.is_correction:
            self.notify_all(
                [Agency.CORRECTION_SECTION, Agency.HIGHER_CORRECTION_AGENCY],
                self.ask(f"处置工作进展:{report.current_situation}", "知悉"),
                step=f"progress-up-{seq}",
                clause="001 §5(1)",
            )

    def _plan_decided(self, d: PlanDecision, seq: int) -> None:
        """000 §2.1: 决定启动、终止本方案…及时向区委、区政府、区委政法委、市司法局报告有关情况."""
        if d.decision is PlanDecisionKind.ACTIVATE:
            self._plan_active = self._plan_activated = True
            self.fulfil(LEADERSHIP, d.actor)
            self.decide("领导小组决定启动本方案,统一领导、组织、协调处置", "000 §2.1", actor=d.actor)
            fact, asked = "属重大突发事件,区司法局应急联动指挥领导小组已决定启动应急预案", "知悉"
            step = "plan-activated-report"
        else:
            self._plan_active = False
            self.decide("领导小组决定终止本方案", "000 §2.1", actor=d.actor)
            fact, asked = "区司法局应急联动指挥领导小组已决定终止应急预案", "知悉"
            step = "plan-terminated-report"
        self.notify_all(list(MAJOR_REPORT_TO), self.ask(fact, asked), step=f"{step}-{seq}", clause="000 §2.1")

    def _feed_back(self, situation: str, result: str, *, step: str) -> None:
        """000 §3(3): handling situation and result fed back to the command centre; the 24 h deadline
        is met when this message is delivered (the only place a delivery's result is read)."""
        self._feedback_sent = True
        delivery = self.notify(
            Agency.COMMAND_CENTRE,
            self.ask(f"处置情况:{situation};处置结果:{result}", "知悉(处置情况和结果反馈)"),
            step=step,
            clause="000 §3(3)",
        )
        self.spawn(self._fulfil_on_delivery(delivery, FEEDBACK))

    async def _fulfil_on_delivery(self, delivery: Delivery, deadline_id: str) -> None:
        if await delivery.delivered():
            self.fulfil(deadline_id, "系统")

    # ------------------------------------------------------------------ message handlers

    @workflow.signal(name="report")
    def report_signal(self, raw: RawValue) -> None:
        """A progress report sent fire-and-forget (``temporal workflow signal --name report``).

        A refused report is never dropped silently: the refusal and its reason go to the timeline and
        the log.
        """
        try:
            report = self._parse_report(raw)
        except ApplicationError as err:
            self._refuse(err.message)
            return
        self._accept(report)

    @workflow.update(name="submit_report")
    def submit_report(self, raw: RawValue) -> ReportReceipt:
        """A progress report whose refusal returns the reason to the sender."""
        return self._accept(self._parse_report(raw))

    @submit_report.validator
    def _validate_submit_report(self, raw: RawValue) -> None:
        try:
            self._parse_report(raw)
        except ApplicationError as err:
            # A validator cannot change the record (a refused update leaves no history); the reason
            # goes back to the sender, and to the log for the reviewer (001 §7(4)).
            workflow.logger.warning(
                "report refused",
                extra={"incident_type": self.TYPE.value, "step": "report", "reason": err.message},
            )
            raise

    def _refuse(self, reason: str) -> None:
        if self._input_error is not None:
            return
        self.record(EntryKind.REFUSED, f"报告被拒收:{reason}", clause="001 §7(4)", actor="系统")
        workflow.logger.warning(
            "report refused", extra={"incident_type": self.TYPE.value, "step": "report", "reason": reason}
        )

    @workflow.signal(name="acknowledge")
    def acknowledge(self, raw: RawValue) -> None:
        """A recipient's acknowledgement (回执) of a notification, from its gateway's callback
        (``starter/ack_server.py``) or an officer: ``{"key": <idempotency key>, "by": "..."}``."""
        if self.inp is None:
            return
        try:
            value = decode_raw(raw)
            ack = Acknowledgement.model_validate(value)
        except ValidationError as err:
            self._refuse(f"acknowledge: {describe_validation_error(err)}")
            return
        except Exception:
            self._refuse("acknowledge: not a JSON object")
            return
        deadline_id = self._ack_of.get(ack.key)
        deadline = self._deadlines.get(deadline_id) if deadline_id else None
        if deadline is None:
            self._refuse("acknowledge: key: no notification of this incident awaits an acknowledgement with this key")
            return
        if deadline.status in (DeadlineStatus.MET, DeadlineStatus.LATE):
            return  # a gateway repeating its callback
        self.record(
            EntryKind.ACKNOWLEDGED,
            f"收到回执:{deadline.title_zh.removesuffix('回执')}({ack.by})",
            clause=deadline.clause,
            actor=ack.by,
            step=deadline.id,
        )
        self.fulfil(deadline.id, ack.by)

    @workflow.query(name="status")
    def status(self) -> IncidentStatus:
        """State, what the incident waits for, deadlines with due times, and the timeline."""
        if self.inp is None:
            raise ApplicationError(
                self._input_error.message if self._input_error else "not started", type=INVALID_INPUT
            )
        return IncidentStatus(
            workflow_id=workflow.info().workflow_id,
            incident_type=self.TYPE,
            title_zh=self.TITLE_ZH,
            clause=self.CLAUSE,
            flow=self.inp.flow,
            drill=self.inp.drill,
            phase=self._phase,
            waiting_for=self._all_waiting(),
            deadlines=list(self._deadlines.values()),
            timeline=list(self._timeline),
            plan_active=self._plan_active,
            command=dict(self._command),
            release=self._release,
            related=list(self._related),
            run=self.run_number,
        )

    @workflow.query(name="deadlines")
    def deadlines(self) -> list[Deadline]:
        return list(self._deadlines.values())

    @workflow.query(name="timeline")
    def timeline(self) -> list[TimelineEntry]:
        return list(self._timeline)

    @workflow.query(name="accountability")
    def accountability_query(self) -> AccountabilityRecord:
        """001 §7(4): which required reports were on time, late (迟报) or missing (漏报)."""
        if self.inp is None:
            raise ApplicationError(
                self._input_error.message if self._input_error else "not started", type=INVALID_INPUT
            )
        return self.accountability()


#: The clause a common report kind fulfils, for the timeline.
_REPORT_CLAUSE = {
    "dispatched": "000 §4.3",
    "arrived": "000 §4.3",
    "progress": "000 §4.3(1)",
    "feedback": "000 §3(3)",
    "closed": "000 §4.2",
    "plan_decision": "000 §2.1",
    "command_set": "001 §3(3)(4)",
    "release": "001 §5(3)",
    "review": "001 §5(2)",
    "aftermath_done": "000 §4.4",
    "notified_by_hand": "001 §7(4)",
}
