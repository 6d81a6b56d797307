"""Drills (演练): 000 §6.2 and 001 §7(2).

000 §6.2 (预案演练): 全区司法行政系统应制订各级应急预案演练计划,定期组织应对突发事件的演习。预案演习应从
实战出发,分准备、实施和总结三个阶段,内容包括应急联动、紧急集合、协同配合、现场救援、应急保障等。
001 §7(2): 要增强防范意识,区司法局每年应组织不少于一次的突发事件应急处置演练,提高应急处置能力。

(Both quoted verbatim from ../shared/seeds/; an earlier version of this docstring quoted words the
plans do not contain.)

A drill programme runs as a Temporal Schedule (``python -m starter drill-schedule --every 365d``);
each run is one :class:`DrillProgramme` workflow in three stages:

1. prepare — recorded, and the emergency office told that a drill begins (drill outbox);
2. run — a real incident workflow of the chosen type, in drill mode (``drill: true``), as a child;
   an optional script sends the officers' reports at set times, and officers may report to the
   drill incident themselves with ``python -m starter report``; the drill waits up to ``window``;
3. summarise — which deadlines were met and which missed, the accountability record, and a
   Chinese summary report sent to the emergency office and the leadership group, like any report.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import NotifyReceipt, NotifyRequest
    from infra import search_attributes as sa
    from plan import labels, texts
    from plan.agencies import Agency
    from plan.models import DeadlineStatus, IncidentInput, IncidentOutcome

CLAUSE = "000 §6.2、001 §7(2)"
DRILL_WORKFLOW_TYPE = "DrillProgramme"


class DrillStep(BaseModel):
    """One scripted report: sent ``after`` the previous step (or the incident's start)."""

    model_config = ConfigDict(extra="forbid")
    after: timedelta = timedelta(0)
    report: dict[str, Any]


class DrillPlan(BaseModel):
    """What one drill runs (the schedule's action input)."""

    model_config = ConfigDict(extra="forbid")
    title_zh: str = "社区矫正突发事件应急演练"
    workflow_type: str = Field(min_length=1)
    """The incident workflow type, e.g. ``C4AbscondFromSupervision`` (see ``starter catalogue``)."""
    incident_title_zh: str = ""
    incident: IncidentInput
    """The drill's incident (an example input); ``drill`` is forced to true."""
    script: list[DrillStep] = Field(default_factory=list)
    window: timedelta = timedelta(days=1)
    """How long the drill incident may run before the drill is summarised without it."""


class DrillStage(BaseModel):
    at: datetime
    stage: str
    text_zh: str


class DrillOutcome(BaseModel):
    workflow_id: str
    incident_workflow_id: str
    incident_type: str
    completed: bool
    """The drill incident was closed within the window."""
    met: list[str]
    missed: list[str]
    accountability_zh: str = ""
    summary_zh: str
    written_report_zh: str = ""
    stages: list[DrillStage]


def summary_report(plan: DrillPlan, wf_id: str, child_id: str, outcome: IncidentOutcome | None,
                   stages: list[DrillStage], at: datetime) -> tuple[str, list[str], list[str], str]:
    """The drill's summary report (Chinese), the deadlines met and missed, the accountability line."""
    met: list[str] = []
    missed: list[str] = []
    acc = ""
    lines = [
        f"【演练】关于{plan.title_zh}的总结报告",
        "",
        f"一、演练名称:{plan.title_zh}(依据{CLAUSE});演练编号:{wf_id}。",
        f"二、演练事件:{plan.incident.incident_type.value} {plan.incident_title_zh}(事件编号:{child_id})。",
        "三、演练过程:",
    ]
    lines += [f"    {i}. {texts.fmt_time(s.at)} {s.text_zh}" for i, s in enumerate(stages, 1)]
    lines.append("四、时限落实情况:")
    if outcome is None:
        lines.append("    演练事件未在演练时限内办结,时限落实情况以事件记录为准,视为未达标。")
        missed.append("演练事件未在演练时限内办结")
    else:
        for d in outcome.deadlines:
            item = f"{d.title_zh}(依据{d.clause})"
            if d.status is DeadlineStatus.MET:
                met.append(item)
            elif d.status in (DeadlineStatus.MISSED, DeadlineStatus.LATE):
                missed.append(item)
            lines.append(f"    {item}:{d.status.zh},时限{texts.fmt_time(d.due_at)}")
        if outcome.accountability is not None:
            acc = texts.accountability_summary(outcome.accountability.obligations)
            lines.append(f"五、应报事项:{acc}(001 §7(4))")
    lines.append(f"六、按时完成:{'、'.join(met) or '无'}")
    lines.append(f"七、未按时完成:{'、'.join(missed) or '无'}")
    verdict = "各项时限均按时完成" if not missed else f"有{len(missed)}项未按时完成,请对照预案查找原因、落实整改"
    lines += [f"八、演练结论:{verdict}。", "", "报告单位:区司法局应急办公室", f"报告时间:{texts.fmt_time(at)}"]
    return "\n".join(lines), met, missed, acc


@workflow.defn(name=DRILL_WORKFLOW_TYPE)
class DrillProgramme:
    """000 §6.2, 001 §7(2): one drill: prepare, run the incident in drill mode, summarise."""

    @workflow.init
    def __init__(self, plan: DrillPlan) -> None:
        self.stage = "prepare"
        self.stages: list[DrillStage] = []
        self.child_id = ""

    def _record(self, stage: str, text_zh: str) -> None:
        self.stage = stage
        self.stages.append(DrillStage(at=workflow.now(), stage=stage, text_zh=text_zh))
        names = {"prepare": "准备", "run": "实施", "summarise": "总结", "done": "已结束"}
        workflow.set_current_details(
            f"**演练阶段:{names.get(stage, stage)}**\n\n"
            + "\n\n".join(f"{texts.fmt_time(s.at)} {s.text_zh}" for s in self.stages)
        )

    async def _notify(self, plan: DrillPlan, to: Agency, text: str, step: str) -> None:
        info = workflow.info()
        try:
            await workflow.execute_activity(
                "notify",
                NotifyRequest(
                    idempotency_key=f"{info.workflow_id}/{step}/{to.value}",
                    workflow_id=info.workflow_id,
                    incident_type=plan.incident.incident_type.value,
                    step=step,
                    clause=CLAUSE,
                    recipient=to,
                    message_zh=text,
                    drill=True,
                ),
                result_type=NotifyReceipt,
                start_to_close_timeout=timedelta(seconds=30),
                schedule_to_close_timeout=timedelta(minutes=10),
                retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
                summary="演练通知",
            )
        except ActivityError:
            self._record(self.stage, f"通知失败({step}),请人工通知")

    @workflow.run
    async def run(self, plan: DrillPlan) -> DrillOutcome:
        info = workflow.info()
        incident = plan.incident.model_copy(update={"drill": True, "alert_id": None})
        self.child_id = f"{info.workflow_id}-{incident.incident_type.value}"
        # 1. prepare
        self._record("prepare", f"演练准备:{plan.title_zh},演练事件为{incident.incident_type.value} {plan.incident_title_zh}")
        await self._notify(
            plan, Agency.EMERGENCY_OFFICE,
            f"【演练】{plan.title_zh}开始(依据{CLAUSE})。演练事件:{incident.incident_type.value} "
            f"{plan.incident_title_zh},事件编号 {self.child_id}。演练期间通知发送至演练通道。",
            "drill-prepare",
        )
        # 2. run the real incident workflow in drill mode
        attributes = None
        if sa.INCIDENT_DRILL in info.typed_search_attributes:  # registered: the child is findable too
            attributes = sa.for_incident(
                incident_type=incident.incident_type.value, flow=incident.flow.value,
                county=incident.jurisdiction.county, justice_office=incident.jurisdiction.justice_office,
                drill=True, occurred_at=incident.occurred_at,
            )
        child = await workflow.start_child_workflow(
            plan.workflow_type,
            incident,
            id=self.child_id,
            task_queue=info.task_queue,
            result_type=IncidentOutcome,
            search_attributes=attributes,
            static_summary=f"【演练】{incident.incident_type.value} {plan.incident_title_zh}",
        )
        self._record("run", f"演练实施:启动演练事件 {self.child_id}")

        async def play() -> None:
            for step in plan.script:
                if step.after > timedelta(0):
                    await workflow.sleep(step.after, summary=f"演练脚本:{step.report.get('kind', '')}")
                await child.signal("report", step.report)

        script = asyncio.ensure_future(play())
        outcome: IncidentOutcome | None = None
        try:
            outcome = await asyncio.wait_for(child, timeout=plan.window.total_seconds())
            self._record("run", "演练事件已办结")
        except TimeoutError:
            self._record("run", f"演练事件未在演练时限({texts.fmt_duration(plan.window)})内办结,已终止")
        except ChildWorkflowError as err:
            self._record("run", f"演练事件失败:{err.cause or err}")
        script.cancel()
        # 3. summarise
        self._record("summarise", "演练总结:对照时限检查按时和未按时完成的事项")
        report, met, missed, acc = summary_report(plan, info.workflow_id, self.child_id, outcome,
                                                  self.stages, workflow.now())
        await asyncio.gather(*(self._notify(plan, to, report, "drill-summary")
                               for to in (Agency.EMERGENCY_OFFICE, Agency.LEADERSHIP_GROUP)))
        self._record("done", f"演练总结报告已报送区司法局应急办公室和领导小组:按时{len(met)}项,未按时{len(missed)}项")
        return DrillOutcome(
            workflow_id=info.workflow_id,
            incident_workflow_id=self.child_id,
            incident_type=incident.incident_type.value,
            completed=outcome is not None,
            met=met,
            missed=missed,
            accountability_zh=acc,
            summary_zh=report,
            written_report_zh=outcome.written_report_zh if outcome else "",
            stages=list(self.stages),
        )

    @workflow.query(name="drill_status")
    def drill_status(self) -> dict[str, Any]:
        return {"stage": self.stage, "incident_workflow_id": self.child_id,
                "stages": [s.model_dump(mode="json") for s in self.stages]}
