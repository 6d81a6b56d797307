"""The first workflow task's cost (issue 19): the sandbox imports an incident's workflow module afresh
for every new run, so the worker makes sure that import reads cached bytecode instead of compiling the
source again, even where ``PYTHONDONTWRITEBYTECODE`` is set (the worker image sets it)."""

from __future__ import annotations

import importlib.util
import os
import struct
import sys
from pathlib import Path

import worker
from worker import WORKFLOWS_DIR, build_worker, cache_workflow_bytecode


def fresh_bytecode(source: Path) -> bool:
    """A ``__pycache__`` file importlib will use for ``source`` (its header names the source's mtime and size)."""
    pyc = Path(importlib.util.cache_from_source(str(source)))
    if not pyc.exists():
        return False
    head = pyc.read_bytes()[:16]
    flags, mtime, size = struct.unpack("<III", head[4:16])
    st = source.stat()
    return head[:4] == importlib.util.MAGIC_NUMBER and flags == 0 and mtime == int(st.st_mtime) & 0xFFFFFFFF \
        and size == st.st_size & 0xFFFFFFFF


def test_bytecode_is_written_although_python_is_told_not_to(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    module = tmp_path / "some_workflow.py"
    module.write_text("X = 1\n", encoding="utf-8")
    assert not fresh_bytecode(module)
    assert cache_workflow_bytecode(tmp_path)
    assert fresh_bytecode(module)


def test_stale_bytecode_is_rewritten(tmp_path, monkeypatch):
    monkeypatch.setattr(worker, "_bytecode_checked", set())
    module = tmp_path / "some_workflow.py"
    module.write_text("X = 1\n", encoding="utf-8")
    assert cache_workflow_bytecode(tmp_path)
    module.write_text("X = 22\n", encoding="utf-8")  # edited later: the cached file no longer matches
    later = module.stat().st_mtime + 10
    os.utime(module, (later, later))
    assert not fresh_bytecode(module)
    monkeypatch.setattr(worker, "_bytecode_checked", set())
    assert cache_workflow_bytecode(tmp_path)
    assert fresh_bytecode(module)


async def test_the_worker_leaves_every_workflow_module_compiled(env, monkeypatch, tmp_path):
    monkeypatch.setattr(worker, "_bytecode_checked", set())
    build_worker(env.client, queue="test-bytecode", outbox=tmp_path / "o.jsonl", drill_outbox=tmp_path / "d.jsonl")
    sources = sorted(WORKFLOWS_DIR.rglob("*.py"))  # the mechanics and procedures too: every run imports them
    assert {str(p.relative_to(WORKFLOWS_DIR)) for p in sources} >= {
        "base.py", "c01_violence.py", "__init__.py", "mechanics/notifier.py", "procedures/correction.py"}
    assert [p.name for p in sources if not fresh_bytecode(p)] == []


async def test_the_sdk_door_starts_eagerly_when_asked_beside_a_worker_of_its_own(harness, env):
    """``IncidentClient(..., eager_start=True)``: with a worker on the queue in this process on the same
    client (the session's), the first workflow task comes back with the start and the 110 call goes out
    from it; by default, and from a process without a worker, the start is the ordinary one."""
    import uuid

    from helpers import example
    from temporalio.client import Client

    from starter.api import IncidentClient

    def alert() -> dict:
        return example("C1", alert_id=f"T-{uuid.uuid4().hex[:6]}-{uuid.uuid4().hex[:6]}")

    eager = await IncidentClient(env.client, harness.queue, eager_start=True).start(alert())
    default = await harness.api.start(alert())
    other = await Client.connect(env.client.service_client.config.target_host, namespace=env.client.namespace,
                                 data_converter=env.client.data_converter)
    remote = await IncidentClient(other, harness.queue, eager_start=True).start(alert())
    started = [eager, default, remote]
    harness.started += [s.workflow_id for s in started]
    assert [s.eager for s in started] == [True, False, False]
    for s in started:
        await harness.until_step(s.workflow_id, "alarm-110", count=2)
    assert sorted(d["workflow_id"] for d in harness.outbox() if d["recipient"] == "police_110") == sorted(
        s.workflow_id for s in started)


async def test_first_tasks_have_more_than_one_poll_on_the_normal_queue(env, tmp_path):
    """Every new incident's first workflow task waits on the normal queue: the worker keeps 10 polls, half
    of them there (the SDK's default is 5 with one there, which bounded a burst: docs/benchmarks.md)."""
    w = build_worker(env.client, queue="test-polls", outbox=tmp_path / "o.jsonl", drill_outbox=tmp_path / "d.jsonl")
    cfg = w.main.config()
    assert cfg["workflow_task_poller_behavior"].maximum * cfg["nonsticky_to_sticky_poll_ratio"] == 5
    tuned = build_worker(env.client, queue="test-polls-tuned", outbox=tmp_path / "o.jsonl", drill_outbox=tmp_path / "d.jsonl",
                         worker_options={"nonsticky_to_sticky_poll_ratio": 0.2})
    assert tuned.main.config()["nonsticky_to_sticky_poll_ratio"] == 0.2  # benchmark experiments still override it


async def test_sandboxes_share_the_workflow_code_but_not_its_modules(monkeypatch):
    """``infra/workflow_code.py``: every new run's sandbox executes the workflow modules afresh (its own
    module objects, classes and globals, the sandbox's restricted ``datetime``) from code objects read
    once per process, the mechanics and procedures included."""
    import temporalio.workflow
    from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, _runner

    from infra import workflow_code
    from workflows.c01_violence import ViolentCrimeOrSelfHarm

    workflow_code.install()
    sandboxes: list[dict] = []
    create = _runner._Instance._create_instance

    def capture(self):
        create(self)
        sandboxes.append(dict(self.importer.new_modules))

    monkeypatch.setattr(_runner._Instance, "_create_instance", capture)
    runner = SandboxedWorkflowRunner()
    defn = temporalio.workflow._Definition.must_from_class(ViolentCrimeOrSelfHarm)
    runner.prepare_workflow(defn)
    runner.prepare_workflow(defn)
    one, two = sandboxes
    for name in ("workflows.base", "workflows.c01_violence", "workflows.mechanics.notifier", "workflows.procedures.correction"):
        assert one[name] is not two[name] and one[name] is not sys.modules.get(name), name
    base1, base2 = one["workflows.base"].IncidentWorkflow, two["workflows.base"].IncidentWorkflow
    assert base1 is not base2 and base1.__init__.__code__ is base2.__init__.__code__
    assert one["datetime"] is not sys.modules["datetime"]  # still the sandbox's restricted module
    cached = {str(p.relative_to(WORKFLOWS_DIR)) for p in workflow_code.cached_files() if WORKFLOWS_DIR in p.parents}
    assert {"base.py", "c01_violence.py", "mechanics/notifier.py", "procedures/correction.py"} <= cached
