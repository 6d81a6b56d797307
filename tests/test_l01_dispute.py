"""L1, 000 §1.4(1) with §2.3 and the shared mechanics of 000 §3–§4: a major dispute needing mediation."""

from __future__ import annotations

from helpers import Harness, recipients, steps, text_to

from plan.models import DeadlineStatus, EntryKind

CLOSE = dict(
    result="双方达成调解协议,项目方承诺三日内支付拖欠工程款",
    current_situation="人员已疏散,现场秩序恢复正常",
    measures_taken=["现场调解", "提供法律咨询"],
)


async def test_urgent_mediation_with_legal_support(harness: Harness):
    wf = await harness.start("L1")
    await harness.report(wf, "arrived", actor="人民调解组 调解员")
    await harness.report(wf, "progress", current_situation="双方已坐下协商", measures_taken=["分别做思想工作"])
    await harness.report(wf, "legal_support_requested", need="劳动报酬争议的法律适用解释")
    await harness.report(wf, "mediation_outcome", outcome="agreement", summary="项目方承诺三日内支付")
    out = await harness.close(wf, review=False, **CLOSE)
    tl = out.timeline
    order = steps(tl)
    assert order[0] == "information-report"
    assert order.index("dispatch-mediation-group") < order.index("legal-support-1")
    assert order.index("legal-support-1") < order.index("mediation-outcome-relay") < order.index("written-report")
    assert "progress-relay-" in " ".join(order)  # urgent flow: progress fed back while handling (000 §4.3(1))
    assert recipients(tl, "dispatch-mediation-group") == {"mediation_group"}
    assert "人民调解组立即组织调解人员赶赴现场,参与协调调处" in text_to(tl, "dispatch-mediation-group", "mediation_group")
    assert recipients(tl, "legal-support-1") == {"legal_service_group"}
    assert "劳动报酬争议的法律适用解释" in text_to(tl, "legal-support-1", "legal_service_group")
    assert "调处结果:达成调解协议" in text_to(tl, "mediation-outcome-relay", "command_centre")
    assert recipients(tl, "written-report") == {"command_centre", "emergency_office"}
    report = out.written_report_zh
    for heading in ["二、发生时间", "三、发生地点", "四、事件经过", "五、处置结果", "六、目前形势", "七、已采取的措施",
                    "九、应急指挥机构负责人联系方式:孙海涛 13900000004"]:
        assert heading in report
    assert "到场时限 30分钟(依据000 §4.3):按时完成" in report
    assert {d.id: d.status for d in out.deadlines} == {"feedback": DeadlineStatus.MET, "arrival": DeadlineStatus.MET}
    # every line of the record names its clause
    assert all(e.clause for e in tl)
    assert any(e.kind is EntryKind.DECISION and e.clause == "000 §4.3(1)" for e in tl)


async def test_general_flow_feeds_back_only_after_handling(harness: Harness):
    wf = await harness.start("L1", flow="general", dispatch=None)
    await harness.report(wf, "progress", current_situation="正在调解")
    await harness.report(wf, "mediation_outcome", outcome="no_agreement", summary="双方分歧较大")
    out = await harness.close(wf, review=False, **CLOSE)
    order = steps(out.timeline)
    assert not [s for s in order if s.startswith("progress-relay") or s == "mediation-outcome-relay"]
    assert order[-3:] == ["feedback-on-close", "written-report", "aftermath-done"]
    assert "arrival" not in {d.id for d in out.deadlines}  # never dispatched: no arrival deadline
    assert any(e.clause == "000 §4.3(2)" for e in out.timeline)


async def test_arrival_refused_when_never_dispatched_then_dispatch_starts_the_clock(harness: Harness):
    from datetime import timedelta

    from starter.api import ReportRefused

    wf = await harness.start("L1", source="citizen_request", dispatch=None)
    try:
        await harness.report(wf, "arrived")
    except ReportRefused as err:
        assert "never dispatched by the command centre" in str(err)
    else:
        raise AssertionError("arrival accepted without a dispatch")
    await harness.report(wf, "dispatched", actor="区社会应急联动指挥中心", designated_place="工地门口",
                         designated_person="北城派出所值班民警")
    st = await harness.until(wf, lambda s: any(d.id == "arrival" for d in s.deadlines))
    arrival = next(d for d in st.deadlines if d.id == "arrival")
    dispatched_at = next(e.at for e in st.timeline if e.step == "dispatched")
    assert arrival.due_at - dispatched_at == timedelta(minutes=30)
    await harness.report(wf, "arrived")
    await harness.until(wf, lambda s: next(d for d in s.deadlines if d.id == "arrival").status is DeadlineStatus.MET)
