"""Duties of people (issue 16): who must phone, go, verify or write, by when, and who did.

A worker of its own with a roster (duty officers of the 司法所 by shift, the section, the leadership group)
and a clock the test moves, on the time-skipping server: the on-duty person is resolved by the ``notify``
activity at delivery time (000 §5.2 值班制度), never in workflow code.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest_asyncio
from helpers import Harness, recipients, text_to

from plan.models import DutyForm, DutyStatus, EntryKind, ObligationStatus
from plan.policy import DEFAULT_POLICY
from plan.roster import CST
from worker import build_worker

ROSTER = {
    "default_channel": "outbox",
    "per_incident_channel": "outbox",
    "duty_officers": {
        "justice_office": {
            "shifts": [
                {"person": "jo-day", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "08:30", "end": "17:30"},
                {"person": "jo-night", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "17:30", "end": "08:30"},
            ]
        }
    },
    "units": {
        "correction_section": {
            "shifts": [{"person": "cs-zhou", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "00:00"}]
        },
        "emergency_office": {
            "shifts": [{"person": "eo-day", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "00:00"}]
        },
        "leadership_group": {
            "shifts": [{"person": "lg-zheng", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "00:00"}]
        },
    },
    "people": {
        "jo-day": {"name_zh": "东城司法所 白班值班员 孙立新", "contacts": [{"id": "duty", "channel": "outbox", "address": "13800000401"}]},
        "jo-night": {"name_zh": "东城司法所 夜班值班员 李春燕", "contacts": [{"id": "duty", "channel": "outbox", "address": "13800000402"}]},
        "cs-zhou": {"name_zh": "矫正科 周海燕", "contacts": [{"id": "duty", "channel": "outbox", "address": "13800000201"}]},
        "eo-day": {"name_zh": "应急办 值班员 赵晓明", "contacts": [{"id": "duty", "channel": "outbox", "address": "13800000101"}]},
        "lg-zheng": {"name_zh": "领导小组 带班领导 郑国华", "contacts": [{"id": "duty", "channel": "outbox", "address": "13800000301"}]},
    },
}

DAY = datetime(2026, 11, 23, 10, 0, tzinfo=CST)  # a Monday, 10:00: 孙立新 is on duty
NIGHT = datetime(2026, 11, 23, 18, 0, tzinfo=CST)  # 17:30 on: 李春燕


class Clock:
    def __init__(self) -> None:
        self.at = DAY

    def __call__(self) -> datetime:
        return self.at


@pytest_asyncio.fixture(scope="module")
async def rostered(env, tmp_path_factory) -> AsyncIterator[tuple[Harness, Clock]]:
    tmp: Path = tmp_path_factory.mktemp("duties")
    (tmp / "roster.json").write_text(json.dumps(ROSTER, ensure_ascii=False), encoding="utf-8")
    clock = Clock()
    queue = "duties-queue"
    worker = build_worker(env.client, queue=queue, outbox=tmp / "outbox.jsonl", drill_outbox=tmp / "drill.jsonl",
                          roster_path=tmp / "roster.json", clock=clock)
    async with worker:
        h = Harness(env, queue, tmp / "outbox.jsonl")
        yield h, clock
        for wf in h.started:  # incidents left open must not outlive their worker (time-skipping)
            try:
                await env.client.get_workflow_handle(wf).terminate("test module over")
            except Exception:
                pass


def duty_entries(tl, kind: EntryKind, duty: str):
    return [e for e in tl if e.kind is kind and e.step == f"duty-{duty}"]


async def until_duty_named(h: Harness, wf: str, duty: str):
    """The duty once its task was delivered and the receipt named its person."""
    for _ in range(300):
        board = await h.api.duties(wf)
        found = next((d for d in board.open + board.closed if d.id == duty and d.person), None)
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"duty {duty} never named its person")


async def test_c1_110_is_the_on_duty_officers_phone_duty(rostered):
    """001 §4(1) 司法所应当立即向公安“110”或执行地公安派出所报警: the 司法所's on-duty officer from the roster gets
    the task at once, with 110's number and the 000 §4.2 facts; ``phoned`` records counterpart and time;
    the platform push (POLICY.pushed) is recorded beside it."""
    h, clock = rostered
    clock.at = DAY
    wf = await h.start("C1")
    duty = await until_duty_named(h, wf, "alarm-110")
    assert duty.person == "jo-day" and duty.person_zh == "东城司法所 白班值班员 孙立新"
    assert duty.form is DutyForm.PHONE and duty.counterpart.value == "police_110" and duty.evidence == "phoned"
    assert duty.due_at - duty.issued_at == DEFAULT_POLICY.immediate
    st = await h.status(wf)
    assert "alarm-110" in [d.id for d in st.duties]
    tl = st.timeline
    # the task went to the person's device, and to nobody else
    sent = [d for d in h.outbox() if d["workflow_id"] == wf and d["step"] == "duty-alarm-110"]
    assert len(sent) == 1 and sent[0]["recipient_phone"] == "13800000401"
    task = text_to(tl, "duty-alarm-110", "justice_office")
    assert task.startswith("已通知东城司法所 白班值班员 孙立新(渠道 outbox):【社区矫正对象实施行凶等犯罪或以要挟为目的的自杀自残】")
    assert "【值班任务·电话】" in task
    assert "立即向公安“110”或执行地公安派出所报警" in task and "电话:110" in task
    for fact in ("时间:2026年11月23日 08:30", "地点:东城街道桔乡路 12 号农贸市场", "持刀威胁他人", "目前形势:",
                 "已采取的措施:", "应急指挥机构负责人:", "请立即出警处置", "剩余1小时", "任务编号 alarm-110", "“phoned”"):
        assert fact in task, fact
    # the automated push to 110 (a platform that takes one) and the section, at the same time
    assert recipients(tl, "alarm-110") == {"police_110", "correction_section"}
    issued = [e.step for e in tl if e.kind is EntryKind.NOTIFICATION_ISSUED]
    assert issued.index("alarm-110") < issued.index("duty-alarm-110") < issued.index("information-report")

    await h.skip(timedelta(minutes=5))
    await h.report(wf, "phoned", duty="alarm-110", counterpart="110接警员 王某", agreed="出警,约10分钟到场",
                   actor="东城司法所 孙立新")
    board = await h.api.duties(wf)
    done = next(d for d in board.closed if d.id == "alarm-110")
    assert done.status is DutyStatus.DONE and done.done_by == "东城司法所 孙立新"
    assert done.result_zh == "已电话联系110接警员 王某,商定:出警,约10分钟到场" and done.indicators == []
    assert "alarm-110" not in [d.id for d in board.open]
    acc = await h.api.accountability(wf)
    row = next(o for o in acc.obligations if o.id == "duty/alarm-110")
    assert row.status is ObligationStatus.ON_TIME and row.person == "东城司法所 白班值班员 孙立新"
    assert row.role.value == "justice_office" and row.done_at is not None


async def test_c1_unconfirmed_duty_escalates_to_section_then_leadership(rostered):
    """No confirmation within the ``immediate`` policy: the section's on-duty chief at the due time, the
    leadership group ``duty_leadership_after`` later; the duty stays open and the register says 超时未报,
    then 迟报 once confirmed, naming the person."""
    h, clock = rostered
    clock.at = DAY
    wf = await h.start("C1")
    await until_duty_named(h, wf, "alarm-110")
    await h.skip(DEFAULT_POLICY.immediate + timedelta(minutes=1))
    st = await h.until(wf, lambda s: any(e.step == "duty-alarm-110-missed" and e.kind is EntryKind.NOTIFICATION
                                         for e in s.timeline))
    assert recipients(st.timeline, "duty-alarm-110-missed") == {"correction_section"}
    chief = text_to(st.timeline, "duty-alarm-110-missed", "correction_section")
    assert "【超时督办】" in chief and "责任人:东城司法所 白班值班员 孙立新" in chief
    assert not any(e.step == "duty-alarm-110-leadership-missed" for e in st.timeline)
    acc = await h.api.accountability(wf)
    assert next(o for o in acc.obligations if o.id == "duty/alarm-110").status is ObligationStatus.OVERDUE
    await h.skip(DEFAULT_POLICY.duty_leadership_after)
    st = await h.until(wf, lambda s: any(e.step == "duty-alarm-110-leadership-missed"
                                         and e.kind is EntryKind.NOTIFICATION for e in s.timeline))
    assert recipients(st.timeline, "duty-alarm-110-leadership-missed") == {"leadership_group"}
    assert "alarm-110" in [d.id for d in st.duties]  # still open
    phones = {d["step"]: d["recipient_phone"] for d in h.outbox() if d["workflow_id"] == wf}
    assert phones["duty-alarm-110-missed"] == "13800000201"  # the section's on-duty chief, 周海燕
    assert phones["duty-alarm-110-leadership-missed"] == "13800000301"  # the leader on duty, 郑国华
    board = await h.api.duties(wf)
    assert [a.value for a in next(d for d in board.open if d.id == "alarm-110").escalated_to] == [
        "correction_section", "leadership_group"]
    await h.report(wf, "phoned", duty="alarm-110", counterpart="110接警员", actor="东城司法所 孙立新")
    acc = await h.api.accountability(wf)
    row = next(o for o in acc.obligations if o.id == "duty/alarm-110")
    assert row.status is ObligationStatus.LATE and row.person == "东城司法所 白班值班员 孙立新"


async def test_stated_time_hiding_a_late_confirmation_is_flagged_and_counts_late(rostered):
    """001 §7(4) 谎报 indicator: a stated time inside the due time, received after it, is flagged for review
    and the duty counts 迟报 all the same (judged on the receipt)."""
    h, clock = rostered
    clock.at = DAY
    wf = await h.start("C1")
    duty = await until_duty_named(h, wf, "alarm-110")
    await h.skip(DEFAULT_POLICY.immediate + timedelta(minutes=20))
    stated = duty.issued_at + timedelta(minutes=5)
    await h.report(wf, "phoned", duty="alarm-110", counterpart="110接警员", at=stated.isoformat(),
                   actor="东城司法所 孙立新")
    acc = await h.api.accountability(wf)
    row = next(o for o in acc.obligations if o.id == "duty/alarm-110")
    assert row.status is ObligationStatus.LATE
    assert row.stated_at == stated and row.done_at > row.due_at
    assert any("早于系统收到确认" in i for i in row.indicators)
    assert "申报时间在时限内,但确认于时限后收到,按迟报计" in row.indicators


async def test_roster_change_between_two_duties_names_each_duty_s_own_person(rostered):
    """000 §5.2 值班: each duty names the person on duty at its own time (120 called later, after 17:30)."""
    h, clock = rostered
    clock.at = datetime(2026, 11, 23, 17, 20, tzinfo=CST)
    wf = await h.start("C1")
    first = await until_duty_named(h, wf, "alarm-110")
    assert first.person == "jo-day"
    clock.at = NIGHT
    await h.report(wf, "casualties", injured=1, dead=0)
    second = await until_duty_named(h, wf, "medical-120-1")
    assert second.person == "jo-night" and second.person_zh == "东城司法所 夜班值班员 李春燕"
    assert second.counterpart.value == "medical_120"
    sent = {d["step"]: d["recipient_phone"] for d in h.outbox() if d["workflow_id"] == wf}
    assert sent["duty-alarm-110"] == "13800000401" and sent["duty-medical-120-1"] == "13800000402"
    board = await h.api.duties(wf)
    assert next(d for d in board.open if d.id == "alarm-110").person == "jo-day"


async def test_c6_family_never_messaged_verification_is_a_persons_duty(rostered):
    """001 §4(6) 立即联系社区矫正对象家属、监护人、保证人 … 核实情况: a verification duty of the 司法所's
    on-duty officer per contact, with the contact's number; nothing is sent to the family."""
    h, clock = rostered
    clock.at = DAY
    wf = await h.start("C6")
    duty = await until_duty_named(h, wf, "family-0")
    assert duty.form is DutyForm.VERIFICATION and duty.evidence == "verified" and duty.person == "jo-day"
    assert duty.counterpart.value == "family" and duty.counterpart_phone
    st = await h.status(wf)
    assert not any(e.recipient and e.recipient.value == "family" for e in st.timeline
                   if e.kind in (EntryKind.NOTIFICATION_ISSUED, EntryKind.NOTIFICATION))
    assert not any(d["recipient"] == "family" for d in h.outbox() if d["workflow_id"] == wf)
    task = text_to(st.timeline, "duty-family-0", "justice_office")
    assert "【值班任务·核实】" in task and duty.counterpart_phone in task and "核实情况" in task
    await h.report(wf, "verified", duty="family-0", result="母亲李秀英确认对象已于今晨死亡", actor="东城司法所 孙立新")
    board = await h.api.duties(wf)
    done = next(d for d in board.closed if d.id == "family-0")
    assert done.result_zh == "核实结果:母亲李秀英确认对象已于今晨死亡"


