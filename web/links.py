"""Signed duty links: what a duty message to a person's phone carries (issue 18).

A link is ``<board>/d/<token>``: the token is a Fernet token (AES-128-CBC, HMAC-SHA256, timestamp;
``cryptography``) of ``{"a": account id, "d": duty id, "ns": namespace, "j": link id}``, so it is

- **per person, per duty**: it opens that one duty of that one account, nothing else of the board;
- **bound to the bureau's namespace**: a token minted for one namespace is refused when the account
  now serves another (or the token is replayed against another bureau's board);
- **short-lived**: refused ``BOARD_LINK_TTL_MINUTES`` (default 120) after it was minted;
- **single use for the confirmation**: opening the link again shows the duty again, but the
  confirmation is taken once per link (the link id is consumed, kept in ``var/board-used-links.json``
  until it expires, so a restart does not re-open it);
- **opaque**: nothing in the URL is readable (no name, no phone, not even the account id), and the
  board never logs the token.
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
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

DEFAULT_TTL_MINUTES = 120
ENV_TTL = "BOARD_LINK_TTL_MINUTES"


def derived_key(secret: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose (cookie, links) from the board's secret (HMAC-SHA256)."""
    return hmac.new(secret, f"judicial-emergency/board/{purpose}/v1".encode(), hashlib.sha256).digest()


def link_ttl_seconds() -> int:
    return int(float(os.environ.get(ENV_TTL) or DEFAULT_TTL_MINUTES) * 60)


@dataclass(frozen=True)
class LinkClaim:
    account_id: str
    duty_id: str
    namespace: str
    link_id: str
    issued_at: int


class LinkError(ValueError):
    """A link that does not open: the message is for the person (Chinese), without details."""


class DutyLinks:
    def __init__(self, secret: bytes, used_file: Path, ttl_seconds: int | None = None) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derived_key(secret, "links")))
        self.ttl = ttl_seconds if ttl_seconds is not None else link_ttl_seconds()
        self._used_file = used_file
        self._lock = threading.Lock()

    def mint(self, account_id: str, duty_id: str, namespace: str, *, now: int | None = None) -> str:
        body = json.dumps({"a": account_id, "d": duty_id, "ns": namespace, "j": secrets.token_urlsafe(12)},
                          separators=(",", ":")).encode()
        if now is None:
            return self._fernet.encrypt(body).decode()
        return self._fernet.encrypt_at_time(body, now).decode()

    def open(self, token: str, *, now: int | None = None) -> LinkClaim:
        """The claim of a valid, unexpired token; LinkError otherwise (whatever the cause)."""
        try:
            at = int(time.time()) if now is None else now
            body = self._fernet.decrypt_at_time(token.encode(), self.ttl, at)
            issued = self._fernet.extract_timestamp(token.encode())
            doc = json.loads(body)
            claim = LinkClaim(str(doc["a"]), str(doc["d"]), str(doc["ns"]), str(doc["j"]), issued)
        except (InvalidToken, ValueError, KeyError, TypeError):
            raise LinkError("链接无效或已过期,请使用最新的值班任务短信中的链接,或登录值班看板。") from None
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
            used = self._read_used()
            now = int(time.time()) if now is None else now
            if claim.issued_at + self.ttl <= now:
                return False
            used = {k: exp for k, exp in used.items() if exp > now}  # expired links are refused anyway
            if claim.link_id in used:
                return False
            used[claim.link_id] = claim.issued_at + self.ttl
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
