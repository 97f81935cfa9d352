"""Free-text references without ids found by their title: live through the fake E-utilities server
(which answers a field-tagged query from the real PubMed records it holds), offline from the store;
a fabricated one is not_found, one NCBI could not be asked about is unavailable."""
import csv
from pathlib import Path

import pytest
from fake_clock import FakeClock
from fake_eutils import POOL_FILES, FakeEutils
from pubmed_query import field_search

from pipeline.config import Settings
from pipeline.datatypes import Record, ResolvedReference
from pipeline.documents.reading import load_document, parse_document
from pipeline.outputs.export import write_tables
from pipeline.records.entrez import EntrezClient
from pipeline.records.pubmed import parse_pubmed_xml
from pipeline.records.reference_check import check_reference
from pipeline.records.references import resolve_references
from pipeline.records.store import Store
from pipeline.records.title_search import best_match, title_query

GUT = "Leucocyte telomere length, genetic variants at the TERT gene region and risk of pancreatic cancer"
NOTE = f"""Notes

Telomeres and asthma [1][2][3][4].

References
1. Bao Y, Prescott J, et al. {GUT.replace("length", "lenght")}. Gut. 2016.
2. O'Byrne PM, FitzGerald JM, et al. Inhaled combined budesonide-formoterol as needed in mild asthma. N Engl J
Med. 2018;378:1865-76.
3. Doe J, Roe R. Sertraline reverses telomere shortening in pancreatic astrocytes of mild asthma. J Imag Res.
2018;1(1):1-2.
4. Bao Y. Leucocyte telomere length and the TERT gene region. Gut. 2009.
"""
FOUND = {"1": ("27797938", "ok"), "2": ("29768149", "ok"), "4": ("27797938", "mismatch")}
NOT_MATCHED = "citation not matched in PubMed (ECitMatch, title search)"


def resolve(settings: Settings, offline: bool = False, text: str = NOTE) -> dict[str, ResolvedReference]:
    with Store(settings.data / "litmine.sqlite") as store:
        client = EntrezClient(settings, store, offline=offline, backoff=FakeClock().backoff(budget=1.0))
        return {r.marker: r for r in resolve_references(parse_document(text, path="note.txt"), client)}


def found(refs: dict[str, ResolvedReference]) -> dict[str, tuple[str | None, str]]:
    return {m: (r.pmid, check_reference(r)[0]) for m, r in refs.items() if r.resolved_by == "title_search"}


def test_the_fake_answers_field_tagged_queries_as_pubmed_does(fake_eutils: FakeEutils):
    held = fake_eutils.by_pmid
    assert field_search('(telomere[ti] OR asthma[ti]) AND ("Bao"[au] OR 2018[dp])', held) == ["27797938",
                                                                                            "29768149"]
    assert field_search('(leucocyte[ti] OR telomere[ti] OR asthma[ti]) AND 2016:2020[dp]', held)[0] == "27797938"
    assert field_search('telomere[ti] NOT "bao"[au]', held) == []
    assert field_search('"sertraline"[tiab]', held) is None  # not its kind of query: the fake's other answers


def test_title_query_asks_for_the_title_words_by_the_first_author_or_in_the_year():
    citation = {"title": "Ketamine and the brain: NMDA receptors in depression", "authors": "De Luca F, Smith J",
                "first_author": "De", "year": "2016"}
    assert title_query(citation) == ('(ketamine[ti] OR brain[ti] OR nmda[ti] OR receptors[ti] OR depression[ti]) '
                                     'AND ("De Luca"[au] OR 2015:2017[dp])')


def test_a_candidate_is_taken_when_its_title_matches_and_its_first_author_or_year_agrees():
    citation = {"title": GUT.replace("pancreatic", "pancraetic"), "authors": "Bao Y, et al", "year": "2017"}
    paper = Record(uid="pmid:1", pmid="1", title=f"{GUT}.", authors=["Bao Y", "Prescott J"], year=2017)
    other = Record(uid="pmid:2", pmid="2", title="Telomere length and the risk of lung cancer.",
                   authors=["Bao Y"], year=2017)
    assert best_match(citation, [other, paper]) is paper  # the title decides, not the rank
    assert best_match(citation, [other]) is None
    assert best_match(citation | {"year": "2009"}, [paper]) is paper  # the author agrees: found, a year mismatch
    assert best_match(citation | {"authors": "Wang L"}, [paper]) is paper  # the year agrees
    assert best_match(citation | {"authors": "Wang L", "year": "2009"}, [paper]) is None  # neither agrees


