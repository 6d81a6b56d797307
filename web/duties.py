"""我的待办: the duties of the signed-in person, behind one small adapter.

**Until the duties issue (16) lands** there is no duty record in the workflows. This module derives
duties from what exists, and is the one place the duties work replaces:

- the incident's **pending deadlines** (``deadlines`` query): ``arrival`` (000 §4.3: on-site, confirmed
  by an ``arrived`` report), ``by-hand/<step>/<recipient>`` (a failed notification the officer makes by
  phone, confirmed by ``notified_by_hand``), ``daily-contact-<n>`` (001 §4(9) 情形三, phone, confirmed by
  ``daily_contact``), ``ack/...`` (the receiver's acknowledgement: automated, nothing to confirm), and
  every other deadline as a written report (a link to its report form);
- the person: the incident's responsible office (the ``IncidentJusticeOffice`` search attribute) is the
  signed-in account's ``office``; an account without an office (a bureau-level post) has every
  office's duties of its county.

What the adapter gives the pages (:class:`Duty`), and what the duties work must provide to replace
:func:`duties_of` / :func:`confirm`: a duty id stable across queries (``<workflow id>::<duty key>``),
the responsible account (or office), what to do in the plan's words with its clause, the form
(``phone`` / ``on_site`` / ``verification`` / ``automated`` / ``written``), the counterpart and its number,
the script (the 000 §4.2 contents), the due time, whether it is open, and how a confirmation
(``phoned`` / ``on_site`` / ``verified`` with counterpart and note) is recorded on the incident — today
as the report that discharges the deadline, signed with the person's name (``actor``), with a
``report_id`` derived from the duty and the link so a retried tap is recorded once.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from plan.agencies import Agency, Directory
from plan.models import Deadline, DeadlineStatus, IncidentInput, IncidentStatus
from plan.texts import information_report

ARRIVAL, BY_HAND, DAILY, ACK = "arrival", "by-hand/", "daily-contact-", "ack/"

FORM_ZH = {"phone": "电话", "on_site": "到场", "verification": "核实", "automated": "系统自动", "written": "书面报告"}
CONFIRM_ZH = {"phoned": "已电话联系", "on_site": "已到场报到", "verified": "已核实"}

#: What a deadline asks, in the plan's words (a verbatim substring of the plan) and the report that
#: discharges it, for the deadlines that are not phone or on-site duties.
PLAN_WORDS = {
    ARRIVAL: ("须在30分钟内赶至指定地点,向指定人员报到", "000 §4.3"),
    "feedback": ("将处置情况和结果在24小时内反馈至区社会应急联动指挥中心", "000 §3(3)"),
    "search": ("立即组织查找", "001 §4(4)"),
    DAILY: ("司法所应当每日与外出人员保持联系,做好人员疫情信息的动态关注", "001 §4(9)"),
    BY_HAND: ("立即采用电话、传真等方式将有关情况及时报告", "000 §4.2"),
}
REPORT_OF = {"feedback": "feedback", "search": "search_result", "review": "review",
             "leadership-decision": "plan_decision"}


@dataclass
class Duty:
    id: str
    workflow_id: str
    incident_title: str
    office: str
    what_zh: str
    clause: str
    form: str
    due_at: datetime
    overdue: bool
    counterpart_zh: str = ""
    counterpart_phone: str = ""
    script_zh: str = ""
    confirm_as: list[str] = field(default_factory=list)
    """One-tap confirmations offered (``phoned``, ``on_site``, ``verified``); empty: use ``report_kind``'s form."""
    report_kind: str | None = None
    """The report form that discharges it, when it is not a one-tap duty."""
    drill: bool = False
    deadline_id: str = ""

    @property
    def key(self) -> str:
        """The duty id as it goes into a URL (opaque base64 of ``<workflow id>::<deadline id>``)."""
        return base64.urlsafe_b64encode(self.id.encode()).decode().rstrip("=")


