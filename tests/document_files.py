"""PDF and Word files made from a plain-text document, the way a writer's tools would lay it out:
a title and headings in larger bold type, justified paragraphs with words hyphenated at line ends,
bullets, citation markers as superscripts (or left in brackets), a running header and page
numbers, optionally two columns. The tests read them back and compare with the text version."""
from __future__ import annotations

import re
from pathlib import Path

from pipeline.documents.citations import NUMERIC_MARKER
from pipeline.documents.reading import parse_document

MARKER_RUN = re.compile(rf"(?:\s*{NUMERIC_MARKER.pattern})+")


def blocks_of(text: str) -> list[tuple[str, str]]:
    """(kind, text) of each paragraph the text reader finds: title, heading, bullet or prose
    (consecutive prose sentences of one line make one paragraph)."""
    doc = parse_document(text)
    blocks: list[tuple[str, str]] = []
    last_end = -1
    for s in doc.sentences:
        kind = {"heading": "heading", "bullet": "bullet"}.get(s.kind, "prose")
        if kind == "heading" and not any(k == "title" for k, _ in blocks):
            kind = "title"
        if kind == "prose" and blocks and blocks[-1][0] == "prose" and "\n" not in doc.text[last_end:s.start]:
            blocks[-1] = ("prose", f"{blocks[-1][1]} {s.text}")
        else:
            blocks.append((kind, s.text))
        last_end = s.end
    return blocks


def _soft_hyphens(text: str) -> str:
    """A soft hyphen in the middle of each long word, so the typesetter can break it at a line end."""
    return re.sub(r"\b([a-z]{5,})([a-z]{5,})\b", lambda m: f"{m.group(1)}\xad{m.group(2)}", text)


def _superscripts(text: str) -> str:
    """"Y [4][5][6]." as "Y<super>4,5,6</super>.", the way journals print markers."""
    def sup(m: re.Match[str]) -> str:
        numbers = ",".join(n.group(1) for n in NUMERIC_MARKER.finditer(m.group()))
        return f"<super>{numbers}</super>"
    return MARKER_RUN.sub(sup, text)


def make_pdf(path: Path, blocks: list[tuple[str, str]], *, columns: int = 1, superscript: bool = True,
             header: str = "Preprint - not peer reviewed", references: list[str] = ()) -> Path:
    """`blocks` (see blocks_of) typeset as a PDF, with a numbered reference list after them."""
    from reportlab.lib.enums import TA_JUSTIFY
    from reportlab.lib.pagesizes import A4, A5
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph
    from xml.sax.saxutils import escape

    body = ParagraphStyle("body", fontName="Times-Roman", fontSize=10, leading=12.5, alignment=TA_JUSTIFY,
                          spaceAfter=6, embeddedHyphenation=1)
    styles = {"title": ParagraphStyle("title", parent=body, fontName="Helvetica-Bold", fontSize=16, leading=19,
                                      alignment=0, spaceAfter=10),
              "heading": ParagraphStyle("heading", parent=body, fontName="Helvetica-Bold", fontSize=12,
                                        leading=15, alignment=0, spaceBefore=6),
              "bullet": ParagraphStyle("bullet", parent=body, leftIndent=14, bulletIndent=4, spaceAfter=2),
              "prose": body,
              "reference": ParagraphStyle("reference", parent=body, fontSize=9, leading=11, leftIndent=16,
                                          bulletIndent=0, alignment=0, spaceAfter=2)}
    story = []
    for kind, text in blocks:
        markup = _soft_hyphens(escape(text)) if kind in ("prose", "bullet") else escape(text)
        if superscript:
            markup = _superscripts(markup)
        story.append(Paragraph(markup, styles[kind], bulletText="•" if kind == "bullet" else None))
    if references:
        story.append(Paragraph("References", styles["heading"]))
        story += [Paragraph(escape(ref), styles["reference"], bulletText=f"{i}.")
                  for i, ref in enumerate(references, 1)]

    def furniture(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(2 * cm, page[1] - 1.3 * cm, header)
        canvas.drawCentredString(page[0] / 2, 1.2 * cm, str(doc.page))
        canvas.restoreState()

    page = A4 if columns > 1 else A5
    width, height = page[0] - 4 * cm, page[1] - 5 * cm
    gap = 0.8 * cm
    column = (width - gap * (columns - 1)) / columns
    frames = [Frame(2 * cm + i * (column + gap), 2.5 * cm, column, height, id=f"c{i}") for i in range(columns)]
    document = BaseDocTemplate(str(path), pagesize=page, title="", author="litmine tests")
    document.addPageTemplates([PageTemplate(frames=frames, onPage=furniture)])
    document.build(story)
    return path


def make_docx(path: Path, blocks: list[tuple[str, str]], *, references: list[str] = (),
              footnotes: dict[str, str] | None = None) -> Path:
    """`blocks` as a Word document: Title and Heading 1 styles, List Bullet items, citation markers
    as superscripts, a numbered reference list after them. With `footnotes` (marker -> note), the
    markers of those numbers are Word footnote references instead, the notes in word/footnotes.xml."""
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    document = docx.Document()
    note_ids = {marker: str(i) for i, marker in enumerate(footnotes or {}, 1)}
    for kind, text in blocks:
        if kind in ("title", "heading"):
            document.add_heading(text, level=0 if kind == "title" else 1)
            continue
        paragraph = document.add_paragraph(style="List Bullet" if kind == "bullet" else None)
        pos = 0
        for m in MARKER_RUN.finditer(text):
            paragraph.add_run(text[pos:m.start()])
            numbers = [n.group(1) for n in NUMERIC_MARKER.finditer(m.group())]
            if all(n in note_ids for n in numbers):
                for n in numbers:
                    paragraph._p.append(parse_xml(f'<w:r {w}><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
                                                  f'<w:footnoteReference w:id="{note_ids[n]}"/></w:r>'))
            else:
                paragraph.add_run(",".join(numbers)).font.superscript = True
            pos = m.end()
        paragraph.add_run(text[pos:])
    if references:
        document.add_heading("References", level=1)
        for reference in references:
            document.add_paragraph(reference, style="List Number")
    if footnotes:
        notes = "".join(f'<w:footnote w:id="{note_ids[m]}"><w:p><w:r><w:t xml:space="preserve">{escape_xml(note)}'
                        f'</w:t></w:r></w:p></w:footnote>' for m, note in footnotes.items())
        xml = (f'<w:footnotes {w}><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
               f'</w:footnote>{notes}</w:footnotes>')
        part = Part(PackURI("/word/footnotes.xml"),
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
                    xml.encode(), document.part.package)
        document.part.relate_to(part, RELATIONSHIP_TYPE.FOOTNOTES)
    document.save(str(path))
    return path


def escape_xml(text: str) -> str:
    from xml.sax.saxutils import escape

    return escape(text)
