"""A PDF's text layer as plain text with headings, for the text reader (pipeline.documents.reading).

pypdf reads the text in the order the producer drew it, which for word processors, LaTeX and
typesetters is reading order, columns included (pdfminer.six's layout analysis mixed up the
columns of two-column pages; see README, "Input formats"). What a PDF adds to plain text is
undone here: lines are joined back into paragraphs (a blank line between two), words hyphenated
at a line end are rejoined, running headers, footers and page numbers are dropped, superscript
citation numbers become bracketed markers ("addiction¹" -> "addiction [1]") and lines set larger
or bolder than the body text are headings.
"""
from __future__ import annotations

import io
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from pipeline.documents.citations import LIST_ITEM, NUMERIC_MARKER
from pipeline.documents.markup import PlainText

# Bullet glyphs as PDFs encode them: Unicode bullets, the Symbol font's (private use area), DEL.
_BULLET = re.compile(r"^\s*[•◦▪▫‣●○■□►–\x7f\ue000-\uf8ff]\s*")
_PAGE_NUMBER = re.compile(r"(?:page\s+)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*(?:of|/)\s*\d{1,4})?", re.I)
_BOLD = re.compile(r"bold|black|heavy|semibold|demi|,b\b", re.I)
_SENTENCE_END = re.compile(r"[.!?:][\"'”’)\]]*$")


@dataclass
class _Span:
    text: str
    size: float
    bold: bool


@dataclass
class _Line:
    page: int
    x: float
    y: float
    spans: list[_Span] = field(default_factory=list)
    size: float = 0.0  # the size most of its characters are set in
    bold: bool = False
    text: str = ""


def from_pdf(data: bytes, max_chars: int) -> PlainText:
    """The text of a PDF's text layer; ValueError when there is none (a scan), when it holds more
    than `max_chars` (pypdf caps each stream it unpacks, not their sum) or the file is not a PDF."""
    pages = _pages(data, max_chars)
    body = Counter()
    for line in (line for lines in pages for line in lines):
        body[(line.size, line.bold)] += len(line.text)
    if not body:
        raise ValueError("no text layer (a scanned or image-only PDF?); run OCR on it first")
    body_size, body_bold = body.most_common(1)[0][0]
    lines = _without_furniture(pages, body_size)
    return _plain_text(_paragraphs(lines, body_size, body_bold))


class _Refused(Exception):
    """A readable PDF litmine does not read: password-protected, or too much text."""


