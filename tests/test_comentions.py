"""The co-mention link model: the words between and around a drug and its target, the gold pairs it
learns from, the sides it may take, and what the trained model reads."""
import pickle

import pytest

from pipeline.datatypes import (Claim, DocSentence, ExtractedRecord, GoldDocument, GoldEntity, GoldRelation, Mention,
                                Record, Relation)
from pipeline.models import LINKS, current_pickle
from pipeline.training.comentions import document_examples
from pipeline.verdicts.comentions import (CoMention, Link, LinkModel, apart, apart_features, comention_features,
                                          comentions, link_side, read_link)
from pipeline.verdicts.wording import lessened
from pipeline.verdicts.evidence import Candidates
from pipeline.verdicts.verifier import verify_claim


def spans(sentence: str, *names: str) -> list[tuple[int, int]]:
    return [(sentence.index(n), sentence.index(n) + len(n)) for n in names]


def test_the_words_between_two_names_are_read_with_other_names_masked():
    sentence = "Succinylcholine-induced masseter muscle rigidity during anaesthesia."
    subject, obj = spans(sentence, "Succinylcholine", "masseter muscle rigidity")
    features = comention_features(CoMention(sentence, subject, obj, target="Disease"))
    assert {"between=induce", "s>o:after_first=induce", "order=s>o", "target=Disease", "after=during"} <= set(features)

    sentence = "Antithrombin attenuated the puromycin-induced hematological abnormalities."
    subject, other, obj = spans(sentence, "Antithrombin", "puromycin", "hematological abnormalities")
    features = comention_features(CoMention(sentence, subject, obj, others=(subject, other, obj), target="Disease"))
    assert {"between=attenu", "between=<name>", "name_between", "s>o:after_first=attenu",
            "s>o:before_second=induce", "first_direction=-1"} <= set(features)
    assert "between=puromy" not in features


def named(sentences: list[str], *names: str) -> list[tuple[str, list[Mention]]]:
    """Each sentence with a mention (id = its text) of each name it holds."""
    return [(s, [Mention(s.index(n), s.index(n) + len(n), n, "Chemical", n) for n in names if n in s])
            for s in sentences]


def by_id(side: Mention, sentence: str, mentions: list[Mention]) -> list[Mention]:
    return [m for m in mentions if m.id == side.id]


def claimed(subject: str, obj: str, relation: str = "causes") -> Relation:
    return Relation(Mention(0, 1, subject, "Chemical", subject), relation, Mention(2, 3, obj, "Disease", obj), "", 0)


def test_a_sentence_about_less_of_a_side_is_no_co_mention():
    assert lessened("Women with low folate intake had a greater risk of preterm delivery.", 15, 21)
    assert lessened("Marimastat inhibits elastin degradation in aneurysms.", 20, 27)
    assert lessened("Depletion of antioxidant defenses raises the risk of skin cancer.", 13, 24)
    assert not lessened("Low-dose aspirin reduced the risk of stroke.", 9, 16)
    # a group that reported less of it, patients without it: neither says the drug causes it
    s = "The bupivacaine/rofecoxib group reported significantly less pain than the others."
    assert lessened(s, s.index("pain"), s.index("pain") + 4)
    s = "BNP did not increase in the patients without heart failure given DNR."
    assert lessened(s, s.index("heart"), s.index("heart") + 13)
    s = "Fewer seizures occurred with valproate."
    assert lessened(s, 6, 14) and not lessened(s, s.index("valproate"), len(s) - 1)
    sentences = named(["Low folate intake (and a folate intake above 400) raised the risk of preterm delivery.",
                       "Folate supplements lowered the risk of preterm delivery."],
                      "folate", "Folate", "preterm delivery")
    found = comentions(claimed("Folate", "preterm delivery", "decreases"), sentences, by_id)
    assert [index for index, _ in found] == [1]  # any mention of less folate in a sentence: the sentence is left out


def test_a_record_naming_the_drug_before_the_effect_apart_is_read_apart():
    report = ["Bupropion toxicity.", "Bupropion is an antidepressant.", "Two patients developed cardiac arrhythmias."]
    found = apart(claimed("Bupropion", "cardiac arrhythmias"), named(report, "Bupropion", "cardiac arrhythmias"),
                  by_id)
    assert [n.index for n in found.subject] == [0, 1] and [n.index for n in found.object] == [2]
    features = apart_features(found)
    assert {"s_title", "o_before=develo", "o_word=patien", "title_word=toxici", "gap=1"} <= set(features)
    # the effect named first in the body is as often what the drug was given for: not read
    complaint = ["Chest pain after GTN.", "A man awoke with chest pain.", "He was given GTN."]
    assert apart(claimed("GTN", "chest pain"), named(complaint, "GTN", "chest pain"), by_id) is None
    # named together somewhere: a co-mention, not a record naming them apart
    assert apart(claimed("Bupropion", "cardiac arrhythmias"),
                 named([*report, "Bupropion caused cardiac arrhythmias."], "Bupropion", "cardiac arrhythmias"),
                 by_id) is None


