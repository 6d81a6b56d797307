"""Warnings (预警, issue 20): 000 §4.1, §2.2(1) and 001 §7(1), time-skipping with the real policies.

000 §4.1: "按照早发现、早报告、早处置的原则,对监测到的信息进行分析,及时发现事件苗头,并采取措施加以控制。对早期发现的事件及时预警".
000 §2.2(1): the emergency office "负责日常信息监测、采集、汇总、分析与组织协调,及时向区司法局应急指挥领导小组报告,提出预警及预案启动的建议".
001 §7(1): "定期排查分析社区矫正对象动态,及时发现社区矫正对象各类不稳定因素苗头,采取针对性疏导、管理、教育措施,加强对突发事件的预测和防范".
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from helpers import EXAMPLES, STARTED_ON_OWN_QUEUES, decisions, notifications, text_to
from plan.models import DeadlineStatus, EntryKind, ObligationStatus, OriginKind
from plan.policy import DEFAULT_POLICY as P
from plan.warning import WarningStatus
from starter.api import ReportRefused

HY_OFFICE = "黄岩区司法局应急办公室"
HY_GROUP = "黄岩区司法局应急联动指挥领导小组"
GS_OFFICE = "拱墅区司法局社区矫正突发事件应急处置总指挥部办公室(社区矫正管理科)"
GS_COMMAND = "拱墅区司法局社区矫正突发事件应急处置总指挥部"


def sign(name: str, **overrides: Any) -> dict[str, Any]:
    data = json.loads((EXAMPLES / "warnings" / f"{name}.json").read_text(encoding="utf-8"))
    data["sign_id"] = f"T-{uuid.uuid4().hex[:6]}-{uuid.uuid4().hex[:6]}"
    data.update(overrides)
    return data


async def start(h, name: str, **overrides: Any) -> str:
    wf = (await h.api.start_warning(sign(name, **overrides))).workflow_id
    h.started.append(wf)
    STARTED_ON_OWN_QUEUES.append((h.queue, wf))
    return wf


async def until(h, wf: str, pred: Callable[[WarningStatus], bool], timeout: float = 15.0) -> WarningStatus:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        st = await h.api.warning_status(wf)
        if pred(st):
            return st
        if loop.time() > end:
            raise AssertionError(f"not reached; state={st.state}, timeline:\n"
                                 + "\n".join(f"{e.kind} {e.step} {e.text_zh[:70]}" for e in st.timeline))
        await asyncio.sleep(0.05)


def delivered(step: str, count: int = 1) -> Callable[[WarningStatus], bool]:
    return lambda st: sum(1 for e in st.timeline if e.step == step and e.kind is EntryKind.NOTIFICATION) >= count


async def report(h, wf: str, kind: str, **fields: Any):
    return await h.api.warning_report(wf, {"kind": kind, "actor": fields.pop("actor", "黄岩区司法局应急办公室 值班员"),
                                           **fields})


MEASURES = [{"kind": "educate", "what": "谈话教育,讲明纠纷依法解决途径"}, {"kind": "counsel", "what": "心理疏导"}]


async def test_sign_analysed_on_time_watched_followed_up_and_closed(harness) -> None:
    """000 §4.1 对监测到的信息进行分析 … 采取措施加以控制: analysed within the policy, two measures (duties of
    the justice office), a follow-up each period until the sign is closed."""
    h = harness
    wf = await start(h, "huangyan-L1")
    st = await until(h, wf, delivered("sign-recorded"))
    # told: the emergency office, by the bureau's name, and nobody else
    assert notifications(st.timeline) == [("sign-recorded", "emergency_office")]
    text = text_to(st.timeline, "sign-recorded", "emergency_office")
    assert "停车收费纠纷" in text and "分析研判" in text and f"向{HY_GROUP}提出预案启动的建议" in text
    assert st.state == "analysing" and st.waiting_for == ["analysis", "dismissed"]
    # the Web UI's current details: what the warning is and what it waits for, in Chinese, no personal data
    from temporalio.api.sdk.v1 import WorkflowMetadata

    meta = await h.env.client.get_workflow_handle(wf).query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    details = meta.current_details
    assert details.startswith("**预警:L1苗头**(000 §4.1)") and "黄岩区东城司法所 · 状态:待分析研判" in details
    assert "等待:分析研判(analysis)、排除(dismissed)" in details and "待办时限:分析研判苗头" in details
    assert "陈思远" not in details and "0576-84110001" not in details
    await h.skip(P.warning_analysis - timedelta(hours=1))
    await report(h, wf, "analysis", decision="watch", assessment="纠纷尚在萌芽,可控", measures=MEASURES)
    st = await until(h, wf, lambda s: s.state == "watching" and len(s.duties) == 2)
    assert next(d for d in st.deadlines if d.id == "analysis").status is DeadlineStatus.MET
    assert [d.title_zh for d in st.duties] == ["落实教育措施:谈话教育,讲明纠纷依法解决途径", "落实疏导措施:心理疏导"]
    assert all(d.due_at - d.issued_at == P.warning_measure for d in st.duties)
    with pytest.raises(ReportRefused, match="control measures not yet confirmed"):
        await report(h, wf, "sign_closed", result="已化解")
    for d in st.duties:
        await report(h, wf, "verified", duty=d.id, result="已落实", actor="东城司法所 值班员")
    await report(h, wf, "follow_up", situation="双方已协商,未再聚集")
    await h.skip(P.warning_follow_up + timedelta(hours=1))
    st = await until(h, wf, lambda s: any(d.id == "follow-up-2" for d in s.deadlines))
    f1 = next(d for d in st.deadlines if d.id == "follow-up-1")
    assert f1.status is DeadlineStatus.MET
    await report(h, wf, "follow_up", situation="情况稳定")
    await report(h, wf, "sign_closed", result="纠纷已调解,苗头化解")
    out = await h.api.warning_outcome(wf)
    assert out.state == "closed" and out.incident_id is None
    assert decisions(out.timeline)[-1] == "苗头已化解,关注结束:纠纷已调解,苗头化解"
    assert out.accountability.missing == 0 and out.accountability.late == 0
    # who was told, in order, and nothing else: the office, then the two measure tasks to the justice office
    assert notifications(out.timeline) == [("sign-recorded", "emergency_office"),
                                           ("duty-measure-1", "justice_office"), ("duty-measure-2", "justice_office")]


async def test_late_analysis_is_escalated_and_in_the_register(harness) -> None:
    """000 §2.2(1) 及时向区司法局应急指挥领导小组报告: an analysis past the policy goes to the leadership group."""
    h = harness
    wf = await start(h, "huangyan-L1")
    await until(h, wf, delivered("sign-recorded"))
    await h.skip(P.warning_analysis + timedelta(minutes=5))
    st = await until(h, wf, delivered("analysis-missed"))
    assert ("analysis-missed", "leadership_group") in notifications(st.timeline)
    assert "【超时督办】“分析研判苗头”" in text_to(st.timeline, "analysis-missed", "leadership_group")
    acc = await h.api.accountability(wf)
    row = next(o for o in acc.obligations if o.id == "deadline/analysis")
    assert row.status is ObligationStatus.OVERDUE and row.clause == "000 §2.2(1)"
    await report(h, wf, "dismissed", reason="经核实系误传,双方已和解", actor="黄岩区司法局应急办公室 李主任")
    out = await h.api.warning_outcome(wf)
    assert out.state == "dismissed"
    assert decisions(out.timeline)[-1] == "苗头已排除:经核实系误传,双方已和解(排除人:黄岩区司法局应急办公室 李主任)"
    row = next(o for o in out.accountability.obligations if o.id == "deadline/analysis")
    assert row.status is ObligationStatus.LATE


async def test_proposal_started_by_the_command_runs_the_c_incident_linked_both_ways(harness) -> None:
    """000 §2.2(1) 提出预警及预案启动的建议; 001 §3(1) the 总指挥部 决定启动: the C4 incident runs with the sign's facts."""
    h = harness
    wf = await start(h, "gongshu-C4")
    st = await until(h, wf, delivered("sign-recorded"))
    assert notifications(st.timeline) == [("sign-recorded", "correction_command_office")]
    await report(h, wf, "analysis", decision="propose", assessment="脱管风险高", actor="社区矫正管理科 值班员")
    st = await until(h, wf, delivered("plan-proposal"))
    assert notifications(st.timeline)[-1] == ("plan-proposal", "correction_command")
    assert "提出预案启动的建议" in text_to(st.timeline, "plan-proposal", "correction_command")
    assert st.waiting_for == ["leadership_decision"]
    await report(h, wf, "leadership_decision", start=True, reason="对象失联风险大,立即启动", actor="总指挥部 总指挥")
    out = await h.api.warning_outcome(wf)
    assert out.state == "escalated" and out.incident_id == f"incident-C4-{wf}"
    assert notifications(out.timeline) == [("sign-recorded", "correction_command_office"),
                                           ("plan-proposal", "correction_command")]
    assert f"拱墅区司法局社区矫正突发事件应急处置总指挥部办公室" in text_to(out.timeline, "plan-proposal", "correction_command")
    assert decisions(out.timeline)[-1].endswith(f"已转为事件 {out.incident_id}")
    inc = await h.api.status(out.incident_id)
    h.started.append(out.incident_id)
    STARTED_ON_OWN_QUEUES.append((h.queue, out.incident_id))
    assert inc.origin is not None and inc.origin.kind is OriginKind.WARNING and inc.origin.workflow_id == wf
    assert wf in inc.related
    assert any(e.text_zh.startswith(f"本事件由预警 {wf} 转来") for e in inc.timeline)
    assert inc.incident_type.value == "C4" and inc.flow.value == "general"


