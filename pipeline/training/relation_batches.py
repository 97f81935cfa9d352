"""Gold documents as the relation models' training and scoring data: candidate pairs with their gold labels.

Mention-level corpora (DrugProt, ChemProt) label mention pairs in a sentence; document-level
ones (BC5CDR, BioRED) label concept pairs, described by where their mentions occur.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.corpora import ENTITY_TYPES
from pipeline.datatypes import GoldDocument, Mention
from pipeline.documents.sentences import split_sentences
from pipeline.records.store import Store
from pipeline.relations.dependencies import DependencyParser, Parse, default_parser
from pipeline.relations.model import Candidate, CorpusTask, SentenceCandidates, candidates_in_sentence, has_pair
from pipeline.relations.triggers import is_negated


def _mention_ids(task: CorpusTask, identifiers: str, ann_id: str) -> tuple[str, ...]:
    if not task.document_level:
        return (ann_id,)
    return tuple(i.strip() for i in identifiers.split(task.id_separator) if i.strip() and i.strip() != "-1")


def _sentences_with_pairs(text: str, mentions: Sequence[tuple[Mention, tuple[str, ...]]]
                          ) -> list[tuple[int, int, int, list[tuple[Mention, tuple[str, ...]]]]]:
    """(index, start, end, mentions inside in order) of each sentence with two mentions or more."""
    ordered = sorted(mentions, key=lambda m: (m[0].start, m[0].end))
    found = []
    for index, (s0, s1) in enumerate(split_sentences(text)):
        inside = [(m, ids) for m, ids in ordered if s0 <= m.start and m.end <= s1]
        if len(inside) >= 2:
            found.append((index, s0, s1, inside))
    return found


def sentence_candidates(task: CorpusTask, doc_index: int, doc_id: str, text: str,
                        mentions: Sequence[tuple[Mention, tuple[str, ...]]],
                        gold: dict[tuple[str, str], set[str]] | None = None,
                        parses: dict[str, Parse] | None = None) -> list[SentenceCandidates]:
    """The candidate pairs of a document, sentence by sentence; `mentions` are document-offset
    mentions with their ids, `gold` the labels of (id, id) pairs in either order, `parses`
    the parse of each sentence's text."""
    found = []
    for index, s0, s1, inside in _sentences_with_pairs(text, mentions):
        local = [(Mention(m.start - s0, m.end - s0, m.text, m.type, m.id, m.name), ids) for m, ids in inside]
        sentence = candidates_in_sentence(task, task.pair_types, doc_index, doc_id, index, s0, text[s0:s1], local,
                                          gold, parses.get(text[s0:s1]) if parses else None)
        if sentence.pairs:
            found.append(sentence)
    return found


def gold_mentions(task: CorpusTask, doc: GoldDocument) -> list[tuple[Mention, tuple[str, ...]]]:
    """A gold document's entities as litmine mentions with their ids."""
    found = []
    for e in doc.entities:
        type_ = ENTITY_TYPES.get(e.type, e.type)
        ids = _mention_ids(task, e.identifiers, e.ann_id)
        found.append((Mention(e.start, e.end, e.text, type_, ids[0] if ids else ""), ids))
    return found


def gold_labels(task: CorpusTask, doc: GoldDocument) -> dict[tuple[str, str], set[str]]:
    labels: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in doc.relations:
        if r.type in task.labels:
            labels[(r.arg1, r.arg2)].add(r.type)
    return labels


# Document-level features of a concept pair (BC5CDR, BioRED), beside the best mention-pair scores.
DOC_FEATURES = ("cooccur", "sentences_1", "sentences_2+", "a_in_title", "b_in_title", "both_in_title",
                "a_top", "b_top", "a_count_1", "b_count_1", "a_count_3+", "b_count_3+",
                "adjacent_sentence", "far")


@dataclass
class ConceptPair:
    doc: int
    ids: tuple[str, str]
    types: tuple[str, str]
    dense: np.ndarray
    labels: set[str]


