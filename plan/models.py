"""Typed incident data: what starts an incident, what officers report, what the record holds.

Every model forbids unknown fields, so a typo in an operator's JSON is refused with the field's name
instead of being silently ignored. Report contents follow 000 §4.2 (time, place, course, result,
current situation, measures taken, commander's contact) as fields, not free text.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal, Self, TypeVar

from pydantic_core import PydanticCustomError, to_json
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    StrictBool,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from plan.ids import alert_id_problem, shape_problem
from plan.labels import ZhEnum

from plan.agencies import Agency



# --------------------------------------------------------------------------- text checks (issue 13)

#: Control characters (but tab, newline, carriage return), zero-width characters and bidirectional
#: overrides/isolates: refused in every name and free text (they hide or reorder what an officer reads).
_HIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _no_hidden_chars(v: str) -> str:
    m = _HIDDEN_CHARS.search(v)
    if m:
        raise ValueError(f"contains the invisible or control character U+{ord(m.group()):04X}; remove it")
    return v


def _nfkc(v: object) -> object:
    """Full-width digits and signs (１２３, ＋) become ASCII before the pattern is checked."""
    return unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v


Text = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_no_hidden_chars)]
ShortText = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_hidden_chars)]
FreeText = Annotated[str, AfterValidator(_no_hidden_chars)]
"""Optional free text (its length is set per field)."""
Phone = Annotated[str, BeforeValidator(_nfkc), Field(pattern=r"^[0-9+\-]{3,20}$")]
IdNumber = Annotated[str, BeforeValidator(_nfkc), Field(pattern=r"^[0-9]{17}[0-9Xx]$")]
"""A resident ID number (GB 11643): 18 ASCII characters after NFKC; its check digit is verified by
:func:`id_number_problem` at the doors (not here: a running incident's recorded input must replay)."""


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


class Flow(ZhEnum):
    """000 §4.3: 紧急处置流程 / 一般处置流程."""

    URGENT = "urgent", "紧急处置流程"
    GENERAL = "general", "一般处置流程"


class Source(ZhEnum):
    """000 §3(1)(2): an alert from the command centre, or a citizen's direct request."""

    COMMAND_CENTRE = "command_centre", "区社会应急联动指挥中心警情"
    CITIZEN_REQUEST = "citizen_request", "群众直接求助"
    WARNING = "warning", "预警转为事件"
    """Issue 20: started from a warning (000 §4.1) by the leadership's decision (``origin`` names it)."""
    PLATFORM_ALARM = "platform_alarm", "信息化核查平台报警"  # issue 20: a platform alarm confirmed (001 §4(4))


class Person(_Model):
    """A staff member or other contact: name, phone, unit."""

    name: ShortText
    phone: Phone
    unit: FreeText = Field(default="", max_length=200)


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
    id_number: IdNumber
    phone: Phone | None = None
    address: FreeText | None = Field(default=None, max_length=200)
    correction_category: FreeText = Field(default="", max_length=50)
    """管制 / 缓刑 / 假释 / 暂予监外执行."""
    family: list[FamilyContact] = Field(default_factory=list, max_length=10)


class DispatchInstruction(_Model):
    """The command centre's instruction (000 §4.3): where to go and whom to report to."""

    at: AwareDatetime | None = None
    """When the instruction was given; omitted = when the incident is received."""
    designated_place: ShortText
    designated_person: ShortText


class EpidemicScenario(ZhEnum):
    """001 §4(9): the four scenarios (情形一…情形四)."""

    S1 = "S1", "情形一:在社区矫正工作场所内被通知为健康码“红黄码”人员"
    """情形一: red/yellow code at a correction workplace."""
    S2 = "S2", "情形二:在全市辖区内被通知为健康码“红黄码”人员"
    """情形二: red/yellow code within the city."""
    S3 = "S3", "情形三:在外出期间被通知为健康码“红黄码”人员"
    """情形三: red/yellow code while away (外出期间)."""
    S4 = "S4", "情形四:被通知为密接、次密接、确诊人员"
    """情形四: close contact, secondary contact or confirmed case."""


class EpidemicCase(_Model):
    """001 §4(9): which scenario, and for 情形三 where the subject is."""

    scenario: EpidemicScenario
    away_place: FreeText | None = Field(default=None, min_length=1, max_length=200)
    """情形三: where the subject is while away (外出地)."""
    away_epidemic_department: FreeText | None = Field(default=None, min_length=1, max_length=200)
    """情形三: the epidemic department of the place where the subject is (当地疫情防控部门), by name."""
    away_epidemic_phone: Phone | None = None
    """情形三: its duty number; without one the justice office contacts it by hand (``notified_by_hand``)."""

    @model_validator(mode="after")
    def _away_place_for_s3(self) -> EpidemicCase:
        if self.scenario is EpidemicScenario.S3 and not self.away_place:
            raise ValueError("away_place: required for scenario S3 (外出期间)")
        return self


class L4Person(StrEnum):
    """000 §1.4(4): whose emergency it is."""

    CORRECTION_SUBJECT = "correction_subject"
    RELEASED_PRISONER = "released_prisoner"


class L4Case(_Model):
    """000 §1.4(4): a correction subject's emergency is handled under the matching 001 §4 clause."""

    person: L4Person
    correction_type: IncidentType | None = None
    """For a correction subject: the 001 §4 incident type (C1–C11) to hand over to."""

    @model_validator(mode="after")
    def _correction_type(self) -> L4Case:
        if self.person is L4Person.CORRECTION_SUBJECT:
            if self.correction_type is None or not self.correction_type.is_correction:
                raise ValueError("correction_type: a correction subject's emergency needs one of C1–C11")
        elif self.correction_type is not None:
            raise ValueError("correction_type: only for a correction subject")
        return self


_PEOPLE = {"subject", "reporter", "commander", "complainant", "help_seeker"}

CORRECTION_TYPES = tuple(t for t in IncidentType if t.is_correction)
"""C1–C11."""

_TYPE_FIELDS = {
    "complainant": (IncidentType.L2,),
    "help_seeker": (IncidentType.L3,),
    "l4": (IncidentType.L4,),
    "other_counties": (*CORRECTION_TYPES, IncidentType.L4),
    "casualties": (IncidentType.C1, IncidentType.L4),
    "at_justice_office": (IncidentType.C8, IncidentType.L4),
    "epidemic": (IncidentType.C9, IncidentType.L4),
}
"""The fields only some incident types take (the variants below), and which types."""

_REFUSED_ELSEWHERE = {
    "epidemic": "epidemic: only for C9, not {t}",
    "l4": "l4: only for L4, not {t}",
}
"""The type-specific fields refused with a value on another type since the first release (our words)."""

_FLAT_DEFAULTS: dict[str, Any] = {
    "alert_id": None, "current_situation": "", "measures_taken": [], "subject": None, "dispatch": None,
    "other_counties": [], "major": False, "drill": False, "casualties": False, "at_justice_office": False,
    "epidemic": None, "complainant": None, "help_seeker": None, "l4": None, "handed_over_from": None,
}
"""Every optional field of the one flat model incident inputs were before the variants, with its
default, in that model's order (``canonical_json``)."""


def _is_default(name: str, value: Any) -> bool:
    return value is None or value == _FLAT_DEFAULTS.get(name)


def _required(field: str, why: str) -> Any:
    """A variant's required field whose absence is refused in our words (``subject: required for ...``)."""

    def check(value: Any, info: ValidationInfo) -> Any:
        if value is None:
            raise PydanticCustomError("missing", why.format(t=info.data.get("incident_type", "")))
        return value

    return field_validator(field, mode="before")(check)


class OriginKind(ZhEnum):
    """What an incident was started from, when not from the centre or a citizen directly (issue 20)."""

    WARNING = "warning", "预警"
    ALARM = "alarm", "电子监管平台报警"


class Origin(_Model):
    """The warning (000 §4.1, 001 §7(1)) or the electronic-monitoring alarm an incident was started
    from (issue 20): set by ``workflows/mechanics/handover.py`` on the incident it starts, shown on the
    incident's timeline at start and returned by ``status``; the warning or alarm records the incident
    in turn, so the two are linked both ways. No personal data: ids and a summary of type and place only."""

    kind: OriginKind
    workflow_id: str = Field(pattern=r"^[\w.:\-]{1,200}$")
    """The warning's or alarm's workflow id (no personal data: plan/ids.py)."""
    summary_zh: str = Field(default="", max_length=200)
    """What it was, in Chinese, without names, ID numbers, phones or addresses (e.g. 预警等级、来源)."""
    clause: str = Field(default="", max_length=40)
    """The clause the origin workflow followed (``000 §4.1``); empty: the kind's default."""

    @model_validator(mode="after")
    def _no_personal_data(self) -> Self:
        for name in ("workflow_id", "summary_zh"):
            if shape_problem(getattr(self, name)):
                raise ValueError(f"origin.{name}: {shape_problem(getattr(self, name))}; no personal data here")
        return self


class IncidentBase(_Model):
    """What starts an incident (the 000 §4.2 information report, plus routing data): the fields every
    incident type takes. An input is one of the variants below, chosen by ``incident_type``
    (:data:`IncidentInput`, :data:`INCIDENT_INPUT_ADAPTER`)."""

    incident_type: IncidentType
    bureau: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9\-]{1,39}$")
    """The bureau that runs it (``config/bureaus/<id>.json``, issue 17); set by ``--bureau`` / the SDK
    door. In a bureau's own namespace it must be that bureau (or omitted)."""
    alert_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    """The command centre's alert number; the workflow id is derived from it (no personal data)."""
    flow: Flow
    source: Source
    occurred_at: AwareDatetime
    place: ShortText
    jurisdiction: Jurisdiction
    description: Text
    """经过: the course of events so far."""
    current_situation: FreeText = Field(default="", max_length=2000)
    """目前形势."""
    measures_taken: list[ShortText] = Field(default_factory=list, max_length=50)
    """已采取的措施."""
    reporter: Person
    commander: Person
    """应急指挥机构负责人 and contact (000 §4.2)."""
    subject: Subject | None = None
    """The community-correction subject: required for C1–C11 (:class:`CorrectionInput`), and for L4
    when the person is one."""
    dispatch: DispatchInstruction | None = None
    major: StrictBool = False
    """特别重大及重大突发事件: the leadership group leads (000 §2.1)."""
    drill: StrictBool = False
    """演练 (000 §6.2, 001 §7(2)): runs the real workflow, never reaches a real agency."""
    handed_over_from: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:/\-]{1,200}$")
    """Set by an L4 incident on the C-type it hands over to (its workflow id); not for operators."""
    origin: Origin | None = None
    """The warning or alarm this incident was started from (issue 20, ``workflows/mechanics/handover.py``);
    not for operators."""

    @model_validator(mode="before")
    @classmethod
    def _fields_of_the_type(cls, data: Any) -> Any:
        """A field another type takes: refused with a value where it always was (``epidemic``,
        ``l4``); otherwise dropped, as the one flat model of before ignored it (its recorded inputs,
        which carry every field, must replay); the doors refuse a value (:func:`fields_not_taken`)."""
        if not isinstance(data, dict):
            return data
        own = cls.model_fields
        foreign = [k for k in data if k in _TYPE_FIELDS and k not in own]
        if not foreign:
            return data
        for k in foreign:
            if k in _REFUSED_ELSEWHERE and not _is_default(k, data[k]):
                raise ValueError(_REFUSED_ELSEWHERE[k].format(t=data.get("incident_type")))
        return {k: v for k, v in data.items() if k not in foreign}

    @model_validator(mode="after")
    def _checks(self) -> Self:
        if self.alert_id is not None:  # stored and shown in plain text: no personal data (plan/ids.py)
            problem = alert_id_problem(self.alert_id, self.model_dump(mode="json", include=_PEOPLE))
            if problem:
                raise ValueError(f"alert_id: {problem}; use the command centre's alert number")
        if self.dispatch and self.dispatch.at and self.dispatch.at < self.occurred_at:
            raise ValueError("dispatch.at: the centre's instruction cannot precede occurred_at")
        return self