async def test_proposal_declined_is_recorded_and_the_sign_stays_under_watch(harness) -> None:
    h = harness
    wf = await start(h, "huangyan-L1")
    await until(h, wf, delivered("sign-recorded"))
    await report(h, wf, "analysis", decision="propose", assessment="可能聚集", incident_type="L1")
    await until(h, wf, delivered("plan-proposal"))
    with pytest.raises(Exception, match="measures"):
        await report(h, wf, "leadership_decision", start=False, reason="事态可控")
    await report(h, wf, "leadership_decision", start=False, reason="事态可控,暂不启动", actor="领导小组 组长",
                 measures=[{"kind": "manage", "what": "安排人员现场了解情况"}])
    st = await until(h, wf, lambda s: s.state == "watching")
    assert f"{HY_GROUP}决定暂不启动预案:事态可控,暂不启动;继续关注苗头" in decisions(st.timeline)
    assert [d.title_zh for d in st.duties] == ["落实管理措施:安排人员现场了解情况"]
    assert st.incident_id is None
    assert notifications(st.timeline)[:2] == [("sign-recorded", "emergency_office"), ("plan-proposal", "leadership_group")]


async def test_warning_level_reaches_whom_the_profile_names(harness) -> None:
    """000 §4.1 对早期发现的事件及时预警."""
    h = harness
    wf = await start(h, "huangyan-L1")
    await until(h, wf, delivered("sign-recorded"))
    await report(h, wf, "analysis", decision="warn", level="orange", assessment="聚集可能性大", measures=MEASURES[:1])
    st = await until(h, wf, lambda s: delivered("warning-issued", 3)(s) and delivered("duty-measure-1")(s))
    assert st.level is not None and st.level.value == "orange"
    # the linkage plan's default for orange: the leadership group, the justice office, the command centre,
    # at the same time; then the measure's task; nothing else
    assert notifications(st.timeline) == [
        ("sign-recorded", "emergency_office"), ("warning-issued", "leadership_group"),
        ("warning-issued", "justice_office"), ("warning-issued", "command_centre"), ("duty-measure-1", "justice_office"),
    ]
    text = text_to(st.timeline, "warning-issued", "leadership_group")
    assert "【二级(橙色)预警】" in text and "停车收费纠纷" in text and "研判意见:聚集可能性大" in text
    assert f"发布{'二级(橙色)预警'}" in decisions(st.timeline)


