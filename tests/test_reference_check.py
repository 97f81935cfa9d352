"""References checked as references: retracted, mismatched, not found or unavailable, through
the fake E-utilities server serving real PubMed records and their retraction variants."""
import csv
from pathlib import Path

import pytest
from entrez_variants import variant
from fake_clock import FakeClock
from fake_eutils import FakeEutils

from pipeline.config import Settings
from pipeline.datatypes import Notice, Record, ResolvedReference
from pipeline.documents.reading import parse_document
from pipeline.outputs.export import write_tables
from pipeline.records.citation_match import normalise, title_similarity
from pipeline.records.entrez import EntrezClient
from pipeline.records.reference_check import REFERENCE_CHECKS, check_reference, disagreements
from pipeline.records.references import resolve_references
from pipeline.records.store import Store

GUT = "Leucocyte telomere length, genetic variants at the TERT gene region and risk of pancreatic cancer."

NOTE = f"""Notes

Telomeres and cancer [1][2][3][4][5][6].

References
1. Bao Y, Prescott J, Yuan C, et al. {GUT} Gut. 2017;66(6):1116-1122. PMID: 27797938
2. O'Byrne PM, FitzGerald JM, Bateman ED, et al. Inhaled combined budesonide-formoterol as needed in mild
asthma. N Engl J Med. 2018;378(20):1865-76. PMID: 29768149
3. Lerro CC, Beane Freeman LE, et al. Occupational pesticide exposure and subclinical hypothyroidism among
male pesticide applicators. Occup Environ Med. 2018;75(2):79-89. PMID: 28775130
4. Smith J, Jones K. Sertraline blocks astrocytic Kir4.1 channels in the rat hippocampus. Glia.
2015;63(4):100-10. PMID: 12091962
5. Doe J. A study that was never published anywhere. J Imag Res. 2021;1(1):1-2. PMID: 39999999
6. Roe R. Another invented paper on channels. J Imag Res. 2022;2:3-4. doi:10.9999/invented.2022
"""


def test_titles_match_through_case_punctuation_unicode_typos_and_truncation():
    assert normalise("β-Blockers and Naïve T-cells: A Review!") == "beta blockers and naive t cells a review"
    assert title_similarity(GUT, "Leucocyte telomere length, genetic variants at the TERT gene region") == 1.0
    assert title_similarity(GUT, GUT.replace("telomere", "telomare").replace("pancreatic", "pancraetic")) > 0.9
    assert title_similarity(GUT, "Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma.") < 0.5


def test_what_disagrees_is_said_and_a_bare_id_names_nothing_to_disagree_with():
    raw = f"Bao Y, et al. {GUT} Gut. 2017;66(6):1116-1122."
    assert disagreements(raw, GUT, ["Bao Y"], 2018) == []  # a year off by one: online first, print later
    found = disagreements(raw.replace("Bao Y", "Smith J").replace("2017", "2011"), GUT, ["Bao Y"], 2017)
    assert found == ["first author: reference has Smith J, record has Bao Y",
                     "year: reference has 2011, record has 2017"]
    asked = "De Luca F et al. Is telomere length a marker? Gut. 2011;66:1116-1122."  # a title ending in "?"
    assert disagreements(asked, "Is telomere length a marker?", ["De Luca F"], 2011) == []
    assert disagreements(asked, "Is telomere length a marker?", ["Bao Y"], 2017) == [
        "first author: reference has De Luca F, record has Bao Y", "year: reference has 2011, record has 2017"]
    (title,) = disagreements(raw, "Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma.", ["Bao Y"], 2017)
    assert title.startswith("title (similarity 0.") and "Budesonide" in title
    assert disagreements("PMID: 27797938", "Another title altogether", ["Smith J"], 1990) == []


def test_a_record_of_doubtful_standing_is_checked_with_its_notice():
    def check(**record):
        return check_reference(ResolvedReference("d", "1", "PMID: 1", "1", None, None, "pmid", "resolved",
                                                 record=Record(uid="pmid:1", pmid="1", **record)))

    assert check() == ("ok", "")
    assert check(notices=[Notice("RetractionIn", "9")]) == ("retracted", "notice PMID 9")
    assert check(publication_types=["Retracted Publication"]) == ("retracted", "")
    assert check(notices=[Notice("ExpressionOfConcernIn", "8")]) == ("expression_of_concern", "notice PMID 8")
    assert check(notices=[Notice("ErratumIn", "7"), Notice("CommentIn", "6")]) == ("erratum", "notice PMID 7")
    assert check(publication_types=["Retraction of Publication"]) == ("ok", "")  # citing a notice is no fault
    unresolved = ResolvedReference("d", "2", "", None, None, None, "", "unresolved", "no reference")
    assert check_reference(unresolved) == ("", "")


def resolve(settings: Settings, offline: bool = False) -> dict[str, tuple[str, str]]:
    with Store(settings.data / "litmine.sqlite") as store:
        client = EntrezClient(settings, store, offline=offline, backoff=FakeClock().backoff(budget=1.0))
        references = resolve_references(parse_document(NOTE, path="note.txt"), client)
        write_tables(settings.data / "out", [], references, {}, {})
    with (settings.data / "out" / "references.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["reference_check"] for r in rows} <= set(REFERENCE_CHECKS)
    return {r["marker"]: (r["reference_check"], r["reference_check_detail"]) for r in rows}


@pytest.fixture()
def settings(tmp_path: Path, fake_eutils: FakeEutils) -> Settings:
    for name in ("pubmed4-retracted.xml", "pubmed-29768149-concern.xml"):
        fake_eutils.serve(variant(name))
    fake_eutils.missing.add("39999999")
    return Settings(data=tmp_path, eutils_url=fake_eutils.url, ncbi_email="tests@example.org")


def test_references_csv_says_retracted_mismatch_and_not_found(settings: Settings, fake_eutils: FakeEutils):
    checks = resolve(settings)
    assert checks["1"] == ("retracted", "notice PMID 90000001")
    assert checks["2"] == ("expression_of_concern", "notice PMID 90000002")
    assert checks["3"] == ("ok", "")  # PubMed's own record, cited with its real title, authors and year
    check, detail = checks["4"]  # a real PMID under another paper's citation
    assert check == "mismatch" and "title (similarity" in detail and "first author: reference has Smith" in detail
    assert checks["5"] == ("not_found", "not found in PubMed")  # NCBI answered: no such PMID
    assert checks["6"] == ("not_found", "no PMID known for doi:10.9999/invented.2022")
    assert all(h.status == 200 for h in fake_eutils.log)
    # offline, what was fetched or converted is remembered, with no request; a PMID PubMed lacked is
    # not (a PMID beyond today's last one may exist tomorrow), so it cannot be told apart from one never asked
    requests = len(fake_eutils.log)
    assert resolve(settings, offline=True) == checks | {"5": ("unavailable", "offline")}
    assert len(fake_eutils.log) == requests


def test_ncbi_out_of_reach_is_unavailable_never_not_found(tmp_path: Path):
    settings = Settings(data=tmp_path, eutils_url="http://127.0.0.1:9/", ncbi_email="tests@example.org")
    checks = resolve(settings)
    assert {check for check, _ in checks.values()} == {"unavailable"}
