"""Platform alarms (信息化核查, 001 §4(4)), on the time-skipping server with the real constants.

001 §4(4): "经通讯联络、信息化核查、实地查访等方式进行查找后仍未发现社区矫正对象下落的,上报区司法局社区矫正管理科".
An alarm is a verification duty of the 司法所's on-duty person, due within ``alarm_verification``
(local policy); unverified, it is escalated to the section, then the leadership group
(``duty_leadership_after``); verified harmless, it closes with the finding; absconding confirmed, C4 starts.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpers import ROOT, STARTED_ON_OWN_QUEUES, Harness
from plan import alarms as al
from plan.agencies import Agency
from plan.models import DutyStatus, EntryKind
from plan.policy import DEFAULT_POLICY
from starter.alarms import AlarmClient, parse_alarm
from starter.api import InvalidInput, ReportRefused

EXAMPLE = ROOT / "examples" / "alarms" / "out_of_bounds.json"


def alarm(**overrides: Any) -> dict[str, Any]:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["alarm_id"] = f"PT-{uuid.uuid4().hex[:6]}-{uuid.uuid4().hex[:6]}"
    data["raised_at"] = datetime.now(UTC).isoformat()
    data.update(overrides)
    return data


async def receive(h: Harness, **overrides: Any) -> tuple[AlarmClient, str]:
    client = AlarmClient(h.env.client, h.queue)
    receipt = await client.receive(alarm(**overrides))
    assert not receipt.already_received
    h.started.append(receipt.workflow_id)
    STARTED_ON_OWN_QUEUES.append((h.queue, receipt.workflow_id))
    return client, receipt.workflow_id


async def until(client: AlarmClient, wf: str, pred, tries: int = 300) -> al.AlarmStatus:
    import asyncio

    for _ in range(tries):
        st = await client.status(wf)
        if pred(st):
            return st
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached: {st.model_dump_json(indent=1)[:3000]}")


def duty_tasks(h: Harness, wf: str) -> list[dict[str, Any]]:
    return [d for d in h.outbox() if d["workflow_id"] == wf]


async def test_an_alarm_delivered_twice_makes_one_duty(harness: Harness) -> None:
    """The platform's alarm id is the idempotency key: the second delivery is "already received"."""
    data = alarm()
    client = AlarmClient(harness.env.client, harness.queue)
    first = await client.receive(data)
    harness.started.append(first.workflow_id)
    STARTED_ON_OWN_QUEUES.append((harness.queue, first.workflow_id))
    second = await client.receive(data)
    assert first.workflow_id == f"alarm-{data['alarm_id']}" == second.workflow_id
    assert not first.already_received and second.already_received
    assert "已接收" in first.message_zh and "重复推送" in second.message_zh
    st = await until(client, first.workflow_id, lambda s: bool(s.duties))
    assert [d.id for d in st.duties] == [al.VERIFY_DUTY]
    assert st.due_at == st.received_at + DEFAULT_POLICY.alarm_verification
    tasks = duty_tasks(harness, first.workflow_id)
    assert [(t["step"], t["recipient"]) for t in tasks] == [("duty-alarm-verify", Agency.JUSTICE_OFFICE.value)]
    text = tasks[0]["message_zh"]
    for words in ("【值班任务·核实】初步核实信息化核查平台报警(越界)", "依据001 §4(4)", "社区矫正对象李明轩越界报警",
                  "通讯联络、信息化核查、实地查访", "完成后请报告“verified”(任务编号 alarm-verify)"):
        assert words in text, words
    # verified harmless: closed with the finding and who verified
    msg = await client.verify(first.workflow_id, finding="leave_approved", result="已电话联系,对象经批准请假外出就医",
                              actor="东城司法所 孙立新")
    assert msg == "已受理核实结果:经批准请假外出"
    out = await client.result(first.workflow_id)
    assert out.outcome is al.AlarmOutcome.HARMLESS and not out.overdue
    assert out.finding is al.AlarmFinding.LEAVE_APPROVED and out.verified_by == "东城司法所 孙立新"
    assert out.duties[0].status is DutyStatus.DONE
    texts = [e.text_zh for e in out.timeline if e.kind is EntryKind.DECISION]
    assert texts == ["报警核实无异常,关闭:核实结果:经批准请假外出;已电话联系,对象经批准请假外出就医(核实人:东城司法所 孙立新)"]
    # a redelivery after it closed is still the same alarm, and starts nothing
    again = await client.receive(data)
    assert again.already_received and again.workflow_id == first.workflow_id
    assert len(duty_tasks(harness, first.workflow_id)) == 1


