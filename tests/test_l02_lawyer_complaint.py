"""L2, 000 §1.4(2) with §2.3: 受理处置对律师违规接案、收费等行为的投诉和举报 — named and anonymous."""

from __future__ import annotations

import pytest
from helpers import Harness, recipients, steps, text_to

from plan.models import EntryKind
from starter.api import ReportRefused

TITLE = "律师违规接案、收费投诉举报"
PLACE = "西城街道劳动北路 126 号(某律师事务所)"
CLOSE = dict(
    result="投诉举报已调查处理完毕",
    current_situation="违规收取的费用已退还投诉人",
    measures_taken=["调查核实", "责令退费"],
)
RESULT = dict(
    substantiated=True,
    findings="律师未签订书面委托合同即收取代理费且未出具票据",
    action="责令退还违规收取的代理费,移送律师协会处理",
    actor="区司法局法律服务组",
)


async def test_named_complaint_registered_investigated_and_answered(harness: Harness):
    wf = await harness.start("L2")
    st = await harness.until_step(wf, "acknowledge-complainant")
    assert st.waiting_for == ["complaint_result"]
    await harness.report(wf, "complaint_result", **RESULT)
    out = await harness.close(wf, review=False, **CLOSE)
    tl = out.timeline
    assert steps(tl) == [
        "information-report",
        "register-complaint",          # 法律服务组…受理处置…投诉和举报 (000 §2.3)
        "acknowledge-complainant",
        "outcome-to-complainant",
        "outcome-to-centre",
        "feedback-on-close",           # general flow: fed back once handling is over (000 §3(3))
        "written-report",
        "aftermath-done",              # 000 §4.4 善后处置…密切关注以后情况并及时上报
    ]
    assert recipients(tl, "register-complaint") == {"legal_service_group"}
    assert recipients(tl, "acknowledge-complainant") == {"party"}
    assert recipients(tl, "outcome-to-complainant") == {"party"}
    assert recipients(tl, "outcome-to-centre") == {"command_centre"}
    register = text_to(tl, "register-complaint", "legal_service_group")
    assert TITLE in register and PLACE in register and "开展调查" in register
    ack = text_to(tl, "acknowledge-complainant", "party")
    assert "已受理登记" in ack and TITLE in ack
    for step, to in [("outcome-to-complainant", "party"), ("outcome-to-centre", "command_centre")]:
        text = text_to(tl, step, to)
        assert "经调查属实" in text and RESULT["findings"] in text and RESULT["action"] in text
        assert TITLE in text and PLACE in text
    decisions = [e for e in tl if e.kind is EntryKind.DECISION]
    assert decisions[1].text_zh == "受理投诉举报并登记" and decisions[1].clause == "000 §1.4(2)"
    assert any(e.text_zh.startswith("投诉举报经调查属实") and e.actor == "区司法局法律服务组" for e in decisions)
    # the complainant is reached at the phone given with the incident
    party = [d for d in harness.outbox() if d["recipient"] == "party"]
    assert {d["recipient_phone"] for d in party} == {"13700000011"}
    assert out.review_report_zh == ""  # 000 has no post-incident review
    assert out.accountability and out.accountability.missing == 0 and out.accountability.late == 0


async def test_anonymous_complaint_tells_no_party(harness: Harness):
    wf = await harness.start("L2", complainant=None)
    await harness.until_step(wf, "register-complaint")
    with pytest.raises(ReportRefused) as err:
        await harness.report(wf, "closed", **CLOSE)
    assert "waiting for complaint_result" in str(err.value)
    await harness.report(wf, "complaint_result", substantiated=False, findings="经调取收费票据和委托合同,收费符合规定",
                         action="向指挥中心说明情况,不予处理", actor="区司法局法律服务组")
    with pytest.raises(ReportRefused) as err2:
        await harness.report(wf, "complaint_result", substantiated=True, findings="x", action="y")
    assert "complaint_result: not expected now" in str(err2.value)
    out = await harness.close(wf, review=False, **CLOSE)
    tl = out.timeline
    assert steps(tl) == [
        "information-report", "register-complaint", "outcome-to-centre", "feedback-on-close", "written-report",
        "aftermath-done",
    ]
    assert not [e for e in tl if e.recipient and e.recipient.value == "party"]
    assert "经调查不属实" in text_to(tl, "outcome-to-centre", "command_centre")
    assert "受理投诉举报并登记(匿名举报)" in [e.text_zh for e in tl if e.kind is EntryKind.DECISION]
