"""The SDK door for services (the command centre's platform): start an incident idempotently by the
centre's alert id, send reports, read its status. Run it against a running system:

    TEMPORAL_ADDRESS=localhost:7233 python examples/sdk_example.py

(``tests/test_operators.py::test_sdk_example_runs_against_the_dev_server`` runs it as written.)
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from starter.api import IncidentClient, ReportRefused


async def main() -> None:
    client = await IncidentClient.connect()  # TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, profiles, as the worker
    incident = json.loads((Path(__file__).parent / "L1.json").read_text(encoding="utf-8"))
    incident["alert_id"] = f"SDK-{secrets.token_hex(3)}"  # the centre's alert id: the idempotency key

    started = await client.start(incident)
    again = await client.start(incident)  # the same alert again: the same incident, not a second one
    assert again.workflow_id == started.workflow_id and again.already_started
    print(f"started {started.workflow_id}")

    receipt = await client.report(started.workflow_id, {"kind": "arrived", "actor": "北城司法所 值班员"})
    print(f"accepted: {receipt.message_zh}")
    try:
        await client.report(started.workflow_id, {"kind": "arrived", "actor": "北城司法所 值班员"})
    except ReportRefused as err:  # the workflow's reason, for the caller
        print(f"refused: {err}")

    status = await client.status(started.workflow_id)
    for d in status.deadlines:
        print(f"{d.id}: {d.status.value} (due {d.due_at.isoformat()})")
    print(f"waiting for: {', '.join(status.waiting_for)}")


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)  # the SDK runtime can abort at interpreter teardown (sdk-python #300)
