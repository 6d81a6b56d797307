"""What the board reads and writes, only through the SDK: visibility list (search attributes),
queries (``status``, ``deadlines``, ``accountability``), the ``submit_report`` update, and the
incident's start event (its input, decoded by the project's encrypted data converter).

One client per bureau namespace (issue 17), created on first use with :func:`infra.settings.connect`
(the converter of ``starter/``: encrypted, fail closed without keys). A person reaches an incident
only through :meth:`Board.incident`, which answers :class:`NotFound` for anything outside the
person's namespace and county, so another bureau's incident is a 404, whatever its id.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from infra import search_attributes as sa
from infra.settings import connect
from plan.agencies import Directory
from plan.models import INCIDENT_INPUT_ADAPTER, AccountabilityRecord, IncidentInput, IncidentStatus
from starter.api import ABNORMAL, IncidentClient, IncidentEnded
from web.config import Account
from web.duties import Duty, duties_of

log = structlog.get_logger("web.board")


class NotFound(LookupError):
    """No such incident for this person (not in their bureau, or not an incident at all)."""


@dataclass
class Row:
    workflow_id: str
    incident_type: str
    office: str
    county: str
    flow: str
    drill: bool
    phase: str
    missed: bool
    occurred_at: datetime | None
    status: str
    next_deadline: Any = None
    duties: list[Duty] = field(default_factory=list)
    title: str = ""


@dataclass
class Incident:
    row: Row
    status: IncidentStatus | None
    ended: IncidentEnded | None
    accountability: AccountabilityRecord | None
    input: IncidentInput | None
    duties: list[Duty]


class Board:
    def __init__(self, directory: Directory | None, *, address: str | None = None,
                 data_converter: Any = None) -> None:
        self.directory = directory
        self.address = address
        self.data_converter = data_converter
        """None: the project's converter from the environment (``infra.settings.data_converter``)."""
        self._clients: dict[str, IncidentClient] = {}
        self._lock = asyncio.Lock()

    async def client(self, namespace: str) -> IncidentClient:
        async with self._lock:
            if namespace not in self._clients:
                overrides: dict[str, Any] = {"namespace": namespace}
                if self.address:
                    overrides["target_host"] = self.address
                if self.data_converter is not None:
                    overrides["data_converter"] = self.data_converter
                self._clients[namespace] = IncidentClient(await connect(**overrides))
            return self._clients[namespace]

    # ------------------------------------------------------------------ list

    async def rows(self, account: Account, *, office: str | None = None, incident_type: str | None = None,
                   overdue: bool | None = None, limit: int = 200) -> list[Row]:
        """Open incidents of the person's bureau (namespace and county), newest first."""
        client = await self.client(account.namespace)
        query = sa.incident_query(county=account.county, justice_office=office or None,
                                  incident_type=incident_type or None, deadline_missed=True if overdue else None,
                                  running=True)
        rows: list[Row] = []
        async for wf in client.client.list_workflows(query, limit=limit):
            rows.append(_row(wf.id, wf.typed_search_attributes, wf.status))
        await asyncio.gather(*(self._fill(client, account, r) for r in rows))
        if overdue:  # visibility's flag is set when a deadline was missed; keep what is overdue now too
            rows = [r for r in rows if r.missed or any(d.overdue for d in r.duties)]
        return rows

    async def _fill(self, client: IncidentClient, account: Account, row: Row) -> None:
        try:
            st = await client.status(row.workflow_id)
        except (IncidentEnded, RPCError, ValueError):
            return
        now = datetime.now(UTC)
        row.title = st.title_zh
        pending = sorted((d for d in st.deadlines if d.status.value in ("pending", "missed")), key=lambda d: d.due_at)
        row.next_deadline = pending[0] if pending else None
        row.duties = duties_of(st, None, row.office, self.directory, now)
        row.missed = row.missed or any(d.due_at <= now for d in pending)

    # ------------------------------------------------------------------ one incident

    async def incident(self, account: Account, workflow_id: str) -> Incident:
        client = await self.client(account.namespace)
        handle = client.handle(workflow_id)
        try:
            desc = await handle.describe()
        except RPCError as err:
            if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
                raise NotFound(workflow_id) from None
            raise
        attrs = desc.typed_search_attributes
        if attrs.get(sa.INCIDENT_TYPE) is None or attrs.get(sa.INCIDENT_COUNTY) != account.county:
            raise NotFound(workflow_id)
        row = _row(workflow_id, attrs, desc.status)
        inp = await self._input(client, workflow_id)
        st: IncidentStatus | None = None
        ended: IncidentEnded | None = None
        acc: AccountabilityRecord | None = None
        try:
            st = await client.status(workflow_id)
            acc = await client.accountability(workflow_id)
        except IncidentEnded as err:
            ended = err
        duties = duties_of(st, inp, row.office, self.directory, datetime.now(UTC)) if st and desc.status is \
            WorkflowExecutionStatus.RUNNING else []
        if st:
            row.title = st.title_zh
        return Incident(row, st, ended, acc, inp, duties)

    async def _input(self, client: IncidentClient, workflow_id: str) -> IncidentInput | None:
        """The incident's input, from its start event (decrypted by the client's converter)."""
        async for event in client.handle(workflow_id).fetch_history_events():
            if event.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                return None
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            try:
                values = await client.client.data_converter.decode(payloads, [dict])
            except (KeyError, ValueError, RuntimeError, TypeError) as err:
                from starter.api import unreadable_payload

                unreadable = unreadable_payload(err)
                raise (unreadable or err) from None
            value = values[0] if values else None
            try:
                data = value.get("input", value) if isinstance(value, dict) else value
                return INCIDENT_INPUT_ADAPTER.validate_python(data)
            except ValueError:
                return None
        return None

    async def report(self, account: Account, workflow_id: str, report: Any) -> str:
        """Send a report as the ``submit_report`` update; ReportRefused carries the incident's reason."""
        await self.incident_exists(account, workflow_id)
        client = await self.client(account.namespace)
        receipt = await client.report(workflow_id, report)
        return receipt.message_zh

    async def incident_exists(self, account: Account, workflow_id: str) -> None:
        client = await self.client(account.namespace)
        try:
            desc = await client.handle(workflow_id).describe()
        except RPCError:
            raise NotFound(workflow_id) from None
        attrs = desc.typed_search_attributes
        if attrs.get(sa.INCIDENT_TYPE) is None or attrs.get(sa.INCIDENT_COUNTY) != account.county:
            raise NotFound(workflow_id)

    async def my_duties(self, account: Account) -> list[Duty]:
        """我的待办 (pre-duties adapter): the open duties of the person's office's incidents."""
        rows = await self.rows(account, office=account.office or None)
        client = await self.client(account.namespace)
        out: list[Duty] = []
        for r in rows:
            if not r.duties or all(d.form == "automated" for d in r.duties):
                continue
            inp = await self._input(client, r.workflow_id)
            st = await client.status(r.workflow_id)
            out += [d for d in duties_of(st, inp, r.office, self.directory, datetime.now(UTC)) if d.form != "automated"]
        return sorted(out, key=lambda d: d.due_at)

    async def duty(self, account: Account, duty_id: str) -> Duty | None:
        wf, sep, deadline = duty_id.partition("::")
        if not sep:
            return None
        try:
            inc = await self.incident(account, wf)
        except NotFound:
            return None
        if account.office and inc.row.office != account.office:
            return None
        return next((d for d in inc.duties if d.id == duty_id), None)


def _row(workflow_id: str, attrs: Any, status: WorkflowExecutionStatus | None) -> Row:
    return Row(
        workflow_id=workflow_id,
        incident_type=attrs.get(sa.INCIDENT_TYPE) or "",
        office=attrs.get(sa.INCIDENT_JUSTICE_OFFICE) or "",
        county=attrs.get(sa.INCIDENT_COUNTY) or "",
        flow=attrs.get(sa.INCIDENT_FLOW) or "",
        drill=bool(attrs.get(sa.INCIDENT_DRILL)),
        phase=attrs.get(sa.INCIDENT_PHASE) or "",
        missed=bool(attrs.get(sa.INCIDENT_DEADLINE_MISSED)),
        occurred_at=attrs.get(sa.INCIDENT_OCCURRED_AT),
        status="ENDED" if status in ABNORMAL else (status.name if status else ""),
    )