async def test_status_show_and_register_across_incidents_name_each_person(rostered):
    """What an officer reads: ``status``/``show`` list the open duties first (who, what, by when, how long
    left), before deadlines and timeline; the written progress report too; the register across incidents
    (``accountability --person``, CSV) has one row per duty with the person, due, received and stated time."""
    from starter.cli import render_status
    from starter.export import accountability_csv, accountability_rows
    from starter.render import progress_report

    h, clock = rostered
    clock.at = DAY
    day = await h.start("C1")
    await until_duty_named(h, day, "on-site-office")
    clock.at = NIGHT
    night = await h.start("C1")
    await until_duty_named(h, night, "on-site-office")
    await h.report(day, "on_site", duty="on-site-office", actor="东城司法所 孙立新")
    st = await h.status(night)
    text = render_status(st)
    assert text.index("待办值班任务:") < text.index("时限:") < text.index("记录:")
    duty_lines = text[text.index("待办值班任务:"):text.index("时限:")]
    assert "东城司法所 夜班值班员 李春燕" in duty_lines and "电话:立即向公安“110”或执行地公安派出所报警" in duty_lines
    assert "(联系 公安“110” 110)" in duty_lines and "剩余" in duty_lines and "确认报告 phoned" in duty_lines
    # the Web UI's current details (the workflow's metadata) list the open duties before the deadlines
    from temporalio.api.sdk.v1 import WorkflowMetadata

    meta = await h.env.client.get_workflow_handle(night).query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    details = meta.current_details
    assert "待办任务:东城司法所 夜班值班员 李春燕:立即向公安“110”或执行地公安派出所报警" in details
    assert details.index("待办任务:") < details.index("待办时限:")
    report = progress_report(st)
    assert report.index("待办:东城司法所 夜班值班员 李春燕:立即向公安“110”或执行地公安派出所报警") < report.index("四、处置经过")
    records = [await h.api.accountability(wf) for wf in (day, night)]
    mine = accountability_rows(records, person="孙立新")
    assert {r["workflow_id"] for r in mine} == {day} and {r["title_zh"] for r in mine} >= {"在第一时间前往事发现场"}
    done = next(r for r in mine if r["title_zh"] == "在第一时间前往事发现场")
    assert done["status"] == "on_time" and done["role"] == "司法所" and done["done_at"]
    theirs = accountability_rows(records, person="李春燕")
    assert {r["workflow_id"] for r in theirs} == {night}
    # the time-skipping server's clock has moved on by the whole suite's skipped days: "after every due time"
    after_all = max(o.due_at for rec in records for o in rec.obligations) + timedelta(days=1)
    assert accountability_rows(records, person="孙立新", since=after_all) == []
    csv_text = accountability_csv(mine)
    assert csv_text.splitlines()[0].startswith("workflow_id,incident_type,person,role,title_zh")
    assert "东城司法所 白班值班员 孙立新,司法所,在第一时间前往事发现场" in csv_text


