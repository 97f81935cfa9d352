"""Relation models learned from the gold corpora: sparse linear classifiers over entity pairs.

One model per corpus, in two stages:

1. a mention-pair model: a linear SVM over `relation_features.pair_features` of every
   candidate pair in a sentence (L2-normalized binary features, one class per corpus type
   plus NONE), the sentence parsed by litmine's CRAFT parser (`pipeline.relations.dependencies`);
2. a second stage that reads the first stage's scores in context. For mention-level corpora
   (DrugProt, ChemProt) it adds, to the pair's own features, the scores of the pairs that
   share a mention with it in the sentence: "X inhibits A, B and C" and "monoamine oxidase
   (MAO)" annotate every coordinated or abbreviated mention alike. For document-level
   corpora (BC5CDR CID, BioRED) it classifies concept pairs from their mention pairs' best
   scores and where the concepts occur (title, frequency, sentence distance), so that
   pairs never named in one sentence can be related too.

The first stage's scores for its own training documents come from 5-fold cross-fitting,
so the second stage learns from scores like those it will see at inference. The bias
on NONE (how readily a pair is related) is chosen on a selection split, never on test.
A trained model is a folder of numpy arrays and a JSON config under `Settings.models`,
named by a hash of its configuration and training data, so it is rebuilt only when
either changes.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import time
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from pipeline.config import Settings
from pipeline.corpora import (BIORED_TYPES, CHEMPROT_GROUPS, DRUGPROT_TYPES, EMITTED, ENTITY_TYPES, SUBJECT_FIRST,
                              to_vocabulary)
from pipeline.datatypes import GoldDocument, Mention, Relation
from pipeline.documents.parse import split_sentences
from pipeline.models import FLOW_CORPORA, relation_model_dir
from pipeline.records.store import Store
from pipeline.relations.dependencies import DependencyParser, Parse, default_parser
from pipeline.relations.features import FEATURES_VERSION, SentenceView, pair_features
from pipeline.relations.triggers import is_hedged, is_negated

NONE = "NONE"
MODEL_FORMAT = "2"


@dataclass(frozen=True)
class CorpusTask:
    """What one corpus's model learns and how it is selected."""

    corpus: str
    labels: tuple[str, ...]
    pair_types: frozenset[frozenset[str]]  # candidate pairs, by their litmine types
    document_level: bool  # gold relations join concept identifiers, not mentions
    final_splits: tuple[str, ...]  # what the released model is trained on
    select_split: str  # where NONE's bias is chosen; "heldout" = a slice of train
    id_separator: str = "|"

    @property
    def classes(self) -> tuple[str, ...]:
        return (NONE, *self.labels)


def _pairs(*pairs: tuple[str, str]) -> frozenset[frozenset[str]]:
    return frozenset(frozenset(p) for p in pairs)


TASKS = {
    # DrugProt has no public test split: dev is reported, so selection uses a held-out slice of train.
    "drugprot": CorpusTask("drugprot", DRUGPROT_TYPES, _pairs(("Chemical", "Gene")), False, ("train",), "heldout"),
    "chemprot": CorpusTask("chemprot", CHEMPROT_GROUPS, _pairs(("Chemical", "Gene")), False, ("train", "dev"), "dev"),
    "bc5cdr": CorpusTask("bc5cdr", ("CID",), _pairs(("Chemical", "Disease")), True, ("train", "dev"), "dev"),
    "biored": CorpusTask("biored", BIORED_TYPES, _pairs(
        ("Chemical", "Gene"), ("Chemical", "Disease"), ("Gene", "Disease"), ("Variant", "Disease"),
        ("Gene", "Gene"), ("Chemical", "Chemical"), ("Chemical", "Variant"), ("Variant", "Variant"),
        ("Gene", "Variant")), True, ("train", "dev"), "dev", id_separator=","),
}


@dataclass(frozen=True)
class TrainingConfig:
    c: float = 0.6  # the SVMs' regularization, selected on DrugProt's held-out slice and ChemProt/BioRED dev
    min_count: int = 2  # features seen in fewer training pairs are dropped
    folds: int = 5
    heldout_modulus: int = 7  # DrugProt: documents whose crc32 % 7 == 0 select the bias


