"""Fault injection: the evidence-check flow, online, against a fake E-utilities server that misbehaves.

For each fault, the real flow checks a small document whose claims cite PMIDs the fake
serves (and one by DOI, and one that needs a search), and the run is held to what issue 18
asks of it: it completes; every cited record either arrives intact (the same content as in
a run without faults) or is `unavailable` with its reason; every claim keeps the verdict of
the fault-free run or is `not_checked` with a note saying what could not be had, never
`no_evidence`; retries stay within the budget; the server never sees more than NCBI's rate.

Retries sleep on a fake clock (tests/fake_clock.py), so a budget of minutes costs no time;
the rate limiter keeps the real clock. `make test-faults` prints the table in README.md.
"""
from __future__ import annotations

import csv
import gzip
import logging
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings

from conftest import KIR_PAPER
from fake_clock import FakeClock
from fake_eutils import BIOPYTHON, FakeEutils
from pipeline.config import load_settings
from pipeline.entities.kb import KnowledgeBase
from pipeline.records.entrez import EntrezClient
from pipeline.records.store import Store
from pipeline.toolkit import Toolkit, open_toolkit

pytestmark = pytest.mark.skipif(not BIOPYTHON.is_dir(), reason="../shared/entrez is missing")

BUDGET = 300.0  # seconds one request may retry: the default, spent on the fake clock
TIMEOUT = 0.5  # seconds the client waits for a reply: a "read timeout" fault replies after a second
SEARCHED = ["99000001", "31000002"]  # what PubMed's search finds for the uncited claim (the first is in the store)
DOCUMENT = """Notes on Kir4.1 and asthma

Sertraline inhibits Kir4.1 channels in astrocytes [1]. Fluoxetine activates Kir4.1 channels [2].
Budesonide reduces severe asthma exacerbations [3].

Sertraline blocks Kir4.1 currents.

References
1. PMID: 31415926
2. PMID: 30108519
3. https://doi.org/10.1056/NEJMoa1715274
"""

Fault = Callable[[FakeEutils], None]
FAULTS: dict[str, Fault] = {
    "429 storm, no Retry-After": lambda f: f.fail_next(15, status=429),
    "HTTP 500": lambda f: f.fail_next(3, status=500),
    "HTTP 502": lambda f: f.fail_next(3, status=502),
    "HTTP 503": lambda f: f.fail_next(3, status=503),
    "connection resets": lambda f: f.reset_next(4),
    "read timeouts": lambda f: f.slow_next(2, seconds=2 * TIMEOUT),
    "truncated XML": lambda f: f.truncate_next(3, util=None),
    "malformed XML": lambda f: f.malformed_next(3),
    "efetch batch with one bad id": lambda f: f.broken.add("30108519"),
    "empty esearch results": lambda f: setattr(f, "any_search", []),
    "wrong content type (HTML page)": lambda f: f.html_next(3),
    "NCBI error: Search Backend failed": lambda f: f.ncbi_error_next(3, util="esearch"),
    "HTTP 400 (bad API key)": lambda f: f.fail_next(1, status=400),
    "HTTP 414 on efetch": lambda f: f.fail_next(1, status=414, util="efetch"),
    "outage longer than the budget": lambda f: f.drop_next(10_000),
}


@dataclass
class Outcome:
    """One run, as the fault table reports it."""

    completed: bool
    references: dict[str, dict[str, str]]  # marker -> references.csv row
    claims: dict[str, dict[str, str]]  # claim_id -> claims.csv row
    records: dict[str, str]  # PMID -> content hash of the record the store holds
    retries: int
    slept: float
    peak: int
    requests: int


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeEutils]:
    server = FakeEutils().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def toolkit(harness, tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase, trained,
            fake: FakeEutils) -> Iterator[Toolkit]:
    """One toolkit (models loaded once) for every run of the module, each run on a store of its own."""
    data = tmp_path_factory.mktemp("faults-data")
    shutil.copy(kb.path, data / "kb.sqlite")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LITMINE_DATA", str(data))
        env.setenv("LITMINE_MODELS", str(trained.models))
        env.setenv("LITMINE_EUTILS_URL", fake.url)
        env.setenv("NCBI_EMAIL", "tests@example.org")
        env.delenv("NCBI_API_KEY", raising=False)
        env.delenv("LITMINE_OFFLINE", raising=False)
        yield open_toolkit(load_settings())


