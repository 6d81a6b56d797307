"""The typed door for other services (the command-centre platform) and for the officers' CLI.

    from starter.api import IncidentClient
    from plan.models import INCIDENT_INPUT_ADAPTER

    client = await IncidentClient.connect()           # same environment settings as the worker
    started = await client.start(INCIDENT_INPUT_ADAPTER.validate_json(text))
    receipt = await client.report(started.workflow_id, {"kind": "arrived", "actor": "东城司法所"})
    status = await client.status(started.workflow_id)

Input is validated here before anything reaches Temporal, and again inside the workflow.
Workflow ids carry the incident type and the centre's alert id (or, for a direct request, a hash of
its content, so a retried start finds the same incident), never personal data. Starting twice with the
same alert id returns the incident already started; an alert id already used by an incident of another
type, or one whose incident ended abnormally (terminated, failed, timed out), is refused with the reason.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from pydantic import ValidationError
from pydantic_core import from_json
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowHistoryEventFilterType,
    WorkflowUpdateFailedError,
)
from temporalio.api.enums.v1 import EventType
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from infra import search_attributes as sa
from infra.codec import ENV_KEYS_FILE, CodecConfigError, PayloadDecryptError
from infra.settings import connect, task_queue
from plan.ids import workflow_id_problem
from plan.models import (
    DutyBoard,
    MAX_INCIDENT_BYTES,
    MAX_REPORT_BYTES,
    INCIDENT_INPUT_ADAPTER,
    REPORT_ADAPTER,
    AccountabilityRecord,
    IncidentBase,
    IncidentInput,
    IncidentOutcome,
    IncidentStatus,
    Report,
    ReportReceipt,
    IncidentType,
    canonical_json,
    describe_validation_error,
    fields_not_taken,
    incident_problems,
    json_size,
    report_fingerprint,
)
from workflows import INCIDENT_WORKFLOWS, workflow_type_name

log = structlog.get_logger("starter.api")
T = TypeVar("T")


class InvalidInput(ValueError):
    """Input refused before it reached Temporal; the message names each bad field."""


class ReportRefused(ValueError):
    """The incident refused a report; the message is the workflow's reason."""


class PayloadUnreadable(CodecConfigError):
    """What Temporal returned cannot be decrypted here: no keys, or not the key it was written with."""


def unreadable_payload(err: BaseException) -> PayloadUnreadable | None:
    """The one line for a payload this process cannot decode (no traceback), or None."""
    seen: BaseException | None = err
    while seen is not None:
        text = str(seen)
        if isinstance(seen, PayloadDecryptError):
            return PayloadUnreadable(f"cannot decrypt the incident's data: {text}")
        if "binary/encrypted" in text or "binary/unencrypted-refused" in text:
            return PayloadUnreadable(
                f"the incident's data is encrypted and this process has no keys: set {ENV_KEYS_FILE} "
                "(./dev.sh up writes var/codec-keys.json) or, for the temporal CLI, TEMPORAL_CODEC_ENDPOINT"
            )
        seen = seen.__cause__ or seen.__context__
    return None


async def _decoded(awaitable: Awaitable[T]) -> T:
    try:
        return await awaitable
    except (KeyError, ValueError, RuntimeError, TypeError) as err:
        unreadable = unreadable_payload(err)
        if unreadable is not None:
            raise unreadable from None
        raise


class IncidentEnded(ValueError):
    """The incident's run ended abnormally (terminated, failed, timed out, cancelled): it is not open,
    whatever its last recorded state says. ``status`` is the execution status name, ``reason`` the
    server's (termination reason, failure message)."""

    def __init__(self, workflow_id: str, status: str, reason: str) -> None:
        self.workflow_id, self.status, self.reason = workflow_id, status, reason
        super().__init__(f"incident {workflow_id}: {status.lower().replace('_', ' ')}"
                         + (f" ({reason})" if reason else "") + "; it is no longer handled")


#: Execution statuses of an incident that ended without completing its plan.
ABNORMAL = frozenset({
    WorkflowExecutionStatus.TERMINATED,
    WorkflowExecutionStatus.FAILED,
    WorkflowExecutionStatus.TIMED_OUT,
    WorkflowExecutionStatus.CANCELED,
})


@dataclass(frozen=True)
class Started:
    workflow_id: str
    workflow_type: str
    already_started: bool
    """True when an incident with this alert id already existed (idempotent start)."""
    eager: bool = False
    """True when the first workflow task came back with the start (eager start: a worker on this queue
    runs in this process with this client and had a free slot)."""


