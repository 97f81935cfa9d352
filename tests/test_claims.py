"""Claims from the shared documents and short notes. The claim rules (coordination, ellipsis,
bullet heads, implicit subjects) read mentions from the dictionary tagger, which is deterministic,
so these tests fail only when the rules break; the last test reads the trained pipeline (the
reduced CI models) and asks only what any adequate model must give."""
import pytest

from pipeline.claims.candidates import claim_mentions
from pipeline.claims.extract import extract_claims
from pipeline.claims.subjects import BULLET_HEAD, ELLIPSIS
from pipeline.config import load_settings
from pipeline.datatypes import Mention
from pipeline.documents.reading import load_document, parse_document
from pipeline.entities.dictionary import DictionaryTagger
from pipeline.relations.triggers import TriggerExtractor

DOCUMENTS = load_settings().shared / "documents"
CHANNELS = ("For instance, Sertraline was reported to inhibit Kv1.5, Kir4.1, Na+, and Ca2+ channels "
            "[4][5][6][7][8][9], with Fluoxetine and Fluvoxamine sharing its Kir4.1 inhibition.\n")


class NoRelations:
    """An extractor that finds nothing, to test what the claim rules read on their own."""

    name, version = "none", "0"

    def extract(self, sentence, sentence_index, mentions):
        return []


@pytest.fixture(scope="module")
def tagger(kb):
    return DictionaryTagger(kb)


@pytest.fixture(scope="module")
def pssd(tagger, kb):
    document = load_document(DOCUMENTS / "pssd-glutamate.txt")
    return document, extract_claims(document, tagger, TriggerExtractor(), kb)


@pytest.fixture(scope="module")
def ssri(tagger, kb):
    document = load_document(DOCUMENTS / "ssri-blunted-affect.txt")
    return document, extract_claims(document, tagger, TriggerExtractor(), kb)


def triples(claims):
    return {(c.relation.subject.name.lower(), c.relation.relation, c.relation.object.id) for c in claims}


def channel_claims(kb):
    kcna5, kcnj10 = kb.lookup("KCNA5")[0].id, kb.lookup("KCNJ10")[0].id
    return {("sertraline", "inhibits", kcna5), ("sertraline", "inhibits", kcnj10),
            ("sertraline", "inhibits", "FAMILY:voltage-gated-sodium-channels"),
            ("sertraline", "inhibits", "FAMILY:voltage-gated-calcium-channels"),
            ("fluoxetine", "inhibits", kcnj10), ("fluvoxamine", "inhibits", kcnj10)}


def test_six_channel_claims_with_normalized_objects_and_citations(pssd, kb):
    _, claims = pssd
    sentence = [c for c in claims if "Kv1.5" in c.sentence.text]
    assert triples(sentence) == channel_claims(kb)
    assert all(c.citations == ["4", "5", "6", "7", "8", "9"] and not c.relation.negated for c in sentence)


def test_coordination_and_ellipsis_without_the_relation_extractor(tagger, kb):
    claims = extract_claims(parse_document(CHANNELS, "note.txt"), tagger, NoRelations(), kb)
    assert triples(claims) == channel_claims(kb)
    shared = {c.relation.subject.text for c in claims if c.relation.extractor == ELLIPSIS}
    assert shared == {"Fluoxetine", "Fluvoxamine"}
    doc = parse_document("Sertraline inhibits Kv1.5 and Kir4.1 channels, as does paroxetine.\n", "note.txt")
    assert {c.relation.object.text for c in extract_claims(doc, tagger, NoRelations(), kb)
            if c.relation.subject.text == "paroxetine"} == {"Kv1.5", "Kir4.1 channels"}


def test_a_head_noun_makes_targets_of_what_it_follows(tagger, kb):
    """The tagger reads "Na" and "NMDA" alone as the ion and the ligand; with "channels" or
    "receptors" after them they are the KB's target families."""
    doc = parse_document("Lamotrigine inhibits Na+ channels [1].\n\nFluoxetine blocks NMDA and AMPA receptors [2].\n",
                         "note.txt")
    assert triples(extract_claims(doc, tagger, NoRelations(), kb)) == {
        ("lamotrigine", "inhibits", "FAMILY:voltage-gated-sodium-channels"),
        ("fluoxetine", "inhibits", "FAMILY:nmda-receptors"), ("fluoxetine", "inhibits", "FAMILY:ampa-receptors")}


def test_aliases_in_brackets_are_not_subjects_of_their_own(tagger, kb):
    doc = parse_document("GRIA1 (AMPA1) and GRIA3 (AMPA3) are associated with sexual dysfunction [2].\n", "note.txt")
    dysfunction = kb.lookup("sexual dysfunction")[0].id
    assert triples(extract_claims(doc, tagger, NoRelations(), kb)) == {
        ("gria1", "associated_with", dysfunction), ("gria3", "associated_with", dysfunction)}


