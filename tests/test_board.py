"""The duty board's parts without a browser: signed links, accounts (and their CLI in a new shell),
report forms from the schemas, refusals in Chinese, and the pre-duties adapter on the time-skipping
server (a confirmation made through it discharges the deadline and the 001 §7(4) register row).
The pages themselves: tests/test_board_browser.py."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from helpers import ROOT, example
from multidict import MultiDict

from plan.agencies import load_directory
from plan.models import DeadlineStatus, EntryKind, ObligationStatus
from web.config import BoardConfigError, load_accounts
from web.duties import confirmation_report, duties_of, duty_id_from_key
from web.forms import MODELS, blank_form, parse_form
from web.links import DutyLinks, LinkError
from web.refusals import reason_zh

SECRET = b"k" * 32


# ------------------------------------------------------------------------------------- links


def test_the_board_opens_the_links_the_worker_mints():
    """The board's ``web.links`` is the worker's signer (``infra/duty_links.py``; its own tests:
    tests/test_duty_links.py): a token minted on one side opens on the other."""
    import infra.duty_links as shared

    assert DutyLinks is shared.DutyLinks and LinkError is shared.LinkError


# ------------------------------------------------------------------------------------- accounts


def test_the_shipped_accounts_load_and_are_fictitious_with_argon2_hashes():
    accounts = load_accounts(ROOT / "config" / "board-accounts.json")
    ids = {a.id for a in accounts.accounts}
    assert {"hy-dongcheng-duty", "gs-gongchen-duty"} <= ids
    for a in accounts.accounts:
        assert a.namespace == "default"
        if a.password_hash:  # the others sign in only through their duty tasks' links
            assert a.password_hash.startswith("$argon2id$")
            assert PasswordHasher().verify(a.password_hash, "duty-demo-2026")  # the README's sample password
    assert accounts.get("hy-dongcheng-duty").password_hash and not accounts.get("hy-dongcheng-day").password_hash


def test_a_bad_account_file_is_one_line_naming_the_field(tmp_path):
    bad = tmp_path / "accounts.json"
    bad.write_text(json.dumps({"accounts": [{"id": "Bad Id", "name": "x", "unit": "x", "county": "x"}]}))
    with pytest.raises(BoardConfigError, match=r"accounts\.0\.id"):
        load_accounts(bad)
    dup = {"id": "a-1", "name": "x", "unit": "x", "county": "x"}
    bad.write_text(json.dumps({"accounts": [dup, dup]}))
    with pytest.raises(BoardConfigError, match="used twice"):
        load_accounts(bad)


def test_accounts_cli_adds_an_account_with_a_hashed_password_in_a_new_shell(tmp_path):
    """What the README says: ``python -m web.accounts add ...`` with BOARD_ACCOUNTS_FILE."""
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "BOARD_ACCOUNTS_FILE": str(tmp_path / "a.json")}
    cmd = [sys.executable, "-m", "web.accounts", "add", "hy-nancheng-duty", "--name", "何志明", "--unit", "南城司法所",
           "--office", "南城司法所", "--county", "黄岩区", "--password-stdin"]
    res = subprocess.run(cmd, input="a-long-password-1\n", capture_output=True, text=True, cwd=ROOT, env=env)
    assert res.returncode == 0, res.stderr
    doc = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    stored = doc["accounts"][0]
    assert "a-long-password-1" not in (tmp_path / "a.json").read_text()
    assert PasswordHasher().verify(stored["password_hash"], "a-long-password-1")
    again = subprocess.run(cmd, input="a-long-password-1\n", capture_output=True, text=True, cwd=ROOT, env=env)
    assert again.returncode == 2 and "already" in again.stderr and "Traceback" not in again.stderr
    short = subprocess.run([*cmd[:4], "hy-x-duty", *cmd[5:]], input="short\n", capture_output=True, text=True,
                           cwd=ROOT, env=env)
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    listed = subprocess.run([sys.executable, "-m", "web.accounts", "list"], capture_output=True, text=True, cwd=ROOT,
                            env=env)
    assert "hy-nancheng-duty" in listed.stdout and "argon2" not in listed.stdout


# ------------------------------------------------------------------------------------- forms


def test_every_report_kind_has_a_form_with_chinese_labels():
    for kind in MODELS:
        form = blank_form(kind)
        assert form.title and all(c.label and not c.label.isascii() for c in form.controls), kind


def test_a_form_is_validated_by_the_report_schema_with_chinese_reasons():
    report, form = parse_form("search_result", MultiDict(), "东城司法所 林晓东", "web-1")
    assert report is None
    assert form.error == "报告填写有误:是否查找到下落:必填;查找方式:至少选择或填写一项"
    data = MultiDict([("found", "false"), ("methods", "phone"), ("methods", "field_visit"), ("note", "已走访")])
    report, _ = parse_form("search_result", data, "东城司法所 林晓东", "web-2")
    assert report is not None and report.found is False and [m.value for m in report.methods] == ["phone", "field_visit"]
    assert report.actor == "东城司法所 林晓东" and report.report_id == "web-2"
    report, _ = parse_form("closed", MultiDict(result="处置完毕", current_situation="平稳",
                                               measures_taken="疏导\n劝离\n"), "a", "web-3")
    assert report is not None and report.measures_taken == ["疏导", "劝离"]
    report, form = parse_form("casualties", MultiDict(injured="-1"), "a", "web-4")
    assert report is None and "受伤人数:不能小于 0" in form.error
    report, _ = parse_form("command_set", MultiDict({"commander": "王建国", "groups.order": "李四"}), "a", "web-5")
    assert report is not None and {k.value: v for k, v in report.groups.items()} == {"order": "李四"}
    report, form = parse_form("command_set", MultiDict({"commander": "王建国"}), "a", "web-5")
    assert report is None and "各工作组负责人" in form.error
    report, form = parse_form("progress", MultiDict(current_situation="a\u202eb"), "a", "web-6")
    assert report is None and "不可见字符" in form.error


# ------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("reason,said", [
    ("report refused: closed: handling is not finished; waiting for search_result, punishment",
     "报告未受理:处置尚未完毕,还需报告:查找结果、处罚决定"),
    ("report refused: arrived: arrival was already reported", "报告未受理:已经报告过到场"),
    ("report refused: punishment: not expected now; the incident is waiting for search_result",
     "报告未受理:处罚决定现在不需报告,事件正在等待:查找结果"),
    ("report refused: step: 'contact-x' to police_110 was already delivered", "报告未受理:通知公安“110”的事项“contact-x”已经送达"),
    ("incident incident-C4-X: already completed; reports are no longer taken", "报告未受理:事件已结束"),
    ("report refused: something new", "报告未受理:something new"),
])
def test_refusals_are_shown_in_chinese(reason, said):
    assert reason_zh(reason).startswith(said)


# ------------------------------------------------------------------------------------- the adapter


async def test_a_by_hand_phone_duty_is_confirmed_through_the_adapter_and_the_register_says_on_time(harness):
    """001 §4(9) 情形三 without the away department's number: a phone duty of the 司法所 (by hand,
    ``require_by_hand``); the one-tap confirmation is the ``notified_by_hand`` report, signed by the person."""
    epidemic = dict(example("C9-S3")["epidemic"])
    epidemic.pop("away_epidemic_phone")
    wf = await harness.start("C9-S3", epidemic=epidemic)
    st = await harness.until(wf, lambda s: any(d.id.startswith("by-hand/") for d in s.deadlines))
    from starter.api import IncidentClient  # noqa: F401  (the board's door)

    inp = None
    duties = duties_of(st, inp, "东城司法所", load_directory(), datetime.now(UTC))
    phone = next(d for d in duties if d.deadline_id.startswith("by-hand/"))
    assert phone.form == "phone" and phone.confirm_as == ["phoned"] and "立即采用电话、传真等方式" in phone.what_zh
    assert duty_id_from_key(phone.key) == phone.id
    daily = [d for d in duties if d.deadline_id.startswith("duty/daily-contact-")]  # a person's duty (issue 16)
    assert daily and daily[0].form == "phone" and daily[0].confirm_as == ["phoned"]
    report = confirmation_report(phone, "phoned", "东城司法所 林晓东", "海曙区疫情防控指挥部 值班员", "已告知", "link-1")
    await harness.api.report(wf, report)
    await harness.api.report(wf, report)  # a retried tap: recorded once (same report id)
    st = await harness.status(wf)
    assert next(d for d in st.deadlines if d.id == phone.deadline_id).status is DeadlineStatus.MET
    recorded = [e for e in st.timeline if e.kind is EntryKind.REPORT and e.actor == "东城司法所 林晓东"]
    assert len(recorded) == 1 and "已电话联系、对方:海曙区疫情防控指挥部 值班员、已告知" in recorded[0].text_zh
    acc = await harness.api.accountability(wf)
    row = next(o for o in acc.obligations if o.id == phone.deadline_id.removeprefix("by-hand/"))
    assert row.status is ObligationStatus.ON_TIME
    assert not [d for d in duties_of(st, inp, "东城司法所", None, datetime.now(UTC)) if d.id == phone.id]


async def test_an_arrival_duty_past_its_due_time_is_overdue_and_its_confirmation_is_late(harness):
    """000 §4.3 须在30分钟内赶至指定地点,向指定人员报到: after 30 minutes the duty is overdue (red on
    the board) and a confirmation then is recorded late (超时后完成)."""
    wf = await harness.start("C4")
    await harness.skip(timedelta(minutes=31))
    st = await harness.until(wf, lambda s: any(d.id == "arrival" and d.status is DeadlineStatus.MISSED for d in s.deadlines))
    duty = next(d for d in duties_of(st, None, "东城司法所", None, datetime.now(UTC)) if d.deadline_id == "arrival")
    assert duty.overdue and duty.form == "on_site"
    await harness.api.report(wf, confirmation_report(duty, "on_site", "东城司法所 林晓东", "周立", "", "n"))
    st = await harness.status(wf)
    assert next(d for d in st.deadlines if d.id == "arrival").status is DeadlineStatus.LATE


# ------------------------------------------------------------------------------------- sign-in (no Temporal needed)


async def test_sign_in_needs_the_csrf_token_throttles_wrong_passwords_and_sets_a_safe_cookie(tmp_path):
    import re

    from aiohttp.test_utils import TestClient, TestServer

    from web.app import build_app
    from web.config import Account, Accounts
    from web.service import Board

    account = Account(id="hy-test-duty", name="测试", unit="东城司法所", county="黄岩区", office="东城司法所",
                      password_hash=PasswordHasher().hash("right-password-1"))
    app = build_app(Accounts(accounts=[account]), Board(None), SECRET, tmp_path / "used.json")
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/board", allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"].startswith("/login")
        page = await (await client.get("/login")).text()
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
        csrf = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
        no_token = await client.post("/login", data={"account": account.id, "password": "right-password-1"})
        assert no_token.status == 403
        for _ in range(5):
            wrong = await client.post("/login", data={"_csrf": csrf, "account": account.id, "password": "wrong"})
            assert wrong.status == 401 and "账号或密码不正确" in await wrong.text()
        locked = await client.post("/login", data={"_csrf": csrf, "account": account.id, "password": "right-password-1"})
        assert locked.status == 429 and "15分钟后再试" in await locked.text()
        from web.app import FAILURES

        app[FAILURES].clear()  # the 15 minutes pass
        ok = await client.post("/login", data={"_csrf": csrf, "account": account.id, "password": "right-password-1",
                                               "next": "//evil.example/x"}, allow_redirects=False)
        assert ok.status == 303 and ok.headers["Location"] == "/board"  # no open redirect
        cookie = ok.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "hy-test-duty" not in cookie

