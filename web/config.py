"""The duty board's configuration: the account list (typed, validated on load) and its secrets.

``config/board-accounts.json`` (or ``BOARD_ACCOUNTS_FILE``) lists who may sign in::

    {"accounts": [{"id": "hy-dongcheng-duty", "name": "周立", "unit": "东城司法所",
                   "office": "东城司法所", "county": "黄岩区", "namespace": "default",
                   "phone": "13900000011", "password_hash": "$argon2id$..."}]}

- ``id``: an opaque account id (lower-case letters, digits, ``-``): the only thing of a person that
  appears in a session, a signed link's log line or an audit record; never a name or a phone.
- ``namespace``: the bureau's Temporal namespace (issue 17: one namespace per bureau; default
  ``default``, today's single namespace); ``county``: the bureau's district. A person sees only
  incidents of their namespace and county; any other incident answers 404.
- ``office``: the 司法所 the person serves (their duties are that office's); empty for a bureau-level
  post (应急办公室, 社区矫正管理科), whose duties are every office's of the county.
- ``password_hash``: Argon2id (``python -m web.accounts add``); an account without one signs in only
  through the signed links of its duty messages.

The session key (``BOARD_SECRET_KEY_FILE``, default ``var/board-secret``, created 0600 on first start)
encrypts the session cookie and the signed duty links (Fernet: AES-128-CBC + HMAC-SHA256, timestamped).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ACCOUNTS_FILE = ROOT / "config" / "board-accounts.json"
ENV_ACCOUNTS = "BOARD_ACCOUNTS_FILE"
ENV_SECRET = "BOARD_SECRET_KEY_FILE"


class BoardConfigError(ValueError):
    """The board's configuration is invalid; the message names the file and the field."""


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]{1,39}$")
    name: str = Field(min_length=1, max_length=50)
    unit: str = Field(min_length=1, max_length=100)
    """The unit as the timeline names the person's reports: 东城司法所, 区司法局应急办公室."""
    county: str = Field(min_length=1, max_length=50)
    office: str = Field(default="", max_length=100)
    namespace: str = Field(default="default", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
    phone: str = Field(default="", pattern=r"^([0-9+\-]{3,20})?$")
    """The duty device the duty messages (with their signed links) go to."""
    password_hash: str = Field(default="", pattern=r"^(\$argon2id\$.+)?$")

    @property
    def actor(self) -> str:
        """How the person's reports are signed on the timeline: 东城司法所 周立 (the unit and name)."""
        return f"{self.unit} {self.name}"


class Accounts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accounts: list[Account] = Field(default_factory=list)

    def get(self, account_id: str) -> Account | None:
        return next((a for a in self.accounts if a.id == account_id), None)


def accounts_file() -> Path:
    return Path(os.environ.get(ENV_ACCOUNTS) or DEFAULT_ACCOUNTS_FILE)


def load_accounts(path: Path | None = None) -> Accounts:
    path = path or accounts_file()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise BoardConfigError(f"{path}: {err.strerror} (set {ENV_ACCOUNTS})") from None
    try:
        accounts = Accounts.model_validate_json(text)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise BoardConfigError(f"{path}: {loc}: {first['msg']}") from None
    ids = [a.id for a in accounts.accounts]
    dup = next((i for i in ids if ids.count(i) > 1), None)
    if dup:
        raise BoardConfigError(f"{path}: accounts: the id {dup!r} is used twice")
    return accounts


def save_accounts(accounts: Accounts, path: Path | None = None) -> None:
    path = path or accounts_file()
    doc = {"accounts": [a.model_dump() for a in accounts.accounts]}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def secret_key(var: Path) -> bytes:
    """32 random bytes (the session cookie's and the signed links' key), kept 0600 in a file."""
    path = Path(os.environ.get(ENV_SECRET) or var / "board-secret")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    try:
        key = base64.urlsafe_b64decode(path.read_text().strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise BoardConfigError(f"{path}: expected 32 bytes in URL-safe base64 ({ENV_SECRET})")
    return key
