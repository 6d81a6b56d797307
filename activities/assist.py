"""Cross-namespace work for 001 §5(1)'s 协助配合 (issue 17): one worker process serving several
bureaus' namespaces holds a client for each (``worker.run_bureaus``), so an activity of one bureau's
incident can start the linked incident in another bureau's namespace (with that bureau's codec keys:
its payloads are readable only with its keys) and relay the assisting bureau's reports back.

- ``start_assist``: start ``AssistCrossCounty`` in the assisting bureau's namespace; idempotent (a fixed
  workflow id, ``REJECT_DUPLICATE`` + ``USE_EXISTING``: a retry or a replayed request finds the same
  incident, a completed one is not started again);
- ``relay_assist``: signal the originating incident's ``report`` with the assisting bureau's report as a
  ``progress`` report (its ``report_id`` makes a resend count once).

A bureau this process does not serve fails at once with ``BureauNotServed`` (non-retryable): the
notice has gone to its contact in the directory of bureaus anyway.
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from activities.contracts import AssistRelay, AssistRequest
from infra.settings import task_queue

log = structlog.get_logger("activities.assist")
BUREAU_NOT_SERVED = "BureauNotServed"


class Assist:
    def __init__(self, clients: Mapping[str, Client] | None = None, queue: str | None = None) -> None:
        self.clients = dict(clients or {})
        self.queue = queue

    def _client(self, bureau: str) -> Client:
        client = self.clients.get(bureau)
        if client is None:
            raise ApplicationError(f"bureau {bureau}: not served by this worker (EMERGENCY_BUREAUS)",
                                   type=BUREAU_NOT_SERVED, non_retryable=True)
        return client

    @activity.defn(name="start_assist")
    async def start_assist(self, req: AssistRequest) -> str:
        client = self._client(req.assisting_bureau)
        try:
            await client.start_workflow(
                "AssistCrossCounty", req.input, id=req.workflow_id, task_queue=self.queue or task_queue(),
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                static_summary=f"协助配合 · {req.input.get('title_zh', '')} · 原事件 {req.input.get('origin_workflow_id', '')}",
            )
        except WorkflowAlreadyStartedError:  # completed already: the same incident, not a new one
            pass
        log.info("assist incident started", workflow_id=req.workflow_id, bureau=req.assisting_bureau,
                 namespace=client.namespace)
        return req.workflow_id

    @activity.defn(name="relay_assist")
    async def relay_assist(self, req: AssistRelay) -> None:
        client = self._client(req.origin_bureau)
        await client.get_workflow_handle(req.origin_workflow_id).signal("report", req.report)
        log.info("assist report relayed", workflow_id=req.origin_workflow_id, bureau=req.origin_bureau)

    def activities(self) -> list:
        return [self.start_assist, self.relay_assist]
