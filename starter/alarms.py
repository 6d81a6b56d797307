"""The platform's door for alarms (信息化核查, 001 §4(4)), and their 日报 / 月通报 per 司法所.

    from starter.alarms import AlarmClient

    alarms = AlarmClient(incident_client.client)       # same connection, namespace and keys
    receipt = await alarms.receive(alarm_json_or_dict)  # idempotent by the platform's alarm id
    await alarms.verify(receipt.workflow_id, finding="leave_approved", result="…", actor="东城司法所 孙立新")
    counts = await alarms.report("东城司法所", day=date(2026, 11, 23))

``receive`` starts ``alarm-<alarm id>`` with a conflict policy that makes a second delivery of the same
alarm a no-op (answered "already received"), whether the first is still open or already closed verified;
only an alarm whose run was terminated, failed or timed out is started again (nobody would handle it else).

The reports are counted from the visibility store (the alarm search attributes of
``infra/search_attributes.py``), for the alarms the office **received** in the period (``StartTime``,
in the bureau's local time, UTC+8), drills excluded:

- received: every alarm received in the period;
- verified on time: verified (harmless or turned into an incident) and never overdue: the verification
  was received by the workflow no later than the due time (the duty mechanic's rule, 001 §7(4));
- verified late: verified after the due time (also counted in escalated);
- escalated: not verified by the due time (overdue), whether verified since or still open;
- incidents: turned into a C4 incident; harmless: closed with a harmless finding;
- pending: not yet verified (still within the due time, or overdue and escalated).
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal

import structlog
from pydantic import ValidationError
from pydantic_core import from_json
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from infra import search_attributes as sa
from infra.settings import task_queue
from plan import alarms as al
from plan.models import describe_validation_error
from starter.api import InvalidInput, ReportRefused, _decoded

log = structlog.get_logger("starter.alarms")

LOCAL = timezone(timedelta(hours=8))
"""The bureaus' local time (China Standard Time): a day and a month of the reports."""


def parse_alarm(data: al.AlarmInput | dict[str, Any] | str | bytes, now: datetime | None = None) -> al.AlarmInput:
    """Validate an alarm; :class:`InvalidInput` names the field (never its value)."""
    if isinstance(data, al.AlarmInput):
        alarm = data
    else:
        if isinstance(data, (str, bytes)) and len(data) > al.MAX_ALARM_BYTES:
            raise InvalidInput(f"invalid alarm: over the limit of {al.MAX_ALARM_BYTES} bytes")
        try:
            alarm = al.ALARM_ADAPTER.validate_python(from_json(data) if isinstance(data, (str, bytes)) else data)
        except ValidationError as err:
            raise InvalidInput(f"invalid alarm: {describe_validation_error(err)}") from None
        except ValueError as err:
            raise InvalidInput(f"invalid alarm: (whole input): Invalid JSON: {err}") from None
    problems = al.alarm_problems(alarm, now or datetime.now(timezone.utc))
    if problems:
        raise InvalidInput("invalid alarm: " + "; ".join(problems))
    return alarm


def summary_zh(alarm: al.AlarmInput) -> str:
    """The alarm's line in the Temporal UI (no personal data)."""
    drill = "【演练】" if alarm.drill else ""
    return f"{drill}平台报警 {alarm.kind.zh} · {alarm.jurisdiction.county}{alarm.jurisdiction.justice_office}"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), LOCAL)
    return start, start + timedelta(days=1)


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=LOCAL)
    return start, start + timedelta(days=calendar.monthrange(year, month)[1])


