"""Ids carry no personal data: the checks every door applies to workflow ids and alert ids.

A workflow id, search attribute or alert id is stored and shown in plain text (Temporal does not
encrypt them), so it must not hold an ID number, a phone number or any value of the people in the
incident. Pure functions (no I/O): used by ``plan.models`` (``alert_id``), ``starter.api`` (a
chosen workflow id) and the worker's guard (``infra.guard``, ids set by ``temporal workflow start``).
Messages never echo the id: it may be the personal data being refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

WORKFLOW_ID_CHARSET = re.compile(r"^[\w.:\-]{1,200}$")
"""Letters (Chinese included), digits, ``_ . : -``; no spaces, no ``/``; at most 200 characters."""
MOBILE = re.compile(r"(?<!\d)(?:\+?86|0086)?1[3-9]\d{9}(?!\d)")
"""A mobile number: 11 digits from 13… to 19…, optionally with the country code."""
ID_NUMBER = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|\d{15})(?![\dXx])")
"""A resident ID number: 18 characters (the last a digit or X) or the old 15 digits."""
LANDLINE = re.compile(r"(?<!\d)(?:0\d{2,3}[-_. ]\d{7,8}|0\d{10,11})(?!\d)")
"""An area code and a local number: 0576-84110001, or 057684110001 (11 or 12 digits from 0). A bare
run of 10 digits from 0 is not refused (an alert number with a date, say)."""


def _norm(text: str) -> str:
    return re.sub(r"[\s\-_.:()()·/]", "", text).lower()


def shape_problem(value: str) -> str | None:
    """Why ``value`` looks like personal data by its shape (digits), or None."""
    if ID_NUMBER.search(value):
        return "contains an ID-number-shaped run of digits"
    if MOBILE.search(value):
        return "contains a mobile-phone-shaped run of digits"
    if LANDLINE.search(value):
        return "contains a phone-number-shaped run of digits (area code and number)"
    return None


def personal_values(incident: Mapping[str, Any]) -> list[str]:
    """The values of the people in an incident input (a dict, as sent): names, ID number, phones, address."""
    out: list[str] = []

    def person(p: Any, fields: Iterable[str]) -> None:
        if isinstance(p, Mapping):
            out.extend(str(p[f]) for f in fields if isinstance(p.get(f), str | int) and str(p[f]).strip())

    sign = incident.get("sign")  # a warning's sign (issue 20, plan/warning.py): its concerned subject, recorder
    sign = sign if isinstance(sign, Mapping) else {}
    for subject in (incident.get("subject"), sign.get("concerned")):
        person(subject, ("name", "id_number", "phone", "address"))
        if isinstance(subject, Mapping):
            for f in subject.get("family") or []:
                person(f, ("name", "phone"))
    for p in (*(incident.get(r) for r in ("reporter", "commander", "complainant", "help_seeker", "responsible")),
              sign.get("recorder")):
        person(p, ("name", "phone"))
    return out


def value_problem(value: str, incident: Mapping[str, Any] | None) -> str | None:
    """Why ``value`` contains a value of a person in ``incident``, or None."""
    if not incident:
        return None
    have = _norm(value)
    for v in personal_values(incident):
        needle = _norm(v)
        digits = re.sub(r"\D", "", v)
        if len(needle) >= 2 and needle in have:
            return "contains a value of a person in the incident (name, ID number, phone or address)"
        if len(digits) >= 7 and digits in have:
            return "contains a phone or ID number of a person in the incident"
    return None


def alert_id_problem(alert_id: str, incident: Mapping[str, Any] | None = None) -> str | None:
    return shape_problem(alert_id) or value_problem(alert_id, incident)


def workflow_id_problem(workflow_id: str, incident: Mapping[str, Any] | None = None) -> str | None:
    """Why a workflow id may not be used, or None. The message names the rule, never the id."""
    if not WORKFLOW_ID_CHARSET.match(workflow_id):
        return "only letters, digits and _ . : - (no spaces or /), at most 200 characters"
    return shape_problem(workflow_id) or value_problem(workflow_id, incident)
