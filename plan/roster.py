"""Directory routes and duty roster (000 §5.2: 通讯畅通, 值班): how each recipient is reached, and when.

``config/roster.json`` says, for every recipient the plans name:

- ``agencies``: its contacts, each a channel (``config/channels.example.json``) and an address, and
  whether the receiver acknowledges (回执); per jurisdiction (a justice office or a county) where it
  differs;
- ``units``: the bureau's own units with a duty roster: who is on duty when (weekly shifts in China
  Standard Time), and the fallback chain used when nobody is on duty;
- ``people``: the duty officers and their contacts, and each one's duty board account
  (``board_account``, or ``board_account_none`` saying why not; checked when links are minted,
  ``activities/duty_link.py``);
- ``default_channel``: agencies without their own contacts are reached at their directory phone
  (``config/directory.json``) through this channel.

A recipient with nobody on duty falls back up its chain: a notification is never silently dropped.
The file is validated on load, including that every unit is reachable at every minute of the week;
errors name the file, the line and field, and the problem (:class:`RosterError`, a
:class:`~plan.agencies.DirectoryError`, so the worker exits with a clear message).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from plan.agencies import PER_INCIDENT, Agency, Directory, DirectoryError

CST = timezone(timedelta(hours=8), "CST")
"""China Standard Time: every shift in the roster is in it (no daylight saving)."""

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ROSTER_PATH = ROOT / "config" / "roster.json"

_ID = r"^[a-z0-9][a-z0-9_.\-]{0,39}$"


class RosterError(DirectoryError):
    """The roster or channel configuration is invalid; the message names file, line, field, problem."""


class Day(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


DAYS = list(Day)
DAY_ZH = dict(zip(DAYS, "一二三四五六日", strict=True))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContactRoute(_Model):
    """One way to reach a recipient: a channel and the address on it."""

    id: str = Field(pattern=_ID)
    """Stable id of this route: part of the key the receiver dedupes on (never a phone number)."""
    channel: str = Field(min_length=1, max_length=40)
    """A channel name from the channel configuration, or ``outbox``."""
    address: str | None = Field(default=None, max_length=300)
    """Phone number (SMS), e-mail address, or webhook URL; a webhook without one uses its channel's URL."""
    acknowledges: bool | None = None
    """The receiver calls back on receipt (回执); unset = the channel's default."""


class Person(_Model):
    """A duty officer (fictitious in the sample)."""

    name_zh: str = Field(min_length=1, max_length=50)
    contacts: list[ContactRoute] = Field(min_length=1)
    board_account: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9\-]{1,39}$")
    """The person's duty board account (``config/board-accounts.json``): their duty tasks carry its
    signed link (issue 18). Checked against the accounts when the worker mints links (``BOARD_URL``)."""
    board_account_none: str | None = Field(default=None, min_length=1, max_length=200)
    """Why the person has no board account (their duty tasks then carry no link)."""


class Shift(_Model):
    """A weekly shift in China Standard Time; ``end`` at or before ``start`` runs past midnight."""

    person: str = Field(pattern=_ID)
    days: list[Day] = Field(min_length=1)
    """The days the shift starts on."""
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")

    def _minutes(self) -> list[tuple[int, int]]:
        """Intervals [from, to) in minutes since Monday 00:00 (may wrap past Sunday)."""
        s = _hhmm(self.start)
        e = _hhmm(self.end)
        length = e - s if e > s else e - s + 24 * 60
        out = []
        for d in self.days:
            begin = DAYS.index(d) * 24 * 60 + s
            out.append((begin, begin + length))
        return out

    def covers(self, minute_of_week: int) -> bool:
        week = 7 * 24 * 60
        return any(b <= m < e for b, e in self._minutes() for m in (minute_of_week, minute_of_week + week))

    def boundaries(self) -> set[int]:
        week = 7 * 24 * 60
        return {x % week for b, e in self._minutes() for x in (b, e)}


def _hhmm(value: str) -> int:
    h, m = value.split(":")
    return int(h) * 60 + int(m)


class Unit(_Model):
    """A unit with a duty roster and the chain to fall back on when nobody is on duty."""

    shifts: list[Shift] = Field(default_factory=list)
    fallback: list[Agency] = Field(default_factory=list)
    """Units (or agencies with their own contacts) to tell, in order, when nobody here is on duty."""


