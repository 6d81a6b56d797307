"""Channels against real local receivers on loopback (activity level): webhook, SMS gateway, e-mail;
signature, retry on 503, fail-fast on 400, dedupe after a crash, roster fallback, drill sinks only,
configuration errors that name file, line and field."""

from __future__ import annotations

import dataclasses
import json
from base64 import b64decode
from datetime import datetime
from pathlib import Path

import pytest
from receivers import HttpReceiver, SmtpReceiver
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import build_activities
from activities.channels import OutboxChannel, read_outbox
from activities.contracts import NotifyRequest
from activities.email import EmailChannel
from activities.http import DELIVERY_REJECTED, DELIVERY_UNAVAILABLE, sign, verify
from activities.notify import DrillLeak, Notifier
from activities.sms import SmsChannel
from activities.webhook import WebhookChannel
from plan.agencies import Agency, DirectoryError, load_directory
from plan.roster import CST, Roster

ROOT = Path(__file__).resolve().parent.parent
ROSTER = ROOT / "config" / "roster.json"
CHANNELS = ROOT / "config" / "channels.example.json"
SECRET = b"centre-webhook-secret-0001"
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=CST)
SATURDAY_10 = datetime(2026, 11, 28, 10, 0, tzinfo=CST)


def request(recipient: Agency = Agency.COMMAND_CENTRE, step: str = "information-report", **kw) -> NotifyRequest:
    return NotifyRequest(
        idempotency_key=f"incident-C1-T1/{step}/{recipient.value}",
        workflow_id="incident-C1-T1",
        incident_type="C1",
        step=step,
        clause="000 §4.2",
        recipient=recipient,
        message_zh="【实施行凶】东城街道,对象持刀威胁他人,请立即处置。",
        **kw,
    )


async def run(notifier: Notifier, req: NotifyRequest, attempt: int = 1):
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=attempt)
    return await env.run(notifier.notify, req)


def notifier(tmp_path, channel, roster: Roster | None = None, channels=None, clock=None) -> Notifier:
    return Notifier(
        load_directory(),
        channel,
        OutboxChannel(tmp_path / "drill.jsonl", name="drill-outbox"),
        roster=roster,
        channels=channels,
        clock=clock,
    )


async def test_webhook_delivers_signed_json_carrying_the_key(tmp_path):
    async with HttpReceiver() as centre:
        hook = WebhookChannel("centre-webhook", url=centre.url + "/notify", secret=SECRET, acknowledges=True)
        receipt = await run(notifier(tmp_path, hook), request())
    [req] = centre.requests
    body = req.json()
    assert req.method == "POST" and req.path == "/notify"
    assert req.key == body["key"] == "incident-C1-T1/information-report/command_centre"
    assert body["message_zh"].startswith("【实施行凶】") and body["recipient"] == "command_centre"
    assert verify(SECRET, req.body, req.headers["x-signature-256"])
    assert not verify(b"another-endpoint-secret", req.body, req.headers["x-signature-256"])
    assert not verify(SECRET, req.body.replace(b"C1", b"C2"), req.headers["x-signature-256"])
    assert (receipt.channel, receipt.attempt, receipt.ack_expected, receipt.duplicate) == ("centre-webhook", 1, True, False)


