"""The sentence-level verifier and the claim benchmarks: metrics on hand-made predictions, the
stance features, BM25 over the real SciFact corpus, a verifier trained on part of train, and
the scoring of a run's tables."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from pipeline.config import load_settings
from pipeline.datatypes import Claim, DocSentence, Record
from pipeline.evaluation.scifact import (ScifactClaim, abstract_labels, in_fold, claims_document, label_only_scores,
                                         load_claims, load_passages, macro_f1, rationale_scores, rows_per_claim, score)
from pipeline.records.importers import import_paths
from pipeline.records.store import Store
from pipeline.relations.triggers import TriggerExtractor
from pipeline.training.verifier import VerifierConfig, build_verifier, train_verifier, verifier_key
from pipeline.verdicts.evidence import extract_record
from pipeline.verdicts.rationales import (SENTENCE_FEATURES, Bm25, SentenceModel, claim_view, judge, passage,
                                          select_sentences, sentence_features, view)
from pipeline.verdicts.stance import directions, stance_features
from pipeline.verdicts.evidence import Candidates
from pipeline.verdicts.verifier import verify_claim

SCIFACT = load_settings().shared / "corpora" / "scifact"
SMALL = VerifierConfig(candidates=3, folds=3, repeats=1)


# ---------------------------------------------------------------- metrics


def test_label_only_scores_count_like_scifact() -> None:
    gold = {"1": {"a": "SUPPORT", "b": "CONTRADICT"}, "2": {"c": "SUPPORT"}, "3": {}}
    predicted = {
        "1": {"a": "SUPPORT", "b": "SUPPORT", "x": "NOINFO"},  # a right, b wrong label, x not counted
        "2": {"d": "CONTRADICT"},  # not a gold evidence abstract
        "3": {"e": "NOINFO"},
    }
    scores = label_only_scores(predicted, gold)
    assert scores.precision == pytest.approx(1 / 3, abs=1e-4)
    assert scores.recall == pytest.approx(1 / 3, abs=1e-4)
    assert label_only_scores({}, gold).f1 == 0.0


def test_folds_split_claims_by_id_the_same_way_every_time() -> None:
    ids = [str(i) for i in range(500)]
    folds = [[i for i in ids if in_fold(i, f"{k}/5")] for k in range(1, 6)]
    assert sorted(i for fold in folds for i in fold) == sorted(ids)  # each claim in exactly one fold
    assert all(60 <= len(fold) <= 140 for fold in folds)
    assert folds[0] == [i for i in ids[::-1] if in_fold(i, "1/5")][::-1]  # by id alone, not by order
    for bad in ("0/5", "6/5", "x/5", "3"):
        with pytest.raises(ValueError, match="not K/N"):
            in_fold("1", bad)


def test_macro_f1_averages_the_three_labels() -> None:
    gold = ["SUPPORT", "SUPPORT", "CONTRADICT", "NOINFO"]
    assert macro_f1(gold, gold) == 1.0
    # SUPPORT: P 2/3 R 1 -> 0.8; CONTRADICT: never predicted -> 0; NOINFO: 1
    assert macro_f1(gold, ["SUPPORT", "SUPPORT", "SUPPORT", "NOINFO"]) == pytest.approx((0.8 + 0 + 1) / 3)


def test_rationale_scores_count_sentences_of_gold_evidence_abstracts_only() -> None:
    gold = {("1", "a"): [2, 5], ("2", "b"): [0]}
    predicted = {("1", "a"): [2, 3], ("2", "b"): [], ("3", "c"): [1, 2, 3]}  # ("3", "c") is not evidence
    scores = rationale_scores(predicted, gold)
    assert (scores.precision, scores.recall, scores.f1) == pytest.approx((0.5, 1 / 3, 0.4), abs=1e-4)


def test_select_sentences_keeps_the_best_and_those_above_threshold() -> None:
    probabilities = np.array([0.1, 0.9, 0.05, 0.6, 0.55])
    assert select_sentences(probabilities, 0.5, 3) == [1, 3, 4]
    assert select_sentences(probabilities, 0.58, 3) == [1, 3]
    assert select_sentences(probabilities, 0.95, 3) == [1]  # a record asked about gets one sentence
    assert select_sentences(probabilities, 0.5, 2) == [1, 3]


def test_a_run_is_scored_per_claim_and_per_abstract() -> None:
    claims = [ScifactClaim("1", "Aspirin lowers fever", {"s:1": "SUPPORT"}),
              ScifactClaim("2", "Vitamin C cures colds. It also cures flu", {"s:2": "CONTRADICT"}),
              ScifactClaim("3", "Coffee causes cancer", {"s:3": "NOINFO"})]
    text = claims_document(claims, "scifact")
    assert "Aspirin lowers fever.\n\nVitamin C cures colds. It also cures flu.\n" in text
    rows = [  # the second claim became two sentences, each a claim row
        {"claim_id": "d:1:statement", "sentence_index": "1", "sentence": "Aspirin lowers fever.",
         "verdict": "supported", "verdict_confidence_raw": "0.8"},
        {"claim_id": "d:2:statement", "sentence_index": "2", "sentence": "Vitamin C cures colds.",
         "verdict": "no_evidence", "verdict_confidence_raw": "0.5"},
        {"claim_id": "d:3:statement", "sentence_index": "3", "sentence": "It also cures flu.",
         "verdict": "contradicted", "verdict_confidence_raw": "0.6"},
    ]
    assert [len(r) for r in rows_per_claim(claims, rows)] == [1, 2, 0]
    evidence = [{"claim_id": "d:1:statement", "pmid": "s:1", "stance": "supports", "confidence": "0.8"},
                {"claim_id": "d:3:statement", "pmid": "s:2", "stance": "contradicts", "confidence": "0.6"},
                {"claim_id": "d:3:statement", "pmid": "s:9", "stance": "related", "confidence": "0.9"}]
    assert abstract_labels(rows[1:], evidence) == {"s:2": "CONTRADICT"}
    figures = score(claims, rows, evidence, "scifact", "dev")
    assert figures.claims_extracted == pytest.approx(2 / 3, abs=1e-4)
    assert figures.accuracy == pytest.approx(2 / 3, abs=1e-4)
    assert figures.label_only_f1 == 1.0
    assert figures.confusion["no_evidence"] == {"no claim": 1}


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


def test_loads_passages_and_claims_from_the_store(store: Store) -> None:
    passages = load_passages(store)
    train, dev = load_claims(store, "train"), load_claims(store, "dev")
    assert len(passages) == 5183 and len(train) == 809 and len(dev) == 300
    claim = next(c for c in dev if c.claim_id == "5")
    assert claim.evidence == {"scifact:13734012": "SUPPORT"} and claim.rationales == {"scifact:13734012": [4]}
    assert claim.verdict == "supported"
    assert passages["scifact:13734012"].sentences[4].startswith("RESULTS Of the 32,441 appendix samples 16 were")
    # the flow reads the stored record, re-split into sentences, as the same passage
    record = store.get("scifact:13734012")
    assert passage(record).sentences[4] == passages["scifact:13734012"].sentences[4]
    assert any(label == "NOINFO" for c in dev for label in c.labels.values())


def test_bm25_ranks_the_gold_abstract_first(store: Store) -> None:
    passages = list(load_passages(store).values())
    bm25 = Bm25([p.text for p in passages])
    scores = bm25.scores("ADAR1 binds to Dicer to cleave pre-miRNA.", [p.text for p in passages])
    assert passages[int(np.argmax(scores))].uid == "scifact:5953485"


@pytest.fixture(scope="module")
def small_model(store: Store) -> tuple[SentenceModel, list[ScifactClaim]]:
    """A verifier trained on 250 train claims and the abstracts they cite plus as many others."""
    passages = load_passages(store)
    train, dev = load_claims(store, "train")[:250], load_claims(store, "dev")[:80]
    cited = {uid for claim in train + dev for uid in claim.labels}
    others = [uid for uid in passages if uid not in cited][:len(cited)]
    subset = {uid: passages[uid] for uid in [*cited, *others]}
    return train_verifier(subset, train, None, SMALL), dev


def test_trained_verifier_beats_trivial_baselines(store: Store, small_model) -> None:
    model, dev = small_model
    assert 1 <= model.top_k <= SMALL.candidates and 0 < model.contradict_threshold < 1
    passages = load_passages(store)
    gold, predicted, selected, closest = [], [], {}, {}
    word_cos = SENTENCE_FEATURES.index("word_cos")
    for claim in dev:
        cited = [passages[uid] for uid in claim.labels]
        claim_v = claim_view(model.space, claim.text, cited, None)
        for j in judge(model, claim.text, cited, [], None):
            gold.append(claim.labels[j.uid])
            predicted.append(j.label)
            selected[(claim.claim_id, j.uid)] = j.sentence_indexes
            features = sentence_features(claim_v, view(model.space, passages[j.uid], None))
            closest[(claim.claim_id, j.uid)] = [int(np.argmax(features[:, word_cos]))]
    # the majority label scores about 0.2, the model about 0.55
    assert macro_f1(gold, predicted) > macro_f1(gold, ["SUPPORT"] * len(gold)) + 0.15
    # the sentence closest to the claim by TF-IDF scores about 0.4, the model about 0.65
    rationales = {(c.claim_id, uid): s for c in dev for uid, s in c.rationales.items()}
    assert rationale_scores(selected, rationales).f1 > rationale_scores(closest, rationales).f1 + 0.15


def test_a_statement_gets_its_verdict_from_the_sentence_model(store: Store, small_model, kb) -> None:
    model, dev = small_model
    claim_text = next(c for c in dev if c.claim_id == "5").text
    record = store.get("scifact:13734012")
    other = store.get(next(uid for uid in load_passages(store) if uid != "scifact:13734012"))
    sentence = DocSentence(1, claim_text, 0, len(claim_text), "", [])
    claim = Claim("doc", "doc:1:statement", sentence, None)
    extracted = {r.uid: extract_record(r, _NoTagger(), TriggerExtractor()) for r in (record, other)}
    result = verify_claim(claim, Candidates([record, other], set(), False), extracted, kb, model, None)
    # a model trained on 250 claims may read the side wrong; which record it reads, and how, it may not
    assert result.verdict in ("supported", "contradicted") and 0 < result.confidence <= 1
    (item,) = [e for e in result.evidence if e.stance != "related"]
    assert item.record.uid == "scifact:13734012" and item.signal == "sentence" and item.found_by == "search"
    assert item.relation is None and item.sentence in passage(record).sentences
    assert result.citations_say == ""  # it cites nothing


class _NoTagger:
    """Mentions are not needed to read a statement."""

    name, version = "none", "none"

    def tag(self, text: str) -> list:
        return []


def test_verifier_models_are_kept_by_key(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings().with_overrides(models=tmp_path)
    passages = load_passages(store)
    train = load_claims(store, "train")
    assert verifier_key(passages, train[:50], None, SMALL) != verifier_key(passages, train[:49], None, SMALL)
    assert verifier_key(passages, train[:50], None, SMALL) != verifier_key(passages, train[:50], None, VerifierConfig())
    trained = []

    def fake_training(passages, claims, tagger, config):
        trained.append(len(claims))
        return SimpleNamespace(key="", cross_validation={})

    monkeypatch.setattr("pipeline.training.verifier.train_verifier", fake_training)
    first = build_verifier(settings, store, None, limit=50)
    assert build_verifier(settings, store, None, limit=50) == first and trained == [50]  # kept, not retrained
    assert build_verifier(settings, store, None, limit=49) != first and trained == [50, 49]
    assert (settings.models / "verifier" / "current").read_text() != first.name  # the latest build is current


def test_the_unlabelled_test_split_has_no_verdicts_to_score(store: Store) -> None:
    assert not any(c.labels for c in load_claims(store, "test"))


def test_a_record_is_read_as_its_title_and_sentences() -> None:
    record = Record(uid="pmid:1", pmid="1", title="Aspirin and fever.",
                    abstract="Aspirin lowered fever in children. It did not change heart rate.")
    item = passage(record)
    assert item.title == "Aspirin and fever." and item.sentences == (
        "Aspirin lowered fever in children.", "It did not change heart rate.")