class DisputeInput(IncidentBase):
    """000 §1.4(1) 突发重大矛盾纠纷调处 (L1)."""

    incident_type: Literal[IncidentType.L1]


class LawyerComplaintInput(IncidentBase):
    """000 §1.4(2) 律师违规接案、收费投诉举报 (L2)."""

    incident_type: Literal[IncidentType.L2]
    complainant: Person | None = None
    """000 §1.4(2): who complained (told the outcome); omitted for an anonymous report."""


class LegalAidInput(IncidentBase):
    """000 §1.4(3) 法律援助 (L3)."""

    incident_type: Literal[IncidentType.L3]
    help_seeker: Person = Field(default=None, validate_default=True)
    """000 §1.4(3): who asks for legal aid (told the decision)."""

    _help_seeker_required = _required("help_seeker", "required for L3 (法律援助)")


class CorrectionBase(IncidentBase):
    """001 §4: the incidents of a community-correction subject."""

    subject: Subject = Field(default=None, validate_default=True)
    other_counties: list[ShortText] = Field(default_factory=list, max_length=20)
    """Other counties involved: their judicial bureaus are notified (001 §5(1))."""

    _subject_required = _required("subject", "required for correction incident {t}")



class CorrectionInput(CorrectionBase):
    """001 §4(2)–(7), (10), (11): a correction incident with no fields of its own."""

    incident_type: Literal[
        IncidentType.C2, IncidentType.C3, IncidentType.C4, IncidentType.C5, IncidentType.C6, IncidentType.C7,
        IncidentType.C10, IncidentType.C11,
    ]