async def test_an_unverified_alarm_escalates_at_its_due_time(harness: Harness) -> None:
    """Unverified by the due time: the section at once, the leadership group 30 minutes later; open."""
    client, wf = await receive(harness, kind="signal_lost")
    await until(client, wf, lambda s: bool(s.duties))
    await harness.skip(DEFAULT_POLICY.alarm_verification - timedelta(minutes=1))
    st = await client.status(wf)
    assert not st.overdue and st.duties[0].escalated_to == []
    await harness.skip(timedelta(minutes=2))
    st = await until(client, wf, lambda s: s.overdue and s.duties[0].escalated_to == [Agency.CORRECTION_SECTION])
    assert st.outcome is al.AlarmOutcome.PENDING
    await harness.skip(DEFAULT_POLICY.duty_leadership_after)
    st = await until(client, wf, lambda s: len(s.duties[0].escalated_to) == 2)
    assert st.duties[0].escalated_to == [Agency.CORRECTION_SECTION, Agency.LEADERSHIP_GROUP]
    sent = [(d["step"], d["recipient"]) for d in duty_tasks(harness, wf)]
    assert sent == [("duty-alarm-verify", "justice_office"), ("duty-alarm-verify-missed", "correction_section"),
                    ("duty-alarm-verify-leadership-missed", "leadership_group")]
    missed = duty_tasks(harness, wf)[1]["message_zh"]
    assert "【超时督办】值班任务“初步核实信息化核查平台报警(定位信号中断)”" in missed
    # the register (001 §7(4)) shows it overdue (超时未报) while open
    acc = await harness.env.client.get_workflow_handle(wf).query("accountability")
    assert [o["status"] for o in acc["obligations"]] == ["overdue"]
    # verified late: taken, closed, still counted overdue
    await client.verify(wf, finding="signal_blind_spot", result="对象在地下车库工作,信号盲区", actor="东城司法所 孙立新")
    out = await client.result(wf)
    assert out.outcome is al.AlarmOutcome.HARMLESS and out.overdue


async def test_refusals_name_the_reason(harness: Harness) -> None:
    client, wf = await receive(harness)
    await until(client, wf, lambda s: bool(s.duties))
    from temporalio.client import WorkflowUpdateFailedError

    with pytest.raises(WorkflowUpdateFailedError) as err:
        await harness.env.client.get_workflow_handle(wf).execute_update(
            "submit_report", {"kind": "verified", "duty": "alarm-other", "finding": "false_alarm", "result": "x",
                              "actor": "a"})
    assert "no duty 'alarm-other'" in str(err.value.cause)
    with pytest.raises(InvalidInput, match="finding"):
        await client.verify(wf, finding="maybe", result="x", actor="a")
    await client.verify(wf, finding="false_alarm", result="平台误报,对象在家", actor="东城司法所 孙立新")
    with pytest.raises(ReportRefused, match="already"):
        await client.verify(wf, finding="false_alarm", result="again", actor="东城司法所 孙立新")
    await client.result(wf)


def test_alarm_input_refuses_personal_data_in_the_id_and_stale_alarms() -> None:
    with pytest.raises(InvalidInput, match="alarm_id: contains an ID-number-shaped"):
        parse_alarm(alarm(alarm_id="PT-331003199001011236"))
    with pytest.raises(InvalidInput, match="alarm_id"):
        parse_alarm(alarm(alarm_id="李明轩"))
    with pytest.raises(InvalidInput, match="raised_at: more than 7 days ago"):
        parse_alarm(alarm(raised_at=(datetime.now(UTC) - timedelta(days=8)).isoformat()))
    with pytest.raises(InvalidInput, match="kind"):
        parse_alarm(alarm(kind="bored"))


