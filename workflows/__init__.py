"""Incident workflows: one per incident type, named by clause (``c04_abscond.py`` = 001 §4(4)).

:data:`INCIDENT_WORKFLOWS` is the one registry the worker, the starter and the catalogue read.
"""

from __future__ import annotations

from temporalio import workflow

from workflows.base import IncidentWorkflow
from workflows.c04_abscond import AbscondFromSupervision
from workflows.l01_major_dispute import MajorDisputeMediation
from workflows.unknown import UnknownIncidentType

with workflow.unsafe.imports_passed_through():
    from plan.models import IncidentType

INCIDENT_WORKFLOWS: dict[IncidentType, type[IncidentWorkflow]] = {
    wf.TYPE: wf for wf in (MajorDisputeMediation, AbscondFromSupervision)
}

ALL_WORKFLOWS: list[type] = [*INCIDENT_WORKFLOWS.values(), UnknownIncidentType]


def workflow_type_name(incident_type: IncidentType) -> str:
    """The Temporal workflow type name of an incident type (e.g. ``C4AbscondFromSupervision``)."""
    defn = workflow._Definition.must_from_class(INCIDENT_WORKFLOWS[incident_type])
    assert defn.name
    return defn.name