class ViolenceInput(CorrectionBase):
    """001 §4(1) (C1)."""

    incident_type: Literal[IncidentType.C1]
    casualties: StrictBool = False
    """如有人员伤亡 (001 §4(1)): known at the start, so 120 is called at once."""


class WorkplaceViolenceInput(CorrectionBase):
    """001 §4(8) (C8)."""

    incident_type: Literal[IncidentType.C8]
    at_justice_office: StrictBool = False
    """001 §4(8): the violence happened at a justice office (司法所办公场所内)."""


class EpidemicInput(CorrectionBase):
    """001 §4(9) (C9)."""

    incident_type: Literal[IncidentType.C9]
    epidemic: EpidemicCase = Field(default=None, validate_default=True)
    """001 §4(9): the scenario (S1–S4)."""

    _epidemic_required = _required("epidemic", "required for C9 (scenario S1–S4, 001 §4(9))")


class ResettlementInput(IncidentBase):
    """000 §1.4(4) 社区矫正、刑释人员安置帮教突发情况 (L4): a correction subject's emergency is handed
    over to its 001 §4 type, which takes the fields of that type from this input."""

    incident_type: Literal[IncidentType.L4]
    l4: L4Case = Field(default=None, validate_default=True)
    """000 §1.4(4): whose emergency it is (and the 001 §4 type of a correction subject's)."""
    other_counties: list[ShortText] = Field(default_factory=list, max_length=20)
    casualties: StrictBool = False
    at_justice_office: StrictBool = False
    epidemic: EpidemicCase | None = None

    _l4_required = _required("l4", "required for L4 (person, and correction_type for a correction subject)")

    @model_validator(mode="after")
    def _the_person(self) -> Self:
        if self.l4.person is L4Person.RELEASED_PRISONER and self.subject is not None:
            raise ValueError("subject: a released prisoner is not a correction subject; describe the person in description")
        if self.l4.person is L4Person.CORRECTION_SUBJECT:
            if self.subject is None:
                raise ValueError("subject: required when l4.person is correction_subject")
            if self.l4.correction_type is IncidentType.C9 and self.epidemic is None:
                raise ValueError("epidemic: required when l4.correction_type is C9")
        return self


IncidentInput = Annotated[
    DisputeInput | LawyerComplaintInput | LegalAidInput | ResettlementInput | ViolenceInput | CorrectionInput
    | WorkplaceViolenceInput | EpidemicInput,
    Field(discriminator="incident_type"),
]
"""What starts an incident: the variant of its ``incident_type``. The JSON is the same for every
type (the fields of :class:`IncidentBase`) plus the fields the type takes."""

INCIDENT_INPUT_ADAPTER: TypeAdapter[IncidentInput] = TypeAdapter(IncidentInput)
"""Validates (``validate_python``, ``validate_json``) and dumps any incident input."""

_V = TypeVar("_V", bound=IncidentBase)


def variant(inp: IncidentBase, cls: type[_V]) -> _V:
    """``inp`` as the variant ``cls`` its workflow takes (``parse_input`` refuses an input of another
    type), typed: ``variant(self.incident, EpidemicInput).epidemic``."""
    if not isinstance(inp, cls):
        raise TypeError(f"{inp.incident_type.value} input is not a {cls.__name__}")
    return inp


def fields_not_taken(data: Any) -> list[str]:
    """The doors' refusal of a field with a value that the incident's type does not take (e.g.
    ``casualties`` on C2): the model drops such a field (recorded inputs must replay), the doors say so."""
    if not isinstance(data, dict):
        return []
    t = data.get("incident_type")
    problems = []
    for name, types in _TYPE_FIELDS.items():
        if name in data and name not in _REFUSED_ELSEWHERE and t not in types and not _is_default(name, data[name]):
            taken_by = "C1–C11 and L4" if len(types) > 2 else " and ".join(x.value for x in types)
            problems.append(f"{name}: only for {taken_by}, not {t}")
    return problems


