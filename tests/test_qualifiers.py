"""What an evidence sentence says of how a finding was obtained: amounts, exposure, system."""
from pathlib import Path

import pytest

from pipeline.datatypes import Mention, Relation
from pipeline.evaluation.qualifiers import evaluate_qualifiers
from pipeline.records.store import Store
from pipeline.relations.qualifiers import evidence_qualifiers, qualifiers

SAMPLES = sorted((Path(__file__).parent / "data" / "relations").glob("qualifiers-*.tsv"))


@pytest.mark.parametrize("sentence, amounts", [
    ("Sertraline inhibited Kir4.1 currents with an IC50 of 2.1 microM.", ("IC50 of 2.1 microM",)),
    ("Ki = 35 nM and EC50 values of 3-10 µM were found in 10 mM glucose.",
     ("Ki = 35 nM", "EC50 values of 3-10 µM", "10 mM")),
    ("5-Fluorouracil was given orally (50mg/kg/day for 5days).", ("50mg/kg/day",)),
    ("Women received tamoxifen 20 mg per day or placebo.", ("20 mg per day",)),
    ("A dose of 4.5 microg/0.5 microl was injected.", ("4.5 microg/0.5 microl",)),
    # laboratory values, counts, percentages and times are not amounts of a drug
    ("Creatinine rose by 0.5 mg per deciliter in 30% of 41 patients within 3 days.", ()),
])
def test_amounts_as_written(sentence, amounts):
    assert qualifiers(sentence).amounts == amounts


@pytest.mark.parametrize("sentence, drugs, exposure", [
    ("Rats chronically treated with lithium lost weight.", (), ("chronic",)),
    ("Responding due to acute nicotine after abstinence was similar.", ("nicotine",), ("acute",)),
    ("The short lifetime of IP3 makes detection hard.", ("IP3",), ()),
    ("Gut permeability rose after 4 weeks of ethanol exposure.", (), ("chronic",)),
    ("Oral memantine (10mg/kg) daily for 13 days attenuated gliosis.", (), ("chronic",)),
    ("Fluoxetine (10 mg/kg) was injected twice daily.", (), ("repeated",)),
    ("Mice, 5 weeks of age, were treated once.", (), ()),
    ("Symptoms persisted 40 months since cessation of therapy.", (), ()),
    # a disease or an effect's course is not an exposure
    ("PB may be associated with chronic liver damage.", ("PB",), ()),
    ("Ciprofloxacin-induced acute interstitial nephritis.", ("Ciprofloxacin",), ()),
])
def test_exposure_said_of_a_treatment_or_its_length(sentence, drugs, exposure):
    assert qualifiers(sentence, drugs).exposure == exposure


@pytest.mark.parametrize("sentence, system", [
    ("Sertraline inhibited Kir4.1 in HEK293 cells.", ("in vitro",)),
    ("Fourteen patients and 28 healthy volunteers took part.", ("human",)),
    ("Male Sprague-Dawley rats received the drug.", ("animal",)),
    ("In human renal mesangial cells, high glucose induced ROS.", ("in vitro",)),
    ("A mouse model of human nephrotic syndrome.", ("animal",)),
])
def test_the_system_studied(sentence, system):
    assert qualifiers(sentence).system == system


def test_an_evidence_row_reads_its_relation_subject_as_the_drug():
    sentence = "Chronic fluoxetine decreased SERT binding (IC50 of 12 nM) in rats."
    fluoxetine = Mention(8, 18, "fluoxetine", "Chemical", "DrugBank:DB00472")
    rel = Relation(fluoxetine, "decreases", Mention(29, 33, "SERT", "Gene", "HGNC:11050"), sentence, 0)
    said = evidence_qualifiers(sentence, rel)
    assert said.summary() == "IC50 of 12 nM · chronic · animal"
    assert evidence_qualifiers(sentence, None).exposure == ()  # no drug named, no treatment word


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_every_labelled_sentence_and_amount_is_found_in_the_corpora(sample, trained):
    """The labels name sentences by document and offset; the text stays in ../shared."""
    with Store(trained.store_path) as store:
        figures = evaluate_qualifiers(sample, store)
    assert figures.sentences == 150
    assert figures.amounts.gold > 0 and figures.exposure.gold > 0 and figures.system.gold > 0
