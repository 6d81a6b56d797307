"""C4, 001 §4(4): 社区矫正对象脱离监督管理 — every branch of the clause, as an officer sees it.

(四)…司法所应当 立即组织查找,经通讯联络、信息化核查、实地查访等方式 进行查找后仍未发现社区矫正对象下落的,
上报区司法局社区矫正管理科。可能发生上述(一)、(二)、(三)项所列情形的,司法所应当立即通知执行地公安派出所协助
查找和处置,并上报区司法局社区矫正管理科。区司法局社区矫正管理科应当通知执行地公安机关协助查找,同时通报上一级
社区矫正机构,通报执行地人民检察院。发现社区矫正对象下落的,应当责令其立即到司法所报告情况,情形紧急的,应当
立即将其带回。区司法局社区矫正管理科应当根据其脱离监管的情形,及时依法处罚,并将最终处罚结果及时上报上一级社区
矫正机构,同时通报执行地人民检察院。
"""

from __future__ import annotations

from datetime import timedelta

from helpers import Harness, issued_steps, notifications, obligation, recipients, steps, text_to

from plan.models import DeadlineStatus, EntryKind, ObligationStatus
from plan.policy import DEFAULT_POLICY

CLOSE = dict(result="对象已到司法所报告,依法予以训诫", current_situation="对象已在监管之中", measures_taken=["训诫", "加强电子定位监管"])
TAIL = ["final-punishment", "feedback-on-close", "written-report", "review-report"]
NO_DUPLICATE = "系统已同时代社区矫正管理科通知执行地公安机关协助查找,并通报上一级社区矫正机构和执行地人民检察院,无需重复通知"


async def _finish(h: Harness, wf: str, decision: str = "训诫"):
    return await h.punish_and_close(wf, decision, **CLOSE)


async def test_found_during_search_section_still_told_to_decide_punishment(harness: Harness):
    wf = await harness.start("C4")
    await harness.report(wf, "arrived")
    await harness.report(wf, "search_result", found=True, methods=["phone", "information_system"])
    st = await harness.until_step(wf, "found-to-section")
    # 区司法局社区矫正管理科应当根据其脱离监管的情形,及时依法处罚: the decision has a due time
    due = next(d for d in st.deadlines if d.id == "punishment")
    assert due.status is DeadlineStatus.PENDING and due.clause == "001 §4(4)"
    assert st.waiting_for == ["punishment"]
    out = await _finish(harness, wf)
    tl = out.timeline
    assert steps(tl) == ["information-report", "duty-search", "found-to-section", *TAIL]
    # found in the search: no search chain, no police; the section hears only what it must decide
    sent = {r for s, r in notifications(tl) if s not in ("review-report",)}
    assert not sent & {"police_station", "police_organ"}
    section = text_to(tl, "found-to-section", "correction_section")
    assert "现已发现下落,已责令其立即到司法所报告情况" in section
    assert "请根据其脱离监管的情形,及时依法处罚" in section
    assert "协助查找" not in section  # nothing the section need not do
    assert recipients(tl, "final-punishment") == {"higher_correction_agency", "procuratorate"}
    text = text_to(tl, "final-punishment", "procuratorate")
    assert "最终处罚结果:训诫" in text and "社区矫正对象李明轩" in text and "东城街道永宁路" in text
    decisions = [e.text_zh for e in tl if e.kind is EntryKind.DECISION]
    assert "发现社区矫正对象下落,责令其立即到司法所报告情况" in decisions
    assert "查找方式:通讯联络、信息化核查" in decisions
    assert {d.id: d.status for d in out.deadlines} == {
        "feedback": DeadlineStatus.MET,
        "arrival": DeadlineStatus.MET,
        "punishment": DeadlineStatus.MET,
        "review": DeadlineStatus.MET,
    }
    assert "书面报告" in out.written_report_zh and "五、处置结果:对象已到司法所报告" in out.written_report_zh
    # 司法所应当立即组织查找: the on-duty officer's duty, discharged by the search_result report (issue 16)
    row = obligation(out, "duty/search")
    assert row.status is ObligationStatus.ON_TIME and row.how == "东城司法所 值班员"
    assert any(e.kind is EntryKind.DUTY_DONE and e.step == "duty-search" and e.actor == "东城司法所 值班员"
               and "查找方式:通讯联络、信息化核查;已发现下落" in e.text_zh for e in tl)


