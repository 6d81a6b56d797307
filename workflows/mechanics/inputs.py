"""Raw input validated inside the workflow (a run input that fails to decode would retry forever).

The start input, a continued run's envelope, a report and an acknowledgement all arrive as
``RawValue``: decoded and validated here, and any problem becomes a named non-retryable error that
names the field and never echoes a value (values may be personal data).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from plan.models import Continued as LegacyContinued
    from plan.models import IncidentInput, IncidentType, describe_validation_error
    from plan.state import Continued, IncidentState

INVALID_INPUT = "InvalidIncidentInput"
"""Failure type of an incident whose start input is malformed (non-retryable)."""
INVALID_REPORT = "InvalidReport"
"""Failure type of a refused progress report (returned to an update's sender)."""


def decode_raw(raw: RawValue) -> Any:
    """Decode a raw payload with the workflow's converter; the caller reports any failure."""
    return workflow.payload_converter().from_payload(raw.payload)


def invalid_input(message: str) -> ApplicationError:
    return ApplicationError(message, type=INVALID_INPUT, non_retryable=True)


def invalid_report(message: str) -> ApplicationError:
    return ApplicationError(message, type=INVALID_REPORT, non_retryable=True)


def parse_input(raw: RawValue, expected: IncidentType) -> tuple[IncidentInput, IncidentState | None]:
    """Validate the start input (or a continued run's envelope); raise a non-retryable
    ``InvalidIncidentInput`` naming the bad field."""
    try:
        value = decode_raw(raw)
    except Exception:
        raise invalid_input("invalid incident input: not a JSON object") from None
    if not isinstance(value, dict):
        raise invalid_input("invalid incident input: expected a JSON object")
    state: IncidentState | None = None
    try:
        if "state" in value and "input" in value:
            continued = Continued.model_validate(value)
            inp, state = continued.input, continued.state
        elif "carried" in value:  # a run continued before the one state model
            legacy = LegacyContinued.model_validate(value)
            inp, state = legacy.input, IncidentState.from_legacy(legacy.carried)
        else:
            inp = IncidentInput.model_validate(value)
    except ValidationError as err:
        raise invalid_input(f"invalid incident input: {describe_validation_error(err)}") from None
    if inp.incident_type is not expected:
        raise invalid_input(
            f"invalid incident input: incident_type: {inp.incident_type.value} sent to the "
            f"{expected.value} workflow; start the {inp.incident_type.value} workflow type instead"
        )
    return inp, state