class DutyOfficers(_Model):
    """Who holds a role's duties of people (phone, on site, verification) when its notifications go to a
    shared contact (a 司法所's duty phone): weekly shifts, per justice office or county where they differ."""

    shifts: list[Shift] = Field(default_factory=list)
    jurisdictions: dict[str, list[Shift]] = Field(default_factory=dict)
    """Keyed by justice office (e.g. ``东城司法所``) or county; the most specific match wins."""


class AgencyRoute(_Model):
    """How one agency is reached: its contacts, and where a jurisdiction differs, that jurisdiction's."""

    name_zh: str | None = Field(default=None, max_length=100)
    contacts: list[ContactRoute] = Field(default_factory=list)
    jurisdictions: dict[str, list[ContactRoute]] = Field(default_factory=dict)
    """Keyed by justice office (e.g. ``东城司法所``) or county (e.g. ``拱墅区``); the justice office wins."""


class Roster(_Model):
    """Routes, units and people; cross-checked on load (see the module docstring)."""

    default_channel: str | None = None
    per_incident_channel: str | None = None
    """How the subject's family and a party are reached at the phone given in the incident
    (default: ``default_channel``)."""
    agencies: dict[Agency, AgencyRoute] = Field(default_factory=dict)
    units: dict[Agency, Unit] = Field(default_factory=dict)
    people: dict[str, Person] = Field(default_factory=dict)
    duty_officers: dict[Agency, DutyOfficers] = Field(default_factory=dict)
    """Duty officers of roles without a unit roster (000 §5.2 值班制度; ``duty_person``)."""

    @field_validator("people")
    @classmethod
    def _people_ids(cls, value: dict[str, Person]) -> dict[str, Person]:
        for pid in value:
            if not re.match(_ID, pid):
                raise ValueError(f"person id {pid!r}: lower-case letters, digits, '_', '.', '-' only")
        return value

    # ------------------------------------------------------------------ checks against other files

    def channel_names(self) -> set[str]:
        names = {self.default_channel, self.per_incident_channel} - {None}
        for route in self.agencies.values():
            names |= {c.channel for c in route.contacts}
            names |= {c.channel for cs in route.jurisdictions.values() for c in cs}
        for person in self.people.values():
            names |= {c.channel for c in person.contacts}
        return {n for n in names if n is not None}

    def duty_people(self) -> list[str]:
        """Who can receive duty tasks (``duty_person``): everyone on a unit's or a role's shifts."""
        shifts = [sh for u in self.units.values() for sh in u.shifts]
        for officers in self.duty_officers.values():
            shifts += officers.shifts + [sh for group in officers.jurisdictions.values() for sh in group]
        return list(dict.fromkeys(sh.person for sh in shifts))

    def problems(self, directory: Directory, channels: set[str]) -> list[tuple[tuple, str]]:
        """(field path, problem) for every inconsistency with the directory and the channels."""
        out: list[tuple[tuple, str]] = []
        for pid, p in self.people.items():
            if p.board_account and p.board_account_none:
                out.append((("people", pid, "board_account_none"), "set board_account or board_account_none, not both"))
        for a, route in self.agencies.items():
            if a in PER_INCIDENT:
                out.append((("agencies", a.value), "reached at the phone given in the incident, not here"))
            ids = [c.id for c in route.contacts] + [c.id for cs in route.jurisdictions.values() for c in cs]
            if len(ids) != len(set(ids)):
                out.append((("agencies", a.value), "contact ids must be unique"))
        for u, unit in self.units.items():
            for i, shift in enumerate(unit.shifts):
                if shift.person not in self.people:
                    out.append((("units", u.value, "shifts", i, "person"), f"{shift.person!r} is not in people"))
            chain = [u]
            for nxt in unit.fallback:
                if nxt in chain:
                    out.append((("units", u.value, "fallback"), f"{nxt.value} is listed twice (or is the unit itself)"))
                elif nxt not in self.units and nxt not in self.agencies:
                    out.append((("units", u.value, "fallback"), f"{nxt.value} has neither a roster nor contacts"))
                chain.append(nxt)
        for r, officers in self.duty_officers.items():
            groups = [("shifts", officers.shifts)] + [(j, sh) for j, sh in officers.jurisdictions.items()]
            for name, shifts in groups:
                for i, shift in enumerate(shifts):
                    if shift.person not in self.people:
                        out.append((("duty_officers", r.value, name, i, "person"), f"{shift.person!r} is not in people"))
        if out:
            return out  # the checks below need a consistent roster
        for fld in ("default_channel", "per_incident_channel"):
            name = getattr(self, fld)
            if name is not None and name not in channels:
                out.append(((fld,), f"unknown channel {name!r} (known: {', '.join(sorted(channels))})"))
        for a, route in self.agencies.items():
            for i, c in enumerate(route.contacts):
                if c.channel not in channels:
                    out.append((("agencies", a.value, "contacts", i, "channel"), f"unknown channel {c.channel!r}"))
            for j, cs in route.jurisdictions.items():
                for i, c in enumerate(cs):
                    if c.channel not in channels:
                        out.append((("agencies", a.value, "jurisdictions", j, i, "channel"), f"unknown channel {c.channel!r}"))
        for pid, person in self.people.items():
            for i, c in enumerate(person.contacts):
                if c.channel not in channels:
                    out.append((("people", pid, "contacts", i, "channel"), f"unknown channel {c.channel!r}"))
        if self.default_channel is None:
            for a in Agency:
                if a in PER_INCIDENT or a in self.units or (a in self.agencies and self.agencies[a].contacts):
                    continue
                out.append((("agencies", a.value), "no contacts and no default_channel: it could never be notified"))
        for u in self.units:
            for minute in sorted(self._boundaries(u)):
                if not self.resolve(u, None, minute_of_week=minute, directory=directory).targets:
                    day, rest = divmod(minute, 24 * 60)
                    out.append(
                        (
                            ("units", u.value),
                            f"nobody reachable on {DAYS[day].value} {rest // 60:02d}:{rest % 60:02d} CST "
                            f"(chain {' → '.join([u.value] + [f.value for f in self.units[u].fallback])}): "
                            "add a shift, a fallback or contacts",
                        )
                    )
                    break
        return out

    def _boundaries(self, unit: Agency) -> set[int]:
        points = {d * 24 * 60 for d in range(7)}
        for u in [unit, *self.units[unit].fallback]:
            if u in self.units:
                for s in self.units[u].shifts:
                    points |= s.boundaries()
        return points

    # ------------------------------------------------------------------ resolution

    def on_duty(self, unit: Agency, minute_of_week: int) -> list[str]:
        u = self.units.get(unit)
        if u is None:
            return []
        seen: list[str] = []
        for s in u.shifts:
            if s.covers(minute_of_week) and s.person not in seen:
                seen.append(s.person)
        return seen

    def duty_person(
        self, role: Agency, jurisdiction: tuple[str, ...], *, at: datetime | None = None,
        minute_of_week: int | None = None,
    ) -> tuple[str, Person] | None:
        """The one person who holds ``role``'s duty now (000 §5.2): the role's duty officers (the
        jurisdiction's own shifts first), else the role's unit roster, else up its fallback chain; the
        first listed shift wins. None: nobody on duty anywhere (the task goes to the role's contacts)."""
        if minute_of_week is None:
            local = (at or datetime.now(CST)).astimezone(CST)
            minute_of_week = local.weekday() * 24 * 60 + local.hour * 60 + local.minute
        officers = self.duty_officers.get(role)
        if officers is not None:
            groups = [officers.jurisdictions[j] for j in jurisdiction if j in officers.jurisdictions]
            for shifts in [*groups, officers.shifts]:
                for sh in shifts:
                    if sh.covers(minute_of_week):
                        return sh.person, self.people[sh.person]
        chain = [role, *self.units[role].fallback] if role in self.units else []
        for unit in chain:
            people = self.on_duty(unit, minute_of_week)
            if people:
                return people[0], self.people[people[0]]
        return None

    def _agency_contacts(self, agency: Agency, jurisdiction: tuple[str, ...]) -> list[ContactRoute]:
        route = self.agencies.get(agency)
        if route is None:
            return []
        for j in jurisdiction:
            if j in route.jurisdictions:
                return list(route.jurisdictions[j])
        return list(route.contacts)

    def resolve(
        self,
        agency: Agency,
        jurisdiction: tuple[str, ...] | None,
        *,
        at: datetime | None = None,
        minute_of_week: int | None = None,
        directory: Directory,
    ) -> Resolution:
        """Who gets a notification to ``agency`` now: its contacts, its people on duty, and when nobody
        is on duty, the first unit up the fallback chain with someone on duty (or contacts)."""
        if minute_of_week is None:
            local = (at or datetime.now(CST)).astimezone(CST)
            minute_of_week = local.weekday() * 24 * 60 + local.hour * 60 + local.minute
        jur = tuple(jurisdiction or ())
        name = self._name(agency, directory)
        targets = [Target(c, f"{agency.value}.{c.id}") for c in self._agency_contacts(agency, jur)]
        if agency not in self.units:
            contact = directory.contact(agency)
            if not targets and self.default_channel and contact:
                targets = [
                    Target(
                        ContactRoute(id="default", channel=self.default_channel, address=contact.phone),
                        f"{agency.value}.default",
                    )
                ]
            return Resolution(name, targets)
        chain = [agency, *self.units[agency].fallback]
        for n, unit in enumerate(chain):
            people = self.on_duty(unit, minute_of_week)
            extra = [] if n == 0 else [Target(c, f"{unit.value}.{c.id}") for c in self._agency_contacts(unit, jur)]
            if people or (n > 0 and extra):
                for pid in people:
                    targets += [Target(c, f"{unit.value}.{pid}.{c.id}") for c in self.people[pid].contacts]
                targets += extra
                duty = "、".join(self.people[p].name_zh for p in people)
                if n == 0:
                    return Resolution(f"{name}(值班:{duty})", targets)
                via = self._name(unit, directory) + (f" 值班:{duty}" if duty else "")
                return Resolution(f"{name}(无人值班,转{via})", targets, fallback_to=unit)
        if targets:  # nobody on duty anywhere up the chain, but the unit's own contacts
            return Resolution(f"{name}(无人值班)", targets)
        return Resolution(name, [])

    @staticmethod
    def _name(agency: Agency, directory: Directory) -> str:
        c = directory.contact(agency)
        return c.name_zh if c else agency.zh


