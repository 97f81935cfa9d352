"""A Word (.docx) document as plain text with headings, for the text reader (pipeline.documents.reading).

Word keeps what a PDF loses, so nothing is guessed: headings are the paragraphs styled Title or
Heading N, list items get the bullet or number Word draws for them, superscript citation numbers
become bracketed markers and hyperlinks keep their targets. Footnotes and endnotes are numbered
in the order the text cites them ("[1]") and read as a numbered reference list.

A .docx is a zip of XML parts, so before python-docx opens it the parts' unpacked sizes are held
to the document size limit (a zip bomb unpacks a few kilobytes into gigabytes) and a part that
declares XML entities is refused (pipeline.safexml; python-docx would not expand them, but no
Word file has one).
"""
from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

from pipeline import safexml
from pipeline.documents.citations import NUMERIC_MARKER, parse_reference_list
from pipeline.documents.markup import PlainText

_HEADING_STYLE = re.compile(r"title|heading \d", re.I)
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def from_docx(data: bytes, max_bytes: int) -> PlainText:
    """The text of a .docx file, a blank line between paragraphs; ValueError when it is not one,
    or when its parts unpack to more than `max_bytes` or declare XML entities."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import XMLSyntaxError

    try:
        _check_parts(data, max_bytes)
        document = docx.Document(io.BytesIO(data))
    except _Refused:
        raise
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, XMLSyntaxError) as exc:
        raise ValueError(f"not a readable Word document ({exc or type(exc).__name__})") from exc
    reader = _Reader(document)
    for paragraph in _paragraphs(document):
        reader.paragraph(paragraph)
    return reader.finish()


class _Refused(ValueError):
    """A Word package refused before it is read: too large unpacked, or XML that declares entities."""


def _check_parts(data: bytes, max_bytes: int) -> None:
    """Refuse a package whose parts unpack past `max_bytes` (their sizes as the zip declares
    them, which is all zipfile will unpack) or whose XML declares entities."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        parts = package.infolist()
        unpacked = sum(part.file_size for part in parts)
        if unpacked > max_bytes:
            raise _Refused(f"unpacks to {unpacked / 2**20:.0f} MB, past the limit of {max_bytes / 2**20:g} MB "
                             "(LITMINE_MAX_DOCUMENT_MB; a zip bomb?)")
        for part in parts:
            if part.filename.endswith((".xml", ".rels")):
                try:
                    safexml.check(package.read(part))
                except safexml.UnsafeXML as exc:
                    raise _Refused(f"{part.filename} {exc}") from None


def _paragraphs(container) -> Iterator:
    """The paragraphs of the body (or a table cell) in order, those of its tables cell by cell;
    tables in cells walked with a stack of its own, not recursion (a crafted file nests deep)."""
    from docx.table import Table

    stack = [iter(container.iter_inner_content())]
    while stack:
        block = next(stack[-1], None)
        if block is None:
            stack.pop()
        elif isinstance(block, Table):
            stack.append(_cells(block))
        else:
            yield block


def _cells(table) -> Iterator:
    """The blocks of a table's cells, row by row; a merged cell once, not once per column it spans."""
    seen = set()
    for row in table.rows:
        for cell in row.cells:
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                yield from cell.iter_inner_content()


