"""Issue 20's shared contract: a warning or an alarm starts the matching incident
(``workflows/mechanics/handover.py``), and the incident says where it came from (``origin``)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.worker import Worker

from helpers import STARTED_ON_OWN_QUEUES, decisions, example
from plan.models import EntryKind, INCIDENT_INPUT_ADAPTER, IncidentType, Origin, OriginKind
from workflows.mechanics.handover import WORKFLOW_TYPE, incident_id, start_incident
from workflows.registry import workflow_type_name


@workflow.defn(name="HandOverProbe", sandboxed=False)
class HandOverProbe:
    """Stands in for a warning or an alarm: hands one incident over and returns its id."""

    @workflow.run
    async def run(self, args: dict[str, Any]) -> str:
        origin = Origin(kind=OriginKind(args["kind"]), workflow_id=workflow.info().workflow_id,
                        summary_zh=args.get("summary_zh", ""))
        return await start_incident(args["incident"], origin, task_queue=args["queue"])


def test_every_type_has_its_workflow_type() -> None:
    assert set(WORKFLOW_TYPE) == set(IncidentType)
    for t, name in WORKFLOW_TYPE.items():
        assert name == workflow_type_name(t)


def test_incident_id_is_deterministic_and_bounded() -> None:
    assert incident_id(IncidentType.C2, "warning-x-1") == "incident-C2-warning-x-1"
    long = incident_id(IncidentType.C2, "w" * 200)
    assert len(long) <= 200 and long == incident_id(IncidentType.C2, "w" * 200)


def test_origin_refuses_personal_data() -> None:
    with pytest.raises(ValueError, match="origin.summary_zh"):
        Origin(kind=OriginKind.WARNING, workflow_id="warning-1", summary_zh="对象 331003199001011236")


def test_an_input_without_origin_is_unchanged() -> None:
    inp = INCIDENT_INPUT_ADAPTER.validate_python(example("C2"))
    assert inp.origin is None
    assert "origin" not in inp.model_dump(exclude_defaults=True)


async def _probe(harness, kind: str, incident: dict[str, Any]) -> tuple[str, str]:
    probe_queue = f"probe-{uuid.uuid4().hex[:6]}"
    probe_id = f"{kind}-probe-{uuid.uuid4().hex[:8]}"
    async with Worker(harness.env.client, task_queue=probe_queue, workflows=[HandOverProbe]):
        wf_id = await harness.env.client.execute_workflow(
            "HandOverProbe", {"kind": kind, "incident": incident, "queue": harness.queue, "summary_zh": "三级预警"},
            id=probe_id, task_queue=probe_queue, result_type=str)
    harness.started.append(wf_id)
    STARTED_ON_OWN_QUEUES.append((harness.queue, wf_id))
    return probe_id, wf_id


async def test_hand_over_starts_the_incident_with_its_origin(harness) -> None:
    """The incident starts with the origin's facts, says so on its timeline, and status returns it."""
    probe_id, wf_id = await _probe(harness, "warning", example("C2", alert_id=None))
    assert wf_id == f"incident-C2-{probe_id}"
    st = await harness.until(wf_id, lambda s: bool(s.timeline))
    assert st.origin is not None and st.origin.kind is OriginKind.WARNING and st.origin.workflow_id == probe_id
    assert probe_id in st.related
    first = [e for e in st.timeline if e.kind is EntryKind.DECISION][0]
    assert first.text_zh == f"本事件由预警 {probe_id} 转来(三级预警)" and first.clause == "000 §4.1"
    assert st.timeline[0].kind is EntryKind.INCIDENT
    assert decisions(st.timeline)[0] == first.text_zh
    # the same hand-over again (a retry): the same incident, nothing started twice
    async with Worker(harness.env.client, task_queue="probe-again", workflows=[HandOverProbe]):
        again = await harness.env.client.execute_workflow(
            "HandOverProbe", {"kind": "warning", "incident": example("C2"), "queue": harness.queue},
            id=f"{probe_id}", task_queue="probe-again", result_type=str,
            id_reuse_policy=__import__("temporalio.common", fromlist=["x"]).WorkflowIDReusePolicy.ALLOW_DUPLICATE)
    assert again == wf_id


async def test_hand_over_refuses_an_invalid_input(harness) -> None:
    bad = example("C2")
    del bad["subject"]
    with pytest.raises(WorkflowFailureError) as err:
        await _probe(harness, "alarm", bad)
    assert "subject" in str(err.value.cause)
