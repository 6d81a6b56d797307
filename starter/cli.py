"""The duty officers' command line: ``python -m starter``.

    python -m starter catalogue [--json]
    python -m starter start examples/C4.json
    python -m starter report ID search_result --actor 东城司法所 --set found=false --set methods='["phone"]'
    python -m starter report ID --json '{"kind": "arrived", "actor": "东城司法所"}'
    python -m starter status ID [--json]
    python -m starter accountability ID [--json]

Connection settings are the worker's (``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``, profiles,
``TEMPORAL_TASK_QUEUE``). Exit codes: 0 done, 2 refused input or report (the message says which
field and why), 1 Temporal not reachable or another failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.service import RPCError

from infra.settings import connect_config, task_queue
from plan.models import (
    EPIDEMIC_SCENARIO_ZH,
    AccountabilityRecord,
    DeadlineStatus,
    EpidemicScenario,
    IncidentStatus,
    IncidentType,
)
from plan.texts import OBLIGATION_STATUS_ZH, accountability_summary, fmt_time
from starter.api import (
    IncidentClient,
    InvalidInput,
    ReportRefused,
    parse_incident,
    parse_report,
)
from workflows import INCIDENT_WORKFLOWS, workflow_type_name

ROOT = Path(__file__).resolve().parent.parent


class CliError(Exception):
    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def catalogue() -> list[dict[str, Any]]:
    """One entry per incident type (``catalogue --json``): workflow type, clause, the clause's own
    report kinds, a working example input; C9 also lists its four scenarios (001 §4(9))."""
    entries: list[dict[str, Any]] = []
    for t, wf in sorted(INCIDENT_WORKFLOWS.items(), key=lambda kv: _order(kv[0].value)):
        entry: dict[str, Any] = {
            "workflow_type": workflow_type_name(t),
            "id": t.value,
            "clause": wf.CLAUSE,
            "title_zh": wf.TITLE_ZH,
            "task_queue": task_queue(),
            "reports": sorted(wf.CLAUSE_REPORTS),
            "example": f"examples/{t.value}.json",
        }
        if t is IncidentType.C9:
            entry["scenarios"] = [
                {"id": sc.value, "title_zh": EPIDEMIC_SCENARIO_ZH[sc], "example": f"examples/C9-{sc.value}.json"}
                for sc in EpidemicScenario
            ]
            entry["example"] = entry["scenarios"][0]["example"]
        entries.append(entry)
    return entries


def _order(type_id: str) -> tuple[int, int]:
    """L1..L4 (000) first, then C1..C11 (001)."""
    return (0 if type_id.startswith("L") else 1, int(type_id[1:]))


def _value(text: str) -> Any:
    """A --set value: JSON when it parses (true, 3, ["phone"]), the plain string otherwise."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def build_report(args: argparse.Namespace) -> dict[str, Any]:
    if args.json:
        try:
            report = json.loads(args.json)
        except ValueError as err:
            raise CliError(f"--json: not valid JSON ({err.msg} at column {err.colno})") from None
        if not isinstance(report, dict):
            raise CliError("--json: expected a JSON object")
    else:
        report = {}
    if args.kind:
        report["kind"] = args.kind
    if args.actor:
        report["actor"] = args.actor
    if args.note:
        report["note"] = args.note
    for item in args.set or []:
        key, sep, val = item.partition("=")
        if not sep or not key:
            raise CliError(f"--set {item!r}: expected FIELD=VALUE")
        report[key] = _value(val)
    if "kind" not in report:
        raise CliError("report: give the report kind (e.g. arrived, progress, closed)")
    return report


