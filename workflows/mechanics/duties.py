"""Duties of people: who must phone, go, verify or write, by when, and who did (000 §4.2, §4.3, §5.2; 001 §4, §7(4)).

The plans put many steps in a person's hands: 司法所 "立即采用电话、传真等方式" reports (000 §4.2),
"立即向公安“110”或执行地公安派出所报警" (001 §4(1)), "在第一时间前往事发现场" (001 §4(1)), "立即联系社区矫正对象家属、监护人、保证人" … 核实情况 (001 §4(6)),
"第一时间电话报告上一级社区矫正机构" (001 §4(9) 情形四).
A :class:`~plan.models.Duty` is one of them:

- **what** in the plan's words, the **role** it belongs to, its **form** (phone, on site, verification,
  written report, automated message), the **counterpart** and the number to call, the **due** time (the
  plan's number, or the ``immediate`` policy for 立即) and the **evidence** that discharges it;
- the **responsible person** is the one on duty for the role when the task is delivered (000 §5.2
  值班制度): resolved by the ``notify`` activity from the roster (never in workflow code), and named in its
  receipt; the task goes to that person's duty device (``duty_task``): what to do, the number, what to
  say (the 000 §4.2 contents), the countdown;
- the person confirms with a report (``phoned``, ``on_site``, ``verified``), judged on the time the
  workflow **received** it; the stated time is kept beside it and flagged when it precedes the receipt
  by more than ``stated_time_tolerance`` (an indicator, never a verdict);
- not confirmed by the due time: the role's superior is told at once, the leadership group
  ``duty_leadership_after`` later; the duty stays open until discharged (even after handling closes);
- written reports and automated messages are duties too (``message``), discharged by their delivery.

State: ``IncidentState.duties`` (carried by continue-as-new); watchers are restarted from it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import PHONE_SLOT
    from plan import texts
    from plan.agencies import Agency
    from plan.models import (
        Duty,
        DutyForm,
        DutyStatus,
        EntryKind,
        IncidentInput,
        IncidentType,
        OnSite,
        Phoned,
        Report,
        Verified,
    )
    from plan.policy import DeadlinePolicy
    from plan.state import IncidentState

from workflows.mechanics.deadlines import Deadlines
from workflows.mechanics.notifier import Notifier
from workflows.mechanics.timeline import Timeline

#: The report that discharges each form a person carries out.
EVIDENCE = {DutyForm.PHONE: "phoned", DutyForm.ON_SITE: "on_site", DutyForm.VERIFICATION: "verified"}
PATCH = "duties-of-people"
"""``workflow.patched`` id of every step that became a person's duty (issue 16): histories recorded
before keep their automated messages on replay."""
CONTACT_PATCH = "duties-contact-subject"
"""``workflow.patched`` id of a contact with the subject that became a person's duty at the start of a
clause whose histories already carry :data:`PATCH` later on (001 §4(10)): its own id, so that those
histories replay."""
TASK_STEP = "duty-"
"""Step prefix of a duty task (``duty-<id>``); ``duty-<id>-missed`` and ``duty-<id>-leadership-missed``
are its escalations (routed like every escalation, ``activities/notify.py:is_escalation``)."""


def superiors(role: Agency, correction: bool) -> tuple[Agency, ...]:
    """Whom an unconfirmed duty goes to, in order: the role's superior, then the leadership group.
    The 司法所 answers to the section in 001 and to the emergency office in 000 (000 §2.2, 001 §5(1))."""
    if role is Agency.LEADERSHIP_GROUP:
        return ()
    if role is Agency.JUSTICE_OFFICE:
        return (Agency.CORRECTION_SECTION if correction else Agency.EMERGENCY_OFFICE, Agency.LEADERSHIP_GROUP)
    return (Agency.LEADERSHIP_GROUP,)


class Duties:
    """The duties of people of one incident (see the module docstring)."""

    def __init__(
        self, *, state: IncidentState, timeline: Timeline, notifier: Notifier, deadlines: Deadlines,
        policy: DeadlinePolicy, incident: Callable[[], IncidentInput], title_zh: str, incident_type: IncidentType,
    ) -> None:
        self.state = state
        self.timeline = timeline
        self.notifier = notifier
        self.deadlines = deadlines
        self.policy = policy
        self.incident = incident
        self.title_zh = title_zh
        self.incident_type = incident_type

    # ------------------------------------------------------------------ assigning

    def assign(
        self, duty_id: str, what_zh: str, clause: str, *, role: Agency, form: DutyForm,
        say_zh: str, counterpart: Agency | None = None, counterpart_zh: str | None = None,
        phone: str | None = None, due_at: datetime | None = None, evidence: str | None = None,
    ) -> Duty:
        """A duty of the person on duty for ``role``, issued now as a task to their duty device.

        ``phone``: the counterpart's number when it comes with the incident (a family contact);
        otherwise the activity writes the directory's number. ``due_at``: the plan's deadline, default
        the ``immediate`` policy (立即, 第一时间). ``evidence``: the clause's own report that discharges it
        too (``Duty.by_report``: ``search_result``, ``daily_contact``; the clause calls :meth:`discharge`),
        named in the task beside the form's report (``phoned``, ``verified``), which always does."""
        now = workflow.now()
        due = due_at or now + self.policy.immediate
        existing = self.state.duties.get(duty_id)
        if existing is not None:
            return existing
        cz = counterpart_zh or (counterpart.zh if counterpart else "")
        duty = Duty(
            id=duty_id, title_zh=what_zh, clause=clause, role=role, form=form, due_at=due, issued_at=now,
            person_zh=role.zh, counterpart=counterpart, counterpart_zh=cz,
            counterpart_phone=phone, evidence=EVIDENCE.get(form, "delivery"), by_report=evidence or "",
        )
        self.state.duties[duty_id] = duty
        self.timeline.record(
            EntryKind.DUTY_ASSIGNED,
            f"值班任务({texts.DUTY_FORM_ZH[form.value]}):{what_zh};责任:{role.zh}值班人员;"
            f"应于 {texts.fmt_time(due)} 前完成",
            clause=clause, recipient=role, step=f"{TASK_STEP}{duty_id}",
        )
        text = texts.duty_task(
            self.incident(), self.title_zh, duty_id=duty_id, what_zh=what_zh, clause=clause, form=form.value,
            counterpart_zh=cz, phone=phone or (PHONE_SLOT if counterpart else None), say_zh=say_zh,
            due_at=due, left=due - now, evidence=duty.evidence, by_report=duty.by_report,
        )
        delivery = self.notifier.notify(
            role, text, step=f"{TASK_STEP}{duty_id}", clause=clause, required=False, duty_task=True,
            duty_counterpart=None if phone else counterpart,
        )
        key = f"{workflow.info().workflow_id}/{TASK_STEP}{duty_id}/{role.value}"

        async def named() -> None:
            if await delivery.delivered():
                receipt = self.notifier.receipts.get(key)
                if receipt is not None and receipt.person_zh:
                    duty.person, duty.person_zh = receipt.person, receipt.person_zh
                if receipt is not None and receipt.counterpart_phone:
                    duty.counterpart_phone = receipt.counterpart_phone
                self.timeline.refresh()  # the Web UI's details name the person now

        self.notifier.spawn(named())
        self._watch(duty)
        return duty

    def message(
        self, duty_id: str, what_zh: str, clause: str, *, role: Agency, to: Agency, text_zh: str,
        form: DutyForm = DutyForm.MESSAGE, due_at: datetime | None = None,
    ) -> Duty:
        """A duty done by an automated message (a written report by e-mail, a platform push): issued now,
        discharged by its delivery ("系统"); a failed delivery leaves it open, and the notifier's by-hand
        duty and escalation apply (``notified_by_hand``)."""
        now = workflow.now()
        due = due_at or now + self.policy.immediate
        duty = Duty(
            id=duty_id, title_zh=what_zh, clause=clause, role=role, form=form, due_at=due, issued_at=now,
            person_zh=role.zh, counterpart=to, counterpart_zh=to.zh, evidence="delivery",
        )
        self.state.duties[duty_id] = duty
        delivery = self.notifier.notify(to, text_zh, step=duty_id, clause=clause)

        async def delivered() -> None:
            if await delivery.delivered() and duty.status is DutyStatus.OPEN:
                self._done(duty, by="系统", stated_at=None, result_zh="已送达")

        self.notifier.spawn(delivered())
        # No watcher of its own: a message that cannot be delivered is the notifier's by-hand duty and
        # escalation (``notified_by_hand``), and the register's obligation.
        return duty

    # ------------------------------------------------------------------ confirming

    def check(self, report: Report) -> str | None:
        """Why a duty report makes no sense, or None."""
        assert isinstance(report, Phoned | OnSite | Verified)
        duty = self.state.duties.get(report.duty)
        if duty is None:
            known = ", ".join(d.id for d in self.open()) or "none open"
            return f"duty: no duty '{report.duty}' in this incident (open: {known})"
        if duty.status is not DutyStatus.OPEN:
            return f"duty: '{report.duty}' was already discharged at {texts.fmt_time(duty.done_at or duty.due_at)}"
        want = EVIDENCE.get(duty.form)
        if want != report.kind:
            return f"{report.kind}: duty '{duty.id}' is a {duty.form.value} duty; confirm it with {want or 'its delivery'}"
        return None

    def confirm(self, report: Report) -> None:
        """The person's confirmation: judged on the time received; the stated time kept beside it."""
        assert isinstance(report, Phoned | OnSite | Verified)
        duty = self.state.duties[report.duty]
        if isinstance(report, Phoned):
            result = f"已电话联系{report.counterpart}" + (f",商定:{report.agreed}" if report.agreed else "")
        elif isinstance(report, Verified):
            result = f"核实结果:{report.result}"
        else:
            result = "已到场"
        self._done(duty, by=report.actor, stated_at=report.at, result_zh=result)

    def discharge(self, duty_id: str, *, by: str, stated_at: datetime | None, result_zh: str) -> bool:
        """The clause's own report discharged an open duty (``Duty.by_report``); False if none was open."""
        duty = self.state.duties.get(duty_id)
        if duty is None or duty.status is not DutyStatus.OPEN:
            return False
        self._done(duty, by=by, stated_at=stated_at, result_zh=result_zh)
        return True

    def cancel(self, duty_id: str, reason_zh: str) -> None:
        """An open duty no longer applies (its situation ended before it was due): not counted."""
        duty = self.state.duties.get(duty_id)
        if duty is None or duty.status is not DutyStatus.OPEN:
            return
        duty.status = DutyStatus.CANCELLED
        self.timeline.record(
            EntryKind.DUTY_DONE, f"值班任务取消:{duty.title_zh}({reason_zh})",  # (ours)
            clause=duty.clause, recipient=duty.role, step=f"{TASK_STEP}{duty.id}",
        )

    def _done(self, duty: Duty, *, by: str, stated_at: datetime | None, result_zh: str) -> None:
        now = workflow.now()
        duty.status, duty.done_at, duty.stated_at, duty.done_by, duty.result_zh = (
            DutyStatus.DONE, now, stated_at, by, result_zh
        )
        duty.indicators = self._indicators(duty)
        late = now > duty.due_at
        self.timeline.record(
            EntryKind.DUTY_DONE,
            f"值班任务完成:{duty.title_zh};{result_zh}" + (f"(超时,应于 {texts.fmt_time(duty.due_at)} 前)" if late else ""),
            clause=duty.clause, actor=by, recipient=duty.role, step=f"{TASK_STEP}{duty.id}",
        )

    def _indicators(self, duty: Duty) -> list[str]:
        """001 §7(4) indicators for an officer to review (谎报/瞒报), never verdicts (docs/reports.md)."""
        out: list[str] = []
        done, stated = duty.done_at, duty.stated_at
        assert done is not None
        if stated is not None and done - stated > self.policy.stated_time_tolerance:
            out.append(
                f"申报时间 {texts.fmt_time(stated)} 早于系统收到确认 {texts.fmt_time(done)} "
                f"逾{texts.fmt_duration(self.policy.stated_time_tolerance)},请核查"  # (ours)
            )
        if stated is not None and stated <= duty.due_at < done:
            out.append("申报时间在时限内,但确认于时限后收到,按迟报计")  # (ours)
        if duty.counterpart is Agency.CORRECTION_SECTION and done - self.incident().occurred_at > self.policy.immediate:
            out.append(
                f"向区司法局社区矫正管理科报告距事发逾{texts.fmt_duration(self.policy.immediate)},请核查是否迟报、瞒报"  # (ours)
            )
        return out

    # ------------------------------------------------------------------ recurring duties

    async def recurring(
        self, *, prefix: str, title_zh: Callable[[int], str], clause: str, anchor: datetime, period: timedelta,
        done: int, role: Agency, form: DutyForm, say_zh: str, counterpart_zh: str, phone: str | None,
        evidence: str, until: Callable[[], bool],
    ) -> AsyncIterator[int]:
        """A duty due every ``period`` (001 §4(9) 情形三 每日): one duty per period (``<prefix><n>``, due
        ``anchor + n * period``), issued when the period begins to the person on duty then, escalated
        like every duty when unconfirmed; yields each period's number once it has ended without
        ``until`` becoming true. ``done``: periods already past (a continued run goes on from there)."""
        n = done
        while not until():
            n += 1
            due = anchor + n * period
            self.assign(f"{prefix}{n}", title_zh(n), clause, role=role, form=form, say_zh=say_zh,
                        counterpart_zh=counterpart_zh, phone=phone, due_at=due, evidence=evidence)
            remaining = due - workflow.now()
            if remaining.total_seconds() > 0 and not until():
                try:
                    await workflow.wait_condition(until, timeout=remaining, timeout_summary=texts.day_ends(n))
                except asyncio.TimeoutError:
                    pass
            if until():
                return
            yield n

    # ------------------------------------------------------------------ watching and escalating

    def start_watching(self) -> None:
        """The run has started: watch every open duty (a continued run's carried ones too)."""
        for d in self.state.duties.values():
            if d.status is DutyStatus.OPEN:
                self._watch(d)

    def _watch(self, duty: Duty) -> None:
        if self.deadlines.running:
            self.deadlines.watch_with(self._escalate(duty))

    async def _escalate(self, duty: Duty) -> None:
        """Not confirmed by its due time: the role's superior, then the leadership group; open until done."""
        chain = superiors(duty.role, self.incident_type.is_correction)
        for n, to in enumerate(chain):
            if to in duty.escalated_to:
                continue
            at = duty.due_at + (self.policy.duty_leadership_after if n > 0 else timedelta(0))
            wait = at - workflow.now()
            if wait.total_seconds() > 0:
                try:
                    await workflow.wait_condition(lambda: duty.status is not DutyStatus.OPEN, timeout=wait,
                                                  timeout_summary=f"值班任务·{duty.title_zh}")
                    return
                except asyncio.TimeoutError:
                    pass
            if duty.status is not DutyStatus.OPEN:
                return
            duty.escalated_to.append(to)
            self.timeline.record(
                EntryKind.DUTY_ESCALATED,
                f"值班任务未按时确认:{duty.title_zh}(责任人:{duty.person_zh}),升级督办至{to.zh}",
                clause=duty.clause, recipient=to, step=f"{TASK_STEP}{duty.id}",
            )
            workflow.logger.warning("duty not confirmed", extra={"incident_type": self.incident_type.value,
                                                                 "step": f"{TASK_STEP}{duty.id}"})
            self.notifier.notify(
                to,
                texts.duty_missed(self.incident(), self.title_zh, what_zh=duty.title_zh, person_zh=duty.person_zh,
                                  due_at=duty.due_at, clause=duty.clause, duty_id=duty.id),
                step=f"{TASK_STEP}{duty.id}-" + ("missed" if n == 0 else "leadership-missed"),
                clause=duty.clause, required=False,
            )

    # ------------------------------------------------------------------ reading

    def _seen(self, d: Duty) -> Duty:
        """A message duty whose message failed but was then made by hand (``notified_by_hand``) reads as
        done, from its obligation (a view: queries change nothing)."""
        if d.status is not DutyStatus.OPEN or d.evidence != "delivery" or d.counterpart is None:
            return d
        o = self.state.obligations.get(f"{d.id}/{d.counterpart.value}")
        if o is None or o.done_at is None:
            return d
        return d.model_copy(update={"status": DutyStatus.DONE, "done_at": o.done_at, "stated_at": o.stated_at,
                                    "done_by": o.how, "result_zh": "已人工补报"})

    def open(self) -> list[Duty]:
        seen = (self._seen(d) for d in self.state.duties.values())
        return sorted((d for d in seen if d.status is DutyStatus.OPEN), key=lambda d: d.due_at)

    def closed(self) -> list[Duty]:
        seen = (self._seen(d) for d in self.state.duties.values())
        return sorted((d for d in seen if d.status is not DutyStatus.OPEN), key=lambda d: d.done_at or d.due_at)