_FLAT_ORDER = (
    "incident_type", "alert_id", "flow", "source", "occurred_at", "place", "jurisdiction", "description",
    "current_situation", "measures_taken", "reporter", "commander", "subject", "dispatch", "other_counties", "major",
    "drill", "casualties", "at_justice_office", "epidemic", "complainant", "help_seeker", "l4", "handed_over_from",
)


def canonical_json(inp: IncidentBase) -> bytes:
    """The input as the one flat model of before dumped it (every field in its order, defaults
    included): what the workflow id of a direct request hashes, so a retry across versions finds the
    same incident."""
    data = inp.model_dump(mode="json")
    return to_json({k: data.get(k, _FLAT_DEFAULTS.get(k)) for k in _FLAT_ORDER})


# --------------------------------------------------------------------------- reports


class _Report(_Model):
    """Common fields of every officer's progress report."""

    actor: ShortText
    """Who reports (unit and officer), e.g. "东城司法所 值班员"."""
    at: AwareDatetime | None = None
    """When it happened; defaults to when the workflow received it."""
    report_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:\-]{1,80}$")
    """Optional id: a report sent twice with the same id is recorded once."""
    note: FreeText = Field(default="", max_length=2000)


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


class SearchMethod(ZhEnum):
    """001 §4(4): 通讯联络、信息化核查、实地查访."""

    PHONE = "phone", "通讯联络"
    INFORMATION_SYSTEM = "information_system", "信息化核查"
    FIELD_VISIT = "field_visit", "实地查访"


class SearchResult(_Report):
    """001 §4(4): outcome of the justice office's search."""

    kind: Literal["search_result"]
    found: StrictBool
    methods: list[SearchMethod] = Field(min_length=1)
    risk_of_serious_incident: StrictBool = False
    """可能发生 001 §4(1)(2)(3) 所列情形, known at this search: the same as a ``risk`` report sent with it."""


class RiskSituation(ZhEnum):
    """001 §4(4) 可能发生上述(一)、(二)、(三)项所列情形."""

    C1 = "C1", "(一)实施行凶等犯罪或以要挟为目的的自杀自残"
    """(一) 行凶、杀人、放火、抢劫、绑架等犯罪, or coercive suicide, self-immolation, self-harm."""
    C2 = "C2", "(二)非法组织或参与群体性事件"
    """(二) 非法组织或参与群体性事件."""
    C3 = "C3", "(三)参与非正常上访"
    """(三) 参与非正常上访."""


class Risk(_Report):
    """001 §4(4): while the subject is missing, a risk of (一)(二)(三) is known — at any time, with or
    without a search result: 司法所应当立即通知执行地公安派出所协助查找和处置,并上报区司法局社区矫正管理科."""

    kind: Literal["risk"]
    situations: list[RiskSituation] = Field(min_length=1, max_length=3)
    grounds: Text
    """What points to the risk (e.g. threats made to the victim's family)."""


class SubjectFound(_Report):
    """001 §4(4): whereabouts found after the section was told."""

    kind: Literal["subject_found"]
    urgent: StrictBool = False
    """情形紧急: the subject is brought back at once instead of ordered to report."""


class Punishment(_Report):
    """001 §4: punishment decided by the correction section (final result reported up)."""

    kind: Literal["punishment"]
    decision: ShortText
    """e.g. 训诫, 警告, 提请撤销缓刑; or 不予处罚 with the reason in ``note``."""


# ----- common to every incident: organisation and after-handling (000 §2.1, 001 §3, §5)


class PlanDecisionKind(StrEnum):
    ACTIVATE = "activate"
    TERMINATE = "terminate"


class PlanDecision(_Report):
    """000 §2.1 / 001 §3(1): the leadership group (指挥部) decides to activate or terminate the plan."""

    kind: Literal["plan_decision"]
    decision: PlanDecisionKind


class CommandGroup(ZhEnum):
    """001 §3(4): the five specialised groups an on-site command may set up."""

    ONSITE_HANDLING = "onsite_handling", "现场处置组"
    ORDER = "order", "秩序维护组"
    MEDICAL = "medical", "医疗救治组"
    LOGISTICS = "logistics", "后勤保障组"
    INFORMATION = "information", "信息综合组"


class CommandSet(_Report):
    """001 §3(3)(4): the on-site command (现场指挥部) and the assignment of each group it sets up."""

    kind: Literal["command_set"]
    commander: ShortText
    groups: dict[CommandGroup, ShortText] = Field(min_length=1)
    """Group -> who leads it and what it does, e.g. {"order": "东城派出所 张警官,现场警戒"}."""


class ReleaseAction(StrEnum):
    DRAFT = "draft"
    APPROVE = "approve"
    REJECT = "reject"
    PUBLISH = "publish"
    WITHDRAW = "withdraw"


class Release(_Report):
    """001 §5(3): information release — drafted, reviewed by the functional department, published once."""

    kind: Literal["release"]
    action: ReleaseAction
    content: FreeText = Field(default="", max_length=2000)
    """The text to publish (action ``draft``)."""
    department: FreeText = Field(default="", max_length=200)
    """The functional department that reviewed it (``approve`` / ``reject``)."""

    @model_validator(mode="after")
    def _fields_per_action(self) -> Release:
        if self.action is ReleaseAction.DRAFT and not self.content:
            raise ValueError("content: required to draft a release")
        if self.action in (ReleaseAction.APPROVE, ReleaseAction.REJECT) and not self.department:
            raise ValueError("department: the reviewing functional department is required")
        return self


class Review(_Report):
    """001 §5(2): after handling, course and cause found, lessons drawn, improvements set; reported up."""

    kind: Literal["review"]
    course: Text
    cause: Text
    lessons: Text
    improvements: Text


