"""C6, 001 §4(6): 社区矫正对象非正常死亡 — every branch of the clause, as an officer sees it."""

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

from plan.models import ObligationStatus

CLOSE = dict(
    result="经核实对象死亡属实,已按程序终止社区矫正",
    current_situation="善后工作由家属办理",
    measures_taken=["联系家属核实情况", "终止社区矫正"],
)

TWO_CONTACTS = [
    {"name": "李秀英", "relation": "母亲", "phone": "13700000003"},
    {"name": "张卫东", "relation": "保证人", "phone": "13700000004"},
]


def _subject(family: list[dict]) -> dict:
    subject = dict(example("C6")["subject"])
    subject["family"] = family
    return subject


async def test_verified_with_police_terminates_and_reports_up(harness: Harness):
    wf = await harness.start("C6")
    await harness.report(wf, "arrived")
    await harness.until_step(wf, "duty-family-0")
    await harness.report(wf, "verified", duty="family-0", result="母亲李秀英确认对象死亡,死因不明")
    await harness.report(wf, "police_requested", reason="死因不明,需公安机关到场勘查")
    await refused(harness, wf, "police_requested", "110 was already called to the scene", reason="再次报警")
    await harness.until_step(wf, "duty-alarm-110")
    await harness.report(wf, "phoned", duty="alarm-110", counterpart="110接警员", actor="东城司法所 值班员")
    await harness.report(wf, "death_verification", verified=True, actor="区司法局社区矫正管理科")
    out = await harness.close(wf, **CLOSE)
    tl = out.timeline
    assert steps(tl) == [
        "information-report",
        "level-report",            # 001 §5(1): section and higher agency at once
        "duty-family-0",           # 立即联系社区矫正对象家属、监护人、保证人: the office's on-duty officer verifies
        "alarm-110",               # 必要时可以向公安“110”或执行地公安派出所报警到现场进行处置: the push,
        "duty-alarm-110",          # and the 司法所 on-duty officer's phone duty (issue 16)
        "termination-report",      # 上报上一级社区矫正机构,同时通报原判法院或决定机关以及执行地人民检察院
        "feedback-on-close",
        "written-report",
        "review-report",
    ]
    assert recipients(tl, "level-report") == {"correction_section", "higher_correction_agency"}
    # the family is never sent a message: a person of the 司法所 verifies with them (issue 16)
    assert "family" not in {e.recipient.value for e in tl if e.recipient}
    assert not [d for d in harness.outbox() if d["workflow_id"] == wf and d["recipient"] == "family"]
    assert recipients(tl, "duty-family-0") == {"justice_office"}
    task = text_to(tl, "duty-family-0", "justice_office")
    assert "【值班任务·核实】立即联系社区矫正对象家属、监护人、保证人以及其他相关人员核实情况(母亲)" in task
    assert "疑似非正常死亡" in task and "社区矫正对象李明轩" in task and "请协助核实情况" in task
    assert "电话:13700000003" in task
    assert "东城街道永宁路" in task
    assert obligation(out, "duty/family-0").status is ObligationStatus.ON_TIME
    assert recipients(tl, "alarm-110") == {"police_110"}
    alarm = text_to(tl, "alarm-110", "police_110")
    assert "死因不明,需公安机关到场勘查" in alarm and "请立即到现场进行处置" in alarm and "李明轩" in alarm
    assert recipients(tl, "termination-report") == {"higher_correction_agency", "deciding_authority", "procuratorate"}
    term = text_to(tl, "termination-report", "deciding_authority")
    assert "经核实死亡属实" in term and "终止社区矫正" in term and "社区矫正对象李明轩" in term
    assert "核实死亡真实性,按照终止社区矫正相关程序予以办理" in decisions(tl)
    assert steps(tl).count("alarm-110") == 1  # the refused second alarm called nobody
    assert out.accountability.missing == 0 and out.accountability.late == 0
    assert obligation(out, "alarm-110/police_110").status is ObligationStatus.ON_TIME
    assert obligation(out, "duty/alarm-110").status is ObligationStatus.ON_TIME
    assert "【值班任务·电话】必要时可以向公安“110”或执行地公安派出所报警到现场进行处置" in text_to(
        tl, "duty-alarm-110", "justice_office")
    assert obligation(out, "termination-report/deciding_authority").status is ObligationStatus.ON_TIME
    assert all(e.clause == "001 §4(6)" for e in tl if e.step in {"duty-family-0", "alarm-110", "termination-report"})


