"""Starting the matching incident from a warning or an alarm (issue 20): the one shared hand-over.

A non-incident workflow (a warning of 000 §4.1 / 001 §7(1), ``workflows/warning.py``; an alarm of the
electronic monitoring platform) that decides an incident must be handled calls :func:`start_incident`
from its workflow code. It starts the incident workflow of the input's type as a child that outlives
it (``ParentClosePolicy.ABANDON``), with

- a deterministic workflow id, ``incident-<type>-<origin workflow id>`` (no personal data: the origin's
  id carries none, checked again here), so a retried or replayed hand-over finds the same incident;
- the input's ``origin`` set (:class:`plan.models.Origin`): the incident's timeline says at start that
  it came from the warning or alarm, its details list it among the related workflows and its
  ``status`` returns it;
- the search attributes every incident gets at the SDK door (``infra.search_attributes.of_incident``),
  where the namespace has them (the calling workflow carries attributes of its own: registered);
- the calling workflow's task queue (the incident's worker) and a Chinese summary without personal data.

It returns the incident's workflow id, so that the caller records "escalated to incident X" and closes.
An input that is not a valid incident raises :data:`INVALID_INPUT` (non-retryable) naming the field.
"""

from __future__ import annotations

import hashlib
from typing import Any

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from infra import search_attributes as sa
    from plan.ids import workflow_id_problem
    from plan.models import (
        INCIDENT_INPUT_ADAPTER,
        IncidentInput,
        IncidentType,
        Origin,
        describe_validation_error,
        incident_problems,
    )

from workflows.mechanics.inputs import invalid_input

#: The Temporal workflow type each incident type runs as (names, so that the clause modules are not
#: imported by the workflows that start them); ``tests/test_handover.py`` checks them against the registry.
WORKFLOW_TYPE: dict[IncidentType, str] = {
    IncidentType.L1: "L1MajorDisputeMediation",
    IncidentType.L2: "L2LawyerComplaint",
    IncidentType.L3: "L3LegalAid",
    IncidentType.L4: "L4CorrectionOrResettlement",
    IncidentType.C1: "C1ViolentCrimeOrSelfHarm",
    IncidentType.C2: "C2MassIncident",
    IncidentType.C3: "C3AbnormalPetition",
    IncidentType.C4: "C4AbscondFromSupervision",
    IncidentType.C5: "C5DisruptsActivity",
    IncidentType.C6: "C6AbnormalDeath",
    IncidentType.C7: "C7ActivityCasualty",
    IncidentType.C8: "C8WorkplaceViolence",
    IncidentType.C9: "C9Epidemic",
    IncidentType.C10: "C10SensitiveVenue",
    IncidentType.C11: "C11OtherEmergency",
}

MAX_ID = 200


def incident_id(incident_type: IncidentType, origin_workflow_id: str) -> str:
    """``incident-C2-<origin id>`` (a hash of it when that would be longer than 200 characters)."""
    wf_id = f"incident-{incident_type.value}-{origin_workflow_id}"
    if len(wf_id) <= MAX_ID:
        return wf_id
    return f"incident-{incident_type.value}-o{hashlib.sha256(origin_workflow_id.encode()).hexdigest()[:24]}"


def _carries_attributes() -> bool:
    present = workflow.info().typed_search_attributes
    return any(key in present for key in sa.ALL_KEYS)


async def start_incident(incident: IncidentInput | dict[str, Any], origin: Origin, *,
                         task_queue: str | None = None) -> str:
    """Start the incident of ``incident`` (a typed input or its JSON form) from ``origin`` (the calling
    warning or alarm) and return its workflow id; already started (a retry, a replay): the same id.
    ``task_queue``: the incidents' queue when it is not the caller's own."""
    data = incident.model_dump(mode="json") if not isinstance(incident, dict) else dict(incident)
    data.update({"origin": origin.model_dump(mode="json"), "alert_id": None, "handed_over_from": None})
    try:
        inp = INCIDENT_INPUT_ADAPTER.validate_python(data)
    except ValidationError as err:
        raise invalid_input(f"invalid incident input: {describe_validation_error(err)}") from None
    problems = incident_problems(inp, workflow.now(), check_age=False)
    if problems:
        raise invalid_input("invalid incident input: " + "; ".join(problems))
    wf_id = incident_id(inp.incident_type, origin.workflow_id)
    problem = workflow_id_problem(wf_id, inp.model_dump(mode="json"))
    if problem:
        raise invalid_input(f"invalid incident input: origin.workflow_id: {problem}")
    drill = "【演练】" if inp.drill else ""
    try:
        await workflow.start_child_workflow(
            WORKFLOW_TYPE[inp.incident_type],
            inp,
            id=wf_id,
            task_queue=task_queue or workflow.info().task_queue,
            parent_close_policy=ParentClosePolicy.ABANDON,
            search_attributes=sa.of_incident(inp) if _carries_attributes() else None,
            static_summary=(
                f"{drill}{inp.incident_type.value} 由{origin.kind.zh}转来 · "
                f"{inp.jurisdiction.county}{inp.jurisdiction.justice_office} · {inp.flow.zh}"
            ),
        )
    except WorkflowAlreadyStartedError:
        pass  # started by an earlier attempt of the same hand-over: the same incident
    return wf_id
