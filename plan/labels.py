"""The Chinese labels officers and agencies read: one mapping per enum or code, in the plans' terms.

The CLI, the rendered reports and the notification texts (``plan/texts.py``) all take their labels
from here (the flow, source, scenario, search-method, command-group and mediation labels live beside
their enums in ``plan/models.py`` and are re-exported here). ``--json`` output keeps the English codes.
"""

from __future__ import annotations

import re

from plan.agencies import AGENCY_NAME_ZH
from plan.models import (
    COMMAND_GROUP_ZH,
    EPIDEMIC_SCENARIO_ZH,
    FLOW_ZH,
    MEDIATION_OUTCOME_ZH,
    SEARCH_METHOD_ZH,
    SOURCE_ZH,
    DeadlineStatus,
    EntryKind,
    IncidentPhase,
    ObligationStatus,
)

__all__ = [
    "AGENCY_NAME_ZH", "CHANNEL_ZH", "COMMAND_GROUP_ZH", "DEADLINE_STATUS_ZH", "ENTRY_KIND_ZH", "EPIDEMIC_SCENARIO_ZH",
    "EXECUTION_STATUS_ZH", "FLOW_ZH", "IN_FLIGHT_ZH", "MEDIATION_OUTCOME_ZH", "OBLIGATION_STATUS_ZH", "PHASE_ZH",
    "RELEASE_STATE_ZH", "REPORT_KIND_ZH", "SEARCH_METHOD_ZH", "SOURCE_ZH", "clause_zh", "kind_zh",
    "channel_zh", "codes_in_text_zh", "numeral_zh", "refusal_zh", "waiting_zh",
]

PHASE_ZH = {
    IncidentPhase.OPEN: "处置中",
    IncidentPhase.HANDLED: "处置完毕,待事后总结",
    IncidentPhase.CLOSED: "已办结",
}

DEADLINE_STATUS_ZH = {
    DeadlineStatus.PENDING: "未到期",
    DeadlineStatus.MET: "按时完成",
    DeadlineStatus.MISSED: "超时未完成",
    DeadlineStatus.LATE: "超时后完成",
    DeadlineStatus.CANCELLED: "已撤销",
}

IN_FLIGHT_ZH = "已发出,待送达"
"""A deadline whose fulfilling message is issued but not yet delivered (the feedback sent on closing)."""

#: 001 §7(4): 迟报、漏报 (and 超时未报: overdue, not yet sent, the incident still open).
OBLIGATION_STATUS_ZH = {
    ObligationStatus.ON_TIME: "按时",
    ObligationStatus.LATE: "迟报",
    ObligationStatus.OVERDUE: "超时未报",
    ObligationStatus.MISSING: "漏报",
    ObligationStatus.PENDING: "待报",
    ObligationStatus.NOT_REQUIRED: "不再适用",
}

ENTRY_KIND_ZH = {
    EntryKind.INCIDENT: "接报",
    EntryKind.NOTIFICATION_ISSUED: "发出通知",
    EntryKind.NOTIFICATION: "通知",
    EntryKind.NOTIFICATION_FAILED: "通知失败",
    EntryKind.REPORT: "报告",
    EntryKind.REFUSED: "报告未受理",
    EntryKind.DEADLINE_SET: "设定时限",
    EntryKind.DEADLINE_MET: "时限完成",
    EntryKind.DEADLINE_MISSED: "时限超时",
    EntryKind.DEADLINE_LATE: "超时后完成",
    EntryKind.REMINDER: "时限提醒",
    EntryKind.DECISION: "决定",
    EntryKind.ACKNOWLEDGED: "回执",
    EntryKind.DUTY_ASSIGNED: "值班任务",
    EntryKind.DUTY_DONE: "任务完成",
    EntryKind.DUTY_ESCALATED: "任务督办",
}

#: Every report kind an officer sends (``plan/models.py`` ``Report``), and ``acknowledge`` (回执).
REPORT_KIND_ZH = {
    "dispatched": "指挥中心指令",
    "arrived": "到场报告",
    "progress": "处置进展",
    "feedback": "处置情况反馈",
    "closed": "处置完毕报告",
    "search_result": "查找结果",
    "subject_found": "查找到下落",
    "punishment": "处罚决定",
    "legal_support_requested": "法律服务需求",
    "mediation_outcome": "调处结果",
    "plan_decision": "预案启动或终止决定",
    "command_set": "成立现场指挥部",
    "release": "信息发布",
    "review": "事后总结",
    "notified_by_hand": "人工通知补报",
    "phoned": "电话联系确认",
    "on_site": "到场确认",
    "verified": "核实结果",
    "casualties": "人员伤亡情况",
    "persuasion": "劝离或制止结果",
    "handled": "现场处置完毕",
    "police_requested": "联系公安",
    "death_verification": "核实死亡情况",
    "casualty_outcome": "救治结果",
    "transfer_done": "转运隔离完成",
    "others_released": "其他人员解除留置",
    "daily_contact": "每日联系情况",
    "cleared": "情况基本明确",
    "screening_result": "排查结果",
    "complaint_result": "投诉调查结果",
    "aid_decision": "法律援助决定",
    "resettlement": "安置帮教措施",
    "risk": "可能发生(一)(二)(三)项情形",
    "claim_handled": "诉求研究处理结果",
    "activity_stopped": "终止教育学习、公益活动",
    "site_inspection": "现场设施安全检查",
    "coordinate": "联系协调职能部门",
    "aftermath_done": "善后处置完毕",
    "acknowledge": "回执",
}

#: 001 §5(3): where an information release stands (``IncidentStatus.release``).
RELEASE_STATE_ZH = {
    "none": "无",
    "drafted": "已起草,待职能部门审核",
    "approved": "已审核,待发布",
    "rejected": "审核未通过",
    "published": "已发布",
    "withdrawn": "已撤回",
}

#: Temporal's execution status, as ``python -m starter list`` shows it.
EXECUTION_STATUS_ZH = {
    "RUNNING": "运行中",
    "COMPLETED": "已结束",
    "FAILED": "失败",
    "CANCELED": "已取消",
    "TERMINATED": "已终止",
    "CONTINUED_AS_NEW": "已续跑",
    "TIMED_OUT": "已超时",
}

#: Delivery channels (``activities/``), as a receipt names them: ``outbox``, ``sms+email``.
CHANNEL_ZH = {
    "outbox": "系统发件箱",
    "drill-outbox": "演练发件箱",
    "webhook": "接口推送",
    "sms": "短信",
    "email": "电子邮件",
}


def channel_zh(name: str) -> str:
    """``sms+email`` → 短信、电子邮件; a channel named in the roster file is shown as named."""
    return "、".join(CHANNEL_ZH.get(part, part) for part in name.split("+"))


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
    return REPORT_KIND_ZH.get(kind, kind)


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
    if m and m.group(1) in REPORT_KIND_ZH:
        kind = m.group(1)
        return f"报告未受理({kind_zh(kind)} {kind}):{reason[m.end():]}"
    if m and m.group(1) in ("kind", "at", "step"):
        return f"报告未受理({m.group(1)}):{reason[m.end():]}"
    return f"报告未受理:{reason.removeprefix('report refused: ')}"
