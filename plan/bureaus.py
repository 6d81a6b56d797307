"""Bureau profiles: which district bureau runs which plans, with which bodies (issue 17).

The two plans belong to two bureaus: 000 is 黄岩区司法局's linkage plan (台州市), 001 is 拱墅区司法局's
community-correction plan (杭州市; 001 §3(1) names 杭州市司法局, §6(3) 拱墅区). The product serves
district bureaus in general, and each adopts its own plans. A profile (``config/bureaus/<id>.json``) says:

- the bureau: id, name, district, city, province, and its Temporal **namespace** (one per bureau:
  its incidents, search attributes and codec keys are its own);
- the **plans it adopted** (``plans``): a linkage plan with 000's rules (``linkage``) and/or a
  correction plan with 001's rules (``correction``), each with its title; a plan's mechanics apply
  only where it is adopted (000's 30-minute arrival, 24-hour feedback and information report to the
  command centre: linkage; 001 §3's 总指挥部, report to 本级人民政府 and the city bureau: correction);
- **its own bodies** for each adopted plan's roles (``bodies.linkage``: 000 §2.1–§2.3's
  应急联动指挥领导小组, 应急办公室 and the four working groups; ``bodies.correction``: 001 §3's
  总指挥部, its 办公室, the 现场指挥部, the five groups, and the 社区矫正管理科);
- **the bodies above it** by name (``above``): 本级人民政府 (001 §3(1)); 区委区政府, 区委政法委 and
  the city bureau (000 §2.1); the higher correction agency and the procuratorate (001 §4); the command
  centre (000 §3);
- its **local contacts** (police, 120, justice offices …), roster file and local policies.

Every body has a name and a (fictitious, in the shipped profiles) phone. The profile is validated on
load: a role an adopted plan needs with no body, an unknown plan, a body or contact without a phone is
refused with the file and the field named (:class:`BureauError`, a
:class:`~plan.agencies.DirectoryError`, so the worker exits with one line).

``config/bureaus/counties.json`` is the **directory of bureaus** for 001 §5(1)'s cross-county notice
(涉及其他县(市、区)的,应当及时通报相关县(市、区)司法行政机关协助配合): each county's judicial bureau, its
contact, and, when it runs on this platform, its profile id.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from plan.agencies import Agency, Contact, Directory, DirectoryError
from plan.policy import DeadlinePolicy
from plan.roster import read_json, where

ROOT = Path(__file__).resolve().parent.parent
BUREAUS_DIR = ROOT / "config" / "bureaus"
COUNTIES_PATH = BUREAUS_DIR / "counties.json"

_ID = r"^[a-z][a-z0-9\-]{1,39}$"
_PHONE = r"^[0-9+\-]{3,20}$"
NAMESPACE_PATTERN = r"^[a-z][a-z0-9.\-]{1,62}$"


class BureauError(DirectoryError):
    """A bureau profile or the directory of bureaus is invalid; the message names file and field."""


class PlanKind(StrEnum):
    """The kinds of plan a bureau may adopt, each with one seed's rules."""

    LINKAGE = "linkage"
    """应急联动工作方案 with 000's rules (黄岩区司法行政系统应急联动工作方案)."""
    CORRECTION = "correction"
    """社区矫正突发事件应急处置预案 with 001's rules."""


PLAN_RULES = {PlanKind.LINKAGE: "000", PlanKind.CORRECTION: "001"}
"""Which seed's rules each plan kind follows (``../shared/seeds/``)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Body(_Model):
    """One body (机构) by its own name, and how it is reached."""

    name_zh: str = Field(min_length=1, max_length=100)
    phone: str = Field(pattern=_PHONE)


class AdoptedPlan(_Model):
    title_zh: str = Field(min_length=1, max_length=100)
    """The plan's title as the bureau issued it."""
    rules: str = Field(pattern=r"^(000|001)$")
    """The seed whose rules it follows; must match the plan kind (``PLAN_RULES``)."""


class LinkageRole(StrEnum):
    """000 §2.1–§2.3: the bodies a linkage plan sets up."""

    LEADERSHIP_GROUP = "leadership_group"
    """应急联动指挥领导小组 (000 §2.1)."""
    EMERGENCY_OFFICE = "emergency_office"
    """应急办公室 (000 §2.2)."""
    MEDIATION_GROUP = "mediation_group"
    LEGAL_SERVICE_GROUP = "legal_service_group"
    LEGAL_AID_GROUP = "legal_aid_group"
    CORRECTION_GROUP = "correction_group"
    """The four working groups (000 §2.3)."""


