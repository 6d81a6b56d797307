"""One state model of an incident: everything a run has learnt, carried whole into the next run.

Every mutable fact of an incident lives in :class:`IncidentState` (the components under
``workflows/mechanics/`` read and change it); continue-as-new carries it as it is (:class:`Continued`),
so there is no list of fields to copy by hand and nothing a component adds can be forgotten. A clause's
own facts (e.g. the day count of 001 §4(9) 情形三) are its typed part, ``clause``, validated by the
clause's own model (``IncidentWorkflow.ClauseState``).

Defined here, outside ``workflows/``, so that the sandbox does not rebuild the pydantic schema for every
workflow run (passed through, like the rest of ``plan``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from plan.models import (
    REPORT_ADAPTER,
    CarriedState,
    Deadline,
    DispatchInstruction,
    IncidentInput,
    IncidentPhase,
    Obligation,
    Report,
    TimelineEntry,
)


class IncidentState(BaseModel):
    """All mutable state of one incident (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    run: int = 1
    """Which run of the incident this is (continue-as-new keeps each history bounded)."""
    phase: IncidentPhase = IncidentPhase.OPEN
    timeline: list[TimelineEntry] = Field(default_factory=list)
    archived: int = 0
    """Timeline entries of earlier runs kept outside the history (their count; ``timeline`` holds the rest)."""
    course: list[str] = Field(default_factory=list)
    """The decisions and situations of the handling, for the written report (000 §4.2 经过)."""
    deadlines: dict[str, Deadline] = Field(default_factory=dict)
    obligations: dict[str, Obligation] = Field(default_factory=dict)
    """001 §7(4): every report the plans require, by ``<step>/<recipient>``."""
    reports: list[Report] = Field(default_factory=list)
    consumed: set[int] = Field(default_factory=set)
    """Indexes into ``reports`` that the clause has taken (``next_report``)."""
    report_ids: dict[str, int] = Field(default_factory=dict)
    """report_id -> timeline seq of the report first sent with it."""
    report_hashes: dict[str, str] = Field(default_factory=dict)
    """report_id -> fingerprint of the report first sent with it (a reuse with other content is refused)."""
    awaiting: list[str] = Field(default_factory=list)
    """Report kinds the clause's current ``next_report`` waits for (cleared the moment one is accepted)."""
    standing: list[str] = Field(default_factory=list)
    """Report kinds a recurring duty takes for as long as it runs (e.g. 001 §4(9) 情形三's daily contact)."""
    clause_done: bool = False
    """The clause's own steps (``respond``) are finished; only then can handling be closed."""
    dispatch: DispatchInstruction | None = None
    arrived: bool = False
    feedback_sent: bool = False
    plan_active: bool = False
    plan_activated: bool = False
    command: dict[str, str] = Field(default_factory=dict)
    release: str = "none"
    release_content: str = ""
    related: list[str] = Field(default_factory=list)
    ack_of: dict[str, str] = Field(default_factory=dict)
    """Idempotency key of a notification (or its re-send) -> the acknowledgement deadline it answers."""
    clause: dict[str, Any] = Field(default_factory=dict)
    """The clause's own part, in its JSON form (validated by the clause's ``ClauseState`` model)."""

    @classmethod
    def from_legacy(cls, c: CarriedState) -> IncidentState:
        """A run continued by a worker before the one state model (``carried``): the same facts."""
        clause = dict(c.clause_state)
        return cls(
            run=c.run,
            timeline=list(c.timeline),
            deadlines={d.id: d for d in c.deadlines},
            obligations={o.id: o for o in c.obligations},
            reports=[REPORT_ADAPTER.validate_python(r) for r in c.reports],
            consumed=set(c.consumed),
            report_ids=dict(c.report_ids),
            report_hashes=dict(c.report_hashes),
            dispatch=c.dispatch,
            arrived=c.arrived,
            feedback_sent=c.feedback_sent,
            course=list(c.course),
            plan_active=c.plan_active,
            plan_activated=c.plan_activated,
            command=dict(c.command),
            release=c.release,
            release_content=c.release_content,
            clause=clause,
        )


class Continued(BaseModel):
    """The argument of a continued run: the original input and the whole state."""

    model_config = ConfigDict(extra="forbid")

    input: IncidentInput
    state: IncidentState


class NoClauseState(BaseModel):
    """The clause part of a clause that keeps no facts of its own."""

    model_config = ConfigDict(extra="forbid")
