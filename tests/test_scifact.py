"""SciFact claim verification: the metrics on hand-made predictions, the stance features,
BM25 retrieval over the real corpus, and a small pipeline trained on part of train."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.config import load_settings
from pipeline.evaluation import scifact
from pipeline.evaluation.scifact import (Bm25Index, Claim, Corpus, ScifactConfig, evaluate_scifact, label_only_scores,
                                         load_abstracts, load_claims, load_or_train, macro_f1, rationale_scores,
                                         retrieval_recall, select_sentences, sentence_features, train_scifact, verify)
from pipeline.records.importers import import_paths
from pipeline.records.store import Store
from pipeline.verdicts.stance import directions, stance_features

SCIFACT = load_settings().shared / "corpora" / "scifact"
SMALL = ScifactConfig(candidates=3, folds=3, repeats=1)


# ---------------------------------------------------------------- metrics


def test_label_only_scores_count_like_scifact() -> None:
    gold = {"1": {"a": "SUPPORT", "b": "CONTRADICT"}, "2": {"c": "SUPPORT"}, "3": {}}
    predicted = {
        "1": {"a": "SUPPORT", "b": "SUPPORT", "x": "NOINFO"},  # a right, b wrong label, x not counted
        "2": {"d": "CONTRADICT"},  # not a gold evidence abstract
        "3": {"e": "NOINFO"},
    }
    scores = label_only_scores(predicted, gold)
    assert scores["precision"] == pytest.approx(1 / 3)
    assert scores["recall"] == pytest.approx(1 / 3)
    assert scores["f1"] == pytest.approx(1 / 3)
    assert label_only_scores({}, gold) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_macro_f1_averages_the_three_labels() -> None:
    gold = ["SUPPORT", "SUPPORT", "CONTRADICT", "NOINFO"]
    assert macro_f1(gold, gold) == 1.0
    # SUPPORT: P 2/3 R 1 -> 0.8; CONTRADICT: never predicted -> 0; NOINFO: 1
    assert macro_f1(gold, ["SUPPORT", "SUPPORT", "SUPPORT", "NOINFO"]) == pytest.approx((0.8 + 0 + 1) / 3)


def test_rationale_scores_count_sentences_of_gold_evidence_abstracts_only() -> None:
    gold = {("1", "a"): [2, 5], ("2", "b"): [0]}
    predicted = {("1", "a"): [2, 3], ("2", "b"): [], ("3", "c"): [1, 2, 3]}  # ("3", "c") is not evidence
    assert rationale_scores(predicted, gold) == pytest.approx({"precision": 0.5, "recall": 1 / 3, "f1": 0.4})


def test_select_sentences_keeps_the_best_and_those_above_threshold() -> None:
    probabilities = np.array([0.1, 0.9, 0.05, 0.6, 0.55])
    assert select_sentences(probabilities, 0.5, 3) == [1, 3, 4]
    assert select_sentences(probabilities, 0.58, 3) == [1, 3]
    assert select_sentences(probabilities, 0.95, 3) == [1]  # an abstract asked about gets one sentence
    assert select_sentences(probabilities, 0.5, 2) == [1, 3]


# ---------------------------------------------------------------- stance features


def test_directions_flip_under_negation() -> None:
    assert directions("Metformin increases AMPK activity.") == [("increases", 1)]
    assert directions("Metformin did not increase AMPK activity.") == [("increase", -1)]
    assert directions("Moreover, levels rose.") == [("rose", 1)]  # "moreover" is not "more"


def test_stance_features_see_opposite_directions_and_antonyms() -> None:
    claim = "Statins increase the risk of dementia in men."
    agreeing = stance_features(claim, ["Statin use increased dementia risk in men."])
    opposing = stance_features(claim, ["Statin use reduced dementia risk in women."])
    assert agreeing["dir_agree"] == 1 and agreeing["dir_oppose"] == 0 and agreeing["antonyms"] == 0
    assert opposing["dir_oppose"] == 1 and opposing["antonyms"] >= 2  # increase/reduce, men/women
    assert agreeing["same_word_same_sign"] == 1 and opposing["same_word_same_sign"] == 0
    null = stance_features("Vitamin D has no effect on mortality.", ["There was no significant difference."])
    assert null["both_null"] == 1


# ---------------------------------------------------------------- real corpus


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    if not (SCIFACT / "corpus.jsonl.gz").exists():
        pytest.skip(f"no SciFact corpus at {SCIFACT}")
    store = Store(tmp_path_factory.mktemp("scifact") / "litmine.sqlite")
    claims = [SCIFACT / f"claims_{split}.jsonl" for split in ("train", "dev", "test")]
    import_paths([SCIFACT / "corpus.jsonl.gz", *claims], store, progress=False)
    return store


def test_loads_abstracts_and_claims_from_the_store(store: Store) -> None:
    abstracts = load_abstracts(store)
    train, dev = load_claims(store, "train"), load_claims(store, "dev")
    assert len(abstracts) == 5183 and len(train) == 809 and len(dev) == 300
    claim = next(c for c in dev if c.claim_id == "5")
    assert claim.evidence == {"13734012": "SUPPORT"} and claim.rationales == {"13734012": [4]}
    assert abstracts["13734012"].sentences[4].startswith("RESULTS Of the 32,441 appendix samples 16 were positive")
    assert any(label == "NOINFO" for c in dev for label in c.labels.values())


def test_evaluating_the_unlabelled_test_split_is_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scifact/test has no labelled claims"):
        evaluate_scifact(store, "test", tmp_path)
    assert not (tmp_path / "scifact").exists()  # refused before any training


def test_bm25_finds_gold_abstracts(store: Store) -> None:
    index = Bm25Index(load_abstracts(store))
    assert index.search("ADAR1 binds to Dicer to cleave pre-miRNA.", 1)[0][0] == "5953485"
    recall = retrieval_recall(index, load_claims(store, "dev"), (1, 10))
    assert recall[1] > 0.6 and recall[10] > 0.85


def _subset(store: Store, n_train: int, n_dev: int) -> tuple[Corpus, list[Claim], list[Claim]]:
    """The cited abstracts of some train and dev claims plus as many other abstracts."""
    abstracts = load_abstracts(store)
    train, dev = load_claims(store, "train")[:n_train], load_claims(store, "dev")[:n_dev]
    cited = {doc for claim in train + dev for doc in claim.labels}
    others = [doc for doc in abstracts if doc not in cited][:len(cited)]
    return Corpus({doc: abstracts[doc] for doc in [*cited, *others]}), train, dev


def test_trained_pipeline_beats_trivial_baselines(store: Store) -> None:
    corpus, train, dev = _subset(store, 250, 80)
    model = train_scifact(corpus, train, SMALL)
    assert 1 <= model.top_k <= SMALL.candidates and 0 < model.contradict_threshold < 1
    gold, predicted, selected, closest = [], [], {}, {}
    word_cos = scifact.SENTENCE_FEATURES.index("word_cos")
    for claim in dev:
        view = corpus.claim_view(claim.text)
        for p in verify(model, corpus, claim.text, list(claim.labels)):
            gold.append(claim.labels[p.doc_id])
            predicted.append(p.label)
            selected[(claim.claim_id, p.doc_id)] = p.sentences
            closest[(claim.claim_id, p.doc_id)] = [
                int(np.argmax(sentence_features(corpus, view, p.doc_id)[:, word_cos]))]
    # the majority label scores about 0.2; the model about 0.55
    assert macro_f1(gold, predicted) > macro_f1(gold, ["SUPPORT"] * len(gold)) + 0.15
    # the sentence closest to the claim by TF-IDF scores about 0.4; the model about 0.69
    rationales = {(c.claim_id, doc): s for c in dev for doc, s in c.rationales.items()}
    assert rationale_scores(selected, rationales)["f1"] > rationale_scores(closest, rationales)["f1"] + 0.15
    open_predicted = {c.claim_id: {p.doc_id: p.label for p in verify(model, corpus, c.text)} for c in dev}
    assert label_only_scores(open_predicted, {c.claim_id: c.evidence for c in dev})["f1"] > 0.3  # about 0.49


def test_models_are_cached_by_config_and_data(store: Store, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, train, _ = _subset(store, 60, 0)
    first = load_or_train(corpus, train, tmp_path, SMALL)
    assert len(list((tmp_path / "scifact").glob("*.pkl"))) == 1

    def no_training(*args: object) -> None:
        raise AssertionError("trained again")

    monkeypatch.setattr(scifact, "train_scifact", no_training)
    again = load_or_train(corpus, train, tmp_path, SMALL)
    assert again.cross_validation == first.cross_validation
    with pytest.raises(AssertionError, match="trained again"):
        load_or_train(corpus, train[:-1], tmp_path, SMALL)
    with pytest.raises(AssertionError, match="trained again"):
        load_or_train(corpus, train, tmp_path, ScifactConfig(candidates=2, folds=3, repeats=1))