def _pages(data: bytes, max_chars: int) -> list[list[_Line]]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise _Refused("the PDF is password-protected")
        pages, chars = [], 0
        for number, page in enumerate(reader.pages):
            pages.append(_lines(page, number))
            chars += sum(len(line.text) for line in pages[-1])
            if chars > max_chars:
                raise _Refused(f"its text runs past the limit of {max_chars / 2**20:g} MB "
                                      "(LITMINE_MAX_DOCUMENT_MB)")
        return pages
    except _Refused as exc:
        raise ValueError(str(exc)) from None
    except (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a readable PDF ({exc or type(exc).__name__})") from exc


def _lines(page, number: int) -> list[_Line]:
    """The page's horizontal text lines in drawing order, each with its spans' sizes and weights."""
    lines: list[_Line] = []
    line: _Line | None = None

    def visit(text: str, cm: list[float], tm: list[float], font: dict | None, size: float) -> None:
        nonlocal line
        if not text:
            return
        a, b, c, d, e, f = _multiply(tm, cm)
        if abs(b) > 0.01 or abs(c) > 0.01 or a <= 0:
            return  # rotated text: margin notes, watermarks, an arXiv stamp
        scaled = round(size * (abs(a * d - b * c) ** 0.5), 1)
        bold = bool(font and _BOLD.search(str(font.get("/BaseFont", ""))))
        for i, part in enumerate(text.split("\n")):
            started = line is not None and any(span.text.strip() for span in line.spans)
            if i or line is None or (part.strip() and started and abs(f - line.y) > 0.6 * max(scaled, 1)):
                if started:
                    lines.append(line)
                line, started = _Line(number, e, f - i * scaled * 1.2), False
            if part:
                if not started:  # a line starts where its first visible text is drawn
                    line.x, line.y = e, f - i * scaled * 1.2
                line.spans.append(_Span(part, scaled, bold))

    page.extract_text(visitor_text=visit)
    if line is not None and any(span.text.strip() for span in line.spans):
        lines.append(line)
    for line in lines:
        _finish(line)
    return lines


def _multiply(m: list[float], n: list[float]) -> tuple[float, ...]:
    return (m[0] * n[0] + m[1] * n[2], m[0] * n[1] + m[1] * n[3], m[2] * n[0] + m[3] * n[2],
            m[2] * n[1] + m[3] * n[3], m[4] * n[0] + m[5] * n[2] + n[4], m[4] * n[1] + m[5] * n[3] + n[5])


def _finish(line: _Line) -> None:
    """The line's text, its size and weight; small raised numbers after a word become markers."""
    weights = Counter()
    for span in line.spans:  # numbers may be markers in smaller type, not the line's own
        weights[(span.size, span.bold)] += len(span.text.strip()) if not _marker(span.text) else 0.01
    (line.size, line.bold), _ = weights.most_common(1)[0]
    text = ""
    for span in line.spans:
        number = span.text.strip()
        if span.size < 0.85 * line.size and text.strip() and _marker(number):
            text = f"{text.rstrip()} [{''.join(number.split())}]"
        else:
            text += span.text
    line.text = re.sub(r"[ \t]+", " ", text).strip()


def _marker(text: str) -> bool:
    return bool(NUMERIC_MARKER.fullmatch(f"[{text.strip()}]"))


def _without_furniture(pages: list[list[_Line]], body_size: float) -> list[_Line]:
    """The lines without running headers and footers: up to two lines at the top or bottom of a
    page, set apart from the text, that are page numbers or repeat (digits aside) on other pages
    (on a one-page document: are set smaller than the text)."""
    def key(line: _Line) -> str:
        return re.sub(r"\d+", "#", line.text.lower())

    margins = [_margins(lines) for lines in pages]
    repeated = Counter(k for runs in margins for k in {key(line) for run in runs for line in run})
    kept: list[_Line] = []
    for lines, runs in zip(pages, margins):
        dropped: set[int] = set()
        for run in runs:
            for line in run:  # from the outside in: a second line only after the first
                if not (_PAGE_NUMBER.fullmatch(line.text) or repeated[key(line)] > 1
                        or (len(pages) == 1 and line.size < body_size)):
                    break
                dropped.add(id(line))
        kept += [line for line in lines if id(line) not in dropped]
    return kept


def _margins(lines: list[_Line]) -> tuple[list[_Line], list[_Line]]:
    """The page's top and bottom lines (outermost first, two at most) that stand apart from the lines within."""
    ordered = sorted(lines, key=lambda line: -line.y)
    runs = []
    for run in (ordered, ordered[::-1]):
        apart: list[_Line] = []
        for outer, inner in list(zip(run, run[1:]))[:2]:
            if abs(outer.y - inner.y) <= 2 * max(outer.size, inner.size):
                break
            apart.append(outer)
        runs.append(apart)
    return runs[0], runs[1]


@dataclass
class _Paragraph:
    lines: list[_Line]
    heading: bool


def _paragraphs(lines: list[_Line], body_size: float, body_bold: bool) -> list[_Paragraph]:
    """Lines grouped into paragraphs: a new one at a heading, a list item, a gap wider than the
    line spacing or an indented first line; a paragraph runs on across a column or page break
    unless it ended a sentence."""
    steps = [round(prev.y - line.y, 1) for prev, line in zip(lines, lines[1:])
             if prev.page == line.page and prev.size == line.size == body_size and 0 < prev.y - line.y < 3 * body_size]
    leading = statistics.median_low(steps) if steps else 1.2 * body_size
    paragraphs: list[_Paragraph] = []
    for line in lines:
        heading = line.size > body_size + 0.5 or (line.bold and not body_bold)
        previous = paragraphs[-1] if paragraphs else None
        if previous is None or previous.heading != heading:
            paragraphs.append(_Paragraph([line], heading))
            continue
        first, last = previous.lines[0], previous.lines[-1]
        drop = last.y - line.y
        same_column = last.page == line.page and 0 < drop < 3 * leading * line.size / body_size
        if _item(line) and not (same_column and _item(first) and line.x > first.x + 0.5 * line.size):
            paragraphs.append(_Paragraph([line], heading))  # an item, not a wrapped line of one ("3. Br J …")
            continue
        indented = (len(previous.lines) > 1 and line.x > last.x + 0.8 * line.size
                    or _item(first) and line.x < first.x - 1)  # a first line's indent; the text after a list item
        spacing = leading * line.size / body_size  # larger type, wider spacing
        if same_column and (drop > 1.25 * spacing or indented or abs(line.size - last.size) > 0.5):
            paragraphs.append(_Paragraph([line], heading))
        elif not same_column and (heading or _SENTENCE_END.search(last.text)):
            paragraphs.append(_Paragraph([line], heading))
        else:
            previous.lines.append(line)
    for paragraph in paragraphs:  # larger type than a body set small (a long reference list) is still prose
        text = " ".join(line.text for line in paragraph.lines)
        if paragraph.heading and (len(text.split()) > 20 or re.search(r"[a-z\]]\.$", text)):
            paragraph.heading = False
    return paragraphs


def _item(line: _Line) -> bool:
    return bool(_BULLET.match(line.text) or LIST_ITEM.match(line.text))


def _plain_text(paragraphs: list[_Paragraph]) -> PlainText:
    """Paragraphs a blank line apart, each on one line; the largest heading on the first page is the title."""
    vocabulary = _vocabulary(paragraphs)
    out = PlainText("")
    texts: list[str] = []
    pos = 0
    for paragraph in paragraphs:
        text = paragraph.lines[0].text
        for line in paragraph.lines[1:]:
            text = _join(text, line.text, vocabulary)
        text = _BULLET.sub("- ", text, count=1)
        if paragraph.heading:
            out.headings.add(pos)
        texts.append(text)
        pos += len(text) + 2
    out.text = "\n\n".join(texts)
    page = paragraphs[0].lines[0].page
    first_page = [(p.lines[0].size, t) for p, t in zip(paragraphs, texts) if p.heading and p.lines[0].page == page]
    if first_page:
        out.title = max(first_page, key=lambda size_text: size_text[0])[1]
    return out


_WORD = re.compile(r"[A-Za-z][\w'’]*(?:-[\w'’]+)*")
_BROKEN = re.compile(r"([\w'’]+)[-\xad]$")
_BROKEN_LINK = re.compile(r"(?:\b10\.\d{4,9}|https?:)\S*[/.\-_]$")


def _vocabulary(paragraphs: list[_Paragraph]) -> set[str]:
    """The words of the document (lower case, hyphenated compounds also whole), leaving out the
    halves of words broken at line ends."""
    words: set[str] = set()
    for paragraph in paragraphs:
        broken = False
        for line in paragraph.lines:
            tokens = _WORD.findall(line.text)
            if broken and tokens:
                tokens = tokens[1:]
            broken = bool(_BROKEN.search(line.text))
            if broken and tokens:
                tokens = tokens[:-1]
            for token in tokens:
                words.add(token.lower())
                words.update(part.lower() for part in token.split("-"))
    return words


def _join(text: str, line: str, vocabulary: set[str]) -> str:
    """Two lines of a paragraph as one, a DOI, URL or word broken at the line end rejoined. A word
    loses its hyphen when the document spells it whole or the halves are no words of it ("potenti-"
    "ation"); it keeps it when the document spells it hyphenated, a half is capitalised or has a
    digit ("5-" "HT2A"), or both halves are words ("long-" "term")."""
    link = _BROKEN_LINK.search(text)
    if link and (link.group().endswith(("/", "-", "_")) or line[:1].islower() or line[:1].isdigit()):
        return text + line  # "doi:10.1016/j.neuro-" "pharm.2019.01.002": a DOI or URL broken where it may be
    broken, right = _BROKEN.search(text), re.match(r"[\w'’]+", line)
    if not broken or not right:
        return f"{text} {line}"
    left, rest = broken.group(1), right.group()
    if text.endswith("\xad") or (left + rest).lower() in vocabulary:
        hyphen = ""
    elif (f"{left}-{rest}".lower() in vocabulary or not rest[0].islower() or re.search(r"\d|[A-Z]{2}", left + rest)
          or (left.lower() in vocabulary and rest.lower() in vocabulary)):
        hyphen = "-"
    else:
        hyphen = ""
    return f"{text[:-1]}{hyphen}{line}"
