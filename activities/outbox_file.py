"""Crash-safe JSON-lines files: the local outbox and the escalation fallback.

A record is one line, appended with a single ``os.write`` on an ``O_APPEND`` descriptor and fsync'd, so
two writers never interleave and a record is either whole or a torn tail (a crash, a full disk). A torn
tail (the bytes after the last newline) is detected before the next append, moved to
``<file>.quarantine`` and reported with one log line; it never blocks later deliveries. A complete line
that is not valid UTF-8 JSON is skipped when reading, never fatal. A write that could not be completed
(``ENOSPC``, ``EFBIG`` under ``ulimit -f``) is cut back to the last whole record and raises ``OSError``,
so the delivery fails and is retried by its activity instead of leaving half a record behind.

The escalation fallback (:func:`write_fallback`): when a notification to the emergency office itself
fails, or an escalation fails, the worker writes it to a second, independent path that shares nothing
with the failing channel: one ERROR log line with the fixed marker ``ESCALATION-FALLBACK`` and a record
in ``ESCALATION_FALLBACK_FILE`` (default ``var/escalations.jsonl``; put it on another disk).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("activities.outbox_file")

FALLBACK_MARKER = "ESCALATION-FALLBACK"
DEFAULT_FALLBACK_FILE = Path("var/escalations.jsonl")


def quarantine_path(path: Path) -> Path:
    return path.with_name(path.name + ".quarantine")


def repair_tail(fd: int, path: Path) -> int:
    """Cut a torn last record off the open file ``fd`` (under the caller's lock) and keep its bytes in
    ``<path>.quarantine``; returns the size of the file of whole records."""
    size = os.fstat(fd).st_size
    if size == 0:
        return 0
    end = os.pread(fd, 1, size - 1)
    if end == b"\n":
        return size
    # find the last newline, reading backwards in blocks
    pos, block = size, 64 * 1024
    last_nl = -1
    while pos > 0 and last_nl < 0:
        start = max(0, pos - block)
        chunk = os.pread(fd, pos - start, start)
        i = chunk.rfind(b"\n")
        if i >= 0:
            last_nl = start + i
        pos = start
    keep = last_nl + 1
    torn = os.pread(fd, size - keep, keep)
    with open(quarantine_path(path), "ab") as q:
        q.write(torn + b"\n")
        q.flush()
        os.fsync(q.fileno())
    os.ftruncate(fd, keep)
    os.fsync(fd)
    log.error("outbox: torn last record quarantined", file=str(path), bytes=len(torn),
              quarantine=str(quarantine_path(path)))
    return keep


def append_record(fd: int, record: dict[str, Any]) -> int:
    """Append one record as one line with a single write, fsync'd; returns the new size. A write that
    could not be completed is cut back to the last whole record and raises OSError."""
    data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    before = os.fstat(fd).st_size
    try:
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(28, f"short write ({written} of {len(data)} bytes)")
        os.fsync(fd)
    except OSError:
        try:
            os.ftruncate(fd, before)
        except OSError:
            pass  # the next append's repair_tail quarantines what is left
        raise
    return before + len(data)


def iter_records(fd: int, offset: int = 0) -> Iterator[tuple[dict[str, Any] | None, int]]:
    """Whole records from ``offset`` on, with the offset after each; a line that is not UTF-8 JSON
    yields None (skipped by callers), a torn tail is not read."""
    size = os.fstat(fd).st_size
    if offset >= size:
        return
    data = os.pread(fd, size - offset, offset)
    pos = 0
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            return
        line = data[pos:nl]
        pos = nl + 1
        if not line.strip():
            continue
        try:
            value = json.loads(line.decode("utf-8"))
            yield (value if isinstance(value, dict) else None), offset + pos
        except (UnicodeDecodeError, ValueError):
            yield None, offset + pos


def read_records(path: Path | str) -> list[dict[str, Any]]:
    """Every whole record of a file, in order (torn or foreign lines left out)."""
    p = Path(path)
    if not p.exists():
        return []
    fd = os.open(p, os.O_RDONLY)
    try:
        return [r for r, _ in iter_records(fd) if r is not None]
    finally:
        os.close(fd)


def fallback_file() -> Path:
    return Path(os.environ.get("ESCALATION_FALLBACK_FILE") or DEFAULT_FALLBACK_FILE)


def write_fallback(record: dict[str, Any], path: Path | None = None) -> None:
    """The emergency office's escalation when its own channel failed: an ERROR line with the fixed
    marker on stderr (the log collector), and a record in the fallback file. Never raises."""
    # the log line carries no message text (it may hold personal data): ids, step, recipient only
    brief = {k: record.get(k) for k in ("idempotency_key", "workflow_id", "step", "recipient", "at", "failed")}
    line = json.dumps(brief, ensure_ascii=False)
    try:
        print(f"{FALLBACK_MARKER} {line}", file=sys.stderr, flush=True)
    except Exception:
        pass
    log.error("escalation fallback", marker=FALLBACK_MARKER, workflow_id=record.get("workflow_id"),
              step=record.get("step"), recipient=record.get("recipient"))
    target = path or fallback_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)  # repair_tail reads the tail
        try:
            repair_tail(fd, target)
            append_record(fd, {"marker": FALLBACK_MARKER, **record})
        finally:
            os.close(fd)
    except OSError as err:
        log.error("escalation fallback file not written", file=str(target), error=str(err))