def test_every_cited_sentence_has_a_claim(pssd):
    document, claims = pssd
    cited = {s.index for s in document.sentences if s.kind == "prose" and any(m.isdigit() for m in s.markers)}
    assert len(cited) == 9
    assert cited <= {c.sentence.index for c in claims}


def test_every_bullet_has_a_claim_about_the_topic_or_what_it_names(ssri):
    document, claims = ssri
    bullets = [s for s in document.sentences if s.kind == "bullet"]
    assert len(bullets) == 36
    by_sentence = {s.index: [c for c in claims if c.sentence.index == s.index] for s in bullets}
    assert all(by_sentence.values())
    for index, found in by_sentence.items():
        if not any(c.relation.subject.id == "CLASS:SSRI" for c in found):  # it names what acts
            assert all(not c.implicit_subject and c.relation.subject.text in c.sentence.text for c in found)


@pytest.mark.parametrize("head, relation, obj", [
    ("Reduced dopamine release", "decreases", "dopamine release"),
    ("REM sleep suppression", "decreases", "REM sleep"),
    ("Amygdala reactivity", "decreases", "amygdala reactivity"),
    ("Neurogenesis effects", "modulates", "neurogenesis"),
    ("Insular cortex", "decreases", "insular cortex activity"),
])
def test_bullet_heads_the_kb_lacks_are_text_objects(ssri, head, relation, obj):
    _, claims = ssri
    (claim,) = [c for c in claims if c.sentence.text.startswith(head) and c.relation.extractor == BULLET_HEAD]
    rel = claim.relation
    assert (rel.subject.id, rel.relation, rel.object.text, rel.object.id) == ("CLASS:SSRI", relation, obj, "")
    assert claim.implicit_subject and claim.sentence.section


def test_bullets_take_the_document_topic_as_subject(ssri, kb):
    _, claims = ssri
    htr1a = kb.lookup("HTR1A")[0].id
    (claim,) = [c for c in claims if c.relation.object.id == htr1a]
    assert claim.implicit_subject and claim.relation.subject.id == "CLASS:SSRI"
    assert claim.relation.relation == "decreases" and claim.sentence.section == "Direct 5-HT Effects"


def test_clinical_bullets_stand_for_the_topic_effect(ssri, kb):
    _, claims = ssri
    effect = kb.lookup("emotional blunting")[0].id
    onset = [c.relation for c in claims if c.sentence.text.startswith("Onset pattern")]
    assert [(r.subject.id, r.relation, r.object.id) for r in onset] == [("CLASS:SSRI", "causes", effect)]
    genetic = [c.relation for c in claims if c.sentence.text.startswith("Individual variations")]
    assert [(r.subject.name, r.relation, r.object.id) for r in genetic] == [("SLC6A4", "associated_with", effect)]


def test_nominal_and_text_claims_read_as_a_pharmacologist_would(tagger, pssd, ssri, kb):
    # "Serotonin mediated …": the document's "5-HT mediated …", written as the dictionary names it
    note = extract_claims(parse_document("Serotonin mediated inhibition of prefrontal dopamine release [4].\n",
                                         "note.txt"), tagger, TriggerExtractor(), kb)
    found = {(c.relation.subject.text, c.relation.relation, c.relation.object.text, c.relation.object.id): c
             for c in pssd[1] + ssri[1] + note}
    assert ("Sertraline", "decreases", "glutamate uptake", "") in found
    assert ("5-HT2C", "inhibits", "ventral tegmental area (VTA) neurons", "") in found
    assert ("Serotonin", "decreases", "prefrontal dopamine release", "") in found
    # "inhibition of Kir4.1 would disrupt …, causing increased glutamate": what Kir4.1 itself does, hedged
    kir = found[("Kir4.1", "decreases", "glutamate", kb.lookup("glutamate")[0].id)]
    assert kir.relation.hedged and kir.citations == ["14"]


def test_an_adjective_that_shares_a_trigger_word_is_part_of_the_object(kb):
    """"inducible nitric oxide synthase" is an enzyme, not something induced; whichever of its words a
    tagger names, the claim is minocycline's on it."""
    note = parse_document("Minocycline decreases inducible nitric oxide synthase [1].\n", "note.txt")
    nitric_oxide = kb.lookup("nitric oxide")[0]

    class NitricOxideOnly:  # a tagger that names the chemical inside the enzyme's name, as a trained one did
        def tag(self, text):
            names = [("Minocycline", kb.lookup("minocycline")[0].id), ("nitric oxide", nitric_oxide.id)]
            return [Mention(text.index(name), text.index(name) + len(name), name, "Chemical", id_)
                    for name, id_ in names if name in text]

    claims = extract_claims(note, NitricOxideOnly(), NoRelations(), kb)
    assert [(c.relation.subject.text, c.relation.relation, c.relation.object.text) for c in claims] == [
        ("Minocycline", "decreases", "inducible nitric oxide synthase")]


