"""The officer's view in the Temporal Web UI, on the stack exactly as ``./dev.sh up`` starts it.

``devstack.py`` runs as a subprocess with its defaults (payload encryption on, the codec server for
the UI, the sample incident from examples/C4.json); only the ports (free ones, the machine is shared)
and the state directory (``EMERGENCY_VAR_DIR``, a temporary one) differ. Headless Chromium (Debian
``chromium`` and ``chromium-driver``, driven by selenium) then:

- opens the sample incident's page: its input is shown decrypted (a Chinese place name of the example
  is visible) and there is no codec error banner;
- finds a running incident by a search-attribute filter and sees its Chinese summary.

Screenshots are kept in tests/artifacts/. The commands ``./dev.sh up`` prints are run pasted into a
clean shell. Browser tests are skipped only when chromium is absent outside CI; in CI they must run.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import pytest_asyncio
from helpers import ROOT, example

from devstack import free_port, port_open
from infra import search_attributes as sa
from infra.settings import connect, data_converter
from plan.models import IncidentInput
from starter.api import IncidentClient, summary_zh

pytestmark = pytest.mark.devserver
ARTIFACTS = ROOT / "tests" / "artifacts"
SAMPLE = "incident-C4-HY-20261123-0042"
PLACE = "东城街道永宁路"  # examples/C4.json's place, only in the (encrypted) input
BANNER = "Codec Server could not connect"


def _chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)
    return (browser, driver) if browser and driver else None


needs_browser = pytest.mark.skipif(
    _chromium() is None and not os.environ.get("CI"),
    reason="chromium / chromium-driver not installed (apt-get install chromium chromium-driver)",
)


class Stack:
    def __init__(self, var: Path, port: int, ui_port: int, codec_port: int, printed: str) -> None:
        self.var, self.port, self.ui_port, self.codec_port, self.printed = var, port, ui_port, codec_port, printed

    @property
    def ui(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"

    def env(self) -> dict[str, str]:
        return {"TEMPORAL_ADDRESS": f"127.0.0.1:{self.port}", "EMERGENCY_CODEC_KEYS_FILE": str(self.var / "codec-keys.json")}


def user_env(**extra: str) -> dict[str, str]:
    """The environment of an operator's shell: nothing of the test's (no keys, no insecure flag)."""
    return {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8", **extra}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    var = tmp_path_factory.mktemp("devstack-var")
    port, ui_port, codec_port = free_port(), free_port(), free_port()
    log = open(var / "devstack.out", "wb")
    # what `./dev.sh up` runs (exec .venv/bin/python devstack.py), in an operator's environment
    proc = subprocess.Popen(
        [sys.executable, "devstack.py", "--port", str(port), "--ui-port", str(ui_port), "--codec-port", str(codec_port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env=user_env(EMERGENCY_VAR_DIR=str(var), LOG_FORMAT="json"),
    )
    try:
        deadline = time.monotonic() + 90
        while "Task queue:" not in (var / "devstack.out").read_text(errors="replace"):
            assert proc.poll() is None, (var / "devstack.out").read_text(errors="replace")
            assert time.monotonic() < deadline, "devstack did not print its banner"
            time.sleep(0.3)
        while not port_open(ui_port):
            assert time.monotonic() < deadline, "the Web UI did not listen"
            time.sleep(0.3)
        yield Stack(var, port, ui_port, codec_port, (var / "devstack.out").read_text(errors="replace"))
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: worker drains, then the server stops
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest_asyncio.fixture(scope="module")
async def api(stack: Stack) -> IncidentClient:
    client = await connect(target_host=f"127.0.0.1:{stack.port}", data_converter=data_converter(stack.env()))
    return IncidentClient(client)


def printed_commands(banner: str) -> dict[str, str]:
    out = {}
    for label in ("Follow it", "Report arrival", "temporal CLI", "Notifications"):
        m = re.search(rf"^\s*{label}:\s+(.+)$", banner, re.M)
        assert m, f"{label!r} not printed:\n{banner}"
        out[label] = m.group(1).strip()
    return out


def test_the_printed_commands_work_pasted_into_a_new_shell(stack: Stack, tmp_path):
    """Issue 15: the follow-it commands carry the address and find the keys; no traceback."""
    cmds = printed_commands(stack.printed)
    results = {}
    for label, cmd in cmds.items():
        res = subprocess.run(["bash", "-c", cmd], cwd=tmp_path, env=user_env(), capture_output=True, text=True, timeout=60)
        assert res.returncode == 0 and "Traceback" not in res.stderr, f"{label}: {cmd}\n{res.stdout}\n{res.stderr}"
        results[label] = res.stdout
    assert SAMPLE in results["Follow it"] and "到场时限" in results["Follow it"]
    assert "WorkflowExecutionStarted" in results["temporal CLI"]
    assert "李明轩" in results["Notifications"]  # the outbox, decrypted for the operator
    assert "李明轩".encode() not in (stack.var / "outbox.jsonl").read_bytes()  # sealed at rest
    assert oct((stack.var / "outbox.jsonl").stat().st_mode & 0o777) == "0o600"
    # the same status in a shell without the address: one line naming what to set, no traceback
    res = subprocess.run([sys.executable, "-m", "starter", "status", SAMPLE], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60, env=user_env(EMERGENCY_VAR_DIR=str(stack.var), TEMPORAL_ADDRESS="127.0.0.1:9"))
    assert res.returncode == 1 and "TEMPORAL_ADDRESS" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    # an encrypted incident read without keys, plain text chosen: one line naming the keys, no traceback
    res = subprocess.run([sys.executable, "-m", "starter", "status", SAMPLE], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60, env=user_env(TEMPORAL_ADDRESS=f"127.0.0.1:{stack.port}",
                                                             EMERGENCY_INSECURE_PLAINTEXT="1",
                                                             EMERGENCY_VAR_DIR=str(tmp_path)))
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert "EMERGENCY_CODEC_KEYS_FILE" in res.stderr.splitlines()[-1]
    # keys, but not the one the incident was written with: one line naming the key id
    from infra.codec import add_key

    other = tmp_path / "other-keys.json"
    add_key(other, key_id="k-other")
    res = subprocess.run([sys.executable, "-m", "starter", "status", SAMPLE], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60, env=user_env(TEMPORAL_ADDRESS=f"127.0.0.1:{stack.port}",
                                                             EMERGENCY_CODEC_KEYS_FILE=str(other)))
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "which is not configured" in res.stderr


def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = _chromium()
    assert found, "chromium and chromium-driver must be installed in CI (apt-get install chromium chromium-driver)"
    browser, driver = found
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1400", "--lang=zh-CN"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path=driver), options=opts)


def _flat(text: str) -> str:
    """Page text without white space (the UI wraps long Chinese lines)."""
    return "".join(text.split())


def page_text(drv) -> str:
    """The page's text and that of its frames (the UI renders summary and details as Markdown in
    sandboxed iframes), and the values of code editors (the UI shows payloads in CodeMirror)."""
    parts = [drv.find_element("tag name", "body").text]
    parts += [e.get_attribute("textContent") or "" for e in drv.find_elements("css selector", ".cm-content, pre, code")]
    for frame in drv.find_elements("tag name", "iframe"):
        try:
            drv.switch_to.frame(frame)
            parts.append(drv.find_element("tag name", "body").text)
        finally:
            drv.switch_to.default_content()
    return "\n".join(parts)


def _wait_text(drv, text: str, timeout: float = 45.0) -> bool:
    from selenium.common.exceptions import WebDriverException

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if _flat(text) in _flat(page_text(drv)):
                return True
        except WebDriverException:  # the page is still loading
            time.sleep(0.1)
        time.sleep(0.5)
    return False


@needs_browser
async def test_the_sample_incident_page_shows_its_input_decrypted_and_no_codec_error(stack: Stack):
    def browse() -> tuple[bool, str]:
        drv = _driver()
        try:
            drv.get(f"{stack.ui}/namespaces/default/workflows/{SAMPLE}")
            seen = _wait_text(drv, PLACE)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            drv.save_screenshot(str(ARTIFACTS / "ui-incident-decrypted.png"))
            return seen, page_text(drv)
        finally:
            drv.quit()

    seen, page = await asyncio.to_thread(browse)
    assert BANNER not in page, page[:3000]
    assert seen, page[:3000]
    assert "binary/encrypted" not in page
    assert (ARTIFACTS / "ui-incident-decrypted.png").stat().st_size > 10_000


@needs_browser
async def test_officer_finds_a_running_incident_by_filter_and_reads_its_chinese_summary(stack: Stack, api: IncidentClient):
    office = f"浏览器{uuid.uuid4().hex[:4]}司法所"
    data = example("C4", alert_id=f"UI-{uuid.uuid4().hex[:6]}", jurisdiction={"county": "黄岩区", "justice_office": office})
    wf = (await api.start(data)).workflow_id
    query = sa.incident_query(justice_office=office, phase="open", running=True)
    for _ in range(100):  # visibility is eventually consistent
        if [w async for w in api.client.list_workflows(query)]:
            break
        await asyncio.sleep(0.1)
    summary = summary_zh(IncidentInput.model_validate(data))

    def browse() -> tuple[bool, bool, str]:
        drv = _driver()
        try:
            drv.get(f"{stack.ui}/namespaces/default/workflows?query={quote(query)}")
            listed = _wait_text(drv, wf)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            drv.save_screenshot(str(ARTIFACTS / "ui-incident-list.png"))
            drv.get(f"{stack.ui}/namespaces/default/workflows/{wf}")
            _wait_text(drv, "User Metadata")
            # UI 2.54 shows the summary and details (static and current) on the User Metadata tab
            drv.find_element("xpath", "//*[normalize-space(text())='User Metadata']").click()
            seen = _wait_text(drv, summary) and _wait_text(drv, "待办时限")
            drv.save_screenshot(str(ARTIFACTS / "ui-incident.png"))
            return listed, seen, page_text(drv)
        finally:
            drv.quit()

    listed, seen, page = await asyncio.to_thread(browse)
    assert listed, f"{wf} not listed by the filter {query}"
    assert seen and _flat(summary) in _flat(page), page[:3000]
    assert _flat("待办时限:到场时限 30分钟") in _flat(page)  # the pending deadline, from the current details
    assert BANNER not in page
    assert (ARTIFACTS / "ui-incident.png").stat().st_size > 10_000