def test_accountability_across_incidents_options_are_checked_at_parse_time(capsys):
    """``python -m starter accountability`` without an id: the filters and the CSV file, each checked."""
    import pytest

    from starter.cli import parser

    args = parser().parse_args(["accountability", "--office", "东城司法所", "--person", "孙立新",
                                "--since", "2026-11-01", "--until", "2026-12-01T00:00+08:00", "--csv", "r.csv"])
    assert args.workflow_id is None and args.office == "东城司法所" and args.csv == "r.csv"
    assert args.since == datetime(2026, 11, 1, tzinfo=CST) and args.until == datetime(2026, 12, 1, tzinfo=CST)
    with pytest.raises(SystemExit) as err:
        parser().parse_args(["accountability", "--since", "上周"])
    assert err.value.code == 2
    assert "--since" in capsys.readouterr().err


async def test_cli_accountability_across_incidents_by_office_and_person_with_csv(tmp_path):
    """``python -m starter accountability --office … --person … --csv`` on a real dev server (search
    attributes registered), run as a new shell would: the register rows of that office's incidents that
    name the person, with due, received and stated time; the CSV opens in a spreadsheet (BOM)."""
    import csv
    import io
    import os
    import subprocess
    import sys
    import uuid

    from helpers import ROOT, dev_server_with_worker, example

    from infra import search_attributes as sa
    from starter.api import IncidentClient

    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER, ensure_ascii=False), encoding="utf-8")
    clock = Clock()
    queue = "duties-cli"
    async with dev_server_with_worker(tmp_path, queue, roster_path=roster, clock=clock) as (server, client):
        api = IncidentClient(client, queue)
        office = f"测试{uuid.uuid4().hex[:4]}司法所"
        ids = []
        for _ in range(2):
            data = example("C1", alert_id=f"DUTY-{uuid.uuid4().hex[:6]}",
                           jurisdiction={"county": "黄岩区", "justice_office": office})
            ids.append((await api.start(data)).workflow_id)
        for wf in ids:
            for _ in range(200):
                board = await api.duties(wf)
                if any(d.person for d in board.open):
                    break
                await asyncio.sleep(0.05)
        await api.report(ids[0], {"kind": "phoned", "duty": "alarm-110", "counterpart": "110接警员",
                                  "actor": "东城司法所 孙立新"})
        query = sa.incident_query(justice_office=office)
        for _ in range(100):
            if len([w async for w in client.list_workflows(query)]) == 2:
                break
            await asyncio.sleep(0.1)
        env = {**os.environ, "TEMPORAL_ADDRESS": server.address, "TEMPORAL_TASK_QUEUE": queue,
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}

        def sh(script: str) -> subprocess.CompletedProcess[str]:
            res = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=120)
            assert res.returncode == 0, f"{script}\n{res.stdout}\n{res.stderr}"
            return res

        out = tmp_path / "register.csv"
        res = await asyncio.to_thread(sh, f"python -m starter accountability --office {office} --person 孙立新 --csv {out}")
        assert res.stdout.strip() == str(out) and "2 起事件" in res.stderr
        rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
        assert {r["workflow_id"] for r in rows} == set(ids)
        assert all(r["person"] == "东城司法所 白班值班员 孙立新" and r["role"] == "司法所" for r in rows)
        phoned = next(r for r in rows if r["workflow_id"] == ids[0] and r["title_zh"].startswith("立即向公安"))
        assert phoned["status"] == "on_time" and phoned["done_at"]
        open_row = next(r for r in rows if r["workflow_id"] == ids[1] and r["title_zh"].startswith("立即向公安"))
        assert open_row["status"] == "pending" and open_row["done_at"] == ""
        res = await asyncio.to_thread(sh, f"python -m starter accountability --office {office} --person 周海燕")
        assert "矫正科 周海燕" in res.stdout and "在第一时间前往事发现场" in res.stdout and "孙立新" not in res.stdout
        res = await asyncio.to_thread(sh, f"python -m starter show {ids[1]}")
        assert res.stdout.index("待办值班任务:") < res.stdout.index("时限:")
        for wf in ids:
            await client.get_workflow_handle(wf).terminate("test over")


