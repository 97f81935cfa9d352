"""From a document's citation markers to the records they cite.

Each reference ends in one of three states, and the difference matters to the
reader: *resolved* (we have the record), *unavailable* (we know what is cited
but could not fetch it, e.g. offline) and *unresolved* (nothing identifies the
cited work, e.g. a bare "[4]" with no reference list). An unavailable reference
is also *not found* when NCBI answered that its id does not exist, as opposed to
not being reachable: the likely sign of a fabricated reference. An NCBI error while
identifying or fetching one reference makes that reference unavailable, with the
error as its reason, and the others go on.

A free-text reference (no PMID, PMCID or DOI) is matched by ECitMatch where it gives the
journal, volume and first page ECitMatch matches on, and, where that finds nothing, searched for
by its title (`pipeline.records.title_search`); it is *not found* only when every search that
could be made answered that PubMed has no such paper, never when one of them failed.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from pipeline.datatypes import Document, Record, Reference, ResolvedReference
from pipeline.records.entrez import NOT_A_PMID, NOT_IN_PUBMED, EntrezClient, EntrezError, failure_reason, is_failure
from pipeline.records.title_search import find_by_title, searchable

RESOLVED, UNAVAILABLE, UNRESOLVED = "resolved", "unavailable", "unresolved"
TITLE_SEARCH = "title_search"  # resolved_by of a free-text reference its title search found

# ECitMatch field <- the field `documents` parses out of a free-text reference
ECITMATCH_FIELDS = {"journal_title": "journal", "year": "year", "volume": "volume",
                    "first_page": "first_page", "author_name": "first_author"}


def _said_none(client: EntrezClient, kind: str, key: str) -> bool:
    """Whether NCBI answered, now or when last asked, that no PubMed record has this id (a
    conversion that found nothing; offline, the store remembers the answer)."""
    if client.store is not None:
        return client.store.recall_id(kind, key) == ""
    return not client.offline


class Identified(NamedTuple):
    record: Record | None = None  # already in hand
    pmid: str | None = None  # to fetch
    reason: str = ""  # why there is none
    not_found: bool = False  # NCBI answered that there is none
    by: str = ""  # how it was found, where not by what the reference gives (TITLE_SEARCH)


def _identify(ref: Reference, client: EntrezClient) -> Identified:
    """A record already in the store, or the PMID to fetch, or why there is none (and whether
    that is NCBI's answer that there is none)."""
    try:
        return _lookup(ref, client)
    except EntrezError as exc:
        return Identified(reason=failure_reason(exc))


def _lookup(ref: Reference, client: EntrezClient) -> Identified:
    if ref.pmid:
        return Identified(pmid=ref.pmid)
    store = client.store
    conversions = ((ref.pmcid, "pmcid", store.get_by_pmcid if store else None, client.pmcid_to_pmid, ref.pmcid),
                   (ref.doi, "doi", store.get_by_doi if store else None, client.doi_to_pmid, f"doi:{ref.doi}"))
    for key, kind, from_store, to_pmid, label in conversions:
        if not key:
            continue
        record = from_store(key) if from_store else None
        if record:
            return Identified(record, record.pmid)
        pmid = to_pmid(key)
        if pmid:
            return Identified(pmid=pmid)
        none = _said_none(client, kind, key)
        return Identified(reason=f"no PMID known for {label}" if none or not client.offline else "", not_found=none)
    if ref.citation and _searchable(ref.citation):
        return _by_citation(ref.citation, client)
    if ref.citation:
        return Identified(reason="too little to search PubMed by: no journal, volume and page, nor a title")
    return Identified(reason="the document gives no reference for this marker")


def _matchable(citation: dict[str, str]) -> bool:
    """Whether a citation gives what ECitMatch matches on."""
    return all(citation.get(name) for name in ("journal", "volume", "first_page"))


def _searchable(citation: dict[str, str]) -> bool:
    return _matchable(citation) or searchable(citation)


def _by_citation(citation: dict[str, str], client: EntrezClient) -> Identified:
    """ECitMatch where the reference gives what it matches on, then the title search."""
    answers: dict[str, bool] = {}  # the searches made: whether each answered that PubMed has nothing
    failure = ""
    if _matchable(citation):
        try:
            (pmid,) = client.ecitmatch([{k: citation.get(v, "") for k, v in ECITMATCH_FIELDS.items()}])
        except EntrezError as exc:
            failure = failure_reason(exc)
        else:
            if pmid:
                return Identified(pmid=pmid)
            answers["ECitMatch"] = not client.offline
    if searchable(citation):
        found = find_by_title(citation, client)
        if found.pmid or found.record:
            return Identified(found.record, found.pmid, by=TITLE_SEARCH)
        failure = failure or found.reason
        answers["title search"] = found.none
    none = not failure and all(answers.values())
    return Identified(reason=f"citation not matched in PubMed ({', '.join(answers)})" if none else failure,
                      not_found=none)


def _ignore(done: int) -> None:
    pass


def resolve_references(document: Document, client: EntrezClient, refresh: bool = False,
                       settled: Callable[[int], None] = _ignore) -> list[ResolvedReference]:
    """Every reference of the document with its record where one can be had. `settled` is told
    how many more references are settled, for a progress display: one by one as they are
    identified, those whose records must be fetched once the fetch is over."""
    identified = []
    for ref in document.references.values():
        found = _identify(ref, client)
        identified.append((ref, *found))
        if found.record is not None or not found.pmid:  # in the store, or nothing to fetch
            settled(1)
    wanted = [pmid for _, record, pmid, *_ in identified if record is None and pmid]
    fetched = client.fetch_records(wanted, refresh=refresh) if wanted else None
    settled(len(wanted))
    resolved: list[ResolvedReference] = []
    for ref, record, pmid, reason, not_found, by in identified:
        if record is None and pmid and fetched is not None:
            record = fetched.records.get(pmid)
            reason = reason or fetched.unavailable.get(pmid, "")
            not_found = fetched.unavailable.get(pmid) in (NOT_IN_PUBMED, NOT_A_PMID)
        known = bool(pmid or ref.pmcid or ref.doi or (ref.citation and _searchable(ref.citation)
                                                       and (client.offline or is_failure(reason))))
        if not record and known and client.offline and not reason:
            reason = f"{client.offline_reason}: not in the local store"
        status = RESOLVED if record else UNAVAILABLE if known else UNRESOLVED
        resolved.append(ResolvedReference(
            document=document.name, marker=ref.marker, raw=ref.raw, pmid=pmid or (record.pmid if record else None),
            pmcid=ref.pmcid or (record.pmcid if record else None), doi=ref.doi or (record.doi if record else None),
            resolved_by=by or ref.resolved_by, status=status, reason="" if record else reason, record=record,
            not_found=not_found and not record))
    return resolved