async def test_an_alarm_verified_as_out_of_bounds_without_leave_starts_c4_with_its_facts(harness: Harness) -> None:
    """001 §4(4): absconding confirmed (越界, no leave): C4 starts with the alarm's facts, linked both ways,
    and the alarm closes as turned into that incident."""
    client, wf = await receive(harness, kind="out_of_bounds")
    await until(client, wf, lambda s: bool(s.duties))
    await client.verify(wf, finding="absconded", result="未请假,电话无法接通,家属称其已离开执行地",
                        actor="东城司法所 孙立新")
    out = await client.result(wf)
    c4 = f"incident-C4-{wf}"
    STARTED_ON_OWN_QUEUES.append((harness.queue, c4))
    harness.started.append(c4)
    assert out.outcome is al.AlarmOutcome.INCIDENT and out.incident == c4 and not out.overdue
    assert [e.text_zh for e in out.timeline if e.kind is EntryKind.DECISION] == [
        f"核实确认脱离监督管理,转为事件 {c4}:核实结果:脱离监督管理;未请假,电话无法接通,家属称其已离开执行地(核实人:东城司法所 孙立新)"]
    st = await harness.until(c4, lambda s: s.waiting_for == ["search_result"])
    assert st.origin is not None and st.origin.workflow_id == wf and st.origin.clause == "001 §4(4)"
    assert wf in st.related
    inp = await harness.env.client.get_workflow_handle(c4).fetch_history()
    started = inp.events[0].workflow_execution_started_event_attributes
    from temporalio.contrib.pydantic import pydantic_data_converter

    facts = pydantic_data_converter.payload_converter.from_payload(started.input.payloads[0])
    assert facts["incident_type"] == "C4" and facts["source"] == "platform_alarm" and facts["flow"] == "urgent"
    assert facts["subject"]["id_number"] == "331003199001011236"
    assert facts["place"] == "温岭市城东街道(平台最后定位)" and facts["occurred_at"].startswith(out.raised_at.isoformat()[:16])
    assert "越界,最后定位温岭市城东街道" in facts["description"] and "未请假,电话无法接通" in facts["description"]
    assert facts["reporter"]["name"] == "陈思远" and facts["reporter"]["unit"] == "东城司法所"
    # C4 runs its clause: the search (立即组织查找) is the on-duty person's duty (issue 16)
    assert "search" in [d.id for d in st.duties]


async def test_a_drill_alarm_goes_to_the_drill_outbox(harness: Harness) -> None:
    import asyncio

    from activities.channels import read_outbox

    client, wf = await receive(harness, drill=True)
    await until(client, wf, lambda s: bool(s.duties))
    drill: list[dict[str, Any]] = []
    for _ in range(200):  # the duty task is on its way once the duty exists
        drill = [d for d in read_outbox(harness.outbox_path.parent / "drill-outbox.jsonl") if d["workflow_id"] == wf]
        if drill:
            break
        await asyncio.sleep(0.05)
    assert duty_tasks(harness, wf) == []  # the real outbox has nothing of it
    assert [d["step"] for d in drill] == ["duty-alarm-verify"] and drill[0]["message_zh"].startswith("【演练】")
    await client.verify(wf, finding="false_alarm", result="演练", actor="东城司法所 孙立新")
    assert (await client.result(wf)).drill


async def test_a_verification_sent_with_the_alarm_is_judged_once_the_duty_exists(harness: Harness) -> None:
    """A service may verify in the same instant it delivers (the update lands in the first workflow task)."""
    client, wf = await receive(harness)
    msg = await client.verify(wf, finding="reported", result="对象已到司法所报告", actor="东城司法所 孙立新")
    assert msg == "已受理核实结果:已补签到或已到司法所报告"
    out = await client.result(wf)
    assert out.outcome is al.AlarmOutcome.HARMLESS and [d.status for d in out.duties] == [DutyStatus.DONE]


async def test_an_alarm_whose_run_was_terminated_is_taken_again_on_redelivery(harness: Harness) -> None:
    """Closed verified: "already received"; terminated (an operator's mistake, a bad deploy): nobody would
    handle it, so the platform's redelivery starts it again."""
    data = alarm()
    client = AlarmClient(harness.env.client, harness.queue)
    first = await client.receive(data)
    STARTED_ON_OWN_QUEUES.append((harness.queue, first.workflow_id))
    import asyncio

    await until(client, first.workflow_id, lambda s: bool(s.duties))
    for _ in range(200):  # its duty task delivered: nothing of it in flight when it is terminated
        if duty_tasks(harness, first.workflow_id):
            break
        await asyncio.sleep(0.05)
    await harness.env.client.get_workflow_handle(first.workflow_id).terminate("test: terminated by mistake")
    again = await client.receive(data)
    assert not again.already_received and again.workflow_id == first.workflow_id
    st = await until(client, again.workflow_id, lambda s: bool(s.duties))
    assert st.outcome is al.AlarmOutcome.PENDING
    # the run taken again is handled to its end (nothing left for later tests' skipped time)
    await client.verify(again.workflow_id, finding="false_alarm", result="平台误报,对象在家", actor="东城司法所 孙立新")
    await client.result(again.workflow_id)
