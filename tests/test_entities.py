"""The dictionary tagger on the two real documents, on hand-written sentences for its rules,
and on the BC5CDR development abstracts as a precision/recall floor (dev only, never test)."""
from __future__ import annotations

from collections import Counter

import pytest

from conftest import assert_well_formed, shared_document
from pipeline.config import load_settings
from pipeline.entities.dictionary import DictionaryTagger, EntityTagger
from pipeline.entities.kb import KnowledgeBase
from pipeline.records.bioc_pubtator import parse_pubtator

BC5CDR_DEV = load_settings().shared / "corpora" / "bc5cdr" / "CDR_DevelopmentSet.PubTator.txt"


@pytest.fixture(scope="module")
def tagger(kb: KnowledgeBase) -> DictionaryTagger:
    return DictionaryTagger(kb)


def tagged(tagger: EntityTagger, text: str) -> dict[str, tuple[str, str]]:
    """surface text -> (type, id), for the last mention with that text."""
    return {m.text: (m.type, m.id) for m in tagger.tag(text)}


TYPES = ("Chemical", "Gene", "Disease", "Species")


def test_pssd_glutamate_document(tagger: DictionaryTagger) -> None:
    text = shared_document("pssd-glutamate.txt")
    mentions = tagger.tag(text)
    assert_well_formed(text, mentions, TYPES)
    found = {(m.text, m.type, m.id) for m in mentions}
    assert {
        ("Sertraline", "Chemical", "DrugBank:DB01104"),
        ("Fluoxetine", "Chemical", "DrugBank:DB00472"),
        ("Fluvoxamine", "Chemical", "DrugBank:DB00176"),
        ("Citalopram", "Chemical", "DrugBank:DB00215"),
        ("Kir4.1", "Gene", "HGNC:6256"),  # KCNJ10
        ("Kv1.5", "Gene", "HGNC:6224"),  # KCNA5
        ("GRIA1", "Gene", "HGNC:4571"),
        ("GRIA3", "Gene", "HGNC:4573"),
        ("GRIK2", "Gene", "HGNC:4580"),
        ("5-HT2B receptors", "Gene", "HGNC:5294"),  # HTR2B
        ("SSRI", "Chemical", "CLASS:SSRI"),
        ("SSRIs", "Chemical", "CLASS:SSRI"),
        ("sexual dysfunction", "Disease", "MESH:D012735"),
        ("Na+", "Gene", "FAMILY:voltage-gated-sodium-channels"),  # "Kv1.5, Kir4.1, Na+, and Ca2+ channels"
        ("Ca2+ channels", "Gene", "FAMILY:voltage-gated-calcium-channels"),
        ("glutamate receptors", "Gene", "FAMILY:glutamate-receptors"),
        ("glutamate", "Chemical", "DrugBank:DB00142"),
        ("serotonin", "Chemical", "DrugBank:DB08839"),
        ("antidepressants", "Chemical", "CLASS:antidepressant"),
    } <= found
    for name in ("glucose", "glycogen"):
        assert tagged(tagger, text)[name][0] == "Chemical"


def test_ssri_blunted_affect_document(tagger: DictionaryTagger) -> None:
    text = shared_document("ssri-blunted-affect.txt")
    mentions = tagger.tag(text)
    assert_well_formed(text, mentions, TYPES)
    found = {(m.text, m.type, m.id) for m in mentions}
    assert {
        ("5-HT1A receptor", "Gene", "HGNC:5286"),  # HTR1A, in "5-HT1A receptor desensitization"
        ("5-HT2A/2C", "Gene", "FAMILY:5-ht2-receptors"),
        ("5-HT3 receptor", "Gene", "FAMILY:5-ht3-receptors"),
        ("5-HT2C", "Gene", "HGNC:5295"),  # "5-HT2C-mediated": the receptor only
        ("NMDA receptor", "Gene", "FAMILY:nmda-receptors"),
        ("serotonin transporter", "Gene", "HGNC:11050"),
        ("Selective Serotonin Reuptake Inhibitors", "Chemical", "CLASS:SSRI"),
        ("SSRIs", "Chemical", "CLASS:SSRI"),
        ("SSRI", "Chemical", "CLASS:SSRI"),
        ("emotional blunting", "Disease", "HP:0030213"),
        ("Blunted Affect", "Disease", "HP:0030213"),
        ("flattened affect", "Disease", "HP:0030213"),
        ("5-HT", "Chemical", "DrugBank:DB08839"),
        ("dopamine", "Chemical", "DrugBank:DB00988"),
    } <= found
    assert not any(m.text in ("SCN", "ACC", "HPA", "REM", "VTA", "PFC") for m in mentions)


