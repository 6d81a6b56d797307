"""L3, 000 §1.4(3) with §2.3: 按有关规定对求助人员提供法律援助 — granted and refused."""

from __future__ import annotations

from helpers import Harness, recipients, steps, text_to

from plan.models import EntryKind

TITLE = "求助人员法律援助"
PLACE = "南城街道区公共法律服务中心"
CLOSE = dict(result="法律援助申请已审查决定", current_situation="求助人已知悉决定", measures_taken=["审查申请材料"])


async def test_aid_granted(harness: Harness):
    wf = await harness.start("L3")
    st = await harness.until_step(wf, "aid-request")
    assert st.waiting_for == ["aid_decision"]
    await harness.report(wf, "aid_decision", granted=True, reason="经济困难,符合法律援助条件,指派南城律师事务所律师代理",
                         actor="区司法局法律援助组")
    out = await harness.close(wf, review=False, **CLOSE)
    tl = out.timeline
    assert steps(tl) == [
        "information-report", "aid-request", "decision-to-help-seeker", "outcome-to-centre",
        "feedback-on-close", "written-report", "aftermath-done",
    ]
    assert recipients(tl, "aid-request") == {"legal_aid_group"}
    req = text_to(tl, "aid-request", "legal_aid_group")
    assert "按有关规定审查并提供法律援助" in req and TITLE in req and PLACE in req
    to_seeker = text_to(tl, "decision-to-help-seeker", "party")
    assert "决定给予您法律援助" in to_seeker and "指派" in to_seeker and "异议" not in to_seeker
    assert "给予法律援助" in text_to(tl, "outcome-to-centre", "command_centre")
    decisions = [e for e in tl if e.kind is EntryKind.DECISION]
    assert any(e.text_zh.startswith("给予法律援助") and e.clause == "000 §2.3" for e in decisions)
    party = [d for d in harness.outbox() if d["recipient"] == "party"]
    assert {d["recipient_phone"] for d in party} == {"13700000012"}
    assert out.accountability and out.accountability.missing == 0


async def test_aid_refused_with_reason(harness: Harness):
    wf = await harness.start("L3")
    reason = "申请人家庭经济状况不符合本地法律援助经济困难标准"
    await harness.report(wf, "aid_decision", granted=False, reason=reason, actor="区司法局法律援助组")
    out = await harness.close(wf, review=False, **CLOSE)
    tl = out.timeline
    to_seeker = text_to(tl, "decision-to-help-seeker", "party")
    assert "决定不予法律援助" in to_seeker and reason in to_seeker
    assert "有异议的,可以依法向设立该法律援助机构的司法行政部门提出" in to_seeker
    assert f"不予法律援助:{reason}" in text_to(tl, "outcome-to-centre", "command_centre")
    assert f"不予法律援助:{reason}" in [e.text_zh for e in tl if e.kind is EntryKind.DECISION]