def test_no_claims_a_pharmacologist_would_reject(pssd, ssri, kb):
    claims = pssd[1] + ssri[1]
    kcnj10, glutamate = kb.lookup("KCNJ10")[0].id, kb.lookup("glutamate")[0].id
    pairs = {(c.relation.subject.id or c.relation.subject.text, c.relation.object.id or c.relation.object.text)
             for c in claims}
    assert (glutamate, kcnj10) not in pairs  # the glutamate of the next clause does not inhibit Kir4.1
    assert not any(c.relation.object.id == kb.lookup("depression")[0].id for c in claims)  # long-term depression
    assert not any(c.relation.relation == "treats" for c in ssri[1])  # "SSRI treatment" is exposure
    assert not any(c.relation.subject.name.lower() == "dopamine" for c in claims)  # nothing says dopamine acts
    assert not any(c.relation.subject.id == "CLASS:antidepressant" and c.relation.object.id for c in pssd[1])


def test_negated_hedged_and_passive_claims(tagger, kb):
    doc = parse_document("Sertraline did not inhibit Kir4.1 channels [1].\n\n"
                         "Fluoxetine may inhibit Kir4.1 channels [2].\n\n"
                         "Kv1.5 is inhibited by fluvoxamine [3].\n", path="note.txt")
    claims = {c.relation.subject.name.lower(): c for c in extract_claims(doc, tagger, TriggerExtractor(), kb)}
    assert claims["sertraline"].relation.negated and not claims["sertraline"].relation.hedged
    assert claims["fluoxetine"].relation.hedged and claims["fluoxetine"].citations == ["2"]
    assert claims["fluvoxamine"].relation.object.name == "KCNA5" and claims["fluvoxamine"].citations == ["3"]


def test_a_closing_we_can_only_hypothesize_hedges_its_section(tagger, kb, pssd):
    doc = parse_document("Speculation\n\nFluoxetine inhibits Kir4.1 channels.\n\nFor now, we can only hypothesize.\n",
                         path="note.txt")
    (claim,) = extract_claims(doc, tagger, TriggerExtractor(), kb)
    assert claim.relation.hedged
    speculative = [c for c in pssd[1] if c.sentence.section.startswith("Why only")]
    assert speculative and all(c.relation.hedged for c in speculative)


def test_a_heading_that_names_a_drug_is_the_subject_of_its_bullets(tagger, kb):
    doc = parse_document("Notes on channels\n\nFluoxetine\n\n- Kir4.1 inhibition: seen in astrocytes [1]\n"
                         "- Inhibits Kv1.5 channels [2]\n\nSerotonin\n\n- 5-HT2B receptor activation: in glia [3]\n",
                         path="note.txt")
    claims = extract_claims(doc, tagger, TriggerExtractor(), kb)
    found = {(c.relation.subject.text, c.relation.relation, c.relation.object.name, c.implicit_subject)
             for c in claims}
    assert found == {("Fluoxetine", "inhibits", "KCNJ10", True), ("Fluoxetine", "inhibits", "KCNA5", True)}


def test_the_trained_pipeline_reads_the_channel_sentence(pipeline_tagger, kb):
    """Whatever a trained model's mention boundaries, sertraline's two named channels are claims."""
    claims = extract_claims(parse_document(CHANNELS, "note.txt"), pipeline_tagger, TriggerExtractor(), kb)
    kcna5, kcnj10 = kb.lookup("KCNA5")[0].id, kb.lookup("KCNJ10")[0].id
    assert {("sertraline", "inhibits", kcna5), ("sertraline", "inhibits", kcnj10)} <= triples(claims)


class VerbSwallowingTagger:
    """Tags as a trained pipeline may on a three-word sentence: the verb inside a name."""

    def __init__(self, kb, names):
        self.kb, self.names = kb, names

    def tag(self, text):
        found = []
        for name, concept in self.names:
            if name in text:
                c = self.kb.lookup(concept)[0]
                found.append(Mention(text.index(name), text.index(name) + len(name), name, c.type, c.id, c.name))
        return found


