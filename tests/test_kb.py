"""The knowledge base built from the real ../shared vocabularies: names, ids, classes, families."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.entities.kb import INPUTS, KnowledgeBase, normalize_name
from pipeline.entities.kb_build import build_kb, kb_version

SERTRALINE, FLUOXETINE, FLUVOXAMINE = "DrugBank:DB01104", "DrugBank:DB00472", "DrugBank:DB00176"
CITALOPRAM, ESCITALOPRAM, PAROXETINE = "DrugBank:DB00215", "DrugBank:DB01175", "DrugBank:DB00715"
KCNJ10, KCNA5, HTR2B, GRIA1 = "HGNC:6256", "HGNC:6224", "HGNC:5294", "HGNC:4571"


def ids(kb: KnowledgeBase, name: str) -> list[str]:
    return [c.id for c in kb.lookup(name)]


def symbols(kb: KnowledgeBase, concept_ids: set[str]) -> set[str]:
    return {kb.concept(c).name for c in concept_ids if c.startswith("HGNC:")}


@pytest.mark.parametrize("a, b", [
    ("5-HT2B", "5-HT 2B"), ("5-HT2B", "5HT2B"), ("Ca2+", "Ca(2+)"), ("Ca2+", "Ca²⁺"),
    ("Alzheimer's disease", "Alzheimer disease"), ("α-synuclein", "alpha-synuclein"),
    ("5-HT<sub>2B</sub> receptor", "5-HT2B receptor"), ("Zoloft&reg;", "ZOLOFT"),
])
def test_normalize_name_merges_spellings(a: str, b: str) -> None:
    assert normalize_name(a) == normalize_name(b)


def test_normalize_name_keeps_charge() -> None:
    assert normalize_name("Na+") != normalize_name("Na")


@pytest.mark.parametrize("name, concept_id", [
    ("Kir4.1", KCNJ10), ("Kv1.5", KCNA5), ("5-HT2B", HTR2B), ("GluA1", GRIA1), ("KCNJ10", KCNJ10),
    ("serotonin transporter", "HGNC:11050"), ("5-HT1A receptor", "HGNC:5286"),
    ("ZOLOFT", SERTRALINE), ("Zoloft", SERTRALINE), ("sertraline", SERTRALINE), ("citalopram", CITALOPRAM),
    ("SSRI", "CLASS:SSRI"), ("SSRIs", "CLASS:SSRI"), ("Selective Serotonin Reuptake Inhibitors", "CLASS:SSRI"),
    ("Na+ channels", "FAMILY:voltage-gated-sodium-channels"),
    ("Ca2+ channels", "FAMILY:voltage-gated-calcium-channels"),
    ("5-HT2 receptors", "FAMILY:5-ht2-receptors"), ("5-HT2A/2C", "FAMILY:5-ht2-receptors"),
    ("AMPA receptors", "FAMILY:ampa-receptors"), ("kainate receptors", "FAMILY:kainate-receptors"),
    ("NMDA receptor", "FAMILY:nmda-receptors"),
    ("sexual dysfunction", "MESH:D012735"), ("emotional blunting", "HP:0030213"), ("blunted affect", "HP:0030213"),
    ("human", "NCBITaxon:9606"),
])
def test_lookup_finds_the_concept_first(kb: KnowledgeBase, name: str, concept_id: str) -> None:
    assert ids(kb, name)[:1] == [concept_id]


@pytest.mark.parametrize("name", ["glutamate", "serotonin", "dopamine", "glucose", "glycogen", "5-HT"])
def test_neurotransmitters_and_metabolites_are_chemicals(kb: KnowledgeBase, name: str) -> None:
    assert kb.lookup(name)[0].type == "Chemical"


def test_lookup_misses_are_empty(kb: KnowledgeBase) -> None:
    assert kb.lookup("not a biomedical name at all") == []


def test_concepts_carry_cross_references(kb: KnowledgeBase) -> None:
    sertraline = kb.concept(SERTRALINE)
    assert sertraline is not None and sertraline.type == "Chemical" and sertraline.name == "Sertraline"
    assert sertraline.xrefs["MESH"] == "D020280"  # BC5CDR's id for it
    assert {"ChEMBL", "UNII", "CAS", "GtoPdb", "PubChem"} <= sertraline.xrefs.keys()
    kcnj10 = kb.concept(KCNJ10)
    assert kcnj10 is not None and kcnj10.name == "KCNJ10"
    assert kcnj10.xrefs["NCBIGene"] == "3766" and kcnj10.xrefs["UniProt"] == "P78508"
    assert kcnj10.xrefs["Ensembl"].startswith("ENSG")
    dysfunction = kb.concept("MESH:D012735")
    assert dysfunction is not None and dysfunction.type == "Disease"
    assert dysfunction.xrefs["DOID"] == "1876"  # DOID's "sexual dysfunction" merged into MeSH's concept
    assert kb.concept("HGNC:0") is None


def test_ssri_class_members(kb: KnowledgeBase) -> None:
    assert {SERTRALINE, FLUOXETINE, FLUVOXAMINE, CITALOPRAM, ESCITALOPRAM, PAROXETINE} <= kb.members("CLASS:SSRI")
    antidepressants = kb.members("CLASS:antidepressant")
    assert {"CLASS:SSRI", "CLASS:SNRI", "CLASS:TCA", "CLASS:MAOI", SERTRALINE} <= antidepressants
    assert ids(kb, "venlafaxine")[0] in kb.members("CLASS:SNRI")
    assert ids(kb, "amitriptyline")[0] in kb.members("CLASS:TCA")
    assert ids(kb, "phenelzine")[0] in kb.members("CLASS:MAOI")
    assert ids(kb, "haloperidol")[0] in kb.members("CLASS:antipsychotic")
    assert kb.members(SERTRALINE) == {SERTRALINE}


def test_target_family_members(kb: KnowledgeBase) -> None:
    assert symbols(kb, kb.members("FAMILY:ampa-receptors")) == {"GRIA1", "GRIA2", "GRIA3", "GRIA4"}
    assert symbols(kb, kb.members("FAMILY:kainate-receptors")) == {f"GRIK{n}" for n in range(1, 6)}
    assert symbols(kb, kb.members("FAMILY:5-ht2-receptors")) == {"HTR2A", "HTR2B", "HTR2C"}
    assert {"HTR1A", "HTR2B", "HTR3A", "HTR7"} <= symbols(kb, kb.members("FAMILY:5-ht-receptors"))
    assert {"GRIA1", "GRIN1", "GRIN2B", "GRIK2", "GRM5"} <= symbols(kb, kb.members("FAMILY:glutamate-receptors"))
    sodium = symbols(kb, kb.members("FAMILY:voltage-gated-sodium-channels"))
    assert {"SCN1A", "SCN5A", "SCN9A"} <= sodium and all(s.startswith("SCN") and s.endswith("A") for s in sodium)
    assert {"CACNA1C", "CACNA1D"} <= symbols(kb, kb.members("FAMILY:voltage-gated-calcium-channels"))
    assert {"KCNJ10", "KCNA5"} <= symbols(kb, kb.members("FAMILY:potassium-channels"))
    assert "KCNJ10" in symbols(kb, kb.members("FAMILY:kir-channels"))
    assert {"GABRA1", "GABRG2"} <= symbols(kb, kb.members("FAMILY:gaba-a-receptors"))
    assert {"DRD1", "DRD2"} <= symbols(kb, kb.members("FAMILY:dopamine-receptors"))


def test_expand_meets_classes_and_members(kb: KnowledgeBase) -> None:
    assert {"FAMILY:5-ht2-receptors", "FAMILY:5-ht-receptors"} <= kb.expand(HTR2B)
    assert HTR2B in kb.expand("FAMILY:5-ht2-receptors")
    assert {"CLASS:SSRI", "CLASS:antidepressant"} <= kb.expand(SERTRALINE)
    assert SERTRALINE in kb.expand("CLASS:SSRI") and "CLASS:antidepressant" in kb.expand("CLASS:SSRI")
    assert FLUOXETINE not in kb.expand(SERTRALINE)  # siblings do not meet


def test_synonyms(kb: KnowledgeBase) -> None:
    assert kb.synonyms(KCNJ10)[0] == "KCNJ10"
    assert "Kir4.1" in kb.synonyms(KCNJ10)
    assert "selective serotonin reuptake inhibitor" in kb.synonyms("CLASS:SSRI")


def test_fresh_kb_is_not_rebuilt(kb: KnowledgeBase) -> None:
    stamp = kb.path.stat().st_mtime_ns
    started = time.perf_counter()
    assert build_kb(load_settings().shared, kb.path, progress=False) == kb.path
    assert time.perf_counter() - started < 2 and kb.path.stat().st_mtime_ns == stamp
    assert kb.version == kb_version(load_settings().shared)


def test_version_follows_inputs(tmp_path: Path) -> None:
    for rel in INPUTS.values():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    before = kb_version(tmp_path)
    assert kb_version(tmp_path) == before
    touched = tmp_path / INPUTS["hgnc"]
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 1_000_000))
    assert kb_version(tmp_path) == before  # a copy elsewhere, same contents: the same KB
    touched.write_text("y")
    assert kb_version(tmp_path) != before