async def test_report_refusals_name_the_reason(harness) -> None:
    h = harness
    wf = await start(h, "huangyan-L1")
    with pytest.raises(ReportRefused, match="not expected now"):
        await report(h, wf, "sign_closed", result="x")
    with pytest.raises(ReportRefused, match="not under this warning's plan"):
        await report(h, wf, "analysis", decision="propose", assessment="x", incident_type="C4")


# ---------------------------------------------------------------- 001 §7(1) 定期排查


def screening_input() -> dict[str, Any]:
    return {"bureau": "gongshu", "jurisdiction": {"county": "拱墅区", "justice_office": "米市巷司法所"},
            "responsible": {"name": "王建国", "phone": "13900000001", "unit": "米市巷司法所"}}


async def start_screening(h) -> str:
    wf = f"screening-test-{uuid.uuid4().hex[:8]}"
    await h.env.client.start_workflow("ScreeningPeriod", screening_input(), id=wf, task_queue=h.queue)
    STARTED_ON_OWN_QUEUES.append((h.queue, wf))
    return wf


async def test_screening_period_without_a_record_is_escalated_and_missing_in_the_register(harness) -> None:
    """001 §7(1) 定期排查分析社区矫正对象动态: the office owes each period's record; none by the due time is
    escalated to the section, and the period ends with it missing (漏报, 001 §7(4))."""
    from plan.warning import ScreeningOutcome

    h = harness
    wf = await start_screening(h)
    await h.skip(P.screening_due + timedelta(minutes=5))
    await h.skip(P.screening_interval)
    out = await h.env.client.get_workflow_handle(wf, result_type=ScreeningOutcome).result()
    assert not out.filed and out.warnings == []
    row = next(o for o in out.accountability.obligations if o.id == "deadline/screening-record")
    assert row.status is ObligationStatus.MISSING and row.clause == "001 §7(1)"
    assert out.accountability.missing >= 1