class AftermathDone(_Report):
    """000 §4.4: the aftermath (善后处置) the bureau did with the departments concerned is complete."""

    kind: Literal["aftermath_done"]
    summary: Text


class NotifiedByHand(_Report):
    """A notification the system could not deliver, made by hand (phone, fax) by the duty officer."""

    kind: Literal["notified_by_hand"]
    step: ShortText
    recipient: Agency


# ----- clause reports of 001 §4


class Casualties(_Report):
    """001 §4(1): 如有人员伤亡 — 120 / hospital at once."""

    kind: Literal["casualties"]
    injured: int = Field(ge=0, le=10000)
    dead: int = Field(default=0, ge=0, le=10000)

    @model_validator(mode="after")
    def _someone_hurt(self) -> Casualties:
        if self.injured + self.dead == 0:
            raise ValueError("injured: a casualties report needs at least one injured or dead person")
        return self


class Persuasion(_Report):
    """001 §4(2)(5)(8)(10): the subject was told to leave / to stop; did they comply?"""

    kind: Literal["persuasion"]
    complied: StrictBool
    call_police: StrictBool = True
    """001 §4(2)(5) say the section *may* (可以) call 110 when the subject refuses to leave: false records
    that it decided not to (e.g. the police are already on site). 001 §4(8)(10) say it must (应当)."""
    equipment_used: StrictBool = False
    """001 §4(8): 事态紧急的,可通过执勤执法装备制止暴力行为."""


class Handled(_Report):
    """001 §4: on-site handling over (事件处置后 / 处置完毕), before punishment is decided."""

    kind: Literal["handled"]
    crime_suspected: StrictBool = False
    """001 §4(1): 对涉嫌实施犯罪的社区矫正对象,配合公安机关开展犯罪侦查和调查取证工作."""
    claims: list[Text] = Field(default_factory=list, max_length=20)
    """001 §4(3): the subject's lawful and reasonable claims (合法合理诉求), each studied and answered
    (``claim_handled``) before the incident closes. A single string is taken as one claim."""

    @field_validator("claims", mode="before")
    @classmethod
    def _one_claim(cls, v: object) -> object:
        if isinstance(v, str):
            return [v] if v.strip() else []
        return v


class ClaimHandled(_Report):
    """001 §4(3) 对社区矫正对象反映的合法合理诉求,要认真研究处理: who studied claim N and the outcome."""

    kind: Literal["claim_handled"]
    claim: int = Field(ge=1, le=20)
    """Which claim of the ``handled`` report (1 = the first)."""
    studied_by: ShortText
    outcome: Text


class CoordinationDepartment(StrEnum):
    """001 §4(11) 联系协调公安等相关职能部门: the departments an officer may choose."""

    POLICE_STATION = "police_station"
    POLICE_ORGAN = "police_organ"
    PETITION_OFFICE = "petition_office"
    EPIDEMIC_DEPARTMENT = "epidemic_department"


class Coordinate(_Report):
    """001 §4(11): 可以…联系协调公安等相关职能部门予以妥善处置 — the officer chooses which departments."""

    kind: Literal["coordinate"]
    departments: list[CoordinationDepartment] = Field(min_length=1, max_length=4)
    request: Text
    """What the departments are asked to do."""


class PoliceRequested(_Report):
    """001 §4(6)(11): police called when needed (必要时 / 联系协调公安)."""

    kind: Literal["police_requested"]
    reason: Text


class DeathVerification(_Report):
    """001 §4(6): family, guardian, guarantor contacted; is the death verified (核实死亡真实性)?"""

    kind: Literal["death_verification"]
    verified: StrictBool


class ActivityStopped(_Report):
    """001 §4(7) 终止教育学习、公益活动: the activity was stopped."""

    kind: Literal["activity_stopped"]


class SiteInspection(_Report):
    """001 §4(7) 开展现场设施安全检查: the site's facilities were inspected (after the activity stopped)."""

    kind: Literal["site_inspection"]
    findings: Text


class CasualtyOutcome(_Report):
    """001 §4(7): outcome of treatment; did the subject die? Taken once the site inspection is reported."""

    kind: Literal["casualty_outcome"]
    subject_died: StrictBool
    site_inspected: StrictBool | None = None
    """Superseded by the ``site_inspection`` report (kept so that older senders are not refused)."""
    summary: Text


class TransferDone(_Report):
    """001 §4(9) 情形一: transfer and isolation with the epidemic department done."""

    kind: Literal["transfer_done"]


class OthersReleased(_Report):
    """001 §4(9) 情形一: the epidemic department's notice for the others kept on site."""

    kind: Literal["others_released"]


class DailyContact(_Report):
    """001 §4(9) 情形三: the justice office's daily contact with the subject away."""

    kind: Literal["daily_contact"]
    reached: StrictBool
    health: FreeText = Field(default="", max_length=500)


class Cleared(_Report):
    """001 §4(9): the code cleared / the situation basically clear (情况基本明确)."""

    kind: Literal["cleared"]
    summary: Text


class ScreeningResult(_Report):
    """001 §4(9) 情形四: screening of staff and other subjects as the department requires."""

    kind: Literal["screening_result"]
    result: Text


# ----- clause reports of 000 §1.4(2)–(4)


class ComplaintResult(_Report):
    """000 §1.4(2): outcome of the investigation of a complaint about a lawyer."""

    kind: Literal["complaint_result"]
    substantiated: StrictBool
    findings: Text
    action: Text
    """处理措施, e.g. (ours) 责令退还违规收取的费用并移送律师协会."""


class AidDecision(_Report):
    """000 §1.4(3): legal aid granted or refused (a refusal states its reason)."""

    kind: Literal["aid_decision"]
    granted: StrictBool
    reason: Text


class Resettlement(_Report):
    """000 §1.4(4): resettlement-and-support measures for a released prisoner (安置帮教)."""

    kind: Literal["resettlement"]
    measures: list[ShortText] = Field(min_length=1, max_length=50)


