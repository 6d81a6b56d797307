"""The Chinese labels officers and agencies read, in the plans' terms: each code carries its own.

Every enum an officer sees is a :class:`ZhEnum`: its members are declared with their label
(``URGENT = "urgent", "紧急处置流程"``) and ``.zh`` gives it (``Flow.URGENT.zh``); the value stays the
plain English code, so pydantic, JSON and the histories see the same strings as before. The enums of
the plan data live with their models (``plan/models.py``: flow, source, phase, deadline and obligation
status, timeline entry, scenario, search method, risk, command group, mediation outcome;
``plan/agencies.py``: ``Agency``); the codes that are not model fields (report kinds, release states,
Temporal's execution status, delivery channels) are below. ``ZhEnum.zh_of(code)`` labels a code that
may be unknown (shown as it is). The CLI, the rendered reports and the notification texts
(``plan/texts.py``) all take their labels from ``.zh``; ``--json`` output keeps the English codes.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Self

__all__ = [
    "Channel", "ExecutionStatus", "IN_FLIGHT_ZH", "ReleaseState", "ReportKind", "ZhEnum", "clause_zh", "kind_zh",
    "channel_zh", "codes_in_text_zh", "numeral_zh", "refusal_zh", "waiting_zh",
]


class ZhEnum(StrEnum):
    """A code with its Chinese label: ``URGENT = "urgent", "紧急处置流程"``. The member's value is the
    code alone (``Flow("urgent")``, JSON ``"urgent"``); ``.zh`` is the label."""

    _zh: str

    def __new__(cls, value: str, zh: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member._zh = zh
        return member

    @property
    def zh(self) -> str:
        """The Chinese label, as officers read it."""
        return self._zh

    @classmethod
    def codes(cls) -> frozenset[str]:
        """Every code of this enum."""
        return frozenset(m.value for m in cls)

    @classmethod
    def zh_of(cls, code: str) -> str:
        """The label of ``code``, or ``code`` itself when it is not one of this enum's codes."""
        member = cls._value2member_map_.get(code)
        return member.zh if isinstance(member, ZhEnum) else code


IN_FLIGHT_ZH = "已发出,待送达"
"""A deadline whose fulfilling message is issued but not yet delivered (the feedback sent on closing)."""


class ReportKind(ZhEnum):
    """Every report kind an officer sends (``plan/models.py`` ``Report``), and ``acknowledge`` (回执)."""

    DISPATCHED = "dispatched", "指挥中心指令"
    ARRIVED = "arrived", "到场报告"
    PROGRESS = "progress", "处置进展"
    FEEDBACK = "feedback", "处置情况反馈"
    CLOSED = "closed", "处置完毕报告"
    SEARCH_RESULT = "search_result", "查找结果"
    SUBJECT_FOUND = "subject_found", "查找到下落"
    PUNISHMENT = "punishment", "处罚决定"
    LEGAL_SUPPORT_REQUESTED = "legal_support_requested", "法律服务需求"
    MEDIATION_OUTCOME = "mediation_outcome", "调处结果"
    PLAN_DECISION = "plan_decision", "预案启动或终止决定"
    COMMAND_SET = "command_set", "成立现场指挥部"
    RELEASE = "release", "信息发布"
    REVIEW = "review", "事后总结"
    NOTIFIED_BY_HAND = "notified_by_hand", "人工通知补报"
    PHONED = "phoned", "电话联系确认"
    ON_SITE = "on_site", "到场确认"
    VERIFIED = "verified", "核实结果"
    CASUALTIES = "casualties", "人员伤亡情况"
    PERSUASION = "persuasion", "劝离或制止结果"
    HANDLED = "handled", "现场处置完毕"
    POLICE_REQUESTED = "police_requested", "联系公安"
    DEATH_VERIFICATION = "death_verification", "核实死亡情况"
    CASUALTY_OUTCOME = "casualty_outcome", "救治结果"
    TRANSFER_DONE = "transfer_done", "转运隔离完成"
    OTHERS_RELEASED = "others_released", "其他人员解除留置"
    DAILY_CONTACT = "daily_contact", "每日联系情况"
    CLEARED = "cleared", "情况基本明确"
    SCREENING_RESULT = "screening_result", "排查结果"
    COMPLAINT_RESULT = "complaint_result", "投诉调查结果"
    AID_DECISION = "aid_decision", "法律援助决定"
    RESETTLEMENT = "resettlement", "安置帮教措施"
    RISK = "risk", "可能发生(一)(二)(三)项情形"
    CLAIM_HANDLED = "claim_handled", "诉求研究处理结果"
    ACTIVITY_STOPPED = "activity_stopped", "终止教育学习、公益活动"
    SITE_INSPECTION = "site_inspection", "现场设施安全检查"
    COORDINATE = "coordinate", "联系协调职能部门"
    AFTERMATH_DONE = "aftermath_done", "善后处置完毕"
    ACKNOWLEDGE = "acknowledge", "回执"


class ReleaseState(ZhEnum):
    """001 §5(3): where an information release stands (``IncidentStatus.release``)."""

    NONE = "none", "无"
    DRAFTED = "drafted", "已起草,待职能部门审核"
    APPROVED = "approved", "已审核,待发布"
    REJECTED = "rejected", "审核未通过"
    PUBLISHED = "published", "已发布"
    WITHDRAWN = "withdrawn", "已撤回"


