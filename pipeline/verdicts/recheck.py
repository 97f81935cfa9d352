"""A re-check asks PubMed only what it added since the last check of the same documents.

Why: a scheduled re-check that searched anew for every claim would cost as many requests as the
first run, and NCBI's limits make that slow. What a re-check needs is what is new: PubMed's
records added (its Entrez date) since the last run, asked for all the claims at once, GROUP
claims' queries to an esearch, then fetched together. Each claim then reads what it read last
time (kept with the run, see `pipeline.outputs.runs`) and the new records that name what its
search asks for (`evidence.bears_on`), re-ranked as a search's pool is: with nothing new, it
reads exactly what it read before, so its verdict changes only when the literature did.
"""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.datatypes import Claim, Record
from pipeline.entities.kb import KnowledgeBase
from pipeline.records.entrez import EntrezClient, EntrezError, failure_reason
from pipeline.verdicts.evidence import POOL, Found, bears_on, search_query

GROUP = 20  # claims whose queries share one esearch (OR-ed; Biopython POSTs a long query)


@dataclass(frozen=True)
class Recheck:
    """The last check of the same documents: its day and what each claim read (by claim key)."""

    since: str  # the day of the last check, as esearch takes it: "2026/12/01"
    read_before: dict[str, list[str]]  # claim key (pipeline.outputs.runs.claim_key) -> uids read


def esearch_day(started_at: str) -> str:
    """An ISO 8601 time ("2026-12-01T03:00:00+00:00") as the day esearch's mindate takes."""
    return started_at[:10].replace("-", "/")


def added_since(claims: list[Claim], client: EntrezClient, kb: KnowledgeBase, since: str) -> Found:
    """PubMed's records added since `since` that any of `claims`' searches would ask for, and why
    the asking fell short if it did."""
    terms = list(dict.fromkeys(search_query(claim, kb)[0] for claim in claims))
    pmids: list[str] = []
    try:
        for start in range(0, len(terms), GROUP):
            group = terms[start:start + GROUP]
            pmids += client.esearch(" OR ".join(f"({t})" for t in group), retmax=POOL * len(group),
                                    added_since=since)
        fetched = client.fetch_records(list(dict.fromkeys(pmids)))
    except EntrezError as exc:
        return Found([], failure_reason(exc))
    return Found([fetched.records[p] for p in dict.fromkeys(pmids) if p in fetched.records],
                 next(iter(fetched.failures.values()), ""))


def read_again(claim: Claim, read_before: list[Record], added: Found, kb: KnowledgeBase) -> Found:
    """The pool a claim's re-check ranks: what it read last time and the new records bearing on it."""
    new = [r for r in added.records if bears_on(claim, r, kb)]
    pool = list({r.uid: r for r in [*read_before, *new]}.values())
    return Found(pool, added.failure)
