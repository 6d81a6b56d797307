"""C9, 001 §4(9): the four epidemic scenarios; 情形三's daily contact over 60 days, continued as new."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from helpers import Harness, decisions, recipients, steps, text_to
from temporalio.api.enums.v1 import EventType

from plan.models import DeadlineStatus, EntryKind, ObligationStatus
from starter.api import ReportRefused

END = ["written-report", "review-report"]


async def test_s1_red_code_at_workplace(harness: Harness):
    wf = await harness.start("C9-S1")
    st = await harness.until_step(wf, "contact-epidemic-dept")
    assert st.waiting_for == ["transfer_done", "others_released"]
    # the others stay until the department says otherwise: the incident cannot be closed yet
    with pytest.raises(ReportRefused, match="waiting for transfer_done, others_released"):
        await harness.report(wf, "closed", result="x", current_situation="x", measures_taken=["x"])
    await harness.report(wf, "others_released", actor="东城司法所 值班员")
    await harness.report(wf, "transfer_done", actor="东城司法所 值班员")
    out = await harness.close(wf)
    tl = out.timeline
    assert steps(tl) == ["information-report", "level-report", "contact-epidemic-dept", "feedback-on-close", *END]
    assert recipients(tl, "contact-epidemic-dept") == {"epidemic_department"}
    text = text_to(tl, "contact-epidemic-dept", "epidemic_department")
    assert "健康码“红黄码”" in text and "配合做好人员转运、隔离" in text and "社区矫正对象李明轩" in text
    d = decisions(tl)
    assert d.index("立即停止正在开展的活动,将该社区矫正对象单独安置") < d.index(
        "要求其他同时在场的社区矫正对象和工作人员留在工作场所内,等待疫情防控部门的通知安排"
    )
    assert "做好人员心理疏导" in d
    assert "配合疫情防控部门完成人员转运、隔离" in d and "按疫情防控部门通知,其他在场人员离开工作场所" in d
    assert all(e.clause.startswith("001 §4(9) 情形一") for e in tl if e.step == "contact-epidemic-dept")


async def test_s2_red_code_within_city(harness: Harness):
    wf = await harness.start("C9-S2")
    with pytest.raises(ReportRefused, match="daily_contact"):
        await harness.report(wf, "daily_contact", reached=True)
    await harness.report(wf, "cleared", summary="经核酸检测,健康码已转绿")
    out = await harness.close(wf)
    assert steps(out.timeline) == ["information-report", "level-report", "consult-epidemic-dept", "feedback-on-close", *END]
    d = decisions(out.timeline)
    assert "要求对象积极配合属地疫情防控部门开展相关工作" in d
    assert "做好人员心理疏导和后续动态关注" in d
    assert "红黄码解除:经核酸检测,健康码已转绿" in d


async def test_s4_phone_report_up_first_then_written(harness: Harness):
    """001 §4(9) 情形四: 排查结果和有关情况第一时间电话报告上一级社区矫正机构,并在情况基本明确后向上一级社区矫正机构书面报告 —
    a phone duty of the section's on-duty officer first (a task to them, confirmed by ``phoned``), then the
    written report (a message duty discharged by its delivery) once ``cleared``, in that order."""
    wf = await harness.start("C9-S4")
    st = await harness.until_step(wf, "consult-epidemic-dept")
    assert st.waiting_for == ["screening_result"]
    with pytest.raises(ReportRefused, match="cleared: not expected now"):
        await harness.report(wf, "cleared", summary="x")
    await harness.report(wf, "screening_result", result="同场工作人员 3 人、对象 12 人均已排查,核酸检测阴性")
    st = await harness.until_step(wf, "duty-phone-report-up")
    assert "cleared" in st.waiting_for
    assert [d.id for d in st.duties] == ["phone-report-up"]
    task = text_to(st.timeline, "duty-phone-report-up", "correction_section")
    assert "【值班任务·电话】排查结果和有关情况第一时间电话报告上一级社区矫正机构" in task
    assert "排查结果:同场工作人员 3 人" in task and "电话:0576-84000010" in task
    await harness.report(wf, "phoned", duty="phone-report-up", counterpart="市社区矫正局值班员",
                         agreed="书面报告待情况基本明确后报送", actor="区司法局社区矫正管理科")
    await harness.report(wf, "cleared", summary="对象已转运至定点医院,密接人员均已落实管控")
    out = await harness.close(wf)
    tl = out.timeline
    assert steps(tl) == [
        "information-report",
        "level-report",
        "consult-epidemic-dept",
        "duty-phone-report-up",  # the phone report: a person's task
        "written-report-up",     # 情况基本明确后书面报告
        "feedback-on-close",
        *END,
    ]
    assert recipients(tl, "duty-phone-report-up") == {"correction_section"}
    assert recipients(tl, "written-report-up") == {"higher_correction_agency"}
    written = text_to(tl, "written-report-up", "higher_correction_agency")
    assert "【书面报告】情形四" in written and "情况已基本明确:对象已转运至定点医院" in written
    assert "根据疫情防控部门的要求对工作人员和其余社区矫正对象开展情况排查" in decisions(tl)
    status = {o.id: o.status for o in out.accountability.obligations}
    assert status["duty/phone-report-up"] is ObligationStatus.ON_TIME
    assert status["written-report-up/higher_correction_agency"] is ObligationStatus.ON_TIME
    assert "duty/written-report-up" not in status  # a message duty is its notification's own row
    done = {e.step: e.seq for e in tl if e.kind is EntryKind.DUTY_DONE}
    assert done["duty-phone-report-up"] < min(e.seq for e in tl if e.step == "written-report-up")


async def _day_duty(h: Harness, wf: str, day: int):
    """Day ``day``'s duty once its task was delivered (001 §4(9) 情形三, issue 16)."""
    for _ in range(300):
        board = await h.api.duties(wf)
        found = next((d for d in board.open + board.closed if d.id == f"daily-contact-{day}"), None)
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"no duty for day {day}")


