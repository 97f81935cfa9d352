"""SciFact claim verification: retrieve abstracts, select rationale sentences, label each abstract.

Why this exists: litmine's verdicts rest on telling whether a paper supports or contradicts
a claim, and SciFact (claims against 5,183 abstracts, with rationale sentences) is the public
yardstick for that. No pretrained language model can be downloaded here, so every stage is a
small scikit-learn model over lexical, knowledge-base and direction-word features:

1. retrieval: BM25 over the abstracts (titles included), words cut to six characters;
2. rationale selection: gradient boosting over (claim, sentence) pairs - word and character
   TF-IDF cosines, idf-weighted coverage of the claim, shared KB ids (DictionaryTagger),
   position and result/background cue words;
3. evidence: gradient boosting over (claim, abstract) pairs says whether the abstract holds
   evidence at all (else NOINFO); one model for retrieved abstracts (the open setting), one for
   cited ones (the oracle setting), whose NOINFO cases are far harder;
4. stance: a logistic regression over (claim, selected sentences) says SUPPORT or CONTRADICT
   from direction words, negation, antonyms and numbers compared between the two
   (`pipeline.verdicts.stance`).

Everything is trained on SciFact train only. Each stage learns from out-of-fold outputs of the
stage before, and every threshold is chosen on out-of-fold predictions over train, so dev and
test are never looked at while fitting.
"""
from __future__ import annotations

import hashlib
import json
import pickle
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from math import fsum
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from spacy.lang.en.stop_words import STOP_WORDS
from threadpoolctl import threadpool_limits

from pipeline.codehash import code_hash
from pipeline.entities.dictionary import EntityTagger
from pipeline.records.store import Store
from pipeline.relations import triggers as relations
from pipeline.verdicts import stance
from pipeline.verdicts.stance import stance_features

LABELS = ("SUPPORT", "CONTRADICT", "NOINFO")
STEM_LENGTH = 6  # tokens cut to this many characters: best BM25 recall@3 on train (5 and 7 tried)
_WORD = re.compile(r"[a-z0-9]+")
_RESULT_CUES = re.compile(r"\b(?:we (?:found|show|observed|demonstrate\w*|report)|results?|conclu\w*|"
                          r"significant\w*|associated|showed|revealed|indicat\w*|suggest\w*)\b", re.I)
_BACKGROUND_CUES = re.compile(r"\b(?:however|unknown|unclear|remains?|aims?|objectives?|purpose|"
                              r"background|we (?:investigated|examined|sought|hypothesi[sz]ed|tested))\b", re.I)
_NUMBERS = re.compile(r"\d")


@dataclass(frozen=True)
class Abstract:
    doc_id: str
    title: str
    sentences: tuple[str, ...]


@dataclass
class Claim:
    """A SciFact claim with its gold labels for the abstracts it cites."""

    claim_id: str
    text: str
    labels: dict[str, str] = field(default_factory=dict)  # cited doc -> SUPPORT / CONTRADICT / NOINFO
    rationales: dict[str, list[int]] = field(default_factory=dict)  # evidence doc -> sentence indexes

    @property
    def evidence(self) -> dict[str, str]:
        """The cited abstracts that hold evidence, with their label."""
        return {doc: label for doc, label in self.labels.items() if label != "NOINFO"}


@dataclass
class DocPrediction:
    """What the pipeline says about one abstract for one claim."""

    doc_id: str
    label: str
    sentences: list[int]  # selected rationale sentences, best first
    evidence_score: float  # probability that the abstract holds evidence
    contradict_score: float  # probability of CONTRADICT given evidence


def load_abstracts(store: Store) -> dict[str, Abstract]:
    """SciFact's abstracts from the store: the title is the text before the first sentence span."""
    abstracts = {}
    for doc in store.gold_documents("scifact", "corpus"):
        spans = sorted(doc.entities, key=lambda e: int(e.ann_id[1:]))
        if spans:  # an abstract without sentences can hold no rationale
            abstracts[doc.doc_id] = Abstract(doc.doc_id, doc.text[:spans[0].start].strip(),
                                             tuple(e.text for e in spans))
    return abstracts


