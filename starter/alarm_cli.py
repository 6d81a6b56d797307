"""The officers' alarm commands (信息化核查, 001 §4(4)), part of ``python -m starter``.

    python -m starter alarm-receive examples/alarms/out_of_bounds.json   # as the platform would (SDK door)
    python -m starter alarm-verify PT-20261123-000731 --finding leave_approved --result "…" --actor "东城司法所 孙立新"
    python -m starter alarm-status PT-20261123-000731 [--json]
    python -m starter alarms --office 东城司法所 [--outcome pending] [--overdue] [--json]
    python -m starter alarm-report --office 东城司法所 --day 2026-11-23 [--json | --csv FILE]
    python -m starter alarm-report --office 东城司法所 --month 2026-11
    python -m starter alarm-server                                          # the HTTP intake
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

from plan import alarms as al
from plan.texts import fmt_time
from starter.alarms import AlarmClient, report_csv, report_zh


def _alarm_id(text: str) -> str:
    """An alarm id or its workflow id (``alarm-…``) → the workflow id."""
    text = text.strip()
    wf = text if text.startswith(al.ID_PREFIX) else al.alarm_workflow_id(text)
    if not re.match(al.ALARM_ID_PATTERN, wf.removeprefix(al.ID_PREFIX)):
        raise argparse.ArgumentTypeError(f"{text!r} 不是报警编号(字母、数字、_ . -,至多 64 个字符)")
    return wf


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} 不是日期(YYYY-MM-DD)") from None


def _month(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise argparse.ArgumentTypeError(f"{text!r} 不是月份(YYYY-MM)")
    return int(m.group(1)), int(m.group(2))


def _finding(text: str) -> str:
    for f in al.AlarmFinding:
        if text in (f.value, f.zh):
            return f.value
    choices = "、".join(f"{f.value}({f.zh})" for f in al.AlarmFinding)
    raise argparse.ArgumentTypeError(f"{text!r} 无效(可选:{choices})")


def add_alarm_parsers(sub: Any, place: Any) -> None:
    """The alarm commands on the starter's subparsers (``place``: its checked office value)."""
    rc = sub.add_parser("alarm-receive", help="receive a platform alarm from a JSON file (the SDK door); prints its id")
    rc.add_argument("file")
    vf = sub.add_parser("alarm-verify", help="the 司法所's verification of an alarm (初步核实)")
    vf.add_argument("alarm", type=_alarm_id, help="alarm id (or its workflow id alarm-…)")
    vf.add_argument("--finding", required=True, type=_finding,
                    help="、".join(f"{f.value}({f.zh})" for f in al.AlarmFinding))
    vf.add_argument("--result", required=True, help="what was found, in the officer's words")
    vf.add_argument("--actor", required=True, help="who verified, e.g. 东城司法所 孙立新")
    st = sub.add_parser("alarm-status", help="one alarm: its duty, due time, outcome, timeline")
    st.add_argument("alarm", type=_alarm_id)
    st.add_argument("--json", action="store_true")
    ls = sub.add_parser("alarms", help="platform alarms by filter (search attributes)")
    ls.add_argument("--office", type=place, help="justice office, e.g. 东城司法所")
    ls.add_argument("--outcome", choices=[o.value for o in al.AlarmOutcome])
    ls.add_argument("--overdue", action="store_true", default=None, help="only alarms not verified by their due time")
    ls.add_argument("--drill", action="store_true", default=None, help="only drills")
    ls.add_argument("--limit", type=int, default=None)
    ls.add_argument("--json", action="store_true")
    rp = sub.add_parser("alarm-report", help="an office's 日报 (--day) or 月通报 (--month) of platform alarms")
    rp.add_argument("--office", type=place, required=True, help="justice office, e.g. 东城司法所")
    g = rp.add_mutually_exclusive_group(required=True)
    g.add_argument("--day", type=_day, help="YYYY-MM-DD (local time, UTC+8)")
    g.add_argument("--month", type=_month, help="YYYY-MM")
    rp.add_argument("--drill", action="store_true", help="count drills instead of real alarms")
    rp.add_argument("--json", action="store_true")
    rp.add_argument("--csv", metavar="FILE", help="write the counts as CSV (UTF-8 with BOM, opens in Excel)")
    sub.add_parser("alarm-server", help="the platform's HTTP intake (ALARM_PLATFORM_SECRET_FILE, ALARM_SERVER_PORT)")


def render_status(st: al.AlarmStatus) -> str:
    lines = [
        f"{st.workflow_id}  平台报警 {st.kind.zh}  {st.county}{st.justice_office}" + ("  【演练】" if st.drill else ""),
        f"状态:{st.outcome.zh}" + ("(超时未核实,已升级督办)" if st.overdue else ""),
        f"接收:{fmt_time(st.received_at)}   核实时限:{fmt_time(st.due_at)} 前",
    ]
    if st.finding is not None:
        lines.append(f"核实结果:{st.finding.zh}(核实人:{st.verified_by})")
    if st.incident:
        lines.append(f"转为事件:{st.incident}")
    lines.append("记录:")
    lines += [f"  {fmt_time(e.at)}  {e.actor}  {e.text_zh}" for e in st.timeline]
    return "\n".join(lines)


async def run_alarm_command(client: Any, args: argparse.Namespace) -> int:
    """``client``: the starter's IncidentClient (its connection, namespace and keys)."""
    alarms = AlarmClient(client.client, client.task_queue)
    if args.command == "alarm-receive":
        from starter.cli import read_utf8

        receipt = await alarms.receive(read_utf8(args.file))
        if receipt.already_received:
            print(receipt.message_zh, file=sys.stderr)
        print(receipt.workflow_id)
        return 0
    if args.command == "alarm-verify":
        print(await alarms.verify(args.alarm, finding=args.finding, result=args.result, actor=args.actor))
        return 0
    if args.command == "alarm-status":
        st = await alarms.status(args.alarm)
        print(st.model_dump_json(indent=2) if args.json else render_status(st))
        return 0
    if args.command == "alarms":
        rows = await alarms.list(office=args.office, outcome=args.outcome, overdue=args.overdue, drill=args.drill,
                                 limit=args.limit)
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
            return 0
        for r in rows:
            kind = al.AlarmKind(r["kind"]).zh if r["kind"] else "-"
            outcome = al.AlarmOutcome(r["outcome"]).zh if r["outcome"] else "-"
            print(f"{r['workflow_id']}  {kind}  {r['office']}  {outcome}{'  超时' if r['overdue'] else ''}  {r['received_at']}")
        print(f"共 {len(rows)} 条", file=sys.stderr)
        return 0
    if args.command == "alarm-report":
        counts = await alarms.report(args.office, day=args.day, month=args.month, drill=args.drill)
        if args.csv:
            Path(args.csv).write_text(report_csv(counts), encoding="utf-8-sig")
            print(args.csv)
        elif args.json:
            print(counts.model_dump_json(indent=2))
        else:
            print(report_zh(counts))
        return 0
    raise AssertionError(args.command)


ALARM_COMMANDS = frozenset({"alarm-receive", "alarm-verify", "alarm-status", "alarms", "alarm-report"})
