"""Documents: the two real blog posts in ../shared/documents plus small fixtures
covering reference lists, author–year citations, HTML and Markdown."""
from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.datatypes import Document
from pipeline.documents.citations import citation_markers, parse_reference_list
from pipeline.documents.reading import DocumentError, load_document, parse_document, read_documents
from pipeline.documents.sentences import split_sentences

SHARED_DOCS = Path(os.environ.get("LITMINE_SHARED") or Path(__file__).resolve().parents[2] / "shared") / "documents"
FIXTURES = Path(__file__).resolve().parent / "data" / "documents"


def sentences_of(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


def containing(doc: Document, fragment: str):
    matches = [s for s in doc.sentences if fragment in s.text]
    assert len(matches) == 1, [s.text for s in matches]
    return matches[0]


@pytest.fixture(scope="module")
def pssd() -> Document:
    return load_document(SHARED_DOCS / "pssd-glutamate.txt")


@pytest.fixture(scope="module")
def ssri() -> Document:
    return load_document(SHARED_DOCS / "ssri-blunted-affect.txt")


# --- the real documents ------------------------------------------------------

def test_pssd_title_boilerplate_and_offsets(pssd: Document) -> None:
    assert pssd.name == "pssd-glutamate"
    assert pssd.title == ("Why is PSSD so damn persistent and treatment-resistant: "
                          "more insight into the glutamatergic system")
    assert pssd.topic == pssd.title
    boilerplate = [s.text for s in pssd.sentences if s.kind == "boilerplate"]
    assert boilerplate == ["top of page", "Updated: Mar 31, 2021", "1,105 views", "Recent Posts", "See All",
                           "bottom of page"]
    for s in pssd.sentences:
        assert pssd.text[s.start:s.end] == s.text
    assert [s.index for s in pssd.sentences] == list(range(len(pssd.sentences)))


def test_pssd_numbered_markers(pssd: Document) -> None:
    sertraline = containing(pssd, "Sertraline was reported to inhibit Kv1.5, Kir4.1")
    assert sertraline.markers == ["4", "5", "6", "7", "8", "9"]
    assert sertraline.text.endswith("sharing its Kir4.1 inhibition.")
    platelets = containing(pssd, "platelets are viewed as peripheral markers")
    assert platelets.markers == ["11", "12", "13"]
    assert platelets.text.endswith("in the CNS [11][12][13]")
    assert containing(pssd, "reduces glutamate uptake in human platelets").markers == ["10"]
    assert containing(pssd, "Citalopram [2]").markers == ["2"]
    assert containing(pssd, "loss of libido").markers == ["3"]
    assert containing(pssd, "Suffice to say").markers == []


def test_pssd_references_unresolved_except_pmcid(pssd: Document) -> None:
    numbered = {str(n) for n in range(1, 17)}
    assert set(pssd.references) == numbered | {"PMC4335176"}
    assert all(pssd.references[n].raw == "" and pssd.references[n].resolved_by == "" for n in numbered)
    pmc = pssd.references["PMC4335176"]
    assert (pmc.pmcid, pmc.resolved_by, pmc.raw) == ("PMC4335176", "pmcid", "PMC4335176/table/T1")
    assert containing(pssd, "list of these genes").markers == ["PMC4335176"]


def test_pssd_headings_and_sections(pssd: Document) -> None:
    headings = [s.text for s in pssd.sentences if s.kind == "heading"]
    assert "Neuroplasticity:" in headings
    assert "Why only a small percentage of people end up suffering from PSSD?" in headings
    assert containing(pssd, "long-term potentiation (LTP)").section == "Neuroplasticity"
    assert containing(pssd, "More rat studies").section.startswith("Why only a small percentage")
    assert containing(pssd, "It's very common").section == pssd.title


def test_ssri_structure(ssri: Document) -> None:
    assert ssri.title == "Neurobiology of SSRI-Induced Blunted Affect"
    assert [s.text for s in ssri.sentences[:7] if s.kind == "boilerplate"] == [
        "9", "May", "2025", "Posted On May 9, 2025", "By [email protected]", "And has No Comment"]
    bullet = containing(ssri, "5-HT1A receptor desensitization")
    assert bullet.kind == "bullet"
    assert bullet.section == "Direct 5-HT Effects"
    assert bullet.text == ("5-HT1A receptor desensitization: Autoreceptor downregulation in raphe nuclei "
                           "alters emotional processing")
    vs = containing(ssri, "Prefrontal-limbic serotonin ratio")
    assert (vs.kind, vs.section) == ("bullet", "Regional 5-HT Imbalance")
    assert vs.text.endswith("PFC vs. limbic 5-HT")
    bullets = [s for s in ssri.sentences if s.kind == "bullet"]
    assert len(bullets) == (SHARED_DOCS / "ssri-blunted-affect.txt").read_text().count("\n- ") == 36
    assert {s.section for s in bullets} >= {"Mesolimbic Reward Circuit", "Reward System", "Chronobiological Factors"}
    assert containing(ssri, "emotional blunting or flattened affect").kind == "prose"
    assert ssri.references == {}


# --- reference lists and citation markers ------------------------------------

def test_reference_list_shapes_resolve() -> None:
    doc = load_document(FIXTURES / "reference-list.txt")
    refs = doc.references
    assert (refs["1"].pmid, refs["1"].resolved_by) == ("15485686", "pmid")
    assert refs["2"].resolved_by == "citation"
    assert refs["2"].citation == {
        "first_author": "Ohno", "authors": "Ohno Y, Hibino H, Lossin C, et al",
        "title": "Inhibition of astroglial Kir4.1 channels by selective serotonin reuptake inhibitors",
        "journal": "Brain Res", "year": "2007", "volume": "1178", "first_page": "44"}
    assert (refs["3"].doi, refs["3"].resolved_by) == ("10.1000/xyz.123", "doi")
    assert (refs["4"].pmid, refs["4"].resolved_by) == ("12345678", "pmid")
    assert (refs["5"].pmcid, refs["5"].resolved_by) == ("PMC4335176", "pmcid")
    assert (refs["6"].doi, refs["6"].resolved_by) == ("10.1016/j.x.2019.01.001", "doi")
    assert (refs["7"].raw, refs["7"].resolved_by) == ("", "")  # cited, but not in the list
    assert containing(doc, "Kv1.5").markers == ["2", "3", "4", "5"]
    # the list's lines are not sentences; trailing web furniture still is
    assert not any("PMID" in s.text or "Brain Res" in s.text for s in doc.sentences)
    assert doc.sentences[-1].kind == "boilerplate"


def test_reference_list_without_heading_is_found_at_the_end() -> None:
    doc = parse_document("Sertraline inhibits Kir4.1 [1].\n\n1. PMID: 15485686\n2. Smith J. A title. "
                         "J Neurosci. 2007;27(3):123-9.\n")
    assert [s.text for s in doc.sentences] == ["Sertraline inhibits Kir4.1 [1]."]
    assert doc.references["1"].pmid == "15485686"
    assert doc.references["2"].citation["journal"] == "J Neurosci"


def test_numbered_list_of_claims_is_not_a_reference_list() -> None:
    doc = parse_document("Findings\n\n1. Sertraline inhibits Kir4.1 channels\n2. Fluoxetine blocks Kv1.5\n")
    assert [(s.kind, s.text) for s in doc.sentences[1:]] == [
        ("bullet", "Sertraline inhibits Kir4.1 channels"), ("bullet", "Fluoxetine blocks Kv1.5")]
    assert doc.references == {}


def test_parse_reference_list_apa_and_urls() -> None:
    refs = parse_reference_list([
        "Autry, A. E., & Monteggia, L. M. (2011). NMDA receptor blockade at rest triggers rapid",
        "Not a citation, just a note",
        "https://example.org/some/page",
    ])
    apa = refs["Autry2011"]
    assert apa.resolved_by == "citation"
    assert apa.citation["first_author"] == "Autry" and apa.citation["year"] == "2011"
    assert (refs["2"].resolved_by, refs["2"].citation) == ("", {})
    assert refs["3"].resolved_by == "url"


def test_a_vancouver_reference_with_the_year_alone_gives_its_title_and_journal() -> None:
    """Online first, or a bibliography without volume and pages: what title search needs."""
    (ref,) = parse_reference_list(["1. Bao Y, Prescott J, et al. Telomere length in 1990 and 2010 cohorts. Gut. 2017."]
                                  ).values()
    assert ref.citation == {"first_author": "Bao", "authors": "Bao Y, Prescott J, et al",
                            "title": "Telomere length in 1990 and 2010 cohorts", "journal": "Gut", "year": "2017"}


def test_author_year_markers_resolve_against_unnumbered_list() -> None:
    doc = load_document(FIXTURES / "author-year.txt")
    assert containing(doc, "NMDA receptors (Anis").markers == ["Anis1983"]
    assert containing(doc, "AMPA receptors").markers == ["Maeng2008", "Autry2011"]
    assert containing(doc, "metabolite mechanism").markers == ["Zanos2016", "Zanos2018"]
    anis = doc.references["Anis1983"]
    assert anis.resolved_by == "citation"
    assert {k: anis.citation[k] for k in ("first_author", "journal", "year", "volume", "first_page")} == {
        "first_author": "Anis", "journal": "Br J Pharmacol", "year": "1983", "volume": "79", "first_page": "565"}
    autry = doc.references["Autry2011"].citation
    assert (autry["journal"], autry["volume"], autry["first_page"]) == ("Nature", "475", "91")
    assert doc.references["Zanos2016"].resolved_by == ""


@pytest.mark.parametrize("sentence, markers", [
    ("Sertraline inhibits Kir4.1 [4].", ["4"]),
    ("channels [4][5][6]", ["4", "5", "6"]),
    ("channels [4-9]", ["4", "5", "6", "7", "8", "9"]),
    ("channels [4–6]", ["4", "5", "6"]),
    ("channels [4, 5]", ["4", "5"]),
    ("channels [4,6-8] and [4]", ["4", "6", "7", "8", "4"]),
    ("as shown (Smith et al., 2019)", ["Smith2019"]),
    ("as shown (Smith and Jones, 2019; Lee 2020)", ["Smith2019", "Lee2020"]),
    ("as shown (e.g., van der Berg et al., 2019a)", ["vanderBerg2019a"]),
    ("Smith et al. (2019) showed it", ["Smith2019"]),
    ("see PMID: 123 and PMID 456", ["PMID:123", "PMID:456"]),
    ("see doi:10.1016/j.x.2019.01.001.", ["doi:10.1016/j.x.2019.01.001"]),
    ("see (https://doi.org/10.1016/S0140-6736(20)30183-5)", ["doi:10.1016/s0140-6736(20)30183-5"]),
    ("genes: PMC4335176/table/T1", ["PMC4335176"]),
    ("at https://pmc.ncbi.nlm.nih.gov/articles/PMC123456/ and https://www.ncbi.nlm.nih.gov/pubmed/987",
     ["PMC123456", "PMID:987"]),
    ("no citations here (n = 12, p < 0.05) or at https://example.org", []),
    ("FDA approval (1991) came later", []),
])
def test_citation_markers(sentence: str, markers: list[str]) -> None:
    assert [ref.marker for _, ref in citation_markers(sentence)] == markers


# --- markup ------------------------------------------------------------------

def test_html_document() -> None:
    doc = load_document(FIXTURES / "article.html")
    assert doc.title == "Fluoxetine & the 5-HT2C receptor"
    assert "var claim" not in doc.text and "color: red" not in doc.text
    assert "Home" not in doc.text and "Copyright" not in doc.text
    first = containing(doc, "antagonizes")
    assert first.text == "Fluoxetine antagonizes 5-HT2C receptors (Ni and Miledi, 1997)."
    assert first.markers == ["Ni1997", "PMID:8961959"]  # the link's target is an id too
    assert containing(doc, "inhibits astroglial Kir4.1").markers == ["1"]
    bullets = [s for s in doc.sentences if s.kind == "bullet"]
    assert [s.text for s in bullets] == ["Norfluoxetine: the active metabolite inhibits CYP2D6",
                                         "Weight effects: see this review"]
    assert all(s.section == "Mechanisms" for s in bullets)
    assert bullets[1].markers == ["PMC3141498"]
    assert doc.references["1"].citation["journal"] == "Brain Res"  # <ol> items are numbered entries


def test_markdown_document() -> None:
    doc = load_document(FIXTURES / "notes.md")
    assert doc.title == "Sertraline and glutamate uptake"
    assert "**" not in doc.text and "](" not in doc.text and "Code is not prose" not in doc.text
    assert containing(doc, "platelets (PMID 12345678)").markers == ["PMID:12345678"]
    kv = containing(doc, "Kv1.5 block")
    assert (kv.kind, kv.section, kv.text) == ("bullet", "Channels", "Kv1.5 block: see the paper")
    assert kv.markers == ["doi:10.1016/j.ejphar.2008.01.001"]
    mirror = containing(doc, "Platelets mirror")
    assert (mirror.section, mirror.markers) == ("Platelet Markers", ["2", "PMC4335176"])
    assert doc.references["2"].pmcid == "PMC4335176"
    assert doc.references["1"].resolved_by == "citation"


def test_url_is_fetched(tmp_path: Path) -> None:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(FIXTURES))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        local = Settings(allow_private_urls=True)  # the test's server is on this machine
        doc = load_document(f"{base}/article.html", settings=local)
        assert (doc.name, doc.title) == ("article", "Fluoxetine & the 5-HT2C receptor")
        assert doc.path == f"{base}/article.html"
        with pytest.raises(DocumentError, match=r"missing\.html: cannot fetch: HTTP 404"):
            load_document(f"{base}/missing.html", settings=local)
    finally:
        server.shutdown()
        server.server_close()


