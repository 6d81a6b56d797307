"""HTTP webhook channel: the command centre's platform and agencies' gateways (JSON, HMAC-signed).

Each request is a ``POST`` of one JSON object (UTF-8)::

    {"key": "<idempotency key>", "ack_key": "<for the acknowledgement callback>", "notification_key": "<workflow id>/<step>/<recipient>",
     "workflow_id": ..., "incident_type": "C1", "step": "alarm-110", "clause": "001 §4(1)",
     "recipient": "police_110", "recipient_name_zh": ..., "drill": false, "message_zh": ..., "sent_at": ...}

with headers ``Idempotency-Key`` (= ``key``), ``X-Notification-Key`` and ``X-Signature-256:
sha256=<hex HMAC-SHA256 of the body with the endpoint's secret>``. A gateway that honours the key
delivers a repeat once. Errors: see :mod:`activities.http` (5xx/timeouts retried, 4xx fail fast).
A gateway acknowledges by calling ``starter/ack_server.py`` back with ``ack_key`` (docs/channels.md).
URLs must be ``https://`` (``http://`` only on loopback); certificates are verified.
"""

from __future__ import annotations

import json

import httpx

from activities.channels import Delivery, delivery_fields
from activities.http import (
    KEY_HEADER,
    NOTIFICATION_KEY_HEADER,
    SIGNATURE_HEADER,
    encode_key,
    header_value,
    post,
    rejected,
    sign,
)


def payload(delivery: Delivery) -> dict:
    return {
        "key": delivery.key,
        "ack_key": encode_key(delivery.key),
        "notification_key": delivery.request.idempotency_key,
        **delivery_fields(delivery),
        "sent_at": delivery.delivered_at,
    }


class WebhookChannel:
    """POSTs signed JSON to one endpoint (or to the URL a roster contact names)."""

    real = True

    def __init__(
        self,
        name: str,
        *,
        url: str | None,
        secret: bytes,
        timeout: float = 10.0,
        acknowledges: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self.secret = secret
        self.acknowledges = acknowledges
        self.headers = dict(headers or {})
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False)

    async def deliver(self, delivery: Delivery) -> bool:
        url = delivery.address or self.url
        if not url or not url.startswith(("http://", "https://")):
            raise rejected(self.name, "no webhook URL for this recipient")
        body = json.dumps(payload(delivery), ensure_ascii=False).encode("utf-8")
        headers = {
            **self.headers,
            "Content-Type": "application/json; charset=utf-8",
            KEY_HEADER: header_value(delivery.key),
            NOTIFICATION_KEY_HEADER: header_value(delivery.request.idempotency_key),
            SIGNATURE_HEADER: sign(self.secret, body),
        }
        return await post(self._client, self.name, "POST", url, content=body, headers=headers)

    async def aclose(self) -> None:
        await self._client.aclose()
