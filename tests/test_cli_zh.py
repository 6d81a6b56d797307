"""The officers' CLI as a duty officer runs it from a new shell (`python -m starter ...`, only the
README's settings): Chinese by default, aligned CJK columns, quiet when piped, list-valued `--set`,
every filter value checked, `--address` / `--namespace` / `--profile`, `--json` stable and English-keyed."""

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
from helpers import CLOSED, ROOT, dev_server_with_worker, example
from wcwidth import wcswidth

from devstack import DevServer
from plan.labels import REPORT_KIND_ZH
from plan.models import REPORT_ADAPTER
from starter.api import IncidentClient

QUEUE = "cli-zh-queue"
BIN = str(Path(sys.executable).parent)
#: English codes an officer must never read in the Chinese output.
CODES = re.compile(r"\b(open|handled|urgent|general|pending|met|missed|late|on_time|waiting|subject_found|"
                   r"search_result|punishment|outbox|deadline_set|notification)\b")


def sh(script: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A new shell with only what the README says to set (PATH to the venv, TEMPORAL_*)."""
    base = {"PATH": f"{BIN}{os.pathsep}/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}
    return subprocess.run(["bash", "-o", "pipefail", "-c", script], cwd=ROOT, env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=120)


class Stack:
    def __init__(self, server: DevServer, client, keys: Path) -> None:
        self.server = server
        self.api = IncidentClient(client, QUEUE)
        # Only what the README says to set: the address, the queue and the key file (encrypted stack).
        self.env = {"TEMPORAL_ADDRESS": server.address, "TEMPORAL_TASK_QUEUE": QUEUE,
                    "EMERGENCY_CODEC_KEYS_FILE": str(keys)}

    async def sh(self, script: str, **env: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(sh, script, {**self.env, **env})


@pytest_asyncio.fixture(scope="module")
async def stack(tmp_path_factory) -> AsyncIterator[Stack]:
    tmp = tmp_path_factory.mktemp("cli-zh")
    keys = tmp / "codec-keys.json"  # encrypted, as ./dev.sh up ships it; the shell is given the key file
    subprocess.run([sys.executable, "-m", "infra.codec", "new-key", "--file", str(keys)], check=True, capture_output=True)
    async with dev_server_with_worker(tmp, QUEUE, keys_file=keys) as (server, client):
        yield Stack(server, client, keys)


def one_line_error(res: subprocess.CompletedProcess[str]) -> str:
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr and res.stderr.count("\n") == 1, res.stderr
    assert res.stderr.startswith("错误:"), res.stderr
    return res.stderr


# ---------------------------------------------------------------- without a server


@pytest.mark.parametrize("args,names", [
    ("list --type C99", ["--type", "'C99'", "不是事件类型", "C11"]),
    ("list --flow fast", ["--flow", "'fast'", "紧急处置流程"]),
    ("list --status done", ["--status", "处置中"]),
    ("list --office \"东城'所\"", ["--office", "引号"]),
    ("list --limit 0", ["--limit", "正整数"]),
    ("drill-schedule --type C99", ["--type", "不是事件类型"]),
    ("report x --json '{\"kind\": \"arrived\"' ", ["--json", "JSON"]),
    ("report x progress --actor a --set colour=red", ["--set colour", "处置进展(progress)没有此字段", "measures_taken"]),
    ("report x dance --actor a", ["'dance' 不是报告种类"]),
    ("status", ["缺少参数"]),
])
def test_bad_options_are_refused_in_one_chinese_line_naming_what_to_fix(args, names):
    err = one_line_error(sh(f"python -m starter {args}", {"TEMPORAL_ADDRESS": "127.0.0.1:1"}))
    for name in names:
        assert name in err, (name, err)


def test_filter_values_in_chinese_or_code_build_the_same_query():
    code = sh("python -m starter list --type c4 --flow urgent --status open --print-query")
    zh = sh("python -m starter list --type C4 --flow 紧急 --status 处置中 --print-query")
    assert code.returncode == zh.returncode == 0, code.stderr + zh.stderr
    assert code.stdout == zh.stdout
    assert "IncidentType = 'C4' AND IncidentFlow = 'urgent' AND IncidentPhase = 'open'" in code.stdout


def test_piped_into_a_reader_that_goes_away_exits_quietly():
    # `true` exits without reading: every write of the CLI meets a closed pipe (EPIPE)
    res = sh("python -m starter catalogue | true; echo \"exit ${PIPESTATUS[0]}\"")
    assert res.stdout.strip() == "exit 0" and res.stderr == "", res.stderr
    res = sh("python -m starter catalogue --json | head -c 1")
    assert res.returncode == 0 and res.stderr == "", res.stderr


def test_catalogue_columns_line_up_by_display_width():
    res = sh("python -m starter catalogue")
    rows = [r for r in res.stdout.splitlines() if re.match(r"^[LC]\d", r)]
    assert len(rows) == 15
    # the clause column starts at the same display column on every row, whatever the title's length
    starts = {wcswidth(r[: r.index(re.search(r"\d{3} §", r).group(0))]) for r in rows}  # type: ignore[union-attr]
    assert len(starts) == 1, starts


def test_every_report_kind_has_its_chinese_name():
    import typing

    from plan.models import Report

    kinds = {m.model_fields["kind"].annotation.__args__[0] for m in typing.get_args(typing.get_args(Report)[0])}
    assert kinds <= set(REPORT_KIND_ZH), kinds - set(REPORT_KIND_ZH)
    assert REPORT_ADAPTER is not None


def test_unknown_profile_is_named():
    err = one_line_error(sh("python -m starter --profile night-shift status x", {"TEMPORAL_ADDRESS": "127.0.0.1:1"}))
    assert "--profile night-shift" in err


# ---------------------------------------------------------------- against a dev server


@pytest.mark.devserver
async def test_status_is_chinese_and_aligned_and_json_stays_english(stack: Stack):
    wf = (await stack.api.start(example("C4", alert_id=f"ZH-{uuid.uuid4().hex[:6]}"))).workflow_id
    await stack.api.report(wf, {"kind": "arrived", "actor": "东城司法所 值班员"})
    res = await stack.sh(f"python -m starter status {wf}")
    out = res.stdout
    assert res.returncode == 0, res.stderr
    assert "状态:处置中" in out and "流程:紧急处置流程" in out, out
    assert "等待:查找到下落、查找结果" in out or "等待:查找结果" in out, out
    assert "按时完成" in out and "未到期" in out and "到场时限 30分钟" in out
    assert not CODES.findall(out.replace(wf, "")), CODES.findall(out.replace(wf, ""))
    # the deadline rows' columns line up by display width (CJK characters count two)
    rows = [r for r in out.splitlines() if "依据" in r and "到期" in r and r.startswith("  ") and "." not in r[:6]]
    assert len(rows) >= 2, out
    due = {wcswidth(r[: re.search(r"\d{4}年", r).start()]) for r in rows}  # type: ignore[union-attr]
    assert len(due) == 1, rows
    # --json: the service format, English codes, unchanged
    st = json.loads((await stack.sh(f"python -m starter status {wf} --json")).stdout)
    assert st["phase"] == "open" and st["flow"] == "urgent"
    assert {d["id"]: d["status"] for d in st["deadlines"]}["arrival"] == "met"


@pytest.mark.devserver
async def test_list_valued_set_takes_commas_brackets_and_repeated_flags(stack: Stack):
    wf = (await stack.api.start(example("L1", alert_id=f"ZH-{uuid.uuid4().hex[:6]}"))).workflow_id
    await stack.api.report(wf, {"kind": "arrived", "actor": "北城司法所"})
    # a refusal names the report kind in Chinese, on one line
    err = one_line_error(await stack.sh(f"python -m starter report {wf} arrived --actor 北城司法所"))
    assert "报告未受理(到场报告 arrived)" in err and "already reported" in err
    await stack.api.report(wf, {"kind": "mediation_outcome", "actor": "人民调解组", "outcome": "agreement",
                                "summary": "已调解"})
    res = await stack.sh(f"python -m starter report {wf} closed --actor 北城司法所 --set result=已平息 "
                         "--set current_situation=平稳 --set measures_taken=[疏导] --set 'measures_taken=劝离,警戒' "
                         "--set measures_taken=调解")
    assert res.returncode == 0, res.stderr
    await stack.api.report(wf, {"kind": "aftermath_done", "actor": "区司法局应急办公室", "summary": "善后处置完毕"})  # 000 §4.4
    out = await asyncio.wait_for(stack.api.outcome(wf), 30)
    assert out.closed is not None and out.closed.measures_taken == ["疏导", "劝离", "警戒", "调解"]
    assert "疏导、劝离、警戒、调解" in out.written_report_zh
    err = one_line_error(await stack.sh(f"python -m starter report {wf} arrived --actor 北城司法所"))
    assert "事件已结束,不再受理报告" in err, err


@pytest.mark.devserver
async def test_list_rows_are_chinese(stack: Stack):
    office = f"中文{uuid.uuid4().hex[:4]}司法所"
    wf = (await stack.api.start(example("C4", alert_id=f"ZH-{uuid.uuid4().hex[:6]}",
                                        jurisdiction={"county": "黄岩区", "justice_office": office}))).workflow_id
    for _ in range(100):
        res = await stack.sh(f"python -m starter list --office {office}")
        if wf in res.stdout:
            break
        await asyncio.sleep(0.2)
    row = next(r for r in res.stdout.splitlines() if wf in r)
    assert "处置中" in row and "紧急处置流程" in row and f"黄岩区{office}" in row and "运行中" in row, row
    assert not CODES.findall(row.replace(wf, "")), row
    rows = json.loads((await stack.sh(f"python -m starter list --office {office} --json")).stdout)
    assert rows[0]["IncidentPhase"] == "open" and rows[0]["execution_status"] == "RUNNING"


@pytest.mark.devserver
async def test_address_and_namespace_flags_override_the_environment(stack: Stack):
    wf = (await stack.api.start(example("L3", alert_id=f"ZH-{uuid.uuid4().hex[:6]}"))).workflow_id
    # the environment points nowhere: the flag decides, before or after the command
    for cmd in (f"python -m starter --address {stack.server.address} status {wf}",
                f"python -m starter status {wf} --address {stack.server.address}"):
        res = await stack.sh(cmd, TEMPORAL_ADDRESS="127.0.0.1:1")
        assert res.returncode == 0 and "状态:" in res.stdout, res.stderr
    res = await stack.sh(f"python -m starter status {wf} --namespace no-such-ns")
    assert res.returncode == 1 and "Traceback" not in res.stderr and "no-such-ns" in res.stderr, res.stderr


@pytest.mark.devserver
async def test_render_pdf_of_a_closed_incident_embeds_its_font(stack: Stack, tmp_path):
    wf = (await stack.api.start(example("L1", alert_id=f"ZH-{uuid.uuid4().hex[:6]}"))).workflow_id
    await stack.api.report(wf, {"kind": "arrived", "actor": "北城司法所"})
    await stack.api.report(wf, {"kind": "mediation_outcome", "actor": "人民调解组", "outcome": "agreement",
                                "summary": "已调解"})
    await stack.api.report(wf, {"kind": "closed", "actor": "北城司法所", **CLOSED})
    await stack.api.report(wf, {"kind": "aftermath_done", "actor": "区司法局应急办公室", "summary": "善后处置完毕"})  # 000 §4.4
    await asyncio.wait_for(stack.api.outcome(wf), 30)
    pdf = tmp_path / "书面报告.pdf"
    res = await stack.sh(f"python -m starter render {wf} --format pdf --out {pdf} "
                         "--doc-number '黄司报〔2026〕7号' --signer 王建国")
    assert res.returncode == 0, res.stderr
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(r.split()[-5] == "yes" for r in rows), fonts  # every font embedded
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "黄司报〔2026〕7号" in text and "签发人\uff1a王建国" in text and re.search(r"—\s*1\s*—", text)
