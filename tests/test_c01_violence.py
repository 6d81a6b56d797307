"""C1, 001 §4(1): 社区矫正对象实施行凶等犯罪或以要挟为目的的自杀自残 — every branch of the clause."""

from __future__ import annotations

import pytest
from helpers import Harness, decisions, recipients, refused, steps, text_to

from plan.models import EntryKind, ObligationStatus
from starter.api import InvalidInput

CLOSE = dict(result="对象已被公安机关控制,事态平息", current_situation="现场秩序恢复正常", measures_taken=["配合公安处置", "心理疏导"])
ON_SITE = "区司法局社区矫正管理科和司法所第一时间前往事发现场,配合公安机关对社区矫正对象进行思想教育和心理疏导,控制事态发展"
INVESTIGATION = "配合公安机关开展犯罪侦查和调查取证工作"
TAIL = ["punishment-report-up", "feedback-on-close", "written-report", "review-report"]


async def _finish(h: Harness, wf: str, decision: str = "警告"):
    return await h.punish_and_close(wf, decision, **CLOSE)


def _assert_accountable(out) -> None:
    acc = out.accountability
    assert acc.missing == 0 and acc.late == 0 and acc.pending == 0
    status = {o.id: o.status for o in acc.obligations}
    assert status["alarm-110/police_110"] is ObligationStatus.ON_TIME
    assert status["alarm-110/correction_section"] is ObligationStatus.ON_TIME


async def test_no_casualties_no_crime_suspected(harness: Harness):
    wf = await harness.start("C1")
    await harness.report(wf, "arrived")
    await harness.report(wf, "handled", crime_suspected=False)
    out = await _finish(harness, wf)
    tl = out.timeline
    # 110 is the incident's very first notification, before the information report (000 §4.2)
    assert steps(tl) == ["alarm-110", "information-report", "level-report", *TAIL]
    # 立即向公安“110”或执行地公安派出所报警并向区司法局社区矫正管理科报告 (同时); the section is not told twice
    assert recipients(tl, "alarm-110") == {"police_110", "correction_section"}
    assert recipients(tl, "level-report") == {"higher_correction_agency"}
    assert recipients(tl, "punishment-report-up") == {"higher_correction_agency", "procuratorate"}
    sent = {e.recipient.value for e in tl if e.kind is EntryKind.NOTIFICATION and e.recipient}
    assert not sent & {"medical_120", "police_organ"}
    police = text_to(tl, "alarm-110", "police_110")
    assert "社区矫正对象李明轩" in police and "东城街道桔乡路 12 号农贸市场" in police and "请立即出警处置" in police
    assert "持刀威胁他人" in police
    section = text_to(tl, "alarm-110", "correction_section")
    assert "司法所已向公安“110”报警" in section and "第一时间前往事发现场" in section and "逐级上报" in section
    up = text_to(tl, "punishment-report-up", "procuratorate")
    assert "相应处罚:警告" in up and "社区矫正对象李明轩" in up
    d = decisions(tl)
    assert ON_SITE in d and "现场处置完毕,事态得到控制" in d and "社区矫正管理科依法处罚:警告" in d
    assert INVESTIGATION not in d
    assert all(e.clause == "001 §4(1)" for e in tl if e.step in ("alarm-110", "punishment-report-up"))
    _assert_accountable(out)


async def test_casualties_at_start_and_crime_suspected(harness: Harness):
    wf = await harness.start("C1", casualties=True)
    await harness.report(wf, "arrived")
    st = await harness.until_step(wf, "level-report")
    assert st.waiting_for == ["handled", "casualties"]
    await harness.report(wf, "handled", crime_suspected=True)
    out = await _finish(harness, wf, decision="提请撤销缓刑")
    tl = out.timeline
    assert steps(tl) == [
        "alarm-110",
        "medical-120",             # 如有人员伤亡的,应立即拨打 120
        "information-report",
        "level-report",
        "investigation-support",   # 对涉嫌实施犯罪的社区矫正对象,配合公安机关开展犯罪侦查和调查取证工作
        *TAIL,
    ]
    assert recipients(tl, "medical-120") == {"medical_120"}
    medical = text_to(tl, "medical-120", "medical_120")
    assert "现场有人员伤亡" in medical and "东城街道桔乡路 12 号农贸市场" in medical and "救治" in medical
    assert recipients(tl, "investigation-support") == {"police_organ"}
    assert "调查取证" in text_to(tl, "investigation-support", "police_organ")
    assert INVESTIGATION in decisions(tl)
    assert "相应处罚:提请撤销缓刑" in text_to(tl, "punishment-report-up", "higher_correction_agency")
    _assert_accountable(out)
    assert {o.id: o.status for o in out.accountability.obligations}["medical-120/medical_120"] is ObligationStatus.ON_TIME


async def test_casualties_reported_later_each_call_120(harness: Harness):
    wf = await harness.start("C1")
    await harness.report(wf, "arrived")
    await harness.report(wf, "casualties", injured=2)
    await harness.report(wf, "casualties", injured=0, dead=1)
    st = await harness.until_step(wf, "medical-120-2")
    assert st.waiting_for == ["handled", "casualties"]
    await harness.report(wf, "handled")
    out = await _finish(harness, wf)
    tl = out.timeline
    assert steps(tl) == ["alarm-110", "information-report", "level-report", "medical-120-1", "medical-120-2", *TAIL]
    assert "medical-120" not in steps(tl)  # no casualties known at the start
    assert "受伤2人、死亡0人" in text_to(tl, "medical-120-1", "medical_120")
    assert "受伤0人、死亡1人" in text_to(tl, "medical-120-2", "medical_120")
    assert "police_organ" not in {e.recipient.value for e in tl if e.recipient}
    _assert_accountable(out)


async def test_reports_out_of_clause_order_are_refused_with_reason(harness: Harness):

    wf = await harness.start("C1")
    await refused(harness, wf, "punishment", "punishment: not expected now; the incident is waiting for arrived, handled, casualties",
                  decision="警告")
    await refused(harness, wf, "closed", "closed: handling is not finished; waiting for handled, casualties", **CLOSE)
    with pytest.raises(InvalidInput, match="injured: a casualties report needs at least one injured or dead person"):
        await harness.report(wf, "casualties", injured=0)
    await refused(harness, wf, "handled", "handled: claims apply to 001 §4(3)", claims="要求解决债务纠纷")
    await refused(harness, wf, "persuasion", "kind: 'persuasion' does not apply to C1", complied=True)
    await harness.report(wf, "arrived")
    await harness.report(wf, "handled")
    await refused(harness, wf, "casualties", "casualties: not expected now; the incident is waiting for punishment", injured=1)
    await refused(harness, wf, "handled", "handled: not expected now", crime_suspected=True)
    out = await _finish(harness, wf)
    assert [e.text_zh for e in out.timeline if e.kind is EntryKind.REFUSED] == []  # updates: refused to the sender
    assert "medical_120" not in {e.recipient.value for e in out.timeline if e.recipient}
    assert out.accountability.missing == 0
