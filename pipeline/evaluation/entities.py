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

from pipeline.corpora import NER_TYPES
from pipeline.datatypes import GoldDocument
from pipeline.entities.dictionary import EntityTagger

Span = tuple[str, int, int, str]  # doc id, start, end, litmine type


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


def evaluate_ner(tagger: EntityTagger, docs: list[GoldDocument], corpus: str, split: str) -> dict:
    """Strict precision / recall / F1 per litmine type and micro-averaged over all of them."""
    types = sorted({t for t in NER_TYPES[corpus].values() if t})
    gold, ignored = gold_spans(docs)
    started = time.monotonic()
    predicted = {(doc.doc_id, m.start, m.end, m.type) for doc in docs for m in tagger.tag(doc.text)
                 if m.type in types and (doc.doc_id, m.start, m.end) not in ignored}
    seconds = time.monotonic() - started
    hits = predicted & gold
    per_type = {t: prf(*(Counter(s[3] for s in spans)[t] for spans in (hits, predicted, gold))) for t in types}
    return {"corpus": corpus, "split": split, "tagger": tagger.version, "per_type": per_type,
            "overall": prf(len(hits), len(predicted), len(gold)), "documents": len(docs),
            "abstracts_per_second": round(len(docs) / seconds, 1) if seconds else None}


def prf(hits: int, predicted: int, gold: int) -> dict[str, float]:
    """Precision, recall and F1 of `hits` among `predicted` against `gold`, with the counts."""
    precision = hits / predicted if predicted else 0.0
    recall = hits / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "gold": gold, "predicted": predicted}
