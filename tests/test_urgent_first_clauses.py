"""The clauses where the code used to depart from the plan (issue: urgent first, the plan's own order).

Each test quotes its clause; C4, C7, C3 and C11 have theirs in their own test modules.
"""

from __future__ import annotations

from datetime import timedelta

from helpers import AFTERMATH, CLOSED, Harness, notifications, recipients, refused, steps, text_to

from plan.models import EntryKind, ObligationStatus
from plan.policy import DEFAULT_POLICY


async def test_progress_reaches_the_emergency_office_and_for_a_major_incident_the_leadership_group(harness: Harness):
    """000 §2.2(6): 跟踪了解事件的进展情况和处置情况,及时向区司法局应急指挥领导小组报告."""
    ordinary = await harness.start("L1")
    await harness.report(ordinary, "progress", current_situation="双方已坐下协商", measures_taken=["分别做思想工作"])
    st = await harness.until(ordinary, lambda st: any(s.startswith("progress-office-") for s, _ in notifications(st.timeline)))
    step = next(s for s, _ in notifications(st.timeline) if s.startswith("progress-office-"))
    assert recipients(st.timeline, step) == {"emergency_office"}
    text = text_to(st.timeline, step, "emergency_office")
    assert "处置进展:双方已坐下协商" in text and "跟踪了解事件的进展情况和处置情况" in text
    assert next(e for e in st.timeline if e.step == step).clause == "000 §2.2(6)"

    major = await harness.start("L1", major=True)
    await harness.report(major, "progress", current_situation="现场聚集人数增加到80人")
    st = await harness.until(major, lambda st: sum(s.startswith("progress-office-") for s, _ in notifications(st.timeline)) == 2)
    step = next(s for s, _ in notifications(st.timeline) if s.startswith("progress-office-"))
    assert recipients(st.timeline, step) == {"emergency_office", "leadership_group"}
    assert "现场聚集人数增加到80人" in text_to(st.timeline, step, "leadership_group")


async def test_linkage_incident_aftermath_reported_until_done(harness: Harness):
    """000 §4.4: 在相关突发事件处置完成后,区司法局将配合相关部门积极稳妥、深入细致地做好善后处置工作,
    密切关注以后情况并及时上报 — for the linkage plan's own types (L1–L4), not only correction incidents."""
    wf = await harness.start("L3")
    await harness.report(wf, "aid_decision", granted=True, reason="符合法律援助条件")
    await harness.report(wf, "closed", **CLOSED)
    st = await harness.until(wf, lambda st: st.waiting_for[:1] == ["aftermath_done"])
    assert st.phase.value == "handled"
    await refused(harness, wf, "aid_decision", "handling is over", granted=False, reason="x")
    await harness.report(wf, "progress", current_situation="受援人已与律师见面,案件进入诉讼程序")
    st = await harness.until(wf, lambda st: sum(s.startswith("aftermath-") and s != "aftermath-done"
                                                for s, _ in notifications(st.timeline)) == 2)
    step = next(s for s, _ in notifications(st.timeline) if s.startswith("aftermath-"))
    assert recipients(st.timeline, step) == {"emergency_office", "command_centre"}
    assert "善后处置情况:受援人已与律师见面" in text_to(st.timeline, step, "command_centre")
    await harness.report(wf, "aftermath_done", actor="区司法局应急办公室", **AFTERMATH)
    out = await harness.api.outcome(wf)
    assert steps(out.timeline)[-2:] == [step, "aftermath-done"]
    assert "善后处置工作完毕:" + AFTERMATH["summary"] in [e.text_zh for e in out.timeline if e.kind is EntryKind.DECISION]
    assert recipients(out.timeline, "aftermath-done") == {"emergency_office", "command_centre"}


async def test_aftermath_done_is_refused_for_a_correction_incident_and_before_closing(harness: Harness):
    wf = await harness.start("L3")
    await refused(harness, wf, "aftermath_done", "aftermath_done: the aftermath (善后处置, 000 §4.4) comes after handling",
                  **AFTERMATH)
    c4 = await harness.start("C4")
    await refused(harness, c4, "aftermath_done", "aftermath_done: correction incidents end with the review", **AFTERMATH)


