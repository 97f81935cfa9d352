"""Which species a gene mention is about, on hand-written texts, and GtoPdb's rodent orthologs."""
from __future__ import annotations

import pytest

from pipeline.config import load_settings
from pipeline.entities.species import HUMAN, MOUSE, RAT, Orthologs, SpeciesContext, SpeciesMention, species_cues


def taxa(text: str, gene: str, tagged: list[SpeciesMention] = ()) -> list[str]:
    """The species decided for each occurrence of `gene` in `text`."""
    context = SpeciesContext.find(text, tagged)
    starts = [i for i in range(len(text)) if text.startswith(gene, i)]
    return [context.taxon(start, start + len(gene)) for start in starts]


def test_cue_words_name_human_mouse_and_rat() -> None:
    text = "Wistar rats, C57BL/6 mice and patients; rationale aside."
    assert [(text[m.start:m.end], m.taxon) for m in species_cues(text)] == [
        ("Wistar", RAT), ("rats", RAT), ("C57BL/6", MOUSE), ("mice", MOUSE), ("patients", HUMAN)]


def test_the_nearest_species_in_the_sentence_decides() -> None:
    text = "TNF in patients. Here mouse Tnf rose while human TNF fell. Serum Pemt was low in knockout mice."
    assert taxa(text, "TNF") == [HUMAN, HUMAN]  # "patients" in its sentence; the prefix "human"
    assert taxa(text, "Tnf") == [MOUSE]  # its prefix is nearer than the "human" after it
    assert taxa(text, "Pemt") == [MOUSE]  # the species may follow the gene


def test_without_one_in_the_sentence_the_document_decides() -> None:
    assert taxa("Tnf in rat liver. Patients and more patients. Tnf rose.", "Tnf") == [RAT, RAT]  # the title's
    assert taxa("Tnf rose. Mice and rats, then mice again. Tnf fell.", "Tnf") == [MOUSE, MOUSE]  # the most mentioned
    assert taxa("Tnf rose. Patients were seen. Rats were treated. Tnf fell.", "Tnf") == [RAT, RAT]  # a tie: the rodent
    assert taxa("Tnf rose. Tnf fell.", "Tnf") == [HUMAN, HUMAN]  # no species at all


def test_tagged_species_count_except_those_without_gene_ids() -> None:
    text = "Tnf rose in the knockouts. Tnf fell in zebrafish."
    knockouts = SpeciesMention(text.index("knockouts"), text.index("knockouts") + 9, MOUSE)
    zebrafish = SpeciesMention(text.index("zebrafish"), text.index("zebrafish") + 9, "NCBITaxon:7955")
    assert taxa(text, "Tnf", [knockouts]) == [MOUSE, MOUSE]
    assert taxa(text, "Tnf", [zebrafish]) == [HUMAN, HUMAN]  # litmine has no zebrafish genes


def test_gtopdb_orthologs_of_human_concepts() -> None:
    shared = load_settings().shared
    if not (shared / "vocab").is_dir():
        pytest.skip(f"no shared vocabularies at {shared}")
    orthologs = Orthologs.from_gtopdb(shared)
    kcnj10 = "HGNC:6256"  # Kir4.1
    assert (orthologs.gene_id(kcnj10, MOUSE), orthologs.gene_id(kcnj10, RAT), orthologs.gene_id(kcnj10, HUMAN)) == (
        "16513", "29718", "")
    assert orthologs.gene_id("HGNC:336", MOUSE) == "11607"  # AGTR1: Agtr1a, GtoPdb lists "11608|11607"
    assert orthologs.human_concepts()["29718"] == kcnj10
    assert orthologs.gene_id("HGNC:4419", MOUSE) == ""  # GNRH1 is no GtoPdb target
    learned = Orthologs(orthologs.curated, {("HGNC:4419", MOUSE): "14714", (kcnj10, MOUSE): "1"})
    assert (learned.gene_id("HGNC:4419", MOUSE), learned.gene_id(kcnj10, MOUSE)) == ("14714", "16513")  # GtoPdb first
