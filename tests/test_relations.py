"""The baseline trigger extractor: relation type, direction, negation and hedging."""
import pytest

from pipeline.datatypes import RELATION_POLARITY, Mention
from pipeline.relations.presupposition import presupposed, with_presupposed
from pipeline.relations.triggers import TRIGGER_TABLE, TriggerExtractor, is_negated


def mentions(sentence, *spec):
    """Mentions for (text, type, id[, occurrence]) in sentence order."""
    found = []
    for text, type_, id_, *nth in spec:
        start = -1
        for _ in range((nth or [1])[0]):
            start = sentence.index(text, start + 1)
        found.append(Mention(start, start + len(text), text, type_, id_))
    return sorted(found, key=lambda m: m.start)


def extract(sentence, *spec):
    rels = TriggerExtractor().extract(sentence, 0, mentions(sentence, *spec))
    return {(r.subject.text, r.relation, r.object.text, r.negated, r.hedged) for r in rels}


def test_coordinated_objects_and_nominal_trigger():
    s = ("For instance, Sertraline was reported to inhibit Kv1.5, Kir4.1, Na+, and Ca2+ channels "
         "[4][5][6][7][8][9], with Fluoxetine and Fluvoxamine sharing its Kir4.1 inhibition.")
    found = extract(s, ("Sertraline", "Chemical", "DB01104"), ("Kv1.5", "Gene", "HGNC:6224"),
                    ("Kir4.1", "Gene", "HGNC:6256"), ("Fluoxetine", "Chemical", "DB00472"),
                    ("Fluvoxamine", "Chemical", "DB00176"), ("Kir4.1", "Gene", "HGNC:6256", 2))
    assert found == {("Sertraline", "inhibits", "Kv1.5", False, False),
                     ("Sertraline", "inhibits", "Kir4.1", False, False),
                     ("Fluoxetine", "inhibits", "Kir4.1", False, False),
                     ("Fluvoxamine", "inhibits", "Kir4.1", False, False)}


@pytest.mark.parametrize("sentence, relation, negated, hedged", [
    ("Sertraline did not inhibit Kir4.1 channels.", "inhibits", True, False),
    ("Sertraline failed to inhibit Kir4.1 currents.", "inhibits", True, False),
    ("Sertraline may inhibit Kir4.1 channels.", "inhibits", False, True),
    ("Sertraline is an antagonist at Kir4.1.", "antagonist_of", False, False),
    ("Sertraline increased Kir4.1 expression.", "increases", False, False),
    # a verb of its own after the negation: it is not negated
    ("Sertraline had no effect on firing and significantly increased Kir4.1 expression.", "increases", False, False),
    ("Sertraline did not increase firing or Kir4.1 expression.", "increases", True, False),
])
def test_relation_negation_hedging(sentence, relation, negated, hedged):
    found = extract(sentence, ("Sertraline", "Chemical", "DB01104"), ("Kir4.1", "Gene", "HGNC:6256"))
    assert found == {("Sertraline", relation, "Kir4.1", negated, hedged)}


@pytest.mark.parametrize("sentence, first, second, negated", [
    # a negated aside between the two names, closed by a comma, is about what it names
    ("Sertraline, but not fluoxetine, inhibited Kir4.1 channels.", "Sertraline", "Kir4.1", False),
    ("Kir4.1 is inhibited in astrocytes, not neurons, by sertraline.", "Kir4.1", "sertraline", False),
    ("Sertraline acted in rats, but not in Kir4.1 (KCNJ10)-null mice, by reducing BDNF.", "Sertraline", "BDNF", False),
    ("Sertraline, but not fluoxetine, inhibited Kir4.1 channels.", "fluoxetine", "Kir4.1", True),
    # not closed before the second name: the negation is the pair's
    ("Sertraline inhibited Kir4.1, but not Kv1.5 channels.", "Sertraline", "Kv1.5", True),
    ("Sertraline did not, in our hands, inhibit Kir4.1.", "Sertraline", "Kir4.1", True),
    # a negated predicate taking the pair as its object denies that something else acts on it
    ("Fluoxetine had no effect on sertraline-induced Kir4.1 loss.", "sertraline", "Kir4.1", False),
    ("Fluoxetine did not alter sertraline inhibition of Kir4.1.", "sertraline", "Kir4.1", False),
    ("Sertraline had no effect on Kir4.1.", "Sertraline", "Kir4.1", True),
    ("There was no effect of sertraline on Kir4.1.", "sertraline", "Kir4.1", True),
    # without a comma, right after the first name: an alternative to it ("CAA but not acrolein inhibited")
    ("Sertraline but not fluoxetine inhibited Kir4.1 channels.", "Sertraline", "Kir4.1", False),
    ("Sertraline inhibited Kir4.1 but not Kv1.5 channels.", "Sertraline", "Kv1.5", True),
    ("Sertraline but not Kir4.1", "Sertraline", "Kir4.1", True),
    # "not only" affirms
    ("Sertraline is not only an inhibitor of Kir4.1 but also of Kv1.5.", "Sertraline", "Kir4.1", False),
    # a negation before "although" is another clause's
    ("Its mechanism has not been studied, although sertraline inhibits Kir4.1.", "sertraline", "Kir4.1", False),
])
def test_a_negation_about_something_else_is_not_the_pairs(sentence, first, second, negated):
    start, end = sentence.index(first), sentence.index(second) + len(second)
    assert is_negated(sentence, start, end, start + len(first)) is negated


def test_prevention_is_a_treatment():
    s = "Nimodipine prevents memory impairment in adult mice, and sertraline protects against seizures."
    found = extract(s, ("Nimodipine", "Chemical", "DB00393"), ("memory impairment", "Disease", "MESH:D008569"),
                    ("sertraline", "Chemical", "DB01104"), ("seizures", "Disease", "MESH:D012640"))
    assert {("Nimodipine", "treats", "memory impairment", False, False),
            ("sertraline", "treats", "seizures", False, False)} <= found


