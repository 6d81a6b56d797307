"""Bad input never wedges an incident: a clear message naming the field, no endless retry.

Through the officers' CLI (refused before Temporal), the SDK door (refused before Temporal), and raw
starts that bypass both (`temporal workflow start` with the wrong shape): the workflow fails at once
with a named non-retryable error whose message does not echo personal data.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from conftest import ROOT, Harness, example
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
    assert "李明轩" not in res.stderr and "33100319900101123X" not in res.stderr  # no personal data echoed


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
        "C4AbscondFromSupervision", payload, id=f"bad-{abs(hash(expected))}", task_queue=harness.queue,
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
