"""Print the reports officers hand on: the written report (书面报告, 000 §4.2, §4.3), the
post-incident review (001 §5(2)), a drill's summary (000 §6.2, 001 §7(2)), or for an incident
still being handled a progress report from its status, as Markdown or PDF with the plan's headings.

PDF: reportlab with its built-in CID font STSong-Light (Adobe's Chinese font, not embedded: every
PDF reader has it), so nothing beyond PyPI is needed and Chinese text stays extractable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from plan.models import DeadlineStatus, IncidentStatus
from plan.texts import fmt_time

#: 一、事件类型:... / 十、其他需要报告的事项:...  (the plan's numbered headings)
_HEADING = re.compile(r"^([一二三四五六七八九十]+、[^::]{1,20})[::]?(.*)$")


@dataclass
class Section:
    heading: str
    lines: list[str] = field(default_factory=list)


@dataclass
class Document:
    """One report: its title, headed sections, and the closing lines (报告单位, 报告时间)."""

    title: str
    preamble: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)


def parse_report(text: str) -> Document:
    """Split a report text from plan/texts.py into its title and the plan's headed sections."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    doc = Document(title=lines[0] if lines else "")
    for line in lines[1:]:
        if not line.strip():
            continue
        m = _HEADING.match(line)
        if m and not line.startswith(" "):
            sec = Section(m.group(1))
            if m.group(2).strip():
                sec.lines.append(m.group(2).strip())
            doc.sections.append(sec)
        elif doc.sections and (line.startswith(" ") or not line.startswith(("报告单位", "报告时间"))):
            doc.sections[-1].lines.append(line.strip())
        elif line.startswith(("报告单位", "报告时间")):
            doc.sections.append(Section("", [line.strip()]))
        else:
            doc.preamble.append(line.strip())
    return doc


def progress_report(st: IncidentStatus, now: datetime | None = None) -> str:
    """For an incident not yet closed: where it stands, in the written report's headings."""
    now = now or datetime.now(UTC)
    phase = {"open": "处置中", "handled": "处置完毕,待事后总结", "closed": "已办结"}[st.phase.value]
    lines = [
        f"{'【演练】' if st.drill else ''}关于{st.title_zh}处置进展的报告(截至{fmt_time(now)})",
        "",
        f"一、事件类型:{st.title_zh}(依据{st.clause});处置流程:{st.flow.value};事件编号:{st.workflow_id}。",
        f"二、目前状态:{phase};等待:{'、'.join(st.waiting_for) or '无'}。",
        "三、时限落实情况:",
    ]
    for d in st.deadlines:
        lines.append(f"    {d.title_zh}(依据{d.clause}):{d.status.value},时限{fmt_time(d.due_at)}"
                     + (f",{countdown(d.due_at, now)}" if d.status is DeadlineStatus.PENDING else ""))
    lines.append("四、处置经过:")
    lines += [f"    {e.seq}. {fmt_time(e.at)} {e.actor}:{e.text_zh}(依据{e.clause})" for e in st.timeline]
    return "\n".join(lines)


def countdown(due_at: datetime, now: datetime) -> str:
    """剩余 1小时05分 / 已超时 12分."""
    secs = int((due_at - now).total_seconds())
    left = abs(secs) // 60
    days, rest = divmod(left, 60 * 24)
    hours, mins = divmod(rest, 60)
    text = (f"{days}天" if days else "") + (f"{hours}小时" if hours or days else "") + f"{mins:02d}分"
    return f"剩余 {text}" if secs >= 0 else f"已超时 {text}"


def to_markdown(texts: list[str]) -> str:
    out: list[str] = []
    for text in texts:
        doc = parse_report(text)
        out += [f"# {doc.title}", ""]
        out += [*(f"{p}" for p in doc.preamble), ""] if doc.preamble else []
        for sec in doc.sections:
            if sec.heading:
                out += [f"## {sec.heading}", ""]
            out += [f"- {line}" if line[:1].isdigit() else line for line in sec.lines]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def to_pdf(texts: list[str], path: Path, *, subject: str = "") -> None:
    """A PDF (A4) with each report on its own pages, headings bold-sized, Chinese wrapped."""
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=24, alignment=1, spaceAfter=8,
                           wordWrap="CJK")
    heading = ParagraphStyle("h", fontName=font, fontSize=13, leading=20, spaceBefore=6, wordWrap="CJK")
    body = ParagraphStyle("b", fontName=font, fontSize=11, leading=17, firstLineIndent=0, wordWrap="CJK")
    item = ParagraphStyle("i", parent=body, leftIndent=8 * mm)
    story: list = []
    for n, text in enumerate(texts):
        if n:
            story.append(PageBreak())
        doc = parse_report(text)
        story.append(Paragraph(escape(doc.title), title))
        story += [Paragraph(escape(p), body) for p in doc.preamble]
        for sec in doc.sections:
            if sec.heading:
                story.append(Paragraph(escape(sec.heading), heading))
            story += [Paragraph(escape(line), item if line[:1].isdigit() else body) for line in sec.lines]
        story.append(Spacer(1, 6 * mm))
    path.parent.mkdir(parents=True, exist_ok=True)
    SimpleDocTemplate(str(path), pagesize=A4, title=parse_report(texts[0]).title if texts else "",
                      subject=subject, leftMargin=20 * mm, rightMargin=20 * mm).build(story)
