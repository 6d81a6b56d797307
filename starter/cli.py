"""The duty officers' command line: ``python -m starter``.

    python -m starter catalogue [--json]
    python -m starter start examples/C4.json
    python -m starter report ID search_result --actor 东城司法所 --set found=false --set methods='["phone"]'
    python -m starter report ID --json '{"kind": "arrived", "actor": "东城司法所"}'
    python -m starter status ID [--json]
    python -m starter accountability ID [--json]
    python -m starter accountability --office 东城司法所 --person 孙立新 --since 2026-11-01 --csv register.csv
    python -m starter list --office 东城司法所 --flow urgent --status open --missed
    python -m starter show ID                                  # deadlines as countdowns, timeline
    python -m starter render ID --format pdf --out report.pdf  # 书面报告 / 事后总结 / 演练总结
    python -m starter export ID --format csv --out timeline.csv
    python -m starter setup-search-attributes                  # once per namespace (real cluster)
    python -m starter drill-schedule --every 365d --type C4    # 000 §6.2, 001 §7(2)
    python -m starter warn examples/warnings/huangyan-L1.json  # 预警 (000 §4.1, 001 §7(1)): starter/warnings_cli.py

Connection settings are the worker's (``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``, profiles,
``TEMPORAL_TASK_QUEUE``). Exit codes: 0 done, 2 refused input or report (the message says which
field and why), 1 Temporal not reachable or another failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import typing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.envconfig import ClientConfig
from temporalio.service import RPCError
from wcwidth import wcswidth

from infra import search_attributes as sa
from infra.codec import CodecConfigError
from infra.settings import connect_config, task_queue
from plan.models import (
    AccountabilityRecord,
    Duty,
    DeadlineStatus,
    EpidemicScenario,
    Flow,
    IncidentPhase,
    IncidentStatus,
    IncidentType,
    Report,
)
from plan.labels import (
    ExecutionStatus,
    ReleaseState,
    ReportKind,
    ZhEnum,
    codes_in_text_zh,
    kind_zh,
    refusal_zh,
    waiting_zh,
)
from plan.roster import CST
from plan.texts import DUTY_FORM_ZH, accountability_summary, fmt_time
from starter.alarm_cli import ALARM_COMMANDS, add_alarm_parsers, run_alarm_command
from starter.render import FontMissing
from starter.api import (
    ABNORMAL,
    IncidentClient,
    IncidentEnded,
    InvalidInput,
    ReportRefused,
    parse_incident,
    parse_report,
)
from workflows import INCIDENT_WORKFLOWS, workflow_type_name
from workflows.drill import DRILL_WORKFLOW_TYPE
from starter.warnings_cli import WARNING_COMMANDS, add_warning_parsers

ROOT = Path(__file__).resolve().parent.parent
ABNORMAL_NAMES = frozenset(s.name for s in ABNORMAL)


class CliError(Exception):
    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def catalogue() -> list[dict[str, Any]]:
    """One entry per incident type (``catalogue --json``): workflow type, clause, the clause's own
    report kinds, a working example input; C9 also lists its four scenarios (001 §4(9)); ``bureaus``:
    the shipped bureaus whose adopted plans run it, each with its own example (issue 17)."""
    from plan.bureaus import profile, shipped_ids

    profiles = [profile(b) for b in shipped_ids()]
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
            "bureaus": [
                {"id": p.id, "name_zh": p.name_zh, "namespace": p.namespace,
                 "example": f"examples/{p.id}/{'C9-S1' if t is IncidentType.C9 else t.value}.json"}
                for p in profiles if p.runs(t.value)
            ],
        }
        if t is IncidentType.C9:
            entry["scenarios"] = [
                {"id": sc.value, "title_zh": sc.zh, "example": f"examples/C9-{sc.value}.json"}
                for sc in EpidemicScenario
            ]
            entry["example"] = entry["scenarios"][0]["example"]
        entries.append(entry)
    return entries


def _order(type_id: str) -> tuple[int, int]:
    """L1..L4 (000) first, then C1..C11 (001)."""
    return (0 if type_id.startswith("L") else 1, int(type_id[1:]))


_LIST_SPLIT = re.compile(r"\s*[,,、]\s*")


def _report_fields(kind: str) -> dict[str, Any]:
    """The fields (name → annotation) of the report kind ``kind``, or {} for an unknown kind."""
    for model in typing.get_args(typing.get_args(Report)[0]):
        if model.model_fields["kind"].annotation.__args__[0] == kind:
            return {n: f.annotation for n, f in model.model_fields.items() if n != "kind"}
    return {}


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) is list


def _is_text(annotation: Any) -> bool:
    return annotation is str or (isinstance(annotation, type) and issubclass(annotation, str))


def _list_items(text: str) -> list[Any]:
    """``a,b`` / ``a,b`` / ``[a, b]`` / a JSON list → the items."""
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, list):
        return value
    inner = text.strip()
    if inner.startswith("[") and inner.endswith("]"):
        inner = inner[1:-1]
    return [item.strip().strip("\"'") for item in _LIST_SPLIT.split(inner) if item.strip().strip("\"'")]


def _scalar(text: str, annotation: Any) -> Any:
    """A --set value for one field: text fields as written; others JSON (true, 3, {...}) or 是/否."""
    if _is_text(annotation):
        return text
    if annotation is bool and text in ("是", "否"):
        return text == "是"
    try:
        return json.loads(text)
    except ValueError:
        return text


def build_report(args: argparse.Namespace) -> dict[str, Any]:
    if args.json:
        try:
            report = json.loads(args.json)
        except json.JSONDecodeError as err:
            raise CliError(f"--json:不是有效的 JSON({err.msg},第 {err.colno} 列)") from None
        if not isinstance(report, dict):
            raise CliError("--json:应为 JSON 对象({...})")
    else:
        report = {}
    if args.kind:
        report["kind"] = args.kind
    if args.actor:
        report["actor"] = args.actor
    if args.note:
        report["note"] = args.note
    if "kind" not in report:
        raise CliError("report:请给出报告种类(如 arrived 到场报告、progress 处置进展、closed 处置完毕报告)")
    kind = str(report["kind"])
    fields = _report_fields(kind)
    if not fields:
        raise CliError(f"report:{kind!r} 不是报告种类(可选:{', '.join(sorted(ReportKind))})")
    for item in args.set or []:
        key, sep, val = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CliError(f"--set {item!r}:应为 字段=值")
        if key not in fields:
            raise CliError(f"--set {key}:{kind_zh(kind)}({kind})没有此字段(可用:{', '.join(sorted(fields))})")
        if _is_list(fields[key]):
            report.setdefault(key, [])
            if not isinstance(report[key], list):
                report[key] = [report[key]]
            report[key] += _list_items(val)  # --set measures_taken=a,b or repeated --set
        else:
            report[key] = _scalar(val, fields[key])
    return report


def _table(rows: list[list[str]], indent: str = "  ", gap: str = "  ") -> list[str]:
    """Rows as columns aligned by display width (CJK characters are two columns wide); the last
    column is not padded."""
    if not rows:
        return []
    widths = [max(wcswidth(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return [(indent + gap.join([*(cell + " " * (w - wcswidth(cell)) for cell, w in zip(r, widths)), r[-1]])).rstrip()
            for r in rows]


def render_status(st: IncidentStatus, countdowns: bool = False) -> str:
    from starter.render import countdown

    now = datetime.now(UTC)
    lines = [
        f"{st.workflow_id}  {st.incident_type.value} {st.title_zh}(依据 {st.clause})",
        f"状态:{st.phase.zh}{'  【演练】' if st.drill else ''}   流程:{st.flow.zh}",
        f"等待:{'、'.join(waiting_zh(w) for w in st.waiting_for) or '无'}",
    ]
    lines += render_duties(st.duties, now)
    if st.plan_active:
        lines.append("预案:领导小组已决定启动(000 §2.1)")
    if st.command:
        lines.append("现场指挥部:" + ";".join(f"{k}:{v}" for k, v in st.command.items()))
    if st.release != "none":
        lines.append(f"信息发布:{ReleaseState.zh_of(st.release)}(001 §5(3))")
    if st.related:
        lines.append("关联事件:" + "、".join(st.related))
    if st.run > 1:
        lines.append(f"运行:第 {st.run} 段(已续跑,记录完整)")
    lines.append("时限:")
    rows = []
    for d in st.deadlines:
        left = countdown(d.due_at, now) if d.status is DeadlineStatus.PENDING else ""
        rows.append([d.title_zh, d.status.zh, f"{fmt_time(d.due_at)} 到期", left,
                     f"依据 {d.clause}"])
    lines += _table(rows) or ["  无"]
    lines.append("记录:")
    lines += _table([[f"{e.seq}.", fmt_time(e.at), e.kind.zh, f"{e.actor}:{codes_in_text_zh(e.text_zh)}(依据 {e.clause})"]
                     for e in st.timeline])
    return "\n".join(lines)


def render_duties(duties: list[Duty], now: datetime) -> list[str]:
    """Open duties of people first (issue 16): who, what, by when, how long left."""
    from starter.render import countdown

    if not duties:
        return ["待办值班任务:无"]
    rows = [[d.person_zh or "-", f"{DUTY_FORM_ZH[d.form.value]}:{d.title_zh}"
             + (f"(联系 {d.counterpart_zh} {d.counterpart_phone or ''})".replace(" )", ")") if d.counterpart_zh else ""),
             f"{fmt_time(d.due_at)} 前", countdown(d.due_at, now),
             ("已督办:" + "、".join(a.zh for a in d.escalated_to)) if d.escalated_to else "",
             f"任务 {d.id} · 确认报告 {kind_zh(d.by_report) + '/' if d.by_report else ''}{d.evidence}"] for d in duties]
    return ["待办值班任务:", *_table(rows)]


def render_accountability(acc: AccountabilityRecord) -> str:
    """001 §7(4): every required report, its due time and whether it was on time, late or missing."""
    lines = [f"{acc.workflow_id}  {acc.incident_type.value}  {accountability_summary(acc.obligations)}"]
    rows = []
    for o in acc.obligations:
        done = f"{fmt_time(o.done_at)} 完成({o.how})" if o.done_at else ""
        stated = f"申报 {fmt_time(o.stated_at)}" if o.stated_at else ""
        rows.append([o.status.zh, o.person or "系统", o.title_zh, f"{fmt_time(o.due_at)} 到期",
                     done, stated, f"依据 {o.clause}"])
    lines += _table(rows)
    lines += [f"  ⚠ 待核查:{o.person}:{o.title_zh}:{i}" for o in acc.obligations for i in o.indicators]
    return "\n".join(lines)


async def _run(args: argparse.Namespace) -> int:
    if args.command == "list" and args.print_query:
        print(list_query(args))
        return 0
    if args.command == "setup-search-attributes":
        # No payload is read or written: registering attributes needs no codec keys (compose's
        # search-attributes job has none).
        from temporalio.converter import DataConverter

        return await setup_search_attributes(await _connect(args, data_converter=DataConverter.default), args)
    if args.command == "catalogue":
        entries = catalogue()
        if args.json:
            print(json.dumps(entries, ensure_ascii=False, indent=2))
        else:
            rows = _table([[e["id"], e["title_zh"], e["clause"], e["workflow_type"],
                            "、".join(b["name_zh"] for b in e["bureaus"]) or "-",
                            " ".join(b["example"] for b in e["bureaus"]) or e["example"]] for e in entries],
                          indent="")
            for e, row in zip(entries, rows):
                print(row)
                for sc in e.get("scenarios", []):
                    print(f"     {sc['id']} {sc['title_zh']}({sc['example']})")
        return 0

    if args.command in WARNING_COMMANDS:  # issue 20: warnings and screening (starter/warnings_cli.py)
        return await WARNING_COMMANDS[args.command](args, lambda: _connect(args))
    if args.command == "start":
        text = read_utf8(args.file)
        try:
            json.loads(text)
        except json.JSONDecodeError as err:
            raise CliError(f"{args.file}:第 {err.lineno} 行不是有效的 JSON(not valid JSON: {err.msg})") from None
        incident = parse_incident(text)  # refused here, before anything reaches Temporal
        client = await _connect(args)
        started = await client.start(incident, workflow_id=args.id)
        if started.already_started:
            print(f"该警情的事件已在处置中,未重复启动:{started.workflow_id}", file=sys.stderr)
        print(started.workflow_id)
        return 0

    if args.command == "alarm-server":
        return await _alarm_server(args)
    if args.command == "report":
        report = parse_report(build_report(args))
    client = await _connect(args)
    if args.command in ALARM_COMMANDS:  # issue 20: platform alarms (starter/alarm_cli.py)
        return await run_alarm_command(client, args)
    if args.command == "report":
        if args.signal:
            await client.signal_report(args.workflow_id, report)
            print("已发送(信号);如未受理,原因记入事件记录")
        else:
            receipt = await client.report(args.workflow_id, report)
            print(receipt.message_zh)
        return 0
    if args.command == "status":
        st = await status_or_ended(client, args)
        print(st.model_dump_json(indent=2) if args.json else render_status(st))
        return 0
    if args.command in OPERATOR_COMMANDS:
        return await OPERATOR_COMMANDS[args.command](client, args)
    if args.command == "accountability" and not args.workflow_id:
        return await cmd_accountability_all(client, args)
    if args.command == "accountability":
        acc = await client.accountability(args.workflow_id)
        print(acc.model_dump_json(indent=2) if args.json else render_accountability(acc))
        return 0
    raise CliError(f"未知命令 {args.command}")


async def _alarm_server(args: argparse.Namespace) -> int:
    from starter.alarm_server import SecretError, serve

    try:
        await serve(bureau=bureau_of(args), **connection_overrides(args))
    except SecretError as err:
        raise CliError(str(err)) from None
    return 0


def connection_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """``--profile`` / ``--address`` / ``--namespace`` as ``infra.settings.connect`` overrides: the
    profile is read the way the SDK's environment configuration reads ``TEMPORAL_PROFILE`` (the
    ``TEMPORAL_*`` variables still override its values), then the two flags override both."""
    overrides: dict[str, Any] = {}
    if getattr(args, "profile", None):
        try:
            overrides.update(ClientConfig.load_client_connect_config(profile=args.profile))
        except Exception as err:  # the bridge's ConfigError: no such profile or file
            raise CliError(f"--profile {args.profile}:{err}") from None
    if getattr(args, "address", None):
        overrides["target_host"] = args.address
    if getattr(args, "namespace", None):
        overrides["namespace"] = args.namespace
    return overrides


def bureau_of(args: argparse.Namespace) -> str | None:
    """``--bureau`` (or ``EMERGENCY_BUREAU``): the bureau's namespace and keys (issue 17); an unknown
    bureau is one line naming the known ones."""
    from plan.bureaus import BureauError, load_profile, profile_path

    bureau = getattr(args, "bureau", None) or os.environ.get("EMERGENCY_BUREAU") or None
    if bureau:
        try:
            load_profile(profile_path(bureau))
        except BureauError as err:
            raise CliError(str(err)) from None
    return bureau


async def _connect(args: argparse.Namespace, **extra: Any) -> IncidentClient:
    overrides = {**connection_overrides(args), **extra}
    bureau = bureau_of(args)
    try:
        return await IncidentClient.connect(bureau=bureau, **overrides)  # an explicit --namespace wins
    except RuntimeError as err:
        target = overrides.get("target_host") or connect_config()["target_host"]
        raise CliError(
            f"无法连接 Temporal {target}(检查 --address / TEMPORAL_ADDRESS / --profile):{err}", code=1
        ) from None


class _Parser(argparse.ArgumentParser):
    """argparse with its refusals as one line (no usage dump), naming the option to fix."""

    def error(self, message: str) -> typing.NoReturn:
        message = re.sub(r"^argument (\S+): ", r"\1 ", message)
        for en, zh in _ARGPARSE_ZH:
            message = message.replace(en, zh)
        self.exit(2, f"错误:{message}(见 {self.prog} --help)\n")


_ARGPARSE_ZH = (
    ("the following arguments are required:", "缺少参数:"),
    ("unrecognized arguments:", "无法识别的参数:"),
    ("invalid choice:", "无效的选项:"),
    ("choose from", "可选"),
    ("expected one argument", "缺少取值"),
    ("not allowed with argument", "不能同时使用"),
)


def _connection_flags(p: argparse.ArgumentParser, top: bool) -> None:
    # On the top parser and on every command, so both `starter --address X list` and
    # `starter list --address X` work (SUPPRESS keeps a command's absent flag from hiding the top one).
    default = None if top else argparse.SUPPRESS
    g = p.add_argument_group("connection (default: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_PROFILE)")
    g.add_argument("--address", default=default, help="frontend host:port, e.g. temporal.example:7233")
    g.add_argument("--namespace", default=default, help="namespace")
    g.add_argument("--profile", default=default, help="client configuration profile (TEMPORAL_CONFIG_FILE)")
    g.add_argument("--bureau", default=default,
                   help="the bureau (config/bureaus/<id>.json: huangyan, gongshu): its namespace and codec keys "
                        "(default: EMERGENCY_BUREAU)")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m starter", description="Emergency incidents (应急预案) for duty officers.")
    _connection_flags(p, top=True)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
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
    r.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="a report field; list fields take a,b or a repeated --set (JSON values allowed)")
    r.add_argument("--json", help="the whole report as JSON")
    r.add_argument("--signal", action="store_true", help="send as a signal (fire-and-forget)")
    st = sub.add_parser("status", help="state, pending deadlines with due times, timeline")
    st.add_argument("workflow_id")
    st.add_argument("--json", action="store_true")
    a = sub.add_parser("accountability", help="required reports: on time, late (迟报), missing (漏报) (001 §7(4))")
    a.add_argument("workflow_id", nargs="?", help="one incident; omitted: across incidents (the filters below)")
    a.add_argument("--office", type=_place("--office"), help="incidents of this justice office, e.g. 东城司法所")
    a.add_argument("--person", help="rows of this responsible person (part of the name, e.g. 孙立新)")
    a.add_argument("--since", type=_when("--since"), help="rows due at or after (2026-11-23 or an ISO time)")
    a.add_argument("--until", type=_when("--until"), help="rows due before (2026-11-24 or an ISO time)")
    a.add_argument("--csv", metavar="FILE", help="write the rows as CSV (UTF-8 with BOM, opens in Excel)")
    a.add_argument("--limit", type=_positive("--limit"), default=None)
    a.add_argument("--json", action="store_true")
    add_operator_parsers(sub)
    add_warning_parsers(sub)  # issue 20
    add_alarm_parsers(sub, _place("--office"))
    for command in sub.choices.values():
        _connection_flags(command, top=False)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
        code = asyncio.run(_run(args))
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        # The reader went away (`python -m starter list | head`): stop quietly. Point stdout at
        # /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ReportRefused as err:
        print(f"错误:{refusal_zh(str(err))}", file=sys.stderr)
        return 2
    except InvalidInput as err:
        print(f"错误:{_invalid_zh(str(err))}", file=sys.stderr)
        return 2
    except IncidentEnded as err:
        print(f"错误:{ended_zh(err)}", file=sys.stderr)
        return 3
    except CliError as err:
        print(f"错误:{err}", file=sys.stderr)
        return err.code
    except CodecConfigError as err:  # a bad key file: configuration, not a crash
        print(f"错误:加密密钥配置:{err}", file=sys.stderr)
        return 2
    except FontMissing as err:  # no embeddable CJK font: names the package or the file
        print(f"错误:{err}", file=sys.stderr)
        return 2
    except RPCError as err:
        print(f"错误:Temporal:{err.message}", file=sys.stderr)
        return 1
    except RuntimeError as err:  # connection failures
        print(f"错误:{err}", file=sys.stderr)
        return 1
    except (KeyError, ValueError, TypeError) as err:  # a payload this process cannot decrypt: one line
        from starter.api import unreadable_payload

        unreadable = unreadable_payload(err)
        if unreadable is None:
            raise
        print(f"error: {unreadable}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def read_utf8(path: str | Path) -> str:
    """A file an officer names, as UTF-8 text; one clear line naming the file otherwise."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise CliError(f"{path}:不是 UTF-8 编码的文本(第 {err.start} 字节;GBK 等编码请另存为 UTF-8)") from None
    except OSError as err:
        raise CliError(f"{path}:无法读取({err.strerror})") from None


