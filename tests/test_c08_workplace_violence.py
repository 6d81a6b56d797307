"""C8, 001 §4(8): 社区矫正工作场所内发生暴力事件 — every branch of the clause, as an officer sees it."""

from __future__ import annotations

from helpers import Harness, decisions, issued_steps, obligation, recipients, refused, steps, text_to

from plan.models import ObligationStatus

CLOSE = dict(
    result="暴力行为已被制止,无人员受伤",
    current_situation="工作场所秩序恢复正常",
    measures_taken=["语言劝诫", "依法处罚"],
)

OFFICE = dict(at_justice_office=True, place="东城司法所办公场所(社区矫正报到室)")


async def _finish(h: Harness, wf: str, decision: str = "警告"):
    await h.report(wf, "handled")
    return await h.punish_and_close(wf, decision, **CLOSE)


async def test_heeded_at_correction_centre_no_police(harness: Harness):
    wf = await harness.start("C8")
    await harness.report(wf, "arrived")
    await harness.report(wf, "persuasion", complied=True)
    out = await _finish(harness, wf, decision="训诫")
    tl = out.timeline
    assert steps(tl) == [
        "information-report",
        "level-report",
        "punishment-report-up",    # 处罚,并将有关情况及时上报上一级社区矫正机构,同时通报执行地人民检察院
        "feedback-on-close",
        "written-report",
        "review-report",
    ]
    assert "police_110" not in {e.recipient.value for e in tl if e.recipient}
    decided = decisions(tl)
    assert decided.index("工作人员立即通过语言劝诫制止社区矫正对象") < decided.index("社区矫正对象听从劝诫,停止暴力行为")
    assert "事态紧急,通过执勤执法装备制止暴力行为" not in decided
    assert recipients(tl, "punishment-report-up") == {"higher_correction_agency", "procuratorate"}
    up = text_to(tl, "punishment-report-up", "procuratorate")
    assert "处罚决定:训诫" in up and "社区矫正对象李明轩" in up and "社区矫正中心教育学习室" in up
    assert out.accountability.missing == 0


async def test_heeded_at_justice_office_phones_section_after_handling(harness: Harness):
    wf = await harness.start("C8", **OFFICE)
    await harness.report(wf, "arrived")
    await harness.report(wf, "persuasion", complied=True)
    out = await _finish(harness, wf)
    tl = out.timeline
    assert steps(tl)[:4] == ["information-report", "level-report", "phone-report-section", "punishment-report-up"]
    assert recipients(tl, "phone-report-section") == {"correction_section"}
    assert "police_110" not in {e.recipient.value for e in tl if e.recipient}
    assert out.accountability.missing == 0


async def test_not_heeded_with_equipment_at_justice_office(harness: Harness):
    wf = await harness.start("C8", **OFFICE)
    await harness.report(wf, "arrived")
    await harness.report(wf, "persuasion", complied=False, equipment_used=True)
    st = await harness.until_step(wf, "alarm-110")
    assert "phone-report-section" not in issued_steps(st.timeline)  # 在处置后: only once handled
    assert st.waiting_for == ["handled"]
    out = await _finish(harness, wf, decision="提请撤销缓刑")
    tl = out.timeline
    assert steps(tl) == [
        "information-report",
        "level-report",
        "alarm-110",               # 不听劝阻的,应当立即向公安“110”或执行地公安派出所报警到现场予以处置
        "phone-report-section",    # 司法所办公场所内: 在处置后应当立即电话报告
        "punishment-report-up",
        "feedback-on-close",
        "written-report",
        "review-report",
    ]
    assert recipients(tl, "alarm-110") == {"police_110"}
    alarm = text_to(tl, "alarm-110", "police_110")
    assert "社区矫正对象李明轩在社区矫正工作场所内实施暴力,经语言劝诫不听劝阻" in alarm
    assert "东城司法所办公场所" in alarm and "到现场予以处置" in alarm
    phone = text_to(tl, "phone-report-section", "correction_section")
    assert "电话报告" in phone and "在东城司法所办公场所内实施暴力" in phone
    decided = decisions(tl)
    assert "事态紧急,通过执勤执法装备制止暴力行为" in decided
    assert "社区矫正管理科依法处罚:提请撤销缓刑" in decided
    assert "处罚决定:提请撤销缓刑" in text_to(tl, "punishment-report-up", "higher_correction_agency")
    assert out.accountability.missing == 0
    assert obligation(out, "alarm-110/police_110").status is ObligationStatus.ON_TIME
    assert obligation(out, "phone-report-section/correction_section").status is ObligationStatus.ON_TIME


async def test_not_heeded_without_equipment_elsewhere(harness: Harness):
    wf = await harness.start("C8")
    await harness.report(wf, "arrived")
    await harness.report(wf, "persuasion", complied=False)
    out = await _finish(harness, wf)
    tl = out.timeline
    assert steps(tl)[:4] == ["information-report", "level-report", "alarm-110", "punishment-report-up"]
    assert "phone-report-section" not in steps(tl)
    assert "事态紧急,通过执勤执法装备制止暴力行为" not in decisions(tl)
    assert obligation(out, "alarm-110/police_110").status is ObligationStatus.ON_TIME


async def test_reports_out_of_clause_order_are_refused_with_reason(harness: Harness):
    wf = await harness.start("C8")
    await harness.report(wf, "arrived")
    await refused(harness, wf, "handled", "handled: not expected now; the incident is waiting for persuasion")
    await refused(harness, wf, "punishment", "punishment: not expected now", decision="警告")
    await refused(harness, wf, "police_requested", "kind: 'police_requested' does not apply to C8", reason="x")
    await harness.report(wf, "persuasion", complied=True)
    await refused(harness, wf, "persuasion", "persuasion: not expected now", complied=False)
    await refused(harness, wf, "closed", "closed: handling is not finished; waiting for handled", **CLOSE)
    out = await _finish(harness, wf)
    assert out.accountability.missing == 0
