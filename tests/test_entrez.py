"""EntrezClient through the real Bio.Entrez code path against the local fake E-utilities."""
from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from Bio import Entrez

from fake_clock import FakeClock
from fake_eutils import BIOPYTHON, FakeEutils
from pipeline.config import Settings
from pipeline.records.entrez import EntrezClient, EntrezError, Unreachable, mask
from pipeline.records.store import Store

pytestmark = pytest.mark.skipif(not BIOPYTHON.is_dir(), reason="../shared/entrez is missing")

KEY = "SECRET-api-KEY-0123456789"
ROOT = Path(__file__).resolve().parents[1]


def ids(n: int, start: int = 30_000_000) -> list[str]:
    return [str(start + i) for i in range(n)]


@pytest.fixture
def settings(tmp_path: Path, fake_eutils: FakeEutils) -> Settings:
    return Settings(data=tmp_path, eutils_url=fake_eutils.url, ncbi_email="tests@example.org")


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "litmine.sqlite") as s:
        yield s


@pytest.fixture(autouse=True)
def clock(fake_clock: FakeClock) -> FakeClock:
    return fake_clock


def client_for(settings: Settings, store: Store | None = None, clock: FakeClock | None = None,
               budget: float = 300.0, **kwargs) -> EntrezClient:
    """A client whose retries sleep on `clock` (a fresh fake one by default)."""
    return EntrezClient(settings, store, backoff=(clock or FakeClock()).backoff(budget), **kwargs)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/entrez/eutils/"


def test_biopython_retries_are_handed_to_litmine(settings: Settings) -> None:
    client_for(settings)
    assert Entrez.max_tries == 1


def test_450_ids_in_at_most_three_efetch_requests(fake_eutils, settings, store) -> None:
    wanted = ids(450)
    result = client_for(settings, store).fetch_records(wanted)
    assert sorted(result.records) == sorted(wanted) and not result.unavailable
    assert result.fetched == 450 and result.from_store == 0
    assert len(fake_eutils.requests("efetch")) <= 3
    assert all(result.records[p].pmid == p and result.records[p].uid == f"pmid:{p}" for p in wanted)
    assert len(store.get_many(wanted)) == 450
    assert all(hit.params["tool"] == ["litmine"] for hit in fake_eutils.log)
    assert fake_eutils.requests("epost")[0].method == "POST"


def test_small_batch_not_found_and_invalid_ids(fake_eutils, settings, store) -> None:
    fake_eutils.missing = {"30000002"}
    result = client_for(settings, store).fetch_records(ids(4) + ["abc", "27797938"])
    assert result.unavailable == {"30000002": "not found in PubMed", "abc": "not a PMID"}
    assert result.records["27797938"].pmcid == "PMC5442267"  # a real record, untouched
    assert len(fake_eutils.requests("efetch")) == 1 and not fake_eutils.requests("epost")


def test_429s_are_retried_and_the_rate_holds(fake_eutils, settings, store) -> None:
    fake_eutils.fail_next(5, status=429)
    result = client_for(settings, store).fetch_records(ids(120))
    assert len(result.records) == 120 and not result.unavailable
    assert [hit.status for hit in fake_eutils.log] == [429] * 5 + [200]
    assert {hit.method for hit in fake_eutils.log} == {"POST"}  # Biopython POSTs long id lists
    assert fake_eutils.peak_rate() <= 3


OTHER_COMMAND = """
import sys
from pathlib import Path
from pipeline.config import Settings
from pipeline.records.entrez import EntrezClient
from pipeline.records.retries import Backoff
settings = Settings(data=Path(sys.argv[1]), eutils_url=sys.argv[2], ncbi_email="tests@example.org")
result = EntrezClient(settings, backoff=Backoff(base=0.05)).fetch_records([str(60_000_000 + i) for i in range(100)])
print(len(result.records), len(result.unavailable))
"""