def ended_zh(err: IncidentEnded) -> str:
    """What an officer reads about an incident whose run ended abnormally (with the server's reason)."""
    state = ExecutionStatus.zh_of(err.status)
    why = f",原因:{err.reason}" if err.reason else ""
    return (f"事件 {err.workflow_id} 已异常结束({state}{why}),系统不再跟踪其时限和通知;"
            "请立即人工处置并报告区司法局应急办公室")


def _invalid_zh(message: str) -> str:
    """``invalid incident input: place: Field required`` → 事件输入有误:place: Field required (the
    field's name stays as the JSON has it: that is what the officer fixes)."""
    for code, zh in (("invalid incident input: ", "事件输入有误:"), ("invalid report: ", "报告内容有误:"),
                     ("invalid warning input: ", "预警输入有误:")):
        if message.startswith(code):
            return zh + message.removeprefix(code)
    return message


# ---------------------------------------------------------------------- the operators' door (issue 5)


def progress(message: str) -> None:
    """Progress of a long operation, on stderr (stdout stays the result)."""
    print(f"… {message}", file=sys.stderr, flush=True)


def _duration(text: str, name: str) -> timedelta:
    """``365d``, ``24h``, ``30m``, ``90s``."""
    units = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit() or int(text[:-1]) <= 0:
        raise CliError(f"{name}:{text!r} 不是时长(如 365d、24h、30m)")
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


