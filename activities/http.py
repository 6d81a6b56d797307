"""What the HTTP channels (webhook, SMS gateway) share: signing, the key headers, and the error split.

- 2xx: delivered. A receiver that honours ``Idempotency-Key`` answers a repeat with 2xx too (and may
  say ``"duplicate": true`` in its JSON body, or answer 208/409 with the key): recorded as a duplicate.
- 5xx, 408, 429, timeouts, connection errors: transient, retried by the workflow's retry policy
  (``Retry-After`` is honoured up to 60 s).
- any other 4xx: permanent, a non-retryable :data:`DELIVERY_REJECTED` that names the channel and the
  status; the workflow records the failure and tells the emergency office at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import hmac
import ipaddress
from datetime import timedelta
from urllib.parse import quote, urlsplit

import httpx
from temporalio.exceptions import ApplicationError

DELIVERY_REJECTED = "DeliveryRejected"
"""The receiver refused the notification (4xx, a bad address, a refused login): retrying cannot help."""
DELIVERY_UNAVAILABLE = "DeliveryUnavailable"
"""The receiver could not take it now (5xx, timeout, connection refused): retried with backoff."""

SIGNATURE_HEADER = "X-Signature-256"
KEY_HEADER = "Idempotency-Key"
NOTIFICATION_KEY_HEADER = "X-Notification-Key"


def header_value(text: str) -> str:
    """A key as an HTTP header value: ASCII as is, anything else percent-encoded (UTF-8), so an
    incident id with Chinese characters can be sent (and the body carries the key verbatim)."""
    return quote(text, safe="".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%"))


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_problem(url: str) -> str | None:
    """Why a webhook or SMS gateway URL may not be used: ``https://`` only, plain ``http://`` only
    to a receiver on loopback (the personal data in a notification never crosses a network in clear)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return None
    return "must be https:// (http:// only to a receiver on loopback)"


def encode_key(key: str) -> str:
    """The ``ack_key`` of a delivery key: URL-safe base64 of its UTF-8, without padding."""
    return base64.urlsafe_b64encode(key.encode("utf-8")).decode("ascii").rstrip("=")


def decode_key(ack_key: str) -> str:
    if not isinstance(ack_key, str) or not 4 <= len(ack_key) <= 800 or not re.fullmatch(r"[A-Za-z0-9_\-]+", ack_key):
        raise ValueError
    try:
        return base64.urlsafe_b64decode(ack_key + "=" * (-len(ack_key) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError from None


ROUTE_CONTEXT = b"judicial-emergency/ack-route/v1|"


def route_secret(channel_secret: bytes, route_id: str) -> bytes:
    """The secret a contact (one roster route) signs its callbacks with: 64 hex characters, used as
    the HMAC key's UTF-8 bytes."""
    return hmac.new(channel_secret, ROUTE_CONTEXT + route_id.encode("utf-8"), hashlib.sha256).hexdigest().encode()


def sign(secret: bytes, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the exact request body with the endpoint's secret."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, signature: str | None) -> bool:
    return signature is not None and bool(signature) and hmac.compare_digest(sign(secret, body), signature.strip())


def rejected(channel: str, message: str) -> ApplicationError:
    return ApplicationError(f"{channel}: {message}", type=DELIVERY_REJECTED, non_retryable=True)


def unavailable(channel: str, message: str, retry_after: float | None = None) -> ApplicationError:
    delay = timedelta(seconds=min(retry_after, 60)) if retry_after else None
    return ApplicationError(f"{channel}: {message}", type=DELIVERY_UNAVAILABLE, next_retry_delay=delay)


async def post(
    client: httpx.AsyncClient, channel: str, method: str, url: str, **kwargs
) -> bool:
    """Send; return True when the receiver says it had the key already; raise classified errors.

    Certificates are verified (httpx's default, never turned off); a certificate that does not verify
    is a permanent refusal, as is a URL that is not ``https://`` (loopback excepted)."""
    problem = url_problem(url)
    if problem:
        raise rejected(channel, f"URL {problem}")
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise unavailable(channel, "timed out") from None
    except httpx.TransportError as err:
        if "CERTIFICATE_VERIFY_FAILED" in str(err) or "certificate verify failed" in str(err):
            raise rejected(channel, "TLS certificate not trusted (check the gateway's certificate)") from None
        raise unavailable(channel, f"cannot connect ({type(err).__name__})") from None
    status = response.status_code
    if status in (208, 409) and KEY_HEADER in kwargs.get("headers", {}):
        return True  # already delivered with this key (the receiver honours it)
    if 200 <= status < 300:
        try:
            body = response.json()
        except ValueError:
            return False
        return bool(isinstance(body, dict) and body.get("duplicate"))
    if status >= 500 or status in (408, 425, 429):
        retry_after = response.headers.get("Retry-After", "")
        raise unavailable(
            channel, f"HTTP {status}", float(retry_after) if retry_after.isdigit() else None
        )
    raise rejected(channel, f"HTTP {status} (refused by the receiver: check the address and credentials)")
