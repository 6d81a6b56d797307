"""L4 — 处理社区矫正、刑释人员安置帮教工作突发情况 (000 §1.4(4)).

000 §1.4: 本方案适用于区司法局组织、指挥、协调和管理全区司法行政系统的各类突发事件。包括:……(4)处理社区
矫正、刑释人员安置帮教工作突发情况。

000 §2.3: 社区矫正组具体负责应对社区矫正和刑释人员突发事件。

Two cases (``ResettlementInput.l4.person``):

- a released prisoner (刑释人员): an ordinary incident of this plan. The correction group is told to
  respond and provide resettlement and support (安置帮教); its measures are recorded; the shared
  mechanics of 000 §3–§4 come from :class:`IncidentWorkflow`; 000 has no post-incident review.
- a correction subject (社区矫正对象): the emergency is one of 001 §4(1)–(11), so after the information
  report (000 §4.2, sent here) the incident is handed over to the correction group, and a child
  incident of that C type (``l4.correction_type``) handles it under 001 (deadlines, reports, review).
  The child's id is this incident's id plus ``-C<n>``; it skips the information report
  (``handed_over_from``). This incident only follows it (``delegated()``): reports sent here are refused
  with the child's id, and its outcome carries the child's written report and review.

At a bureau without a correction plan (``config/bureaus/huangyan.json``: 黄岩 adopted the linkage plan
only, issue 17) there is no 001 to hand over to: the correction group is told to respond (000 §2.3) and
the incident runs as any incident of this plan, ending with ``closed``. The hand-over to a C-type runs
where both plans are adopted (``config/bureaus/example-both.json``) and in the shared setup.

Reports this clause takes: ``resettlement`` (released prisoner, once: measures). A correction
subject's incident takes none: reports go to the child.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    WorkflowAlreadyStartedError,
)
from temporalio.workflow import ParentClosePolicy

from workflows.base import HANDED_OVER_ENDED, IncidentWorkflow
from workflows.mechanics.handover import WORKFLOW_TYPE

with workflow.unsafe.imports_passed_through():
    from activities.follow import HANDED_OVER_INCIDENT_ENDED
    from plan.agencies import Agency
    from pydantic import ValidationError

    from plan.models import (
        INCIDENT_INPUT_ADAPTER,
        IncidentOutcome,
        IncidentType,
        L4Person,
        Resettlement,
        ResettlementInput,
        describe_validation_error,
        variant,
    )

CLAUSE = "000 §1.4(4)"
GROUPS = "000 §2.3"
HAND_OVER_FAILED = "HandOverFailed"
FOLLOW_POLL = timedelta(minutes=30)
"""How often a continued run asks how the incident it handed over stands, besides when that incident
says it ended (``handed_over_ended``): should the wake-up be lost, it closes at most this late."""
FOLLOW_SOON = timedelta(seconds=5)
"""How often it asks once the child said it ended (the child completes in the task after its signal)."""
"""Failure type of an L4 incident whose handed-over C-type incident did not complete."""

#: The workflow type each 001 §4 incident type runs as (``workflows/mechanics/handover.py``).
CHILD_TYPE: dict[IncidentType, str] = {t: name for t, name in WORKFLOW_TYPE.items() if t.is_correction}


def correction_clause(t: IncidentType) -> str:
    """The 001 clause of a C type: C4 -> ``001 §4(4)``."""
    return f"001 §4({t.value[1:]})"


@workflow.defn(name="L4CorrectionOrResettlement")
class CorrectionOrResettlement(IncidentWorkflow):
    """000 §1.4(4), §2.3: an emergency of a correction subject (handed over to 001 §4) or of a released
    prisoner (resettlement and support)."""

    TYPE = IncidentType.L4
    TITLE_ZH = "社区矫正、刑释人员安置帮教突发情况"
    CLAUSE = CLAUSE
    CLAUSE_REPORTS = frozenset({"resettlement"})

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    _child_ended = False
    """Set by the handed-over incident's ``handed_over_ended`` signal (a continued run waits for it)."""

    def _correction_subject(self) -> bool:
        l4 = variant(self.inp, ResettlementInput).l4 if self.inp is not None else None
        return l4 is not None and l4.person is L4Person.CORRECTION_SUBJECT

    def delegated(self) -> bool:
        # issue 17: handed over to 001 only where the bureau adopted a correction plan
        return self._correction_subject() and (self.bureau is None or self.bureau.correction)

    async def handle(self) -> IncidentOutcome:
        if not self.input_valid or not self.delegated():
            return await super().handle()  # released prisoner: an ordinary incident
        self.open_only()  # 000 §4.2 information report (no level-report: this is not a C type)
        if self.resumed:  # continued as new while following the incident it handed over (issue 13)
            return await self._follow_continued()
        return await self._hand_over()

    # ------------------------------------------------------------------ released prisoner

    async def respond(self) -> None:
        if self._correction_subject():  # a bureau without a correction plan (issue 17)
            self.notify(
                Agency.CORRECTION_GROUP,
                self.ask("社区矫正对象发生突发情况", "社区矫正组具体负责应对社区矫正突发事件,组织处置并报告处置情况"),
                step="correction-group",
                clause=GROUPS,
            )
            return
        # 社区矫正组具体负责应对社区矫正和刑释人员突发事件 (000 §2.3)
        self.notify(
            Agency.CORRECTION_GROUP,
            self.ask("刑释人员发生突发情况", "社区矫正组具体负责应对刑释人员突发事件,做好安置帮教工作,并报告安置帮教措施"),
            step="resettlement-group",
            clause=GROUPS,
        )
        r = await self.next_report(Resettlement)
        self.decide(f"安置帮教措施:{'、'.join(r.measures)}", CLAUSE, actor=r.actor)

    # ------------------------------------------------------------------ correction subject

    async def _hand_over(self) -> IncidentOutcome:
        """Hand the incident over to the correction group and follow the C-type child to its end."""
        inp = self.incident
        ctype, child_id = self._child()
        child_clause = correction_clause(ctype)
        parent_id = workflow.info().workflow_id
        self.notify(
            Agency.CORRECTION_GROUP,
            self.ask(
                f"发生社区矫正突发事件,移交社区矫正组按{child_clause}处置",
                f"社区矫正组具体负责应对,按{child_clause}组织处置(事件编号 {child_id})",
            ),
            step="hand-over",
            clause=GROUPS,
        )
        self.decide(f"移交社区矫正组按{child_clause}处置,转为{ctype.value}事件 {child_id}", CLAUSE)
        # The centre's instruction keeps its time: the child's arrival and feedback deadlines run from it.
        dispatch = inp.dispatch and inp.dispatch.model_copy(update={"at": inp.dispatch.at or workflow.info().workflow_start_time})
        try:  # the C-type's own variant, with the fields it takes from this input
            child_input = INCIDENT_INPUT_ADAPTER.validate_python(
                {**inp.model_dump(exclude={"l4"}), "incident_type": ctype, "handed_over_from": parent_id,
                 "alert_id": None, "dispatch": dispatch}
            )
        except ValidationError as err:  # e.g. an epidemic case for another type than C9
            return await self._hand_over_failed(child_id, ctype, describe_validation_error(err))
        drill = "【演练】" if inp.drill else ""
        try:
            child = await workflow.start_child_workflow(
                CHILD_TYPE[ctype],
                child_input,
                id=child_id,
                result_type=IncidentOutcome,
                parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary=(
                    f"{drill}{ctype.value} 由L4移交({child_clause}) · "
                    f"{inp.jurisdiction.county}{inp.jurisdiction.justice_office} · {inp.flow.zh}"
                ),
            )
        except WorkflowAlreadyStartedError:
            return await self._hand_over_failed(child_id, ctype, "同编号的移交事件已存在")
        self.relate(child_id)
        # Reports sent here meanwhile are refused (a flood of them too): should this run reach a
        # Temporal limit, it continues as new and the next run follows the child by its id.
        await self.wait_or_continue(child.done)
        try:
            out = await child
        except ChildWorkflowError as err:
            cause = err.cause
            reason = getattr(cause, "message", "") or type(cause).__name__
            return await self._hand_over_failed(child_id, ctype, reason)
        return await self._handed_over_done(child_id, ctype, out)

    def _child(self) -> tuple[IncidentType, str]:
        ctype = variant(self.incident, ResettlementInput).l4.correction_type
        assert ctype is not None  # L4Case requires it for a correction subject
        return ctype, f"{workflow.info().workflow_id}-{ctype.value}"

    async def _follow_continued(self) -> IncidentOutcome:
        """A continued run: the child is followed on the server (``activities/follow.py``), asked every
        :data:`FOLLOW_POLL`, not by a handle; its outcome is read from its own completion."""
        ctype, child_id = self._child()
        woken = False
        while True:
            try:
                out = await workflow.execute_activity(
                    "incident_outcome", child_id, result_type=IncidentOutcome | None,  # type: ignore[arg-type]
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30),
                                             non_retryable_error_types=[HANDED_OVER_INCIDENT_ENDED]),
                    summary="跟踪移交事件",
                )
            except ActivityError as err:
                cause = err.cause
                reason = getattr(cause, "message", "") or type(cause).__name__
                return await self._hand_over_failed(child_id, ctype, reason)
            if out is not None:
                return await self._handed_over_done(child_id, ctype, out)
            # Told it ended, the child completes in its next task: asked again soon, until it has.
            woken = woken or self._child_ended
            self._child_ended = False
            await self.wait_or_continue(lambda: self._child_ended, timeout=FOLLOW_SOON if woken else FOLLOW_POLL,
                                        summary="跟踪移交事件")
            woken = woken or self._child_ended

    @workflow.signal(name=HANDED_OVER_ENDED)
    def handed_over_ended(self) -> None:
        """The handed-over incident says it ended: a wake-up only; its outcome is read from the server."""
        self._child_ended = True

    async def _handed_over_done(self, child_id: str, ctype: IncidentType, out: IncidentOutcome) -> IncidentOutcome:
        child_clause = correction_clause(ctype)
        self.decide(f"移交事件已办结:{child_id}已按{child_clause}处置完毕", child_clause)
        await self.end()
        return self.outcome(written_report_zh=out.written_report_zh, closed=out.closed,
                            review_report_zh=out.review_report_zh, related=[child_id])

    async def _hand_over_failed(self, child_id: str, ctype: IncidentType, reason: str) -> IncidentOutcome:
        """The handed-over incident did not complete: recorded, the emergency office told, then fail."""
        self.decide(f"移交事件{child_id}未能办结:{reason},需人工组织处置", CLAUSE)
        self.notify(
            Agency.EMERGENCY_OFFICE,
            self.ask(
                f"移交按{correction_clause(ctype)}处置的事件 {child_id} 未能办结({reason})",
                "立即人工组织处置,并跟踪了解处置情况",
            ),
            step="hand-over-failed",
            clause="000 §2.2",
        )
        await self.end()
        raise ApplicationError(
            f"hand-over failed: incident {child_id} did not complete ({reason})",
            type=HAND_OVER_FAILED,
            non_retryable=True,
        )
