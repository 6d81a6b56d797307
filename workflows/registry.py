"""The one registry of workflow types: the worker, the starter and the catalogue read it.

Kept out of ``workflows/__init__.py`` so that the sandbox, which imports the ``workflows`` package
again for every new workflow run, does not import all sixteen workflow modules each time (measured in
docs/benchmarks.md: about a third of the worker's CPU per incident).
"""

from __future__ import annotations

from temporalio import workflow

from workflows.alarm import PlatformAlarm
from workflows.assist import AssistCrossCounty
from workflows.base import IncidentWorkflow
from workflows.c01_violence import ViolentCrimeOrSelfHarm
from workflows.c02_mass_incident import MassIncident
from workflows.c03_abnormal_petition import AbnormalPetition
from workflows.c04_abscond import AbscondFromSupervision
from workflows.c05_disrupts_activity import DisruptsActivity
from workflows.c06_abnormal_death import AbnormalDeath
from workflows.c07_activity_casualty import ActivityCasualty
from workflows.c08_workplace_violence import WorkplaceViolence
from workflows.c09_epidemic import Epidemic
from workflows.c10_sensitive_venue import SensitiveVenue
from workflows.c11_other import OtherEmergency
from workflows.drill import DrillProgramme
from workflows.l01_major_dispute import MajorDisputeMediation
from workflows.l02_lawyer_complaint import LawyerComplaint
from workflows.l03_legal_aid import LegalAid
from workflows.l04_correction_resettlement import CorrectionOrResettlement
from workflows.screening import ScreeningPeriod
from workflows.unknown import UnknownIncidentType
from workflows.warning import SignWarning

# One import per line, one registry entry per line (sorted by clause).

with workflow.unsafe.imports_passed_through():
    from plan.models import IncidentType

_REGISTERED: list[type[IncidentWorkflow]] = [
    MajorDisputeMediation,  # L1 000 §1.4(1)
    LawyerComplaint,  # L2 000 §1.4(2)
    LegalAid,  # L3 000 §1.4(3)
    CorrectionOrResettlement,  # L4 000 §1.4(4)
    ViolentCrimeOrSelfHarm,  # C1 001 §4(1)
    MassIncident,  # C2 001 §4(2)
    AbnormalPetition,  # C3 001 §4(3)
    AbscondFromSupervision,  # C4 001 §4(4)
    DisruptsActivity,  # C5 001 §4(5)
    AbnormalDeath,  # C6 001 §4(6)
    ActivityCasualty,  # C7 001 §4(7)
    WorkplaceViolence,  # C8 001 §4(8)
    Epidemic,  # C9 001 §4(9)
    SensitiveVenue,  # C10 001 §4(10)
    OtherEmergency,  # C11 001 §4(11)
]

INCIDENT_WORKFLOWS: dict[IncidentType, type[IncidentWorkflow]] = {
    wf.TYPE: wf for wf in sorted(_REGISTERED, key=lambda wf: (wf.TYPE.value[0] != "L", int(wf.TYPE.value[1:])))
}

ALL_WORKFLOWS: list[type] = [*INCIDENT_WORKFLOWS.values(), DrillProgramme, UnknownIncidentType, AssistCrossCounty,
                             SignWarning, ScreeningPeriod, PlatformAlarm]  # issue 20: warnings, screening, platform alarms


def workflow_type_name(incident_type: IncidentType) -> str:
    """The Temporal workflow type name of an incident type (e.g. ``C4AbscondFromSupervision``)."""
    defn = workflow._Definition.must_from_class(INCIDENT_WORKFLOWS[incident_type])
    assert defn.name
    return defn.name
