"""001's shared procedures of the correction clauses (001 §4, §5(1), §5(2)).

- report level by level (逐级上报) to the correction section and the higher correction agency, and the
  cross-county notice (涉及其他县(市、区)的,应当及时通报相关县(市、区)司法行政机关协助配合), 001 §5(1);
- punishment decided by the section, reported up and to the procuratorate (001 §4);
- persuasion, and 110 when the subject refuses (001 §4(2)(5)(8)(10));
- the family, guardian and guarantor (001 §4(6)(7)); termination of correction (001 §4(6)(7));
- the written review after handling, reported up level by level (001 §5(2)).
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from plan import texts
    from plan.agencies import Agency
    from plan.models import CorrectionBase, DutyForm, IncidentInput, IncidentType, Persuasion, Progress, Punishment, Report, variant
    from plan.policy import DeadlinePolicy

from workflows.mechanics.accountability import Register
from workflows.mechanics.duties import PATCH, Duties
from workflows.mechanics.notifier import Notifier
from workflows.mechanics.reports import Reports
from workflows.mechanics.timeline import Timeline

LEVEL_UP = (Agency.CORRECTION_SECTION, Agency.HIGHER_CORRECTION_AGENCY)


class Correction:
    def __init__(
        self, *, timeline: Timeline, notifier: Notifier, reports: Reports, register: Register,
        policy: DeadlinePolicy, incident: Callable[[], IncidentInput], ask: Callable[[str, str], str],
        incident_type: IncidentType, clause: str, duties: Duties,
    ) -> None:
        self.duties = duties
        self.timeline = timeline
        self.notifier = notifier
        self.reports = reports
        self.register = register
        self.policy = policy
        self.incident = incident
        self.ask = ask
        self.incident_type = incident_type
        self.clause = clause

    # ------------------------------------------------------------------ 001 §5(1)

    def report_level_by_level(self) -> None:
        """The justice office reports to the section at once; the section reports up level by level. A
        recipient the clause has already told is not told twice."""
        told = self.register.recipients()
        level = [a for a in LEVEL_UP if a not in told]
        if level:
            self.notifier.notify_all(
                level,
                lambda to: self.ask(texts.CORRECTION_INCIDENT, texts.level_report_asked(to)),
                step="level-report",
                clause="001 §5(1)",
            )

    # The cross-county notice (001 §5(1)) goes to the named county's bureau, and may start a linked
    # incident in its namespace: ``workflows/bureau.py`` ``notify_county`` (issue 17).

    def progress_up(self, report: Progress, seq: int) -> None:
        self.notifier.notify_all(
            list(LEVEL_UP),
            self.ask(texts.correction_progress_fact(report.current_situation), texts.NOTED),
            step=f"progress-up-{seq}",
            clause="001 §5(1)",
            merge=report.current_situation,
        )

    def review_up(self, review_zh: str) -> None:
        """001 §5(2) 形成书面报告逐级上报: the justice office to the section, the section up a level."""
        self.notifier.notify_all(list(LEVEL_UP), lambda _to: review_zh, step="review-report", clause="001 §5(2)")

    # ------------------------------------------------------------------ 001 §4

    async def punish(self, fact: str, *, clause: str, step: str, label: str) -> Punishment:
        """对应予处罚的社区矫正对象,要及时依法实施处罚,并将有关情况及时上报上一级社区矫正机构,同时通报执行地人民检察院."""
        return self.punished(await self.reports.next(Punishment), fact, clause=clause, step=step, label=label)

    def punished(self, p: Punishment, fact: str, *, clause: str, step: str, label: str) -> Punishment:
        """A punishment report taken by the clause: recorded, reported up and to the procuratorate."""
        self.timeline.decide(texts.punishment_decided(p.decision), clause, actor=p.actor)
        self.notifier.notify_all(
            [Agency.HIGHER_CORRECTION_AGENCY, Agency.PROCURATORATE],
            self.ask(texts.punishment_fact(fact, label, p.decision), texts.NOTED),
            step=step,
            clause=clause,
        )
        return p

    async def persuade(
        self, *, complied_zh: str, refused_zh: str, police_fact: str, clause: str, police_optional: bool,
        step: str, asked: str,
    ) -> Persuasion:
        """Told to leave or to stop: wait for the ``persuasion`` report; if refused, call 110.

        ``police_optional``: the clause says the section *may* call (可以, 001 §4(2)(5)) and the report's
        ``call_police`` decides; otherwise it must (应当, 001 §4(8)) and 110 is always called.
        """
        p = await self.reports.next(Persuasion)
        decide = self.timeline.decide
        if p.complied:
            decide(complied_zh, clause, actor=p.actor)
        elif police_optional and not p.call_police:
            decide(texts.not_reported_to_police(refused_zh, p.note), clause, actor=p.actor)
        else:
            decide(texts.reported_to_police(refused_zh), clause, actor=p.actor)
            if workflow.patched(PATCH):
                # 报警: the on-duty officer's phone duty, beside the push where the platform takes one
                self.alarm_110(police_fact, asked, step=step, clause=clause)
            else:  # histories recorded before duties of people
                self.notifier.notify(Agency.POLICE_110, self.ask(police_fact, asked), step=step, clause=clause)
        return p

    def alarm_110(self, fact: str, asked: str, *, step: str, clause: str,
                  what_zh: str = "向公安“110”或执行地公安派出所报警予以处置") -> None:
        """110 as the plans have it (issue 16): the 司法所 on-duty officer's phone call (a duty, ``duty-<step>``),
        and the automated push to 110's platform where the policy says it takes one (``<step>``)."""
        if Agency.POLICE_110 in self.policy.pushed:
            self.notifier.notify(Agency.POLICE_110, self.ask(fact, asked), step=step, clause=clause)
        self.duties.assign(step, what_zh, clause, role=Agency.JUSTICE_OFFICE, form=DutyForm.PHONE,
                           counterpart=Agency.POLICE_110, say_zh=f"{fact},请{asked}")

    def check_persuasion(self, report: Report, *, police_optional: bool) -> str | None:
        """Refuse persuasion fields that belong to another clause."""
        if not isinstance(report, Persuasion):
            return None
        if report.equipment_used and self.incident_type is not IncidentType.C8:
            return f"persuasion: equipment_used applies to 001 §4(8) (工作场所内暴力事件), not {self.incident_type.value}"
        if not report.call_police and not police_optional:
            return f"persuasion: call_police cannot be false: {self.clause} says 110 must (应当) be called"
        return None

    def notify_family(self, fact: str, asked: str, *, clause: str, none_zh: str,
                      form: DutyForm = DutyForm.PHONE, what_zh: str = "通知社区矫正对象家属,做好解释工作") -> None:
        """Each registered family member, guardian, guarantor (001 §4(6)(7)), one duty each
        (``family-<i>``): a person of the justice office phones them (``form`` PHONE, 通知社区矫正对象家属,做好解释工作)
        or verifies with them (VERIFICATION, 核实情况); the family is never sent an automated message.
        With none registered, ``none_zh`` is recorded as the step taken instead."""
        subject = self.incident().subject
        family = subject.family if subject else []
        if not family:
            self.timeline.decide(none_zh, clause)
        if workflow.patched(PATCH):
            for i, contact in enumerate(family):
                self.duties.assign(
                    f"family-{i}", f"{what_zh}({contact.relation})", clause, role=Agency.JUSTICE_OFFICE,
                    form=form, counterpart=Agency.FAMILY, counterpart_zh=f"{contact.relation} {contact.name}",
                    phone=contact.phone, say_zh=f"{fact};请{asked}",
                )
            return
        for i, contact in enumerate(family):  # histories recorded before duties of people
            self.notifier.notify(
                Agency.FAMILY,
                self.ask(texts.family_fact(fact, contact.relation), asked),
                step=f"family-{i}",
                clause=clause,
                phone=contact.phone,
            )

    def terminate(self, decision_zh: str, fact: str, recipients: tuple[Agency, ...], *, clause: str, actor: str) -> None:
        """终止社区矫正 (001 §4(6)(7)): recorded, and reported up and to the named agencies at the same time."""
        self.timeline.decide(decision_zh, clause, actor=actor)
        self.notifier.notify_all(
            list(recipients),
            lambda to: self.ask(fact, texts.termination_asked(to)),
            step="termination-report",
            clause=clause,
        )
