"""The ``notify`` activity: reach one recipient, exactly once per idempotency key.

Routing (:meth:`Notifier._route`, the one place that picks channels):

- a **drill** (000 §6.2, 001 §7(2)) goes to the drill sink and nowhere else, whatever the roster and
  the channels say: real channels are not even looked up, and a drill channel that is real is refused
  when the notifier is built;
- with a roster (``plan/roster.py``), the recipient's contacts, its people on duty, or the first unit
  up its fallback chain with someone on duty, each through its channel (webhook, SMS, e-mail, outbox);
- without one, the directory's contact through the default channel (the local outbox).

Every delivery carries the idempotency key (``<workflow id>/<step>/<recipient>``, with ``#<route id>``
when a roster route is used), so a retried activity notifies each receiver that honours the key once.
Several routes are delivered at the same time; transient failures of any of them retry the activity
(routes already served dedupe), permanent ones (4xx, bad address) fail it at once with a named
non-retryable error, so the workflow records it and the emergency office is told.

Permanent problems with the recipient itself (not in the directory, a family contact without a phone)
fail at once with a named non-retryable error. Logs carry workflow id, incident type, step, recipient
id and channel names, never the message text or an address (they may name the subject).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import outbox_file
from activities.channels import Channel, Delivery
from activities.contracts import PHONE_SLOT, NotifyReceipt, NotifyRequest
from activities.duty_link import DutyLinker
from activities.http import DELIVERY_REJECTED, DELIVERY_UNAVAILABLE
from infra import metrics
from plan import texts
from plan.agencies import PER_INCIDENT, Agency, Directory
from plan.roster import ContactRoute, Roster, Target

log = structlog.get_logger("activities.notify")

UNKNOWN_RECIPIENT = "UnknownRecipient"
BAD_RECIPIENT = "BadRecipient"


def is_escalation(req: NotifyRequest) -> bool:
    """A message to the emergency office, or an escalation (a missed deadline, a failed notification)."""
    return (req.recipient is Agency.EMERGENCY_OFFICE or req.step.startswith("notify-failed")
            or req.step.endswith("-missed") or req.step.startswith("watch"))


class DrillLeak(ValueError):
    """A real channel was configured as the drill sink: refused when the worker starts."""


class Notifier:
    """Holds the directory, the roster and the channels; its bound method is the registered activity."""

    def __init__(
        self,
        directory: Directory,
        channel: Channel,
        drill_channel: Channel,
        *,
        roster: Roster | None = None,
        channels: Mapping[str, Channel] | None = None,
        clock: Callable[[], datetime] | None = None,
        bureau: str | None = None,
        linker: DutyLinker | None = None,
    ) -> None:
        if getattr(drill_channel, "real", True):
            raise DrillLeak(
                f"drill channel {getattr(drill_channel, 'name', drill_channel)!r} reaches real receivers: "
                "a drill may only use a drill sink (000 §6.2, 001 §7(2))"
            )
        self.directory = directory
        self.bureau = bureau
        """The bureau whose directory ``directory`` is (None: the shared ``config/directory.json``)."""
        self.channel = channel
        self.drill_channel = drill_channel
        self.roster = roster
        self.channels: dict[str, Channel] = {"outbox": channel, **dict(channels or {})}
        self.clock = clock or (lambda: datetime.now(UTC))
        self.linker = linker
        """Mints a duty task's signed board link (``activities/duty_link.py``); None: no board deployed."""

    def _fallback(self, record: dict) -> None:
        """The escalation fallback record, its message sealed like the outbox's (personal data at rest)."""
        from activities.channels import seal
        from infra.codec import EncryptionCodec

        codec = getattr(self.channel, "codec", None)
        outbox_file.write_fallback(seal(record, codec) if isinstance(codec, EncryptionCodec) else record)

    def _per_incident(self, req: NotifyRequest) -> tuple[str, str]:
        if not req.recipient_phone:
            raise ApplicationError(
                f"recipient {req.recipient.value}: no phone given in the incident",
                type=BAD_RECIPIENT,
                non_retryable=True,
            )
        return req.recipient_name_zh or req.recipient.zh, req.recipient_phone

    def _directory(self, req: NotifyRequest) -> Directory:
        """The bureau's own directory (its profile's bodies, issue 17), or the configured one."""
        if req.bureau is None or req.bureau == self.bureau:
            return self.directory
        from plan.bureaus import BureauError, profile

        try:
            return profile(req.bureau).directory()
        except BureauError as err:
            raise ApplicationError(str(err), type=UNKNOWN_RECIPIENT, non_retryable=True) from None

    def _resolve(self, req: NotifyRequest) -> tuple[str, str]:
        if req.recipient in PER_INCIDENT or req.recipient_phone:
            return self._per_incident(req)
        contact = self._directory(req).contact(req.recipient)
        if contact is None:
            raise ApplicationError(
                f"recipient {req.recipient.value}: not in the directory"
                f" ({f'config/bureaus/{req.bureau}.json' if req.bureau else 'config/directory.json'})",
                type=UNKNOWN_RECIPIENT,
                non_retryable=True,
            )
        return contact.name_zh, contact.phone

    def _route(self, req: NotifyRequest, person: tuple | None = None) -> tuple[str, str, list[tuple[Channel, Target | None, bool]]]:
        """Name, phone and the (channel, route, acknowledges) to deliver to. THE drill check lives here."""
        name_zh, phone = self._resolve(req)
        if req.drill:
            # 000 §6.2, 001 §7(2): a drill never reaches a real receiver; nothing below is consulted.
            sink = self.drill_channel
            if getattr(sink, "real", True):  # also guards a drill_channel swapped after construction
                raise DrillLeak("drill channel is real")
            return name_zh, phone, [(sink, None, False)]
        if self.roster is None:
            return name_zh, phone, [(self.channel, None, getattr(self.channel, "acknowledges", False))]
        person = person or self._duty_person(req)
        if person is not None:  # a duty task: to the one person on duty for the role, and only them
            pid, who = person
            name_zh = who.name_zh
            targets = [Target(c, f"{req.recipient.value}.{pid}.{c.id}") for c in who.contacts]
        elif req.recipient in PER_INCIDENT or req.recipient_phone:
            via = self.roster.per_incident_channel or self.roster.default_channel or "outbox"
            route = ContactRoute(id=req.recipient.value, channel=via, address=phone)
            targets = [Target(route, "")]
        else:
            resolution = self.roster.resolve(
                req.recipient, req.jurisdiction, at=self.clock(), directory=self.directory
            )
            if not resolution.targets:
                raise ApplicationError(
                    f"recipient {req.recipient.value}: nobody to reach in the roster",
                    type=UNKNOWN_RECIPIENT,
                    non_retryable=True,
                )
            name_zh = resolution.name_zh
            targets = resolution.targets
        out: list[tuple[Channel, Target | None, bool]] = []
        for t in targets:
            ch = self.channels.get(t.route.channel)
            if ch is None:  # load-time validation makes this unreachable; never drop silently
                raise ApplicationError(
                    f"recipient {req.recipient.value}: channel {t.route.channel!r} is not configured",
                    type=UNKNOWN_RECIPIENT,
                    non_retryable=True,
                )
            ack = bool(getattr(ch, "acknowledges", False) if t.route.acknowledges is None else t.route.acknowledges)
            out.append((ch, t, ack))
        return name_zh, phone, out

    def _duty_person(self, req: NotifyRequest):
        """A duty task's responsible person now (000 §5.2), from the roster; None without one."""
        if not req.duty_task or self.roster is None:
            return None
        return self.roster.duty_person(req.recipient, req.jurisdiction, at=self.clock())

    async def deliver_direct(self, req: NotifyRequest) -> bool:
        """Deliver outside any activity (the watcher, ``activities/watch.py``): every route of the
        recipient; True when all were served. A failure goes to the escalation fallback, never raises."""
        try:
            name_zh, phone, routes = self._route(req)
            now = datetime.now(UTC)
            results = await asyncio.gather(
                *(ch.deliver(Delivery(req, name_zh, phone, now.isoformat(),
                                      address=t.route.address if t else None, target_id=t.target_id if t else ""))
                  for ch, t, _ in routes),
                return_exceptions=True,
            )
            failed = [ch.name for (ch, _, _), r in zip(routes, results, strict=True) if isinstance(r, BaseException)]
        except Exception as err:  # routing itself failed (directory, roster)
            failed = [type(err).__name__]
        if failed:
            self._fallback({
                "idempotency_key": req.idempotency_key, "workflow_id": req.workflow_id, "step": req.step,
                "recipient": req.recipient.value, "drill": req.drill, "at": datetime.now(UTC).isoformat(),
                "failed": failed, "message_zh": req.message_zh,
            })
            return False
        return True

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
        person = self._duty_person(req)  # resolved once: the person named is the person reached
        number = None
        if req.duty_counterpart is not None and PHONE_SLOT in req.message_zh:
            contact = self.directory.contact(req.duty_counterpart)
            number = contact.phone if contact else "(号码未登记,请查通讯录)"
            req = req.model_copy(update={"message_zh": req.message_zh.replace(PHONE_SLOT, number)})
        if req.duty_task and self.linker is not None:  # the person's signed link (issue 18), the same on a retry
            url = self.linker.link(req, person, namespace=info.workflow_namespace or "default", scheduled_at=info.scheduled_time)
            if url is not None:
                req = req.model_copy(update={"message_zh": req.message_zh + texts.duty_link(url)})
            bound.info("duty task link", linked=url is not None)
        name_zh, phone, routes = self._route(req, person)
        activity.heartbeat("delivering")
        now = datetime.now(UTC)

        async def one(ch: Channel, target: Target | None) -> bool:
            delivery = Delivery(
                req,
                name_zh,
                phone,
                now.isoformat(),
                address=target.route.address if target else None,
                target_id=target.target_id if target else "",
            )
            return await ch.deliver(delivery)

        results = await asyncio.gather(*(one(ch, t) for ch, t, _ in routes), return_exceptions=True)
        delivered, transient, permanent = [], [], []
        for (ch, t, ack), res in zip(routes, results, strict=True):
            label = ch.name + (f"[{t.target_id}]" if t and t.target_id else "")
            if isinstance(res, BaseException):
                if isinstance(res, asyncio.CancelledError):
                    raise res
                final = isinstance(res, ApplicationError) and res.non_retryable
                if final:
                    permanent.append((label, res))
                else:
                    transient.append((label, res))
                metrics.notification_failed(ch.name, permanent=final, drill=req.drill)
            else:
                delivered.append((ch, t, ack, res))
                metrics.notification_sent(ch.name, drill=req.drill)
        if transient or permanent:
            bound.warning(
                "delivery failed",
                delivered=[c.name for c, *_ in delivered],
                transient=[lbl for lbl, _ in transient],
                permanent=[lbl for lbl, _ in permanent],
            )
            if is_escalation(req) and info.attempt == 1:
                # The emergency office's own channel failed (or an escalation did): a second path that
                # shares nothing with it, at once (activities/outbox_file.py, docs/operations.md).
                self._fallback({
                    "idempotency_key": req.idempotency_key, "workflow_id": req.workflow_id, "step": req.step,
                    "recipient": req.recipient.value, "drill": req.drill, "at": now.isoformat(),
                    "failed": [lbl for lbl, _ in permanent + transient], "message_zh": req.message_zh,
                })
            if len(routes) == 1:  # one route: its own error, type and retry advice unchanged
                raise (permanent + transient)[0][1]
            summary = "; ".join(f"{lbl}: {getattr(e, 'message', None) or type(e).__name__}" for lbl, e in permanent + transient)
            if delivered:
                summary += f"(已送达:{'、'.join(sorted({c.name for c, *_ in delivered}))})"
            if transient:  # retry: routes already served dedupe by their key
                raise ApplicationError(summary, type=DELIVERY_UNAVAILABLE)
            raise ApplicationError(summary, type=DELIVERY_REJECTED, non_retryable=True)
        channel_names = "+".join(dict.fromkeys(c.name for c, *_ in delivered))
        duplicate = all(d for *_, d in delivered)
        bound.info("notification delivered", channel=channel_names, duplicate=duplicate, routes=len(delivered))
        return NotifyReceipt(
            person=person[0] if person else None,
            person_zh=person[1].name_zh if person else "",
            counterpart_phone=number,
            idempotency_key=req.idempotency_key,
            channel=channel_names,
            recipient_name_zh=name_zh,
            delivered_at=now,
            duplicate=duplicate,
            attempt=info.attempt,
            ack_expected=any(ack for _, _, ack, _ in delivered),
        )
