"""The HTML report: one self-contained, escaped, deterministic page per run."""
import re
from dataclasses import replace

import pytest

from pipeline.datatypes import (Claim, ClaimResult, Document, EvidenceItem, Mention, Notice, Record, Relation,
                                ResolvedReference)
from pipeline.documents.reading import parse_document
from pipeline.outputs.report import REPORT_FILE, highlight, write_report
from pipeline.outputs.runs import Change
from pipeline.verdicts.calibration import calibrated
from pipeline.verdicts.strength import PEOPLE, Scope, assess, claim_scope, weigh

NOTE = """Kir4.1 notes <script>alert('title')</script>

Channels

Sertraline inhibits Kir4.1 channels [1]. Fluoxetine activates Kir4.1 <script>alert(1)</script> [2].

Receptors

Trazodone blocks HTR2A.
"""

RECORD = Record(uid="pmid:99000001", pmid="99000001", title="Sertraline blocks astrocytic Kir4.1 channels.",
                abstract="Sertraline inhibited Kir4.1 currents in cultured astrocytes.", journal="Glia",
                year=2015, mesh_terms=["Animals", "Rats", "Cells, Cultured"], publication_types=["Journal Article"])
SEARCHED = Record(uid="scifact:42", title="Trazodone <img src=x onerror=alert(2)> and HTR2A", year=2001)


def mention(sentence: str, text: str, type_: str, id_: str) -> Mention:
    start = sentence.index(text)
    return Mention(start, start + len(text), text, type_, id_)


def relation(sentence: str, subject: str, rel: str, obj: str, index: int = 0, **flags) -> Relation:
    return Relation(mention(sentence, subject, "Chemical", f"DrugBank:{subject}"), rel,
                    mention(sentence, obj, "Gene", f"HGNC:{obj}"), sentence, index, **flags)


@pytest.fixture()
def run() -> tuple[list[Document], list[ClaimResult], list[ResolvedReference]]:
    doc = parse_document(NOTE, "note.txt")
    by_start = {s.text.split()[0]: s for s in doc.sentences}
    claims = [Claim("note", f"note:{s.index}:0", s, relation(s.text, subject, rel, obj, s.index))
              for subject, rel, obj in (("Sertraline", "inhibits", "Kir4.1"), ("Fluoxetine", "activates", "Kir4.1"),
                                        ("Trazodone", "inhibits", "HTR2A"))
              for s in [by_start[subject]]]
    evidence = relation("Sertraline inhibited Kir4.1 currents in cultured astrocytes.", "Sertraline", "inhibits",
                        "Kir4.1", index=1, confidence=0.9)
    searched = relation("Trazodone did not inhibit HTR2A.", "Trazodone", "inhibits", "HTR2A", negated=True)
    strength = weigh(assess(RECORD), claim_scope(claims[0]))  # as the verifier sets it
    results = [
        ClaimResult(claims[0], "supported", 1, 0, 1,
                    [EvidenceItem(claims[0].claim_id, RECORD, "supports", evidence, strength=strength)]),
        ClaimResult(claims[1], "not_checked", 0, 0, 0, [], "cited records unavailable"),
        ClaimResult(claims[2], "contradicted", 0, 1, 3,
                    [EvidenceItem(claims[2].claim_id, SEARCHED, "contradicts", searched)]),
    ]
    references = [
        ResolvedReference("note", "1", "Smith J. Kir4.1 & sertraline. Glia 2015.", "99000001", None, None,
                          "citation", "resolved", record=RECORD),
        ResolvedReference("note", "2", "", None, None, None, "", "unresolved",
                          "the document gives no reference for this marker"),
    ]
    empty = parse_document("Nothing here\n\nThe weather was fine.", "empty.txt")
    return [doc, empty], results, references


def render(tmp_path, run, name="out") -> str:
    path = write_report(tmp_path / name, *run)
    assert path == tmp_path / name / REPORT_FILE
    return path.read_text(encoding="utf-8")