def run(toolkit: Toolkit, fake: FakeEutils, folder: Path, fault: Fault | None = None, document: str = DOCUMENT,
        api_key: str = "") -> Outcome:
    """The flow on `document` with a fresh store (KIR_PAPER only), a fresh client on a fake clock, and `fault`."""
    from flows.evidence_check import evidence_check

    folder.mkdir(parents=True)
    store = Store(folder / "litmine.sqlite")
    store.upsert_records([KIR_PAPER])
    clock = FakeClock()
    toolkit.store = store
    toolkit.client = EntrezClient(toolkit.settings.with_overrides(ncbi_api_key=api_key or None), store,
                                  backoff=clock.backoff(BUDGET), timeout=TIMEOUT)
    fake.clear()
    fake.log.clear()
    fake.broken, fake.any_search = set(), list(SEARCHED)
    if fault is not None:
        fault(fake)
    (folder / "notes.txt").write_text(document)
    try:
        with temporary_settings({PREFECT_LOCAL_STORAGE_PATH: folder / "prefect-cache"}):
            evidence_check([str(folder / "notes.txt")], out=str(folder / "out"))
        completed = True
    except Exception:  # noqa: BLE001 - a run that does not complete is what the table counts
        completed = False
    out = folder / "out"
    references = {r["marker"]: r for r in _rows(out / "references.csv")} if completed else {}
    claims = {r["claim_id"]: r for r in _rows(out / "claims.csv")} if completed else {}
    records = {pmid: record.content_hash() for pmid, record in store.get_many(
        [r["pmid"] for r in references.values() if r["pmid"]]).items()}
    return Outcome(completed, references, claims, records, len(clock.sleeps), sum(clock.sleeps), fake.peak_rate(),
                   len(fake.log))


