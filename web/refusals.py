"""The incident's refusal of a report, in Chinese for the officer (the workflow's reasons are English
codes and sentences, kept as they are for services and the CLI; ``plan.labels.refusal_zh`` heads them).

Each known reason of ``workflows/`` (``_check``, the clauses' ``check_clause_report``) has its Chinese
sentence here (ours); a reason not listed is shown headed in Chinese with the original text, so an
officer is never left without one.
"""

from __future__ import annotations

import re

from plan.agencies import Agency
from plan.labels import kind_zh, refusal_zh, waiting_zh


def _kinds_zh(text: str) -> str:
    return "、".join(waiting_zh(k.strip()) for k in text.split(", ") if k.strip()) or "无"


def _agency(value: str) -> str:
    try:
        return Agency(value).zh
    except ValueError:
        return value


_RULES: list[tuple[re.Pattern[str], object]] = [(re.compile(p), t) for p, t in [
    (r"^this incident's input was invalid; it accepts no reports$", "事件输入有误,不受理任何报告"),
    (r"^the incident is closed$", "事件已办结,不再受理报告"),
    (r"^this incident was handed over; send reports to (.+)$", lambda m: f"事件已移交,请向 {m[1]} 报告"),
    (r"^kind: '(\w+)' does not apply to (\w+) \((.+)\)$",
     lambda m: f"{kind_zh(m[1])}不适用于{m[2]}({m[3]})"),
    (r"^at: lies in the future$", "报告时间晚于当前时间"),
    (r"^at: earlier than the incident's occurred_at$", "报告时间早于事件发生时间"),
    (r"^at: arrival before the centre's instruction$", "到场时间早于指挥中心下达指令的时间"),
    (r"^(\w+): handling is over; now only progress \(aftermath\), review, release are taken$",
     lambda m: f"{kind_zh(m[1])}:处置已完毕,现只受理处置进展(善后)、事后总结和信息发布"),
    (r"^review: the post-incident review \(001 §5\(2\)\) comes after handling is closed$",
     "事后总结应在处置完毕后报送"),
    (r"^aftermath_done: correction incidents end with the review", "社区矫正突发事件以事后总结结束,请报送事后总结"),
    (r"^aftermath_done: the aftermath \(善后处置, 000 §4.4\) comes after handling is closed$",
     "善后处置应在处置完毕后报告"),
    (r"^aftermath_done: the aftermath was already reported complete$", "善后处置完毕已经报告过"),
    (r"^review: 001 §5\(2\) applies to correction incidents, not (\w+)$", lambda m: f"事后总结只适用于社区矫正突发事件,不适用于{m[1]}"),
    (r"^review: the review was already reported$", "事后总结已经报送过"),
    (r"^dispatched: the centre's instruction was already recorded$", "指挥中心指令已经记录"),
    (r"^arrived: this incident was never dispatched by the command centre", "指挥中心未对本事件下达到场指令,无需到场报告"),
    (r"^arrived: arrival was already reported$", "已经报告过到场"),
    (r"^plan_decision: the plan is already activated$", "预案已经启动"),
    (r"^plan_decision: the plan is not activated, so it cannot be terminated$", "预案尚未启动,不能终止"),
    (r"^step: no required notification '(.+)' to (\w+) in this incident$",
     lambda m: f"本事件没有需要通知{_agency(m[2])}的事项“{m[1]}”"),
    (r"^step: '(.+)' to (\w+) was already delivered$", lambda m: f"通知{_agency(m[2])}的事项“{m[1]}”已经送达"),
    (r"^closed: handling is not finished; waiting for (.+)$", lambda m: f"处置尚未完毕,还需报告:{_kinds_zh(m[1])}"),
    (r"^closed: arrival at the designated place has not been reported", "尚未报告到达指定地点"),
    (r"^closed: the leadership group has not decided on the plan", "领导小组尚未作出是否启动预案的决定"),
    (r"^closed: the leadership group has not terminated the plan", "领导小组尚未终止预案"),
    (r"^(\w+): not expected now; the incident is waiting for (.+)$",
     lambda m: f"{kind_zh(m[1])}现在不需报告,事件正在等待:{_kinds_zh(m[2]) if m[2] != 'nothing' else '无'}"),
    (r"^release: the information was already published", "信息已经统一发布过"),
    (r"^release: publish needs a draft approved by the functional department first$", "发布前须经职能部门审核通过"),
    (r"^release: '(\w+)' not possible now \(release is (\w+)\)$", lambda m: "信息发布的这一步现在不能进行"),
    (r"^persuasion: equipment_used applies to 001 §4\(8\)", "使用防护器械只适用于工作场所内暴力事件"),
    (r"^persuasion: call_police cannot be false", "预案规定应当向公安110报警,不能选择不报警"),
    (r"^handled: claims apply to 001 §4\(3\)", "诉求只适用于非正常上访事件"),
    (r"^handled: crime_suspected applies to 001 §4\(1\)", "涉嫌违法犯罪只适用于实施行凶等犯罪事件"),
    (r"^claim_handled: claim (\d+) does not exist; the subject raised (\d+) claim", lambda m: f"没有第{m[1]}项诉求(共{m[2]}项)"),
    (r"^claim_handled: claim (\d+) was already answered$", lambda m: f"第{m[1]}项诉求已经答复过"),
    (r"^search_result: the section has been told; report 'subject_found' when found$",
     "已报告社区矫正管理科,查找到下落时请报告“查找到下落”"),
    (r"^police_requested: 110 was already called to the scene", "已经向公安110报警,请报告处置进展"),
    (r"^(\w+): does not apply to scenario (\w+) \((.+)\)$", lambda m: f"{kind_zh(m[1])}不适用于{m[3]}"),
    (r"^invalid report: (\d+) bytes, over the limit of (\d+) bytes$", lambda m: f"报告过大({m[1]}字节,上限{m[2]}字节)"),
]]

_PREFIX = re.compile(r"^(?:report refused: )?")


def reason_zh(reason: str) -> str:
    """The refusal in Chinese: 报告未受理:<why> (ours)."""
    over = re.match(r"^incident (\S+): already ([a-z ]+); reports are no longer taken$", reason)
    if over:
        return refusal_zh(reason)
    text = _PREFIX.sub("", reason, count=1).strip()
    for pattern, template in _RULES:
        m = pattern.search(text)
        if m:
            said = template(m) if callable(template) else template
            return f"报告未受理:{said}"
    return refusal_zh(reason)
