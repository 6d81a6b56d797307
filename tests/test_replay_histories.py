"""Replay safety: the committed histories (tests/histories/, recorded by ``tests/histories/record.py``)
of every workflow type and branch replay on today's code with the SDK's Replayer. A change that would
break incidents already running fails here (docs/operations.md: changing a workflow with running
incidents)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.common import RawValue
from temporalio.worker import Replayer

from infra.settings import data_converter
from plan.agencies import Agency
from plan.models import EpidemicScenario, IncidentOutcome
from workflows import ALL_WORKFLOWS, INCIDENT_WORKFLOWS, workflow_type_name
from workflows.l03_legal_aid import GROUPS, LegalAid

HISTORIES = Path(__file__).parent / "histories"


def load(path: Path) -> WorkflowHistory:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return WorkflowHistory.from_json(doc.pop("workflow_id"), doc)


def committed() -> dict[str, WorkflowHistory]:
    return {p.stem: load(p) for p in sorted(HISTORIES.glob("*.json"))}


async def each(histories: list[WorkflowHistory]) -> AsyncIterator[WorkflowHistory]:
    for h in histories:
        yield h


def wf_type(h: WorkflowHistory) -> str:
    return h.events[0].workflow_execution_started_event_attributes.workflow_type.name


def test_every_workflow_type_and_branch_has_a_recorded_history():
    hs = committed()
    types = {wf_type(h) for h in hs.values()}
    assert {workflow_type_name(t) for t in INCIDENT_WORKFLOWS} <= types
    assert "C4Typo" in types  # the unknown-type guard
    assert {"Warning", "ScreeningPeriod"} <= types  # issue 20: warnings and screening periods
    assert "PlatformAlarm" in types  # issue 20: platform alarms
    names = set(hs)
    # C9's four scenarios, and 情形三 continued as new (two runs)
    assert {f"C9-{s.value}" for s in EpidemicScenario if s is not EpidemicScenario.S3} <= names
    assert {"C9-S3-continued-as-new.1", "C9-S3-continued-as-new.2"} <= names
    assert "L4-handed-over-to-C4-child" in names  # a parent and its child
    missed = [n for n, h in hs.items() if any(e.HasField("timer_fired_event_attributes") for e in h.events)]
    assert missed, "some history must have a deadline that fired"


async def test_committed_histories_replay_on_todays_code():
    hs = committed()
    replayer = Replayer(workflows=ALL_WORKFLOWS, data_converter=data_converter({"EMERGENCY_INSECURE_PLAINTEXT": "1"}))
    results = await replayer.replay_workflows(each(list(hs.values())), raise_on_replay_failure=False)
    failed = {h.workflow_id: str(err) for h, err in zip(hs.values(), [results.replay_failures.get(h.run_id)
              for h in hs.values()]) if err}
    print(f"\nreplayed {len(hs)} histories of {len({wf_type(h) for h in hs.values()})} workflow types: "
          f"{len(failed)} nondeterministic")
    assert failed == {}


# ------------------------------------------------- the worked example of docs/operations.md


COPY_STEP = dict(step="decision-copy-to-aid-group", clause=GROUPS)


def _copy_to_aid_group(wf: LegalAid) -> None:
    wf.notify(Agency.LEGAL_AID_GROUP, wf.ask("审查决定已告知求助人员", "知悉并跟进法律援助"), **COPY_STEP)


@workflow.defn(name="L3LegalAid", sandboxed=False)  # a test module; the sandbox would re-import it
class LegalAidPatched(LegalAid):
    """L3 after a plan change: the legal aid group also gets a copy of the decision — guarded by
    ``workflow.patched`` (the right way: incidents started before the change replay the old path)."""

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    async def respond(self) -> None:
        await super().respond()
        if workflow.patched("l3-decision-copy-to-aid-group"):
            _copy_to_aid_group(self)


@workflow.defn(name="L3LegalAid", sandboxed=False)  # a test module; the sandbox would re-import it
class LegalAidUnpatched(LegalAid):
    """The same change without the guard (the wrong way)."""

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    async def respond(self) -> None:
        await super().respond()
        _copy_to_aid_group(self)


@pytest.mark.parametrize("patched", [True, False], ids=["with workflow.patched", "without"])
async def test_a_patched_change_replays_old_histories_an_unpatched_one_does_not(patched):
    old = [h for name, h in committed().items() if name.startswith("L3-")]
    assert old
    others = [w for w in ALL_WORKFLOWS if w is not LegalAid]
    replayer = Replayer(workflows=[*others, (LegalAidPatched if patched else LegalAidUnpatched)], data_converter=data_converter({"EMERGENCY_INSECURE_PLAINTEXT": "1"}))
    results = await replayer.replay_workflows(each(old), raise_on_replay_failure=False)
    if patched:
        assert results.replay_failures == {}
    else:
        assert len(results.replay_failures) == len(old)
        assert all("Nondeterminism" in str(e) or "nondetermin" in str(e).lower()
                   for e in results.replay_failures.values())