class CorrectionRole(StrEnum):
    """001 §3: the bodies a correction plan sets up."""

    COMMAND = "command"
    """社区矫正突发事件应急处置总指挥部 (001 §3(1)(2))."""
    COMMAND_OFFICE = "command_office"
    """总指挥部办公室, run by the 社区矫正管理科 (001 §3(2))."""
    ONSITE_COMMAND = "onsite_command"
    """现场指挥部 (001 §3(3))."""
    ONSITE_HANDLING = "onsite_handling"
    ORDER = "order"
    MEDICAL = "medical"
    LOGISTICS = "logistics"
    INFORMATION = "information"
    """The five specialised groups (001 §3(4))."""
    CORRECTION_SECTION = "correction_section"
    """社区矫正管理科 (001 §4, §5(1))."""


class AboveRole(StrEnum):
    """Bodies above the bureau the plans report to."""

    COMMAND_CENTRE = "command_centre"
    """区社会应急联动指挥中心 (000 §3, §4.2)."""
    DISTRICT_COMMITTEE_GOVERNMENT = "district_committee_government"
    """区委、区政府 (000 §2.1)."""
    PEOPLES_GOVERNMENT = "peoples_government"
    """本级人民政府 (001 §3(1))."""
    POLITICAL_LEGAL_COMMITTEE = "political_legal_committee"
    """区委政法委 (000 §2.1)."""
    CITY_JUSTICE_BUREAU = "city_justice_bureau"
    """市司法局 (000 §2.1; 杭州市司法局 in 001 §3(1))."""
    HIGHER_CORRECTION_AGENCY = "higher_correction_agency"
    """上一级社区矫正机构 (001 §4, §5(1))."""
    PROCURATORATE = "procuratorate"
    """执行地人民检察院 (001 §4)."""


class LocalRole(StrEnum):
    """Local contacts the clauses reach (not bodies of a plan)."""

    POLICE_110 = "police_110"
    POLICE_STATION = "police_station"
    POLICE_ORGAN = "police_organ"
    MEDICAL_120 = "medical_120"
    JUSTICE_OFFICE = "justice_office"
    PETITION_OFFICE = "petition_office"
    DECIDING_AUTHORITY = "deciding_authority"
    EPIDEMIC_DEPARTMENT = "epidemic_department"
    OTHER_COUNTY_BUREAU = "other_county_bureau"
    """Where a cross-county notice goes for a county missing from the directory of bureaus."""


#: What each adopted plan needs: (section, role) pairs, with the clause that names the role.
REQUIRED: dict[PlanKind, list[tuple[str, str, str]]] = {
    PlanKind.LINKAGE: [
        *(("bodies.linkage", r.value, "000 §2") for r in LinkageRole),
        ("above", AboveRole.COMMAND_CENTRE.value, "000 §3(1)"),
        ("above", AboveRole.DISTRICT_COMMITTEE_GOVERNMENT.value, "000 §2.1"),
        ("above", AboveRole.POLITICAL_LEGAL_COMMITTEE.value, "000 §2.1"),
        ("above", AboveRole.CITY_JUSTICE_BUREAU.value, "000 §2.1"),
        ("contacts", LocalRole.JUSTICE_OFFICE.value, "000 §4.2"),
        ("contacts", LocalRole.POLICE_110.value, "000 §1.3"),
    ],
    PlanKind.CORRECTION: [
        *(("bodies.correction", r.value, "001 §3") for r in CorrectionRole),
        ("above", AboveRole.PEOPLES_GOVERNMENT.value, "001 §3(1)"),
        ("above", AboveRole.CITY_JUSTICE_BUREAU.value, "001 §3(1)"),
        ("above", AboveRole.HIGHER_CORRECTION_AGENCY.value, "001 §5(1)"),
        ("above", AboveRole.PROCURATORATE.value, "001 §4(1)"),
        *(("contacts", r.value, "001 §4") for r in LocalRole),
    ],
}

#: The recipient (``plan.agencies.Agency``) each role is reached as.
AGENCY_OF_ROLE: dict[str, Agency] = {
    **{r.value: Agency(r.value) for r in LinkageRole},
    "command": Agency.CORRECTION_COMMAND,
    "command_office": Agency.CORRECTION_COMMAND_OFFICE,
    "correction_section": Agency.CORRECTION_SECTION,
    **{r.value: Agency(r.value) for r in AboveRole},
    **{r.value: Agency(r.value) for r in LocalRole},
}


class Bodies(_Model):
    linkage: dict[LinkageRole, Body] = Field(default_factory=dict)
    correction: dict[CorrectionRole, Body] = Field(default_factory=dict)