def gold(corpus: str, relations: list[GoldRelation]) -> GoldDocument:
    text = "Cisplatin induced nephrotoxicity and raised KIM1 in rats."
    entities = [GoldEntity("T1", 0, 9, "Cisplatin", "ChemicalEntity", "D002945"),
                GoldEntity("T2", 18, 32, "nephrotoxicity", "DiseaseOrPhenotypicFeature", "D007674"),
                GoldEntity("T3", 44, 48, "KIM1", "GeneOrGeneProduct", "26762")]
    return GoldDocument(corpus, "train", "1", text, entities, relations)


def test_gold_pairs_become_examples_with_their_direction():
    examples = document_examples(gold("biored", [GoldRelation("Positive_Correlation", "D002945", "D007674")]))
    by_target = {e.items[0].target: e.sign for e in examples}
    # the annotated link has its direction; BioRED annotates every link, so the other pair has none
    assert by_target == {"Disease": 1, "Gene": 0}
    # BC5CDR annotates only chemical-induced diseases: its other pairs are left out, not taken as unlinked
    cdr = gold("bc5cdr", [GoldRelation("CID", "D002945", "D007674")])
    cdr.entities = [e for e in cdr.entities if e.type != "GeneOrGeneProduct"] + [
        GoldEntity("T4", 44, 48, "KIM1", "Disease", "D000001")]
    assert sorted(e.sign for e in document_examples(cdr)) == [1]


def test_pairs_named_apart_are_examples_of_their_own_where_the_corpus_annotates_documents():
    text = "Cisplatin was given to rats. Nephrotoxicity followed."
    entities = [GoldEntity("T1", 0, 9, "Cisplatin", "ChemicalEntity", "D002945"),
                GoldEntity("T2", 29, 43, "Nephrotoxicity", "DiseaseOrPhenotypicFeature", "D007674")]
    relation = [GoldRelation("Positive_Correlation", "D002945", "D007674")]
    (example,) = document_examples(GoldDocument("biored", "train", "1", text, entities, relation))
    assert (example.items, example.sign, [n.index for n in example.apart.object]) == ([], 1, [1])
    assert "o_word=follow" in example.features()
    # DrugProt annotates a sentence's links only: a pair named apart says nothing there
    assert document_examples(GoldDocument("drugprot", "train", "1", text, entities, [])) == []


MODEL = LinkModel(classifier=None, direction_threshold=0.8, cited_link_threshold=0.3, search_link_threshold=0.9,
                  apart_direction_threshold=0.5, apart_link_threshold=0.7)


@pytest.mark.parametrize("relation, negated, link, cited, side", [
    ("inhibits", False, Link(-1, 0.95, 0.8, "", 0), True, 1),
    ("activates", False, Link(-1, 0.95, 0.8, "", 0), True, -1),
    ("activates", True, Link(-1, 0.95, 0.8, "", 0), True, 1),  # "does not activate": the link agrees
    ("inhibits", False, Link(-1, 0.7, 0.8, "", 0), True, 0),  # unsure of the direction
    ("inhibits", False, Link(-1, 0.95, 0.8, "", 0), False, 0),  # found by search: the link must be surer
    ("binds", False, Link(-1, 0.95, 0.99, "", 0), True, 0),  # a claim without a direction
    ("causes", False, Link(1, 0.99, 0.8, "", 0, apart=True), True, 1),  # named apart: its own thresholds
    ("causes", False, Link(1, 0.99, 0.6, "", 0, apart=True), True, 0),
    ("causes", False, Link(1, 0.99, 0.99, "", 0, apart=True), False, 0),  # never for a record found by search
])
def test_a_link_takes_a_side_only_with_a_direction_and_enough_confidence(relation, negated, link, cited, side):
    claimed = Relation(Mention(0, 1, "a", "Chemical"), relation, Mention(2, 3, "b", "Gene"), "", 0, negated=negated)
    assert link_side(claimed, link, MODEL, cited)[0] == side


@pytest.fixture(scope="module")
def links(trained) -> LinkModel:
    return pickle.loads(current_pickle(trained, LINKS).read_bytes())


def comention(sentence: str, subject: str, obj: str, target: str) -> list[tuple[int, CoMention]]:
    s, o = spans(sentence, subject, obj)
    return [(0, CoMention(sentence, s, o, (s, o), target=target))]


