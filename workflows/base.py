"""The incident workflow: a short skeleton that owns the shared mechanics (000 §2–§4, 001 §3, §5, §7(4)).

Each incident type subclasses :class:`IncidentWorkflow` and writes only its clause in ``respond()``
(plus, where the clause says so, ``first_response``, ``on_report``, ``accepts_now`` and
``check_clause_report``), calling the public methods below. The mechanics are components, one per file
under ``workflows/mechanics/`` (timeline, notifier, acknowledgements, deadlines, accountability,
reports, release, leadership); the plans' shared procedures are under ``workflows/procedures/``
(``linkage`` for 000, ``correction`` for 001). All mutable state is one model, ``plan/state.py``'s
:class:`IncidentState`, carried whole by continue-as-new. See docs/writing-a-workflow.md.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar, overload

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from plan import texts
    from plan.agencies import Agency
    from plan.models import (
        AccountabilityRecord,
        Acknowledgement,
        AftermathDone,
        Arrived,
        Closed,
        CommandSet,
        Deadline,
        DeadlineStatus,
        Dispatched,
        DUTY_REPORT_KINDS,
        Duty,
        DutyBoard,
        DutyForm,
        EntryKind,
        Feedback,
        IncidentInput,
        IncidentOutcome,
        IncidentPhase,
        IncidentStatus,
        IncidentType,
        NotifiedByHand,
        Persuasion,
        PlanDecision,
        Progress,
        Punishment,
        Release,
        Report,
        ReportReceipt,
        Review,
        TimelineEntry,
        describe_validation_error,
        incident_problems,
        CorrectionBase,
        variant,
    )
    from plan.policy import DEFAULT_POLICY, DeadlinePolicy
    from plan.state import Continued, IncidentState, NoClauseState

from workflows import bureau  # issue 17: the bureau's plans and names (workflows/bureau.py)
from workflows.mechanics.accountability import BY_HAND
from workflows.mechanics.acknowledgements import ACK
from workflows.mechanics.continuation import archive_and_bound, continue_due
from workflows.mechanics.deadlines import ESCALATE_TO, deadline_kind
from workflows.mechanics.kit import wire
from workflows.mechanics.inputs import INVALID_INPUT, INVALID_REPORT, decode_raw, invalid_input, parse_input
from workflows.mechanics.leadership import Leadership
from workflows.mechanics.notifier import Delivery
from workflows.mechanics.release import Publication
from workflows.mechanics.reports import Reports, model_kind
from workflows.procedures.correction import Correction
from workflows.procedures.linkage import Linkage

__all__ = ["ACK", "INVALID_INPUT", "INVALID_REPORT", "Delivery", "IncidentWorkflow", "deadline_kind"]

HANDED_OVER_ENDED = "handed_over_ended"
"""Signal (and ``workflow.patched`` id) a handed-over incident sends the incident that handed it over
when it ends (issue 13: ``workflows/l04_correction_resettlement.py`` follows it)."""
INBOX_PATCH = "report-inbox"
"""Signalled reports go through the inbox (a history recorded before it judges them in the handler)."""
STATUS_TIMELINE = 1000
"""Timeline entries the ``status`` query returns (the most recent; ``archived`` counts the others)."""
QUERY_TIMELINE = 4000
"""Timeline entries the ``timeline`` query returns (a query answer is bounded by the server's 2 MB)."""
SIGNALS_PER_TASK = 100
CARRY_INBOX = 500
"""Signalled reports judged in one workflow task (the rest in the next, after a 1 ms timer)."""

FUTURE_TOLERANCE = timedelta(minutes=5)
"""How far in the future an officer's stated time may be (clock skew)."""

REVIEW = "review"

#: Report kinds still taken once handling is over (000 §4.4 aftermath, 001 §5(2)(3)).
AFTER_HANDLING_KINDS = frozenset({"progress", "review", "aftermath_done", "release", "notified_by_hand"}) | DUTY_REPORT_KINDS

R = TypeVar("R")
R2 = TypeVar("R2")
R3 = TypeVar("R3")


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
    ClauseState: ClassVar[type[BaseModel]] = NoClauseState
    """The clause's own facts, carried by continue-as-new (``self.clause_state``)."""

    # ------------------------------------------------------------------ wiring

    @workflow.init
    def __init__(self, raw: RawValue) -> None:
        self._input_error: ApplicationError | None = None
        self.inp: IncidentInput | None = None
        state: IncidentState | None = None
        try:
            self.inp, state = parse_input(raw, self.TYPE)
        except ApplicationError as err:
            self._input_error = err
        self.bureau: bureau.BureauProfile | None = None  # issue 17: the bureau running it; None = shared setup
        if self.inp is not None:
            self.bureau, refusal = bureau.resolve(self.inp, workflow.info().namespace)
            if refusal:
                self._input_error, self.inp = invalid_input(f"invalid incident input: {refusal}"), None
        self.policy: DeadlinePolicy = self.bureau.policy if self.bureau is not None else self.POLICY
        """The deadlines in force: the bureau's local policies (issue 17), else the class's."""
        self.resumed = state is not None
        """True in a continued run: the opening steps were taken by an earlier run."""
        self.state = state or IncidentState()
        self.clause_state: Any = self.ClauseState.model_validate(self.state.clause)
        s, p, t = self.state, self.policy, self.TYPE.value
        kit = wire(s, title_zh=self.TITLE_ZH, clause=self.CLAUSE, incident_type=self.TYPE, type_code=t, policy=p,
                   incident=lambda: self.incident, bureau=self.bureau, live=self.inp is not None)
        self.timeline, self.register, self.deadlines = kit.timeline, kit.register, kit.deadlines
        self.acks, self.notifier, self.duties = kit.acks, kit.notifier, kit.duties  # duties: issue 16
        self.reports = Reports(s, self.timeline, self.CLAUSE, self.CLAUSE_REPORTS, bureau=self.bureau)
        self._inbox: deque[RawValue | dict[str, Any]] = deque()
        """Signalled reports not yet judged (see ``report_signal``)."""
        self._updates = 0
        self._continuing = False
        """True once this run has begun to continue as new (:meth:`continue_as_new` is single-flight)."""
        """Updates this run has taken (Temporal limits them per run: ``mechanics/continuation.py``)."""
        self.reports.continue_due = self._continue_due
        self.reports.continue_as_new = self.continue_as_new
        # A run continued by the one before re-reads the carried reports through the clause first.
        self.timeline.muted, s.catch_up = s.catch_up, False
        self.publication = Publication(s, self.timeline)
        self.leadership = Leadership(s, self.timeline, self.deadlines, self.notifier, p, self.ask)
        self.linkage = Linkage(
            state=s, timeline=self.timeline, deadlines=self.deadlines, notifier=self.notifier,
            reports=self.reports, policy=p, incident=lambda: self.incident, ask=self.ask, title_zh=self.TITLE_ZH,
        )
        self.correction = Correction(
            timeline=self.timeline, notifier=self.notifier, reports=self.reports, register=self.register,
            policy=p, incident=lambda: self.incident, ask=self.ask, incident_type=self.TYPE, clause=self.CLAUSE,
            duties=self.duties,
        )
        if self.inp is not None and not self.resumed:
            if self.inp.handed_over_from:
                s.related.append(self.inp.handed_over_from)
            if self.inp.origin is not None:  # issue 20: the warning or alarm it came from
                s.related.append(self.inp.origin.workflow_id)
            if self.inp.dispatch is not None and not self.delegated() and bureau.linkage(self.bureau):
                s.dispatch = self.inp.dispatch.model_copy(update={"at": self.inp.dispatch.at or workflow.now()})
            # Set up the record and the deadlines before any handler runs: a report can arrive in the
            # same workflow task that starts the incident, before ``run`` has taken a step.
            self._receive()

    # ------------------------------------------------------------------ what a clause writes

    def first_response(self) -> None:
        """Calls the clause makes before anything else (e.g. 110 in 001 §4(1), 120 in 001 §4(7)), issued
        in the incident's first workflow task, before the information report, each its own activity."""

    async def respond(self) -> None:
        """The clause's own steps, in the plan's order. Overridden by every incident type."""
        raise NotImplementedError

    async def closing(self) -> Closed:
        """What ends handling: by default the officers' ``closed`` report."""
        return await self.next_report(Closed)

    def check_clause_report(self, report: Report) -> str | None:
        """A clause-specific reason to refuse ``report`` now, or None."""
        return None

    def accepts_now(self) -> frozenset[str]:
        """Clause report kinds taken now besides those awaited (reports the clause takes at any time in
        a situation, e.g. 001 §4(4)'s risk while the subject is missing)."""
        return frozenset()

    def on_report(self, report: Report, seq: int) -> None:
        """A clause report was accepted (in the handler, the same workflow task that received it), for
        what a clause does the moment a report arrives, wherever ``respond()`` stands."""

    def delegated(self) -> bool:
        """True when the whole incident is handed over to a child incident (000 §1.4(4) → 001 §4)."""
        return False

    @property
    def review_required(self) -> bool:
        """001 §5(2) applies to correction incidents: a written review is reported up after handling."""
        return self.TYPE.is_correction

    # ------------------------------------------------------------------ lifecycle

    async def handle(self) -> IncidentOutcome:
        """The incident from information report to review; subclasses' ``run`` calls this."""
        if self._input_error is not None:
            workflow.logger.error("incident refused: invalid input", extra={"incident_type": self.TYPE.value, "step": "input"})
            raise self._input_error
        if not self.resumed:
            # Times out of bounds, a resident ID number whose check digit fails: refused at the doors,
            # and here for a raw start. Asked only when there is a problem, so that a recorded history
            # without one replays unchanged, and one recorded before this check replays as it ran.
            problems = incident_problems(self.incident, workflow.now(), check_age=False)
            if problems and workflow.patched("incident-problems-refused"):
                raise invalid_input("invalid incident input: " + "; ".join(problems))
        self.deadlines.start_watching()
        self.notifier.spawn_daemon(self._pump())
        if self.state.in_flight:  # what the run before had on its way: issued again, same keys
            self.notifier.reissue(self.state.in_flight)
            self.state.in_flight = []
        self.duties.start_watching()  # issue 16: a continued run's open duties
        if not self.resumed:
            self.first_response()
            self._open()
        if not self.state.clause_done:
            await self.respond()
            self.state.clause_done = True
        closed = await self.closing()
        out = await self._close(closed)
        if self.incident.handed_over_from and workflow.patched(HANDED_OVER_ENDED):
            await self._tell_handing_over(self.incident.handed_over_from)
        return out

    async def _tell_handing_over(self, parent_id: str) -> None:
        """The incident that handed this one over (000 §1.4(4)) follows it; a continued run of it has no
        handle on this one and waits for this wake-up (it then reads the outcome from the server). A
        failed signal delays it to its next poll, never fails this incident."""
        try:
            await workflow.get_external_workflow_handle(parent_id).signal(HANDED_OVER_ENDED)
        except Exception:  # the follower ended meanwhile, or is between two runs
            workflow.logger.warning("handing-over incident not told", extra={
                "incident_type": self.TYPE.value, "step": "handed-over-ended"})

    @property
    def incident(self) -> IncidentInput:
        assert self.inp is not None
        return self.inp

    @property
    def input_valid(self) -> bool:
        return self._input_error is None

    @property
    def run_number(self) -> int:
        return self.state.run

    def _receive(self) -> None:
        """Record the incident, its flow and its deadlines (000 §3, §4.3, §3(3), §2.1)."""
        inp = self.incident
        self.record(
            EntryKind.INCIDENT,
            texts.incident_received(self.TITLE_ZH, inp),
            clause="000 §3(1)(2)",
            actor=inp.reporter.unit or texts.REPORTER,
        )
        if inp.origin is not None:  # issue 20: 本事件由预警 X 转来 (workflows/mechanics/handover.py)
            self.decide(texts.origin_received(inp.origin),
                        inp.origin.clause or texts.ORIGIN_CLAUSE.get(inp.origin.kind.value, self.CLAUSE))
        if self.delegated():
            return
        if bureau.correction_command(self.bureau, self.TYPE.is_correction):  # issue 17: 001 §3(1)
            self.start_deadline(bureau.COMMAND_DECISION, "总指挥部决定启动预案", "001 §3(1)",
                                workflow.now() + self.policy.immediate,
                                escalate_to=(Agency.CORRECTION_COMMAND_OFFICE, Agency.CORRECTION_COMMAND))
        if not bureau.linkage(self.bureau):  # issue 17: 000's mechanics only where a linkage plan is adopted
            return
        self.linkage.flow_and_deadlines()
        if inp.major:
            self.leadership.decision_due()

    def _open(self) -> None:
        inp = self.incident
        if inp.handed_over_from:
            self.decide(texts.handed_over_from(inp.handed_over_from), "000 §1.4(4)")
        elif bureau.linkage(self.bureau):  # issue 17: 000 §4.2 where a linkage plan is adopted
            self.linkage.information_report()
        if self.TYPE.is_correction and self.REPORT_UP_ON_OPEN:
            self.correction.report_level_by_level()
        if bureau.correction_command(self.bureau, self.TYPE.is_correction):  # issue 17: 001 §3(1)
            bureau.ask_command(self)
        # a handing-over incident told the group already
        if inp.major and not inp.handed_over_from and bureau.linkage(self.bureau):
            self.leadership.tell_group()
        if self.TYPE.is_correction:
            for i, county in enumerate(variant(inp, CorrectionBase).other_counties):
                bureau.notify_county(self, i, county)  # issue 17: the named county's bureau (001 §5(1))

    async def _close(self, closed: Closed) -> IncidentOutcome:
        """Handling over: feedback, written report (000 §4.2), review (001 §5(2)), release settled."""
        s = self.state
        if not s.feedback_sent and bureau.linkage(self.bureau):  # issue 17: 000 §3(3) where adopted
            self.linkage.feed_back(closed.current_situation, closed.result, step="feedback-on-close")
        # Deadlines met by a message already issued stand until it is delivered or fails.
        in_flight = frozenset({"feedback"}) if s.feedback_sent else frozenset()
        for d in s.deadlines.values():
            if d.status is DeadlineStatus.PENDING and not d.id.startswith(ACK) and d.id not in in_flight:
                d.status = DeadlineStatus.CANCELLED
        s.phase = IncidentPhase.HANDLED
        self.record(EntryKind.DECISION, texts.HANDLING_CLOSED, clause="000 §4.3", actor=closed.actor)
        report = self.linkage.written_report(
            self.incident, self.CLAUSE, closed, workflow.now(), self.accountability().obligations, in_flight
        )
        review_zh = ""
        if self.review_required:
            self.start_deadline(REVIEW, texts.REVIEW_DEADLINE, "001 §5(2)", workflow.now() + self.policy.review,
                                escalate_to=(Agency.CORRECTION_SECTION, Agency.EMERGENCY_OFFICE))
            review = await self.next_report(Review)
            self.fulfil(REVIEW, review.actor)
            review_zh = texts.review_report(self.incident, self.TITLE_ZH, self.CLAUSE, review, workflow.now())
            self.correction.review_up(review_zh)
        else:
            await self.linkage.aftermath()
        # A release under way is finished (published or withdrawn), every notification delivered or
        # failed, then the acknowledgements they await come in or are escalated (each bounded).
        self.timeline.muted = False
        await self._wait(lambda: not self.publication.under_way())
        await self._wait(self.deliveries_settled)
        await self._wait(lambda: not self.acks.awaited())
        s.phase = IncidentPhase.CLOSED
        await self._drain()
        self.deadlines.expire_unsettled()
        self.timeline.refresh()
        workflow.logger.info("incident closed", extra={"incident_type": self.TYPE.value, "step": "closed"})
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
            deadlines=self.deadlines.all(),
            timeline=list(self.state.timeline),
            closed=closed,
            review_report_zh=review_report_zh,
            accountability=self.accountability(),
            related=list(self.state.related) if related is None else related,
        )

    def open_only(self) -> None:
        """Start an incident whose handling is handed over (000 §1.4(4)): the information report
        (000 §4.2) and nothing else; the incident that takes over holds the deadlines and the clause.
        A continued run of it sends nothing again: it issues what was in flight and goes on following."""
        self.deadlines.running = True
        self.notifier.spawn_daemon(self._pump())
        if self.resumed:
            if self.state.in_flight:
                self.notifier.reissue(self.state.in_flight)
                self.state.in_flight = []
            self.timeline.muted = False  # nothing to catch up: the clause is the incident it follows
            return
        self._open()

    def relate(self, workflow_id: str) -> None:
        """Record an incident this one is linked to (handed over to or from), shown in its details."""
        self.state.related.append(workflow_id)
        self.timeline.refresh()

    async def end(self) -> None:
        """Closed: deadline watchers stopped, deliveries and handlers finished, the details say so."""
        self.state.phase = IncidentPhase.CLOSED
        await self._drain()
        self.timeline.refresh()

    async def _drain(self) -> None:
        await self.deadlines.stop()
        await workflow.wait_condition(
            lambda: not self._inbox and self.notifier.settled() and workflow.all_handlers_finished())
        self.notifier.forget_finished()

    def _continue_due(self) -> bool:
        return continue_due(self._updates)

    async def _wait(self, condition: Callable[[], bool]) -> None:
        """Wait for ``condition``; continue as new first if the run reaches a limit meanwhile."""
        await workflow.wait_condition(lambda: condition() or self._continue_due())
        if not condition():
            await self.continue_as_new()

    async def wait_or_continue(self, condition: Callable[[], bool], *, timeout: timedelta | None = None,
                               summary: str | None = None) -> None:
        """Wait for ``condition`` (e.g. a handed-over incident's end), or ``timeout`` (``summary`` names
        its timer); should the run reach a Temporal limit meanwhile (a flood of reports sent here),
        continue as new with the whole state instead (``mechanics/continuation.py``): the next run takes
        up the wait."""
        if timeout is None:
            return await self._wait(condition)
        try:
            await workflow.wait_condition(lambda: condition() or self._continue_due(), timeout=timeout,
                                          timeout_summary=summary)
        except asyncio.TimeoutError:
            return
        if not condition():
            await self.continue_as_new()

    async def continue_as_new(self) -> None:
        """The next run of this incident with the whole state, keeping each history bounded
        (``mechanics/continuation.py``): watchers stopped, what need not be carried archived, running
        handlers finished; the next run catches up, restarts the watchers and issues again what was
        still in flight.

        Single-flight: the clause's wait and another waiter (a standing report, a closing step) may both
        find the run at its limit in the same task; the first continues it, a second only waits (two
        archivings of one run would drop what the first moved out)."""
        if self._continuing:
            await workflow.wait_condition(lambda: False)  # the first caller ends this run
        self._continuing = True
        await self.deadlines.stop()
        # A flood still arriving: at most CARRY_INBOX reports go along unjudged (the pump judges the rest
        # first, SIGNALS_PER_TASK a task), so the next run's argument stays far below the 2 MB a payload takes;
        # what they add to the timeline is archived with the rest.
        drained = lambda: len(self._inbox) <= CARRY_INBOX and workflow.all_handlers_finished()  # noqa: E731
        await workflow.wait_condition(drained)
        await archive_and_bound(self.state, self.TYPE.value)
        await workflow.wait_condition(drained)
        s = self.state
        self._carry_inbox()
        workflow.logger.info(
            "continuing as new", extra={"incident_type": self.TYPE.value, "step": f"run-{s.run + 1}"}
        )
        carried = s.model_copy(update={
            "run": s.run + 1, "clause": self.clause_state.model_dump(mode="json"), "catch_up": True,
            "consumed": set(), "awaiting": [], "standing": [], "in_flight": self.notifier.in_flight(),
            "inbox": s.inbox,
        })
        workflow.continue_as_new(Continued(input=self.incident, state=carried))

    # ------------------------------------------------------------------ the public mechanics a clause calls

    def record(self, kind: EntryKind, text_zh: str, *, clause: str, actor: str = texts.SYSTEM,
               recipient: Agency | None = None, step: str | None = None) -> TimelineEntry:
        return self.timeline.record(kind, text_zh, clause=clause, actor=actor, recipient=recipient, step=step)

    def decide(self, text_zh: str, clause: str, *, actor: str = texts.SYSTEM) -> None:
        """Record a decision or a step the plan prescribes (no message sent)."""
        self.timeline.decide(text_zh, clause, actor=actor)

    def ask(self, fact: str, asked: str) -> str:
        """A Chinese notification: incident, place, time, the fact and what is asked."""
        return texts.ask(self.incident, self.TITLE_ZH, fact, asked)

    def notify(self, recipient: Agency, message_zh: str, *, step: str, clause: str, phone: str | None = None,
               required: bool = True, ack_for: str | None = None, name_zh: str | None = None) -> Delivery:
        """Issue one notification now; **nothing waits on its delivery** (``mechanics/notifier.py``).
        ``name_zh``: with ``phone``, the recipient's own name (a county's bureau, 001 §5(1))."""
        return self.notifier.notify(recipient, message_zh, step=step, clause=clause, phone=phone,
                                    required=required, ack_for=ack_for, name_zh=name_zh)

    def notify_all(self, recipients: list[Agency], message: Any, *, step: str, clause: str) -> list[Delivery]:
        """Several recipients at the same time (the plan's 同时); ``message(to)`` builds each text."""
        return self.notifier.notify_all(recipients, message, step=step, clause=clause)

    def deliveries_settled(self) -> bool:
        return self.notifier.settled()

    def spawn(self, coro: Coroutine[Any, Any, R]) -> Any:
        """Run work beside the clause; finished before the incident completes."""
        return self.notifier.spawn(coro)

    def start_deadline(self, deadline_id: str, title_zh: str, clause: str, due_at: datetime, *,
                       reminders: tuple[timedelta, ...] = (), escalate_to: tuple[Agency, ...] = ESCALATE_TO,
                       watch: bool = True) -> Deadline:
        """An obligation with a due time. ``watch=False``: the caller awaits :meth:`await_deadline`."""
        return self.deadlines.start(deadline_id, title_zh, clause, due_at, reminders=reminders,
                                    escalate_to=escalate_to, watch=watch)

    def fulfil(self, deadline_id: str, actor: str) -> None:
        self.deadlines.fulfil(deadline_id, actor)

    def deadline_by_id(self, deadline_id: str) -> Deadline | None:
        return self.deadlines.by_id(deadline_id)

    def pending_deadlines(self, prefix: str) -> list[Deadline]:
        return self.deadlines.pending(prefix)

    async def await_deadline(self, deadline: Deadline) -> None:
        """Wait for a deadline started with ``watch=False`` (met, or escalated when missed)."""
        await self.deadlines.wait(deadline)

    def cancel_deadline(self, deadline_id: str, reason_zh: str) -> None:
        self.deadlines.cancel(deadline_id, reason_zh)

    async def recurring(self, *, prefix: str, title_zh: Callable[[int], str], clause: str, anchor: datetime,
                        period: timedelta, done: int, escalate_to: tuple[Agency, ...],
                        report: type[Report], until: type[Report]) -> AsyncIterator[int]:
        """A duty due every ``period`` (one deadline per period, met by a ``report``), until an
        ``until`` report; yields each period that ended (``mechanics/deadlines.py``)."""
        periods = self.deadlines.recurring(
            prefix=prefix, title_zh=title_zh, clause=clause, anchor=anchor, period=period, done=done,
            escalate_to=escalate_to, until=lambda: bool(self.reports_of(until)),
        )
        async for n in self._standing(periods, report, until):
            yield n

    async def _standing(self, periods: AsyncIterator[int], report: type[Report],
                        until: type[Report]) -> AsyncIterator[int]:
        """While a recurring duty runs, its ``report`` is taken at any time and ``until`` is awaited."""
        self.timeline.muted = False  # a continued run has caught up: the duty goes on, live
        self.state.standing, self.state.awaiting = [model_kind(report)], [model_kind(until)]
        try:
            async for n in periods:
                yield n
        finally:
            self.state.standing = []

    def assign_duty(self, duty_id: str, what_zh: str, clause: str, *, role: Agency, form: DutyForm, say_zh: str,
                    counterpart: Agency | None = None, counterpart_zh: str | None = None, phone: str | None = None,
                    due_at: datetime | None = None, evidence: str | None = None) -> Duty:
        """A duty of the person on duty for ``role`` (phone, on site, verification), sent to them as a
        task; confirmed by their report or escalated (``mechanics/duties.py``, issue 16). ``evidence``:
        the clause's own report that discharges it too (the clause calls :meth:`discharge_duty`)."""
        return self.duties.assign(duty_id, what_zh, clause, role=role, form=form, say_zh=say_zh,
                                  counterpart=counterpart, counterpart_zh=counterpart_zh, phone=phone, due_at=due_at,
                                  evidence=evidence)

    def discharge_duty(self, duty_id: str, report: Report, result_zh: str) -> bool:
        """The clause's own report (``Duty.by_report``) discharged an open duty; False if none was open."""
        return self.duties.discharge(duty_id, by=report.actor, stated_at=report.at, result_zh=result_zh)

    def cancel_duty(self, duty_id: str, reason_zh: str) -> None:
        self.duties.cancel(duty_id, reason_zh)

    def open_duties(self, prefix: str = "") -> list[Duty]:
        return [d for d in self.duties.open() if d.id.startswith(prefix)]

    async def recurring_duty(self, *, prefix: str, title_zh: Callable[[int], str], clause: str, anchor: datetime,
                             period: timedelta, done: int, role: Agency, form: DutyForm, say_zh: str,
                             counterpart_zh: str, phone: str | None, report: type[Report],
                             until: type[Report]) -> AsyncIterator[int]:
        """A person's duty due every ``period`` (one duty per period, to the person on duty when it
        begins, discharged by ``report`` or the form's report), until an ``until`` report; yields each
        period that ended (``mechanics/duties.py``, issue 16)."""
        periods = self.duties.recurring(
            prefix=prefix, title_zh=title_zh, clause=clause, anchor=anchor, period=period, done=done,
            role=role, form=form, say_zh=say_zh, counterpart_zh=counterpart_zh, phone=phone,
            evidence=model_kind(report), until=lambda: bool(self.reports_of(until)),
        )
        async for n in self._standing(periods, report, until):
            yield n

    def message_duty(self, duty_id: str, what_zh: str, clause: str, *, role: Agency, to: Agency, text_zh: str,
                     form: DutyForm = DutyForm.MESSAGE) -> Duty:
        """A duty done by an automated message (a written report), discharged by its delivery (issue 16)."""
        return self.duties.message(duty_id, what_zh, clause, role=role, to=to, text_zh=text_zh, form=form)

    def require_by_hand(self, recipient: Agency, title_zh: str, *, step: str, clause: str) -> None:
        """A contact the system cannot make (no number known): made by phone by the duty officer and
        recorded with ``notified_by_hand`` within the ``immediate`` policy, or escalated (001 §7(4))."""
        key = f"{step}/{recipient.value}"
        due = workflow.now() + self.policy.immediate
        if self.register.require(key, title_zh, clause, due, recipient):
            self.start_deadline(f"{BY_HAND}{key}", texts.by_hand_contact(title_zh), clause, due)

    def accountability(self) -> AccountabilityRecord:
        """001 §7(4): every required report and deadline, on time, late (迟报) or missing (漏报)."""
        return self.register.record(workflow.info().workflow_id, self.TYPE)

    def reports_of(self, *kinds: type[R]) -> list[R]:
        return self.reports.of(*kinds)

    @overload
    async def next_report(self, k1: type[R], /) -> R: ...
    @overload
    async def next_report(self, k1: type[R], k2: type[R2], /) -> R | R2: ...
    @overload
    async def next_report(self, k1: type[R], k2: type[R2], k3: type[R3], /) -> R | R2 | R3: ...
    @overload
    async def next_report(self, *kinds: type[R]) -> R: ...

    async def next_report(self, *kinds: type[Any]) -> Any:
        """The next accepted report of one of ``kinds`` the clause has not yet taken; while awaited,
        these kinds are what the incident waits for (``waiting_for``), in this order."""
        return await self.reports.next(*kinds)

    def waiting_for(self) -> list[str]:
        """Clause report kinds awaited now: derived from the clause's own ``next_report`` (one source)."""
        return self.reports.waiting()

    # 001's shared procedures (workflows/procedures/correction.py)

    async def punish(self, fact: str, *, clause: str, step: str = "punishment-report-up", label: str = texts.PUNISHMENT_LABEL) -> Punishment:
        """001 §4: 对应予处罚的社区矫正对象,要及时依法实施处罚,并将有关情况及时上报上一级社区矫正机构,同时通报执行地人民检察院."""
        return await self.correction.punish(fact, clause=clause, step=step, label=label)

    def punished(self, p: Punishment, fact: str, *, clause: str, step: str = "punishment-report-up",
                 label: str = texts.PUNISHMENT_LABEL) -> Punishment:
        """A punishment report the clause took itself: recorded, reported up and to the procuratorate."""
        return self.correction.punished(p, fact, clause=clause, step=step, label=label)

    async def persuade(self, *, complied_zh: str, refused_zh: str, police_fact: str, clause: str,
                       police_optional: bool, step: str = "alarm-110", asked: str = texts.ALARM_110_ASKED) -> Persuasion:
        """Told to leave or to stop: wait for ``persuasion``; if refused, call 110 (可以 or 应当)."""
        return await self.correction.persuade(complied_zh=complied_zh, refused_zh=refused_zh, police_fact=police_fact,
                                              clause=clause, police_optional=police_optional, step=step, asked=asked)

    def alarm_110(self, fact: str, asked: str, *, step: str, clause: str,
                  what_zh: str = "向公安“110”或执行地公安派出所报警予以处置") -> None:
        """110: the 司法所 on-duty officer's phone duty and, where the platform takes one, the push (issue 16)."""
        self.correction.alarm_110(fact, asked, step=step, clause=clause, what_zh=what_zh)

    def check_persuasion(self, report: Report, *, police_optional: bool) -> str | None:
        return self.correction.check_persuasion(report, police_optional=police_optional)

    def notify_family(self, fact: str, asked: str, *, clause: str, none_zh: str, **duty: Any) -> None:
        """001 §4(6)(7): the family, guardian, guarantor, each a person's duty (``form``, ``what_zh``: issue 16)."""
        self.correction.notify_family(fact, asked, clause=clause, none_zh=none_zh, **duty)

    def terminate_correction(self, decision_zh: str, fact: str, recipients: tuple[Agency, ...], *, clause: str,
                             actor: str) -> None:
        self.correction.terminate(decision_zh, fact, recipients, clause=clause, actor=actor)

    # ------------------------------------------------------------------ reports: checked, then routed

    def _all_waiting(self) -> list[str]:
        s = self.state
        if self.inp is None or s.phase is IncidentPhase.CLOSED or self.delegated():
            return []
        waiting = self.publication.waiting()
        if s.phase is IncidentPhase.HANDLED:
            if self.review_required and not self.reports_of(Review):
                waiting.insert(0, "review")
            elif not self.review_required and not self.reports_of(AftermathDone):
                waiting.insert(0, "aftermath_done")
            if self.acks.awaited():
                waiting.append("acknowledge (回执)")
            return waiting
        waiting += self.leadership.waiting(self.incident.major) + self.linkage.waiting() + self.waiting_for()
        waiting += bureau.waiting(self)  # issue 17: the 总指挥部's decision (001 §3(1))
        if s.clause_done:
            if s.plan_active:
                waiting.append("plan_decision (terminate)")
            waiting.append("closed")
        return waiting

    def _check(self, report: Report) -> str | None:
        """Why ``report`` makes no sense now, or None (000 §4.3 and the clause's order)."""
        s = self.state
        if self._input_error is not None:
            return "this incident's input was invalid; it accepts no reports"
        if s.phase is IncidentPhase.CLOSED:
            return "the incident is closed"
        if self.delegated():
            where = ", ".join(s.related) or "the handed-over incident (starting)"
            return f"this incident was handed over; send reports to {where}"
        if self.reports.is_resend(report):
            return self.reports.reuse_problem(report)  # a resend is accepted once, acknowledged again
        kind = report.kind
        reason = self.reports.kind_problem(report, self.TYPE.value, self.TITLE_ZH) or self.reports.time_problem(
            report, self.incident.occurred_at, FUTURE_TOLERANCE)
        if reason:
            return reason
        if s.phase is IncidentPhase.HANDLED:
            if kind not in AFTER_HANDLING_KINDS:
                return f"{kind}: handling is over; now only progress (aftermath), review, release are taken"
        elif isinstance(report, Review):
            return "review: the post-incident review (001 §5(2)) comes after handling is closed"
        if isinstance(report, AftermathDone):
            if self.review_required:
                return "aftermath_done: correction incidents end with the review (001 §5(2)); send review"
            if s.phase is not IncidentPhase.HANDLED:
                return "aftermath_done: the aftermath (善后处置, 000 §4.4) comes after handling is closed"
            if self.reports_of(AftermathDone):
                return "aftermath_done: the aftermath was already reported complete"
        if isinstance(report, Review):
            if not self.review_required:
                return f"review: 001 §5(2) applies to correction incidents, not {self.TYPE.value}"
            if self.reports_of(Review):
                return "review: the review was already reported"
        reason = self.linkage.check(report)
        if reason is None and isinstance(report, PlanDecision):
            reason = self.leadership.check(report)
        if reason is None and isinstance(report, Release):
            reason = self.publication.check(report)
        if reason is None and report.kind in DUTY_REPORT_KINDS:  # issue 16
            reason = self.duties.check(report)
        if reason is None and isinstance(report, NotifiedByHand):
            o = self.register.get(f"{report.step}/{report.recipient.value}")
            if o is None:
                reason = f"step: no required notification '{report.step}' to {report.recipient.value} in this incident"
            elif o.done_at is not None:
                reason = f"step: '{report.step}' to {report.recipient.value} was already delivered"
        if reason:
            return reason
        if isinstance(report, Closed):
            if not s.clause_done:
                return f"closed: handling is not finished; waiting for {', '.join(self.waiting_for()) or 'the clause'}"
            reason = self.linkage.arrival_problem() or self.leadership.close_problem(self.incident.major)
            if reason:
                return reason
        if kind in self.CLAUSE_REPORTS and kind not in self.waiting_for() and kind not in self.accepts_now():
            return f"{kind}: not expected now; the incident is waiting for {', '.join(self._all_waiting()) or 'nothing'}"
        return self.check_clause_report(report)

    def _accept(self, report: Report) -> ReportReceipt:
        """Record an accepted report and start what it sets off (000 §4.3, §3(3), §2.1; 001 §3, §5)."""
        if self.reports.is_resend(report):
            return self.reports.receipt_of_resend(report)
        seq = self.reports.take(report)
        workflow.logger.info("report accepted", extra={"incident_type": self.TYPE.value, "step": report.kind})
        if isinstance(report, Dispatched):
            self.linkage.dispatched(report)
        elif isinstance(report, Arrived):
            self.linkage.arrived(report)
        elif isinstance(report, Progress):
            self.state.course.append(report.current_situation)
            if not bureau.linkage(self.bureau):  # issue 17: 001 §3(3), §5(1) instead of 000 §2.2(6), §4.3(1), §4.4
                bureau.progress_to_command(self, report, seq)
                if self.state.phase is not IncidentPhase.HANDLED:
                    self.correction.progress_up(report, seq)
            elif self.state.phase is IncidentPhase.HANDLED:
                self.linkage.aftermath_progress(report, seq)
            else:
                self.linkage.progress(report, seq)
                if self.TYPE.is_correction:
                    self.correction.progress_up(report, seq)
        elif isinstance(report, Feedback):
            self.linkage.feed_back(report.situation, report.result, step=f"feedback-{seq}")
        elif isinstance(report, PlanDecision):
            if bureau.correction_command(self.bureau, self.TYPE.is_correction):  # issue 17: 001 §3(1)
                self.state.plan_activated = True
                bureau.command_decided(self, report, seq)
            else:
                self.leadership.decided(report, seq)
        elif isinstance(report, CommandSet):
            self.state.command = {texts.ON_SITE_COMMAND: report.commander}
            self.state.command.update({g.zh: who for g, who in report.groups.items()})
            self.decide(texts.command_set(report.commander), "001 §3(3)", actor=report.actor)
            for g, who in report.groups.items():
                self.decide(texts.command_group(g.zh, who), "001 §3(4)", actor=report.actor)
        elif isinstance(report, Closed):
            self.state.phase = IncidentPhase.HANDLED  # from now on only after-handling reports are taken
        elif isinstance(report, Release):
            self.publication.apply(report)
        elif isinstance(report, NotifiedByHand):
            self._notified_by_hand(report)
        elif report.kind in DUTY_REPORT_KINDS:  # issue 16
            self.duties.confirm(report)
        if report.kind in self.CLAUSE_REPORTS:
            self.on_report(report, seq)
        return ReportReceipt(accepted=True, seq=seq, message_zh=texts.report_accepted(seq))

    def _notified_by_hand(self, report: NotifiedByHand) -> None:
        key = f"{report.step}/{report.recipient.value}"
        self.register.discharge(key, texts.by_hand_actor(report.actor), report.at)
        self.fulfil(f"{BY_HAND}{key}", report.actor)
        obligation = self.register.get(key)
        self.record(
            EntryKind.NOTIFICATION,
            f"已人工通知{self.notifier.name(report.recipient)}(补报 {report.step})",
            clause=obligation.clause if obligation else "001 §7(4)",
            actor=report.actor,
            recipient=report.recipient,
            step=f"by-hand-{report.step}",
        )

    def _parse_report(self, raw: RawValue) -> Report:
        report = self.reports.parse(raw)
        reason = self._check(report)
        if reason:
            raise ApplicationError(f"report refused: {reason}", type=INVALID_REPORT, non_retryable=True)
        return report

    def _refuse(self, reason: str) -> None:
        if self._input_error is not None:
            return
        self.record(EntryKind.REFUSED, texts.report_refused(reason), clause="001 §7(4)", actor=texts.SYSTEM)
        workflow.logger.warning("report refused", extra={"incident_type": self.TYPE.value, "step": "report", "reason": reason})

    # ------------------------------------------------------------------ message handlers

    def _at_rest(self) -> bool:
        """The clause stands at a wait (or has no more steps): what it awaits is known, so a report can
        be judged against it. A report that arrives while the clause is acting on the previous one (or
        before it first takes a step) waits for this, within the same workflow task."""
        s = self.state
        if self.timeline.muted:
            return False  # a continued run is catching up: the reports wait until it stands where it stood
        return (self.inp is None or s.phase is not IncidentPhase.OPEN or s.clause_done or bool(s.awaiting)
                or bool(s.standing) or self.delegated())

    async def _settle(self) -> None:
        while not self._at_rest():
            await workflow.wait_condition(self._at_rest)

    @workflow.signal(name="report")
    def report_signal(self, raw: RawValue) -> None:
        """A progress report sent fire-and-forget (``temporal workflow signal --name report``); a
        refused report is never dropped silently: the refusal and its reason go to the timeline.

        Taken into the inbox and judged by :meth:`_pump`, a bounded number per workflow task: thousands
        of signals delivered in one task (a worker back after an outage, a flood) never hold a task past
        its deadlock and timeout limits (issue 13)."""
        if workflow.patched(INBOX_PATCH):  # a plain handler: no task per signal, only the append
            self._inbox.append(raw)
            return
        self._judge_signal(raw)  # a history recorded before the inbox: judged here, as it ran

    async def _pump(self) -> None:
        """Judge the signalled reports in the inbox, in order, :data:`SIGNALS_PER_TASK` per workflow task."""
        self._inbox.extend(self.state.inbox)  # what the run before could not judge, first, in order
        self.state.inbox = []
        while True:
            await workflow.wait_condition(lambda: bool(self._inbox))
            judged = 0
            while self._inbox:
                if judged >= SIGNALS_PER_TASK:
                    await workflow.sleep(timedelta(milliseconds=1), summary="报告分批处理")  # this task ends here
                    judged = 0
                await self._settle()
                self._judge_signal(self._inbox.popleft())
                judged += 1

    def _carry_inbox(self) -> None:
        """Continue-as-new during a flood: what is not yet judged goes to the next run (decoded, each
        within the report size limit; an oversized one is refused here, nothing of it carried)."""
        while self._inbox:
            item = self._inbox.popleft()
            if not isinstance(item, RawValue):
                self.state.inbox.append(item)
                continue
            try:
                report = self.reports.parse(item)  # size, JSON, schema
            except ApplicationError as err:
                self._refuse(err.message)
                continue
            self.state.inbox.append(report.model_dump(mode="json", exclude_unset=True))

    def _judge_signal(self, item: RawValue | dict[str, Any]) -> None:
        try:
            report = self._parse_report(item) if isinstance(item, RawValue) else self.reports.parse_value(item)
            if not isinstance(item, RawValue):
                reason = self._check(report)
                if reason:
                    raise ApplicationError(f"report refused: {reason}", type=INVALID_REPORT, non_retryable=True)
        except ApplicationError as err:
            self._refuse(err.message)
            return
        self._accept(report)

    @workflow.update(name="submit_report")
    async def submit_report(self, raw: RawValue) -> ReportReceipt:
        """A progress report whose refusal returns the reason to the sender."""
        self._updates += 1
        await self._settle()
        return self._accept(self._parse_report(raw))

    @submit_report.validator
    def _validate_submit_report(self, raw: RawValue) -> None:
        try:
            report = self.reports.parse(raw)
            # Judged in full when the clause stands at a wait; otherwise (the clause is taking a step
            # in this same workflow task) the handler judges it once the clause is at its next wait.
            reason = self._check(report) if self._at_rest() else None
            if reason:
                raise ApplicationError(f"report refused: {reason}", type=INVALID_REPORT, non_retryable=True)
        except ApplicationError as err:
            # A validator cannot change the record (a refused update leaves no history); the reason
            # goes back to the sender, and to the log for the reviewer (001 §7(4)).
            workflow.logger.warning(
                "report refused", extra={"incident_type": self.TYPE.value, "step": "report", "reason": err.message}
            )
            raise

    @workflow.signal(name="acknowledge")
    def acknowledge(self, raw: RawValue) -> None:
        """A recipient's acknowledgement (回执): ``{"key": <idempotency key>, "by": "..."}``."""
        if self.inp is None:
            return
        try:
            ack = Acknowledgement.model_validate(decode_raw(raw))
        except ValidationError as err:
            self._refuse(f"acknowledge: {describe_validation_error(err)}")
            return
        except Exception:
            self._refuse("acknowledge: not a JSON object")
            return
        reason = self.acks.receive(ack)
        if reason:
            self._refuse(reason)

    def _not_started(self) -> ApplicationError:
        return ApplicationError(self._input_error.message if self._input_error else "not started", type=INVALID_INPUT)

    @workflow.query(name="status")
    def status(self) -> IncidentStatus:
        """State, what the incident waits for, deadlines with due times, and the timeline."""
        if self.inp is None:
            raise self._not_started()
        s = self.state
        return IncidentStatus(
            workflow_id=workflow.info().workflow_id, incident_type=self.TYPE, title_zh=self.TITLE_ZH,
            clause=self.CLAUSE, flow=self.inp.flow, drill=self.inp.drill, phase=s.phase,
            waiting_for=self._all_waiting(), deadlines=self.deadlines.all(), timeline=s.timeline[-STATUS_TIMELINE:],
            plan_active=s.plan_active, command=dict(s.command), release=s.release, related=list(s.related),
            run=s.run, archived=s.archived + max(0, len(s.timeline) - STATUS_TIMELINE), duties=self.duties.open(),
            origin=self.inp.origin,
        )

    @workflow.query(name="duties")
    def duties_query(self) -> DutyBoard:
        """Duties of people (issue 16): open ones first, soonest due first, then the closed ones."""
        if self.inp is None:
            raise self._not_started()
        return DutyBoard(workflow_id=workflow.info().workflow_id, incident_type=self.TYPE,
                         open=self.duties.open(), closed=self.duties.closed())

    @workflow.query(name="deadlines")
    def deadlines_query(self) -> list[Deadline]:
        return self.deadlines.all()

    @workflow.query(name="timeline")
    def timeline_query(self) -> list[TimelineEntry]:
        """The timeline this run holds (older entries of a long incident: ``python -m starter archive``)."""
        return self.state.timeline[-QUERY_TIMELINE:]

    @workflow.query(name="accountability")
    def accountability_query(self) -> AccountabilityRecord:
        """001 §7(4): which required reports were on time, late (迟报) or missing (漏报)."""
        if self.inp is None:
            raise self._not_started()
        return self.accountability()
