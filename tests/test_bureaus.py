"""Each bureau runs its own plans (issue 17): 黄岩 the linkage plan (000), 拱墅 the correction plan (001).

Time-skipping: the incidents name their bureau (``bureau`` in examples/<bureau>/), the notify activity
reads that bureau's profile (config/bureaus/<id>.json), and each test asserts who was told, in which
order, by which name, and that nothing of the other plan was sent.
"""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
import sys
from pathlib import Path

import pytest
from helpers import ROOT, Harness, decisions, recipients, refused, steps, text_to

from plan.bureaus import BureauError, load_profile, profile
from plan.models import EntryKind
from starter.api import IncidentClient, InvalidInput

CLOSE = dict(result="对象已被公安机关控制,事态平息", current_situation="现场秩序恢复正常", measures_taken=["配合公安处置"])
LINKAGE_ONLY = {"emergency_office", "command_centre", "leadership_group"}


def delivered_names(h: Harness) -> dict[tuple[str, str], str]:
    """(step, recipient) -> the name the delivery was addressed to (the outbox record)."""
    return {(d["step"], d["recipient"]): d["recipient_name_zh"] for d in h.outbox()}


# ---------------------------------------------------------------------- profiles


def test_shipped_profiles():
    hy, gs, both = profile("huangyan"), profile("gongshu"), profile("example-both")
    assert (hy.name_zh, hy.city_zh, hy.namespace) == ("台州市黄岩区司法局", "台州市", "huangyan")
    assert (gs.name_zh, gs.city_zh, gs.namespace) == ("杭州市拱墅区司法局", "杭州市", "gongshu")
    assert hy.linkage and not hy.correction and gs.correction and not gs.linkage
    assert both.linkage and both.correction and both.example
    assert [t for t in ("L1", "L4", "C1", "C11") if hy.runs(t)] == ["L1", "L4"]
    assert [t for t in ("L1", "L4", "C1", "C11") if gs.runs(t)] == ["C1", "C11"]


def _bad_profile(tmp_path: Path, change) -> Path:
    data = json.loads((ROOT / "config" / "bureaus" / "gongshu.json").read_text(encoding="utf-8"))
    roster = json.loads((ROOT / "config" / "bureaus" / "rosters" / "gongshu.json").read_text(encoding="utf-8"))
    change(data) if change.__code__.co_argcount == 1 else change(data, roster)
    (tmp_path / "gongshu.json").write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    (tmp_path / "rosters").mkdir(exist_ok=True)
    (tmp_path / "rosters" / "gongshu.json").write_text(json.dumps(roster, ensure_ascii=False, indent=2),
                                                       encoding="utf-8")
    return tmp_path


