"""A user's document (.txt, .md, .html, .tex, .pdf, .docx or an http(s) URL) as sentences whose
citation markers are resolved to references.

The document is first converted to plain text (``Document.text``, see
pipeline.documents.markup, .latex, .pdf and .word); every offset refers to that text. A
manuscript's bibliography file (pipeline.documents.bibliography) resolves its citation keys. Its lines are grouped
into blocks, each block classified as heading, bullet, boilerplate (web-page furniture
such as "1,105 views") or prose, and prose is split into sentences
(pipeline.documents.sentences). A closing reference list is parsed into ``Reference``
objects (pipeline.documents.citations) and its lines are left out of
``Document.sentences``: they cite, they do not claim.
"""
from __future__ import annotations

import codecs
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

from pipeline.config import Settings
from pipeline.datatypes import DocSentence, Document, Reference
from pipeline.documents.citations import (LIST_ITEM, NUMBERED_ITEM, NUMERIC_MARKER, REFERENCE_HEADING,
                                          citation_markers, id_key, identifiers, looks_like_reference,
                                          parse_reference_list, without_markers)
from pipeline.documents.bibliography import SUFFIXES as BIBLIOGRAPHY_SUFFIXES
from pipeline.documents.bibliography import read_bibliography
from pipeline.documents.latex import from_latex
from pipeline.documents.markup import PlainText, from_html, from_markdown
from pipeline.documents.pdf import from_pdf
from pipeline.documents.sentences import split_sentences
from pipeline.documents.web import FetchError, fetch
from pipeline.documents.word import from_docx

FORMATS = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".qmd": "md", ".rmd": "md",
           ".html": "html", ".htm": "html", ".tex": "tex", ".pdf": "pdf", ".docx": "docx"}
_TEXT_FORMATS = {"txt": PlainText, "md": from_markdown, "html": from_html, "tex": from_latex}
_BINARY_FORMATS = {"pdf": from_pdf, "docx": from_docx}  # (bytes, size limit) -> PlainText; ValueError says why


class DocumentError(ValueError):
    """A document that cannot be read; the message names the file or URL and the problem."""


# --- loading -----------------------------------------------------------------

def read_documents(sources: list[str], bibliography: str | None = None,
                   settings: Settings | None = None) -> tuple[list[Document], list[str]]:
    """Each readable document, named uniquely in the batch (`unique_names`), and the one-line
    error (naming it) of each that is not: one bad file in a batch does not stop the others."""
    documents, errors = [], []
    for source in sources:
        try:
            documents.append(load_document(source, bibliography, settings))
        except DocumentError as exc:
            errors.append(str(exc))
    return unique_names(documents), errors


def unique_names(documents: list[Document]) -> list[Document]:
    """The documents with no name twice: a document's name keys its claims ("notes:3:0") and its
    citation markers, so "a/notes.txt" and "b/notes.md" (or two URLs ending in "index.html")
    must not share one. Names that collide take their folder (or host), then a hash of their
    path: the same paths always get the same names, so run history can compare runs."""
    counts = Counter(doc.name for doc in documents)
    renamed = [replace(doc, name=_qualified(doc)) if counts[doc.name] > 1 else doc for doc in documents]
    counts = Counter(doc.name for doc in renamed)
    return [replace(doc, name=f"{doc.name}~{hashlib.sha1(doc.path.encode()).hexdigest()[:6]}")
            if counts[doc.name] > 1 else doc for doc in renamed]


def _qualified(doc: Document) -> str:
    """The name with the folder it is in ("a/notes"), or the host it comes from."""
    if re.match(r"https?://", doc.path, re.I):
        url = urlparse(doc.path)
        folder = Path(url.path).parent.name or url.netloc
    else:
        folder = Path(doc.path).resolve().parent.name
    return f"{folder}/{doc.name}" if folder else doc.name


