"""Typed incident data: what starts an incident, what officers report, what the record holds.

Every model forbids unknown fields, so a typo in an operator's JSON is refused with the field's name
instead of being silently ignored. Report contents follow 000 §4.2 (time, place, course, result,
current situation, measures taken, commander's contact) as fields, not free text.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from plan.agencies import Agency

Text = Annotated[str, Field(min_length=1, max_length=2000)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
Phone = Annotated[str, Field(pattern=r"^[0-9+\-]{3,20}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class IncidentType(StrEnum):
    """Every incident type of both plans (catalogue ids)."""

    L1 = "L1"  # 000 §1.4(1) 突发重大矛盾纠纷调处
    L2 = "L2"  # 000 §1.4(2) 律师违规接案、收费投诉举报
    L3 = "L3"  # 000 §1.4(3) 法律援助
    L4 = "L4"  # 000 §1.4(4) 社区矫正、刑释人员安置帮教突发情况
    C1 = "C1"  # 001 §4(1)
    C2 = "C2"  # 001 §4(2)
    C3 = "C3"  # 001 §4(3)
    C4 = "C4"  # 001 §4(4)
    C5 = "C5"  # 001 §4(5)
    C6 = "C6"  # 001 §4(6)
    C7 = "C7"  # 001 §4(7)
    C8 = "C8"  # 001 §4(8)
    C9 = "C9"  # 001 §4(9)
    C10 = "C10"  # 001 §4(10)
    C11 = "C11"  # 001 §4(11)

    @property
    def is_correction(self) -> bool:
        return self.value.startswith("C")


class Flow(StrEnum):
    """000 §4.3: 紧急处置流程 / 一般处置流程."""

    URGENT = "urgent"
    GENERAL = "general"


FLOW_ZH = {Flow.URGENT: "紧急处置流程", Flow.GENERAL: "一般处置流程"}


class Source(StrEnum):
    """000 §3(1)(2): an alert from the command centre, or a citizen's direct request."""

    COMMAND_CENTRE = "command_centre"
    CITIZEN_REQUEST = "citizen_request"


SOURCE_ZH = {Source.COMMAND_CENTRE: "区社会应急联动指挥中心警情", Source.CITIZEN_REQUEST: "群众直接求助"}


class Person(_Model):
    """A staff member or other contact: name, phone, unit."""

    name: ShortText
    phone: Phone
    unit: str = Field(default="", max_length=200)


class Jurisdiction(_Model):
    """Where the incident is handled: county/district and the justice office (司法所)."""

    county: ShortText
    justice_office: ShortText


class FamilyContact(_Model):
    """001 §4(6)(7): family, guardian, guarantor."""

    name: ShortText
    relation: ShortText
    phone: Phone


class Subject(_Model):
    """The community-correction subject (社区矫正对象). Personal data: never in ids, logs, attributes."""

    name: ShortText
    id_number: str = Field(pattern=r"^\d{17}[\dXx]$")
    phone: Phone | None = None
    address: str | None = Field(default=None, max_length=200)
    correction_category: str = Field(default="", max_length=50)
    """管制 / 缓刑 / 假释 / 暂予监外执行."""
    family: list[FamilyContact] = Field(default_factory=list, max_length=10)


class DispatchInstruction(_Model):
    """The command centre's instruction (000 §4.3): where to go and whom to report to."""

    at: AwareDatetime | None = None
    """When the instruction was given; omitted = when the incident is received."""
    designated_place: ShortText
    designated_person: ShortText


