"""Citation markers in a sentence and the entries of a reference list, as ``Reference`` objects.

A marker is a number ("[4-6]" gives "4", "5", "6"), an author and year ("(Smith et al., 2019)"
gives "Smith2019") or an inline id ("PMID:123", "PMC123", "doi:10.…"); an entry of a numbered
list is keyed by its number, one of an unnumbered list by the key its author–year markers use.
"""
from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import unquote

from pipeline.datatypes import Reference

# --- citation markers and identifiers ----------------------------------------

def _letters(kind: str) -> str:
    """A character class of the upper- or lower-case letters of the Latin (accents included),
    Greek and Cyrillic alphabets: a surname may be "Šimić" or "Łukasiewicz", not only [A-Z]."""
    codes = [code for code in range(0x0530) if getattr(chr(code), f"is{kind}")() and chr(code).isalpha()]
    runs: list[list[int]] = []
    for code in codes:
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "".join(re.escape(chr(a)) + (f"-{re.escape(chr(b))}" if b > a else "") for a, b in runs)


_UPPER, _LOWER = _letters("upper"), _letters("lower")

# A numeric marker: "[4]", "[4-6]", "[4, 6-8]" (its group: the numbers inside the brackets).
NUMERIC_MARKER = re.compile(
    r"\[(\d{1,3}(?:\s*[-–—]\s*\d{1,3})?(?:\s*[,;]\s*\d{1,3}(?:\s*[-–—]\s*\d{1,3})?)*)\]")
_SURNAME = rf"(?:(?:van|von|de|der|den|del|da|di|du|le|la)\s+)*[{_UPPER}][{_LOWER}'’][\w'’\-]*"
_AUTHORS = (rf"(?P<surname>{_SURNAME})(?:(?:\s*,\s*(?:and\s+|&\s+)?|\s+(?:and|&)\s+){_SURNAME})*"
            r"(?:\s+et\s+al\.?)?")
_YEARS = r"(?:19|20)\d{2}[a-z]?(?:\s*,\s*(?:19|20)\d{2}[a-z]?)*"
# Pandoc's bracketed citation, "[@smith2019]", "[see @smith2019, p. 3; -@lee2020]", and a citation key in it.
PANDOC_CITATION = re.compile(r"\[[^\[\]]*?(?<![\w@])-?@\w[^\[\]]*\]")
_PANDOC_KEY = re.compile(r"(?<![\w@])-?@(\w(?:[\w:.#$%&+?<>~/-]*\w)?)")
_PARENTHETICAL = re.compile(r"\(([^()]*\b(?:19|20)\d{2}[a-z]?)\)")
_CITE_PART = re.compile(
    rf"(?:(?:e\.g\.|i\.e\.|see(?:\s+also)?|cf\.|reviewed\s+in)[,\s]+)?{_AUTHORS},?\s+(?P<years>{_YEARS})")
# A narrative citation, "Smith and Lee (2019)", looked for only as far back as NARRATIVE_REACH
# characters from each "(2019)": searched for from every capitalised word, a long list of names
# with no year after it took time quadratic in its length.
_NARRATIVE = re.compile(rf"\b{_AUTHORS}\s+\((?P<years>{_YEARS})\)\Z")
_NARRATIVE_YEARS = re.compile(rf"\s\((?:{_YEARS})\)")
NARRATIVE_REACH = 200
_ID = re.compile(
    r"(?P<url>https?://[^\s<>\"'\]]+)"
    r"|\bdoi:?\s*(?P<doi>10\.\d{4,9}/[^\s<>\"]+)"
    r"|\bPMID:?\s*(?P<pmid>\d{1,9})\b"
    r"|\b(?P<pmcid>PMC\d{3,9})(?:/[\w.\-]+)*"
    r"|\b(?P<bare_doi>10\.\d{4,9}/[^\s<>\"]+)",
    re.I,
)