def test_the_trained_model_reads_which_way_a_drug_goes(links):
    up = read_link(links, comention("Succinylcholine-induced masseter muscle rigidity in children.",
                                    "Succinylcholine", "masseter muscle rigidity", "Disease"))
    down = read_link(links, comention("Celecoxib potently inhibited the activity of COX-2 in human cells.",
                                      "Celecoxib", "COX-2", "Gene"))
    assert (up.sign, down.sign) == (1, -1)
    assert up.sentence.startswith("Succinylcholine")
    assert read_link(links, []) is None


def test_a_cited_paper_that_names_both_sides_takes_the_side_its_words_say(links, kb):
    sertraline, kir = kb.lookup("sertraline")[0].id, kb.lookup("KCNJ10")[0].id
    sentence = "Sertraline potently inhibited Kir4.1 channels."
    (s, e), (o, f) = spans(sentence, "Sertraline", "Kir4.1")
    mentions = [Mention(s, e, "Sertraline", "Chemical", sertraline), Mention(o, f, "Kir4.1", "Gene", kir)]
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [], {sertraline, kir}, [(sentence, mentions)])}
    record = Record(uid="pmid:1", pmid="1", title=sentence)
    for relation, verdict in (("inhibits", "supported"), ("activates", "contradicted")):
        claimed = Relation(Mention(0, 10, "sertraline", "Chemical", sertraline), relation,
                           Mention(20, 26, "Kir4.1", "Gene", kir), f"Sertraline {relation} Kir4.1.", 0)
        claim = Claim("doc", "doc:0:0", DocSentence(0, claimed.sentence, 0, 10, "", ["1"]), claimed)
        candidates = Candidates([record], {"pmid:1"}, False)
        result = verify_claim(claim, candidates, extracted, kb, None, None, links)
        assert result.verdict == verdict
        assert [(e.signal, e.sentence) for e in result.evidence] == [("sentence", sentence)]
        # without the link model, no relation read: nothing decides
        assert verify_claim(claim, candidates, extracted, kb, None, None).verdict == "no_evidence"


def test_a_cited_case_report_naming_the_drug_and_later_its_effect_takes_a_side(links, kb):
    drug, effect = kb.lookup("bupropion")[0], kb.lookup("cardiac arrhythmias")[0]
    sentences = ["Bupropion (Zyban) toxicity.",
                 "Bupropion is a monocyclic antidepressant structurally related to amphetamine.",
                 "Zyban, a sustained-release formulation of bupropion hydrochloride, was released as a smoking "
                 "cessation aid.", "Two patients developed severe cardiac arrhythmias after an overdose."]
    tagged = []
    for sentence in sentences:
        mentions = [Mention(sentence.index(n), sentence.index(n) + len(n), n, c.type, c.id) for n, c in
                    (("Bupropion", drug), ("bupropion", drug), ("cardiac arrhythmias", effect)) if n in sentence]
        tagged.append((sentence, mentions))
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [], {drug.id, effect.id}, tagged)}
    record = Record(uid="pmid:1", pmid="1", title=sentences[0], abstract=" ".join(sentences[1:]))
    for relation, verdict in (("causes", "supported"), ("treats", "contradicted")):
        rel = Relation(Mention(0, 9, "Bupropion", "Chemical", drug.id), relation,
                       Mention(17, 36, "cardiac arrhythmias", "Disease", effect.id), f"Bupropion {relation} it.", 0)
        claim = Claim("doc", "doc:0:0", DocSentence(0, rel.sentence, 0, 10, "", ["1"]), rel)
        result = verify_claim(claim, Candidates([record], {"pmid:1"}, False), extracted, kb, None, None, links)
        assert result.verdict == verdict
        assert result.evidence[0].sentence == f"{sentences[2]} [...] {sentences[3]}"  # the nearest two
        # found by search, a record naming both apart takes no side: that it names both is why it was found
        searched = verify_claim(claim, Candidates([record], set(), False), extracted, kb, None, None, links)
        assert searched.verdict == "no_evidence"


@pytest.mark.parametrize("down, none, up, verdict", [(1, 5, 14, "supported"), (1, 10, 9, "no_evidence")])
def test_a_co_mention_read_with_less_than_even_odds_takes_no_side(kb, down, none, up, verdict):
    """Odds: the direction's probability times the link's (here 0.93 x 0.75 = 0.7 and 0.9 x 0.5 = 0.45),
    the chance that the record links the two that way, as the relations' EVEN_ODDS asks of their reading."""
    from sklearn.dummy import DummyClassifier

    prior = DummyClassifier(strategy="prior").fit([[0]] * 20, [-1] * down + [0] * none + [1] * up)
    model = LinkModel(prior, direction_threshold=0.8, cited_link_threshold=0.3, search_link_threshold=0.9)
    sertraline, kir = kb.lookup("sertraline")[0].id, kb.lookup("KCNJ10")[0].id
    sentence = "Sertraline raised Kir4.1 currents."
    mentions = [Mention(0, 10, "Sertraline", "Chemical", sertraline), Mention(18, 24, "Kir4.1", "Gene", kir)]
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [], {sertraline, kir}, [(sentence, mentions)])}
    claimed = Relation(mentions[0], "activates", mentions[1], "Sertraline activates Kir4.1.", 0)
    claim = Claim("doc", "doc:0:0", DocSentence(0, claimed.sentence, 0, 10, "", ["1"]), claimed)
    result = verify_claim(claim, Candidates([Record(uid="pmid:1", pmid="1", title=sentence)], {"pmid:1"}, False),
                          extracted, kb, None, None, model)
    assert result.verdict == verdict


