"""Bad input never wedges an incident: a clear message naming the field, no endless retry.

Through the officers' CLI (refused before Temporal), the SDK door (refused before Temporal), and raw
starts that bypass both (`temporal workflow start` with the wrong shape): the workflow fails at once
with a named non-retryable error whose message does not echo personal data.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from helpers import ROOT, Harness, example
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from plan.models import EntryKind
from starter.api import InvalidInput, ReportRefused
from workflows.base import INVALID_INPUT

BAD_INPUTS = [
    # (what, input text, the words the message must contain)
    ("malformed JSON", '{"incident_type": "C4", "flow": ', "not valid JSON"),
    ("missing field", json.dumps({k: v for k, v in example("C4").items() if k != "place"}, ensure_ascii=False),
     "place: Field required"),
    ("unknown incident type", json.dumps(example("C4", incident_type="C99"), ensure_ascii=False), "incident_type: Input should be"),
    ("wrong type", json.dumps(example("C4", drill="maybe"), ensure_ascii=False), "drill: Input should be a valid boolean"),
    ("unknown field", json.dumps(example("C4", plcae="x"), ensure_ascii=False), "plcae: Extra inputs are not permitted"),
    ("correction incident without subject", json.dumps(example("C4", subject=None), ensure_ascii=False),
     "subject: required for correction incident C4"),
]


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "starter", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env={"PATH": "/usr/bin:/bin", "TEMPORAL_ADDRESS": "127.0.0.1:1"},  # nothing must be contacted
    )


@pytest.mark.parametrize("what,text,expected", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_cli_start_refuses_bad_input_naming_the_field(tmp_path, what, text, expected):
    f = tmp_path / "incident.json"
    f.write_text(text, encoding="utf-8")
    res = run_cli("start", str(f))
    assert res.returncode == 2, res.stderr
    assert expected in res.stderr
    assert "Traceback" not in res.stderr
    assert "李明轩" not in res.stderr and "331003199001011236" not in res.stderr  # no personal data echoed


@pytest.mark.parametrize("what,text,expected", BAD_INPUTS[1:], ids=[b[0] for b in BAD_INPUTS[1:]])
async def test_sdk_start_refuses_bad_input_naming_the_field(harness: Harness, what, text, expected):
    with pytest.raises(InvalidInput) as err:
        await harness.api.start(json.loads(text))
    assert expected in str(err.value)


@pytest.mark.parametrize(
    "payload,expected",
    [
        ({"incident_type": "C4"}, "place: Field required"),
        ([1, 2, 3], "expected a JSON object"),
        ("just a string", "expected a JSON object"),
        (example("L1"), "incident_type: L1 sent to the C4 workflow"),
        (example("C4", occurred_at="yesterday"), "occurred_at: Input should be a valid datetime"),
        (example("C4", place="x" * 5000), "place: String should have at most 200 characters"),
    ],
    ids=["missing fields", "a list", "a string", "wrong workflow type", "impossible time", "oversized field"],
)
async def test_raw_start_fails_fast_with_named_non_retryable_error(harness: Harness, payload, expected):
    """What `temporal workflow start --input` with a wrong shape does: fail at once, no retry loop."""
    handle = await harness.env.client.start_workflow(
        # (at most 9 digits: an 18-digit id is refused as ID-number-shaped, plan/ids.py)
        "C4AbscondFromSupervision", payload, id=f"bad-{abs(hash(expected)) % 10**9}", task_queue=harness.queue,
        execution_timeout=timedelta(hours=1),
    )
    harness.started.append(handle.id)
    with pytest.raises(WorkflowFailureError) as err:
        await handle.result()
    cause = err.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == INVALID_INPUT and cause.non_retryable
    assert expected in cause.message
    assert "李明轩" not in cause.message
    # it failed in its first workflow task: no retries
    history = await handle.fetch_history()
    failed_tasks = [e for e in history.events if e.HasField("workflow_task_failed_event_attributes")]
    assert failed_tasks == []


async def test_unknown_workflow_type_fails_instead_of_retrying_forever(harness: Harness):
    handle = await harness.env.client.start_workflow(
        "C4Typo", {"incident_type": "C4"}, id="unknown-type", task_queue=harness.queue
    )
    harness.started.append(handle.id)
    with pytest.raises(WorkflowFailureError) as err:
        await handle.result()
    assert err.value.cause.type == "UnknownIncidentType"
    assert "'C4Typo' is not in the catalogue" in err.value.cause.message


async def test_refused_reports_return_reason_by_update_and_land_on_timeline_by_signal(harness: Harness):
    wf = await harness.start("L1", dispatch=None)
    handle = harness.env.client.get_workflow_handle(wf)
    # update: the reason comes back to the sender
    with pytest.raises(ReportRefused) as err:
        await harness.report(wf, "arrived")
    assert "never dispatched" in str(err.value)
    with pytest.raises(InvalidInput) as err2:
        await harness.report(wf, "closed", current_situation="x", measures_taken=["y"])
    assert "result: Field required" in str(err2.value)
    # the same closing report sent raw (bypassing the client's validation) is refused by the workflow
    from temporalio.client import WorkflowUpdateFailedError

    with pytest.raises(WorkflowUpdateFailedError) as err3:
        await handle.execute_update("submit_report", {"kind": "closed", "actor": "x", "current_situation": "x",
                                                      "measures_taken": ["y"]})
    assert "result: Field required" in err3.value.cause.message
    # signals: malformed, unknown kind, nonsense-now — each refusal is written to the timeline
    await handle.signal("report", {"kind": "arrived", "actor": "北城司法所"})
    await handle.signal("report", {"kind": "teleported", "actor": "x"})
    await handle.signal("report", "not an object")
    st = await harness.until(wf, lambda s: sum(e.kind is EntryKind.REFUSED for e in s.timeline) >= 3)
    refused = [e.text_zh for e in st.timeline if e.kind is EntryKind.REFUSED]
    assert "never dispatched" in refused[0]
    assert "kind: Input tag 'teleported'" in refused[1]
    assert "expected a JSON object" in refused[2]
    # and the incident is unharmed
    await harness.report(wf, "mediation_outcome", outcome="agreement", summary="已调解")
    assert st.phase.value == "open"


async def test_report_to_a_closed_incident_is_refused(harness: Harness):
    wf = await harness.start("L1", dispatch=None)
    await harness.report(wf, "mediation_outcome", outcome="agreement", summary="已调解")
    await harness.report(wf, "closed", result="已调解", current_situation="平稳", measures_taken=["调解"])
    await harness.report(wf, "aftermath_done", summary="善后处置完毕")
    await harness.api.outcome(wf)
    with pytest.raises(ReportRefused):
        await harness.report(wf, "progress", current_situation="x")


async def test_report_sent_twice_with_same_id_is_recorded_once(harness: Harness):
    wf = await harness.start("L1", dispatch=None)
    r1 = await harness.report(wf, "progress", current_situation="正在调解", report_id="r-1")
    r2 = await harness.report(wf, "progress", current_situation="正在调解", report_id="r-1")
    assert r1.seq == r2.seq
    st = await harness.status(wf)
    assert sum(1 for e in st.timeline if e.kind is EntryKind.REPORT) == 1


# ------------------------------------------------------------------------ the bad-input table
# Each row: what an operator or a connected system gets wrong, how it is sent, the clear error that
# comes back. For every row the test also checks that no workflow task failed (no retry loop) and that
# the incident it touched still has each notification once (nothing lost, nothing duplicated).


async def _error(coro) -> str:
    try:
        await coro
    except Exception as err:  # the error the sender sees (an update's refusal: its cause)
        cause = getattr(err, "cause", None)
        return f"{type(err).__name__}: {getattr(cause, 'message', None) or getattr(err, 'message', None) or err}"
    return "accepted"


async def _open_l1(h: Harness) -> str:
    return await h.start("L1")


async def _start_malformed_json(h: Harness) -> tuple[str, str | None]:
    return await _error(h.api.start('{"incident_type": "C4", "flow": ')), None


async def _start_wrong_type(h: Harness):
    return await _error(h.api.start(example("C4", major="yes please"))), None


async def _start_unknown_type(h: Harness):
    return await _error(h.api.start(example("C4", incident_type="C12"))), None


async def _start_oversized(h: Harness):
    return await _error(h.api.start(example("C4", description="很长" * 5000))), None


async def _report_malformed_json(h: Harness):
    wf = await _open_l1(h)
    return await _error(h.api.report(wf, '{"kind": "arrived", ')), wf


async def _report_wrong_type(h: Harness):
    wf = await _open_l1(h)
    return await _error(h.api.report(wf, {"kind": "progress", "actor": "x", "current_situation": 42})), wf


async def _report_unknown_kind(h: Harness):
    wf = await _open_l1(h)
    return await _error(h.api.report(wf, {"kind": "teleported", "actor": "x"})), wf


async def _report_oversized(h: Harness):
    wf = await _open_l1(h)
    return await _error(h.api.report(wf, {"kind": "progress", "actor": "x", "current_situation": "况" * 3000})), wf


async def _raw_report_oversized(h: Harness):
    """Bypassing the client's validation: the workflow's own validator refuses it."""
    wf = await _open_l1(h)
    handle = h.env.client.get_workflow_handle(wf)
    return await _error(handle.execute_update("submit_report", {"kind": "progress", "actor": "x",
                                                                "current_situation": "况" * 3000})), wf


async def _arrival_before_dispatch(h: Harness):
    wf = await h.start("L1", dispatch=None, source="citizen_request")
    await h.report(wf, "dispatched", actor="区社会应急联动指挥中心", designated_place="工地门口", designated_person="所长",
                   at="2026-11-23T10:00:00+08:00")  # L1's example occurred at 09:15
    return await _error(h.report(wf, "arrived", at="2026-11-23T09:50:00+08:00")), wf


async def _report_in_the_future(h: Harness):
    wf = await _open_l1(h)
    return await _error(h.report(wf, "arrived", at="2099-01-01T00:00:00+08:00")), wf


async def _report_before_the_incident(h: Harness):
    wf = await _open_l1(h)
    return await _error(h.report(wf, "arrived", at="2000-01-01T00:00:00+08:00")), wf


async def _duplicate_start(h: Harness):
    data = example("L1", alert_id=f"DUP-{uuid.uuid4().hex[:8]}")
    first = await h.api.start(data)
    h.started.append(first.workflow_id)
    second = await h.api.start(data)
    assert second.workflow_id == first.workflow_id and not first.already_started and second.already_started
    return "already_started: the same incident", first.workflow_id


async def _report_to_finished(h: Harness):
    wf = await h.start("L3")
    await h.report(wf, "aid_decision", granted=True, reason="符合条件")
    await h.report(wf, "closed", result="已援助", current_situation="平稳", measures_taken=["指派律师"])
    await h.report(wf, "aftermath_done", summary="善后处置完毕")
    await h.api.outcome(wf)
    update = await _error(h.report(wf, "progress", current_situation="x"))
    signal = await _error(h.api.signal_report(wf, {"kind": "progress", "actor": "x", "current_situation": "x"}))
    return f"{update} | {signal}", wf


TABLE = [
    ("start: malformed JSON", _start_malformed_json, "InvalidInput: invalid incident input: (whole input): Invalid JSON"),
    ("start: wrong type", _start_wrong_type, "major: Input should be a valid boolean"),
    ("start: unknown incident type", _start_unknown_type, "incident_type: Input should be"),
    ("start: oversized field", _start_oversized, "description: String should have at most"),
    ("start: duplicate alert id", _duplicate_start, "already_started"),
    ("report: malformed JSON", _report_malformed_json, "InvalidInput: invalid report: (whole input): Invalid JSON"),
    ("report: wrong type", _report_wrong_type, "current_situation: Input should be a valid string"),
    ("report: unknown kind", _report_unknown_kind, "kind: Input tag 'teleported'"),
    ("report: oversized field", _report_oversized, "current_situation: String should have at most 2000"),
    ("report: oversized field, raw", _raw_report_oversized, "current_situation: String should have at most 2000"),
    ("time: arrival before dispatch", _arrival_before_dispatch, "at: arrival before the centre's instruction"),
    ("time: in the future", _report_in_the_future, "at: lies in the future"),
    ("time: before the incident", _report_before_the_incident, "at: earlier than the incident's occurred_at"),
    ("report to a finished incident", _report_to_finished, "already completed; reports are no longer taken"),
]


@pytest.mark.parametrize("what,case,expected", TABLE, ids=[t[0] for t in TABLE])
async def test_bad_input_table(harness: Harness, what, case, expected):
    message, wf = await case(harness)
    print(f"\n{what}: {message[:160]}")
    assert expected in message
    assert "Traceback" not in message and "李明轩" not in message and "331003199001011236" not in message
    if wf is None:
        return
    history = await harness.env.client.get_workflow_handle(wf).fetch_history()
    failed = [e for e in history.events if e.HasField("workflow_task_failed_event_attributes")]
    assert failed == [], "a workflow task failed: it would retry"
    starts = [e for e in history.events if e.HasField("workflow_execution_started_event_attributes")]
    assert len(starts) == 1
    # nothing lost, nothing twice: the information report reached both recipients exactly once
    await harness.until_step(wf, "information-report", 2) if "finished" not in what else None
    sent = Counter((d["step"], d["recipient"]) for d in harness.outbox() if d["workflow_id"] == wf)
    assert sent[("information-report", "command_centre")] == 1 and sent[("information-report", "emergency_office")] == 1
    assert all(n == 1 for n in sent.values()), sent


# ------------------------------------------------------------------------ issue 13: what an attacker or
# an unlucky operator sends (each row failed on the code before issue 13)

FULL_WIDTH_ID = "３３１００３１９９００１０１１２３６"  # the example's number in full-width digits
ARABIC_INDIC_ID = "٣٣١٠٠٣١٩٩٠٠١٠١١٢٣٦"


def _subject(**fields):
    return {**example("C4")["subject"], **fields}


async def _start_occurred_in_2099(h: Harness):
    return await _error(h.api.start(example("L1", occurred_at="2099-01-01T00:00:00+08:00"))), None


async def _start_dispatch_in_2099(h: Harness):
    d = {**example("L1")["dispatch"], "at": "2099-01-01T00:00:00+08:00"} if example("L1").get("dispatch") else {
        "designated_place": "现场", "designated_person": "所长", "at": "2099-01-01T00:00:00+08:00"}
    return await _error(h.api.start(example("L1", dispatch=d))), None


async def _start_dispatch_in_1970(h: Harness):
    d = {"designated_place": "现场", "designated_person": "所长", "at": "1970-01-01T00:00:00+00:00"}
    return await _error(h.api.start(example("L1", dispatch=d))), None


async def _start_occurred_in_1970(h: Harness):
    return await _error(h.api.start(example("L1", occurred_at="1970-01-01T00:00:00+00:00", dispatch=None))), None


async def _reused_report_id(h: Harness):
    wf = await h.start("C4")
    await h.report(wf, "progress", current_situation="正在寻找", report_id="r1")
    return await _error(h.report(wf, "search_result", found=False, methods=["phone"], report_id="r1")), wf


async def _reused_report_id_by_signal(h: Harness):
    """Fire-and-forget: the refusal, naming the first report, is on the timeline; nothing is dropped silently."""
    wf = await h.start("C4")
    await h.report(wf, "progress", current_situation="正在寻找", report_id="r1")
    await h.api.signal_report(wf, {"kind": "search_result", "actor": "x", "found": False, "methods": ["phone"],
                                   "report_id": "r1"})
    st = await h.until(wf, lambda s: any(e.kind is EntryKind.REFUSED for e in s.timeline))
    return next(e.text_zh for e in st.timeline if e.kind is EntryKind.REFUSED), wf


async def _same_alert_other_type(h: Harness):
    alert = f"ALERT-{uuid.uuid4().hex[:8]}"
    first = await h.api.start(example("L1", alert_id=alert))
    h.started.append(first.workflow_id)
    return await _error(h.api.start(example("L2", alert_id=alert))), first.workflow_id


async def _direct_request_retried(h: Harness):
    data = example("L1", alert_id=None, description=f"群众直接求助 {uuid.uuid4().hex[:6]}")
    first = await h.api.start(data)
    h.started.append(first.workflow_id)
    second = await h.api.start(data)
    assert second.workflow_id == first.workflow_id and second.already_started and not first.already_started
    return f"same id: {first.workflow_id}", first.workflow_id


async def _arabic_indic_id(h: Harness):
    return await _error(h.api.start(example("C4", subject=_subject(id_number=ARABIC_INDIC_ID)))), None


async def _bad_check_digit(h: Harness):
    return await _error(h.api.start(example("C4", subject=_subject(id_number="331003199001011234")))), None


async def _full_width_id_normalised(h: Harness):
    from starter.api import parse_incident

    inc = parse_incident(example("C4", subject=_subject(id_number=FULL_WIDTH_ID, phone="１３６００００００１０")))
    assert inc.subject is not None and inc.subject.id_number == "331003199001011236"
    return f"normalised to ASCII, phone {len(inc.subject.phone or '')} digits", None


async def _nul_in_description(h: Harness):
    return await _error(h.api.start(example("L1", description="经过\x00正常"))), None


async def _rtl_override_in_name(h: Harness):
    return await _error(h.api.start(example("C4", subject=_subject(name="李\u202e明轩")))), None


async def _zero_width_name(h: Harness):
    return await _error(h.api.start(example("C4", subject=_subject(name="\u200b\u200c\u200d")))), None


async def _found_no(h: Harness):
    wf = await h.start("C4")
    return await _error(h.api.report(wf, {"kind": "search_result", "actor": "x", "found": "no",
                                          "methods": ["phone"]})), wf


async def _found_no_raw(h: Harness):
    wf = await h.start("C4")
    handle = h.env.client.get_workflow_handle(wf)
    return await _error(handle.execute_update("submit_report", {"kind": "search_result", "actor": "x", "found": "no",
                                                                "methods": ["phone"]})), wf


async def _report_over_the_size_limit(h: Harness):
    wf = await _open_l1(h)
    return await _error(h.api.report(wf, {"kind": "progress", "actor": "x", "current_situation": "况",
                                          "note": "x" * 70_000})), wf


async def _raw_signal_over_the_size_limit(h: Harness):
    """Past the doors (``temporal workflow signal``): refused before it is parsed, and the refusal recorded."""
    wf = await _open_l1(h)
    await h.env.client.get_workflow_handle(wf).signal(
        "report", {"kind": "progress", "actor": "x", "current_situation": "况" * 100_000})
    st = await h.until(wf, lambda s: any(e.kind is EntryKind.REFUSED for e in s.timeline))
    assert not any("况况况" in e.text_zh for e in st.timeline)  # nothing of it kept
    return next(e.text_zh for e in st.timeline if e.kind is EntryKind.REFUSED), wf


async def _incident_over_the_size_limit(h: Harness):
    return await _error(h.api.start(example("L1", measures_taken=["措" * 200] * 50,
                                            current_situation="况" * 2000, description="经" * 2000,
                                            other_counties=["县" * 200] * 20) | {"x": "y" * 300_000})), None


async def _raw_start_occurred_in_2099(h: Harness):
    handle = await h.env.client.start_workflow(
        "L1MajorDisputeMediation", example("L1", occurred_at="2099-01-01T00:00:00+08:00"),
        id=f"raw-2099-{uuid.uuid4().hex[:6]}", task_queue=h.queue, execution_timeout=timedelta(hours=1))
    h.started.append(handle.id)
    return await _error(handle.result()), None


TABLE_13 = [
    ("time: occurred_at in 2099", _start_occurred_in_2099, "occurred_at: lies in the future"),
    ("time: occurred_at in 2099, raw start", _raw_start_occurred_in_2099, "occurred_at: lies in the future"),
    ("time: dispatch.at in 2099", _start_dispatch_in_2099, "dispatch.at: lies in the future"),
    ("time: dispatch.at in 1970", _start_dispatch_in_1970, "dispatch.at: the centre's instruction cannot precede occurred_at"),
    ("time: occurred_at in 1970", _start_occurred_in_1970, "occurred_at: more than 365 days ago"),
    ("report_id reused, other report", _reused_report_id,
     "report_id: 'r1' was already used by report #"),
    ("report_id reused, other report, signal", _reused_report_id_by_signal, "(progress) with other content"),
    ("alert id of another type's incident", _same_alert_other_type, "alert_id: already used by incident incident-L1-"),
    ("direct request retried", _direct_request_retried, "same id: incident-L1-h"),
    ("ID number: Arabic-Indic digits", _arabic_indic_id, "subject.id_number: String should match pattern"),
    ("ID number: check digit", _bad_check_digit, "subject.id_number: the check digit (GB 11643) does not match"),
    ("ID number: full-width digits", _full_width_id_normalised, "normalised to ASCII, phone 11 digits"),
    ("text: NUL", _nul_in_description, "description: Value error, contains the invisible or control character U+0000"),
    ("text: RTL override in a name", _rtl_override_in_name, "subject.name: Value error, contains the invisible or control character U+202E"),
    ("text: a name of zero-width characters", _zero_width_name, "U+200B"),
    ("boolean: \"found\": \"no\"", _found_no, "found: Input should be a valid boolean"),
    ("boolean: \"found\": \"no\", raw", _found_no_raw, "found: Input should be a valid boolean"),
    ("size: report over 64 KiB", _report_over_the_size_limit, "bytes, over the limit of 65536 bytes"),
    ("size: raw signal over 64 KiB", _raw_signal_over_the_size_limit, "bytes, over the limit of 65536 bytes"),
    ("size: incident over 256 KiB", _incident_over_the_size_limit, "bytes, over the limit of 262144 bytes"),
]


@pytest.mark.parametrize("what,case,expected", TABLE_13, ids=[t[0] for t in TABLE_13])
async def test_bad_input_table_issue_13(harness: Harness, what, case, expected):
    await test_bad_input_table(harness, what, case, expected)


async def test_sdk_report_update_id_follows_report_id(harness: Harness):
    """A retried SDK call is the same update to Temporal (deduplicated there too)."""
    wf = await harness.start("L1")
    await harness.report(wf, "progress", current_situation="正在调解", report_id="p-7")
    history = await harness.env.client.get_workflow_handle(wf).fetch_history()
    ids = [e.workflow_execution_update_accepted_event_attributes.accepted_request.meta.update_id
           for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes")]
    assert len(ids) == 1 and ids[0].startswith("report-p-7-")


async def test_started_again_or_status_of_a_terminated_incident_tells_the_truth(harness: Harness):
    from starter.api import IncidentEnded

    data = example("L1", alert_id=f"TERM-{uuid.uuid4().hex[:8]}")
    started = await harness.api.start(data)
    harness.started.append(started.workflow_id)
    await harness.until_step(started.workflow_id, "information-report", 2)
    await harness.env.client.get_workflow_handle(started.workflow_id).terminate(reason="history size exceeded")
    with pytest.raises(IncidentEnded) as err:
        await harness.api.status(started.workflow_id)
    assert err.value.status == "TERMINATED" and err.value.reason == "history size exceeded"
    with pytest.raises(IncidentEnded) as err2:
        await harness.api.start(data)
    assert "terminated (history size exceeded)" in str(err2.value)


def test_cli_refuses_a_file_not_in_utf8_naming_it(tmp_path):
    f = tmp_path / "incident-gbk.json"
    f.write_bytes(json.dumps(example("L1"), ensure_ascii=False).encode("gbk"))
    res = run_cli("start", str(f))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert f"{f}:不是 UTF-8 编码的文本" in res.stderr
    b = tmp_path / "binary.json"
    b.write_bytes(bytes(range(256)))
    res = run_cli("start", str(b))
    assert res.returncode == 2 and "不是 UTF-8" in res.stderr and "Traceback" not in res.stderr


def test_config_files_not_in_utf8_name_the_file(tmp_path):
    from plan.agencies import DirectoryError, load_directory
    from plan.roster import RosterError, read_json

    f = tmp_path / "directory.json"
    f.write_bytes('{"名录": 1}'.encode("gbk"))
    with pytest.raises(DirectoryError, match=f"{f}: not UTF-8 text"):
        load_directory(f)
    with pytest.raises(RosterError, match=f"{f}: not UTF-8 text"):
        read_json(f)