class IncidentInput(_Model):
    """What starts an incident (the 000 §4.2 information report, plus routing data)."""

    incident_type: IncidentType
    alert_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    """The command centre's alert number; the workflow id is derived from it (no personal data)."""
    flow: Flow
    source: Source
    occurred_at: AwareDatetime
    place: ShortText
    jurisdiction: Jurisdiction
    description: Text
    """经过: the course of events so far."""
    current_situation: str = Field(default="", max_length=2000)
    """目前形势."""
    measures_taken: list[ShortText] = Field(default_factory=list, max_length=50)
    """已采取的措施."""
    reporter: Person
    commander: Person
    """应急指挥机构负责人 and contact (000 §4.2)."""
    subject: Subject | None = None
    dispatch: DispatchInstruction | None = None
    other_counties: list[ShortText] = Field(default_factory=list, max_length=20)
    """Other counties involved: their judicial bureaus are notified (001 §5(1))."""
    major: bool = False
    """特别重大及重大突发事件: the leadership group leads (000 §2.1)."""
    drill: bool = False
    """演练 (000 §6.2, 001 §7(2)): runs the real workflow, never reaches a real agency."""

    @model_validator(mode="after")
    def _subject_for_correction_incidents(self) -> IncidentInput:
        if self.incident_type.is_correction and self.subject is None:
            raise ValueError(f"subject: required for correction incident {self.incident_type.value}")
        if self.dispatch and self.dispatch.at and self.dispatch.at < self.occurred_at:
            raise ValueError("dispatch.at: the centre's instruction cannot precede occurred_at")
        return self


# --------------------------------------------------------------------------- reports


class _Report(_Model):
    """Common fields of every officer's progress report."""

    actor: ShortText
    """Who reports (unit and officer), e.g. "东城司法所 值班员"."""
    at: AwareDatetime | None = None
    """When it happened; defaults to when the workflow received it."""
    report_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:\-]{1,80}$")
    """Optional id: a report sent twice with the same id is recorded once."""
    note: str = Field(default="", max_length=2000)


class Dispatched(_Report):
    """000 §4.3: the command centre's instruction, when it comes after the incident started."""

    kind: Literal["dispatched"]
    designated_place: ShortText
    designated_person: ShortText


class Arrived(_Report):
    """000 §4.3: arrived at the designated place and reported to the designated person."""

    kind: Literal["arrived"]


class Progress(_Report):
    """Situation while handling (000 §4.3(1): urgent flow feeds progress back to the centre)."""

    kind: Literal["progress"]
    current_situation: Text
    measures_taken: list[ShortText] = Field(default_factory=list, max_length=50)


class Feedback(_Report):
    """000 §3(3): handling situation and result fed back to the centre (within 24 h)."""

    kind: Literal["feedback"]
    situation: Text
    result: Text


class Closed(_Report):
    """Handling complete: the result that goes into the written report (000 §4.2, §4.3)."""

    kind: Literal["closed"]
    result: Text
    current_situation: Text
    measures_taken: list[ShortText] = Field(min_length=1, max_length=50)


class SearchMethod(StrEnum):
    """001 §4(4): 通讯联络、信息化核查、实地查访."""

    PHONE = "phone"
    INFORMATION_SYSTEM = "information_system"
    FIELD_VISIT = "field_visit"


SEARCH_METHOD_ZH = {
    SearchMethod.PHONE: "通讯联络",
    SearchMethod.INFORMATION_SYSTEM: "信息化核查",
    SearchMethod.FIELD_VISIT: "实地查访",
}


class SearchResult(_Report):
    """001 §4(4): outcome of the justice office's search."""

    kind: Literal["search_result"]
    found: bool
    methods: list[SearchMethod] = Field(min_length=1)
    risk_of_serious_incident: bool = False
    """可能发生 001 §4(1)(2)(3) 所列情形: the police station is told at once."""


class SubjectFound(_Report):
    """001 §4(4): whereabouts found after the section was told."""

    kind: Literal["subject_found"]
    urgent: bool = False
    """情形紧急: the subject is brought back at once instead of ordered to report."""


class Punishment(_Report):
    """001 §4: punishment decided by the correction section (final result reported up)."""

    kind: Literal["punishment"]
    decision: ShortText
    """e.g. 训诫, 警告, 提请撤销缓刑."""


class MediationOutcomeKind(StrEnum):
    AGREEMENT = "agreement"
    NO_AGREEMENT = "no_agreement"
    REFERRED = "referred"


