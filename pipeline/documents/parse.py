"""A user's document (.txt, .md, .html or an http(s) URL) as sentences whose
citation markers are resolved to references.

The document is first converted to plain text (``Document.text``); every offset
refers to that text. Its lines are grouped into blocks, each block classified as
heading, bullet, boilerplate (web-page furniture such as "1,105 views") or
prose, and prose is split into sentences. A closing reference list is parsed
into ``Reference`` objects and its lines are left out of ``Document.sentences``:
they cite, they do not claim.
"""
from __future__ import annotations

import codecs
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse
from pipeline.datatypes import DocSentence, Document, Reference

FORMATS = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}


class DocumentError(ValueError):
    """A document that cannot be read; the message names the file or URL and the problem."""


# --- loading -----------------------------------------------------------------

def load_document(source: str | Path) -> Document:
    """Read a file, or fetch an http(s) URL, and parse it by its extension or content type."""
    source = str(source)
    if re.match(r"https?://", source, re.I):
        text, fmt = _fetch(source)
        return parse_document(text, source, fmt)
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
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{source}: cannot read: {exc.strerror or exc}") from exc
    return parse_document(_decode(data, source), source, fmt)


def _decode(data: bytes, source: str) -> str:
    encoding = "utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{source}: not readable as {encoding} text (bad byte at {exc.start})") from exc
    if "\x00" in text:
        raise DocumentError(f"{source}: binary content, not a text document")
    return text


