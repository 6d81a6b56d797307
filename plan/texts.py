"""Chinese texts for notifications and written reports, in the plans' own terms.

Pure functions of their arguments (no clock, no I/O), so workflows call them deterministically.
Every notification names the incident, the place, the time and what is asked of the recipient.
"""

from __future__ import annotations

from typing import Any

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from plan.agencies import Agency
from plan.labels import IN_FLIGHT_ZH, kind_zh
from plan.models import (
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
    """2026年11月23日 14:05 (China Standard Time).

    Formatted by hand, not with ``strftime``: in a workflow sandbox every ``strftime`` call imports
    ``time`` through the sandbox's import hook, and a first workflow task formats about 70 times
    (docs/benchmarks.md, issue 19)."""
    t = at.astimezone(CST)
    return f"{t.year:04d}年{t.month:02d}月{t.day:02d}日 {t.hour:02d}:{t.minute:02d}"


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
        f"{header(inp, title_zh)}。【信息报告】来源:{inp.source.zh};处置流程:{inp.flow.zh}。"
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
        f"{header(inp, title_zh)}。【通知失败】系统未能通知{recipient.zh}(依据{clause})。"
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



MESSAGE_CLIPPED = "\n……(以下从略,全文见事件记录和书面报告)"
"""Ends a message cut to the longest one a channel takes (``workflows/mechanics/notifier.py``; ours)."""

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
        f"一、事件类型:{title_zh}(依据{clause});处置流程:{inp.flow.zh};来源:{inp.source.zh}。",
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
    obligations = list(obligations)
    # open duties of people first (issue 16): who, what, by when, not yet confirmed
    lines += [
        f"    待办:{o.person}:{o.title_zh}(依据{o.clause}),时限{fmt_time(o.due_at)},尚未确认"
        for o in obligations if o.person and o.done_at is None and o.status is not ObligationStatus.NOT_REQUIRED
    ]
    lines += [
        f"    {d.title_zh}(依据{d.clause}):"
        f"{IN_FLIGHT_ZH if d.status is DeadlineStatus.PENDING and d.id in in_flight else d.status.zh},"
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


# --------------------------------------------------------------------------- the shared mechanics' texts
# What the skeleton (workflows/base.py) and its components (workflows/mechanics/, workflows/procedures/)
# write on the timeline and send; the clause modules keep their own clause texts.

SYSTEM = "系统"
"""The actor of what the workflow does by itself (a timeline entry, a delivery discharging an
obligation, 001 §7(4))."""

REPORTER = "报告人"
"""000 §3(1)(2): the actor of the incident's receipt when the reporter names no unit."""


# ----- the skeleton (workflows/base.py): receipt, hand-over, close, review, reports


def incident_received(title_zh: str, inp: IncidentInput) -> str:
    """000 §3(1)(2): the incident received, with its source and flow (and 000 §2.1 major, a drill)."""
    return (
        f"事件受理:{title_zh};{inp.source.zh};{inp.flow.zh}"
        + (";重大突发事件" if inp.major else "") + (";演练" if inp.drill else "")
    )


def handed_over_from(workflow_id: str) -> str:
    """000 §1.4(4): an incident handed over by L4, whose information report was already sent."""
    return f"由{workflow_id}移交处置,信息报告已由移交方报送区司法局应急办公室和指挥中心"


def origin_received(origin: Any) -> str:
    """Issue 20: the incident was started from a warning (000 §4.1, 001 §7(1)) or an alarm (our words)."""
    what = f"({origin.summary_zh})" if origin.summary_zh else ""
    return f"本事件由{origin.kind.zh} {origin.workflow_id} 转来{what}"  # (ours)


ORIGIN_CLAUSE = {"warning": "000 §4.1"}
"""The clause an origin of a kind follows when it names none (else the incident's own clause)."""


HANDLING_CLOSED = "处置完毕"
"""000 §4.3: the ``closed`` report ends handling."""

REVIEW_DEADLINE = "事后总结书面报告"
"""001 §5(2): the post-incident review's deadline."""

PUNISHMENT_LABEL = "处罚决定"
"""001 §4: how a punishment report names the decision by default."""

ALARM_110_ASKED = "立即出警予以处置"
"""001 §4(2)(5)(8): what 110 is asked when a subject refuses to leave or to stop."""

ON_SITE_COMMAND = "现场指挥部"
"""001 §3(3): the on-site command's key in ``IncidentStatus.command``."""


def command_set(commander: str) -> str:
    """001 §3(3): the on-site command set up."""
    return f"设立现场指挥部,现场指挥:{commander}"


def command_group(group_zh: str, who: str) -> str:
    """001 §3(4): one specialised group and who leads it."""
    return f"{group_zh}:{who}"


def report_accepted(seq: int) -> str:
    """The receipt of an accepted report (``submit_report``; 001 §7(4) counts what it discharges)."""
    return f"报告已受理(第{seq}条记录)"


def by_hand_actor(actor: str) -> str:
    """001 §7(4): how an obligation discharged by hand records who did it."""
    return f"人工({actor})"


def notified_by_hand(recipient: Agency, step: str) -> str:
    """001 §7(4): a notification the duty officer made by hand, recorded (``notified_by_hand``)."""
    return f"已人工通知{recipient.zh}(补报 {step})"


def by_hand_contact(title_zh: str) -> str:
    """001 §7(4): the deadline of a contact only the duty officer can make (``require_by_hand``)."""
    return f"人工联系:{title_zh}"


def report_refused(reason: str) -> str:
    """001 §7(4): a refused report, on the timeline."""
    return f"报告被拒收:{reason}"


# ----- 000's linkage procedure (workflows/procedures/linkage.py)

URGENT_FLOW_STARTED = "启动紧急事件处置预案,处置过程中及时向区社会应急联动指挥中心反馈"
"""000 §4.3(1): the urgent flow, decided on receipt."""

GENERAL_FLOW_STARTED = "启动一般事件处置预案,根据区社会应急联动指挥中心指令进行处置"
"""000 §4.3(2): the general flow, decided on receipt."""


def feedback_deadline(within: timedelta) -> str:
    """000 §3(3): the feedback deadline (24 h)."""
    return f"反馈时限 {fmt_duration(within)}"


def arrival_deadline(within: timedelta) -> str:
    """000 §4.3: the arrival deadline (30 min)."""
    return f"到场时限 {fmt_duration(within)}"


def progress_fact(situation: str) -> str:
    """000 §2.2(6), §4.3(1): a progress report relayed."""
    return f"处置进展:{situation}"


PROGRESS_TO_OFFICE_ASKED = "知悉(应急办公室跟踪了解事件的进展情况和处置情况)"
"""000 §2.2(6): what the emergency office is asked on progress."""

PROGRESS_TO_GROUP_ASKED = "知悉(应急办公室报告领导小组)"
"""000 §2.2(6), §2.1: what the leadership group is asked on a major incident's progress."""

PROGRESS_TO_CENTRE_ASKED = "知悉(紧急处置流程处置过程中及时反馈)"
"""000 §4.3(1): what the command centre is asked on progress in the urgent flow."""

NOTED = "知悉"
"""What a recipient told for its information is asked."""


def aftermath_fact(situation: str) -> str:
    """000 §4.4: the aftermath's progress, reported up."""
    return f"善后处置情况:{situation}"


def feedback_fact(situation: str, result: str) -> str:
    """000 §3(3): the handling situation and result fed back to the command centre."""
    return f"处置情况:{situation};处置结果:{result}"


FEEDBACK_ASKED = "知悉(处置情况和结果反馈)"
"""000 §3(3): what the command centre is asked with the feedback."""


def aftermath_done(summary: str) -> str:
    """000 §4.4: the aftermath done (recorded and reported up)."""
    return f"善后处置工作完毕:{summary}"


# ----- 001's shared procedures (workflows/procedures/correction.py)

CORRECTION_INCIDENT = "发生社区矫正突发事件"
"""001 §5(1): the fact reported level by level."""


def level_report_asked(to: Agency) -> str:
    """001 §5(1): the section reports on up (逐级上报); the higher agency takes note."""
    return "知悉并逐级上报" if to is Agency.CORRECTION_SECTION else NOTED


def other_county_fact(county: str) -> str:
    """001 §5(1): the incident involves another county."""
    return f"事件涉及{county}"


def other_county_asked(county: str) -> str:
    """001 §5(1): what the other county's judicial bureau is asked (协助配合)."""
    return f"{county}司法行政机关协助配合"


def correction_progress_fact(situation: str) -> str:
    """001 §5(1): progress reported level by level."""
    return f"处置工作进展:{situation}"


def punishment_decided(decision: str) -> str:
    """001 §4: the section's punishment, recorded."""
    return f"社区矫正管理科依法处罚:{decision}"


def punishment_fact(fact: str, label: str, decision: str) -> str:
    """001 §4: the punishment, reported up and to the procuratorate."""
    return f"{fact},{label}:{decision}"


def not_reported_to_police(refused_zh: str, note: str | None) -> str:
    """001 §4(2)(5) 可以: the subject refused, and the section decided not to call the police."""
    return f"{refused_zh};经研究决定暂不报警{(':' + note) if note else ''}"


def reported_to_police(refused_zh: str) -> str:
    """001 §4(2)(5)(8): the subject refused, and 110 is called."""
    return f"{refused_zh},向公安“110”报警予以处置"


def family_fact(fact: str, relation: str) -> str:
    """001 §4(6)(7): the fact as told to one family member, guardian or guarantor."""
    return f"{fact}(致{relation})"


def termination_asked(to: Agency) -> str:
    """001 §4(6)(7): the deciding authority handles the termination; the others take note."""
    return "知悉并依法办理终止社区矫正相关事宜" if to is Agency.DECIDING_AUTHORITY else NOTED


# ----- the leadership group (workflows/mechanics/leadership.py), 000 §2.1

GROUP_DECISION_DEADLINE = "领导小组决定启动预案"
"""000 §2.1: the deadline of the group's decision on a major incident."""

MAJOR_INCIDENT = "属重大突发事件"
"""000 §2.1: what the group is told of a major incident."""

PLAN_ACTIVATED = "领导小组决定启动本方案,统一领导、组织、协调处置"
"""000 §2.1: what the group is asked to decide, and the decision when taken."""

PLAN_ACTIVATED_FACT = "属重大突发事件,区司法局应急联动指挥领导小组已决定启动应急预案"
"""000 §2.1: the activation, reported to the district and the city."""

PLAN_TERMINATED = "领导小组决定终止本方案"
"""000 §2.1: the group's decision to terminate the plan."""

PLAN_TERMINATED_FACT = "区司法局应急联动指挥领导小组已决定终止应急预案"
"""000 §2.1: the termination, reported to the district and the city."""


# ----- information release (workflows/mechanics/release.py), 001 §5(3)


def release_drafted(content: str) -> str:
    """001 §5(3): a release drafted and sent to the functional department for review."""
    return f"拟定对外发布信息,报送职能部门审核:{content}"


def release_approved(department: str) -> str:
    """001 §5(3): the functional department approved the draft."""
    return f"{department}审核通过拟发布信息"


def release_rejected(department: str, note: str | None) -> str:
    """001 §5(3): the functional department rejected the draft."""
    return f"{department}审核未通过拟发布信息:{note or '需修改'}"


RELEASE_WITHDRAWN = "撤回拟发布信息,不予发布"
"""001 §5(3): a draft withdrawn, not published."""


def release_published(content: str) -> str:
    """001 §5(3): the reviewed information published (统一发布)."""
    return f"信息经审核后统一发布:{content}"


# ----- deadlines (workflows/mechanics/deadlines.py)


def deadline_set(title_zh: str, due_at: datetime) -> str:
    """A deadline the plan sets (000 §3(3), §4.3; 001 §4, §7(4)), on the timeline."""
    return f"{title_zh}:应于 {fmt_time(due_at)} 前完成"


def deadline_late(title_zh: str, due_at: datetime) -> str:
    """A deadline fulfilled after its due time (001 §7(4) 迟报)."""
    return f"{title_zh}:超时后完成(应于 {fmt_time(due_at)})"


def deadline_met(title_zh: str) -> str:
    """A deadline fulfilled in time (001 §7(4))."""
    return f"{title_zh}:按时完成"


def deadline_cancelled(title_zh: str, reason_zh: str) -> str:
    """A deadline whose situation ended (no longer counted, 001 §7(4))."""
    return f"{title_zh}:{reason_zh},不再适用"


def reminder_wait(title_zh: str) -> str:
    """The timer summary (Web UI) of the wait before a reminder (001 §7(4): reported in time)."""
    return f"{title_zh}·提醒"


def deadline_left(title_zh: str, left: timedelta) -> str:
    """A reminder before the due time (001 §7(4): reported in time), on the timeline."""
    return f"{title_zh}:剩余{fmt_duration(left)}"


def deadline_escalated(title_zh: str, due_at: datetime) -> str:
    """A missed deadline, escalated (升级督办; 001 §7(4) 漏报 if never done)."""
    return f"{title_zh}:已于 {fmt_time(due_at)} 到期未完成,升级督办"


def day_ends(n: int) -> str:
    """001 §4(9) 情形三: the timer summary of a recurring duty's day."""
    return f"第{n}日结束"


# ----- acknowledgements (workflows/mechanics/acknowledgements.py)

ACK = "回执"
"""A recipient's confirmation of receipt (no clause: the notified agency confirms it was told,
000 §4.2 报告 and 001 §5(1) 上报 being the duty to tell)."""


def ack_deadline(recipient: Agency) -> str:
    """The deadline of a recipient's acknowledgement (000 §4.2, 001 §5(1))."""
    return f"{recipient.zh}{ACK}"


def ack_received(deadline_title_zh: str, by: str) -> str:
    """An acknowledgement received (000 §4.2, 001 §5(1)), named by the deadline's title without its 回执."""
    return f"收到回执:{deadline_title_zh.removesuffix(ACK)}({by})"


def ack_wait(deadline_title_zh: str) -> str:
    """The timer summary (Web UI) of the wait for an acknowledgement (000 §4.2, 001 §5(1))."""
    return f"{deadline_title_zh}·等待"


def ack_missing_renotify(deadline_title_zh: str, within: timedelta, n: int) -> str:
    """No acknowledgement within the policy's time (000 §4.2, 001 §5(1)): the n-th re-send, on the timeline."""
    return f"{deadline_title_zh}:{fmt_duration(within)}内未收到回执,第{n}次重新通知"


def renotified(message_zh: str) -> str:
    """A message re-sent for want of an acknowledgement (000 §4.2, 001 §5(1))."""
    return f"【重复通知】{message_zh}"


# ----- notifications (workflows/mechanics/notifier.py)


def notify_obligation(recipient: Agency) -> str:
    """001 §7(4): a required notification, in the register (also the activity's summary)."""
    return f"通知{recipient.zh}"


def notification_issued(recipient: Agency) -> str:
    """A notification issued (its activity scheduled), for the clause that orders it."""
    return f"发出通知:{recipient.zh}"


def delivered(recipient_name_zh: str, channel: str, attempt: int, message_zh: str) -> str:
    """A notification delivered (001 §7(4): what discharges the obligation): to whom, by which
channel, at which attempt, what it said."""
    via = f"(渠道 {channel}" + (f",第{attempt}次尝试" if attempt > 1 else "") + ")"
    return f"已通知{recipient_name_zh}{via}:{message_zh}"


def delivery_failed(recipient: Agency, reason: str) -> str:
    """A notification that could not be delivered within its budget (001 §7(4): still owed)."""
    return f"通知{recipient.zh}失败:{reason}"


def by_hand_notification(recipient: Agency) -> str:
    """001 §7(4): the deadline of the notification the duty officer must now make by hand."""
    return f"人工补报:通知{recipient.zh}"


# ----- reports received (workflows/mechanics/reports.py)

RESENT_REPORT = "重复报告,已记录"
"""The receipt of a report sent again with the same ``report_id`` (idempotent; counted once, 001 §7(4))."""


def report_received(kind_zh: str, at: datetime | None, note: str | None) -> str:
    """A report received (001 §7(4): what it discharges is judged by when it came), on the timeline:
its kind, the time the officer stated, the note."""
    stated = f"(报告时间 {fmt_time(at)})" if at else ""
    return f"收到报告[{kind_zh}]{stated}{':' + note if note else ''}"


# ----- the record's details in the Web UI (workflows/mechanics/timeline.py)


def details(title_zh: str, clause: str, phase_zh: str, plan_active: bool, pending: Iterable[Deadline],
            overdue: Iterable[Deadline], related: Iterable[str], *, duties: Iterable[Any] = ()) -> list[str]:
    """The workflow's current details (Markdown paragraphs): title, phase, 000 §2.1 plan active, the
    open duties of people (who, what, by when), deadlines pending and overdue, related incidents."""
    lines = [f"**{title_zh}**({clause})", f"状态:{phase_zh}"]
    if plan_active:
        lines.append("领导小组已启动预案")
    lines += [f"待办任务:{d.person_zh}:{d.title_zh},{fmt_time(d.due_at)} 前" + ("(已督办)" if d.escalated_to else "")
              for d in duties]
    lines += [f"待办时限:{d.title_zh},{fmt_time(d.due_at)} 到期" for d in pending]
    lines += [f"已超时:{d.title_zh}(应于 {fmt_time(d.due_at)})" for d in overdue]
    lines += [f"关联事件:{r}" for r in related]
    return lines


DONE_BY_REPORT = "报告"
"""001 §7(4): how a deadline fulfilled by an officer's report was done (the register's ``how``)."""
DUTY_FORM_ZH = {
    "message": "自动发送", "phone": "电话", "on_site": "到场", "written": "书面报告", "verification": "核实",
}
"""How a duty is done, as the duty list names it (ours)."""


def duty_task(inp: IncidentInput, title_zh: str, *, duty_id: str, what_zh: str, clause: str, form: str,
              counterpart_zh: str, phone: str | None, say_zh: str, due_at: datetime, left: timedelta,
              evidence: str, by_report: str = "") -> str:
    """The task on the responsible person's duty device: what to do, the number, what to say, the countdown."""
    measures = "、".join(inp.measures_taken) or "无"
    who = subject_ref(inp)
    call = f"联系对象:{counterpart_zh},电话:{phone}。" if counterpart_zh else ""
    facts = (
        f"时间:{fmt_time(inp.occurred_at)};地点:{inp.place};经过:{(who + ',') if who else ''}{inp.description};"
        f"目前形势:{inp.current_situation or '待报'};已采取的措施:{measures};"
        f"应急指挥机构负责人:{inp.commander.name} {inp.commander.phone}"
    )
    return (
        f"{header(inp, title_zh)}。【值班任务·{DUTY_FORM_ZH[form]}】{what_zh}(依据{clause})。{call}"
        f"须说明:{say_zh}。{facts}。须于{fmt_time(due_at)}前完成(剩余{fmt_duration(left)})。"
        f"完成后请报告“{kind_zh(by_report) if by_report else evidence}”{f'或“{evidence}”' if by_report else ''}"
        f"(任务编号 {duty_id})。"
    )


def duty_due(text: str) -> datetime | None:
    """The due time a :func:`duty_task` text states (minute precision, CST); None when it states none.
    The worker dates a task's signed link from it (``infra/duty_links.py``)."""
    import re

    m = re.search(r"须于(\d{4})年(\d{2})月(\d{2})日 (\d{2}):(\d{2})前完成", text)
    if m is None:
        return None
    y, mo, d, h, mi = (int(g) for g in m.groups())
    try:
        return datetime(y, mo, d, h, mi, tzinfo=CST)
    except ValueError:
        return None


def duty_link(url: str) -> str:
    """What a duty task ends with when the duty board is deployed: the person's signed link (issue 18)."""
    return f"确认办理:{url}"


def duty_missed(inp: IncidentInput, title_zh: str, *, what_zh: str, person_zh: str, due_at: datetime,
                clause: str, duty_id: str) -> str:
    return (
        f"{header(inp, title_zh)}。【超时督办】值班任务“{what_zh}”(责任人:{person_zh},依据{clause})"
        f"应于{fmt_time(due_at)}前完成,至今未确认。请督促责任人或另行安排人员立即办理(任务编号 {duty_id})。"
    )