async def test_verified_without_police_every_contact_called(harness: Harness):
    wf = await harness.start("C6", subject=_subject(TWO_CONTACTS))
    await harness.report(wf, "arrived")
    await harness.report(wf, "death_verification", verified=True, note="经母亲及保证人确认")
    await harness.discharge_duties(wf)
    out = await harness.close(wf, **CLOSE)
    tl = out.timeline
    assert steps(tl) == [
        "information-report",
        "level-report",
        "duty-family-0",
        "duty-family-1",
        "termination-report",
        "feedback-on-close",
        "written-report",
        "review-report",
    ]
    assert "police_110" not in {e.recipient.value for e in tl if e.recipient}
    assert not [d for d in harness.outbox() if d["workflow_id"] == wf and d["recipient"] == "family"]
    assert "电话:13700000003" in text_to(tl, "duty-family-0", "justice_office")
    assert "电话:13700000004" in text_to(tl, "duty-family-1", "justice_office")
    assert "保证人 张卫东" in text_to(tl, "duty-family-1", "justice_office")
    assert "经母亲及保证人确认" in text_to(tl, "termination-report", "higher_correction_agency")
    assert "核实死亡真实性,按照终止社区矫正相关程序予以办理" in decisions(tl)
    assert out.accountability.missing == 0


async def test_death_not_verified_is_reported_up_without_termination(harness: Harness):
    wf = await harness.start("C6")
    await harness.report(wf, "arrived")
    await harness.report(wf, "death_verification", verified=False, note="家属称对象外出务工,电话可接通")
    await refused(harness, wf, "police_requested", "police_requested: not expected now", reason="晚到的报警")
    await harness.discharge_duties(wf)
    out = await harness.close(wf, result="对象死亡情况未能证实,继续核查", current_situation="继续核查",
                              measures_taken=["联系家属核实情况"])
    tl = out.timeline
    assert steps(tl) == [
        "information-report",
        "level-report",
        "duty-family-0",
        "verification-report",     # 001 §5(1): the result reported up
        "feedback-on-close",
        "written-report",
        "review-report",
    ]
    assert recipients(tl, "verification-report") == {"higher_correction_agency"}
    report = text_to(tl, "verification-report", "higher_correction_agency")
    assert "经核实死亡情况未能证实" in report and "家属称对象外出务工" in report and "李明轩" in report
    decided = decisions(tl)
    assert "核实死亡真实性,按照终止社区矫正相关程序予以办理" not in decided
    assert any("死亡情况未能证实,不予终止社区矫正" in d for d in decided)
    assert "termination-report" not in steps(tl)
    assert out.accountability.missing == 0


async def test_no_family_contacts_verified_on_site(harness: Harness):
    wf = await harness.start("C6", subject=_subject([]))
    await harness.report(wf, "arrived")
    await harness.report(wf, "death_verification", verified=True)
    out = await harness.close(wf, **CLOSE)
    tl = out.timeline
    assert not [s for s in steps(tl) if s.startswith("family-")]
    assert "未登记家属、监护人、保证人联系方式,由司法所实地核实" in decisions(tl)
    assert steps(tl)[:3] == ["information-report", "level-report", "termination-report"]


async def test_reports_out_of_clause_order_are_refused_with_reason(harness: Harness):
    wf = await harness.start("C6")
    await harness.report(wf, "arrived")
    await refused(harness, wf, "closed", "closed: handling is not finished; waiting for death_verification", **CLOSE)
    await refused(harness, wf, "punishment", "kind: 'punishment' does not apply to C6", decision="训诫")
    await refused(harness, wf, "casualty_outcome", "does not apply to C6", subject_died=True, site_inspected=True, summary="x")
    await harness.report(wf, "death_verification", verified=True)
    await refused(harness, wf, "death_verification", "death_verification: not expected now", verified=False)
    await refused(harness, wf, "phoned", "verified", duty="family-0", counterpart="母亲")  # the evidence it takes
    await refused(harness, wf, "verified", "no duty 'family-9'", duty="family-9", result="x")
    await harness.discharge_duties(wf)
    out = await harness.close(wf, **CLOSE)
    assert out.accountability.missing == 0
