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
    sources = sorted(WORKFLOWS_DIR.glob("*.py"))
    assert {p.name for p in sources} >= {"base.py", "c01_violence.py", "__init__.py"}
    assert [p.name for p in sources if not fresh_bytecode(p)] == []
