"""The officer's view in the Temporal Web UI (issue 5): headless Chromium (Debian `chromium` and
`chromium-driver`, driven by selenium; no browser is downloaded) opens the dev server's UI, finds a
running incident by a search-attribute filter and sees its Chinese summary. A screenshot is kept in
tests/artifacts/. Skipped only when chromium is absent outside CI; in CI it must run."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest
import pytest_asyncio
from conftest import ROOT, example

from devstack import DevServer, free_port
from infra import search_attributes as sa
from infra.settings import connect
from plan.models import IncidentInput
from starter.api import IncidentClient, summary_zh
from worker import build_worker

pytestmark = pytest.mark.devserver
QUEUE = "browser-queue"
ARTIFACTS = ROOT / "tests" / "artifacts"


def _chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)
    return (browser, driver) if browser and driver else None


if _chromium() is None and not os.environ.get("CI"):
    pytest.skip("chromium / chromium-driver not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)


@pytest_asyncio.fixture(scope="module")
async def ui(tmp_path_factory) -> AsyncIterator[tuple[str, IncidentClient]]:
    tmp = tmp_path_factory.mktemp("browser")
    ui_port = free_port()
    server = DevServer(port=free_port(), ui_port=ui_port, db_file=tmp / "temporal.db").start()
    try:
        client = await connect(target_host=server.address)
        async with build_worker(client, queue=QUEUE, outbox=tmp / "outbox.jsonl", drill_outbox=tmp / "drill.jsonl"):
            yield f"http://127.0.0.1:{ui_port}", IncidentClient(client, QUEUE)
    finally:
        server.stop()


def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = _chromium()
    assert found, "chromium and chromium-driver must be installed in CI (apt-get install chromium chromium-driver)"
    browser, driver = found
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", "--lang=zh-CN"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path=driver), options=opts)


def _flat(text: str) -> str:
    """Page text without white space (the UI wraps long Chinese lines)."""
    return "".join(text.split())


def page_text(drv) -> str:
    """The page's text and that of its frames (the UI renders summary and details as Markdown in
    sandboxed iframes)."""
    parts = [drv.find_element("tag name", "body").text]
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


async def test_officer_finds_a_running_incident_by_filter_and_reads_its_chinese_summary(ui):
    base, api = ui
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
            drv.get(f"{base}/namespaces/default/workflows?query={quote(query)}")
            listed = _wait_text(drv, wf)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            drv.save_screenshot(str(ARTIFACTS / "ui-incident-list.png"))
            drv.get(f"{base}/namespaces/default/workflows/{wf}")
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
    assert (ARTIFACTS / "ui-incident.png").stat().st_size > 10_000
