"""Print the reports officers hand on: the written report (书面报告, 000 §4.2, §4.3), the
post-incident review (001 §5(2)), a drill's summary (000 §6.2, 001 §7(2)), or for an incident
still being handled a progress report from its status, as Markdown or as a PDF a bureau can file.

The PDF follows GB/T 9704-2012 (党政机关公文格式): A4, 版心 156 mm × 225 mm (天头 37 mm, 订口 28 mm),
22 lines of 28 characters; the 发文机关标志 in red, centred; 发文字号 left and 签发人 right (a report
goes up: 上行文), the red separator line 4 mm below; the 标题 two lines below it; the 主送机关 flush
left with a full-width colon; 正文 with its levels 一、 (一) 1.; the issuing body and the 成文日期 in
Arabic numerals without padding (2026年11月3日); page numbers "— 1 —" 7 mm below the 版心, odd pages
right, even pages left; full-width punctuation and the plans cited by name, never code values.

The CJK font is embedded (a subset, so the PDF shows the same on a machine without Chinese fonts):
WenQuanYi Micro Hei (TrueType outlines) from the PyPI package ``paperang-p2-fonts-cjk``, a
dependency of this project, so ``pip install`` alone makes rendering work. ``EMERGENCY_PDF_FONT``
(a .ttf, or a .ttc with ``#index``) replaces it, e.g. with a bureau's licensed 仿宋 font; CFF-based
OpenType (.otf) cannot be embedded by reportlab and is refused with one line.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from plan.labels import (
    DEADLINE_STATUS_ZH,
    FLOW_ZH,
    PHASE_ZH,
    codes_in_text_zh,
    clause_zh,
    numeral_zh,
    waiting_zh,
)
from plan.models import DeadlineStatus, IncidentStatus
from plan.texts import fmt_time

#: 一、事件类型:... / 十、其他需要报告的事项:...  (the plan's numbered headings)
_HEADING = re.compile(r"^([一二三四五六七八九十]+、[^::]{1,20})[::]?(.*)$")
_ITEM = re.compile(r"^\d+[.、]\s*")
_CLOSING = ("报告单位", "报告时间")


class FontMissing(RuntimeError):
    """No embeddable CJK font: the message names the package or file to install."""


@dataclass
class Section:
    heading: str
    text: str = ""
    """What follows the heading on its line (一、发生时间:<text>)."""
    items: list[str] = field(default_factory=list)
    """The indented lines below it (the course of events, each deadline)."""


@dataclass
class Document:
    """One report: its title, the 主送机关, the plan's headed sections, and the closing (报告单位, 报告时间)."""

    title: str
    preamble: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    addressee: str = ""
    unit: str = ""
    date: str = ""


@dataclass
class Letterhead:
    """What the bureau adds when it files the report (``python -m starter render`` options)."""

    issuer: str | None = None
    """发文机关 (default: the report's 报告单位 without the office in brackets)."""
    doc_number: str | None = None
    """发文字号, e.g. (ours) 黄司报〔2026〕12号 (default: the 〔year〕 with the number left blank)."""
    signer: str | None = None
    """签发人 (default: the 应急指挥机构负责人 named in the report)."""
    to: str | None = None
    """主送机关 (default: the report's own, else 上级司法行政机关)."""


