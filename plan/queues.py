"""Task queues: which queue a notification's activity is scheduled on.

The calls the plans order first, 110 and 120 (001 §4(1), §4(7)), run on their own task queue,
``<task_queue>-urgent``, which every worker built by ``worker.build_worker`` also polls with its own
activity slots. In a city-wide burst of incidents every opening notification is its own activity
(the urgent-first rule), thousands of them at once; on one queue they are dispatched first in, first
out, and the 110 call of the last incident waits behind the information reports of all the others
(docs/benchmarks.md). On the urgent queue it waits only behind other 110/120 calls.

Pure functions of their arguments (no time, randomness or I/O): safe to call from workflow code.
"""

from __future__ import annotations

from plan.agencies import Agency

URGENT_SUFFIX = "-urgent"

#: Recipients whose notifications go on the urgent queue (and at priority key 1 where a server
#: honours priorities): the police and the ambulance.
URGENT_RECIPIENTS: frozenset[Agency] = frozenset({Agency.POLICE_110, Agency.MEDICAL_120})


def urgent_queue(task_queue: str) -> str:
    """The urgent notifications' queue of the workers on ``task_queue``: ``<task_queue>-urgent``."""
    return task_queue + URGENT_SUFFIX


def notification_queue(task_queue: str, recipient: Agency) -> str | None:
    """Where a notification to ``recipient`` from a workflow on ``task_queue`` is scheduled: the
    urgent queue for 110/120, otherwise None (the workflow's own queue)."""
    return urgent_queue(task_queue) if recipient in URGENT_RECIPIENTS else None