async def test_screening_record_with_two_signs_opens_two_warnings(harness) -> None:
    from plan.warning import ScreeningOutcome

    h = harness
    wf = await start_screening(h)
    concerned = json.loads((EXAMPLES / "warnings" / "gongshu-C4.json").read_text(encoding="utf-8"))["sign"]["concerned"]
    record = {
        "kind": "screening_record", "actor": "米市巷司法所 所长", "subjects_screened": 42,
        "recorder": {"name": "陈思远", "phone": "0571-85110001", "unit": "米市巷司法所"},
        "responsible": {"name": "王建国", "phone": "13900000001", "unit": "拱墅区司法局社区矫正管理科"},
        "signs": [
            {"expected_type": "C4", "what": "对象近期频繁夜不归宿", "place": "米市巷街道", "concerned": concerned},
            {"expected_type": "C3", "what": "对象扬言到省里上访", "place": "米市巷街道", "concerned": concerned},
        ],
    }
    await h.api.warning_report(wf, record)
    with pytest.raises(ReportRefused, match="already filed"):
        await h.api.warning_report(wf, record)
    await h.skip(P.screening_interval)
    out = await h.env.client.get_workflow_handle(wf, result_type=ScreeningOutcome).result()
    assert out.filed and out.subjects_screened == 42
    assert out.warnings == [f"{wf}-sign-1", f"{wf}-sign-2"]
    row = next(o for o in out.accountability.obligations if o.id == "deadline/screening-record")
    assert row.status is ObligationStatus.ON_TIME
    for w, t in zip(out.warnings, ("C4", "C3")):
        STARTED_ON_OWN_QUEUES.append((h.queue, w))
        st = await until(h, w, lambda s: bool(s.timeline))
        assert st.summary_zh.startswith(f"{t}苗头") and st.related == [wf]  # linked both ways
        assert st.timeline[0].text_zh.startswith("苗头登记:") and "来源:定期排查" in st.timeline[0].text_zh
        assert st.state in ("analysing", "watching")


async def test_drill_warning_never_reaches_a_real_agency(harness) -> None:
    """Drills (000 §6.2, 001 §7(2)) work for warnings too: the messages are marked and go to the drill outbox."""
    h = harness
    wf = await start(h, "huangyan-L1", drill=True)
    st = await until(h, wf, delivered("sign-recorded"))
    assert "(渠道 drill-outbox):【演练】【预警·L1苗头】" in text_to(st.timeline, "sign-recorded", "emergency_office")
    assert [d for d in h.outbox() if d["workflow_id"] == wf] == []  # nothing in the real outbox


async def test_sign_input_is_validated_at_the_door(harness) -> None:
    from starter.api import InvalidInput

    h = harness
    bad = sign("gongshu-C4")
    bad["sign"].pop("concerned")
    with pytest.raises(InvalidInput, match="concerned: the correction subject concerned is required"):
        await h.api.start_warning(bad)
    with pytest.raises(InvalidInput, match="sign_id: contains an ID-number-shaped"):
        await h.api.start_warning(sign("gongshu-C4", sign_id="S-331003199001011236"))
    data = sign("huangyan-L1")
    first = await h.api.start_warning(data)
    again = await h.api.start_warning(data)
    STARTED_ON_OWN_QUEUES.append((h.queue, first.workflow_id))
    assert again.workflow_id == first.workflow_id and again.already_started


