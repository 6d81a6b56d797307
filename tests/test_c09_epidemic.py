"""C9, 001 §4(9): the four epidemic scenarios; 情形三's daily contact over 60 days, continued as new."""

from __future__ import annotations

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
    wf = await harness.start("C9-S4")
    st = await harness.until_step(wf, "consult-epidemic-dept")
    assert st.waiting_for == ["screening_result"]
    with pytest.raises(ReportRefused, match="cleared: not expected now"):
        await harness.report(wf, "cleared", summary="x")
    await harness.report(wf, "screening_result", result="同场工作人员 3 人、对象 12 人均已排查,核酸检测阴性")
    st = await harness.until_step(wf, "phone-report-up")
    assert "cleared" in st.waiting_for
    await harness.report(wf, "cleared", summary="对象已转运至定点医院,密接人员均已落实管控")
    out = await harness.close(wf)
    tl = out.timeline
    assert steps(tl) == [
        "information-report",
        "level-report",
        "consult-epidemic-dept",
        "phone-report-up",     # 排查结果和有关情况第一时间电话报告上一级社区矫正机构
        "written-report-up",   # 情况基本明确后书面报告
        "feedback-on-close",
        *END,
    ]
    assert recipients(tl, "phone-report-up") == {"higher_correction_agency"}
    phone = text_to(tl, "phone-report-up", "higher_correction_agency")
    assert "【电话报告】排查结果:同场工作人员 3 人" in phone
    written = text_to(tl, "written-report-up", "higher_correction_agency")
    assert "【书面报告】情形四" in written and "情况已基本明确:对象已转运至定点医院" in written
    assert "根据疫情防控部门的要求对工作人员和其余社区矫正对象开展情况排查" in decisions(tl)


async def test_s3_missed_daily_contact_escalates_to_section_then_late(harness: Harness):
    wf = await harness.start("C9-S3")
    await harness.until(wf, lambda st: any(d.id == "daily-contact-1" for d in st.deadlines))
    await harness.skip(timedelta(days=1, minutes=1))
    st = await harness.until_step(wf, "daily-contact-1-missed")
    assert recipients(st.timeline, "daily-contact-1-missed") == {"correction_section"}
    assert "“第1日联系外出人员”已于" in text_to(st.timeline, "daily-contact-1-missed", "correction_section")
    await harness.until(wf, lambda st: any(d.id == "daily-contact-2" for d in st.deadlines))
    await harness.report(wf, "daily_contact", reached=False)  # day 2: tried, could not reach
    st = await harness.until(wf, lambda st: any((e.step or "").startswith("unreachable-") for e in st.timeline if e.kind is EntryKind.NOTIFICATION))
    assert {d.id: d.status for d in st.deadlines if d.id.startswith("daily")} == {
        "daily-contact-1": DeadlineStatus.MISSED,
        "daily-contact-2": DeadlineStatus.MET,
    }
    await harness.report(wf, "cleared", summary="对象返回本地,健康码转绿")
    out = await harness.close(wf)
    acc = {o.id: o.status for o in out.accountability.obligations}
    assert acc["deadline/daily-contact-1"] is ObligationStatus.MISSING
    assert acc["deadline/daily-contact-2"] is ObligationStatus.ON_TIME
    assert out.accountability.missing == 1


async def test_s3_sixty_days_away_daily_contacts_with_bounded_history(harness: Harness):
    """60 days away: one contact a day, every day on the record; each run's history stays small."""
    wf = await harness.start("C9-S3")
    days = 60
    for day in range(1, days + 1):
        await harness.until(wf, lambda st, d=day: any(x.id == f"daily-contact-{d}" for x in st.deadlines))
        await harness.api.signal_report(wf, {"kind": "daily_contact", "actor": "东城司法所 社区矫正专职人员", "reached": True, "health": "体温正常"})
        await harness.until(
            wf, lambda st, d=day: any(x.id == f"daily-contact-{d}" and x.status is DeadlineStatus.MET for x in st.deadlines)
        )
        await harness.skip(timedelta(days=1))
    await harness.until(wf, lambda st: any(x.id == f"daily-contact-{days + 1}" for x in st.deadlines))
    await harness.report(wf, "cleared", summary="对象返回本地,健康码转绿")
    out = await harness.close(wf)
    met = [d for d in out.deadlines if d.id.startswith("daily-contact-") and d.status is DeadlineStatus.MET]
    assert len(met) == days
    assert out.accountability.missing == 0
    assert sum(1 for e in out.timeline if e.step == "daily_contact" and e.kind is EntryKind.REPORT) == days
    # the whole record survived every continue-as-new: the opening steps are still on it
    assert steps(out.timeline)[:3] == ["information-report", "level-report", "contact-local-epidemic-dept"]

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
