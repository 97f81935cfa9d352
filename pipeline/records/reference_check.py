"""A reference checked as a reference: does its id lead to the work its text names, and does
that work still stand?

Checkers of reference lists flag references that were retracted, that resolve to another work
than the one their text names (a mistyped PMID, or a real id pasted under another citation),
or that do not exist at all (a likely sign of a machine-written reference). The per-citation
check (`pipeline.verdicts.citations`) asks whether a cited paper backs its sentence; this one
asks whether the citation is right at all, from the reference text and the record alone.

The title test is fuzzy, because people mis-cite honestly: typos, a title cut short, a year
off by one (online first, print later); see `pipeline.records.citation_match`. TITLE_MATCH was
chosen on perturbed references built from BC5CDR dev titles and is reported on BC5CDR test
titles (`benchmarks/reference_check.py`).
"""
from __future__ import annotations

import re

from pipeline.datatypes import CONCERN, ERRATUM, RETRACTED, ResolvedReference
from pipeline.documents.citations import identifiers, parse_citation
from pipeline.records.citation_match import (MIN_TITLE_WORDS, first_author, normalise, same_author,
                                             title_similarity, years_agree)
from pipeline.records.references import UNAVAILABLE

OK, MISMATCH, NOT_FOUND = "ok", "mismatch", "not_found"
# ok; retracted / expression_of_concern / erratum (the notice's PMID in the detail); mismatch
# (what disagrees in the detail); not_found: NCBI answers that the id does not exist;
# unavailable: NCBI could not be asked; "": nothing identifies the cited work.
REFERENCE_CHECKS = (OK, RETRACTED, CONCERN, ERRATUM, MISMATCH, NOT_FOUND, UNAVAILABLE, "")
# Below this token-set similarity a reference's title names another work than its record's.
# Chosen on the dev seed: mismatch F1 is flat from 0.45 to 0.85 (precision falls above, recall
# below); this is the middle of that plateau (the benchmark prints the sweep).
TITLE_MATCH = 0.65


def disagreements(raw: str, title: str, authors: list[str], year: int | None,
                  title_match: float = TITLE_MATCH) -> list[str]:
    """What in the reference text `raw` disagrees with the record: its title, first author or
    year, said with both values. Only a text that reads as a full citation (a title can be
    parsed) is compared: a bare "PMID: 123" names nothing to disagree with. `title_match` is
    there for the benchmark's sweep."""
    text = raw
    for _, found, _, _ in identifiers(raw):
        text = text.replace(found, " ")
    cited = parse_citation(re.sub(r"\s+", " ", text).strip())
    cited_title = cited.get("title", "")
    if len(normalise(cited_title).split()) < MIN_TITLE_WORDS:
        return []
    found = []
    if title and (score := title_similarity(cited_title, title)) < title_match:
        found.append(f"title (similarity {score:.2f}): record has \"{title}\"")
    first = first_author(cited)
    if authors and first and not same_author(first, authors[0]):
        found.append(f"first author: reference has {first}, record has {authors[0]}")
    if year and cited.get("year") and not years_agree(int(cited["year"]), year):
        found.append(f"year: reference has {cited['year']}, record has {year}")
    return found


def check_reference(reference: ResolvedReference) -> tuple[str, str]:
    """The reference's check and what it rests on: the notice's PMID, what disagrees, or why
    the record could not be had."""
    record = reference.record
    if record is None:
        if reference.not_found:
            return NOT_FOUND, reference.reason
        return (UNAVAILABLE, reference.reason) if reference.status == UNAVAILABLE else ("", "")
    disagree = disagreements(reference.raw, record.title, record.authors, record.year)
    if disagree:
        return MISMATCH, "; ".join(disagree)
    status = record.status if record.status in (RETRACTED, CONCERN, ERRATUM) else ""  # a notice cited is no fault
    if status:
        return status, f"notice PMID {record.status_notice}" if record.status_notice else ""
    return OK, ""
