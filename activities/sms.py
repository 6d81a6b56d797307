"""SMS through an HTTP gateway, provider-neutral: the URL, the body and the credentials come from
the channel configuration (``config/channels.example.json``).

``url_template`` and every string in ``body_template`` may use ``{to}`` (the phone number), ``{text}``
(the message), ``{key}`` (the idempotency key), ``{ack_key}`` (what the acknowledgement callback
returns, ``starter/ack_server.py``) and ``{sender}``; in the URL they are URL-encoded.
``body_format`` is ``json`` or ``form``; ``GET`` sends no body. Credentials: HTTP basic
(``username`` / ``password``) and/or a signature with ``secret`` (``X-Signature-256``, as the
webhook). Every request carries ``Idempotency-Key``; the error split is :mod:`activities.http`'s.
"""

from __future__ import annotations

import json
import re
from string import Formatter
from urllib.parse import quote

import httpx

from activities.channels import Delivery
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

PLACEHOLDERS = frozenset({"to", "text", "key", "ack_key", "sender"})
PHONE = re.compile(r"^\+?[0-9\-]{3,20}$")


def placeholders(template: str) -> set[str]:
    return {f for _, f, _, _ in Formatter().parse(template) if f is not None}


class SmsChannel:
    """One SMS gateway account."""

    real = True

    def __init__(
        self,
        name: str,
        *,
        url_template: str,
        method: str = "POST",
        body_template: dict[str, str] | None = None,
        body_format: str = "json",
        sender: str = "",
        username: str | None = None,
        password: str | None = None,
        secret: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        acknowledges: bool = False,
    ) -> None:
        self.name = name
        self.url_template = url_template
        self.method = method.upper()
        self.body_template = body_template
        self.body_format = body_format
        self.sender = sender
        self.secret = secret
        self.headers = dict(headers or {})
        self.acknowledges = acknowledges
        auth = httpx.BasicAuth(username, password or "") if username else None
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), auth=auth, follow_redirects=False)

    async def deliver(self, delivery: Delivery) -> bool:
        to = (delivery.address or delivery.recipient_phone or "").strip()
        if not PHONE.match(to):
            raise rejected(self.name, "not a phone number this gateway can text")
        values = {"to": to, "text": delivery.request.message_zh, "key": delivery.key,
                  "ack_key": encode_key(delivery.key), "sender": self.sender}
        url = self.url_template.format(**{k: quote(v, safe="") for k, v in values.items()})
        headers = {**self.headers, KEY_HEADER: header_value(delivery.key),
                   NOTIFICATION_KEY_HEADER: header_value(delivery.request.idempotency_key)}
        kwargs: dict = {"headers": headers}
        if self.method != "GET":
            fields = {k: v.format(**values) for k, v in (self.body_template or {"to": "{to}", "text": "{text}", "key": "{key}"}).items()}
            if self.body_format == "form":
                body = httpx.QueryParams(fields).__str__().encode("ascii")
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                body = json.dumps(fields, ensure_ascii=False).encode("utf-8")
                headers["Content-Type"] = "application/json; charset=utf-8"
            kwargs["content"] = body
            if self.secret:
                headers[SIGNATURE_HEADER] = sign(self.secret, body)
        elif self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, url.encode("utf-8"))
        return await post(self._client, self.name, self.method, url, **kwargs)

    async def aclose(self) -> None:
        await self._client.aclose()
