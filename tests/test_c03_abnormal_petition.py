"""C3, 001 §4(3): 社区矫正对象参与非正常上访 — every branch of the clause."""

from __future__ import annotations

from helpers import Harness, decisions, recipients, refused, steps, text_to

from plan.models import ObligationStatus

CLOSE = dict(result="对象已被带回执行地,依法予以警告", current_situation="对象在执行地接受监管", measures_taken=["说服教育", "带回执行地"])
STEPS = [
    "information-report",
    "level-report",
    "inform-petition-office",   # 及时向同级信访部门通报情况
    "punishment-report-up",
    "feedback-on-close",
    "written-report",
    "review-report",
]


async def _finish(h: Harness, wf: str, decision: str = "警告"):
    return await h.punish_and_close(wf, decision, **CLOSE)


async def test_brought_back_without_claims(harness: Harness):
    wf = await harness.start("C3")
    await harness.report(wf, "arrived")
    st = await harness.until_step(wf, "inform-petition-office")
    assert st.waiting_for == ["handled"]
    await harness.report(wf, "handled")
    out = await _finish(harness, wf)
    tl = out.timeline
    assert steps(tl) == STEPS
    assert recipients(tl, "inform-petition-office") == {"petition_office"}
    petition = text_to(tl, "inform-petition-office", "petition_office")
    assert "社区矫正对象李明轩" in petition and "省信访局来访接待中心门前" in petition
    assert "参与非正常上访" in petition and "协助信访部门对社区矫正对象进行说服教育,将其带回执行地" in petition
    assert recipients(tl, "punishment-report-up") == {"higher_correction_agency", "procuratorate"}
    assert "处罚决定:警告" in text_to(tl, "punishment-report-up", "procuratorate")
    d = decisions(tl)
    assert d.index("协助信访部门对社区矫正对象进行说服教育") < d.index("经说服教育,将社区矫正对象带回执行地")
    assert not [x for x in d if "合法合理诉求" in x]
    acc = out.accountability
    assert acc.missing == 0 and acc.late == 0
    status = {o.id: o.status for o in acc.obligations}
    assert status["inform-petition-office/petition_office"] is ObligationStatus.ON_TIME
    assert status["punishment-report-up/procuratorate"] is ObligationStatus.ON_TIME


async def test_each_claim_studied_and_answered_before_closing(harness: Harness):
    """对社区矫正对象反映的合法合理诉求,要认真研究处理: who studies each claim and its outcome are on the
    record, and the incident cannot close while a claim is unanswered."""
    wf = await harness.start("C3")
    await harness.report(wf, "arrived")
    await harness.report(wf, "handled", claims=["宅基地确权纠纷久拖未决", "低保资格被取消"])
    await harness.report(wf, "punishment", decision="训诫", actor="区司法局社区矫正管理科")
    st = await harness.until(wf, lambda st: st.waiting_for == ["claim_handled"])
    await refused(harness, wf, "closed", "closed: handling is not finished; waiting for claim_handled", **CLOSE)
    await refused(harness, wf, "claim_handled", "claim_handled: claim 3 does not exist; the subject raised 2 claim(s)",
                  claim=3, studied_by="东城司法所", outcome="x")
    await harness.report(wf, "claim_handled", claim=2, studied_by="东城司法所", outcome="已协调民政部门复核,恢复低保")
    await refused(harness, wf, "claim_handled", "claim_handled: claim 2 was already answered",
                  claim=2, studied_by="东城司法所", outcome="x")
    await harness.report(wf, "claim_handled", claim=1, studied_by="区司法局社区矫正管理科", outcome="已转请街道依法确权")
    out = await harness.close(wf, **CLOSE)
    tl = out.timeline
    assert steps(tl) == STEPS
    d = decisions(tl)
    first = "对象反映的合法合理诉求(第1项):宅基地确权纠纷久拖未决,认真研究处理"
    second = "对象反映的合法合理诉求(第2项):低保资格被取消,认真研究处理"
    assert d.index("经说服教育,将社区矫正对象带回执行地") < d.index(first) < d.index(second) < d.index("社区矫正管理科依法处罚:训诫")
    assert d.index("社区矫正管理科依法处罚:训诫") < d.index("合法合理诉求(第2项)经东城司法所研究处理:已协调民政部门复核,恢复低保")
    assert "合法合理诉求(第1项)经区司法局社区矫正管理科研究处理:已转请街道依法确权" in d
    assert next(e for e in tl if e.text_zh == first).clause == "001 §4(3)"
    assert out.accountability.missing == 0


async def test_reports_out_of_clause_order_are_refused_with_reason(harness: Harness):

    wf = await harness.start("C3")
    await refused(harness, wf, "punishment", "punishment: not expected now; the incident is waiting for arrived, handled",
                  decision="警告")
    await refused(harness, wf, "closed", "closed: handling is not finished; waiting for handled", **CLOSE)
    await refused(harness, wf, "handled", "handled: crime_suspected applies to 001 §4(1)", crime_suspected=True)
    await refused(harness, wf, "persuasion", "kind: 'persuasion' does not apply to C3", complied=True)
    await harness.report(wf, "arrived")
    await harness.report(wf, "handled")
    await refused(harness, wf, "handled", "handled: not expected now; the incident is waiting for punishment")
    out = await _finish(harness, wf)
    assert out.accountability.missing == 0
