"""The watcher: an incident that ended abnormally is reported to the emergency office (issue 13).

An incident whose run is terminated (by an operator, or by the server at a history limit), fails or
times out can no longer tell anybody anything itself. The worker runs this watcher beside the workflows:
every ``WATCH_INTERVAL_SECONDS`` (default 60) it lists, in the visibility store, the incident runs
closed as Terminated, Failed, TimedOut or Canceled since its last sweep, and tells the emergency office
of each through the worker's own notifier (the same directory, roster and channels as the ``notify``
activity, but not through the incident's workflow nor through a Temporal activity). Each notice has the
idempotency key ``watch/<workflow id>/<run id>``: several workers, overlapping sweeps or a restart tell
the office once. A notice that cannot be delivered goes to the escalation fallback
(``activities/outbox_file.py``).
"""

from __future__ import annotations

import asyncio
import os
import re
from datetime import UTC, datetime, timedelta

import structlog
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistoryEventFilterType
from temporalio.service import RPCError

from activities.contracts import NotifyRequest
from activities.notify import Notifier
from plan.agencies import Agency

log = structlog.get_logger("activities.watch")

ABNORMAL_QUERY = ('(ExecutionStatus = "Terminated" OR ExecutionStatus = "Failed" OR ExecutionStatus = "TimedOut" '
                  'OR ExecutionStatus = "Canceled")')
STATUS_ZH = {"TERMINATED": "被终止", "FAILED": "失败", "TIMED_OUT": "超时", "CANCELED": "被取消"}
LOOKBACK = timedelta(hours=24)
"""At start-up the first sweep looks this far back (a worker restarted after an incident was killed)."""


def interval_from_env() -> timedelta:
    """``WATCH_INTERVAL_SECONDS`` (default 60; 0 turns the watcher off, e.g. when another worker runs it)."""
    return timedelta(seconds=float(os.environ.get("WATCH_INTERVAL_SECONDS") or 60))


class IncidentWatch:
    def __init__(self, client: Client, notifier: Notifier, *, interval: timedelta | None = None,
                 office: Agency = Agency.EMERGENCY_OFFICE) -> None:
        self.client = client
        self.office = office
        """Who is told: the emergency office (000 §2.2), or for a bureau with only a correction plan its
        总指挥部办公室 (001 §3(2))."""
        self.notifier = notifier
        self.interval = interval or interval_from_env()
        self.told: set[str] = set()

    def query(self, since: datetime) -> str:
        return (f'WorkflowId STARTS_WITH "incident-" AND {ABNORMAL_QUERY} '
                f'AND CloseTime > "{since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}"')

    async def _reason(self, workflow_id: str, run_id: str | None) -> str:
        try:
            async for e in self.client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history_events(
                event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT
            ):
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
                    return e.workflow_execution_terminated_event_attributes.reason
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
                    return e.workflow_execution_failed_event_attributes.failure.message
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
                    return "execution timeout"
        except RPCError:
            pass
        return ""

    async def sweep(self, since: datetime) -> list[str]:
        """Tell the office of every incident run closed abnormally since ``since``; returns the keys told."""
        told = []
        async for wf in self.client.list_workflows(self.query(since)):
            key = f"watch/{wf.id}/{wf.run_id}"
            if key in self.told:
                continue
            status = wf.status.name if wf.status else "?"
            reason = await self._reason(wf.id, wf.run_id)
            attrs = wf.search_attributes or {}

            def attr(name: str, default: object) -> object:
                values = attrs.get(name) or [default]
                return values[0]

            drill = bool(attr("IncidentDrill", False))
            match = re.match(r"^[LC]\d+", wf.workflow_type)
            message = (f"【事件异常结束】事件 {wf.id}({wf.workflow_type})已{STATUS_ZH.get(status, status)}"
                       + (f",原因:{reason}" if reason else "")
                       + ";系统已不再跟踪该事件的时限和通知,请立即核实并组织人工处置")
            req = NotifyRequest(
                idempotency_key=key, workflow_id=wf.id, incident_type=match.group() if match else "?",
                step="watch-ended-abnormally", clause="000 §2.2(6)" if self.office is Agency.EMERGENCY_OFFICE else "001 §3(2)",
                recipient=self.office,
                message_zh=message, drill=drill,
                jurisdiction=tuple(str(v) for v in (attr("IncidentJusticeOffice", ""), attr("IncidentCounty", "")) if v),
            )
            if await self.notifier.deliver_direct(req):
                self.told.add(key)
                told.append(key)
                log.warning("incident ended abnormally: emergency office told", workflow_id=wf.id,
                            status=status)
        return told

    async def run(self, stop: asyncio.Event) -> None:
        since = datetime.now(UTC) - LOOKBACK
        while not stop.is_set():
            started = datetime.now(UTC)
            try:
                await self.sweep(since - self.interval)  # overlap: visibility lags; keys dedupe
                since = started
            except Exception as err:  # a sweep that fails is retried next interval, never fatal
                log.error("watch sweep failed", error=str(err))
            try:
                await asyncio.wait_for(stop.wait(), self.interval.total_seconds())
            except TimeoutError:
                pass
