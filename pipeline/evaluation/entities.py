"""Entity recognition scored strictly: a prediction counts only when its character offsets
and its type equal a gold mention's (token-level scoring would hide boundary errors).

Gold types are mapped into litmine's with pipeline.corpora.NER_TYPES; only the types a
corpus annotates are scored (BC5CDR has no genes, so a predicted gene there is neither
right nor wrong), and predictions that exactly cover a mention the corpus annotates with
a type litmine does not use (an NLM-Gene protein domain) are not counted against it.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from pipeline.corpora import NER_TYPES
from pipeline.datatypes import GoldDocument
from pipeline.entities.dictionary import EntityTagger

Span = tuple[str, int, int, str]  # doc id, start, end, litmine type


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 (fractions 0-1, to 4 places) with the counts they come from,
    so a reader can tell 0.0 of nothing from 0.0 of many."""

    precision: float
    recall: float
    f1: float
    gold: int
    predicted: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class NerFigures:
    """What `litmine evaluate ner --json` prints: strict scores per litmine type and over all of them."""

    corpus: str
    split: str
    tagger: str  # the tagger's version
    per_type: dict[str, Scores]
    overall: Scores
    documents: int
    abstracts_per_second: float | None  # None when tagging took no measurable time

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def gold_spans(docs: Iterable[GoldDocument]) -> tuple[set[Span], set[tuple[str, int, int]]]:
    """The gold mentions in litmine's types, and the spans annotated with types it leaves out."""
    scored, ignored = set(), set()
    for doc in docs:
        mapping = NER_TYPES[doc.corpus]
        for e in doc.entities:
            type_ = mapping.get(e.type)
            if type_:
                scored.add((doc.doc_id, e.start, e.end, type_))
            else:
                ignored.add((doc.doc_id, e.start, e.end))
    return scored, ignored


def evaluate_ner(tagger: EntityTagger, docs: list[GoldDocument], corpus: str, split: str) -> NerFigures:
    """Strict precision / recall / F1 per litmine type and micro-averaged over all of them."""
    types = sorted({t for t in NER_TYPES[corpus].values() if t})
    gold, ignored = gold_spans(docs)
    started = time.monotonic()
    predicted = {(doc.doc_id, m.start, m.end, m.type) for doc in docs for m in tagger.tag(doc.text)
                 if m.type in types and (doc.doc_id, m.start, m.end) not in ignored}
    seconds = time.monotonic() - started
    hits = predicted & gold
    per_type = {t: prf(*(Counter(s[3] for s in spans)[t] for spans in (hits, predicted, gold))) for t in types}
    return NerFigures(corpus, split, tagger.version, per_type, prf(len(hits), len(predicted), len(gold)), len(docs),
                      round(len(docs) / seconds, 1) if seconds else None)


def prf(hits: int, predicted: int, gold: int) -> Scores:
    """Precision, recall and F1 of `hits` among `predicted` against `gold`, with the counts."""
    precision = hits / predicted if predicted else 0.0
    recall = hits / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(round(precision, 4), round(recall, 4), round(f1, 4), gold, predicted)
