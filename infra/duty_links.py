"""Signed duty links: what a duty task message to a person's phone carries (issue 18).

Shared by the worker (the ``notify`` activity mints the link into the duty task, ``activities/duty_link.py``)
and the duty board (``web/``, which opens it); nothing here imports the web app.

A link is ``<board>/d/<token>``: the token is AES-SIV (``cryptography``; deterministic authenticated
encryption, RFC 5297) of ``{"a": account id, "d": duty id, "ns": namespace, "x": expiry}`` under a key
derived from the board's secret, so it is

- **per person, per duty**: it opens that one duty of that one account, nothing else of the board;
- **bound to the bureau's namespace**: refused when the account now serves another namespace (or the
  token is replayed against another bureau's board);
- **short-lived**: refused after its expiry, the duty's due time + ``BOARD_LINK_GRACE_MINUTES``
  (default 60) when the task says its due time, else ``BOARD_LINK_TTL_MINUTES`` (default 120) after the
  delivery was first scheduled;
- **single use for the confirmation**: the link id (a hash of the token's contents) is consumed on the
  confirmation and kept in ``var/board-used-links.json`` until the link expires; the same link opened
  again is refused;
- **deterministic**: the same person, duty, namespace and expiry give the same token, so a retried
  delivery (same first scheduled time, same due time) carries the very same link, and its single use
  holds across retries;
- **opaque**: nothing in the URL is readable (no name, no phone, not even the account id).

The secret (``BOARD_SECRET_KEY_FILE``, default ``var/board-secret``, 32 random bytes, 0600) is created
by ``./dev.sh up`` and by the board on first start; the worker only reads it and fails closed
(:class:`LinkConfigError`, one line) when the board's URL (``BOARD_URL``) is set and the secret is not there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from plan.agencies import DirectoryError

DEFAULT_TTL_MINUTES = 120
DEFAULT_GRACE_MINUTES = 60
ENV_TTL = "BOARD_LINK_TTL_MINUTES"
ENV_GRACE = "BOARD_LINK_GRACE_MINUTES"
ENV_SECRET = "BOARD_SECRET_KEY_FILE"
ENV_URL = "BOARD_URL"
"""The board's base URL as a phone reaches it (``https://board.example.gov.cn``); unset: no links."""
_AD = [b"judicial-emergency/duty-link/v2"]
REFUSED_ZH = "链接无效或已过期,请使用最新的值班任务短信中的链接,或登录值班看板。"  # (ours)
USED_ZH = "此链接已用于确认,不能再次使用;如需查看或补办,请登录值班看板。"  # (ours)


class LinkConfigError(DirectoryError):
    """The link secret or the board URL is missing or invalid: one line naming the file or variable."""


class LinkError(ValueError):
    """A link that does not open: the message is for the person (Chinese), without details."""