async def test_s3_missed_daily_contact_escalates_to_section_then_late(harness: Harness):
    """司法所应当每日与外出人员保持联系: each day a phone duty of the 司法所; a day without contact goes to the
    section at the day's end and to the leadership group ``duty_leadership_after`` later, and stays 漏报."""
    wf = await harness.start("C9-S3")
    await _day_duty(harness, wf, 1)
    await harness.skip(timedelta(days=1, minutes=1))
    st = await harness.until_step(wf, "duty-daily-contact-1-missed")
    assert recipients(st.timeline, "duty-daily-contact-1-missed") == {"correction_section"}
    assert "值班任务“第1日联系外出人员”" in text_to(st.timeline, "duty-daily-contact-1-missed", "correction_section")
    await _day_duty(harness, wf, 2)
    await harness.report(wf, "daily_contact", reached=False)  # day 2: tried, could not reach
    st = await harness.until(wf, lambda st: any((e.step or "").startswith("unreachable-") for e in st.timeline if e.kind is EntryKind.NOTIFICATION))
    board = await harness.api.duties(wf)
    assert [d.id for d in board.open] == ["contact-subject", "daily-contact-1"]  # a day's contact counts for that day only
    await harness.report(wf, "phoned", duty="contact-subject", counterpart="对象本人")
    assert next(d for d in board.closed if d.id == "daily-contact-2").result_zh == "当日未能取得联系"
    await harness.skip(timedelta(minutes=40))
    st = await harness.until_step(wf, "duty-daily-contact-1-leadership-missed")
    assert recipients(st.timeline, "duty-daily-contact-1-leadership-missed") == {"leadership_group"}
    await harness.report(wf, "cleared", summary="对象返回本地,健康码转绿")
    out = await harness.close(wf)
    acc = {o.id: o.status for o in out.accountability.obligations}
    assert acc["duty/daily-contact-1"] is ObligationStatus.MISSING
    assert acc["duty/daily-contact-2"] is ObligationStatus.ON_TIME
    assert acc.get("duty/daily-contact-3", ObligationStatus.NOT_REQUIRED) is ObligationStatus.NOT_REQUIRED
    assert out.accountability.missing == 1
    assert not [d for d in out.deadlines if d.id.startswith("daily-contact-")]  # duties, not deadlines


async def test_s3_sixty_days_away_daily_contacts_with_bounded_history(harness: Harness):
    """60 days away: one contact a day, every day on the record; each run's history stays small."""
    wf = await harness.start("C9-S3")
    days = 60
    await harness.until(wf, lambda st: any(d.id == "contact-subject" for d in st.duties))
    await harness.report(wf, "phoned", duty="contact-subject", counterpart="对象本人")  # 立即与该外出人员取得联系
    for day in range(1, days + 1):
        await _day_duty(harness, wf, day)
        await harness.api.signal_report(wf, {"kind": "daily_contact", "actor": "东城司法所 社区矫正专职人员", "reached": True, "health": "体温正常"})
        for _ in range(300):
            board = await harness.api.duties(wf)
            if any(d.id == f"daily-contact-{day}" for d in board.closed):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"day {day} not discharged")
        await harness.skip(timedelta(days=1))
    await _day_duty(harness, wf, days + 1)
    await harness.report(wf, "cleared", summary="对象返回本地,健康码转绿")
    out = await harness.close(wf)
    rows = {o.id: o for o in out.accountability.obligations if o.id.startswith("duty/daily-contact-")}
    assert sum(1 for o in rows.values() if o.status is ObligationStatus.ON_TIME) == days
    assert rows[f"duty/daily-contact-{days + 1}"].status is ObligationStatus.NOT_REQUIRED  # cleared that day
    assert rows["duty/daily-contact-60"].title_zh == "第60日联系外出人员"  # each day named in the register
    assert out.accountability.missing == 0
    assert sum(1 for e in out.timeline if e.step == "daily_contact" and e.kind is EntryKind.REPORT) == days
    # the whole record survived every continue-as-new: the opening steps are still on it
    assert steps(out.timeline)[:4] == ["information-report", "level-report", "duty-contact-subject", "contact-local-epidemic-dept"]

    # walk the chain of runs back from the last one and measure each history
    client = harness.env.client
    run_id = None
    lengths = []
    while True:
        history = await client.get_workflow_handle(wf, run_id=run_id).fetch_history()
        lengths.append(len(history.events))
        first = history.events[0]
        assert first.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
        prev = first.workflow_execution_started_event_attributes.continued_execution_run_id
        if not prev:
            break
        run_id = prev
    assert len(lengths) >= days // 7  # continued as new about weekly
    assert max(lengths) < 400, lengths
    st = await harness.status(wf)
    assert st.run == len(lengths)
