"""The proof of issue 14: a scan for the subjects' personal data in every place it could leak, after a
full incident started through each door, and after a start without keys.

On a dev server with its SQLite file, the worker and the codec server as separate processes (JSON
logs at DEBUG), one C4 incident (fictitious subject, its own name, ID number, phones, address, family)
is started and driven through each door:

- ``cli``: ``python -m starter start`` and ``report``;
- ``sdk``: ``starter.api.IncidentClient`` (reports, a progress report naming the family contact, a
  refused report whose reason is a failure message);
- ``temporal``: ``temporal workflow start`` / ``signal`` with ``--codec-endpoint`` (the codec server
  encrypts).

Then ``python -m starter start`` without keys is refused. Scanned: the outbox, ``temporal workflow
list`` (table and JSON), the workflow ids, the search attributes, ``temporal workflow show`` and
``describe`` (failure messages included), the SQLite file with its WAL, the worker log and the codec
server log. Every place: 0 hits. The scan can fail: the codec recipe and the outbox reader do show
the data to an authorised officer.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import ROOT, example
from test_codec import scan

from activities.channels import read_outbox
from devstack import DevServer, free_port, port_open
from infra.codec import SM4_GCM, add_key
from infra.settings import connect, data_converter
from starter.api import IncidentClient, ReportRefused

pytestmark = pytest.mark.devserver

SUBJECTS = {  # fictitious people, one per door
    "cli": {"name": "张晓雨", "id_number": "330103199203034529", "phone": "13711110001",
            "address": "黄岩区北城街道青年路 12 号", "family": [{"name": "张国强", "relation": "父亲", "phone": "13711110002"}]},
    "sdk": {"name": "李明轩", "id_number": "331003199001011236", "phone": "13700000002",
            "address": "黄岩区东城街道永宁路 88 号", "family": [{"name": "李秀英", "relation": "母亲", "phone": "13700000003"}]},
    "temporal": {"name": "王慧敏", "id_number": "330104198805056620", "phone": "13722220001",
                 "address": "黄岩区西城街道劳动路 5 号", "family": [{"name": "王建军", "relation": "哥哥", "phone": "13722220002"}]},
    "alarm": {"name": "孙报警", "id_number": "330106199303030014", "phone": "13744440001",
              "address": "黄岩区东城街道报警路 9 号", "family": [{"name": "孙大伟", "relation": "父亲", "phone": "13744440002"}]},
    "no keys": {"name": "赵无钥", "id_number": "330105199107078831", "phone": "13733330001",
                "address": "黄岩区南城街道测试路 3 号", "family": []},
}


def needles(door: str) -> dict[str, str]:
    s = SUBJECTS[door]
    out = {"name": s["name"], "ID number": s["id_number"], "phone": s["phone"], "address": s["address"]}
    for f in s["family"]:
        out |= {"family name": f["name"], "family phone": f["phone"]}
    return out


def incident(door: str, alert: str) -> dict:
    data = example("C4", alert_id=alert)
    data["subject"] = {**data["subject"], **SUBJECTS[door]}
    return data


def user_env(**extra: str) -> dict[str, str]:
    return {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8", **extra}


async def test_no_personal_data_anywhere_after_each_door_and_a_start_without_keys(tmp_path):
    keys = tmp_path / "secrets" / "keys.json"  # not the dev stack's default place: a start without it has none
    add_key(keys, SM4_GCM)
    server = DevServer(port=free_port(), ui_port=None, db_file=tmp_path / "temporal.db").start()
    queue = "pii-" + uuid.uuid4().hex[:6]
    outbox = tmp_path / "outbox.jsonl"
    env = user_env(TEMPORAL_ADDRESS=server.address, TEMPORAL_TASK_QUEUE=queue, EMERGENCY_CODEC_KEYS_FILE=str(keys),
                   EMERGENCY_OUTBOX=str(outbox), EMERGENCY_DRILL_OUTBOX=str(tmp_path / "drill.jsonl"),
                   EMERGENCY_VAR_DIR=str(tmp_path), LOG_FORMAT="json", LOG_LEVEL="DEBUG")
    token = "writer-" + uuid.uuid4().hex
    codec_port = free_port()
    logs = {name: open(tmp_path / f"{name}.log", "wb") for name in ("worker", "codec server")}
    worker = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=logs["worker"], stderr=subprocess.STDOUT)
    codec = subprocess.Popen(
        [sys.executable, "-m", "infra.codec_server", "--port", str(codec_port)], cwd=ROOT, stdout=logs["codec server"],
        stderr=subprocess.STDOUT,
        env={**env, "CODEC_SERVER_TOKENS": json.dumps({"officer-scan": {"token": token, "permissions": ["decode", "encode"]}})})
    codec_env = {**env, "TEMPORAL_CODEC_ENDPOINT": f"http://127.0.0.1:{codec_port}", "TEMPORAL_CODEC_AUTH": f"Bearer {token}"}

    def run(args: list[str], e: dict[str, str] = env) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(args, cwd=ROOT, env=e, capture_output=True, timeout=90)

    def cli(*args: str, codec_on: bool = False) -> bytes:
        res = run(["temporal", *args, "--address", server.address], codec_env if codec_on else env)
        assert res.returncode == 0, res.stderr
        return res.stdout

    wfs: dict[str, str] = {}
    outputs: dict[str, bytes] = {}
    try:
        client = await connect(target_host=server.address, data_converter=data_converter(env))
        api = IncidentClient(client, queue)
        deadline = time.monotonic() + 30
        while not port_open(codec_port):
            assert codec.poll() is None and time.monotonic() < deadline, "codec server did not start"
            await asyncio.sleep(0.1)
        # door 1: the officers' CLI
        f = tmp_path / "cli.json"
        f.write_text(json.dumps(incident("cli", f"CLI-{uuid.uuid4().hex[:6]}"), ensure_ascii=False), encoding="utf-8")
        res = run([sys.executable, "-m", "starter", "start", str(f)])
        assert res.returncode == 0, res.stderr
        wfs["cli"] = res.stdout.decode().split()[0]
        res = run([sys.executable, "-m", "starter", "report", wfs["cli"], "arrived", "--actor", "北城司法所 值班员"])
        assert res.returncode == 0, res.stderr
        # door 2: the SDK
        wfs["sdk"] = (await api.start(incident("sdk", f"SDK-{uuid.uuid4().hex[:6]}"))).workflow_id
        await api.report(wfs["sdk"], {"kind": "arrived", "actor": "东城司法所 值班员"})
        await api.report(wfs["sdk"], {"kind": "progress", "actor": "东城司法所",
                                      "current_situation": "正在联系李秀英(13700000003)"})
        await api.report(wfs["sdk"], {"kind": "search_result", "actor": "东城司法所", "found": False, "methods": ["phone"]})
        with pytest.raises(ReportRefused):  # refused: its failure message is stored encrypted
            await api.report(wfs["sdk"], {"kind": "closed", "actor": "x", "result": "李明轩 331003199001011236",
                                          "current_situation": "x", "measures_taken": ["y"]})
        # door 3: the temporal CLI through the codec server
        wfs["temporal"] = f"incident-C4-TCLI-{uuid.uuid4().hex[:6]}"
        cli("workflow", "start", "--type", "C4AbscondFromSupervision", "--task-queue", queue, "--workflow-id",
            wfs["temporal"], "--input", json.dumps(incident("temporal", f"TCLI-{uuid.uuid4().hex[:4]}"), ensure_ascii=False),
            codec_on=True)
        cli("workflow", "signal", "--workflow-id", wfs["temporal"], "--name", "report",
            "--input", json.dumps({"kind": "arrived", "actor": "西城司法所 值班员"}, ensure_ascii=False), codec_on=True)
        # door 4: a platform alarm (issue 20), received and verified as absconding from the CLI: its C4 starts
        alarm = json.loads((ROOT / "examples" / "alarms" / "out_of_bounds.json").read_text(encoding="utf-8"))
        alarm.update(alarm_id=f"PT-{uuid.uuid4().hex[:8]}", raised_at=datetime.now(UTC).isoformat(),
                     subject={**alarm["subject"], **SUBJECTS["alarm"]})
        f = tmp_path / "alarm.json"
        f.write_text(json.dumps(alarm, ensure_ascii=False), encoding="utf-8")
        res = run([sys.executable, "-m", "starter", "alarm-receive", str(f)])
        assert res.returncode == 0, res.stderr
        alarm_wf = res.stdout.decode().split()[0]
        res = run([sys.executable, "-m", "starter", "alarm-verify", alarm["alarm_id"], "--finding", "absconded",
                   "--result", "未请假,孙大伟(13744440002)称其已外出", "--actor", "东城司法所 值班员"])
        assert res.returncode == 0, res.stderr
        wfs["alarm"] = f"incident-C4-{alarm_wf}"
        for door, wf in wfs.items():  # each reached its recipients (decrypted, for the officers)
            for _ in range(300):
                st = await api.status(wf)
                if sum(e.kind.value == "notification" for e in st.timeline) >= 2 and "arrived" not in st.waiting_for:
                    break
                await asyncio.sleep(0.1)
            assert SUBJECTS[door]["name"] in " ".join(e.text_zh for e in st.timeline), door
        # and a start without keys: refused before anything reaches Temporal
        f = tmp_path / "nokeys.json"
        alert = f"NOKEY-{uuid.uuid4().hex[:6]}"
        f.write_text(json.dumps(incident("no keys", alert), ensure_ascii=False), encoding="utf-8")
        refused = run([sys.executable, "-m", "starter", "start", str(f)],
                      {k: v for k, v in env.items() if k != "EMERGENCY_CODEC_KEYS_FILE"})
        assert refused.returncode == 2 and b"EMERGENCY_CODEC_KEYS_FILE" in refused.stderr
        outputs["refused start (stderr)"] = refused.stderr + refused.stdout
        # what an operator (or anyone with access to Temporal) sees without the codec
        outputs["workflow list"] = cli("workflow", "list", "--query", f"TaskQueue = '{queue}'")
        outputs["workflow list -o json"] = listing = cli("workflow", "list", "--query", f"TaskQueue = '{queue}'", "-o", "json")
        listed = [json.loads(line) for line in listing.splitlines() if line.strip()] if not listing.strip().startswith(b"[") \
            else json.loads(listing)
        assert len(listed) == 5, listing  # three doors, the alarm and its C4; nothing from the refused start
        outputs["workflow ids"] = "\n".join(w["execution"]["workflowId"] for w in listed).encode()
        outputs["search attributes"] = json.dumps([w.get("searchAttributes", {}) for w in listed], ensure_ascii=False).encode()
        assert b"IncidentJusticeOffice" in outputs["search attributes"]  # the scan reads them (CLI and SDK starts)
        for door, wf in wfs.items():
            outputs[f"workflow show -o json ({door})"] = cli("workflow", "show", "-w", wf, "-o", "json")
            outputs[f"workflow describe -o json ({door})"] = cli("workflow", "describe", "-w", wf, "-o", "json")
        outputs["workflow show -o json (alarm itself)"] = cli("workflow", "show", "-w", alarm_wf, "-o", "json")
        outputs["workflow describe -o json (alarm itself)"] = cli("workflow", "describe", "-w", alarm_wf, "-o", "json")
        assert b"AlarmJusticeOffice" in outputs["search attributes"]
        decoded = cli("workflow", "show", "-w", wfs["sdk"], "-o", "json", codec_on=True)
    finally:
        for p in (worker, codec):
            p.terminate()
            p.wait(30)
        for fh in logs.values():
            fh.close()
        server.stop()  # the SQLite file is checkpointed and closed
    places = {
        **outputs,
        "outbox file": outbox.read_bytes(),
        "sqlite file + WAL": b"".join(p.read_bytes() for p in tmp_path.glob("temporal.db*")),
        "worker log": (tmp_path / "worker.log").read_bytes(),
        "codec server log": (tmp_path / "codec server.log").read_bytes(),
    }
    hits = {(place, door): scan(blob, needles(door)) for place, blob in places.items() for door in SUBJECTS}
    table = {place: {door: len(hits[(place, door)]) for door in SUBJECTS} for place in places}
    print("\nPII scan (hits per place and door): " + json.dumps(table, ensure_ascii=False))
    print(f"scanned {sum(map(len, places.values()))} bytes in {len(places)} places, "
          f"{sum(len(v) for v in hits.values())} hits")
    assert {k: v for k, v in hits.items() if v} == {}
    # the scan can fail: an authorised officer does see the data
    assert scan(decoded, needles("sdk"))
    assert "name" in set(scan(json.dumps(read_outbox(outbox, data_converter(env).payload_codec),
                                                        ensure_ascii=False).encode(), needles("cli")))
    assert b"codec decode" in places["codec server log"] and b"codec encode" in places["codec server log"]
    assert b"notification delivered" in places["worker log"]