class MediationOutcomeKind(ZhEnum):
    AGREEMENT = "agreement", "达成调解协议"
    NO_AGREEMENT = "no_agreement", "未达成调解协议"
    REFERRED = "referred", "移交有关部门处理"


class LegalSupportRequested(_Report):
    """000 §1.4(1), §2.3: 为事件妥善处理提供法律服务 (legal-service group)."""

    kind: Literal["legal_support_requested"]
    need: Text


class MediationOutcome(_Report):
    """000 §2.3: the mediation group reports the outcome of 调处."""

    kind: Literal["mediation_outcome"]
    outcome: MediationOutcomeKind
    summary: Text


class Phoned(_Report):
    """A phone duty done (000 §4.2 立即采用电话、传真等方式, 001 §4(1)(8)(9)): with whom, and what was agreed.
    ``at`` is the stated time of the call (kept beside the receipt, never used to judge)."""

    kind: Literal["phoned"]
    duty: str = Field(pattern=r"^[a-z0-9][a-z0-9_.\-]{0,79}$")
    """The duty's id (``duties`` query, the task message)."""
    counterpart: ShortText
    """Whom the officer reached (e.g. "110接警员 王某")."""
    agreed: FreeText = Field(default="", max_length=2000)
    """What was agreed (e.g. "出警,约10分钟到场" (ours))."""


class OnSite(_Report):
    """An on-site duty done (001 §4(1) 在第一时间前往事发现场, 000 §4.3 赶至指定地点)."""

    kind: Literal["on_site"]
    duty: str = Field(pattern=r"^[a-z0-9][a-z0-9_.\-]{0,79}$")


class Verified(_Report):
    """A verification duty done (001 §4(6) 核实情况): the result as found."""

    kind: Literal["verified"]
    duty: str = Field(pattern=r"^[a-z0-9][a-z0-9_.\-]{0,79}$")
    result: Text
    """What the verification found."""


DUTY_REPORT_KINDS = frozenset({"phoned", "on_site", "verified"})
"""Reports that discharge a person's duty (``workflows/mechanics/duties.py``); taken at any time."""


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
    | MediationOutcome
    | PlanDecision
    | CommandSet
    | Release
    | Review
    | NotifiedByHand
    | AftermathDone
    | Risk
    | ClaimHandled
    | ActivityStopped
    | SiteInspection
    | Coordinate
    | Casualties
    | Persuasion
    | Handled
    | PoliceRequested
    | DeathVerification
    | CasualtyOutcome
    | TransferDone
    | OthersReleased
    | DailyContact
    | Cleared
    | ScreeningResult
    | ComplaintResult
    | AidDecision
    | Resettlement
    | Phoned
    | OnSite
    | Verified,
    Field(discriminator="kind"),
]

COMMON_REPORT_KINDS = frozenset(
    {
        "dispatched",
        "arrived",
        "progress",
        "feedback",
        "closed",
        "plan_decision",
        "command_set",
        "release",
        "review",
        "notified_by_hand",
        "aftermath_done",
        "phoned",
        "on_site",
        "verified",
    }
)
"""Report kinds every incident type takes (000 §2.1, §3, §4; 001 §3, §5)."""


# --------------------------------------------------------------------------- record


class EntryKind(ZhEnum):
    INCIDENT = "incident", "接报"
    NOTIFICATION_ISSUED = "notification_issued", "发出通知"
    """A notification issued: its activity is scheduled (delivery is recorded when it lands)."""
    NOTIFICATION = "notification", "通知"
    """A notification delivered."""
    NOTIFICATION_FAILED = "notification_failed", "通知失败"
    REPORT = "report", "报告"
    REFUSED = "refused", "报告未受理"
    DEADLINE_SET = "deadline_set", "设定时限"
    DEADLINE_MET = "deadline_met", "时限完成"
    DEADLINE_MISSED = "deadline_missed", "时限超时"
    DEADLINE_LATE = "deadline_late", "超时后完成"
    REMINDER = "reminder", "时限提醒"
    DECISION = "decision", "决定"
    ACKNOWLEDGED = "acknowledged", "回执"
    DUTY_ASSIGNED = "duty_assigned", "值班任务"
    DUTY_DONE = "duty_done", "任务完成"
    DUTY_ESCALATED = "duty_escalated", "任务督办"


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


class DeadlineStatus(ZhEnum):
    PENDING = "pending", "未到期"
    MET = "met", "按时完成"
    MISSED = "missed", "超时未完成"
    LATE = "late", "超时后完成"
    """Missed, then fulfilled after the due time."""
    CANCELLED = "cancelled", "已撤销"


class Deadline(_Model):
    """A deadline the plan sets (an obligation with a due time), and what became of it."""

    id: str
    title_zh: str
    clause: str
    due_at: datetime
    status: DeadlineStatus = DeadlineStatus.PENDING
    fulfilled_at: datetime | None = None
    missed_at: datetime | None = None
    reminders: list[timedelta] = Field(default_factory=list)
    """Remind the handling unit this long before the due time."""
    escalate_to: list[Agency] = Field(default_factory=list)
    """Who is told when the deadline is missed."""


class ObligationStatus(ZhEnum):
    """001 §7(4): what the bureau is held to (迟报、漏报)."""

    ON_TIME = "on_time", "按时"
    LATE = "late", "迟报"
    """迟报: done, but received after the due time."""
    OVERDUE = "overdue", "超时未报"
    """超时未报: not done, the due time has passed, and the incident is still open."""
    MISSING = "missing", "漏报"
    """漏报: never done when the incident closed."""
    PENDING = "pending", "待报"
    NOT_REQUIRED = "not_required", "不再适用"
    """The obligation lapsed because the situation that required it ended (e.g. the subject was cleared)."""


