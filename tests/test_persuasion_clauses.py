"""The two persuasion clauses where the section *may* call 110 (可以), one table, every branch.

001 §4(2): 区司法局社区矫正管理科或司法所应当对社区矫正对象开展批评教育,劝导其离开群体性事件现场,并向
公安机关通报情况。如对象不愿离开的,区司法局社区矫正管理科和司法所可以向公安“110”或执行地公安派出所报警予以处置。
001 §4(5): 区司法局社区矫正管理科或司法所应当强化现场秩序维护,立即将违规人员劝离现场,进行批评训诫,同时对其他
人员进行教育。如不愿离开的,区司法局社区矫正管理科或司法所可以向公安“110”或执行地公安派出所报警予以处置。

Both: 对应予处罚的社区矫正对象,要及时依法实施处罚,并将有关情况及时上报上一级社区矫正机构,同时通报执行地人民检察院.
Where the plan says 应当 (001 §4(8), §4(10)) the clause's own test file covers it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from helpers import Harness, decisions, recipients, refused, steps, text_to

from plan.models import ObligationStatus
from starter.api import ReportRefused

TAIL = ["punishment-report-up", "feedback-on-close", "written-report", "review-report"]


@dataclass(frozen=True)
class Clause:
    type_id: str
    head: tuple[str, ...]
    """Steps before the persuasion (information report, level report, the clause's own)."""
    order_zh: str
    """The step the clause takes at once (批评教育 / 劝离)."""
    complied_zh: str
    refused_zh: str
    alarm_words: tuple[str, ...]
    """Words the 110 text must carry (the subject, the place, the refusal)."""
    place_zh: str
    close: dict
    foreign_kind: tuple[str, dict]
    """A report kind of another clause, refused as not applying."""


C2 = Clause(
    "C2", ("information-report", "level-report", "inform-police"),
    "对社区矫正对象开展批评教育,劝导其离开群体性事件现场",
    "对象已听从劝导,离开群体性事件现场", "对象不愿离开群体性事件现场",
    ("社区矫正对象李明轩", "东城街道政府广场", "仍不愿离开现场"), "东城街道政府广场",
    dict(result="对象已离开现场,依法予以训诫", current_situation="聚集人员已疏散", measures_taken=["批评教育", "劝导离开"]),
    ("handled", {}),
)
C5 = Clause(
    "C5", ("information-report", "level-report"),
    "强化现场秩序维护,立即将违规人员劝离现场,进行批评训诫,同时对其他人员进行教育",
    "违规人员已听从劝离,离开活动现场", "违规人员不愿离开活动现场",
    ("社区矫正对象李明轩", "东城司法所社区矫正教育基地", "仍不愿离开现场"), "社区矫正教育基地",
    dict(result="违规人员已离开,教育学习恢复", current_situation="现场秩序正常", measures_taken=["劝离现场", "批评训诫"]),
    ("casualties", {"injured": 1}),
)
CLAUSES = pytest.mark.parametrize("c", [C2, C5], ids=lambda c: c.type_id)


@CLAUSES
async def test_subject_leaves_when_told(harness: Harness, c: Clause):
    wf = await harness.start(c.type_id)
    await harness.report(wf, "arrived")
    await harness.report(wf, "persuasion", complied=True)
    out = await harness.punish_and_close(wf, "训诫", **c.close)
    tl = out.timeline
    assert steps(tl) == [*c.head, *TAIL]
    assert recipients(tl, "level-report") == {"correction_section", "higher_correction_agency"}
    assert "police_110" not in {e.recipient.value for e in tl if e.recipient}
    assert recipients(tl, "punishment-report-up") == {"higher_correction_agency", "procuratorate"}
    up = text_to(tl, "punishment-report-up", "procuratorate")
    assert "处罚决定:训诫" in up and "社区矫正对象李明轩" in up and c.place_zh in up
    d = decisions(tl)
    assert d.index(c.order_zh) < d.index(c.complied_zh) < d.index("社区矫正管理科依法处罚:训诫")
    assert out.accountability.missing == 0 and out.accountability.late == 0


async def test_c2_police_organ_is_informed_of_the_situation(harness: Harness):
    """001 §4(2) 并向公安机关通报情况: before any persuasion result."""
    wf = await harness.start("C2")
    await harness.report(wf, "arrived")
    st = await harness.until_step(wf, "inform-police")
    assert st.waiting_for == ["persuasion"]
    await harness.report(wf, "persuasion", complied=True)
    out = await harness.punish_and_close(wf, "训诫", **C2.close)
    tl = out.timeline
    assert recipients(tl, "inform-police") == {"police_organ"}
    police = text_to(tl, "inform-police", "police_organ")
    assert "社区矫正对象李明轩" in police and "东城街道政府广场" in police and "向公安机关通报情况" in police
    assert {o.id: o.status for o in out.accountability.obligations}["inform-police/police_organ"] is ObligationStatus.ON_TIME


@CLAUSES
async def test_subject_refuses_to_leave_110_is_called(harness: Harness, c: Clause):
    wf = await harness.start(c.type_id)
    await harness.report(wf, "arrived")
    await harness.report(wf, "persuasion", complied=False)
    out = await harness.punish_and_close(wf, "警告", **c.close)
    tl = out.timeline
    # 如不愿离开的,…可以向公安“110”或执行地公安派出所报警予以处置
    assert steps(tl) == [*c.head, "alarm-110", *TAIL]
    assert recipients(tl, "alarm-110") == {"police_110"}
    alarm = text_to(tl, "alarm-110", "police_110")
    assert all(w in alarm for w in c.alarm_words) and "请立即出警予以处置" in alarm
    assert f"{c.refused_zh},向公安“110”报警予以处置" in decisions(tl)
    assert "处罚决定:警告" in text_to(tl, "punishment-report-up", "higher_correction_agency")
    acc = out.accountability
    assert acc.missing == 0 and acc.late == 0
    assert {o.id: o.status for o in acc.obligations}["alarm-110/police_110"] is ObligationStatus.ON_TIME


@CLAUSES
async def test_refused_but_section_decides_not_to_call_110(harness: Harness, c: Clause):
    """可以: the section *may* call 110; its decision not to is recorded with the reason."""
    wf = await harness.start(c.type_id)
    await harness.report(wf, "arrived")
    await harness.report(wf, "persuasion", complied=False, call_police=False, note="公安民警已在现场处置")
    out = await harness.punish_and_close(wf, "训诫", **c.close)
    tl = out.timeline
    assert steps(tl) == [*c.head, *TAIL]
    assert "police_110" not in {e.recipient.value for e in tl if e.recipient}
    assert f"{c.refused_zh};经研究决定暂不报警:公安民警已在现场处置" in decisions(tl)


@CLAUSES
async def test_reports_out_of_clause_order_are_refused_with_reason(harness: Harness, c: Clause):
    wf = await harness.start(c.type_id)
    await refused(harness, wf, "punishment", "punishment: not expected now; the incident is waiting for arrived, persuasion",
                  decision="训诫")
    await refused(harness, wf, "closed", "closed: handling is not finished; waiting for persuasion", **c.close)
    await refused(harness, wf, "persuasion", "persuasion: equipment_used applies to 001 §4(8)", complied=True, equipment_used=True)
    kind, fields = c.foreign_kind
    await refused(harness, wf, kind, f"kind: '{kind}' does not apply to {c.type_id}", **fields)
    await harness.report(wf, "persuasion", complied=True)
    await refused(harness, wf, "persuasion", "persuasion: not expected now; the incident is waiting for arrived, punishment",
                  complied=False)
    await harness.report(wf, "arrived")
    out = await harness.punish_and_close(wf, "训诫", **c.close)
    assert "alarm-110" not in steps(out.timeline)
    assert out.accountability.missing == 0


async def test_call_police_false_refused_where_the_plan_says_must(harness: Harness):
    """001 §4(8): 应当立即报警 — a report that would skip 110 is refused."""
    wf = await harness.start("C8")
    with pytest.raises(ReportRefused, match="call_police cannot be false: 001 §4\\(8\\) says 110 must"):
        await harness.report(wf, "persuasion", complied=False, call_police=False)
