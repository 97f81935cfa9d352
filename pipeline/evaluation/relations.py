"""Relation extraction scored the way each benchmark scores it.

- DrugProt: micro-F1 over (PMID, type, chemical, gene) for all 13 types;
- ChemProt: the same over the evaluated groups CPR:3, 4, 5, 6 and 9;
- BC5CDR: CID over unique (PMID, chemical MeSH, disease MeSH);
- BioRED: (PMID, unordered concept pair, type) over all relation types.

With predicted entities, mention-level corpora match a relation's mentions to the gold
ones by exact offsets; document-level corpora match concept identifiers, so the tagger's
KB ids are first translated into the corpus's vocabularies (MeSH, NCBI Gene, NCBI Taxonomy)
through the KB's cross-references.
"""
from __future__ import annotations

import csv
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from pipeline.config import Settings
from pipeline.corpora import EMITTED, SUBJECT_FIRST, corpus_id, to_vocabulary
from pipeline.datatypes import GoldDocument, Mention
from pipeline.documents.sentences import split_sentences
from pipeline.entities.dictionary import EntityTagger
from pipeline.entities.kb import KnowledgeBase
from pipeline.entities.kb_build import ensure_kb
from pipeline.entities.ner import PipelineTagger
from pipeline.evaluation.entities import Scores, prf
from pipeline.records.store import Store
from pipeline.relations.dependencies import DependencyParser
from pipeline.relations.model import TASKS, Candidate, RelationModel
from pipeline.relations.triggers import RelationExtractor, is_hedged, is_negated
from pipeline.training.relation_batches import ConceptPair, gold_mentions, make_batch
from pipeline.training.relation_models import ensure_relation_model, predict_batch
from pipeline.verdicts.evidence import tag_texts


Key = tuple[str, ...]


@dataclass(frozen=True)
class RelationScores:
    """Micro-averaged and per-type scores of predicted against gold relation keys."""

    micro: Scores
    per_type: dict[str, Scores]


@dataclass(frozen=True)
class RelationFigures:
    """What `litmine evaluate relations --json` prints: a model scored by its benchmark's rules."""

    corpus: str
    split: str
    entities: str  # gold | predicted
    micro: Scores
    per_type: dict[str, Scores]  # the corpus's relation types

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class ExtractorFigures:
    """An extractor scored in litmine's vocabulary (`evaluate_extractor`)."""

    corpus: str
    extractor: str  # the extractor's name
    micro: Scores
    per_type: dict[str, Scores]  # litmine's relations

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class CueScores(Scores):
    """A cue's scores on the hand-labelled sample, with the sentences read and those it should fire on."""

    sentences: int
    positives: int


@dataclass(frozen=True)
class CueFigures:
    """The negation and hedging cues scored on their hand-labelled sample (`evaluate_cues`)."""

    negated: CueScores
    hedged: CueScores

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def predicted_mentions(docs: list[GoldDocument], corpus: str, tagger: EntityTagger,
                       kb: KnowledgeBase) -> list[list[tuple[Mention, tuple[str, ...]]]]:
    """The tagger's mentions of each document with their corpus ids (document-level corpora)
    or their offsets (mention-level ones, where relations join mentions)."""
    task = TASKS[corpus]
    out = []
    for found_by_tagger in tag_texts(tagger, [d.text for d in docs]):
        found = []
        for m in found_by_tagger:
            ids = corpus_id(kb, corpus, m) if task.document_level else (f"{m.start}-{m.end}",)
            if ids:
                found.append((m, ids))
        out.append(found)
    return out


def gold_keys(corpus: str, docs: list[GoldDocument]) -> set[Key]:
    """The gold relations as the benchmark counts them."""
    task = TASKS[corpus]
    keys: set[Key] = set()
    for doc in docs:
        spans = {e.ann_id: f"{e.start}-{e.end}" for e in doc.entities}
        for r in doc.relations:
            if r.type not in task.labels:
                continue
            if task.document_level:
                keys.add((doc.doc_id, r.type, *_unordered(corpus, r.arg1, r.arg2)))
            elif r.arg1 in spans and r.arg2 in spans:
                keys.add((doc.doc_id, r.type, spans[r.arg1], spans[r.arg2]))
    return keys


def _unordered(corpus: str, a: str, b: str) -> tuple[str, str]:
    """BC5CDR pairs are (chemical, disease) already; BioRED's are unordered."""
    return (a, b) if corpus == "bc5cdr" or a <= b else (b, a)


def predicted_keys(model: RelationModel, docs: list[GoldDocument],
                   mentions: list[list[tuple[Mention, tuple[str, ...]]]] | None = None,
                   parser: DependencyParser | None = None) -> set[Key]:
    corpus = model.task.corpus
    batch = make_batch(model.task, docs, mentions, parser=parser)
    keys: set[Key] = set()
    for row, label, _ in predict_batch(model, batch):
        if isinstance(row, ConceptPair):
            keys.add((docs[row.doc].doc_id, label, *_unordered(corpus, *row.ids)))
        elif isinstance(row, Candidate):
            sentence = next(s for s in batch.sentences if s.pairs and s.pairs[0].doc == row.doc
                            and s.index == row.sentence)
            a, b = sentence.view.mentions[row.a], sentence.view.mentions[row.b]
            if a.type != "Chemical":
                a, b = b, a
            keys.add((docs[row.doc].doc_id, label, f"{a.start + sentence.start}-{a.end + sentence.start}",
                      f"{b.start + sentence.start}-{b.end + sentence.start}"))
    return keys