def load_claims(store: Store, split: str) -> list[Claim]:
    """A split's claims, one per claim id, ordered by id."""
    claims: dict[str, Claim] = {}
    for gold in store.gold_claims("scifact", split):
        claim = claims.setdefault(gold.claim_id, Claim(gold.claim_id, gold.claim))
        if gold.doc_id:
            claim.labels[gold.doc_id] = gold.label
            if gold.label != "NOINFO":
                claim.rationales[gold.doc_id] = list(gold.sentences)
    return sorted(claims.values(), key=lambda c: int(c.claim_id) if c.claim_id.isdigit() else c.claim_id)


# ---------------------------------------------------------------- text


def _ascii(text: str) -> str:
    """Greek letters spelled out ("β-catenin" -> "beta-catenin"), accents dropped."""
    text = "".join(unicodedata.name(c, c).split()[-1].lower() if "\u0370" <= c <= "\u03ff" else c for c in text)
    return unicodedata.normalize("NFKD", text)


def stems(text: str) -> list[str]:
    """Content words cut to STEM_LENGTH characters: a crude stemmer that suits BM25 here."""
    return [w[:STEM_LENGTH] for w in _WORD.findall(_ascii(text.lower())) if w not in STOP_WORDS]


class Bm25Index:
    """Okapi BM25 over the abstracts (title and sentences), as one sparse matrix product."""

    def __init__(self, abstracts: dict[str, Abstract], k1: float = 1.2, b: float = 0.75):
        self.doc_ids = list(abstracts)
        self._vectorizer = CountVectorizer(tokenizer=stems, lowercase=False, token_pattern=None)
        counts = self._vectorizer.fit_transform(
            f"{a.title} {' '.join(a.sentences)}" for a in abstracts.values()).tocoo().astype(float)
        n_docs = counts.shape[0]
        df = np.bincount(counts.col, minlength=counts.shape[1])
        self.idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        length = np.bincount(counts.row, weights=counts.data, minlength=n_docs)
        norm = k1 * (1 - b + b * length[counts.row] / length.mean())
        weights = counts.data * (k1 + 1) / (counts.data + norm) * self.idf[counts.col]
        self._weights = sp.csr_matrix((weights, (counts.row, counts.col)), shape=counts.shape).T.tocsr()

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every abstract (in doc_ids order) for the query's distinct stems."""
        q = self._vectorizer.transform([query])
        q.data[:] = 1
        return np.asarray((q @ self._weights).todense()).ravel()

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The k best abstracts as (doc_id, score), best first."""
        scores = self.scores(query)
        top = np.argsort(-scores, kind="stable")[:k]
        return [(self.doc_ids[i], float(scores[i])) for i in top]

    def stem_idf(self, stem: str) -> float:
        column = self._vectorizer.vocabulary_.get(stem)
        return float(self.idf[column]) if column is not None else float(self.idf.max())


# ---------------------------------------------------------------- features


@dataclass
class _DocView:
    """What the feature functions read from one abstract, computed once per abstract."""

    words: sp.csr_matrix  # one row per sentence, word TF-IDF, unit length
    chars: sp.csr_matrix  # the same over character n-grams
    title_words: sp.csr_matrix
    stems: list[set[str]]
    title_stems: set[str]
    bigrams: set[tuple[str, str]]  # adjacent stems within the title or a sentence
    entities: list[set[str]]  # KB ids per sentence
    title_entities: set[str]
    cues: np.ndarray  # per sentence: result cue, background cue, has a digit, word count


@dataclass
class _ClaimView:
    text: str
    words: sp.csr_matrix
    chars: sp.csr_matrix
    stems: list[str]
    idf: dict[str, float]  # the claim's stems with their BM25 idf
    entities: set[str]
    bm25: np.ndarray  # score of every abstract
    top_score: float


class Corpus:
    """The abstracts with their index and vectorizers; per-abstract views are built on demand."""

    def __init__(self, abstracts: dict[str, Abstract], tagger: EntityTagger | None = None):
        self.abstracts = abstracts
        self.tagger = tagger
        self.index = Bm25Index(abstracts)
        self._position = {doc: i for i, doc in enumerate(self.index.doc_ids)}
        texts = [s for a in abstracts.values() for s in (a.title, *a.sentences)]
        self._words = TfidfVectorizer(tokenizer=stems, lowercase=False, token_pattern=None, ngram_range=(1, 2),
                                      min_df=2, sublinear_tf=True).fit(texts)
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=3, sublinear_tf=True,
                                      dtype=np.float32).fit(texts)
        self._views: dict[str, _DocView] = {}

    def _entities(self, text: str, spans: list[tuple[int, int]]) -> list[set[str]]:
        """KB ids of the mentions in each span of `text`."""
        found: list[set[str]] = [set() for _ in spans]
        if self.tagger is None:
            return found
        for mention in self.tagger.tag(text):
            for i, (start, end) in enumerate(spans):
                if mention.id and start <= mention.start < end:
                    found[i].add(mention.id)
        return found

    def view(self, doc_id: str) -> _DocView:
        view = self._views.get(doc_id)
        if view is None:
            abstract = self.abstracts[doc_id]
            parts = (abstract.title, *abstract.sentences)
            spans, start = [], 0
            for part in parts:
                spans.append((start, start + len(part)))
                start += len(part) + 1
            entities = self._entities(" ".join(parts), spans)
            words = self._words.transform(parts)
            cues = np.array([[bool(_RESULT_CUES.search(s)), bool(_BACKGROUND_CUES.search(s)),
                              bool(_NUMBERS.search(s)), len(s.split())] for s in abstract.sentences], dtype=float)
            part_stems = [stems(part) for part in parts]
            view = self._views[doc_id] = _DocView(
                words[1:], self._chars.transform(abstract.sentences), words[:1],
                [set(s) for s in part_stems[1:]], set(part_stems[0]),
                {pair for s in part_stems for pair in zip(s, s[1:])}, entities[1:], entities[0], cues.reshape(-1, 4))
        return view

    def claim_view(self, text: str) -> _ClaimView:
        bm25 = self.index.scores(text)
        entities = set().union(*self._entities(text, [(0, len(text))]))
        claim_stems = stems(text)
        return _ClaimView(text, self._words.transform([text]), self._chars.transform([text]), claim_stems,
                          {s: self.index.stem_idf(s) for s in set(claim_stems)}, entities, bm25,
                          float(bm25.max()))

    def bm25_rank(self, claim: _ClaimView, doc_id: str) -> int:
        score = claim.bm25[self._position[doc_id]]
        return int((claim.bm25 > score).sum())

    def bm25_score(self, claim: _ClaimView, doc_id: str) -> float:
        return float(claim.bm25[self._position[doc_id]])


SENTENCE_FEATURES = ("word_cos", "char_cos", "coverage", "coverage_with_title", "entities", "word_cos_gap",
                     "char_cos_gap", "coverage_gap", "word_cos_rank", "neighbour_word_cos", "position",
                     "relative_position", "from_end", "n_sentences", "result_cue", "background_cue",
                     "has_digit", "length", "title_cos", "doc_coverage", "doc_entities")


def sentence_features(corpus: Corpus, claim: _ClaimView, doc_id: str) -> np.ndarray:
    """One row of SENTENCE_FEATURES per sentence of the abstract."""
    view = corpus.view(doc_id)
    n = view.words.shape[0]
    word_cos = (view.words @ claim.words.T).toarray().ravel()
    char_cos = (view.chars @ claim.chars.T).toarray().ravel()
    total = fsum(claim.idf.values()) or 1.0  # fsum: sums independent of set order, so runs repeat exactly
    coverage = np.array([fsum(w for s, w in claim.idf.items() if s in stems_) / total for stems_ in view.stems])
    with_title = np.array([fsum(w for s, w in claim.idf.items() if s in stems_ or s in view.title_stems) / total
                           for stems_ in view.stems])
    doc_stems = set().union(view.title_stems, *view.stems)
    doc_coverage = fsum(w for s, w in claim.idf.items() if s in doc_stems) / total
    n_entities = max(1, len(claim.entities))
    entities = np.array([len(claim.entities & e) / n_entities for e in view.entities])
    doc_entities = len(claim.entities & set().union(view.title_entities, *view.entities)) / n_entities
    padded = np.concatenate([[0.0], word_cos, [0.0]])
    neighbours = np.maximum(padded[:-2], padded[2:])
    rank = np.argsort(np.argsort(-word_cos, kind="stable"), kind="stable")
    position = np.arange(n, dtype=float)
    title_cos = float((view.title_words @ claim.words.T).toarray()[0, 0])
    return np.column_stack([
        word_cos, char_cos, coverage, with_title, entities, word_cos - word_cos.max(), char_cos - char_cos.max(),
        coverage - coverage.max(), rank, neighbours, position, position / max(1, n - 1), n - 1 - position,
        np.full(n, n), view.cues, np.full(n, title_cos), np.full(n, doc_coverage), np.full(n, doc_entities)])


DOC_FEATURES = ("p1", "p2", "p3", "p_sum", "n_above_half", "max_word_cos", "max_char_cos", "max_coverage",
                "doc_coverage", "doc_entities", "title_cos", "bm25", "bm25_log_rank", "bm25_ratio",
                "n_sentences", "missing_max_idf", "n_missing", "bigram_coverage", "claim_length",
                "claim_entities")


def doc_features(corpus: Corpus, claim: _ClaimView, doc_id: str, sentences: np.ndarray,
                 probabilities: np.ndarray) -> np.ndarray:
    """DOC_FEATURES of one (claim, abstract) pair, given its sentence features and rationale scores."""
    top = np.sort(probabilities)[::-1]
    padded = np.concatenate([top, [0.0, 0.0]])
    column = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    score = corpus.bm25_score(claim, doc_id)
    view = corpus.view(doc_id)
    doc_stems = set().union(view.title_stems, *view.stems)
    missing = [idf for stem, idf in claim.idf.items() if stem not in doc_stems]
    bigrams = list(zip(claim.stems, claim.stems[1:]))
    return np.array([
        padded[0], padded[1], padded[2], top.sum(), (top >= 0.5).sum(),
        sentences[:, column["word_cos"]].max(), sentences[:, column["char_cos"]].max(),
        sentences[:, column["coverage"]].max(), sentences[0, column["doc_coverage"]],
        sentences[0, column["doc_entities"]], sentences[0, column["title_cos"]], score,
        np.log1p(corpus.bm25_rank(claim, doc_id)), score / claim.top_score if claim.top_score else 0.0,
        len(probabilities), max(missing, default=0.0), len(missing),
        sum(b in view.bigrams for b in bigrams) / max(1, len(bigrams)), len(claim.stems), len(claim.entities)])


# ---------------------------------------------------------------- models


@dataclass(frozen=True)
class ScifactConfig:
    """What training depends on besides the data; part of the model's cache key."""

    candidates: int = 10  # retrieved abstracts per training claim the evidence model learns from
    folds: int = 5  # cross-validation folds over train claims, for stacking and thresholds
    seed: int = 0
    stance_c: float = 0.5  # inverse regularization of the stance logistic regression
    max_sentences: int = 3  # rationale sentences kept per abstract at most
    repeats: int = 3  # cross-validation runs, with different splits, whose predictions thresholds pool


