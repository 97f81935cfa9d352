"""litmine's annotations written as BioC JSON and PubTator and read back by litmine's importer."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from pipeline.datatypes import Mention, Record, Relation
from pipeline.records.importers import import_paths
from pipeline.outputs.interchange import AnnotatedRecord, bioc_json, pubtator, write_bioc_json, write_pubtator
from pipeline.records.store import Store

TITLE = "Sertraline inhibits Kir4.1 channels in astrocytes."
ABSTRACT = ("Sertraline did not inhibit Kv1.5.\nFluoxetine may cause sexual dysfunction "
            "by blocking Kir4.1 (KCNJ10).")


def _mention(text: str, needle: str, type_: str, id_: str, nth: int = 1) -> Mention:
    start = -1
    for _ in range(nth):
        start = text.index(needle, start + 1)
    return Mention(start, start + len(needle), needle, type_, id_, needle.upper())


@pytest.fixture
def annotated() -> AnnotatedRecord:
    record = Record(uid="pmid:31234567", title=TITLE, abstract=ABSTRACT, pmid="31234567")
    text = record.text
    sertraline = _mention(text, "Sertraline", "Chemical", "DrugBank:DB01104")
    kir = _mention(text, "Kir4.1", "Gene", "HGNC:6256")
    mentions = [sertraline, kir, _mention(text, "Sertraline", "Chemical", "DrugBank:DB01104", 2),
                _mention(text, "Kv1.5", "Gene", "HGNC:6224"),
                _mention(text, "Fluoxetine", "Chemical", "DrugBank:DB00472"),
                _mention(text, "sexual dysfunction", "Disease", "MESH:D020018"),
                _mention(text, "Kir4.1", "Gene", "HGNC:6256", 2), _mention(text, "KCNJ10", "Gene", "HGNC:6256")]
    relations = [
        Relation(sertraline, "inhibits", kir, TITLE, 0, confidence=0.9),
        Relation(mentions[2], "inhibits", mentions[3], "Sertraline did not inhibit Kv1.5.", 1, negated=True,
                 confidence=0.8),
        Relation(mentions[4], "causes", mentions[5], "", 2, hedged=True, confidence=0.6),
    ]
    return AnnotatedRecord(record, mentions, relations)


def _read_back(path, tmp_path):
    store = Store(tmp_path / "store.sqlite")
    report = import_paths([path], store, progress=False)
    assert not report.errors, report.errors
    (document,) = store.gold_documents("biored", "test")
    return store, document


@pytest.mark.parametrize("write, name, lines", [(write_bioc_json, "litmine_test.BioC.json", False),
                                                (write_pubtator, "litmine_test.PubTator", True)])
def test_round_trip_through_litmines_importer(write, name, lines, annotated, tmp_path):
    """Texts, mentions (offsets, type, KB id) and relations come back as written; PubTator
    has one line per passage, so a newline comes back as a space, at the same offset."""
    folder = tmp_path / "biored"
    folder.mkdir()
    store, document = _read_back(write(folder / name, [annotated]), tmp_path)
    newline = " " if lines else "\n"
    assert document.doc_id == "31234567" and document.text == annotated.record.text.replace("\n", newline)
    assert [(e.start, e.end, e.text, e.type, e.identifiers) for e in document.entities] == sorted(
        (m.start, m.end, m.text, m.type, m.id) for m in annotated.mentions)
    assert {(r.type, r.arg1, r.arg2) for r in document.relations} == {
        ("inhibits", "DrugBank:DB01104", "HGNC:6256"), ("inhibits", "DrugBank:DB01104", "HGNC:6224"),
        ("causes", "DrugBank:DB00472", "MESH:D020018")}
    record = store.get_by_pmid("31234567")
    assert (record.title, record.abstract) == (TITLE, ABSTRACT.replace("\n", newline))


def test_bioc_keeps_negation_hedging_and_confidence(annotated):
    relations = {r["infons"]["entity2"]: r["infons"] for r in bioc_json([annotated])["documents"][0]["relations"]}
    assert relations["HGNC:6224"]["negated"] == "true" and relations["MESH:D020018"]["hedged"] == "true"
    assert relations["HGNC:6256"]["confidence"] == "0.9"
    json.dumps(bioc_json([annotated]))  # serializable as is


def test_bioc_names_a_genes_organism_where_known(annotated):
    annotated.mentions[1] = replace(annotated.mentions[1], species="NCBITaxon:10116", species_gene_id="29718")
    infons = [a["infons"] for p in bioc_json([annotated])["documents"][0]["passages"] for a in p["annotations"]]
    assert infons[1] == {"type": "Gene", "identifier": "HGNC:6256", "name": "KIR4.1",
                         "species": "NCBITaxon:10116", "ncbi_gene": "29718"}
    assert "species" not in infons[0]


def test_pubtator_needs_a_pmid(annotated):
    annotated.record.pmid = None
    with pytest.raises(ValueError, match="PMID"):
        pubtator([annotated])
