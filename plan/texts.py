"""Chinese texts for notifications and written reports, in the plans' own terms.

Pure functions of their arguments (no clock, no I/O), so workflows call them deterministically.
Every notification names the incident, the place, the time and what is asked of the recipient.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from plan.agencies import AGENCY_NAME_ZH, Agency
from plan.labels import DEADLINE_STATUS_ZH, IN_FLIGHT_ZH, OBLIGATION_STATUS_ZH  # noqa: F401 (re-exported)
from plan.models import (
    FLOW_ZH,
    SOURCE_ZH,
    Closed,
    Deadline,
    DeadlineStatus,
    IncidentInput,
    Obligation,
    ObligationStatus,
    Review,
)

CST = timezone(timedelta(hours=8), "CST")


def fmt_time(at: datetime) -> str:
    """2026年11月23日 14:05 (China Standard Time)."""
    return at.astimezone(CST).strftime("%Y年%m月%d日 %H:%M")


def fmt_duration(d: timedelta) -> str:
    minutes = int(d.total_seconds() // 60)
    if minutes % (60 * 24) == 0 and minutes >= 60 * 24:
        return f"{minutes // (60 * 24) * 24}小时"
    if minutes % 60 == 0 and minutes >= 60:
        return f"{minutes // 60}小时"
    return f"{minutes}分钟"


def subject_ref(inp: IncidentInput) -> str:
    """How a text names the correction subject (agencies need to know whom it is about)."""
    return f"社区矫正对象{inp.subject.name}" if inp.subject else ""


def header(inp: IncidentInput, title_zh: str) -> str:
    """The header of every message, e.g. (ours) 【演练】【社区矫正对象脱离监督管理】2026年11月23日 14:05,黄岩区东城司法所辖区,某地."""
    drill = "【演练】" if inp.drill else ""
    return (
        f"{drill}【{title_zh}】{fmt_time(inp.occurred_at)},"
        f"{inp.jurisdiction.county}{inp.jurisdiction.justice_office}辖区,{inp.place}"
    )


def ask(inp: IncidentInput, title_zh: str, fact: str, asked: str) -> str:
    """A notification: the incident, what happened, and what is asked of the recipient."""
    who = subject_ref(inp)
    fact = f"{who}{fact}" if who and not fact.startswith(who) else fact
    return f"{header(inp, title_zh)}。{fact}。请{asked}。指挥负责人:{inp.commander.name} {inp.commander.phone}。"


def information_report(
    inp: IncidentInput, title_zh: str, to: Agency, *, centre_zh: str = "区社会应急联动指挥中心"
) -> str:
    """000 §4.2 信息报告: time, place, course, current situation, measures taken, commander contact.
    ``centre_zh``: the deploying bureau's name of its command centre (issue 17)."""
    measures = "、".join(inp.measures_taken) or "无"
    if to is Agency.COMMAND_CENTRE:
        asked = "知悉并统一指挥调度"
    else:
        asked = f"知悉,并及时向{centre_zh}反馈处置情况"
    who = subject_ref(inp)
    return (
        f"{header(inp, title_zh)}。【信息报告】来源:{SOURCE_ZH[inp.source]};处置流程:{FLOW_ZH[inp.flow]}。"
        f"时间:{fmt_time(inp.occurred_at)};地点:{inp.place};"
        f"经过:{(who + ',') if who else ''}{inp.description};"
        f"目前形势:{inp.current_situation or '待报'};已采取的措施:{measures};"
        f"应急指挥机构负责人:{inp.commander.name} {inp.commander.phone}。请{asked}。"
    )


def deadline_reminder(inp: IncidentInput, title_zh: str, deadline: Deadline, left: timedelta) -> str:
    return (
        f"{header(inp, title_zh)}。【时限提醒】“{deadline.title_zh}”将于{fmt_time(deadline.due_at)}到期"
        f"(剩余{fmt_duration(left)}),依据{deadline.clause}。请按时办理。"
    )


def deadline_missed(inp: IncidentInput, title_zh: str, deadline: Deadline) -> str:
    return (
        f"{header(inp, title_zh)}。【超时督办】“{deadline.title_zh}”已于{fmt_time(deadline.due_at)}到期未完成"
        f"(依据{deadline.clause})。请立即督促处置单位落实,并跟踪处置进展。"
        f"指挥负责人:{inp.commander.name} {inp.commander.phone}。"
    )


def notification_failed(
    inp: IncidentInput, title_zh: str, recipient: Agency, clause: str, step: str
) -> str:
    return (
        f"{header(inp, title_zh)}。【通知失败】系统未能通知{AGENCY_NAME_ZH[recipient]}(依据{clause})。"
        f"请值班人员立即改用电话等方式人工通知,并报告 notified_by_hand(step={step},"
        f"recipient={recipient.value})登记补报。"
    )