class ExecutionStatus(ZhEnum):
    """Temporal's execution status, as ``python -m starter list`` shows it."""

    RUNNING = "RUNNING", "运行中"
    COMPLETED = "COMPLETED", "已结束"
    FAILED = "FAILED", "失败"
    CANCELED = "CANCELED", "已取消"
    TERMINATED = "TERMINATED", "已终止"
    CONTINUED_AS_NEW = "CONTINUED_AS_NEW", "已续跑"
    TIMED_OUT = "TIMED_OUT", "已超时"


class Channel(ZhEnum):
    """Delivery channels (``activities/``), as a receipt names them: ``outbox``, ``sms+email``."""

    OUTBOX = "outbox", "系统发件箱"
    DRILL_OUTBOX = "drill-outbox", "演练发件箱"
    WEBHOOK = "webhook", "接口推送"
    SMS = "sms", "短信"
    EMAIL = "email", "电子邮件"


def channel_zh(name: str) -> str:
    """``sms+email`` → 短信、电子邮件; a channel named in the roster file is shown as named."""
    return "、".join(Channel.zh_of(part) for part in name.split("+"))


def codes_in_text_zh(text: str) -> str:
    """The codes a timeline text carries, in Chinese: ``(渠道 outbox)`` → ``(渠道:系统发件箱)``,
    ``收到报告[progress]`` → ``收到报告[处置进展]``."""
    text = re.sub(r"渠道 ?([A-Za-z][\w\-+]*)", lambda m: "渠道:" + channel_zh(m.group(1)), text)
    return re.sub(r"\[([a-z_]+)\]", lambda m: f"[{kind_zh(m.group(1))}]", text)


#: What a ``waiting_for`` entry's parenthesis asks (``plan_decision (activate)`` and the like).
_WAITING_DETAIL_ZH = {
    "activate": "启动",
    "terminate": "终止",
    "approve / reject": "审核",
    "publish / withdraw": "发布或撤回",
    "回执": "",
}


def kind_zh(kind: str) -> str:
    """``search_result`` → 查找结果; an unknown code is shown as it is."""
    return ReportKind.zh_of(kind)


def waiting_zh(entry: str) -> str:
    """One ``IncidentStatus.waiting_for`` entry, e.g. (ours) ``punishment`` → 处罚决定,
    ``plan_decision (activate)`` → (ours) 预案启动或终止决定(启动)."""
    kind, _, rest = entry.partition(" (")
    detail = _WAITING_DETAIL_ZH.get(rest.rstrip(")"), rest.rstrip(")")) if rest else ""
    return kind_zh(kind) + (f"({detail})" if detail else "")


_PLANS = {"000": "《黄岩区司法行政系统应急联动工作方案》", "001": "《社区矫正突发事件应急处置预案》"}
_NUMERALS = "〇一二三四五六七八九十"
_CLAUSE = re.compile(r"(?<!\d)(000|001) §(\d+(?:\.\d+)*)((?:\(\d+\))*)")


def numeral_zh(n: int) -> str:
    """1 → 一, 11 → 十一, 23 → 二十三."""
    if n <= 10:
        return _NUMERALS[n]
    tens, ones = divmod(n, 10)
    return (_NUMERALS[tens] if tens > 1 else "") + "十" + (_NUMERALS[ones] if ones else "")


def _clause_match_zh(m: re.Match[str]) -> str:
    plan, number, items = m.group(1), m.group(2), re.findall(r"\((\d+)\)", m.group(3))
    if plan == "001":  # 001 §4(4) = 四、(四): the second plan numbers its parts in Chinese
        where = numeral_zh(int(number.split(".")[0])) + "、" + "".join(f"({numeral_zh(int(i))})" for i in items)
    else:  # 000 §4.3(1) = 4.3(1)
        where = number + "".join(f"({i})" for i in items)
    return f"{_PLANS[plan]}{where.rstrip('、')}"


def clause_zh(text: str) -> str:
    """Every clause reference of the code (``000 §4.3``, ``001 §4(4)``) as a filed document cites it:
    《黄岩区司法行政系统应急联动工作方案》4.3, 《社区矫正突发事件应急处置预案》四、(四)."""
    return _CLAUSE.sub(_clause_match_zh, text)


_REFUSAL_PREFIX = re.compile(r"^(?:report refused: )?([a-z_]+):\s*")


def refusal_zh(reason: str) -> str:
    """A refusal from the workflow (``report refused: arrived: arrival was already reported``), headed
    with the report kind's Chinese name: 报告未受理(到场报告 arrived):arrival was already reported."""
    over = re.match(r"^incident (\S+): already ([a-z ]+); reports are no longer taken$", reason)
    if over:
        return f"报告未受理:事件已结束,不再受理报告({over.group(1)}:{over.group(2)})"
    m = _REFUSAL_PREFIX.match(reason)
    if m and m.group(1) in ReportKind.codes():
        kind = m.group(1)
        return f"报告未受理({kind_zh(kind)} {kind}):{reason[m.end():]}"
    if m and m.group(1) in ("kind", "at", "step"):
        return f"报告未受理({m.group(1)}):{reason[m.end():]}"
    return f"报告未受理:{reason.removeprefix('report refused: ')}"
