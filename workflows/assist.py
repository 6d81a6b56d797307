"""协助配合: the linked incident a bureau runs when another bureau's correction incident involves its
county (001 §5(1) 涉及其他县(市、区)的,应当及时通报相关县(市、区)司法行政机关协助配合).

Started by the originating incident (``workflows/bureau.py`` ``notify_county``) through the
``start_assist`` activity, in the assisting bureau's namespace with its keys, with a fixed id
(``assist-<origin id>-<n>``): started once however often it is asked. It tells the assisting bureau's
office (000 §2.2's 应急办公室, or 001 §3(2)'s 总指挥部办公室 where it has no linkage plan), then takes
the assisting bureau's ``progress`` and ``closed`` reports (signal ``report`` or update
``submit_report``, as every incident) and relays each to the originating incident as a ``progress``
report (``relay_assist``): they appear on its timeline and go where its plan sends progress. ``closed``
ends it. Query ``timeline``.
"""

from __future__ import annotations

from datetime import timedelta

import asyncio

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ConfigDict, Field, ValidationError

    from activities.contracts import AssistRelay, NotifyRequest
    from plan.agencies import Agency
    from plan.bureaus import profile
    from plan.models import (
        REPORT_ADAPTER,
        Closed,
        EntryKind,
        Progress,
        ReportReceipt,
        TimelineEntry,
        describe_validation_error,
    )
    from workflows import bureau

INVALID_REPORT = "InvalidReport"


class AssistInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    origin_bureau: str
    origin_bureau_zh: str
    origin_workflow_id: str
    assisting_bureau: str
    county_zh: str
    incident_type: str
    title_zh: str
    clause: str
    message_zh: str = Field(min_length=1, max_length=8000)
    drill: bool = False


@workflow.defn(name="AssistCrossCounty")
class AssistCrossCounty:
    @workflow.init
    def __init__(self, inp: AssistInput) -> None:
        self.inp = inp
        self.timeline: list[TimelineEntry] = []
        self.closed: Closed | None = None
        self.seq = 0
        self.relays: list[asyncio.Future] = []

    def _record(self, kind: EntryKind, text: str, actor: str = "系统") -> None:
        self.timeline.append(TimelineEntry(seq=len(self.timeline) + 1, at=workflow.now(), kind=kind, text_zh=text,
                                           clause="001 §5(1)", actor=actor))

    @workflow.run
    async def run(self, inp: AssistInput) -> list[TimelineEntry]:
        prof = profile(inp.assisting_bureau)
        office = Agency.EMERGENCY_OFFICE if prof.linkage else Agency.CORRECTION_COMMAND_OFFICE
        self._record(EntryKind.INCIDENT, f"{inp.origin_bureau_zh}通报:{inp.title_zh}涉及{inp.county_zh},请协助配合"
                     f"(原事件 {inp.origin_workflow_id})")
        wf_id = workflow.info().workflow_id
        await workflow.execute_activity(
            "notify",
            NotifyRequest(
                idempotency_key=f"{wf_id}/assist-notice/{office.value}", workflow_id=wf_id,
                incident_type=inp.incident_type, step="assist-notice", clause="001 §5(1)",
                recipient=office, message_zh=inp.message_zh, drill=inp.drill,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
        )
        self._record(EntryKind.NOTIFICATION, f"已通知{bureau.name_zh(prof, office)}")
        await workflow.wait_condition(lambda: self.closed is not None)
        await workflow.wait_condition(lambda: all(t.done() for t in self.relays) and workflow.all_handlers_finished())
        return self.timeline

    # ------------------------------------------------------------------ reports

    def _parse(self, raw: RawValue) -> Progress | Closed:
        try:
            value = workflow.payload_converter().from_payload(raw.payload)
            report = REPORT_ADAPTER.validate_python(value)
        except ValidationError as err:
            raise ApplicationError(f"invalid report: {describe_validation_error(err)}", type=INVALID_REPORT,
                                   non_retryable=True) from None
        except Exception:
            raise ApplicationError("invalid report: not a JSON object", type=INVALID_REPORT, non_retryable=True) from None
        if not isinstance(report, Progress | Closed):
            raise ApplicationError(f"{report.kind}: a 协助配合 incident takes progress and closed only",
                                   type=INVALID_REPORT, non_retryable=True)
        if self.closed is not None:
            raise ApplicationError("the 协助配合 incident is closed", type=INVALID_REPORT, non_retryable=True)
        return report

    def _accept(self, report: Progress | Closed) -> ReportReceipt:
        self.seq += 1
        if isinstance(report, Closed):
            self.closed = report
            text = f"协助配合完毕:{report.result};目前形势:{report.current_situation}"
            situation, measures = f"{self.inp.county_zh}协助配合完毕:{report.result}", report.measures_taken
        else:
            text = f"协助配合进展:{report.current_situation}"
            situation, measures = f"{self.inp.county_zh}协助配合进展:{report.current_situation}", report.measures_taken
        self._record(EntryKind.REPORT, text, actor=report.actor)
        relay = {
            "kind": "progress",
            "actor": f"{profile(self.inp.assisting_bureau).name_zh}({report.actor})",
            "current_situation": situation,
            "measures_taken": list(measures),
            "report_id": f"{workflow.info().workflow_id}-{self.seq}",
            "note": f"协助配合事件 {workflow.info().workflow_id}",
        }
        self.relays.append(asyncio.ensure_future(workflow.execute_activity(
            "relay_assist",
            AssistRelay(origin_bureau=self.inp.origin_bureau, origin_workflow_id=self.inp.origin_workflow_id,
                        report=relay),
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=timedelta(hours=1),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )))
        return ReportReceipt(accepted=True, seq=self.seq, message_zh=text)

    @workflow.signal(name="report")
    def report_signal(self, raw: RawValue) -> None:
        try:
            self._accept(self._parse(raw))
        except ApplicationError as err:
            self._record(EntryKind.REFUSED, f"报告未受理:{err.message}")

    @workflow.update(name="submit_report")
    def submit_report(self, raw: RawValue) -> ReportReceipt:
        return self._accept(self._parse(raw))

    @submit_report.validator
    def _validate(self, raw: RawValue) -> None:
        self._parse(raw)

    @workflow.query(name="timeline")
    def timeline_query(self) -> list[TimelineEntry]:
        return list(self.timeline)

