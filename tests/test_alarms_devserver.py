"""The alarm intake and the 日报 / 月通报 against a real dev server (visibility, search attributes).

- the platform's signed POST starts the alarm; the same alarm again is "already received" (one duty);
  a replayed request, a forged signature, a stale timestamp, an oversized body and an alarm id shaped
  like an ID number are refused, in Chinese and JSON, and the log never carries the subject's data;
- the daily report counts each outcome (received, verified on time, verified late, escalated, turned
  into incidents, harmless, pending), drills and other offices left out, run as an officer runs it
  (``python -m starter alarm-report`` in a new shell).

The bureau here is 拱墅's profile with ``alarm_verification`` of a few seconds (a local policy, typed in
the profile), so that an escalation happens in real time.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from activities.http import sign
from helpers import ROOT, dev_server_with_worker
from plan import alarms as al

pytestmark = pytest.mark.devserver

QUEUE = "alarm-devserver"
SECRET = b"platform-secret-for-tests-0123456789abcdef"
DUE_SECONDS = 20
OFFICE = "米市巷司法所"
REPORT_OFFICE = "大关司法所"
HERE = {"county": "拱墅区", "justice_office": REPORT_OFFICE}


def alarm(**overrides: Any) -> dict[str, Any]:
    data = json.loads((ROOT / "examples" / "alarms" / "out_of_bounds.json").read_text(encoding="utf-8"))
    data.update(alarm_id=f"PT-{uuid.uuid4().hex[:6]}-{uuid.uuid4().hex[:6]}", raised_at=datetime.now(UTC).isoformat(),
                bureau="alarmtest", jurisdiction={"county": "拱墅区", "justice_office": OFFICE})
    data.update(overrides)
    return data


def signed(body: dict[str, Any], *, secret: bytes = SECRET, ts: int | None = None,
           nonce: str | None = None) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps({"timestamp": int(time.time()) if ts is None else ts, "nonce": nonce or uuid.uuid4().hex,
                      **body}, ensure_ascii=False).encode()
    return raw, {"X-Signature-256": sign(secret, raw), "Content-Type": "application/json"}


@pytest_asyncio.fixture(scope="module")
async def stack(tmp_path_factory):
    import os

    from starter.alarm_server import AlarmServer

    tmp = tmp_path_factory.mktemp("alarms")
    bureaus = tmp / "bureaus"
    shutil.copytree(ROOT / "config" / "bureaus", bureaus)
    prof = json.loads((bureaus / "gongshu.json").read_text(encoding="utf-8"))
    prof.update(id="alarmtest", namespace="alarmtest", policy={"alarm_verification": DUE_SECONDS}, example=True)
    (bureaus / "alarmtest.json").write_text(json.dumps(prof, ensure_ascii=False), encoding="utf-8")
    saved = os.environ.get("EMERGENCY_BUREAUS_DIR")
    os.environ["EMERGENCY_BUREAUS_DIR"] = str(bureaus)
    try:
        async with dev_server_with_worker(tmp, QUEUE) as (server, client):
            async with AlarmServer(client, SECRET, port=0, queue=QUEUE) as intake:
                yield {"server": server, "client": client, "intake": intake, "tmp": tmp, "bureaus": bureaus}
    finally:
        if saved is None:
            os.environ.pop("EMERGENCY_BUREAUS_DIR", None)
        else:
            os.environ["EMERGENCY_BUREAUS_DIR"] = saved


async def post(intake, raw: bytes, headers: dict[str, str], path: str = "/alarms") -> httpx.Response:
    async with httpx.AsyncClient() as c:
        return await c.post(f"{intake.url}{path}", content=raw, headers=headers)


async def test_signed_intake_duplicate_replay_and_forgery(stack, capfd) -> None:
    from starter.alarms import AlarmClient

    intake = stack["intake"]
    data = alarm()
    raw, headers = signed({"alarm": data})
    r = await post(intake, raw, headers)
    assert r.status_code == 200, r.text
    body = r.json()
    wf = f"alarm-{data['alarm_id']}"
    assert body["ok"] and body["workflow_id"] == wf and body["already_received"] is False
    assert body["message_zh"].startswith(f"已接收报警,已向{OFFICE}值班人员派发初步核实任务")
    # the platform delivers it again (new request, new nonce): already received, nothing started
    raw2, headers2 = signed({"alarm": data})
    r2 = await post(intake, raw2, headers2)
    assert r2.status_code == 200 and r2.json()["already_received"] is True and "重复推送" in r2.json()["message_zh"]
    # the same request replayed: refused
    r3 = await post(intake, raw, headers)
    assert r3.status_code == 409 and r3.json()["message_zh"] == "重复的请求(nonce 已使用)"
    # forged: another secret, or the body changed after signing
    forged_raw, forged_headers = signed({"alarm": alarm()}, secret=b"x" * 40)
    r4 = await post(intake, forged_raw, forged_headers)
    assert r4.status_code == 401 and r4.json()["message_zh"] == "签名无效或请求已过期"
    tampered = raw2.replace(b'"out_of_bounds"', b'"signal_lost"')
    assert (await post(intake, tampered, headers2)).status_code == 401
    stale_raw, stale_headers = signed({"alarm": alarm()}, ts=int(time.time()) - 3600)
    assert (await post(intake, stale_raw, stale_headers)).status_code == 401
    big_raw, big_headers = signed({"alarm": alarm(detail="长" * 20000)})
    assert (await post(intake, big_raw, big_headers)).status_code == 413
    pii_raw, pii_headers = signed({"alarm": alarm(alarm_id="PT-331003199001011236")})
    r5 = await post(intake, pii_raw, pii_headers)
    assert r5.status_code == 400 and "ID-number-shaped" in r5.json()["error"] and "331003" not in r5.text
    assert (await post(intake, raw, headers, path="/other")).status_code == 404
    async with httpx.AsyncClient() as c:
        assert (await c.get(f"{intake.url}/alarms")).status_code == 405
    # one alarm, one duty
    alarms = AlarmClient(stack["client"], QUEUE)
    for _ in range(100):
        st = await alarms.status(wf)
        if st.duties:
            break
        await asyncio.sleep(0.1)
    assert [d.id for d in st.duties] == [al.VERIFY_DUTY]
    listed = await stack["client"].count_workflows(f"WorkflowId = '{wf}'")
    assert listed.count == 1
    out, err = capfd.readouterr()
    for secret_value in ("李明轩", "331003199001011236", "13700000002"):
        assert secret_value not in out + err


def cli(stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(stack["tmp"]),
           "TEMPORAL_ADDRESS": stack["server"].address, "TEMPORAL_TASK_QUEUE": QUEUE,
           "EMERGENCY_INSECURE_PLAINTEXT": "1", "EMERGENCY_BUREAUS_DIR": str(stack["bureaus"])}
    return subprocess.run([sys.executable, "-m", "starter", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


async def test_the_daily_report_counts_each_outcome(stack, tmp_path) -> None:
    """日报: A verified harmless on time, B turned into an incident on time, C verified late (escalated),
    D escalated and still open, E still within its due time; a drill and another office's alarm not counted."""
    from starter.alarms import AlarmClient, LOCAL

    alarms = AlarmClient(stack["client"], QUEUE)
    ids = {}
    for name, kind in (("A", "out_of_bounds"), ("B", "out_of_bounds"), ("C", "not_signed_in"),
                       ("D", "device_separation")):
        ids[name] = (await alarms.receive(alarm(kind=kind, jurisdiction=HERE))).workflow_id
    drill = (await alarms.receive(alarm(drill=True, jurisdiction=HERE))).workflow_id
    other = (await alarms.receive(alarm(jurisdiction={"county": "拱墅区", "justice_office": "小河司法所"}))).workflow_id
    await alarms.verify(ids["A"], finding="device_fault", result="手机没电,已充电恢复定位", actor=f"{REPORT_OFFICE} 值班员")
    await alarms.verify(ids["B"], finding="absconded", result="未请假,下落不明", actor=f"{REPORT_OFFICE} 值班员")
    await alarms.verify(drill, finding="false_alarm", result="演练", actor=f"{REPORT_OFFICE} 值班员")
    for wf in (ids["C"], ids["D"], other):
        for _ in range(200):
            if (await alarms.status(wf)).overdue:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"{wf} not overdue")
    await alarms.verify(ids["C"], finding="reported", result="已到司法所补签到", actor=f"{REPORT_OFFICE} 值班员")
    ids["E"] = (await alarms.receive(alarm(kind="signal_lost", jurisdiction=HERE))).workflow_id
    assert (await alarms.result(ids["B"])).incident == f"incident-C4-{ids['B']}"
    day = datetime.now(LOCAL).date().isoformat()
    want = {"received": 5, "verified_on_time": 2, "verified_late": 1, "escalated": 2, "incidents": 1, "harmless": 2,
            "pending": 2, "by_kind": {"out_of_bounds": 2, "not_signed_in": 1, "device_separation": 1, "signal_lost": 1}}
    for _ in range(100):  # visibility is eventually consistent
        counts = (await alarms.report(REPORT_OFFICE, day=datetime.now(LOCAL).date())).model_dump()
        if {k: counts[k] for k in want} == want:
            break
        await asyncio.sleep(0.1)
    # as officers run them, in new shells (at the same time: E must still be within its due time)
    run, zh, month, listing, register = await asyncio.gather(*(asyncio.to_thread(cli, stack, *a) for a in (
        ("alarm-report", "--office", REPORT_OFFICE, "--day", day, "--json"),
        ("alarm-report", "--office", REPORT_OFFICE, "--day", day),
        ("alarm-report", "--office", REPORT_OFFICE, "--month", day[:7], "--csv", str(tmp_path / "m.csv")),
        ("alarms", "--office", REPORT_OFFICE, "--overdue", "--json"),
        ("accountability", "--office", REPORT_OFFICE, "--json"),
    )))
    assert run.returncode == 0, run.stdout + run.stderr
    got = json.loads(run.stdout)
    assert {k: got[k] for k in want} == want
    assert zh.returncode == 0, zh.stderr
    assert zh.stdout.splitlines() == [
        f"{REPORT_OFFICE}信息化核查平台报警日报({day})",
        "接收报警:5 条(其中 越界 2 条、未签到 1 条、人机分离 1 条、定位信号中断 1 条)",
        "按时核实:2 条(按时核实率 40.0%)",
        "超时核实:1 条",
        "超时升级督办:2 条",
        "转为事件:1 条",
        "核实无异常关闭:2 条",
        "待核实:2 条",
    ]
    assert month.returncode == 0, month.stderr
    rows = (tmp_path / "m.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[1] == f"{REPORT_OFFICE},{day[:7]},5,2,1,2,1,2,2"
    assert sorted(r["workflow_id"] for r in json.loads(listing.stdout)) == sorted([ids["C"], ids["D"]])
    # 001 §7(4) across the office: each alarm's verification duty, D overdue (超时未报), C late (迟报)
    assert register.returncode == 0, register.stderr
    duty = {r["workflow_id"]: r["status"] for r in json.loads(register.stdout) if r["title_zh"].startswith("初步核实")}
    assert duty[ids["D"]] == "overdue" and duty[ids["C"]] == "late" and duty[ids["A"]] == "on_time"
    bad = cli(stack, "alarm-report", "--office", REPORT_OFFICE, "--day", "2026-13-01")
    assert bad.returncode == 2 and "不是日期" in bad.stderr and "Traceback" not in bad.stderr


async def test_the_readme_alarm_recipes_from_a_new_shell(stack, tmp_path) -> None:
    """README's recipes: receive from the example file, status, verify; a second receive is a no-op."""
    data = alarm(alarm_id=f"PT-{uuid.uuid4().hex[:8]}")
    path = tmp_path / "alarm.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    first = await asyncio.to_thread(cli, stack, "alarm-receive", str(path))
    assert first.returncode == 0, first.stderr
    wf = first.stdout.strip()
    assert wf == f"alarm-{data['alarm_id']}"
    again, status = await asyncio.gather(asyncio.to_thread(cli, stack, "alarm-receive", str(path)),
                                         asyncio.to_thread(cli, stack, "alarm-status", data["alarm_id"]))
    assert again.returncode == 0 and again.stdout.strip() == wf and "重复推送" in again.stderr
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[:2] == [f"{wf}  平台报警 越界  拱墅区{OFFICE}", "状态:待核实"]
    verify = await asyncio.to_thread(cli, stack, "alarm-verify", data["alarm_id"], "--finding", "leave_approved",
                                     "--result", "已电话联系,经批准请假外出", "--actor", f"{OFFICE} 孙立新")
    assert verify.returncode == 0 and verify.stdout.strip() == "已受理核实结果:经批准请假外出", verify.stderr
    late = await asyncio.to_thread(cli, stack, "alarm-verify", data["alarm_id"], "--finding", "false_alarm",
                                   "--result", "再次", "--actor", f"{OFFICE} 孙立新")
    assert late.returncode == 2 and "Traceback" not in late.stderr
    assert late.stderr.splitlines()[-1] == f"错误:报告未受理:alarm {wf}: already completed; its verification was already taken"