DENSE_SCALE = 0.1
# The models the evidence-check flow reads: DrugProt's for chemical–gene pairs, BioRED's for the rest.

# --- candidates -------------------------------------------------------------------------------


@dataclass
class Candidate:
    """One mention pair in one sentence, with what the gold says about it."""

    doc: int  # index of the document in the batch
    sentence: int
    a: int  # mention indexes in the sentence, in sentence order
    b: int
    features: list[str]
    labels: set[str] = field(default_factory=set)


@dataclass
class SentenceCandidates:
    doc_id: str
    index: int
    start: int  # offset of the sentence in the document
    view: SentenceView
    ids: list[tuple[str, ...]]  # each mention's concept ids (document-level corpora) or (ann_id,)
    pairs: list[Candidate]


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


def candidates_in_sentence(task: CorpusTask, pair_types: frozenset[frozenset[str]], doc_index: int, doc_id: str,
                           index: int, start: int, text: str, mentions: Sequence[tuple[Mention, tuple[str, ...]]],
                           gold: dict[tuple[str, str], set[str]] | None = None,
                           parse: Parse | None = None) -> SentenceCandidates:
    """The pairs of one sentence's mentions (sentence offsets, in order) whose types are in `pair_types`."""
    local = [m for m, _ in mentions]
    view = SentenceView.of(text, local, parse)
    sentence = SentenceCandidates(doc_id, index, start, view, [ids for _, ids in mentions], [])
    for a in range(len(local)):
        for b in range(a + 1, len(local)):
            if frozenset((local[a].type, local[b].type)) not in pair_types:
                continue
            if set(sentence.ids[a]) & set(sentence.ids[b]):
                continue  # one concept named twice
            labels: set[str] = set()
            if gold:
                for x in sentence.ids[a]:
                    for y in sentence.ids[b]:
                        labels |= gold.get((x, y), set()) | gold.get((y, x), set())
            sentence.pairs.append(Candidate(doc_index, index, a, b, pair_features(view, a, b), labels))
    return sentence


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


# --- linear models ------------------------------------------------------------------------------


@dataclass
class LinearModel:
    """A one-vs-rest linear SVM over named sparse features (and optional dense ones)."""

    vocabulary: dict[str, int]
    classes: tuple[str, ...]
    weights: np.ndarray  # (features + dense, classes), float32
    intercept: np.ndarray  # (classes,)

    def matrix(self, feature_lists: Sequence[Sequence[str]], dense: np.ndarray | None = None) -> sp.csr_matrix:
        return _matrix(self.vocabulary, feature_lists, dense)

    def scores(self, feature_lists: Sequence[Sequence[str]], dense: np.ndarray | None = None) -> np.ndarray:
        if not feature_lists:
            return np.zeros((0, len(self.classes)), np.float32)
        return np.asarray(self.matrix(feature_lists, dense) @ self.weights) + self.intercept


def _matrix(vocabulary: dict[str, int], feature_lists: Sequence[Sequence[str]],
            dense: np.ndarray | None = None) -> sp.csr_matrix:
    """Binary features, each row L2-normalized, with dense columns appended after normalizing
    (scaled by DENSE_SCALE: raw SVM scores beside them keep liblinear from converging)."""
    indices: list[int] = []
    indptr = [0]
    for features in feature_lists:
        columns = sorted({vocabulary[f] for f in features if f in vocabulary})
        indices.extend(columns)
        indptr.append(len(indices))
    matrix = sp.csr_matrix((np.ones(len(indices), np.float32), np.array(indices, np.int32),
                            np.array(indptr, np.int32)), shape=(len(feature_lists), len(vocabulary)))
    matrix = normalize(matrix)
    if dense is not None:
        matrix = sp.hstack([matrix, sp.csr_matrix(dense.astype(np.float32) * DENSE_SCALE)], format="csr")
    return matrix


