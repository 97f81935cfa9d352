"""Claims from the shared documents, with the baseline tagger and extractor."""
import pytest

from pipeline.claims import extract_claims
from pipeline.config import load_settings
from pipeline.documents import load_document, parse_document
from pipeline.entities import DictionaryTagger
from pipeline.relations import TriggerExtractor

DOCUMENTS = load_settings().shared / "documents"


@pytest.fixture(scope="module")
def tagger(kb):
    return DictionaryTagger(kb)


def test_sertraline_channel_claims_carry_ids_and_citations(tagger, kb):
    claims = extract_claims(load_document(DOCUMENTS / "pssd-glutamate.txt"), tagger, TriggerExtractor())
    found = {(c.relation.subject.name.lower(), c.relation.relation, c.relation.object.id): c for c in claims}
    kcnj10 = kb.lookup("KCNJ10")[0].id
    kcna5 = kb.lookup("KCNA5")[0].id
    for drug, target in [("sertraline", kcna5), ("sertraline", kcnj10), ("fluoxetine", kcnj10),
                         ("fluvoxamine", kcnj10)]:
        claim = found[(drug, "inhibits", target)]
        assert claim.citations == ["4", "5", "6", "7", "8", "9"]
        assert not claim.relation.negated


def test_bullets_take_the_document_topic_as_subject(tagger, kb):
    claims = extract_claims(load_document(DOCUMENTS / "ssri-blunted-affect.txt"), tagger, TriggerExtractor())
    htr1a = kb.lookup("HTR1A")[0].id
    (claim,) = [c for c in claims if c.relation.object.id == htr1a]
    assert claim.implicit_subject and claim.relation.subject.id == "CLASS:SSRI"
    assert claim.relation.relation == "decreases" and claim.sentence.section == "Direct 5-HT Effects"


def test_negated_and_hedged_claims(tagger):
    doc = parse_document("Sertraline did not inhibit Kir4.1 channels [1].\n\n"
                         "Fluoxetine may inhibit Kir4.1 channels [2].\n", path="note.txt")
    claims = {c.relation.subject.name.lower(): c for c in extract_claims(doc, tagger, TriggerExtractor())}
    assert claims["sertraline"].relation.negated and not claims["sertraline"].relation.hedged
    assert claims["fluoxetine"].relation.hedged and claims["fluoxetine"].citations == ["2"]