def sent_of(h: Harness, wf: str) -> dict[str, list[dict]]:
    """What left the system for one incident, by step (outbox)."""
    out: dict[str, list[dict]] = {}
    for d in h.outbox():
        if d["workflow_id"] == wf:
            out.setdefault(d["step"], []).append(d)
    return out


async def test_c6_110_when_needed_is_the_on_duty_officers_phone_duty(rostered):
    """001 §4(6) 必要时可以向公安“110”或执行地公安派出所报警到现场进行处置: on the officer's ``police_requested``
    the 司法所's on-duty officer (roster) gets a phone task with 110's number and the reason; the platform
    push (POLICY.pushed) beside it; ``phoned`` records who and when; nothing else goes to 110 or the family."""
    h, clock = rostered
    clock.at = DAY
    wf = await h.start("C6")
    await until_duty_named(h, wf, "family-0")
    clock.at = NIGHT  # 110 is requested after the shift change: the night officer's duty
    await h.report(wf, "police_requested", reason="死因不明,需公安机关到场勘查", actor="东城司法所 李春燕")
    duty = await until_duty_named(h, wf, "alarm-110")
    assert duty.person == "jo-night" and duty.person_zh == "东城司法所 夜班值班员 李春燕"
    assert duty.form is DutyForm.PHONE and duty.counterpart.value == "police_110" and duty.evidence == "phoned"
    assert duty.clause == "001 §4(6)" and duty.due_at - duty.issued_at == DEFAULT_POLICY.immediate
    st = await h.status(wf)
    task = text_to(st.timeline, "duty-alarm-110", "justice_office")
    assert "【值班任务·电话】必要时可以向公安“110”或执行地公安派出所报警到现场进行处置(依据001 §4(6))" in task
    assert "电话:110" in task and "死因不明,需公安机关到场勘查" in task and "请立即到现场进行处置" in task
    sent = sent_of(h, wf)
    assert [d["recipient_phone"] for d in sent["duty-alarm-110"]] == ["13800000402"]
    assert [d["recipient"] for d in sent["alarm-110"]] == ["police_110"]  # the push, once
    assert not any(d["recipient"] == "family" for ds in sent.values() for d in ds)
    assert set(sent) == {"information-report", "level-report", "duty-family-0", "alarm-110", "duty-alarm-110"}
    await h.skip(timedelta(minutes=3))
    await h.report(wf, "phoned", duty="alarm-110", counterpart="110接警员 陈某", agreed="派员到场勘查",
                   actor="东城司法所 李春燕")
    acc = await h.api.accountability(wf)
    row = next(o for o in acc.obligations if o.id == "duty/alarm-110")
    assert row.status is ObligationStatus.ON_TIME and row.person == "东城司法所 夜班值班员 李春燕"
    assert row.how == "东城司法所 李春燕" and row.done_at is not None and row.done_at - duty.issued_at >= timedelta(minutes=3)