def fit_linear(feature_lists: Sequence[Sequence[str]], labels: Sequence[str], classes: tuple[str, ...],
               config: TrainingConfig, dense: np.ndarray | None = None,
               vocabulary: dict[str, int] | None = None) -> LinearModel:
    if vocabulary is None:
        counts: dict[str, int] = defaultdict(int)
        for features in feature_lists:
            for f in set(features):
                counts[f] += 1
        vocabulary = {f: i for i, f in enumerate(sorted(f for f, n in counts.items() if n >= config.min_count))}
    matrix = _matrix(vocabulary, feature_lists, dense)
    svm = LinearSVC(C=config.c, max_iter=3000, random_state=0).fit(matrix, labels)  # liblinear shuffles
    # the SVM's classes come sorted; keep the task's order
    order = [list(svm.classes_).index(c) if c in svm.classes_ else -1 for c in classes]
    weights = np.zeros((matrix.shape[1], len(classes)), np.float32)
    intercept = np.full(len(classes), -10.0, np.float32)
    coef = svm.coef_ if len(svm.classes_) > 2 else np.vstack([-svm.coef_, svm.coef_])
    bias = svm.intercept_ if len(svm.classes_) > 2 else np.array([-svm.intercept_[0], svm.intercept_[0]])
    for k, j in enumerate(order):
        if j >= 0:
            weights[:, k] = coef[j]
            intercept[k] = bias[j]
    return LinearModel(vocabulary, classes, weights, intercept)


# --- second stage -------------------------------------------------------------------------------

CONTEXT_BLOCKS = 4


def context_scores(sentence: SentenceCandidates, scores: np.ndarray) -> np.ndarray:
    """For each pair: its own first-stage scores and, per class, the best score of the pairs
    that share its first mention, share its second one, or join the same mentions' namesakes
    (same text) in the sentence. Absent neighbours score -1.5, a confident NONE."""
    n, k = scores.shape
    out = np.full((n, k * (CONTEXT_BLOCKS + 1)), -1.5, np.float32)
    out[:, :k] = scores
    texts = [m.text.lower() for m in sentence.view.mentions]
    for i, p in enumerate(sentence.pairs):
        blocks: list[list[int]] = [[] for _ in range(CONTEXT_BLOCKS)]
        for j, q in enumerate(sentence.pairs):
            if j == i:
                continue
            if q.a == p.a:
                blocks[0].append(j)
            if q.b == p.b:
                blocks[1].append(j)
            if q.a != p.a and texts[q.a] == texts[p.a] and q.b == p.b or \
                    q.b != p.b and texts[q.b] == texts[p.b] and q.a == p.a:
                blocks[2].append(j)
            if q.a != p.a and q.b != p.b and (texts[q.a], texts[q.b]) == (texts[p.a], texts[p.b]):
                blocks[3].append(j)
        for bi, js in enumerate(blocks):
            if js:
                out[i, k * (bi + 1):k * (bi + 2)] = scores[js].max(0)
    return out


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


Row = Candidate | ConceptPair  # what a model decides on: a mention pair or a concept pair


def concept_pair_features(pair: ConceptPair) -> list[str]:
    return [f"types={'>'.join(pair.types)}"]


# --- the model ----------------------------------------------------------------------------------


