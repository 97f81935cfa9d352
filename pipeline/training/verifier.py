"""Training the sentence-level verifier (`pipeline.verdicts.rationales`) on SciFact train.

Each stage learns from out-of-fold outputs of the stage before, and every threshold is chosen
on out-of-fold predictions pooled over several cross-validation splits of the training claims,
so no dev or test claim is looked at while fitting. The model is saved whole under
`models/verifier/<key>/model.pkl` and made current; its key changes with the training data,
the config and the code the features come from.
"""
from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from threadpoolctl import threadpool_limits

from pipeline.codehash import code_hash
from pipeline.config import Settings
from pipeline.entities.dictionary import EntityTagger
from pipeline.evaluation.scifact import ScifactClaim, load_claims, load_passages, macro_f1, rationale_scores
from pipeline.evaluation.entities import prf
from pipeline.models import VERIFIER
from pipeline.records.store import Store
from pipeline.training.pickled import build_pickled
from pipeline.relations import triggers
from pipeline.verdicts import rationales, stance
from pipeline.verdicts.rationales import (Passage, PassageView, SentenceModel, TextSpace, claim_view, doc_features,
                                          labels_for, select_sentences, sentence_features, split_rows, view)
from pipeline.verdicts.stance import stance_features


# The quick CI recipe: the first SciFact train claims, the abstracts they cite and as many others
# again per claim.
REDUCED_VERIFIER_CLAIMS = 300


@dataclass(frozen=True)
class VerifierConfig:
    """What training depends on besides the data; part of the model's key."""

    candidates: int = 10  # records found by search per training claim that the evidence model learns from
    folds: int = 5  # cross-validation folds over train claims, for stacking and thresholds
    seed: int = 0
    stance_c: float = 0.5  # inverse regularization of the stance logistic regression
    max_sentences: int = 3  # rationale sentences kept per record at most
    repeats: int = 3  # cross-validation runs, with different splits, whose predictions thresholds pool


@dataclass
class _Pair:
    """One (claim, passage) candidate seen in training."""

    claim: int
    uid: str
    sentences: np.ndarray  # SENTENCE_FEATURES rows
    label: str
    rationale: list[int]
    rank: int  # BM25 rank among the claim's pool
    cited: bool


