"""Follow a handed-over incident to its end from a continued run (000 §1.4(4), issue 13).

An L4 incident of a correction subject hands its handling to a C-type incident (its child) and follows
it. The first run awaits the child directly. Should the L4 run reach a Temporal limit meanwhile (a flood
of reports sent to it) it continues as new, and a continued run has no handle on the child any more: it
asks this activity, every ``FOLLOW_POLL`` (``workflows/l04_correction_resettlement.py``), how the child
stands. The answer is read from the server, never from what a sender claims.

- ``incident_outcome(workflow_id)``: ``None`` while the incident runs (through its own continued runs);
  its :class:`~plan.models.IncidentOutcome` once it completed; an incident that ended otherwise
  (failed, terminated, timed out, cancelled) fails it with ``HandedOverIncidentEnded``
  (non-retryable), naming how it ended.
"""

from __future__ import annotations

import structlog
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError

from plan.models import IncidentOutcome

log = structlog.get_logger("activities.follow")
HANDED_OVER_INCIDENT_ENDED = "HandedOverIncidentEnded"


class Follow:
    def __init__(self, client: Client) -> None:
        self.client = client

    @activity.defn(name="incident_outcome")
    async def incident_outcome(self, workflow_id: str) -> IncidentOutcome | None:
        handle = self.client.get_workflow_handle(workflow_id, result_type=IncidentOutcome)
        status = (await handle.describe()).status
        if status is WorkflowExecutionStatus.RUNNING:
            return None
        try:
            outcome = await handle.result(follow_runs=True)
        except WorkflowFailureError as err:
            cause = err.cause
            reason = getattr(cause, "message", "") or type(cause).__name__
            log.warning("followed incident ended abnormally", workflow_id=workflow_id, step="follow",
                        status=status.name if status else None)
            raise ApplicationError(reason, type=HANDED_OVER_INCIDENT_ENDED, non_retryable=True) from None
        log.info("followed incident completed", workflow_id=workflow_id, step="follow")
        return outcome

    def activities(self) -> list:
        return [self.incident_outcome]
