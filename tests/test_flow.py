"""The evidence-check flow end to end, offline, on a small store and the shared documents."""
import csv
from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.datatypes import VERDICTS
from pipeline.outputs.run_records import export_run
from pipeline.records.store import Store

SHARED = load_settings().shared

NOTE = """Kir4.1 notes

Sertraline inhibits Kir4.1 channels in astrocytes [1]. Fluoxetine activates Kir4.1 channels [2].

References
1. PMID: 99000001
2. PMID: 99000002
"""


@pytest.fixture()
def workspace(tmp_path, data_dir):
    note = tmp_path / "note.txt"
    note.write_text(NOTE)
    return tmp_path, note


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_offline_run_gives_every_claim_a_verdict(harness, workspace):
    from flows.evidence_check import evidence_check

    tmp, note = workspace
    docs = [str(note), str(SHARED / "documents" / "pssd-glutamate.txt"),
            str(SHARED / "documents" / "ssri-blunted-affect.txt")]
    paths = evidence_check(docs, out=str(tmp / "out"), offline=True)
    assert sorted(Path(p).name for p in paths) == ["citations.csv", "claims.csv", "evidence.csv", "records.jsonl.gz",
                                                   "references.csv", "report.html", "triples.csv"]
    claims = read(tmp / "out" / "claims.csv")
    assert claims and all(row["verdict"] in VERDICTS for row in claims)

    by_subject = {(r["document"], r["subject"]): r for r in claims if r["document"] == "note"}
    supported = by_subject[("note", "Sertraline")]
    assert (supported["verdict"], supported["evidence_pmids"], supported["cited_pmids"]) == ("supported", "99000001",
                                                                                             "99000001")
    missing = by_subject[("note", "Fluoxetine")]
    assert missing["verdict"] == "not_checked"
    assert missing["note"] == "cited records unavailable; searched offline: the local store only"

    citations = {(r["document"], r["sentence_index"], r["marker"]): r for r in read(tmp / "out" / "citations.csv")}
    backed = citations[("note", supported["sentence_index"], "1")]
    assert (backed["citation"], backed["pmid"], backed["reason"]) == ("accurate", "99000001", "the paper says so")
    assert backed["evidence_sentence"] and float(backed["confidence"]) > 0
    unread = citations[("note", missing["sentence_index"], "2")]
    assert (unread["citation"], unread["evidence_sentence"], unread["confidence"]) == ("unverifiable", "", "")

    references = {(r["document"], r["marker"]): r for r in read(tmp / "out" / "references.csv")}
    assert references[("note", "1")]["status"] == "resolved"
    assert references[("note", "2")]["status"] == "unavailable"
    assert references[("pssd-glutamate", "PMC4335176")]["status"] == "unavailable"

    sertraline = {r["object_id"] for r in claims if r["document"] == "pssd-glutamate" and r["subject"] == "Sertraline"}
    assert {"HGNC:6256", "HGNC:6224"} <= sertraline  # KCNJ10 (Kir4.1), KCNA5 (Kv1.5)

    evidence = [r for r in read(tmp / "out" / "evidence.csv") if r["claim_id"] == supported["claim_id"]]
    first = evidence[0]
    assert (first["species"], first["study_type"], first["year"]) == ("animal (rat);in vitro", "animal study", "2015")
    triples = read(tmp / "out" / "triples.csv")
    assert any(t["pmid"] == "99000001" and t["target_id"] == "HGNC:6256" and t["target_relation"] == "inhibits"
               and t["extractor"] == "relation-model:drugprot" for t in triples)  # read by the trained model
    assert all(t["extractor"].startswith("relation-model:") for t in triples)

    exported = export_run(tmp / "out", "pubtator")  # the records the run read, as the run read them
    assert "99000001\tinhibits\tDrugBank:DB01104\tHGNC:6256" in exported.text.split("\n")