MEDIATION_OUTCOME_ZH = {
    MediationOutcomeKind.AGREEMENT: "达成调解协议",
    MediationOutcomeKind.NO_AGREEMENT: "未达成调解协议",
    MediationOutcomeKind.REFERRED: "移交有关部门处理",
}


class LegalSupportRequested(_Report):
    """000 §1.4(1), §2.3: 为事件妥善处理提供法律服务 (legal-service group)."""

    kind: Literal["legal_support_requested"]
    need: Text


class MediationOutcome(_Report):
    """000 §2.3: the mediation group reports the outcome of 调处."""

    kind: Literal["mediation_outcome"]
    outcome: MediationOutcomeKind
    summary: Text


Report = Annotated[
    Dispatched
    | Arrived
    | Progress
    | Feedback
    | Closed
    | SearchResult
    | SubjectFound
    | Punishment
    | LegalSupportRequested
    | MediationOutcome,
    Field(discriminator="kind"),
]

COMMON_REPORT_KINDS = frozenset({"dispatched", "arrived", "progress", "feedback", "closed"})


# --------------------------------------------------------------------------- record


class EntryKind(StrEnum):
    INCIDENT = "incident"
    NOTIFICATION = "notification"
    NOTIFICATION_FAILED = "notification_failed"
    REPORT = "report"
    REFUSED = "refused"
    DEADLINE_SET = "deadline_set"
    DEADLINE_MET = "deadline_met"
    DEADLINE_MISSED = "deadline_missed"
    DEADLINE_LATE = "deadline_late"
    REMINDER = "reminder"
    DECISION = "decision"


class TimelineEntry(_Model):
    """One line of the incident record: what, when, who, and the clause it fulfils."""

    seq: int
    at: datetime
    kind: EntryKind
    actor: str
    clause: str
    text_zh: str
    recipient: Agency | None = None
    step: str | None = None


class DeadlineStatus(StrEnum):
    PENDING = "pending"
    MET = "met"
    MISSED = "missed"
    LATE = "late"
    """Missed, then fulfilled after the due time."""
    CANCELLED = "cancelled"


class Deadline(_Model):
    """A deadline the plan sets (an obligation with a due time), and what became of it."""

    id: str
    title_zh: str
    clause: str
    due_at: datetime
    status: DeadlineStatus = DeadlineStatus.PENDING
    fulfilled_at: datetime | None = None
    missed_at: datetime | None = None


class IncidentPhase(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class IncidentStatus(_Model):
    """What the `status` query returns: state, pending deadlines with due times, the timeline."""

    workflow_id: str
    incident_type: IncidentType
    title_zh: str
    clause: str
    flow: Flow
    drill: bool
    phase: IncidentPhase
    waiting_for: list[str]
    """Report kinds the clause is waiting for now."""
    deadlines: list[Deadline]
    timeline: list[TimelineEntry]


class ReportReceipt(_Model):
    """What an accepted report update returns to the sender."""

    accepted: bool
    seq: int
    message_zh: str


class IncidentOutcome(_Model):
    """A finished incident: its written report and its record."""

    workflow_id: str
    incident_type: IncidentType
    written_report_zh: str
    deadlines: list[Deadline]
    timeline: list[TimelineEntry]


REPORT_ADAPTER: TypeAdapter[Report] = TypeAdapter(Report)


def describe_validation_error(err: ValidationError, limit: int = 5) -> str:
    """Name each bad field and what is wrong with it, without echoing values (they may be personal)."""
    parts = []
    for e in err.errors()[:limit]:
        loc = ".".join(str(p) for p in e["loc"])
        if e["type"].startswith("union_tag"):  # the discriminator itself is wrong or missing
            loc = ".".join([loc, "kind"]) if loc else "kind"
        loc = loc or "(whole input)"
        parts.append(f"{loc}: {e['msg']}")
    more = len(err.errors()) - limit
    if more > 0:
        parts.append(f"... and {more} more")
    return "; ".join(parts)
