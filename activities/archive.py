"""The incident archive: what a long incident moves out of its state before it continues as new.

An incident that runs long (10,000 progress reports, weeks of daily contact) cannot carry its whole
timeline from run to run: the argument of a continued run is bounded (2 MB), and so is each run's
history. Before it continues as new, the workflow hands its older timeline entries, discharged
obligations and settled per-notification deadlines to the ``archive_records`` activity, which appends
them as one record to ``<EMERGENCY_ARCHIVE_DIR>/<workflow id>.jsonl`` (default ``var/archive``; put it
on the worker's persistent volume): crash-safe appends (``activities/outbox_file.py``), the content
sealed with the payload keys (personal data never in a plain file), idempotent on (workflow id, run).
``python -m starter archive ID`` reads it back, decrypted, for an officer or a reviewer (001 §7(4)).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.api.common.v1 import Payload

from activities.contracts import ArchiveRequest
from activities.outbox_file import append_record, iter_records, read_records, repair_tail
from infra.codec import EncryptionCodec

DEFAULT_ARCHIVE_DIR = Path("var/archive")


def archive_dir() -> Path:
    return Path(os.environ.get("EMERGENCY_ARCHIVE_DIR") or DEFAULT_ARCHIVE_DIR)


def archive_path(directory: Path, workflow_id: str) -> Path:
    """One file per incident; workflow ids carry no personal data (plan/ids.py)."""
    return directory / (re.sub(r"[^A-Za-z0-9_.-]", "_", workflow_id) + ".jsonl")


def _codec_from_env() -> EncryptionCodec | None:
    from infra.codec import require_keyring

    ring = require_keyring()
    return EncryptionCodec(ring) if ring else None


class Archive:
    def __init__(self, directory: Path | str | None = None, codec: EncryptionCodec | None | str = "env") -> None:
        self.directory = Path(directory) if directory is not None else archive_dir()
        self.codec = _codec_from_env() if codec == "env" else codec

    @activity.defn(name="archive_records")
    async def archive(self, req: ArchiveRequest) -> int:
        """Append the records once; returns how many timeline entries the archive holds for this run."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = archive_path(self.directory, req.workflow_id)
        body = json.dumps(
            {"timeline": req.timeline, "obligations": req.obligations, "deadlines": req.deadlines}, ensure_ascii=False
        ).encode("utf-8")
        if isinstance(self.codec, EncryptionCodec):
            sealed = self.codec.encrypt(Payload(metadata={"encoding": b"json/plain"}, data=body))
            content: dict[str, Any] = {"sealed": base64.b64encode(sealed.SerializeToString()).decode("ascii")}
        else:
            content = {"plain": json.loads(body)}
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            repair_tail(fd, path)
            for rec, _ in iter_records(fd):
                if rec and rec.get("run") == req.run and rec.get("workflow_id") == req.workflow_id:
                    return int(rec.get("entries", 0))  # an activity retried after it wrote: once only
            append_record(fd, {"workflow_id": req.workflow_id, "incident_type": req.incident_type, "run": req.run,
                               "first_seq": req.first_seq, "entries": len(req.timeline), **content})
        finally:
            os.close(fd)
        activity.logger.info("archived", extra={"workflow_id": req.workflow_id, "run": req.run,
                                                "entries": len(req.timeline)})
        return len(req.timeline)


def read_archive(workflow_id: str, directory: Path | None = None, codec: EncryptionCodec | None | str = "env") -> list[dict[str, Any]]:
    """Every archived part of an incident, in run order, decrypted: ``{"run", "timeline", "obligations", "deadlines"}``."""
    codec = _codec_from_env() if codec == "env" else codec
    path = archive_path(directory or archive_dir(), workflow_id)
    if not path.exists():
        return []
    parts = []
    for rec in read_records(path):
        if "sealed" in rec:
            if not isinstance(codec, EncryptionCodec):
                raise ValueError(f"{path}: sealed records; set EMERGENCY_CODEC_KEYS_FILE to read them")
            inner = codec.decrypt(Payload.FromString(base64.b64decode(rec["sealed"])))
            body = json.loads(inner.data)
        else:
            body = rec.get("plain", {})
        parts.append({"run": rec.get("run"), "first_seq": rec.get("first_seq"), **body})
    return sorted(parts, key=lambda p: p["run"] or 0)
