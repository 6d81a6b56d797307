"""The benchmark's incident workload stays a real one (python -m bench; docs/benchmarks.md).

CI runs ``python -m bench --quick`` itself; these checks are the fast part: every report the benchmark
sends is one an officer could send (it still validates against the report models), every input is a
catalogue example turned into a drill with a unique alert id, and the alert -> 110 latency is read from
the first 110 delivery in the drill outbox.
"""

from __future__ import annotations

import json

from bench.workloads import MIX, SCRIPTS, OutboxTail, incident_input
from plan.models import REPORT_ADAPTER, INCIDENT_INPUT_ADAPTER


def test_every_scripted_report_is_a_valid_officer_report():
    for type_id, script in SCRIPTS.items():
        kinds = [REPORT_ADAPTER.validate_python(r).kind for r in script]
        assert kinds[0] == "arrived" and "feedback" in kinds and "closed" in kinds, type_id
        # correction incidents end with the written review (001 §5(2)); L-types with their aftermath (000 §4.4)
        assert kinds[-1] == ("review" if type_id.startswith("C") else "aftermath_done"), type_id


def test_inputs_are_drills_with_unique_alert_ids():
    inputs = [INCIDENT_INPUT_ADAPTER.validate_python(incident_input(t)) for t in MIX * 2]
    assert all(i.drill for i in inputs)  # notifications go to the drill outbox, never to real agencies
    assert len({i.alert_id for i in inputs}) == len(inputs)
    assert {i.incident_type.value for i in inputs} == set(MIX) and "C1" in MIX


def test_latency_is_read_from_the_first_110_delivery(tmp_path):
    path = tmp_path / "drill-outbox.jsonl"

    def line(wf: str, recipient: str, at: str) -> str:
        return json.dumps({"workflow_id": wf, "recipient": recipient, "delivered_at": at}) + "\n"

    path.write_text(
        line("incident-C1-a", "correction_section", "2026-11-23T08:00:00+00:00")
        + line("incident-C1-a", "police_110", "2026-11-23T08:00:01+00:00")
        + line("incident-C1-a", "police_110", "2026-11-23T08:00:09+00:00")  # a later call is not the first
        + '{"workflow_id": "incident-C1-b", "recipi',  # a line still being written is left for later
        encoding="utf-8",
    )
    tail = OutboxTail(path)
    tail.poll()
    assert tail.first_110 == {"incident-C1-a": 1795420801.0}
    assert tail.delivered["incident-C1-a"] == 3 and "incident-C1-b" not in tail.delivered
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('ent": "police_110", "delivered_at": "2026-11-23T08:00:02+00:00"}\n')
    tail.poll()
    assert tail.first_110["incident-C1-b"] == 1795420802.0