def _gradient_boosting(seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(learning_rate=0.05, max_iter=200, max_leaf_nodes=15,
                                          min_samples_leaf=20, l2_regularization=1.0, random_state=seed)


def _stance_model(c: float) -> Pipeline:
    return make_pipeline(DictVectorizer(), LogisticRegression(C=c, class_weight="balanced", max_iter=2000))


class _Corpus:
    """The training passages, their text space, and each passage's view made once."""

    def __init__(self, passages: dict[str, Passage], tagger: EntityTagger | None):
        self.passages, self.tagger = passages, tagger
        self.uids = list(passages)
        self.space = TextSpace(list(passages.values()))
        self._weights = self.space.bm25.weights([p.text for p in passages.values()])
        self._views: dict[str, PassageView] = {}

    def view(self, uid: str) -> PassageView:
        if uid not in self._views:
            self._views[uid] = view(self.space, self.passages[uid], self.tagger)
        return self._views[uid]

    def search(self, text: str, k: int) -> list[str]:
        scores = np.asarray((self._weights @ self.space.bm25.query(text)).todense()).ravel()
        return [self.uids[i] for i in np.argsort(-scores, kind="stable")[:k]]


def _training_pairs(corpus: _Corpus, claims: list[ScifactClaim], candidates: int) -> tuple[list[_Pair], list]:
    """Every claim's cited passages plus its `candidates` best BM25 hits, with sentence features."""
    pairs, views = [], []
    for number, claim in enumerate(claims):
        pool = list(dict.fromkeys([*claim.labels, *corpus.search(claim.text, candidates)]))
        claim_v = claim_view(corpus.space, claim.text, [corpus.passages[u] for u in pool], corpus.tagger)
        views.append(claim_v)
        for uid in pool:
            pairs.append(_Pair(number, uid, sentence_features(claim_v, corpus.view(uid)),
                               claim.labels.get(uid, "NOINFO"), claim.rationales.get(uid, []),
                               claim_v.rank[uid], uid in claim.labels))
    return pairs, views


def _rationale_rows(pairs: list[_Pair]) -> tuple[np.ndarray, np.ndarray]:
    """Sentence features and 0/1 rationale targets of the evidence passages among `pairs`."""
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


def _grid(start: float = 0.05, stop: float = 0.95, step: float = 0.025) -> np.ndarray:
    return np.round(np.arange(start, stop + 1e-9, step), 3)


@threadpool_limits.wrap(limits=1)  # OpenMP threads on a busy 2-core machine made boosting 30x slower
def train_verifier(passages: dict[str, Passage], claims: list[ScifactClaim], tagger: EntityTagger | None,
                   config: VerifierConfig = VerifierConfig()) -> SentenceModel:
    """Fit the three stages on `claims` and choose every threshold by cross-validation over them."""
    corpus = _Corpus(passages, tagger)
    pairs, views = _training_pairs(corpus, claims, config.candidates)
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
        return split_rows(model.predict_proba(rows)[:, 1], [len(pairs[i].sentences) for i in indexes])

    def choose_sentences(probabilities: list[np.ndarray], threshold: float) -> list[list[int]]:
        return [select_sentences(p, threshold, config.max_sentences) for p in probabilities]

    probabilities = [_out_of_fold(fold, fit_selector, predict_selector) for fold in folds]
    selection_threshold = max(_grid(), key=lambda t: np.mean([rationale_scores(
        dict(enumerate(choose_sentences(p, t))), gold_rationales).f1 for p in probabilities]))

    @cache  # the repeats mostly choose the same sentences of a pair, and the gold ones are often among them
    def pair_stance(i: int, sentences: tuple[int, ...]) -> dict[str, float]:
        return stance_features(claims[pairs[i].claim].text, [corpus.passages[pairs[i].uid].sentences[s]
                                                             for s in sentences])

    def stance_rows(rationales_: list[list[int]], indexes: Iterable[int]) -> list[dict[str, float]]:
        return [pair_stance(i, tuple(rationales_[i])) for i in indexes]

    gold_stance = stance_rows([p.rationale for p in pairs], evidence_pairs)
    contradicts = labels[evidence_pairs] == "CONTRADICT"

    def fit_stance(mask: np.ndarray) -> Pipeline:
        keep = mask[evidence_pairs]
        return _stance_model(config.stance_c).fit([r for r, k in zip(gold_stance, keep) if k], contradicts[keep])

    def doc_matrix(probabilities_: list[np.ndarray]) -> np.ndarray:
        return np.array([doc_features(views[p.claim], corpus.view(p.uid), p.sentences, probabilities_[i])
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
        return float(np.mean([macro_f1(labels[is_cited], labels_for(cited[is_cited], contradict[is_cited],
                                                                     evidence_threshold, contradict_threshold))
                              for _, cited, contradict in scores]))

    oracle_threshold, contradict_threshold = max(((e, c) for e in _grid() for c in _grid()),
                                                 key=lambda t: oracle_f1(*t))
    n_gold = sum(len(c.evidence) for c in claims)

    def open_f1(k: int, threshold: float) -> float:
        f1 = []
        for evidence, _, contradict in scores:
            predicted = labels_for(evidence, contradict, threshold, contradict_threshold)
            made = (predicted != "NOINFO") & (ranks < k)
            f1.append(prf(int((made & (predicted == labels)).sum()), int(made.sum()), n_gold).f1)
        return float(np.mean(f1))

    top_k, open_threshold = max(((k, t) for k in range(1, config.candidates + 1) for t in _grid()),
                                key=lambda kt: open_f1(*kt))
    docs = doc_matrix([np.mean(ps, axis=0) for ps in zip(*probabilities)])
    return SentenceModel(
        space=_without_addresses(corpus.space),
        selector=_gradient_boosting(config.seed).fit(*_rationale_rows(pairs)),
        evidence=_gradient_boosting(config.seed).fit(docs, has_evidence),
        cited_evidence=_gradient_boosting(config.seed).fit(docs[is_cited], has_evidence[is_cited]),
        stance=_stance_model(config.stance_c).fit(gold_stance, contradicts),
        selection_threshold=float(selection_threshold), max_sentences=config.max_sentences, top_k=top_k,
        open_threshold=float(open_threshold), oracle_threshold=float(oracle_threshold),
        contradict_threshold=float(contradict_threshold),
        cross_validation={
            "rationale_f1": float(np.mean([rationale_scores(dict(enumerate(choose_sentences(p, selection_threshold))),
                                                            gold_rationales).f1 for p in probabilities])),
            "oracle_macro_f1": oracle_f1(oracle_threshold, contradict_threshold),
            "open_f1": open_f1(top_k, open_threshold)})


def _without_addresses(space: TextSpace) -> TextSpace:
    """The space without the address of their stop words that sklearn's vectorizers note to skip checking
    them again (`_stop_words_id`): it differs in every process, and saved, it made every build's bytes differ."""
    for vectorizer in (space.bm25._vectorizer, space.words, space.chars):
        vars(vectorizer).pop("_stop_words_id", None)
    return space


def verifier_key(passages: dict[str, Passage], claims: list[ScifactClaim], tagger: EntityTagger | None,
                 config: VerifierConfig) -> str:
    """Changes with the config, the training claims and passages, the tagger and the feature code."""
    digest = hashlib.sha256(json.dumps([asdict(config), [asdict(c) for c in claims],
                                        getattr(tagger, "version", "no tagger")]).encode())
    for item in passages.values():
        digest.update(json.dumps(asdict(item)).encode())
    digest.update(code_hash(sys.modules[__name__], rationales, stance, triggers).encode())
    return digest.hexdigest()[:12]


def build_verifier(settings: Settings, store: Store, tagger: EntityTagger | None, limit: int | None = None,
                   config: VerifierConfig = VerifierConfig()) -> Path:
    """Train the verifier on SciFact train (the first `limit` claims) unless a model with its key
    exists, and make it current; returns its folder.

    SciFact only: trained on SciFact and Check-COVID train together (2026-12-06), it labelled
    Check-COVID dev's (claim, abstract) pairs no better (macro-F1 0.380 against 0.388) and
    SciFact's worse."""
    claims = load_claims(store, "train")[:limit]
    passages = load_passages(store)
    if limit is not None:
        cited = {uid for claim in claims for uid in claim.labels}
        others = [uid for uid in passages if uid not in cited][:len(claims)]
        passages = {uid: passages[uid] for uid in passages if uid in cited or uid in others}
    if not claims or not passages:
        raise ValueError(f"the verifier trains on SciFact train: import ../shared/corpora/scifact into {store.path}")
    return build_pickled(settings, VERIFIER, verifier_key(passages, claims, tagger, config),
                         f"{len(claims)} SciFact train claims",
                         lambda: train_verifier(passages, claims, tagger, config),
                         {"claims": len(claims), "config": asdict(config)})