async def test_c11_each_110_request_is_its_own_phone_duty_escalated_when_unconfirmed(rostered):
    """001 §4(11) 联系协调公安等相关职能部门予以妥善处置: each ``police_requested`` is its own phone duty of the
    person on duty then (``alarm-110-<n>``); one left unconfirmed goes to the section at its due time and
    to the leadership group ``duty_leadership_after`` later, and the register says 超时未报."""
    h, clock = rostered
    clock.at = DAY
    wf = await h.start("C11")
    await h.report(wf, "police_requested", reason="对象持刀扬言报复家人")
    first = await until_duty_named(h, wf, "alarm-110-1")
    clock.at = NIGHT
    await h.report(wf, "police_requested", reason="对象再次冲击家人住所")
    second = await until_duty_named(h, wf, "alarm-110-2")
    assert (first.person, second.person) == ("jo-day", "jo-night")
    assert first.form is second.form is DutyForm.PHONE and first.clause == "001 §4(11)"
    st = await h.status(wf)
    assert "对象再次冲击家人住所" in text_to(st.timeline, "duty-alarm-110-2", "justice_office")
    await h.report(wf, "phoned", duty="alarm-110-1", counterpart="110接警员", actor="东城司法所 孙立新")
    await h.skip(DEFAULT_POLICY.immediate + timedelta(minutes=1))
    st = await h.until_step(wf, "duty-alarm-110-2-missed")
    assert recipients(st.timeline, "duty-alarm-110-2-missed") == {"correction_section"}
    chief = text_to(st.timeline, "duty-alarm-110-2-missed", "correction_section")
    assert "【超时督办】" in chief and "责任人:东城司法所 夜班值班员 李春燕" in chief
    assert not any(e.step == "duty-alarm-110-1-missed" for e in st.timeline)  # confirmed in time
    await h.skip(DEFAULT_POLICY.duty_leadership_after)
    st = await h.until_step(wf, "duty-alarm-110-2-leadership-missed")
    assert recipients(st.timeline, "duty-alarm-110-2-leadership-missed") == {"leadership_group"}
    sent = sent_of(h, wf)
    assert sent["duty-alarm-110-2-missed"][0]["recipient_phone"] == "13800000201"
    assert sent["duty-alarm-110-2-leadership-missed"][0]["recipient_phone"] == "13800000301"
    acc = {o.id: o for o in (await h.api.accountability(wf)).obligations}
    assert acc["duty/alarm-110-1"].status is ObligationStatus.ON_TIME and acc["duty/alarm-110-1"].person.endswith("孙立新")
    assert acc["duty/alarm-110-2"].status is ObligationStatus.OVERDUE and acc["duty/alarm-110-2"].person.endswith("李春燕")