async def test_punishment_decision_overdue_escalates(harness: Harness):
    wf = await harness.start("C4")
    await harness.report(wf, "search_result", found=True, methods=["phone"])
    await harness.until_step(wf, "found-to-section")
    await harness.skip(DEFAULT_POLICY.punishment + timedelta(minutes=1))
    st = await harness.until_step(wf, "punishment-missed", count=2)
    assert recipients(st.timeline, "punishment-missed") == {"emergency_office", "leadership_group"}
    assert next(d for d in st.deadlines if d.id == "punishment").status is DeadlineStatus.MISSED


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
        "duty-search",             # 司法所应当立即组织查找: the on-duty officer's task (issue 16)
        "report-to-section",       # 仍未发现社区矫正对象下落的,上报区司法局社区矫正管理科
        "section-police-search",   # 社区矫正管理科应当通知执行地公安机关协助查找
        "section-report-up",       # 同时通报上一级社区矫正机构,通报执行地人民检察院
        "found-to-section",        # 根据其脱离监管的情形,及时依法处罚
        "subject-found",           # those asked to search are stood down
        *TAIL,
    ]
    assert recipients(tl, "report-to-section") == {"correction_section"}
    assert recipients(tl, "section-police-search") == {"police_organ"}
    assert recipients(tl, "section-report-up") == {"higher_correction_agency", "procuratorate"}
    assert recipients(tl, "subject-found") == {"police_organ"}
    assert "police_station" not in {e.recipient.value for e in tl if e.recipient}
    section = text_to(tl, "report-to-section", "correction_section")
    assert "经通讯联络、信息化核查、实地查访仍未发现下落" in section
    # the section is not asked to make the calls the system made on its behalf
    assert NO_DUPLICATE in section and "请通知执行地公安机关" not in section
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
    await harness.until_step(wf, "duty-bring-back")
    await harness.report(wf, "on_site", duty="bring-back", actor="东城司法所 值班员")
    out = await _finish(harness, wf, decision="提请撤销缓刑")
    tl = out.timeline
    assert steps(tl)[:6] == [
        "information-report",
        "duty-search",
        "risk-police-station-1",   # 可能发生上述(一)、(二)、(三)项所列情形的,司法所应当立即通知执行地公安派出所协助查找和处置
        "report-to-section",       # 并上报区司法局社区矫正管理科
        "section-police-search",
        "section-report-up",
    ]
    station = text_to(tl, "risk-police-station-1", "police_station")
    assert "请立即协助查找和处置" in station and "社区矫正对象李明轩" in station
    assert "可能发生(一)(二)(三)项所列情形" in text_to(tl, "report-to-section", "correction_section")
    # found, urgent: brought back at once; everyone who searched is stood down
    assert "发现社区矫正对象下落,情形紧急,立即将其带回" in [e.text_zh for e in tl if e.kind is EntryKind.DECISION]
    assert "已带回" in text_to(tl, "found-to-section", "correction_section")
    assert recipients(tl, "subject-found") == {"police_organ", "police_station"}
    # 情形紧急的,应当立即将其带回: done by people on site, the 司法所 on-duty officer's duty (issue 16)
    assert recipients(tl, "duty-bring-back") == {"justice_office"}
    assert "【值班任务·到场】情形紧急的,应当立即将其带回" in text_to(tl, "duty-bring-back", "justice_office")
    assert obligation(out, "duty/bring-back").status is ObligationStatus.ON_TIME


