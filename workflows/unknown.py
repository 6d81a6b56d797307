"""Any workflow type the catalogue does not know fails at once, with a clear reason.

Without this, ``temporal workflow start --type C4Typo`` would leave a workflow whose tasks fail and
retry forever ("not registered on this worker").
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

UNKNOWN_INCIDENT_TYPE = "UnknownIncidentType"


@workflow.defn(dynamic=True)
class UnknownIncidentType:
    @workflow.run
    async def run(self, args: Sequence[RawValue]) -> None:
        name = workflow.info().workflow_type
        workflow.logger.error(
            "unknown incident type", extra={"incident_type": name, "step": "input"}
        )
        raise ApplicationError(
            f"unknown incident type: workflow type '{name}' is not in the catalogue "
            "(see `python -m starter catalogue`)",
            type=UNKNOWN_INCIDENT_TYPE,
            non_retryable=True,
        )
