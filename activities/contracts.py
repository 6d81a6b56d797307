"""What workflows send to activities and get back: the contract between deciding and acting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from plan.agencies import Agency


class NotifyRequest(BaseModel):
    """One notification to one recipient.

    ``idempotency_key`` is built by the workflow from workflow id + step + recipient, so a retried
    or re-run activity delivers at most once at any channel that honours the key.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    idempotency_key: str = Field(min_length=1, max_length=300)
    workflow_id: str
    incident_type: str
    step: str
    clause: str
    recipient: Agency
    recipient_phone: str | None = None
    """For recipients not in the directory (the subject's family): the contact from the incident."""
    message_zh: str = Field(min_length=1, max_length=8000)
    drill: bool = False
    jurisdiction: tuple[str, ...] = ()
    """The incident's justice office and county, most specific first: picks a jurisdiction's own
    contacts in the roster (``plan/roster.py``) where they differ."""


class NotifyReceipt(BaseModel):
    """Proof of delivery to the channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    idempotency_key: str
    channel: str
    recipient_name_zh: str
    delivered_at: datetime
    duplicate: bool = False
    """True when the channel had already delivered this key (a retry after a crash)."""
    attempt: int = 1
    """Which activity attempt delivered it (1 = first try)."""
    ack_expected: bool = False
    """The channel's receiver confirms receipt by calling back (回执): the workflow waits for it. False for
    channels that cannot (the local outbox, drill sinks)."""


class ArchiveRequest(BaseModel):
    """Records of an incident moved out of its state before it continues as new (issue 13): older
    timeline entries, discharged obligations and settled per-notification deadlines. Idempotent on
    (workflow id, run)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workflow_id: str
    incident_type: str
    run: int
    first_seq: int
    """Timeline seq of the first entry archived by this run."""
    timeline: list[dict[str, Any]] = Field(default_factory=list)
    obligations: list[dict[str, Any]] = Field(default_factory=list)
    deadlines: list[dict[str, Any]] = Field(default_factory=list)
