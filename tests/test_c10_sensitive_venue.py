"""C10, 001 §4(10): 社区矫正对象未经允许在特殊敏感时间段进入活动举办场所 — every branch, as an officer sees it."""

from __future__ import annotations

from helpers import (
    Harness,
    decisions,
    notifications,
    obligation,
    recipients,
    refused,
    steps,
    text_to,
)

from plan.models import ObligationStatus

CLOSE = dict(
    result="对象已离开活动举办场所,依法予以处罚",
    current_situation="活动举办场所秩序正常",
    measures_taken=["电话联系对象", "依法处罚"],
)


async def test_complied_left_the_venue_then_punished(harness: Harness):
    wf = await harness.start("C10")
    await harness.report(wf, "arrived")
    await harness.report(wf, "persuasion", complied=True)
    await refused(harness, wf, "handled", "handled: not expected now; the incident is waiting for punishment")
    await harness.report(wf, "punishment", decision="警告", actor="区司法局社区矫正管理科")
    out = await harness.close(wf, **CLOSE)
    tl = out.timeline
    assert steps(tl) == [
        "information-report",
        "level-report",
        "duty-contact-subject",  # 立即联系社区矫正对象核实情况: the 司法所 on-duty officer's call (issue 16)
        "punishment-report-up",
        "feedback-on-close",
        "written-report",
        "review-report",
    ]
    assert "police_110" not in {e.recipient.value for e in tl if e.recipient}
    assert recipients(tl, "duty-contact-subject") == {"justice_office"}  # the subject is never messaged
    task = text_to(tl, "duty-contact-subject", "justice_office")
    assert "【值班任务·电话】立即联系社区矫正对象核实情况,要求其离开活动举办场所" in task and "电话:13700000002" in task
    assert "完成后请报告“劝离或制止结果”或“phoned”" in task
    assert not [d for d in harness.outbox() if d["workflow_id"] == wf and d.get("recipient_phone") == "13700000002"]
    # the persuasion report is the call's evidence: the duty is done by its actor, on time
    row = obligation(out, "duty/contact-subject")
    assert row.status is ObligationStatus.ON_TIME
    assert "社区矫正对象已离开活动举办场所" in decisions(tl)
    up = text_to(tl, "punishment-report-up", "procuratorate")
    assert "社区矫正对象李明轩未经允许在特殊敏感时间段进入活动举办场所" in up and "处罚决定:警告" in up
    assert "黄岩区会展中心" in up
    assert recipients(tl, "punishment-report-up") == {"higher_correction_agency", "procuratorate"}
    assert out.accountability.missing == 0


async def test_refused_to_leave_dispatch_and_110_at_the_same_time(harness: Harness):
    wf = await harness.start("C10")
    await harness.report(wf, "arrived")
    await harness.report(wf, "persuasion", complied=False)
    st = await harness.until_step(wf, "duty-dispatch-on-site")
    assert st.waiting_for == ["handled"]
    await refused(harness, wf, "punishment", "punishment: not expected now; the incident is waiting for handled",
                   decision="警告")
    await harness.report(wf, "handled", actor="东城派出所 民警")
    await harness.report(wf, "punishment", decision="提请撤销缓刑", actor="区司法局社区矫正管理科")
    await harness.discharge_duties(wf)
    out = await harness.close(wf, **CLOSE)
    tl = out.timeline
    assert steps(tl) == [
        "information-report",
        "level-report",
        "duty-contact-subject",
        "dispatch-and-alarm",       # 同步向公安“110”…报警: the push,
        "duty-dispatch-and-alarm",  # the on-duty officer's call,
        "duty-dispatch-on-site",    # and 应立即派员赶赴现场: an on-site duty, all in the same workflow task
        "punishment-report-up",     # 事件处置完毕后: punishment reported up
        "feedback-on-close",
        "written-report",
        "review-report",
    ]
    assert recipients(tl, "dispatch-and-alarm") == {"police_110"}
    # 同步: issued together, nothing else notified between them
    sent = notifications(tl)
    i = sent.index(("dispatch-and-alarm", "police_110"))
    assert sent[i : i + 3] == [("dispatch-and-alarm", "police_110"), ("duty-dispatch-and-alarm", "justice_office"),
                               ("duty-dispatch-on-site", "justice_office")]
    office = text_to(tl, "duty-dispatch-on-site", "justice_office")
    police = text_to(tl, "dispatch-and-alarm", "police_110")
    call = text_to(tl, "duty-dispatch-and-alarm", "justice_office")
    assert "【值班任务·到场】应立即派员赶赴现场" in office and "同步向公安“110”报警" in office
    assert "到现场予以处置" in police and "司法所已同步派员赶赴现场" in police
    assert "【值班任务·电话】同步向公安“110”或执行地公安派出所报警予以处置" in call and "电话:110" in call
    for text in (office, police, call):
        assert "社区矫正对象李明轩" in text and "未经允许在特殊敏感时间段进入活动举办场所" in text and "不愿离开" in text
        assert "黄岩区会展中心" in text
    decided = decisions(tl)
    assert decided.index("事件处置完毕") < decided.index("社区矫正管理科依法处罚:提请撤销缓刑")
    assert out.accountability.missing == 0
    assert obligation(out, "dispatch-and-alarm/police_110").status is ObligationStatus.ON_TIME
    assert obligation(out, "duty/dispatch-and-alarm").status is ObligationStatus.ON_TIME
    assert obligation(out, "duty/dispatch-on-site").status is ObligationStatus.ON_TIME


async def test_reports_out_of_clause_order_are_refused_with_reason(harness: Harness):
    wf = await harness.start("C10")
    await harness.report(wf, "arrived")
    await refused(harness, wf, "handled", "handled: not expected now; the incident is waiting for persuasion")
    await refused(harness, wf, "persuasion", "equipment_used applies to 001 §4(8)",
                   complied=False, equipment_used=True)
    await refused(harness, wf, "closed", "closed: handling is not finished; waiting for persuasion", **CLOSE)
    await refused(harness, wf, "police_requested", "kind: 'police_requested' does not apply to C10", reason="x")
    await harness.report(wf, "persuasion", complied=True)
    await harness.report(wf, "punishment", decision="训诫")
    out = await harness.close(wf, **CLOSE)
    assert out.accountability.missing == 0