@pytest.mark.parametrize("text, expected", [
    ("Patients on Zoloft reported sexual dysfunction.",
     {"Zoloft": ("Chemical", "DrugBank:DB01104"), "sexual dysfunction": ("Disease", "MESH:D012735")}),
    ("Sertraline-induced hyponatremia was reversible.",
     {"Sertraline": ("Chemical", "DrugBank:DB01104"), "hyponatremia": ("Disease", "MESH:D007010")}),
    ("Heparin-induced thrombocytopenia", {"Heparin": ("Chemical", "DrugBank:DB01109"),
                                          "thrombocytopenia": ("Disease", "MESH:D013921")}),
    ("Blockade of AMPA and NMDA receptors.",
     {"AMPA": ("Gene", "FAMILY:ampa-receptors"), "NMDA receptors": ("Gene", "FAMILY:nmda-receptors")}),
    ("AMPA receptors and kainate receptors differ.",
     {"AMPA receptors": ("Gene", "FAMILY:ampa-receptors"), "kainate receptors": ("Gene", "FAMILY:kainate-receptors")}),
    ("Selective serotonin reuptake inhibitors (SSRIs) and tricyclic antidepressants (TCAs).",
     {"SSRIs": ("Chemical", "CLASS:SSRI"), "TCAs": ("Chemical", "CLASS:TCA")}),
    ("Valproic acid (VPA) raised ammonia; VPA levels fell.", {"VPA": ("Chemical", "DrugBank:DB00313")}),
    ("He received bupropion HCl and diclofenac sodium.",
     {"bupropion HCl": ("Chemical", "DrugBank:DB01156"), "diclofenac sodium": ("Chemical", "DrugBank:DB00586")}),
    ("KCNJ10 (Kir4.1) and GluA1 in mice.",
     {"KCNJ10": ("Gene", "HGNC:6256"), "Kir4.1": ("Gene", "HGNC:6256"), "GluA1": ("Gene", "HGNC:4571"),
      "mice": ("Species", "NCBITaxon:10090")}),
])
def test_rules(tagger: DictionaryTagger, text: str, expected: dict[str, tuple[str, str]]) -> None:
    assert expected.items() <= tagged(tagger, text).items()


@pytest.mark.parametrize("text", [
    "The CAT scan AS well AS IV fluids and ACE scores.",
    "It can be set to impact the rest of the day, as was clear.",
    "Long-term potentiation (LTP) and the suprachiasmatic nucleus (SCN); SCN neurons and LTP.",
])
def test_no_genes_in_prose(tagger: DictionaryTagger, text: str) -> None:
    assert [m for m in tagger.tag(text) if m.type == "Gene"] == []


def test_version_combines_tagger_and_kb(tagger: DictionaryTagger, kb: KnowledgeBase) -> None:
    assert tagger.name == "dictionary"
    assert tagger.version.startswith("dictionary-") and tagger.version.endswith(kb.version)


def test_bc5cdr_dev_floor(tagger: DictionaryTagger) -> None:
    """Strict-offset precision and recall of Chemical and Disease mentions on BC5CDR dev;
    measured 0.90 / 0.79 when written, the floor catches regressions only."""
    if not BC5CDR_DEV.exists():
        pytest.skip(f"no {BC5CDR_DEV}")
    counts: Counter[str] = Counter()
    for doc in parse_pubtator(BC5CDR_DEV).documents:
        predicted = {(m.start, m.end, m.type) for m in tagger.tag(doc.text) if m.type in ("Chemical", "Disease")}
        gold = {(e.start, e.end, e.type) for e in doc.entities if e.type in ("Chemical", "Disease")}
        counts["tp"] += len(predicted & gold)
        counts["fp"] += len(predicted - gold)
        counts["fn"] += len(gold - predicted)
    precision = counts["tp"] / (counts["tp"] + counts["fp"])
    recall = counts["tp"] / (counts["tp"] + counts["fn"])
    assert precision > 0.85 and recall > 0.75, (precision, recall)


def test_a_text_tagged_again_gets_the_same_mentions_from_memory(kb: KnowledgeBase) -> None:
    """The verifier tags each record once per claim it may bear on: the second time is free,
    and what a caller does with its list cannot change the next answer."""
    tagger = DictionaryTagger(kb)
    text = shared_document("pssd-glutamate.txt")
    first = tagger.tag(text)
    first.clear()
    again = tagger.tag(text)
    assert again == DictionaryTagger(kb).tag(text) and again
    assert len(tagger._tagged) == 1