# --- errors ------------------------------------------------------------------

def test_errors_name_the_file_and_problem(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"nope\.txt: no such file"):
        load_document(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text("  \n\n")
    with pytest.raises(DocumentError, match=r"empty\.txt: document is empty"):
        load_document(tmp_path / "empty.txt")
    (tmp_path / "paper.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(DocumentError, match=r"paper\.pdf: not a readable PDF \("):
        load_document(tmp_path / "paper.pdf")
    (tmp_path / "draft.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(DocumentError, match=r"draft\.doc: unsupported file type '\.doc'; expected one of .*\.docx"):
        load_document(tmp_path / "draft.doc")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait.".encode("latin-1"))
    with pytest.raises(DocumentError, match=r"latin1\.txt: not readable as utf-8"):
        load_document(tmp_path / "latin1.txt")
    (tmp_path / "script.html").write_text("<html><script>x = 1</script></html>")
    with pytest.raises(DocumentError, match=r"script\.html: document is empty"):
        load_document(tmp_path / "script.html")
    with pytest.raises(DocumentError, match="http://127.0.0.1:1/x.txt: cannot fetch"):
        load_document("http://127.0.0.1:1/x.txt", settings=Settings(allow_private_urls=True))
    with pytest.raises(DocumentError, match="unknown format 'pdf'"):
        parse_document("text", fmt="pdf")


def test_crlf_and_bom_are_normalized(tmp_path: Path) -> None:
    path = tmp_path / "win.txt"
    path.write_bytes("\ufeffTitle Line\r\n\r\nSertraline inhibits Kir4.1 [1].\r\n".encode("utf-8"))
    doc = load_document(path)
    assert doc.title == "Title Line"
    assert [s.text for s in doc.sentences] == ["Title Line", "Sertraline inhibits Kir4.1 [1]."]


# --- sentence splitting -------------------------------------------------------

def test_split_sentences_keeps_abbreviations_decimals_and_initials() -> None:
    text = ("Smith et al. reported it. Sertraline (2.5 mg) inhibited Kv1.5 and Kir4.1, e.g. in astrocytes, "
            "i.e. glia. It was better vs. placebo (Fig. 2). Dr. Jones agreed with ca. 10 authors. "
            "Approx. 5 patients improved. See J. Neurosci. 2007;27:123. Levels of vitamin D. Fell.")
    assert sentences_of(text) == [
        "Smith et al. reported it.",
        "Sertraline (2.5 mg) inhibited Kv1.5 and Kir4.1, e.g. in astrocytes, i.e. glia.",
        "It was better vs. placebo (Fig. 2).",
        "Dr. Jones agreed with ca. 10 authors.",
        "Approx. 5 patients improved.",
        "See J. Neurosci. 2007;27:123.",
        "Levels of vitamin D.",
        "Fell.",
    ]


def test_split_sentences_boundaries() -> None:
    assert sentences_of("Is it real? Yes! It is. 25 patients were seen.") == [
        "Is it real?", "Yes!", "It is.", "25 patients were seen."]
    assert sentences_of("It raises glutamate clearance. [14] Next one.") == [
        "It raises glutamate clearance. [14]", "Next one."]
    assert sentences_of("It binds (see Smith et al. 2019). miR-132 falls. p62 rises.") == [
        "It binds (see Smith et al. 2019).", "miR-132 falls.", "p62 rises."]
    assert sentences_of("A heading\nA line that follows\nand wraps here.\n\nlower after blank") == [
        "A heading", "A line that follows\nand wraps here.", "lower after blank"]
    assert sentences_of("  ") == []
    spans = split_sentences("  One.  Two.  ")
    assert spans == [(2, 6), (8, 12)]


def test_split_sentences_on_scifact_abstracts() -> None:
    """Sanity on real abstracts: most split exactly like the corpus's own sentences."""
    import gzip
    import json

    corpus = SHARED_DOCS.parent / "corpora" / "scifact" / "corpus.jsonl.gz"
    if not corpus.exists():
        pytest.skip("shared SciFact corpus not available")
    with gzip.open(corpus, "rt") as lines:
        abstracts = [json.loads(line)["abstract"] for _, line in zip(range(1000), lines)]
    exact = 0
    for sentences in abstracts:
        sentences = [s.strip() for s in sentences if s.strip()]
        exact += sentences_of(" ".join(sentences)) == sentences
    assert exact / len(abstracts) > 0.85


def test_documents_with_the_same_stem_get_distinct_stable_names(tmp_path):
    """Claim ids and citation markers are keyed by a document's name: two notes.* must not share one."""
    paths = []
    for folder, suffix in (("a", ".txt"), ("b", ".md"), ("c/a", ".txt"), ("other", ".txt")):
        path = tmp_path / folder / f"notes{suffix}" if folder != "other" else tmp_path / folder / "alone.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("Sertraline inhibits Kir4.1 [1].\n\nReferences\n1. PMID: 1\n")
        paths.append(str(path))
    docs, errors = read_documents(paths)
    names = [d.name for d in docs]
    assert not errors and len(set(names)) == 4
    assert names[1] == "b/notes" and names[3] == "alone"  # a folder is enough for b; alone keeps its name
    assert names[0].startswith("a/notes~") and names[2].startswith("a/notes~")  # same folder name: a hash too
    assert [d.name for d in read_documents(paths)[0]] == names  # the same paths, the same names
