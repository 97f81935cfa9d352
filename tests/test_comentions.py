"""The co-mention link model: the words between and around a drug and its target, the gold pairs it
learns from, the sides it may take, and what the trained model reads."""
import pickle

import pytest

from pipeline.datatypes import (Claim, DocSentence, ExtractedRecord, GoldDocument, GoldEntity, GoldRelation, Mention,
                                Record, Relation)
from pipeline.models import LINKS, current_pickle
from pipeline.training.comentions import document_examples
from pipeline.verdicts.comentions import CoMention, Link, LinkModel, comention_features, link_side, read_link
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


MODEL = LinkModel(classifier=None, direction_threshold=0.8, cited_link_threshold=0.3, search_link_threshold=0.9)


@pytest.mark.parametrize("relation, negated, link, cited, side", [
    ("inhibits", False, Link(-1, 0.95, 0.8, "", 0), True, 1),
    ("activates", False, Link(-1, 0.95, 0.8, "", 0), True, -1),
    ("activates", True, Link(-1, 0.95, 0.8, "", 0), True, 1),  # "does not activate": the link agrees
    ("inhibits", False, Link(-1, 0.7, 0.8, "", 0), True, 0),  # unsure of the direction
    ("inhibits", False, Link(-1, 0.95, 0.8, "", 0), False, 0),  # found by search: the link must be surer
    ("binds", False, Link(-1, 0.95, 0.99, "", 0), True, 0),  # a claim without a direction
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
    sentence = "Sertraline is a potent inhibitor of Kir4.1 channels."
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
