"""Claims: the pharmacological statements a document makes, found by the same
entity tagger and relation extractor that read the evidence.

Using one machinery for both sides is what lets a claim and an evidence
sentence meet on the same identifiers and relation vocabulary.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from pipeline.datatypes import Mention, Relation
from pipeline.documents import Document, DocSentence
from pipeline.entities import EntityTagger
from pipeline.relations import RelationExtractor

CLAIM_SENTENCE_KINDS = ("prose", "bullet")


@dataclass
class Claim:
    document: str
    claim_id: str
    sentence: DocSentence
    relation: Relation
    implicit_subject: bool = False  # the subject comes from the document's topic, not the sentence

    @property
    def citations(self) -> list[str]:
        return self.sentence.markers


def document_topic(document: Document, tagger: EntityTagger) -> Mention | None:
    """The drug (or drug class) a document is about, from its title: the subject of
    sentences that name none ("5-HT1A receptor desensitization: …" under an SSRI title)."""
    chemicals = [m for m in tagger.tag(document.title) if m.type == "Chemical"]
    return chemicals[0] if chemicals else None


def _with_topic(mentions: list[Mention], topic: Mention | None) -> tuple[list[Mention], bool]:
    """Add the document topic as a zero-width subject where a sentence has none."""
    if topic is None or any(m.type == "Chemical" for m in mentions):
        return mentions, False
    if not any(m.type in ("Gene", "Disease") for m in mentions):
        return mentions, False
    anchor = Mention(0, 0, topic.text, topic.type, topic.id, topic.name)
    return [anchor, *mentions], True


def extract_claims(document: Document, tagger: EntityTagger, extractor: RelationExtractor) -> list[Claim]:
    """Every subject–relation–object statement in the document's prose and bullets."""
    topic = document_topic(document, tagger)
    claims: list[Claim] = []
    for sentence in document.sentences:
        if sentence.kind not in CLAIM_SENTENCE_KINDS:
            continue
        mentions, implicit = _with_topic(tagger.tag(sentence.text), topic)
        for n, relation in enumerate(extractor.extract(sentence.text, sentence.index, mentions)):
            is_implicit = implicit and relation.subject.start == relation.subject.end == 0
            if is_implicit:
                relation = replace(relation, confidence=round(relation.confidence * 0.8, 3))
            claims.append(Claim(document.name, f"{document.name}:{sentence.index}:{n}", sentence,
                                relation, is_implicit))
    return claims
