"""Every check-worthy sentence is a claim: a triple where the rules find one, else the sentence
itself; sentences that assert nothing are skipped and counted."""
import pytest
from conftest import shared_document

from pipeline.claims.statements import document_claims, skip_reason
from pipeline.config import load_settings
from pipeline.datatypes import DocSentence
from pipeline.documents.reading import load_document, parse_document
from pipeline.entities.dictionary import DictionaryTagger
from pipeline.relations.triggers import TriggerExtractor

DOCUMENTS = load_settings().shared / "documents"


@pytest.fixture(scope="module")
def tagger(kb):
    return DictionaryTagger(kb)


@pytest.mark.parametrize("text, kind, reason", [
    ("REM sleep is suppressed by SSRIs.", "prose", ""),
    ("1/2000 in the UK have abnormal PrP positivity.", "prose", ""),
    ("Does sertraline inhibit Kir4.1?", "prose", "question"),
    ("We hypothesize that glutamate drives the symptoms.", "prose", "hypothesis"),
    ("Whether this holds in humans is unknown.", "prose", "hypothesis"),
    ("Click here to read more.", "prose", "navigation"),
    ("See also: our earlier post.", "bullet", "navigation"),
    ("Side effects", "prose", "fragment"),
    ("Kinase inhibitor effects", "prose", "fragment"),
    ("Tacrolimus inhibits calcineurin.", "prose", ""),  # three words, one what a thing does to another
    ("Mechanisms of action", "heading", "heading"),
    ("All these channels modulate glutamate uptake.", "prose", "needs context"),
    ("They were blunted in most patients after six weeks.", "prose", "needs context"),
    ("Theophylline blocks adenosine receptors in the brain.", "prose", ""),
    ("For now, we can only hypothesize.", "prose", "hypothesis"),
    ("More rat studies involving PSSD genetics are certainly needed to pinpoint the causes.", "prose",
     "research agenda"),
    ("Further research is needed.", "prose", "research agenda"),
    ("More studies showed that BDNF is needed for plasticity.", "prose", ""),
    ("(You can view a list of these genes here: PMC4335176/table/T1)", "prose", "navigation"),
])
def test_what_is_checked_and_what_is_skipped(text, kind, reason):
    assert skip_reason(DocSentence(0, text, 0, len(text), "", [], kind)) == reason


def test_sentences_without_triples_become_statements(tagger, kb):
    doc = parse_document("Mood\n\nEmotional blunting is reported by nearly half of patients in online surveys.\n\n"
                         "Sertraline inhibits Kir4.1 channels [1].\n\n"
                         "But does this hold for every patient who stops the drug after years of use?\n", "n.txt")
    claims, skipped = document_claims(doc, tagger, TriggerExtractor(), kb)
    kinds = [(c.sentence.text, c.relation is None) for c in claims]
    assert kinds == [("Emotional blunting is reported by nearly half of patients in online surveys.", True),
                     ("Sertraline inhibits Kir4.1 channels [1].", False)]
    statement = claims[0]
    assert statement.claim_id == "n:1:statement" and statement.text.startswith("Emotional blunting is reported")
    assert all(m.id for m in statement.entities)
    assert claims[1].text == "Sertraline inhibits Kir4.1 channels."  # markers are not part of the claim
    assert skipped == {"heading": 1, "question": 1}


def test_most_sentences_of_the_shared_documents_are_read(tagger, kb):
    for path in sorted(DOCUMENTS.glob("*.txt")):
        doc = load_document(path)
        claims, skipped = document_claims(doc, tagger, TriggerExtractor(), kb)
        read = {c.sentence.index for c in claims}
        prose = [s for s in doc.sentences if s.kind in ("prose", "bullet")]
        assert sum(s.index in read for s in prose) >= 0.75 * len(prose), path.name
        assert sum(skipped.values()) + len(read) == len(doc.sentences), path.name


def test_what_the_pssd_post_asserts_nothing_with():
    """Every prose sentence of the PSSD post that is not checked as a statement, and why: read by
    hand, none asserts anything checkable on its own."""
    doc = parse_document(shared_document("pssd-glutamate.txt"), path="pssd-glutamate.txt")
    left_out = [(reason, s.text[:30]) for s in doc.sentences if s.kind == "prose" and (reason := skip_reason(s))]
    assert left_out == [("needs context", "This is important as platelets"),
                        ("needs context", "All these channels modulate gl"),
                        ("navigation", "(You can view a list of these "),
                        ("research agenda", "More rat studies involving PSS"),
                        ("hypothesis", "For now, we can only hypothesi"),
                        ("fragment", "Thanks for reading.")]