@dataclass
class RelationModel:
    """A trained two-stage relation model for one corpus."""

    task: CorpusTask
    first: LinearModel
    second: LinearModel
    bias: float  # subtracted from NONE's score in the second stage's decisions
    first_bias: float  # the same for first-stage (sentence) decisions
    version: str

    def sentence_scores(self, sentence: SentenceCandidates) -> tuple[np.ndarray, np.ndarray]:
        """First-stage scores of a sentence's pairs and, for mention-level tasks, the second's."""
        first = self.first.scores([p.features for p in sentence.pairs])
        if self.task.document_level:
            return first, first
        return first, self.second.scores([p.features for p in sentence.pairs], context_scores(sentence, first))

    def save(self, folder: Path) -> None:
        """Weights as float16 arrays, feature names as gzipped JSON (written once when both
        stages share them, as mention-level tasks' do)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, model in (("first", self.first), ("second", self.second)):
            np.savez_compressed(folder / f"{name}.npz", weights=_sparsify(model.weights), intercept=model.intercept)
            if name == "first" or model.vocabulary is not self.first.vocabulary:
                names = sorted(model.vocabulary, key=model.vocabulary.__getitem__)
                packed = gzip.compress(json.dumps(names).encode(), 6, mtime=0)  # no timestamp: same bytes every build
                (folder / f"{name}.vocabulary.json.gz").write_bytes(packed)
        (folder / "model.json").write_text(json.dumps({
            "format": MODEL_FORMAT, "corpus": self.task.corpus, "classes": list(self.task.classes),
            "bias": self.bias, "first_bias": self.first_bias, "version": self.version}, indent=1))

    @classmethod
    def load(cls, folder: Path) -> RelationModel:
        meta = json.loads((folder / "model.json").read_text())
        task = TASKS[meta["corpus"]]
        if meta["format"] != MODEL_FORMAT or tuple(meta["classes"]) != task.classes:
            raise ValueError(f"{folder}: a model of another litmine version; retrain it")
        stages: list[LinearModel] = []
        for name in ("first", "second"):
            arrays = np.load(folder / f"{name}.npz")
            path = folder / f"{name}.vocabulary.json.gz"
            if path.is_file():
                names = json.loads(gzip.decompress(path.read_bytes()))
                vocabulary = {f: i for i, f in enumerate(names)}
            else:
                vocabulary = stages[0].vocabulary
            stages.append(LinearModel(vocabulary, task.classes, arrays["weights"].astype(np.float32),
                                      arrays["intercept"]))
        return cls(task, stages[0], stages[1], meta["bias"], meta["first_bias"], meta["version"])


def _sparsify(weights: np.ndarray) -> np.ndarray:
    """float16 weights with the tiny ones zeroed: half the bytes, and far smaller once compressed."""
    out = weights.astype(np.float16)
    out[np.abs(weights) < 1e-3] = 0
    return out


def decide(scores: np.ndarray, classes: Sequence[str], bias: float) -> list[tuple[str, float]]:
    """Each row's label (NONE lowered by `bias`) with a confidence: the softmax share of the
    winning class among the classes' scores."""
    if not len(scores):
        return []
    adjusted = scores.copy()
    adjusted[:, 0] -= bias
    best = adjusted.argmax(1)
    exp = np.exp(3.0 * (adjusted - adjusted.max(1, keepdims=True)))
    share = exp / exp.sum(1, keepdims=True)
    return [(classes[j], float(share[i, j])) for i, j in enumerate(best)]


# --- training -----------------------------------------------------------------------------------


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
                               if _has_pair([m for m, _ in inside], task.pair_types)))
    return dict(zip(texts, (parser or default_parser()).parse(texts)))


def _has_pair(mentions: Sequence[Mention], pair_types: frozenset[frozenset[str]]) -> bool:
    return any(frozenset((a.type, b.type)) in pair_types for a, b in combinations(mentions, 2))


def _negated_pair(sentence: SentenceCandidates, pair: Candidate) -> bool:
    a, b = sentence.view.mentions[pair.a], sentence.view.mentions[pair.b]
    return is_negated(sentence.view.text, min(a.start, b.start), max(a.end, b.end))


def _label(labels: set[str], task: CorpusTask) -> str:
    return min(labels, key=task.classes.index) if labels else NONE


def _first_stage(task: CorpusTask, batch: Batch, config: TrainingConfig) -> tuple[LinearModel, list[np.ndarray]]:
    """The first stage fitted on the batch, and its cross-fitted scores for each sentence."""
    pairs = batch.pairs
    features = [p.features for p in pairs]
    labels = [_label(p.labels, task) for p in pairs]
    model = fit_linear(features, labels, task.classes, config)
    folds = np.array([zlib.crc32(batch.docs[p.doc].doc_id.encode()) % config.folds for p in pairs])
    scores = np.zeros((len(pairs), len(task.classes)), np.float32)
    for k in range(config.folds):
        inside = np.flatnonzero(folds != k)
        fold_model = fit_linear([features[i] for i in inside], [labels[i] for i in inside], task.classes,
                                config, vocabulary=model.vocabulary)
        outside = np.flatnonzero(folds == k)
        scores[outside] = fold_model.scores([features[i] for i in outside])
    return model, _per_sentence(batch, scores)


def _per_sentence(batch: Batch, scores: np.ndarray) -> list[np.ndarray]:
    out, at = [], 0
    for s in batch.sentences:
        out.append(scores[at:at + len(s.pairs)])
        at += len(s.pairs)
    return out


