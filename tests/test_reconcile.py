"""Stance and verdicts, with drug classes and target families expanded through the real KB."""
import pytest

from pipeline.claims import Claim
from pipeline.datatypes import Mention, Record, Relation
from pipeline.documents import DocSentence
from pipeline.evidence import ExtractedRecord
from pipeline.reconcile import reconcile_claim, stance, verdict_for


@pytest.fixture(scope="module")
def ids(kb):
    return {name: kb.lookup(name)[0].id for name in ("sertraline", "fluoxetine", "KCNJ10", "HTR2B", "SSRI",
                                                     "5-HT2 receptors")}


def rel(subject, relation, obj, ids, negated=False, confidence=0.8):
    return Relation(Mention(0, 1, subject, "Chemical", ids[subject]), relation,
                    Mention(2, 3, obj, "Gene", ids[obj]), f"{subject} {relation} {obj}.", 0,
                    negated=negated, confidence=confidence)


def claim_of(relation):
    return Claim("doc", "doc:0:0", DocSentence(0, relation.sentence, 0, 10, "", ["1"]), relation)


def test_classes_and_families_meet_their_members(ids, kb):
    claimed = rel("SSRI", "activates", "5-HT2 receptors", ids)
    assert stance(claimed, rel("sertraline", "activates", "HTR2B", ids), kb) == "supports"
    assert stance(rel("sertraline", "inhibits", "KCNJ10", ids), rel("SSRI", "inhibits", "KCNJ10", ids), kb) == "supports"
    # siblings in a class are not the same drug
    assert stance(rel("sertraline", "inhibits", "KCNJ10", ids), rel("fluoxetine", "inhibits", "KCNJ10", ids), kb) is None


@pytest.mark.parametrize("claimed, found, negated, expected", [
    ("inhibits", "inhibits", False, "supports"),
    ("inhibits", "activates", False, "contradicts"),
    ("inhibits", "inhibits", True, "contradicts"),
    ("inhibits", "activates", True, "related"),
    ("inhibits", "binds", False, "related"),
    ("associated_with", "inhibits", False, "supports"),
    ("associated_with", "inhibits", True, "contradicts"),
])
def test_polarity_and_negation(ids, kb, claimed, found, negated, expected):
    result = stance(rel("sertraline", claimed, "KCNJ10", ids), rel("sertraline", found, "KCNJ10", ids, negated), kb)
    assert result == expected


def test_a_paper_counts_once_and_verdicts_follow_papers(ids, kb):
    claim = claim_of(rel("sertraline", "inhibits", "KCNJ10", ids))
    records = [Record(uid=f"pmid:{n}", pmid=str(n)) for n in (1, 2, 3)]
    extracted = {
        "pmid:1": ExtractedRecord("pmid:1", [rel("sertraline", "inhibits", "KCNJ10", ids)] * 5),
        "pmid:2": ExtractedRecord("pmid:2", [rel("sertraline", "inhibits", "KCNJ10", ids, negated=True)]),
        "pmid:3": ExtractedRecord("pmid:3", []),
    }
    result = reconcile_claim(claim, records, extracted, kb)
    assert (result.verdict, result.n_supporting, result.n_contradicting, result.n_records_checked) == ("mixed", 1, 1, 3)
    only_silent = reconcile_claim(claim, records[2:], extracted, kb)
    assert only_silent.verdict == "no_evidence"
    assert reconcile_claim(claim, records[2:], extracted, kb, missing_cited=True).verdict == "not_checked"
    assert reconcile_claim(claim, [], extracted, kb).verdict == "not_checked"


def test_verdict_table():
    assert verdict_for(2, 0, 3, False) == "supported"
    assert verdict_for(0, 1, 3, True) == "contradicted"
    assert verdict_for(0, 0, 3, True) == "not_checked"
