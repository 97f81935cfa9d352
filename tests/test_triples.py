"""Drug–target–effect triples: chains within a record, lone relations kept, and triples.csv."""
import csv
import random

import pytest

from pipeline.datatypes import ExtractedRecord, Mention, Record, Relation
from pipeline.entities.dictionary import DictionaryTagger
from pipeline.outputs.export import TRIPLE_COLUMNS, write_tables
from pipeline.relations.triggers import TriggerExtractor
from pipeline.relations.triples import assemble_triples
from pipeline.verdicts.evidence import extract_record

DRUG, DRUG2 = Mention(0, 4, "drug", "Chemical", "D1"), Mention(0, 5, "drug2", "Chemical", "D2")
TARGET, GENE = Mention(10, 16, "target", "Gene", "G1"), Mention(10, 14, "gene", "Gene", "G2")
EFFECT, OTHER = Mention(20, 26, "effect", "Disease", "E1"), Mention(30, 35, "other", "Disease", "E2")

# A record's abstract as the dictionary tagger and the trigger baseline read it.
RECORD = Record(uid="pmid:1", pmid="1", title="Sertraline inhibits Kir4.1 channels in astrocytes.",
                abstract="Kir4.1 loss causes epilepsy. Sertraline did not inhibit Kv1.5. "
                         "Sertraline may cause sexual dysfunction. Fluoxetine treats depression.")


def rel(subject, relation, obj, index, confidence=0.9, **flags):
    return Relation(subject, relation, obj, f"sentence {index}", index, confidence=confidence, extractor="x", **flags)


def shape(triples):
    return [(t.chain, t.drug and t.drug.id, t.target and t.target.id, t.effect and t.effect.id, t.polarity,
             t.negated, t.hedged, t.confidence) for t in triples]


def test_drug_target_chains_with_the_targets_and_the_drugs_effects():
    dt = rel(DRUG, "inhibits", TARGET, 0)
    te = rel(TARGET, "causes", EFFECT, 1, 0.6, hedged=True)
    de = rel(DRUG, "treats", OTHER, 2, 0.8)
    lone = rel(DRUG2, "causes", EFFECT, 3, 0.7)
    triples = assemble_triples([dt, te, de, lone], pmid="5")
    assert shape(triples) == [
        ("drug>target>effect", "D1", "G1", "E1", -1, False, True, 0.6),  # inhibiting a cause lowers the effect
        ("drug>target+drug>effect", "D1", "G1", "E2", -1, False, False, 0.8),
        ("drug>effect", "D2", None, "E1", 1, False, False, 0.7)]
    assert (triples[0].target_link, triples[0].effect_link, triples[0].pmid) == (dt, te, "5")


def test_relations_that_chain_with_nothing_stay_triples_with_the_missing_part_empty():
    dt = rel(DRUG, "binds", TARGET, 0)
    te = rel(GENE, "associated_with", EFFECT, 1)  # no drug acts on this gene
    triples = assemble_triples([te, dt])
    assert shape(triples) == [("drug>target", "D1", "G1", None, 0, False, False, 0.9),
                              ("target>effect", None, "G2", "E1", 0, False, False, 0.9)]
    assert triples[0].effect_link is None and triples[1].target_link is None


def test_a_negated_relation_is_a_triple_of_its_own():
    """"X did not inhibit T" is no step towards T's effects."""
    dt = rel(DRUG, "inhibits", TARGET, 0, negated=True)
    te = rel(TARGET, "causes", EFFECT, 1)
    assert shape(assemble_triples([dt, te])) == [("drug>target", "D1", "G1", None, -1, True, False, 0.9),
                                                 ("target>effect", None, "G1", "E1", 1, False, False, 0.9)]


def test_a_variant_is_a_target():
    variant = Mention(10, 15, "V66M", "Variant", "VAR:1")
    triples = assemble_triples([rel(DRUG, "binds", variant, 0), rel(variant, "increases", EFFECT, 0)])
    assert shape(triples) == [("drug>target>effect", "D1", "VAR:1", "E1", 0, False, False, 0.9)]