async def test_sms_gateway_from_url_and_body_templates_with_login(tmp_path):
    async with HttpReceiver() as gw:
        sms = SmsChannel(
            "sms",
            url_template=gw.url + "/send?to={to}&ref={key}",
            body_template={"mobile": "{to}", "content": "{text}", "sign": "{sender}"},
            sender="黄岩区司法局",
            username="hy-sfj",
            password="pw",
            secret=SECRET,
        )
        receipt = await run(notifier(tmp_path, sms), request(Agency.EMERGENCY_OFFICE))
    [req] = gw.requests
    assert req.path == "/send?to=0576-84000007&ref=incident-C1-T1%2Finformation-report%2Femergency_office"
    assert req.json() == {"mobile": "0576-84000007", "content": request().message_zh, "sign": "黄岩区司法局"}
    assert b64decode(req.headers["authorization"].split()[1]) == b"hy-sfj:pw"
    assert req.key == "incident-C1-T1/information-report/emergency_office"
    assert req.headers["x-signature-256"] == sign(SECRET, req.body)
    assert receipt.channel == "sms" and not receipt.ack_expected


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_email_over_tls_with_login_carries_the_key(tmp_path, security):
    with SmtpReceiver(tmp_path, security) as smtp:
        mail = EmailChannel(
            "email", host="127.0.0.1", port=smtp.port, sender=SmtpReceiver.USER, security=security,
            username=SmtpReceiver.USER, password=SmtpReceiver.PASSWORD, ca_file=str(smtp.cert),
        )
        roster = Roster.model_validate(
            {"default_channel": "outbox",
             "agencies": {"procuratorate": {"contacts": [{"id": "mail", "channel": "email", "address": "jcy@example.invalid"}]}}}
        )
        n = notifier(tmp_path, OutboxChannel(tmp_path / "out.jsonl"), roster, {"email": mail})
        req = request(Agency.PROCURATORATE, step="punishment-report-up")
        receipt = await run(n, req)
        await run(n, req, attempt=2)  # the crash case: same key again
        [(rcpt, msg)] = [m for v in smtp.by_message_id().values() for m in v[:1]]
        assert len(smtp.by_message_id()) == 1  # one Message-ID: the archive dedupes the repeat
        assert rcpt == ["jcy@example.invalid"]
        assert msg["Idempotency-Key"].strip() == "incident-C1-T1/punishment-report-up/procuratorate#procuratorate.mail"
        assert "对象持刀威胁他人" in msg.get_content() and "持刀" not in msg["Subject"]
        assert receipt.channel == "email"
        # a mailbox the server refuses is permanent: fails at once, never retried
        roster = Roster.model_validate(
            {"default_channel": "outbox",
             "agencies": {"procuratorate": {"contacts": [{"id": "mail", "channel": "email", "address": "nobody@example.invalid"}]}}}
        )
        n = notifier(tmp_path, OutboxChannel(tmp_path / "out.jsonl"), roster, {"email": mail})
        with pytest.raises(ApplicationError) as err:
            await run(n, request(Agency.PROCURATORATE, step="other"))
        assert err.value.type == DELIVERY_REJECTED and err.value.non_retryable
        assert "recipient refused (SMTP 550)" in err.value.message


async def test_503_is_transient_then_delivered_once(tmp_path):
    async with HttpReceiver(status=lambda r, n: 503 if n < 2 else 200) as centre:
        n = notifier(tmp_path, WebhookChannel("centre-webhook", url=centre.url, secret=SECRET))
        for attempt in (1, 2):
            with pytest.raises(ApplicationError) as err:
                await run(n, request(), attempt)
            assert err.value.type == DELIVERY_UNAVAILABLE and not err.value.non_retryable
            assert "HTTP 503" in err.value.message
        receipt = await run(n, request(), 3)
    assert len(centre.requests) == 3 and len(centre.delivered) == 1
    assert receipt.attempt == 3


async def test_400_fails_fast_with_a_named_error(tmp_path):
    async with HttpReceiver(status=lambda r, n: 400) as centre:
        n = notifier(tmp_path, WebhookChannel("centre-webhook", url=centre.url, secret=SECRET))
        with pytest.raises(ApplicationError) as err:
            await run(n, request())
    assert err.value.type == DELIVERY_REJECTED and err.value.non_retryable
    assert "centre-webhook: HTTP 400" in err.value.message
    assert len(centre.requests) == 1


async def test_connection_refused_is_transient(tmp_path):
    async with HttpReceiver() as gone:
        url = gone.url
    n = notifier(tmp_path, WebhookChannel("centre-webhook", url=url, secret=SECRET))
    with pytest.raises(ApplicationError) as err:
        await run(n, request())
    assert err.value.type == DELIVERY_UNAVAILABLE and not err.value.non_retryable


