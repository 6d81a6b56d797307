"""Alarms of the electronic monitoring platform (信息化核查, 001 §4(4)), as typed plan data.

001 §4(4) names 信息化核查 among the ways a 司法所 searches for a subject (通讯联络、信息化核查、实地查访).
The platform raises an alarm when a subject's monitoring shows something wrong: 越界 (out of the
permitted area), 未签到 (a check-in missed), 人机分离 (the phone away from the person), 定位信号中断
(the location signal lost). Each alarm becomes a verification duty (初步核实) of the on-duty person of the
subject's 司法所, due by a local policy (``DeadlinePolicy.alarm_verification``):

- verified harmless (an approved leave, a device fault, ...) → closed with the finding, the officer's
  words and who verified;
- absconding confirmed → the C4 incident (001 §4(4)) starts with the alarm's facts, linked both ways;
- unverified by the due time → escalated (the section, then the leadership group), still open.

The alarm id is the platform's own (its idempotency key): the workflow id ``alarm-<alarm id>``, so a
redelivered alarm is the same workflow. It is stored and listed in plain text: no personal data (the
checks of ``plan/ids.py``). The subject's data rides in the (encrypted) payload only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal, Self

from pydantic import AwareDatetime, Field, StrictBool, TypeAdapter, model_validator

from plan.ids import alert_id_problem, workflow_id_problem
from plan.texts import fmt_time
from plan.labels import ZhEnum
from plan.models import (
    Duty,
    FreeText,
    IncidentType,
    Jurisdiction,
    Person,
    ShortText,
    Subject,
    Text,
    TimelineEntry,
    Verified,
    _Model,
    id_number_problem,
)

CLAUSE = "001 §4(4)"
TITLE_ZH = "信息化核查平台报警"  # (ours)
WORKFLOW_TYPE = "PlatformAlarm"
ID_PREFIX = "alarm-"
VERIFY_DUTY = "alarm-verify"
"""The one duty of an alarm: 初步核实, confirmed with ``verified``."""
MAX_ALARM_BYTES = 32 * 1024
"""An alarm is a few hundred bytes; the HTTP intake and the workflow refuse anything larger."""
MAX_AGE = timedelta(days=7)
"""An alarm raised longer ago than this is refused (a platform replaying its archive, a wrong clock)."""
MAX_FUTURE = timedelta(minutes=5)
ALARM_ID_PATTERN = r"^[A-Za-z0-9_.\-]{1,64}$"


class AlarmKind(ZhEnum):
    """What the platform saw (001 §4(4) 信息化核查)."""

    OUT_OF_BOUNDS = "out_of_bounds", "越界"
    NOT_SIGNED_IN = "not_signed_in", "未签到"
    DEVICE_SEPARATION = "device_separation", "人机分离"
    SIGNAL_LOST = "signal_lost", "定位信号中断"


class AlarmFinding(ZhEnum):
    """The verification's finding: harmless (with its cause), or absconding confirmed."""

    LEAVE_APPROVED = "leave_approved", "经批准请假外出"  # (ours)
    DEVICE_FAULT = "device_fault", "设备故障或电量耗尽"  # (ours)
    SIGNAL_BLIND_SPOT = "signal_blind_spot", "信号盲区"  # (ours)
    REPORTED = "reported", "已补签到或已到司法所报告"  # (ours)
    FALSE_ALARM = "false_alarm", "平台误报"  # (ours)
    OTHER_HARMLESS = "other_harmless", "其他无异常情形"  # (ours)
    ABSCONDED = "absconded", "脱离监督管理"

    @property
    def harmless(self) -> bool:
        return self is not AlarmFinding.ABSCONDED


class AlarmOutcome(ZhEnum):
    """Where an alarm stands (the ``AlarmOutcome`` search attribute)."""

    PENDING = "pending", "待核实"  # (ours)
    HARMLESS = "harmless", "核实无异常,已关闭"  # (ours)
    INCIDENT = "incident", "已转为事件"  # (ours)


class AlarmInput(_Model):
    """One alarm as the platform sends it (SDK, HTTP intake)."""

    alarm_id: str = Field(pattern=ALARM_ID_PATTERN)
    """The platform's alarm id: the idempotency key (a redelivery is the same alarm)."""
    kind: AlarmKind
    raised_at: AwareDatetime
    """When the platform raised it."""
    bureau: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9\-]{1,39}$")
    jurisdiction: Jurisdiction
    """The subject's county and 司法所: whose duty the verification is."""
    subject: Subject
    officer: Person
    """The 司法所's officer in charge of the subject (the platform's 责任人): told with the duty's
    facts, and the reporter and commander of the C4 incident if absconding is confirmed."""
    place: ShortText
    """Where the platform last located the subject (the incident's place if it becomes one)."""
    detail: FreeText = Field(default="", max_length=1000)
    """The platform's own words, e.g. ``越界 40 分钟``."""
    drill: StrictBool = False
    """A drill (演练, 001 §7(2)): notifications to the drill outbox, not counted in the reports."""

    @model_validator(mode="after")
    def _checks(self) -> Self:
        problem = alert_id_problem(self.alarm_id, self.model_dump(mode="json", include={"subject", "officer"}))
        if problem:
            raise ValueError(f"alarm_id: {problem}; use the platform's alarm number")
        return self

    @property
    def workflow_id(self) -> str:
        return alarm_workflow_id(self.alarm_id)


