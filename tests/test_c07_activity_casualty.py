"""C7, 001 §4(7): 社区矫正对象在教育学习、公益活动中发生人身伤亡 — every branch, as an officer sees it."""

from __future__ import annotations

from helpers import (
    Harness,
    decisions,
    example,
    obligation,
    recipients,
    refused,
    steps,
    text_to,
)

from plan.models import EntryKind, ObligationStatus

CLOSE = dict(
    result="对象经救治已脱离危险,活动已终止,现场设施已检查",
    current_situation="对象在医院治疗,家属陪护",
    measures_taken=["拨打120", "通知家属", "终止公益活动", "现场设施安全检查"],
)


async def _stop_and_inspect(h: Harness, wf: str) -> None:
    await h.report(wf, "activity_stopped")
    await h.report(wf, "site_inspection", findings="现场护栏松动,已设警戒")


async def test_subject_died_correction_terminated_and_reported(harness: Harness):
    wf = await harness.start("C7")
    await harness.report(wf, "arrived")
    await _stop_and_inspect(harness, wf)
    await harness.report(wf, "casualty_outcome", subject_died=True, summary="经医院抢救无效死亡",
                         actor="区司法局社区矫正管理科")
    out = await harness.close(wf, result="对象经抢救无效死亡,已按死亡程序终止社区矫正",
                              current_situation="善后工作进行中", measures_taken=["拨打120", "终止社区矫正"])
    tl = out.timeline
    assert steps(tl) == [
        "medical-120",             # 立即拨打120或联系协调医院开展救治工作: before anything else
        "information-report",
        "level-report",
        "family-0",                # 通知社区矫正对象家属,做好解释工作
        "termination-report",      # 上报上一级社区矫正机构,同时通报决定机关和执行地人民检察院、公安机关
        "feedback-on-close",
        "written-report",
        "review-report",
    ]
    first = next(e for e in tl if e.kind is EntryKind.NOTIFICATION_ISSUED)
    assert first.step == "medical-120" and first.recipient.value == "medical_120"
    medical = text_to(tl, "medical-120", "medical_120")
    assert "社区矫正对象李明轩在参加教育学习、公益活动过程中发生人身伤亡" in medical
    assert "永宁河河道" in medical and "开展救治工作" in medical
    assert recipients(tl, "level-report") == {"correction_section", "higher_correction_agency"}
    family = text_to(tl, "family-0", "family")
    assert "李明轩" in family and "做好解释工作" in family
    assert recipients(tl, "termination-report") == {
        "higher_correction_agency",
        "deciding_authority",
        "procuratorate",
        "police_organ",
    }
    term = text_to(tl, "termination-report", "police_organ")
    assert "经医院抢救无效死亡" in term and "按照死亡程序予以终止社区矫正" in term and "李明轩" in term
    decided = decisions(tl)
    assert decided.index("终止教育学习、公益活动") < decided.index("开展现场设施安全检查:现场护栏松动,已设警戒")
    assert decided.index("开展现场设施安全检查:现场护栏松动,已设警戒") < decided.index("按照死亡程序予以终止社区矫正")
    assert "casualty-report" not in steps(tl)
    assert out.accountability.missing == 0
    assert obligation(out, "medical-120/medical_120").status is ObligationStatus.ON_TIME
    assert obligation(out, "termination-report/police_organ").status is ObligationStatus.ON_TIME


async def test_subject_survived_outcome_reported_up(harness: Harness):
    wf = await harness.start("C7")
    await harness.report(wf, "arrived")
    await harness.until_step(wf, "family-0")
    await _stop_and_inspect(harness, wf)
    await harness.report(wf, "casualty_outcome", subject_died=False, summary="头部外伤缝合,已脱离危险")
    out = await harness.close(wf, **CLOSE)
    tl = out.timeline
    assert steps(tl) == [
        "medical-120",
        "information-report",
        "level-report",
        "family-0",
        "casualty-report",
        "feedback-on-close",
        "written-report",
        "review-report",
    ]
    assert recipients(tl, "casualty-report") == {"higher_correction_agency"}
    report = text_to(tl, "casualty-report", "higher_correction_agency")
    assert "救治情况:头部外伤缝合,已脱离危险" in report and "现场设施安全检查已开展" in report
    decided = decisions(tl)
    assert "按照死亡程序予以终止社区矫正" not in decided
    assert "termination-report" not in steps(tl)
    phones = {d["step"]: d["recipient_phone"] for d in harness.outbox() if d["recipient"] == "family"}
    assert phones == {"family-0": "13700000003"}
    assert out.accountability.missing == 0


async def test_activity_stopped_then_site_inspected_then_outcome_in_the_clauses_order(harness: Harness):
    """终止教育学习、公益活动,开展现场设施安全检查 — recorded as officers report them, in that order, before
    the outcome (and any termination) is taken."""
    wf = await harness.start("C7")
    await harness.report(wf, "arrived")
    await refused(harness, wf, "closed", "closed: handling is not finished; waiting for activity_stopped", **CLOSE)
    await refused(harness, wf, "site_inspection", "site_inspection: not expected now; the incident is waiting for "
                  "activity_stopped", findings="x")
    await refused(harness, wf, "casualty_outcome", "casualty_outcome: not expected now",
                  subject_died=False, summary="轻伤")
    await refused(harness, wf, "punishment", "kind: 'punishment' does not apply to C7", decision="训诫")
    await harness.report(wf, "activity_stopped", actor="东城司法所 教育学习组织人")
    await refused(harness, wf, "casualty_outcome", "casualty_outcome: not expected now; the incident is waiting for "
                  "site_inspection", subject_died=False, summary="轻伤")
    await harness.report(wf, "site_inspection", findings="楼梯扶手松动,已设警戒并报修", actor="东城司法所 安全员")
    await refused(harness, wf, "casualty_outcome", "开展现场设施安全检查, 001 §4(7)) has not been done",
                  subject_died=False, site_inspected=False, summary="轻伤")
    await harness.report(wf, "casualty_outcome", subject_died=False, summary="轻伤")
    await refused(harness, wf, "casualty_outcome", "casualty_outcome: not expected now",
                  subject_died=True, summary="x")
    out = await harness.close(wf, **CLOSE)
    d = decisions(out.timeline)
    assert d.index("终止教育学习、公益活动") < d.index("开展现场设施安全检查:楼梯扶手松动,已设警戒并报修") < d.index(
        "救治情况:轻伤")
    stopped = next(e for e in out.timeline if e.text_zh == "终止教育学习、公益活动")
    assert stopped.actor == "东城司法所 教育学习组织人" and stopped.clause == "001 §4(7)"
    assert "casualty-report" in steps(out.timeline)
    assert out.accountability.missing == 0


async def test_no_family_contact_recorded(harness: Harness):
    subject = dict(example("C7")["subject"], family=[])
    wf = await harness.start("C7", subject=subject)
    await harness.report(wf, "arrived")
    await _stop_and_inspect(harness, wf)
    await harness.report(wf, "casualty_outcome", subject_died=False, summary="轻微擦伤")
    out = await harness.close(wf, **CLOSE)
    tl = out.timeline
    assert not [s for s in steps(tl) if s.startswith("family-")]
    assert any("未登记家属联系方式" in d for d in decisions(tl))