async def status_or_ended(client: IncidentClient, args: argparse.Namespace) -> IncidentStatus:
    """The status, or (an incident ended abnormally) the truth: ``--json`` prints
    ``{"workflow_id", "execution_status", "reason"}``; both exit 3."""
    try:
        return await client.status(args.workflow_id)
    except IncidentEnded as err:
        if args.json:
            print(json.dumps({"workflow_id": err.workflow_id, "execution_status": err.status,
                              "reason": err.reason}, ensure_ascii=False, indent=2))
        raise


async def cmd_list(client: IncidentClient, args: argparse.Namespace) -> int:
    """Incidents matching the filters, newest first, read page by page with progress."""
    query = list_query(args)
    if args.print_query:
        print(query)
        return 0
    progress(f"查询条件:{query}")
    rows: list[dict[str, Any]] = []
    try:
        async for wf in client.client.list_workflows(query, page_size=args.page_size, limit=args.limit):
            attrs = wf.typed_search_attributes
            rows.append({
                "workflow_id": wf.id,
                "workflow_type": wf.workflow_type,
                "execution_status": wf.status.name if wf.status else "",
                "ended_abnormally": wf.status in ABNORMAL,
                **{k.name: _jsonable(attrs.get(k)) for k in sa.ALL_KEYS},
            })
            if len(rows) % args.page_size == 0:
                progress(f"已读取 {len(rows)} 条")
    except RPCError as err:
        raise CliError(f"list:Temporal 拒绝了查询({err.message});检索属性是否已注册?"
                       "请运行 python -m starter setup-search-attributes", code=1) from None
    progress(f"共 {len(rows)} 条")
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    titles = {t.value: wf.TITLE_ZH for t, wf in INCIDENT_WORKFLOWS.items()}
    table = []
    for r in rows:
        flags = "、".join(f for f, on in (("超时", r["IncidentDeadlineMissed"]), ("演练", r["IncidentDrill"])) if on)
        occurred = r["IncidentOccurredAt"]
        phase, flow = r["IncidentPhase"], r["IncidentFlow"]
        table.append([
            r["workflow_id"], f"{r['IncidentType'] or '-'} {titles.get(r['IncidentType'] or '', '')}",
            # an incident whose run ended abnormally is not "处置中", whatever its last attribute says
            ExecutionStatus(r["execution_status"]).zh if r["execution_status"] in ABNORMAL_NAMES
            else IncidentPhase(phase).zh if phase in set(IncidentPhase) else (phase or "-"),
            Flow(flow).zh if flow in set(Flow) else (flow or "-"),
            f"{r['IncidentCounty'] or ''}{r['IncidentJusticeOffice'] or ''}" or "-",
            fmt_time(datetime.fromisoformat(occurred)) if occurred else "-",
            ExecutionStatus.zh_of(r["execution_status"]),
            flags,
        ])
    print("\n".join(_table(table, indent="")))
    return 0


