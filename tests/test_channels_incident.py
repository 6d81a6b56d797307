"""Incidents driven through real channels on loopback (time-skipping server): the sample configuration
with all three channels drives a C1 incident end to end; 503 retried; acknowledgements met and missed
through the HTTP callback (``starter/ack_server.py``); an unreachable recipient escalated; drills
never reach a real receiver."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from helpers import CLOSED, REVIEW, Harness, obligation, recipients, text_to
from receivers import HttpReceiver, SmtpReceiver, write_sample_config

from activities.channels import read_outbox
from activities.http import encode_key, route_secret, sign
from plan.models import DeadlineStatus, EntryKind, ObligationStatus
from plan.agencies import load_directory
from plan.roster import CST, load_roster
from starter.ack_server import AckServer, route_channels
from worker import build_worker

ROOT = Path(__file__).resolve().parent.parent
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=CST)
SECRETS = {"centre-webhook": "centre-secret-0123456789", "alarm-gateway": "alarm-secret-0123456789", "sms": "sms-secret-0123456789"}


@contextlib.asynccontextmanager
async def stack(env, tmp_path, queue, *, alarm=None, centre=None, sms=None, roster=None):
    """Local receivers, the sample configuration pointed at them, a worker and the ack server."""
    async with (
        HttpReceiver(**(alarm or {})) as alarm_gw,
        HttpReceiver(**(centre or {})) as centre_gw,
        HttpReceiver(**(sms or {})) as sms_gw,
    ):
        with SmtpReceiver(tmp_path, "starttls") as smtp:
            write_sample_config(tmp_path, SECRETS, alarm=alarm_gw.url, centre=centre_gw.url, sms=sms_gw.url,
                                smtp_port=smtp.port, smtp_ca=smtp.cert, roster=roster)
            worker = build_worker(
                env.client, queue=queue, outbox=tmp_path / "outbox.jsonl", drill_outbox=tmp_path / "drill.jsonl",
                channels_path=tmp_path / "channels.json", roster_path=tmp_path / "roster.json", clock=lambda: TUESDAY_10,
            )
            secrets = {k: v.encode() for k, v in SECRETS.items()}
            roster_ = load_roster(tmp_path / "roster.json", directory=load_directory(), channels={"outbox", "email", *SECRETS})
            async with worker, AckServer(env.client, secrets, route_channels(roster_), port=0) as acks:
                yield dict(alarm=alarm_gw, centre=centre_gw, sms=sms_gw, smtp=smtp, acks=acks,
                           h=Harness(env, queue, tmp_path / "outbox.jsonl"))


async def callback(acks: AckServer, channel: str, body: dict, secret: str | None = None) -> httpx.Response:
    """A gateway's callback for the delivery key ``body["key"]``: its ack_key, a timestamp and a fresh
    nonce, signed with the route's own secret (starter/ack_server.py)."""
    key = body.pop("key", "")
    body = {"ack_key": encode_key(key), "timestamp": int(time.time()), "nonce": uuid.uuid4().hex, **body}
    raw = json.dumps(body, ensure_ascii=False).encode()
    sig = sign(route_secret((secret or SECRETS[channel]).encode(), key.rpartition("#")[2]), raw)
    async with httpx.AsyncClient() as c:
        return await c.post(f"{acks.url}/ack/{channel}", content=raw, headers={"X-Signature-256": sig})


def sms_to(sms: HttpReceiver, wf: str) -> list[tuple[str, str]]:
    """(mobile, step) of every SMS the gateway delivered for this incident."""
    out = []
    for r in sms.delivered.values():
        step = r.json()["client_ref"].split("/")[1]
        if r.json()["client_ref"].startswith(wf + "/"):
            out.append((r.json()["mobile"], step))
    return out