class BureauProfile(_Model):
    """One district bureau: who it is, which plans it runs, and the names of everyone it tells."""

    id: str = Field(pattern=_ID)
    """Stable id: ``--bureau``, file names, key files (``var/bureaus/<id>/``)."""
    name_zh: str = Field(min_length=1, max_length=50)
    """e.g. 台州市黄岩区司法局."""
    district_zh: str = Field(min_length=1, max_length=20)
    city_zh: str = Field(min_length=1, max_length=20)
    province_zh: str = Field(min_length=1, max_length=20)
    namespace: str = Field(pattern=NAMESPACE_PATTERN)
    """Its Temporal namespace (one per bureau); ``EMERGENCY_NAMESPACE_<BUREAU>`` overrides it per
    deployment (e.g. Temporal Cloud's ``gongshu.<account>``)."""
    plans: dict[str, AdoptedPlan] = Field(min_length=1)
    """Keyed by plan kind (``linkage``, ``correction``)."""
    bodies: Bodies = Field(default_factory=Bodies)
    above: dict[AboveRole, Body] = Field(default_factory=dict)
    contacts: dict[LocalRole, Body] = Field(default_factory=dict)
    roster: str | None = None
    """Its routes and duty roster (``plan/roster.py``), relative to the profile's file."""
    policy: DeadlinePolicy = Field(default_factory=DeadlinePolicy)
    """Local policies (deadlines never looser than the plans')."""
    example: bool = False
    """A documented example, not a real deployment (not started by ``./dev.sh up``)."""

    @model_validator(mode="after")
    def _plans_and_roles(self) -> BureauProfile:
        for key, plan in self.plans.items():
            if key not in PlanKind.__members__.values():
                known = ", ".join(k.value for k in PlanKind)
                raise ValueError(f"plans.{key}: unknown plan (known: {known})")
            if plan.rules != PLAN_RULES[PlanKind(key)]:
                raise ValueError(f"plans.{key}.rules: a {key} plan follows {PLAN_RULES[PlanKind(key)]}'s rules")
        for kind in self.adopted:
            for section, role, clause in REQUIRED[kind]:
                if self._body(section, role) is None:
                    raise ValueError(
                        f"{section}.{role}: no body for this role, which the adopted {kind.value} plan "
                        f"names ({clause})"
                    )
        return self

    def _body(self, section: str, role: str) -> Body | None:
        tables: dict[str, Mapping[Any, Body]] = {
            "bodies.linkage": self.bodies.linkage, "bodies.correction": self.bodies.correction,
            "above": self.above, "contacts": self.contacts,
        }
        table = tables[section]
        return next((b for k, b in table.items() if k.value == role), None)

    # ------------------------------------------------------------------ what the workflows ask

    @property
    def adopted(self) -> frozenset[PlanKind]:
        return frozenset(PlanKind(k) for k in self.plans)

    @property
    def linkage(self) -> bool:
        """000's mechanics apply (arrival 30 min, feedback 24 h, information report to the centre)."""
        return PlanKind.LINKAGE in self.adopted

    @property
    def correction(self) -> bool:
        """001's mechanics apply (总指挥部, report to 本级人民政府 and the city bureau)."""
        return PlanKind.CORRECTION in self.adopted

    def runs(self, type_id: str) -> bool:
        """Whether this bureau runs incident type ``type_id`` (L1–L4: linkage, C1–C11: correction)."""
        return (self.linkage and type_id.startswith("L")) or (self.correction and type_id.startswith("C"))

    def bodies_by_agency(self) -> dict[Agency, Body]:
        out: dict[Agency, Body] = {}
        tables: list[Mapping[Any, Body]] = [self.contacts, self.above, self.bodies.linkage, self.bodies.correction]
        for table in tables:
            for role, body in table.items():
                if role.value in AGENCY_OF_ROLE:
                    out[AGENCY_OF_ROLE[role.value]] = body
        return out

    def name_of(self, agency: Agency) -> str | None:
        """The bureau's own name for a recipient, or None when it has no such body."""
        body = self.bodies_by_agency().get(agency)
        return body.name_zh if body else None

    def directory(self) -> Directory:
        """The bureau's directory: every body and contact it named (the notify activity's lookup)."""
        return Directory.model_construct(
            agencies={a: Contact(name_zh=b.name_zh, phone=b.phone) for a, b in self.bodies_by_agency().items()}
        )


class County(_Model):
    """One entry of the directory of bureaus (001 §5(1) 相关县(市、区)司法行政机关)."""

    county_zh: str = Field(min_length=1, max_length=20)
    city_zh: str = Field(min_length=1, max_length=20)
    bureau_zh: str = Field(min_length=1, max_length=50)
    phone: str = Field(pattern=_PHONE)
    platform: str | None = Field(default=None, pattern=_ID)
    """The bureau's profile id when it runs on this platform (a linked 协助配合 incident is started
    in its namespace), else None (the notice goes to its contact)."""


class Counties(_Model):
    counties: list[County] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Counties:
        seen: set[str] = set()
        for i, c in enumerate(self.counties):
            if c.county_zh in seen:
                raise ValueError(f"counties.{i}.county_zh: {c.county_zh} listed twice")
            seen.add(c.county_zh)
        return self

    def find(self, county_zh: str) -> County | None:
        return next((c for c in self.counties if c.county_zh == county_zh), None)


