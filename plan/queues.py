"""Task queues: which queue a notification's activity is scheduled on.

The calls the plans order first, 110 and 120 (001 §4(1), §4(7)), stay on the incident's own task
queue; every other notification runs on ``<task_queue>-notifications``, which every worker built by
``worker.build_worker`` also polls with its own activity slots. So the two never share a queue:

- in a city-wide burst every opening notification is its own activity (the urgent-first rule),
  thousands at once; on one queue they are dispatched first in, first out, and the 110 call of the last
  incident waited behind the information reports of all the others (docs/benchmarks.md). Now a 110 call
  waits only behind other 110/120 calls;
- a 110 call on the workflow's own queue is dispatched *eagerly* (handed to the worker in the reply to
  the workflow task that scheduled it, no matching round trip) whenever the worker has a free activity
  slot, and those slots serve only 110/120. The SDK dispatches eagerly only activities on the
  workflow's own queue: moving 110/120 to a queue of their own instead cost every idle 110 call that
  round trip (measured: alert -> 110 idle p50 1.95x bare, against 0.93x before; docs/benchmarks.md).

Pure functions of their arguments (no time, randomness or I/O): safe to call from workflow code.
"""

from __future__ import annotations

from plan.agencies import Agency

NOTIFICATIONS_SUFFIX = "-notifications"

#: Recipients whose notifications stay on the incident's own queue (and go at priority key 1 where a
#: server honours priorities): the police and the ambulance.
URGENT_RECIPIENTS: frozenset[Agency] = frozenset({Agency.POLICE_110, Agency.MEDICAL_120})


def notifications_queue(task_queue: str) -> str:
    """The queue of every notification but 110/120 from workflows on ``task_queue``."""
    return task_queue + NOTIFICATIONS_SUFFIX


def notification_queue(task_queue: str, recipient: Agency) -> str | None:
    """Where a notification to ``recipient`` from a workflow on ``task_queue`` is scheduled: None (the
    workflow's own queue) for 110/120, otherwise ``<task_queue>-notifications``."""
    return None if recipient in URGENT_RECIPIENTS else notifications_queue(task_queue)
