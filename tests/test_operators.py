"""The operators' door (issue 5): search attributes, `python -m starter list/show/render/export`,
drills (000 §6.2, 001 §7(2)) and the SDK example — on the time-skipping server where time matters,
on a real dev server (with the attributes registered) where visibility and schedules matter."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from helpers import CLOSED, REVIEW, ROOT, Harness, dev_server_with_worker, example
from pypdf import PdfReader
from temporalio.common import TypedSearchAttributes

from devstack import DevServer
from infra import search_attributes as sa
from plan.models import DeadlineStatus, INCIDENT_INPUT_ADAPTER
from starter.api import IncidentClient
from starter.render import to_pdf
from workflows import workflow_type_name
from workflows.drill import DrillOutcome, DrillPlan, DrillStep

#: What 000 §4.2 asks a report to contain, as the written report heads it.
CONTENTS_4_2 = ["事件类型", "发生时间", "发生地点", "事件经过", "目前形势", "已采取的措施", "应急指挥机构负责人"]


# ---------------------------------------------------------------- rules without a server


def test_safe_rule_never_upserts_an_attribute_the_incident_did_not_start_with():
    wanted = {sa.INCIDENT_PHASE: "handled", sa.INCIDENT_DEADLINE_MISSED: True}
    assert sa.changed_updates(TypedSearchAttributes.empty, wanted) == []
    started = sa.for_incident(incident_type="C4", flow="urgent", county="黄岩区", justice_office="东城司法所",
                              drill=False, occurred_at=datetime(2026, 11, 23, tzinfo=UTC))
    names = [u.key.name for u in sa.changed_updates(started, wanted)]
    assert names == ["IncidentPhase", "IncidentDeadlineMissed"]
    assert sa.changed_updates(started, {sa.INCIDENT_PHASE: "open"}) == []  # unchanged: nothing sent


def test_no_personal_data_in_search_attributes():
    inp = INCIDENT_INPUT_ADAPTER.validate_python(example("C4"))
    from starter.api import search_attributes_of

    values = " ".join(str(p.value) for p in search_attributes_of(inp))
    subject = inp.subject
    assert subject is not None
    for personal in (subject.name, subject.id_number, subject.phone, subject.address, inp.reporter.name,
                     inp.commander.phone, inp.place):
        assert personal and personal not in values


def test_list_filters_build_the_officers_query():
    q = sa.incident_query(flow="urgent", justice_office="东城司法所", phase="open", deadline_missed=True)
    assert q == ("IncidentType IS NOT NULL AND IncidentFlow = 'urgent' AND IncidentJusticeOffice = '东城司法所' "
                 "AND IncidentPhase = 'open' AND IncidentDeadlineMissed = true")
    with pytest.raises(ValueError, match="IncidentCounty"):
        sa.incident_query(county="x' OR 1=1")


# ---------------------------------------------------------------- time-skipping server


async def test_incident_without_registered_attributes_is_not_wedged_by_a_missed_deadline(harness: Harness):
    """The time-skipping server has none of our attributes: the arrival deadline is missed, the
    workflow would upsert IncidentDeadlineMissed if it did not follow the safe rule, and wedge."""
    wf = await harness.start("C4")
    await harness.skip(timedelta(minutes=40))
    st = await harness.until(wf, lambda s: any(d.id == "arrival" and d.status is DeadlineStatus.MISSED
                                               for d in s.deadlines))
    receipt = await harness.report(wf, "arrived")  # the workflow still takes reports
    assert receipt is not None
    assert st.phase.value == "open"


def _drill_plan(queue_script: list[DrillStep], window: timedelta = timedelta(days=2)) -> DrillPlan:
    inp = INCIDENT_INPUT_ADAPTER.validate_python(example("C4", alert_id=None))
    return DrillPlan(workflow_type=workflow_type_name(inp.incident_type), incident_title_zh="社区矫正对象脱离监督管理",
                     incident=inp, script=queue_script, window=window)


async def test_drill_runs_the_incident_in_drill_mode_and_summarises_met_and_missed(harness: Harness, tmp_path):
    actor = {"actor": "东城司法所 演练值班员"}
    script = [
        DrillStep(after=timedelta(minutes=45), report={"kind": "arrived", **actor}),  # 30 min: missed
        DrillStep(report={"kind": "search_result", "found": True, "methods": ["phone"], **actor}),
        DrillStep(report={"kind": "punishment", "decision": "训诫", "actor": "社区矫正管理科"}),
        DrillStep(report={"kind": "closed", **CLOSED, **actor}),
        DrillStep(after=timedelta(hours=1), report={"kind": "review", **REVIEW, **actor}),
    ]
    wf_id = f"drill-test-{uuid.uuid4().hex[:8]}"
    out = await harness.env.client.execute_workflow(
        "DrillProgramme", _drill_plan(script), id=wf_id, task_queue=harness.queue, result_type=DrillOutcome
    )
    assert out.completed and out.incident_workflow_id == f"{wf_id}-C4"
    assert {s.stage for s in out.stages} >= {"prepare", "run", "summarise", "done"}
    assert any("到场时限" in m for m in out.missed), out.missed
    assert any("反馈时限" in m for m in out.met), out.met
    assert "【演练】" in out.summary_zh and "未按时完成:" in out.summary_zh and "到场时限" in out.summary_zh
    # the drill's incident ran in drill mode: its written report is marked, every message went to the drill outbox
    assert out.written_report_zh.startswith("【演练】")
    st = await IncidentClient(harness.env.client, harness.queue).status(out.incident_workflow_id)
    assert st.drill
    # the summary is a report like any other: rendered to PDF with its headings
    pdf = tmp_path / "drill.pdf"
    to_pdf([out.summary_zh, out.written_report_zh], pdf)
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "演练结论" in text and "时限落实情况" in text
    for heading in CONTENTS_4_2:
        assert heading in text, heading


async def test_drill_whose_incident_is_not_closed_in_its_window_counts_as_missed(harness: Harness):
    wf_id = f"drill-test-{uuid.uuid4().hex[:8]}"
    out = await harness.env.client.execute_workflow(
        "DrillProgramme", _drill_plan([], window=timedelta(hours=2)), id=wf_id, task_queue=harness.queue,
        result_type=DrillOutcome,
    )
    assert not out.completed
    assert out.missed == ["演练事件未在演练时限内办结"] and "视为未达标" in out.summary_zh


# ---------------------------------------------------------------- real dev server, attributes registered

QUEUE = "operators-queue"


class Stack:
    def __init__(self, server: DevServer, client) -> None:
        self.server = server
        self.client = client
        self.api = IncidentClient(client, QUEUE)
        self.env = {**os.environ, "TEMPORAL_ADDRESS": server.address, "TEMPORAL_TASK_QUEUE": QUEUE,
                    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    async def sh(self, script: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        res = await asyncio.to_thread(subprocess.run, ["bash", "-euo", "pipefail", "-c", script], cwd=ROOT,
                                      env=self.env, capture_output=True, text=True, timeout=120)
        if check and res.returncode != 0:
            raise AssertionError(f"{script}\nexit {res.returncode}\n{res.stdout}\n{res.stderr}")
        return res

    async def until_listed(self, query: str, count: int) -> list[str]:
        for _ in range(100):
            ids = [wf.id async for wf in self.client.list_workflows(query)]
            if len(ids) >= count:
                return ids
            await asyncio.sleep(0.1)
        raise AssertionError(f"{query}: {ids}")


@pytest_asyncio.fixture(scope="module")
async def stack(tmp_path_factory) -> AsyncIterator[Stack]:
    async with dev_server_with_worker(tmp_path_factory.mktemp("operators"), QUEUE) as (server, client):
        yield Stack(server, client)


pytestmark_dev = pytest.mark.devserver


@pytestmark_dev
async def test_list_filters_find_the_open_urgent_incident_with_a_missed_deadline(stack: Stack):
    office = f"测试{uuid.uuid4().hex[:4]}司法所"
    now = datetime.now(UTC)
    late = example("C4", alert_id=f"OPS-{uuid.uuid4().hex[:6]}", occurred_at=(now - timedelta(hours=1)).isoformat(),
                   jurisdiction={"county": "黄岩区", "justice_office": office},
                   dispatch={"designated_place": "东城司法所", "designated_person": "所长",
                             "at": (now - timedelta(minutes=45)).isoformat()})
    on_time = example("C4", alert_id=f"OPS-{uuid.uuid4().hex[:6]}", jurisdiction={"county": "黄岩区", "justice_office": office})
    general = example("L1", alert_id=f"OPS-{uuid.uuid4().hex[:6]}", jurisdiction={"county": "黄岩区", "justice_office": office},
                      flow="general")
    ids = [(await stack.api.start(d)).workflow_id for d in (late, on_time, general)]
    base = sa.incident_query(justice_office=office)
    await stack.until_listed(base, 3)
    # the missed arrival deadline is upserted by the workflow: the officer's filter finds only that one
    missed_q = sa.incident_query(justice_office=office, flow="urgent", phase="open", deadline_missed=True)
    assert await stack.until_listed(missed_q, 1) == [ids[0]]
    res = await stack.sh(f"python -m starter list --office {office} --flow urgent --status open --missed")
    assert ids[0] in res.stdout and ids[1] not in res.stdout and ids[2] not in res.stdout
    assert "超时" in res.stdout and "共 1 条" in res.stderr  # progress on stderr
    res = await stack.sh(f"python -m starter list --office {office} --flow general --json")
    assert [r["workflow_id"] for r in json.loads(res.stdout)] == [ids[2]]
    # the README filter as the Temporal CLI runs it
    res = await stack.sh(f"temporal workflow list --query \"{missed_q}\" -o json")
    assert ids[0] in res.stdout and ids[1] not in res.stdout


@pytestmark_dev
async def test_show_export_and_render_an_incident(stack: Stack, tmp_path):
    wf = (await stack.api.start(example("L1", alert_id=f"OPS-{uuid.uuid4().hex[:6]}"))).workflow_id
    res = await stack.sh(f"python -m starter show {wf}")
    assert "到场时限 30分钟" in res.stdout and "剩余 " in res.stdout  # countdown
    res = await stack.sh(f"python -m starter render {wf} --format md")
    assert "## 三、时限落实情况" in res.stdout and "处置进展" in res.stdout
    await stack.api.report(wf, {"kind": "arrived", "actor": "北城司法所 值班员"})
    await stack.api.report(wf, {"kind": "mediation_outcome", "actor": "人民调解组", "outcome": "agreement",
                                "summary": "已调解"})
    await stack.api.report(wf, {"kind": "closed", "actor": "北城司法所", **CLOSED})
    await stack.api.report(wf, {"kind": "aftermath_done", "actor": "区司法局应急办公室", "summary": "善后处置完毕"})
    await asyncio.wait_for(stack.api.outcome(wf), 30)
    res = await stack.sh(f"python -m starter export {wf} --format csv --out {tmp_path / 't.csv'}")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "t.csv").read_text(encoding="utf-8-sig"))))
    assert rows[0]["seq"] == "1" and {"actor", "clause", "text_zh"} <= set(rows[0])
    assert any(r["step"] == "written-report" for r in rows) and any(r["clause"] == "000 §4.2" for r in rows)
    res = await stack.sh(f"python -m starter export {wf} --format json")
    assert json.loads(res.stdout)["timeline"][0]["seq"] == 1
    pdf = tmp_path / "report.pdf"
    res = await stack.sh(f"python -m starter render {wf} --format pdf --out {pdf}")
    assert "生成 PDF" in res.stderr
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "书面报告" in text and "区社会应急联动指挥中心" in text
    for heading in CONTENTS_4_2:
        assert heading in text, heading
    res = await stack.sh(f"python -m starter render {wf} --format md --out {tmp_path / 'r.md'}")
    md = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert md.startswith("# 关于") and "## 二、发生时间" in md and "## 八、时限落实情况" in md
    # closed: the filter by status finds it as closed
    await stack.until_listed(sa.incident_query(phase="closed", incident_type="L1") + f" AND WorkflowId = '{wf}'", 1)


@pytestmark_dev
async def test_setup_search_attributes_is_idempotent(stack: Stack):
    res = await stack.sh("python -m starter setup-search-attributes")
    assert res.stdout.count("present") == len(sa.ALL_KEYS)  # the dev server flags registered them all


@pytestmark_dev
async def test_drill_schedule_is_created_yearly_and_refuses_less_than_yearly(stack: Stack):
    sid = f"drill-{uuid.uuid4().hex[:6]}"
    res = await stack.sh(f"python -m starter drill-schedule --every 365d --type C4 --id {sid}")
    assert f"已创建演练计划 {sid}" in res.stdout
    desc = await stack.client.get_schedule_handle(sid).describe()
    assert desc.schedule.spec.intervals[0].every == timedelta(days=365)
    assert desc.schedule.action.workflow == "DrillProgramme"
    res = await stack.sh(f"python -m starter drill-schedule --every 180d --type C4 --id {sid}")
    assert f"已更新演练计划 {sid}" in res.stdout
    desc = await stack.client.get_schedule_handle(sid).describe()
    assert desc.schedule.spec.intervals[0].every == timedelta(days=180)
    refused = await stack.sh(f"python -m starter drill-schedule --every 400d --id {sid}", check=False)
    assert refused.returncode == 2 and "每年至少一次" in refused.stderr
    refused = await stack.sh(f"python -m starter drill-schedule --type C99 --id {sid}", check=False)
    assert refused.returncode == 2 and "--type" in refused.stderr


@pytestmark_dev
async def test_sdk_example_runs_against_the_dev_server(stack: Stack):
    res = await stack.sh("python examples/sdk_example.py")
    out = res.stdout
    assert "started incident-L1-SDK-" in out and "arrival: met" in out and "refused:" in out


# ---------------------------------------------------------------- warnings (issue 20), as an officer types them


@pytestmark_dev
async def test_warning_recorded_listed_analysed_and_shown_through_the_cli(stack: Stack, tmp_path):
    """000 §4.1 及时发现事件苗头 … 及时预警: record a sign, find it in `warnings`, analyse it, see its level."""
    office = f"测试{uuid.uuid4().hex[:4]}司法所"
    data = json.loads((ROOT / "examples" / "warnings" / "huangyan-L1.json").read_text(encoding="utf-8"))
    data.update(bureau=None, sign_id=f"OPS-{uuid.uuid4().hex[:6]}")
    data["sign"]["jurisdiction"]["justice_office"] = office
    path = tmp_path / "sign.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    wf = (await stack.sh(f"python -m starter warn {path}")).stdout.strip()
    assert wf == f"warning-{data['sign_id']}"
    again = await stack.sh(f"python -m starter warn {path}")
    assert again.stdout.strip() == wf and "未重复登记" in again.stderr
    await stack.until_listed(sa.warning_query(justice_office=office, open_=True), 1)
    res = await stack.sh(f"python -m starter warnings --office {office} --open")
    assert wf in res.stdout and "待分析研判" in res.stdout and "预警编号" in res.stdout
    res = await stack.sh(f"python -m starter warning-report {wf} analysis --actor '黄岩区司法局应急办公室 值班员' "
                         "--set decision=warn --set level=yellow --set assessment=纠纷可能激化 "
                         "--set 'measures=[{\"kind\": \"educate\", \"what\": \"谈话教育\"}]'")
    assert "报告已受理" in res.stdout
    await stack.until_listed(sa.warning_query(justice_office=office, level="yellow"), 1)
    res = await stack.sh(f"python -m starter warnings --office {office} --level yellow")
    assert wf in res.stdout and "三级(黄色)预警" in res.stdout and "持续关注" in res.stdout
    res = await stack.sh(f"python -m starter warning-status {wf}")
    assert "状态:持续关注,落实管控措施" in res.stdout and "落实教育措施:谈话教育" in res.stdout
    refused = await stack.sh(f"python -m starter warning-report {wf} sign_closed --actor x --set result=y", check=False)
    assert refused.returncode == 2 and "verified" in refused.stderr
    desc = await stack.client.get_workflow_handle(wf).describe()
    summary = await desc.static_summary() or ""
    assert "预警" in summary and office in summary
    for personal in ("陈思远", "0576-84110001", "王建国", "13900000001"):
        assert personal not in json.dumps([str(p.value) for p in desc.typed_search_attributes], ensure_ascii=False)


@pytestmark_dev
async def test_screening_schedule_per_office_and_a_sign_found_opens_a_warning(stack: Stack):
    """001 §7(1) 定期排查分析社区矫正对象动态: a schedule per justice office; its period's record opens warnings."""
    from plan.policy import DEFAULT_POLICY

    office = f"排查{uuid.uuid4().hex[:4]}司法所"
    sid = f"screening-{uuid.uuid4().hex[:6]}"
    res = await stack.sh(f"python -m starter screening-schedule --county 拱墅区 --office {office} --responsible 王建国 "
                         f"--phone 13900000001 --id {sid} --trigger")
    assert f"已创建定期排查计划 {sid}" in res.stdout and "已立即开始一期排查" in res.stdout
    desc = await stack.client.get_schedule_handle(sid).describe()
    assert desc.schedule.spec.intervals[0].every == DEFAULT_POLICY.screening_interval
    assert desc.schedule.action.workflow == "ScreeningPeriod"
    [period] = await stack.until_listed(f"WorkflowType = 'ScreeningPeriod' AND IncidentJusticeOffice = '{office}'", 1)
    res = await stack.sh(f"python -m starter warning-report {period} --file examples/warnings/screening-record.json")
    assert "报告已受理" in res.stdout
    ids = await stack.until_listed(sa.warning_query(justice_office=office, open_=True), 1)
    assert ids == [f"{period}-sign-1"]
    # the period's record is in the office's 001 §7(4) register beside the incidents'
    res = await stack.sh(f"python -m starter accountability --office {office} --json")
    rows = [r for r in json.loads(res.stdout) if r["workflow_id"] == period]
    assert any(r["title_zh"] == "报送本期排查记录" and r["status"] == "on_time" for r in rows), rows
    await stack.client.get_schedule_handle(sid).delete()