async def test_c4_search_is_the_on_duty_officers_duty_escalated_then_late(rostered):
    """001 §4(4) 司法所应当 立即组织查找,经通讯联络、信息化核查、实地查访等方式 进行查找: a duty of the 司法所's
    on-duty officer, due within ``immediate``, discharged by the ``search_result`` report; unconfirmed, the
    section then the leadership group are told; nothing is sent to the subject's family or the police
    before the search has failed."""
    h, clock = rostered
    clock.at = DAY
    wf = await h.start("C4")
    duty = await until_duty_named(h, wf, "search")
    assert duty.person == "jo-day" and duty.form is DutyForm.VERIFICATION and (duty.evidence, duty.by_report) == ("verified", "search_result")
    assert duty.title_zh == "立即组织查找,经通讯联络、信息化核查、实地查访等方式进行查找"
    assert duty.due_at - duty.issued_at == DEFAULT_POLICY.immediate and duty.counterpart is None
    st = await h.status(wf)
    task = text_to(st.timeline, "duty-search", "justice_office")
    assert "【值班任务·核实】立即组织查找,经通讯联络、信息化核查、实地查访等方式进行查找(依据001 §4(4))" in task
    assert "完成后请报告“查找结果”或“verified”(任务编号 search)" in task and "电话:" not in task
    await h.skip(DEFAULT_POLICY.immediate + timedelta(minutes=1))
    st = await h.until_step(wf, "duty-search-missed")
    assert recipients(st.timeline, "duty-search-missed") == {"correction_section"}
    await h.skip(DEFAULT_POLICY.duty_leadership_after)
    await h.until_step(wf, "duty-search-leadership-missed")
    await h.report(wf, "search_result", found=False, methods=["phone", "field_visit"], actor="东城司法所 孙立新")
    board = await h.api.duties(wf)
    done = next(d for d in board.closed if d.id == "search")
    assert done.done_by == "东城司法所 孙立新" and done.result_zh == "查找方式:通讯联络、实地查访;仍未发现下落"
    assert [a.value for a in done.escalated_to] == ["correction_section", "leadership_group"]
    acc = await h.api.accountability(wf)
    row = next(o for o in acc.obligations if o.id == "duty/search")
    assert row.status is ObligationStatus.LATE and row.person == "东城司法所 白班值班员 孙立新"
    sent = sent_of(h, wf)
    assert [d["recipient_phone"] for d in sent["duty-search"]] == ["13800000401"]
    assert not any(d["recipient"] in ("family", "police_110") for ds in sent.values() for d in ds)
    assert not any(d["recipient"] == "police_organ" for d in sum((sent[s] for s in sent if s != "section-police-search"), []))


