"""The CSV tables: their columns (the README's contract) and how strength and checks are written."""
import csv

import pytest

from pipeline.datatypes import (Claim, ClaimResult, DocSentence, EvidenceItem, ExtractedRecord, Mention, Record,
                                Relation, ResolvedReference)
from pipeline.outputs.export import (CITATION_COLUMNS, CLAIM_COLUMNS, EVIDENCE_COLUMNS, REFERENCE_COLUMNS,
                                     TRIPLE_COLUMNS, write_tables)
from pipeline.outputs.files import write_csv
from pipeline.verdicts.calibration import load_calibration
from pipeline.verdicts.strength import assess, claim_scope, weigh

SENTENCE = "Sertraline inhibits Kir4.1 [1]."


def relation(negated: bool = False) -> Relation:
    return Relation(Mention(0, 10, "Sertraline", "Chemical", "DrugBank:DB01104"), "inhibits",
                    Mention(20, 26, "Kir4.1", "Gene", "HGNC:6256"), SENTENCE, 0, negated=negated, confidence=0.8,
                    extractor="trigger-baseline")


def read(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_columns_and_strength(tmp_path):
    claim = Claim("note", "note:0:0", DocSentence(0, SENTENCE, 0, len(SENTENCE), "Channels", ["1", "2"]), relation())
    cited = Record(uid="pmid:1", pmid="1", year=2012, mesh_terms=["Animals", "Rats"],
                   publication_types=["Journal Article"])
    review = Record(uid="pmid:2", pmid="2", year=2019, title="Antidepressants and glia: a review",
                    abstract="Studies in patients and in cultured astrocytes.")
    rats, reviewed = (weigh(assess(r), claim_scope(claim)) for r in (cited, review))  # as the verifier sets them
    evidence = [EvidenceItem(claim.claim_id, cited, "supports", relation(), strength=rats),
                EvidenceItem(claim.claim_id, cited, "supports", relation(), strength=rats),
                EvidenceItem(claim.claim_id, review, "contradicts", relation(negated=True), strength=reviewed)]
    result = ClaimResult(claim, "mixed", 1, 1, 2, evidence, confidence=0.5, citations_say="supports")
    references = [ResolvedReference("note", "1", "PMID: 1", "1", None, None, "pmid", "resolved", record=cited),
                  ResolvedReference("note", "2", "PMID: 2", "2", None, None, "pmid", "unavailable", "offline")]
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [relation()])}
    paths = write_tables(tmp_path, [result], references, {"pmid:1": cited}, extracted)
    headers = {p.name: next(csv.reader(p.open())) for p in paths}
    assert headers == {"claims.csv": CLAIM_COLUMNS, "evidence.csv": EVIDENCE_COLUMNS,
                       "triples.csv": TRIPLE_COLUMNS, "references.csv": REFERENCE_COLUMNS,
                       "citations.csv": CITATION_COLUMNS}
    assert CLAIM_COLUMNS[-5:] == ["kind", "entities", "verdict_confidence", "citations_say",
                                  "verdict_confidence_raw"]  # new columns go last
    assert REFERENCE_COLUMNS[-3:] == ["check", "reference_check", "reference_check_detail"]

    (row,) = read(tmp_path / "claims.csv")
    assert (row["n_papers"], row["species"], row["publication_types"], row["years"], row["extractor"]) == (
        "2", "animal:1;human:1;in vitro:1", "primary study:1;review:1", "2012-2019", "trigger-baseline")
    assert row["citations"] == "1;2" and row["cited_pmids"] == "1;2"
    assert (row["kind"], row["verdict_confidence_raw"], row["citations_say"]) == ("triple", "0.5", "supports")
    # the verdict's confidence through the committed calibration, for a mixed verdict on cited records
    assert float(row["verdict_confidence"]) == round(load_calibration().probability(0.5, "mixed", True), 3)
    assert {(r["stance"], r["signal"], r["found_by"]) for r in read(tmp_path / "evidence.csv")} == {
        ("supports", "triple", "cited"), ("contradicts", "triple", "cited")}
    assert EVIDENCE_COLUMNS[-4:] == ["study_type", "strength_basis", "weight", "weight_reason"]  # new columns go last
    strengths = {tuple(r[c] for c in ("pmid", "species", "publication_type", "study_type", "strength_basis", "weight",
                                      "weight_reason")) for r in read(tmp_path / "evidence.csv")}
    assert strengths == {("1", "animal (rat)", "primary study", "animal study", 'MeSH "Rats"', "1.0", ""),
                         ("2", "human;in vitro", "review", "review", 'title "review"; abstract "patients", "cultured"',
                          "0.7", "review")}  # a claim about a drug's target: the animal study counts in full
    checks = {r["marker"]: r["check"] for r in read(tmp_path / "references.csv")}
    assert checks == {"1": "supports", "2": "unavailable"}


def test_no_cell_is_a_formula_and_numbers_stay_numbers(tmp_path):
    """A reference line such as "=HYPERLINK(...)" is shown as text by a spreadsheet (OWASP's
    CSV-injection advice), wherever such text comes from; negative numbers are left alone."""
    rows = [{"text": '=HYPERLINK("http://x.example","click")', "n": -1},
            {"text": "+1 and -2", "n": 0.5}, {"text": "@SUM(A1)", "n": 2}, {"text": "\tcmd", "n": 3},
            {"text": "plain - text", "n": 4}]
    write_csv(tmp_path / "t.csv", ["text", "n"], rows)
    assert [(r["text"], r["n"]) for r in read(tmp_path / "t.csv")] == [
        ("'=HYPERLINK(\"http://x.example\",\"click\")", "-1"), ("'+1 and -2", "0.5"), ("'@SUM(A1)", "2"),
        ("'\tcmd", "3"), ("plain - text", "4")]


def test_an_interrupted_write_leaves_the_last_whole_file(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["a"], [{"a": "before"}])

    def rows():
        yield {"a": "partial"}
        raise KeyboardInterrupt  # killed mid-write

    with pytest.raises(KeyboardInterrupt):
        write_csv(path, ["a"], rows())
    assert read(path) == [{"a": "before"}]
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]  # no temporary file left behind


def test_a_temporary_file_a_killed_writer_left_is_removed_by_the_next_write(tmp_path):
    """SIGKILL runs no cleanup: the writer's temporary file stays until the file is written again.
    A live writer's (this process's pid, here a stand-in) is left alone."""
    import os
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()  # a process id that no longer runs
    abandoned = tmp_path / f".t.csv.{gone.pid}.tmp"
    abandoned.write_text("a\npart")
    live = tmp_path / f".t.csv.{os.getppid()}.tmp"
    live.write_text("a\n")
    write_csv(tmp_path / "t.csv", ["a"], [{"a": "whole"}])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["t.csv", live.name])
    assert read(tmp_path / "t.csv") == [{"a": "whole"}]


def test_text_files_are_written_whole_too(tmp_path):
    from pipeline.outputs.files import write_text

    path = write_text(tmp_path / "sub" / "state.json", '{"pid": 1}')
    assert path.read_text() == '{"pid": 1}' and [p.name for p in path.parent.iterdir()] == ["state.json"]