def _fetch(url: str) -> tuple[str, str]:
    """The page's text and format (from its content type, else its path's extension)."""
    request = urllib.request.Request(url, headers={"User-Agent": "litmine"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            data = response.read()
            charset = response.headers.get_content_charset() or "utf-8"
            content_type = response.headers.get_content_type()
    except urllib.error.HTTPError as exc:
        raise DocumentError(f"{url}: cannot fetch: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DocumentError(f"{url}: cannot fetch: {getattr(exc, 'reason', None) or exc}") from exc
    try:
        text = data.decode(charset, errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    suffix = Path(urlparse(url).path).suffix.lower()
    return text, "html" if "html" in content_type else FORMATS.get(suffix, "txt")


def _name(path: str) -> str:
    if re.match(r"https?://", path, re.I):
        url = urlparse(path)
        return Path(url.path).stem or url.netloc
    return Path(path).stem


# --- sentences ---------------------------------------------------------------

# Full stop, ? or ! (with closing quotes or brackets and any citation markers that
# follow it: "… clearance. [14]"), before a capital, digit or Greek letter; or a
# blank line; or a newline that does not run on in lower case.
_BOUNDARY = re.compile(
    r"[.!?][\"'”’)\]]*(?:[ \t]*(?:\[\d[\d\s,;\-–—]*\]|\([^()\n]*\b(?:19|20)\d{2}[a-z]?\)))*"
    r"(?=\s+(?:[\"'“(]?[A-Z0-9\u0391-\u03a9\u03b1-\u03c9]|[a-z]+[A-Z0-9\-]))"  # or "miR-132", "p62", "circRNA"
    r"|\n[ \t]*\n\s*"
    r"|\n(?=[ \t]*[^\sa-z])"
)
_ABBREVIATIONS = frozenset("al e.g i.e vs cf dr mr mrs ms prof st inc ltd co resp spp ssp sp var viz".split())
_NUMBER_ABBREVIATIONS = frozenset(  # abbreviations when a number follows: "Fig. 2", "ca. 10%", "Aug. 31"
    "fig figs no nos vol p pp eq eqs ref refs ca approx jan feb mar apr jun jul aug sep sept oct nov dec".split())
_INITIAL_CONTEXT = frozenset("by and & of in from with to".split())  # lower-case words that precede initials


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of `text`, whitespace trimmed; fast enough for whole corpora."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        terminal = m.group()[0] in ".!?"
        if m.group()[0] == "." and _not_a_full_stop(text, start, m.start()):
            continue
        _add_span(spans, text, start, m.end() if terminal else m.start())
        start = m.end()
    _add_span(spans, text, start, len(text))
    return spans


def _add_span(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    stripped = chunk.strip()
    if stripped:
        first = start + len(chunk) - len(chunk.lstrip())
        spans.append((first, first + len(stripped)))


def _not_a_full_stop(text: str, start: int, dot: int) -> bool:
    """A period that ends an abbreviation or an initial, sits inside parentheses,
    or precedes a journal citation's year ("J Neurosci. 2007;27")."""
    words = text[max(start, dot - 40):dot].split()
    if not words:
        return False
    word = words[-1].lstrip("([\"'“")
    if word.lower() in _ABBREVIATIONS or re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word):
        return True
    if word.lower() in _NUMBER_ABBREVIATIONS and text[dot + 1:dot + 8].lstrip()[:1].isdigit():
        return True
    if len(word) == 1 and word.isupper():  # "J. Neurosci." but not "vitamin D. Levels"
        before = words[-2] if len(words) > 1 else ""
        if not (before.isalpha() and before.islower()) or before in _INITIAL_CONTEXT:
            return True
    sentence = text[start:dot]
    if sentence.count("(") > sentence.count(")") and ")" in text[dot:dot + 200]:
        return True
    return bool(re.match(r"\s+\d{4}\s*[;:]", text[dot + 1:dot + 12]))


# --- citation markers and identifiers ----------------------------------------

_NUMERIC = re.compile(r"\[(\d{1,3}(?:\s*[-–—]\s*\d{1,3})?(?:\s*[,;]\s*\d{1,3}(?:\s*[-–—]\s*\d{1,3})?)*)\]")
_SURNAME = r"(?:(?:van|von|de|der|den|del|da|di|du|le|la)\s+)*[A-ZÀ-Þ][a-zà-ÿ'’][\w'’\-]*"
_AUTHORS = (rf"(?P<surname>{_SURNAME})(?:(?:\s*,\s*(?:and\s+|&\s+)?|\s+(?:and|&)\s+){_SURNAME})*"
            r"(?:\s+et\s+al\.?)?")
_YEARS = r"(?:19|20)\d{2}[a-z]?(?:\s*,\s*(?:19|20)\d{2}[a-z]?)*"
_PARENTHETICAL = re.compile(r"\(([^()]*\b(?:19|20)\d{2}[a-z]?)\)")
_CITE_PART = re.compile(
    rf"(?:(?:e\.g\.|i\.e\.|see(?:\s+also)?|cf\.|reviewed\s+in)[,\s]+)?{_AUTHORS},?\s+(?P<years>{_YEARS})")
_NARRATIVE = re.compile(rf"\b{_AUTHORS}\s+\((?P<years>{_YEARS})\)")
_ID = re.compile(
    r"(?P<url>https?://[^\s<>\"'\]]+)"
    r"|\bdoi:?\s*(?P<doi>10\.\d{4,9}/[^\s<>\"]+)"
    r"|\bPMID:?\s*(?P<pmid>\d{1,9})\b"
    r"|\b(?P<pmcid>PMC\d{3,9})(?:/[\w.\-]+)*"
    r"|\b(?P<bare_doi>10\.\d{4,9}/[^\s<>\"]+)",
    re.I,
)


def find_citation_markers(sentence: str) -> list[str]:
    """The sentence's markers in order, each once: "[4-6]" gives "4", "5", "6";
    "(Smith et al., 2019)" gives "Smith2019"; inline ids give "PMID:123", "PMC123", "doi:10.…"."""
    return list(dict.fromkeys(ref.marker for _, ref in _markers(sentence)))


def _markers(text: str) -> list[tuple[int, Reference]]:
    """(offset, reference) for every marker in `text`; a reference stands in until a list entry resolves it."""
    found = [(m.start(), Reference(n, "")) for m in _NUMERIC.finditer(text) for n in _expand(m.group(1))]
    for m in _PARENTHETICAL.finditer(text):
        offset = m.start(1)
        for part in m.group(1).split(";"):
            cite = _CITE_PART.fullmatch(part.strip())
            if cite:
                found += [(offset, ref) for ref in _author_year(cite)]
            offset += len(part) + 1
    found += [(m.start(), ref) for m in _NARRATIVE.finditer(text) for ref in _author_year(m)]
    for start, raw, kind, value in _identifiers(text):
        if kind != "url":
            found.append((start, Reference(_id_key(kind, value), raw, resolved_by=kind, **{kind: value})))
    return sorted(found, key=lambda hit: hit[0])


def _expand(group: str) -> list[str]:
    numbers: list[str] = []
    for part in re.split(r"\s*[,;]\s*", group.strip()):
        low, _, high = re.sub(r"\s*[-–—]\s*", "-", part).partition("-")
        if high and int(low) < int(high) <= int(low) + 100:
            numbers += [str(n) for n in range(int(low), int(high) + 1)]
        else:
            numbers += [low] + ([high] if high else [])
    return numbers


def _author_year(m: re.Match[str]) -> list[Reference]:
    years = re.split(r"\s*,\s*", m.group("years"))
    return [Reference(_author_year_key(m.group("surname"), year), "") for year in years]


def _author_year_key(surname: str, year: str) -> str:
    return re.sub(r"\s+", "", surname) + year


def _identifiers(text: str) -> list[tuple[int, str, str, str]]:
    """(offset, raw text, kind, value) of PMIDs, PMCIDs, DOIs and URLs; kind "url" when a URL holds no id."""
    found = []
    for m in _ID.finditer(text):
        raw = _trim(m.group())
        if m.group("url"):
            kind, value = _url_id(raw)
        elif m.group("pmid"):
            kind, value = "pmid", m.group("pmid")
        elif m.group("pmcid"):
            kind, value = "pmcid", m.group("pmcid").upper()
        else:
            kind, value = "doi", raw[raw.index("10."):].lower()
        found.append((m.start(), raw, kind, value))
    return found


def _url_id(url: str) -> tuple[str, str]:
    if m := re.search(r"doi\.org/(10\.\d{4,9}/\S+)", url, re.I):
        return "doi", _trim(unquote(m.group(1))).lower()
    if m := re.search(r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|/pubmed/)(\d+)", url, re.I):
        return "pmid", m.group(1)
    if m := re.search(r"\b(PMC\d{3,9})\b", url, re.I):
        return "pmcid", m.group(1).upper()
    return "url", url


def _trim(text: str) -> str:
    """Drop sentence punctuation and unbalanced closing brackets that follow an id or URL."""
    text = text.rstrip(".,;:")
    while text and text[-1] in ")]" and text.count(text[-1]) > text.count("(" if text[-1] == ")" else "["):
        text = text[:-1].rstrip(".,;:")
    return text


def _id_key(kind: str, value: str) -> str:
    return {"pmid": f"PMID:{value}", "pmcid": value, "doi": f"doi:{value}"}[kind]


# --- reference lists ---------------------------------------------------------

_NUMBERED = re.compile(r"^\s*(?:\[(\d{1,3})\]|(\d{1,3})[.)])\s+(?=\S)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•+‣◦▪]|\[\d{1,3}\]|\d{1,3}[.)])\s+(?=\S)")
_REFERENCE_HEADING = re.compile(
    r"(?:references?|bibliography|sources|works cited|literature cited|citations|reference list)", re.I)
_APA_YEAR = re.compile(r"\(((?:19|20)\d{2})[a-z]?[^)]*\)")
_YEAR = re.compile(r"\b((?:19|20)\d{2})[a-z]?\b")
_VANCOUVER_SOURCE = re.compile(r"\b((?:19|20)\d{2})[^;]{0,20};\s*(\d+)\s*(?:\([^)]*\))?\s*:\s*([A-Za-z]?\d+)")
_APA_SOURCE = re.compile(r",\s*(\d+)\s*(?:\([^)]*\))?\s*,\s*([A-Za-z]?\d+)\s*[-–]")
_FIRST_AUTHOR = re.compile(r"\s*((?:(?:van|von|de|der|den|del|da|di|du|le|la)\s+)*[A-ZÀ-Þ][\w'’\-]+)")


def parse_reference_list(lines: list[str]) -> dict[str, Reference]:
    """References of a list's lines (heading excluded), keyed by their number; entries
    of an unnumbered list by "Surname2019" (what author–year markers use), else by position."""
    numbered = any(_NUMBERED.match(line) for line in lines)
    entries: list[tuple[str, str]] = []
    for line in (line.strip() for line in lines):
        if not line:
            continue
        if m := _NUMBERED.match(line):
            entries.append((m.group(1) or m.group(2), line[m.end():]))
        elif numbered and entries:  # a wrapped entry
            entries[-1] = (entries[-1][0], f"{entries[-1][1]} {line}")
        else:
            entries.append(("", _LIST_ITEM.sub("", line)))
    references: dict[str, Reference] = {}
    for position, (number, raw) in enumerate(entries, 1):
        ref = _reference(number, raw)
        if not number and ref.citation:
            ref.marker = _author_year_key(ref.citation["first_author"], ref.citation["year"])
        elif not number and ref.resolved_by in ("pmid", "pmcid", "doi"):
            ref.marker = _id_key(ref.resolved_by, getattr(ref, ref.resolved_by))
        elif not number:
            ref.marker = str(position)
        references.setdefault(ref.marker, ref)
    return references


def _reference(marker: str, raw: str) -> Reference:
    """A reference-list entry, resolved by its first PMID, PMCID or DOI, else by its citation or URL."""
    ref = Reference(marker, raw)
    has_url = False
    for _, _, kind, value in _identifiers(raw):
        if kind == "url":
            has_url = True
        elif getattr(ref, kind) is None:
            setattr(ref, kind, value)
    ref.resolved_by = next((kind for kind in ("pmid", "pmcid", "doi") if getattr(ref, kind)), "")
    if not ref.resolved_by:
        citation = _parse_citation(raw)
        if "first_author" in citation and "year" in citation:
            ref.citation, ref.resolved_by = citation, "citation"
        elif has_url:
            ref.resolved_by = "url"
    return ref


def _parse_citation(text: str) -> dict[str, str]:
    """The fields ECitMatch needs from a Vancouver ("Smith J, et al. Title. J Neurosci.
    2007;27(3):123-9.") or APA ("Smith, J. (2007). Title. Journal, 27(3), 123–129.") reference."""
    fields: dict[str, str] = {}
    if apa := _APA_YEAR.search(text):
        authors, rest = text[:apa.start()], text[apa.end():].lstrip(" .")
    else:
        authors, _, rest = text.partition(". ")  # Vancouver authors end at the first full stop
    if m := _FIRST_AUTHOR.match(authors):
        fields["first_author"] = m.group(1)
        fields["authors"] = authors.strip(" .,")
    if source := _VANCOUVER_SOURCE.search(rest):
        fields.update(year=source.group(1), volume=source.group(2), first_page=source.group(3))
        before = rest[:source.start()]
    elif source := _APA_SOURCE.search(rest):
        fields.update(volume=source.group(1), first_page=source.group(2))
        before = rest[:source.start()]
    else:
        before = ""
    if before.strip(" .,"):
        title, _, journal = before.strip(" .,").rpartition(". ")
        fields["journal"] = journal.strip()
        if title:
            fields["title"] = title.strip()
    if "year" not in fields and (year := (apa or _YEAR.search(text))):
        fields["year"] = year.group(1)
    return fields


# --- converting markup to plain text -----------------------------------------

@dataclass
class _Text:
    text: str
    headings: set[int] = field(default_factory=set)  # start offsets of lines the markup marks as headings
    title: str = ""
    links: list[tuple[int, str]] = field(default_factory=list)  # (offset, URL) of hyperlinks: targets may be ids


_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_MD_SETEXT = re.compile(r"^\s{0,3}(?:=+|-+)\s*$")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|<(https?://[^>\s]+)>")
_MD_EMPHASIS = re.compile(r"\*\*(.+?)\*\*|__(.+?)__|~~(.+?)~~|`([^`]*)`"
                          r"|(?<![\w*])\*(?![\s*])(.+?)(?<![\s*])\*(?![\w*])|(?<!\w)_(?![\s_])(.+?)(?<![\s_])_(?!\w)")


def _from_markdown(text: str) -> _Text:
    out = _Text("")
    lines: list[str] = []
    pos, in_code = 0, False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_code, line = not in_code, ""
        elif in_code:
            line = ""
        elif _MD_SETEXT.match(line) and lines and lines[-1].strip():
            out.headings.add(pos - len(lines[-1]) - 1)
            out.title = out.title or lines[-1].strip()
            line = ""
        else:
            line = re.sub(r"^\s*>\s?", "", line)  # blockquote
            heading = _MD_HEADING.match(line)
            line = _md_inline(heading.group(1) if heading else line, pos, out.links)
            if heading:
                out.headings.add(pos)
                out.title = out.title or line.strip()
        lines.append(line)
        pos += len(line) + 1
    out.text = "\n".join(lines)
    return out


def _md_inline(line: str, offset: int, links: list[tuple[int, str]]) -> str:
    """The line without emphasis and link syntax; link targets go to `links`."""
    line = _MD_EMPHASIS.sub(lambda m: next(g for g in m.groups() if g is not None), line)
    text, pos = "", 0
    for m in _MD_LINK.finditer(line):
        label = m.group(3) or m.group(1)
        if _NUMERIC.fullmatch(f"[{label}]"):
            label = f"[{label}]"  # "[4](#ref-4)" stays a citation marker
        text += line[pos:m.start()]
        links.append((offset + len(text), m.group(2) or m.group(3)))
        text += label
        pos = m.end()
    return text + line[pos:]


_SKIP_TAGS = {"script", "style", "nav", "footer", "aside", "noscript", "template", "form", "svg", "iframe",
              "button", "select", "head"}
_BLOCK_TAGS = {"p", "div", "section", "article", "main", "header", "blockquote", "pre", "ul", "ol", "li",
               "table", "tr", "br", "hr", "dl", "dt", "dd", "figure", "figcaption", "caption", "address",
               "h1", "h2", "h3", "h4", "h5", "h6"}
_HTML_BULLET = re.compile(r"- |\d+\. ")


class _HTMLText(HTMLParser):
    """Collects an HTML page's visible text as blocks, its headings, title and links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, bool]] = []  # (text, is a heading)
        self.links: list[tuple[int, int, str]] = []  # (block index, offset in block, URL)
        self.title = self.h1 = ""
        self._buffer = ""
        self._skip = 0
        self._in_title = False
        self._heading = ""
        self._lists: list[int] = []  # item counters of open lists; -1 for unordered

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        if tag == "title":
            self._in_title = True
        if self._skip:
            return
        if tag in _BLOCK_TAGS:
            self._flush()
        if tag in ("ul", "ol"):
            self._lists.append(0 if tag == "ol" else -1)
        elif tag == "li":
            if self._lists and self._lists[-1] >= 0:
                self._lists[-1] += 1
            self._buffer = f"{self._lists[-1]}. " if self._lists and self._lists[-1] > 0 else "- "
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = tag
        elif tag == "a" and (href := dict(attrs).get("href")):
            self.links.append((len(self.blocks), len(self._buffer), href))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif not self._skip and tag in _BLOCK_TAGS:
            self._flush()
            if tag in ("li", "ul", "ol"):
                self._buffer = ""  # an empty item's bullet
            if tag in ("ul", "ol") and self._lists:
                self._lists.pop()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            data = re.sub(r"\s+", " ", data)
            self._buffer += data.lstrip() if not self._buffer or self._buffer.endswith(" ") else data

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        if _HTML_BULLET.fullmatch(self._buffer):
            return  # keep a list item's bullet for its first block
        text = self._buffer.strip()
        if text:
            self.blocks.append((text, bool(self._heading)))
            if self._heading == "h1" and not self.h1:
                self.h1 = text
        self._buffer, self._heading = "", ""


def _from_html(text: str) -> _Text:
    parser = _HTMLText()
    parser.feed(text)
    parser.close()
    out = _Text("", title=parser.h1 or re.sub(r"\s+", " ", parser.title).strip())
    starts: list[int] = []
    pos = 0
    for block, is_heading in parser.blocks:
        starts.append(pos)
        if is_heading:
            out.headings.add(pos)
        pos += len(block) + 2
    out.text = "\n\n".join(block for block, _ in parser.blocks)
    out.links = [(starts[i] + min(offset, len(parser.blocks[i][0])), url)
                 for i, offset, url in parser.links if i < len(starts)]
    return out


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
    converters = {"txt": _Text, "md": _from_markdown, "html": _from_html}
    if fmt not in converters:
        raise DocumentError(f"{path}: unknown format {fmt!r}; expected txt, md or html")
    plain = converters[fmt](text.replace("\r\n", "\n").replace("\r", "\n"))
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
            glyph = _LIST_ITEM.match(body)
            spans = [(block.start + (glyph.end() if glyph else 0), block.end)]
        elif block.kind == "prose":
            spans = [(block.start + s, block.start + e) for s, e in split_sentences(body)]
        else:
            spans = [(block.start, block.end)]
        kind = "bullet" if block.kind == "numbered" else block.kind
        for start, end in spans:
            sentences.append(DocSentence(len(sentences), plain.text[start:end], start, end, section, [], kind))
    references = parse_reference_list(ref_lines)
    for sentence in sentences:
        found = _markers(sentence.text) + [
            (offset - sentence.start, Reference(_id_key(kind, value), url, resolved_by=kind, **{kind: value}))
            for offset, url in plain.links if sentence.start <= offset < sentence.end
            for _, _, kind, value in _identifiers(url) if kind != "url"]
        for _, ref in sorted(found, key=lambda hit: hit[0]):
            references.setdefault(ref.marker, ref)
            if ref.marker not in sentence.markers:
                sentence.markers.append(ref.marker)
    title = title or _name(path)
    return Document(path, _name(path), title, plain.text, sentences, references, topic=title)


def _blocks(plain: _Text) -> list[_Block]:
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
    if _NUMBERED.match(line):
        return "numbered"
    if _LIST_ITEM.match(line):
        return "bullet"
    if (len(line.split()) <= 15 and len(line) <= 120 and line[0].isalnum() and not line[0].islower()
            and line[-1] not in ".,;!?\"'”’" and not _NUMERIC.search(line)):
        return "heading"
    return "prose"


def _reference_section(text: str, blocks: list[_Block]) -> int:
    """Index of the block where the closing reference list starts (len(blocks) if there is none):
    a "References"-style heading, or else a closing run of numbered entries that look like references."""
    for i, block in reversed(list(enumerate(blocks))):
        if block.kind == "heading" and _REFERENCE_HEADING.fullmatch(text[block.start:block.end].strip(" :")):
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
    citing = [e for e in entries if _identifiers(e) or "et al" in e or _VANCOUVER_SOURCE.search(e)
              or _APA_SOURCE.search(e) or _APA_YEAR.search(e)]
    return run if 2 * len(citing) >= len(entries) else len(blocks)
