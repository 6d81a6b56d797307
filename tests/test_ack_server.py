"""Issue 14: only the right party can confirm a call. Real gateways on loopback, the real ack server
over HTTP, real incidents (time-skipping server): a confirmation is bound to its route and the
route's own secret, fresh and used once; any valid incident id (Chinese characters) can be
confirmed."""

from __future__ import annotations

import json
import time
import uuid

import httpx
from helpers import Harness, example
from test_channels_incident import SECRETS, stack

from activities.http import sign
from plan.models import DeadlineStatus, EntryKind

ALARM_ROUTE = "police_110.110-platform"


def encode_key(key: str) -> str:
    from activities.http import encode_key

    return encode_key(key)


def route_secret(secret: bytes, route: str) -> bytes:
    from activities.http import route_secret

    return route_secret(secret, route)


def signed(key: str, *, by: str = "110指挥中心 接警员 0371", channel: str = "alarm-gateway", ts: int | None = None,
           nonce: str | None = None, secret: bytes | None = None) -> tuple[bytes, dict[str, str]]:
    body = {"ack_key": encode_key(key), "by": by, "timestamp": int(time.time()) if ts is None else ts,
            "nonce": nonce or uuid.uuid4().hex}
    raw = json.dumps(body, ensure_ascii=False).encode()
    secret = secret or route_secret(SECRETS[channel].encode(), key.rpartition("#")[2])
    return raw, {"X-Signature-256": sign(secret, raw), "Content-Type": "application/json"}


async def post(acks, channel: str, raw: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient() as c:
        return await c.post(f"{acks.url}/ack/{channel}", content=raw, headers=headers)


def delivered_key(gateway, wf: str, step: str) -> str:
    return next(r.json()["key"] for r in gateway.delivered.values()
                if r.json()["workflow_id"] == wf and r.json()["step"] == step)


async def acknowledged(h: Harness, wf: str) -> list[str]:
    return [e.text_zh for e in (await h.status(wf)).timeline if e.kind is EntryKind.ACKNOWLEDGED]


async def test_forged_replayed_and_stale_acknowledgements_are_refused_and_a_chinese_id_is_confirmed(env, tmp_path):
    async with stack(env, tmp_path, "test-ack-security") as s:
        h: Harness = s["h"]
        acks = s["acks"]
        # an incident id with Chinese characters (a valid id: no personal data), and an ordinary one
        chinese = f"incident-C1-东城-{uuid.uuid4().hex[:6]}"
        await h.api.start(example("C1", alert_id=None), workflow_id=chinese)
        other = await h.start("C1")
        for wf in (chinese, other):
            await h.until_step(wf, "information-report", count=2)
        key = delivered_key(s["alarm"], chinese, "alarm-110")
        assert key == f"{chinese}/alarm-110/police_110#{ALARM_ROUTE}"
        other_key = delivered_key(s["alarm"], other, "alarm-110")
        centre_key = delivered_key(s["centre"], other, "information-report")

        # forgery with another channel's secret: on that channel, or signed with it on the right one
        raw, hdr = signed(key, channel="centre-webhook")
        r = await post(acks, "centre-webhook", raw, hdr)
        assert r.status_code == 401 and "not sent on this channel" in r.json()["error"]
        raw, hdr = signed(key, secret=route_secret(SECRETS["centre-webhook"].encode(), ALARM_ROUTE))
        assert (await post(acks, "alarm-gateway", raw, hdr)).status_code == 401
        # the channel's own secret is not the route's: a gateway signs with the contact's secret
        raw, hdr = signed(key, secret=SECRETS["alarm-gateway"].encode())
        assert (await post(acks, "alarm-gateway", raw, hdr)).status_code == 401
        # forgery across incidents: a valid signature for one incident, the body changed to another
        raw, hdr = signed(other_key)
        forged = raw.replace(encode_key(other_key).encode(), encode_key(key).encode())
        assert forged != raw and (await post(acks, "alarm-gateway", forged, hdr)).status_code == 401
        # a stale timestamp, correctly signed
        raw, hdr = signed(key, ts=int(time.time()) - 3600)
        r = await post(acks, "alarm-gateway", raw, hdr)
        assert r.status_code == 401 and "timestamp" in r.json()["error"]
        raw, hdr = signed(key, ts=int(time.time()) + 3600)
        assert (await post(acks, "alarm-gateway", raw, hdr)).status_code == 401
        assert await acknowledged(h, chinese) == []  # nothing of the above reached the incident

        # the right party: 110's gateway, its route's secret, fresh: confirmed, for the Chinese id too
        raw, hdr = signed(key)
        r = await post(acks, "alarm-gateway", raw, hdr)
        assert r.status_code == 200 and r.json()["workflow_id"] == chinese
        st = await h.until(chinese, lambda st: any(e.kind is EntryKind.ACKNOWLEDGED for e in st.timeline))
        assert next(d for d in st.deadlines if d.id == "ack/alarm-110/police_110").status is DeadlineStatus.MET
        # the same callback again (a replay): refused, recorded once
        r = await post(acks, "alarm-gateway", raw, hdr)
        assert r.status_code == 409 and "replay" in r.json()["error"]
        assert len(await acknowledged(h, chinese)) == 1
        # the centre confirms its own notification of the other incident
        raw, hdr = signed(centre_key, channel="centre-webhook", by="指挥中心 值班长")
        assert (await post(acks, "centre-webhook", raw, hdr)).status_code == 200
        for wf in (chinese, other):  # finish both, leaving nothing running on the shared test server
            await h.report(wf, "arrived")
            await h.report(wf, "handled")
            await h.report(wf, "punishment", decision="训诫")
            await h.close(wf)


def test_the_ack_server_needs_the_roster_and_prints_a_contacts_route_secret():
    """Operators: one line naming what to set; ``route-secret`` gives a contact its own secret."""
    import os
    import subprocess
    import sys

    from helpers import ROOT

    env = {"PATH": os.environ["PATH"], "EMERGENCY_CHANNELS": str(ROOT / "config/channels.example.json"),
           "ALARM_GATEWAY_SECRET": SECRETS["alarm-gateway"], "CENTRE_WEBHOOK_SECRET": SECRETS["centre-webhook"],
           "SMS_GATEWAY_SECRET": SECRETS["sms"], "SMS_GATEWAY_PASSWORD": "x", "SMTP_PASSWORD": "x"}
    res = subprocess.run([sys.executable, "-m", "starter.ack_server"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode != 0 and "EMERGENCY_ROSTER" in res.stderr and "Traceback" not in res.stderr
    env["EMERGENCY_ROSTER"] = str(ROOT / "config/roster.json")
    res = subprocess.run([sys.executable, "-m", "starter.ack_server", "route-secret", "alarm-gateway", ALARM_ROUTE],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().encode() == route_secret(SECRETS["alarm-gateway"].encode(), ALARM_ROUTE)
    res = subprocess.run([sys.executable, "-m", "starter.ack_server", "route-secret", "centre-webhook", ALARM_ROUTE],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "is not sent on channel centre-webhook" in res.stderr