def accountability_summary(obligations: Iterable[Obligation]) -> str:
    """001 §7(4): 应报事项 N 项:按时 a 项,迟报 b 项,漏报 c 项."""
    items = list(obligations)
    count = {s: sum(1 for o in items if o.status is s) for s in ObligationStatus}
    text = (
        f"应报事项{len(items)}项:按时{count[ObligationStatus.ON_TIME]}项,"
        f"迟报{count[ObligationStatus.LATE]}项,漏报{count[ObligationStatus.MISSING]}项"
    )
    if count[ObligationStatus.OVERDUE]:
        text += f",超时未报{count[ObligationStatus.OVERDUE]}项"
    if count[ObligationStatus.PENDING]:
        text += f",待报{count[ObligationStatus.PENDING]}项"
    return text


def review_report(inp: IncidentInput, title_zh: str, clause: str, review: Review, at: datetime) -> str:
    """001 §5(2): 及时查明突发事件的经过和原因,总结应急处置工作的经验教训,制定改进措施,形成书面报告逐级上报."""
    drill = "【演练】" if inp.drill else ""
    return "\n".join(
        [
            f"{drill}关于{title_zh}应急处置工作的总结报告",
            "",
            f"一、事件:{title_zh}(依据{clause}),{fmt_time(inp.occurred_at)},{inp.place}"
            f"({inp.jurisdiction.county}{inp.jurisdiction.justice_office})。",
            f"二、事件经过:{review.course}",
            f"三、事件原因:{review.cause}",
            f"四、经验教训:{review.lessons}",
            f"五、改进措施:{review.improvements}",
            "",
            f"报告单位:{inp.jurisdiction.justice_office}、{inp.jurisdiction.county}司法局社区矫正管理科",
            f"报告时间:{fmt_time(at)}",
        ]
    )


def written_report(
    inp: IncidentInput,
    title_zh: str,
    clause: str,
    closed: Closed,
    closed_at: datetime,
    deadlines: Iterable[Deadline],
    course: Iterable[str],
    obligations: Iterable[Obligation] = (),
    *,
    in_flight: frozenset[str] = frozenset(),
    to_zh: str = "区社会应急联动指挥中心",
    from_zh: str | None = None,
) -> str:
    """书面报告 (000 §4.2, §4.3): the report contents the plan lists, as headed sections.

    ``in_flight``: ids of deadlines whose fulfilling message is issued but not yet delivered (the
    feedback of 000 §3(3) sent on closing): shown as such, not as 未到期. ``to_zh``, ``from_zh``: whom it
    is addressed to and the reporting unit, as the deploying bureau names them (issue 17)."""
    drill = "【演练】" if inp.drill else ""
    lines = [
        f"{drill}关于{title_zh}处置情况的书面报告",
        "",
        f"{to_zh}:",
        "",
        f"一、事件类型:{title_zh}(依据{clause});处置流程:{FLOW_ZH[inp.flow]};来源:{SOURCE_ZH[inp.source]}。",
        f"二、发生时间:{fmt_time(inp.occurred_at)}。",
        f"三、发生地点:{inp.place}({inp.jurisdiction.county}{inp.jurisdiction.justice_office})。",
        f"四、事件经过:{inp.description}",
    ]
    lines += [f"    {i}. {c}" for i, c in enumerate(course, 1)]
    lines += [
        f"五、处置结果:{closed.result}",
        f"六、目前形势:{closed.current_situation}",
        "七、已采取的措施:" + "、".join([*inp.measures_taken, *closed.measures_taken]),
        "八、时限落实情况:",
    ]
    lines += [
        f"    {d.title_zh}(依据{d.clause}):"
        f"{IN_FLIGHT_ZH if d.status is DeadlineStatus.PENDING and d.id in in_flight else DEADLINE_STATUS_ZH[d.status]},"
        f"时限{fmt_time(d.due_at)}"
        for d in deadlines
    ]
    lines.append(f"    {accountability_summary(obligations)}(001 §7(4))")
    lines += [
        f"九、应急指挥机构负责人联系方式:{inp.commander.name} {inp.commander.phone}",
        f"十、其他需要报告的事项:{closed.note or '无'}",
        "",
        f"报告单位:{from_zh or inp.jurisdiction.county + '司法局'}({inp.jurisdiction.justice_office})",
        f"报告时间:{fmt_time(closed_at)}",
    ]
    return "\n".join(lines)