class Obligation(_Model):
    """One report the plans require, with its due time and what became of it (001 §7(4))."""

    id: str
    title_zh: str
    clause: str
    due_at: datetime
    status: ObligationStatus
    done_at: datetime | None = None
    """When the workflow received the report or delivery that discharged it: what the register judges."""
    stated_at: datetime | None = None
    """The time the officer stated (``at``), recorded beside ``done_at``; never used to judge."""
    recipient: Agency | None = None
    how: str = ""
    """How it was done: system, by hand (人工), or by an officer's report."""
    person: str | None = None
    """A person's duty: the responsible person (the on-duty officer at the time, from the roster)."""
    role: Agency | None = None
    """A person's duty: the role it belongs to (司法所, 社区矫正管理科, ...)."""
    indicators: list[str] = Field(default_factory=list)
    """Indicators an officer reviews (001 §7(4) 谎报/瞒报), never verdicts: see docs/reports.md."""


class DutyForm(StrEnum):
    """How a duty is done, in the plan's words (docs/clauses.md marks each clause's form)."""

    MESSAGE = "message"
    """An automated message (SMS, e-mail, platform push): discharged by its delivery (and 回执)."""
    PHONE = "phone"
    """电话: a person phones the counterpart; discharged by ``phoned``."""
    ON_SITE = "on_site"
    """前往事发现场 / 赶至指定地点: a person goes; discharged by ``on_site``."""
    WRITTEN = "written"
    """书面报告: sent as a written message; discharged by its delivery."""
    VERIFICATION = "verification"
    """核实: a person verifies; discharged by ``verified``."""


class DutyStatus(StrEnum):
    OPEN = "open"
    """Not yet discharged (escalated or not)."""
    DONE = "done"
    """Discharged by its evidence (a report, or a delivery)."""
    CANCELLED = "cancelled"
    """No longer applies (the incident ended before it was due and the clause lifted it)."""


class Duty(_Model):
    """One duty of a person in a role (the ``duties`` query; web duty board).

    Times are aware datetimes (UTC on the wire). ``person_zh`` is the on-duty officer resolved from the
    roster when the task was delivered (000 §5.2); empty until then, or the role's name without a roster.
    """

    id: str
    title_zh: str
    """What must be done, in the plan's words."""
    clause: str
    role: Agency
    form: DutyForm
    due_at: datetime
    issued_at: datetime
    person: str | None = None
    """Roster id of the responsible person (``None``: no roster, or nobody on duty)."""
    person_zh: str = ""
    counterpart: Agency | None = None
    counterpart_zh: str = ""
    counterpart_phone: str | None = None
    """The number to call (directory, or the family contact of the incident)."""
    evidence: str = ""
    """What discharges it: the report kind (``phoned``, ``on_site``, ``verified``) or ``delivery``."""
    by_report: str = ""
    """The clause's own report that discharges it too (``search_result``, ``daily_contact``,
    ``persuasion``: the officer's report of what the call or search found), or empty."""
    status: DutyStatus = DutyStatus.OPEN
    done_at: datetime | None = None
    """When the confirmation was received: what the register judges."""
    stated_at: datetime | None = None
    """The time the officer stated; shown beside ``done_at``, never used to judge."""
    done_by: str = ""
    result_zh: str = ""
    """Counterpart and what was agreed (``phoned``), or the verification's result."""
    escalated_to: list[Agency] = Field(default_factory=list)
    indicators: list[str] = Field(default_factory=list)
    """001 §7(4) indicators for an officer to review (never verdicts; docs/reports.md)."""


class DutyBoard(_Model):
    """What the ``duties`` query returns: open duties first (soonest due first), then the closed ones."""

    workflow_id: str
    incident_type: IncidentType
    open: list[Duty]
    closed: list[Duty]


class AccountabilityRecord(_Model):
    """Every required report of an incident and whether it was on time, late, or missing."""

    workflow_id: str
    incident_type: IncidentType
    obligations: list[Obligation]
    on_time: int
    late: int
    missing: int
    pending: int
    overdue: int = 0
    archived: int = 0
    """Obligations and deadlines of a long incident moved to the archive; their outcomes are in the counts."""


class IncidentPhase(ZhEnum):
    OPEN = "open", "处置中"
    """Handling (处置中)."""
    HANDLED = "handled", "处置完毕,待事后总结"
    """Handling over, written report sent; the post-incident review (001 §5(2)) is awaited."""
    CLOSED = "closed", "已办结"


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
    plan_active: bool = False
    """000 §2.1: the leadership group has activated the plan and not yet terminated it."""
    command: dict[str, str] = Field(default_factory=dict)
    """001 §3(3)(4): on-site commander and groups, by group name (Chinese)."""
    release: str = "none"
    """001 §5(3): none / drafted / approved / rejected / published / withdrawn."""
    related: list[str] = Field(default_factory=list)
    """Workflow ids of incidents handed over to (L4 → C-type) or from."""
    run: int = 1
    """Which run of a long incident this is (continue-as-new keeps each history bounded)."""
    archived: int = 0
    """Timeline entries not in this answer: moved to the archive by earlier runs (``python -m starter
    archive ID``) or older than the most recent 1,000 this answer holds."""
    duties: list[Duty] = Field(default_factory=list)
    """Open duties of people, soonest due first (shown before the timeline)."""
    origin: Origin | None = None
    """The warning or alarm the incident was started from (issue 20), if any."""


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
    closed: Closed | None = None
    review_report_zh: str = ""
    """001 §5(2): the post-incident review sent up (correction incidents)."""
    accountability: AccountabilityRecord | None = None
    related: list[str] = Field(default_factory=list)


class Acknowledgement(_Model):
    """A recipient's confirmation of receipt (回执), sent by its gateway to the ``acknowledge`` signal."""

    key: str = Field(min_length=1, max_length=300)
    """The notification's idempotency key (workflow id / step / recipient), as the channel sent it."""
    by: ShortText
    """Who confirmed, e.g. "110指挥中心 接警员 0371"."""
    at: AwareDatetime | None = None