def load_document(source: str | Path, bibliography: str | Path | None = None,
                  settings: Settings | None = None) -> Document:
    """Read a file, or fetch an http(s) URL, and parse it by its extension or content type; its
    citation keys resolve against `bibliography`, else (Markdown, LaTeX) the files the document
    names or one of its name beside it ("paper.md" and "paper.bib"). `settings` limits its size
    and, for a URL, the fetch (pipeline.documents.web); by default, the default limits."""
    source, settings = str(source), settings or Settings()
    if re.match(r"https?://", source, re.I):
        try:
            page = fetch(source, FORMATS, settings)
        except FetchError as exc:
            raise DocumentError(f"{source}: {exc}") from None
        plain = _convert(page.data, source, page.fmt, settings, page.charset or "utf-8")
        return _document(_with_bibliography(plain, source, [Path(bibliography)] if bibliography else []), source)
    path = Path(source)
    if not path.exists():
        raise DocumentError(f"{source}: no such file")
    if path.is_dir():
        raise DocumentError(f"{source}: is a directory, not a document")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DocumentError(f"{source}: unsupported file type {path.suffix or '(none)'!r}; "
                            f"expected one of {', '.join(FORMATS)}")
    try:
        size = path.stat().st_size
        if size > settings.max_document_bytes:
            raise DocumentError(f"{source}: too large ({size / 2**20:.1f} MB; the limit is "
                                f"{settings.max_document_mb:g} MB, LITMINE_MAX_DOCUMENT_MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{source}: cannot read: {exc.strerror or exc}") from exc
    plain = _convert(data, source, fmt, settings)
    if bibliography:
        files = [Path(bibliography)]
    elif fmt in ("md", "tex"):
        named = [path.parent / (name if Path(name).suffix else f"{name}.bib") for name in plain.bibliography]
        files = named or [p for p in map(path.with_suffix, BIBLIOGRAPHY_SUFFIXES) if p.is_file()][:1]
    else:
        files = []
    return _document(_with_bibliography(plain, source, files), source)


def _convert(data: bytes, source: str, fmt: str, settings: Settings, charset: str = "") -> PlainText:
    """The document's plain text; `charset` for a fetched page's text, else BOM or UTF-8."""
    try:
        if fmt in _BINARY_FORMATS:
            return _BINARY_FORMATS[fmt](data, settings.max_document_bytes)
        text = _decode(data, source, _known(charset))
        return _TEXT_FORMATS[fmt](text.replace("\r\n", "\n").replace("\r", "\n"))
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than a parser walks
        if isinstance(exc, DocumentError):
            raise
        problem = exc if isinstance(exc, ValueError) else "nested too deeply to read"
        raise DocumentError(f"{source}: {problem}") from None


def _with_bibliography(plain: PlainText, source: str, files: list[Path]) -> PlainText:
    """The plain text with the entries of its bibliography files among its references."""
    for file in files:
        try:
            for key, ref in read_bibliography(file).items():
                plain.references.setdefault(key, ref)
        except ValueError as exc:
            raise DocumentError(f"{source}: bibliography {file}: {exc}") from exc
    return plain


def _decode(data: bytes, source: str, charset: str = "") -> str:
    """A file's text: UTF-16 with a BOM, else UTF-8, where a byte that is not UTF-8 (a file saved
    as Latin-1, or pasted together from two encodings) is an error naming its line; a page's text
    in the charset it declares, bytes that are not replaced."""
    wide = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or charset.startswith(("utf-16", "utf-32"))
    if b"\x00" in data[:8192] and not wide:
        raise DocumentError(f"{source}: binary content, not a text document")
    if charset:
        return data.decode(charset, errors="replace")
    encoding = "utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DocumentError(f"{source}: not readable as {encoding} text (byte 0x{data[exc.start]:02x} on line {line} "
                            f"is not {encoding.removesuffix('-sig').upper()}; save the file as UTF-8)") from None
    if "\x00" in text:
        raise DocumentError(f"{source}: binary content, not a text document")
    return text


def _known(charset: str) -> str:
    """A charset Python knows, else UTF-8 (a page may declare any name)."""
    try:
        return codecs.lookup(charset).name if charset else ""
    except LookupError:
        return "utf-8"


def _name(path: str) -> str:
    if re.match(r"https?://", path, re.I):
        url = urlparse(path)
        return Path(url.path).stem or url.netloc
    return Path(path).stem


# --- document structure ------------------------------------------------------

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DATE = rf"(?:{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})"
_BOILERPLATE = re.compile(rf"""(?:
    (?:top|bottom)\ of\ page | skip\ to\ (?:main\ )?content | back\ to\ top
  | [\d.,]+\s*[km]?\ +(?:views?|comments?|likes?|shares?)
  | recent\ posts | related\ posts | see\ all | read\ more | share(?:\ this(?:\ post|\ article)?)?
  | leave\ a\ (?:comment|reply) | (?:and\ has\ )?no\ comments? | \d+\ min(?:ute)?s?\ read
  | (?:(?:last\ )?updated|posted|published)(?:\ on)?:?\s*{_DATE}
  | by\ +(?:\S+@\S+|\[email[^\]]*\]|(?-i:[A-Z][\w.'’\-]*(?:\ +[A-Z][\w.'’\-]*){{0,3}}))
  | \d{{1,2}} | \d{{4}} | {_MONTH} | {_DATE}
)""", re.I | re.X)


@dataclass
class _Block:
    start: int
    end: int
    kind: str  # heading | bullet | numbered | boilerplate | prose
    blank_above: bool


def parse_document(text: str, path: str = "<text>", fmt: str = "txt") -> Document:
    """A document from its text in format txt, md or html."""
    if fmt not in _TEXT_FORMATS:
        raise DocumentError(f"{path}: unknown format {fmt!r}; expected txt, md, html or tex")
    return _document(_TEXT_FORMATS[fmt](text.replace("\r\n", "\n").replace("\r", "\n")), path)