def test_one_self_contained_page_with_a_verdict_chart(tmp_path, run):
    page = render(tmp_path, run)
    assert page.startswith("<!DOCTYPE html>")
    assert "<style>" in page and "<svg" in page
    for external in ("<script", "<link", "@import", "url("):
        assert external not in page  # no JavaScript, no fetched fonts or styles
    assert not re.search(r"<\w+[^>]*\ssrc=", page)  # no fetched images
    links = re.findall(r'href="([^"]*)"', page)
    assert links and all(re.match(r"#|https://(pubmed\.ncbi\.nlm\.nih\.gov|pmc\.ncbi\.nlm\.nih\.gov|doi\.org)/", u)
                         for u in links)
    chart = page[page.index("<svg"):page.index("</svg>")]
    assert chart.count('<rect class="f-') == 3  # supported, contradicted, not checked for note
    for verdict in ("supported", "contradicted", "not_checked"):
        assert f'class="f-{verdict}"' in chart
    assert ">3 claims</text>" in chart and ">0 claims</text>" in chart
    assert 'class="badge v-supported"' in page and "✓ supported <b>1</b>" in page


def test_every_claim_with_its_triple_counts_and_citations(tmp_path, run):
    page = render(tmp_path, run)
    for claim_id in ("note:2:0", "note:3:0", "note:5:0"):
        assert f'id="{claim_id}"' in page
    assert re.search(r'class="claim v-supported" id="note:2:0".*?Sertraline</span> <code class="id">DrugBank:Sertraline'
                     r'.*?— inhibits →.*?Kir4.1</span> <code class="id">HGNC:Kir4.1', page, re.S)
    assert "<b>1</b> paper supports · <b>0</b> contradict · <b>1</b> record read" in page
    assert "cited records unavailable" in page
    assert 'class="cite st-resolved"' in page and 'class="cite st-unresolved"' in page
    assert "No claims about drugs were found in this document." in page


def test_untrusted_text_is_escaped(tmp_path, run):
    page = render(tmp_path, run)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # sentence
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in page  # title
    assert "&lt;img src=x onerror=alert(2)&gt;" in page  # record title
    assert "Kir4.1 &amp; sertraline" in page  # reference


def test_evidence_has_pubmed_links_highlights_and_provenance(tmp_path, run):
    page = render(tmp_path, run)
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/99000001/">PMID 99000001</a>' in page
    assert "scifact:42" in page and "pubmed.ncbi.nlm.nih.gov/scifact" not in page  # no PMID, no link
    assert ('<mark class="ent ent-chemical" title="Chemical DrugBank:Sertraline">Sertraline</mark> inhibited '
            '<mark class="ent ent-gene" title="Gene HGNC:Kir4.1">Kir4.1</mark> currents') in page
    assert "animal (rat), in vitro" in page and "Glia" in page and "2015" in page
    assert 'title="MeSH &#34;Rats&#34;, &#34;Cells, Cultured&#34;">animal study</span>' in page  # and what said so
    assert ">counts " not in page  # a claim about a drug's target: the animal study counts in full
    assert 'class="tag flag">negated</span>' in page
    assert "animal 1, in vitro 1 · published 2015" in page  # the papers' species and years


def test_a_paper_counting_for_less_says_so_beside_its_evidence(tmp_path, run):
    documents, results, references = run
    item = results[0].evidence[0]
    weighed = replace(item, strength=weigh(assess(RECORD), Scope(PEOPLE)))
    page = render(tmp_path, (documents, [replace(results[0], evidence=[weighed]), *results[1:]], references))
    assert ">counts 0.5: a study of animal (rat) and in vitro, for a claim about people</span>" in page


def test_claims_are_grouped_by_section_in_document_order(tmp_path, run):
    page = render(tmp_path, run)
    channels, receptors = page.index("<h3>Channels</h3>"), page.index("<h3>Receptors</h3>")
    assert channels < page.index('id="note:2:0"') < page.index('id="note:3:0"') < receptors
    assert receptors < page.index('id="note:5:0"')
    sentence = page.index("Sertraline</mark> inhibits")  # the claim's sentence is shown once, entities marked
    assert channels < sentence < page.index('id="note:2:0"')


def test_references_table_with_status_reason_links_and_checks(tmp_path, run):
    page = render(tmp_path, run)
    table = page[page.index('<table class="refs">'):]
    assert "the document gives no reference for this marker" in table
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/99000001/"' in table
    assert "<th>check</th>" not in table
    run[2][0].check = "supports the claim"  # the per-citation check, where reconcile provides one
    assert "<th>check</th>" in render(tmp_path, run, "checked")


def test_identical_apart_from_the_run_time(tmp_path, run):
    first, second = render(tmp_path, run, "a"), render(tmp_path, run, "b")
    run_time = re.compile(r'^<p class="run-time">.*\n', re.M)
    assert len(run_time.findall(first)) == 1
    assert run_time.sub("", first) == run_time.sub("", second)