async def test_s3_contacts_the_local_department_of_the_away_place_directly(harness: Harness):
    """001 §4(9) 情形三: 并与当地疫情防控部门取得联系,明确外出人员的状态和将采取的措施 — the department of
    the place where the subject is, directly; the home district's department is not asked to relay."""
    wf = await harness.start("C9-S3")
    st = await harness.until_step(wf, "contact-local-epidemic-dept")
    assert recipients(st.timeline, "contact-local-epidemic-dept") == {"away_epidemic_department"}
    assert "epidemic_department" not in {r for _, r in notifications(st.timeline)}
    text = text_to(st.timeline, "contact-local-epidemic-dept", "away_epidemic_department")
    assert "致宁波市海曙区疫情防控指挥部" in text and "外出地:宁波市海曙区" in text
    assert "明确" not in text or "请告知外出人员的状态和将采取的措施" in text
    phones = {d["step"]: d["recipient_phone"] for d in harness.outbox() if d["workflow_id"] == wf}
    assert phones["contact-local-epidemic-dept"] == "0574-87000000"
    await harness.report(wf, "cleared", summary="健康码转绿")
    await harness.close(wf)


async def test_s3_without_the_local_number_is_a_duty_by_hand(harness: Harness):
    epidemic = {"scenario": "S3", "away_place": "宁波市海曙区"}
    wf = await harness.start("C9-S3", epidemic=epidemic)
    st = await harness.until(wf, lambda st: any(d.id == "by-hand/contact-local-epidemic-dept/away_epidemic_department"
                                                for d in st.deadlines))
    assert "未提供宁波市海曙区当地疫情防控部门联系方式,由司法所人工联系,明确外出人员的状态和将采取的措施" in [
        e.text_zh for e in st.timeline if e.kind is EntryKind.DECISION]
    assert not [r for _, r in notifications(st.timeline) if r in ("away_epidemic_department", "epidemic_department")]
    await harness.report(wf, "notified_by_hand", step="contact-local-epidemic-dept", recipient="away_epidemic_department",
                         actor="东城司法所 值班员")
    await harness.report(wf, "cleared", summary="健康码转绿")
    out = await harness.close(wf)
    row = next(o for o in out.accountability.obligations if o.id == "contact-local-epidemic-dept/away_epidemic_department")
    assert row.status is ObligationStatus.ON_TIME and row.how == "人工(东城司法所 值班员)"


async def test_a_stated_time_never_turns_a_late_report_into_an_on_time_one(harness: Harness):
    """001 §7(4) 对在应急处置工作中有迟报、谎报、 瞒报和漏报…的 — the register judges the time the workflow
    received a report; the officer's stated time is kept beside it. Overdue and not yet sent (超时未报),
    sent late (迟报) and never sent when the incident closed (漏报) are three states."""
    no_number = {"scenario": "S3", "away_place": "宁波市海曙区"}  # the local department is phoned by hand
    wf = await harness.start("C9-S3", epidemic=no_number)
    step = "contact-local-epidemic-dept/away_epidemic_department"
    st = await harness.until(wf, lambda st: any(d.id == f"by-hand/{step}" for d in st.deadlines))
    opened = st.timeline[0].at
    await harness.skip(DEFAULT_POLICY.immediate + timedelta(minutes=5))
    acc = await harness.api.accountability(wf)
    assert {o.id: o.status for o in acc.obligations}[step] is ObligationStatus.OVERDUE  # 超时未报
    assert acc.overdue >= 1
    # the officer says they phoned ten minutes after the start: recorded beside it, but the call is late
    stated = opened + timedelta(minutes=10)
    await harness.report(wf, "notified_by_hand", step="contact-local-epidemic-dept", recipient="away_epidemic_department",
                         at=stated.isoformat(), actor="东城司法所 值班员")
    acc = await harness.api.accountability(wf)
    row = next(o for o in acc.obligations if o.id == step)
    assert row.status is ObligationStatus.LATE  # 迟报
    assert row.stated_at == stated and row.done_at is not None and row.done_at > row.due_at
    await harness.report(wf, "cleared", summary="健康码转绿")
    await harness.close(wf)

    # 漏报: a required contact never made is missing once the incident closes
    other = await harness.start("C9-S3", epidemic=no_number)
    await harness.until(other, lambda st: any(d.id == f"by-hand/{step}" for d in st.deadlines))
    await harness.report(other, "cleared", summary="健康码转绿")
    out = await harness.close(other)
    assert next(o for o in out.accountability.obligations if o.id == step).status is ObligationStatus.MISSING
    assert "漏报" in out.written_report_zh or out.accountability.missing >= 1
