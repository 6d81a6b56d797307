"""C2, 001 §4(2): 社区矫正对象非法组织或参与群体性事件 — every branch of the clause."""

from __future__ import annotations

from conftest import Harness, decisions, recipients, refused, steps, text_to

from plan.models import ObligationStatus

CLOSE = dict(result="对象已离开现场,依法予以训诫", current_situation="聚集人员已疏散", measures_taken=["批评教育", "劝导离开"])
EDUCATE = "对社区矫正对象开展批评教育,劝导其离开群体性事件现场"
HEAD = ["information-report", "level-report", "inform-police"]
TAIL = ["punishment-report-up", "feedback-on-close", "written-report", "review-report"]


async def _finish(h: Harness, wf: str, decision: str = "训诫"):
    return await h.punish_and_close(wf, decision, **CLOSE)


async def test_subject_leaves_when_persuaded(harness: Harness):
    wf = await harness.start("C2")
    await harness.report(wf, "arrived")
    await harness.report(wf, "persuasion", complied=True)
    out = await _finish(harness, wf)
    tl = out.timeline
    assert steps(tl) == [*HEAD, *TAIL]
    assert recipients(tl, "level-report") == {"correction_section", "higher_correction_agency"}
    # 并向公安机关通报情况
    assert recipients(tl, "inform-police") == {"police_organ"}
    police = text_to(tl, "inform-police", "police_organ")
    assert "社区矫正对象李明轩" in police and "东城街道政府广场" in police and "向公安机关通报情况" in police
    assert "police_110" not in {e.recipient.value for e in tl if e.recipient}
    assert recipients(tl, "punishment-report-up") == {"higher_correction_agency", "procuratorate"}
    assert "处罚决定:训诫" in text_to(tl, "punishment-report-up", "procuratorate")
    d = decisions(tl)
    assert d.index(EDUCATE) < d.index("对象已听从劝导,离开群体性事件现场") < d.index("社区矫正管理科依法处罚:训诫")
    assert out.accountability.missing == 0 and out.accountability.late == 0
    assert {o.id: o.status for o in out.accountability.obligations}["inform-police/police_organ"] is ObligationStatus.ON_TIME


async def test_subject_refuses_to_leave_110_is_called(harness: Harness):
    wf = await harness.start("C2")
    await harness.report(wf, "arrived")
    st = await harness.until_step(wf, "inform-police")
    assert st.waiting_for == ["persuasion"]
    await harness.report(wf, "persuasion", complied=False)
    out = await _finish(harness, wf, decision="警告")
    tl = out.timeline
    # 如对象不愿离开的,…可以向公安“110”或执行地公安派出所报警予以处置
    assert steps(tl) == [*HEAD, "alarm-110", *TAIL]
    assert recipients(tl, "alarm-110") == {"police_110"}
    alarm = text_to(tl, "alarm-110", "police_110")
    assert "社区矫正对象李明轩" in alarm and "东城街道政府广场" in alarm and "仍不愿离开现场" in alarm
    assert "请立即出警予以处置" in alarm
    assert "对象不愿离开群体性事件现场,向公安“110”报警予以处置" in decisions(tl)
    assert "处罚决定:警告" in text_to(tl, "punishment-report-up", "higher_correction_agency")
    acc = out.accountability
    assert acc.missing == 0 and acc.late == 0
    assert {o.id: o.status for o in acc.obligations}["alarm-110/police_110"] is ObligationStatus.ON_TIME


async def test_reports_out_of_clause_order_are_refused_with_reason(harness: Harness):

    wf = await harness.start("C2")
    await refused(harness, wf, "punishment", "punishment: not expected now; the incident is waiting for arrived, persuasion",
                  decision="训诫")
    await refused(harness, wf, "closed", "closed: handling is not finished; waiting for persuasion", **CLOSE)
    await refused(harness, wf, "persuasion", "persuasion: equipment_used applies to 001 §4(8)", complied=True, equipment_used=True)
    await refused(harness, wf, "handled", "kind: 'handled' does not apply to C2")
    await harness.report(wf, "persuasion", complied=True)
    await refused(harness, wf, "persuasion", "persuasion: not expected now; the incident is waiting for arrived, punishment",
                  complied=False)
    await harness.report(wf, "arrived")
    out = await _finish(harness, wf)
    assert "alarm-110" not in steps(out.timeline)
    assert out.accountability.missing == 0


async def test_refused_but_section_decides_not_to_call_110(harness: Harness):
    """001 §4(2): the section *may* (可以) call 110; its decision not to is recorded with the reason."""
    wf = await harness.start("C2")
    await harness.report(wf, "arrived")
    await harness.report(wf, "persuasion", complied=False, call_police=False, note="公安民警已在现场处置")
    out = await _finish(harness, wf)
    tl = out.timeline
    assert steps(tl) == [*HEAD, *TAIL]
    assert "police_110" not in {e.recipient.value for e in tl if e.recipient}
    assert "对象不愿离开群体性事件现场;经研究决定暂不报警:公安民警已在现场处置" in decisions(tl)


async def test_call_police_false_refused_where_the_plan_says_must(harness: Harness):
    """001 §4(8): 应当立即报警 — a report that would skip 110 is refused."""
    import pytest

    from starter.api import ReportRefused

    wf = await harness.start("C8")
    with pytest.raises(ReportRefused, match="call_police cannot be false: 001 §4\\(8\\) says 110 must"):
        await harness.report(wf, "persuasion", complied=False, call_police=False)
