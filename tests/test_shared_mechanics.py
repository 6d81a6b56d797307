"""Mechanics every incident shares: major incidents (000 §2.1), on-site command (001 §3(3)(4)),
post-incident review (001 §5(2)), information release (001 §5(3)), aftermath (000 §4.4), level-by-level
and cross-county reporting (001 §5(1)), and the accountability record (001 §7(4))."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import CLOSED, REVIEW, Harness, issued_steps, notifications, recipients, refused, steps, text_to
from temporalio.exceptions import ApplicationError

from activities.channels import Delivery, OutboxChannel
from activities.notify import BAD_RECIPIENT, Notifier
from plan.agencies import Agency, load_directory
from plan.models import DeadlineStatus, EntryKind, IncidentPhase, ObligationStatus
from starter.api import InvalidInput
from worker import build_worker

MAJOR_TO = {"district_committee_government", "political_legal_committee", "city_justice_bureau"}




async def test_major_incident_leadership_activates_and_terminates_the_plan(harness: Harness):
    wf = await harness.start("L1", major=True)
    st = await harness.until_step(wf, "major-incident")
    assert recipients(st.timeline, "major-incident") == {"leadership_group"}
    assert "领导小组决定启动本方案" in text_to(st.timeline, "major-incident", "leadership_group")
    assert "plan_decision (activate)" in st.waiting_for
    await harness.report(wf, "arrived")
    await harness.report(wf, "mediation_outcome", outcome="agreement", summary="达成协议")
    await refused(harness, wf, "closed", "the leadership group has not decided on the plan", **CLOSED)
    await refused(harness, wf, "plan_decision", "not activated, so it cannot be terminated", decision="terminate")
    await harness.report(wf, "plan_decision", decision="activate", actor="区司法局局长(领导小组组长)")
    st = await harness.until(wf, lambda st: st.plan_active)
    await refused(harness, wf, "closed", "has not terminated the plan", **CLOSED)
    await harness.report(wf, "plan_decision", decision="terminate", actor="区司法局局长(领导小组组长)")
    out = await harness.close(wf, review=False)
    tl = out.timeline
    activated = next(s for s in steps(tl) if s.startswith("plan-activated-report"))
    terminated = next(s for s in steps(tl) if s.startswith("plan-terminated-report"))
    assert recipients(tl, activated) == MAJOR_TO == recipients(tl, terminated)
    assert "已决定启动应急预案" in text_to(tl, activated, "city_justice_bureau")
    assert "已决定终止应急预案" in text_to(tl, terminated, "political_legal_committee")
    assert {d.id: d.status for d in out.deadlines}["leadership-decision"] is DeadlineStatus.MET
    d = [e.text_zh for e in tl if e.kind is EntryKind.DECISION]
    assert d.index("领导小组决定启动本方案,统一领导、组织、协调处置") < d.index("领导小组决定终止本方案")


async def test_leadership_decision_overdue_is_escalated(harness: Harness):
    wf = await harness.start("L1", major=True)
    await harness.until_step(wf, "major-incident")
    await harness.skip(timedelta(hours=1, minutes=1))
    st = await harness.until_step(wf, "leadership-decision-missed", count=2)
    assert recipients(st.timeline, "leadership-decision-missed") == {"emergency_office", "leadership_group"}
    acc = await harness.api.handle(wf).query("accountability")
    # 超时未报 while the incident is open (漏报 only once it closes without the decision)
    assert any(o["id"] == "deadline/leadership-decision" and o["status"] == "overdue" for o in acc["obligations"])


async def test_on_site_command_groups_are_recorded(harness: Harness):
    wf = await harness.start("C4")
    await harness.report(
        wf,
        "command_set",
        actor="区司法局副局长",
        commander="区司法局副局长 赵卫东",
        groups={"onsite_handling": "东城司法所 周立,控制局面", "order": "东城派出所 张警官,现场警戒", "information": "办公室 刘洋,信息汇总"},
    )
    st = await harness.status(wf)
    assert st.command == {
        "现场指挥部": "区司法局副局长 赵卫东",
        "现场处置组": "东城司法所 周立,控制局面",
        "秩序维护组": "东城派出所 张警官,现场警戒",
        "信息综合组": "办公室 刘洋,信息汇总",
    }
    lines = [(e.clause, e.text_zh) for e in st.timeline if e.kind is EntryKind.DECISION]
    assert ("001 §3(3)", "设立现场指挥部,现场指挥:区司法局副局长 赵卫东") in lines
    assert ("001 §3(4)", "秩序维护组:东城派出所 张警官,现场警戒") in lines
    with pytest.raises(InvalidInput, match="groups.press"):
        await harness.report(wf, "command_set", commander="x", groups={"press": "x"})


async def test_review_is_required_after_a_correction_incident_and_reported_up(harness: Harness):
    wf = await harness.start("C4")
    await refused(harness, wf, "review", "comes after handling is closed", **REVIEW)
    await harness.report(wf, "arrived")
    await harness.report(wf, "search_result", found=True, methods=["phone"])
    await harness.report(wf, "punishment", decision="训诫")
    await harness.report(wf, "closed", **CLOSED)
    st = await harness.until(wf, lambda st: st.phase is IncidentPhase.HANDLED and "review" in st.waiting_for)
    await refused(harness, wf, "punishment", "handling is over", decision="警告")
    # 001 §5(2) sets no number: the review is due within the local policy (7 days) and escalated after
    await harness.skip(timedelta(days=7, minutes=1))
    st = await harness.until_step(wf, "review-missed", count=2)
    assert recipients(st.timeline, "review-missed") == {"correction_section", "emergency_office"}
    # aftermath (000 §4.4): follow-up reported after handling
    await harness.report(wf, "progress", current_situation="对象已恢复正常报到,家属表示配合")
    await harness.report(wf, "review", actor="东城司法所 所长", **REVIEW)
    out = await harness.api.outcome(wf)
    tl = out.timeline
    aftermath = next(s for s in steps(tl) if s.startswith("aftermath-"))
    assert recipients(tl, aftermath) == {"emergency_office", "command_centre"}
    assert "善后处置情况:对象已恢复正常报到" in text_to(tl, aftermath, "emergency_office")
    assert recipients(tl, "review-report") == {"correction_section", "higher_correction_agency"}
    review = out.review_report_zh
    for part in ["总结报告", "二、事件经过:", "三、事件原因:对象法治意识淡薄", "四、经验教训:", "五、改进措施:加强日常走访"]:
        assert part in review
    assert text_to(tl, "review-report", "higher_correction_agency").endswith(review)
    assert {d.id: d.status for d in out.deadlines}["review"] is DeadlineStatus.LATE
    acc = {o.id: o.status for o in out.accountability.obligations}
    assert acc["deadline/review"] is ObligationStatus.LATE
    assert out.accountability.late == 1


async def test_review_does_not_apply_to_linkage_incidents(harness: Harness):
    wf = await harness.start("L1")
    await harness.report(wf, "arrived")
    await harness.report(wf, "mediation_outcome", outcome="agreement", summary="达成协议")
    await harness.report(wf, "closed", **CLOSED)
    await refused(harness, wf, "review", "review: 001 §5(2) applies to correction incidents, not L1", **REVIEW)
    await harness.report(wf, "aftermath_done", summary="善后处置完毕")
    out = await harness.api.outcome(wf)
    assert out.review_report_zh == "" and "review-report" not in steps(out.timeline)


async def test_information_release_is_reviewed_before_it_is_published_once(harness: Harness):
    wf = await harness.start("L1")
    await refused(harness, wf, "release", "publish needs a draft approved", action="publish")
    await harness.report(wf, "release", action="draft", content="东城街道发生一起劳资纠纷,已妥善处置。", actor="信息综合组")
    await refused(harness, wf, "release", "publish needs a draft approved", action="publish")
    await harness.report(wf, "release", action="reject", department="区委宣传部", note="表述需更准确")
    await harness.report(wf, "release", action="draft", content="东城街道一起劳资纠纷经调解已化解。", actor="信息综合组")
    await harness.report(wf, "release", action="approve", department="区委宣传部")
    st = await harness.status(wf)
    assert st.release == "approved" and "release (publish / withdraw)" in st.waiting_for
    await harness.report(wf, "arrived")
    await harness.report(wf, "mediation_outcome", outcome="agreement", summary="达成协议")
    await harness.report(wf, "closed", **CLOSED)
    # handling is over but the approved release is not yet published: the incident waits for it
    st = await harness.until(wf, lambda st: st.phase is IncidentPhase.HANDLED)
    assert st.waiting_for == ["aftermath_done", "release (publish / withdraw)"]
    await harness.report(wf, "release", action="publish", actor="区司法局办公室")
    await harness.report(wf, "aftermath_done", summary="善后处置完毕")
    out = await harness.api.outcome(wf)
    d = [(e.clause, e.text_zh) for e in out.timeline if e.kind is EntryKind.DECISION]
    assert ("001 §5(3)", "区委宣传部审核未通过拟发布信息:表述需更准确") in d
    assert ("001 §5(3)", "信息经审核后统一发布:东城街道一起劳资纠纷经调解已化解。") in d
    assert sum(1 for _, t in d if t.startswith("信息经审核后统一发布")) == 1


async def test_release_published_only_once(harness: Harness):
    wf = await harness.start("L1")
    await harness.report(wf, "release", action="draft", content="通报", actor="信息综合组")
    await harness.report(wf, "release", action="approve", department="区委宣传部")
    await harness.report(wf, "release", action="publish")
    await refused(harness, wf, "release", "already published", action="draft", content="再次通报")
    with pytest.raises(InvalidInput, match="department: the reviewing functional department is required"):
        await harness.report(wf, "release", action="approve")


async def test_correction_incident_reports_level_by_level_and_across_counties(harness: Harness):
    wf = await harness.start("C9-S2", other_counties=["台州市椒江区"])
    st = await harness.until_step(wf, "cross-county-0")
    assert issued_steps(st.timeline)[:2] == ["information-report", "level-report"]
    assert recipients(st.timeline, "level-report") == {"correction_section", "higher_correction_agency"}
    assert "请台州市椒江区司法行政机关协助配合" in text_to(st.timeline, "cross-county-0", "other_county_bureau")
    await harness.report(wf, "progress", current_situation="对象居家,已配合核酸检测")
    # both deliveries in (each is its own activity: one can land before the other)
    st = await harness.until(wf, lambda st: sum(1 for s, _ in notifications(st.timeline) if s.startswith("progress-up-")) == 2)
    up = next(s for s in steps(st.timeline) if s.startswith("progress-up-"))
    assert recipients(st.timeline, up) == {"correction_section", "higher_correction_agency"}
    await harness.report(wf, "cleared", summary="已转绿码")
    await harness.close(wf)


async def test_failed_notification_is_missing_until_made_by_hand(env, tmp_path):
    """A notification that cannot be delivered: recorded as failed, the emergency office is told to
    call by hand, the accountability record shows it overdue (超时未报) until the officer records it."""

    class DownChannel(OutboxChannel):
        async def deliver(self, delivery: Delivery) -> bool:
            if delivery.request.recipient is Agency.MEDIATION_GROUP:
                raise ApplicationError("mediation group line out of service", type=BAD_RECIPIENT, non_retryable=True)
            return await super().deliver(delivery)

    outbox = tmp_path / "outbox.jsonl"
    notifier = Notifier(load_directory(), DownChannel(outbox), OutboxChannel(tmp_path / "drill.jsonl"))
    queue = "test-failing-channel"
    async with build_worker(env.client, queue=queue, activities=[notifier.notify]):
        h = Harness(env, queue, outbox)
        wf = await h.start("L1")
        st = await h.until_step(wf, "notify-failed-dispatch-mediation-group-mediation_group")
        failed = [e for e in st.timeline if e.kind is EntryKind.NOTIFICATION_FAILED]
        assert [(e.step, e.recipient) for e in failed] == [("dispatch-mediation-group", Agency.MEDIATION_GROUP)]
        alert = text_to(st.timeline, "notify-failed-dispatch-mediation-group-mediation_group", "emergency_office")
        assert "【通知失败】系统未能通知人民调解组" in alert and "人工通知" in alert
        await h.skip(timedelta(hours=1, minutes=1))
        acc = await h.api.handle(wf).query("accountability")
        row = next(o for o in acc["obligations"] if o["id"] == "dispatch-mediation-group/mediation_group")
        assert row["status"] == "overdue"  # 超时未报: overdue, not yet made, the incident still open
        st = await h.until_step(wf, "by-hand/dispatch-mediation-group/mediation_group-missed", count=2)
        assert recipients(st.timeline, "by-hand/dispatch-mediation-group/mediation_group-missed") == {
            "emergency_office",
            "leadership_group",
        }
        await refused(h, wf, "notified_by_hand", "no required notification", step="no-such-step", recipient="mediation_group")
        await h.report(wf, "notified_by_hand", step="dispatch-mediation-group", recipient="mediation_group", actor="应急办公室 值班员 刘洋")
        await refused(h, wf, "notified_by_hand", "already delivered", step="dispatch-mediation-group", recipient="mediation_group")
        await h.report(wf, "arrived")
        await h.report(wf, "mediation_outcome", outcome="agreement", summary="达成协议")
        out = await h.close(wf, review=False)
    row = next(o for o in out.accountability.obligations if o.id == "dispatch-mediation-group/mediation_group")
    assert row.status is ObligationStatus.LATE and row.how == "人工(应急办公室 值班员 刘洋)"
    # the hour that passed also made the 30-minute arrival late (000 §4.3)
    late = {o.id for o in out.accountability.obligations if o.status is ObligationStatus.LATE}
    assert late == {"dispatch-mediation-group/mediation_group", "deadline/arrival"}
    assert out.accountability.missing == 0
    assert "迟报2项,漏报0项" in out.written_report_zh


async def test_drill_runs_the_real_workflow_but_never_reaches_a_real_agency(harness: Harness):
    """000 §6.2, 001 §7(2): a drill goes through every step, to the drill channel only, marked 【演练】."""
    from activities.channels import read_outbox

    wf = await harness.start("C1", drill=True)
    want = {("alarm-110", "police_110"), ("alarm-110", "correction_section"),
            ("information-report", "emergency_office"), ("information-report", "command_centre")}
    st = await harness.until(wf, lambda st: want <= set(notifications(st.timeline)))
    assert issued_steps(st.timeline)[0] == "alarm-110"
    assert harness.outbox() == []  # nothing on the real channel
    drill = [d for d in read_outbox(harness.outbox_path.parent / "drill-outbox.jsonl") if d["workflow_id"] == wf]
    assert {d["recipient"] for d in drill} >= {"police_110", "correction_section", "emergency_office", "command_centre"}
    assert all(d["message_zh"].startswith("【演练】") for d in drill)
