"""Delivery channels behind the one notification interface.

The embedded setup delivers to a durable local outbox (one JSON line per notification, fsync'd);
real channels (webhook, SMS, e-mail) plug in by implementing :class:`Channel`.

The outbox at rest: the file is created with mode 0600, and with payload keys configured (the
default) what a notification says (``message_zh``, ``recipient_name_zh``, ``recipient_phone``) is
sealed with the same keyring as the payloads (``sealed``: base64 of an encrypted payload); only the
routing fields (workflow id, step, recipient, clause, time) stay readable. Read it with

    python -m activities.outbox read var/outbox.jsonl        # keys found as everywhere else
"""

from __future__ import annotations

import asyncio
import base64
import fcntl
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from temporalio.api.common.v1 import Payload

from activities import outbox_file
from activities.contracts import NotifyRequest
from infra.codec import CodecConfigError, EncryptionCodec
from plan.queues import URGENT_RECIPIENTS

DEFAULT_OUTBOX = Path("var/outbox.jsonl")
DEFAULT_DRILL_OUTBOX = Path("var/drill-outbox.jsonl")
_FROM_ENV = object()

# Outbox writes (flock + fsync) run in threads; 110/120 have their own (issue 19). In a burst of
# incidents thousands of other deliveries queue for the threads, first in, first out, and a 110 call
# must not wait behind them (no notification waits on another): it waits at most for the writes that
# hold or wait for the file's lock. Shared by every outbox in the process (the lock is per file).
_WRITES = ThreadPoolExecutor(4, thread_name_prefix="outbox-write")
_URGENT_WRITES = ThreadPoolExecutor(2, thread_name_prefix="outbox-write-urgent")


@dataclass(frozen=True)
class Delivery:
    """A notification with its recipient resolved from the directory."""

    request: NotifyRequest
    recipient_name_zh: str
    recipient_phone: str
    delivered_at: str
    address: str | None = None
    """Where this channel delivers (phone, e-mail, URL); None = ``recipient_phone`` / the channel's own."""
    target_id: str = ""
    """The roster route this delivery goes to; with several routes per notification, each receiver
    dedupes on its own key (``<idempotency key>#<target id>``)."""

    @property
    def key(self) -> str:
        """The key this delivery carries to its receiver (headers and body), stable across retries."""
        k = self.request.idempotency_key
        return f"{k}#{self.target_id}" if self.target_id else k


class Channel(Protocol):
    """Delivers one notification. Returns True when the key had been delivered before."""

    name: str
    acknowledges: bool
    """True when the receiver calls back to confirm receipt (回执); the workflow then waits for it."""
    real: bool
    """True when it reaches people outside this system (webhook, SMS, e-mail): never used for a drill."""

    async def deliver(self, delivery: Delivery) -> bool: ...


def delivery_fields(delivery: Delivery) -> dict:
    """What every channel's record of a notification says (outbox line, webhook body)."""
    req = delivery.request
    return {
        "workflow_id": req.workflow_id,
        "incident_type": req.incident_type,
        "step": req.step,
        "clause": req.clause,
        "recipient": req.recipient.value,
        "recipient_name_zh": delivery.recipient_name_zh,
        "drill": req.drill,
        "message_zh": req.message_zh,
    }


class OutboxChannel:
    """Appends to a JSON-lines outbox file, at most once per idempotency key.

    Safe across processes (an exclusive ``flock`` while checking and appending) and across crashes
    (the line is fsync'd before the activity completes, so a retry finds it and does not add it again).
    """

    acknowledges = False  # nobody reads a local file and calls back
    real = False  # a local file: a drill sink

    def __init__(self, path: Path | str, name: str = "outbox", *, codec: EncryptionCodec | None | object = _FROM_ENV) -> None:
        self.path = Path(path)
        self.name = name
        self.codec = _codec_from_env() if codec is _FROM_ENV else codec
        """Seals each message (None: plain text, only when chosen with EMERGENCY_INSECURE_PLAINTEXT=1)."""
        self._keys: set[str] = set()
        self._offset = 0

    async def deliver(self, delivery: Delivery) -> bool:
        lane = _URGENT_WRITES if delivery.request.recipient in URGENT_RECIPIENTS else _WRITES
        return await asyncio.get_running_loop().run_in_executor(lane, self._append_once, delivery)

    def _append_once(self, delivery: Delivery) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "idempotency_key": delivery.key,
            "delivered_at": delivery.delivered_at,
            "channel": self.name,
            **delivery_fields(delivery),
            "recipient_phone": delivery.address or delivery.recipient_phone,
        }
        # Sealed at rest (message, name, phone encrypted with the payload keyring; file 0600) and crash-safe
        # (activities/outbox_file.py): one write per record, a torn tail quarantined.
        stored = seal(record, self.codec) if isinstance(self.codec, EncryptionCodec) else record
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.fchmod(fd, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = outbox_file.repair_tail(fd, self.path)
            self._read_new_keys(fd, size)
            if delivery.key in self._keys:
                return True
            self._offset = outbox_file.append_record(fd, stored)
            self._keys.add(delivery.key)
            return False
        finally:
            os.close(fd)  # releases the lock

    def _read_new_keys(self, fd: int, size: int) -> None:
        if size < self._offset:  # file replaced or truncated: start again
            self._keys.clear()
            self._offset = 0
        for rec, end in outbox_file.iter_records(fd, self._offset):
            if rec is not None and "idempotency_key" in rec:
                self._keys.add(rec["idempotency_key"])  # a torn or foreign line never blocks delivery
            self._offset = end


SEALED_FIELDS = ("recipient_name_zh", "message_zh", "recipient_phone")


def _codec_from_env() -> EncryptionCodec | None:
    from infra.codec import require_keyring

    ring = require_keyring()
    return EncryptionCodec(ring) if ring else None


def seal(record: dict, codec: EncryptionCodec) -> dict:
    """``record`` with its message fields replaced by ``sealed`` (encrypted with the active key)."""
    secret = {k: record[k] for k in SEALED_FIELDS if k in record}
    inner = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(secret, ensure_ascii=False).encode())
    sealed = base64.b64encode(codec.encrypt(inner).SerializeToString()).decode("ascii")
    return {**{k: v for k, v in record.items() if k not in SEALED_FIELDS}, "sealed": sealed}


def unseal(record: dict, codec: EncryptionCodec | None) -> dict:
    if "sealed" not in record:
        return record
    if codec is None:
        raise CodecConfigError("outbox: its messages are encrypted and no keys are configured "
                               "(set EMERGENCY_CODEC_KEYS_FILE; ./dev.sh up writes var/codec-keys.json)")
    inner = codec.decrypt(Payload.FromString(base64.b64decode(record["sealed"])))
    return {**{k: v for k, v in record.items() if k != "sealed"}, **json.loads(inner.data)}


def read_outbox(path: Path | str, codec: EncryptionCodec | None | object = _FROM_ENV) -> list[dict]:
    """Every whole delivery in an outbox file, in the order written, messages decrypted (operators, tests)."""
    lines = outbox_file.read_records(path)  # torn or foreign lines left out
    if codec is _FROM_ENV:
        from infra.codec import load_keyring

        ring = load_keyring() if any("sealed" in r for r in lines) else None
        codec = EncryptionCodec(ring) if ring else None
    return [unseal(r, codec) for r in lines]  # type: ignore[arg-type]