async def test_crash_between_send_and_completion_notifies_once(tmp_path):
    """The activity delivered, then the worker died before completing it: the retry carries the same
    key, every receiver that honours it (and the outbox) counts one notification."""
    async with HttpReceiver() as centre, HttpReceiver() as gw:
        roster = Roster.model_validate(
            {"default_channel": "sms", "agencies": {"command_centre": {"contacts": [
                {"id": "platform", "channel": "centre-webhook", "acknowledges": True},
                {"id": "duty-sms", "channel": "sms", "address": "0576-84000009"},
                {"id": "file", "channel": "outbox"}]}}}
        )
        channels = {
            "centre-webhook": WebhookChannel("centre-webhook", url=centre.url, secret=SECRET),
            "sms": SmsChannel("sms", url_template=gw.url + "/send"),
        }
        outbox = tmp_path / "outbox.jsonl"
        n = notifier(tmp_path, OutboxChannel(outbox), roster, channels)
        first = await run(n, request())
        again = await run(n, request(), attempt=2)
    assert len(centre.requests) == 2 and len(centre.delivered) == 1
    assert len(gw.requests) == 2 and len(gw.delivered) == 1
    assert len(read_outbox(outbox)) == 1
    assert {r.key for r in centre.requests} == {"incident-C1-T1/information-report/command_centre#command_centre.platform"}
    assert first.channel == "centre-webhook+sms+outbox" and first.ack_expected and not first.duplicate
    assert again.duplicate and again.attempt == 2


async def test_partial_failure_retries_only_what_is_missing(tmp_path):
    """The SMS gateway is down, the platform is up: the activity retries; the platform is not told twice."""
    async with HttpReceiver() as centre, HttpReceiver(status=lambda r, n: 503 if n == 0 else 200) as gw:
        roster = Roster.model_validate(
            {"default_channel": "sms", "agencies": {"command_centre": {"contacts": [
                {"id": "platform", "channel": "centre-webhook"}, {"id": "duty-sms", "channel": "sms", "address": "0576-84000009"}]}}}
        )
        channels = {"centre-webhook": WebhookChannel("centre-webhook", url=centre.url, secret=SECRET),
                    "sms": SmsChannel("sms", url_template=gw.url + "/send")}
        n = notifier(tmp_path, OutboxChannel(tmp_path / "o.jsonl"), roster, channels)
        with pytest.raises(ApplicationError) as err:
            await run(n, request())
        assert err.value.type == DELIVERY_UNAVAILABLE and "已送达:centre-webhook" in err.value.message
        await run(n, request(), attempt=2)
    assert len(centre.delivered) == 1 and len(gw.delivered) == 1


async def test_roster_nobody_on_duty_falls_back_up_the_chain(tmp_path):
    roster = Roster.model_validate(json.loads(ROSTER.read_text(encoding="utf-8")))
    async with HttpReceiver() as gw:
        channels = {"sms": SmsChannel("sms", url_template=gw.url + "/send?to={to}"),
                    "email": EmailChannel("email", host="127.0.0.1", port=1, sender="a@b.c", security="none"),
                    "centre-webhook": WebhookChannel("centre-webhook", url=gw.url, secret=SECRET),
                    "alarm-gateway": WebhookChannel("alarm-gateway", url=gw.url, secret=SECRET)}
        channels["email"].deliver = _no_mail  # the section's e-mail is not what this test is about
        clock = {"now": SATURDAY_10}
        n = notifier(tmp_path, OutboxChannel(tmp_path / "o.jsonl"), roster, channels, clock=lambda: clock["now"])
        weekend = await run(n, request(Agency.CORRECTION_SECTION, step="alarm-110"))
        clock["now"] = TUESDAY_10
        weekday = await run(n, request(Agency.CORRECTION_SECTION, step="level-report"))
    # Saturday: the section has nobody on duty → the emergency office's day officer gets it
    assert weekend.recipient_name_zh == "区司法局社区矫正管理科(无人值班,转区司法局应急办公室 值班:应急办 白班值班员 赵晓明)"
    assert gw.requests[0].path == "/send?to=13800000101"
    # Tuesday: the section's own duty officer
    assert weekday.recipient_name_zh == "区司法局社区矫正管理科(值班:矫正科 周海燕)"
    assert gw.requests[1].path == "/send?to=13800000201"