class _Reader:
    """Collects the paragraphs' text, headings, links and the notes they cite."""

    def __init__(self, document) -> None:
        self.out = PlainText("")
        self.texts: list[str] = []
        self.pos = 0
        self.formats = _list_formats(document)
        self.counters: dict[tuple[str, str], int] = {}
        self.notes = {kind: _notes(document, kind) for kind in ("footnotes", "endnotes")}
        self.cited: dict[tuple[str, str], int] = {}  # (kind, id) -> the note's number

    def paragraph(self, paragraph) -> None:
        links: list[tuple[int, str]] = []
        label = self._label(paragraph)
        text = label + self._runs(paragraph, links)
        if not text.strip():
            return
        start = self.pos + len(label) - (len(text) - len(text.lstrip()))  # where the runs' text starts
        text = text.strip()
        style = paragraph.style.name if paragraph.style is not None else ""
        if _HEADING_STYLE.fullmatch(style):
            self.out.headings.add(self.pos)
            if style.lower() == "title" or not self.out.title:
                self.out.title = text
        self.out.links += [(max(self.pos, start + offset), url) for offset, url in links]
        self.texts.append(text)
        self.pos += len(text) + 2

    def _label(self, paragraph) -> str:
        """"- " or "3. " for a list item, as Word numbers it; "" for other paragraphs."""
        num = paragraph._p.find(f"{_w('pPr')}/{_w('numPr')}")
        style = paragraph.style
        while num is None and style is not None:  # list styles such as "List Bullet" number their paragraphs
            num = style.element.find(f"{_w('pPr')}/{_w('numPr')}")
            style = style.base_style
        if num is None:
            return ""
        num_id, level = num.find(_w("numId")), num.find(_w("ilvl"))
        key = (num_id.get(_w("val")) if num_id is not None else "", level.get(_w("val")) if level is not None else "0")
        if self.formats.get(key, "bullet") in ("bullet", "none"):
            return "- "
        self.counters[key] = self.counters.get(key, 0) + 1
        return f"{self.counters[key]}. "

    def _runs(self, paragraph, links: list[tuple[int, str]]) -> str:
        """The paragraph's text (note references and superscript numbers as markers); the targets
        of its hyperlinks go to `links` with their offsets."""
        text = ""
        rels = paragraph.part.rels
        for element in paragraph._p.iter(_w("r"), _w("hyperlink")):
            if element.tag == _w("hyperlink"):
                rel = element.get(_R_ID)
                if rel in rels and rels[rel].is_external:
                    links.append((len(text), rels[rel].target_ref))
                continue
            align = element.find(f"{_w('rPr')}/{_w('vertAlign')}")
            raised = align is not None and align.get(_w("val")) == "superscript"
            run = ""
            for child in element:
                if child.tag == _w("t"):
                    run += child.text or ""
                elif child.tag in (_w("tab"), _w("br"), _w("cr")):
                    run += " "
                elif child.tag in (_w("footnoteReference"), _w("endnoteReference")):
                    kind = "footnotes" if child.tag == _w("footnoteReference") else "endnotes"
                    key = (kind, child.get(_w("id")))
                    self.cited.setdefault(key, len(self.cited) + 1)
                    run += f" [{self.cited[key]}]"
            if raised and text.strip() and NUMERIC_MARKER.fullmatch(f"[{run.strip()}]"):
                run = f" [{''.join(run.split())}]"
            text = text.rstrip() + run if run.startswith(" [") else text + run
        return text

    def finish(self) -> PlainText:
        self.out.text = "\n\n".join(self.texts)
        self.out.references = parse_reference_list(
            [f"{number}. {self.notes[kind].get(note_id, '')}"
             for (kind, note_id), number in sorted(self.cited.items(), key=lambda item: item[1])])
        return self.out


def _w(tag: str) -> str:
    return f"{{http://schemas.openxmlformats.org/wordprocessingml/2006/main}}{tag}"


def _list_formats(document) -> dict[tuple[str, str], str]:
    """(numId, level) -> the number format Word draws ("bullet", "decimal", …)."""
    try:
        numbering = document.part.numbering_part.element
    except (KeyError, NotImplementedError):
        return {}
    abstract = {a.get(_w("abstractNumId")): {lvl.get(_w("ilvl")): lvl.find(_w("numFmt")).get(_w("val"))
                                              for lvl in a.findall(_w("lvl")) if lvl.find(_w("numFmt")) is not None}
                for a in numbering.findall(_w("abstractNum"))}
    formats: dict[tuple[str, str], str] = {}
    for num in numbering.findall(_w("num")):
        ref = num.find(_w("abstractNumId"))
        for level, fmt in abstract.get(ref.get(_w("val")) if ref is not None else "", {}).items():
            formats[(num.get(_w("numId")), level)] = fmt
    return formats


def _notes(document, kind: str) -> dict[str, str]:
    """The text of each footnote or endnote by its id; the separators Word keeps among them left out."""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import parse_xml

    reltype = RELATIONSHIP_TYPE.FOOTNOTES if kind == "footnotes" else RELATIONSHIP_TYPE.ENDNOTES
    part = next((rel.target_part for rel in document.part.rels.values()
                 if rel.reltype == reltype and not rel.is_external), None)
    if part is None:
        return {}
    notes = {}
    for note in parse_xml(part.blob).findall(_w(kind[:-1])):
        if note.get(_w("type")) in ("separator", "continuationSeparator", "continuationNotice"):
            continue
        paragraphs = ["".join(t.text or "" for t in p.iter(_w("t"))) for p in note.findall(_w("p"))]
        notes[note.get(_w("id"))] = re.sub(r"\s+", " ", " ".join(paragraphs)).strip()
    return notes
