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
- ``duty_roles``: where no roster names the person on duty, the roles whose duty tasks (and their
  signed links) go to this account (a 司法所's shared duty post); at most one account per role, office,
  county and namespace.

Who receives a duty task's signed link (``activities/duty_link.py``): the roster's person on duty and
their ``board_account`` (``config/roster.json`` ``people.<id>.board_account``), or, without a roster,
the account whose ``duty_roles`` has the task's role for the incident's office and county.

The session key (``BOARD_SECRET_KEY_FILE``, default ``var/board-secret``, created 0600 on first start)
encrypts the session cookie and keys the signed duty links (``infra/duty_links.py``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from infra import duty_links
from plan.agencies import Agency

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ACCOUNTS_FILE = ROOT / "config" / "board-accounts.json"
ENV_ACCOUNTS = "BOARD_ACCOUNTS_FILE"
ENV_SECRET = duty_links.ENV_SECRET


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
    duty_roles: list[Agency] = Field(default_factory=list)
    """The roles whose duty tasks reach this account's duty device when no roster names a person on duty
    (a deployment without ``EMERGENCY_ROSTER``: the task goes to the post's shared duty phone): e.g.
    ``["justice_office"]`` for a 司法所's duty post (matched with ``office`` and ``county``). With a
    roster, a person's account is the roster's ``people.<id>.board_account``."""

    @property
    def actor(self) -> str:
        """How the person's reports are signed on the timeline: 东城司法所 周立 (the unit and name)."""
        return f"{self.unit} {self.name}"


class Accounts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accounts: list[Account] = Field(default_factory=list)

    def get(self, account_id: str) -> Account | None:
        return next((a for a in self.accounts if a.id == account_id), None)

    def duty_post(self, role: Agency, namespace: str, jurisdiction: tuple[str, ...]) -> Account | None:
        """The account of the duty post that holds ``role``'s duty tasks for an incident of
        ``jurisdiction`` (justice office, county), when no roster names a person: the office's own post
        for a 司法所 role, else the county's."""
        for a in sorted(self.accounts, key=lambda a: not a.office):  # the office's own post first
            if role in a.duty_roles and a.namespace == namespace and a.county in jurisdiction \
                    and (a.office in jurisdiction if a.office else True):
                return a
        return None


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
    posts: dict[tuple, str] = {}
    for i, a in enumerate(accounts.accounts):
        for role in a.duty_roles:
            key = (role, a.namespace, a.county, a.office)
            if key in posts:
                raise BoardConfigError(f"{path}: accounts.{i}.duty_roles: {role.value} of {a.county}{a.office} "
                                       f"in namespace {a.namespace} is already {posts[key]!r}'s")
            posts[key] = a.id
    return accounts


def save_accounts(accounts: Accounts, path: Path | None = None) -> None:
    path = path or accounts_file()
    doc = {"accounts": [a.model_dump() for a in accounts.accounts]}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def secret_key(var: Path) -> bytes:
    """The board's secret (``infra.duty_links.secret_key``: created 0600 on first start)."""
    return duty_links.secret_key(var, create=True)