async def test_c1_end_to_end_through_webhook_sms_and_email(env, tmp_path):
    """Done-when of issue 4: the sample configuration, all three channels, a C1 incident from the alarm
    to the review; 110's gateway fails twice (503) and is retried; 110 and the centre acknowledge over
    HTTP; every receiver gets each notification once."""
    alarm = {"status": lambda r, n: 503 if n < 2 else 200}
    async with stack(env, tmp_path, "test-channels-c1", alarm=alarm) as s:
        h: Harness = s["h"]
        wf = await h.start("C1")
        await h.until_step(wf, "information-report", count=2)
        st = await h.until_step(wf, "alarm-110", count=2)  # nobody waits on 110's retries, nor 110 on them
        # 110: two 503s, delivered on the third attempt, once; the timeline says so
        assert len(s["alarm"].requests) == 3 and len(s["alarm"].delivered) == 1
        [alarm_req] = s["alarm"].delivered.values()
        assert alarm_req.path == "/notify/110" and alarm_req.json()["notification_key"] == f"{wf}/alarm-110/police_110"
        assert "(渠道 alarm-gateway,第3次尝试)" in text_to(st.timeline, "alarm-110", "police_110")
        # the section: Tuesday, its duty officer by SMS and e-mail
        assert text_to(st.timeline, "alarm-110", "correction_section").startswith(
            "已通知区司法局社区矫正管理科(值班:矫正科 周海燕)(渠道 sms+email)"
        )
        # the centre's platform (webhook) and its duty line (SMS)
        assert "(渠道 centre-webhook+sms)" in text_to(st.timeline, "information-report", "command_centre")
        # the gateways acknowledge through the HTTP callback → signal → the deadlines are met
        r = await callback(s["acks"], "alarm-gateway", {"key": alarm_req.json()["key"], "by": "110指挥中心 接警员 0371"})
        assert r.status_code == 200 and r.json()["workflow_id"] == wf
        centre_req = next(r for r in s["centre"].delivered.values() if r.json()["workflow_id"] == wf)
        r = await callback(s["acks"], "centre-webhook", {"key": centre_req.json()["key"], "by": "指挥中心 值班长"})
        assert r.status_code == 200
        st = await h.until(wf, lambda st: sum(e.kind is EntryKind.ACKNOWLEDGED for e in st.timeline) == 2)
        acks = {d.id: d.status for d in st.deadlines if d.id.startswith("ack/")}
        assert acks == {"ack/alarm-110/police_110": DeadlineStatus.MET, "ack/information-report/command_centre": DeadlineStatus.MET}
        await h.report(wf, "arrived")
        await h.report(wf, "handled")
        await h.report(wf, "punishment", decision="训诫")
        await h.report(wf, "closed", **CLOSED)
        await h.report(wf, "review", actor="东城司法所 所长", **REVIEW)
        # the incident waits for the centre to confirm its closing messages too, then completes
        for step in ("feedback-on-close", "written-report"):
            await h.until(wf, lambda st, step=step: any(d.id == f"ack/{step}/command_centre" for d in st.deadlines))
            key = next(r.json()["key"] for r in s["centre"].delivered.values()
                       if r.json()["workflow_id"] == wf and r.json()["step"] == step)
            r = await callback(s["acks"], "centre-webhook", {"key": key, "by": "指挥中心 值班长"})
            assert r.status_code == 200, r.text
        out = await h.api.outcome(wf)
    not_on_time = {o.id: o.status for o in out.accountability.obligations if o.status is not ObligationStatus.ON_TIME}
    assert not_on_time == {}  # every required report and acknowledgement on time
    # e-mail: the section's officer and the procuratorate (punishment reported), each message once
    mails = {m["Message-ID"]: rcpt for rcpt, m in s["smtp"].messages}
    assert len(mails) == len(s["smtp"].messages)
    assert ["zhouhaiyan@sfj.example.invalid"] in mails.values() and ["jcy-zhifa@example.invalid"] in mails.values()
    # SMS: the emergency office's day officer got the information report; nothing delivered twice
    sent = sms_to(s["sms"], wf)
    assert ("13800000101", "information-report") in sent and len(sent) == len(set(sent))
    assert read_outbox(tmp_path / "outbox.jsonl") == []  # nothing fell back to the local outbox


async def test_ack_callback_checks_and_a_missed_acknowledgement_escalates(env, tmp_path):
    async with stack(env, tmp_path, "test-channels-ack") as s:
        h: Harness = s["h"]
        wf = await h.start("C1")
        await h.until_step(wf, "information-report", count=2)
        await h.until_step(wf, "alarm-110", count=2)
        key = f"{wf}/alarm-110/police_110#police_110.110-platform"
        # bad signature, malformed bodies, unknown channel or incident: 4xx, nothing signalled
        assert (await callback(s["acks"], "alarm-gateway", {"key": key, "by": "x"}, secret="wrong-secret-000000")).status_code == 401
        assert (await callback(s["acks"], "alarm-gateway", {"key": key})).status_code == 400
        assert (await callback(s["acks"], "alarm-gateway", {"key": "no-slashes", "by": "x"})).status_code == 400
        assert (await callback(s["acks"], "fax", {"key": key, "by": "x"}, secret="whatever-secret-0000")).status_code == 404
        r = await callback(s["acks"], "alarm-gateway", {"key": "incident-C1-nope/alarm-110/police_110#police_110.110-platform", "by": "x"})
        assert r.status_code == 404 and "Traceback" not in r.text
        async with httpx.AsyncClient() as c:
            raw = await c.post(f"{s['acks'].url}/ack/alarm-gateway", content=b"{not json", headers={"X-Signature-256": sign(SECRETS["alarm-gateway"].encode(), b"{not json")})
        assert raw.status_code == 400 and raw.json() == {"error": "body: not JSON"}
        st = await h.status(wf)
        assert not any(e.kind is EntryKind.ACKNOWLEDGED for e in st.timeline)
        # nobody acknowledges: re-notified after 5 minutes (through the same channels), escalated after 10
        await h.skip(timedelta(minutes=5, seconds=5))
        await h.until_step(wf, "alarm-110-renotify-1")
        await h.skip(timedelta(minutes=5, seconds=5))
        step = "ack/alarm-110/police_110-missed"
        st = await h.until_step(wf, step, count=2)
        assert recipients(st.timeline, step) == {"emergency_office", "leadership_group"}
        assert {(m, st_) for m, st_ in sms_to(s["sms"], wf) if st_.startswith("ack")} >= {("13800000101", "ack"), ("13800000301", "ack")}
        # 110 confirms late, on the re-sent notification: recorded as late (迟报)
        resent = next(r for r in s["alarm"].delivered.values() if r.json()["step"] == "alarm-110-renotify-1" and r.json()["workflow_id"] == wf)
        assert (await callback(s["acks"], "alarm-gateway", {"key": resent.json()["key"], "by": "110 接警员"})).status_code == 200
        st = await h.until(wf, lambda st: any(e.kind is EntryKind.ACKNOWLEDGED for e in st.timeline))
        assert next(d for d in st.deadlines if d.id == "ack/alarm-110/police_110").status is DeadlineStatus.LATE
        for key in [r.json()["key"] for r in s["centre"].delivered.values() if r.json()["workflow_id"] == wf]:
            await callback(s["acks"], "centre-webhook", {"key": key, "by": "指挥中心"})
        await h.report(wf, "arrived")
        await h.report(wf, "handled")
        await h.report(wf, "punishment", decision="训诫")
        await h.close(wf)


