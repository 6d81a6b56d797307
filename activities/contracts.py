"""What workflows send to activities and get back: the contract between deciding and acting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from plan.agencies import Agency


PHONE_SLOT = "{counterpart_phone}"
"""Where a duty task's text takes the counterpart's number from the directory (filled by the activity)."""


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
    duty_counterpart: Agency | None = None
    """A duty task: whom the person must call; the activity writes its directory number where the text
    has :data:`PHONE_SLOT`."""
    duty_task: bool = False
    """A duty task (``workflows/mechanics/duties.py``): delivered to the one person on duty for the
    recipient's role at delivery time (``Roster.duty_person``), who is named in the receipt."""
    bureau: str | None = None
    """The bureau whose incident it is (issue 17): its profile's bodies and contacts are the directory
    (also in a namespace several bureaus share, e.g. the tests')."""
    recipient_name_zh: str | None = Field(default=None, max_length=100)
    """With ``recipient_phone``: the recipient's own name (a county's bureau from the directory of
    bureaus, 001 §5(1)); otherwise the directory's name is used."""


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
    person: str | None = None
    """A duty task: the roster id of the person it was delivered to (None without a roster)."""
    person_zh: str = ""
    counterpart_phone: str | None = None
    """A duty task: the counterpart's number the activity wrote into the text (from the directory)."""


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


class AssistRequest(BaseModel):
    """001 §5(1) 通报相关县(市、区)司法行政机关协助配合: start the linked 协助配合 incident in the
    assisting bureau's namespace (``activities/assist.py``), idempotently (its id is fixed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    assisting_bureau: str
    workflow_id: str = Field(min_length=1, max_length=300)
    input: dict
    """The :class:`workflows.assist.AssistInput` as JSON (encrypted with the assisting bureau's keys)."""


class AssistRelay(BaseModel):
    """An assisting bureau's report, relayed to the originating incident as a ``progress`` report."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    origin_bureau: str
    origin_workflow_id: str
    report: dict
