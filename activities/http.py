"""What the HTTP channels (webhook, SMS gateway) share: signing, the key headers, and the error split.

- 2xx: delivered. A receiver that honours ``Idempotency-Key`` answers a repeat with 2xx too (and may
  say ``"duplicate": true`` in its JSON body, or answer 208/409 with the key): recorded as a duplicate.
- 5xx, 408, 429, timeouts, connection errors: transient, retried by the workflow's retry policy
  (``Retry-After`` is honoured up to 60 s).
- any other 4xx: permanent, a non-retryable :data:`DELIVERY_REJECTED` that names the channel and the
  status; the workflow records the failure and tells the emergency office at once.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import httpx
from temporalio.exceptions import ApplicationError

DELIVERY_REJECTED = "DeliveryRejected"
"""The receiver refused the notification (4xx, a bad address, a refused login): retrying cannot help."""
DELIVERY_UNAVAILABLE = "DeliveryUnavailable"
"""The receiver could not take it now (5xx, timeout, connection refused): retried with backoff."""

SIGNATURE_HEADER = "X-Signature-256"
KEY_HEADER = "Idempotency-Key"
NOTIFICATION_KEY_HEADER = "X-Notification-Key"


def sign(secret: bytes, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the exact request body with the endpoint's secret."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, signature: str | None) -> bool:
    return bool(signature) and hmac.compare_digest(sign(secret, body), signature.strip())


def rejected(channel: str, message: str) -> ApplicationError:
    return ApplicationError(f"{channel}: {message}", type=DELIVERY_REJECTED, non_retryable=True)


def unavailable(channel: str, message: str, retry_after: float | None = None) -> ApplicationError:
    delay = timedelta(seconds=min(retry_after, 60)) if retry_after else None
    return ApplicationError(f"{channel}: {message}", type=DELIVERY_UNAVAILABLE, next_retry_delay=delay)


async def post(
    client: httpx.AsyncClient, channel: str, method: str, url: str, **kwargs
) -> bool:
    """Send; return True when the receiver says it had the key already; raise classified errors."""
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise unavailable(channel, "timed out") from None
    except httpx.TransportError as err:
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
