"""The duty officers' commands for warnings (预警) and periodic screening (排查), issue 20.

    python -m starter warn examples/warnings/huangyan-L1.json          # record a sign; prints the warning id
    python -m starter warning-report ID analysis --actor 应急办公室 --set decision=watch \\
        --set assessment=纠纷尚在萌芽 --set 'measures=[{"kind": "educate", "what": "谈话教育"}]'
    python -m starter warning-report ID --json '{"kind": "sign_closed", "actor": "…", "result": "…"}'
    python -m starter warning-status ID [--json]
    python -m starter warnings --office 东城司法所 --open --overdue [--json] [--print-query]
    python -m starter screening-schedule --bureau gongshu --county 拱墅区 --office 米市巷司法所 \\
        --responsible 王建国 --phone 13900000001 [--every 30d] [--trigger]

Wired into ``starter/cli.py`` (``add_warning_parsers``, ``WARNING_COMMANDS``): same connection flags,
same exit codes, refusals as one Chinese line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio.client import Schedule, ScheduleActionStartWorkflow, ScheduleAlreadyRunningError
from temporalio.client import ScheduleIntervalSpec, ScheduleSpec, ScheduleUpdate
from temporalio.service import RPCError

from infra import search_attributes as sa
from plan.texts import fmt_time
from plan.warning import WarningLevel, WarningStatus

Connect = Callable[[], Awaitable[Any]]


def _cli() -> Any:
    from starter import cli  # the shared helpers (errors, tables, durations); imported late: cli imports us

    return cli


def build_warning_report(args: argparse.Namespace) -> dict[str, Any]:
    """``--json`` / ``--file`` and/or ``KIND --actor --note --set FIELD=VALUE`` (values JSON where they parse)."""
    cli = _cli()
    report: dict[str, Any] = {}
    text = cli.read_utf8(args.file) if args.file else args.json
    if text:
        try:
            report = json.loads(text)
        except json.JSONDecodeError as err:
            raise cli.CliError(f"{args.file or '--json'}:不是有效的 JSON({err.msg},第 {err.lineno} 行)") from None
        if not isinstance(report, dict):
            raise cli.CliError(f"{args.file or '--json'}:应为 JSON 对象({{...}})")
    for key in ("kind", "actor", "note"):
        if getattr(args, key, None):
            report[key] = getattr(args, key)
    if "kind" not in report:
        raise cli.CliError("warning-report:请给出报告种类(analysis 分析研判、leadership_decision 领导决定、"
                           "follow_up 跟踪了解、sign_closed 苗头化解、dismissed 排除、verified 措施落实、"
                           "screening_record 排查记录)")
    for item in args.set or []:
        key, sep, val = item.partition("=")
        if not sep or not key.strip():
            raise cli.CliError(f"--set {item!r}:应为 字段=值")
        try:
            report[key.strip()] = json.loads(val)
        except ValueError:
            report[key.strip()] = val
    return report


def render_warning(st: WarningStatus) -> str:
    lines = [f"预警 {st.workflow_id}:{st.summary_zh}", f"状态:{st.state_zh}"]
    if st.level:
        lines.append(f"预警等级:{st.level.zh}")
    if st.waiting_for:
        lines.append("等待:" + "、".join(st.waiting_for))
    if st.incident_id:
        lines.append(f"已转为事件:{st.incident_id}")
    lines += [f"关联:{r}" for r in st.related]
    lines += [f"时限:{d.title_zh},{fmt_time(d.due_at)}({d.status.zh})" for d in st.deadlines]
    lines += [f"任务:{d.title_zh}(任务编号 {d.id}),{fmt_time(d.due_at)} 前" for d in st.duties]
    lines.append("记录:")
    lines += [f"  {e.seq}. {fmt_time(e.at)} {e.actor}:{e.text_zh}" for e in st.timeline]
    return "\n".join(lines)


async def cmd_warn(args: argparse.Namespace, connect: Connect) -> int:
    from starter.api import parse_warning

    text = _cli().read_utf8(args.file)
    inp = parse_warning(text)  # refused here, before anything reaches Temporal
    client = await connect()
    started = await client.start_warning(inp, workflow_id=args.id)
    if started.already_started:
        print(f"该苗头的预警已在处理中,未重复登记:{started.workflow_id}", file=sys.stderr)
    print(started.workflow_id)
    return 0


async def cmd_warning_report(args: argparse.Namespace, connect: Connect) -> int:
    report = build_warning_report(args)
    client = await connect()
    receipt = await client.warning_report(args.workflow_id, report)
    print(receipt.message_zh)
    return 0


async def cmd_warning_status(args: argparse.Namespace, connect: Connect) -> int:
    client = await connect()
    st = await client.warning_status(args.workflow_id)
    print(st.model_dump_json(indent=2) if args.json else render_warning(st))
    return 0


def warnings_query(args: argparse.Namespace) -> str:
    try:
        return sa.warning_query(open_=args.open, level=args.level, county=args.county, justice_office=args.office,
                                overdue=args.overdue)
    except ValueError as err:
        raise _cli().CliError(str(err)) from None


STATE_ZH = {"analysing": "待分析研判", "proposed": "待领导决定", "watching": "持续关注", "closed": "已化解",
            "dismissed": "已排除", "escalated": "已转为事件"}


async def cmd_warnings(args: argparse.Namespace, connect: Connect) -> int:
    """Warnings by filter (the warning search attributes), newest first; Chinese columns."""
    cli = _cli()
    query = warnings_query(args)
    if args.print_query:
        print(query)
        return 0
    client = await connect()
    cli.progress(f"查询条件:{query}")
    rows: list[dict[str, Any]] = []
    try:
        async for wf in client.client.list_workflows(query, limit=args.limit):
            attrs = wf.typed_search_attributes
            rows.append({"workflow_id": wf.id, "execution_status": wf.status.name if wf.status else "",
                         **{k.name: attrs.get(k) for k in (*sa.WARNING_KEYS, sa.INCIDENT_COUNTY,
                                                            sa.INCIDENT_JUSTICE_OFFICE, sa.INCIDENT_DEADLINE_MISSED)}})
    except RPCError as err:
        raise cli.CliError(f"warnings:Temporal 拒绝了查询({err.message});检索属性是否已注册?"
                           "请运行 python -m starter setup-search-attributes", code=1) from None
    cli.progress(f"共 {len(rows)} 条")
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    table = [["预警编号", "状态", "等级", "辖区", "分析超时"]]
    for r in rows:
        level = r["WarningLevel"]
        table.append([
            r["workflow_id"], STATE_ZH.get(r["WarningState"] or "", r["WarningState"] or "-"),
            WarningLevel.zh_of(level) if level and level != "none" else "-",
            f"{r['IncidentCounty'] or ''}{r['IncidentJusticeOffice'] or ''}" or "-",
            "超时" if r["IncidentDeadlineMissed"] else "",
        ])
    print("\n".join(cli._table(table, indent="")))
    return 0


async def cmd_screening_schedule(args: argparse.Namespace, connect: Connect) -> int:
    """001 §7(1) 定期排查: one Temporal Schedule per justice office (created or updated)."""
    from plan.bureaus import profile
    from plan.policy import DEFAULT_POLICY
    from plan.warning import ScreeningInput
    from workflows.screening import SCREENING_WORKFLOW_TYPE

    cli = _cli()
    bureau = cli.bureau_of(args)
    policy = profile(bureau).policy if bureau else DEFAULT_POLICY
    every = cli._duration(args.every, "--every") if args.every else policy.screening_interval
    if every < policy.screening_due:
        raise cli.CliError(f"--every:{args.every} 短于排查记录的报送时限({fmt_duration(policy.screening_due)})")
    try:
        inp = ScreeningInput.model_validate({
            "bureau": bureau, "jurisdiction": {"county": args.county, "justice_office": args.office},
            "responsible": {"name": args.responsible, "phone": args.phone, "unit": args.office},
        })
    except ValueError as err:
        raise cli.CliError(f"screening-schedule:{err}") from None
    client = await connect()
    sid = args.id or f"screening-{bureau or 'shared'}-{args.office}"
    attrs = (sa.TypedSearchAttributes([sa.SearchAttributePair(sa.INCIDENT_COUNTY, args.county),
                                       sa.SearchAttributePair(sa.INCIDENT_JUSTICE_OFFICE, args.office)])
             if await client.attributes_registered() else sa.TypedSearchAttributes.empty)
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            SCREENING_WORKFLOW_TYPE, inp, id=f"{sid}-period", task_queue=client.task_queue,
            typed_search_attributes=attrs, static_summary=f"定期排查 · {args.county}{args.office}",
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
    )
    what = f"{args.county}{args.office},每 {fmt_duration(every)} 一次,排查记录于每期开始后 {fmt_duration(policy.screening_due)} 内报送"
    try:
        await client.client.create_schedule(sid, schedule)
        print(f"已创建定期排查计划 {sid}:{what}")
    except ScheduleAlreadyRunningError:
        await client.client.get_schedule_handle(sid).update(lambda _inp: ScheduleUpdate(schedule=schedule))
        print(f"已更新定期排查计划 {sid}:{what}")
    if args.trigger:
        await client.client.get_schedule_handle(sid).trigger()
        print("已立即开始一期排查")
    return 0


def fmt_duration(d: timedelta) -> str:
    from plan.texts import fmt_duration as fmt

    return fmt(d)


WARNING_COMMANDS: dict[str, Callable[[argparse.Namespace, Connect], Awaitable[int]]] = {
    "warn": cmd_warn, "warning-report": cmd_warning_report, "warning-status": cmd_warning_status,
    "warnings": cmd_warnings, "screening-schedule": cmd_screening_schedule,
}


def add_warning_parsers(sub: Any) -> None:
    cli = _cli()
    w = sub.add_parser("warn", help="record a sign (苗头) from a JSON file; prints the warning id (000 §4.1, 001 §7(1))")
    w.add_argument("file")
    w.add_argument("--id", help="workflow id (default: from sign_id)")
    r = sub.add_parser("warning-report", help="a report to a warning or a screening period (refusals print the reason)")
    r.add_argument("workflow_id")
    r.add_argument("kind", nargs="?", help="analysis, leadership_decision, follow_up, sign_closed, dismissed, "
                                           "verified, screening_record")
    r.add_argument("--actor")
    r.add_argument("--note")
    r.add_argument("--set", action="append", metavar="FIELD=VALUE", help="a field (JSON values allowed)")
    r.add_argument("--json", help="the whole report as JSON")
    r.add_argument("--file", help="the whole report as a JSON file (e.g. examples/warnings/screening-record.json)")
    s = sub.add_parser("warning-status", help="one warning: state, level, what it waits for, record")
    s.add_argument("workflow_id")
    s.add_argument("--json", action="store_true")
    ls = sub.add_parser("warnings", help="warnings by filter (search attributes); progress on stderr")
    ls.add_argument("--office", type=cli._place("--office"))
    ls.add_argument("--county", type=cli._place("--county"))
    ls.add_argument("--level", type=cli._coded(WarningLevel, "--level"), help="blue / yellow / orange / red")
    cli._tristate(ls, "open", "only open warnings (--no-open: closed, dismissed, escalated)")
    cli._tristate(ls, "overdue", "only warnings whose analysis (or decision) is overdue")
    ls.add_argument("--limit", type=cli._positive("--limit"), default=None)
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--print-query", action="store_true", help="print the visibility query (for the Web UI) and exit")
    sc = sub.add_parser("screening-schedule", help="create or update a justice office's screening schedule (001 §7(1))")
    sc.add_argument("--county", required=True, type=cli._place("--county"))
    sc.add_argument("--office", required=True, type=cli._place("--office"))
    sc.add_argument("--responsible", required=True, help="who answers for the office's screening")
    sc.add_argument("--phone", required=True, help="their phone")
    sc.add_argument("--every", help="interval (default: the bureau's policy screening_interval, 30d)")
    sc.add_argument("--id", help="schedule id (default: screening-<bureau>-<office>)")
    sc.add_argument("--trigger", action="store_true", help="also start one period now")