class AlarmClient:
    """Receive platform alarms, take their verification, count them (see the module docstring)."""

    def __init__(self, client: Client, queue: str | None = None) -> None:
        self.client = client
        self.task_queue = queue or task_queue()
        self._attributes: bool | None = None

    async def receive(self, data: al.AlarmInput | dict[str, Any] | str | bytes) -> al.AlarmReceipt:
        """Start the alarm's workflow (``alarm-<alarm id>``); the same alarm again is "already received"."""
        alarm = parse_alarm(data)
        wf_id = alarm.workflow_id
        options: dict[str, Any] = {
            "id": wf_id,
            "task_queue": self.task_queue,
            # a redelivery while it runs finds it (USE_EXISTING); one after it closed verified is refused, one
            # after its run was terminated, failed or timed out starts it again (nobody would handle it else)
            "id_reuse_policy": WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            "id_conflict_policy": WorkflowIDConflictPolicy.USE_EXISTING,
            "static_summary": summary_zh(alarm),
        }
        if self._attributes is None:
            self._attributes = await sa.registered(self.client)
            if not self._attributes:
                log.warning("search attributes not registered; alarms start without them and the reports "
                            "do not count them (run: python -m starter setup-search-attributes)",
                            namespace=self.client.namespace)
        if self._attributes:
            options["search_attributes"] = sa.for_alarm(
                kind=alarm.kind.value, justice_office=alarm.jurisdiction.justice_office, drill=alarm.drill)
        try:
            handle = await self.client.start_workflow(al.WORKFLOW_TYPE, alarm, **options)
        except WorkflowAlreadyStartedError:
            return al.AlarmReceipt(workflow_id=wf_id, already_received=True,
                                   message_zh=f"该报警已接收(重复推送),未重复派发核实任务:{wf_id}")  # (ours)
        resp = getattr(handle, "_start_workflow_response", None)
        if resp is not None and not getattr(resp, "started", True):
            return al.AlarmReceipt(workflow_id=wf_id, already_received=True,
                                   message_zh=f"该报警已接收(重复推送),未重复派发核实任务:{wf_id}")  # (ours)
        return al.AlarmReceipt(
            workflow_id=wf_id, already_received=False,
            message_zh=f"已接收报警,已向{alarm.jurisdiction.justice_office}值班人员派发初步核实任务:{wf_id}",  # (ours)
        )

    async def verify(self, workflow_id: str, *, finding: str, result: str, actor: str,
                     at: datetime | None = None) -> str:
        """The 司法所's verification (``verified`` for ``alarm-verify``); a refusal raises ReportRefused."""
        data: dict[str, Any] = {"kind": "verified", "duty": al.VERIFY_DUTY, "finding": finding, "result": result,
                                "actor": actor}
        if at is not None:
            data["at"] = at.isoformat()
        try:
            report = al.ALARM_REPORT_ADAPTER.validate_python(data)
        except ValidationError as err:
            raise InvalidInput(f"invalid report: {describe_validation_error(err)}") from None
        try:
            return await _decoded(self.client.get_workflow_handle(workflow_id).execute_update(
                "submit_report", report, result_type=str))
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            raise ReportRefused(cause.message if isinstance(cause, ApplicationError) else str(cause)) from None
        except RPCError as err:
            raise ReportRefused(await self._not_running(workflow_id, err)) from None

    async def _not_running(self, workflow_id: str, err: RPCError) -> str:
        try:
            desc = await self.client.get_workflow_handle(workflow_id).describe()
        except RPCError:
            return f"alarm {workflow_id}: no such alarm ({err.message})"
        if desc.status is not None and desc.status.name != "RUNNING":
            return f"alarm {workflow_id}: already {desc.status.name.lower()}; its verification was already taken"
        return f"alarm {workflow_id}: {err.message}"

    async def status(self, workflow_id: str) -> al.AlarmStatus:
        return await _decoded(self.client.get_workflow_handle(workflow_id).query("status", result_type=al.AlarmStatus))

    async def result(self, workflow_id: str) -> al.AlarmResult:
        return await _decoded(self.client.get_workflow_handle(workflow_id, result_type=al.AlarmResult).result())

    async def report(self, office: str, *, day: date | None = None, month: tuple[int, int] | None = None,
                     drill: bool = False) -> al.AlarmCounts:
        """The office's 日报 (``day``) or 月通报 (``month`` = (year, month)), counted from visibility."""
        if (day is None) == (month is None):
            raise ValueError("report: give a day or a month")
        kind: Literal["day", "month"]
        if day is not None:
            since, until = day_bounds(day)
            period, kind = day.isoformat(), "day"
        else:
            assert month is not None
            since, until = month_bounds(*month)
            period, kind = f"{month[0]:04d}-{month[1]:02d}", "month"

        async def count(**filters: Any) -> int:
            q = sa.alarm_query(justice_office=office, drill=drill, since=since, until=until, **filters)
            return (await self.client.count_workflows(q)).count

        received = await count()
        harmless = await count(outcome=al.AlarmOutcome.HARMLESS.value)
        incidents = await count(outcome=al.AlarmOutcome.INCIDENT.value)
        pending = await count(outcome=al.AlarmOutcome.PENDING.value)
        escalated = await count(overdue=True)
        escalated_open = await count(overdue=True, outcome=al.AlarmOutcome.PENDING.value)
        by_kind = {k.value: await count(kind=k.value) for k in al.AlarmKind}
        verified = harmless + incidents
        late = escalated - escalated_open
        return al.AlarmCounts(
            office=office, period=period, kind=kind, received=received, verified_on_time=verified - late,
            verified_late=late, escalated=escalated, incidents=incidents, harmless=harmless, pending=pending,
            by_kind={k: n for k, n in by_kind.items() if n},
        )

    async def list(self, *, office: str | None = None, outcome: str | None = None, overdue: bool | None = None,
                   drill: bool | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Alarms by filter, newest first: id, kind, office, outcome, overdue, received (no personal data)."""
        q = sa.alarm_query(justice_office=office, outcome=outcome, overdue=overdue, drill=drill)
        rows: list[dict[str, Any]] = []
        async for wf in self.client.list_workflows(q, limit=limit):
            attrs = wf.typed_search_attributes
            rows.append({
                "workflow_id": wf.id, "kind": attrs.get(sa.ALARM_KIND), "office": attrs.get(sa.ALARM_JUSTICE_OFFICE),
                "outcome": attrs.get(sa.ALARM_OUTCOME), "overdue": attrs.get(sa.ALARM_OVERDUE),
                "received_at": wf.start_time.isoformat() if wf.start_time else None,
                "status": wf.status.name if wf.status else None,
            })
        return rows


def report_zh(c: al.AlarmCounts) -> str:
    """The 日报 / 月通报 in Chinese (ours)."""
    title = "信息化核查平台报警日报" if c.kind == "day" else "信息化核查平台报警月通报"  # (ours)
    rate = f"{c.on_time_rate:.1%}" if c.on_time_rate is not None else "—"
    kinds = "、".join(f"{al.AlarmKind(k).zh} {n} 条" for k, n in c.by_kind.items()) or "无"
    return "\n".join([
        f"{c.office}{title}({c.period})",
        f"接收报警:{c.received} 条(其中 {kinds})",
        f"按时核实:{c.verified_on_time} 条(按时核实率 {rate})",
        f"超时核实:{c.verified_late} 条",
        f"超时升级督办:{c.escalated} 条",
        f"转为事件:{c.incidents} 条",
        f"核实无异常关闭:{c.harmless} 条",
        f"待核实:{c.pending} 条",
    ])


def report_csv(c: al.AlarmCounts) -> str:
    head = "司法所,期间,接收报警,按时核实,超时核实,超时升级督办,转为事件,核实无异常,待核实"
    row = f"{c.office},{c.period},{c.received},{c.verified_on_time},{c.verified_late},{c.escalated},{c.incidents},{c.harmless},{c.pending}"
    return head + "\n" + row + "\n"
