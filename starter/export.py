"""An incident's timeline for auditors (001 §7(4)): JSON or CSV, every line with its time, actor,
clause, step, recipient and text. CSV is UTF-8 with a byte-order mark so spreadsheet programs show
the Chinese text."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from plan.models import Deadline, TimelineEntry
from plan.texts import fmt_time

COLUMNS = ["seq", "at", "at_cst", "kind", "actor", "clause", "step", "recipient", "text_zh"]


def rows(timeline: list[TimelineEntry]) -> list[dict[str, Any]]:
    return [
        {
            "seq": e.seq,
            "at": e.at.astimezone(UTC).isoformat(),
            "at_cst": fmt_time(e.at),
            "kind": e.kind.value,
            "actor": e.actor,
            "clause": e.clause,
            "step": e.step or "",
            "recipient": e.recipient.value if e.recipient else "",
            "text_zh": e.text_zh,
        }
        for e in timeline
    ]


def to_json(workflow_id: str, incident_type: str, timeline: list[TimelineEntry],
            deadlines: list[Deadline]) -> str:
    return json.dumps(
        {
            "workflow_id": workflow_id,
            "incident_type": incident_type,
            "exported_at": datetime.now(UTC).isoformat(),
            "deadlines": [d.model_dump(mode="json") for d in deadlines],
            "timeline": rows(timeline),
        },
        ensure_ascii=False,
        indent=2,
    )


def to_csv(timeline: list[TimelineEntry]) -> str:
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(timeline))
    return buf.getvalue()
