"""A run's records kept in its folder, and `litmine export` writing them as BioC JSON or PubTator."""
import gzip
import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from flows.cli import app
from pipeline.datatypes import Notice, Record, Section
from pipeline.entities.dictionary import DictionaryTagger
from pipeline.outputs.interchange import pubtator
from pipeline.outputs.run_records import (RECORDS_FILE, RunDirError, annotate, export_run, read_run_records,
                                          write_run_records)
from pipeline.relations.triggers import TriggerExtractor
from pipeline.verdicts.evidence import extract_record

runner = CliRunner()

ABSTRACT = Record(uid="pmid:31234567", pmid="31234567", year=2019, source="pubmed",
                  title="Sertraline inhibits Kir4.1 channels in astrocytes.",
                  abstract="Kir4.1 loss causes epilepsy.\u2028Fluoxetine treats depression.",
                  authors=["Smith J"], notices=[Notice("RetractionIn", "90000001", "J. 2020;1:2")])
FULL_TEXT = Record(uid="pmc:PMC42", pmcid="PMC42", source="pmc", title="Fluoxetine and Kv1.5.",
                   abstract="Fluoxetine inhibits Kv1.5.",
                   sections=[Section("Results", "Sertraline did not inhibit Kv1.5 in oocytes."),
                             Section("", "Sertraline may cause sexual dysfunction.")])


@pytest.fixture(scope="module")
def extraction(kb):
    tagger, extractor = DictionaryTagger(kb), TriggerExtractor()
    return {r.uid: extract_record(r, tagger, extractor) for r in (ABSTRACT, FULL_TEXT)}


@pytest.fixture()
def run_dir(tmp_path, extraction):
    folder = tmp_path / "run"
    write_run_records(folder, {r.uid: r for r in (FULL_TEXT, ABSTRACT)}, extraction)
    (folder / "claims.csv").write_text("document\n")
    return folder


def test_the_records_and_their_extraction_come_back_as_written(run_dir, extraction, tmp_path):
    assert read_run_records(run_dir) == [(FULL_TEXT, extraction[FULL_TEXT.uid]), (ABSTRACT, extraction[ABSTRACT.uid])]
    again = write_run_records(tmp_path / "again", {r.uid: r for r in (ABSTRACT, FULL_TEXT)}, dict(extraction))
    assert again.read_bytes() == (run_dir / RECORDS_FILE).read_bytes()  # same run, same bytes


def test_mentions_and_relations_run_over_the_records_full_text(extraction):
    annotated = annotate(FULL_TEXT, extraction[FULL_TEXT.uid])
    text = FULL_TEXT.full_text
    assert [text[m.start:m.end] for m in annotated.mentions] == [m.text for m in annotated.mentions]
    assert [m.text for m in annotated.mentions] == ["Fluoxetine", "Kv1.5", "Fluoxetine", "Kv1.5", "Sertraline",
                                                    "Kv1.5", "Sertraline", "sexual dysfunction"]
    assert all(text[r.subject.start:r.subject.end] == r.subject.text for r in annotated.relations)


def test_bioc_holds_every_passage_and_pubtator_the_title_and_abstract(run_dir):
    collection = json.loads(export_run(run_dir, "bioc").text)
    documents = {d["id"]: d for d in collection["documents"]}
    assert list(documents) == ["pmc:PMC42", "31234567"]  # in uid order
    passages = documents["pmc:PMC42"]["passages"]
    assert [(p["infons"]["type"], p["text"]) for p in passages] == [
        ("title", "Fluoxetine and Kv1.5."), ("abstract", "Fluoxetine inhibits Kv1.5."),
        ("section", "Results\nSertraline did not inhibit Kv1.5 in oocytes."),
        ("section", "Sertraline may cause sexual dysfunction.")]
    for passage in passages:
        for annotation in passage["annotations"]:
            start = annotation["locations"][0]["offset"] - passage["offset"]
            assert passage["text"][start:start + annotation["locations"][0]["length"]] == annotation["text"]
    relations = {(r["infons"]["type"], r["infons"]["entity1"], r["infons"]["entity2"], r["infons"]["negated"],
                  r["infons"]["hedged"]) for r in documents["pmc:PMC42"]["relations"]}
    assert relations == {("inhibits", "DrugBank:DB00472", "HGNC:6224", "false", "false"),
                         ("inhibits", "DrugBank:DB01104", "HGNC:6224", "true", "false"),
                         ("causes", "DrugBank:DB01104", "MESH:D012735", "false", "true")}

    exported = export_run(run_dir, "pubtator")
    assert exported.skipped == ["pmc:PMC42"] and exported.written == 1
    lines = exported.text.split("\n")  # not splitlines(): the abstract holds a U+2028
    assert lines[:2] == ["31234567|t|Sertraline inhibits Kir4.1 channels in astrocytes.",
                         "31234567|a|Kir4.1 loss causes epilepsy.\u2028Fluoxetine treats depression."]
    assert "31234567\tinhibits\tDrugBank:DB01104\tHGNC:6256" in lines


def test_pubtator_leaves_out_what_the_body_says(extraction):
    lines = pubtator([annotate(replace(FULL_TEXT, pmid="42"), extraction[FULL_TEXT.uid])]).splitlines()
    assert [line.split("\t")[3] for line in lines[2:]] == ["Fluoxetine", "Kv1.5", "Fluoxetine", "Kv1.5", "HGNC:6224"]


def test_litmine_export_writes_a_file_or_standard_output(run_dir, tmp_path):
    printed = runner.invoke(app, ["export", "--format", "bioc", str(run_dir)])
    assert printed.exit_code == 0, printed.output
    assert len(json.loads(printed.stdout)["documents"]) == 2
    out = tmp_path / "exported" / "run.PubTator"
    written = runner.invoke(app, ["export", "--format", "pubtator", "--out", str(out), str(run_dir)])
    assert written.exit_code == 0, written.output
    assert "pmc:PMC42: left out, PubTator needs a numeric PMID" in written.stderr
    assert out.read_text().startswith("31234567|t|")


def test_a_folder_that_is_no_run_is_one_clear_error_naming_it(run_dir, tmp_path):
    def error(*args):
        result = runner.invoke(app, ["export", *args])
        assert result.exit_code == 2 and "Traceback" not in result.output
        return result.stderr

    assert f"{tmp_path / 'nowhere'}: no such folder" in error("--format", "bioc", str(tmp_path / "nowhere"))
    assert f"{tmp_path}: not a litmine run folder" in error("--format", "bioc", str(tmp_path))
    (run_dir / RECORDS_FILE).unlink()
    assert "run it again" in error("--format", "bioc", str(run_dir))
    assert "unknown format 'xml'" in error("--format", "xml", str(run_dir))
    (run_dir / RECORDS_FILE).write_bytes(gzip.compress(b'{"record": {}}\n'))
    assert f"{run_dir / RECORDS_FILE}:1: not a record litmine wrote" in error("--format", "bioc", str(run_dir))
    (run_dir / RECORDS_FILE).write_text("plain text")
    with pytest.raises(RunDirError, match="not a file litmine wrote"):
        read_run_records(run_dir)