async def test_unreachable_recipient_is_escalated_and_must_be_made_by_hand(env, tmp_path):
    """The mediation group's only line answers 503 for the whole budget: the failure is recorded, the
    emergency office's duty officer is told at once by SMS, and the leadership group when the call by
    hand is overdue."""

    def mediation_down(data):
        data["agencies"]["mediation_group"] = {"contacts": [{"id": "line", "channel": "centre-webhook", "address": "http://127.0.0.1:9/down"}]}

    async with stack(env, tmp_path, "test-channels-unreachable", roster=mediation_down) as s:
        h: Harness = s["h"]
        wf = await h.start("L1")
        await h.until_step(wf, "information-report", count=2)
        await h.skip(timedelta(minutes=11))
        st = await h.until_step(wf, "notify-failed-dispatch-mediation-group-mediation_group")
        failed = [e for e in st.timeline if e.kind is EntryKind.NOTIFICATION_FAILED]
        assert [(e.step, e.recipient.value) for e in failed] == [("dispatch-mediation-group", "mediation_group")]
        assert ("13800000101", "notify-failed-dispatch-mediation-group-mediation_group") in sms_to(s["sms"], wf)
        await h.skip(timedelta(hours=1))
        step = "by-hand/dispatch-mediation-group/mediation_group-missed"
        st = await h.until_step(wf, step, count=2)
        assert recipients(st.timeline, step) == {"emergency_office", "leadership_group"}
        await h.report(wf, "notified_by_hand", step="dispatch-mediation-group", recipient="mediation_group", actor="应急办 赵晓明")
        for key in [r.json()["key"] for r in s["centre"].delivered.values() if r.json()["workflow_id"] == wf]:
            await callback(s["acks"], "centre-webhook", {"key": key, "by": "指挥中心"})
        await h.report(wf, "arrived")
        await h.report(wf, "mediation_outcome", outcome="agreement", summary="达成协议")
        out = await h.close(wf, review=False)
    assert obligation(out, "dispatch-mediation-group/mediation_group").status is ObligationStatus.LATE


async def test_drill_with_real_channels_configured_reaches_no_receiver(env, tmp_path):
    """000 §6.2, 001 §7(2): the roster and channels point at real receivers; a drill runs the whole
    C1 workflow and every receiver gets nothing; the drill sink gets everything, marked 【演练】."""
    async with stack(env, tmp_path, "test-channels-drill") as s:
        h: Harness = s["h"]
        wf = await h.start("C1", drill=True)
        await h.until_step(wf, "information-report", count=2)
        await h.report(wf, "arrived")
        await h.report(wf, "handled")
        await h.report(wf, "punishment", decision="训诫")
        out = await h.close(wf)
    assert out.accountability.missing == 0
    assert s["alarm"].requests == [] and s["centre"].requests == [] and s["sms"].requests == []
    assert s["smtp"].messages == []
    drill = [d for d in read_outbox(tmp_path / "drill.jsonl") if d["workflow_id"] == wf]
    assert {d["recipient"] for d in drill} >= {"police_110", "correction_section", "command_centre", "procuratorate"}
    assert all(d["message_zh"].startswith("【演练】") and d["channel"] == "drill-outbox" for d in drill)
