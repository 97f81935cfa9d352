"""Markers to records: resolved, unavailable or unresolved, online and offline."""
from pathlib import Path

from fake_eutils import FakeEutils

from pipeline.config import Settings
from pipeline.documents.reading import parse_document
from pipeline.records.entrez import EntrezClient
from pipeline.records.references import resolve_references
from pipeline.records.store import Store

NOTE = """Notes

Sertraline inhibits Kir4.1 [1][2][3][4][5].

References
1. PMID: 27797938
2. PMC1234567
3. https://doi.org/10.1000/XYZ
4. Smith J, et al. J Neurosci. 2007;27(3):123-9.
"""


def resolve(settings: Settings, offline: bool, settled: list[int] | None = None) -> dict[str, tuple[str | None, str]]:
    """The references' PMIDs and statuses; `settled` gets what resolving told a progress display."""
    told: list[int] = [] if settled is None else settled
    with Store(settings.data / "litmine.sqlite") as store:
        client = EntrezClient(settings, store, offline=offline)
        refs = resolve_references(parse_document(NOTE, path="note.txt"), client, settled=told.append)
    return {r.marker: (r.pmid, r.status) for r in refs}


def test_every_kind_of_reference_resolves_online_and_is_remembered_offline(tmp_path: Path,
                                                                          fake_eutils: FakeEutils):
    fake_eutils.ids[("pmcid", "pmc1234567")] = "11111111"
    fake_eutils.ids[("doi", "10.1000/xyz")] = "22222222"
    fake_eutils.citations[("j neurosci", "2007", "123")] = "33333333"
    settings = Settings(data=tmp_path, eutils_url=fake_eutils.url, ncbi_email="tests@example.org")
    settled: list[int] = []
    online = resolve(settings, offline=False, settled=settled)
    assert settled == [1, 4]  # for a progress display: the unresolved one at once, the four to fetch once fetched
    assert online == {"1": ("27797938", "resolved"), "2": ("11111111", "resolved"),
                      "3": ("22222222", "resolved"), "4": ("33333333", "resolved"),
                      "5": (None, "unresolved")}
    requests, settled = len(fake_eutils.log), []
    assert resolve(settings, offline=True, settled=settled) == online  # conversions and records come from the store
    assert sum(settled) == len(online)
    assert len(fake_eutils.log) == requests


def test_offline_with_an_empty_store_nothing_is_called_no_evidence(tmp_path: Path):
    settings = Settings(data=tmp_path, eutils_url="http://127.0.0.1:9/", offline=True)
    statuses = resolve(settings, offline=True)
    assert statuses == {"1": ("27797938", "unavailable"), "2": (None, "unavailable"),
                        "3": (None, "unavailable"), "4": (None, "unavailable"), "5": (None, "unresolved")}


def test_ncbi_errors_make_one_reference_unavailable_and_the_others_resolve(tmp_path: Path, fake_eutils: FakeEutils):
    """A 400 (a bad key) on the DOI's search and an error page from ecitmatch: those two are
    unavailable with the reason, the rest resolve, nothing raises."""
    fake_eutils.ids[("pmcid", "pmc1234567")] = "11111111"
    settings = Settings(data=tmp_path, eutils_url=fake_eutils.url, ncbi_email="tests@example.org")
    fake_eutils.fail_next(1, status=400, util="esearch")  # the PMCID's search comes first: 400
    fake_eutils.ncbi_error_next(1, message="Invalid query", util="esearch")  # the DOI's: an NCBI error
    fake_eutils.fail_next(1, status=414, util="ecitmatch")
    with Store(settings.data / "litmine.sqlite") as store:
        refs = {r.marker: r for r in resolve_references(parse_document(NOTE, path="note.txt"),
                                                        EntrezClient(settings, store))}
    assert refs["1"].status == "resolved"
    assert (refs["2"].status, refs["2"].reason) == ("unavailable", "error: esearch pubmed: HTTP 400 Bad Request")
    assert (refs["3"].status, refs["3"].reason) == ("unavailable", "error: esearch pubmed: NCBI says: Invalid query")
    assert refs["4"].status == "unavailable" and refs["4"].reason.startswith("error: ecitmatch") \
        and "HTTP 414" in refs["4"].reason
    assert refs["5"].status == "unresolved"
