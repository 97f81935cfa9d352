"""A free-text reference's record found by its title, where ECitMatch finds none.

ECitMatch matches a citation's journal, year, volume, first page and first author as given, so
it misses a reference whose journal is abbreviated otherwise or whose volume or page is wrong,
and cannot be asked for one that gives none of them (a bibliography entry with only authors,
year and title). Such a reference is searched for by its title: online, a PubMed esearch by
relevance for its title words (`[ti]`, any of them: one typo must not lose the paper) by its
first author (`[au]`) or in its year (`[dp]`, give or take YEAR_SLACK); offline, BM25 over the
local store. A candidate is taken only when its title is close to the reference's
(`title_similarity` at least TITLE_FOUND, the test the reference check uses, except that only
the reference's title may be the one cut short) and its first author or its year agrees.
Whichever of the two disagrees, the reference check then reports as a mismatch: a paper cited
with a wrong year is found and flagged, not taken for a fabrication.

PubMed's answer, a PMID or none, is remembered in the store (as ECitMatch's is), so a later run
asks no more and offline knows what PubMed said; what the store's own search finds is not.
"""
from __future__ import annotations

from typing import NamedTuple

from pipeline.datatypes import Record
from pipeline.records.citation_match import (MIN_TITLE_WORDS, YEAR_SLACK, family_name, first_author, normalise,
                                             same_author, surname, title_similarity, years_agree)
from pipeline.records.entrez import EntrezClient, EntrezError, failure_reason

# Below this similarity a candidate's title is not the reference's. Chosen on the dev seed of
# benchmarks/reference_check.py: the highest F1 of finding the right PMID (0.999; 0.990 at 0.8,
# where half-titles joined to another's pass, 0.996 at 0.95, where typos start to fail).
TITLE_FOUND = 0.9
CANDIDATES = 5  # records a search gathers and compares with the reference
QUERY_WORDS = 12  # title words a PubMed query asks for
# Words that name no paper: PubMed ignores most of them, and in an OR they would only widen it.
_FUNCTION_WORDS = frozenset(
    "the and for with from into during after before among between its their this that these those was were "
    "are has have not but via than upon within without using based under over through versus what which "
    "whose when how does can may".split())


class ByTitle(NamedTuple):
    pmid: str | None = None  # the record found, or the one PubMed named when last asked
    record: Record | None = None  # the record, when in hand
    none: bool = False  # PubMed answered, now or when last asked, that no record matches
    reason: str = ""  # why the search could not be done: a fault's reason (failure_reason)


def searchable(citation: dict[str, str]) -> bool:
    """Whether a reference gives title enough to search by."""
    return len(normalise(citation.get("title", "")).split()) >= MIN_TITLE_WORDS


def title_query(citation: dict[str, str]) -> str:
    """The PubMed query: any of the title's words in a title, by the first author or in the year.
    '(ketamine[ti] OR depression[ti]) AND ("Zanos"[au] OR 2015:2017[dp])'."""
    words = normalise(citation.get("title", "")).split()
    chosen = [w for w in dict.fromkeys(words) if len(w) > 2 and w not in _FUNCTION_WORDS][:QUERY_WORDS]
    query = "(" + " OR ".join(f"{w}[ti]" for w in chosen or words[:QUERY_WORDS]) + ")"
    narrow = []
    if author := family_name(first_author(citation)).replace('"', ""):
        narrow.append(f'"{author}"[au]')
    if (year := citation.get("year", "")).isdigit():
        narrow.append(f"{int(year) - YEAR_SLACK}:{int(year) + YEAR_SLACK}[dp]")
    return query + (" AND (" + " OR ".join(narrow) + ")" if narrow else "")


def agreement(citation: dict[str, str], record: Record, title_found: float = TITLE_FOUND) -> float:
    """How closely the record's title matches the reference's, when close enough and its first
    author or year agrees; else 0. `title_found` is there for the benchmark's sweep."""
    score = title_similarity(citation.get("title", ""), record.title, either_cut_short=False)
    if score < title_found:
        return 0.0
    first, year = first_author(citation), citation.get("year", "")
    agrees = ([same_author(first, record.authors[0])] if first and record.authors else []) + \
        ([years_agree(int(year), record.year)] if year.isdigit() and record.year else [])
    return score if any(agrees) else 0.0


def best_match(citation: dict[str, str], candidates: list[Record], title_found: float = TITLE_FOUND) -> Record | None:
    """The candidate that agrees best with the reference (the first, best ranked, on a tie), or None."""
    scored = [(agreement(citation, record, title_found), -rank, record) for rank, record in enumerate(candidates)]
    score, _, record = max(scored, key=lambda s: s[:2], default=(0.0, 0, None))
    return record if score else None


def pubmed_candidates(citation: dict[str, str], client: EntrezClient) -> tuple[list[Record], str]:
    """The records PubMed ranks first for the title query, and why some could not be had ("" when
    all came); raises EntrezError when the search itself fails."""
    pmids = client.esearch(title_query(citation), retmax=CANDIDATES)
    if not pmids:
        return [], ""
    fetched = client.fetch_records(pmids)
    return [fetched.records[p] for p in pmids if p in fetched.records], next(iter(fetched.failures.values()), "")


def find_by_title(citation: dict[str, str], client: EntrezClient) -> ByTitle:
    """The reference's record by its title: PubMed's remembered answer, else PubMed (online) or
    the store (offline). Nothing, without a reason, when there is no title to search by or
    offline the store holds no match."""
    if not searchable(citation):
        return ByTitle()
    store = client.store
    key = "|".join((normalise(citation["title"]), surname(first_author(citation)), citation.get("year", "")))
    remembered = store.recall_id("title", key) if store is not None else None
    if remembered is not None:
        return ByTitle(pmid=remembered or None, none=not remembered)
    if client.offline:
        hits = store.search(citation["title"], limit=CANDIDATES) if store is not None else []
        record = best_match(citation, [hit.record for hit in hits])
        return ByTitle(record.pmid, record) if record else ByTitle()
    try:
        candidates, failure = pubmed_candidates(citation, client)
    except EntrezError as exc:
        return ByTitle(reason=failure_reason(exc))
    record = best_match(citation, candidates)
    if record is None and failure:
        return ByTitle(reason=failure)
    if store is not None and (record is None or record.pmid):
        store.remember_id("title", key, record.pmid if record else "")
    return ByTitle(record.pmid, record) if record else ByTitle(none=True)
