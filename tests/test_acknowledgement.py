"""Acknowledgements (回执) from 110, 120 and the command centre: met, re-notified, escalated, late.

The channel here says its receivers call back (``acknowledges``); the callback is the ``acknowledge``
signal, as ``starter/ack_server.py`` sends it for a gateway.
"""

from __future__ import annotations

from datetime import timedelta

from helpers import CLOSED, REVIEW, Harness, recipients, text_to

from activities.channels import OutboxChannel
from activities.notify import Notifier
from plan.agencies import load_directory
from plan.models import DeadlineStatus, EntryKind, ObligationStatus
from worker import build_worker


class AcknowledgingChannel(OutboxChannel):
    acknowledges = True


async def test_acknowledgement_met_missed_renotified_escalated(env, tmp_path):
    outbox = tmp_path / "outbox.jsonl"
    notifier = Notifier(load_directory(), AcknowledgingChannel(outbox), OutboxChannel(tmp_path / "drill.jsonl"))
    queue = "test-acknowledging-channel"
    async with build_worker(env.client, queue=queue, activities=[notifier.notify]):
        h = Harness(env, queue, outbox)
        wf = await h.start("C1")  # 110 first, then the information report to the centre
        st = await h.until_step(wf, "information-report", count=2)
        ack_110 = "ack/alarm-110/police_110"
        assert {d.id for d in st.deadlines} >= {ack_110, "ack/information-report/command_centre"}
        # 110's gateway confirms at once
        await h.api.handle(wf).signal("acknowledge", {"key": f"{wf}/alarm-110/police_110", "by": "110指挥中心 接警员 0371"})
        # a confirmation for a key this incident never sent is refused onto the timeline
        await h.api.handle(wf).signal("acknowledge", {"key": f"{wf}/no-such/police_110", "by": "x"})
        st = await h.until(wf, lambda st: any(e.kind is EntryKind.ACKNOWLEDGED for e in st.timeline))
        assert next(d for d in st.deadlines if d.id == ack_110).status is DeadlineStatus.MET
        assert [e.text_zh for e in st.timeline if e.kind is EntryKind.ACKNOWLEDGED] == [
            "收到回执:公安“110”(110指挥中心 接警员 0371)"
        ]
        # the centre does not confirm: after 5 minutes it is notified again, after 10 escalated
        await h.skip(timedelta(minutes=5, seconds=5))
        st = await h.until_step(wf, "information-report-renotify-1")
        again = text_to(st.timeline, "information-report-renotify-1", "command_centre")
        assert again.startswith("已通知") and "【重复通知】" in again and "【信息报告】" in again
        await h.skip(timedelta(minutes=5, seconds=5))
        step = "ack/information-report/command_centre-missed"
        st = await h.until_step(wf, step, count=2)
        assert recipients(st.timeline, step) == {"emergency_office", "leadership_group"}
        assert "“区社会应急联动指挥中心回执”已于" in text_to(st.timeline, step, "leadership_group")
        # the centre confirms late: recorded as late (迟报), not lost
        await h.api.handle(wf).signal(
            "acknowledge", {"key": f"{wf}/information-report-renotify-1/command_centre", "by": "指挥中心 值班长"}
        )
        st = await h.until(wf, lambda st: sum(e.kind is EntryKind.ACKNOWLEDGED for e in st.timeline) == 2)
        assert next(d for d in st.deadlines if d.id == "ack/information-report/command_centre").status is DeadlineStatus.LATE
        refused = [e.text_zh for e in st.timeline if e.kind is EntryKind.REFUSED]
        assert refused == ["报告被拒收:acknowledge: key: no notification of this incident awaits an acknowledgement with this key"]
        acc = await h.api.accountability(wf)
        rows = {o.id: o.status for o in acc.obligations}
        assert rows[f"deadline/{ack_110}"] is ObligationStatus.ON_TIME
        assert rows["deadline/ack/information-report/command_centre"] is ObligationStatus.LATE
        # finish, acknowledging what is still open, so the incident leaves nothing running
        await h.report(wf, "arrived")
        await h.report(wf, "handled")
        await h.report(wf, "punishment", decision="训诫")
        await h.report(wf, "closed", **CLOSED)
        await h.report(wf, "review", actor="东城司法所 所长", **REVIEW)
        # the closing messages to the centre are not acknowledged either: the incident completes once
        # their acknowledgements are escalated, not before (nothing left awaited and unrecorded)
        await h.skip(timedelta(minutes=11))
        out = await h.api.outcome(wf)
        assert [e.text_zh for e in out.timeline if e.kind is EntryKind.NOTIFICATION_FAILED] == []
        closing = {"ack/feedback-on-close/command_centre", "ack/written-report/command_centre"}
        assert {d.id: d.status for d in out.deadlines if d.id in closing} == dict.fromkeys(closing, DeadlineStatus.MISSED)
        assert {s for s in (e.step for e in out.timeline) if s and s.endswith("-missed")} >= {f"{c}-missed" for c in closing}
    # acknowledgements still awaited when the incident ends are recorded as missing, never dropped
    final = {o.id: o.status for o in out.accountability.obligations if o.id.startswith("deadline/ack/")}
    assert final[f"deadline/{ack_110}"] is ObligationStatus.ON_TIME
    assert ObligationStatus.PENDING not in final.values()