def derived_key(secret: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose (cookie, links) from the board's secret (HMAC-SHA256)."""
    return hmac.new(secret, f"judicial-emergency/board/{purpose}/v1".encode(), hashlib.sha256).digest()


def _minutes(env: str, default: int) -> timedelta:
    raw = os.environ.get(env) or ""
    try:
        value = float(raw) if raw else float(default)
    except ValueError:
        raise LinkConfigError(f"{env}: {raw!r} is not a number of minutes") from None
    if value <= 0:
        raise LinkConfigError(f"{env}: must be positive")
    return timedelta(minutes=value)


def link_ttl() -> timedelta:
    return _minutes(ENV_TTL, DEFAULT_TTL_MINUTES)


def link_grace() -> timedelta:
    return _minutes(ENV_GRACE, DEFAULT_GRACE_MINUTES)


def expiry(*, due_at: datetime | None, scheduled_at: datetime) -> int:
    """When a duty task's link expires (unix seconds): the duty's due time + grace, never before
    ``scheduled_at`` + grace; without a due time, ``scheduled_at`` + TTL. Both inputs are the same on
    every retry of the delivery, so the expiry (and the token) is too."""
    if due_at is None:
        return int((scheduled_at + link_ttl()).timestamp())
    return int((max(due_at, scheduled_at) + link_grace()).timestamp())


def secret_file(var: Path) -> Path:
    return Path(os.environ.get(ENV_SECRET) or var / "board-secret")


def secret_key(var: Path, *, create: bool = True) -> bytes:
    """32 random bytes (the session cookie's and the signed links' key), kept 0600 in a file.

    ``create``: make it when missing (the board, ``./dev.sh up``); the worker passes False and fails
    closed instead, so it never signs with a key the board does not have."""
    path = secret_file(var)
    if not path.exists():
        if not create:
            raise LinkConfigError(f"{path}: the duty board's link secret is missing ({ENV_SECRET}): "
                                  "start the board once (it creates it) and give the worker the same file, "
                                  f"or unset {ENV_URL}")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # created meanwhile by the other process
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    try:
        key = base64.urlsafe_b64decode(path.read_text().strip())
    except (ValueError, OSError):
        key = b""
    if len(key) != 32:
        raise LinkConfigError(f"{path}: expected 32 bytes in URL-safe base64 ({ENV_SECRET})")
    return key


def board_url() -> str | None:
    """``BOARD_URL`` without its trailing slash, checked; None when unset (duty tasks carry no link)."""
    url = (os.environ.get(ENV_URL) or "").strip().rstrip("/")
    if not url:
        return None
    if not url.startswith(("http://", "https://")) or any(c.isspace() for c in url) or "?" in url or "#" in url:
        raise LinkConfigError(f"{ENV_URL}: {url!r} is not an http(s) base URL (e.g. https://board.example.gov.cn)")
    return url


@dataclass(frozen=True)
class LinkClaim:
    account_id: str
    duty_id: str
    namespace: str
    link_id: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class DutyLinks:
    """Mints and opens duty link tokens; keeps the consumed ones (single use) in ``used_file``."""

    def __init__(self, secret: bytes, used_file: Path) -> None:
        key = derived_key(secret, "links") + derived_key(secret, "links-mac")  # AES-256-SIV: 64 bytes
        self._siv = AESSIV(key)
        self._used_file = used_file
        self._lock = threading.Lock()

    def mint(self, account_id: str, duty_id: str, namespace: str, *, expires_at: int) -> str:
        body = json.dumps({"a": account_id, "d": duty_id, "ns": namespace, "x": int(expires_at)},
                          separators=(",", ":"), sort_keys=True).encode()
        return _b64(self._siv.encrypt(body, _AD))

    def open(self, token: str, *, now: int | None = None) -> LinkClaim:
        """The claim of a valid, unexpired token; LinkError otherwise (whatever the cause)."""
        at = int(time.time()) if now is None else now
        try:
            raw = _unb64(token)
            body = self._siv.decrypt(raw, _AD)
            doc = json.loads(body)
            claim = LinkClaim(str(doc["a"]), str(doc["d"]), str(doc["ns"]),
                              _b64(hashlib.sha256(raw).digest()[:16]), int(doc["x"]))
        except (InvalidTag, ValueError, KeyError, TypeError):
            raise LinkError(REFUSED_ZH) from None
        if claim.expires_at <= at:
            raise LinkError(REFUSED_ZH)
        return claim

    # single use ---------------------------------------------------------------------------------

    def _read_used(self) -> dict[str, int]:
        try:
            doc = json.loads(self._used_file.read_text(encoding="utf-8"))
            return {str(k): int(v) for k, v in doc.items()}
        except (OSError, ValueError, AttributeError):
            return {}

    def used(self, claim: LinkClaim) -> bool:
        with self._lock:
            return claim.link_id in self._read_used()

    def consume(self, claim: LinkClaim, *, now: int | None = None) -> bool:
        """Mark the link's confirmation taken; False when it already was (a second confirmation) or
        the link has expired since it was opened."""
        with self._lock:
            now = int(time.time()) if now is None else now
            if claim.expires_at <= now:
                return False
            used = {k: exp for k, exp in self._read_used().items() if exp > now}  # expired: refused anyway
            if claim.link_id in used:
                return False
            used[claim.link_id] = claim.expires_at
            self._write_used(used)
            return True

    def release(self, claim: LinkClaim) -> None:
        """Give the confirmation back (the incident refused it): the person may try again."""
        with self._lock:
            used = self._read_used()
            if used.pop(claim.link_id, None) is not None:
                self._write_used(used)

    def _write_used(self, used: dict[str, int]) -> None:
        self._used_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._used_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(used, fh)
        tmp.replace(self._used_file)