def _second_inputs(task: CorpusTask, batch: Batch, scores: list[np.ndarray]
                   ) -> tuple[list[list[str]], np.ndarray, list[set[str]], list[Row]]:
    """The second stage's examples: (features, dense, labels, what each row stands for)."""
    if not task.document_level:
        dense = [context_scores(s, sc) for s, sc in zip(batch.sentences, scores)]
        pairs = batch.pairs
        return ([p.features for p in pairs], np.vstack(dense) if dense else np.zeros((0, 1)),
                [p.labels for p in pairs], list(pairs))
    by_doc: dict[int, list[int]] = defaultdict(list)
    for i, s in enumerate(batch.sentences):
        by_doc[s.pairs[0].doc].append(i)
    rows: list[ConceptPair] = []
    for d, doc in enumerate(batch.docs):
        idx = by_doc.get(d, [])
        rows += concept_pairs(task, d, doc.text, batch.mentions[d], [batch.sentences[i] for i in idx],
                              [scores[i] for i in idx], batch.golds[d])
    k = len(task.classes) * 2 + len(DOC_FEATURES)
    return ([concept_pair_features(r) for r in rows], np.vstack([r.dense for r in rows]) if rows else
            np.zeros((0, k)), [r.labels for r in rows], list(rows))


def fit_model(task: CorpusTask, batch: Batch, config: TrainingConfig, version: str = "") -> RelationModel:
    """Both stages on a batch; biases stay 0 until chosen on a selection split."""
    first, scores = _first_stage(task, batch, config)
    features, dense, labels, _ = _second_inputs(task, batch, scores)
    vocabulary = first.vocabulary if not task.document_level else None
    second = fit_linear(features, [_label(x, task) for x in labels], task.classes, config, dense,
                        vocabulary=vocabulary)
    return RelationModel(task, first, second, 0.0, 0.0, version)


def batch_scores(model: RelationModel, batch: Batch, first_stage: bool = False) -> tuple[list[Row], np.ndarray]:
    """The rows the model decides on (candidates, or concept pairs for document-level tasks)
    and their scores: the second stage's unless `first_stage`."""
    firsts, seconds = [], []
    for s in batch.sentences:
        first, second = model.sentence_scores(s)
        firsts.append(first)
        seconds.append(second)
    k = len(model.task.classes)
    if model.task.document_level and not first_stage:
        features, dense, _, rows = _second_inputs(model.task, batch, firsts)
        return rows, model.second.scores(features, dense) if rows else np.zeros((0, k))
    chosen = firsts if first_stage else seconds
    return list(batch.pairs), np.vstack(chosen) if chosen else np.zeros((0, k))


def predict_batch(model: RelationModel, batch: Batch, first_stage: bool = False) -> list[tuple[Row, str, float]]:
    """(candidate or concept pair, label, confidence) for every related pair of the batch."""
    rows, scores = batch_scores(model, batch, first_stage)
    bias = model.first_bias if first_stage else model.bias
    return [(row, label, conf) for row, (label, conf) in zip(rows, decide(scores, model.task.classes, bias))
            if label != NONE]


def choose_bias(model: RelationModel, batch: Batch, first_stage: bool = False) -> float:
    """The NONE bias that maximizes micro-F1 on a selection batch."""
    rows, scores = batch_scores(model, batch, first_stage)
    gold = _gold_count(model.task, batch, first_stage)
    best = (-1.0, 0.0)
    for bias in np.round(np.arange(-0.4, 1.21, 0.1), 2):
        decided = decide(scores, model.task.classes, float(bias))
        predicted = sum(1 for label, _ in decided if label != NONE)
        tp = sum(1 for row, (label, _) in zip(rows, decided) if label != NONE and label in row.labels)
        f1 = 2 * tp / (predicted + gold) if predicted or gold else 0.0
        best = max(best, (f1, float(bias)))
    return best[1]


def _gold_count(task: CorpusTask, batch: Batch, first_stage: bool) -> int:
    """The gold relations a selection batch holds: per mention pair for a document-level
    task's first stage (its sentence decisions), else as the benchmark counts them."""
    if first_stage and task.document_level:
        return sum(len(p.labels) for p in batch.pairs)
    return sum(len(v) for g in batch.golds for v in g.values())


