"""The duty officers' command line: ``python -m starter``.

    python -m starter catalogue [--json]
    python -m starter start examples/C4.json
    python -m starter report ID search_result --actor 东城司法所 --set found=false --set methods='["phone"]'
    python -m starter report ID --json '{"kind": "arrived", "actor": "东城司法所"}'
    python -m starter status ID [--json]
    python -m starter accountability ID [--json]
    python -m starter list --office 东城司法所 --flow urgent --status open --missed
    python -m starter show ID                                  # deadlines as countdowns, timeline
    python -m starter render ID --format pdf --out report.pdf  # 书面报告 / 事后总结 / 演练总结
    python -m starter export ID --format csv --out timeline.csv
    python -m starter setup-search-attributes                  # once per namespace (real cluster)
    python -m starter drill-schedule --every 365d --type C4    # 000 §6.2, 001 §7(2)

Connection settings are the worker's (``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``, profiles,
``TEMPORAL_TASK_QUEUE``). Exit codes: 0 done, 2 refused input or report (the message says which
field and why), 1 Temporal not reachable or another failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.service import RPCError

from infra import search_attributes as sa
from infra.codec import CodecConfigError
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
from workflows.drill import DRILL_WORKFLOW_TYPE

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


def render_status(st: IncidentStatus, countdowns: bool = False) -> str:
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
            if countdowns:
                from starter.render import countdown

                extra = f"  ⏱ {countdown(d.due_at, now)}"
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
    if args.command == "list" and args.print_query:
        print(list_query(args))
        return 0
    if args.command == "setup-search-attributes":
        return await setup_search_attributes(await _connect(), args)
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
    if args.command in OPERATOR_COMMANDS:
        return await OPERATOR_COMMANDS[args.command](client, args)
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
    add_operator_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except (CliError, InvalidInput, ReportRefused) as err:
        print(f"error: {err}", file=sys.stderr)
        return getattr(err, "code", 2)
    except CodecConfigError as err:  # a bad key file: configuration, not a crash
        print(f"error: {err}", file=sys.stderr)
        return 2
    except RPCError as err:
        print(f"error: Temporal: {err.message}", file=sys.stderr)
        return 1
    except RuntimeError as err:  # connection failures
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (KeyError, ValueError, TypeError) as err:  # a payload this process cannot decrypt: one line
        from starter.api import unreadable_payload

        unreadable = unreadable_payload(err)
        if unreadable is None:
            raise
        print(f"error: {unreadable}", file=sys.stderr)
        return 2


# ---------------------------------------------------------------------- the operators' door (issue 5)


def progress(message: str) -> None:
    """Progress of a long operation, on stderr (stdout stays the result)."""
    print(f"… {message}", file=sys.stderr, flush=True)


def _duration(text: str, name: str) -> timedelta:
    """``365d``, ``24h``, ``30m``, ``90s``."""
    units = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit() or int(text[:-1]) <= 0:
        raise CliError(f"{name}: {text!r} is not a duration (e.g. 365d, 24h, 30m)")
    return timedelta(**{units[text[-1]]: int(text[:-1])})


def list_query(args: argparse.Namespace) -> str:
    try:
        return sa.incident_query(
            incident_type=args.type, flow=args.flow, county=args.county, justice_office=args.office,
            phase=args.status, deadline_missed=args.missed, drill=args.drill,
            running=True if args.running else None,
        )
    except ValueError as err:
        raise CliError(str(err)) from None


async def cmd_list(client: IncidentClient, args: argparse.Namespace) -> int:
    """Incidents matching the filters, newest first, read page by page with progress."""
    query = list_query(args)
    if args.print_query:
        print(query)
        return 0
    progress(f"查询 query: {query}")
    rows: list[dict[str, Any]] = []
    try:
        async for wf in client.client.list_workflows(query, page_size=args.page_size, limit=args.limit):
            attrs = wf.typed_search_attributes
            rows.append({
                "workflow_id": wf.id,
                "workflow_type": wf.workflow_type,
                "execution_status": wf.status.name if wf.status else "",
                **{k.name: _jsonable(attrs.get(k)) for k in sa.ALL_KEYS},
            })
            if len(rows) % args.page_size == 0:
                progress(f"已读取 {len(rows)} 条 read")
    except RPCError as err:
        raise CliError(f"list: Temporal refused the query ({err.message}); "
                       "are the search attributes registered? run: python -m starter setup-search-attributes",
                       code=1) from None
    progress(f"共 {len(rows)} 条 total")
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    titles = {t.value: wf.TITLE_ZH for t, wf in INCIDENT_WORKFLOWS.items()}
    for r in rows:
        flags = ("  超时" if r["IncidentDeadlineMissed"] else "") + ("  演练" if r["IncidentDrill"] else "")
        occurred = r["IncidentOccurredAt"]
        when = fmt_time(datetime.fromisoformat(occurred)) if occurred else "-"
        print(f"{r['workflow_id']}  {r['IncidentType']} {titles.get(r['IncidentType'] or '', '')}  "
              f"{r['IncidentPhase']}  {r['IncidentFlow']}  {r['IncidentCounty']}{r['IncidentJusticeOffice']}  "
              f"{when}{flags}")
    return 0


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def cmd_show(client: IncidentClient, args: argparse.Namespace) -> int:
    """One incident: state, deadlines as countdowns (剩余 / 已超时), timeline."""
    st = await client.status(args.workflow_id)
    print(st.model_dump_json(indent=2) if args.json else render_status(st, countdowns=True))
    return 0


async def report_texts(client: IncidentClient, workflow_id: str) -> list[str]:
    """The reports of a workflow: a finished incident's written report and review; a drill's summary
    (and its incident's written report); for an incident still handled, the written report once it
    was sent (it is on the timeline), else a progress report from its status."""
    from temporalio.client import WorkflowExecutionStatus

    from plan.models import EntryKind, IncidentOutcome
    from starter.render import progress_report
    from workflows.drill import DrillOutcome

    progress(f"读取 {workflow_id}")
    desc = await client.handle(workflow_id).describe()
    if desc.workflow_type == DRILL_WORKFLOW_TYPE:
        if desc.status is not WorkflowExecutionStatus.COMPLETED:
            raise CliError(f"{workflow_id}: the drill is still running (stage: see `show`); render it once it ends")
        drill = await client.client.get_workflow_handle(workflow_id, result_type=DrillOutcome).result()
        return [t for t in (drill.summary_zh, drill.written_report_zh) if t]
    if desc.status is WorkflowExecutionStatus.COMPLETED:
        out = await client.client.get_workflow_handle(workflow_id, result_type=IncidentOutcome).result()
        return [t for t in (out.written_report_zh, out.review_report_zh) if t]
    if desc.status is not WorkflowExecutionStatus.RUNNING:
        raise CliError(f"{workflow_id}: {desc.status.name.lower() if desc.status else 'unknown'}; no report to render")
    st = await client.status(workflow_id)
    sent = [e for e in st.timeline if e.kind is EntryKind.NOTIFICATION and e.step == "written-report"]
    if sent:
        return [sent[0].text_zh.split(":", 1)[1]]
    return [progress_report(st)]


async def cmd_render(client: IncidentClient, args: argparse.Namespace) -> int:
    from starter.render import to_markdown, to_pdf

    texts = await report_texts(client, args.workflow_id)
    out = Path(args.out) if args.out else None
    if args.format == "md":
        md = to_markdown(texts)
        if out is None:
            print(md, end="")
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(md, encoding="utf-8")
    else:
        if out is None:
            raise CliError("render --format pdf: give --out FILE")
        progress("生成 PDF rendering")
        to_pdf(texts, out, subject=args.workflow_id)
    if out is not None:
        progress(f"已写入 written {out}")
        print(out)
    return 0


async def cmd_export(client: IncidentClient, args: argparse.Namespace) -> int:
    from starter.export import to_csv, to_json

    progress(f"读取 {args.workflow_id}")
    st = await client.status(args.workflow_id)
    text = (to_json(st.workflow_id, st.incident_type.value, st.timeline, st.deadlines)
            if args.format == "json" else to_csv(st.timeline))
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        progress(f"已写入 written {args.out} ({len(st.timeline)} 条 lines)")
        print(args.out)
    else:
        sys.stdout.write(text if args.format == "csv" else text + "\n")
    return 0


async def setup_search_attributes(client: IncidentClient, args: argparse.Namespace) -> int:
    """Register the incidents' search attributes in the namespace (idempotent)."""
    try:
        added, present = await sa.register(client.client, args.namespace)
    except ValueError as err:
        raise CliError(str(err), code=1) from None
    except RPCError as err:
        raise CliError(f"setup-search-attributes: Temporal: {err.message}", code=1) from None
    for name in added:
        print(f"added   {name}")
    for name in present:
        print(f"present {name}")
    return 0


def drill_plan(args: argparse.Namespace) -> Any:
    from workflows.drill import DrillPlan, DrillStep

    try:
        t = IncidentType(args.type)
    except ValueError:
        raise CliError(f"--type: {args.type!r} is not an incident type (see `catalogue`)") from None
    example = ROOT / "examples" / (f"{t.value}-S1.json" if t is IncidentType.C9 else f"{t.value}.json")
    incident = parse_incident((Path(args.input) if args.input else example).read_text(encoding="utf-8"))
    if incident.incident_type is not t:
        raise CliError(f"--input: incident_type is {incident.incident_type.value}, --type is {t.value}")
    script: list[DrillStep] = []
    if args.script:
        try:
            raw = json.loads(Path(args.script).read_text(encoding="utf-8"))
            script = [DrillStep.model_validate(s) for s in raw]
        except (OSError, ValueError) as err:
            raise CliError(f"--script: {err}") from None
    return DrillPlan(
        title_zh=args.title, workflow_type=workflow_type_name(t), incident_title_zh=INCIDENT_WORKFLOWS[t].TITLE_ZH,
        incident=incident.model_copy(update={"drill": True}), script=script,
        window=_duration(args.window, "--window"),
    )


async def cmd_drill_schedule(client: IncidentClient, args: argparse.Namespace) -> int:
    """000 §6.2, 001 §7(2): a drill at least once a year, as a Temporal Schedule (created or updated)."""
    from temporalio.client import (
        Schedule,
        ScheduleActionStartWorkflow,
        ScheduleAlreadyRunningError,
        ScheduleIntervalSpec,
        ScheduleSpec,
        ScheduleUpdate,
    )

    every = _duration(args.every, "--every")
    if every > timedelta(days=365):
        raise CliError(f"--every: {args.every} is less than once a year; 001 §7(2) asks 每年至少一次")
    plan = drill_plan(args)
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            DRILL_WORKFLOW_TYPE, plan, id=f"{args.id}-run", task_queue=client.task_queue,
            typed_search_attributes=sa.TypedSearchAttributes([sa.SearchAttributePair(sa.INCIDENT_DRILL, True)])
            if args.search_attributes and await client.attributes_registered() else sa.TypedSearchAttributes.empty,
            static_summary=f"【演练】{plan.title_zh}:{plan.incident.incident_type.value} {plan.incident_title_zh}",
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
    )
    try:
        await client.client.create_schedule(args.id, schedule)
        print(f"created schedule {args.id}: every {args.every}, {plan.incident.incident_type.value}")
    except ScheduleAlreadyRunningError:
        await client.client.get_schedule_handle(args.id).update(lambda _inp: ScheduleUpdate(schedule=schedule))
        print(f"updated schedule {args.id}: every {args.every}, {plan.incident.incident_type.value}")
    if args.trigger:
        await client.client.get_schedule_handle(args.id).trigger()
        print("triggered a drill now")
    return 0