async def test_c4_search_confirmed_by_verified_before_the_result(rostered):
    """The search duty's form report (``verified``) discharges it too; the clause still waits for the
    ``search_result`` (found or not) to go on."""
    h, clock = rostered
    clock.at = DAY
    wf = await h.start("C4")
    await until_duty_named(h, wf, "search")
    await h.report(wf, "verified", duty="search", result="已电话联系对象及其家属、核查定位,仍在查找", actor="东城司法所 孙立新")
    board = await h.api.duties(wf)
    assert next(d for d in board.closed if d.id == "search").result_zh.startswith("核实结果:已电话联系对象")
    assert "search_result" in (await h.status(wf)).waiting_for


async def test_c9_s3_each_day_a_phone_duty_of_the_person_on_duty_that_day(rostered):
    """001 §4(9) 情形三 司法所应当每日与外出人员保持联系,做好人员疫情信息的动态关注: one phone duty a day, to the
    person on duty at the 司法所 when the day begins, with the subject's number; discharged by that day's
    ``daily_contact`` report or ``phoned``; a day without contact goes to the section, then the leadership
    group; each day is its own row of the register, naming its person. The subject is never sent a message."""
    h, clock = rostered
    clock.at = DAY
    wf = await h.start("C9-S3")
    first = await until_duty_named(h, wf, "contact-subject")  # 立即与该外出人员取得联系,了解情况
    assert first.person == "jo-day" and first.form is DutyForm.PHONE and first.counterpart_phone == "13700000002"
    await h.report(wf, "phoned", duty="contact-subject", counterpart="对象本人", agreed="在宁波市海曙区居家隔离",
                   actor="东城司法所 孙立新")
    one = await until_duty_named(h, wf, "daily-contact-1")
    assert one.person == "jo-day" and one.form is DutyForm.PHONE and (one.evidence, one.by_report) == ("phoned", "daily_contact")
    assert one.counterpart_zh == "外出的社区矫正对象" and one.counterpart_phone == "13700000002"
    assert one.due_at - one.issued_at == DEFAULT_POLICY.daily_contact and one.clause == "001 §4(9) 情形三"
    st = await h.status(wf)
    task = text_to(st.timeline, "duty-daily-contact-1", "justice_office")
    assert "【值班任务·电话】第1日联系外出人员(依据001 §4(9) 情形三)" in task
    assert "联系对象:外出的社区矫正对象,电话:13700000002" in task and "宁波市海曙区" in task
    await h.report(wf, "phoned", duty="daily-contact-1", counterpart="对象本人", agreed="体温正常,居家隔离",
                   actor="东城司法所 孙立新")
    clock.at = NIGHT  # day 2 begins on the night shift
    await h.skip(DEFAULT_POLICY.daily_contact)
    two = await until_duty_named(h, wf, "daily-contact-2")
    assert two.person == "jo-night"
    await h.report(wf, "daily_contact", reached=True, health="体温正常", actor="东城司法所 李春燕")
    clock.at = DAY
    await h.skip(DEFAULT_POLICY.daily_contact)
    await until_duty_named(h, wf, "daily-contact-3")  # day 3: nobody confirms
    await h.skip(DEFAULT_POLICY.daily_contact + timedelta(minutes=1))
    st = await h.until_step(wf, "duty-daily-contact-3-missed")
    assert recipients(st.timeline, "duty-daily-contact-3-missed") == {"correction_section"}
    await h.skip(DEFAULT_POLICY.duty_leadership_after)
    st = await h.until_step(wf, "duty-daily-contact-3-leadership-missed")
    assert recipients(st.timeline, "duty-daily-contact-3-leadership-missed") == {"leadership_group"}
    acc = {o.id: o for o in (await h.api.accountability(wf)).obligations if o.id.startswith("duty/daily-contact-")}
    assert acc["duty/daily-contact-1"].status is ObligationStatus.ON_TIME and acc["duty/daily-contact-1"].how == "东城司法所 孙立新"
    assert acc["duty/daily-contact-2"].status is ObligationStatus.ON_TIME
    assert acc["duty/daily-contact-2"].person == "东城司法所 夜班值班员 李春燕"
    assert acc["duty/daily-contact-3"].status is ObligationStatus.OVERDUE and acc["duty/daily-contact-3"].title_zh == "第3日联系外出人员"
    board = await h.api.duties(wf)
    assert next(d for d in board.closed if d.id == "daily-contact-2").result_zh == "已取得联系,体温正常"
    sent = sent_of(h, wf)
    assert not any(d.get("recipient_phone") == "13700000002" for ds in sent.values() for d in ds)  # no SMS to the subject
    assert {s for s in sent if s.startswith("duty-daily-contact-") and not s.endswith("missed")} == {
        "duty-daily-contact-1", "duty-daily-contact-2", "duty-daily-contact-3", "duty-daily-contact-4"}


