"""C11, 001 §4(11): 社区矫正对象其他突发情况 — every branch of the clause, as an officer sees it."""

from __future__ import annotations

import pytest
from helpers import Harness, decisions, obligation, recipients, refused, steps, text_to

from plan.models import ObligationStatus
from starter.api import InvalidInput

CLOSE = dict(
    result="对象情绪已平复,家庭纠纷已调解",
    current_situation="小区秩序恢复正常",
    measures_taken=["现场劝解", "协调公安处置"],
)


async def test_handled_on_site_without_110_or_any_department(harness: Harness):
    """可以根据实际情况先予现场处置,并联系协调公安等相关职能部门予以妥善处置: *可以* — without the officer's
    choice nobody is called; the police station is not asked to "contact the police"."""
    wf = await harness.start("C11")
    await harness.report(wf, "arrived")
    await harness.report(wf, "handled")
    await harness.report(wf, "punishment", decision="不予处罚", note="情节轻微", actor="区司法局社区矫正管理科")
    out = await harness.close(wf, **CLOSE)
    tl = out.timeline
    assert steps(tl) == [
        "information-report",
        "level-report",
        "punishment-report-up",
        "feedback-on-close",
        "written-report",
        "review-report",
    ]
    told = {e.recipient.value for e in tl if e.recipient}
    assert not told & {"police_110", "police_station", "police_organ", "petition_office"}
    decided = decisions(tl)
    assert decided.index("根据实际情况先予现场处置") < decided.index("现场处置完毕")
    assert "处罚决定:不予处罚" in text_to(tl, "punishment-report-up", "procuratorate")
    assert out.accountability.missing == 0


async def test_officer_chooses_the_departments_to_coordinate(harness: Harness):
    wf = await harness.start("C11")
    await harness.report(wf, "arrived")
    await harness.report(wf, "coordinate", departments=["police_station", "petition_office"],
                         request="协助劝解对象并稳控其家属情绪", actor="东城司法所 所长")
    st = await harness.until_step(wf, "coordinate-1", count=2)
    assert recipients(st.timeline, "coordinate-1") == {"police_station", "petition_office"}
    for to in ("police_station", "petition_office"):
        text = text_to(st.timeline, "coordinate-1", to)
        assert "社区矫正对象李明轩存在其他突发情况,可能影响社区矫正工作或社会秩序" in text
        assert "请协助予以妥善处置:协助劝解对象并稳控其家属情绪" in text
        assert "联系协调公安" not in text
    assert "联系协调执行地公安派出所、同级信访部门予以妥善处置" in decisions(st.timeline)
    with pytest.raises(InvalidInput, match="coordinate.departments.0: Input should be 'police_station'"):
        await harness.report(wf, "coordinate", departments=["family"], request="x")
    await harness.report(wf, "handled")
    await harness.report(wf, "punishment", decision="训诫")
    out = await harness.close(wf, **CLOSE)
    assert obligation(out, "coordinate-1/police_station").status is ObligationStatus.ON_TIME
    assert "police_110" not in {e.recipient.value for e in out.timeline if e.recipient}


async def test_110_called_each_time_it_is_requested(harness: Harness):
    wf = await harness.start("C11")
    await harness.report(wf, "arrived")
    await harness.report(wf, "police_requested", reason="对象持刀扬言报复家人")
    await harness.until_step(wf, "alarm-110-1")
    await harness.report(wf, "police_requested", reason="对象再次冲击家人住所")
    await harness.report(wf, "handled", actor="东城派出所 民警")
    await refused(harness, wf, "police_requested", "police_requested: not expected now", reason="晚到")
    await harness.until_step(wf, "duty-alarm-110-2")
    assert sorted(await harness.discharge_duties(wf)) == ["alarm-110-1", "alarm-110-2"]  # each its own phone duty
    await harness.report(wf, "punishment", decision="警告", actor="区司法局社区矫正管理科")
    out = await harness.close(wf, **CLOSE)
    tl = out.timeline
    assert steps(tl) == [
        "information-report",
        "level-report",
        "alarm-110-1",       # the push (POLICY.pushed), then the 司法所 on-duty officer's phone duty (issue 16)
        "duty-alarm-110-1",
        "alarm-110-2",
        "duty-alarm-110-2",
        "punishment-report-up",
        "feedback-on-close",
        "written-report",
        "review-report",
    ]
    assert recipients(tl, "alarm-110-1") == {"police_110"}
    first = text_to(tl, "alarm-110-1", "police_110")
    assert "对象持刀扬言报复家人" in first and "社区矫正对象李明轩" in first and "到现场予以处置" in first
    assert "对象再次冲击家人住所" in text_to(tl, "alarm-110-2", "police_110")
    assert out.accountability.missing == 0
    assert obligation(out, "alarm-110-1/police_110").status is ObligationStatus.ON_TIME
    assert obligation(out, "alarm-110-2/police_110").status is ObligationStatus.ON_TIME
    assert obligation(out, "duty/alarm-110-1").status is ObligationStatus.ON_TIME
    assert obligation(out, "duty/alarm-110-2").status is ObligationStatus.ON_TIME


async def test_reports_out_of_clause_order_are_refused_with_reason(harness: Harness):
    wf = await harness.start("C11")
    await harness.report(wf, "arrived")
    await refused(harness, wf, "punishment", "punishment: not expected now; the incident is waiting for handled",
                   decision="警告")
    await refused(harness, wf, "closed", "closed: handling is not finished; waiting for handled", **CLOSE)
    await refused(harness, wf, "persuasion", "kind: 'persuasion' does not apply to C11", complied=True)
    await harness.report(wf, "handled")
    await refused(harness, wf, "handled", "handled: not expected now; the incident is waiting for punishment")
    await harness.report(wf, "punishment", decision="训诫")
    out = await harness.close(wf, **CLOSE)
    assert out.accountability.missing == 0