def test_highlight_marks_what_fits_and_escapes_the_rest():
    sentence = "A<b> inhibits KCNJ10."
    marks = [Mention(0, 4, "A<b>", "Chemical", "X:1"), Mention(14, 20, "KCNJ10", "Gene"),
             Mention(0, 0, "SSRI", "Chemical"),  # the document's topic: zero width, nothing to mark
             Mention(15, 18, "CNJ", "Gene"),  # overlaps a mark
             Mention(5, 9, "nope", "Gene")]  # offsets that do not match the text
    assert highlight(sentence, marks) == ('<mark class="ent ent-chemical" title="Chemical X:1">A&lt;b&gt;</mark>'
                                          ' inhibits <mark class="ent ent-gene" title="Gene">KCNJ10</mark>.')


def test_no_local_folders_above_the_working_directory_travel_with_the_report(tmp_path, run, monkeypatch):
    docs, results, references = run
    private = tmp_path / "home" / "someone" / "private"
    monkeypatch.chdir(tmp_path)
    docs = [replace(docs[0], path=str(private / "note.txt")), replace(docs[1], path="https://example.org/empty.html")]
    html = render(tmp_path, (docs, results, references))
    assert "note · home/someone/private/note.txt" in html  # under the working directory: relative
    assert "https://example.org/empty.html" in html
    private.mkdir(parents=True)
    monkeypatch.chdir(private)
    html = render(tmp_path, ([replace(docs[0], path="/elsewhere/secret/note.txt")], results, references), "out2")
    assert "/elsewhere/secret" not in html and "note · note.txt" in html
    html = render(tmp_path, ([replace(docs[0], path="../notes/note.txt")], results, references), "out3")
    assert "note · ../notes/note.txt" in html  # a relative path is shown as given


def test_a_paper_of_doubtful_standing_is_tagged_with_its_notice(tmp_path, run):
    documents, results, references = run
    retracted = replace(RECORD, publication_types=["Journal Article", "Retracted Publication"],
                        notices=[Notice("RetractionIn", "90000001", "Glia. 2019;67:1")])
    item = replace(results[0].evidence[0], record=retracted)
    page = render(tmp_path, (documents, [replace(results[0], evidence=[item]), *results[1:]], references))
    assert re.search(r'title="shown, not counted">retracted: notice PMID 90000001</span>', page)
    cited = [replace(references[0], record=retracted), *references[1:]]
    page = render(tmp_path, (documents, results, cited), name="cited")
    references_table = page[page.index("<h3>References</h3>"):]
    assert re.search(r"<td>retracted<span class=\"reason\">notice PMID 90000001</span></td>", references_table)


def test_a_recheck_opens_on_what_changed(tmp_path, run):
    docs, results, references = run
    assert "What changed" not in render(tmp_path, run)  # a first run has nothing to compare with
    changes = [Change("note", "note:0:0", "Sertraline inhibits Kir4.1 [1].", "newly_retracted", "supported",
                      "no_evidence", "1"),
               Change("note", "note:0:0", "Sertraline inhibits Kir4.1 [1].", "verdict_changed", "supported",
                      "no_evidence", ""),
               Change("note", "note:9:0", "More studies are needed.", "claim_removed", "no_evidence", "", "")]
    page = write_report(tmp_path / "recheck", docs, results, references, changes).read_text(encoding="utf-8")
    section = page[page.index("What changed since the last check"):page.index('<section class="card chart">')]
    assert page.index("What changed") < page.index("Verdicts per document")
    assert 'href="#note:0:0"' in section and "newly retracted" in section and "supported → no evidence" in section
    assert 'href="#note:9:0"' not in section and "was no evidence" in section  # a removed claim is not on the page
    unchanged = write_report(tmp_path / "same", docs, results, references, []).read_text(encoding="utf-8")
    assert "Nothing: the same claims" in unchanged


def test_a_verdict_shows_the_calibrated_confidence_of_claims_csv_and_its_raw_score_on_hover(tmp_path, run):
    documents, results, references = run
    results[0] = replace(results[0], confidence=0.9)
    page = render(tmp_path, (documents, results, references))
    shown = re.search(r'id="note:2:0".*?title="how often verdicts like this one were right[^"]*raw score: 0\.90\)">'
                      r'confidence (\d\.\d\d)<', page, re.S)
    assert shown and shown.group(1) == f"{calibrated(results[0]):.2f}" != "0.90"
