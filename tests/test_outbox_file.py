"""The local outbox is crash-safe (issue 13): a torn tail (a crash, a full disk) is quarantined and
reported, never fatal for later deliveries; a write that cannot complete leaves no half record; the
emergency office's escalation has a fallback path that does not share the failing channel.

Real files, and a real full disk: ``ulimit -f`` in a subprocess (the kernel refuses the write with
EFBIG, exactly what a full partition does to an append).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap

from activities import outbox_file
from activities.channels import Delivery, OutboxChannel, read_outbox
from activities.contracts import NotifyRequest
from activities.notify import is_escalation
from helpers import ROOT
from plan.agencies import Agency


def delivery(n: int, recipient: Agency = Agency.EMERGENCY_OFFICE, text: str = "事件通知") -> Delivery:
    req = NotifyRequest(
        idempotency_key=f"incident-L1-T/{n}/{recipient.value}", workflow_id="incident-L1-T", incident_type="L1",
        step=f"step-{n}", clause="000 §4.2", recipient=recipient, message_zh=f"{text}{n}", drill=False,
        jurisdiction=("东城司法所", "黄岩区"),
    )
    return Delivery(req, "区司法局应急办公室", "0576-00000000", "2026-12-01T10:00:00+00:00")


def test_a_torn_tail_mid_utf8_is_quarantined_and_later_deliveries_go_on(tmp_path):
    path = tmp_path / "outbox.jsonl"
    ch = OutboxChannel(path)
    assert asyncio.run(ch.deliver(delivery(1))) is False
    whole = (json.dumps({"idempotency_key": "x", "message_zh": "应急办公室"}, ensure_ascii=False)).encode()
    torn = whole[: whole.index("办".encode()) + 1]  # cut inside a three-byte character
    with open(path, "ab") as fh:
        fh.write(torn)
    # a fresh worker (process restart) and the same one both go on
    for channel in (OutboxChannel(path), ch):
        assert asyncio.run(channel.deliver(delivery(2))) in (False, True)
    assert asyncio.run(OutboxChannel(path).deliver(delivery(1))) is True  # still deduplicated
    records = read_outbox(path)
    assert [r["step"] for r in records] == ["step-1", "step-2"]
    assert path.read_bytes().endswith(b"\n")
    quarantined = (tmp_path / "outbox.jsonl.quarantine").read_bytes()
    assert quarantined == torn + b"\n"


def test_a_foreign_or_invalid_line_never_blocks_delivery(tmp_path):
    path = tmp_path / "outbox.jsonl"
    path.write_bytes(b'\xff\xfe not utf-8\n{"no key": 1}\n[1, 2]\n')
    assert asyncio.run(OutboxChannel(path).deliver(delivery(1))) is False
    assert [r["step"] for r in read_outbox(path) if "step" in r] == ["step-1"]


def test_disk_full_leaves_only_whole_records_and_deliveries_resume(tmp_path):
    path = tmp_path / "outbox.jsonl"
    script = textwrap.dedent(f"""
        import asyncio, sys
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}]
        from test_outbox_file import delivery
        from activities.channels import OutboxChannel
        ch = OutboxChannel({str(path)!r})
        n = 0
        try:
            for n in range(1, 1000):
                asyncio.run(ch.deliver(delivery(n, text="很长的通知内容" * 40)))
        except OSError as err:
            print("FULL", n, err.errno, flush=True)
    """)
    # 8 blocks of 512 bytes (POSIX sh) / 1 KiB (bash): either way a few records fit, then EFBIG
    res = subprocess.run(["bash", "-c", f"ulimit -f 8; exec {sys.executable} -c \"$0\"", script],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert "FULL" in res.stdout, res.stdout + res.stderr
    failed_at = int(res.stdout.split()[1])
    assert failed_at > 1
    assert path.read_bytes().endswith(b"\n")  # cut back to the last whole record
    assert len(read_outbox(path)) == failed_at - 1
    # space again: the failed delivery is retried by its activity and lands once; nothing was lost
    ch = OutboxChannel(path)
    assert asyncio.run(ch.deliver(delivery(failed_at))) is False
    assert asyncio.run(ch.deliver(delivery(1))) is True
    assert [r["step"] for r in read_outbox(path)] == [f"step-{i}" for i in range(1, failed_at + 1)]


def test_escalation_fallback_is_a_separate_path(tmp_path, capsys):
    target = tmp_path / "elsewhere" / "escalations.jsonl"
    req = delivery(3).request
    assert is_escalation(req)
    assert not is_escalation(delivery(4, Agency.COMMAND_CENTRE).request)
    outbox_file.write_fallback({"idempotency_key": req.idempotency_key, "workflow_id": req.workflow_id,
                                "step": req.step, "recipient": req.recipient.value,
                                "message_zh": req.message_zh}, path=target)
    err = capsys.readouterr().err
    assert outbox_file.FALLBACK_MARKER in err and req.workflow_id in err
    assert req.message_zh not in err  # the log line carries no message text
    [rec] = outbox_file.read_records(target)
    assert rec["marker"] == outbox_file.FALLBACK_MARKER and rec["message_zh"] == req.message_zh
    # a second escalation is appended to the same file (it read the tail of a write-only descriptor: EBADF)
    outbox_file.write_fallback({"idempotency_key": "k2", "workflow_id": "w2", "step": "s2"}, path=target)
    assert [r["idempotency_key"] for r in outbox_file.read_records(target)] == [req.idempotency_key, "k2"]
