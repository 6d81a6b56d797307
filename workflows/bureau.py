"""Which bureau runs an incident, and what its adopted plans change (issue 17), for the workflows.

Pure functions of the bureau profile (``plan/bureaus.py``) and the incident: deterministic. The bureau
is the one whose namespace the incident runs in (``config/bureaus/<id>.json`` ``namespace``), or in a
shared namespace (``default``: the time-skipping tests, a single-namespace deployment) the one the input
names (``bureau``). An incident naming no bureau in a shared namespace runs as before profiles existed
(both plans' mechanics, the generic names of ``config/directory.json``): histories recorded then replay.

What a profile changes:

- 000's mechanics (flow decision, 30-minute arrival of 000 §4.3, 24-hour feedback of 000 §3(3),
  information report and written report to the command centre of 000 §4.2) apply only where a linkage
  plan is adopted (:func:`linkage`);
- a correction incident at a bureau with a correction plan follows 001 §3: the 总指挥部 decides to
  start the plan, the bureau reports to 本级人民政府 and the city bureau (:data:`COMMAND_REPORT_TO`);
  its progress goes to the 总指挥部 (001 §3(3)) and its escalations to the 总指挥部办公室 (001 §3(2))
  instead of 000's emergency office and leadership group (:func:`recipient`);
- every recipient is named as the deploying bureau names it (:func:`name_zh`);
- a cross-county notice (001 §5(1)) goes to the named county's bureau from the directory of bureaus.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import AssistRequest
    from plan.agencies import Agency
    from plan.bureaus import BureauError, BureauProfile, by_namespace, counties, profile
    from plan.models import IncidentInput, PlanDecision, PlanDecisionKind, Progress

BUREAU_NOT_SERVED = "BureauNotServed"
"""The assisting bureau is not served by this worker process: the notice went to its contact only."""

COMMAND_DECISION = "command-decision"
"""Deadline id: the 总指挥部 decides to start the plan (001 §3(1))."""

COMMAND_REPORT_TO = (Agency.PEOPLES_GOVERNMENT, Agency.CITY_JUSTICE_BUREAU)
"""001 §3(1): 及时向本级人民政府和杭州市司法局报告突发事件和应急处置工作有关情况."""

#: 000's bodies and, at a bureau without a linkage plan, the 001 §3 body that takes their part.
_CORRECTION_STANDS_IN = {
    Agency.EMERGENCY_OFFICE: Agency.CORRECTION_COMMAND_OFFICE,
    Agency.LEADERSHIP_GROUP: Agency.CORRECTION_COMMAND,
}


def resolve(inp: IncidentInput, namespace: str) -> tuple[BureauProfile | None, str | None]:
    """(the bureau running ``inp``, or None for a shared namespace and no bureau named; a refusal)."""
    try:
        bound = by_namespace(namespace)
        named = profile(inp.bureau) if inp.bureau else None
    except BureauError as err:
        return None, f"bureau: {err}"
    if bound is not None and named is not None and named.id != bound.id:
        return None, f"bureau: {named.id} sent to {bound.id}'s namespace {namespace}; start it in {named.namespace}"
    prof = bound or named
    if prof is not None and not prof.runs(inp.incident_type.value):
        plans = "、".join(p.title_zh for p in prof.plans.values())
        return None, (f"incident_type: {prof.name_zh} does not run {inp.incident_type.value} "
                      f"(its plans: {plans})")
    return prof, None


def linkage(prof: BureauProfile | None) -> bool:
    """000's mechanics apply: no profile (the shared setup) or a linkage plan adopted."""
    return prof is None or prof.linkage


def correction_command(prof: BureauProfile | None, is_correction: bool) -> bool:
    """001 §3 applies to this incident: a correction incident at a bureau that adopted a correction plan."""
    return prof is not None and prof.correction and is_correction


def recipient(prof: BureauProfile | None, agency: Agency) -> Agency:
    """The body that is told: 000's emergency office and leadership group at a bureau without a linkage
    plan are its 001 §3 总指挥部办公室 and 总指挥部."""
    if prof is not None and not prof.linkage:
        return _CORRECTION_STANDS_IN.get(agency, agency)
    return agency


def name_zh(prof: BureauProfile | None, agency: Agency) -> str:
    """The recipient as the bureau names it (the plan's generic name without a profile)."""
    if prof is not None:
        own = prof.name_of(agency)
        if own:
            return own
    return agency.zh


def county_bureau(county_zh: str) -> tuple[str, str | None, str | None]:
    """(the county's judicial bureau's name, its phone, its profile id on this platform) from the
    directory of bureaus; a county not listed: the generic name and no phone (the bureau's own
    ``other_county_bureau`` contact is used)."""
    c = counties().find(county_zh)
    if c is None:
        return f"{county_zh}司法行政机关", None, None
    return c.bureau_zh, c.phone, c.platform


#: The clause a common report kind fulfils at a bureau without a linkage plan (001's, not 000's).
_CORRECTION_REPORT_CLAUSE = {"progress": "001 §5(1)", "closed": "001 §3(3)", "plan_decision": "001 §3(1)"}


def report_clause(prof: BureauProfile | None, kind: str, default: str) -> str:
    """The clause a report is recorded under on the timeline."""
    if prof is not None and not prof.linkage:
        return _CORRECTION_REPORT_CLAUSE.get(kind, default)
    return default