@dataclass
class ScifactModel:
    """The three trained stages and the thresholds chosen on out-of-fold train predictions."""

    config: ScifactConfig
    selector: HistGradientBoostingClassifier
    evidence: HistGradientBoostingClassifier  # does a retrieved abstract hold evidence?
    cited_evidence: HistGradientBoostingClassifier  # does a cited abstract hold evidence?
    stance: Pipeline
    selection_threshold: float
    top_k: int  # retrieved abstracts labelled per claim in the open setting
    open_threshold: float  # evidence probability above which a retrieved abstract gets a label
    oracle_threshold: float  # the same for cited abstracts
    contradict_threshold: float  # CONTRADICT probability above which evidence contradicts
    cross_validation: dict[str, float] = field(default_factory=dict)  # train CV figures at these settings
    train_seconds: float = 0.0


@dataclass
class _Pair:
    """One (claim, abstract) candidate seen in training."""

    claim: int
    doc_id: str
    sentences: np.ndarray  # SENTENCE_FEATURES rows
    label: str
    rationale: list[int]
    rank: int  # BM25 rank among all abstracts
    cited: bool


def _gradient_boosting(seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(learning_rate=0.05, max_iter=200, max_leaf_nodes=15,
                                          min_samples_leaf=20, l2_regularization=1.0, random_state=seed)


def _stance_model(c: float) -> Pipeline:
    return make_pipeline(DictVectorizer(), LogisticRegression(C=c, class_weight="balanced", max_iter=2000))


def select_sentences(probabilities: np.ndarray, threshold: float, max_sentences: int) -> list[int]:
    """Sentences scoring at least `threshold`, best first, at most `max_sentences`; the best one always,
    because an abstract asked about has at least one sentence closest to the claim."""
    order = [int(i) for i in np.argsort(-probabilities, kind="stable")[:max_sentences]]
    return order[:1] + [i for i in order[1:] if probabilities[i] >= threshold]


def _labels(evidence: np.ndarray, contradict: np.ndarray, evidence_threshold: float,
            contradict_threshold: float) -> np.ndarray:
    """NOINFO below the evidence threshold, else CONTRADICT or SUPPORT by the stance threshold."""
    return np.where(np.asarray(evidence) < evidence_threshold, "NOINFO",
                    np.where(np.asarray(contradict) >= contradict_threshold, "CONTRADICT", "SUPPORT"))


def _training_pairs(corpus: Corpus, claims: list[Claim], candidates: int) -> tuple[list[_Pair], list[_ClaimView]]:
    """Every claim's cited abstracts plus its `candidates` best BM25 hits, with sentence features."""
    pairs, views = [], []
    for number, claim in enumerate(claims):
        view = corpus.claim_view(claim.text)
        views.append(view)
        retrieved = [corpus.index.doc_ids[i] for i in np.argsort(-view.bm25, kind="stable")[:candidates]]
        for doc_id in dict.fromkeys([*claim.labels, *retrieved]):
            pairs.append(_Pair(number, doc_id, sentence_features(corpus, view, doc_id),
                               claim.labels.get(doc_id, "NOINFO"), claim.rationales.get(doc_id, []),
                               corpus.bm25_rank(view, doc_id), doc_id in claim.labels))
    return pairs, views


def _rationale_rows(pairs: list[_Pair]) -> tuple[np.ndarray, np.ndarray]:
    """Sentence features and 0/1 rationale targets of the evidence abstracts among `pairs`."""
    evidence = [p for p in pairs if p.label != "NOINFO"]
    x = np.vstack([p.sentences for p in evidence])
    y = np.concatenate([np.isin(np.arange(len(p.sentences)), p.rationale) for p in evidence]).astype(int)
    return x, y


def _out_of_fold(fold: np.ndarray, fit: Callable[[np.ndarray], Any],
                 predict: Callable[[Any, np.ndarray], list]) -> list:
    """predict(model, indexes) for the pairs of each fold, by a model fit(mask) on the other folds' pairs."""
    results: list = [None] * len(fold)
    for f in np.unique(fold):
        indexes = np.flatnonzero(fold == f)
        for i, result in zip(indexes, predict(fit(fold != f), indexes)):
            results[i] = result
    return results


def _split_rows(probabilities: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    return np.split(probabilities, np.cumsum(sizes)[:-1])


def _grid(start: float = 0.05, stop: float = 0.95, step: float = 0.025) -> np.ndarray:
    return np.round(np.arange(start, stop + 1e-9, step), 3)


@threadpool_limits.wrap(limits=1)  # OpenMP threads on a busy 2-core machine made boosting 30x slower
def train_scifact(corpus: Corpus, claims: list[Claim], config: ScifactConfig = ScifactConfig()) -> ScifactModel:
    """Fit the three stages on `claims` (SciFact train) and choose thresholds by cross-validation."""
    started = time.perf_counter()
    model = _fit(corpus, claims, *_training_pairs(corpus, claims, config.candidates), config)
    model.train_seconds = time.perf_counter() - started
    return model


def _fit(corpus: Corpus, claims: list[Claim], pairs: list[_Pair], views: list[_ClaimView],
         config: ScifactConfig) -> ScifactModel:
    """Stacked training: each stage learns from out-of-fold outputs of the one before, and every
    threshold maximizes its metric on out-of-fold predictions pooled over `config.repeats` splits."""
    n = len(pairs)
    folds = [(np.random.default_rng(seed).permutation(len(claims)) % config.folds)[[p.claim for p in pairs]]
             for seed in range(config.seed, config.seed + config.repeats)]
    labels = np.array([p.label for p in pairs])
    has_evidence, is_cited = labels != "NOINFO", np.array([p.cited for p in pairs])
    ranks = np.array([p.rank for p in pairs])
    evidence_pairs = np.flatnonzero(has_evidence)
    gold_rationales = {i: pairs[i].rationale for i in evidence_pairs}

    def fit_selector(mask: np.ndarray) -> HistGradientBoostingClassifier:
        return _gradient_boosting(config.seed).fit(*_rationale_rows([p for p, m in zip(pairs, mask) if m]))

    def predict_selector(model: HistGradientBoostingClassifier, indexes: np.ndarray) -> list[np.ndarray]:
        rows = np.vstack([pairs[i].sentences for i in indexes])
        return _split_rows(model.predict_proba(rows)[:, 1], [len(pairs[i].sentences) for i in indexes])

    def choose_sentences(probabilities: list[np.ndarray], threshold: float) -> list[list[int]]:
        return [select_sentences(p, threshold, config.max_sentences) for p in probabilities]

    probabilities = [_out_of_fold(fold, fit_selector, predict_selector) for fold in folds]
    selection_threshold = max(_grid(), key=lambda t: np.mean([rationale_scores(
        dict(enumerate(choose_sentences(p, t))), gold_rationales)["f1"] for p in probabilities]))

    def stance_rows(rationales: list[list[int]], indexes: Iterable[int]) -> list[dict[str, float]]:
        return [stance_features(claims[pairs[i].claim].text,
                                [corpus.abstracts[pairs[i].doc_id].sentences[s] for s in rationales[i]])
                for i in indexes]

    gold_stance = stance_rows([p.rationale for p in pairs], evidence_pairs)
    contradicts = labels[evidence_pairs] == "CONTRADICT"

    def fit_stance(mask: np.ndarray) -> Pipeline:
        keep = mask[evidence_pairs]
        return _stance_model(config.stance_c).fit([r for r, k in zip(gold_stance, keep) if k], contradicts[keep])

    def doc_matrix(probabilities: list[np.ndarray]) -> np.ndarray:
        return np.array([doc_features(corpus, views[p.claim], p.doc_id, p.sentences, probabilities[i])
                         for i, p in enumerate(pairs)])

    scores = []  # per repeat: (open evidence, cited evidence, contradict) probabilities of every pair
    for fold, probs in zip(folds, probabilities):
        docs = doc_matrix(probs)
        predicted_stance = stance_rows(choose_sentences(probs, selection_threshold), range(n))
        evidence = [np.array(_out_of_fold(
            fold, lambda mask: _gradient_boosting(config.seed).fit(docs[mask & rows], has_evidence[mask & rows]),
            lambda model, indexes: model.predict_proba(docs[indexes])[:, 1])) for rows in (np.ones(n, bool), is_cited)]
        contradict = np.array(_out_of_fold(fold, fit_stance, lambda model, indexes: model.predict_proba(
            [predicted_stance[i] for i in indexes])[:, 1]))
        scores.append((*evidence, contradict))

    def oracle_f1(evidence_threshold: float, contradict_threshold: float) -> float:
        return float(np.mean([macro_f1(labels[is_cited], _labels(cited[is_cited], contradict[is_cited],
                                                                  evidence_threshold, contradict_threshold))
                              for _, cited, contradict in scores]))

    oracle_threshold, contradict_threshold = max(((e, c) for e in _grid() for c in _grid()),
                                                 key=lambda t: oracle_f1(*t))
    n_gold = sum(len(c.evidence) for c in claims)

    def open_f1(k: int, threshold: float) -> float:
        f1 = []
        for evidence, _, contradict in scores:
            predicted = _labels(evidence, contradict, threshold, contradict_threshold)
            made = (predicted != "NOINFO") & (ranks < k)
            f1.append(_prf(int((made & (predicted == labels)).sum()), int(made.sum()), n_gold)["f1"])
        return float(np.mean(f1))

    top_k, open_threshold = max(((k, t) for k in range(1, config.candidates + 1) for t in _grid()),
                                key=lambda kt: open_f1(*kt))
    docs = doc_matrix([np.mean(ps, axis=0) for ps in zip(*probabilities)])
    return ScifactModel(
        config=config,
        selector=_gradient_boosting(config.seed).fit(*_rationale_rows(pairs)),
        evidence=_gradient_boosting(config.seed).fit(docs, has_evidence),
        cited_evidence=_gradient_boosting(config.seed).fit(docs[is_cited], has_evidence[is_cited]),
        stance=_stance_model(config.stance_c).fit(gold_stance, contradicts),
        selection_threshold=float(selection_threshold), top_k=top_k, open_threshold=float(open_threshold),
        oracle_threshold=float(oracle_threshold), contradict_threshold=float(contradict_threshold),
        cross_validation={
            "rationale_f1": float(np.mean([rationale_scores(dict(enumerate(choose_sentences(p, selection_threshold))),
                                                            gold_rationales)["f1"] for p in probabilities])),
            "oracle_macro_f1": oracle_f1(oracle_threshold, contradict_threshold),
            "open_f1": open_f1(top_k, open_threshold)})


@threadpool_limits.wrap(limits=1)
def verify(model: ScifactModel, corpus: Corpus, claim: str, cited: list[str] | None = None) -> list[DocPrediction]:
    """Label the abstracts a claim cites (the oracle setting) or, when `cited` is None, the
    model's top_k BM25 hits (the open setting), with the rationale sentences chosen in each."""
    view = corpus.claim_view(claim)
    doc_ids, evidence_model, threshold = cited, model.cited_evidence, model.oracle_threshold
    if cited is None:
        doc_ids = [doc for doc, _ in corpus.index.search(claim, model.top_k)]
        evidence_model, threshold = model.evidence, model.open_threshold
    if not doc_ids:
        return []
    sentences = [sentence_features(corpus, view, doc_id) for doc_id in doc_ids]
    probabilities = _split_rows(model.selector.predict_proba(np.vstack(sentences))[:, 1], [len(s) for s in sentences])
    chosen = [select_sentences(p, model.selection_threshold, model.config.max_sentences) for p in probabilities]
    evidence = evidence_model.predict_proba(np.array([
        doc_features(corpus, view, doc_id, s, p) for doc_id, s, p in zip(doc_ids, sentences, probabilities)]))[:, 1]
    contradict = model.stance.predict_proba([
        stance_features(claim, [corpus.abstracts[doc_id].sentences[i] for i in selected])
        for doc_id, selected in zip(doc_ids, chosen)])[:, 1]
    labels = _labels(evidence, contradict, threshold, model.contradict_threshold)
    return [DocPrediction(*values) for values in zip(doc_ids, map(str, labels), chosen, map(float, evidence),
                                                       map(float, contradict))]


# ---------------------------------------------------------------- metrics


def _prf(correct: int, predicted: int, gold: int) -> dict[str, float]:
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def label_only_scores(predicted: dict[str, dict[str, str]], gold: dict[str, dict[str, str]]) -> dict[str, float]:
    """SciFact's abstract-level label-only P/R/F1. Both map claim -> {abstract: label}; gold holds the
    evidence abstracts only. A predicted SUPPORT/CONTRADICT abstract is correct when it is a gold
    evidence abstract of that claim with that label; NOINFO predictions count nowhere."""
    made = [(claim, doc, label) for claim, docs in predicted.items() for doc, label in docs.items()
            if label != "NOINFO"]
    correct = sum(gold.get(claim, {}).get(doc) == label for claim, doc, label in made)
    return _prf(correct, len(made), sum(len(docs) for docs in gold.values()))


def macro_f1(gold: list[str], predicted: list[str], labels: tuple[str, ...] = LABELS) -> float:
    """Unweighted mean of the per-label F1 (a label never gold nor predicted scores 0)."""
    gold, predicted = np.asarray(gold), np.asarray(predicted)
    return float(np.mean([_prf(int(((gold == label) & (predicted == label)).sum()), int((predicted == label).sum()),
                               int((gold == label).sum()))["f1"] for label in labels]))


def rationale_scores(predicted: dict, gold: dict) -> dict[str, float]:
    """Sentence-level P/R/F1 over the gold evidence abstracts (the keys of `gold`, each mapping to
    its rationale sentence indexes, all rationale sets merged). A selected sentence is correct when
    it is in the gold rationale of that abstract; selections for other abstracts are ignored."""
    correct = sum(len(set(predicted.get(key, ())) & set(sentences)) for key, sentences in gold.items())
    selected = sum(len(set(predicted.get(key, ()))) for key in gold)
    return _prf(correct, selected, sum(len(set(s)) for s in gold.values()))


@threadpool_limits.wrap(limits=1)
def score(model: ScifactModel, corpus: Corpus, claims: list[Claim]) -> dict[str, dict[str, float]]:
    """The open, oracle and rationale figures of `model` on labelled claims."""
    open_predicted, oracle_predicted, selected = {}, {}, {}
    oracle_gold, oracle_labels = [], []
    for claim in claims:
        open_predicted[claim.claim_id] = {p.doc_id: p.label for p in verify(model, corpus, claim.text)}
        oracle = verify(model, corpus, claim.text, list(claim.labels))
        oracle_predicted[claim.claim_id] = {p.doc_id: p.label for p in oracle}
        for p in oracle:
            oracle_gold.append(claim.labels[p.doc_id])
            oracle_labels.append(p.label)
            selected[(claim.claim_id, p.doc_id)] = p.sentences
    gold = {c.claim_id: c.evidence for c in claims}
    rationales = {(c.claim_id, doc): sentences for c in claims for doc, sentences in c.rationales.items()}
    return {
        "open": label_only_scores(open_predicted, gold),
        "oracle": {**label_only_scores(oracle_predicted, gold), "macro_f1": macro_f1(oracle_gold, oracle_labels)},
        "rationale": rationale_scores(selected, rationales),
    }


def retrieval_recall(index: Bm25Index, claims: list[Claim], ks: Iterable[int] = (1, 3, 5, 10)) -> dict[int, float]:
    """Share of the gold evidence abstracts (claim, abstract pairs) among each claim's top k BM25 hits."""
    ks = sorted(ks)
    found, total = dict.fromkeys(ks, 0), 0
    for claim in claims:
        if claim.evidence:
            hits = [doc for doc, _ in index.search(claim.text, ks[-1])]
            total += len(claim.evidence)
            for k in ks:
                found[k] += len(set(hits[:k]) & set(claim.evidence))
    return {k: found[k] / total if total else 0.0 for k in ks}


def model_key(corpus: Corpus, claims: list[Claim], config: ScifactConfig) -> str:
    """Changes with the config, the training claims, the abstracts, the tagger and the code
    the features come from (this module, pipeline.verdicts.stance and the cue words of pipeline.relations.triggers)."""
    digest = hashlib.sha256(json.dumps([asdict(config), [asdict(c) for c in claims],
                                        getattr(corpus.tagger, "version", "no tagger")]).encode())
    for abstract in corpus.abstracts.values():
        digest.update(json.dumps(asdict(abstract)).encode())
    digest.update(code_hash(sys.modules[__name__], stance, relations).encode())
    return digest.hexdigest()[:16]


def load_or_train(corpus: Corpus, claims: list[Claim], models_dir: Path,
                  config: ScifactConfig = ScifactConfig()) -> ScifactModel:
    """The model trained on `claims` from `models_dir/scifact`, trained and saved there first if absent."""
    path = Path(models_dir) / "scifact" / f"{model_key(corpus, claims, config)}.pkl"
    if path.is_file():
        return pickle.loads(path.read_bytes())
    model = train_scifact(corpus, claims, config)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_bytes(pickle.dumps(model))
    partial.replace(path)
    return model


def evaluate_scifact(store: Store, split: str, models_dir: Path, tagger: EntityTagger | None = None,
                     config: ScifactConfig = ScifactConfig()) -> dict[str, dict[str, float]]:
    """`litmine evaluate claims --corpus scifact`: open (BM25 retrieval), oracle (cited abstracts)
    and rationale figures on a labelled split, from a model trained on train only."""
    claims = load_claims(store, split)
    if not any(label for c in claims for label in c.labels.values()):
        raise ValueError(f"scifact/{split} has no labelled claims in {store.path}")
    corpus = Corpus(load_abstracts(store), tagger)
    model = load_or_train(corpus, load_claims(store, "train"), models_dir, config)
    return score(model, corpus, claims)
