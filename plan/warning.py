"""Warnings (预警) and periodic screening (排查), as typed plan data (issue 20).

000 §4.1 预测与预警: 按照早发现、早报告、早处置的原则,对监测到的信息进行分析,及时发现事件苗头,并采取措施加以控制。
对早期发现的事件及时预警. 000 §2.2(1): the emergency office 负责日常信息监测、采集、汇总、分析与组织协调,及时向
区司法局应急指挥领导小组报告,提出预警及预案启动的建议. 001 §7(1): 定期排查分析社区矫正对象动态,及时发现社区矫正对象
各类不稳定因素苗头,采取针对性疏导、管理、教育措施,加强对突发事件的预测和防范.

A **sign** (苗头) is recorded by a 司法所, a section or the command centre (or found by a screening):
what, where, who is concerned, the source and how reliable it is, and the incident type it may turn
into (``expected_type``: an L type is the linkage plan's, a C type the correction plan's). The
**analysis** decides one of ``watch`` (control measures: 疏导、管理、教育), ``warn`` (a warning level, the
profile's recipients told) or ``propose`` (提出预案启动的建议 to the leadership group / 总指挥部, whose
``leadership_decision`` starts the incident or declines); a sign may also be ``dismissed``.

Personal data (the concerned subject) lives only in the encrypted payloads; ids, search attributes and
logs carry the office, the level and flags only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StrictBool, TypeAdapter, model_validator
from typing_extensions import Self

from plan.agencies import Agency
from plan.labels import ZhEnum
from plan.models import (
    AccountabilityRecord,
    Deadline,
    Duty,
    IncidentType,
    Jurisdiction,
    OnSite,
    Person,
    Phoned,
    ShortText,
    Subject,
    Text,
    TimelineEntry,
    Verified,
    _Model,
    _Report,
)

SIGN_ID = r"^[A-Za-z0-9_.\-]{1,64}$"
MAX_WARNING_BYTES = 64 * 1024
"""The largest sign input the doors take (as the incidents' limit: a payload, not a file)."""


class SignSource(ZhEnum):
    """Who recorded the sign (issue 20: a 司法所, a section, the command centre, or a screening)."""

    JUSTICE_OFFICE = "justice_office", "司法所"
    SECTION = "section", "科室"
    COMMAND_CENTRE = "command_centre", "指挥中心"
    SCREENING = "screening", "定期排查"


class Reliability(ZhEnum):
    """How reliable the information is (ours: the plans give no scale)."""

    CONFIRMED = "confirmed", "已核实"
    LIKELY = "likely", "基本可靠"
    UNVERIFIED = "unverified", "待核实"


class WarningLevel(ZhEnum):
    """The warning's level (ours: the plans name no levels; a bureau's profile says whom each reaches)."""

    BLUE = "blue", "四级(蓝色)预警"
    YELLOW = "yellow", "三级(黄色)预警"
    ORANGE = "orange", "二级(橙色)预警"
    RED = "red", "一级(红色)预警"


#: Whom a warning of each level reaches by default, besides the analysing office (ours: the plans
#: name no levels). Linkage plan (000 §2.1, §2.2(1)): the leadership group and the justice office; from
#: orange, the command centre too. Correction plan (001 §3): the 总指挥部 and the justice office; from
#: orange, the 执行地公安派出所 as well. A bureau's ``policy.warning_recipients`` overrides a level.
DEFAULT_RECIPIENTS: dict[str, dict[WarningLevel, tuple[Agency, ...]]] = {
    "linkage": {
        WarningLevel.BLUE: (Agency.LEADERSHIP_GROUP, Agency.JUSTICE_OFFICE),
        WarningLevel.YELLOW: (Agency.LEADERSHIP_GROUP, Agency.JUSTICE_OFFICE),
        WarningLevel.ORANGE: (Agency.LEADERSHIP_GROUP, Agency.JUSTICE_OFFICE, Agency.COMMAND_CENTRE),
        WarningLevel.RED: (Agency.LEADERSHIP_GROUP, Agency.JUSTICE_OFFICE, Agency.COMMAND_CENTRE),
    },
    "correction": {
        WarningLevel.BLUE: (Agency.CORRECTION_COMMAND, Agency.JUSTICE_OFFICE),
        WarningLevel.YELLOW: (Agency.CORRECTION_COMMAND, Agency.JUSTICE_OFFICE),
        WarningLevel.ORANGE: (Agency.CORRECTION_COMMAND, Agency.JUSTICE_OFFICE, Agency.POLICE_STATION),
        WarningLevel.RED: (Agency.CORRECTION_COMMAND, Agency.JUSTICE_OFFICE, Agency.POLICE_STATION),
    },
}


class MeasureKind(ZhEnum):
    """001 §7(1) 针对性疏导、管理、教育措施."""

    COUNSEL = "counsel", "疏导"
    MANAGE = "manage", "管理"
    EDUCATE = "educate", "教育"


class SignFacts(_Model):
    """One sign (苗头): what, where, who is concerned, source, reliability."""

    expected_type: IncidentType
    """The incident it may turn into: L1–L4 under the linkage plan (000), C1–C11 under the correction plan (001)."""
    what: Text
    """What was noticed (经过)."""
    place: ShortText
    jurisdiction: Jurisdiction
    concerned: Subject | None = None
    """The correction subject concerned (required for a C type; personal data: encrypted payload only)."""
    source: SignSource
    reliability: Reliability
    noticed_at: AwareDatetime
    recorder: Person
    """Who recorded it (unit and officer)."""

    @model_validator(mode="after")
    def _subject_for_correction(self) -> Self:
        if self.expected_type.is_correction and self.concerned is None:
            raise ValueError("concerned: the correction subject concerned is required for a C type (001 §7(1))")
        return self


class WarningInput(_Model):
    """What starts a warning workflow (``python -m starter warn``, ``IncidentClient.start_warning``)."""

    bureau: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9\-]{1,39}$")
    sign_id: str | None = Field(default=None, pattern=SIGN_ID)
    """The recorder's own number for the sign (no personal data); the workflow id is derived from it."""
    sign: SignFacts
    responsible: Person
    """Who answers for the warning at the analysing office (the incident's 应急指挥机构负责人 if it becomes one)."""
    screening_id: str | None = Field(default=None, pattern=r"^[\w.:\-]{1,200}$")
    """The screening period that found it (set by the screening workflow)."""
    drill: StrictBool = False