def parse_incident(data: IncidentInput | dict[str, Any] | str | bytes) -> IncidentInput:
    """Validate incident input from a model, a dict or JSON text; InvalidInput names the fields."""
    size = json_size(data)
    if size > MAX_INCIDENT_BYTES:
        raise InvalidInput(f"invalid incident input: {size} bytes, over the limit of {MAX_INCIDENT_BYTES} bytes")
    raw: Any = None
    if isinstance(data, IncidentBase):
        incident = data
    else:
        try:
            if isinstance(data, (str, bytes)):
                raw = from_json(data)
            incident = INCIDENT_INPUT_ADAPTER.validate_python(data if raw is None else raw)
        except ValidationError as err:
            raise InvalidInput(f"invalid incident input: {describe_validation_error(err)}") from None
        except ValueError as err:  # not JSON
            raise InvalidInput(f"invalid incident input: (whole input): Invalid JSON: {err}") from None
    problems = fields_not_taken(data if raw is None else raw) + incident_problems(incident, datetime.now(UTC))
    if problems:
        raise InvalidInput("invalid incident input: " + "; ".join(problems))
    return incident


def parse_report(data: Report | dict[str, Any] | str | bytes) -> Report:
    size = json_size(data)
    if size > MAX_REPORT_BYTES:
        raise InvalidInput(f"invalid report: {size} bytes, over the limit of {MAX_REPORT_BYTES} bytes")
    if not isinstance(data, (dict, str, bytes)):
        return data
    try:
        if isinstance(data, (str, bytes)):
            return REPORT_ADAPTER.validate_json(data)
        return REPORT_ADAPTER.validate_python(data)
    except ValidationError as err:
        raise InvalidInput(f"invalid report: {describe_validation_error(err)}") from None


def incident_workflow_id(incident: IncidentInput) -> str:
    """``incident-C4-<alert id>``, or ``incident-C4-h<hash of the input>`` for a direct request: the
    same request sent again (a retry) finds the same incident instead of starting a second one. The
    hash is of the whole canonical input, so it reveals nothing about the personal data in it."""
    suffix = incident.alert_id or "h" + hashlib.sha256(canonical_json(incident)).hexdigest()[:20]
    return f"incident-{incident.incident_type.value}-{suffix}"


def summary_zh(incident: IncidentInput) -> str:
    """The one line the Temporal UI shows for an incident (no personal data)."""
    wf = INCIDENT_WORKFLOWS[incident.incident_type]
    drill = "【演练】" if incident.drill else ""
    return (
        f"{drill}{incident.incident_type.value} {wf.TITLE_ZH} · {incident.jurisdiction.county}"
        f"{incident.jurisdiction.justice_office} · {incident.flow.zh}"
    )


def details_zh(incident: IncidentInput) -> str:
    """The incident's fixed details in the Temporal UI (Markdown; no personal data: no names,
    phones, addresses, not even the place, which may be a subject's home)."""
    from plan.texts import fmt_time

    wf = INCIDENT_WORKFLOWS[incident.incident_type]
    lines = [
        f"**{'【演练】' if incident.drill else ''}{wf.TITLE_ZH}**",
        f"事件类型:{incident.incident_type.value}(依据 {wf.CLAUSE})",
        f"辖区:{incident.jurisdiction.county}{incident.jurisdiction.justice_office}",
        f"处置流程:{incident.flow.zh}",
        f"发生时间:{fmt_time(incident.occurred_at)}",
        f"来源:{incident.source.zh}",
    ]
    if incident.major:
        lines.append("重大突发事件:由领导小组决定启动预案(000 §2.1)")
    if incident.dispatch is not None:
        lines.append("指挥中心已下达指令:到场时限 30分钟(000 §4.3)")
    lines.append("待办时限和已超时事项见“当前详情”(Current Details)。")
    return "\n\n".join(lines)


def search_attributes_of(incident: IncidentInput) -> sa.TypedSearchAttributes:
    """What the incident is found by in the UI and ``python -m starter list`` (no personal data)."""
    return sa.of_incident(incident)


CONTINUING_RETRY_SECONDS = 30.0
"""How long a report is retried while the incident's run is continuing as new (the server answers
"workflow is closing" for that moment: workflows/mechanics/continuation.py) or while the incident has
the most updates in flight the server takes at once (10)."""


async def _while_continuing(send: Callable[[], Awaitable[T]]) -> T:
    """``send()``, retried while the incident is between two runs; any other error goes to the caller."""
    delay, waited = 0.05, 0.0
    while True:
        try:
            return await send()
        except RPCError as err:
            message = err.message or ""
            # the moment a run continues as new, the most updates in flight the server takes (10), an update
            # whose workflow task the server rejected (a new event arrived while it ran): not applied,
            # so the same request (same update id) goes again
            transient = any(t in message for t in ("workflow is closing", "in-flight updates",
                                                   "Unable to perform workflow execution update due to",
                                                   "workflow update was aborted"))
            if not transient or waited >= CONTINUING_RETRY_SECONDS:
                raise
        await asyncio.sleep(delay)
        waited += delay
        delay = min(delay * 2, 1.0)


