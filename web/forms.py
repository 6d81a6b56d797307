"""Report forms generated from the report schemas (``plan/models.py``), and their validation.

Every report kind is a pydantic model; its fields become form controls (text, long text, yes/no,
number, a choice, several choices, one line per item, one input per command group). What the officer
submits is turned back into the report's JSON and validated by the same ``REPORT_ADAPTER`` the SDK
door uses; a bad field is named in Chinese with what is wrong, before anything reaches Temporal.
The incident's own refusal comes back from the ``submit_report`` update (``web/refusals.py``).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

from plan.agencies import Agency
from plan.labels import ReportKind
from plan.models import (
    REPORT_ADAPTER,
    CoordinationDepartment,
    PlanDecisionKind,
    Report,
    ReleaseAction,
)

#: The officer fills these in; ``kind``, ``actor`` (the signed-in person), ``report_id`` are set here.
HIDDEN = ("kind", "actor", "report_id", "at")

#: Field labels (ours: the board's wording of each schema field).
FIELD_ZH: dict[str, str] = {
    "designated_place": "指定地点",
    "designated_person": "指定人员",
    "current_situation": "目前状况",
    "measures_taken": "已采取的措施(每行一项)",
    "situation": "处置情况",
    "result": "处置结果",
    "found": "是否查找到下落",
    "methods": "查找方式",
    "risk_of_serious_incident": "是否可能发生(一)(二)(三)项情形",
    "urgent": "是否紧急",
    "decision": "决定",
    "need": "法律服务需求",
    "outcome": "结果",
    "summary": "情况概述",
    "commander": "现场指挥",
    "groups": "各工作组负责人",
    "action": "操作",
    "content": "发布内容",
    "department": "审核职能部门",
    "course": "事件经过",
    "cause": "原因",
    "lessons": "经验教训",
    "improvements": "改进措施",
    "step": "通知事项",
    "recipient": "通知对象",
    "situations": "可能发生的情形",
    "grounds": "依据",
    "claim": "诉求序号",
    "studied_by": "研究处理单位",
    "findings": "检查或调查情况",
    "departments": "职能部门",
    "request": "协调事项",
    "injured": "受伤人数",
    "dead": "死亡人数",
    "complied": "是否服从劝离或制止",
    "call_police": "是否向公安110报警",
    "equipment_used": "是否使用防护器械",
    "crime_suspected": "是否涉嫌违法犯罪",
    "claims": "诉求(每行一项)",
    "reason": "理由",
    "verified": "是否已核实",
    "subject_died": "对象是否死亡",
    "site_inspected": "是否已检查现场设施",
    "reached": "是否联系上",
    "health": "健康状况",
    "substantiated": "投诉是否属实",
    "granted": "是否给予法律援助",
    "measures": "安置帮教措施(每行一项)",
    "note": "备注",
    "duty": "任务编号",
    "counterpart": "对方(单位、姓名)",
    "agreed": "商定事项",
}

_ENUM_ZH: dict[type[Enum], dict[Any, str]] = {
    PlanDecisionKind: {PlanDecisionKind.ACTIVATE: "启动预案", PlanDecisionKind.TERMINATE: "终止预案"},
    ReleaseAction: {ReleaseAction.DRAFT: "起草", ReleaseAction.APPROVE: "审核通过", ReleaseAction.REJECT: "审核不通过",
                    ReleaseAction.PUBLISH: "发布", ReleaseAction.WITHDRAW: "撤回"},
}


def enum_label(value: Enum) -> str:
    table = _ENUM_ZH.get(type(value), {})
    if value in table:
        return table[value]
    if isinstance(value, CoordinationDepartment):
        try:
            return Agency(value.value).zh
        except ValueError:
            pass
    label = getattr(value, "zh", "")
    return label if isinstance(label, str) and label else str(value.value)


@dataclass
class Control:
    name: str
    label: str
    widget: str
    """text, textarea, lines (one item a line), bool, number, select, checkboxes, groups, datetime."""
    required: bool
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None
    error: str = ""
    max_length: int | None = None


@dataclass
class ReportForm:
    kind: str
    title: str
    controls: list[Control]
    error: str = ""
    """The incident's refusal, or a summary of the field errors (Chinese)."""


def report_models() -> dict[str, type[BaseModel]]:
    members = typing.get_args(typing.get_args(Report)[0])
    return {typing.get_args(m.model_fields["kind"].annotation)[0]: m for m in members}


MODELS = report_models()


def _strip_optional(annotation: Any) -> Any:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _base(annotation: Any) -> Any:
    annotation = _strip_optional(annotation)
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _max_length(info: Any) -> int | None:
    for meta in getattr(info, "metadata", []):
        if hasattr(meta, "max_length"):
            return int(meta.max_length)
    return None


