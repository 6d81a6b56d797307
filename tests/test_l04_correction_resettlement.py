"""L4, 000 §1.4(4) with §2.3: a correction subject's emergency handed over to its 001 §4 clause (a child
incident), and a released prisoner's resettlement and support."""

from __future__ import annotations

import pytest
from helpers import Harness, example, recipients, steps, text_to
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from plan.models import EntryKind, IncidentType
from starter.api import InvalidInput, ReportRefused, parse_incident
from workflows import INCIDENT_WORKFLOWS, workflow_type_name
from workflows.l04_correction_resettlement import CHILD_TYPE, HAND_OVER_FAILED

CLOSE = dict(result="对象已到司法所报告,依法予以训诫", current_situation="对象已在监管之中", measures_taken=["训诫"])


async def _child_started(h: Harness, wf: str) -> str:
    st = await h.until(wf, lambda s: bool(s.related))
    assert st.related == [f"{wf}-C4"]
    return st.related[0]


async def test_correction_subject_handed_over_to_c4(harness: Harness):
    wf = await harness.start("L4")
    child = await _child_started(harness, wf)
    st = await harness.status(wf)
    assert st.waiting_for == []  # the parent only follows the child
    assert not st.deadlines      # deadlines are the child's
    # reports to the parent are refused, naming where they go
    with pytest.raises(ReportRefused) as err:
        await harness.report(wf, "arrived")
    assert f"send reports to {child}" in str(err.value)
    # the child does 001 §4(4)
    await harness.report(child, "arrived")
    await harness.report(child, "search_result", found=True, methods=["phone", "information_system"])
    await harness.report(child, "punishment", decision="训诫", actor="区司法局社区矫正管理科")
    child_out = await harness.close(child, **CLOSE)
    out = await harness.api.outcome(wf)

    assert child_out.incident_type is IncidentType.C4
    ctl = child_out.timeline
    assert "information-report" not in steps(ctl)  # sent once, by the parent (000 §4.2)
    assert steps(ctl) == ["duty-search", "found-to-section", "final-punishment", "feedback-on-close", "written-report", "review-report"]
    assert any(e.kind is EntryKind.DECISION and e.text_zh.startswith(f"由{wf}移交处置") for e in ctl)
    assert text_to(ctl, "final-punishment", "procuratorate").count("最终处罚结果:训诫") == 1

    tl = out.timeline
    assert steps(tl) == ["information-report", "hand-over"]
    assert recipients(tl, "information-report") == {"emergency_office", "command_centre"}
    info = text_to(tl, "information-report", "emergency_office")
    assert "社区矫正、刑释人员安置帮教突发情况" in info and "社区矫正对象李明轩" in info
    assert recipients(tl, "hand-over") == {"correction_group"}
    hand_over = text_to(tl, "hand-over", "correction_group")
    assert "移交社区矫正组按001 §4(4)处置" in hand_over and child in hand_over
    decisions = [e for e in tl if e.kind is EntryKind.DECISION]
    assert decisions[-1].text_zh.startswith("移交事件已办结") and decisions[-1].clause == "001 §4(4)"
    assert not any(e.step == "level-report" for e in tl + ctl)  # C4 reports to the section only on a failed search

    assert out.incident_type is IncidentType.L4 and out.workflow_id == wf
    assert out.related == [child]
    assert out.written_report_zh == child_out.written_report_zh and "五、处置结果:对象已到司法所报告" in out.written_report_zh
    assert out.review_report_zh == child_out.review_report_zh != ""
    assert out.closed == child_out.closed
    assert out.accountability and out.accountability.workflow_id == wf
    assert out.accountability.missing == 0 and out.accountability.on_time == 3  # 2 information reports + hand-over


async def test_hand_over_failure_is_told_and_fails_the_incident(harness: Harness):
    wf = await harness.start("L4")
    child = await _child_started(harness, wf)
    # (cancelled, not terminated: the time-skipping test server does not tell a parent of a terminated child)
    await harness.env.client.get_workflow_handle(child).cancel()
    with pytest.raises(WorkflowFailureError) as err:
        await harness.api.outcome(wf)
    cause = err.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == HAND_OVER_FAILED and cause.non_retryable
    assert child in cause.message
    failed = [d for d in harness.outbox() if d["step"] == "hand-over-failed"]
    assert [d["recipient"] for d in failed] == ["emergency_office"]
    assert child in failed[0]["message_zh"] and "人工组织处置" in failed[0]["message_zh"]


async def test_released_prisoner_resettlement(harness: Harness):
    wf = await harness.start("L4", l4={"person": "released_prisoner"}, subject=None, place="北城街道办事处",
                             description="一名刑释人员回归社会后无固定住所,因生活困难在街道办事处聚众吵闹。")
    st = await harness.until_step(wf, "resettlement-group")
    assert st.related == [] and st.waiting_for == ["arrived", "resettlement"]
    await harness.report(wf, "arrived")
    await harness.report(wf, "resettlement", measures=["落实临时住所", "协调就业技能培训"], actor="区司法局社区矫正组")
    out = await harness.close(wf, review=False, result="已落实安置帮教措施", current_situation="当事人情绪稳定",
                              measures_taken=["安置帮教"])
    tl = out.timeline
    order = steps(tl)
    assert order[:2] == ["information-report", "resettlement-group"]
    assert order[-2:] == ["written-report", "aftermath-done"]
    assert recipients(tl, "resettlement-group") == {"correction_group"}
    text = text_to(tl, "resettlement-group", "correction_group")
    assert "刑释人员" in text and "安置帮教" in text and "社区矫正对象" not in text
    assert "安置帮教措施:落实临时住所、协调就业技能培训" in [e.text_zh for e in tl if e.kind is EntryKind.DECISION]
    assert out.related == [] and out.review_report_zh == ""
    assert {d.id for d in out.deadlines} == {"feedback", "arrival"}
    assert out.accountability and out.accountability.missing == 0


def test_child_types_match_the_registry():
    assert set(CHILD_TYPE) == {t for t in IncidentType if t.is_correction}
    for t in CHILD_TYPE:
        if t in INCIDENT_WORKFLOWS:
            assert CHILD_TYPE[t] == workflow_type_name(t)


@pytest.mark.parametrize(
    "l4,expected",
    [
        ({"person": "correction_subject"}, "correction_type: a correction subject's emergency needs one of C1–C11"),
        ({"person": "correction_subject", "correction_type": "L2"}, "correction_type"),
        ({"person": "released_prisoner", "correction_type": "C4"}, "correction_type: only for a correction subject"),
        (None, "l4: required for L4"),
    ],
    ids=["missing correction_type", "not a C type", "released prisoner with correction_type", "no l4"],
)
def test_invalid_l4_input_is_refused_naming_the_field(l4, expected):
    with pytest.raises(InvalidInput) as err:
        parse_incident(example("L4", l4=l4))
    assert expected in str(err.value)
    assert "李明轩" not in str(err.value)


async def test_raw_start_with_invalid_l4_fails_fast(harness: Harness):
    from datetime import timedelta

    from workflows.base import INVALID_INPUT

    handle = await harness.env.client.start_workflow(
        "L4CorrectionOrResettlement", example("L4", l4={"person": "correction_subject"}), id="bad-l4-raw",
        task_queue=harness.queue, execution_timeout=timedelta(hours=1),
    )
    harness.started.append(handle.id)
    with pytest.raises(WorkflowFailureError) as err:
        await handle.result()
    assert err.value.cause.type == INVALID_INPUT and "correction_type" in err.value.cause.message
