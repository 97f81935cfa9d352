"""What changed between two runs over the same documents, claim by claim."""
from dataclasses import replace

from pipeline.datatypes import (Claim, ClaimResult, DocSentence, Mention, Notice, Record, Relation,
                                ResolvedReference)
from pipeline.outputs.runs import diff, snapshot


def result_citing(record: Record, verdict: str = "supported") -> tuple[ClaimResult, ResolvedReference]:
    sentence = DocSentence(0, "Sertraline inhibits Kir4.1 [1].", 0, 31, "", ["1"])
    rel = Relation(Mention(0, 10, "Sertraline", "Chemical", "DrugBank:DB01104"), "inhibits",
                   Mention(20, 26, "Kir4.1", "Gene", "HGNC:6256"), sentence.text, 0)
    result = ClaimResult(Claim("note", "note:0:0", sentence, rel), verdict, 1, 0, 1, [])
    return result, ResolvedReference("note", "1", "PMID: 1", "1", None, None, "pmid", "resolved", record=record)


def pair(record: Record, verdict: str = "supported") -> tuple[list[ClaimResult], list[ResolvedReference]]:
    result, reference = result_citing(record, verdict)
    return [result], [reference]


def test_a_cited_paper_retracted_since_the_last_run_is_a_change():
    clean = Record(uid="pmid:1", pmid="1", title="t", publication_types=["Journal Article"])
    retracted = replace(clean, publication_types=["Journal Article", "Retracted Publication"],
                        notices=[Notice("RetractionIn", "90000001")])
    before = snapshot(*pair(clean))
    after = snapshot(*pair(retracted, "no_evidence"))
    assert after[0].standing == ["1:retracted"]
    changes = [(c.change, c.previous_verdict, c.verdict, c.detail) for c in diff(before, after)]
    assert changes == [("verdict_changed", "supported", "no_evidence", ""),
                       ("newly_retracted", "supported", "no_evidence", "1")]
    assert diff(after, after) == []  # said once, not on every later run


def test_an_erratum_and_an_expression_of_concern_are_changes_of_their_own():
    clean = Record(uid="pmid:1", pmid="1", title="t")
    corrected = replace(clean, notices=[Notice("ErratumIn", "90000004")])
    doubted = replace(clean, notices=[Notice("ExpressionOfConcernIn", "90000002")])
    before = snapshot(*pair(clean))
    for record, kind in ((corrected, "newly_corrected"), (doubted, "newly_under_concern")):
        after = snapshot(*pair(record))
        assert [(c.change, c.detail) for c in diff(before, after)] == [(kind, "1")]


def test_changes_csv_is_written_only_where_there_is_an_earlier_run(tmp_path):
    """A run with nothing to compare with leaves no changes.csv, not even one an earlier run into
    the same folder wrote."""
    from pipeline.outputs.runs import write_changes

    path = tmp_path / "changes.csv"
    assert write_changes(path, []) == path and path.read_text().startswith("document,claim_id")
    assert write_changes(path, None) is None and not path.exists()