async def _no_mail(delivery) -> bool:
    return False


def loopback_channels(tmp_path):
    channels = tmp_path / "channels.json"
    channels.write_text(json.dumps({"channels": {
        "sms": {"kind": "sms", "url_template": "http://127.0.0.1:9/send?to={to}"},
        "email": {"kind": "email", "host": "127.0.0.1", "port": 25, "security": "none", "sender": "a@b.c"},
        "centre-webhook": {"kind": "webhook", "secret": "s" * 16},
        "alarm-gateway": {"kind": "webhook", "secret": "s" * 16}}}), encoding="utf-8")
    return channels


def test_roster_nobody_reachable_is_refused_at_load(tmp_path):
    data = json.loads(ROSTER.read_text(encoding="utf-8"))
    data["units"]["correction_section"]["fallback"] = []
    path = tmp_path / "roster.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    with pytest.raises(DirectoryError) as err:
        build_activities(roster_path=path, channels_path=loopback_channels(tmp_path), outbox=tmp_path / "o", drill_outbox=tmp_path / "d")
    msg = str(err.value)
    assert msg.startswith(f"{path}: line ") and "units.correction_section: nobody reachable on mon 00:00 CST" in msg


@pytest.mark.parametrize(
    ("mutate", "expect"),
    [
        (lambda d: d["people"]["eo-day"]["contacts"][0].update(channel="fax"), "people.eo-day.contacts.0.channel: unknown channel 'fax'"),
        (lambda d: d["units"]["emergency_office"]["shifts"][0].update(person="nobody"), "units.emergency_office.shifts.0.person: 'nobody' is not in people"),
        (lambda d: d["units"]["emergency_office"]["shifts"][0].update(start="25:00"), "units.emergency_office.shifts.0.start: String should match pattern"),
        (lambda d: d["units"]["correction_section"].update(fallback=["leadership_group", "correction_section"]), "units.correction_section.fallback: correction_section is listed twice (or is the unit itself)"),
        (lambda d: d["duty_officers"]["justice_office"]["shifts"][1].update(person="nobody"), "duty_officers.justice_office.shifts.1.person: 'nobody' is not in people"),
    ],
)
def test_roster_errors_name_file_line_and_field(tmp_path, mutate, expect):
    data = json.loads(ROSTER.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "roster.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    with pytest.raises(DirectoryError) as err:
        build_activities(roster_path=path, channels_path=loopback_channels(tmp_path), outbox=tmp_path / "o", drill_outbox=tmp_path / "d")
    assert str(err.value).startswith(f"{path}: line ") and expect in str(err.value), str(err.value)


def test_channel_config_errors_name_file_line_and_field(tmp_path, monkeypatch):
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)
    for env in ("CENTRE_WEBHOOK_SECRET", "ALARM_GATEWAY_SECRET", "SMS_GATEWAY_PASSWORD", "SMS_GATEWAY_SECRET"):
        monkeypatch.setenv(env, "a-long-enough-secret-value")
    with pytest.raises(DirectoryError) as err:
        build_activities(channels_path=CHANNELS, outbox=tmp_path / "o", drill_outbox=tmp_path / "d")
    assert str(err.value) == (
        f"{CHANNELS}: line 36: channels.email.password_env: environment variable SMTP_PASSWORD is not set"
    )
    bad = tmp_path / "c.json"
    bad.write_text('{"channels": {"sms": {"kind": "sms", "url_template": "http://x/?n={phone}"}}}')
    with pytest.raises(DirectoryError, match=r"c.json: line 1: channels.sms.sms: unknown placeholder \{phone\}"):
        build_activities(channels_path=bad, outbox=tmp_path / "o", drill_outbox=tmp_path / "d")
    bad.write_text('{"channels": {\n "sms": {"kind": "sms",}}}')
    with pytest.raises(DirectoryError, match=r"c.json: line 2: invalid JSON"):
        build_activities(channels_path=bad, outbox=tmp_path / "o", drill_outbox=tmp_path / "d")


