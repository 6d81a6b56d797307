"""History growth: no incident type comes near Temporal's history limits.

Temporal warns at 10,240 events and 10 MB per run and terminates a run at 51,200 events or 50 MB.
Each incident type is driven to completion on the time-skipping server through its richest branch
(the scenarios of ``tests/histories/record.py``), plus the two long shapes: 001 §4(9) 情形三 kept up
for 60 days (continue-as-new every few days) and an incident with 150 progress reports. The peak event
count per type is printed.
"""

from __future__ import annotations

from datetime import timedelta

from helpers import Harness
from histories.record import SCENARIOS, drive, runs

from workflows.c09_epidemic import CARRY_OVER_DAYS

WARN_EVENTS = 10_240
WARN_BYTES = 10 * 1024 * 1024

# the richest branch of each type (most reports and notifications)
RICHEST = [
    "L1-agreement-legal-support", "L2-named-substantiated", "L3-granted", "L4-handed-over-to-C4",
    "C1-major-casualties-crime-release", "C2-not-persuaded", "C3-claims-crime", "C4-search-duty-missed-bring-back",
    "C5-not-persuaded", "C6-police-duty", "C7-subject-died", "C8-equipment-at-justice-office", "C9-S4",
    "C10-contact-duty-refused", "C11-police-duties",
]


async def peak(h: Harness, wf_ids: list[str]) -> tuple[int, int, int]:
    """(most events in one run, most bytes in one run, number of runs) over the incidents."""
    events = size = n = 0
    for wf in wf_ids:
        for history in await runs(h, wf):
            events = max(events, len(history.events))
            size = max(size, sum(e.ByteSize() for e in history.events))
            n += 1
    return events, size, n


async def test_peak_history_per_incident_type_is_far_below_the_limits(harness: Harness):
    report: dict[str, tuple[int, int, int]] = {}
    for name in RICHEST:
        type_id, overrides, steps = SCENARIOS[name]
        wf = await harness.start(type_id, **overrides)
        ids = await drive(harness, wf, steps)
        await harness.api.outcome(wf)
        report[name] = await peak(harness, ids)

    # 情形三 for 60 days: one run per few days, each bounded
    s3 = await harness.start("C9-S3")
    await drive(harness, s3, [("duty-days", 60, {10, 30})])  # one phone duty a day (issue 16)
    await harness.report(s3, "cleared", summary="返回本地,健康码转绿")
    await harness.close(s3)
    report["C9-S3 60 days"] = await peak(harness, [s3])

    # a long urgent incident: 150 progress reports, each relayed to the centre
    l1 = await harness.start("L1")
    await harness.report(l1, "arrived")
    for i in range(150):
        await harness.api.signal_report(l1, {"kind": "progress", "actor": "人民调解组", "current_situation": f"第{i}次进展"})
    await harness.until(l1, lambda st: sum(1 for e in st.timeline if (e.step or "").startswith("progress-relay")) >= 150,
                        timeout=60)
    await harness.report(l1, "mediation_outcome", outcome="agreement", summary="已调解")
    await harness.close(l1, review=False)
    report["L1 150 progress reports"] = await peak(harness, [l1])

    width = max(map(len, report))
    print("\npeak history per incident (events / KB in the largest run / runs):")
    for name, (events, size, n) in report.items():
        print(f"  {name:<{width}}  {events:>5} events  {size / 1024:>7.1f} KB  {n} run(s)")
    worst_events = max(e for e, _, _ in report.values())
    worst_bytes = max(b for _, b, _ in report.values())
    print(f"  worst: {worst_events} events ({worst_events / WARN_EVENTS:.0%} of the 10,240 warning), "
          f"{worst_bytes / 1024:.0f} KB ({worst_bytes / WARN_BYTES:.1%} of 10 MB)")
    assert worst_events < WARN_EVENTS / 4 and worst_bytes < WARN_BYTES / 4
    assert report["C9-S3 60 days"][2] >= 60 // CARRY_OVER_DAYS  # continued as new every few days