class IncidentClient:
    """Start incidents, send progress reports, read status: the typed SDK door."""

    def __init__(self, client: Client, queue: str | None = None, *, bureau: str | None = None,
                 eager_start: bool = False) -> None:
        self.client = client
        self.task_queue = queue or task_queue()
        self.eager_start = eager_start
        """Ask for eager workflow start (issue 19): for a service that runs the worker in its own process
        on this same client. Off by default: with Worker Versioning the first task would go to the
        local worker's version even after another version became current (tests/test_versioning.py)."""
        self._attributes_registered: bool | None = None
        self.bureau = bureau
        """The bureau this door acts for (issue 17): its namespace and keys; every incident started
        through it is that bureau's (``bureau`` set on the input, a type it does not run refused)."""

    @classmethod
    async def connect(cls, *, bureau: str | None = None, **overrides: Any) -> IncidentClient:
        """``bureau``: connect to that bureau's namespace with its own codec keys."""
        return cls(await connect(bureau=bureau, **overrides), bureau=bureau)

    def for_bureau(self, incident: IncidentInput) -> IncidentInput:
        """The incident as this door's bureau runs it: ``bureau`` filled in, a type the bureau's plans
        do not cover, or another bureau's incident, refused (:class:`InvalidInput`, one line)."""
        if self.bureau is None:
            return incident
        from plan.bureaus import profile

        prof = profile(self.bureau)
        if incident.bureau not in (None, self.bureau):
            raise InvalidInput(f"bureau: {incident.bureau} given to {self.bureau}'s door; use --bureau {incident.bureau}")
        if not prof.runs(incident.incident_type.value):
            plans = "、".join(p.title_zh for p in prof.plans.values())
            raise InvalidInput(
                f"incident_type: {prof.name_zh} does not run {incident.incident_type.value} "
                f"(its plans: {plans}); start it with the bureau that does"
            )
        return incident.model_copy(update={"bureau": self.bureau})

    async def start(
        self, data: IncidentInput | dict[str, Any] | str | bytes, *, workflow_id: str | None = None
    ) -> Started:
        incident = self.for_bureau(parse_incident(data))
        wf_type = workflow_type_name(incident.incident_type)
        wf_id = workflow_id or incident_workflow_id(incident)
        problem = workflow_id_problem(wf_id, incident.model_dump(mode="json"))
        if problem:  # stored and listed in plain text: never personal data (plan/ids.py)
            raise InvalidInput(f"invalid workflow id: {problem}")
        options: dict[str, Any] = {
            "id": wf_id,
            "task_queue": self.task_queue,
            "id_reuse_policy": WorkflowIDReusePolicy.REJECT_DUPLICATE,
            "id_conflict_policy": WorkflowIDConflictPolicy.USE_EXISTING,
            "static_summary": summary_zh(incident),
            "static_details": details_zh(incident),
            # Eager start (``eager_start``): when a worker on this queue runs in this process on this client
            # and has a free slot, the server hands it the first workflow task in the start response,
            # skipping the task queue: the 110 call of 001 §4(1) goes out one round trip sooner. Without
            # such a worker the SDK does not ask for it.
            "request_eager_start": self.eager_start,
        }
        if incident.alert_id and workflow_id is None:
            await self._one_alert_one_incident(incident)
        if await self.attributes_registered():
            options["search_attributes"] = search_attributes_of(incident)
        try:
            handle = await self.client.start_workflow(wf_type, incident, **options)
        except WorkflowAlreadyStartedError:
            # The id is taken by a closed run (REJECT_DUPLICATE): completed is the idempotent case; an
            # incident that ended abnormally is not silently "already started".
            await self._raise_if_ended(wf_id)
            return Started(wf_id, wf_type, already_started=True)
        resp = getattr(handle, "_start_workflow_response", None)
        existed = resp is not None and not getattr(resp, "started", True)
        return Started(handle.id, wf_type, already_started=existed,
                       eager=bool(getattr(handle, "__temporal_eagerly_started", False)))

    async def attributes_registered(self) -> bool:
        """Whether the namespace has the incidents' search attributes (asked once per client).

        Without them an incident starts unfindable by filter (a warning says so): a start with
        unregistered attributes is refused by a cluster, and the time-skipping test server even
        leaves a broken execution behind."""
        if self._attributes_registered is None:
            self._attributes_registered = await sa.registered(self.client)
            if not self._attributes_registered:
                log.warning(
                    "search attributes not registered; incidents start without them "
                    "(run: python -m starter setup-search-attributes)",
                    namespace=self.client.namespace,
                )
        return self._attributes_registered

    async def _one_alert_one_incident(self, incident: IncidentInput) -> None:
        """An alert id already used by an incident of another type is refused, naming it."""
        assert incident.alert_id is not None
        others = [t for t in IncidentType if t is not incident.incident_type]
        ids = [f"incident-{t.value}-{incident.alert_id}" for t in others]

        async def exists(wf_id: str) -> bool:
            try:
                await self.handle(wf_id).describe()
                return True
            except RPCError:
                return False

        found = await asyncio.gather(*(exists(i) for i in ids))
        for wf_id, hit in zip(ids, found):
            if hit:
                raise InvalidInput(
                    f"invalid incident input: alert_id: already used by incident {wf_id} of another type; "
                    "one alert is one incident (report to that incident, or use the alert's own id)"
                )

    async def ended_abnormally(self, workflow_id: str) -> IncidentEnded | None:
        """The incident's run ended terminated, failed, timed out or cancelled: how, with the server's
        reason (from the closing event); None while it runs or once it completed."""
        handle = self.handle(workflow_id)
        desc = await handle.describe()
        if desc.status not in ABNORMAL:
            return None
        reason = ""
        try:
            async for event in handle.fetch_history_events(
                event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT
            ):
                if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
                    reason = event.workflow_execution_terminated_event_attributes.reason
                elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
                    reason = event.workflow_execution_failed_event_attributes.failure.message
                elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
                    reason = "execution timeout"
        except RPCError:
            pass
        assert desc.status is not None
        return IncidentEnded(workflow_id, desc.status.name, reason)

    async def _raise_if_ended(self, workflow_id: str) -> None:
        try:
            ended = await self.ended_abnormally(workflow_id)
        except RPCError:
            return
        if ended is not None:
            raise ended

    def handle(self, workflow_id: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(workflow_id)

    async def report(self, workflow_id: str, data: Report | dict[str, Any] | str) -> ReportReceipt:
        """Send a progress report as an update: a refusal raises ReportRefused with the reason."""
        report = parse_report(data)
        # The update id follows the report id and content: a retried call (a timeout, a lost answer) is
        # the same update to Temporal, deduplicated there as well as by the incident; another report
        # reusing the id is another update, which the incident refuses naming the first report.
        update_id = f"report-{report.report_id}-{report_fingerprint(report)[:12]}" if report.report_id else None
        try:
            return await _while_continuing(lambda: _decoded(self.handle(workflow_id).execute_update(
                "submit_report", report, result_type=ReportReceipt, id=update_id
            )))
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
            raise ReportRefused(reason) from None
        except RPCError as err:
            raise ReportRefused(await self._not_running(workflow_id, err)) from None

    async def signal_report(self, workflow_id: str, data: Report | dict[str, Any] | str) -> None:
        """Send a progress report fire-and-forget; a refusal lands on the incident's timeline."""
        report = parse_report(data)
        try:
            await _while_continuing(lambda: self.handle(workflow_id).signal("report", report))
        except RPCError as err:
            raise ReportRefused(await self._not_running(workflow_id, err)) from None

    async def _not_running(self, workflow_id: str, err: RPCError) -> str:
        """Why a report could not be delivered: the incident is finished (and how), or unknown."""
        try:
            desc = await self.handle(workflow_id).describe()
        except RPCError:
            return f"incident {workflow_id}: no such incident ({err.message})"
        if desc.status is not None and desc.status.name != "RUNNING":
            return (f"incident {workflow_id}: already {desc.status.name.lower().replace('_', ' ')}; "
                    "reports are no longer taken")
        return f"incident {workflow_id}: {err.message}"

    async def status(self, workflow_id: str) -> IncidentStatus:
        """The incident's status; an incident whose run ended abnormally raises :class:`IncidentEnded`
        (its last recorded state would still say "open", with deadlines nobody watches)."""
        await self._raise_if_ended(workflow_id)
        return await _decoded(self.handle(workflow_id).query("status", result_type=IncidentStatus))

    async def accountability(self, workflow_id: str) -> AccountabilityRecord:
        """001 §7(4): every required report of the incident, on time, late or missing."""
        return await _decoded(self.handle(workflow_id).query("accountability", result_type=AccountabilityRecord))

    async def duties(self, workflow_id: str) -> DutyBoard:
        """Duties of people (issue 16): open first (soonest due first), then closed."""
        return await _decoded(self.handle(workflow_id).query("duties", result_type=DutyBoard))

    async def outcome(self, workflow_id: str) -> IncidentOutcome:
        """Wait for the incident to close and return its written report and record."""
        handle = self.client.get_workflow_handle(workflow_id, result_type=IncidentOutcome)
        return await _decoded(handle.result())
