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

This module loads trained models and applies them (`RelationModel`, and `ModelExtractor`,
which the flow reads evidence with); `pipeline.training.relation_models` fits them. A
trained model is a folder of numpy arrays and a JSON config under `Settings.models`.
"""
from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from pipeline.corpora import BIORED_TYPES, CHEMPROT_GROUPS, DRUGPROT_TYPES, EMITTED, SUBJECT_FIRST, to_vocabulary
from pipeline.datatypes import Mention, Relation
from pipeline.relations.dependencies import DependencyParser, Parse, default_parser
from pipeline.relations.features import SentenceView, pair_features
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


# --- linear models ------------------------------------------------------------------------------


@dataclass
class LinearModel:
    """A one-vs-rest linear SVM over named sparse features (and optional dense ones)."""

    vocabulary: dict[str, int]
    classes: tuple[str, ...]
    weights: np.ndarray  # (features + dense, classes), float32
    intercept: np.ndarray  # (classes,)

    def matrix(self, feature_lists: Sequence[Sequence[str]], dense: np.ndarray | None = None) -> sp.csr_matrix:
        return feature_matrix(self.vocabulary, feature_lists, dense)

    def scores(self, feature_lists: Sequence[Sequence[str]], dense: np.ndarray | None = None) -> np.ndarray:
        if not feature_lists:
            return np.zeros((0, len(self.classes)), np.float32)
        return np.asarray(self.matrix(feature_lists, dense) @ self.weights) + self.intercept


def feature_matrix(vocabulary: dict[str, int], feature_lists: Sequence[Sequence[str]],
            dense: np.ndarray | None = None) -> sp.csr_matrix:
    """Binary features, each row L2-normalized, with dense columns appended after normalizing
    (scaled by DENSE_SCALE: raw SVM scores beside them keep liblinear from converging)."""
    from sklearn.preprocessing import normalize  # scikit-learn takes 2 s to import; a cached run never gets here

    indices: list[int] = []
    indptr = [0]
    for features in feature_lists:
        columns = set(map(vocabulary.get, features))
        columns.discard(None)
        indices.extend(sorted(columns))  # type: ignore[type-var]
        indptr.append(len(indices))
    matrix = sp.csr_matrix((np.ones(len(indices), np.float32), np.array(indices, np.int32),
                            np.array(indptr, np.int32)), shape=(len(feature_lists), len(vocabulary)))
    matrix = normalize(matrix)
    if dense is not None:
        matrix = sp.hstack([matrix, sp.csr_matrix(dense.astype(np.float32) * DENSE_SCALE)], format="csr")
    return matrix


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

    def scores_many(self, sentences: Sequence[SentenceCandidates]) -> tuple[np.ndarray, np.ndarray]:
        """First-stage scores of the sentences' pairs (in order, stacked) and, for mention-level
        tasks, the second's; one matrix product per stage, whatever the number of sentences. A
        row's scores depend on its pair and sentence alone, so a sentence scores the same in any batch."""
        features = [p.features for s in sentences for p in s.pairs]
        first = self.first.scores(features)
        if self.task.document_level or not features:
            return first, first
        ends = np.cumsum([len(s.pairs) for s in sentences])
        context = np.vstack([context_scores(s, first[end - len(s.pairs):end]) for s, end in zip(sentences, ends)])
        return first, self.second.scores(features, context)

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


def has_pair(mentions: Sequence[Mention], pair_types: frozenset[frozenset[str]]) -> bool:
    return any(frozenset((a.type, b.type)) in pair_types for a, b in combinations(mentions, 2))


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
        return self.extract_many([(sentence, sentence_index, mentions)])[0]

    def extract_many(self, sentences: Sequence[tuple[str, int, list[Mention]]]) -> list[list[Relation]]:
        """Each sentence's relations (sentence, its index, its mentions): the sentences holding a
        pair some model reads parsed in one batch, and each model's pairs of all of them scored
        in one call, which is what makes many sentences fast; what a sentence yields does not
        depend on the others."""
        ordered = [sorted(mentions, key=lambda m: (m.start, m.end)) for _, _, mentions in sentences]
        routed = [[k for k, (_, pair_types) in enumerate(self.routes) if has_pair(found, pair_types)]
                  for found in ordered]
        texts = list(dict.fromkeys(sentences[i][0] for i, routes in enumerate(routed) if routes))
        if texts:
            self.parser = self.parser or default_parser()
        parses = dict(zip(texts, self.parser.parse(texts))) if texts else {}
        found: list[dict[tuple[str, str, str], Relation]] = [{} for _ in sentences]
        for k, (model, pair_types) in enumerate(self.routes):
            read = [i for i, routes in enumerate(routed) if k in routes]
            candidates = [candidates_in_sentence(model.task, pair_types, 0, "", sentences[i][1], 0, sentences[i][0],
                                                 [(m, (m.id or f"text:{m.text.lower()}",)) for m in ordered[i]],
                                                 parse=parses[sentences[i][0]]) for i in read]
            first, second = model.scores_many(candidates)
            scores, bias = (first, model.first_bias) if model.task.document_level else (second, model.bias)
            decisions = iter(decide(scores, model.task.classes, bias))
            for i, sentence in zip(read, candidates):
                for pair, decision in zip(sentence.pairs, decisions):
                    self._keep(found[i], model, sentences[i][0], sentences[i][1], ordered[i], pair, decision)
        return [list(relations.values()) for relations in found]

    def _keep(self, found: dict[tuple[str, str, str], Relation], model: RelationModel, sentence: str,
              sentence_index: int, ordered: list[Mention], pair: Candidate, decision: tuple[str, float]) -> None:
        """A decided pair as a relation in litmine's vocabulary, kept where it is the most
        confident of its (subject, relation, object) in the sentence."""
        label, confidence = decision
        a, b = ordered[pair.a], ordered[pair.b]
        relation = to_vocabulary(model.task.corpus, label, (a.type, b.type)) if label != NONE else None
        if relation is None:
            return
        subject, obj = (b, a) if (b.type, a.type) in SUBJECT_FIRST else (a, b)
        found_relation = Relation(
            subject=subject, relation=relation, object=obj, sentence=sentence, sentence_index=sentence_index,
            negated=is_negated(sentence, a.start, b.end, a.end), hedged=is_hedged(sentence),
            confidence=round(confidence, 3), extractor=f"{self.name}:{model.task.corpus}")
        key = (subject.key, relation, obj.key)
        if key not in found or found[key].confidence < found_relation.confidence:
            found[key] = found_relation