def test_a_statement_repeated_in_a_record_is_one_part_its_most_confident_sentence():
    weak, strong = rel(DRUG, "inhibits", TARGET, 0, 0.5), rel(DRUG, "inhibits", TARGET, 4, 0.8)
    (triple,) = assemble_triples([weak, strong])
    assert triple.target_link is strong


def test_the_order_of_triples_does_not_depend_on_the_order_of_relations():
    relations = [rel(DRUG, "inhibits", TARGET, 0), rel(DRUG, "activates", GENE, 1), rel(TARGET, "causes", EFFECT, 2),
                 rel(GENE, "decreases", OTHER, 2), rel(DRUG, "treats", OTHER, 3), rel(DRUG2, "causes", EFFECT, 3)]
    expected = assemble_triples(relations)
    for seed in range(5):
        shuffled = relations[:]
        random.Random(seed).shuffle(shuffled)
        assert assemble_triples(shuffled) == expected


@pytest.fixture(scope="module")
def extracted(kb):
    return extract_record(RECORD, DictionaryTagger(kb), TriggerExtractor())


def test_a_records_text_read_by_the_tagger_and_trigger_baseline(extracted):
    found = [(t.chain, t.drug and t.drug.text, t.target and t.target.text, t.effect and t.effect.text, t.polarity,
              t.negated, t.hedged) for t in assemble_triples(extracted.relations, "1")]
    assert found == [("drug>target>effect", "Sertraline", "Kir4.1", "epilepsy", -1, False, False),
                     ("drug>target+drug>effect", "Sertraline", "Kir4.1", "sexual dysfunction", 1, False, True),
                     ("drug>target", "Sertraline", "Kv1.5", None, -1, True, False),
                     ("drug>effect", "Fluoxetine", None, "depression", -1, False, False)]


def test_triples_csv_gives_each_links_relation_sentence_and_confidence(extracted, tmp_path):
    other = Record(uid="pmc:PMC9", title="No relation here.")
    records = {RECORD.uid: RECORD, other.uid: other}
    by_uid = {RECORD.uid: extracted, other.uid: ExtractedRecord(other.uid)}
    write_tables(tmp_path / "a", [], [], records, by_uid)
    write_tables(tmp_path / "b", [], [], records, dict(reversed(by_uid.items())))
    first = (tmp_path / "a" / "triples.csv").read_bytes()
    assert first == (tmp_path / "b" / "triples.csv").read_bytes()
    with (tmp_path / "a" / "triples.csv").open(newline="") as handle:
        assert next(csv.reader(handle)) == TRIPLE_COLUMNS
        handle.seek(0)
        rows = list(csv.DictReader(handle))
    assert [r["chain"] for r in rows] == ["drug>target>effect", "drug>target+drug>effect", "drug>target", "drug>effect"]
    chain = rows[0]
    assert {k: chain[k] for k in ("pmid", "drug_id", "target_id", "effect_id", "polarity", "negated", "hedged")} == {
        "pmid": "1", "drug_id": "DrugBank:DB01104", "target_id": "HGNC:6256", "effect_id": "MESH:D004827",
        "polarity": "-1", "negated": "false", "hedged": "false"}
    assert (chain["target_relation"], chain["target_sentence_index"], chain["target_sentence"]) == (
        "inhibits", "0", RECORD.title)
    assert (chain["effect_relation"], chain["effect_sentence_index"], chain["effect_sentence"]) == (
        "causes", "1", "Kir4.1 loss causes epilepsy.")
    assert chain["confidence"] == str(min(float(chain["target_confidence"]), float(chain["effect_confidence"])))
    assert chain["extractor"] == "trigger-baseline"
    lone = rows[3]
    assert (lone["target"], lone["target_relation"], lone["target_sentence_index"], lone["target_confidence"]) == (
        "", "", "", "")
    assert (lone["drug"], lone["effect"], lone["effect_relation"]) == ("Fluoxetine", "depression", "treats")