async def test_c10_contact_with_the_subject_is_a_phone_duty_evidenced_by_the_persuasion_report(rostered):
    """001 §4(10) 应当立即联系社区矫正对象核实情况,要求其离开活动举办场所: the 司法所's on-duty officer calls the
    subject (their number in the task); the ``persuasion`` report is the call's evidence; unconfirmed
    within ``immediate`` it goes to the section, then the leadership group; the subject gets no message."""
    h, clock = rostered
    clock.at = NIGHT
    wf = await h.start("C10")
    duty = await until_duty_named(h, wf, "contact-subject")
    assert duty.person == "jo-night" and duty.form is DutyForm.PHONE and (duty.evidence, duty.by_report) == ("phoned", "persuasion")
    assert duty.counterpart_zh == "社区矫正对象" and duty.counterpart_phone == "13700000002"
    await h.skip(DEFAULT_POLICY.immediate + timedelta(minutes=1))
    st = await h.until_step(wf, "duty-contact-subject-missed")
    assert recipients(st.timeline, "duty-contact-subject-missed") == {"correction_section"}
    await h.skip(DEFAULT_POLICY.duty_leadership_after)
    await h.until_step(wf, "duty-contact-subject-leadership-missed")
    await h.report(wf, "persuasion", complied=True, actor="东城司法所 李春燕")
    acc = {o.id: o for o in (await h.api.accountability(wf)).obligations}
    row = acc["duty/contact-subject"]
    assert row.status is ObligationStatus.LATE and row.person == "东城司法所 夜班值班员 李春燕"
    assert row.how == "东城司法所 李春燕"
    board = await h.api.duties(wf)
    assert next(d for d in board.closed if d.id == "contact-subject").result_zh == "已联系社区矫正对象,已离开活动举办场所"
    sent = sent_of(h, wf)
    assert not any(d.get("recipient_phone") == "13700000002" for ds in sent.values() for d in ds)
    assert "police_110" not in {d["recipient"] for ds in sent.values() for d in ds}  # complied: no 110
