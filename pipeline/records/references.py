"""From a document's citation markers to the records they cite.

Each reference ends in one of three states, and the difference matters to the
reader: *resolved* (we have the record), *unavailable* (we know what is cited
but could not fetch it, e.g. offline) and *unresolved* (nothing identifies the
cited work, e.g. a bare "[4]" with no reference list). An unavailable reference
is also *not found* when NCBI answered that its id does not exist, as opposed to
not being reachable: the likely sign of a fabricated reference. An NCBI error while
identifying or fetching one reference makes that reference unavailable, with the
error as its reason, and the others go on.
"""
from __future__ import annotations

from collections.abc import Callable

from pipeline.datatypes import Document, Record, Reference, ResolvedReference
from pipeline.records.entrez import NOT_A_PMID, NOT_IN_PUBMED, EntrezClient, EntrezError, failure_reason, is_failure

RESOLVED, UNAVAILABLE, UNRESOLVED = "resolved", "unavailable", "unresolved"

# ECitMatch field <- the field `documents` parses out of a free-text reference
ECITMATCH_FIELDS = {"journal_title": "journal", "year": "year", "volume": "volume",
                    "first_page": "first_page", "author_name": "first_author"}


def _said_none(client: EntrezClient, kind: str, key: str) -> bool:
    """Whether NCBI answered, now or when last asked, that no PubMed record has this id (a
    conversion that found nothing; offline, the store remembers the answer)."""
    if client.store is not None:
        return client.store.recall_id(kind, key) == ""
    return not client.offline


def _identify(ref: Reference, client: EntrezClient) -> tuple[Record | None, str | None, str, bool]:
    """A record already in the store, or the PMID to fetch, or why there is none (and whether
    that is NCBI's answer that there is none)."""
    try:
        return _lookup(ref, client)
    except EntrezError as exc:
        return None, None, failure_reason(exc), False


def _lookup(ref: Reference, client: EntrezClient) -> tuple[Record | None, str | None, str, bool]:
    if ref.pmid:
        return None, ref.pmid, "", False
    store = client.store
    conversions = ((ref.pmcid, "pmcid", store.get_by_pmcid if store else None, client.pmcid_to_pmid, ref.pmcid),
                   (ref.doi, "doi", store.get_by_doi if store else None, client.doi_to_pmid, f"doi:{ref.doi}"))
    for key, kind, from_store, to_pmid, label in conversions:
        if not key:
            continue
        record = from_store(key) if from_store else None
        if record:
            return record, record.pmid, "", False
        pmid = to_pmid(key)
        if pmid:
            return None, pmid, "", False
        none = _said_none(client, kind, key)
        return None, None, f"no PMID known for {label}" if none or not client.offline else "", none
    if ref.citation:
        (pmid,) = client.ecitmatch([{k: ref.citation.get(v, "") for k, v in ECITMATCH_FIELDS.items()}])
        none = not pmid and not client.offline
        return None, pmid, "citation not matched in PubMed" if none else "", none
    return None, None, "the document gives no reference for this marker", False


def _ignore(done: int) -> None:
    pass


def resolve_references(document: Document, client: EntrezClient, refresh: bool = False,
                       settled: Callable[[int], None] = _ignore) -> list[ResolvedReference]:
    """Every reference of the document with its record where one can be had. `settled` is told
    how many more references are settled, for a progress display: one by one as they are
    identified, those whose records must be fetched once the fetch is over."""
    identified = []
    for ref in document.references.values():
        record, pmid, reason, not_found = _identify(ref, client)
        identified.append((ref, record, pmid, reason, not_found))
        if record is not None or not pmid:  # in the store, or nothing to fetch
            settled(1)
    wanted = [pmid for _, record, pmid, _, _ in identified if record is None and pmid]
    fetched = client.fetch_records(wanted, refresh=refresh) if wanted else None
    settled(len(wanted))
    resolved: list[ResolvedReference] = []
    for ref, record, pmid, reason, not_found in identified:
        if record is None and pmid and fetched is not None:
            record = fetched.records.get(pmid)
            reason = reason or fetched.unavailable.get(pmid, "")
            not_found = fetched.unavailable.get(pmid) in (NOT_IN_PUBMED, NOT_A_PMID)
        known = bool(pmid or ref.pmcid or ref.doi or (ref.citation and (client.offline or is_failure(reason))))
        if not record and known and client.offline and not reason:
            reason = f"{client.offline_reason}: not in the local store"
        status = RESOLVED if record else UNAVAILABLE if known else UNRESOLVED
        resolved.append(ResolvedReference(
            document=document.name, marker=ref.marker, raw=ref.raw, pmid=pmid or (record.pmid if record else None),
            pmcid=ref.pmcid or (record.pmcid if record else None), doi=ref.doi or (record.doi if record else None),
            resolved_by=ref.resolved_by, status=status, reason="" if record else reason, record=record,
            not_found=not_found and not record))
    return resolved
