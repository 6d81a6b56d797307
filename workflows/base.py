"""Shared mechanics of every incident workflow, written once (000 §3–§4, 001 §5).

- input: taken raw and validated inside, failing with a named non-retryable error (no endless retry);
- information report to the emergency office and the command centre at the start (000 §4.2);
- arrival deadline, 30 min from the centre's instruction (000 §4.3); feedback deadline, 24 h (000 §3(3)),
  with reminders and escalation to the emergency office and leadership group;
- officers' progress reports as a signal (``report``) and as an update with a validator (``submit_report``),
  both taking raw JSON so that no report is dropped without a trace;
- queries ``status``, ``deadlines``, ``timeline``;
- the timeline (every notification, report, deadline and decision with time, actor and clause);
- the written report (书面报告) to the centre at the end (000 §4.2, §4.3).

Each incident type subclasses :class:`IncidentWorkflow` and writes only its clause in ``respond()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.contracts import NotifyReceipt, NotifyRequest
    from activities.notify import BAD_RECIPIENT, UNKNOWN_RECIPIENT
    from plan import texts
    from plan.agencies import AGENCY_NAME_ZH, Agency
    from plan.models import (
        COMMON_REPORT_KINDS,
        REPORT_ADAPTER,
        Arrived,
        Closed,
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
        Progress,
        Report,
        ReportReceipt,
        TimelineEntry,
        describe_validation_error,
    )
    from plan.policy import DEFAULT_POLICY, DeadlinePolicy

INVALID_INPUT = "InvalidIncidentInput"
"""Failure type of an incident whose start input is malformed (non-retryable)."""
INVALID_REPORT = "InvalidReport"
"""Failure type of a refused progress report (returned to an update's sender)."""

FUTURE_TOLERANCE = timedelta(minutes=5)
"""How far in the future an officer's stated time may be (clock skew)."""

R = TypeVar("R")

ARRIVAL = "arrival"
FEEDBACK = "feedback"


def decode_raw(raw: RawValue) -> Any:
    """Decode a raw payload with the workflow's converter; any failure is reported, not raised."""
    return workflow.payload_converter().from_payload(raw.payload, None)


def parse_input(raw: RawValue, expected: IncidentType) -> IncidentInput:
    """Validate the start input; raise a non-retryable ``InvalidIncidentInput`` naming the bad field."""
    try:
        value = decode_raw(raw)
    except Exception:
        raise ApplicationError(
            "invalid incident input: not a JSON object", type=INVALID_INPUT, non_retryable=True
        ) from None
    if not isinstance(value, dict):
        raise ApplicationError(
            "invalid incident input: expected a JSON object", type=INVALID_INPUT, non_retryable=True
        )
    try:
        inp = IncidentInput.model_validate(value)
    except ValidationError as err:
        # `from None`: the input may hold personal data and must not be echoed into the failure.
        raise ApplicationError(
            f"invalid incident input: {describe_validation_error(err)}",
            type=INVALID_INPUT,
            non_retryable=True,
        ) from None
    if inp.incident_type is not expected:
        raise ApplicationError(
            f"invalid incident input: incident_type: {inp.incident_type.value} sent to the "
            f"{expected.value} workflow; start the {inp.incident_type.value} workflow type instead",
            type=INVALID_INPUT,
            non_retryable=True,
        )
    return inp


class IncidentWorkflow:
    """Base of every incident workflow. Subclasses set the class attributes and write ``respond()``."""

    TYPE: ClassVar[IncidentType]
    TITLE_ZH: ClassVar[str]
    CLAUSE: ClassVar[str]
    CLAUSE_REPORTS: ClassVar[frozenset[str]] = frozenset()
    """Report kinds specific to this clause (besides the common ones)."""
    POLICY: ClassVar[DeadlinePolicy] = DEFAULT_POLICY

    # ------------------------------------------------------------------ lifecycle

    @workflow.init
    def __init__(self, raw: RawValue) -> None:
        self._input_error: ApplicationError | None = None
        self.inp: IncidentInput | None = None
        try:
            self.inp = parse_input(raw, self.TYPE)
        except ApplicationError as err:
            self._input_error = err
        self._timeline: list[TimelineEntry] = []
        self._deadlines: dict[str, Deadline] = {}
        self._reports: list[Report] = []
        self._consumed: set[int] = set()
        self._report_ids: dict[str, int] = {}
        self._dispatch: DispatchInstruction | None = None
        if self.inp is not None and self.inp.dispatch is not None:
            self._dispatch = self.inp.dispatch.model_copy(
                update={"at": self.inp.dispatch.at or workflow.now()}
            )
        self._arrived = False
        self._feedback_sent = False
        self._phase = IncidentPhase.OPEN
        self._tasks: list[asyncio.Task[Any]] = []
        self._unwatched: list[tuple[Deadline, tuple[timedelta, ...], tuple[Agency, ...]]] = []
        self._running = False
        self._course: list[str] = []
        if self.inp is not None:
            # Set up the record and the deadlines before any handler runs: a report can arrive in the
            # same workflow task that starts the incident, before ``run`` has taken a step.
            self._receive()

    async def handle(self) -> IncidentOutcome:
        """The incident from information report to written report; subclasses' ``run`` calls this."""
        if self._input_error is not None:
            workflow.logger.error(
                "incident refused: invalid input",
                extra={"incident_type": self.TYPE.value, "step": "input"},
            )
            raise self._input_error
        await self._open()
        await self.respond()
        closed = await self.next_report(Closed)
        return await self._close(closed)

    async def respond(self) -> None:
        """The clause's own steps, in the plan's order. Overridden by every incident type."""
        raise NotImplementedError

    def waiting_for(self) -> list[str]:
        """Clause report kinds acceptable now, derived from the reports accepted so far."""
        return []

    def check_clause_report(self, report: Report) -> str | None:
        """A clause-specific reason to refuse ``report`` now, or None."""
        return None

    # ------------------------------------------------------------------ opening and closing

    @property
    def incident(self) -> IncidentInput:
        assert self.inp is not None
        return self.inp

    def _receive(self) -> None:
        """Record the incident, its flow and its deadlines (000 §3, §4.3, §3(3))."""
        inp = self.incident
        self.record(
            EntryKind.INCIDENT,
            f"事件受理:{self.TITLE_ZH};{texts.SOURCE_ZH[inp.source]};{texts.FLOW_ZH[inp.flow]}"
            + (";演练" if inp.drill else ""),
            clause="000 §3(1)(2)",
            actor=inp.reporter.unit or "报告人",
        )
        if inp.flow is Flow.URGENT:
            self.decide("启动紧急事件处置预案,处置过程中及时向区社会应急联动指挥中心反馈", "000 §4.3(1)")
        else:
            self.decide("启动一般事件处置预案,根据区社会应急联动指挥中心指令进行处置", "000 §4.3(2)")
        self._start_deadline(
            FEEDBACK,
            f"反馈时限 {texts.fmt_duration(self.POLICY.feedback)}",
            "000 §3(3)",
            (self._dispatch.at if self._dispatch and self._dispatch.at else workflow.now())
            + self.POLICY.feedback,
            reminders=self.POLICY.feedback_reminders,
        )
        if self._dispatch is not None:
            self._start_arrival(self._dispatch)

    async def _open(self) -> None:
        inp = self.incident
        self._running = True
        for watch in self._unwatched:
            self.spawn(self._watch(*watch))
        self._unwatched.clear()
        # 000 §4.2: the justice office / section reports to the emergency office at once; the office
        # relays to the command centre.
        await self.notify_all(
            [Agency.EMERGENCY_OFFICE, Agency.COMMAND_CENTRE],
            lambda to: texts.information_report(inp, self.TITLE_ZH, to),
            step="information-report",
            clause="000 §4.2",
        )
        if inp.major:
            await self.notify(
                Agency.LEADERSHIP_GROUP,
                self.ask("属重大突发事件", "领导小组决定启动本方案,统一领导、组织、协调处置"),
                step="major-incident",
                clause="000 §2.1",
            )
        if self.TYPE.is_correction:
            for i, county in enumerate(inp.other_counties):
                await self.notify(
                    Agency.OTHER_COUNTY_BUREAU,
                    self.ask(f"事件涉及{county}", f"{county}司法行政机关协助配合"),
                    step=f"cross-county-{i}",
                    clause="001 §5(1)",
                )

    async def _close(self, closed: Closed) -> IncidentOutcome:
        inp = self.incident
        now = workflow.now()
        if not self._feedback_sent:
            await self._feed_back(closed.current_situation, closed.result, step="feedback-on-close")
        self._phase = IncidentPhase.CLOSED
        for d in self._deadlines.values():
            if d.status is DeadlineStatus.PENDING:
                d.status = DeadlineStatus.CANCELLED
        report = texts.written_report(
            inp,
            self.TITLE_ZH,
            self.CLAUSE,
            closed,
            now,
            self._deadlines.values(),
            self._course,
        )
        await self.notify_all(
            [Agency.COMMAND_CENTRE, Agency.EMERGENCY_OFFICE],
            lambda _to: report,
            step="written-report",
            clause="000 §4.2",
        )
        await self._drain()
        workflow.logger.info(
            "incident closed", extra={"incident_type": self.TYPE.value, "step": "closed"}
        )
        return IncidentOutcome(
            workflow_id=workflow.info().workflow_id,
            incident_type=self.TYPE,
            written_report_zh=report,
            deadlines=list(self._deadlines.values()),
            timeline=list(self._timeline),
        )

    async def _drain(self) -> None:
        """Stop deadline watchers, finish spawned work and running handlers before completing."""
        for t in self._tasks:
            if not t.done():
                t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await workflow.wait_condition(workflow.all_handlers_finished)

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
        pending = [d for d in self._deadlines.values() if d.status is DeadlineStatus.PENDING]
        overdue = [d for d in self._deadlines.values() if d.status is DeadlineStatus.MISSED]
        lines = [f"**{self.TITLE_ZH}**({self.CLAUSE})", f"状态:{'已办结' if self._phase is IncidentPhase.CLOSED else '处置中'}"]
        lines += [f"待办时限:{d.title_zh},{texts.fmt_time(d.due_at)} 到期" for d in pending]
        lines += [f"已超时:{d.title_zh}(应于 {texts.fmt_time(d.due_at)})" for d in overdue]
        workflow.set_current_details("\n\n".join(lines))

    # ------------------------------------------------------------------ notifications

    def ask(self, fact: str, asked: str) -> str:
        """A Chinese notification: incident, place, time, the fact and what is asked."""
        return texts.ask(self.incident, self.TITLE_ZH, fact, asked)

    async def notify(
        self,
        recipient: Agency,
        message_zh: str,
        *,
        step: str,
        clause: str,
        phone: str | None = None,
    ) -> bool:
        """Send one notification through the ``notify`` activity and record it on the timeline.

        A notification that cannot be delivered within the policy's budget is recorded as failed and
        the emergency office is told to notify by hand: it never fails the incident silently.
        """
        info = workflow.info()
        req = NotifyRequest(
            idempotency_key=f"{info.workflow_id}/{step}/{recipient.value}",
            workflow_id=info.workflow_id,
            incident_type=self.TYPE.value,
            step=step,
            clause=clause,
            recipient=recipient,
            recipient_phone=phone,
            message_zh=message_zh,
            drill=self.incident.drill,
        )
        try:
            receipt = await workflow.execute_activity(
                "notify",
                req,
                result_type=NotifyReceipt,
                start_to_close_timeout=timedelta(seconds=30),
                heartbeat_timeout=timedelta(seconds=20),
                schedule_to_close_timeout=self.POLICY.notification_budget,
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=1),
                    backoff_coefficient=2.0,
                    maximum_interval=timedelta(seconds=30),
                    non_retryable_error_types=[UNKNOWN_RECIPIENT, BAD_RECIPIENT],
                ),
                summary=f"通知{AGENCY_NAME_ZH[recipient]}",
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
            if recipient is not Agency.EMERGENCY_OFFICE and not step.startswith("notify-failed"):
                await self.notify(
                    Agency.EMERGENCY_OFFICE,
                    texts.notification_failed(self.incident, self.TITLE_ZH, recipient, clause),
                    step=f"notify-failed-{step}-{recipient.value}",
                    clause=clause,
                )
            return False
        self.record(
            EntryKind.NOTIFICATION,
            f"已通知{receipt.recipient_name_zh}:{message_zh}",
            clause=clause,
            recipient=recipient,
            step=step,
        )
        workflow.logger.info(
            "notified",
            extra={"incident_type": self.TYPE.value, "step": step, "recipient": recipient.value},
        )
        return True

    async def notify_all(
        self, recipients: list[Agency], message: Any, *, step: str, clause: str
    ) -> None:
        """Notify several recipients at the same time (the plan's 同时); ``message(to)`` builds each text."""
        await asyncio.gather(
            *(
                self.notify(to, message(to) if callable(message) else message, step=step, clause=clause)
                for to in recipients
            )
        )

    def spawn(self, coro: Coroutine[Any, Any, R]) -> asyncio.Task[R]:
        """Run work beside the clause (deadline watchers, relays); awaited before the incident closes."""
        task = asyncio.ensure_future(coro)
        self._tasks.append(task)
        return task

    # ------------------------------------------------------------------ deadlines

    def _start_arrival(self, dispatch: DispatchInstruction) -> None:
        self._start_deadline(
            ARRIVAL,
            f"到场时限 {texts.fmt_duration(self.POLICY.arrival)}",
            "000 §4.3",
            (dispatch.at or workflow.now()) + self.POLICY.arrival,
        )

    def _start_deadline(
        self,
        deadline_id: str,
        title_zh: str,
        clause: str,
        due_at: datetime,
        *,
        reminders: tuple[timedelta, ...] = (),
        escalate_to: tuple[Agency, ...] = (Agency.EMERGENCY_OFFICE, Agency.LEADERSHIP_GROUP),
    ) -> Deadline:
        deadline = Deadline(id=deadline_id, title_zh=title_zh, clause=clause, due_at=due_at)
        self._deadlines[deadline_id] = deadline
        self.record(
            EntryKind.DEADLINE_SET,
            f"{title_zh}:应于 {texts.fmt_time(due_at)} 前完成",
            clause=clause,
        )
        if self._running:
            self.spawn(self._watch(deadline, reminders, escalate_to))
        else:
            self._unwatched.append((deadline, reminders, escalate_to))
        return deadline

    async def _watch(
        self, deadline: Deadline, reminders: tuple[timedelta, ...], escalate_to: tuple[Agency, ...]
    ) -> None:
        """Remind before the due time, escalate at it; the incident goes on either way."""

        def settled() -> bool:
            return deadline.status is not DeadlineStatus.PENDING

        for before in sorted(reminders, reverse=True):
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
                await self.notify(
                    Agency.JUSTICE_OFFICE,
                    texts.deadline_reminder(self.incident, self.TITLE_ZH, deadline, before),
                    step=f"{deadline.id}-reminder-{int(before.total_seconds())}",
                    clause=deadline.clause,
                )
        wait = deadline.due_at - workflow.now()
        if wait > timedelta(0):
            try:
                await workflow.wait_condition(settled, timeout=wait, timeout_summary=deadline.title_zh)
                return
            except asyncio.TimeoutError:
                pass
        elif settled():
            return
        deadline.status = DeadlineStatus.MISSED
        deadline.missed_at = workflow.now()
        self.record(
            EntryKind.DEADLINE_MISSED,
            f"{deadline.title_zh}:已于 {texts.fmt_time(deadline.due_at)} 到期未完成,升级督办",
            clause=deadline.clause,
        )
        workflow.logger.warning(
            "deadline missed",
            extra={"incident_type": self.TYPE.value, "step": deadline.id},
        )
        await self.notify_all(
            list(escalate_to),
            texts.deadline_missed(self.incident, self.TITLE_ZH, deadline),
            step=f"{deadline.id}-missed",
            clause=deadline.clause,
        )

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

    # ------------------------------------------------------------------ reports

    def reports_of(self, *kinds: type[R]) -> list[R]:
        return [r for r in self._reports if isinstance(r, kinds)]  # type: ignore[misc]

    async def next_report(self, *kinds: type[R]) -> R:
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
        return self._reports[i]  # type: ignore[return-value]

    def _parse_report(self, raw: RawValue) -> Report:
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
        if self.inp is None or self._phase is IncidentPhase.CLOSED:
            return []
        waiting = list(self.waiting_for())
        if self._dispatch is not None and not self._arrived:
            waiting.insert(0, "arrived")
        if not waiting:
            waiting.append("closed")
        return waiting

    def _check(self, report: Report) -> str | None:
        """Why ``report`` makes no sense now, or None (000 §4.3 and the clause's order)."""
        if self._input_error is not None:
            return "this incident's input was invalid; it accepts no reports"
        if self._phase is IncidentPhase.CLOSED:
            return "the incident is closed"
        if report.report_id and report.report_id in self._report_ids:
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
        if isinstance(report, Dispatched) and self._dispatch is not None:
            return "dispatched: the centre's instruction was already recorded"
        if isinstance(report, Arrived):
            if self._dispatch is None:
                return "arrived: this incident was never dispatched by the command centre (000 §4.3)"
            if self._arrived:
                return "arrived: arrival was already reported"
            if report.at is not None and self._dispatch.at and report.at < self._dispatch.at:
                return "at: arrival before the centre's instruction"
        if isinstance(report, Closed):
            clause_waiting = self.waiting_for()
            if clause_waiting:
                return f"closed: handling is not finished; waiting for {', '.join(clause_waiting)}"
            if self._dispatch is not None and not self._arrived:
                return "closed: arrival at the designated place has not been reported (000 §4.3)"
        if kind in self.CLAUSE_REPORTS and kind not in self.waiting_for():
            waiting = ", ".join(self._all_waiting()) or "nothing"
            return f"{kind}: not expected now; the incident is waiting for {waiting}"
        return self.check_clause_report(report)

    def _accept(self, report: Report) -> ReportReceipt:
        """Record an accepted report and start what it sets off (000 §4.3, §3(3))."""
        if report.report_id and report.report_id in self._report_ids:
            return ReportReceipt(
                accepted=True, seq=self._report_ids[report.report_id], message_zh="重复报告,已记录"
            )
        stated = f"(报告时间 {texts.fmt_time(report.at)})" if report.at else ""
        entry = self.record(
            EntryKind.REPORT,
            f"收到报告[{report.kind}]{stated}{':' + report.note if report.note else ''}",
            clause=_REPORT_CLAUSE.get(report.kind, self.CLAUSE),
            actor=report.actor,
            step=report.kind,
        )
        if report.report_id:
            self._report_ids[report.report_id] = entry.seq
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
            self._course.append(report.current_situation)
            if self.incident.flow is Flow.URGENT:
                seq = entry.seq
                self.spawn(
                    self.notify(
                        Agency.COMMAND_CENTRE,
                        self.ask(
                            f"处置进展:{report.current_situation}", "知悉(紧急处置流程处置过程中及时反馈)"
                        ),
                        step=f"progress-relay-{seq}",
                        clause="000 §4.3(1)",
                    )
                )
        elif isinstance(report, Feedback):
            self.spawn(self._feed_back(report.situation, report.result, step=f"feedback-{entry.seq}"))
        return ReportReceipt(accepted=True, seq=entry.seq, message_zh=f"报告已受理(第{entry.seq}条记录)")

    async def _feed_back(self, situation: str, result: str, *, step: str) -> None:
        """000 §3(3): handling situation and result fed back to the command centre."""
        self._feedback_sent = True
        ok = await self.notify(
            Agency.COMMAND_CENTRE,
            self.ask(f"处置情况:{situation};处置结果:{result}", "知悉(处置情况和结果反馈)"),
            step=step,
            clause="000 §3(3)",
        )
        if ok:
            self.fulfil(FEEDBACK, "系统")

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
        self._parse_report(raw)

    def _refuse(self, reason: str) -> None:
        if self._input_error is not None:
            return
        self.record(EntryKind.REFUSED, f"报告被拒收:{reason}", clause="001 §7(4)", actor="系统")
        workflow.logger.warning(
            "report refused", extra={"incident_type": self.TYPE.value, "step": "report", "reason": reason}
        )

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
        )

    @workflow.query(name="deadlines")
    def deadlines(self) -> list[Deadline]:
        return list(self._deadlines.values())

    @workflow.query(name="timeline")
    def timeline(self) -> list[TimelineEntry]:
        return list(self._timeline)


#: The clause a common report kind fulfils, for the timeline.
_REPORT_CLAUSE = {
    "dispatched": "000 §4.3",
    "arrived": "000 §4.3",
    "progress": "000 §4.3(1)",
    "feedback": "000 §3(3)",
    "closed": "000 §4.2",
}
