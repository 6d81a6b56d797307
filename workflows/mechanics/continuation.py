"""Continue-as-new for every incident, before any Temporal limit is near (issue 13).

Temporal ends or wedges a run at its limits: 2,000 updates and 10,000 signals per run, 50 MB of
history, and a continued run's argument is bounded too. An incident has no such bound: an officer may
send thousands of progress reports, a service may retry, a sign may last weeks. So every incident
continues as new when its run's history reaches :data:`MAX_EVENTS` events or :data:`MAX_HISTORY_BYTES`,
when it has taken :data:`MAX_UPDATES` updates, or when the server suggests it — checked wherever the
incident waits. What the next run carries is bounded as well: older timeline entries, discharged
obligations and settled per-notification deadlines go to the archive (``activities/archive.py``) and
the register keeps their counts; the next run re-reads the carried reports through the clause to stand
where this one stood (the catch-up), sending and recording nothing twice, and issues again, under the
same idempotency keys, the notifications that were still in flight.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.contracts import ArchiveRequest
    from plan.models import DeadlineStatus
    from plan.state import IncidentState

MAX_EVENTS = 2000
"""Events in one run before it continues as new (peak stays well under 4,096 with a flood draining)."""
MAX_HISTORY_BYTES = 8 * 1024 * 1024
"""History bytes in one run before it continues as new (the server's hard limit is 50 MB)."""
MAX_UPDATES = 1000
"""Updates taken by one run before it continues as new (the server's limit is 2,000 per run)."""
ARCHIVE_OVER = 600
"""Timeline entries (or obligations) beyond which a continuing run archives the older ones: an incident
of ordinary length carries its whole record; only a flood is archived."""
KEEP_TIMELINE = 300
"""Timeline entries a continued run keeps once it archives (the most recent)."""
KEEP_SETTLED = 200
"""Discharged obligations and settled per-notification deadlines kept once it archives (the most recent)."""
KEEP_REPORT_IDS = 2000
"""``report_id``s remembered for deduplication (the most recent; a resend older than that is new)."""
MAX_COURSE = 200
"""Situations kept for the written report's 经过 (the rest are counted)."""
ARCHIVED_DEADLINE_PREFIXES = ("ack/", "by-hand/", "daily-contact-")
"""Per-notification and per-day deadlines: archived once settled (the clause never looks them up again)."""


def continue_due(updates_this_run: int) -> bool:
    info = workflow.info()
    return (
        info.is_continue_as_new_suggested()
        or info.get_current_history_length() >= MAX_EVENTS
        or info.get_current_history_size() >= MAX_HISTORY_BYTES
        or updates_this_run >= MAX_UPDATES
    )


def _outcome(status: DeadlineStatus) -> str:
    return {DeadlineStatus.MET: "on_time", DeadlineStatus.LATE: "late", DeadlineStatus.MISSED: "missed",
            DeadlineStatus.CANCELLED: "not_required"}.get(status, "pending")


async def archive_and_bound(state: IncidentState, incident_type: str) -> None:
    """Move what the next run need not carry to the archive (one ``archive_records`` activity), and
    bound the rest. Idempotent per run; the counts stay in ``state.archived_register``."""
    info = workflow.info()
    old = state.timeline[:-KEEP_TIMELINE] if len(state.timeline) > ARCHIVE_OVER else []
    done = [o for o in state.obligations.values() if o.done_at is not None]
    done = done[:-KEEP_SETTLED] if len(state.obligations) > ARCHIVE_OVER else []
    settled = [d for d in state.deadlines.values() if d.status is not DeadlineStatus.PENDING
               and d.id.startswith(ARCHIVED_DEADLINE_PREFIXES)]
    settled = settled[:-KEEP_SETTLED] if len(settled) > ARCHIVE_OVER // 4 else []
    if old or done or settled:
        await workflow.execute_activity(
            "archive_records",
            ArchiveRequest(
                workflow_id=info.workflow_id, incident_type=incident_type, run=state.run,
                first_seq=old[0].seq if old else state.archived + 1,
                timeline=[e.model_dump(mode="json") for e in old],
                obligations=[o.model_dump(mode="json") for o in done],
                deadlines=[d.model_dump(mode="json") for d in settled],
            ),
            result_type=int,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10)),
            summary="归档事件记录",
        )
    register: dict[str, Any] = dict(state.archived_register)
    for o in done:
        register[o.status.value] = register.get(o.status.value, 0) + 1
        del state.obligations[o.id]
    for d in settled:
        key = _outcome(d.status)
        register[key] = register.get(key, 0) + 1
        del state.deadlines[d.id]
    archived_ids = {d.id for d in settled}
    state.ack_of = {k: v for k, v in state.ack_of.items() if v not in archived_ids}
    state.archived_register = register
    state.archived += len(old)
    state.timeline = state.timeline[len(old):]
    if len(state.report_ids) > KEEP_REPORT_IDS:
        keep = sorted(state.report_ids, key=lambda k: state.report_ids[k])[-KEEP_REPORT_IDS:]
        state.report_ids = {k: state.report_ids[k] for k in keep}
        state.report_hashes = {k: v for k, v in state.report_hashes.items() if k in state.report_ids}
    if len(state.course) > MAX_COURSE:
        state.course_omitted += len(state.course) - MAX_COURSE
        state.course = state.course[-MAX_COURSE:]