def load_split(store: Store, corpus: str, splits: Iterable[str], limit: int | None = None) -> list[GoldDocument]:
    """The documents of each split (its first `limit` of them, if given)."""
    docs: list[GoldDocument] = []
    for split in splits:
        docs += store.gold_documents(corpus, split)[:limit]
    return docs


def training_key(task: CorpusTask, config: TrainingConfig, docs: list[GoldDocument], parser_version: str) -> str:
    """A hash of what a model is trained from: the model format (bumped whenever features or
    training change), its config and selection, the parser it reads, and the training data."""
    digest = hashlib.sha256(json.dumps([MODEL_FORMAT, FEATURES_VERSION, asdict(config), task.corpus,
                                        task.final_splits, task.select_split, parser_version]).encode())
    for doc in docs:
        digest.update(json.dumps([doc.split, doc.doc_id, doc.text, [asdict(e) for e in doc.entities],
                                  sorted(json.dumps(asdict(r)) for r in doc.relations)]).encode())
    return digest.hexdigest()[:12]


def train_relation_model(corpus: str, store: Store, out_dir: Path, config: TrainingConfig = TrainingConfig(),
                         progress: bool = False, parser: DependencyParser | None = None,
                         limit: int | None = None) -> Path:
    """Train (or find already trained) the corpus's model under out_dir/<corpus>-<hash>/,
    reading `parser`'s parses (default: litmine's, `default_parser`), from the first `limit`
    documents of each split if given (the quick CI recipe).

    Selection: the NONE biases are chosen on the task's selection split with a model
    trained on the other training data; the released model is then refitted on all of
    `final_splits` and keeps those biases. build.json records the wall time and size.
    """
    task = TASKS[corpus]
    final_docs = load_split(store, corpus, task.final_splits, limit)
    if not final_docs:
        raise ValueError(f"no {corpus} documents in the store {store.path}; "
                         f"import them first: litmine import <shared>/corpora/{corpus}")
    parser = parser or default_parser()
    key = training_key(task, config, final_docs, parser.version)
    folder = Path(out_dir) / f"{corpus}-{key}"
    if (folder / "model.json").is_file():
        return folder
    started = time.monotonic()
    if task.select_split == "heldout":
        held = [d for d in final_docs if zlib.crc32(d.doc_id.encode()) % config.heldout_modulus == 0]
        fit_docs = [d for d in final_docs if zlib.crc32(d.doc_id.encode()) % config.heldout_modulus != 0]
    else:
        held = [d for d in final_docs if d.split == task.select_split]
        fit_docs = [d for d in final_docs if d.split != task.select_split]
    _say(progress, f"{corpus}: selecting on {len(held)} documents, fitted on {len(fit_docs)}")
    # parsed once for the three batches below (every task selects on a part of its final splits)
    parses = sentence_parses(task, final_docs, parser=parser)
    selection = fit_model(task, make_batch(task, fit_docs, training=True, parses=parses), config)
    held_batch = make_batch(task, held, parses=parses)
    bias, first_bias = choose_bias(selection, held_batch), choose_bias(selection, held_batch, first_stage=True)
    selection.bias, selection.first_bias = bias, first_bias
    selection.version = f"{corpus}-{key}-selection"
    _say(progress, f"{corpus}: bias {bias}, first-stage bias {first_bias}; refitting on {len(final_docs)} documents")
    model = fit_model(task, make_batch(task, final_docs, training=True, parses=parses), config,
                      version=f"{corpus}-{key}")
    model.bias, model.first_bias = bias, first_bias
    tmp = folder.with_name(folder.name + ".tmp")
    model.save(tmp)
    selection.save(tmp / "selection")
    (tmp / "build.json").write_text(json.dumps({
        "model": f"relations_{corpus}", "documents": len(final_docs), "selected_on": len(held),
        "seconds": round(time.monotonic() - started, 1),
        "bytes": sum(p.stat().st_size for p in tmp.iterdir() if p.is_file())}, indent=2))
    tmp.rename(folder)
    return folder


