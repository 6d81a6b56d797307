"""``IncidentInput``: one variant per group of incident types, chosen by ``incident_type`` (as
``Report`` is by ``kind``), with the JSON of before: every example, every recorded input and every
refusal message stays as it was."""

from __future__ import annotations

import json

import pytest
from helpers import EXAMPLES, example
from pydantic import ValidationError

from plan.models import (
    INCIDENT_INPUT_ADAPTER,
    CorrectionInput,
    DisputeInput,
    EpidemicInput,
    IncidentType,
    LawyerComplaintInput,
    LegalAidInput,
    ResettlementInput,
    ViolenceInput,
    WorkplaceViolenceInput,
    canonical_json,
    describe_validation_error,
    fields_not_taken,
)
from starter.api import incident_workflow_id

VARIANT = {
    "L1": DisputeInput, "L2": LawyerComplaintInput, "L3": LegalAidInput, "L4": ResettlementInput,
    "C1": ViolenceInput, "C8": WorkplaceViolenceInput, "C9-S1": EpidemicInput, "C9-S3": EpidemicInput,
    **{t: CorrectionInput for t in ("C2", "C3", "C4", "C5", "C6", "C7", "C10", "C11")},
}

#: Every optional field of the one flat model of before, at its default: what a recorded input (the
#: SDK door serialised the whole model) carries besides its own fields.
FLAT_DEFAULTS = {
    "alert_id": None, "current_situation": "", "measures_taken": [], "subject": None, "dispatch": None,
    "other_counties": [], "major": False, "drill": False, "casualties": False, "at_justice_office": False,
    "epidemic": None, "complainant": None, "help_seeker": None, "l4": None, "handed_over_from": None,
}


def refusal(data: object) -> str:
    with pytest.raises(ValidationError) as err:
        INCIDENT_INPUT_ADAPTER.validate_python(data)
    return describe_validation_error(err.value)


@pytest.mark.parametrize("name", sorted(VARIANT))
def test_every_example_is_its_types_variant_and_dumps_back_to_itself(name: str) -> None:
    data = example(name)
    inp = INCIDENT_INPUT_ADAPTER.validate_python(data)
    assert type(inp) is VARIANT[name] and inp.incident_type == IncidentType(data["incident_type"])
    assert INCIDENT_INPUT_ADAPTER.dump_python(inp, mode="json", exclude_unset=True) == data
    assert INCIDENT_INPUT_ADAPTER.validate_json(INCIDENT_INPUT_ADAPTER.dump_json(inp)) == inp


@pytest.mark.parametrize("name", sorted(VARIANT))
def test_an_input_recorded_by_the_flat_model_still_validates(name: str) -> None:
    """Histories and continued runs carry every field of before; the fields the type does not take
    come at their defaults and are dropped, so they replay unchanged."""
    data = example(name)
    recorded = {**FLAT_DEFAULTS, **data}
    assert INCIDENT_INPUT_ADAPTER.validate_python(recorded) == INCIDENT_INPUT_ADAPTER.validate_python(data)
    assert fields_not_taken(recorded) == []


def test_the_workflow_id_of_a_direct_request_hashes_the_flat_input_as_before() -> None:
    """A retry sent across the upgrade finds the same incident (values computed before the variants)."""
    for name, wf_id in (("C4", "incident-C4-h8323528f83e565a08beb"), ("L4", "incident-L4-h3067af5439791ab46b43"),
                        ("C9-S3", "incident-C9-hf1476d4e339932445ae0"), ("C1", "incident-C1-h71fbce9c003f20e88623")):
        data = {k: v for k, v in example(name).items() if k != "alert_id"}
        inp = INCIDENT_INPUT_ADAPTER.validate_python(data)
        assert incident_workflow_id(inp) == wf_id
        assert json.loads(canonical_json(inp))["complainant"] is None  # every field of before, in its order


@pytest.mark.parametrize(
    "data,expected",
    [
        (example("C4", subject=None), "subject: required for correction incident C4"),
        ({k: v for k, v in example("C7").items() if k != "subject"}, "subject: required for correction incident C7"),
        (example("C9-S1", epidemic=None), "epidemic: required for C9 (scenario S1–S4, 001 §4(9))"),
        (example("L3", help_seeker=None), "help_seeker: required for L3 (法律援助)"),
        (example("L4", l4=None), "l4: required for L4 (person, and correction_type for a correction subject)"),
        (example("C4", epidemic={"scenario": "S1"}), "(whole input): Value error, epidemic: only for C9, not C4"),
        (example("C2", l4={"person": "released_prisoner"}), "(whole input): Value error, l4: only for L4, not C2"),
        ({k: v for k, v in example("C4").items() if k != "place"}, "place: Field required"),
        (example("C4", incident_type="C12"), "incident_type: Input should be 'L1', 'L2', 'L3', 'L4', 'C1', 'C2', "
                                             "'C3', 'C4', 'C5', 'C6', 'C7', 'C8', 'C9', 'C10' or 'C11'"),
        ({k: v for k, v in example("C4").items() if k != "incident_type"}, "incident_type: Field required"),
    ],
    ids=["subject none", "subject missing", "epidemic", "help_seeker", "l4", "epidemic elsewhere", "l4 elsewhere",
         "place", "unknown type", "no type"],
)
def test_refusals_name_the_field_in_our_words(data: dict, expected: str) -> None:
    message = refusal(data)
    assert message.startswith(expected), message
    assert "C4." not in message and "C7." not in message  # the variant is not part of the field's name


def test_a_field_another_type_takes_is_refused_at_the_doors_only_with_a_value() -> None:
    assert fields_not_taken(example("C2", casualties=True, complainant={"name": "王某", "phone": "13800000000"})) == [
        "complainant: only for L2, not C2", "casualties: only for C1 and L4, not C2"]
    assert fields_not_taken(example("L1", other_counties=["临海市"])) == ["other_counties: only for C1–C11 and L4, not L1"]
    assert fields_not_taken(example("L4", casualties=True, epidemic=None)) == []
    inp = INCIDENT_INPUT_ADAPTER.validate_python(example("C2", casualties=True))
    assert not hasattr(inp, "casualties")  # the model drops it: a recorded input replays as it ran


def test_every_type_has_an_example_checked_here() -> None:
    types = {json.loads(p.read_text(encoding="utf-8"))["incident_type"] for p in EXAMPLES.glob("*.json")}
    assert types == {t.value for t in IncidentType} == {example(n)["incident_type"] for n in VARIANT}
