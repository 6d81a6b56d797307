"""The duty board (web/) in a real browser, on the stack exactly as ``./dev.sh up`` starts it.

``devstack.py`` runs as a subprocess with its defaults (payload encryption on, the sample incident
from examples/C4.json, the accounts of config/board-accounts.json); only the ports and the state
directory differ. Headless Chromium (Debian ``chromium`` + ``chromium-driver``, selenium) at a phone
viewport (390 x 844) and a desktop one:

- the officer signs in with the printed sample sign-in, sees the sample incident on the board and
  opens it: Chinese title, place, what the clause waits for, deadlines as countdowns;
- an incident whose arrival deadline (000 §4.3) has passed shows it red, on the board and the page;
  a drill is marked 演练;
- a report form refusal shows its Chinese reason (the form's own check and the incident's refusal);
- a valid report lands on the timeline, signed with the officer's name;
- the duty task message of the duty sample (examples/C1.json, 001 §4(1)), read from the outbox with
  the command ``./dev.sh up`` prints, ends with the officer's signed link: it opens the duty, one tap
  confirms it, and the incident's register shows the confirmation with the person and the time; the
  same link is refused a second time, and an expired one is refused;
- another bureau's officer cannot reach the incident (404), nor its written report.

Screenshots go to tests/artifacts/ (board-*.png).
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import re
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from helpers import ROOT, example
from test_browser import _driver, needs_browser, running_devstack, user_env

from devstack import free_port, port_open
from infra.settings import connect, data_converter
from plan.models import DeadlineStatus, EntryKind
from starter.api import IncidentClient

pytestmark = pytest.mark.devserver
ARTIFACTS = ROOT / "tests" / "artifacts"
SAMPLE = "incident-C4-HY-20261123-0042"
PHONE, DESKTOP = (390, 844), (1366, 900)
RED = ("rgb(198, 40, 40)", "rgba(198, 40, 40, 1)")  # --red in web/static/board.css


class Board:
    def __init__(self, var: Path, port: int, board_port: int, printed: str) -> None:
        self.var, self.port, self.board_port, self.printed = var, port, board_port, printed
        self.url = f"http://127.0.0.1:{board_port}"

    def env(self) -> dict[str, str]:
        return {"EMERGENCY_CODEC_KEYS_FILE": str(self.var / "codec-keys.json")}

    def sign_in(self) -> tuple[str, str]:
        m = re.search(r"Duty board:\s+(\S+)\s+sign in: (\S+) / (\S+)", self.printed)
        assert m, self.printed
        assert m.group(1) == f"{self.url}/board"
        return m.group(2), m.group(3)

    def duty_sample(self) -> str:
        m = re.search(r"Duty sample:\s+(\S+): its duty tasks went to", self.printed)
        assert m, self.printed
        return m.group(1)

    def duty_tasks(self) -> list[dict]:
        """The duty tasks as the officers' duty phones received them: the printed command, in a new shell."""
        m = re.search(r"^\s*Duty tasks:\s+(.+)$", self.printed, re.M)
        assert m, self.printed
        res = subprocess.run(["bash", "-c", m.group(1)], cwd="/", env=user_env(), capture_output=True, text=True,
                             timeout=60)
        assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
        return [json.loads(line) for line in res.stdout.splitlines()]

    def link(self, step: str = "duty-alarm-110", timeout: float = 30.0) -> tuple[dict, str]:
        """The duty sample's task for ``step`` and the signed link it ends with (``确认办理:<url>``)."""
        end = time.monotonic() + timeout
        while True:
            found = [t for t in self.duty_tasks() if t["workflow_id"] == self.duty_sample() and t["step"] == step]
            if found:
                m = re.search(r"确认办理:(\S+)$", found[0]["message_zh"])
                assert m, found[0]["message_zh"]
                return found[0], m.group(1)
            assert time.monotonic() < end, self.duty_tasks()
            time.sleep(0.5)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Board]:
    var = tmp_path_factory.mktemp("board-var")
    port, board_port = free_port(), free_port()
    with running_devstack(var, port, free_port(), free_port(), board_port) as printed:
        assert port_open(board_port)
        yield Board(var, port, board_port, printed)


@pytest_asyncio.fixture(scope="module")
async def api(stack: Board) -> IncidentClient:
    client = await connect(target_host=f"127.0.0.1:{stack.port}", data_converter=data_converter(stack.env()))
    return IncidentClient(client)