def test_a_verb_a_tagger_took_into_a_name_is_no_part_of_it(kb):
    tagger = VerbSwallowingTagger(kb, [("Pravastatin", "pravastatin"), ("decreases myopathy", "myopathy"),
                                       ("cAMP inhibits NHE3", "NHE3"), ("increase in locomotor activity", "morphine")])
    doc = parse_document("Pravastatin decreases myopathy [1].\n\ncAMP inhibits NHE3 [2].\n", path="note.txt")
    found = {(c.relation.subject.text, c.relation.relation, c.relation.object.text, c.relation.object.id)
             for c in extract_claims(doc, tagger, TriggerExtractor(), kb)}
    assert found == {("Pravastatin", "decreases", "myopathy", kb.lookup("myopathy")[0].id),
                     ("cAMP", "inhibits", "NHE3", kb.lookup("NHE3")[0].id)}
    # a noun is no verb: "increase in locomotor activity" stays one name
    text = "Morphine causes increase in locomotor activity."
    (mention,) = claim_mentions(text, tagger.tag(text), kb)
    assert mention.text == "increase in locomotor activity"


def test_a_target_named_with_a_role_noun_is_the_drugs_that_act_so(tagger, kb):
    """"COX-2 inhibitors increase the risk of myocardial infarction" is about the drugs that inhibit COX-2, read
    by their words, not COX-2 inhibiting the infarction; a drug beside the role is that drug ("the 5-HT2A
    antagonist ketanserin", "celecoxib, a COX-2 inhibitor")."""
    doc = parse_document("COX-2 inhibitors increase the risk of myocardial infarction [1].\n\n"
                         "Calcium channel blockers lower blood pressure [2].\n\n"
                         "The 5-HT2A antagonist ketanserin reduced psychosis [3].\n\n"
                         "Celecoxib, a COX-2 inhibitor, was given [4].\n", "note.txt")
    read = {(c.relation.subject.text, c.relation.subject.id, c.relation.relation, c.relation.object.text)
            for c in extract_claims(doc, tagger, TriggerExtractor(), kb)}
    ketanserin, celecoxib = kb.lookup("ketanserin")[0].id, kb.lookup("celecoxib")[0].id
    assert {("COX-2 inhibitors", "", "increases", "myocardial infarction"),
            ("Calcium channel blockers", "", "decreases", "blood pressure"),
            ("ketanserin", ketanserin, "decreases", "psychosis"),
            ("Celecoxib", celecoxib, "inhibits", "COX-2")} <= read
    assert not any(subject in ("COX-2", "Calcium channel") for subject, *_ in read)


@pytest.mark.parametrize("text, parts, whole", [
    ("15d-PGJ2 decreases iNOS [22].", ["PGJ2"], "15d-PGJ2"),  # a word attached to it
    ("bis(7)-sertraline inhibits AChE.", ["sertraline"], "bis(7)-sertraline"),  # another compound
    ("sertraline-digluconate causes cystitis.", ["sertraline"], "sertraline-digluconate"),
    ("sulindac sulfide increases COX-2.", ["sulindac", "sulfide"], "sulindac sulfide"),  # two chemical words
    ("(-)-sertraline inhibits Kir4.1.", ["sertraline"], None),  # stereo, charge, isotope and citation marks
    ("Ca(2+) inhibits TRPV6.", ["Ca"], None),
    ("[3H]sertraline binds SERT.", ["sertraline"], None),
    ("D,L-sertraline inhibits Kir4.1.", ["sertraline"], None),
    ("Sertraline[4] inhibits Kir4.1.", ["Sertraline"], None),
    ("(sertraline) inhibits Kir4.1.", ["sertraline"], None),
    ("SSRI-induced emotional blunting persists.", ["SSRI"], None),  # English joined to it
    ("post-SSRI sexual dysfunction persists.", ["SSRI"], None),
    ("Sertraline-treated rats lost Kir4.1.", ["Sertraline"], None)])
def test_a_chemical_the_tagger_read_in_part_is_its_whole_name(kb, text, parts, whole):
    """A short claim sentence gives the tagger none of a paper's context: "15d-PGJ2" read as PGJ2, "sulindac
    sulfide" as two drugs. The claim is about the whole name, read by its words where the KB has no concept
    for it; marks that do not change the compound leave the tagger's reading (and its concept) as it is."""
    mentions = [Mention(text.index(p), text.index(p) + len(p), p, "Chemical", f"TEST:{p}") for p in parts]
    read = claim_mentions(text, mentions, kb)
    if whole is None:
        assert [(m.text, m.id) for m in read] == [(p, f"TEST:{p}") for p in parts]
    else:
        assert [(m.text, m.id, m.type) for m in read] == [(whole, "", "Chemical")]
