"""The worker's guard: no incident is processed from a payload that arrived unencrypted, and no
incident runs under a workflow id that carries personal data.

With keys configured, the worker's codec (``EncryptionCodec(refuse_plaintext=True)``) turns every
payload that arrived unencrypted (a ``temporal workflow start`` without the codec endpoint, a starter
without keys) into a marker with no data. This interceptor then:

- fails the run at once, non-retryable, type ``UnencryptedPayload``, naming what to set;
- rejects such an update (``submit_report``) with the same error; drops such a signal with a warning
  in the worker log (the sender of a signal cannot be answered);
- fails a run whose workflow id is not allowed (``plan.ids``: charset, ID-number or phone-shaped
  digits, a value of a person in the incident), type ``PersonalDataInId``.

Error texts never echo the payload or the id.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ExecuteWorkflowInput,
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from infra.codec import UNENCRYPTED, UNENCRYPTED_PAYLOAD
from plan.ids import workflow_id_problem

PERSONAL_DATA_IN_ID = "PersonalDataInId"

REFUSED = (
    "payload arrived unencrypted and was refused (the worker encrypts personal data): send it through "
    "the codec, e.g. temporal CLI: set TEMPORAL_CODEC_ENDPOINT (and TEMPORAL_CODEC_AUTH), starter/SDK: "
    "set EMERGENCY_CODEC_KEYS_FILE"
)


def _unencrypted(args: Any) -> bool:
    return any(isinstance(a, RawValue) and a.payload.metadata.get("encoding") == UNENCRYPTED for a in args)


def refused() -> ApplicationError:
    return ApplicationError(REFUSED, type=UNENCRYPTED_PAYLOAD, non_retryable=True)


class _Inbound(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        if _unencrypted(input.args):
            raise refused()
        incident: dict | None = None
        for a in input.args:
            if isinstance(a, RawValue):
                try:
                    value = workflow.payload_converter().from_payload(a.payload)
                except Exception:
                    continue  # the workflow itself reports bad input
                if isinstance(value, dict):
                    incident = value.get("input") if isinstance(value.get("input"), dict) else value
        problem = workflow_id_problem(workflow.info().workflow_id, incident)
        if problem:
            raise ApplicationError(f"workflow id refused: {problem}", type=PERSONAL_DATA_IN_ID, non_retryable=True)
        return await super().execute_workflow(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        if _unencrypted(input.args):
            workflow.logger.warning("signal %s refused: %s", input.signal, REFUSED)
            return
        await super().handle_signal(input)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        if _unencrypted(input.args):
            raise refused()
        super().handle_update_validator(input)


class PayloadGuard(Interceptor):
    """Worker interceptor (``worker.build_worker``)."""

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _Inbound
