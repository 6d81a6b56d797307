"""000 §4.3 arrival within 30 minutes, 000 §3(3) feedback within 24 hours: met, missed, escalated.

Time-skipping: the test server jumps the clock, so the real 30-minute and 24-hour constants are tested.
"""

from __future__ import annotations

from datetime import timedelta

from helpers import Harness, notifications, recipients, text_to

from plan.models import DeadlineStatus, EntryKind


def deadline(st, deadline_id):
    return next(d for d in st.deadlines if d.id == deadline_id)


async def test_information_report_goes_to_emergency_office_and_centre_first(harness: Harness):
    wf = await harness.start("L1")
    st = await harness.until_step(wf, "information-report", count=2)
    first_two = notifications(st.timeline)[:2]
    assert {r for _, r in first_two} == {"emergency_office", "command_centre"}
    text = text_to(st.timeline, "information-report", "emergency_office")
    # 000 §4.2 contents: time, place, course, situation, measures, commander contact
    for part in ["【信息报告】", "时间:2026年11月23日 09:15", "地点:北城街道某建筑工地门口", "经过:", "目前形势:",
                 "已采取的措施:北城司法所派员赶赴现场", "应急指挥机构负责人:孙海涛 13900000004"]:
        assert part in text
    # the outbox received exactly what the timeline says was sent
    sent = {(d["step"], d["recipient"]) for d in harness.outbox()}
    assert ("information-report", "command_centre") in sent


async def test_arrival_met_within_30_minutes(harness: Harness):
    wf = await harness.start("L1")
    st = await harness.status(wf)
    arrival = deadline(st, "arrival")
    assert arrival.title_zh == "到场时限 30分钟"
    assert arrival.due_at - st.timeline[0].at == timedelta(minutes=30)
    await harness.skip(timedelta(minutes=20))
    await harness.report(wf, "arrived")
    st = await harness.until(wf, lambda s: deadline(s, "arrival").status is not DeadlineStatus.PENDING)
    assert deadline(st, "arrival").status is DeadlineStatus.MET
    assert any(e.kind is EntryKind.DEADLINE_MET and "到场时限" in e.text_zh and e.clause == "000 §4.3" for e in st.timeline)
    await harness.skip(timedelta(minutes=30))
    st = await harness.status(wf)
    assert not recipients(st.timeline, "arrival-missed")


async def test_arrival_missed_at_30_minutes_escalates_and_incident_goes_on(harness: Harness):
    wf = await harness.start("L1")
    await harness.until_step(wf, "dispatch-mediation-group")
    await harness.skip(timedelta(minutes=29))
    st = await harness.status(wf)
    assert deadline(st, "arrival").status is DeadlineStatus.PENDING
    await harness.skip(timedelta(minutes=2))
    st = await harness.until_step(wf, "arrival-missed", count=2)
    arrival = deadline(st, "arrival")
    assert arrival.status is DeadlineStatus.MISSED
    assert arrival.missed_at - arrival.due_at < timedelta(seconds=5)
    # a miss notifies the emergency office and the leadership group at once
    assert recipients(st.timeline, "arrival-missed") == {"emergency_office", "leadership_group"}
    text = text_to(st.timeline, "arrival-missed", "leadership_group")
    assert "【超时督办】" in text and "到场时限 30分钟" in text and "000 §4.3" in text
    # the incident goes on: a late arrival is still accepted and recorded as late
    assert st.phase.value == "open"
    await harness.report(wf, "arrived")
    st = await harness.until(wf, lambda s: deadline(s, "arrival").status is DeadlineStatus.LATE)
    assert any(e.kind is EntryKind.DEADLINE_LATE for e in st.timeline)


async def test_feedback_met_within_24_hours(harness: Harness):
    wf = await harness.start("L1")
    await harness.report(wf, "arrived")
    await harness.skip(timedelta(hours=10))
    await harness.report(wf, "feedback", situation="双方情绪稳定,正在调解", result="已初步达成付款意向")
    st = await harness.until(wf, lambda s: deadline(s, "feedback").status is not DeadlineStatus.PENDING)
    assert deadline(st, "feedback").status is DeadlineStatus.MET
    text = text_to(st.timeline, "feedback-" + str(_seq_of(st, "feedback")), "command_centre")
    assert "处置结果:已初步达成付款意向" in text
    await harness.skip(timedelta(hours=20))
    st = await harness.status(wf)
    assert not recipients(st.timeline, "feedback-missed")
    assert not any(e.kind is EntryKind.REMINDER for e in st.timeline)


def _seq_of(st, kind):
    return next(e.seq for e in st.timeline if e.kind is EntryKind.REPORT and e.step == kind)


async def test_feedback_missed_at_24_hours_reminds_then_escalates(harness: Harness):
    wf = await harness.start("L1")
    await harness.report(wf, "arrived")
    await harness.skip(timedelta(hours=19, minutes=59))
    st = await harness.status(wf)
    assert not any(e.kind is EntryKind.REMINDER for e in st.timeline)
    await harness.skip(timedelta(minutes=2))  # 20 h: 4 hours left
    st = await harness.until_step(wf, "feedback-reminder-14400")
    assert recipients(st.timeline, "feedback-reminder-14400") == {"justice_office"}
    assert "剩余4小时" in text_to(st.timeline, "feedback-reminder-14400", "justice_office")
    await harness.skip(timedelta(hours=3))  # 23 h: 1 hour left
    await harness.until_step(wf, "feedback-reminder-3600")
    await harness.skip(timedelta(hours=1, minutes=1))
    st = await harness.until_step(wf, "feedback-missed", count=2)
    fb = deadline(st, "feedback")
    assert fb.status is DeadlineStatus.MISSED
    assert recipients(st.timeline, "feedback-missed") == {"emergency_office", "leadership_group"}
    assert "反馈时限 24小时" in text_to(st.timeline, "feedback-missed", "emergency_office")
    order = [s for s, _ in notifications(st.timeline)]
    assert order.index("feedback-reminder-14400") < order.index("feedback-reminder-3600") < order.index("feedback-missed")
    # late feedback is still sent to the centre and recorded as late (001 §7(4) 迟报)
    await harness.report(wf, "feedback", situation="调解中", result="仍在协商")
    st = await harness.until(wf, lambda s: deadline(s, "feedback").status is DeadlineStatus.LATE)


async def test_arrival_reported_in_the_same_task_as_the_start_meets_the_deadline(harness: Harness):
    """Signal-with-start: the report is handled before `run` takes a step; it must not be lost."""
    from helpers import example

    data = example("L1", alert_id="SWS-1")
    handle = await harness.env.client.start_workflow(
        "L1MajorDisputeMediation", data, id="incident-L1-SWS-1", task_queue=harness.queue,
        start_signal="report", start_signal_args=[{"kind": "arrived", "actor": "北城司法所"}],
    )
    harness.started.append(handle.id)
    st = await harness.until(handle.id, lambda s: deadline(s, "arrival").status is not DeadlineStatus.PENDING)
    assert deadline(st, "arrival").status is DeadlineStatus.MET
