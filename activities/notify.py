"""The ``notify`` activity: reach one recipient, exactly once per idempotency key.

Permanent problems (a recipient the directory does not know, a family contact without a phone)
fail at once with a named non-retryable error; channel trouble is retried by the workflow's
retry policy. Logs carry workflow id, incident type, step and recipient id, never the message
text (it may name the subject).
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.channels import Channel, Delivery
from activities.contracts import NotifyReceipt, NotifyRequest
from plan.agencies import AGENCY_NAME_ZH, PER_INCIDENT, Directory

log = structlog.get_logger("activities.notify")

UNKNOWN_RECIPIENT = "UnknownRecipient"
BAD_RECIPIENT = "BadRecipient"


class Notifier:
    """Holds the directory and the channels; its bound method is the registered activity."""

    def __init__(self, directory: Directory, channel: Channel, drill_channel: Channel) -> None:
        self.directory = directory
        self.channel = channel
        self.drill_channel = drill_channel

    def _resolve(self, req: NotifyRequest) -> tuple[str, str]:
        if req.recipient in PER_INCIDENT or req.recipient_phone:
            if not req.recipient_phone:
                raise ApplicationError(
                    f"recipient {req.recipient.value}: no phone given in the incident",
                    type=BAD_RECIPIENT,
                    non_retryable=True,
                )
            return AGENCY_NAME_ZH[req.recipient], req.recipient_phone
        contact = self.directory.contact(req.recipient)
        if contact is None:
            raise ApplicationError(
                f"recipient {req.recipient.value}: not in the directory (config/directory.json)",
                type=UNKNOWN_RECIPIENT,
                non_retryable=True,
            )
        return contact.name_zh, contact.phone

    @activity.defn(name="notify")
    async def notify(self, req: NotifyRequest) -> NotifyReceipt:
        info = activity.info()
        bound = log.bind(
            workflow_id=req.workflow_id,
            incident_type=req.incident_type,
            step=req.step,
            recipient=req.recipient.value,
            attempt=info.attempt,
            drill=req.drill,
        )
        name_zh, phone = self._resolve(req)
        channel = self.drill_channel if req.drill else self.channel
        activity.heartbeat("delivering")
        now = datetime.now(UTC)
        duplicate = await channel.deliver(Delivery(req, name_zh, phone, now.isoformat()))
        bound.info("notification delivered", channel=channel.name, duplicate=duplicate)
        return NotifyReceipt(
            idempotency_key=req.idempotency_key,
            channel=channel.name,
            recipient_name_zh=name_zh,
            delivered_at=now,
            duplicate=duplicate,
            attempt=info.attempt,
            ack_expected=getattr(channel, "acknowledges", False),
        )