@dataclass(frozen=True)
class Target:
    """One delivery: a route and the stable id the receiver dedupes on (with the notification key)."""

    route: ContactRoute
    target_id: str


@dataclass(frozen=True)
class Resolution:
    name_zh: str
    targets: list[Target] = field(default_factory=list)
    fallback_to: Agency | None = None


# ---------------------------------------------------------------------- loading


def locate(text: str, loc: tuple) -> int | None:
    """Best-effort line of a field path in a JSON text (keys looked up in order)."""
    pos = 0
    found = False
    for part in loc:
        if isinstance(part, int):
            continue
        i = text.find(f'"{part}"', pos)
        if i < 0:
            break
        pos, found = i, True
    return text.count("\n", 0, pos) + 1 if found else None


def where(path: Path, text: str, loc: tuple) -> str:
    dotted = ".".join(str(p) for p in loc) or "(top level)"
    line = locate(text, loc)
    return f"{path}: line {line}: {dotted}" if line else f"{path}: {dotted}"


def read_json(path: Path, error: type[DirectoryError] = RosterError) -> tuple[str, object]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except UnicodeDecodeError as err:
        raise error(f"{path}: not UTF-8 text (byte {err.start}); save it as UTF-8") from None
    except OSError as err:
        raise error(f"{path}: cannot read: {err.strerror}") from None
    try:
        return text, json.loads(text)
    except json.JSONDecodeError as err:
        raise error(f"{path}: line {err.lineno}: invalid JSON: {err.msg}") from None


def validation_error(path: Path, text: str, err: ValidationError, error: type[DirectoryError] = RosterError):
    first = err.errors()[0]
    loc = tuple(first["loc"])
    msg = first["msg"].removeprefix("Value error, ")
    return error(f"{where(path, text, loc)}: {msg}")


def load_roster(path: Path | str, *, directory: Directory, channels: set[str]) -> Roster:
    """Load and validate the roster against the directory and the configured channel names."""
    path = Path(path)
    text, raw = read_json(path)
    try:
        roster = Roster.model_validate(raw)
    except ValidationError as err:
        raise validation_error(path, text, err) from None
    problems = roster.problems(directory, channels)
    if problems:
        loc, msg = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise RosterError(f"{where(path, text, loc)}: {msg}{more}")
    return roster