def score(gold: set[Key], predicted: set[Key]) -> RelationScores:
    """Micro and per-type precision, recall and F1 (fractions) of predicted against gold keys."""
    tp = Counter(k[1] for k in predicted & gold)
    n_gold, n_pred = Counter(k[1] for k in gold), Counter(k[1] for k in predicted)
    per_type = {t: prf(tp[t], n_pred[t], n_gold[t]) for t in sorted(set(n_gold) | set(n_pred))}
    return RelationScores(prf(sum(tp.values()), len(predicted), len(gold)), per_type)


def evaluate_relations(corpus: str, split: str, entities: str = "gold", *, model: RelationModel,
                       docs: list[GoldDocument], tagger: EntityTagger | None = None,
                       kb: KnowledgeBase | None = None, parser: DependencyParser | None = None) -> RelationFigures:
    """Score `model` on a corpus split with gold or predicted (tagger + KB) entities; a model
    that reads dependency paths parses with `parser` (default: litmine's)."""
    if corpus not in TASKS or entities not in ("gold", "predicted"):
        raise ValueError(f"unknown corpus {corpus!r} or entities {entities!r}")
    mentions = None
    if entities == "predicted":
        if tagger is None or kb is None:
            raise ValueError("predicted entities need a tagger and the KB")
        mentions = predicted_mentions(docs, corpus, tagger, kb)
    scores = score(gold_keys(corpus, docs), predicted_keys(model, docs, mentions, parser))
    return RelationFigures(corpus, split, entities, scores.micro, scores.per_type)


def evaluate_extractor(extractor: RelationExtractor, corpus: str, docs: list[GoldDocument]) -> ExtractorFigures:
    """Score a `RelationExtractor` as the flow runs it, sentence by sentence over gold entities, in
    litmine's vocabulary: keys are (document, relation, subject, object), gold relations mapped by
    `to_vocabulary` and kept where the extractor could emit them. Negated relations are left out,
    as the corpora do not annotate them. This compares extractors on one footing (the trigger
    baseline has no corpus types), where `evaluate_relations` scores a model by its corpus's rules."""
    task = TASKS[corpus]
    gold: set[Key] = set()
    sentences: list[tuple[str, str, list[Mention]]] = []  # (document, sentence, its mentions)
    for doc in docs:
        mentions = gold_mentions(task, doc)
        types = {x: m.type for m, ids in mentions for x in ids}
        for r in doc.relations:
            pair = (types.get(r.arg1), types.get(r.arg2))
            relation = to_vocabulary(corpus, r.type, pair) if r.type in task.labels and None not in pair else None
            if relation and frozenset(pair) in EMITTED:
                subject, obj = (r.arg1, r.arg2) if pair in SUBJECT_FIRST else (r.arg2, r.arg1)
                gold.add((doc.doc_id, relation, subject, obj))
        for start, end in split_sentences(doc.text):
            inside = [replace(m, start=m.start - start, end=m.end - start) for m, _ in mentions
                      if start <= m.start and m.end <= end]
            if len(inside) > 1:
                sentences.append((doc.doc_id, doc.text[start:end], inside))
    said = extractor.extract_many([(sentence, 0, inside) for _, sentence, inside in sentences])
    predicted = {(doc_id, r.relation, r.subject.id, r.object.id)
                 for (doc_id, _, _), relations in zip(sentences, said) for r in relations if not r.negated}
    scores = score(gold, predicted)
    return ExtractorFigures(corpus, extractor.name, scores.micro, scores.per_type)


def evaluate_relations_in_store(corpus: str, split: str, entities: str = "gold", *, settings: Settings,
                                progress: bool = False) -> RelationFigures:
    """`evaluate_relations` with everything opened from settings: the store's split, the
    corpus's model (trained first if missing), and for predicted entities litmine's trained
    entity pipeline (raises ModelsMissing if it is not built)."""
    with Store(settings.store_path) as store:
        docs = store.gold_documents(corpus, split)
        if not docs:
            raise ValueError(f"no {corpus}/{split} documents in {store.path}; import ../shared/corpora first")
        model = ensure_relation_model(corpus, settings, store, split, progress=progress)
    kb = ensure_kb(settings) if entities == "predicted" else None
    tagger = PipelineTagger.load(settings, kb, corpus) if kb is not None else None
    return evaluate_relations(corpus, split, entities, model=model, docs=docs, tagger=tagger, kb=kb)


def evaluate_cues(path: Path) -> CueFigures:
    """Precision, recall and F1 of the negation and hedging cues on a hand-labelled TSV
    (tests/data/relations/cues.tsv): one pair per sentence, with its offsets and labels."""
    counts = {"negated": Counter(), "hedged": Counter()}
    with open(path, newline="") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")
        for row in rows:
            sentence = row["sentence"]
            spans = sorted([(int(row["subject_start"]), len(row["subject"])),
                            (int(row["object_start"]), len(row["object"]))])
            found = {"negated": is_negated(sentence, spans[0][0], spans[1][0] + spans[1][1], sum(spans[0])),
                     "hedged": is_hedged(sentence)}
            for name, predicted in found.items():
                counts[name][(row[name] == "1", predicted)] += 1
    scores = {}
    for name, c in counts.items():
        tp, fp, fn = c[(True, True)], c[(False, True)], c[(True, False)]
        scores[name] = CueScores(**asdict(prf(tp, tp + fp, tp + fn)), sentences=sum(c.values()), positives=tp + fn)
    return CueFigures(**scores)