def _when(flag: str) -> Any:
    def parse(text: str) -> datetime:
        try:
            at = datetime.fromisoformat(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} 不是日期或时间(如 2026-11-23 或 2026-11-23T08:30+08:00)") from None
        return at if at.tzinfo else at.replace(tzinfo=CST)

    return parse


async def cmd_accountability_all(client: IncidentClient, args: argparse.Namespace) -> int:
    """001 §7(4) across incidents: the register's rows per responsible person (visibility list, then
    each incident's ``accountability`` query), filtered by office, person and due time; CSV export."""
    from starter.export import accountability_csv, accountability_rows

    # incidents, warnings, screening periods and platform alarms (issue 20: each owes duties in the register)
    query = f"({sa.register_query(justice_office=args.office)}) OR ({sa.alarm_query(justice_office=args.office)})"
    progress(f"查询条件:{query}")
    records = []
    try:
        async for wf in client.client.list_workflows(query, limit=args.limit):
            if wf.workflow_type == DRILL_WORKFLOW_TYPE:
                continue
            try:
                records.append(await client.accountability(wf.id))
            except Exception as err:  # an incident refused at the start has no register
                progress(f"{wf.id}:无法读取责任记录({type(err).__name__}),已跳过")
    except RPCError as err:
        raise CliError(f"accountability:Temporal 拒绝了查询({err.message});检索属性是否已注册?"
                       "请运行 python -m starter setup-search-attributes", code=1) from None
    rows = accountability_rows(records, person=args.person, since=args.since, until=args.until)
    progress(f"{len(records)} 起事件,{len(rows)} 条记录")
    if args.csv:
        Path(args.csv).write_text(accountability_csv(rows), encoding="utf-8-sig")
        print(args.csv)
        return 0
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    table = [[r["person"], r["status_zh"], r["title_zh"], f"{r['due_zh']} 到期", r["done_zh"] and f"{r['done_zh']} 收到",
              r["stated_zh"] and f"申报 {r['stated_zh']}", r["workflow_id"]] for r in rows]
    print("\n".join(_table(table, indent="")) or "无记录")
    for r in rows:
        for i in r["indicators"]:
            print(f"⚠ 待核查:{r['person']}:{r['title_zh']}({r['workflow_id']}):{i}")
    return 0


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def cmd_show(client: IncidentClient, args: argparse.Namespace) -> int:
    """One incident: state, deadlines as countdowns (剩余 / 已超时), timeline."""
    st = await status_or_ended(client, args)
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
            raise CliError(f"{workflow_id}:演练尚未结束(进度见 show),结束后再生成报告")
        drill = await client.client.get_workflow_handle(workflow_id, result_type=DrillOutcome).result()
        return [t for t in (drill.summary_zh, drill.written_report_zh) if t]
    if desc.status is WorkflowExecutionStatus.COMPLETED:
        out = await client.client.get_workflow_handle(workflow_id, result_type=IncidentOutcome).result()
        return [t for t in (out.written_report_zh, out.review_report_zh) if t]
    if desc.status is not WorkflowExecutionStatus.RUNNING:
        state = ExecutionStatus.zh_of(desc.status.name) if desc.status else "状态不明"
        raise CliError(f"{workflow_id}:{state},没有可生成的报告")
    st = await client.status(workflow_id)
    sent = [e for e in st.timeline if e.kind is EntryKind.NOTIFICATION and e.step == "written-report"]
    if sent:
        return [sent[0].text_zh.split(":", 1)[1]]
    attrs = desc.typed_search_attributes
    county, office = attrs.get(sa.INCIDENT_COUNTY), attrs.get(sa.INCIDENT_JUSTICE_OFFICE)
    return [progress_report(st, unit=f"{county}司法局({office})" if county and office else "")]


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
            raise CliError("render --format pdf:请用 --out 文件名 指定输出文件")
        progress("生成 PDF")
        to_pdf(texts, out, subject=args.workflow_id, header=letterhead(args))
    if out is not None:
        progress(f"已写入 {out}")
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
        progress(f"已写入 {args.out}({len(st.timeline)} 条记录)")
        print(args.out)
    else:
        sys.stdout.write(text if args.format == "csv" else text + "\n")
    return 0