class CarriedState(_Model):
    """What a long incident carries into its next run (continue-as-new), so nothing is forgotten."""

    run: int
    timeline: list[TimelineEntry]
    deadlines: list[Deadline]
    obligations: list[Obligation]
    reports: list[dict]
    consumed: list[int]
    report_ids: dict[str, int]
    dispatch: DispatchInstruction | None
    arrived: bool
    feedback_sent: bool
    course: list[str]
    plan_active: bool
    plan_activated: bool
    command: dict[str, str]
    release: str
    release_content: str
    clause_state: dict[str, int | str | bool]
    report_hashes: dict[str, str] = Field(default_factory=dict)
    """report_id -> fingerprint of the report first sent with it (:func:`report_fingerprint`)."""


class Continued(_Model):
    """The argument of a continued run: the original input and the carried state."""

    input: IncidentInput
    carried: CarriedState


REPORT_ADAPTER: TypeAdapter[Report] = TypeAdapter(Report)


_TYPE_TAGS = frozenset(t.value for t in IncidentType)
_TYPES_EXPECTED = "Input should be " + ", ".join(f"'{t.value}'" for t in list(IncidentType)[:-1]) + \
    f" or '{list(IncidentType)[-1].value}'"


def describe_validation_error(err: ValidationError, limit: int = 5) -> str:
    """Name each bad field and what is wrong with it, without echoing values (they may be personal).

    An incident input's variant (its ``incident_type``, :data:`IncidentInput`) is left out of the
    field's name, and a wrong or missing ``incident_type`` is named as a field, as it was before the
    variants: ``place: Field required``, ``incident_type: Input should be 'L1', … or 'C11'``."""
    parts = []
    for e in err.errors()[:limit]:
        path = [str(p) for p in e["loc"] if not (isinstance(p, str) and p in _TYPE_TAGS)]
        msg = e["msg"]
        if e["type"].startswith("union_tag"):  # the discriminator itself is wrong or missing
            tag = str((e.get("ctx") or {}).get("discriminator", "'kind'")).strip("'")
            path.append(tag)
            if tag == "incident_type":
                msg = _TYPES_EXPECTED if e["type"] == "union_tag_invalid" else "Field required"
        loc = ".".join(path) or "(whole input)"
        parts.append(f"{loc}: {msg}")
    more = len(err.errors()) - limit
    if more > 0:
        parts.append(f"... and {more} more")
    return "; ".join(parts)


# --------------------------------------------------------------------------- the doors' checks (issue 13)
# Separate functions, not model validators: they depend on the clock, or are stricter than inputs
# already recorded in running incidents' histories (which must replay unchanged). The SDK door and the
# CLI call them; the workflow calls them on a new incident (``workflow.patched``) against workflow.now().

MAX_FUTURE = timedelta(minutes=5)
"""How far in the future a stated time may lie (clock skew between the officer's device and ours)."""
MAX_AGE = timedelta(days=365)
"""How long ago an incident may have occurred (or the centre have given its instruction) when it is
started: an older time is a typo (1970, a wrong year), never an incident to handle now."""
MAX_REPORT_BYTES = 64 * 1024
"""Largest report (JSON, UTF-8) taken through any door; the field limits keep real reports far below."""
MAX_INCIDENT_BYTES = 256 * 1024
"""Largest incident input (JSON, UTF-8) taken through any door."""

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_digit(first17: str) -> str:
    """GB 11643-1999 check digit (ISO 7064 MOD 11-2) of the first 17 digits of a resident ID number."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def id_number_problem(id_number: str) -> str | None:
    """Why a resident ID number is not valid (its check digit), or None; never echoes the number."""
    if len(id_number) != 18 or not id_number[:17].isascii() or not id_number[:17].isdigit():
        return "not 17 digits and a check digit"
    if id_check_digit(id_number[:17]) != id_number[17].upper():
        return "the check digit (GB 11643) does not match; check the number"
    return None


def _time_problem(name: str, t: datetime, now: datetime, check_age: bool) -> str | None:
    if t > now + MAX_FUTURE:
        return f"{name}: lies in the future (more than {int(MAX_FUTURE.total_seconds() // 60)} minutes ahead)"
    if check_age and t < now - MAX_AGE:
        return f"{name}: more than {MAX_AGE.days} days ago; check the year"
    return None


def incident_problems(inp: IncidentInput, now: datetime, *, check_age: bool = True) -> list[str]:
    """What the doors refuse in an otherwise well-formed incident: times out of bounds (``occurred_at``,
    ``dispatch.at``), a dispatch before the occurrence, a resident ID number whose check digit fails.

    ``check_age=False`` (the workflow): only the future bound, since a workflow's clock only moves
    forward from the start (the age bound is the doors')."""
    problems = []
    for name, t in (("occurred_at", inp.occurred_at), ("dispatch.at", inp.dispatch.at if inp.dispatch else None)):
        if t is not None:
            p = _time_problem(name, t, now, check_age)
            if p:
                problems.append(p)
    if inp.dispatch and inp.dispatch.at and inp.dispatch.at < inp.occurred_at:
        problems.append("dispatch.at: the centre's instruction cannot precede occurred_at")
    if inp.subject is not None:
        p = id_number_problem(inp.subject.id_number)
        if p:
            problems.append(f"subject.id_number: {p}")
    return problems


def report_fingerprint(report: BaseModel) -> str:
    """A report's content, canonical and hashed (its ``report_id`` left out): a resend with the same id
    has the same fingerprint; another report reusing the id does not (refused, as payment APIs refuse a
    reused idempotency key)."""
    body = report.model_dump(mode="json", exclude={"report_id"})
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON (what a door measures against its limit)."""
    if isinstance(value, BaseModel):
        return len(value.model_dump_json().encode())
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, str):
        return len(value.encode())
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode())