@pytest.fixture(scope="module")
def baseline(toolkit: Toolkit, fake: FakeEutils, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    outcome = run(toolkit, fake, tmp_path_factory.mktemp("faults") / "baseline")
    assert outcome.completed and outcome.retries == 0
    assert {m: r["status"] for m, r in outcome.references.items()} == {"1": "resolved", "2": "resolved",
                                                                       "3": "resolved"}
    assert len(outcome.claims) >= 4 and fake.requests("esearch") and fake.requests("efetch")
    return outcome


def records_lost(outcome: Outcome, baseline: Outcome) -> list[str]:
    """Cited records neither intact nor marked unavailable with a reason."""
    lost = []
    for marker, expected in baseline.references.items():
        row = outcome.references.get(marker)
        if row is None:
            lost.append(f"[{marker}] missing from references.csv")
        elif row["status"] == "resolved" and outcome.records.get(row["pmid"]) != baseline.records[expected["pmid"]]:
            lost.append(f"[{marker}] resolved to a record that is not PubMed's")
        elif row["status"] == "unavailable" and not row["reason"]:
            lost.append(f"[{marker}] unavailable without a reason")
        elif row["status"] not in ("resolved", "unavailable"):
            lost.append(f"[{marker}] {row['status']}")
    return lost


def claims_mislabelled(outcome: Outcome, baseline: Outcome) -> list[str]:
    """Claims whose verdict differs from the fault-free run's without saying their evidence was incomplete
    (its note), and claims called `no_evidence` on incomplete evidence."""
    wrong = []
    for claim_id, expected in baseline.claims.items():
        row = outcome.claims.get(claim_id)
        incomplete = row is not None and ("cited records unavailable" in row["note"] or "search failed" in row["note"])
        if row is None:
            wrong.append(f"{claim_id} missing")
        elif row["verdict"] == "no_evidence" and incomplete or row["verdict"] != expected["verdict"] and not incomplete:
            wrong.append(f"{claim_id}: {row['verdict']} ({row['note']}), fault-free {expected['verdict']}")
    return wrong


TABLE: dict[str, tuple[bool, int, int, int, int, int]] = {}


@pytest.fixture(scope="module", autouse=True)
def fault_table(request: pytest.FixtureRequest) -> Iterator[None]:
    """The README's table, written to the terminal when the module ends (past pytest's capture)."""
    yield
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if TABLE and reporter is not None and capture is not None:
        lines = ["| fault | runs completed | records lost | records unavailable, with reason | claims mislabelled "
                 "| retries used | peak requests/s |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {name} | {int(done)}/1 | {lost} | {unavailable} | {wrong} | {retries} | {peak} |"
                  for name, (done, lost, unavailable, wrong, retries, peak) in TABLE.items()]
        with capture.global_and_fixture_disabled():
            reporter.write_line("\n\nfault injection (tests/test_faults.py; NCBI allows 3 requests/s without a key):")
            for line in lines:
                reporter.write_line(line)


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_fault_loses_no_record_and_mislabels_no_claim(name: str, toolkit, fake, baseline, tmp_path) -> None:
    outcome = run(toolkit, fake, tmp_path / "run", FAULTS[name])
    lost, wrong = records_lost(outcome, baseline), claims_mislabelled(outcome, baseline)
    unavailable = sum(r["status"] == "unavailable" for r in outcome.references.values())
    TABLE[name] = (outcome.completed, len(lost), unavailable, len(wrong), outcome.retries, outcome.peak)
    assert outcome.completed
    assert not lost and not wrong
    assert outcome.slept <= BUDGET  # retries bounded: at most one request's budget slept in all
    assert outcome.peak <= 3  # NCBI's limit without a key


def test_transient_faults_cost_nothing_but_time(toolkit, fake, baseline, tmp_path) -> None:
    """Issue 18's burst (429s, a 503, a dropped connection, a cut reply at the start of a run)
    used to end in "NCBI unreachable" for the whole run; within the budget it loses nothing."""
    def burst(f: FakeEutils) -> None:
        f.fail_next(6, status=429)
        f.fail_next(1, status=503)
        f.drop_next(1)
        f.truncate_next(1, util=None)

    outcome = run(toolkit, fake, tmp_path / "run", burst)
    assert {m: r["status"] for m, r in outcome.references.items()} == {"1": "resolved", "2": "resolved",
                                                                       "3": "resolved"}
    assert {c: r["verdict"] for c, r in outcome.claims.items()} == \
        {c: r["verdict"] for c, r in baseline.claims.items()}
    assert outcome.retries == 9


def test_a_degraded_fetch_is_not_cached(toolkit, fake, baseline, tmp_path) -> None:
    """A search lost to an outage says so (never `no_evidence`) and leaves the fetch task's result
    uncached: the next run the same day (same store, same key) searches again."""
    from flows.evidence_check import evidence_check

    by_pmid_only = DOCUMENT.replace(" [3]", "").replace("3. https://doi.org/10.1056/NEJMoa1715274\n", "")
    outcome = run(toolkit, fake, tmp_path / "run", lambda f: f.fail_next(10_000, status=503, util="esearch"),
                  by_pmid_only)
    searched = [c for c, r in outcome.claims.items() if not r["cited_pmids"]]
    assert searched and all(outcome.claims[c]["verdict"] != "no_evidence" and "search failed" in
                            outcome.claims[c]["note"] for c in searched)
    fake.clear()
    toolkit.client = EntrezClient(toolkit.settings, toolkit.store, backoff=FakeClock().backoff(BUDGET))
    before = len(fake.requests("esearch"))
    with temporary_settings({PREFECT_LOCAL_STORAGE_PATH: tmp_path / "run" / "prefect-cache"}):
        evidence_check([str(tmp_path / "run" / "notes.txt")], out=str(tmp_path / "again"))
    assert len(fake.requests("esearch")) > before  # not served from the cache
    again = {r["claim_id"]: r for r in _rows(tmp_path / "again" / "claims.csv")}
    assert all("search failed" not in again[c]["note"] for c in searched)


def test_the_api_key_never_shows_in_a_faulty_run(toolkit, fake, baseline, tmp_path, caplog, capsys) -> None:
    """A sentinel key through 429s, a 400, resets, HTML pages and an outage: sent to the server,
    absent from logs, printed output, CSVs, report.html, the records file and every reason, and
    from everything else the run left: the store, Prefect's result cache, and what the Prefect
    API holds (flow and task runs with their parameters, states and logs, and the artifacts)."""
    from prefect.client.orchestration import get_client

    key = "SENTINEL-api-key-4f2b9c"
    caplog.set_level(logging.DEBUG)

    def faults(f: FakeEutils) -> None:
        f.fail_next(3, status=429)
        f.fail_next(1, status=400, util="esearch")
        f.reset_next(1)
        f.html_next(1)
        f.ncbi_error_next(1, message="Invalid api_key", util="esearch")
        f.drop_next(10_000, util="efetch")

    outcome = run(toolkit, fake, tmp_path / "run", faults, api_key=key)
    assert outcome.completed and any(hit.params.get("api_key") == [key] for hit in fake.log)
    out = tmp_path / "run" / "out"
    texts = [caplog.text, *capsys.readouterr()]
    texts += [p.read_text() for p in out.iterdir() if p.suffix in (".csv", ".html")]
    texts.append(gzip.decompress((out / "records.jsonl.gz").read_bytes()).decode())
    with get_client(sync_client=True) as client:
        texts += [run.model_dump_json() for run in client.read_flow_runs()]
        texts += [run.model_dump_json() for run in client.read_task_runs()]
        texts += [log.model_dump_json() for log in client.read_logs()]
        texts += [artifact.model_dump_json() for artifact in client.read_artifacts()]
    assert any("evidence-check-summary" in t for t in texts)  # the API's records are among them
    written = [p for p in (tmp_path / "run").rglob("*") if p.is_file()]
    assert any(p.name == "litmine.sqlite" for p in written) and any("prefect-cache" in p.parts for p in written)
    texts += [p.read_bytes().decode("latin-1") for p in written]
    assert any("HTTP 400" in t for t in texts)  # the faults did reach the outputs...
    assert all(key not in text for text in texts)  # ...the key did not