def parse_report(text: str) -> Document:
    """Split a report text from plan/texts.py into its title, addressee, headed sections and closing."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    doc = Document(title=lines[0].strip() if lines else "")
    for line in lines[1:]:
        if not line.strip():
            continue
        stripped = line.strip()
        m = _HEADING.match(line)
        if stripped.startswith(_CLOSING):
            value = re.split(r"[::]", stripped, maxsplit=1)[-1].strip()
            if stripped.startswith("报告单位"):
                doc.unit = value
            else:
                doc.date = value
        elif m and not line.startswith(" "):
            doc.sections.append(Section(m.group(1), m.group(2).strip()))
        elif doc.sections:
            doc.sections[-1].items.append(_ITEM.sub("", stripped))
        elif stripped.endswith((":", ":")) and not doc.addressee:
            doc.addressee = stripped.rstrip("::")
        else:
            doc.preamble.append(stripped)
    return doc


def progress_report(st: IncidentStatus, now: datetime | None = None, *, unit: str = "") -> str:
    """For an incident not yet closed: where it stands, in the written report's headings; ``unit``
    (e.g. (ours) 黄岩区司法局(东城司法所)) closes it as its 报告单位."""
    now = now or datetime.now(UTC)
    waiting = "、".join(waiting_zh(w) for w in st.waiting_for) or "无"
    lines = [
        f"{'【演练】' if st.drill else ''}关于{st.title_zh}处置进展的报告",
        "",
        f"现将截至{fmt_time(now)}的处置进展报告如下。",
        f"一、事件类型:{st.title_zh}(依据{st.clause});处置流程:{FLOW_ZH[st.flow]};事件编号:{st.workflow_id}。",
        f"二、目前状态:{PHASE_ZH[st.phase]};待报事项:{waiting}。",
        "三、时限落实情况:",
    ]
    for d in st.deadlines:
        lines.append(f"    {d.title_zh}(依据{d.clause}):{DEADLINE_STATUS_ZH[d.status]},时限{fmt_time(d.due_at)}"
                     + (f",{countdown(d.due_at, now)}" if d.status is DeadlineStatus.PENDING else ""))
    lines.append("四、处置经过:")
    lines += [f"    {e.seq}. {fmt_time(e.at)} {e.actor}:{e.text_zh}(依据{e.clause})" for e in st.timeline]
    lines += ["", f"报告单位:{unit}" if unit else "", f"报告时间:{fmt_time(now)}"]
    return "\n".join(lines)


def countdown(due_at: datetime, now: datetime) -> str:
    """剩余 1小时05分 / 已超时 12分."""
    secs = int((due_at - now).total_seconds())
    left = abs(secs) // 60
    days, rest = divmod(left, 60 * 24)
    hours, mins = divmod(rest, 60)
    text = (f"{days}天" if days else "") + (f"{hours}小时" if hours or days else "") + f"{mins:02d}分"
    return f"剩余 {text}" if secs >= 0 else f"已超时 {text}"


# ---------------------------------------------------------------------- the text as a filed document prints it

#: Half-width punctuation → full-width (GB/T 9704 / GB/T 15834), written as escapes so no editor folds them.
_HALF_TO_FULL = {",": "\uff0c", ";": "\uff1b", "!": "\uff01", "?": "\uff1f", "(": "\uff08", ")": "\uff09"}
_COLON = "\uff1a"


def filed_text(text: str) -> str:
    """Clause codes as the plans' names, channel codes in Chinese, half-width punctuation full-width
    (a colon only where it is not a clock time: 14:05 stays)."""
    text = clause_zh(text)
    text = codes_in_text_zh(text)
    text = re.sub(r"§", "", text)
    for half, full in _HALF_TO_FULL.items():
        text = text.replace(half, full)
    return re.sub(r"(?<!\d):|:(?!\d)", _COLON, text)


#: Where a title may break (GB/T 9704 7.3.3: 回行时词意完整): after these, or before these.
_BREAK_AFTER = "的、"
_BREAK_BEFORE = ("处置", "应急", "书面", "工作", "情况", "总结", "报告", "进展")


def title_lines(text: str, fits: Any) -> list[str]:
    """The title on as few lines as fit, each break where the words allow and as near the middle as
    possible (balanced, never a stray character on a line of its own)."""
    if fits(text):
        return [text]
    n = len(text)
    breaks = [i for i in range(4, n - 1) if text[i - 1] in _BREAK_AFTER or text.startswith(_BREAK_BEFORE, i)]
    for i in sorted(breaks, key=lambda i: abs(i - n / 2)):
        if fits(text[:i]) and fits(text[i:]):
            return [text[:i], text[i:]]
    # three lines or more: the longest first line that fits, ending at a break where one is near
    longest = max((i for i in range(1, n) if fits(text[:i])), default=1)
    cut = max((i for i in breaks if longest * 0.6 < i <= longest), default=longest)
    return [text[:cut], *title_lines(text[cut:], fits)]


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in "。:;!?”)》" else text + "。"


def _date_zh(value: str) -> str:
    """2026年01月05日 14:05 → 2026年1月5日 (GB/T 9704: Arabic numerals, 月、日不编虚位)."""
    m = re.search(r"(\d{4})年(\d{1,2})月(\d{1,2})日", value)
    return f"{m.group(1)}年{int(m.group(2))}月{int(m.group(3))}日" if m else value


def _commander(doc: Document) -> str:
    for sec in doc.sections:
        if "负责人" in sec.heading and sec.text:
            return sec.text.split()[0]
    return ""


def to_markdown(texts: list[str]) -> str:
    out: list[str] = []
    for text in texts:
        doc = parse_report(text)
        out += [f"# {doc.title}", ""]
        if doc.addressee:
            out += [f"{doc.addressee}:", ""]
        out += [*doc.preamble, ""] if doc.preamble else []
        for sec in doc.sections:
            out += [f"## {sec.heading}", ""]
            out += [sec.text] if sec.text else []
            out += [f"- {item}" for item in sec.items]
            out.append("")
        out += [line for line in (f"报告单位:{doc.unit}" if doc.unit else "",
                                  f"报告时间:{doc.date}" if doc.date else "") if line]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------------- PDF (GB/T 9704-2012)

FONT_NAME = "JudicialCJK"
FONT_PACKAGE = "paperang-p2-fonts-cjk"
RED = (0.9, 0.0, 0.0)


def font_file() -> tuple[Path, int]:
    """The embeddable CJK font: ``EMERGENCY_PDF_FONT`` (path, ``#index`` for a .ttc), else the packaged one."""
    configured = os.environ.get("EMERGENCY_PDF_FONT", "").strip()
    if configured:
        path_text, _, index = configured.partition("#")
        path = Path(path_text)
        if not path.is_file():
            raise FontMissing(f"EMERGENCY_PDF_FONT:{path} 不存在(应为 .ttf 或 .ttc 字体文件)")
        return path, int(index or 0)
    try:
        import paperang_p2_fonts_cjk  # type: ignore[import-untyped]
    except ImportError:
        raise FontMissing(f"缺少中文字体:请安装 {FONT_PACKAGE}(pip install {FONT_PACKAGE}),"
                          "或用 EMERGENCY_PDF_FONT 指定 .ttf 字体") from None
    return Path(paperang_p2_fonts_cjk.__file__).parent / "fonts" / "wqy-microhei.ttc", 0


def register_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        path, index = font_file()
        try:
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=index))
        except TTFError as err:
            raise FontMissing(f"字体 {path} 无法嵌入({err});请用 TrueType 轮廓的 .ttf/.ttc 字体") from None
    return FONT_NAME