async def test_risk_reported_after_failed_search_reaches_station_and_section(harness: Harness):
    """可能发生上述(一)、(二)、(三)项所列情形的,司法所应当立即通知执行地公安派出所协助查找和处置,
    并上报区司法局社区矫正管理科 — at any time while the subject is missing, as its own report."""
    wf = await harness.start("C4")
    await harness.report(wf, "search_result", found=False, methods=["phone"])
    await harness.until_step(wf, "section-report-up", count=2)
    await harness.report(wf, "risk", situations=["C2"], grounds="对象在微信群中组织聚集")
    st = await harness.until(
        wf, lambda st: {("risk-police-station-1", "police_station"), ("risk-section-1", "correction_section")}
        <= set(notifications(st.timeline))
    )
    issued = [(e.step, e.recipient.value) for e in st.timeline if e.kind is EntryKind.NOTIFICATION_ISSUED]
    assert issued[-2:] == [("risk-police-station-1", "police_station"), ("risk-section-1", "correction_section")]
    section = text_to(st.timeline, "risk-section-1", "correction_section")
    assert "可能发生(二)非法组织或参与群体性事件" in section and "司法所已通知执行地公安派出所协助查找和处置" in section
    assert NO_DUPLICATE not in section  # the section's own calls were made already, once
    assert steps(st.timeline).count("section-police-search") == 1
    assert issued_steps(st.timeline).count("report-to-section") == 1


async def test_risk_before_any_search_result(harness: Harness):
    wf = await harness.start("C4")
    await harness.report(wf, "risk", situations=["C1", "C3"], grounds="对象曾扬言报复被害人")
    five = {"information-report", "risk-police-station-1", "risk-section-1", "section-police-search", "section-report-up"}
    st = await harness.until(wf, lambda st: five <= set(steps(st.timeline)) and len(notifications(st.timeline)) >= 8)
    assert [s for s in steps(st.timeline)] == [
        "information-report", "duty-search", "risk-police-station-1", "risk-section-1", "section-police-search", "section-report-up",
    ]
    section = text_to(st.timeline, "risk-section-1", "correction_section")
    assert "(一)实施行凶等犯罪或以要挟为目的的自杀自残、(三)参与非正常上访" in section and NO_DUPLICATE in section
    # once found, the risk is over: a risk report is refused
    await harness.report(wf, "search_result", found=True, methods=["field_visit"])
    from helpers import refused

    await refused(harness, wf, "risk", "risk: not expected now", situations=["C1"], grounds="x")


async def test_later_search_flags_risk_police_station_told_once_per_report(harness: Harness):
    wf = await harness.start("C4")
    await harness.report(wf, "search_result", found=False, methods=["phone"])
    await harness.until_step(wf, "section-report-up", count=2)
    await harness.report(wf, "search_result", found=False, methods=["field_visit"], risk_of_serious_incident=True)
    st = await harness.until_step(wf, "risk-police-station-1")
    assert issued_steps(st.timeline).count("report-to-section") == 1
    assert "继续查找(实地查访),仍未发现下落" in [e.text_zh for e in st.timeline if e.kind is EntryKind.DECISION]


async def test_search_result_overdue_escalates_to_section(harness: Harness):
    """立即组织查找 unconfirmed within the ``immediate`` policy: the section at the due time, the
    leadership group ``duty_leadership_after`` later (the search is a person's duty, issue 16)."""
    wf = await harness.start("C4")
    await harness.report(wf, "arrived")
    await harness.skip(DEFAULT_POLICY.immediate + timedelta(minutes=1))
    st = await harness.until_step(wf, "duty-search-missed")
    assert recipients(st.timeline, "duty-search-missed") == {"correction_section"}
    assert "值班任务“立即组织查找,经通讯联络、信息化核查、实地查访等方式进行查找”" in text_to(
        st.timeline, "duty-search-missed", "correction_section")
    await harness.skip(DEFAULT_POLICY.duty_leadership_after)
    st = await harness.until_step(wf, "duty-search-leadership-missed")
    assert recipients(st.timeline, "duty-search-leadership-missed") == {"leadership_group"}
    assert "search" not in {d.id for d in st.deadlines}  # a duty, not the deadline of histories recorded before


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