def test_free_text_references_are_found_by_title_live_and_remembered(tmp_path: Path, fake_eutils: FakeEutils):
    settings = Settings(data=tmp_path, eutils_url=fake_eutils.url, ncbi_email="tests@example.org")
    refs = resolve(settings)
    assert found(refs) == FOUND
    assert all(refs[m].status == "resolved" for m in FOUND)
    assert (refs["3"].not_found, refs["3"].reason, check_reference(refs["3"])[0]) == (True, NOT_MATCHED, "not_found")
    assert len(fake_eutils.requests("ecitmatch")) == 2  # only 2 and 3 give journal, volume and page
    terms = [hit.params["term"][0] for hit in fake_eutils.requests("esearch")]
    assert len(terms) == 4 and all("[ti] OR " in t and "[au] OR " in t and "[dp])" in t for t in terms)
    write_tables(tmp_path / "out", [], list(refs.values()), {}, {})
    with (tmp_path / "out" / "references.csv").open(newline="") as handle:
        rows = {row["marker"]: row for row in csv.DictReader(handle)}
    assert {m: (rows[m]["resolved_by"], rows[m]["pmid"]) for m in FOUND} == {
        m: ("title_search", pmid) for m, (pmid, _) in FOUND.items()}
    assert (rows["4"]["reference_check"], rows["4"]["reference_check_detail"]) == (
        "mismatch", "year: reference has 2009, record has 2017")
    assert (rows["3"]["resolved_by"], rows["3"]["reference_check"]) == ("citation", "not_found")
    requests = len(fake_eutils.log)
    again = resolve(settings)  # PubMed's answers are remembered: nothing is asked again
    assert found(again) == FOUND and again["3"].not_found and len(fake_eutils.log) == requests
    offline = resolve(settings, offline=True)
    assert found(offline) == FOUND and len(fake_eutils.log) == requests


def test_offline_free_text_references_are_found_in_the_store_by_title(tmp_path: Path):
    with Store(tmp_path / "litmine.sqlite") as store:
        for path in POOL_FILES:
            store.upsert_records(parse_pubmed_xml(path.read_bytes()))
    settings = Settings(data=tmp_path, eutils_url="http://127.0.0.1:9/", offline=True)
    refs = resolve(settings, offline=True)
    assert found(refs) == FOUND
    # the store is not PubMed: what it lacks may still exist
    assert (refs["3"].status, refs["3"].reason, refs["3"].not_found) == (
        "unavailable", "offline: not in the local store", False)


def test_ncbi_out_of_reach_leaves_free_text_references_unavailable(tmp_path: Path):
    settings = Settings(data=tmp_path, eutils_url="http://127.0.0.1:9/", ncbi_email="tests@example.org")
    refs = resolve(settings)
    assert {(r.status, r.not_found, check_reference(r)[0]) for r in refs.values()} == {
        ("unavailable", False, "unavailable")}
    assert all(r.reason.startswith("unreachable: ") for r in refs.values())


@pytest.mark.parametrize("fault", ["esearch", "efetch"])
def test_a_failed_title_search_after_an_ecitmatch_miss_is_unavailable_not_not_found(tmp_path: Path,
                                                                                    fake_eutils: FakeEutils,
                                                                                    fault: str):
    settings = Settings(data=tmp_path, eutils_url=fake_eutils.url, ncbi_email="tests@example.org")
    fake_eutils.fail_next(1, status=400, util=fault)
    text = NOTE.replace("[1][2][3][4]", "[3]").split("\n1. ")[0] + "\n3. " + NOTE.split("\n3. ")[1].split("\n4. ")[0]
    (ref,) = resolve(settings, text=text).values()
    assert (ref.status, ref.not_found) == ("unavailable", False)
    assert ref.reason.startswith(f"error: {fault} pubmed") and "HTTP 400" in ref.reason
    assert resolve(settings, text=text)["3"].not_found  # the failure was not remembered as PubMed's answer


def test_a_bibliography_entry_without_ids_resolves_by_title_search(tmp_path: Path, fake_eutils: FakeEutils):
    (tmp_path / "paper.md").write_text("---\nbibliography: refs.bib\n---\n\nTelomeres shorten [@bao2017].\n")
    (tmp_path / "refs.bib").write_text("@article{bao2017,\n  author = {Bao, Ying and Prescott, Jennifer},\n"
                                       f"  title = {{{GUT}}},\n  journal = {{Gut}},\n  year = {{2017}}\n}}\n")
    settings = Settings(data=tmp_path, eutils_url=fake_eutils.url, ncbi_email="tests@example.org")
    with Store(tmp_path / "litmine.sqlite") as store:
        (ref,) = resolve_references(load_document(tmp_path / "paper.md"), EntrezClient(settings, store))
    assert (ref.marker, ref.pmid, ref.status, ref.resolved_by) == ("bao2017", "27797938", "resolved", "title_search")
    assert check_reference(ref) == ("ok", "")
    assert not fake_eutils.requests("ecitmatch")  # no volume or page: nothing for ECitMatch to match
