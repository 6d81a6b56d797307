"""Two bureaus side by side on one dev server (issue 17), as ``./dev.sh up`` runs them: one namespace
each, their own codec keys, one worker process serving both.

- a 拱墅 correction incident involving 黄岩区 starts a linked 协助配合 incident in 黄岩's namespace (001
  §5(1) 涉及其他县(市、区)的,应当及时通报相关县(市、区)司法行政机关协助配合), started once however often asked;
  黄岩's ``closed`` report on it shows on 拱墅's timeline;
- through the real codec server: 拱墅's token cannot decode 黄岩's payloads (refused for the namespace),
  and 拱墅's keys could not either (not its key); 黄岩's token decodes them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import pytest_asyncio
from helpers import ROOT

from plan.models import EntryKind

pytestmark = pytest.mark.devserver


def post(url: str, body: dict, headers: dict[str, str]) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


@pytest_asyncio.fixture
async def two_bureaus(tmp_path: Path):
    from devstack import DevServer, free_port
    from infra import search_attributes as sa
    from infra.codec_server import EmbeddedCodec
    from infra.settings import connect
    from worker import run_bureaus
    from plan.bureaus import profile

    saved = dict(os.environ)
    os.environ.pop("EMERGENCY_INSECURE_PLAINTEXT", None)  # encrypted, as ./dev.sh up runs
    for k in [k for k in os.environ if k.startswith(("EMERGENCY_CODEC_KEYS", "CODEC_SERVER_"))]:
        del os.environ[k]
    os.environ.update(EMERGENCY_VAR_DIR=str(tmp_path), EMERGENCY_OUTBOX=str(tmp_path / "outbox.jsonl"),
                      EMERGENCY_DRILL_OUTBOX=str(tmp_path / "drill.jsonl"), WATCH_INTERVAL_SECONDS="0")
    bureaus = [profile("huangyan"), profile("gongshu")]
    codec = EmbeddedCodec(tmp_path, free_port(), ["http://localhost:8233"], bureaus=[b.id for b in bureaus])
    server = DevServer(port=free_port(), ui_port=None, db_file=tmp_path / "temporal.db",
                       namespaces=[b.namespace for b in bureaus]).start()
    stop = asyncio.Event()
    try:
        plain = await connect(target_host=server.address, data_converter=__import__(
            "temporalio.converter", fromlist=["DataConverter"]).DataConverter.default)
        await sa.register(plain, namespace="huangyan")
        # 拱墅's attributes as an operator sets them up, per namespace, from a new shell
        import subprocess
        import sys

        setup = subprocess.run(
            [sys.executable, "-m", "starter", "--bureau", "gongshu", "setup-search-attributes"], cwd=ROOT,
            env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path),
                 "TEMPORAL_ADDRESS": server.address}, capture_output=True, text=True, timeout=60)
        assert setup.returncode == 0, setup.stdout + setup.stderr
        plain_gs = await connect(target_host=server.address, namespace="gongshu", data_converter=__import__(
            "temporalio.converter", fromlist=["DataConverter"]).DataConverter.default)
        assert await sa.registered(plain_gs)
        clients = {b.id: await connect(target_host=server.address, worker=True, bureau=b.id) for b in bureaus}
        task = asyncio.create_task(run_bureaus(bureaus, stop, clients=clients))
        yield server, codec, plain
        stop.set()
        await task
    finally:
        stop.set()
        server.stop()
        codec.stop()
        os.environ.clear()
        os.environ.update(saved)


async def _until(pred, timeout: float = 30.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        value = await pred()
        if value:
            return value
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.2)


async def test_gongshu_incident_involving_huangyan_runs_a_linked_incident_there(two_bureaus):
    from temporalio.service import RPCError

    from starter.api import IncidentClient

    server, codec, plain = two_bureaus
    gongshu = await IncidentClient.connect(bureau="gongshu", target_host=server.address)
    huangyan = await IncidentClient.connect(bureau="huangyan", target_host=server.address)
    assert (gongshu.client.namespace, huangyan.client.namespace) == ("gongshu", "huangyan")
    data = json.loads((ROOT / "examples/gongshu/C4.json").read_text(encoding="utf-8"))
    assert data["other_counties"] == ["黄岩区"]
    wf = (await gongshu.start(data)).workflow_id
    assist = f"assist-{wf}-0"

    async def started():
        try:
            return await huangyan.client.get_workflow_handle(assist).describe()
        except RPCError:
            return None

    desc = await _until(started)
    assert desc.workflow_type == "AssistCrossCounty"
    # the incident is 拱墅's: 黄岩's namespace has only the linked incident, not the incident itself
    with pytest.raises(RPCError):
        await huangyan.client.get_workflow_handle(wf).describe()

    # ---- codec isolation through the codec server (what the Web UI and the temporal CLI use)
    from temporalio.client import Client
    from temporalio.converter import DataConverter

    raw = await Client.connect(server.address, namespace="huangyan", data_converter=DataConverter.default)
    history = await raw.get_workflow_handle(assist).fetch_history()
    p = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert p.metadata["encoding"] == b"binary/encrypted"
    body = {"payloads": [{"metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                          "data": base64.b64encode(p.data).decode()}]}
    token = {b: (codec.bureau_tokens[b]).read_text().strip() for b in ("huangyan", "gongshu")}
    url = f"{codec.endpoint}/decode"
    status, out = await asyncio.to_thread(post, url, body, {"Authorization": f"Bearer {token['gongshu']}",
                                                            "X-Namespace": "huangyan"})
    assert status == 403 and "not permitted for this principal" in out["error"]
    status, out = await asyncio.to_thread(post, url, body, {"Authorization": f"Bearer {token['gongshu']}",
                                                            "X-Namespace": "gongshu"})
    assert status == 422 and "not configured" in out["error"]  # 拱墅's keys cannot decrypt 黄岩's payload
    status, out = await asyncio.to_thread(post, url, body, {"Authorization": f"Bearer {token['huangyan']}",
                                                            "X-Namespace": "huangyan"})
    assert status == 200
    decoded = json.loads(base64.b64decode(out["payloads"][0]["data"]))
    assert decoded["origin_workflow_id"] == wf and decoded["origin_bureau_zh"] == "杭州市拱墅区司法局"

    # ---- 黄岩's report on the linked incident appears on 拱墅's timeline
    await huangyan.report(assist, {"kind": "closed", "actor": "北城司法所 值班员", "result": "已协助找到对象",
                                   "current_situation": "对象已返回拱墅区", "measures_taken": ["实地查访"]})

    async def relayed():
        st = await gongshu.status(wf)
        return [e for e in st.timeline if e.kind is EntryKind.REPORT and e.actor.startswith("台州市黄岩区司法局")] or None

    [entry] = await _until(relayed)
    assert assist in entry.text_zh
    assert assist in (await gongshu.status(wf)).related

    async def relayed_up():  # and it goes where 001 §5(1) sends progress: up a level, by its name
        st = await gongshu.status(wf)
        return any("黄岩区协助配合完毕:已协助找到对象" in e.text_zh and e.text_zh.startswith("已通知杭州市社区矫正管理局")
                   for e in st.timeline if e.kind is EntryKind.NOTIFICATION)

    await _until(relayed_up)
    # the linked incident completed; asking again starts nothing new (idempotent: same id, completed)
    await huangyan.client.get_workflow_handle(assist).result()
    from activities.assist import Assist
    from activities.contracts import AssistRequest
    from temporalio.testing import ActivityEnvironment

    again = await ActivityEnvironment().run(
        Assist({"huangyan": huangyan.client}).start_assist,
        AssistRequest(assisting_bureau="huangyan", workflow_id=assist, input=decoded))
    assert again == assist
    runs = [w async for w in raw.list_workflows(f'WorkflowId = "{assist}"')]
    assert len(runs) == 1
