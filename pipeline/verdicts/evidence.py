"""Evidence for a claim: which records to read, and what each record says.

A claim's cited records come first. A claim that cites nothing, or whose cited
records are out of reach, gets a search: live, a PubMed esearch by relevance over
its concepts' names, synonyms and MeSH headings (a drug class also by its member
drugs; a statement by its entities, else its words); offline, BM25 over the local
store. Either way a pool of POOL candidates is re-ranked by the caller's ranker (the
verifier's BM25), records naming both sides of a triple first. A live search that fails
(an NCBI error, a fault outlasting the retry budget, records lost on the way) falls back to
the store and says why, so the claim is never told there is no evidence on a search that
did not happen.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from pipeline.datatypes import Claim, ExtractedRecord, Mention, Record, ResolvedReference
from pipeline.documents.sentences import split_sentences
from pipeline.entities.dictionary import EntityTagger
from pipeline.entities.kb import KnowledgeBase
from pipeline.records.entrez import EntrezClient, EntrezError, FetchResult, failure_reason
from pipeline.records.references import RESOLVED
from pipeline.relations.presupposition import with_presupposed
from pipeline.relations.triggers import RelationExtractor

PUBMED, LOCAL_STORE = "PubMed", "the local store"  # where a search looked (Candidates.searched)
POOL = 50  # candidates a search gathers before re-ranking
QUERY_ENTITIES = 3  # entities of a statement a PubMed query asks for
QUERY_WORDS = 8  # words of a statement without entities a PubMed query asks for
SYNONYMS = 3  # names per concept besides the one written and the preferred one
CLASS_MEMBERS = 8  # member drugs a class query names (alphabetically; the KB has no ranking)
# Names that would only add noise to a query: systematic names, salts, stereo prefixes, trademarks.
_NOISY_NAME = re.compile(r"[(),\[\];®™]|^\W|\d-\w+-\d|[-–]\d+$")
_WORD = re.compile(r"[A-Za-z0-9][\w+\-.]*[\w+]|[A-Za-z0-9]")


def extract_record(record: Record, tagger: EntityTagger, extractor: RelationExtractor) -> ExtractedRecord:
    """What one record says (`extract_records` of one)."""
    return extract_records([record], tagger, extractor)[0]


def tag_texts(tagger: EntityTagger, texts: Sequence[str]) -> list[list[Mention]]:
    """Each text's mentions: in batches where the tagger can (`tag_many`, the entity pipeline's
    nlp.pipe), else one by one (`EntityTagger` asks only for `tag`)."""
    tag_many = getattr(tagger, "tag_many", None)
    return list(tag_many(texts)) if tag_many is not None else [tagger.tag(text) for text in texts]


def extract_records(records: Sequence[Record], tagger: EntityTagger,
                    extractor: RelationExtractor) -> list[ExtractedRecord]:
    """What each record says, in order. A record (title, abstract and any full text) is tagged as
    one text, so abbreviations defined in one sentence resolve in the next, and its mentions are
    related sentence by sentence (what the extractor says, and what a compound such as "X-induced
    Y" takes for granted). The texts are tagged together (`tag_many`, where the tagger has it)
    and every sentence of the batch goes to the extractor in one call (`extract_many`), which is
    how many records are read fast; a record reads the same alone or in any batch."""
    texts = [record.full_text for record in records]
    tagged = tag_texts(tagger, texts)
    sentences: list[tuple[int, str, int, list[Mention]]] = []  # (record, sentence, index, mentions)
    for n, (text, found) in enumerate(zip(texts, tagged)):
        for index, (start, end) in enumerate(split_sentences(text)):
            mentions = [replace(m, start=m.start - start, end=m.end - start) for m in found
                        if start <= m.start and m.end <= end]
            sentences.append((n, text[start:end], index, mentions))
    said = extractor.extract_many([(sentence, index, mentions) for _, sentence, index, mentions in sentences])
    extracted = [ExtractedRecord(record.uid) for record in records]
    for (n, sentence, index, mentions), relations in zip(sentences, said):
        extracted[n].concepts.update(m.key for m in mentions)
        extracted[n].relations.extend(with_presupposed(sentence, mentions, relations, index))
        extracted[n].sentences.append((sentence, mentions))
    return extracted


def _stems(name: str) -> tuple[str, ...]:
    return tuple(w.lower()[:6] for w in _WORD.findall(name))


def query_names(mention: Mention, kb: KnowledgeBase) -> list[str]:
    """The names a search should try for one side of a claim: as written, the preferred name and
    a few clean synonyms that are not spelling variants ("Zoloft", not "Sertralina"), then, for a
    drug class, its member drugs. A phrase the KB lacks is itself."""
    names, members = [mention.text], []
    if mention.id:
        cleaned = [re.sub(r"[®™]", "", n).strip() for n in [mention.name] + kb.synonyms(mention.id)]
        names += [n for n in cleaned if n and not _NOISY_NAME.search(n) and len(n) <= 40]
        if mention.id.startswith("CLASS:"):
            concepts = (kb.concept(m) for m in kb.members(mention.id))
            members = sorted(c.name for c in concepts if c is not None and not c.id.startswith("CLASS:"))
    chosen: list[str] = []
    for name in names:
        if _stems(name) not in {_stems(c) for c in chosen}:
            chosen.append(name)
    return chosen[:2 + SYNONYMS] + members[:CLASS_MEMBERS]


def mesh_heading(mention: Mention, kb: KnowledgeBase) -> str | None:
    """The MeSH heading of a concept that has one: MeSH concepts are named by it, and a drug whose
    vocabularies cross-reference MeSH is named as MeSH names it."""
    if not mention.id:
        return None
    concept = kb.concept(mention.id)
    if concept is None or not (concept.id.startswith("MESH:") or "MESH" in concept.xrefs):
        return None
    return None if concept.id.startswith(("CLASS:", "FAMILY:")) else concept.name


def _query_words(text: str) -> list[str]:
    """The words a statement without entities is searched by: no stop words, none under 3 letters."""
    from spacy.lang.en.stop_words import STOP_WORDS  # spaCy takes over a second to import: not on a cached run's path

    return [w for w in _WORD.findall(text) if w.lower() not in STOP_WORDS and len(w) > 2][:QUERY_WORDS]


def search_query(claim: Claim, kb: KnowledgeBase) -> tuple[str, str]:
    """The claim as (PubMed esearch term, BM25 query text). A triple asks for both of its sides,
    each by its names and MeSH heading; a statement for its entities and its words."""
    if claim.relation is None:
        terms = []
        for mention in claim.entities[:QUERY_ENTITIES]:
            names = query_names(mention, kb)[:2]
            terms.append("(" + " OR ".join(f'"{n}"[tiab]' for n in names) + ")")
        term = " AND ".join(terms) if terms else " ".join(f"{w}[tiab]" for w in _query_words(claim.text))
        return term, claim.text
    rel = claim.relation
    groups: list[str] = []
    names_used: list[str] = []
    for side in (rel.subject, rel.object):
        names = query_names(side, kb)
        terms = [f'"{n}"[tiab]' for n in names]
        if heading := mesh_heading(side, kb):
            terms.append(f'"{heading}"[MeSH Terms]')
        groups.append("(" + " OR ".join(terms) + ")")
        names_used += names
    return " AND ".join(groups), " ".join([claim.text, *names_used])


def _mentions_side(text: str, names: list[str]) -> bool:
    """Whether a record names a side of the claim: one of its names, or every word of a phrase."""
    for name in names:
        tokens = [w.lower()[:6] for w in _WORD.findall(name)]
        if tokens and all(re.search(rf"\b{re.escape(t)}", text) for t in tokens):
            return True
    return False


Ranker = Callable[[str, list[Record]], list[Record]]


class Found(NamedTuple):
    records: list[Record]
    failure: str = ""  # why the live search could not be done in full ("" when it was, or offline by choice)


def search_records(claim: Claim, client: EntrezClient, kb: KnowledgeBase, top_k: int = 5,
                   ranker: Ranker | None = None) -> Found:
    """Up to `top_k` records that may bear on a claim, best first: its pool (`search_pools`)
    re-ranked by `ranker` (the verifier's BM25 over the claim's words), a triple's records naming
    both its sides first."""
    found = search_pools([claim], client, kb)[claim.claim_id]
    return Found(best(claim, found.records, kb, top_k, ranker), found.failure)


def search_pools(claims: list[Claim], client: EntrezClient, kb: KnowledgeBase) -> dict[str, Found]:
    """Each claim's pool of POOL candidates, by claim id, unranked. Online: each claim's own
    esearch (PubMed ranks one query at a time), then one fetch of all their candidates that the
    store lacks (the client batches it: an efetch of up to BATCH ids, more through epost and the
    history server's pages), so 20 claims cost 20 esearches and 3 efetches, not 40 requests. A claim
    whose search or whose records could not be had gets the store's BM25 pool and says why."""
    queries = {claim.claim_id: search_query(claim, kb) for claim in claims}
    ids: dict[str, list[str]] = {}
    failures: dict[str, str] = {}
    for claim in claims:
        if client.offline:
            failures[claim.claim_id] = "" if client.explicitly_offline else client.offline_reason
            continue
        try:
            ids[claim.claim_id] = client.esearch(queries[claim.claim_id][0], retmax=POOL)
        except EntrezError as exc:
            failures[claim.claim_id] = failure_reason(exc)
    fetched, fetch_failure = FetchResult({}), ""
    if wanted := [p for pmids in ids.values() for p in pmids]:
        try:
            fetched = client.fetch_records(wanted)
        except EntrezError as exc:
            fetch_failure = failure_reason(exc)
    pools: dict[str, Found] = {}
    for claim in claims:
        pmids = ids.get(claim.claim_id, [])
        pool = [fetched.records[p] for p in pmids if p in fetched.records]
        failure = (failures.get(claim.claim_id) or (fetch_failure if pmids else "")
                   or next((fetched.failures[p] for p in pmids if p in fetched.failures), ""))
        if not pool and client.store is not None:
            pool = [hit.record for hit in client.store.search(queries[claim.claim_id][1], limit=POOL)]
        pools[claim.claim_id] = Found(pool, failure)
    return pools


def best(claim: Claim, pool: list[Record], kb: KnowledgeBase, top_k: int, ranker: Ranker | None) -> list[Record]:
    """The `top_k` best of a pool: re-ranked by `ranker`, a triple's records naming both its sides first."""
    if ranker is not None:
        pool = ranker(claim.text, pool)
    if claim.relation is not None:
        sides = [query_names(claim.relation.subject, kb), query_names(claim.relation.object, kb)]
        pool = sorted(pool, key=lambda r: -sum(_mentions_side(r.text.lower(), names) for names in sides))  # stable
    return pool[:top_k]


def bears_on(claim: Claim, record: Record, kb: KnowledgeBase) -> bool:
    """Whether a record names what a claim's search asks for: both sides of a triple, a
    statement's entities, or else half of its words (a re-check's test of a new record)."""
    text = record.text.lower()
    if claim.relation is not None:
        return all(_mentions_side(text, query_names(side, kb)) for side in (claim.relation.subject,
                                                                           claim.relation.object))
    if claim.entities:
        return all(_mentions_side(text, query_names(m, kb)) for m in claim.entities[:QUERY_ENTITIES])
    words = _query_words(claim.text)
    return sum(_mentions_side(text, [w]) for w in words) * 2 >= len(words) > 0


@dataclass
class Candidates:
    """The records gathered for one claim: cited ones first, then those found by search, best first."""

    records: list[Record] = field(default_factory=list)
    cited: set[str] = field(default_factory=set)  # uids of the cited records in hand
    missing_cited: bool = False  # some cited record could not be had
    search_failure: str = ""  # why the search for it could not be done in full
    searched: str = ""  # where a search looked (PUBMED or LOCAL_STORE), "" when none ran

    @property
    def incomplete(self) -> bool:
        """Some of the evidence the claim needed could not be had: never "no evidence" then."""
        return self.missing_cited or bool(self.search_failure)


def needs_search(claim: Claim, cited: list[ResolvedReference]) -> bool:
    """A claim that cites nothing, or some of whose citations could not be had, is searched for
    (`cited`: its references, in citation order)."""
    missing = any(ref.status != RESOLVED for ref in cited) or len(cited) < len(claim.citations)
    return missing or not any(ref.status == RESOLVED and ref.record for ref in cited)


def gather(claim: Claim, cited: list[ResolvedReference], client: EntrezClient, kb: KnowledgeBase, top_k: int,
           ranker: Ranker | None = None, pool: Found | None = None) -> Candidates:
    """A claim's cited records in hand, plus a search where `needs_search` says so. The search says
    where it looked, and why it fell short if it did: nothing found in the local store of an
    offline run is not nothing found in PubMed. `pool`, where the caller has it, is re-ranked
    instead of a search of the claim's own: its pool from a search of many claims at once
    (`search_pools`), or a re-check's records read last time with those PubMed added since that
    bear on the claim (`pipeline.verdicts.recheck`)."""
    in_hand = [ref.record for ref in cited if ref.status == RESOLVED and ref.record]
    missing = any(ref.status != RESOLVED for ref in cited) or len(cited) < len(claim.citations)
    records, failure, searched = list(in_hand), "", ""
    if needs_search(claim, cited):
        found = (Found(best(claim, pool.records, kb, top_k, ranker), pool.failure)
                 if pool is not None else search_records(claim, client, kb, top_k, ranker))
        records, failure = records + found.records, found.failure
        searched = LOCAL_STORE if client.offline else PUBMED
    unique = list({r.uid: r for r in records}.values())
    return Candidates(unique, {r.uid for r in in_hand}, missing, failure, searched)