def driver(size: tuple[int, int]):
    return _driver(size)


def shot(d, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    d.save_screenshot(str(path))
    return path


def body(d) -> str:
    return d.find_element("tag name", "body").text


def sign_in(d, stack: Board, account: str | None = None, password: str | None = None) -> None:
    sample_account, sample_password = stack.sign_in()
    d.get(f"{stack.url}/login")
    d.find_element("name", "account").send_keys(account or sample_account)
    d.find_element("name", "password").send_keys(password or sample_password)
    d.find_element("css selector", "form.form button[type=submit]").click()
    wait(d, lambda: "/login" not in d.current_url)


def wait(d, cond, timeout: float = 20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            got = cond()
            if got:
                return got
        except Exception:  # the page is still loading
            pass
        time.sleep(0.2)
    raise AssertionError(f"condition not met on {d.current_url}:\n{body(d)[:2000]}")


async def start(api: IncidentClient, **overrides) -> str:
    data = example("C4", alert_id=f"BD-{uuid.uuid4().hex[:6]}", **overrides)
    return (await api.start(data)).workflow_id


async def until(api: IncidentClient, wf: str, pred, timeout: float = 20.0):
    end = time.monotonic() + timeout
    while True:
        st = await api.status(wf)
        if pred(st):
            return st
        assert time.monotonic() < end, [(e.kind, e.text_zh[:40]) for e in st.timeline]
        await asyncio.sleep(0.2)


async def listed(api: IncidentClient, wf: str) -> None:
    from infra import search_attributes as sa

    query = sa.incident_query(running=True)
    for _ in range(100):  # visibility is eventually consistent
        if wf in [w.id async for w in api.client.list_workflows(query)]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{wf} not listed")


@needs_browser
@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
async def test_officer_signs_in_sees_the_board_and_opens_the_sample_incident(stack: Board, api: IncidentClient, size):
    await listed(api, SAMPLE)
    name = "phone" if size == PHONE else "desktop"

    def browse() -> tuple[str, str, int, int]:
        d = driver(size)
        try:
            sign_in(d, stack)
            d.get(f"{stack.url}/board")
            card = wait(d, lambda: d.find_element("css selector", f"li[data-workflow-id='{SAMPLE}']"))
            board_text = card.text
            width = d.execute_script("return document.documentElement.scrollWidth")
            shot(d, f"board-{name}.png")
            card.find_element("css selector", "a.title").click()
            wait(d, lambda: "东城街道永宁路" in body(d))
            page = body(d)
            page_width = d.execute_script("return document.documentElement.scrollWidth")
            shot(d, f"board-incident-{name}.png")
            d.find_element("link text", "我的待办").click()
            wait(d, lambda: "我的待办" in body(d) and d.find_elements("css selector", "li.duty"))
            duties = body(d)
            shot(d, f"board-my-duties-{name}.png")
            return board_text, page + "\n===\n" + duties, width, page_width
        finally:
            d.quit()

    board_text, page, width, page_width = await asyncio.to_thread(browse)
    assert "C4" in board_text and "社区矫正对象脱离监督管理" in board_text
    assert "黄岩区东城司法所" in board_text and "紧急处置流程" in board_text
    assert re.search(r"下一时限:\S+.*(剩余|已超时) ", board_text), board_text
    # the page fits the viewport (no sideways scrolling on a phone)
    assert width <= size[0] and page_width <= size[0], (width, page_width)
    # 事件详情: what happened, where, what the clause waits for, deadlines, timeline with clause ids
    for text in ("事件情况", "东城街道永宁路", "电子定位信号中断", "现在应办", "查找结果", "司法所立即组织查找",
                 "到场时限 30分钟", "事件记录", "001 §4(4)", "000 §4.2", "通知与回执", "区司法局应急办公室",
                 "责任记录", "下载书面报告"):
        assert text in page, (text, page[:3000])
    assert "李明轩" not in page.split("事件情况")[0]  # the subject's name is not in the header
    # 我的待办: the sample's duties for 东城司法所, in the plan's words, with the form and the countdown
    duties = page.split("\n===\n")[1]
    for text in ("我的待办 东城司法所", "须在30分钟内赶至指定地点,向指定人员报到", "到场", "立即组织查找", "核实",
                 "办理并确认", "填写报告"):
        assert text in duties, (text, duties)
    assert re.search(r"应于 .+ 前 (剩余|已超时) ", duties), duties


@needs_browser
async def test_an_overdue_deadline_shows_red_and_a_drill_is_marked(stack: Board, api: IncidentClient):
    now = datetime.now(UTC)
    late = await start(api, occurred_at=(now - timedelta(minutes=50)).isoformat(),
                       dispatch={"at": (now - timedelta(minutes=40)).isoformat(), "designated_place": "东城司法所",
                                 "designated_person": "东城司法所所长 周立"})
    drill = await start(api, drill=True)
    await until(api, late, lambda st: any(d.id == "arrival" and d.status is DeadlineStatus.MISSED for d in st.deadlines))
    await listed(api, late)
    await listed(api, drill)

    def browse() -> tuple[str, str, tuple[str, int], str, str]:
        d = driver(PHONE)
        try:
            sign_in(d, stack)
            d.get(f"{stack.url}/board")
            card = wait(d, lambda: d.find_element("css selector", f"li[data-workflow-id='{late}']"))
            card_classes = card.get_attribute("class") or ""
            drill_text = d.find_element("css selector", f"li[data-workflow-id='{drill}']").text
            d.get(f"{stack.url}/board?overdue=1")
            wait(d, lambda: d.find_element("css selector", f"li[data-workflow-id='{late}']"))
            filtered = body(d), len(d.find_elements("css selector", f"li[data-workflow-id='{drill}']"))
            d.get(f"{stack.url}/incidents/{late}")
            row = wait(d, lambda: d.find_element("css selector", "tr[data-deadline='arrival']"))
            wait(d, lambda: "已超时" in row.text)  # the live countdown
            color = row.find_element("css selector", "td").value_of_css_property("color")
            d.execute_script("arguments[0].scrollIntoView()", row)
            shot(d, "board-overdue-phone.png")
            return card_classes, drill_text, filtered, row.text, color
        finally:
            d.quit()

    card_classes, drill_text, filtered, row, color = await asyncio.to_thread(browse)
    assert "overdue" in card_classes
    assert "演练" in drill_text
    assert filtered[1] == 0 and "有超时未完成的时限" in filtered[0]  # the overdue filter
    assert "超时未完成" in row and "已超时" in row
    assert color in RED


@needs_browser
async def test_a_refused_report_shows_its_reason_in_chinese_and_a_valid_one_lands_on_the_timeline(
        stack: Board, api: IncidentClient):
    wf = await start(api)
    await listed(api, wf)

    def browse() -> tuple[str, str, str]:
        d = driver(PHONE)
        try:
            sign_in(d, stack)
            # the form's own check: required fields named in Chinese
            d.get(f"{stack.url}/incidents/{wf}/reports/search_result#form-search_result")
            form = wait(d, lambda: d.find_element("id", "form-search_result"))
            form.find_element("css selector", "button[type=submit]").click()
            wait(d, lambda: "报告填写有误" in body(d))
            field_error = d.find_element("css selector", "#form-search_result .error").text
            # the incident's refusal: closing while the clause still waits for the search result
            d.get(f"{stack.url}/incidents/{wf}/reports/closed#form-closed")
            form = wait(d, lambda: d.find_element("id", "form-closed"))
            form.find_element("name", "result").send_keys("对象已找到")
            form.find_element("name", "current_situation").send_keys("对象已到司法所报到")
            form.find_element("name", "measures_taken").send_keys("电话联系对象及家属")
            form.find_element("css selector", "button[type=submit]").click()
            wait(d, lambda: "报告未受理" in body(d))
            refusal = d.find_element("css selector", "#form-closed .error").text
            d.execute_script("arguments[0].scrollIntoView()", d.find_element("id", "form-closed"))
            shot(d, "board-refusal-phone.png")
            # a valid search result: 未查找到, by phone and field visit
            d.get(f"{stack.url}/incidents/{wf}/reports/search_result#form-search_result")
            form = wait(d, lambda: d.find_element("id", "form-search_result"))
            form.find_element("css selector", "input[name=found][value=false]").click()
            form.find_element("css selector", "input[name=methods][value=phone]").click()
            form.find_element("css selector", "input[name=methods][value=field_visit]").click()
            form.find_element("css selector", "button[type=submit]").click()
            wait(d, lambda: "报告已受理" in body(d))
            timeline = d.find_element("id", "timeline").text
            return field_error, refusal, timeline
        finally:
            d.quit()

    field_error, refusal, timeline = await asyncio.to_thread(browse)
    assert "是否查找到下落:必填" in field_error and "查找方式:至少选择或填写一项" in field_error
    assert refusal == "报告未受理:处置尚未完毕,还需报告:查找结果", refusal
    assert "收到报告[查找结果]" in timeline and "东城司法所 林晓东" in timeline and "001 §4(4)" in timeline
    st = await api.status(wf)
    report = [e for e in st.timeline if e.kind is EntryKind.REPORT and "查找结果" in e.text_zh]
    assert report and report[0].actor == "东城司法所 林晓东"


@needs_browser
async def test_the_duty_task_message_carries_the_link_that_opens_the_duty_and_one_tap_confirms_it(
        stack: Board, api: IncidentClient):
    """The duty sample's first duty (001 §4(1) 立即向公安“110”或执行地公安派出所报警, the 司法所's on-duty
    officer's phone call): its task in the outbox as the duty phone received it ends with the person's
    signed link; at 390 x 844 the link opens the duty, one tap confirms it, the register shows who and
    when; the same link is then refused, and so is an expired one."""
    record, link = stack.link("duty-alarm-110")
    assert record["recipient"] == "justice_office" and "【值班任务·电话】" in record["message_zh"]
    assert link.startswith(f"{stack.url}/d/")
    token = link.rsplit("/", 1)[1]
    assert "incident" not in token and "hy-" not in token  # nothing readable in the URL
    wf = stack.duty_sample()
    from web.config import secret_key
    from web.links import DutyLinks

    links = DutyLinks(secret_key(stack.var), stack.var / "board-used-links.json")
    claim = links.open(token)
    assert (claim.account_id, claim.duty_id, claim.namespace) == ("hy-dongcheng-duty", f"{wf}::duty/alarm-110", "default")
    st = await api.status(wf)
    [duty] = [d for d in st.duties if d.id == "alarm-110"]
    assert claim.expires_at == int((duty.due_at + timedelta(minutes=60)).replace(second=0, microsecond=0).timestamp())
    expired = f"{stack.url}/d/" + links.mint("hy-dongcheng-duty", f"{wf}::duty/on-site-office", "default",
                                             expires_at=int(time.time()) - 1)

    def browse() -> tuple[str, str, str, str, str, int]:
        d = driver(PHONE)
        try:
            d.get(link)
            wait(d, lambda: "立即向公安“110”或执行地公安派出所报警" in body(d) and "已电话联系" in body(d))
            page = body(d)
            width = d.execute_script("return document.documentElement.scrollWidth")
            shot(d, "board-duty-phone.png")
            who = d.find_element("name", "counterpart")
            who.clear()
            who.send_keys("110接警员")
            d.find_element("name", "note").send_keys("已报警,民警正赶赴现场")
            d.find_element("css selector", "button[name=how][value=phoned]").click()
            wait(d, lambda: "已确认" in body(d))
            done = body(d)
            shot(d, "board-duty-confirmed-phone.png")
            d.get(f"{stack.url}/board")  # a link signs in for its duty only
            board = d.current_url
            d.get(link)  # the same link a second time
            again = body(d)
            shot(d, "board-duty-link-used-phone.png")
            d.get(expired)
            return page, done, board, again, body(d), width
        finally:
            d.quit()

    page, done, board, again, late, width = await asyncio.to_thread(browse)
    assert "电话" in page and "公安“110”" in page and "剩余" in page and "四、(一)" in page, page
    assert width <= PHONE[0]
    assert "确认已记入事件记录(东城司法所 林晓东" in done
    assert "/login" in board
    assert "此链接已用于确认,不能再次使用" in again and "立即向公安“110”" not in again
    assert "链接无效或已过期" in late
    # the incident's register (001 §7(4)): the duty discharged on time, by whom and when
    acc = await api.accountability(wf)
    row = next(o for o in acc.obligations if o.id == "duty/alarm-110")
    assert row.status.value == "on_time" and row.how == "东城司法所 林晓东" and row.done_at is not None
    assert abs((datetime.now(UTC) - row.done_at).total_seconds()) < 120
    st = await api.status(wf)
    entry = [e for e in st.timeline if e.kind is EntryKind.DUTY_DONE and e.step == "duty-alarm-110"]
    assert len(entry) == 1 and entry[0].actor == "东城司法所 林晓东" and "已电话联系110接警员" in entry[0].text_zh
    # the same in the CLI an officer would use (python -m starter accountability), in a new shell
    follow = re.search(r"^\s*Follow it:\s+(.+) status \S+$", stack.printed, re.M)
    assert follow, stack.printed
    res = subprocess.run(["bash", "-c", f"{follow.group(1)} accountability {wf}"], cwd="/", env=user_env(),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "东城司法所 林晓东" in res.stdout and "立即向公安“110”" in res.stdout, res.stdout


@needs_browser
async def test_signed_in_on_a_phone_the_officer_discharges_the_sample_incidents_first_duty(
        stack: Board, api: IncidentClient):
    """The other way in, no CLI: the printed sign-in at 390 x 844, 我的待办, the sample incident's first duty
    (the arrival, 000 §4.3), one tap; the register shows it on time with the person and the time."""

    def browse() -> tuple[str, str]:
        d = driver(PHONE)
        try:
            sign_in(d, stack)
            d.get(f"{stack.url}/duties")
            item = wait(d, lambda: next(li for li in d.find_elements("css selector", "li.duty")
                                        if "须在30分钟内赶至指定地点,向指定人员报到" in li.text
                                        and li.find_elements("css selector", f"a[href='/incidents/{SAMPLE}']")))
            item.find_element("partial link text", "办理并确认").click()
            wait(d, lambda: "已到场报到" in body(d))
            d.find_element("css selector", "button[name=how][value=on_site]").click()
            wait(d, lambda: "已确认" in body(d))
            done = body(d)
            d.get(f"{stack.url}/incidents/{SAMPLE}")
            wait(d, lambda: "责任记录" in body(d))
            return done, body(d)
        finally:
            d.quit()

    done, page = await asyncio.to_thread(browse)
    assert "确认已记入事件记录(东城司法所 林晓东" in done
    st = await api.status(SAMPLE)
    arrived = [e for e in st.timeline if e.kind is EntryKind.REPORT and "到场报告" in e.text_zh]
    assert len(arrived) == 1 and arrived[0].actor == "东城司法所 林晓东"
    acc = await api.accountability(SAMPLE)
    row = next(o for o in acc.obligations if o.id == "deadline/arrival")
    assert row.status.value == "on_time" and row.done_at is not None
    assert "东城司法所 林晓东" in page


def _session(stack: Board, account: str, password: str) -> urllib.request.OpenerDirector:
    """A signed-in HTTP session (cookies, CSRF token from the form) without a browser."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{stack.url}/login").read().decode()
    found = re.search(r'name="_csrf" value="([^"]+)"', page)
    assert found, page
    csrf = found.group(1)
    from urllib.parse import urlencode

    opener.open(f"{stack.url}/login", urlencode({"_csrf": csrf, "account": account, "password": password,
                                                 "next": "/board"}).encode())
    return opener


def _status(opener, url: str, data: bytes | None = None) -> tuple[int, bytes]:
    try:
        with opener.open(url, data) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@needs_browser
async def test_another_bureaus_incident_is_unreachable(stack: Board, api: IncidentClient):
    _, password = stack.sign_in()

    def browse() -> tuple[str, str]:
        d = driver(DESKTOP)
        try:
            sign_in(d, stack, "gs-gongchen-duty", password)  # 拱墅区 (config/board-accounts.json)
            d.get(f"{stack.url}/board")
            wait(d, lambda: "拱墅区" in body(d))
            board = body(d)
            d.get(f"{stack.url}/incidents/{SAMPLE}")
            return board, body(d)
        finally:
            d.quit()

    board, page = await asyncio.to_thread(browse)
    assert SAMPLE not in board and "东城司法所" not in board
    assert "没有这个事件" in page and "东城街道" not in page
    other = _session(stack, "gs-gongchen-duty", password)
    assert _status(other, f"{stack.url}/incidents/{SAMPLE}")[0] == 404
    assert _status(other, f"{stack.url}/incidents/{SAMPLE}/report.pdf")[0] == 404
    own = _session(stack, *stack.sign_in())
    code, pdf = _status(own, f"{stack.url}/incidents/{SAMPLE}/report.pdf")
    assert code == 200 and pdf.startswith(b"%PDF")  # 书面报告, GB/T 9704 layout (starter/render.py)
    # a form posted without the session's CSRF token is refused
    code, _ = _status(own, f"{stack.url}/incidents/{SAMPLE}/reports/progress", b"current_situation=x")
    assert code == 403
    # a link bound to another namespace (another bureau) does not open
    from web.config import secret_key
    from web.links import DutyLinks

    links = DutyLinks(secret_key(stack.var), stack.var / "board-used-links.json")
    token = links.mint("hy-dongcheng-duty", f"{SAMPLE}::arrival", "bureau-gongshu", expires_at=int(time.time()) + 600)
    assert _status(urllib.request.build_opener(), f"{stack.url}/d/{token}")[0] == 403
    # no personal data and no link token in the logs
    out = (stack.var / "devstack.out").read_text(errors="replace")
    assert token not in out and stack.link()[1].rsplit("/", 1)[1] not in out  # the duty tasks' links neither
    for personal in ("李明轩", "13700000002", "331003199001011236", "13900000011", "13900000021"):
        assert personal not in out, personal


async def test_an_account_of_another_namespace_reaches_nothing_of_this_one(stack: Board, api: IncidentClient):
    """Issue 17's bureaus are namespaces: the board's client for an account is bound to its namespace,
    so an incident of another namespace is not found, even with the same county and a known id."""
    from google.protobuf.duration_pb2 import Duration
    from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest

    from infra import search_attributes as sa
    from plan.agencies import load_directory
    from web.config import Account
    from web.service import Board as BoardService, NotFound

    await api.client.workflow_service.register_namespace(RegisterNamespaceRequest(
        namespace="bureau-other", workflow_execution_retention_period=Duration(seconds=86400)))
    account = Account(id="other-duty", name="测试", unit="东城司法所", county="黄岩区", office="东城司法所",
                      namespace="bureau-other")
    board = BoardService(load_directory(), address=f"127.0.0.1:{stack.port}",
                         data_converter=data_converter(stack.env()))
    for _ in range(100):  # the new namespace reaches the frontend's cache
        try:
            await sa.register((await board.client("bureau-other")).client)
            break
        except Exception:
            await asyncio.sleep(0.2)
    with pytest.raises(NotFound):
        await board.incident(account, SAMPLE)
    assert await board.rows(account) == []
    assert await board.duty(account, f"{SAMPLE}::arrival") is None
    own = Account(id="own-duty", name="测试", unit="东城司法所", county="黄岩区", office="东城司法所")
    assert (await board.incident(own, SAMPLE)).row.workflow_id == SAMPLE  # the same code reaches its own


async def test_a_board_without_the_incidents_keys_says_so_in_one_line(stack: Board, tmp_path):
    """A board whose key file lacks the incident's key: 503 with a Chinese line, no traceback."""
    from aiohttp.test_utils import TestClient, TestServer
    from argon2 import PasswordHasher

    from infra.codec import add_key
    from web.app import build_app
    from web.config import Account, Accounts
    from web.service import Board as BoardService

    add_key(tmp_path / "other-keys.json", key_id="k-other")
    board = BoardService(None, address=f"127.0.0.1:{stack.port}",
                         data_converter=data_converter({"EMERGENCY_CODEC_KEYS_FILE": str(tmp_path / "other-keys.json")}))
    account = Account(id="hy-test-duty", name="测试", unit="东城司法所", county="黄岩区", office="东城司法所",
                      password_hash=PasswordHasher().hash("right-password-1"))
    app = build_app(Accounts(accounts=[account]), board, b"k" * 32, tmp_path / "used.json")
    async with TestClient(TestServer(app)) as client:
        page = await (await client.get("/login")).text()
        found = re.search(r'name="_csrf" value="([^"]+)"', page)
        assert found
        await client.post("/login", data={"_csrf": found.group(1), "account": account.id, "password": "right-password-1"})
        resp = await client.get(f"/incidents/{SAMPLE}")
        text = await resp.text()
    assert resp.status == 503 and "无法解密事件数据" in text and "Traceback" not in text, text
