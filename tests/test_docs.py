"""The documentation cannot drift from the code: every clause has a row naming tests that exist,
every report kind is documented, every incident type is in the catalogue with a valid example."""

from __future__ import annotations

import ast
import re
import typing
from pathlib import Path

import pytest

from plan.models import IncidentType, Report
from starter.api import parse_incident
from starter.cli import catalogue
from workflows import INCIDENT_WORKFLOWS

ROOT = Path(__file__).resolve().parent.parent
CLAUSES = (ROOT / "docs" / "clauses.md").read_text(encoding="utf-8")

REQUIRED_CLAUSES = [
    *(f"000 §1.4({i})" for i in range(1, 5)),
    "000 §2.1",
    "000 §2.2(1)",
    "000 §2.2(6)",
    "000 §2.3",
    "000 §3(1)(2)",
    "000 §3(3)",
    "000 §4.1",
    "000 §4.2",
    "000 §4.3",
    "000 §4.4",
    "000 §6.2",
    "001 §3(3)(4)",
    "001 §4 (all)",
    *(f"001 §4({i})" for i in range(1, 12) if i != 9),
    "001 §4(4) 信息化核查",  # issue 20: platform alarms
    *(f"001 §4(9) 情形{n}" for n in "一二三四"),
    "001 §5(1)",
    "001 §5(2)",
    "001 §5(3)",
    "001 §7(1)",
    "001 §7(2)",
    "001 §7(4)",
]


def rows() -> dict[str, str]:
    out = {}
    for line in CLAUSES.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith(("000 §", "001 §")):
            out[cells[0]] = cells[3]
    return out


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test_")}


@pytest.mark.parametrize("clause", REQUIRED_CLAUSES)
def test_every_clause_has_a_row_naming_existing_tests(clause: str):
    table = rows()
    assert clause in table, f"docs/clauses.md has no row for {clause}"
    refs = re.findall(r"`(test_\w+\.py)::(test_\w+)`", table[clause])
    assert refs, f"{clause}: the row names no test (file.py::test_name)"
    for file, name in refs:
        path = ROOT / "tests" / file
        assert path.exists(), f"{clause}: {file} does not exist"
        assert name in _test_names(path), f"{clause}: {file}::{name} does not exist"


def test_every_report_kind_is_documented():
    doc = (ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
    union = typing.get_args(typing.get_args(Report)[0])
    kinds = [typing.get_args(m.model_fields["kind"].annotation)[0] for m in union]
    assert len(kinds) >= 29
    missing = [k for k in kinds if f"`{k}`" not in doc]
    assert not missing, f"docs/reports.md does not list: {missing}"


def test_catalogue_lists_every_incident_type_with_a_valid_example():
    entries = catalogue()
    assert [e["id"] for e in entries] == [t.value for t in IncidentType]
    assert set(INCIDENT_WORKFLOWS) == set(IncidentType)
    examples = [e["example"] for e in entries]
    c9 = next(e for e in entries if e["id"] == "C9")
    assert [s["id"] for s in c9["scenarios"]] == ["S1", "S2", "S3", "S4"]
    examples += [s["example"] for s in c9["scenarios"]]
    for path in examples:
        inp = parse_incident((ROOT / path).read_text(encoding="utf-8"))
        assert inp.alert_id, path
    for e in entries:
        assert e["workflow_type"].startswith(e["id"]), e
        assert any((ROOT / "workflows").glob(f"{e['id'][0].lower()}{int(e['id'][1:]):02d}_*.py")), e
