"""A manuscript's bibliography file as references keyed by citation key: BibTeX/BibLaTeX (.bib,
through bibtexparser), RIS (.ris, through rispy) or CSL-JSON (.json, what Zotero and Pandoc write).

Pandoc and Quarto Markdown cite ``[@smith2019]`` and LaTeX ``\\cite{smith2019}``; the key is the
marker (pipeline.documents.citations) and the entry its reference. An entry's PMID, PMCID or DOI
resolves it; one without gets the fields ECitMatch and title search need, as a free-text reference
of a reference list would (pipeline.documents.citations.parse_reference_list).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from pipeline.datatypes import Reference
from pipeline.documents.citations import identifiers, resolved_kind

SUFFIXES = (".bib", ".ris", ".json")


def read_bibliography(path: Path) -> dict[str, Reference]:
    """The file's entries by key; ValueError naming the problem when it cannot be read."""
    if path.suffix.lower() not in SUFFIXES:
        raise ValueError(f"unsupported bibliography type {path.suffix or '(none)'!r}; expected .bib, .ris or .json")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValueError(f"cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"not readable as utf-8 text (bad byte at {exc.start})") from exc
    reader = {".bib": _bibtex, ".ris": _ris, ".json": _csl_json}[path.suffix.lower()]
    entries = reader(text)
    if not entries:
        raise ValueError("no entries")
    return {ref.marker: ref for ref in entries}


def _bibtex(text: str) -> list[Reference]:
    import bibtexparser

    library = bibtexparser.parse_string(text)
    if library.failed_blocks and not library.entries:
        raise ValueError(f"not BibTeX: {library.failed_blocks[0].error}")
    references = []
    for entry in library.entries:
        fields = {name.lower(): _unbrace(field.value) for name, field in entry.fields_dict.items()}
        eprint = fields.get("eprint", "") if fields.get("eprinttype", "").lower() == "pubmed" else ""
        pmid = fields.get("pmid") or eprint or _pmid(fields.get("note", ""))
        references.append(_reference(
            entry.key, [_name(a) for a in re.split(r"\s+and\s+", fields.get("author", "")) if a.strip()],
            fields.get("title", ""), fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle", ""),
            fields.get("year") or fields.get("date", "")[:4], fields.get("volume", ""), fields.get("pages", ""),
            fields.get("doi", ""), pmid, fields.get("pmcid", "")))
    return references


def _ris(text: str) -> list[Reference]:
    import rispy

    try:
        entries = rispy.loads(text)
    except (ValueError, KeyError, IndexError) as exc:
        raise ValueError(f"not RIS: {exc}") from exc
    references = []
    for entry in entries:
        authors = [_name(a) for a in entry.get("authors", []) or entry.get("first_authors", [])]
        notes = " ".join([entry.get("accession_number", "")] + entry.get("notes", []))
        references.append(_reference(
            entry.get("id", ""), authors, entry.get("title") or entry.get("primary_title", ""),
            entry.get("journal_name") or entry.get("secondary_title") or entry.get("alternate_title3", ""),
            (entry.get("year") or entry.get("publication_year", ""))[:4], entry.get("volume", ""),
            entry.get("start_page", ""), entry.get("doi", ""), _pmid(notes), ""))
    return references


def _csl_json(text: str) -> list[Reference]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} at line {exc.lineno}") from exc
    items = items.get("items", []) if isinstance(items, dict) else items
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValueError("not CSL-JSON: expected a list of items")
    references = []
    for item in items:
        authors = [(a.get("family") or a.get("literal", ""), a.get("given", "")) for a in item.get("author", [])]
        parts = (item.get("issued") or {}).get("date-parts") or [[""]]
        references.append(_reference(
            str(item.get("id", "")), authors, item.get("title", ""), item.get("container-title", ""),
            str(parts[0][0] if parts[0] else ""), str(item.get("volume", "")), str(item.get("page", "")),
            item.get("DOI", ""), str(item.get("PMID", "")), item.get("PMCID", "")))
    return references


def _reference(key: str, authors: list[tuple[str, str]], title: str, journal: str, year: str, volume: str,
               pages: str, doi: str, pmid: str, pmcid: str) -> Reference:
    """The entry as a reference list would give it: "Smith J, Lee A. Title. Journal. 2019;67:100."
    as its text, its ids, else the citation fields."""
    vancouver = ", ".join(f"{family} {''.join(w[0] for w in re.findall(r'[A-Za-z]+', given))}".strip()
                          for family, given in authors)
    first_page = re.split(r"\s*[-–—]+\s*", pages.strip())[0]
    raw = ". ".join(part for part in (vancouver, title.rstrip("."), journal,
                                      f"{year};{volume}:{first_page}".rstrip(":;")) if part) + "."
    ref = Reference(key or (f"{authors[0][0]}{year}" if authors else raw), raw)
    ref.pmid = pmid.strip() or None
    ref.pmcid = pmcid.strip().upper() or None
    ref.doi = next((value for _, _, kind, value in identifiers(f"doi:{_doi(doi)}") if kind == "doi"), None)
    ref.resolved_by = resolved_kind(ref)
    if not ref.resolved_by and authors and year:
        ref.citation = {name: value for name, value in (
            ("first_author", authors[0][0]), ("authors", vancouver), ("title", title), ("journal", journal),
            ("year", year), ("volume", volume), ("first_page", first_page)) if value}
        ref.resolved_by = "citation"
    return ref


def _name(author: str) -> tuple[str, str]:
    """(family, given) of "Smith, John" or "John Smith"."""
    family, comma, given = author.partition(",")
    if comma:
        return family.strip(), given.strip()
    *given_names, family = author.split() or [""]
    return family, " ".join(given_names)


def _unbrace(value: str) -> str:
    return re.sub(r"\s+", " ", value.replace("{", "").replace("}", "")).strip()


def _doi(value: str) -> str:
    return re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", value.strip(), flags=re.I)


def _pmid(text: str) -> str:
    """A PMID in a note ("PMID: 123") or a bare accession number."""
    if m := re.search(r"\bPMID:?\s*(\d{1,9})\b", text, re.I):
        return m.group(1)
    return text.strip() if re.fullmatch(r"\s*\d{1,9}\s*", text) else ""