def concept_pairs(task: CorpusTask, doc_index: int, text: str,
                  mentions: Sequence[tuple[Mention, tuple[str, ...]]], sentences: list[SentenceCandidates],
                  scores: list[np.ndarray], gold: dict[tuple[str, str], set[str]] | None) -> list[ConceptPair]:
    """Every pair of concepts in a document that the task relates, with its features:
    the best and mean first-stage scores of its mention pairs and where the concepts occur."""
    spans = split_sentences(text)
    title_end = spans[0][1] if spans else len(text)

    def sentence_of(position: int) -> int:
        for i, (s0, s1) in enumerate(spans):
            if position < s1:
                return i
        return len(spans) - 1

    where: dict[str, set[int]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    types: dict[str, str] = {}
    in_title: set[str] = set()
    for m, ids in mentions:
        for i in ids:
            where[i].add(sentence_of(m.start))
            counts[i] += 1
            types.setdefault(i, m.type)
            if m.start < title_end:
                in_title.add(i)
    top_by_type: dict[str, str] = {}
    for i in sorted(counts, key=lambda x: -counts[x]):
        top_by_type.setdefault(types[i], i)
    k = len(task.classes)
    best: dict[tuple[str, str], np.ndarray] = {}
    total: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(k, np.float32))
    seen: dict[tuple[str, str], int] = defaultdict(int)
    for sentence, sentence_scores in zip(sentences, scores):
        for p, row in zip(sentence.pairs, sentence_scores):
            for x in sentence.ids[p.a]:
                for y in sentence.ids[p.b]:
                    key = _concept_key(x, y, types)
                    best[key] = np.maximum(best[key], row) if key in best else row
                    total[key] += row
                    seen[key] += 1
    found = []
    ids = sorted(where)
    for ai, x in enumerate(ids):
        for y in ids[ai + 1:]:
            if frozenset((types[x], types[y])) not in task.pair_types:
                continue
            key = _concept_key(x, y, types)
            a, b = key
            gap = min(abs(i - j) for i in where[a] for j in where[b])
            flags = {
                "cooccur": key in best, "sentences_1": seen.get(key, 0) == 1, "sentences_2+": seen.get(key, 0) >= 2,
                "a_in_title": a in in_title, "b_in_title": b in in_title,
                "both_in_title": a in in_title and b in in_title,
                "a_top": top_by_type.get(types[a]) == a, "b_top": top_by_type.get(types[b]) == b,
                "a_count_1": counts[a] == 1, "b_count_1": counts[b] == 1,
                "a_count_3+": counts[a] >= 3, "b_count_3+": counts[b] >= 3,
                "adjacent_sentence": gap == 1, "far": gap > 3,
            }
            pair_scores = np.concatenate([best.get(key, np.full(k, -1.5, np.float32)),
                                          total[key] / seen[key] if key in seen else np.full(k, -1.5, np.float32)])
            dense = np.concatenate([pair_scores, np.array([flags[f] for f in DOC_FEATURES], np.float32)])
            labels = (gold.get((a, b), set()) | gold.get((b, a), set())) if gold else set()
            found.append(ConceptPair(doc_index, key, (types[a], types[b]), dense, labels))
    return found


def _concept_key(x: str, y: str, types: dict[str, str]) -> tuple[str, str]:
    """A concept pair in litmine's reading order (chemical before gene before disease)."""
    rank = {t: i for i, t in enumerate(("Chemical", "Gene", "Variant", "Disease"))}
    return (x, y) if (rank.get(types[x], 9), x) <= (rank.get(types[y], 9), y) else (y, x)


def concept_pair_features(pair: ConceptPair) -> list[str]:
    return [f"types={'>'.join(pair.types)}"]


@dataclass
class Batch:
    """Candidates of a set of documents, ready for training or prediction."""

    docs: list[GoldDocument]
    sentences: list[SentenceCandidates]
    mentions: list[list[tuple[Mention, tuple[str, ...]]]]
    golds: list[dict[tuple[str, str], set[str]]]

    @property
    def pairs(self) -> list[Candidate]:
        return [p for s in self.sentences for p in s.pairs]


def make_batch(task: CorpusTask, docs: list[GoldDocument],
               mentions: list[list[tuple[Mention, tuple[str, ...]]]] | None = None, training: bool = False,
               parser: DependencyParser | None = None, parses: dict[str, Parse] | None = None) -> Batch:
    """Candidates over gold entities, or over `mentions` (predicted, per document) when given.
    Sentences are parsed by `parser` (default: litmine's, `default_parser`), unless their
    `parses` (by sentence text, from `sentence_parses`) are given.

    For training, unrelated pairs in a negated clause are left out: the corpora do not
    annotate negated relations, so "X did not inhibit Y" would teach the model that an
    inhibition is no relation (the features cannot see the negation; see relation_features).
    """
    all_mentions = mentions if mentions is not None else [gold_mentions(task, d) for d in docs]
    golds = [gold_labels(task, d) for d in docs]
    if parses is None:
        parses = sentence_parses(task, docs, all_mentions, parser)
    sentences = []
    for i, doc in enumerate(docs):
        found = sentence_candidates(task, i, doc.doc_id, doc.text, all_mentions[i],
                                    golds[i] if mentions is None or task.document_level else None, parses)
        if training:
            for sentence in found:
                sentence.pairs = [p for p in sentence.pairs if p.labels or not _negated_pair(sentence, p)]
        sentences += [sentence for sentence in found if sentence.pairs]
    return Batch(docs, sentences, all_mentions, golds)


def sentence_parses(task: CorpusTask, docs: list[GoldDocument],
                    mentions: list[list[tuple[Mention, tuple[str, ...]]]] | None = None,
                    parser: DependencyParser | None = None) -> dict[str, Parse]:
    """The parse of every sentence with a candidate pair (over gold entities unless `mentions`
    are given), by sentence text, parsed in one go."""
    mentions = mentions if mentions is not None else [gold_mentions(task, d) for d in docs]
    texts = list(dict.fromkeys(doc.text[s0:s1] for doc, found in zip(docs, mentions)
                               for _, s0, s1, inside in _sentences_with_pairs(doc.text, found)
                               if has_pair([m for m, _ in inside], task.pair_types)))
    return dict(zip(texts, (parser or default_parser()).parse(texts)))


def _negated_pair(sentence: SentenceCandidates, pair: Candidate) -> bool:
    a, b = sentence.view.mentions[pair.a], sentence.view.mentions[pair.b]
    first = min(a, b, key=lambda m: m.start)
    return is_negated(sentence.view.text, first.start, max(a.end, b.end), first.end)


def load_split(store: Store, corpus: str, splits: Iterable[str], limit: int | None = None) -> list[GoldDocument]:
    """The documents of each split (its first `limit` of them, if given)."""
    docs: list[GoldDocument] = []
    for split in splits:
        docs += store.gold_documents(corpus, split)[:limit]
    return docs


Row = Candidate | ConceptPair  # what a model decides on: a mention pair or a concept pair
