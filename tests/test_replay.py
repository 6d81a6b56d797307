"""Determinism: histories of finished incidents replay on today's workflow code without a mismatch.

Covers the shapes that are easiest to break: a continued-as-new run (001 §4(9) 情形三), a parent and its
child (000 §1.4(4) → 001 §4(4)), timers that fired (a missed deadline), and reports by signal and update.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from helpers import Harness
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows import ALL_WORKFLOWS


async def histories(h: Harness, wf_id: str) -> list[WorkflowHistory]:
    """Every run of an incident, newest first."""
    out = []
    run_id = None
    while True:
        history = await h.env.client.get_workflow_handle(wf_id, run_id=run_id).fetch_history()
        out.append(history)
        prev = history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id
        if not prev:
            return out
        run_id = prev


async def replay(h: Harness, *wf_ids: str) -> int:
    replayer = Replayer(workflows=ALL_WORKFLOWS, data_converter=pydantic_data_converter)
    runs = 0
    for wf in wf_ids:
        for history in await histories(h, wf):
            await replayer.replay_workflow(history)  # raises on any nondeterminism
            runs += 1
    return runs


async def test_finished_incidents_replay_deterministically(harness: Harness):
    # 情形三 for 8 days: one continue-as-new, a missed day, daily contacts by signal
    s3 = await harness.start("C9-S3")
    for day in range(1, 9):
        for _ in range(300):  # day ``day``'s duty of the 司法所 (issue 16)
            board = await harness.api.duties(s3)
            if any(x.id == f"daily-contact-{day}" for x in board.open + board.closed):
                break
            await asyncio.sleep(0.05)
        if day != 3:
            await harness.api.signal_report(s3, {"kind": "daily_contact", "actor": "东城司法所", "reached": True})
        await harness.skip(timedelta(days=1))
    await harness.until(s3, lambda st: st.run == 2)
    await harness.report(s3, "cleared", summary="健康码转绿")
    await harness.close(s3)

    # L4 → C4 child, through to the parent's outcome
    l4 = await harness.start("L4")
    child = f"{l4}-C4"
    await harness.until(l4, lambda st: child in st.related)
    await harness.report(child, "arrived")
    await harness.report(child, "search_result", found=True, methods=["phone"])
    await harness.report(child, "punishment", decision="训诫")
    await harness.close(child)
    await harness.api.outcome(l4)

    # a major incident with the plan activated and terminated, a release, a review
    c1 = await harness.start("C1", major=True, casualties=True)
    await harness.report(c1, "plan_decision", decision="activate")
    await harness.report(c1, "release", action="draft", content="通报")
    await harness.report(c1, "release", action="approve", department="区委宣传部")
    await harness.report(c1, "release", action="publish")
    await harness.report(c1, "arrived")
    await harness.report(c1, "handled", crime_suspected=True)
    await harness.report(c1, "punishment", decision="提请撤销缓刑")
    await harness.report(c1, "plan_decision", decision="terminate")
    await harness.close(c1)

    assert await replay(harness, s3, l4, child, c1) == 5


async def test_drill_programme_replays_deterministically(harness: Harness):
    """The drill workflow (000 §6.2, 001 §7(2)) and the drill-mode incident it runs replay cleanly."""
    import uuid

    from helpers import CLOSED, REVIEW, example

    from plan.models import INCIDENT_INPUT_ADAPTER
    from workflows import workflow_type_name
    from workflows.drill import DrillOutcome, DrillPlan, DrillStep

    actor = {"actor": "东城司法所 演练值班员"}
    inp = INCIDENT_INPUT_ADAPTER.validate_python(example("C4", alert_id=None))
    plan = DrillPlan(
        workflow_type=workflow_type_name(inp.incident_type),
        incident_title_zh="社区矫正对象脱离监督管理",
        incident=inp,
        script=[
            DrillStep(after=timedelta(minutes=45), report={"kind": "arrived", **actor}),
            DrillStep(report={"kind": "search_result", "found": True, "methods": ["phone"], **actor}),
            DrillStep(report={"kind": "punishment", "decision": "训诫", "actor": "社区矫正管理科"}),
            DrillStep(report={"kind": "closed", **CLOSED, **actor}),
            DrillStep(after=timedelta(hours=1), report={"kind": "review", **REVIEW, **actor}),
        ],
        window=timedelta(days=2),
    )
    wf = f"drill-replay-{uuid.uuid4().hex[:8]}"
    out = await harness.env.client.execute_workflow(
        "DrillProgramme", plan, id=wf, task_queue=harness.queue, result_type=DrillOutcome
    )
    assert out.completed
    assert await replay(harness, wf, out.incident_workflow_id) == 2
