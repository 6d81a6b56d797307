"""Structured logs (structlog) for the worker and the starter.

Every line carries the workflow id, the incident type and the step when known: workflow code logs
through ``workflow.logger`` (replay-safe) with ``extra={"incident_type", "step"}``; the SDK adds the
workflow context, which is flattened here. Personal data is never logged: logs name recipients by
their agency id and reports by their kind, never by message text.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_KEEP_EXTRA = ("incident_type", "step", "recipient", "reason", "workflow_id")


def _flatten_temporal_context(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    record: logging.LogRecord | None = event.get("_record")
    if record is None:
        return event
    wf = getattr(record, "temporal_workflow", None)
    if isinstance(wf, dict):
        event.setdefault("workflow_id", wf.get("workflow_id"))
        event.setdefault("run_id", wf.get("run_id"))
        event.setdefault("workflow_type", wf.get("workflow_type"))
    act = getattr(record, "temporal_activity", None)
    if isinstance(act, dict):
        event.setdefault("workflow_id", act.get("workflow_id"))
        event.setdefault("activity", act.get("activity_type"))
    for key in _KEEP_EXTRA:
        if hasattr(record, key):
            event.setdefault(key, getattr(record, key))
    return event


def configure(level: str | None = None, *, json: bool | None = None) -> None:
    """Route stdlib logging (the SDK's workflow/activity loggers) and structlog through one renderer.

    ``LOG_LEVEL`` (default INFO); ``LOG_FORMAT=json`` for JSON lines (default: console when a TTY).
    """
    level = (level or os.environ.get("LOG_LEVEL") or "INFO").upper()
    if json is None:
        fmt = os.environ.get("LOG_FORMAT")
        json = fmt == "json" if fmt else not sys.stderr.isatty()
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, _flatten_temporal_context],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The SDK appends workflow info to the message text too; it is on the structured fields instead.
    from temporalio import activity, workflow

    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