async def setup_search_attributes(client: IncidentClient, args: argparse.Namespace) -> int:
    """Register the incidents' search attributes in the namespace (idempotent)."""
    try:
        added, present = await sa.register(client.client)  # --namespace / TEMPORAL_NAMESPACE
    except ValueError as err:
        raise CliError(str(err), code=1) from None
    except RPCError as err:
        raise CliError(f"setup-search-attributes: Temporal: {err.message}", code=1) from None
    for name in added:
        print(f"已注册(added)   {name}")
    for name in present:
        print(f"已存在(present) {name}")
    return 0


def drill_plan(args: argparse.Namespace) -> Any:
    from workflows.drill import DrillPlan, DrillStep

    try:
        t = IncidentType(args.type)
    except ValueError:
        raise CliError(f"--type:{args.type!r} 不是事件类型(可选:{_TYPE_CHOICES};见 catalogue)") from None
    example = ROOT / "examples" / (f"{t.value}-S1.json" if t is IncidentType.C9 else f"{t.value}.json")
    incident = parse_incident(read_utf8(Path(args.input) if args.input else example))
    if incident.incident_type is not t:
        raise CliError(f"--input:其中的 incident_type 为 {incident.incident_type.value},与 --type {t.value} 不符")
    script: list[DrillStep] = []
    if args.script:
        try:
            raw = json.loads(read_utf8(args.script))
            script = [DrillStep.model_validate(s) for s in raw]
        except (OSError, ValueError) as err:
            raise CliError(f"--script:{err}") from None
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
        raise CliError(f"--every:{args.every} 少于每年一次;001 §7(2) 要求每年至少一次")
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
        print(f"已创建演练计划 {args.id}:每 {args.every} 一次,{plan.incident.incident_type.value} {plan.incident_title_zh}")
    except ScheduleAlreadyRunningError:
        await client.client.get_schedule_handle(args.id).update(lambda _inp: ScheduleUpdate(schedule=schedule))
        print(f"已更新演练计划 {args.id}:每 {args.every} 一次,{plan.incident.incident_type.value} {plan.incident_title_zh}")
    if args.trigger:
        await client.client.get_schedule_handle(args.id).trigger()
        print("已立即开始一次演练")
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
    ls.add_argument("--type", type=_incident_type, help=f"incident type id: {_TYPE_CHOICES}")
    ls.add_argument("--flow", type=_coded(Flow, "--flow"), help="urgent (紧急) / general (一般)")
    ls.add_argument("--county", type=_place("--county"), help="e.g. 黄岩区")
    ls.add_argument("--office", type=_place("--office"), help="justice office, e.g. 东城司法所")
    ls.add_argument("--status", type=_coded(IncidentPhase, "--status"),
                    help="open (处置中) / handled (处置完毕,待事后总结) / closed (已办结)")
    _tristate(ls, "missed", "only incidents with a missed deadline (--no-missed: none missed)")
    _tristate(ls, "drill", "only drills (--no-drill: only real incidents)")
    ls.add_argument("--running", action="store_true", help="only workflows still running")
    ls.add_argument("--limit", type=_positive("--limit"), default=None)
    ls.add_argument("--page-size", type=_positive("--page-size"), default=100)
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--print-query", action="store_true", help="print the visibility query (for the Web UI) and exit")
    sh = sub.add_parser("show", help="one incident: deadlines as countdowns, timeline")
    sh.add_argument("workflow_id")
    sh.add_argument("--json", action="store_true")
    rd = sub.add_parser("render", help="the written report (书面报告), review, or drill summary as md or pdf")
    rd.add_argument("workflow_id")
    rd.add_argument("--format", choices=["md", "pdf"], default="md")
    rd.add_argument("--out", help="output file (required for pdf)")
    rd.add_argument("--issuer", help="发文机关 (default: the report's 报告单位, e.g. 黄岩区司法局)")
    rd.add_argument("--doc-number", help="发文字号, e.g. 黄司报〔2026〕12号 (default: left blank to fill in)")
    rd.add_argument("--signer", help="签发人 (default: the incident's commander, 000 §4.2)")
    rd.add_argument("--to", help="主送机关 (default: from the report, e.g. 区社会应急联动指挥中心)")
    ex = sub.add_parser("export", help="the timeline for auditors, as json or csv")
    ex.add_argument("workflow_id")
    ex.add_argument("--format", choices=["json", "csv"], default="json")
    ex.add_argument("--out")
    su = sub.add_parser("setup-search-attributes", help="register the search attributes (idempotent)")
    dr = sub.add_parser("drill-schedule", help="create or update the drill programme schedule (000 §6.2, 001 §7(2))")
    dr.add_argument("--every", default="365d", help="interval, at most 365d (default 365d)")
    dr.add_argument("--type", default="C4", type=_incident_type, help="incident type of the drill (default C4)")
    dr.add_argument("--input", help="incident input JSON (default: examples/<type>.json)")
    dr.add_argument("--script", help="JSON list of {after: seconds or ISO duration, report: {...}}")
    dr.add_argument("--window", default="24h", help="how long the drill incident may run (default 24h)")
    dr.add_argument("--title", default="社区矫正突发事件应急演练")
    dr.add_argument("--id", default="drill-programme", help="schedule id")
    dr.add_argument("--trigger", action="store_true", help="also run one drill now")
    dr.add_argument("--no-search-attributes", dest="search_attributes", action="store_false",
                    help="for a namespace without the registered attributes")


