"""C5, 001 §4(5): 社区矫正对象在教育学习、公益活动中严重滋扰管理秩序 — every branch of the clause."""

from __future__ import annotations

from conftest import Harness, decisions, recipients, refused, steps, text_to

from plan.models import ObligationStatus

CLOSE = dict(result="违规人员已离开,教育学习恢复", current_situation="现场秩序正常", measures_taken=["劝离现场", "批评训诫"])
ORDER = "强化现场秩序维护,立即将违规人员劝离现场,进行批评训诫,同时对其他人员进行教育"
HEAD = ["information-report", "level-report"]
TAIL = ["punishment-report-up", "feedback-on-close", "written-report", "review-report"]


async def _finish(h: Harness, wf: str, decision: str = "训诫"):
    return await h.punish_and_close(wf, decision, **CLOSE)


async def test_violator_leaves_when_told(harness: Harness):
    wf = await harness.start("C5")
    await harness.report(wf, "arrived")
    await harness.report(wf, "persuasion", complied=True)
    out = await _finish(harness, wf)
    tl = out.timeline
    assert steps(tl) == [*HEAD, *TAIL]
    assert recipients(tl, "level-report") == {"correction_section", "higher_correction_agency"}
    assert "police_110" not in {e.recipient.value for e in tl if e.recipient}
    assert recipients(tl, "punishment-report-up") == {"higher_correction_agency", "procuratorate"}
    up = text_to(tl, "punishment-report-up", "procuratorate")
    assert "处罚决定:训诫" in up and "社区矫正对象李明轩" in up and "社区矫正教育基地" in up
    d = decisions(tl)
    assert d.index(ORDER) < d.index("违规人员已听从劝离,离开活动现场") < d.index("社区矫正管理科依法处罚:训诫")
    assert out.accountability.missing == 0 and out.accountability.late == 0


async def test_violator_refuses_to_leave_110_is_called(harness: Harness):
    wf = await harness.start("C5")
    await harness.report(wf, "arrived")
    await harness.report(wf, "persuasion", complied=False)
    out = await _finish(harness, wf, decision="警告")
    tl = out.timeline
    # 如不愿离开的,…可以向公安“110”或执行地公安派出所报警予以处置
    assert steps(tl) == [*HEAD, "alarm-110", *TAIL]
    assert recipients(tl, "alarm-110") == {"police_110"}
    alarm = text_to(tl, "alarm-110", "police_110")
    assert "社区矫正对象李明轩" in alarm and "东城司法所社区矫正教育基地" in alarm
    assert "仍不愿离开现场" in alarm and "请立即出警予以处置" in alarm
    assert "违规人员不愿离开活动现场,向公安“110”报警予以处置" in decisions(tl)
    assert "处罚决定:警告" in text_to(tl, "punishment-report-up", "higher_correction_agency")
    acc = out.accountability
    assert acc.missing == 0 and acc.late == 0
    assert {o.id: o.status for o in acc.obligations}["alarm-110/police_110"] is ObligationStatus.ON_TIME


async def test_reports_out_of_clause_order_are_refused_with_reason(harness: Harness):

    wf = await harness.start("C5")
    await refused(harness, wf, "punishment", "punishment: not expected now; the incident is waiting for arrived, persuasion",
                  decision="训诫")
    await refused(harness, wf, "closed", "closed: handling is not finished; waiting for persuasion", **CLOSE)
    await refused(harness, wf, "persuasion", "persuasion: equipment_used applies to 001 §4(8)", complied=False, equipment_used=True)
    await refused(harness, wf, "casualties", "kind: 'casualties' does not apply to C5", injured=1)
    await harness.report(wf, "arrived")
    await harness.report(wf, "persuasion", complied=True)
    await refused(harness, wf, "persuasion", "persuasion: not expected now; the incident is waiting for punishment", complied=False)
    out = await _finish(harness, wf)
    assert "alarm-110" not in steps(out.timeline)
    assert out.accountability.missing == 0
