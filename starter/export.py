"""An incident's timeline for auditors (001 §7(4)): JSON or CSV, every line with its time, actor,
clause, step, recipient and text. CSV is UTF-8 with a byte-order mark so spreadsheet programs show
the Chinese text."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from plan.models import AccountabilityRecord, Deadline, TimelineEntry
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


# ---------------------------------------------------------------------- the register across incidents (001 §7(4))

ACCOUNTABILITY_COLUMNS = [
    "workflow_id", "incident_type", "person", "role", "title_zh", "clause", "status", "status_zh",
    "due_at", "done_at", "stated_at", "how", "indicators",
]


def accountability_rows(records: list[AccountabilityRecord], *, person: str | None = None,
                        since: datetime | None = None, until: datetime | None = None) -> list[dict[str, Any]]:
    """Every register row of these incidents, one per obligation, for the person (part of the name)
    and due times in [since, until); sorted by person, then due time. A row without a person is the
    system's (an automated message): ``person`` is then ``系统``. Indicators are for an officer's review."""
    out: list[dict[str, Any]] = []
    for rec in records:
        for o in rec.obligations:
            who = o.person or "系统"
            if person and person not in who:
                continue
            if (since and o.due_at < since) or (until and o.due_at >= until):
                continue
            out.append({
                "workflow_id": rec.workflow_id, "incident_type": rec.incident_type.value, "person": who,
                "role": o.role.zh if o.role else "", "title_zh": o.title_zh, "clause": o.clause,
                "status": o.status.value, "status_zh": o.status.zh,
                "due_at": o.due_at.astimezone(UTC).isoformat(), "due_zh": fmt_time(o.due_at),
                "done_at": o.done_at.astimezone(UTC).isoformat() if o.done_at else "",
                "done_zh": fmt_time(o.done_at) if o.done_at else "",
                "stated_at": o.stated_at.astimezone(UTC).isoformat() if o.stated_at else "",
                "stated_zh": fmt_time(o.stated_at) if o.stated_at else "",
                "how": o.how, "indicators": list(o.indicators),
            })
    out.sort(key=lambda r: (r["person"], r["due_at"]))
    return out


def accountability_csv(rows_: list[dict[str, Any]]) -> str:
    """The rows as CSV (the caller writes it as UTF-8 with a byte-order mark); indicators joined by ``;``."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=ACCOUNTABILITY_COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows({**r, "indicators": ";".join(r["indicators"])} for r in rows_)
    return buf.getvalue()