class Measure(_Model):
    kind: MeasureKind
    what: ShortText
    """What is to be done, e.g. 谈话教育 (ours)."""


class Analysis(_Report):
    """The analysis of a sign (000 §2.2(1) 分析; 001 §7(1) 排查分析)."""

    kind: Literal["analysis"]
    decision: Literal["watch", "warn", "propose"]
    assessment: Text
    """研判意见."""
    measures: list[Measure] = Field(default_factory=list, max_length=20)
    level: WarningLevel | None = None
    """For ``warn``."""
    incident_type: IncidentType | None = None
    """For ``propose``: the incident the plan would start (default: the sign's expected type)."""

    @model_validator(mode="after")
    def _fields_of_the_decision(self) -> Self:
        if self.decision in ("watch", "warn") and not self.measures:
            raise ValueError("measures: watching a sign takes at least one control measure (疏导、管理、教育)")
        if self.decision == "warn" and self.level is None:
            raise ValueError("level: a warning needs its level")
        if self.decision != "warn" and self.level is not None:
            raise ValueError("level: only for decision warn")
        return self


class LeadershipDecision(_Report):
    """The leadership group's (000 §2.1) or 总指挥部's (001 §3(1)) decision on a proposal to start the plan."""

    kind: Literal["leadership_decision"]
    start: StrictBool
    reason: Text
    commander: Person | None = None
    """Who commands the incident (default: the warning's responsible person)."""
    measures: list[Measure] = Field(default_factory=list, max_length=20)
    """Declined: the control measures the sign stays under (at least one)."""

    @model_validator(mode="after")
    def _measures_when_declined(self) -> Self:
        if not self.start and not self.measures:
            raise ValueError("measures: a declined proposal keeps the sign under watch with at least one measure")
        return self


class FollowUp(_Report):
    """A follow-up check of a sign under watch (动态关注)."""

    kind: Literal["follow_up"]
    situation: Text


class SignClosed(_Report):
    """The sign is resolved: watching ends."""

    kind: Literal["sign_closed"]
    result: Text


class Dismissed(_Report):
    """The sign is dismissed (not a sign): who and why are recorded."""

    kind: Literal["dismissed"]
    reason: Text


WarningReport = Annotated[
    Analysis | LeadershipDecision | FollowUp | SignClosed | Dismissed | Phoned | OnSite | Verified,
    Field(discriminator="kind"),
]
WARNING_REPORT_ADAPTER: TypeAdapter[WarningReport] = TypeAdapter(WarningReport)


class SignDraft(_Model):
    """A sign found by a screening: the screening fills in source, jurisdiction and recorder."""

    expected_type: IncidentType
    what: Text
    place: ShortText
    concerned: Subject | None = None
    reliability: Reliability = Reliability.LIKELY


class ScreeningRecord(_Report):
    """001 §7(1) 定期排查分析: a period's screening record of a justice office."""

    kind: Literal["screening_record"]
    subjects_screened: int = Field(ge=0, le=100000)
    signs: list[SignDraft] = Field(default_factory=list, max_length=50)
    recorder: Person
    responsible: Person


SCREENING_REPORT_ADAPTER: TypeAdapter[ScreeningRecord] = TypeAdapter(ScreeningRecord)


class ScreeningInput(_Model):
    """One screening period of one justice office (the schedule's action input)."""

    bureau: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9\-]{1,39}$")
    jurisdiction: Jurisdiction
    responsible: Person
    """Who answers for the office's screening (named in reminders and escalations)."""
    drill: StrictBool = False


class WarningStatus(_Model):
    """The ``status`` query of a warning."""

    workflow_id: str
    state: str
    """``analysing``, ``proposed``, ``watching``, ``closed``, ``dismissed``, ``escalated``."""
    state_zh: str
    level: WarningLevel | None = None
    waiting_for: list[str]
    incident_id: str | None = None
    summary_zh: str
    related: list[str] = Field(default_factory=list)
    """The screening period that found the sign; the incident it was escalated to."""
    timeline: list[TimelineEntry] = Field(default_factory=list)
    deadlines: list[Deadline] = Field(default_factory=list)
    duties: list[Duty] = Field(default_factory=list)


class WarningOutcome(_Model):
    workflow_id: str
    state: str
    incident_id: str | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)
    accountability: AccountabilityRecord | None = None


class ScreeningOutcome(_Model):
    workflow_id: str
    filed: bool
    subjects_screened: int = 0
    warnings: list[str] = Field(default_factory=list)
    accountability: AccountabilityRecord | None = None

