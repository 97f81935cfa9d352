"""The pharma verdict benchmark: claims written from gold relations, and their scoring; then
`litmine evaluate verdicts` end to end on the reduced models."""
import json

import pytest
from typer.testing import CliRunner

from pipeline.datatypes import GoldDocument, GoldEntity, GoldRelation
from pipeline.documents.reading import parse_document
from pipeline.evaluation.pharma import PharmaClaim, claims_document, pharma_claims, score, verdicts_given
from pipeline.records.store import Store

KIR = GoldDocument("drugprot", "dev", "111", "Sertraline inhibited Kir4.1 currents in astrocytes.", entities=[
    GoldEntity("T1", 0, 10, "Sertraline", "CHEMICAL"), GoldEntity("T2", 21, 27, "Kir4.1", "GENE-Y")],
    relations=[GoldRelation("INHIBITOR", "T1", "T2")])
BDNF = GoldDocument("drugprot", "dev", "222", "Fluoxetine increased the expression of BDNF in rats.", entities=[
    GoldEntity("T1", 0, 10, "Fluoxetine", "CHEMICAL"), GoldEntity("T2", 39, 43, "BDNF", "GENE-Y"),
    GoldEntity("T3", 47, 51, "rats", "SPECIES")],
    relations=[GoldRelation("INDIRECT-UPREGULATOR", "T1", "T3"),  # a species is no target: not a claim
               GoldRelation("INDIRECT-UPREGULATOR", "T1", "T2")])


@pytest.fixture()
def store(tmp_path):
    with Store(tmp_path / "store.sqlite") as store:
        store.add_gold_documents([KIR, BDNF])
        yield store


def test_each_relation_gives_a_true_a_flipped_and_an_unrelated_claim(store):
    claims = pharma_claims(store, "drugprot", "dev")
    assert [(c.pmid, c.kind, c.subject, c.verb, c.object) for c in claims] == [
        ("111", "true", "Sertraline", "inhibits", "Kir4.1"),
        ("111", "flipped", "Sertraline", "activates", "Kir4.1"),
        ("111", "unrelated", "Sertraline", "inhibits", "BDNF"),
        ("222", "true", "Fluoxetine", "increases", "BDNF"),
        ("222", "flipped", "Fluoxetine", "decreases", "BDNF"),
        ("222", "unrelated", "Fluoxetine", "increases", "Kir4.1")]
    assert [c.expected for c in claims[:3]] == ["supported", "contradicted", "no_evidence"]
    with pytest.raises(ValueError, match="no drugprot test relations"):
        pharma_claims(store, "drugprot", "test")


def test_a_later_sample_starts_after_the_documents_skipped_and_draws_its_unrelated_claims_from_itself(store):
    claims = pharma_claims(store, "drugprot", "dev", limit=1, start=1)
    assert [(c.pmid, c.kind, c.verb) for c in claims] == [("222", "true", "increases"), ("222", "flipped", "decreases")]
    assert [c.pmid for c in pharma_claims(store, "drugprot", "dev", limit=1)] == ["111", "111"]
    with pytest.raises(ValueError, match="2 documents or fewer"):
        pharma_claims(store, "drugprot", "dev", start=2)


def test_the_claims_document_cites_each_claims_paper_from_its_own_sentence(store):
    claims = pharma_claims(store, "drugprot", "dev")
    document = parse_document(claims_document(claims), "pharma.txt")
    cited = {s.index: s.markers for s in document.sentences if s.markers}
    assert cited == {i: [str(i)] for i in range(1, len(claims) + 1)}
    assert [document.references[str(i)].pmid for i in cited] == [c.pmid for c in claims]


def test_scores_count_missing_claims_as_wrong_and_opposite_verdicts_apart():
    claims = [PharmaClaim("drugprot", "1", kind, "X", "inhibits", "Y") for kind in ("true", "flipped", "unrelated")] * 2
    rows = [{"sentence_index": "1", "object": "Y", "verdict": "supported"},
            {"sentence_index": "2", "object": "something else", "verdict": "no_evidence"},
            {"sentence_index": "2", "object": "Y", "verdict": "supported"},  # the row about its object counts
            {"sentence_index": "3", "object": "Y", "verdict": "no_evidence"},
            {"sentence_index": "4", "object": "Y", "verdict": "contradicted"},
            {"sentence_index": "6", "object": "Y", "verdict": "no_evidence"}]  # sentence 5 gave no claim
    given = verdicts_given(claims, rows)
    assert given == ["supported", "supported", "no_evidence", "contradicted", "", "no_evidence"]
    figures = score(claims, given, "drugprot", "dev")
    assert (figures.claims, figures.claims_extracted, figures.accuracy) == (6, round(5 / 6, 4), 0.5)
    assert figures.opposite_rate == 0.5  # of the four true or flipped claims, two got the opposite verdict
    assert figures.per_kind["flipped"] == {"supported": 1, "no claim": 1}


@pytest.mark.slow
def test_evaluate_verdicts_runs_the_flow_on_generated_claims(harness, trained, monkeypatch, tmp_path):
    from flows.cli import app

    monkeypatch.setenv("LITMINE_DATA", str(trained.data))
    monkeypatch.setenv("LITMINE_MODELS", str(trained.models))
    result = CliRunner().invoke(app, ["evaluate", "verdicts", "--limit", "2", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["claims"] == 18 and set(figures["per_corpus"]) == {"biored", "bc5cdr", "drugprot"}
    assert all(0 <= figures[k] <= 1 for k in ("claims_extracted", "accuracy", "claim_macro_f1", "opposite_rate"))
    assert figures["claims_extracted"] > 0.5  # most generated sentences are read as claims
    assert (tmp_path / "run" / "claims.csv").is_file()


def test_start_is_refused_where_it_skips_nothing(monkeypatch, tmp_path):
    from flows.cli import app

    monkeypatch.setenv("LITMINE_DATA", str(tmp_path))
    result = CliRunner().invoke(app, ["evaluate", "verdicts", "--corpus", "scifact", "--start", "100",
                                      "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and "--start skips pharma documents" in result.output
