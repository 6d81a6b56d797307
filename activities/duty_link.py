"""The signed link a duty task carries to its person (issue 18): who gets one, and the link itself.

When the duty board is deployed (``BOARD_URL``: its base URL as a phone reaches it), every duty task the
``notify`` activity delivers ends with ``确认办理:<BOARD_URL>/d/<token>`` (``plan.texts.duty_link``), the
token minted by :class:`infra.duty_links.DutyLinks` for

- the **account** of the person it goes to: the roster's person on duty and their ``board_account``
  (``people.<id>.board_account``); without a roster (the task goes to the post's shared duty phone), the
  account whose ``duty_roles`` has the task's role for the incident's office and county
  (``web.config.Accounts.duty_post``); a person with ``board_account_none`` gets the task without a link;
- the **duty**: ``<workflow id>::duty/<duty id>``, the board's id of a person's duty (``web/duties.py``);
- the **namespace** the incident runs in (the bureau's, issue 17);
- an **expiry**: the due time the task states + ``BOARD_LINK_GRACE_MINUTES`` (``infra.duty_links.expiry``).

Everything that goes into the token is the same on every retry of the delivery (the person resolved at
delivery, the due time in the text, the activity's first scheduled time), so a retried delivery carries
the same link and its single use holds. Loading checks the roster against the accounts (one line naming
the file and field) and reads the board's secret without creating it (fail closed).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from activities.contracts import NotifyRequest
from infra.duty_links import DutyLinks, LinkConfigError, board_url, expiry, secret_key
from plan import texts
from plan.roster import Person, Roster, where

TASK_STEP = "duty-"
"""A duty task's step is ``duty-<duty id>`` (``workflows/mechanics/duties.py``)."""
PERSON = "duty/"
"""The board's id of a person's duty: ``<workflow id>::duty/<duty id>`` (``web/duties.py``)."""


class DutyLinker:
    """Mints the signed link of one duty task (see the module docstring)."""

    def __init__(self, base_url: str, links: DutyLinks, accounts, roster: Roster | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.links = links
        self.accounts = accounts
        self.roster = roster

    def account_for(self, req: NotifyRequest, person: tuple[str, Person] | None, namespace: str):
        """The board account the task's link is for, or None (no account: the task goes without one)."""
        if person is not None:
            _, who = person
            account = self.accounts.get(who.board_account) if who.board_account else None
        elif self.roster is None:
            account = self.accounts.duty_post(req.recipient, namespace, req.jurisdiction)
        else:  # a roster with nobody on duty: the task goes to the role's contacts, no person's link
            account = None
        return account if account is not None and account.namespace == namespace else None

    def link(self, req: NotifyRequest, person: tuple[str, Person] | None, *, namespace: str,
             scheduled_at: datetime) -> str | None:
        if not req.duty_task or not req.step.startswith(TASK_STEP) or req.step.endswith("-missed"):
            return None  # only the task itself; never an escalation about it
        account = self.account_for(req, person, namespace)
        if account is None:
            return None
        duty_id = f"{req.workflow_id}::{PERSON}{req.step.removeprefix(TASK_STEP)}"
        until = expiry(due_at=texts.duty_due(req.message_zh), scheduled_at=scheduled_at)
        return f"{self.base_url}/d/{self.links.mint(account.id, duty_id, namespace, expires_at=until)}"


def check_accounts(roster: Roster, roster_path: Path | str, accounts, accounts_path: Path,
                   namespace: str | None) -> None:
    """Every person who can receive duty tasks has a board account (of this namespace), or the roster
    says why not (``board_account_none``); LinkConfigError naming the file and field otherwise."""
    path = Path(roster_path)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    for pid in roster.duty_people():
        who = roster.people[pid]
        if who.board_account:
            account = accounts.get(who.board_account)
            if account is None:
                raise LinkConfigError(f"{where(path, text, ('people', pid, 'board_account'))}: "
                                      f"{who.board_account!r} is not an account of {accounts_path}")
            if namespace is not None and account.namespace != namespace:
                raise LinkConfigError(f"{where(path, text, ('people', pid, 'board_account'))}: "
                                      f"{who.board_account!r} serves namespace {account.namespace!r}, "
                                      f"this roster's bureau is in {namespace!r} ({accounts_path})")
        elif not who.board_account_none:
            raise LinkConfigError(f"{where(path, text, ('people', pid))}: a duty officer without a duty board "
                                  f"account: set board_account (an id of {accounts_path}) or board_account_none "
                                  "(why not)")


def from_env(var: Path, *, roster: Roster | None, roster_path: Path | str | None,
             namespace: str | None) -> DutyLinker | None:
    """The linker as deployed: None when ``BOARD_URL`` is unset (no board: duty tasks carry no link)."""
    url = board_url()
    if url is None:
        return None
    from web.config import BoardConfigError, accounts_file, load_accounts

    secret = secret_key(var, create=False)  # fail closed: never sign with a key the board lacks
    try:
        accounts = load_accounts()
    except BoardConfigError as err:
        raise LinkConfigError(str(err)) from None
    if roster is not None and roster_path is not None:
        check_accounts(roster, roster_path, accounts, accounts_file(), namespace)
    return DutyLinker(url, DutyLinks(secret, var / "board-used-links.json"), accounts, roster)
