"""C4, 001 §4(4): 社区矫正对象脱离监督管理 — every branch of the clause, as an officer sees it."""

from __future__ import annotations

from conftest import Harness, recipients, steps, text_to

from plan.models import DeadlineStatus, EntryKind

CLOSE = dict(result="对象已到司法所报告,依法予以训诫", current_situation="对象已在监管之中", measures_taken=["训诫", "加强电子定位监管"])


async def _finish(h: Harness, wf: str, decision: str = "训诫"):
    return await h.punish_and_close(wf, decision, **CLOSE)


async def test_found_during_search(harness: Harness):
    wf = await harness.start("C4")
    await harness.report(wf, "arrived")
    await harness.report(wf, "search_result", found=True, methods=["phone", "information_system"])
    out = await _finish(harness, wf)
    tl = out.timeline
    assert steps(tl) == [
        "information-report",
        "final-punishment",
        "feedback-on-close",
        "written-report",
        "review-report",           # 001 §5(2): 形成书面报告逐级上报
    ]
    # found in the search: neither the section's search chain nor any police was involved
    sent = {e.recipient.value for e in tl if e.kind is EntryKind.NOTIFICATION and e.step != "review-report"}
    assert not sent & {"police_station", "police_organ", "correction_section"}
    assert recipients(tl, "final-punishment") == {"higher_correction_agency", "procuratorate"}
    text = text_to(tl, "final-punishment", "procuratorate")
    assert "最终处罚结果:训诫" in text and "社区矫正对象李明轩" in text and "东城街道永宁路" in text
    decisions = [e.text_zh for e in tl if e.kind is EntryKind.DECISION]
    assert "发现社区矫正对象下落,责令其立即到司法所报告情况" in decisions
    assert "查找方式:通讯联络、信息化核查" in decisions
    assert {d.id: d.status for d in out.deadlines} == {
        "feedback": DeadlineStatus.MET,
        "arrival": DeadlineStatus.MET,
        "search": DeadlineStatus.MET,
        "review": DeadlineStatus.MET,
    }
    assert "书面报告" in out.written_report_zh and "五、处置结果:对象已到司法所报告" in out.written_report_zh


async def test_not_found_then_found(harness: Harness):
    wf = await harness.start("C4")
    await harness.report(wf, "arrived")
    await harness.report(wf, "search_result", found=False, methods=["phone", "information_system", "field_visit"])
    st = await harness.until_step(wf, "section-report-up", count=2)
    assert st.waiting_for == ["subject_found", "search_result"]
    await harness.report(wf, "subject_found", urgent=False)
    out = await _finish(harness, wf, decision="警告")
    tl = out.timeline
    assert steps(tl) == [
        "information-report",
        "report-to-section",       # 仍未发现下落的,上报区司法局社区矫正管理科
        "section-police-search",   # 管理科通知执行地公安机关协助查找
        "section-report-up",       # 同时通报上一级社区矫正机构,通报执行地人民检察院
        "subject-found",
        "final-punishment",
        "feedback-on-close",
        "written-report",
        "review-report",           # 001 §5(2): 形成书面报告逐级上报
    ]
    assert recipients(tl, "report-to-section") == {"correction_section"}
    assert recipients(tl, "section-police-search") == {"police_organ"}
    assert recipients(tl, "section-report-up") == {"higher_correction_agency", "procuratorate"}
    assert "police_station" not in {e.recipient.value for e in tl if e.recipient}
    section = text_to(tl, "report-to-section", "correction_section")
    assert "经通讯联络、信息化核查、实地查访仍未发现下落" in section
    assert "请通知执行地公安机关协助查找" in section
    assert "请协助查找" in text_to(tl, "section-police-search", "police_organ")
    assert "最终处罚结果:警告" in text_to(tl, "final-punishment", "higher_correction_agency")
    assert "发现社区矫正对象下落,责令其立即到司法所报告情况" in [e.text_zh for e in tl if e.kind is EntryKind.DECISION]


async def test_not_found_with_risk_of_c1_c3_tells_police_station_first(harness: Harness):
    wf = await harness.start("C4")
    await harness.report(wf, "arrived")
    await harness.report(
        wf, "search_result", found=False, methods=["phone", "field_visit"], risk_of_serious_incident=True
    )
    await harness.until_step(wf, "section-report-up", count=2)
    await harness.report(wf, "subject_found", urgent=True)
    out = await _finish(harness, wf, decision="提请撤销缓刑")
    tl = out.timeline
    assert steps(tl)[:5] == [
        "information-report",
        "police-station-search",   # 可能发生(一)(二)(三)项情形:立即通知执行地公安派出所
        "report-to-section",       # 并上报区司法局社区矫正管理科
        "section-police-search",
        "section-report-up",
    ]
    station = text_to(tl, "police-station-search", "police_station")
    assert "请立即协助查找和处置" in station and "社区矫正对象李明轩" in station
    assert "可能发生(一)(二)(三)项所列情形" in text_to(tl, "report-to-section", "correction_section")
    # found, urgent: brought back at once; everyone who searched is stood down
    assert "发现社区矫正对象下落,情形紧急,立即将其带回" in [e.text_zh for e in tl if e.kind is EntryKind.DECISION]
    assert recipients(tl, "subject-found") == {"correction_section", "police_organ", "police_station"}


async def test_later_search_flags_risk_police_station_told_once(harness: Harness):
    wf = await harness.start("C4")
    await harness.report(wf, "search_result", found=False, methods=["phone"])
    await harness.until_step(wf, "section-report-up", count=2)
    await harness.report(wf, "search_result", found=False, methods=["field_visit"], risk_of_serious_incident=True)
    await harness.report(wf, "search_result", found=False, methods=["field_visit"], risk_of_serious_incident=True)
    st = await harness.until_step(wf, "police-station-search")
    assert steps(st.timeline).count("report-to-section") == 1
    assert [s for s in steps(st.timeline) if s == "police-station-search"] == ["police-station-search"]


async def test_search_result_overdue_escalates_to_section(harness: Harness):
    from datetime import timedelta

    wf = await harness.start("C4")
    await harness.report(wf, "arrived")
    await harness.skip(timedelta(hours=1, minutes=1))
    st = await harness.until_step(wf, "search-missed", count=2)
    assert recipients(st.timeline, "search-missed") == {"correction_section", "emergency_office"}
    assert next(d for d in st.deadlines if d.id == "search").status is DeadlineStatus.MISSED


async def test_reports_out_of_clause_order_are_refused_with_reason(harness: Harness):
    from starter.api import ReportRefused

    wf = await harness.start("C4")
    for kind, fields, reason in [
        ("punishment", {"decision": "训诫"}, "punishment: not expected now; the incident is waiting for arrived, search_result"),
        ("subject_found", {}, "subject_found: not expected now"),
        ("closed", CLOSE, "closed: handling is not finished; waiting for search_result"),
        ("mediation_outcome", {"outcome": "agreement", "summary": "x"}, "kind: 'mediation_outcome' does not apply to C4"),
    ]:
        try:
            await harness.report(wf, kind, **fields)
        except ReportRefused as err:
            assert reason in str(err), str(err)
        else:
            raise AssertionError(f"{kind} was accepted")
    await harness.report(wf, "search_result", found=True, methods=["phone"])
    try:
        await harness.report(wf, "search_result", found=True, methods=["phone"])
    except ReportRefused as err:
        assert "not expected now" in str(err)
    else:
        raise AssertionError("second search_result accepted")
