"""The typed door for other services (the command-centre platform) and for the officers' CLI.

    from starter.api import IncidentClient
    from plan.models import IncidentInput

    client = await IncidentClient.connect()           # same environment settings as the worker
    started = await client.start(IncidentInput.model_validate_json(text))
    receipt = await client.report(started.workflow_id, {"kind": "arrived", "actor": "东城司法所"})
    status = await client.status(started.workflow_id)

Input is validated here before anything reaches Temporal, and again inside the workflow.
Workflow ids carry the incident type and the centre's alert id (or a random suffix), never
personal data. Starting twice with the same alert id returns the incident already started.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from infra.settings import connect, task_queue
from plan.models import (
    FLOW_ZH,
    REPORT_ADAPTER,
    AccountabilityRecord,
    IncidentInput,
    IncidentOutcome,
    IncidentStatus,
    Report,
    ReportReceipt,
    describe_validation_error,
)
from workflows import INCIDENT_WORKFLOWS, workflow_type_name


class InvalidInput(ValueError):
    """Input refused before it reached Temporal; the message names each bad field."""


class ReportRefused(ValueError):
    """The incident refused a report; the message is the workflow's reason."""


@dataclass(frozen=True)
class Started:
    workflow_id: str
    workflow_type: str
    already_started: bool
    """True when an incident with this alert id already existed (idempotent start)."""


def parse_incident(data: IncidentInput | dict[str, Any] | str | bytes) -> IncidentInput:
    """Validate incident input from a model, a dict or JSON text; InvalidInput names the fields."""
    if isinstance(data, IncidentInput):
        return data
    try:
        if isinstance(data, (str, bytes)):
            return IncidentInput.model_validate_json(data)
        return IncidentInput.model_validate(data)
    except ValidationError as err:
        raise InvalidInput(f"invalid incident input: {describe_validation_error(err)}") from None


def parse_report(data: Report | dict[str, Any] | str | bytes) -> Report:
    if not isinstance(data, (dict, str, bytes)):
        return data
    try:
        if isinstance(data, (str, bytes)):
            return REPORT_ADAPTER.validate_json(data)
        return REPORT_ADAPTER.validate_python(data)
    except ValidationError as err:
        raise InvalidInput(f"invalid report: {describe_validation_error(err)}") from None


def incident_workflow_id(incident: IncidentInput) -> str:
    """``incident-C4-<alert id>``, or ``incident-C4-<UTC time>-<random>`` for a direct request."""
    suffix = incident.alert_id or (
        datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    )
    return f"incident-{incident.incident_type.value}-{suffix}"


def summary_zh(incident: IncidentInput) -> str:
    """The one line the Temporal UI shows for an incident (no personal data)."""
    wf = INCIDENT_WORKFLOWS[incident.incident_type]
    drill = "【演练】" if incident.drill else ""
    return (
        f"{drill}{incident.incident_type.value} {wf.TITLE_ZH} · {incident.jurisdiction.county}"
        f"{incident.jurisdiction.justice_office} · {FLOW_ZH[incident.flow]}"
    )


class IncidentClient:
    """Start incidents, send progress reports, read status: the typed SDK door."""

    def __init__(self, client: Client, queue: str | None = None) -> None:
        self.client = client
        self.task_queue = queue or task_queue()

    @classmethod
    async def connect(cls, **overrides: Any) -> IncidentClient:
        return cls(await connect(**overrides))

    async def start(
        self, data: IncidentInput | dict[str, Any] | str | bytes, *, workflow_id: str | None = None
    ) -> Started:
        incident = parse_incident(data)
        wf_type = workflow_type_name(incident.incident_type)
        wf_id = workflow_id or incident_workflow_id(incident)
        try:
            handle = await self.client.start_workflow(
                wf_type,
                incident,
                id=wf_id,
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                static_summary=summary_zh(incident),
            )
        except WorkflowAlreadyStartedError:
            return Started(wf_id, wf_type, already_started=True)
        resp = getattr(handle, "_start_workflow_response", None)
        existed = resp is not None and not getattr(resp, "started", True)
        return Started(handle.id, wf_type, already_started=existed)

    def handle(self, workflow_id: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(workflow_id)

    async def report(self, workflow_id: str, data: Report | dict[str, Any] | str) -> ReportReceipt:
        """Send a progress report as an update: a refusal raises ReportRefused with the reason."""
        report = parse_report(data)
        try:
            return await self.handle(workflow_id).execute_update(
                "submit_report", report, result_type=ReportReceipt
            )
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
            raise ReportRefused(reason) from None
        except RPCError as err:
            raise ReportRefused(f"incident {workflow_id}: {err.message}") from None

    async def signal_report(self, workflow_id: str, data: Report | dict[str, Any] | str) -> None:
        """Send a progress report fire-and-forget; a refusal lands on the incident's timeline."""
        await self.handle(workflow_id).signal("report", parse_report(data))

    async def status(self, workflow_id: str) -> IncidentStatus:
        return await self.handle(workflow_id).query("status", result_type=IncidentStatus)

    async def accountability(self, workflow_id: str) -> AccountabilityRecord:
        """001 §7(4): every required report of the incident, on time, late or missing."""
        return await self.handle(workflow_id).query("accountability", result_type=AccountabilityRecord)

    async def outcome(self, workflow_id: str) -> IncidentOutcome:
        """Wait for the incident to close and return its written report and record."""
        handle = self.client.get_workflow_handle(workflow_id, result_type=IncidentOutcome)
        return await handle.result()