async def test_drill_sink_only_whatever_the_configuration(tmp_path):
    async with HttpReceiver() as real:
        hook = WebhookChannel("centre-webhook", url=real.url, secret=SECRET, acknowledges=True)
        # a real channel can never be the drill sink
        with pytest.raises(DrillLeak):
            Notifier(load_directory(), hook, hook)
        roster = Roster.model_validate(
            {"default_channel": "centre-webhook", "per_incident_channel": "centre-webhook"}
        )
        n = notifier(tmp_path, hook, roster, {"centre-webhook": hook})
        receipt = await run(n, request(drill=True))
        family = await run(n, request(Agency.FAMILY, step="family-1", recipient_phone="13700000003", drill=True))
    assert real.requests == []
    assert [d["recipient"] for d in read_outbox(tmp_path / "drill.jsonl")] == ["command_centre", "family"]
    assert receipt.channel == family.channel == "drill-outbox" and not receipt.ack_expected


def test_jurisdiction_routes_where_they_differ():
    roster = Roster.model_validate(json.loads(ROSTER.read_text(encoding="utf-8")))
    d = load_directory()
    ids = lambda jur: [t.target_id for t in roster.resolve(Agency.JUSTICE_OFFICE, jur, at=TUESDAY_10, directory=d).targets]  # noqa: E731
    assert ids(("北城司法所", "黄岩区")) == ["justice_office.beicheng-sms"]
    assert ids(("米市巷司法所", "拱墅区")) == ["justice_office.gongshu-sms"]  # the county, where the office has none
    assert ids(("新前司法所", "黄岩区")) == ["justice_office.duty-sms"]


def test_duty_person_is_the_shift_on_duty_jurisdiction_first_then_the_unit_chain():
    """000 §5.2 值班: who holds a role's duty at a given minute (``Roster.duty_person``)."""
    from plan.roster import load_roster

    roster = load_roster(ROSTER, directory=load_directory(), channels={"outbox", "sms", "email", "alarm-gateway", "centre-webhook"})
    at = datetime(2026, 11, 23, 10, 0, tzinfo=CST)  # Monday 10:00
    assert roster.duty_person(Agency.JUSTICE_OFFICE, ("东城司法所", "黄岩区"), at=at)[0] == "jo-day"
    assert roster.duty_person(Agency.JUSTICE_OFFICE, (), at=at.replace(hour=20))[0] == "jo-night"
    assert roster.duty_person(Agency.CORRECTION_SECTION, (), at=at)[0] == "cs-zhou"
    # Saturday: nobody in the section, its fallback chain's emergency office officer holds the duty
    assert roster.duty_person(Agency.CORRECTION_SECTION, (), at=datetime(2026, 11, 28, 10, 0, tzinfo=CST))[0] == "eo-day"
    with_office = roster.model_copy(update={"duty_officers": {**roster.duty_officers, Agency.JUSTICE_OFFICE: roster.duty_officers[Agency.JUSTICE_OFFICE].model_copy(
        update={"jurisdictions": {"北城司法所": [roster.units[Agency.EMERGENCY_OFFICE].shifts[0]]}})}})
    assert with_office.duty_person(Agency.JUSTICE_OFFICE, ("北城司法所",), at=at)[0] == "eo-day"
    assert with_office.duty_person(Agency.JUSTICE_OFFICE, ("东城司法所",), at=at)[0] == "jo-day"
    assert roster.duty_person(Agency.PROCURATORATE, (), at=at) is None