BAD = {
    "role with no body": (lambda d: d["bodies"]["correction"].pop("command"),
                          "bodies.correction.command: no body for this role, which the adopted correction plan names (001 §3)"),
    "unknown plan": (lambda d: d["plans"].update(flood={"title_zh": "防汛预案", "rules": "000"}),
                     "plans.flood: unknown plan (known: linkage, correction)"),
    "missing contact": (lambda d: d["contacts"].pop("procuratorate", None) or d["above"].pop("procuratorate"),
                        "above.procuratorate: no body for this role"),
    "contact without a phone": (lambda d: d["contacts"]["police_110"].pop("phone"),
                                "contacts.police_110.phone: Field required"),
    "its roster names nobody": (lambda d, r: r["units"]["correction_command_office"]["shifts"][0].update(person="nobody"),
                                "units.correction_command_office.shifts.0.person: 'nobody' is not in people"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_profile_refused_at_worker_start(tmp_path: Path, case: str):
    change, why = BAD[case]
    directory = _bad_profile(tmp_path, change)
    if "roster" not in case:
        with pytest.raises(BureauError, match=why.replace("(", r"\(").replace(")", r"\)")):
            load_profile(directory / "gongshu.json")
    # the worker as an operator starts it: one line naming the file and the field, exit 2, no traceback
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "EMERGENCY_BUREAUS": "gongshu,huangyan",
           "EMERGENCY_BUREAUS_DIR": str(directory), "EMERGENCY_INSECURE_PLAINTEXT": "1",
           "EMERGENCY_VAR_DIR": str(tmp_path / "var")}
    (directory / "huangyan.json").write_text((ROOT / "config/bureaus/huangyan.json").read_text(encoding="utf-8"),
                                             encoding="utf-8")
    proc = subprocess.run([sys.executable, str(ROOT / "worker.py")], env=env, capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    out = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 2, out
    assert "Traceback" not in out and len(out.splitlines()) == 1, out
    where = directory / ("rosters/gongshu.json" if "roster" in case else "gongshu.json")
    assert f"{where}: line " in out and why in out, out


# ---------------------------------------------------------------------- 拱墅: the correction plan only


async def test_c1_at_gongshu_names_its_own_bodies_and_reports_per_001_3(harness: Harness):
    """001 §3(1) 区司法局设立社区矫正突发事件应急处置指挥部,负责指导管理辖区内社区矫正突发事件应急处置工作,
    决定启动并组织实施本级应急处置预案,及时向本级人民政府和杭州市司法局报告突发事件和应急处置工作有关情况."""
    wf = await harness.start("gongshu/C1")
    st = await harness.until_step(wf, "command-decision")
    # no 000 deadline: 拱墅 has not adopted a linkage plan (000 §4.3, §3(3))
    assert {d.id for d in st.deadlines} == {"command-decision"}
    assert "arrived" not in st.waiting_for
    assert "plan_decision (activate: 总指挥部, 001 §3(1))" in st.waiting_for
    await refused(harness, wf, "feedback", "gongshu has not adopted a linkage plan", situation="x", result="y")
    await harness.report(wf, "plan_decision", decision="activate", actor="拱墅区司法局局长(总指挥)")
    await harness.until(wf, lambda st: sum(1 for e in st.timeline if e.kind is EntryKind.NOTIFICATION
                                           and (e.step or "").startswith("command-report-")) == 2)
    # 001 §3(3) 现场指挥部…及时向总指挥部报告进展情况; 001 §5(1) 逐级向上一级社区矫正机构报告…处置工作进展情况
    await harness.report(wf, "progress", current_situation="对象情绪趋于稳定", measures_taken=["心理疏导"])
    await harness.until(wf, lambda st: sum(1 for e in st.timeline if e.kind is EntryKind.NOTIFICATION
                                           and (e.step or "").startswith("progress-")) == 3)
    await harness.report(wf, "handled", crime_suspected=False)
    await harness.discharge_duties(wf)  # the officers' own duties (issue 16), confirmed by them
    out = await harness.punish_and_close(wf, "警告", **CLOSE)
    tl = out.timeline
    cr = next(s for s in steps(tl) if s.startswith("command-report-"))
    pc = next(s for s in steps(tl) if s.startswith("progress-command-"))
    pu = next(s for s in steps(tl) if s.startswith("progress-up-"))
    assert recipients(tl, pc) == {"correction_command"}
    assert recipients(tl, pu) == {"correction_section", "higher_correction_agency"}
    assert "现场指挥部向总指挥部报告进展情况" in text_to(tl, pc, "correction_command")
    # the messages (the duties of people, issue 16, are tasks to the on-duty officers: test_duties.py)
    assert [s for s in steps(tl) if not s.startswith("duty-")] == [
        "alarm-110", "level-report", "command-decision", cr, pc, pu, "punishment-report-up", "written-report",
        "review-report"]
    assert recipients(tl, "command-decision") == {"correction_command"}
    assert recipients(tl, cr) == {"peoples_government", "city_justice_bureau"}
    assert recipients(tl, "written-report") == {"correction_command"}
    sent = {e.recipient.value for e in tl if e.kind is EntryKind.NOTIFICATION and e.recipient}
    assert not sent & LINKAGE_ONLY, sent
    names = delivered_names(harness)
    assert names[("alarm-110", "correction_section")] == "拱墅区司法局社区矫正管理科"
    assert names[("level-report", "higher_correction_agency")] == "杭州市社区矫正管理局"
    assert names[("command-decision", "correction_command")] == "拱墅区司法局社区矫正突发事件应急处置总指挥部"
    assert names[(cr, "peoples_government")] == "杭州市拱墅区人民政府"
    assert names[(cr, "city_justice_bureau")] == "杭州市司法局"
    assert names[("punishment-report-up", "procuratorate")] == "杭州市拱墅区人民检察院"
    assert "决定启动并组织实施本级应急处置预案" in text_to(tl, "command-decision", "correction_command")
    assert "拱墅区司法局社区矫正突发事件应急处置总指挥部已决定启动并组织实施本级应急处置预案" in text_to(
        tl, cr, "peoples_government")
    assert "拱墅区司法局社区矫正突发事件应急处置总指挥部决定启动并组织实施本级应急处置预案" in decisions(tl)
    report = out.written_report_zh
    assert "拱墅区司法局社区矫正突发事件应急处置总指挥部:" in report and "报告单位:杭州市拱墅区司法局" in report
    assert {d.id for d in out.deadlines} == {"command-decision", "review"}


async def test_c1_where_both_plans_are_adopted_carries_000_deadlines(harness: Harness):
    """A C-type carries 000's 30-minute arrival and 24-hour feedback only where a linkage plan is adopted."""
    wf = await harness.start("C1", bureau="example-both")
    st = await harness.until_step(wf, "information-report", count=2)
    assert {"arrival", "feedback", "command-decision"} <= {d.id for d in st.deadlines}
    names = delivered_names(harness)
    assert names[("information-report", "command_centre")] == "示例区社会应急联动指挥中心"
    assert names[("command-decision", "correction_command")] == "示例区司法局社区矫正突发事件应急处置总指挥部"


async def test_escalation_at_gongshu_goes_to_its_command_office(harness: Harness):
    """001 §3(2) 总指挥部下设办公室,日常工作由社区矫正管理科承担: a missed deadline is escalated there, not to
    000's 应急办公室."""
    from datetime import timedelta

    wf = await harness.start("gongshu/C1")
    await harness.until_step(wf, "command-decision")
    await harness.skip(timedelta(hours=1, minutes=1))  # the 总指挥部's decision (immediate policy) is missed
    st = await harness.until_step(wf, "command-decision-missed", count=2)
    assert recipients(st.timeline, "command-decision-missed") == {"correction_command_office", "correction_command"}
    names = delivered_names(harness)
    assert names[("command-decision-missed", "correction_command_office")].startswith("拱墅区司法局社区矫正突发事件应急处置总指挥部办公室")


async def test_gongshu_does_not_run_the_linkage_plan(harness: Harness):
    api = IncidentClient(harness.env.client, harness.queue, bureau="gongshu")
    l1 = json.loads((ROOT / "examples/huangyan/L1.json").read_text(encoding="utf-8"))
    with pytest.raises(InvalidInput, match="bureau: huangyan given to gongshu's door; use --bureau huangyan"):
        await api.start(l1)
    with pytest.raises(InvalidInput, match="杭州市拱墅区司法局 does not run L1"):
        await api.start({**l1, "bureau": None})
    # a raw start (temporal workflow start) is refused inside the workflow as well, naming the field
    from temporalio.client import WorkflowFailureError

    handle = await harness.env.client.start_workflow(
        "L1MajorDisputeMediation", {**l1, "bureau": "gongshu"}, id=f"incident-L1-raw-{harness.queue}",
        task_queue=harness.queue)
    with pytest.raises(WorkflowFailureError) as err:
        await handle.result()
    assert "incident_type: 杭州市拱墅区司法局 does not run L1" in str(err.value.cause)


# ---------------------------------------------------------------------- 黄岩: the linkage plan only


async def test_l1_major_at_huangyan_reports_to_its_own_committees_by_name(harness: Harness):
    """000 §2.1: 决定启动、终止本方案…及时向区委、区政府、区委政法委、市司法局报告有关情况."""
    wf = await harness.start("huangyan/L1", major=True)
    await harness.until_step(wf, "major-incident")
    await harness.report(wf, "plan_decision", decision="activate", actor="黄岩区司法局局长(组长)")
    st = await harness.until(wf, lambda st: sum(1 for e in st.timeline if e.kind is EntryKind.NOTIFICATION
                                                and (e.step or "").startswith("plan-activated-report-")) == 3)
    pa = next(s for s in steps(st.timeline) if s.startswith("plan-activated-report-"))
    assert recipients(st.timeline, pa) == {
        "district_committee_government", "political_legal_committee", "city_justice_bureau"}
    names = delivered_names(harness)
    assert names[(pa, "district_committee_government")] == "中共台州市黄岩区委、台州市黄岩区人民政府"
    assert names[(pa, "political_legal_committee")] == "中共台州市黄岩区委政法委员会"
    assert names[(pa, "city_justice_bureau")] == "台州市司法局"
    assert names[("major-incident", "leadership_group")] == "黄岩区司法局应急联动指挥领导小组"
    assert names[("information-report", "command_centre")] == "黄岩区社会应急联动指挥中心"
    assert {"arrival", "feedback"} <= {d.id for d in st.deadlines}
    sent = {e.recipient.value for e in st.timeline if e.kind is EntryKind.NOTIFICATION and e.recipient}
    assert not sent & {"correction_command", "peoples_government"}


async def test_l4_at_huangyan_keeps_a_correction_subject_with_its_correction_group(harness: Harness):
    """黄岩 has no correction plan: 000 §2.3 社区矫正组具体负责应对社区矫正和刑释人员突发事件, no C-type hand-over."""
    wf = await harness.start("huangyan/L4")
    st = await harness.until_step(wf, "correction-group")
    assert recipients(st.timeline, "correction-group") == {"correction_group"}
    assert not st.related
    assert delivered_names(harness)[("correction-group", "correction_group")] == "黄岩区司法局社区矫正组"


# ---------------------------------------------------------------------- 001 §5(1) cross-county notice


async def test_cross_county_notice_goes_to_the_named_county(harness: Harness):
    """001 §5(1) 涉及其他县(市、区)的,应当及时通报相关县(市、区)司法行政机关协助配合."""
    wf = await harness.start("gongshu/C1", other_counties=["椒江区", "某县"])
    st = await harness.until_step(wf, "cross-county-1")
    await harness.until_step(wf, "cross-county-0")
    by_step = {d["step"]: d for d in harness.outbox() if d["step"].startswith("cross-county")}
    assert by_step["cross-county-0"]["recipient_name_zh"] == "台州市椒江区司法局"
    assert by_step["cross-county-0"]["recipient_phone"] == "0576-88100001"
    assert "台州市椒江区司法局协助配合" in by_step["cross-county-0"]["message_zh"]
    # a county not in the directory of bureaus: the bureau's own contact for it
    assert by_step["cross-county-1"]["recipient_name_zh"] == "相关县(市、区)司法行政机关"
    assert by_step["cross-county-1"]["recipient_phone"] == "0571-88000015"
    assert all(e.clause == "001 §5(1)" for e in st.timeline if (e.step or "").startswith("cross-county"))


# ---------------------------------------------------------------------- the officers' CLI


def _cli(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    """``python -m starter`` as a new shell runs it (no test-suite environment)."""
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp)}
    return subprocess.run([sys.executable, "-m", "starter", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def test_catalogue_says_which_bureau_runs_each_type(tmp_path: Path):
    proc = _cli("catalogue", "--json", tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr
    entries = {e["id"]: e for e in json.loads(proc.stdout)}
    assert [b["id"] for b in entries["L1"]["bureaus"]] == ["huangyan"]
    assert [b["id"] for b in entries["C4"]["bureaus"]] == ["gongshu"]
    assert entries["C4"]["bureaus"][0]["example"] == "examples/gongshu/C4.json"
    for e in entries.values():
        for b in e["bureaus"]:
            assert (ROOT / b["example"]).is_file(), b["example"]
    table = _cli("catalogue", tmp=tmp_path).stdout
    assert "杭州市拱墅区司法局" in table and "台州市黄岩区司法局" in table


def test_unknown_bureau_is_one_line_naming_the_known_ones(tmp_path: Path):
    proc = _cli("--bureau", "xihu", "status", "incident-C4-x", tmp=tmp_path)
    assert proc.returncode == 2
    out = (proc.stdout + proc.stderr).strip()
    assert len(out.splitlines()) == 1 and "Traceback" not in out, out
    assert "--bureau xihu: no profile" in out and "known: example-both, gongshu, huangyan" in out, out


async def test_a_bureaus_local_policy_sets_its_deadlines(harness: Harness, tmp_path: Path, monkeypatch):
    """A profile's ``policy`` (local policies, never looser than the plans) is what its incidents run on."""
    data = json.loads((ROOT / "config/bureaus/gongshu.json").read_text(encoding="utf-8"))
    data.update(id="gongshu-strict", namespace="gongshu-strict", policy={"immediate": "PT30M"}, roster=None)
    (tmp_path / "gongshu-strict.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "counties.json").write_text((ROOT / "config/bureaus/counties.json").read_text(encoding="utf-8"),
                                            encoding="utf-8")
    monkeypatch.setenv("EMERGENCY_BUREAUS_DIR", str(tmp_path))
    wf = await harness.start("gongshu/C1", bureau="gongshu-strict")
    st = await harness.until_step(wf, "command-decision")
    [d] = [d for d in st.deadlines if d.id == "command-decision"]
    received = next(e.at for e in st.timeline if e.kind is EntryKind.INCIDENT)
    assert d.due_at - received == timedelta(minutes=30)
    # looser than a plan's number is refused on load (000 §4.3: at most 30 minutes)
    data.update(policy={"arrival": "PT45M"})
    (tmp_path / "gongshu-strict.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(BureauError, match="policy: arrival: must be positive and at most 30 minutes"):
        load_profile(tmp_path / "gongshu-strict.json")


def test_gongshu_runs_its_own_roster(tmp_path: Path, monkeypatch):
    """000 §5.2 值班制度 at 拱墅: its 总指挥部办公室's officer on duty, by its roster; its own outbox."""
    from datetime import datetime

    from activities import build_activities
    from activities.contracts import NotifyRequest
    from plan.agencies import Agency
    from plan.roster import CST

    monkeypatch.setenv("EMERGENCY_VAR_DIR", str(tmp_path))
    night = datetime(2026, 11, 23, 22, 0, tzinfo=CST)
    notify, *_ = build_activities(bureau=profile("gongshu"), clock=lambda: night)
    notifier = notify.__self__
    assert notifier.channel.path == tmp_path / "bureaus" / "gongshu" / "outbox.jsonl"
    req = NotifyRequest(idempotency_key="k", workflow_id="w", incident_type="C1", step="s", clause="001 §3(2)",
                        recipient=Agency.CORRECTION_COMMAND_OFFICE, message_zh="m", bureau="gongshu",
                        jurisdiction=("米市巷司法所", "拱墅区"))
    name, _, routes = notifier._route(req)
    assert name.endswith("(值班:总指挥部办公室 夜班值班员 林浩然)") and name.startswith("拱墅区司法局社区矫正突发事件应急处置总指挥部办公室")
    assert [t.route.address for _, t, _ in routes] == ["13800000402"]
    _, _, routes = notifier._route(req.model_copy(update={"recipient": Agency.JUSTICE_OFFICE}))
    assert [t.route.address for _, t, _ in routes] == ["0571-88110000"]  # 米市巷司法所's own line