OPERATOR_COMMANDS = {
    "list": cmd_list,
    "show": cmd_show,
    "render": cmd_render,
    "export": cmd_export,
    "drill-schedule": cmd_drill_schedule,
}


def _tristate(p: argparse.ArgumentParser, name: str, help_yes: str) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument(f"--{name}", dest=name, action="store_const", const=True, default=None, help=help_yes)
    g.add_argument(f"--no-{name}", dest=name, action="store_const", const=False)


def add_operator_parsers(sub: Any) -> None:
    ls = sub.add_parser("list", help="incidents by filter (search attributes); progress on stderr")
    ls.add_argument("--type", help="incident type id, e.g. C4, L1")
    ls.add_argument("--flow", choices=["urgent", "general"])
    ls.add_argument("--county", help="e.g. 黄岩区")
    ls.add_argument("--office", help="justice office, e.g. 东城司法所")
    ls.add_argument("--status", choices=["open", "handled", "closed"], help="phase of the incident")
    _tristate(ls, "missed", "only incidents with a missed deadline (--no-missed: none missed)")
    _tristate(ls, "drill", "only drills (--no-drill: only real incidents)")
    ls.add_argument("--running", action="store_true", help="only workflows still running")
    ls.add_argument("--limit", type=int, default=None)
    ls.add_argument("--page-size", type=int, default=100)
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--print-query", action="store_true", help="print the visibility query (for the Web UI) and exit")
    sh = sub.add_parser("show", help="one incident: deadlines as countdowns, timeline")
    sh.add_argument("workflow_id")
    sh.add_argument("--json", action="store_true")
    rd = sub.add_parser("render", help="the written report (书面报告), review, or drill summary as md or pdf")
    rd.add_argument("workflow_id")
    rd.add_argument("--format", choices=["md", "pdf"], default="md")
    rd.add_argument("--out", help="output file (required for pdf)")
    ex = sub.add_parser("export", help="the timeline for auditors, as json or csv")
    ex.add_argument("workflow_id")
    ex.add_argument("--format", choices=["json", "csv"], default="json")
    ex.add_argument("--out")
    su = sub.add_parser("setup-search-attributes", help="register the search attributes (idempotent)")
    su.add_argument("--namespace", help="default: TEMPORAL_NAMESPACE")
    dr = sub.add_parser("drill-schedule", help="create or update the drill programme schedule (000 §6.2, 001 §7(2))")
    dr.add_argument("--every", default="365d", help="interval, at most 365d (default 365d)")
    dr.add_argument("--type", default="C4", help="incident type of the drill (default C4)")
    dr.add_argument("--input", help="incident input JSON (default: examples/<type>.json)")
    dr.add_argument("--script", help="JSON list of {after: seconds or ISO duration, report: {...}}")
    dr.add_argument("--window", default="24h", help="how long the drill incident may run (default 24h)")
    dr.add_argument("--title", default="社区矫正突发事件应急演练")
    dr.add_argument("--id", default="drill-programme", help="schedule id")
    dr.add_argument("--trigger", action="store_true", help="also run one drill now")
    dr.add_argument("--no-search-attributes", dest="search_attributes", action="store_false",
                    help="for a namespace without the registered attributes")
