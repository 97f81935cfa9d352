"""What benchmarks/bench.py's parts share, and its parts on the records stage: the import
against its ceiling (a plain `executemany` of the same rows into the same schema) and the
requests a fetch makes of the fake E-utilities server (tests/fake_eutils.py)."""
from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import Settings
from pipeline.datatypes import Claim, Document
from pipeline.records.store import Store

if TYPE_CHECKING:
    from pipeline.entities.kb import KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]


class PartFailed(RuntimeError):
    """A part could not measure: the message says why, in one line."""


@dataclass
class Part:
    """What one part measured: figures (None where it could not say), its tables' rows, and why a figure is None."""

    figures: dict[str, float | None]
    tables: dict[str, list[dict]] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


def elapsed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


# ---------------------------------------------------------------- import against its ceiling


def import_part(paths: list[Path]) -> Part:
    """litmine's import of `paths` into an empty store (parsing included, as `litmine import` does,
    which parses the next files in a worker process while it stores one where a core is idle),
    then the same files parsed and stored one after the other in this process, each step timed
    alone, and the ceiling: the same rows with one `executemany` a table."""
    from pipeline.records.importers import (ImportReport, import_paths, parse_job, plan_import, store_parsed,
                                            uncollected)

    with tempfile.TemporaryDirectory(prefix="litmine-bench-import-") as tmp:
        store_path, ceiling_path = Path(tmp) / "litmine.sqlite", Path(tmp) / "ceiling.sqlite"
        with Store(store_path) as store:
            started = time.perf_counter()
            report = import_paths(paths, store, progress=False)
            import_s = time.perf_counter() - started
        if report.errors:
            raise PartFailed(f"the import failed: {report.errors[0]}")
        parse_s = store_s = 0.0
        with Store(Path(tmp) / "apart.sqlite") as apart, uncollected():  # as the import runs them
            for path, fmt in plan_import(paths, ImportReport()):
                started = time.perf_counter()
                batch = parse_job((path, fmt, Settings().max_import_bytes))
                parsed = time.perf_counter()
                store_parsed(path, batch, apart, ImportReport())
                parse_s, store_s = parse_s + parsed - started, store_s + time.perf_counter() - parsed
        rows = table_rows(store_path)
        ceiling_s = elapsed(lambda: insert_plainly(rows, ceiling_path))
        written = {name: len(found) for name, found in table_rows(ceiling_path).items()}
    if written != {name: len(found) for name, found in rows.items()}:
        raise PartFailed("the ceiling's store does not hold the rows litmine's import wrote")
    records, total = len(rows["records"]), sum(written.values())
    if not records:
        raise PartFailed(f"no records in {', '.join(map(str, paths))}")
    table = [{"what": what, "seconds": round(seconds, 2), "records_per_s": round(records / seconds),
              "rows_per_s": round(total / seconds) if what != "parsing alone" else None}
             for what, seconds in (("litmine import (parse + store)", import_s), ("parsing alone", parse_s),
                                   ("storing alone (parsed beforehand)", store_s),
                                   ("ceiling: executemany of the same rows", ceiling_s))]
    figures = {"import_over_ceiling": round(ceiling_s / import_s, 3),
               "import_store_over_ceiling": round(ceiling_s / store_s, 3),
               "import_records": records, "import_rows": total, "import_seconds": round(import_s, 2)}
    return Part(figures, {"import": table})


def table_rows(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table of a store, but the full-text index's own tables and `meta`."""
    db = sqlite3.connect(path)
    try:
        names = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'meta' "
                                          "AND name NOT LIKE 'records_fts_%' ORDER BY name")]
        return {name: db.execute(f"SELECT * FROM {name}").fetchall() for name in names}
    finally:
        db.close()


def insert_plainly(rows: dict[str, list[tuple]], path: Path) -> None:
    """The rows into an empty store of litmine's schema and settings (WAL, synchronous=NORMAL), one
    `executemany` a table, in one transaction."""
    from pipeline.records.schema import MIGRATIONS, statements

    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("BEGIN")
        for statement in (s for script in MIGRATIONS for s in statements(script)):
            db.execute(statement)
        db.execute("COMMIT")
        db.execute("BEGIN")
        for name, found in rows.items():
            if found:
                db.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(found[0]))})", found)
        db.execute("COMMIT")
    finally:
        db.close()