def controls_of(kind: str) -> list[Control]:
    model = MODELS[kind]
    out: list[Control] = []
    for name, info in model.model_fields.items():
        if name in HIDDEN:
            continue
        ann = _base(info.annotation)
        origin = typing.get_origin(ann)
        label = FIELD_ZH.get(name, name)
        required = info.is_required()
        if ann is bool:
            ctl = Control(name, label, "bool", required, [("true", "是"), ("false", "否")],
                          value=None if info.default is None or required else ("true" if info.default else "false"))
        elif ann is int:
            ctl = Control(name, label, "number", required, value=None if required else info.default)
        elif isinstance(ann, type) and issubclass(ann, Enum):
            ctl = Control(name, label, "select", required, [(m.value, enum_label(m)) for m in ann])
        elif origin is list:
            item = _base(typing.get_args(ann)[0])
            if isinstance(item, type) and issubclass(item, Enum):
                ctl = Control(name, label, "checkboxes", required, [(m.value, enum_label(m)) for m in item])
            else:
                ctl = Control(name, label, "lines", required)
        elif origin is dict:
            key = typing.get_args(ann)[0]
            ctl = Control(name, label, "groups", required, [(m.value, enum_label(m)) for m in key])
        elif ann is datetime:
            ctl = Control(name, label, "datetime", required)
        else:
            max_len = _max_length(info) or 2000
            ctl = Control(name, label, "textarea" if max_len > 200 else "text", required, max_length=max_len)
        out.append(ctl)
    return sorted(out, key=lambda c: c.name == "note")  # the optional note last


def blank_form(kind: str) -> ReportForm:
    return ReportForm(kind, ReportKind.zh_of(kind), controls_of(kind))


_ERROR_ZH = {
    "missing": "必填",
    "string_too_short": "必填",
    "too_short": "至少选择或填写一项",
    "bool_type": "请选择“是”或“否”",
    "bool_parsing": "请选择“是”或“否”",
    "int_parsing": "请填写整数",
    "int_type": "请填写整数",
    "enum": "请从选项中选择",
    "literal_error": "请从选项中选择",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "string_pattern_mismatch": "格式不正确",
}


def error_zh(err: dict[str, Any]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "string_too_long":
        return f"不能超过 {ctx.get('max_length')} 个字"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项"
    if kind == "value_error" and "invisible or control character" in err.get("msg", ""):
        return "含有不可见字符或控制字符,请删除"
    template = _ERROR_ZH.get(kind)
    if template:
        return template.format(**{k: v for k, v in ctx.items() if isinstance(v, (int, float, str))})
    return "填写有误"


def parse_form(kind: str, data: Any, actor: str, report_id: str) -> tuple[Report | None, ReportForm]:
    """The report from a submitted form (``data`` a multidict), or None and the form with each bad
    field marked in Chinese."""
    form = blank_form(kind)
    raw: dict[str, Any] = {"kind": kind, "actor": actor, "report_id": report_id}
    for ctl in form.controls:
        if ctl.widget == "checkboxes":
            values = [v for v in data.getall(ctl.name, []) if v]
            ctl.value = values
            if values or ctl.required:
                raw[ctl.name] = values
        elif ctl.widget == "groups":
            groups = {k: (data.get(f"{ctl.name}.{k}") or "").strip() for k, _ in ctl.choices}
            ctl.value = groups
            raw[ctl.name] = {k: v for k, v in groups.items() if v}
        else:
            text = (data.get(ctl.name) or "").strip()
            ctl.value = text
            if not text:
                continue
            if ctl.widget == "lines":
                raw[ctl.name] = [line.strip() for line in text.splitlines() if line.strip()]
            elif ctl.widget == "bool":
                raw[ctl.name] = {"true": True, "false": False}.get(text, text)
            elif ctl.widget == "number":
                try:
                    raw[ctl.name] = int(text)
                except ValueError:
                    raw[ctl.name] = text
            else:
                raw[ctl.name] = text
    try:
        return REPORT_ADAPTER.validate_python(raw), form
    except ValidationError as err:
        by_name = {c.name: c for c in form.controls}
        problems = []
        for e in err.errors():
            loc = [str(p) for p in e["loc"] if str(p) != kind]
            name = loc[0] if loc else ""
            target = by_name.get(name)
            text = error_zh(dict(e))
            if target is not None and not target.error:
                target.error = text
            problems.append(f"{target.label if target else name or '报告'}:{text}")
        form.error = "报告填写有误:" + ";".join(problems[:5])
        return None, form