# ---------------------------------------------------------------------- option values, checked at parse time

_TYPE_CHOICES = "、".join(sorted((t.value for t in IncidentType), key=_order))


def _incident_type(text: str) -> str:
    try:
        return IncidentType(text.strip().upper()).value
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} 不是事件类型(可选:{_TYPE_CHOICES})") from None


def _coded(enum: type[ZhEnum], flag: str) -> Any:
    """An enum option taking its code (urgent) or its Chinese label, whole or its first two
    characters (紧急处置流程, 紧急); passes on the code."""

    def parse(text: str) -> str:
        for member in enum:
            zh = member.zh
            if text in (member.value, zh, zh[:2]):
                return str(member.value)
        choices = "、".join(f"{m.value}({m.zh})" for m in enum)
        raise argparse.ArgumentTypeError(f"{text!r} 无效(可选:{choices})")

    return parse


def _place(flag: str) -> Any:
    def parse(text: str) -> str:
        if not text.strip() or any(c in text for c in "'\"\\"):
            raise argparse.ArgumentTypeError(f"{text!r} 无效(不能为空,不能含引号或反斜杠)")
        return text.strip()

    return parse


def _positive(flag: str) -> Any:
    def parse(text: str) -> int:
        if not text.isdigit() or int(text) <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} 应为正整数")
        return int(text)

    return parse


def letterhead(args: argparse.Namespace) -> Any:
    from starter.render import Letterhead

    return Letterhead(issuer=args.issuer, doc_number=args.doc_number, signer=args.signer, to=args.to)
