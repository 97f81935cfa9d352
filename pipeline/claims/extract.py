"""Claims: the pharmacological statements a document makes, found by the same entity tagger
and relation extractor that read the evidence.

Using one machinery for both sides is what lets a claim and an evidence sentence meet on the
same identifiers and relation vocabulary. Blog prose needs more than entity pairs, though, so
each sentence's vetted extractor pairs (pipeline.claims.candidates) are joined by what its
clauses say (pipeline.claims.clauses) and by claims whose subject the sentence leaves to the
document (pipeline.claims.subjects), one claim per subject and object. `extract_claims` reads
a whole document.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from pipeline.claims.candidates import claim_mentions, reads_right
from pipeline.claims.clauses import ClauseReader, Found, anchored, outside, sentence_units
from pipeline.claims.subjects import Topic, bullet_head, document_topic, ellipses, head_claim, section_subjects
from pipeline.datatypes import Claim, DocSentence, Document, Mention, Relation
from pipeline.entities.dictionary import EntityTagger
from pipeline.entities.kb import KnowledgeBase
from pipeline.relations.triggers import HEDGE_CUES, RelationExtractor

CLAIM_SENTENCE_KINDS = ("prose", "bullet")
# Hedges the relation extractor's cues miss: the conditional, and "we can only hypothesize".
CLAIM_HEDGES = re.compile(r"\b(?:would|can only)\b", re.I)
META_HEDGE = re.compile(r"\b(?:we|I)\b.*\b(?:hypothes|speculat|conjectur)\w*", re.I)


def _hedged(text: str) -> bool:
    return bool(HEDGE_CUES.search(text) or CLAIM_HEDGES.search(text))


def _sentence_claims(sentence: DocSentence, tagger: EntityTagger, extractor: RelationExtractor, kb: KnowledgeBase,
                     subject: Mention | None, antecedent: Mention | None,
                     topic: Topic) -> Iterator[Relation]:
    """The claims of one sentence, in reading order. `subject` is
    what the section's bullets are about; `antecedent` the drug the sentence before was about."""
    text = sentence.text
    mentions = claim_mentions(text, tagger.tag(text), kb)
    units = sentence_units(text, mentions)
    head_end = bullet_head(text) if sentence.kind == "bullet" else None
    body_start = head_end + 2 if head_end is not None else 0
    context = subject if sentence.kind == "bullet" else antecedent
    named = [u.mention for u in units if u.mention and u.end <= body_start]
    if head_end is not None and len(named) == 1 and named[0].type == "Chemical" and named[0].text == text[:head_end]:
        context, subject = named[0], None  # "Norfluoxetine: the active metabolite inhibits CYP2D6"
    found = ClauseReader(text, units, sentence.index, body_start, context).read(fallback=False)
    extracted = [Found(r) for r in extractor.extract(text, sentence.index, mentions) if reads_right(r, text, found)]
    if head_end is not None and subject is not None:
        found += head_claim(sentence, head_end, units, subject, topic, extracted + found)
    if not extracted and not found and sentence.markers:
        found = ClauseReader(text, units, sentence.index, body_start, context).read(fallback=True)
    everything = extracted + found
    everything += ellipses(text, sentence.index, units, everything)
    best: dict[tuple[str, str], Found] = {}  # one claim per pair, a directional one before a neutral one
    for f in everything:
        key = (f.relation.subject.key, f.relation.object.key)
        kept = best.get(key)
        if kept is None or (kept.relation.polarity == 0 and f.relation.polarity != 0):
            best[key] = f
    entity_objects = [f.relation for f in best.values() if f.relation.object.id]
    for f in sorted(best.values(), key=lambda f: (f.relation.subject.start, f.relation.object.start,
                                                  f.relation.relation)):
        rel = f.relation
        if not rel.object.id and any(e.subject.start == rel.subject.start and
                                     rel.object.start <= e.object.start < rel.object.end for e in entity_objects):
            continue  # "reduces Kir4.1 currents" is the Kir4.1 claim already
        yield replace(rel, hedged=rel.hedged or _hedged(text))


def extract_claims(document: Document, tagger: EntityTagger, extractor: RelationExtractor,
                   kb: KnowledgeBase) -> list[Claim]:
    """Every claim in the document's prose and bullets; a claimless "we can only hypothesize"
    marks the claims before it in its section as hedged."""
    topic = document_topic(document, tagger, kb)
    subjects = section_subjects(document, tagger, kb, topic)
    claims: list[Claim] = []
    antecedent: Mention | None = None
    for sentence in document.sentences:
        if sentence.kind not in CLAIM_SENTENCE_KINDS:
            antecedent = None if sentence.kind == "heading" else antecedent
            continue
        found = list(_sentence_claims(sentence, tagger, extractor, kb, subjects.get(sentence.section), antecedent,
                                      topic))
        named = [r.subject for r in found if r.subject.type == "Chemical" and not outside(r.subject)]
        antecedent = anchored(named[0]) if named else antecedent
        if not found and META_HEDGE.search(sentence.text):
            claims = [replace(c, relation=replace(c.relation, hedged=True)) if c.sentence.section == sentence.section
                      else c for c in claims]
        for n, relation in enumerate(found):
            claims.append(Claim(document.name, f"{document.name}:{sentence.index}:{n}", sentence, relation,
                                outside(relation.subject)))
    return claims