def to_pdf(texts: list[str], path: Path, *, subject: str = "", header: Letterhead | None = None) -> None:
    """A PDF in the 公文 layout, each report starting on its own page, the font embedded."""
    from reportlab.lib.colors import Color
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import (
        BaseDocTemplate,
        Flowable,
        Frame,
        KeepTogether,
        PageBreak,
        PageTemplate,
        Paragraph,
        Spacer,
        Table,
        TableStyle,
    )

    font = register_font()
    header = header or Letterhead()
    red = Color(*RED)
    width, height = A4
    left, top, body_w, body_h = 28 * mm, 37 * mm, 156 * mm, 225 * mm
    size = body_w / 28  # 3号 (16 pt) with 28 characters a line
    line = body_h / 22  # 22 lines a page
    p = {
        "mark": ParagraphStyle("mark", fontName=font, fontSize=30, leading=40, alignment=TA_CENTER,
                               textColor=red, wordWrap="CJK"),
        "title": ParagraphStyle("title", fontName=font, fontSize=22, leading=line * 1.25, alignment=TA_CENTER,
                                wordWrap="CJK"),
        "to": ParagraphStyle("to", fontName=font, fontSize=size, leading=line, wordWrap="CJK"),
        "body": ParagraphStyle("body", fontName=font, fontSize=size, leading=line, firstLineIndent=2 * size,
                               alignment=TA_JUSTIFY, wordWrap="CJK"),
        "right": ParagraphStyle("right", fontName=font, fontSize=size, leading=line, alignment=TA_RIGHT,
                                rightIndent=2 * size, wordWrap="CJK"),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=size, leading=line, wordWrap="CJK"),
        "signer": ParagraphStyle("signer", fontName=font, fontSize=size, leading=line, alignment=TA_RIGHT,
                                 wordWrap="CJK"),
    }

    def title(text: str) -> Any:
        """标题: centred; a long one on balanced lines (not one full line and a stray character)."""
        from xml.sax.saxutils import escape

        text = filed_text(text)
        return Paragraph("<br/>".join(escape(t) for t in title_lines(text, lambda t: stringWidth(
            t, font, p["title"].fontSize) <= body_w * 0.98)), p["title"])

    def para(text: str, style: str) -> Any:
        from xml.sax.saxutils import escape

        return Paragraph(escape(filed_text(text)), p[style])

    class RedRule(Flowable):
        """版头中的分隔线: red, as wide as the 版心, 4 mm below the 发文字号."""

        def wrap(self, aw: float, ah: float) -> tuple[float, float]:
            self.aw = aw
            return aw, 4 * mm + 1

        def draw(self) -> None:
            self.canv.setStrokeColor(red)
            self.canv.setLineWidth(1.2)
            self.canv.line(0, 0.5, self.aw, 0.5)

    story: list[Any] = []
    for n, text in enumerate(texts):
        if n:
            story.append(PageBreak())
        doc = parse_report(text)
        unit = re.sub(r"[((].*?[))]", "", doc.unit).strip()
        issuer = header.issuer or unit.split("、")[-1] or "司法局"
        year = _date_zh(doc.date)[:4] if doc.date else datetime.now(UTC).strftime("%Y")
        number = header.doc_number or f"〔{year}〕    号"
        signer = header.signer or _commander(doc)
        mark = filed_text(f"{issuer}文件")  # 发文机关标志: red, centred, on one line
        fit = min(30.0, body_w * 0.98 / max(1.0, stringWidth(mark, font, 1)))
        story += [Paragraph(mark, ParagraphStyle("mark-fit", parent=p["mark"], fontSize=fit, leading=fit * 1.3)),
                  Spacer(1, line)]
        row = [para(number, "cell"), para(f"签发人:{signer or '    '}", "signer")]
        table = Table([row], colWidths=[body_w / 2, body_w / 2])
        table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("LEFTPADDING", (0, 0), (0, 0), size), ("RIGHTPADDING", (1, 0), (1, 0), size),
                                   ("ALIGN", (1, 0), (1, 0), "RIGHT"), ("TOPPADDING", (0, 0), (-1, -1), 0),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
        story += [table, RedRule(), Spacer(1, line), title(doc.title), Spacer(1, line * 0.5)]
        story.append(para(f"{header.to or doc.addressee or '上级司法行政机关'}:", "to"))
        story += [para(t, "body") for t in doc.preamble]
        body: list[Any] = []
        for sec in doc.sections:
            body.append(para(f"{sec.heading}。{_sentence(sec.text)}" if sec.text else sec.heading, "body"))
            for i, item in enumerate(sec.items, 1):  # the second level: (一) (二) …
                body.append(para(f"({numeral_zh(i)}){_sentence(item)}", "body"))
        # the 发文机关署名 and 成文日期 stay on a page with the end of the text (never alone on a page)
        closing = [Spacer(1, line), para(issuer, "right"), para(_date_zh(doc.date) if doc.date else "", "right")]
        story += body[:-1] + [KeepTogether(body[-1:] + closing)]

    def page_number(canvas: Any, document: Any) -> None:
        """页码: 4号 (14 pt) numerals between 一字线, 7 mm below the 版心; odd right, even left (空一字)."""
        n = canvas.getPageNumber()
        label = f"— {n} —"
        canvas.saveState()
        canvas.setFont(font, 14)
        y = height - top - body_h - 7 * mm - 14
        if n % 2:
            canvas.drawRightString(left + body_w - 14, y, label)
        else:
            canvas.drawString(left + 14, y, label)
        canvas.restoreState()

    path.parent.mkdir(parents=True, exist_ok=True)
    first_title = filed_text(parse_report(texts[0]).title) if texts else ""
    template = BaseDocTemplate(str(path), pagesize=A4, title=first_title, subject=subject, author="",
                               creator="judicial-emergency", initialFontName=font, initialFontSize=size, leftMargin=left, rightMargin=width - left - body_w,
                               topMargin=top, bottomMargin=height - top - body_h)
    frame = Frame(left, height - top - body_h, body_w, body_h, leftPadding=0, rightPadding=0, topPadding=0,
                  bottomPadding=0, id="body")
    template.addPageTemplates([PageTemplate(id="gw", frames=[frame], onPage=page_number)])
    template.build(story)