async def test_proposal_started_by_the_leadership_group_runs_the_l_incident(harness) -> None:
    """000 §2.2(1) 及时向区司法局应急指挥领导小组报告,提出预警及预案启动的建议: 黄岩's leadership group decides to start;
    the L1 incident runs under 000 (its information report, 000 §4.2) with the sign's facts and names the warning."""
    h = harness
    wf = await start(h, "huangyan-L1")
    await until(h, wf, delivered("sign-recorded"))
    await report(h, wf, "analysis", decision="propose", assessment="聚集风险大")
    st = await until(h, wf, delivered("plan-proposal"))
    assert text_to(st.timeline, "plan-proposal", "leadership_group").count(HY_OFFICE) == 1
    await report(h, wf, "leadership_decision", start=True, reason="启动预案,组织调处", actor="领导小组 组长",
                 commander={"name": "赵局长", "phone": "13900000009", "unit": "黄岩区司法局"})
    out = await h.api.warning_outcome(wf)
    inc_id = out.incident_id
    assert inc_id == f"incident-L1-{wf}"
    h.started.append(inc_id)
    STARTED_ON_OWN_QUEUES.append((h.queue, inc_id))
    inc = await h.until_step(inc_id, "information-report", count=2)  # the office and the centre
    assert inc.origin is not None and inc.origin.workflow_id == wf and inc.origin.clause == "000 §4.1"
    assert decisions(inc.timeline)[0].startswith(f"本事件由预警 {wf} 转来")
    assert "停车收费纠纷" in text_to(inc.timeline, "information-report", "emergency_office")
    assert "赵局长" in text_to(inc.timeline, "information-report", "emergency_office")


def test_local_policies_are_typed_and_validated_on_load() -> None:
    """The plans give no number for any warning or screening time: each is a local policy, checked on load."""
    from pydantic import ValidationError

    from plan.agencies import Agency
    from plan.policy import DeadlinePolicy
    from plan.warning import DEFAULT_RECIPIENTS, WarningLevel

    p = DeadlinePolicy.model_validate({"warning_analysis": "PT12H", "screening_interval": "P7D", "screening_due": "P2D",
                                       "warning_recipients": {"red": ["leadership_group", "command_centre"]}})
    assert p.warning_analysis == timedelta(hours=12)
    assert p.warning_recipients[WarningLevel.RED] == (Agency.LEADERSHIP_GROUP, Agency.COMMAND_CENTRE)
    assert set(DEFAULT_RECIPIENTS["linkage"]) == set(DEFAULT_RECIPIENTS["correction"]) == set(WarningLevel)
    with pytest.raises(ValidationError, match="warning_follow_up: must be positive"):
        DeadlinePolicy.model_validate({"warning_follow_up": "PT0S"})
    with pytest.raises(ValidationError, match="screening_due: the record must be due within its period"):
        DeadlinePolicy.model_validate({"screening_interval": "P7D", "screening_due": "P8D"})
    with pytest.raises(ValidationError, match="warning_recipients"):
        DeadlinePolicy.model_validate({"warning_recipients": {"purple": ["leadership_group"]}})


async def test_unconfirmed_measure_and_missed_follow_up_are_escalated(harness) -> None:
    """001 §7(1) 采取针对性疏导、管理、教育措施 at 拱墅: a measure not confirmed within `warning_measure` goes to the
    社区矫正管理科; a follow-up not reported within `warning_follow_up` goes to the analysing office; both stand
    in the register until done."""
    h = harness
    wf = await start(h, "gongshu-C4")
    await until(h, wf, delivered("sign-recorded"))
    await report(h, wf, "analysis", decision="watch", assessment="需加强管控", actor="社区矫正管理科 值班员",
                 measures=[{"kind": "manage", "what": "每日电话核查去向"}])
    await until(h, wf, delivered("duty-measure-1"))
    await h.skip(P.warning_measure + timedelta(minutes=5))
    st = await until(h, wf, delivered("duty-measure-1-missed"))
    assert ("duty-measure-1-missed", "correction_section") in notifications(st.timeline)
    await h.skip(P.warning_follow_up - P.warning_measure)
    st = await until(h, wf, delivered("follow-up-1-missed"))
    assert ("follow-up-1-missed", "correction_command_office") in notifications(st.timeline)
    assert "【超时督办】“第1次跟踪了解苗头动态”" in text_to(st.timeline, "follow-up-1-missed", "correction_command_office")
    acc = await h.api.accountability(wf)
    status = {o.id: o.status for o in acc.obligations}
    assert status["duty/measure-1"] is ObligationStatus.OVERDUE
    assert status["deadline/follow-up-1"] is ObligationStatus.OVERDUE
