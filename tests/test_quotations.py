"""Every quotation of a plan in code or docs is a verbatim substring of ``../shared/seeds/``.

What counts as a quotation: in Python, every docstring and comment; in Markdown, the prose (fenced
code blocks and `code spans` are code, not quotations). In those, every run of Chinese text of at least
``MIN_RUN`` characters (Chinese characters, digits, Chinese and ASCII punctuation, quotes) must stand in
one of the two plans, after NFKC (the seeds use half-width ``,:;()``, the code often full-width) and with
white space removed (the seeds break lines and words with stray spaces: "核 实").
An omission inside a quotation is written "…" (or "……"): each side is checked on its own.

Our own Chinese that is *not* a quotation (message examples, titles we compose) lives in code strings
(the messages in ``plan/texts.py`` and the clause modules), in code spans in the docs, or after the
marker ``(ours)`` on the same line; the incident titles (``TITLE_ZH``) are labels defined once in code
and may be named anywhere; docstrings and comments that describe a step in Chinese words of our own
keep each run shorter than ``MIN_RUN``.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import unicodedata
from pathlib import Path

from helpers import ROOT

SEEDS = ROOT.parent / "shared" / "seeds"
MIN_RUN = 12
"""Runs of Chinese text this long or longer are taken as quotations."""
MIN_PART = 6
"""Parts of an elided quotation shorter than this are not checked (too short to be a claim)."""

CJK = r"\u4e00-\u9fff"
RUN = re.compile(rf"[{CJK}][{CJK}0-9“”‘’《》、。,;:!?()〔〕\"'\-—·]*[{CJK}“”》)]|[{CJK}]")
ELISION = re.compile(r"…+|\.\.\.+|[《》]")
"""Omissions ("…") and title marks: a plan cited by name (《社区矫正突发事件应急处置预案》四、(四)) is two parts."""
OURS = "(ours)"

PY_DIRS = ["plan", "workflows", "activities", "starter", "infra", "bench", "tests"]
PY_FILES = ["worker.py", "devstack.py"]
MD = ["README.md", *(p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "docs").glob("*.md")))]


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _seed_text() -> str:
    return "\n".join(_norm(p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt")))


def _corpus() -> str:
    """The plans, their names (the seeds' README), and our own labels, each defined once in code: the
    incident titles (``TITLE_ZH``). A label named in a doc is not a quotation."""
    from workflows import INCIDENT_WORKFLOWS

    labels = [wf.TITLE_ZH for wf in INCIDENT_WORKFLOWS.values()]
    return "\n".join([_seed_text(), _norm((SEEDS / "README.md").read_text(encoding="utf-8")), *map(_norm, labels)])


def _py_prose(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every docstring and comment of a Python file."""
    src = path.read_text(encoding="utf-8")
    out: list[tuple[int, str]] = []
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type == tokenize.COMMENT:
            out.append((tok.start[0], tok.string))
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            out.append((node.lineno, node.value.value))
    return out


def _md_prose(path: Path) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    fenced = False
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            out.append((i, re.sub(r"`[^`]*`", " ", line)))
    return out


def _runs(text: str) -> list[str]:
    """Chinese runs of a text; a docstring's line breaks inside a quotation are joined first."""
    lines = [ln.split(OURS)[0] if OURS in ln else ln for ln in text.splitlines()]
    joined = re.sub(rf"(?<=[{CJK},,、;;::“”()()])\s*\n\s*(?=[{CJK},,、;;::“”()()])", "", "\n".join(lines))
    return [m.group(0) for m in RUN.finditer(joined)]


def _violations() -> list[str]:
    seeds = _corpus()
    files = [p for d in PY_DIRS for p in sorted((ROOT / d).rglob("*.py"))] + [ROOT / f for f in PY_FILES]
    prose = [(p, _py_prose(p)) for p in files] + [(ROOT / m, _md_prose(ROOT / m)) for m in MD]
    bad: list[str] = []
    for path, items in prose:
        for line, text in items:
            for run in _runs(text):
                if len(_norm(run)) < MIN_RUN:
                    continue
                for part in ELISION.split(run):
                    part = _norm(part).strip("“”\"',,、;;::。()()")
                    if len(part) >= MIN_PART and part not in seeds:
                        bad.append(f"{path.relative_to(ROOT)}:{line}: {part}")
    return bad


def test_the_seeds_are_there():
    assert len(_seed_text()) > 10_000, f"the plans are missing from {SEEDS}"


def test_every_quotation_of_a_plan_is_verbatim():
    bad = _violations()
    assert not bad, f"{len(bad)} quotation(s) not found verbatim in ../shared/seeds/:\n" + "\n".join(bad)


def test_the_check_catches_a_paraphrase(tmp_path):
    """The check can fail: a paraphrase of 001 §4(1) is not in the seeds, the real words are."""
    seeds = _seed_text()
    paraphrase = "司法所应当立即向公安“110”报警并向区司法局社区矫正管理科报告"
    real = "司法所应当立即向公安“110”或执行地公安派出所报警并向区司法局社区矫正管理科报告"
    assert _norm(paraphrase) not in seeds and _norm(real) in seeds
    assert _runs(f"# {paraphrase}") == [paraphrase]