def render_status(st: IncidentStatus) -> str:
    now = datetime.now(UTC)
    lines = [
        f"{st.workflow_id}  {st.incident_type.value} {st.title_zh} ({st.clause})",
        f"状态 state: {st.phase.value}{'  [演练 drill]' if st.drill else ''}   流程 flow: {st.flow.value}",
        f"等待 waiting for: {', '.join(st.waiting_for) or '-'}",
    ]
    if st.plan_active:
        lines.append("预案 plan: 领导小组已启动 activated by the leadership group (000 §2.1)")
    if st.command:
        lines.append("现场指挥部 on-site command: " + "; ".join(f"{k}: {v}" for k, v in st.command.items()))
    if st.release != "none":
        lines.append(f"信息发布 release: {st.release} (001 §5(3))")
    if st.related:
        lines.append("关联事件 related: " + ", ".join(st.related))
    if st.run > 1:
        lines.append(f"运行 run: {st.run} (continued as new; the record is complete)")
    lines.append("时限 deadlines:")
    for d in st.deadlines:
        extra = ""
        if d.status is DeadlineStatus.PENDING:
            left = d.due_at - now
            mins = int(left.total_seconds() // 60)
            extra = f"  (剩余 {mins} 分钟)" if mins >= 0 else f"  (已超时 {-mins} 分钟)"
        lines.append(f"  - {d.title_zh:<16} {d.status.value:<9} due {fmt_time(d.due_at)}{extra}  [{d.clause}]")
    lines.append("记录 timeline:")
    for e in st.timeline:
        lines.append(f"  {e.seq:>3}. {fmt_time(e.at)}  {e.kind.value:<19} {e.actor}: {e.text_zh}  [{e.clause}]")
    return "\n".join(lines)


def render_accountability(acc: AccountabilityRecord) -> str:
    """001 §7(4): every required report, its due time and whether it was on time, late or missing."""
    lines = [f"{acc.workflow_id}  {acc.incident_type.value}  {accountability_summary(acc.obligations)}"]
    for o in acc.obligations:
        done = f"  done {fmt_time(o.done_at)} ({o.how})" if o.done_at else ""
        lines.append(
            f"  - {OBLIGATION_STATUS_ZH[o.status]:<4} {o.status.value:<12} {o.title_zh:<20} due {fmt_time(o.due_at)}{done}"
            f"  [{o.clause}] {o.id}"
        )
    return "\n".join(lines)


async def _run(args: argparse.Namespace) -> int:
    if args.command == "catalogue":
        entries = catalogue()
        if args.json:
            print(json.dumps(entries, ensure_ascii=False, indent=2))
        else:
            for e in entries:
                print(f"{e['id']:<4} {e['workflow_type']:<28} {e['clause']:<12} {e['title_zh']}  ({e['example']})")
                for sc in e.get("scenarios", []):
                    print(f"       {sc['id']}  {sc['title_zh']}  ({sc['example']})")
        return 0

    if args.command == "start":
        try:
            text = Path(args.file).read_text(encoding="utf-8")
        except OSError as err:
            raise CliError(f"{args.file}: {err.strerror}") from None
        try:
            json.loads(text)
        except ValueError as err:
            raise CliError(f"{args.file}: line {err.lineno}: not valid JSON ({err.msg})") from None
        incident = parse_incident(text)  # refused here, before anything reaches Temporal
        client = await _connect()
        started = await client.start(incident, workflow_id=args.id)
        if started.already_started:
            print(f"already started: {started.workflow_id}", file=sys.stderr)
        print(started.workflow_id)
        return 0

    if args.command == "report":
        report = parse_report(build_report(args))
    client = await _connect()
    if args.command == "report":
        if args.signal:
            await client.signal_report(args.workflow_id, report)
            print("sent (signal); refusals appear on the timeline")
        else:
            receipt = await client.report(args.workflow_id, report)
            print(receipt.message_zh)
        return 0
    if args.command == "status":
        st = await client.status(args.workflow_id)
        print(st.model_dump_json(indent=2) if args.json else render_status(st))
        return 0
    if args.command == "accountability":
        acc = await client.accountability(args.workflow_id)
        print(acc.model_dump_json(indent=2) if args.json else render_accountability(acc))
        return 0
    raise CliError(f"unknown command {args.command}")


async def _connect() -> IncidentClient:
    try:
        return await IncidentClient.connect()
    except RuntimeError as err:
        target = connect_config()["target_host"]
        raise CliError(
            f"cannot reach Temporal at {target} (TEMPORAL_ADDRESS / profile): {err}", code=1
        ) from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m starter", description="Emergency incidents (应急预案) for duty officers.")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("catalogue", help="list the incident types")
    c.add_argument("--json", action="store_true")
    s = sub.add_parser("start", help="start an incident from a JSON file; prints its workflow id")
    s.add_argument("file")
    s.add_argument("--id", help="workflow id (default: from the alert id)")
    r = sub.add_parser("report", help="send a progress report (refusals print the reason)")
    r.add_argument("workflow_id")
    r.add_argument("kind", nargs="?", help="arrived, dispatched, progress, feedback, closed, or the clause's kinds")
    r.add_argument("--actor", help="who reports, e.g. 东城司法所 值班员")
    r.add_argument("--note")
    r.add_argument("--set", action="append", metavar="FIELD=VALUE", help="a report field (JSON values allowed)")
    r.add_argument("--json", help="the whole report as JSON")
    r.add_argument("--signal", action="store_true", help="send as a signal (fire-and-forget)")
    st = sub.add_parser("status", help="state, pending deadlines with due times, timeline")
    st.add_argument("workflow_id")
    st.add_argument("--json", action="store_true")
    a = sub.add_parser("accountability", help="required reports: on time, late (迟报), missing (漏报) (001 §7(4))")
    a.add_argument("workflow_id")
    a.add_argument("--json", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except (CliError, InvalidInput, ReportRefused) as err:
        print(f"error: {err}", file=sys.stderr)
        return getattr(err, "code", 2)
    except RPCError as err:
        print(f"error: Temporal: {err.message}", file=sys.stderr)
        return 1
    except RuntimeError as err:  # connection failures
        print(f"error: {err}", file=sys.stderr)
        return 1