def duty_id_from_key(key: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def _agency(value: str) -> Agency | None:
    try:
        return Agency(value)
    except ValueError:
        return None


def duty_of_deadline(d: Deadline, st: IncidentStatus, inp: IncidentInput | None, office: str,
                     directory: Directory | None, now: datetime) -> Duty | None:
    if d.status not in (DeadlineStatus.PENDING, DeadlineStatus.MISSED):
        return None
    base: dict[str, Any] = dict(id=f"{st.workflow_id}::{d.id}", workflow_id=st.workflow_id, incident_title=st.title_zh,
                office=office, clause=d.clause, due_at=d.due_at, overdue=d.status is DeadlineStatus.MISSED or d.due_at <= now,
                drill=st.drill, deadline_id=d.id)
    if d.id == ARRIVAL:
        words, clause = PLAN_WORDS[ARRIVAL]
        place = inp.dispatch.designated_place if inp and inp.dispatch else ""
        person = inp.dispatch.designated_person if inp and inp.dispatch else ""
        where = f"指定地点:{place}," if place else ""
        return Duty(**base, what_zh=f"{words}({where}{d.title_zh})", form="on_site",
                    counterpart_zh=person, confirm_as=["on_site"])
    if d.id.startswith(BY_HAND):
        step, _, recipient = d.id.removeprefix(BY_HAND).rpartition("/")
        agency = _agency(recipient)
        name = agency.zh if agency else recipient
        contact = directory.contact(agency) if directory and agency else None
        words, _ = PLAN_WORDS[BY_HAND]
        return Duty(**base, what_zh=f"{d.title_zh}:{words}", form="phone", counterpart_zh=name,
                    counterpart_phone=contact.phone if contact else "",
                    script_zh=information_report(inp, st.title_zh, agency) if inp and agency else "",
                    confirm_as=["phoned"])
    if d.id.startswith(DAILY):
        words, _ = PLAN_WORDS[DAILY]
        return Duty(**base, what_zh=f"{d.title_zh}:{words}", form="phone", counterpart_zh="外出人员",
                    report_kind="daily_contact")
    if d.id.startswith(ACK):
        return Duty(**base, what_zh=d.title_zh, form="automated")
    words = PLAN_WORDS.get(d.id, (d.title_zh, d.clause))[0]
    return Duty(**base, what_zh=words if words == d.title_zh else f"{words}({d.title_zh})",
                form="verification" if d.id == "search" else "written", report_kind=REPORT_OF.get(d.id))


#: The board's form of a person's duty (``plan.models.DutyForm``, issue 16).
PERSON_FORM = {"message": "automated", "phone": "phone", "on_site": "on_site", "written": "written",
               "verification": "verification"}
PERSON = "duty/"
"""Prefix of a person's duty (issue 16) in the board's duty id: ``<workflow id>::duty/<duty id>``."""


def duty_of_person(d: Any, st: IncidentStatus, office: str, now: datetime) -> Duty:
    """A duty of a person (``IncidentStatus.duties``, workflows/mechanics/duties.py): who, what, by when,
    and the one tap that confirms it (``phoned``, ``on_site``, ``verified``)."""
    confirm = [d.evidence] if d.evidence in CONFIRM_ZH else []
    who = f"(责任人:{d.person_zh})" if d.person_zh else ""
    return Duty(id=f"{st.workflow_id}::{PERSON}{d.id}", workflow_id=st.workflow_id, incident_title=st.title_zh,
                office=office, what_zh=f"{d.title_zh}{who}", clause=d.clause,
                form=PERSON_FORM.get(d.form.value, "written"), due_at=d.due_at, overdue=d.due_at <= now,
                counterpart_zh=d.counterpart_zh, counterpart_phone=d.counterpart_phone or "",
                confirm_as=confirm, drill=st.drill, deadline_id=f"{PERSON}{d.id}")


def duties_of(st: IncidentStatus, inp: IncidentInput | None, office: str, directory: Directory | None,
              now: datetime) -> list[Duty]:
    """The open duties of one incident, most urgent first: the duties of people (issue 16) and what its
    deadlines ask of the officers (arrival, a notification made by hand, a day's contact, a report)."""
    if st.phase.value == "closed":
        return []
    people = [duty_of_person(d, st, office, now) for d in st.duties if d.evidence != "delivery"]
    out = [duty for d in st.deadlines if (duty := duty_of_deadline(d, st, inp, office, directory, now))]
    return sorted(people + out, key=lambda x: x.due_at)


def confirmation_report(duty: Duty, how: str, actor: str, counterpart: str, note: str,
                        nonce: str) -> dict[str, Any]:
    """The report that records a one-tap confirmation on the incident (pre-duties adapter)."""
    said = "、".join(p for p in (CONFIRM_ZH.get(how, how), f"对方:{counterpart}" if counterpart else "", note) if p)
    report_id = "duty-" + hashlib.sha256(f"{duty.id}|{nonce}".encode()).hexdigest()[:24]
    if duty.deadline_id.startswith(PERSON):  # a person's duty (issue 16): its own evidence report
        report: dict[str, Any] = {"kind": how, "duty": duty.deadline_id.removeprefix(PERSON), "actor": actor,
                                  "note": note, "report_id": report_id}
        if how == "phoned":
            report["counterpart"] = counterpart or duty.counterpart_zh or "对方值班人员"
        elif how == "verified":
            report["result"] = note or "已核实"
        return report
    if duty.deadline_id == ARRIVAL:
        return {"kind": "arrived", "actor": actor, "note": said, "report_id": report_id}
    if duty.deadline_id.startswith(BY_HAND):
        step, _, recipient = duty.deadline_id.removeprefix(BY_HAND).rpartition("/")
        return {"kind": "notified_by_hand", "actor": actor, "step": step, "recipient": recipient,
                "note": said, "report_id": report_id}
    raise ValueError(f"duty {duty.deadline_id}: no one-tap confirmation")