def test_one_unreadable_document_does_not_stop_the_others(harness, workspace):
    """The readable documents are checked and written; the run then fails naming the bad one."""
    from flows.evidence_check import evidence_check
    from pipeline.documents.reading import DocumentError

    tmp, note = workspace
    binary = tmp / "scan.txt"
    binary.write_bytes(b"\x00\x01\x02PDF-ish\x00" * 20)
    with pytest.raises(DocumentError, match=r"(?s)2 of 3 documents could not be read .*\n.*scan.txt: binary content.*"
                                             r"\n.*missing.md: no such file"):
        evidence_check([str(note), str(binary), str(tmp / "missing.md")], out=str(tmp / "partial"), offline=True)
    assert {r["document"] for r in read(tmp / "partial" / "claims.csv")} == {"note"}
    with pytest.raises(DocumentError, match="no document could be read"):
        evidence_check([str(binary)], out=str(tmp / "none"), offline=True)
    assert not (tmp / "none").exists()


def test_same_named_documents_keep_their_own_references(harness, workspace):
    """a/note.txt's [1] and b/note.md's [1] cite different papers, and each claim keeps its own."""
    from flows.evidence_check import evidence_check

    tmp, _ = workspace
    for folder, suffix, pmid in (("a", ".txt", "99000001"), ("b", ".md", "99000002")):
        (tmp / folder).mkdir()
        (tmp / folder / f"note{suffix}").write_text(f"Sertraline inhibits Kir4.1 channels [1].\n\n"
                                                    f"References\n1. PMID: {pmid}\n")
    evidence_check([str(tmp / "a" / "note.txt"), str(tmp / "b" / "note.md")], out=str(tmp / "twins"), offline=True)
    cited = {(r["document"], r["cited_pmids"]) for r in read(tmp / "twins" / "claims.csv")}
    assert cited == {("a/note", "99000001"), ("b/note", "99000002")}
    assert {(r["document"], r["pmid"]) for r in read(tmp / "twins" / "references.csv")} == cited


def test_online_run_fetches_cited_records_and_searches_for_uncited_claims(harness, workspace, fake_eutils,
                                                                        monkeypatch):
    from flows.evidence_check import evidence_check

    tmp, _ = workspace
    monkeypatch.setenv("LITMINE_EUTILS_URL", fake_eutils.url)
    monkeypatch.setenv("NCBI_EMAIL", "tests@example.org")
    note = tmp / "online.txt"
    note.write_text("Sertraline inhibits Kir4.1 channels [1].\n\nFluoxetine inhibits Kv1.5 channels.\n\n"
                    "References\n1. PMID: 31415926\n")
    evidence_check([str(note)], out=str(tmp / "online"))
    references = read(tmp / "online" / "references.csv")
    assert [(r["marker"], r["pmid"], r["status"]) for r in references] == [("1", "31415926", "resolved")]
    assert fake_eutils.requests("efetch") and fake_eutils.requests("esearch")
    claims = {r["subject"]: r for r in read(tmp / "online" / "claims.csv")}
    assert claims["Sertraline"]["cited_pmids"] == "31415926"
    assert claims["Sertraline"]["verdict"] == "no_evidence"  # the served record is about something else
    assert int(claims["Fluoxetine"]["n_records_checked"]) > 0
    with Store(tmp / "data" / "litmine.sqlite") as store:
        assert store.get_by_pmid("31415926") is not None  # fetched records land in the store


def test_a_recheck_after_a_cited_paper_is_retracted_says_so(harness, workspace, fake_eutils, monkeypatch):
    """The real record, then PubMed's retraction of it (a variant of the same file): the re-check
    with --refresh lists the citation as newly retracted, and the paper no longer counts."""
    from entrez_variants import variant

    from flows.evidence_check import evidence_check

    tmp, _ = workspace
    monkeypatch.setenv("LITMINE_EUTILS_URL", fake_eutils.url)
    monkeypatch.setenv("NCBI_EMAIL", "tests@example.org")
    note = tmp / "cited.txt"
    note.write_text("Sertraline inhibits Kir4.1 channels [1].\n\nReferences\n1. PMID: 27797938\n")
    evidence_check([str(note)], out=str(tmp / "first"))
    assert not (tmp / "first" / "changes.csv").exists()
    fake_eutils.serve(variant("pubmed4-retracted.xml"))
    evidence_check([str(note)], out=str(tmp / "recheck"), refresh=True)
    references = read(tmp / "recheck" / "references.csv")
    assert [(r["marker"], r["reference_check"]) for r in references] == [("1", "retracted")]
    changes = read(tmp / "recheck" / "changes.csv")
    assert ("newly_retracted", "1") in {(c["change"], c["detail"]) for c in changes}