def report_names(prof: BureauProfile | None) -> dict[str, Any]:
    """``texts.written_report``'s addressee and reporting unit for this bureau (000 §4.2; 001 §3(3))."""
    if prof is None:
        return {}
    to = Agency.COMMAND_CENTRE if prof.linkage else Agency.CORRECTION_COMMAND
    return {"to_zh": name_zh(prof, to), "from_zh": prof.name_zh}


# ---------------------------------------------------------------------- 001 §3 (issue 17)
# The functions below take the incident workflow (``wf``) and call only its public methods.


def waiting(wf: Any) -> list[str]:
    """What the incident waits for under 001 §3(1): the 总指挥部's decision, until it is reported."""
    if correction_command(wf.bureau, wf.TYPE.is_correction) and not wf.state.plan_activated:
        return ["plan_decision (activate: 总指挥部, 001 §3(1))"]
    return []


def ask_command(wf: Any) -> None:
    """001 §3(1): the 总指挥部 decides to start the plan (决定启动并组织实施本级应急处置预案)."""
    wf.notify(
        Agency.CORRECTION_COMMAND,
        wf.ask("发生社区矫正突发事件", "总指挥部决定启动并组织实施本级应急处置预案(报告 plan_decision)"),
        step="command-decision",
        clause="001 §3(1)",
    )


def command_decided(wf: Any, d: PlanDecision, seq: int) -> None:
    """001 §3(1): the 总指挥部 started the plan; the bureau reports to 本级人民政府 and the city bureau
    (及时向本级人民政府和杭州市司法局报告突发事件和应急处置工作有关情况), each by its own name."""
    prof: BureauProfile = wf.bureau
    command = name_zh(prof, Agency.CORRECTION_COMMAND)
    if d.decision is not PlanDecisionKind.ACTIVATE:  # refused by the report check; kept for safety
        return
    wf.fulfil(COMMAND_DECISION, d.actor)
    wf.decide(f"{command}决定启动并组织实施本级应急处置预案", "001 §3(1)", actor=d.actor)
    wf.notify_all(
        list(COMMAND_REPORT_TO),
        wf.ask(f"{command}已决定启动并组织实施本级应急处置预案", "知悉(突发事件和应急处置工作有关情况报告)"),
        step=f"command-report-{seq}",
        clause="001 §3(1)",
    )


def progress_to_command(wf: Any, report: Progress, seq: int) -> None:
    """001 §3(3): 现场指挥部…及时向总指挥部报告进展情况,提出处置建议."""
    wf.notify(
        Agency.CORRECTION_COMMAND,
        wf.ask(f"处置进展:{report.current_situation}", "知悉(现场指挥部向总指挥部报告进展情况)"),
        step=f"progress-command-{seq}",
        clause="001 §3(3)",
    )


# ---------------------------------------------------------------------- 001 §5(1) cross-county


def notify_county(wf: Any, i: int, county: str) -> None:
    """001 §5(1) 涉及其他县(市、区)的,应当及时通报相关县(市、区)司法行政机关协助配合: the named county's bureau
    (directory of bureaus, ``config/bureaus/counties.json``); when it runs on this platform, a linked
    协助配合 incident is also started in its namespace (``activities/assist.py``)."""
    name, phone, platform = county_bureau(county)
    wf.notify(
        Agency.OTHER_COUNTY_BUREAU,
        wf.ask(f"事件涉及{county}", f"{name}协助配合"),
        step=f"cross-county-{i}",
        clause="001 §5(1)",
        phone=phone,
        name_zh=name if phone else None,
    )
    prof: BureauProfile | None = wf.bureau
    if platform and prof is not None and platform != prof.id:
        wf.spawn(_start_assist(wf, i, county, name, platform))


async def _start_assist(wf: Any, i: int, county: str, name: str, platform: str) -> None:
    inp = wf.incident
    origin = workflow.info().workflow_id
    assist_id = f"assist-{origin}-{i}"
    request = AssistRequest(
        assisting_bureau=platform,
        workflow_id=assist_id,
        input={
            "origin_bureau": wf.bureau.id,
            "origin_bureau_zh": wf.bureau.name_zh,
            "origin_workflow_id": origin,
            "assisting_bureau": platform,
            "county_zh": county,
            "incident_type": wf.TYPE.value,
            "title_zh": wf.TITLE_ZH,
            "clause": wf.CLAUSE,
            "message_zh": wf.ask(f"事件涉及{county}", f"{name}协助配合,处置情况请在本协助配合事件中报告"),
            "drill": inp.drill,
        },
    )
    try:
        await workflow.execute_activity(
            "start_assist",
            request,
            result_type=str,
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30),
                                     non_retryable_error_types=[BUREAU_NOT_SERVED]),
            summary=f"启动协助配合事件({name})",
        )
    except ActivityError as err:
        reason = getattr(err.cause, "message", "") or type(err.cause).__name__
        wf.decide(f"未能在{name}启动协助配合事件({reason}),已按通讯录通报", "001 §5(1)")
        return
    wf.relate(assist_id)
    wf.decide(f"已在{name}启动协助配合事件 {assist_id},其报告将记入本事件", "001 §5(1)")
