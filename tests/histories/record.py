"""Record the histories that ``tests/test_replay_histories.py`` replays: every workflow type, every branch.

    .venv/bin/python tests/histories/record.py            # rewrites tests/histories/*.json

Each scenario drives one incident to its end on the time-skipping test server (like the tests do) and
writes every run of it (continued-as-new runs, L4's child) as ``<scenario>[.<n>].json``. Re-record only
on purpose: the committed files are what running incidents look like today, and CI replays them against
the workflow code to catch a change that would break incidents already running (docs/operations.md).
The inputs are the fictitious examples in ``examples/``; histories are recorded without encryption.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent.parent)]

from helpers import AFTERMATH, REVIEW, Harness  # noqa: E402
from temporalio.client import WorkflowFailureError, WorkflowHistory  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from infra.binaries import test_server  # noqa: E402
from worker import build_worker  # noqa: E402

SECTION = "区司法局社区矫正管理科"
Step = tuple  # ("r", kind, fields) | ("skip", minutes) | ("close", fields) | ("review",)


def r(kind: str, **fields: Any) -> Step:
    return ("r", kind, fields)


def skip(minutes: float) -> Step:
    return ("skip", minutes)


def close(**fields: Any) -> Step:
    return ("close", fields)


def punish(decision: str = "训诫") -> Step:
    return r("punishment", decision=decision, actor=SECTION)


ARRIVED = r("arrived")
DUTIES = ("duties",)
"""The officers confirm every open duty of a person (issue 16: phoned, on_site, verified)."""

# name -> (example, start overrides, steps). Every branch of every clause (docs/clauses.md).
SCENARIOS: dict[str, tuple[str, dict[str, Any], list[Step]]] = {
    "L1-agreement-legal-support": ("L1", {}, [
        r("arrived", actor="人民调解组 调解员"), r("progress", current_situation="双方已坐下协商", measures_taken=["分别做思想工作"]),
        r("legal_support_requested", need="劳动报酬争议的法律适用解释"),
        r("mediation_outcome", outcome="agreement", summary="项目方承诺三日内支付"), close()]),
    "L1-general-no-agreement-late-feedback": ("L1", {"flow": "general", "dispatch": None}, [
        r("progress", current_situation="正在调解"), skip(25 * 60),
        r("mediation_outcome", outcome="no_agreement", summary="双方分歧较大"), close()]),
    "L1-dispatched-later-arrival-missed": ("L1", {"source": "citizen_request", "dispatch": None}, [
        r("dispatched", actor="区社会应急联动指挥中心", designated_place="工地门口", designated_person="北城司法所所长"),
        skip(31), ARRIVED, r("mediation_outcome", outcome="agreement", summary="已调解"), close()]),
    "L2-named-substantiated": ("L2", {}, [
        r("complaint_result", substantiated=True, findings="未签订书面委托合同即收费", action="责令退费",
                   actor="区司法局法律服务组"), close()]),
    "L2-anonymous-unsubstantiated": ("L2", {"complainant": None}, [
        r("complaint_result", substantiated=False, findings="查无实据", action="答复举报人", actor="区司法局法律服务组"), close()]),
    "L3-granted": ("L3", {}, [r("aid_decision", granted=True, reason="符合法律援助条件"), close()]),
    "L3-refused": ("L3", {}, [r("aid_decision", granted=False, reason="不符合经济困难标准"), close()]),
    "L3-drill": ("L3", {"drill": True}, [r("aid_decision", granted=True, reason="演练"), close()]),
    "L4-handed-over-to-C4": ("L4", {}, [
        ("child", "C4", [ARRIVED, r("search_result", found=True, methods=["phone"]), punish(), close(), ("review",)])]),
    "L4-released-prisoner-resettlement": ("L4", {"l4": {"person": "released_prisoner"}, "subject": None,
                                                 "place": "北城街道办事处"}, [
        ARRIVED, r("resettlement", measures=["落实临时住所"], actor="区司法局社区矫正组"), close()]),
    "C1-no-casualties": ("C1", {}, [ARRIVED, r("handled", crime_suspected=False), punish(), close(), ("review",)]),
    "C1-major-casualties-crime-release": ("C1", {"major": True, "casualties": True}, [
        r("plan_decision", decision="activate"), r("command_set", commander="区司法局局长",
                                                   groups={"onsite_handling": "现场处置组", "medical": "医疗救护组"}),
        r("release", action="draft", content="通报"), r("release", action="reject", department="区委宣传部"),
        r("release", action="draft", content="通报(修改)"), r("release", action="approve", department="区委宣传部"),
        r("release", action="publish"), ARRIVED, r("handled", crime_suspected=True), punish("提请撤销缓刑"),
        r("plan_decision", decision="terminate"), close(), ("review",), r("progress", current_situation="善后处置")]),
    "C1-casualties-reported-later": ("C1", {}, [
        ARRIVED, r("casualties", injured=2), r("casualties", injured=0, dead=1), r("handled", crime_suspected=False),
        punish(), close(), ("review",)]),
    "C2-persuaded": ("C2", {}, [ARRIVED, r("persuasion", complied=True), punish(), close(), ("review",)]),
    "C2-not-persuaded": ("C2", {}, [ARRIVED, r("persuasion", complied=False), punish("警告"), close(), ("review",)]),
    "C3-handled": ("C3", {}, [ARRIVED, r("handled"), punish(), close(), ("review",)]),
    "C3-claims-crime": ("C3", {}, [ARRIVED, r("handled", claims=["宅基地确权纠纷", "低保资格复核"]), punish(),
                                  r("claim_handled", claim=1, studied_by=SECTION, outcome="已转请街道依法确权"),
                                  r("claim_handled", claim=2, studied_by="东城司法所", outcome="已协调民政部门复核"),
                                  close(), ("review",)]),
    "C4-found-at-once": ("C4", {}, [ARRIVED, r("search_result", found=True, methods=["phone", "information_system"]),
                                   punish(), close(), ("review",)]),
    "C4-search-failed-found-later": ("C4", {}, [
        ARRIVED, r("search_result", found=False, methods=["phone", "information_system", "field_visit"]),
        r("subject_found", urgent=False), punish("警告"), close(), ("review",)]),
    "C4-risk-urgent-found": ("C4", {}, [
        ARRIVED, r("search_result", found=False, methods=["field_visit"], risk_of_serious_incident=True),
        r("search_result", found=False, methods=["phone"]), r("subject_found", urgent=True), punish("提请撤销缓刑"),
        close(), ("review",)]),
    "C4-risk-before-search": ("C4", {}, [
        ARRIVED, r("risk", situations=["C1"], grounds="对象曾扬言报复被害人"),
        r("search_result", found=True, methods=["phone"]), punish("警告"), close(), ("review",)]),
    "C5-persuaded": ("C5", {}, [ARRIVED, r("persuasion", complied=True), punish(), close(), ("review",)]),
    "C5-not-persuaded": ("C5", {}, [ARRIVED, r("persuasion", complied=False), punish("警告"), close(), ("review",)]),
    "C6-police-verified": ("C6", {}, [
        ARRIVED, r("police_requested", reason="死因不明"), r("death_verification", verified=True, actor=SECTION),
        close(), ("review",)]),
    "C6-not-verified": ("C6", {}, [
        ARRIVED, r("death_verification", verified=False, note="家属称对象外出务工"), close(), ("review",)]),
    "C7-subject-died": ("C7", {}, [
        ARRIVED, r("activity_stopped"), r("site_inspection", findings="护栏松动,已设警戒"),
        r("casualty_outcome", subject_died=True, summary="抢救无效死亡"), close(), ("review",)]),
    "C7-injured": ("C7", {}, [
        ARRIVED, r("activity_stopped"), r("site_inspection", findings="设施完好"),
        r("casualty_outcome", subject_died=False, summary="轻伤"), close(), ("review",)]),
    "C8-heeded-at-centre": ("C8", {}, [
        ARRIVED, r("persuasion", complied=True), r("handled"), punish(), close(), ("review",)]),
    "C8-equipment-at-justice-office": ("C8", {"at_justice_office": True, "place": "东城司法所办公场所"}, [
        ARRIVED, r("persuasion", complied=False, equipment_used=True), r("handled"), punish("警告"), close(),
        ("review",)]),
    "C9-S1": ("C9-S1", {}, [r("transfer_done"), r("others_released"),
                            close(), ("review",)]),
    "C9-S2": ("C9-S2", {}, [r("cleared", summary="已转运"), close(), ("review",)]),
    "C9-S3-continued-as-new": ("C9-S3", {}, [("days", 8, {3}), r("cleared", summary="健康码转绿"), close(),
                                             ("review",)]),
    "C9-S4": ("C9-S4", {}, [r("screening_result", result="均已排查,核酸阴性"), r("cleared", summary="转绿"),
                            close(), ("review",)]),
    # duties of people (issue 16): histories with the workflow.patched("duties-of-people") marker
    "C1-duties-casualties": ("C1", {"casualties": True}, [
        ARRIVED, DUTIES, r("casualties", injured=1), DUTIES, r("handled", crime_suspected=False), punish(), close(),
        ("review",)]),
    "C1-duty-escalated-then-phoned": ("C1", {}, [ARRIVED, skip(95), DUTIES, r("handled"), punish(), close(), ("review",)]),
    "C6-duty-verified": ("C6", {}, [ARRIVED, DUTIES, r("death_verification", verified=True, actor=SECTION), close(),
                                    ("review",)]),
    "C7-duties": ("C7", {}, [ARRIVED, DUTIES, r("activity_stopped"), r("site_inspection", findings="设施完好"),
                             r("casualty_outcome", subject_died=False, summary="轻伤"), close(), ("review",)]),
    "C2-not-persuaded-duty": ("C2", {}, [ARRIVED, r("persuasion", complied=False), DUTIES, punish("警告"), close(),
                                         ("review",)]),
    "C8-at-justice-office-duties": ("C8", {"at_justice_office": True, "place": "东城司法所办公场所"}, [
        ARRIVED, r("persuasion", complied=False), r("handled"), DUTIES, punish(), close(), ("review",)]),
    "C10-refused-duties": ("C10", {}, [ARRIVED, r("persuasion", complied=False), DUTIES,
                                       r("handled", actor="东城派出所 民警"), punish("警告"), close(), ("review",)]),
    "C9-S4-duties": ("C9-S4", {}, [r("screening_result", result="均已排查,核酸阴性"), DUTIES, r("cleared", summary="转绿"),
                                   close(), ("review",)]),
    # issue 16, the rest: C6's 必要时 110, C11's 110 per request, C4's search and bring-back, C9 情形三's daily call
    "C6-police-duty": ("C6", {}, [ARRIVED, r("police_requested", reason="死因不明"), DUTIES,
                                  r("death_verification", verified=True, actor=SECTION), close(), ("review",)]),
    "C11-police-duties": ("C11", {}, [
        ARRIVED, r("police_requested", reason="扬言报复"), r("police_requested", reason="再次冲击"), DUTIES,
        r("handled", actor="东城派出所 民警"), punish("警告"), close(), ("review",)]),
    "C4-search-duty-found": ("C4", {}, [ARRIVED, r("search_result", found=True, methods=["phone"]), punish(), close(),
                                        ("review",)]),
    "C4-search-duty-missed-bring-back": ("C4", {}, [
        ARRIVED, skip(95), r("search_result", found=False, methods=["field_visit"], risk_of_serious_incident=True),
        r("subject_found", urgent=True), DUTIES, punish("提请撤销缓刑"), close(), ("review",)]),
    "C9-S3-daily-duties": ("C9-S3", {}, [DUTIES, ("duty-days", 8, {3}), r("cleared", summary="健康码转绿"), close(),
                                         ("review",)]),
    "C10-contact-duty-refused": ("C10", {}, [ARRIVED, DUTIES, r("persuasion", complied=False), DUTIES,
                                             r("handled", actor="东城派出所 民警"), punish("警告"), close(), ("review",)]),
    "C10-complied": ("C10", {}, [ARRIVED, r("persuasion", complied=True), punish("警告"), close(), ("review",)]),
    "C10-refused-police": ("C10", {}, [ARRIVED, r("persuasion", complied=False), r("handled", actor="东城派出所 民警"),
                                      punish("提请撤销缓刑"), close(), ("review",)]),
    "C11-handled": ("C11", {}, [ARRIVED, r("handled"), punish("不予处罚"), close(), ("review",)]),
    "C11-police-twice": ("C11", {}, [
        ARRIVED, r("coordinate", departments=["police_station", "petition_office"], request="协助稳控对象情绪"),
        r("police_requested", reason="扬言报复"), r("police_requested", reason="再次冲击"),
        r("handled", actor="东城派出所 民警"), punish("警告"), close(), ("review",)]),
    "C4-review-late-feedback-missed": ("C4", {}, [
        ARRIVED, skip(25 * 60), r("search_result", found=True, methods=["phone"]), punish(), close(),
        skip(8 * 24 * 60), ("review",)]),
}
#: Failing starts: bad input and an unknown workflow type (the dynamic workflow).
FAILURES = {
    "invalid-input": ("C4AbscondFromSupervision", {"incident_type": "C4"}),
    "unknown-type": ("C4Typo", {"incident_type": "C4"}),
}


#: Platform alarms (issue 20, ``workflows/alarm.py``): name -> (kind, minutes to skip first, finding).
ALARMS: dict[str, tuple[str, float, str]] = {
    "alarm-harmless": ("out_of_bounds", 0, "leave_approved"),
    "alarm-escalated-then-verified": ("signal_lost", 95, "signal_blind_spot"),
    "alarm-absconded-c4": ("out_of_bounds", 0, "absconded"),
}


async def drive_alarm(h: Harness, name: str, kind: str, minutes: float, finding: str) -> str:
    """One alarm from its receipt to its close; returns its workflow id (a C4 it starts is left running)."""
    from datetime import UTC, datetime

    from starter.alarms import AlarmClient

    alarms = AlarmClient(h.env.client, h.queue)
    data = json.loads((HERE.parent.parent / "examples" / "alarms" / "out_of_bounds.json").read_text(encoding="utf-8"))
    data.update(alarm_id=f"REC-{name}", kind=kind, raised_at=datetime.now(UTC).isoformat())
    wf = (await alarms.receive(data)).workflow_id
    while not (await alarms.status(wf)).duties:
        await asyncio.sleep(0.05)
    await h.skip(timedelta(minutes=minutes))
    await alarms.verify(wf, finding=finding, result="核实情况(记录用)", actor="东城司法所 值班员")
    await alarms.result(wf)
    return wf


async def drive(h: Harness, wf: str, steps: list[Step]) -> list[str]:
    """Run the steps; returns the ids of every incident involved (the child of an L4 too)."""
    ids = [wf]
    for step in steps:
        if step[0] == "r":
            try:
                await h.report(wf, step[1], **step[2])
            except Exception as err:
                raise SystemExit(f"{wf}: {step}: {err}") from None
        elif step[0] == "skip":
            await h.skip(timedelta(minutes=step[1]))
        elif step[0] == "close":
            await h.until(wf, lambda st: not st.waiting_for or st.waiting_for == ["closed"])
            await h.report(wf, "closed", **{**dict(result="处置完毕", current_situation="平稳", measures_taken=["现场处置"]),
                                            **step[1]})
            if "aftermath_done" in (await h.status(wf)).waiting_for:  # 000 §4.4 (L1–L4)
                await h.report(wf, "aftermath_done", actor="区司法局应急办公室", **AFTERMATH)
        elif step[0] == "review":
            await h.report(wf, "review", actor="东城司法所 所长", **REVIEW)
        elif step[0] == "duties":
            await h.until(wf, lambda st: bool(st.duties))
            await h.discharge_duties(wf)
        elif step[0] == "child":
            child = f"{wf}-{step[1]}"
            await h.until(wf, lambda st: child in st.related)
            ids += await drive(h, child, step[2])
        elif step[0] == "duty-days":  # 001 §4(9) 情形三 as duties of people: one day missed
            for day in range(1, step[1] + 1):
                for _ in range(300):
                    board = await h.api.duties(wf)
                    if any(x.id == f"daily-contact-{day}" for x in board.open + board.closed):
                        break
                    await asyncio.sleep(0.05)
                if day not in step[2]:
                    await h.api.signal_report(wf, {"kind": "daily_contact", "actor": "东城司法所", "reached": True})
                await h.skip(timedelta(days=1))
        elif step[0] == "days":  # 001 §4(9) 情形三: daily contact, one day missed
            for day in range(1, step[1] + 1):
                await h.until(wf, lambda st, d=day: any(x.id == f"daily-contact-{d}" for x in st.deadlines))
                if day not in step[2]:
                    await h.api.signal_report(wf, {"kind": "daily_contact", "actor": "东城司法所", "reached": True})
                await h.skip(timedelta(days=1))
    return ids


async def runs(h: Harness, wf_id: str) -> list[WorkflowHistory]:
    """Every run of an incident, oldest first."""
    out: list[WorkflowHistory] = []
    run_id = None
    while True:
        history = await h.env.client.get_workflow_handle(wf_id, run_id=run_id).fetch_history()
        out.insert(0, history)
        prev = history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id
        if not prev:
            return out
        run_id = prev


def write(name: str, histories: list[WorkflowHistory]) -> list[str]:
    names = []
    for i, hist in enumerate(histories):
        fname = f"{name}.json" if len(histories) == 1 else f"{name}.{i + 1}.json"
        doc = json.loads(hist.to_json())
        (HERE / fname).write_text(json.dumps({"workflow_id": hist.workflow_id, **doc}, ensure_ascii=False,
                                             separators=(",", ":")) + "\n", encoding="utf-8")
        names.append(fname)
    return names


async def record(only: set[str] | None = None) -> None:
    import tempfile

    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=test_server()
    ) as env:
        tmp = Path(tempfile.mkdtemp())
        worker = build_worker(env.client, queue="record", outbox=tmp / "outbox.jsonl", drill_outbox=tmp / "drill.jsonl")
        async with worker:
            h = Harness(env, "record", tmp / "outbox.jsonl")
            for name, (type_id, overrides, steps) in SCENARIOS.items():
                if only and name not in only:
                    continue
                wf = await h.start(type_id, **overrides)
                ids = await drive(h, wf, steps)
                await h.api.outcome(wf)
                files = []
                for i, wf_id in enumerate(ids):
                    files += write(name if i == 0 else f"{name}-child", await runs(h, wf_id))
                print(f"{name}: {', '.join(files)}", flush=True)
            for name, (kind, minutes, finding) in ALARMS.items():
                if only and name not in only:
                    continue
                wf = await drive_alarm(h, name, kind, minutes, finding)
                print(f"{name}: {', '.join(write(name, await runs(h, wf)))}", flush=True)
            for name, (wf_type, arg) in FAILURES.items():
                if only and name not in only:
                    continue
                handle = await env.client.start_workflow(wf_type, arg, id=f"record-{name}", task_queue="record")
                try:
                    await handle.result()
                except WorkflowFailureError:
                    pass
                print(f"{name}: {', '.join(write(name, [await handle.fetch_history()]))}", flush=True)


if __name__ == "__main__":
    asyncio.run(record(set(sys.argv[1:]) or None))