@pytest.mark.parametrize("down, up, verdict", [(15, 1, "supported"), (1, 15, "mixed")])
def test_a_paper_read_both_ways_takes_the_side_its_words_say_where_it_is_the_heavier(kb, down, up, verdict):
    """Relations read both ways in one paper make it mixed (`paper_stance`); where the words around the
    two names take the side that the surer relations take, two readers of three agree and the paper
    takes that side; where they take the other, it stays mixed."""
    from sklearn.dummy import DummyClassifier

    prior = DummyClassifier(strategy="prior").fit([[0]] * 20, [-1] * down + [0] * 4 + [1] * up)
    model = LinkModel(prior, direction_threshold=0.8, cited_link_threshold=0.3, search_link_threshold=0.9)
    sertraline, kir = kb.lookup("sertraline")[0].id, kb.lookup("KCNJ10")[0].id
    sentences = ["Sertraline inhibited Kir4.1 currents.", "Sertraline then raised Kir4.1 currents."]
    mentions = [[Mention(0, 10, "Sertraline", "Chemical", sertraline), Mention(s.index("Kir"), s.index("Kir") + 6,
                                                                               "Kir4.1", "Gene", kir)]
                for s in sentences]
    relations = [Relation(*mentions[0][:1], "inhibits", mentions[0][1], sentences[0], 0, confidence=0.9),
                 Relation(*mentions[1][:1], "activates", mentions[1][1], sentences[1], 1, confidence=0.6)]
    extracted = {"pmid:1": ExtractedRecord("pmid:1", relations, {sertraline, kir}, list(zip(sentences, mentions)))}
    claimed = Relation(mentions[0][0], "inhibits", mentions[0][1], "Sertraline inhibits Kir4.1.", 0)
    claim = Claim("doc", "doc:0:0", DocSentence(0, claimed.sentence, 0, 10, "", ["1"]), claimed)
    candidates = Candidates([Record(uid="pmid:1", pmid="1", title=sentences[0])], {"pmid:1"}, False)
    assert verify_claim(claim, candidates, extracted, kb, None, None).verdict == "mixed"  # the relations alone
    assert verify_claim(claim, candidates, extracted, kb, None, None, model).verdict == verdict


@pytest.mark.parametrize("sentence, verdict", [("Sertraline raised Kir4.1 currents in two patients.", "supported"),
                                               ("Chronic sertraline therapy for Kir4.1 disorders is common.",
                                                "no_evidence")])
def test_a_co_mention_read_as_the_drugs_doing_where_it_names_what_the_drug_is_given_for_takes_no_side(
        kb, sentence, verdict):
    """The link model read "receiving prolonged vancomycin course for osteomyelitis" as the drug causing
    it; an indication, as the relations' `misread` says, is no such reading."""
    from sklearn.dummy import DummyClassifier

    prior = DummyClassifier(strategy="prior").fit([[0]] * 20, [-1] * 1 + [0] * 1 + [1] * 18)
    model = LinkModel(prior, direction_threshold=0.8, cited_link_threshold=0.3, search_link_threshold=0.9)
    drug, target = kb.lookup("sertraline")[0].id, kb.lookup("KCNJ10")[0].id
    (s, e), (o, f) = spans(sentence.lower(), "sertraline", "kir4.1")
    mentions = [Mention(s, e, sentence[s:e], "Chemical", drug), Mention(o, f, "Kir4.1", "Gene", target)]
    extracted = {"pmid:1": ExtractedRecord("pmid:1", [], {drug, target}, [(sentence, mentions)])}
    claimed = Relation(Mention(0, 10, "Sertraline", "Chemical", drug), "activates",
                       Mention(21, 27, "Kir4.1", "Gene", target), "Sertraline activates Kir4.1.", 0)
    claim = Claim("doc", "doc:0:0", DocSentence(0, claimed.sentence, 0, 10, "", ["1"]), claimed)
    result = verify_claim(claim, Candidates([Record(uid="pmid:1", pmid="1", title=sentence)], {"pmid:1"}, False),
                          extracted, kb, None, None, model)
    assert result.verdict == verdict
