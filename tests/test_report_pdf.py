"""The written report as a bureau files it (GB/T 9704-2012 公文 layout), checked the way a reader sees
it: pages rendered to PNG (pdftoppm), the text extracted (pdftotext), the fonts listed (pdffonts)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import CLOSED, REVIEW, ROOT, example
from PIL import Image

from plan.models import (
    Closed,
    Deadline,
    DeadlineStatus,
    EntryKind,
    Flow,
    IncidentInput,
    IncidentPhase,
    IncidentStatus,
    IncidentType,
    Obligation,
    ObligationStatus,
    Review,
    TimelineEntry,
)
from plan.texts import review_report, written_report
from starter.render import Letterhead, progress_report, to_pdf

AT = datetime(2026, 1, 5, 8, 5, tzinfo=UTC)  # 16:05 in China: 2026年1月5日 (no padding: 月、日不编虚位)
TITLE = "社区矫正对象脱离监督管理"
#: What a half-width mark looks like printed full-width (the expected strings below are typed half-width).
FW = str.maketrans(",;:()!?", "\uff0c\uff1b\uff1a\uff08\uff09\uff01\uff1f")


def fw(text: str) -> str:
    return text.translate(FW)


ENGLISH_CODES = re.compile(r"\b(open|handled|urgent|general|pending|met|missed|late|on_time|subject_found|"
                           r"search_result|outbox|arrived|closed)\b")


def _written() -> str:
    inp = IncidentInput.model_validate(example("C4"))
    deadlines = [
        Deadline(id="arrival", title_zh="到场时限 30分钟", clause="000 §4.3", due_at=AT, status=DeadlineStatus.MET),
        Deadline(id="feedback", title_zh="反馈时限 24小时", clause="000 §3(3)", due_at=AT + timedelta(hours=24),
                 status=DeadlineStatus.MISSED),
    ]
    obligations = [Obligation(id="a", title_zh="信息报告", clause="001 §7(4)", due_at=AT, status=ObligationStatus.ON_TIME)]
    course = ["东城司法所到场,现场秩序正常", "通讯联络未果,开展实地查访", "好"] * 4
    return written_report(inp, TITLE, "001 §4(4)", Closed(kind="closed", actor="东城司法所", **CLOSED), AT, deadlines,
                          course, obligations)


def _review() -> str:
    inp = IncidentInput.model_validate(example("C4"))
    return review_report(inp, TITLE, "001 §4(4)", Review(kind="review", actor="东城司法所", **REVIEW), AT)


def _tool(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def _pages(pdf: Path, tmp: Path) -> list[Image.Image]:
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp / "page")], check=True)
    return [Image.open(p).convert("RGB") for p in sorted(tmp.glob("page-*.png"))]


def _ink(img: Image.Image, box: tuple[int, int, int, int] | None = None) -> int:
    """Dark or coloured pixels in the box (the whole page by default)."""
    return sum(1 for px in _pixels(img.crop(box) if box else img) if min(px) < 200)


def _red(img: Image.Image, box: tuple[int, int, int, int]) -> int:
    return sum(1 for r, g, b in _pixels(img.crop(box)) if r > 180 and g < 90 and b < 90)


def _pixels(img: Image.Image) -> list[tuple[int, int, int]]:
    data = img.tobytes()
    return [(data[i], data[i + 1], data[i + 2]) for i in range(0, len(data), 3)]


@pytest.fixture(scope="module")
def filed(tmp_path_factory) -> tuple[Path, str, list[Image.Image]]:
    tmp = tmp_path_factory.mktemp("pdf")
    pdf = tmp / "书面报告.pdf"
    to_pdf([_written(), _review()], pdf, subject="incident-C4-HY-1",
           header=Letterhead(doc_number="黄司报〔2026〕3号", signer="王建国"))
    return pdf, _tool("pdftotext", "-layout", str(pdf), "-"), _pages(pdf, tmp)


def test_the_cjk_font_is_embedded_and_nothing_else_is_needed(filed):
    pdf, _, _ = filed
    lines = _tool("pdffonts", str(pdf)).splitlines()
    header, rows = lines[0].split(), lines[2:]
    assert rows, lines
    emb = header.index("emb") - len(header)  # columns from the right: emb sub uni object ID
    for row in rows:
        cells = row.split()
        assert cells[emb] == "yes", row  # every font embedded (as a subset): no reader font needed
        assert "TrueType" in row or "CID" in row, row


def test_the_letterhead_has_what_a_filed_report_has(filed):
    _, text, pages = filed
    first = text.split("\f")[0]
    for part in ("黄岩区司法局文件", "黄司报〔2026〕3号", "签发人:王建国", "区社会应急联动指挥中心:",
                 "关于社区矫正对象脱离监督管理", "一、事件类型。"):
        assert fw(part) in first.replace("\n", "").replace(" ", ""), part
    # a title too long for one line breaks where the words allow, balanced (GB/T 9704 7.3.3)
    assert re.search(r"关于社区矫正对象脱离监督管理\s*\n\s*处置情况的书面报告", first), first[:400]
    # the 发文机关署名 and 成文日期 (Arabic numerals, no padding) close the report
    assert re.search(r"黄岩区司法局\s+2026年1月5日", text), text
    # 发文机关标志 in red, centred, at the top; the red rule under the 发文字号
    page = pages[0]
    w, h = page.size
    top = (0, 0, w, int(h * 0.30))
    assert _red(page, top) > 200, "no red letterhead"
    red_cols = [x for x in range(w) if any(page.getpixel((x, y))[0] > 180 and page.getpixel((x, y))[1] < 90
                                           for y in range(0, int(h * 0.30), 2))]
    assert abs((min(red_cols) + max(red_cols)) / 2 - w / 2) < w * 0.08  # centred between the margins


def test_second_level_items_full_width_punctuation_and_no_codes(filed):
    _, text, _ = filed
    flat = re.sub(r"\s+", "", text)
    assert fw("(一)东城司法所到场,现场秩序正常。") in flat and fw("(三)好。") in flat  # the course: (一) (二) …
    assert "4.好" not in flat and "4. 好" not in text
    assert "《黄岩区司法行政系统应急联动工作方案》4.3" in flat and fw("《社区矫正突发事件应急处置预案》四、(四)") in flat
    assert "§" not in text
    body = re.sub(r"\d{1,2}:\d{2}", "", flat)  # clock times keep their colon
    assert not re.findall(r"[(),;:!?]", body), re.findall(r".{4}[(),;:!?].{4}", body)
    assert not ENGLISH_CODES.findall(text), ENGLISH_CODES.findall(text)


def test_page_numbers_and_no_blank_page(filed):
    pdf, text, pages = filed
    texts = text.split("\f")[: len(pages)]
    assert len(pages) >= 3
    for n, (img, page_text) in enumerate(zip(pages, texts, strict=True), 1):
        assert re.search(rf"—\s*{n}\s*—", page_text), (n, page_text[-80:])
        w, h = img.size
        assert _ink(img, (0, int(h * 0.12), w, int(h * 0.85))) > 500, f"page {n} has no body text"
        # odd page numbers right, even pages left (GB/T 9704 7.5)
        bottom = img.crop((0, int(h * 0.88), w, h))
        xs = [x for x in range(bottom.width) for y in range(0, bottom.height, 2) if min(bottom.getpixel((x, y))) < 150]
        assert xs, n
        assert (min(xs) > w / 2) if n % 2 else (max(xs) < w / 2), (n, min(xs), max(xs))
    # the review starts on its own page with its own letterhead; the last page is not an empty one
    assert "事后" in texts[-1] or "总结报告" in texts[-1]
    assert "2026年1月5日" in texts[-1]


def test_progress_report_leaks_no_english_codes(tmp_path):
    at = datetime.now(UTC)
    st = IncidentStatus(
        workflow_id="incident-C4-HY-9", incident_type=IncidentType.C4, title_zh=TITLE, clause="001 §4(4)",
        flow=Flow.URGENT, drill=False, phase=IncidentPhase.OPEN, waiting_for=["subject_found", "search_result"],
        deadlines=[Deadline(id="arrival", title_zh="到场时限 30分钟", clause="000 §4.3", due_at=at + timedelta(minutes=9))],
        timeline=[TimelineEntry(seq=1, at=at, kind=EntryKind.NOTIFICATION, actor="系统", clause="000 §4.2",
                                text_zh="已通知区社会应急联动指挥中心(渠道 outbox):信息报告")],
    )
    pdf = tmp_path / "progress.pdf"
    to_pdf([progress_report(st, now=at)], pdf)
    text = re.sub(r"\s+", "", _tool("pdftotext", str(pdf), "-")).replace("incident-C4-HY-9", "")
    assert "紧急处置流程" in text and "未到期" in text and "查找到下落、查找结果" in text and "系统发件箱" in text
    assert not ENGLISH_CODES.findall(text), ENGLISH_CODES.findall(text)


def test_a_missing_font_is_one_line_naming_what_to_install(tmp_path):
    res = subprocess.run(
        [sys.executable, "-c", "from pathlib import Path; from starter.render import to_pdf; "
                               "to_pdf(['关于测试的报告'], Path('x.pdf'))"],
        cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "EMERGENCY_PDF_FONT": str(tmp_path / "no-such.ttf")},
    )
    assert res.returncode != 0 and "EMERGENCY_PDF_FONT" in res.stderr and "no-such.ttf" in res.stderr
