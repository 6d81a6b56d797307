"""The incidents' search attributes, defined once: what an officer filters on in the Web UI and CLI.

Registered by the dev server's start flags (:func:`dev_server_flags`, used by ``devstack.DevServer``)
and on a real cluster by ``python -m starter setup-search-attributes`` (:func:`register`, idempotent).
Set at start by ``starter.api`` and kept current by the workflow (phase and missed-deadline flag).

Search attributes are not encrypted by a payload codec and are visible to every reader of the
namespace: only the incident's type, flow, jurisdiction (county and justice office: places of
agencies, not of people), phase, flags and time go here. Never names, ID numbers, addresses, phones.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)

if TYPE_CHECKING:
    from temporalio.client import Client

    from plan.models import IncidentBase

INCIDENT_TYPE = SearchAttributeKey.for_keyword("IncidentType")
"""Catalogue id: L1..L4, C1..C11 (000 §1.4, 001 §4)."""
INCIDENT_FLOW = SearchAttributeKey.for_keyword("IncidentFlow")
"""``urgent`` / ``general`` (000 §4.3(1)(2))."""
INCIDENT_COUNTY = SearchAttributeKey.for_keyword("IncidentCounty")
"""The county / district, e.g. 黄岩区."""
INCIDENT_JUSTICE_OFFICE = SearchAttributeKey.for_keyword("IncidentJusticeOffice")
"""The justice office (司法所) handling it, e.g. 东城司法所."""
INCIDENT_PHASE = SearchAttributeKey.for_keyword("IncidentPhase")
"""``open`` (handling), ``handled`` (after handling: review, aftermath), ``closed``."""
INCIDENT_DEADLINE_MISSED = SearchAttributeKey.for_bool("IncidentDeadlineMissed")
"""True once any deadline of the incident was missed (000 §4.3, §3(3); 001 §7(4))."""
INCIDENT_DRILL = SearchAttributeKey.for_bool("IncidentDrill")
"""A drill (演练, 000 §6.2, 001 §7(2)): its notifications go to the drill outbox."""
INCIDENT_OCCURRED_AT = SearchAttributeKey.for_datetime("IncidentOccurredAt")
"""When the incident occurred (the input's ``occurred_at``)."""

WARNING_STATE = SearchAttributeKey.for_keyword("WarningState")
"""Issue 20, a warning (预警, 000 §4.1, 001 §7(1)): ``analysing``, ``proposed``, ``watching`` (open), ``closed``,
``dismissed``, ``escalated``. A warning also carries ``IncidentCounty`` and ``IncidentJusticeOffice`` (the
sign's office) and ``IncidentDeadlineMissed`` (its analysis, or the leadership's decision, is overdue),
not ``IncidentType``: it is not listed among incidents. (A SQL-visibility namespace takes at most 3
custom Bool and 10 Keyword attributes: the warning adds two keywords and no bool.)"""
WARNING_LEVEL = SearchAttributeKey.for_keyword("WarningLevel")
"""``blue`` .. ``red`` once a warning was raised; ``none`` before."""
WARNING_OPEN_STATES = ("analysing", "proposed", "watching")

WARNING_KEYS: tuple[SearchAttributeKey[Any], ...] = (WARNING_STATE, WARNING_LEVEL)
ALARM_KIND = SearchAttributeKey.for_keyword("AlarmKind")
"""A platform alarm's kind (信息化核查, 001 §4(4)): out_of_bounds, not_signed_in, device_separation, signal_lost."""
ALARM_JUSTICE_OFFICE = SearchAttributeKey.for_keyword("AlarmJusticeOffice")
"""The 司法所 whose duty the alarm's verification is (its 日报 and 月通报)."""
ALARM_OUTCOME = SearchAttributeKey.for_keyword("AlarmOutcome")
"""``pending`` (待核实), ``harmless`` (closed with its finding), ``incident`` (turned into a C4 incident)."""
ALARM_OVERDUE = SearchAttributeKey.for_bool("AlarmOverdue")
"""True once the alarm was not verified by its due time (escalated); stays True if verified late."""

ALL_KEYS: tuple[SearchAttributeKey[Any], ...] = (
    INCIDENT_TYPE,
    INCIDENT_FLOW,
    INCIDENT_COUNTY,
    INCIDENT_JUSTICE_OFFICE,
    INCIDENT_PHASE,
    INCIDENT_DEADLINE_MISSED,
    INCIDENT_DRILL,
    INCIDENT_OCCURRED_AT,
    *WARNING_KEYS,
    ALARM_KIND,
    ALARM_JUSTICE_OFFICE,
    ALARM_OUTCOME,
    ALARM_OVERDUE,
)

#: The Temporal CLI's type names (``--search-attribute Name=Type``).
_CLI_TYPE = {"KEYWORD": "Keyword", "BOOL": "Bool", "DATETIME": "Datetime", "TEXT": "Text", "INT": "Int",
             "DOUBLE": "Double", "KEYWORD_LIST": "KeywordList"}


def _type_name(key: SearchAttributeKey[Any]) -> str:
    return _CLI_TYPE[key.indexed_value_type.name]


def dev_server_flags() -> list[str]:
    """``temporal server start-dev`` flags registering every attribute."""
    flags: list[str] = []
    for key in ALL_KEYS:
        flags += ["--search-attribute", f"{key.name}={_type_name(key)}"]
    return flags


def for_incident(
    *,
    incident_type: str,
    flow: str,
    county: str,
    justice_office: str,
    drill: bool,
    occurred_at: datetime,
    phase: str = "open",
    deadline_missed: bool = False,
) -> TypedSearchAttributes:
    """The attributes of an incident at start (no personal data by construction: no such field)."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(INCIDENT_TYPE, incident_type),
            SearchAttributePair(INCIDENT_FLOW, flow),
            SearchAttributePair(INCIDENT_COUNTY, county),
            SearchAttributePair(INCIDENT_JUSTICE_OFFICE, justice_office),
            SearchAttributePair(INCIDENT_PHASE, phase),
            SearchAttributePair(INCIDENT_DEADLINE_MISSED, deadline_missed),
            SearchAttributePair(INCIDENT_DRILL, drill),
            SearchAttributePair(INCIDENT_OCCURRED_AT, occurred_at),
        ]
    )


def of_incident(incident: IncidentBase) -> TypedSearchAttributes:
    """The attributes of an incident input at start: the SDK door (``starter.api``) and an incident
    started by a warning or an alarm (``workflows/mechanics/handover.py``)."""
    return for_incident(
        incident_type=incident.incident_type.value,
        flow=incident.flow.value,
        county=incident.jurisdiction.county,
        justice_office=incident.jurisdiction.justice_office,
        drill=incident.drill,
        occurred_at=incident.occurred_at,
    )


def for_warning(*, county: str, justice_office: str, state: str = "analysing", level: str = "none",
                overdue: bool = False) -> TypedSearchAttributes:
    """The attributes of a warning at start (issue 20; no personal data: no such field)."""
    return TypedSearchAttributes([
        SearchAttributePair(WARNING_STATE, state),
        SearchAttributePair(WARNING_LEVEL, level),
        SearchAttributePair(INCIDENT_COUNTY, county),
        SearchAttributePair(INCIDENT_JUSTICE_OFFICE, justice_office),
        SearchAttributePair(INCIDENT_DEADLINE_MISSED, overdue),
    ])


def _quoted(name: str, value: str) -> str:
    if any(c in value for c in "'\"\\") or not value.strip():
        raise ValueError(f"{name}: {value!r} is not a valid filter value (no quotes or backslashes)")
    return f"'{value}'"


def warning_query(*, open_: bool | None = None, level: str | None = None, county: str | None = None,
                  justice_office: str | None = None, overdue: bool | None = None) -> str:
    """A visibility query for warnings (the Web UI's filter box, ``python -m starter warnings``)."""
    parts = _conditions(WARNING_STATE, ((WARNING_LEVEL, level), (INCIDENT_COUNTY, county),
                                        (INCIDENT_JUSTICE_OFFICE, justice_office)),
                        ((INCIDENT_DEADLINE_MISSED, overdue),))
    states = ", ".join(f"'{s}'" for s in WARNING_OPEN_STATES)
    if open_ is not None:
        parts.insert(1, f"{WARNING_STATE.name} {'IN' if open_ else 'NOT IN'} ({states})")
    return " AND ".join(parts)
def for_alarm(*, kind: str, justice_office: str, drill: bool) -> TypedSearchAttributes:
    """The attributes of a platform alarm at start (kind and 司法所: no personal data by construction);
    the day it was received is the system attribute ``StartTime``."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(ALARM_KIND, kind),
            SearchAttributePair(ALARM_JUSTICE_OFFICE, justice_office),
            SearchAttributePair(ALARM_OUTCOME, "pending"),
            SearchAttributePair(ALARM_OVERDUE, False),
            SearchAttributePair(INCIDENT_DRILL, drill),
        ]
    )


def changed_updates(
    present: TypedSearchAttributes, wanted: dict[SearchAttributeKey[Any], Any]
) -> list[SearchAttributeUpdate[Any]]:
    """The safe rule for workflows: update only keys the workflow already carries (so they are
    registered: the server accepted them at start) and only when the value changed. An incident
    started without attributes (time-skipping test server, a cluster where nobody ran
    ``setup-search-attributes``, a bare ``temporal workflow start``) never upserts: an unregistered
    attribute would fail every workflow task and wedge the incident."""
    updates: list[SearchAttributeUpdate[Any]] = []
    for key, value in wanted.items():
        if key in present and present.get(key) != value:
            updates.append(key.value_set(value))
    return updates


async def register(client: Client, namespace: str | None = None) -> tuple[list[str], list[str]]:
    """Add the missing attributes to the namespace through the operator service (idempotent).

    Returns (added, already present). Raises ValueError naming an attribute registered with a
    different type (it cannot be changed in place)."""
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import (
        AddSearchAttributesRequest,
        ListSearchAttributesRequest,
    )

    ns = namespace or client.namespace
    existing = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=ns))
    have = {**dict(existing.system_attributes), **dict(existing.custom_attributes)}
    missing: dict[str, Any] = {}
    present: list[str] = []
    for key in ALL_KEYS:
        want = IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{key.indexed_value_type.name}")
        if key.name in have:
            if have[key.name] != want:
                got = IndexedValueType.Name(have[key.name]).removeprefix("INDEXED_VALUE_TYPE_")
                raise ValueError(
                    f"search attribute {key.name}: registered as {got} in namespace {ns}, "
                    f"expected {key.indexed_value_type.name}"
                )
            present.append(key.name)
        else:
            missing[key.name] = want
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(search_attributes=missing, namespace=ns)
        )
    return sorted(missing), present


def _conditions(present: SearchAttributeKey[Any], equal: tuple[tuple[SearchAttributeKey[Any], str | None], ...],
                flags: tuple[tuple[SearchAttributeKey[Any], bool | None], ...]) -> list[str]:
    """``present IS NOT NULL`` and each given keyword (quoted, checked) and flag."""
    parts = [f"{present.name} IS NOT NULL"]
    parts += [f"{key.name} = {_quoted(key.name, value)}" for key, value in equal if value is not None]
    parts += [f"{key.name} = {'true' if flag else 'false'}" for key, flag in flags if flag is not None]
    return parts


def incident_query(
    *,
    incident_type: str | None = None,
    flow: str | None = None,
    county: str | None = None,
    justice_office: str | None = None,
    phase: str | None = None,
    deadline_missed: bool | None = None,
    drill: bool | None = None,
    running: bool | None = None,
) -> str:
    """A visibility query (the Web UI's filter box, ``temporal workflow list --query``) for incidents.

    ``IncidentType IS NOT NULL`` keeps drills' programmes and other workflows out of the list."""

    parts = _conditions(INCIDENT_TYPE, ((INCIDENT_TYPE, incident_type), (INCIDENT_FLOW, flow), (INCIDENT_COUNTY, county),
                                        (INCIDENT_JUSTICE_OFFICE, justice_office), (INCIDENT_PHASE, phase)),
                        ((INCIDENT_DEADLINE_MISSED, deadline_missed), (INCIDENT_DRILL, drill)))
    if running is not None:
        parts.append("ExecutionStatus = 'Running'" if running else "ExecutionStatus != 'Running'")
    return " AND ".join(parts)


def register_query(*, justice_office: str | None = None) -> str:
    """The 001 §7(4) register across workflows: incidents, warnings and screening periods (issue 20)."""
    return incident_query(justice_office=justice_office).replace(
        f"{INCIDENT_TYPE.name} IS NOT NULL",
        f"({INCIDENT_TYPE.name} IS NOT NULL OR WorkflowType IN ('Warning', 'ScreeningPeriod'))", 1)
def alarm_query(
    *,
    justice_office: str | None = None,
    kind: str | None = None,
    outcome: str | None = None,
    overdue: bool | None = None,
    drill: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> str:
    """A visibility query for platform alarms (``AlarmKind IS NOT NULL``); ``since``/``until`` bound
    ``StartTime`` (when the alarm was received), ``until`` exclusive."""
    parts = _conditions(ALARM_KIND, ((ALARM_JUSTICE_OFFICE, justice_office), (ALARM_KIND, kind), (ALARM_OUTCOME, outcome)),
                        ((ALARM_OVERDUE, overdue), (INCIDENT_DRILL, drill)))
    if since is not None:
        parts.append(f"StartTime >= '{since.isoformat()}'")
    if until is not None:
        parts.append(f"StartTime < '{until.isoformat()}'")
    return " AND ".join(parts)


async def registered(client: Client) -> bool:
    """True when every attribute is registered in the client's namespace with its type; False when
    any is missing or the server cannot tell (the time-skipping test server has no operator service)."""
    from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
    from temporalio.service import RPCError

    try:
        resp = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
    except RPCError:
        return False
    have = {**dict(resp.system_attributes), **dict(resp.custom_attributes)}
    return all(
        have.get(k.name) == int(k.indexed_value_type) for k in ALL_KEYS
    )
