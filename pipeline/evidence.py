"""Evidence for a claim: which records to read, and what each record says.

A claim's cited records come first. A claim that cites nothing gets a search:
live, an esearch from its entities' names; offline, BM25 over the local store.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.claims import Claim
from pipeline.datatypes import Mention, Record, Relation
from pipeline.documents import split_sentences
from pipeline.entities import EntityTagger
from pipeline.entrez import EntrezClient, Unreachable
from pipeline.kb import KnowledgeBase
from pipeline.relations import RelationExtractor


@dataclass
class ExtractedRecord:
    """What one record says: its relations and the concepts it mentions, sentence by sentence."""

    uid: str
    relations: list[Relation] = field(default_factory=list)
    concepts: set[str] = field(default_factory=set)  # ids (or lower-cased texts) of every mention


def mention_key(mention: Mention) -> str:
    return mention.id or mention.text.lower()


def extract_record(record: Record, tagger: EntityTagger, extractor: RelationExtractor) -> ExtractedRecord:
    """Tag and relate every sentence of a record (title, abstract and any full text)."""
    text = record.full_text
    extracted = ExtractedRecord(record.uid)
    for index, (start, end) in enumerate(split_sentences(text)):
        sentence = text[start:end]
        mentions = tagger.tag(sentence)
        extracted.concepts.update(mention_key(m) for m in mentions)
        extracted.relations.extend(extractor.extract(sentence, index, mentions))
    return extracted


def _names(mention: Mention, kb: KnowledgeBase, limit: int) -> list[str]:
    names = [mention.text, mention.name] + (kb.synonyms(mention.id)[:limit] if mention.id else [])
    return list(dict.fromkeys(n for n in names if n))


def search_query(claim: Claim, kb: KnowledgeBase, synonyms: int = 2) -> tuple[str, str]:
    """The claim as (PubMed esearch term, BM25 query text)."""
    rel = claim.relation
    groups = [_names(rel.subject, kb, synonyms), _names(rel.object, kb, synonyms)]
    term = " AND ".join("(" + " OR ".join(f'"{n}"[tiab]' for n in names) + ")" for names in groups)
    return term, " ".join(n for names in groups for n in names)


def search_records(claim: Claim, client: EntrezClient, kb: KnowledgeBase, top_k: int = 5) -> tuple[list[Record], str]:
    """Records that may bear on an uncited claim, and how they were found."""
    term, text = search_query(claim, kb)
    if not client.offline:
        try:
            pmids = client.esearch(term, retmax=top_k)
            fetched = client.fetch_records(pmids)
            return [fetched.records[p] for p in pmids if p in fetched.records], "esearch"
        except Unreachable:
            pass  # the client is offline from here on; fall back to the store
    if client.store is None:
        return [], "none"
    return [hit.record for hit in client.store.search(text, limit=top_k)], "store-bm25"