def test_429_storm_from_threads_and_another_process(fake_eutils, settings, store, clock) -> None:
    """Three threads and a second `litmine` process share one bucket through a 429 storm."""
    fake_eutils.storm(2.0, retry_after=None)  # pure backoff: only the bucket keeps the rate
    other = subprocess.Popen([sys.executable, "-c", OTHER_COMMAND, str(settings.data), settings.eutils_url],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)
    client = client_for(settings, store, clock)
    batches = [ids(150, start=40_000_000 + 1000 * k) for k in range(3)]
    results = {}

    def run(k: int) -> None:
        results[k] = client.fetch_records(batches[k])

    threads = [threading.Thread(target=run, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert other.communicate(timeout=60)[0].split() == ["100", "0"]
    assert all(len(results[k].records) == 150 and not results[k].unavailable for k in range(3))
    statuses = [hit.status for hit in fake_eutils.log]
    assert statuses.count(429) >= 3 and statuses.count(200) == 4
    assert fake_eutils.peak_rate() <= 3


def test_retry_after_is_honoured(fake_eutils, settings, clock) -> None:
    fake_eutils.fail_next(1, status=429, retry_after=1.5)
    client_for(settings, clock=clock).efetch_pubmed(ids(3))
    assert len(fake_eutils.requests("efetch")) == 2 and clock.sleeps[0] >= 1.5


def test_a_retry_after_beyond_the_budget_is_honoured_by_giving_up(fake_eutils, settings, clock) -> None:
    fake_eutils.fail_next(1, status=503, retry_after=600)
    result = client_for(settings, clock=clock, budget=300).fetch_records(ids(3))
    assert len(fake_eutils.log) == 1 and not clock.sleeps  # no try before the server's time
    assert all("gave up after 1 try" in why for why in result.unavailable.values())


def test_server_errors_drops_resets_and_incomplete_reads_are_retried(fake_eutils, settings) -> None:
    for status in (500, 502, 503):
        fake_eutils.fail_next(1, status=status)
    fake_eutils.drop_next(1)
    fake_eutils.reset_next(1)
    fake_eutils.incomplete_next(1)
    records = client_for(settings).efetch_pubmed(ids(5))
    assert len(records) == 5
    assert len(fake_eutils.requests("efetch")) == 7


def test_a_burst_of_faults_longer_than_six_tries_loses_nothing(fake_eutils, settings, store, clock) -> None:
    """Issue 18's burst, and more: six tries in ten seconds used to declare NCBI unreachable."""
    fake_eutils.fail_next(8, status=429)
    fake_eutils.fail_next(1, status=503)
    fake_eutils.reset_next(1)
    fake_eutils.truncate_next(1)
    client = client_for(settings, store, clock)
    result = client.fetch_records(ids(20))
    assert len(result.records) == 20 and not result.unavailable and not client.offline
    assert len(clock.sleeps) == 11 and sum(clock.sleeps) <= 300


def test_search_backend_failed_is_retried_other_ncbi_errors_are_not(fake_eutils, settings, store) -> None:
    fake_eutils.ncbi_error_next(2, util="esearch")
    client = client_for(settings, store)
    assert client.esearch("biopython", retmax=2) == ["41282813", "41148224"]
    assert len(fake_eutils.requests("esearch")) == 3
    fake_eutils.ncbi_error_next(1, message="Invalid query syntax", util="esearch")
    with pytest.raises(EntrezError, match="NCBI says: Invalid query syntax") as error:
        client.esearch("biopython")
    assert not isinstance(error.value, Unreachable) and len(fake_eutils.requests("esearch")) == 4


def test_html_pages_and_malformed_xml_are_retried(fake_eutils, settings, store) -> None:
    fake_eutils.html_next(1, util="esearch")
    fake_eutils.malformed_next(1, util="esearch")
    client = client_for(settings, store)
    assert client.esearch("biopython", retmax=1) == ["41282813"]
    fake_eutils.html_next(1, util="efetch")
    fake_eutils.malformed_next(1, util="efetch")
    assert len(client.fetch_records(ids(4)).records) == 4
    assert len(fake_eutils.log) == 6


def test_slow_replies_time_out_and_are_retried(fake_eutils, settings) -> None:
    fake_eutils.slow_next(1, seconds=2.0)
    records = client_for(settings, timeout=0.5).efetch_pubmed(ids(2))
    assert len(records) == 2 and len(fake_eutils.requests("efetch")) == 2


def test_client_errors_are_not_retried(fake_eutils, settings, store) -> None:
    fake_eutils.fail_next(1, status=400)
    client = client_for(settings, store)
    result = client.fetch_records(ids(3))
    assert not result.records
    assert all(reason.startswith("error: efetch pubmed") and "HTTP 400" in reason
               for reason in result.unavailable.values())
    assert len(fake_eutils.log) == 1 and not client.offline
    fake_eutils.fail_next(1, status=404)
    with pytest.raises(EntrezError):
        client.esearch("anything")


def test_truncated_response_is_retried_and_never_stored_half(fake_eutils, settings, store) -> None:
    wanted = ids(450)
    seen_in_store = []
    fake_eutils.on_request = lambda hit: seen_in_store.append(len(store.get_many(wanted)))
    fake_eutils.truncate_next(2)
    result = client_for(settings, store).fetch_records(wanted)
    assert len(result.records) == 450
    efetches = fake_eutils.requests("efetch")
    assert len(efetches) == 3  # two cut responses, then the full one
    assert seen_in_store == [0] * len(fake_eutils.log)  # nothing stored before the full response
    assert len(store.get_many(wanted)) == 450


def test_truncation_that_never_ends_stores_nothing(fake_eutils, settings, store, clock) -> None:
    wanted = ids(20)
    fake_eutils.truncate_next(1000)
    client = client_for(settings, store, clock, budget=5)
    result = client.fetch_records(wanted)
    assert not result.records and not store.get_many(wanted)
    tries = len(fake_eutils.log)
    assert tries > 1 and sum(clock.sleeps) <= 5
    assert all(r.startswith("unreachable: ") and f"gave up after {tries} tries" in r
               for r in result.unavailable.values())
    assert client.offline


def test_a_bad_record_in_a_batch_costs_only_itself(fake_eutils, settings, store) -> None:
    fake_eutils.broken = {"30000001"}
    result = client_for(settings, store).fetch_records(ids(4))
    assert sorted(result.records) == ["30000000", "30000002", "30000003"]
    assert result.unavailable["30000001"].startswith("error: ") and "without MedlineCitation/Article" in \
        result.unavailable["30000001"]
    assert len(fake_eutils.log) == 1  # not retried: asking again gets the same record


def test_offline_explicit_serves_the_store_and_reports_the_rest(fake_eutils, settings, store) -> None:
    known, unknown = ids(3), ids(2, start=50_000_000)
    client_for(settings, store).fetch_records(known)
    before = len(fake_eutils.log)
    for client in (client_for(settings, store, offline=True),
                   client_for(settings.with_overrides(offline=True), store)):
        assert client.offline
        result = client.fetch_records(known + unknown)
        assert sorted(result.records) == known and result.from_store == 3
        assert result.unavailable == {p: "offline" for p in unknown}
        with pytest.raises(Unreachable):
            client.esearch("anything")
    assert len(fake_eutils.log) == before


def test_offline_only_when_a_closed_port_stays_closed_for_the_budget(settings, store, fake_eutils, clock) -> None:
    known, unknown = ids(2), ids(2, start=50_000_000)
    client_for(settings, store).fetch_records(known)
    client = client_for(settings.with_overrides(eutils_url=closed_port_url()), store, clock, budget=5)
    assert not client.offline
    result = client.fetch_records(known + unknown)
    assert client.offline
    assert len(clock.sleeps) >= 2 and sum(clock.sleeps) <= 5  # a refused connection is retried first
    assert sorted(result.records) == known
    assert set(result.unavailable) == set(unknown)
    assert all(r.startswith("unreachable: ") and "cannot connect" in r for r in result.unavailable.values())
    sleeps = len(clock.sleeps)
    t0 = time.monotonic()
    again = client.fetch_records(unknown)  # no new connection attempt, no retries
    assert time.monotonic() - t0 < 0.2 and set(again.unavailable) == set(unknown)
    assert client.pmcid_to_pmid("PMC1234567") is None and len(clock.sleeps) == sleeps


def test_after_an_outage_a_later_batch_tries_again_once(fake_eutils, settings, store, clock) -> None:
    fake_eutils.drop_next(1000)
    client = client_for(settings, store, clock, budget=5)
    assert not client.fetch_records(ids(2)).records and client.offline
    tries = len(fake_eutils.log)
    clock.advance(4)
    assert client.fetch_records(ids(2)).unavailable and len(fake_eutils.log) == tries  # still waiting
    clock.advance(2)
    assert not client.offline  # the wait is over: the next request tries, once
    assert client.fetch_records(ids(2)).unavailable and client.offline
    assert len(fake_eutils.log) == tries + 1
    fake_eutils.clear()
    clock.advance(6)
    assert len(client.fetch_records(ids(2)).records) == 2 and not client.offline and not client.outage


def test_cache_first_then_refresh(fake_eutils, settings, store) -> None:
    wanted = ids(10)
    client = client_for(settings, store)
    client.fetch_records(wanted)
    count = len(fake_eutils.log)
    second = client.fetch_records(wanted)
    assert len(fake_eutils.log) == count  # 0 requests
    assert second.from_store == 10 and second.fetched == 0
    third = client.fetch_records(wanted, refresh=True)
    assert len(fake_eutils.requests("efetch")) == 2
    assert third.fetched == 10 and third.from_store == 0


def test_failed_refresh_keeps_the_stored_copy(fake_eutils, settings, store) -> None:
    wanted = ids(3)
    client_for(settings, store).fetch_records(wanted)
    fake_eutils.fail_next(1, status=400)
    result = client_for(settings, store).fetch_records(wanted, refresh=True)
    assert sorted(result.records) == wanted and result.from_store == 3 and not result.unavailable


def test_api_key_never_shows_in_logs_or_errors(fake_eutils, tmp_path, store, caplog) -> None:
    settings = Settings(data=tmp_path, eutils_url=fake_eutils.url, ncbi_email="t@example.org", ncbi_api_key=KEY)
    caplog.set_level(logging.DEBUG)
    client = client_for(settings, store)
    assert client.limiter.rate == 10
    fake_eutils.fail_next(2, status=429)
    client.fetch_records(ids(5))
    client.esearch("aspirin")  # a GET: the key is in the URL
    fake_eutils.fail_next(1, status=400)
    with pytest.raises(EntrezError) as error:
        client.esummary(ids(2))
    offline = client_for(settings.with_overrides(eutils_url=closed_port_url()), store, budget=1)
    with pytest.raises(Unreachable) as unreachable:
        offline.esearch("aspirin")
    no_scheme = client_for(settings.with_overrides(eutils_url="eutils.example.org/entrez/eutils/"), store)
    with pytest.raises(EntrezError) as unknown_url:  # urllib's ValueError quotes the whole URL
        no_scheme.esearch("aspirin")
    assert all(hit.params.get("api_key") == [KEY] for hit in fake_eutils.log)  # it is sent...
    assert "GET http://127.0.0.1" in caplog.text and "api_key=***" in caplog.text
    assert "unknown url type" in str(unknown_url.value) and "api_key=***" in str(unknown_url.value)
    for exc in (error.value, unreachable.value, unknown_url.value):
        assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)  # none unmasked below
    for text in (caplog.text, str(error.value), str(unreachable.value), str(unknown_url.value), repr(settings)):
        assert KEY not in text  # ...but never shown
    assert mask(f"x?api_key={KEY}&y=1 and {KEY}", KEY) == "x?api_key=***&y=1 and ***"


def test_pmcid_and_doi_conversion_is_cached(fake_eutils, settings, store) -> None:
    client = client_for(settings, store)
    assert client.pmcid_to_pmid("pmc5442267") == "27797938"
    assert client.doi_to_pmid("https://doi.org/10.1136/GUTJNL-2016-312510") == "27797938"
    assert client.pmcid_to_pmid("PMC1") is None  # NCBI has none: remembered too
    searches = len(fake_eutils.requests("esearch"))
    assert searches == 3
    assert [hit.params["term"][0] for hit in fake_eutils.requests("esearch")][:2] == [
        "PMC5442267[pmcid]", '"10.1136/gutjnl-2016-312510"[doi]']
    assert client.pmcid_to_pmid("PMC5442267") == "27797938"
    assert client.doi_to_pmid("10.1136/gutjnl-2016-312510") == "27797938"
    assert client.pmcid_to_pmid("PMC1") is None
    assert len(fake_eutils.requests("esearch")) == searches
    offline = client_for(settings, store, offline=True)
    assert offline.pmcid_to_pmid("PMC5442267") == "27797938"
    assert offline.doi_to_pmid("doi:10.1136/gutjnl-2016-312510") == "27797938"
    assert offline.pmcid_to_pmid("PMC999") is None and offline.offline
    assert len(fake_eutils.log) == searches


def test_esearch_esummary_elink(fake_eutils, settings, store) -> None:
    client = client_for(settings, store)
    assert client.esearch("biopython", retmax=3) == ["41282813", "41148224", "41011574"]
    fake_eutils.search_results["nothing here"] = []
    assert client.esearch("nothing here") == []
    summaries = client.esummary(["11850928", "30000001"])
    assert [s["Id"] for s in summaries] == ["11850928", "30000001"]
    assert summaries[0]["Source"] == "Arch Dermatol"
    assert client.elink_pmc(["27797938", "28775130", "30000001"]) == {
        "27797938": "PMC5442267", "28775130": "PMC5771820"}


def test_ecitmatch_is_cached(fake_eutils, settings, store) -> None:
    fake_eutils.citations[("gut", "2017", "1121")] = "27797938"
    citations = [
        {"journal_title": "Gut", "year": "2017", "volume": "66", "first_page": "1121", "author_name": "Bao Y"},
        {"journal_title": "Nowhere J", "year": "1999", "volume": "1", "first_page": "1", "author_name": "Doe J"},
    ]
    client = client_for(settings, store)
    assert client.ecitmatch(citations) == ["27797938", None]
    [hit] = fake_eutils.requests("ecitmatch")
    assert hit.params["tool"] == ["litmine"] and "gut|2017|66|1121|bao y|0|" in hit.params["bdata"][0]
    assert client.ecitmatch(citations[:1]) == ["27797938"]
    assert len(fake_eutils.log) == 1


def test_ecitmatch_never_caches_a_miss_from_an_error_reply(fake_eutils, settings, store) -> None:
    fake_eutils.citations[("gut", "2017", "1121")] = "27797938"
    citation = {"journal_title": "Gut", "year": "2017", "volume": "66", "first_page": "1121", "author_name": "Bao Y"}
    fake_eutils.html_next(1000, util="ecitmatch")
    with pytest.raises(Unreachable):
        client_for(settings, store, budget=1).ecitmatch([citation])
    fake_eutils.clear()
    assert client_for(settings, store).ecitmatch([citation]) == ["27797938"]  # asked again, not a cached miss


def test_ecitmatch_caches_only_ncbis_no_match_and_for_a_month(fake_eutils, settings, store) -> None:
    """A reply line with nothing, or something else, where the PMID goes answers nothing (never a
    cached miss); NOT_FOUND is cached, and asked again once it is older than MISS_DAYS."""
    from datetime import datetime, timedelta, timezone

    from pipeline.records.entrez import MISS_DAYS

    citation = {"journal_title": "Gut", "year": "2017", "volume": "66", "first_page": "1121", "author_name": "Bao Y"}
    key = "gut|2017|66|1121|bao y"
    for page, answer in enumerate(("", "Error: the citation service is down")):
        answered = {"journal_title": "Brain", "year": "2018", "volume": "1", "first_page": str(page),
                    "author_name": "Li X"}  # beside it, answered: a reply answering nothing at all is retried
        fake_eutils.citations[("brain", "2018", str(page))] = "30000001"
        fake_eutils.citations[("gut", "2017", "1121")] = answer
        with pytest.raises(EntrezError, match="left 1 unanswered"):
            client_for(settings, store).ecitmatch([citation, answered])
        assert store.recall_id("citation", key) is None
    del fake_eutils.citations[("gut", "2017", "1121")]  # NCBI's NOT_FOUND
    assert client_for(settings, store).ecitmatch([citation]) == [None]
    asked = len(fake_eutils.requests("ecitmatch"))
    assert client_for(settings, store).ecitmatch([citation]) == [None]
    assert len(fake_eutils.requests("ecitmatch")) == asked  # the miss is remembered
    fake_eutils.citations[("gut", "2017", "1121")] = "27797938"  # indexed since
    month_ago = (datetime.now(timezone.utc) - timedelta(days=MISS_DAYS + 1)).replace(microsecond=0).isoformat()
    with store.transaction() as db:
        db.execute("UPDATE id_map SET checked_at = ? WHERE kind = 'citation'", (month_ago,))
    assert client_for(settings.with_overrides(offline=True), store).ecitmatch([citation]) == [None]  # offline: kept
    assert len(fake_eutils.requests("ecitmatch")) == asked
    assert client_for(settings, store).ecitmatch([citation]) == ["27797938"]  # online: asked again


# ---------------------------------------------------------------- a run's searches, together


def _statements(n: int) -> list:
    from pipeline.datatypes import Claim, DocSentence

    return [Claim("doc", f"doc:{i}:s", DocSentence(i, f"Compound{i} blunts emotional reactivity in rats.", 0, 40, "",
                                                   []), None) for i in range(n)]


def test_claims_searched_together_fetch_their_candidates_in_one_batch(fake_eutils, settings, store, kb) -> None:
    """Each claim has its own esearch (PubMed ranks one query at a time), then one fetch takes all
    their candidates: 20 claims of 50 cost 20 esearches, an epost and two efetch pages, where a
    search a claim cost 40 requests."""
    from pipeline.verdicts.evidence import POOL, search_pools, search_query

    claims = _statements(20)
    for n, claim in enumerate(claims):
        fake_eutils.search_results[search_query(claim, kb)[0]] = ids(POOL, 30_000_000 + n * POOL)
    pools = search_pools(claims, client_for(settings, store), kb)
    assert [util for util in (hit.util for hit in fake_eutils.requests())].count("esearch") == 20
    assert [hit.util for hit in fake_eutils.requests() if hit.util != "esearch"] == ["epost", "efetch", "efetch"]
    for n, claim in enumerate(claims):  # each claim's own candidates, in its search's order
        assert [r.pmid for r in pools[claim.claim_id].records] == ids(POOL, 30_000_000 + n * POOL)
        assert pools[claim.claim_id].failure == ""
    assert store.stats()["records"] == 20 * POOL and fake_eutils.peak_rate() <= 3


def test_a_failed_search_or_fetch_of_claims_searched_together_says_why_for_each(fake_eutils, settings, store,
                                                                                kb) -> None:
    """A claim whose esearch failed says so, and the others are unaffected; a fetch that failed
    says so for every claim whose candidates it was to bring; each falls back to the store."""
    from pipeline.datatypes import Record
    from pipeline.verdicts.evidence import search_pools, search_query

    store.upsert_records([Record(uid="pmid:1", pmid="1", title="Compound0 blunts emotional reactivity.")])
    claims = _statements(6)
    for n, claim in enumerate(claims):
        fake_eutils.search_results[search_query(claim, kb)[0]] = ids(5, 30_000_000 + n * 5)
    fake_eutils.fail_next(1, status=400, util="esearch")
    pools = search_pools(claims[:3], client_for(settings, store), kb)
    assert pools["doc:0:s"].failure.startswith("error: esearch") and "HTTP 400" in pools["doc:0:s"].failure
    assert pools["doc:0:s"].records[0].uid == "pmid:1"  # the store's BM25 pool
    assert [(len(pools[c].records), pools[c].failure) for c in ("doc:1:s", "doc:2:s")] == [(5, ""), (5, "")]

    fake_eutils.log.clear()
    fake_eutils.fail_next(1, status=414, util="efetch")
    pools = search_pools(claims[3:], client_for(settings, store), kb)
    assert all(found.failure.startswith("error: efetch") and "HTTP 414" in found.failure for found in pools.values())
    assert [hit.util for hit in fake_eutils.requests()] == ["esearch"] * 3 + ["efetch"]