# ---------------------------------------------------------------------- loading


def _load(path: Path, model: type[BaseModel]) -> BaseModel:
    text, raw = read_json(path, BureauError)
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        msg = first["msg"].removeprefix("Value error, ")
        loc = tuple(first["loc"])
        if not loc and ": " in msg and "." in msg.split(": ", 1)[0]:
            # a model-level check names its own field path
            dotted, msg = msg.split(": ", 1)
            loc = tuple(dotted.split("."))
        raise BureauError(f"{where(path, text, loc)}: {msg}") from None


def load_profile(path: Path | str) -> BureauProfile:
    """Load and validate one profile; the error names the file, the line and the field at fault."""
    path = Path(path)
    profile = _load(path, BureauProfile)
    assert isinstance(profile, BureauProfile)
    override = os.environ.get(f"EMERGENCY_NAMESPACE_{profile.id.upper().replace('-', '_')}")
    if override:
        import re

        if not re.match(NAMESPACE_PATTERN, override):
            raise BureauError(f"EMERGENCY_NAMESPACE_{profile.id.upper().replace('-', '_')}: "
                              f"{override!r} is not a namespace name")
        profile = profile.model_copy(update={"namespace": override})
    if path.stem != profile.id:
        raise BureauError(f"{path}: id: {profile.id!r} must match the file name ({path.stem!r})")
    if profile.roster is not None and not (path.parent / profile.roster).is_file():
        raise BureauError(f"{path}: roster: no such file: {path.parent / profile.roster}")
    return profile


def load_counties(path: Path | str = COUNTIES_PATH) -> Counties:
    counties = _load(Path(path), Counties)
    assert isinstance(counties, Counties)
    return counties


def profile_path(bureau: str, directory: Path | str | None = None) -> Path:
    """``config/bureaus/<id>.json`` (or ``EMERGENCY_BUREAUS_DIR``), refusing an unknown id in one line."""
    base = Path(directory or os.environ.get("EMERGENCY_BUREAUS_DIR") or BUREAUS_DIR)
    path = base / f"{bureau}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in base.glob("*.json") if p.stem != "counties"))
        raise BureauError(f"--bureau {bureau}: no profile {path} (known: {known})")
    return path


def shipped_ids(directory: Path | str | None = None) -> list[str]:
    """The real bureaus in the profiles directory (not the documented examples)."""
    base = Path(directory or os.environ.get("EMERGENCY_BUREAUS_DIR") or BUREAUS_DIR)
    out = []
    for p in sorted(base.glob("*.json")):
        if p.stem == "counties":
            continue
        if not load_profile(p).example:
            out.append(p.stem)
    return out


@cache
def profile(bureau: str) -> BureauProfile:
    """The profile of bureau ``bureau`` (``EMERGENCY_BUREAUS_DIR``, default ``config/bureaus/``), cached:
    the worker, the doors and the workflows read the same profile; workflows read it on every replay,
    so changing an adopted plan or a body of a profile is a plan revision (docs/operations.md)."""
    return load_profile(profile_path(bureau))


def load_bureaus(ids: list[str], directory: Path | str | None = None) -> list[BureauProfile]:
    """Profiles for ``ids`` (``EMERGENCY_BUREAUS``), each validated; namespaces must differ."""
    out = [load_profile(profile_path(i, directory)) for i in ids]
    seen: dict[str, str] = {}
    for p in out:
        if p.namespace in seen:
            raise BureauError(f"EMERGENCY_BUREAUS: {p.id} and {seen[p.namespace]} share namespace {p.namespace}")
        seen[p.namespace] = p.id
    return out


def bureaus_from_env(environ: dict[str, str] | None = None) -> list[str]:
    """``EMERGENCY_BUREAUS`` (comma-separated profile ids); empty = the single-namespace setup."""
    env = os.environ if environ is None else environ
    return [b.strip() for b in env.get("EMERGENCY_BUREAUS", "").split(",") if b.strip()]


@cache
def by_namespace(namespace: str) -> BureauProfile | None:
    """The shipped bureau whose namespace is ``namespace``, or None (e.g. ``default``: the
    single-namespace setup and the time-skipping tests, where the input names the bureau)."""
    base = Path(os.environ.get("EMERGENCY_BUREAUS_DIR") or BUREAUS_DIR)
    for p in sorted(base.glob("*.json")):
        if p.stem != "counties":
            prof = profile(p.stem)
            if prof.namespace == namespace:
                return prof
    return None


@cache
def counties() -> Counties:
    """The directory of bureaus (``counties.json`` beside the profiles; cached, like :func:`profile`)."""
    return load_counties(Path(os.environ.get("EMERGENCY_BUREAUS_DIR") or BUREAUS_DIR) / "counties.json")