def citation_markers(text: str, keys: Collection[str] = ()) -> list[tuple[int, Reference]]:
    """(offset, reference) for every marker in `text`, in order, repeats included: "[4-6]" gives
    "4", "5", "6"; "(Smith et al., 2019)" gives "Smith2019"; inline ids give "PMID:123", "PMC123",
    "doi:10.…"; Pandoc's "[@smith2019; @lee2020]" gives "smith2019", "lee2020", and a bare
    "@smith2019" does when it is one of the bibliography's `keys` (else it may be a handle).
    A reference stands in until a list entry resolves it."""
    found = [(m.start(), Reference(n, "")) for m in NUMERIC_MARKER.finditer(text) for n in _expand(m.group(1))]
    for m in PANDOC_CITATION.finditer(text):
        found += [(m.start(), Reference(key.group(1), "")) for key in _PANDOC_KEY.finditer(m.group())]
    bracketed = [(c.start(), c.end()) for c in PANDOC_CITATION.finditer(text)]
    found += [(m.start(), Reference(m.group(1), "")) for m in _PANDOC_KEY.finditer(text)
              if m.group(1) in keys and not any(start <= m.start() < end for start, end in bracketed)]
    for m in _PARENTHETICAL.finditer(text):
        offset = m.start(1)
        for part in m.group(1).split(";"):
            cite = _CITE_PART.fullmatch(part.strip())
            if cite:
                found += [(offset, ref) for ref in _author_year(cite)]
            offset += len(part) + 1
    found += [(m.start(), ref) for m in _narratives(text) for ref in _author_year(m)]
    for start, raw, kind, value in identifiers(text):
        if kind != "url":
            found.append((start, Reference(id_key(kind, value), raw, resolved_by=kind, **{kind: value})))
    return sorted(found, key=lambda hit: hit[0])


def without_markers(text: str) -> str:
    """The text with its numeric and Pandoc markers and its parenthetical author-year citations taken out
    ("X inhibits Y [4][5]." -> "X inhibits Y."): what a claim says, for reading it as text.
    Brackets that are not markers ("[Ca2+]i") stay."""
    text = PANDOC_CITATION.sub("", NUMERIC_MARKER.sub("", text))
    text = _PARENTHETICAL.sub(lambda m: "" if all(_CITE_PART.fullmatch(part.strip())
                                                   for part in m.group(1).split(";")) else m.group(0), text)
    return re.sub(r"\s+([.,;:])", r"\1", re.sub(r"\s{2,}", " ", text)).strip()


# A numeric marker standing as a citation, with the space before it: after a space, or after a word or
# a sentence's punctuation and before a space, punctuation or the end ("insulin [4].", "channels[4,5],"),
# never glued into a name ("imidazo[1,4]benzodiazepine", the variant "GCC[9]+[10]").
_CITING_MARKER = re.compile(rf"\s*(?:(?<=\s)|(?<=[\w).,;:]))(?:{NUMERIC_MARKER.pattern})(?=[\s.,;:)]|\Z)")


def cut_markers(text: str) -> tuple[str, list[int]]:
    """The text with its numeric citation markers cut out ("insulin [245] in" -> "insulin in"), and for
    each character kept, where it stood in `text`: an entity tagger trained on abstracts, which carry
    no markers, read "insulin [245]" as one name that no concept has, and lost the claim. Before
    punctuation the space stays ("T2D [172]." -> "T2D ."): the tokenizer reads "T2D." as one word."""
    kept: list[int] = []
    start = 0
    for match in _CITING_MARKER.finditer(text):
        spaced = match.group()[:1].isspace() and match.end() < len(text) and not text[match.end()].isspace()
        kept.extend(range(start, match.start() + spaced))
        start = match.end()
    if not start:
        return text, list(range(len(text)))
    kept.extend(range(start, len(text)))
    return "".join(text[i] for i in kept), kept


def _narratives(text: str) -> list[re.Match[str]]:
    """Each narrative citation, found back from its "(years)"."""
    found = []
    for years in _NARRATIVE_YEARS.finditer(text):
        start = max(years.start() - NARRATIVE_REACH, found[-1].end() if found else 0)
        if m := _NARRATIVE.search(text, start, years.end()):
            found.append(m)
    return found


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


def identifiers(text: str) -> list[tuple[int, str, str, str]]:
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


def id_key(kind: str, value: str) -> str:
    """The marker an id of `kind` (pmid, pmcid or doi) goes by: "PMID:123", "PMC123", "doi:10.…"."""
    return {"pmid": f"PMID:{value}", "pmcid": value, "doi": f"doi:{value}"}[kind]


# --- reference lists ---------------------------------------------------------

# An entry of a numbered list, "[4] " or "4. " (its groups: the number).
NUMBERED_ITEM = re.compile(r"^\s*(?:\[(\d{1,3})\]|(\d{1,3})[.)])\s+(?=\S)")
# The glyph or number that opens a list item, with the space after it.
LIST_ITEM = re.compile(r"^\s*(?:[-*•+‣◦▪]|\[\d{1,3}\]|\d{1,3}[.)])\s+(?=\S)")
# Headings over a reference list.
REFERENCE_HEADING = re.compile(
    r"(?:references?|bibliography|sources|works cited|literature cited|citations|reference list)", re.I)