def build_relation_models(settings: Settings, store: Store, parser: DependencyParser,
                          limit: int | None = None) -> dict[str, Path]:
    """The models the evidence-check flow reads (FLOW_CORPORA), trained where missing, each
    made current (relations/<corpus>.current names its folder)."""
    built = {}
    for corpus in FLOW_CORPORA:
        folder = train_relation_model(corpus, store, relation_model_dir(settings), parser=parser, progress=True,
                                      limit=limit)
        (relation_model_dir(settings) / f"{corpus}.current").write_text(folder.name)
        built[f"relations_{corpus}"] = folder
    return built


def ensure_relation_model(corpus: str, settings: Settings, store: Store, split: str = "",
                          progress: bool = False) -> RelationModel:
    """The corpus's trained model, trained first if missing or stale. For `split` = a split the
    released model was trained on (ChemProt/BC5CDR/BioRED dev), the selection model, which was not."""
    folder = train_relation_model(corpus, store, relation_model_dir(settings), progress=progress)
    if split in TASKS[corpus].final_splits:
        folder = folder / "selection"
    return RelationModel.load(folder)


class ModelExtractor:
    """The trained models behind litmine's `RelationExtractor` protocol: each model reads the
    pairs it is routed (DrugProt: chemical-gene; BioRED: chemical-disease, gene-disease,
    variant-disease) and its labels become litmine's vocabulary. Negation and hedging come
    from the cue rules of `pipeline.relations`. Sentences are parsed by `parser` (default:
    litmine's, loaded on first use).

    The flow reads evidence with it, having measured it against the trigger baseline sentence
    by sentence, as the flow runs (`benchmarks/relations.py`, README "Relations")."""

    name = "relation-model"

    def __init__(self, routes: Sequence[tuple[RelationModel, frozenset[frozenset[str]]]],
                 parser: DependencyParser | None = None):
        self.routes = list(routes)
        self.version = "+".join(model.version for model, _ in self.routes)
        self.parser = parser

    @classmethod
    def load(cls, folders: Sequence[Path], parser: DependencyParser | None = None) -> ModelExtractor:
        """The models in `folders` (e.g. `current_relation_models`), each routed the emitted pair
        types its corpus covers that an earlier one has not taken."""
        routes = []
        taken: set[frozenset[str]] = set()
        for folder in folders:
            model = RelationModel.load(folder)
            pairs = frozenset(p for p in model.task.pair_types if p in EMITTED and p not in taken)
            taken |= pairs
            routes.append((model, pairs))
        return cls(routes, parser)

    def extract(self, sentence: str, sentence_index: int, mentions: list[Mention]) -> list[Relation]:
        ordered = sorted(mentions, key=lambda m: (m.start, m.end))
        with_ids = [(m, (m.id or f"text:{m.text.lower()}",)) for m in ordered]
        found: dict[tuple[str, str, str], Relation] = {}
        parse = None
        for model, pair_types in self.routes:
            if not _has_pair(ordered, pair_types):
                continue
            if parse is None:  # once for all routes
                self.parser = self.parser or default_parser()
                parse = self.parser.parse([sentence])[0]
            candidates = candidates_in_sentence(model.task, pair_types, 0, "", sentence_index, 0, sentence, with_ids,
                                                parse=parse)
            if not candidates.pairs:
                continue
            first, second = model.sentence_scores(candidates)
            scores, bias = (first, model.first_bias) if model.task.document_level else (second, model.bias)
            for pair, (label, confidence) in zip(candidates.pairs, decide(scores, model.task.classes, bias)):
                a, b = ordered[pair.a], ordered[pair.b]
                relation = to_vocabulary(model.task.corpus, label, (a.type, b.type)) if label != NONE else None
                if relation is None:
                    continue
                subject, obj = (b, a) if (b.type, a.type) in SUBJECT_FIRST else (a, b)
                found_relation = Relation(
                    subject=subject, relation=relation, object=obj, sentence=sentence, sentence_index=sentence_index,
                    negated=is_negated(sentence, a.start, b.end), hedged=is_hedged(sentence),
                    confidence=round(confidence, 3), extractor=f"{self.name}:{model.task.corpus}")
                key = (subject.key, relation, obj.key)
                if key not in found or found[key].confidence < found_relation.confidence:
                    found[key] = found_relation
        return list(found.values())


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, flush=True)