def _document(plain: PlainText, path: str) -> Document:
    """The document's sections, sentences, citation markers and references, from its plain text."""
    blocks = _blocks(plain)
    if not blocks:
        raise DocumentError(f"{path}: document is empty")
    ref_start = _reference_section(plain.text, blocks)
    sentences: list[DocSentence] = []
    ref_lines: list[str] = []
    section, title = "", plain.title
    for i, block in enumerate(blocks):
        body = plain.text[block.start:block.end]
        if i >= ref_start and block.kind != "boilerplate":
            if i > ref_start or block.kind != "heading":
                ref_lines += body.split("\n")
            continue
        if block.kind == "heading":
            section = body.strip().rstrip(":").strip()
            title = title or section
        if block.kind in ("bullet", "numbered"):
            glyph = LIST_ITEM.match(body)
            spans = [(block.start + (glyph.end() if glyph else 0), block.end)]
        elif block.kind == "prose":
            spans = [(block.start + s, block.start + e) for s, e in split_sentences(body)]
        else:
            spans = [(block.start, block.end)]
        kind = "bullet" if block.kind == "numbered" else block.kind
        for start, end in spans:
            text = plain.text[start:end]
            sentences.append(DocSentence(len(sentences), text, start, end, section, [], kind, without_markers(text)))
    references = {**plain.references, **parse_reference_list(ref_lines)}
    for sentence in sentences:
        found = citation_markers(sentence.text, plain.references.keys()) + [
            (offset - sentence.start, Reference(id_key(kind, value), url, resolved_by=kind, **{kind: value}))
            for offset, url in plain.links if sentence.start <= offset < sentence.end
            for _, _, kind, value in identifiers(url) if kind != "url"]
        for _, ref in sorted(found, key=lambda hit: hit[0]):
            references.setdefault(ref.marker, ref)
            if ref.marker not in sentence.markers:
                sentence.markers.append(ref.marker)
    title = title or _name(path)
    return Document(path, _name(path), title, plain.text, sentences, references, topic=title)


def _blocks(plain: PlainText) -> list[_Block]:
    """Lines grouped into classified blocks; a line starting in lower case continues the block above."""
    blocks: list[_Block] = []
    pos, blank_above = 0, True
    for line in plain.text.split("\n"):
        start, pos = pos, pos + len(line) + 1
        stripped = line.strip()
        if not stripped:
            blank_above = True
            continue
        lead, end = start + len(line) - len(line.lstrip()), start + len(line.rstrip())
        previous = blocks[-1] if blocks else None
        if (previous and not blank_above and previous.kind in ("prose", "bullet", "numbered")
                and stripped[0].islower() and start not in plain.headings):
            previous.end = end
            continue
        blocks.append(_Block(lead, end, _classify(stripped, start in plain.headings), blank_above))
        blank_above = False
    for i, block in enumerate(blocks):  # a short question standing alone is a heading
        body = plain.text[block.start:block.end]
        blank_below = i + 1 == len(blocks) or blocks[i + 1].blank_above
        if (block.kind == "prose" and body.endswith("?") and len(body.split()) <= 12 and "\n" not in body
                and block.blank_above and blank_below):
            block.kind = "heading"
    return blocks


def _classify(line: str, marked_heading: bool) -> str:
    if marked_heading:
        return "heading"
    if _BOILERPLATE.fullmatch(line):
        return "boilerplate"
    if NUMBERED_ITEM.match(line):
        return "numbered"
    if LIST_ITEM.match(line):
        return "bullet"
    if (len(line.split()) <= 15 and len(line) <= 120 and line[0].isalnum() and not line[0].islower()
            and line[-1] not in ".,;!?\"'”’" and not NUMERIC_MARKER.search(line)):
        return "heading"
    return "prose"


def _reference_section(text: str, blocks: list[_Block]) -> int:
    """Index of the block where the closing reference list starts (len(blocks) if there is none):
    a "References"-style heading, or else a closing run of numbered entries that look like references."""
    for i, block in reversed(list(enumerate(blocks))):
        if block.kind == "heading" and REFERENCE_HEADING.fullmatch(text[block.start:block.end].strip(" :")):
            return i
    run: int | None = None
    for i, block in enumerate(blocks):
        if block.kind == "numbered":
            run = i if run is None else run
        elif block.kind != "boilerplate" and (run is None or block.blank_above):
            run = None  # only boilerplate and wrapped lines may follow an entry
    if run is None:
        return len(blocks)
    entries = [text[b.start:b.end] for b in blocks[run:] if b.kind == "numbered"]
    citing = [e for e in entries if looks_like_reference(e)]
    return run if 2 * len(citing) >= len(entries) else len(blocks)