_APA_YEAR = re.compile(r"\(((?:19|20)\d{2})[a-z]?[^)]*\)")
_YEAR = re.compile(r"\b((?:19|20)\d{2})[a-z]?\b")
_VANCOUVER_SOURCE = re.compile(r"\b((?:19|20)\d{2})[^;]{0,20};\s*(\d+)\s*(?:\([^)]*\))?\s*:\s*([A-Za-z]?\d+)")
_APA_SOURCE = re.compile(r",\s*(\d+)\s*(?:\([^)]*\))?\s*,\s*([A-Za-z]?\d+)\s*[-–]")
_TITLE_END = re.compile(r"[.?!]\s+")
_FIRST_AUTHOR = re.compile(rf"\s*((?:(?:van|von|de|der|den|del|da|di|du|le|la)\s+)*[{_UPPER}][\w'’\-]+)")


def parse_reference_list(lines: list[str]) -> dict[str, Reference]:
    """References of a list's lines (heading excluded), keyed by their number; entries
    of an unnumbered list by "Surname2019" (what author–year markers use), else by position."""
    numbered = any(NUMBERED_ITEM.match(line) for line in lines)
    entries: list[tuple[str, str]] = []
    for line in (line.strip() for line in lines):
        if not line:
            continue
        if m := NUMBERED_ITEM.match(line):
            entries.append((m.group(1) or m.group(2), line[m.end():]))
        elif numbered and entries:  # a wrapped entry
            entries[-1] = (entries[-1][0], f"{entries[-1][1]} {line}")
        else:
            entries.append(("", LIST_ITEM.sub("", line)))
    references: dict[str, Reference] = {}
    for position, (number, raw) in enumerate(entries, 1):
        ref = _reference(number, raw)
        if not number and ref.citation:
            ref.marker = _author_year_key(ref.citation["first_author"], ref.citation["year"])
        elif not number and ref.resolved_by in ("pmid", "pmcid", "doi"):
            ref.marker = id_key(ref.resolved_by, getattr(ref, ref.resolved_by))
        elif not number:
            ref.marker = str(position)
        references.setdefault(ref.marker, ref)
    return references


def _reference(marker: str, raw: str) -> Reference:
    """A reference-list entry, resolved by its first PMID, PMCID or DOI, else by its citation or URL."""
    ref = Reference(marker, raw)
    has_url = False
    for _, _, kind, value in identifiers(raw):
        if kind == "url":
            has_url = True
        elif getattr(ref, kind) is None:
            setattr(ref, kind, value)
    ref.resolved_by = resolved_kind(ref)
    if not ref.resolved_by:
        citation = parse_citation(raw)
        if "first_author" in citation and "year" in citation:
            ref.citation, ref.resolved_by = citation, "citation"
        elif has_url:
            ref.resolved_by = "url"
    return ref


def resolved_kind(ref: Reference) -> str:
    """The id a reference is resolved by: its PMID, else its PMCID, else its DOI ("" when it has none)."""
    return next((kind for kind in ("pmid", "pmcid", "doi") if getattr(ref, kind)), "")


def parse_citation(text: str) -> dict[str, str]:
    """The fields ECitMatch and title search need from a Vancouver ("Smith J, et al. Title. J Neurosci.
    2007;27(3):123-9.", or with the year alone) or APA ("Smith, J. (2007). Title. Journal, 27(3),
    123–129.") reference."""
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
    elif not apa and (years := list(_YEAR.finditer(rest))):  # "Title. Journal. 2017." (online first)
        fields["year"] = years[-1].group(1)
        before = rest[:years[-1].start()]
    else:
        before = ""
    if before.strip(" .,"):
        title, journal = _title_and_journal(before.strip(" .,"))
        fields["journal"] = journal.strip()
        if title:
            fields["title"] = title.strip()
    if "year" not in fields and (year := (apa or _YEAR.search(text))):
        fields["year"] = year.group(1)
    return fields


def _title_and_journal(text: str) -> tuple[str, str]:
    """Split "Title. Journal" at the title's last full stop, question or exclamation mark (a
    question mark is kept: it is part of the title)."""
    ends = list(_TITLE_END.finditer(text))
    if not ends:
        return "", text
    end = ends[-1]
    return text[:end.start()] + (text[end.start()] if text[end.start()] in "?!" else ""), text[end.end():]


def looks_like_reference(entry: str) -> bool:
    """Whether a numbered entry reads as a reference: it holds an id, "et al", or a
    Vancouver or APA source or year (a closing numbered list of findings does not)."""
    return bool(identifiers(entry) or "et al" in entry or _VANCOUVER_SOURCE.search(entry)
                or _APA_SOURCE.search(entry) or _APA_YEAR.search(entry))