def test_drug_disease_and_direction():
    s = "Sexual dysfunction was caused by citalopram in most patients."
    found = extract(s, ("Sexual dysfunction", "Disease", "MESH:D020018"), ("citalopram", "Chemical", "DB00215"))
    assert found == {("citalopram", "causes", "Sexual dysfunction", False, False)}


def test_no_trigger_no_relation_and_no_drug_drug_pairs():
    s = "Sertraline and fluoxetine were given; Kir4.1 was measured."
    assert extract(s, ("Sertraline", "Chemical", "DB01104"), ("fluoxetine", "Chemical", "DB00472"),
                   ("Kir4.1", "Gene", "HGNC:6256")) == set()


def test_triggers_inside_mentions_and_exposure_phrases_do_not_count():
    s = "Sertraline (a selective serotonin reuptake inhibitor) and 5-HT1A were studied."
    assert extract(s, ("Sertraline", "Chemical", "DB01104"),
                   ("selective serotonin reuptake inhibitor", "Chemical", "CLASS:SSRI"),
                   ("5-HT1A", "Gene", "HGNC:5286")) == set()
    s = "Polymorphisms are associated with sexual dysfunction in patients treated with citalopram."
    assert extract(s, ("sexual dysfunction", "Disease", "MESH:D012735"),
                   ("citalopram", "Chemical", "DB00215")) == set()


def test_a_trigger_glued_to_its_subject_modifies_only_the_next_phrase():
    s = "SSRI-induced emotional blunting can persist despite improvement in core depressive symptoms."
    found = extract(s, ("SSRI", "Chemical", "CLASS:SSRI"), ("emotional blunting", "Disease", "HP:0030213"),
                    ("depressive", "Disease", "MESH:D003866"))
    assert found == {("SSRI", "causes", "emotional blunting", False, False)}


def test_the_trigger_table_turns_relations_as_their_polarity_says():
    """The one trigger table names litmine's relation vocabulary once, and its turns keep polarity:
    an opposite has the opposite sign, a relation on a process keeps its sign and says which way."""
    table = {t.relation: t for t in TRIGGER_TABLE}
    assert sorted(table) == sorted(RELATION_POLARITY) and len(table) == len(TRIGGER_TABLE)
    for t in TRIGGER_TABLE:
        polarity = RELATION_POLARITY[t.relation]
        if t.opposite:
            assert polarity != 0 and RELATION_POLARITY[t.opposite] == -polarity
            assert table[t.opposite].opposite == t.relation
        if t.on_process:
            assert RELATION_POLARITY[t.on_process] == polarity and table[t.on_process].directional
        if t.directional:
            assert polarity != 0


@pytest.mark.parametrize("sentence, chemical, effect, type_, expected", [
    # the clause around a compound is about something else: its verb and negation do not reach it
    ("Edaravone suppresses streptomycin-induced vestibulotoxicity.", "streptomycin", "vestibulotoxicity",
     "Disease", "causes"),
    ("Metamizol did not potentiate morphine-induced constipation.", "morphine", "constipation", "Disease", "causes"),
    ("It diminished the methamphetamine (10 mg/kg sc)-induced hyperthermia.", "methamphetamine", "hyperthermia",
     "Disease", "causes"),
    ("It is not a factor in chlorhexidine-digluconate associated erosive cystitis.", "chlorhexidine", "cystitis",
     "Disease", "causes"),
    ("Hypotension induced by propofol was reversed by ephedrine.", "propofol", "Hypotension", "Disease", "causes"),
    # for a gene, the words around it say which way it goes
    ("ApoE3 protects cells against reduction in SGLT1 activity induced by gentamicin.", "gentamicin", "SGLT1",
     "Gene", "decreases"),
    ("Flutamide suppressed the Adiol-induced AR transactivation.", "Adiol", "AR", "Gene", "increases"),
    ("The genotype did not influence ADP-induced CD62P expression.", "ADP", "CD62P", "Gene", "increases"),
    ("Sertraline-induced Kir4.1 inhibition was reversible.", "Sertraline", "Kir4.1", "Gene", "inhibits"),
    # no compound joins them
    ("Cocaine-induced CREB was measured.", "Cocaine", "CREB", "Gene", None),
    ("Morphine-induced hypothermia in mice with epilepsy.", "Morphine", "epilepsy", "Disease", None),
    ("Sertraline inhibits Kir4.1.", "Sertraline", "Kir4.1", "Gene", None),
])
def test_a_compound_says_what_it_takes_for_granted(sentence, chemical, effect, type_, expected):
    found = mentions(sentence, (chemical, "Chemical", "c"), (effect, type_, "e"))
    drug, target = sorted(found, key=lambda m: m.type != "Chemical")
    assert presupposed(sentence, drug, target) == expected


def test_a_compound_replaces_what_the_extractor_said_of_its_pair():
    sentence = "These results suggest that edaravone does not suppress streptomycin-induced vestibulotoxicity."
    found = mentions(sentence, ("edaravone", "Chemical", "D1"), ("streptomycin", "Chemical", "D2"),
                     ("vestibulotoxicity", "Disease", "M1"))
    said = TriggerExtractor().extract(sentence, 0, found)
    assert {(r.subject.text, r.relation, r.negated) for r in said} == {
        ("edaravone", "inhibits", True), ("streptomycin", "causes", True)}
    decided = with_presupposed(sentence, found, said, 0)
    assert {(r.subject.text, r.relation, r.negated, r.hedged) for r in decided} == {
        ("edaravone", "inhibits", True, True), ("streptomycin", "causes", False, False)}
