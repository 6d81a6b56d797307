"""The signed link a duty task carries to its person (issue 18), without a browser.

- the signer (``infra/duty_links.py``): deterministic, opaque, bound to person, duty and namespace,
  refused after its expiry (the duty's due time + grace), single use across restarts;
- who gets which link (``activities/duty_link.py``): the roster's person on duty and their
  ``board_account``, or without a roster the office's duty post (``duty_roles``); a person whose roster
  entry says why they have no account gets the task without one;
- the ``notify`` activity: the task ends with ``确认办理:<BOARD_URL>/d/<token>``, a retried delivery
  carries the very same link, a drill's task goes to the drill sink with its link;
- configuration: roster ↔ accounts checked on load, one line naming the file and the field; the worker
  fails closed without the board's secret.

The browser path on the stack as ``./dev.sh up`` starts it: tests/test_board_browser.py.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import ROOT
from temporalio.testing import ActivityEnvironment

from activities import build_activities
from activities.channels import OutboxChannel, read_outbox
from activities.contracts import NotifyRequest
from activities.duty_link import DutyLinker, check_accounts
from activities.notify import Notifier
from infra.duty_links import DutyLinks, LinkConfigError, LinkError, expiry, secret_key
from plan import texts
from plan.agencies import Agency, load_directory
from plan.roster import CST, load_roster
from web.config import load_accounts

SECRET = b"s" * 32
ROSTER = ROOT / "config" / "roster.json"
ACCOUNTS = ROOT / "config" / "board-accounts.json"
CHANNELS = {"outbox", "sms", "email", "alarm-gateway", "centre-webhook"}
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=CST)  # jo-day (孙立新) holds the 司法所's duties
WF = "incident-C1-HY-T1"
TASK = ("【社区矫正对象实施行凶等犯罪或以要挟为目的的自杀自残】【值班任务·电话】立即向公安“110”或执行地公安派出所报警"
        "(依据001 §4(1))。须于2026年11月23日 11:00前完成(剩余1小时)。完成后请报告“phoned”(任务编号 alarm-110)。")


def task(step: str = "duty-alarm-110", drill: bool = False, message: str = TASK) -> NotifyRequest:
    return NotifyRequest(idempotency_key=f"{WF}/{step}/justice_office", workflow_id=WF, incident_type="C1", step=step,
                         clause="001 §4(1)", recipient=Agency.JUSTICE_OFFICE, message_zh=message, drill=drill,
                         jurisdiction=("东城司法所", "黄岩区"), duty_task=step.startswith("duty-"))


async def run(notifier: Notifier, req: NotifyRequest, *, attempt: int = 1, scheduled: datetime = MONDAY_10,
              namespace: str = "default"):
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=attempt, scheduled_time=scheduled,
                                   current_attempt_scheduled_time=scheduled + timedelta(seconds=attempt),
                                   workflow_namespace=namespace)
    return await env.run(notifier.notify, req)


def link_of(text: str) -> str:
    assert "确认办理:" in text, text
    return text.rsplit("确认办理:", 1)[1]


def linker(tmp_path, roster=None) -> DutyLinker:
    return DutyLinker("https://board.example.gov.cn/", DutyLinks(SECRET, tmp_path / "used.json"), load_accounts(ACCOUNTS),
                      roster)


# ------------------------------------------------------------------------------------- the signer


def test_a_token_is_deterministic_opaque_bound_and_expires(tmp_path):
    links = DutyLinks(SECRET, tmp_path / "used.json")
    token = links.mint("hy-dongcheng-duty", f"{WF}::duty/alarm-110", "default", expires_at=2_000_000)
    assert token == links.mint("hy-dongcheng-duty", f"{WF}::duty/alarm-110", "default", expires_at=2_000_000)
    assert token != links.mint("hy-dongcheng-duty", f"{WF}::duty/alarm-110", "default", expires_at=2_000_060)
    assert "hy-" not in token and "incident" not in token and "alarm" not in token  # encrypted, not just signed
    claim = links.open(token, now=1_999_999)
    assert (claim.account_id, claim.duty_id, claim.namespace, claim.expires_at) == (
        "hy-dongcheng-duty", f"{WF}::duty/alarm-110", "default", 2_000_000)
    with pytest.raises(LinkError, match="链接无效或已过期"):
        links.open(token, now=2_000_000)  # expired
    with pytest.raises(LinkError):
        links.open(token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"), now=1_000_000)  # altered
    with pytest.raises(LinkError):
        DutyLinks(b"o" * 32, tmp_path / "used.json").open(token, now=1_000_000)  # another board's secret


def test_the_expiry_is_the_due_time_plus_grace_and_the_same_on_every_retry(monkeypatch):
    due = datetime(2026, 11, 23, 11, 0, tzinfo=CST)
    assert texts.duty_due(TASK) == due
    assert expiry(due_at=due, scheduled_at=MONDAY_10) == int((due + timedelta(minutes=60)).timestamp())
    late = due + timedelta(hours=2)  # delivered after its due time: grace from the delivery
    assert expiry(due_at=due, scheduled_at=late) == int((late + timedelta(minutes=60)).timestamp())
    assert expiry(due_at=None, scheduled_at=MONDAY_10) == int((MONDAY_10 + timedelta(minutes=120)).timestamp())
    monkeypatch.setenv("BOARD_LINK_GRACE_MINUTES", "15")
    assert expiry(due_at=due, scheduled_at=MONDAY_10) == int((due + timedelta(minutes=15)).timestamp())
    monkeypatch.setenv("BOARD_LINK_GRACE_MINUTES", "soon")
    with pytest.raises(LinkConfigError, match="BOARD_LINK_GRACE_MINUTES"):
        expiry(due_at=due, scheduled_at=MONDAY_10)


def test_the_task_text_states_its_due_time_as_the_parser_reads_it():
    from helpers import example
    from plan.models import INCIDENT_INPUT_ADAPTER

    inp = INCIDENT_INPUT_ADAPTER.validate_python(example("C1"))
    due = datetime(2026, 12, 1, 23, 22, tzinfo=CST)
    text = texts.duty_task(inp, "标题", duty_id="alarm-110", what_zh="报警", clause="001 §4(1)", form="phone",
                           counterpart_zh="公安“110”", phone="110", say_zh="请出警", due_at=due,
                           left=timedelta(hours=1), evidence="phoned")
    assert texts.duty_due(text) == due
    assert texts.duty_due("没有时限的文字") is None


def test_single_use_survives_a_restart_and_a_refused_confirmation_is_given_back(tmp_path):
    links = DutyLinks(SECRET, tmp_path / "used.json")
    claim = links.open(links.mint("a-1", "wf::duty/x", "default", expires_at=2_000_000), now=1_000_000)
    assert links.consume(claim, now=1_000_001) and not links.consume(claim, now=1_000_002)
    again = DutyLinks(SECRET, tmp_path / "used.json")
    assert again.used(claim) and not again.consume(claim, now=1_000_003)
    assert oct((tmp_path / "used.json").stat().st_mode & 0o777) == "0o600"
    again.release(claim)
    assert again.consume(claim, now=1_000_004)
    fresh = links.open(links.mint("a-1", "wf::duty/y", "default", expires_at=1_000_100), now=1_000_000)
    assert not links.consume(fresh, now=1_000_100)  # opened in time, confirmed too late


# ------------------------------------------------------------------------------------- the activity


async def test_the_on_duty_persons_task_carries_their_link_and_a_retry_the_same(tmp_path):
    roster = load_roster(ROSTER, directory=load_directory(), channels={"outbox"} | CHANNELS)
    outbox = OutboxChannel(tmp_path / "outbox.jsonl")
    n = Notifier(load_directory(), outbox, OutboxChannel(tmp_path / "drill.jsonl", name="drill-outbox"),
                 roster=roster, channels={c: outbox for c in CHANNELS}, clock=lambda: MONDAY_10,
                 linker=linker(tmp_path, roster))
    receipt = await run(n, task())
    assert receipt.person == "jo-day"
    [record] = read_outbox(tmp_path / "outbox.jsonl", codec=None)
    assert record["message_zh"].startswith(TASK) and record["message_zh"].endswith(link_of(record["message_zh"]))
    url = link_of(record["message_zh"])
    assert url.startswith("https://board.example.gov.cn/d/") and "//d" not in url.removeprefix("https://")
    claim = linker(tmp_path).links.open(url.rsplit("/", 1)[1], now=int(MONDAY_10.timestamp()))
    assert claim.account_id == "hy-dongcheng-day"  # config/roster.json people.jo-day.board_account
    assert (claim.duty_id, claim.namespace) == (f"{WF}::duty/alarm-110", "default")
    assert claim.expires_at == int(datetime(2026, 11, 23, 12, 0, tzinfo=CST).timestamp())  # due 11:00 + 60 min
    # a retry (attempt 3, later) mints the same link: its single use holds whichever copy is opened
    n.channels = {c: OutboxChannel(tmp_path / "retry.jsonl") for c in ["outbox", *CHANNELS]}
    await run(n, task(), attempt=3)
    [retried] = read_outbox(tmp_path / "retry.jsonl", codec=None)
    assert link_of(retried["message_zh"]) == url
    # nothing of the link in anything but the message (logs carry linked=True only)
    assert "确认办理" not in json.dumps({k: v for k, v in record.items() if k != "message_zh"}, ensure_ascii=False)


async def test_without_a_roster_the_offices_duty_post_gets_the_link_and_a_drill_too(tmp_path):
    n = Notifier(load_directory(), OutboxChannel(tmp_path / "outbox.jsonl"),
                 OutboxChannel(tmp_path / "drill.jsonl", name="drill-outbox"), linker=linker(tmp_path))
    await run(n, task(drill=True))
    assert not (tmp_path / "outbox.jsonl").exists()  # 000 §6.2: a drill reaches the drill sink only
    [record] = read_outbox(tmp_path / "drill.jsonl", codec=None)
    claim = linker(tmp_path).links.open(link_of(record["message_zh"]).rsplit("/", 1)[1], now=int(MONDAY_10.timestamp()))
    assert claim.account_id == "hy-dongcheng-duty"  # duty_roles: ["justice_office"], 东城司法所, 黄岩区
    # another namespace (another bureau) has no account here: its task goes without a link
    await run(n, task(), namespace="huangyan")
    [plain] = read_outbox(tmp_path / "outbox.jsonl", codec=None)
    assert plain["message_zh"] == TASK
    # not a duty task (an automated message, an escalation): no link
    await run(n, task(step="information-report"))
    await run(n, task(step="duty-alarm-110-missed"))
    assert all("确认办理" not in r["message_zh"] for r in read_outbox(tmp_path / "outbox.jsonl", codec=None))


async def test_a_person_without_an_account_gets_the_task_without_a_link(tmp_path):
    roster = load_roster(ROSTER, directory=load_directory(), channels=CHANNELS)
    lk = linker(tmp_path, roster)
    lg = ("lg-zheng", roster.people["lg-zheng"])  # board_account_none: says why
    assert lk.link(task(), lg, namespace="default", scheduled_at=MONDAY_10) is None
    jo = ("jo-day", roster.people["jo-day"])
    assert lk.link(task(), jo, namespace="huangyan", scheduled_at=MONDAY_10) is None  # the account is default's


# ------------------------------------------------------------------------------------- configuration


def test_the_shipped_rosters_map_every_duty_officer_to_an_account_or_say_why_not():
    roster = load_roster(ROSTER, directory=load_directory(), channels=CHANNELS)
    check_accounts(roster, ROSTER, load_accounts(ACCOUNTS), ACCOUNTS, "default")
    gongshu = ROOT / "config" / "bureaus" / "rosters" / "gongshu.json"
    from plan.bureaus import profile

    g = load_roster(gongshu, directory=profile("gongshu").directory(), channels={"outbox"})
    check_accounts(g, gongshu, load_accounts(ACCOUNTS), ACCOUNTS, "gongshu")


def test_a_duty_officer_without_an_account_is_one_line_naming_the_file_and_field(tmp_path):
    doc = json.loads(ROSTER.read_text(encoding="utf-8"))
    del doc["people"]["jo-night"]["board_account"]
    bad = tmp_path / "roster.json"
    bad.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    roster = load_roster(bad, directory=load_directory(), channels=CHANNELS)
    with pytest.raises(LinkConfigError, match=r"roster\.json: line \d+: people\.jo-night: a duty officer without a "
                                              r"duty board account: set board_account .* or board_account_none"):
        check_accounts(roster, bad, load_accounts(ACCOUNTS), ACCOUNTS, "default")
    doc["people"]["jo-night"]["board_account"] = "hy-nobody"
    bad.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    roster = load_roster(bad, directory=load_directory(), channels=CHANNELS)
    with pytest.raises(LinkConfigError, match=r"people\.jo-night\.board_account: 'hy-nobody' is not an account of"):
        check_accounts(roster, bad, load_accounts(ACCOUNTS), ACCOUNTS, "default")
    with pytest.raises(LinkConfigError, match=r"people\.eo-day\.board_account: 'hy-eo-day' serves namespace 'default', this roster's bureau is in 'huangyan'"):
        check_accounts(load_roster(ROSTER, directory=load_directory(), channels=CHANNELS), ROSTER,
                       load_accounts(ACCOUNTS), ACCOUNTS, "huangyan")
    doc["people"]["jo-night"]["board_account_none"] = "x"
    bad.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    from plan.roster import RosterError

    with pytest.raises(RosterError, match="not both"):
        load_roster(bad, directory=load_directory(), channels=CHANNELS)


def test_two_accounts_for_one_duty_post_are_refused(tmp_path):
    from web.config import BoardConfigError

    doc = json.loads(ACCOUNTS.read_text(encoding="utf-8"))
    doc["accounts"][1] = {**doc["accounts"][1], "office": "东城司法所"}  # 北城's post now claims 东城
    bad = tmp_path / "accounts.json"
    bad.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(BoardConfigError, match=r"accounts\.1\.duty_roles: justice_office of 黄岩区东城司法所"):
        load_accounts(bad)


def test_the_worker_fails_closed_without_the_boards_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("EMERGENCY_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("BOARD_URL", "http://127.0.0.1:8235")
    monkeypatch.delenv("BOARD_SECRET_KEY_FILE", raising=False)
    with pytest.raises(LinkConfigError, match=r"board-secret: the duty board's link secret is missing"):
        build_activities(outbox=tmp_path / "o.jsonl", drill_outbox=tmp_path / "d.jsonl")
    assert not (tmp_path / "board-secret").exists()  # the worker never creates it
    secret_key(tmp_path)  # the board (or ./dev.sh up) creates it
    notify = build_activities(outbox=tmp_path / "o.jsonl", drill_outbox=tmp_path / "d.jsonl")[0]
    assert notify.__self__.linker is not None
    monkeypatch.setenv("BOARD_URL", "board.example.gov.cn")
    with pytest.raises(LinkConfigError, match="BOARD_URL: 'board.example.gov.cn' is not an http"):
        build_activities(outbox=tmp_path / "o.jsonl", drill_outbox=tmp_path / "d.jsonl")
    monkeypatch.delenv("BOARD_URL")
    assert build_activities(outbox=tmp_path / "o.jsonl", drill_outbox=tmp_path / "d.jsonl")[0].__self__.linker is None


def test_the_worker_says_so_in_one_line_in_a_new_shell(tmp_path):
    """``python worker.py`` with BOARD_URL and no secret: exit 2, one line, no traceback, nothing connected."""
    from test_browser import user_env

    res = subprocess.run([sys.executable, "worker.py"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env=user_env(EMERGENCY_VAR_DIR=str(tmp_path), BOARD_URL="http://127.0.0.1:8235",
                                      EMERGENCY_INSECURE_PLAINTEXT="1", TEMPORAL_ADDRESS="127.0.0.1:1"))
    assert res.returncode == 2, (res.stdout, res.stderr)
    out = res.stdout + res.stderr
    assert "board-secret: the duty board's link secret is missing" in out and "Traceback" not in out
