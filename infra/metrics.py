"""Worker metrics, in Prometheus format: the SDK runtime's own (``temporal_*``: task slots, poll and
schedule-to-start latencies, workflow and activity outcomes) and the plans' (notifications by channel,
deadlines missed by incident type and deadline).

    WORKER_METRICS_PORT=9464 python worker.py     # http://127.0.0.1:9464/metrics
    WORKER_METRICS_HOST=0.0.0.0                   # listen beyond loopback (compose: scraped on its network)

Our counters go through the SDK's metric meter, so they share the runtime's endpoint: in an activity
``activity.metric_meter()``, in a workflow ``workflow.metric_meter()`` (which records nothing while a
history is replayed, so a counter call there is deterministic and counts each miss once).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from temporalio import activity, workflow
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

NOTIFICATIONS_SENT = "judicial_notifications_sent"
"""Deliveries that reached their channel, by ``channel`` (outbox, webhook, sms, email …) and ``drill``."""
NOTIFICATIONS_FAILED = "judicial_notifications_failed"
"""Failed delivery attempts, by ``channel`` and ``failure`` (``transient``: retried; ``permanent``: an
officer must notify by hand, 001 §7(4))."""
DEADLINES_MISSED = "judicial_deadlines_missed"
"""Deadlines missed (000 §4.3, §3(3); 001 §7(4)), by ``incident_type`` and ``deadline`` id."""

DEFAULT_HOST = "127.0.0.1"


class MetricsConfigError(ValueError):
    """WORKER_METRICS_PORT / WORKER_METRICS_HOST unusable: the message names the variable."""


def metrics_address(environ: Mapping[str, str] | None = None) -> str | None:
    """``host:port`` from ``WORKER_METRICS_PORT`` (unset or empty: no metrics endpoint) and
    ``WORKER_METRICS_HOST`` (default 127.0.0.1)."""
    env = os.environ if environ is None else environ
    port = env.get("WORKER_METRICS_PORT", "").strip()
    if not port:
        return None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise MetricsConfigError(f"WORKER_METRICS_PORT: {port!r} is not a TCP port (1-65535)")
    host = env.get("WORKER_METRICS_HOST", "").strip() or DEFAULT_HOST
    return f"{host}:{int(port)}"


def prometheus_runtime(address: str) -> Runtime:
    """An SDK runtime serving every metric of the clients and workers made with it on ``address``."""
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


def runtime_from_env(environ: Mapping[str, str] | None = None) -> Runtime | None:
    address = metrics_address(environ)
    return prometheus_runtime(address) if address else None


# ---------------------------------------------------------------------- in activities


def notification_sent(channel: str, *, drill: bool = False) -> None:
    """Call from the notify activity once per channel that delivered."""
    activity.metric_meter().create_counter(
        NOTIFICATIONS_SENT, "notifications delivered, by channel"
    ).add(1, {"channel": channel, "drill": str(drill).lower()})


def notification_failed(channel: str, *, permanent: bool, drill: bool = False) -> None:
    """Call from the notify activity once per channel whose delivery failed in this attempt."""
    activity.metric_meter().create_counter(
        NOTIFICATIONS_FAILED, "notification delivery attempts that failed, by channel"
    ).add(1, {"channel": channel, "failure": "permanent" if permanent else "transient", "drill": str(drill).lower()})


# ---------------------------------------------------------------------- in workflows


def deadline_missed(incident_type: str, deadline_id: str) -> None:
    """Call from the workflow where a deadline is marked missed (nothing is recorded on replay)."""
    workflow.metric_meter().create_counter(
        DEADLINES_MISSED, "deadlines missed, by incident type and deadline"
    ).add(1, {"incident_type": incident_type, "deadline": deadline_id})