ALARM_ADAPTER: TypeAdapter[AlarmInput] = TypeAdapter(AlarmInput)


def alarm_workflow_id(alarm_id: str) -> str:
    """``alarm-<alarm id>``: one workflow per platform alarm (the idempotency key)."""
    return f"{ID_PREFIX}{alarm_id}"


def alarm_problems(alarm: AlarmInput, now: datetime, *, check_age: bool = True) -> list[str]:
    """What the model cannot check alone: the ID number's check digit, the alarm's time against now."""
    out: list[str] = []
    problem = id_number_problem(alarm.subject.id_number)
    if problem:
        out.append(f"subject.id_number: {problem}")
    if alarm.raised_at > now + MAX_FUTURE:
        out.append("raised_at: in the future (check the platform's clock)")
    if check_age and alarm.raised_at < now - MAX_AGE:
        out.append(f"raised_at: more than {MAX_AGE.days} days ago; an alarm that old is not taken")
    problem = workflow_id_problem(alarm.workflow_id)
    if problem:
        out.append(f"alarm_id: {problem}")
    return out


class AlarmVerified(Verified):
    """``verified`` for an alarm's 初步核实: the duty's evidence, with the finding."""

    finding: AlarmFinding
    """Harmless (its cause) or ``absconded`` (脱离监督管理: C4 starts)."""


ALARM_REPORT_ADAPTER: TypeAdapter[AlarmVerified] = TypeAdapter(AlarmVerified)


class AlarmStatus(_Model):
    """The ``status`` query of an alarm."""

    workflow_id: str
    alarm_id: str
    kind: AlarmKind
    justice_office: str
    county: str
    raised_at: datetime
    received_at: datetime
    due_at: datetime
    outcome: AlarmOutcome
    overdue: bool
    """Not verified by its due time (escalated); stays True once verified late."""
    finding: AlarmFinding | None = None
    verified_by: str = ""
    verified_at: datetime | None = None
    incident: str | None = None
    """The C4 incident it turned into (its workflow id)."""
    drill: bool = False
    duties: list[Duty] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)


class AlarmResult(AlarmStatus):
    """What an alarm workflow returns once closed."""


class AlarmReceipt(_Model):
    """The intake's answer to the platform."""

    workflow_id: str
    already_received: bool
    message_zh: str


class AlarmCounts(_Model):
    """A 日报 / 月通报 of one 司法所 (``starter/alarms.py``), from the visibility store."""

    office: str
    period: str
    """``2026-11-23`` (day) or ``2026-11`` (month), in the bureau's local time (UTC+8)."""
    kind: Literal["day", "month"]
    received: int
    verified_on_time: int
    verified_late: int
    escalated: int
    incidents: int
    harmless: int
    pending: int
    """Not yet verified (overdue or not)."""
    by_kind: dict[str, int] = Field(default_factory=dict)

    @property
    def on_time_rate(self) -> float | None:
        return self.verified_on_time / self.received if self.received else None


# --------------------------------------------------------------------------- texts (ours)


def received_zh(a: AlarmInput) -> str:
    return (f"收到信息化核查平台报警(报警编号 {a.alarm_id}):{a.kind.zh};平台报警时间 {_t(a.raised_at)};"  # (ours)
            f"{a.jurisdiction.county}{a.jurisdiction.justice_office}辖区社区矫正对象")  # (ours)


def duty_what_zh(a: AlarmInput) -> str:
    return f"初步核实信息化核查平台报警({a.kind.zh})"  # (ours)


def duty_say_zh(a: AlarmInput) -> str:
    detail = f"平台说明:{a.detail};" if a.detail else ""
    return (f"社区矫正对象{a.subject.name}{a.kind.zh}报警,平台最后定位:{a.place};{detail}"  # (ours)
            f"请通过通讯联络、信息化核查、实地查访等方式核实其下落和原因,"
            f"并报告核实结果(无异常的写明原因;确认脱离监督管理的立即报告)")  # (ours)


def finding_zh(v: AlarmVerified) -> str:
    return f"核实结果:{v.finding.zh};{v.result}(核实人:{v.actor})"  # (ours)


def incident_description_zh(a: AlarmInput, v: AlarmVerified) -> str:
    """The C4 incident's 经过: the alarm's facts and the verification's."""
    detail = f"平台说明:{a.detail}。" if a.detail else ""
    return (f"信息化核查平台{_t(a.raised_at)}报警(报警编号 {a.alarm_id}):{a.kind.zh},最后定位{a.place}。"  # (ours)
            f"{detail}经司法所初步核实,确认脱离监督管理:{v.result}(核实人:{v.actor})")  # (ours)


SITUATION_ZH = "经初步核实确认脱离监督管理,下落不明"  # (ours)
MEASURES_ZH = ("信息化核查", "初步核实")


def facts_zh(a: AlarmInput) -> str:
    """The alarm as the incident's 经过 (the duty's 000 §4.2 facts)."""
    detail = f",{a.detail}" if a.detail else ""
    return f"信息化核查平台报警(报警编号 {a.alarm_id}):{a.kind.zh}{detail}"  # (ours)


def _t(t: datetime) -> str:
    return fmt_time(t)


def as_dict(a: AlarmInput) -> dict[str, Any]:
    return a.model_dump(mode="json")