# ---------------------------------------------------------------- Entrez against the fake E-utilities


def entrez_part(settings: Settings, kb: KnowledgeBase, searches: int, bulk: int) -> Part:
    """Two fetches into empty stores, online against the fake E-utilities server, without an API key:
    a run's (the demo documents' references resolved, then `searches` of their uncited sentences
    searched as the flow searches its claims, `search_pools`: an esearch each, then one fetch for all,
    each search answered with POOL new records) and one fetch of `bulk` PMIDs at once. The PMIDs
    are BC5CDR's; the fake serves a real article for each."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fake_eutils import FakeEutils

    from pipeline.records.bioc_pubtator import parse_pubtator
    from pipeline.records.entrez import EntrezClient
    from pipeline.records.references import resolve_references
    from pipeline.verdicts.evidence import POOL, search_pools, search_query

    corpus = sorted((settings.shared / "corpora" / "bc5cdr").glob("*.PubTator.txt"))
    pmids = list(dict.fromkeys(r.pmid for path in corpus for r in parse_pubtator(path).records if r.pmid))
    documents, claims = demo_statements(settings)
    by_query: dict[str, Claim] = {}  # the fake answers a query, not a claim: one claim a query
    for claim in claims:
        by_query.setdefault(search_query(claim, kb)[0], claim)
    claims = list(by_query.values())
    if searches > len(claims) or searches * POOL > len(pmids) or bulk > len(pmids):
        raise PartFailed(f"asked for {searches} searches and {bulk} PMIDs; the demo has {len(claims)} uncited "
                         f"sentences searched by different queries and BC5CDR {len(pmids)} PMIDs")
    fake = FakeEutils().start()
    rows = []

    def fetched(what: str, fetch: Callable[[EntrezClient], object]) -> None:
        fake.log.clear()
        with tempfile.TemporaryDirectory(prefix="litmine-bench-entrez-") as tmp:
            local = settings.with_overrides(data=Path(tmp), eutils_url=fake.url, ncbi_api_key="",
                                            ncbi_email="bench@example.org", offline=False)
            with Store(local.store_path) as store:
                seconds = elapsed(lambda: fetch(EntrezClient(local, store)))
                records = store.stats()["records"]
        requests = len(fake.requests())
        rows.append({"fetch": what, "records": records, "requests": requests, "seconds": round(seconds, 1),
                     "requests_per_1000_records": round(1000 * requests / records, 1) if records else None,
                     "peak_requests_per_s": fake.peak_rate()})

    def run_fetch(client: EntrezClient) -> None:
        for document in documents:
            resolve_references(document, client)
        for n, claim in enumerate(claims[:searches]):
            fake.search_results[search_query(claim, kb)[0]] = pmids[n * POOL:(n + 1) * POOL]
        search_pools(claims[:searches], client, kb)  # as the flow searches its claims: together

    try:
        fetched(f"a run: the demo's references, {searches} searches of {POOL}", run_fetch)
        fetched(f"{bulk} PMIDs at once", lambda client: client.fetch_records(pmids[:bulk]))
    finally:
        fake.stop()
    run, at_once = rows
    return Part({"entrez_requests_per_1000_records": run["requests_per_1000_records"],
                 "entrez_bulk_requests_per_1000_records": at_once["requests_per_1000_records"],
                 "entrez_peak_requests_per_s": max(r["peak_requests_per_s"] for r in rows)}, {"entrez": rows})


def demo_statements(settings: Settings) -> tuple[list[Document], list[Claim]]:
    """The demo's documents, and each sentence of theirs that cites nothing as a statement claim (ids
    unique across the documents, as a run's are)."""
    from pipeline.documents.reading import load_document

    documents = [load_document(path) for path in sorted((settings.shared / "documents").glob("*.txt"))]
    return documents, [Claim(doc.name, f"{doc.name}:{i}", sentence, None) for doc in documents
                       for i, sentence in enumerate(doc.sentences)
                       if sentence.kind in ("prose", "bullet") and not sentence.markers]
