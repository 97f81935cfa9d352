"""The record store: idempotent upserts, source merging, search, gold tables, migrations."""
import sqlite3
import threading
from dataclasses import replace

import pytest
from entrez_variants import variant

from pipeline.datatypes import GoldClaim, GoldDocument, GoldEntity, GoldRelation, Notice, Record, RunClaim, Section
from pipeline.records.pubmed import parse_pubmed_xml
from pipeline.records.schema import MIGRATIONS, SCHEMA_VERSION
from pipeline.records.store import Store, StoreError
from pipeline.records.store_rows import annotations_hash, gold_rows



@pytest.fixture()
def store(tmp_path):
    with Store(tmp_path / "litmine.sqlite") as s:
        yield s


def corpus_record(**changes):
    values = dict(uid="pmid:1", pmid="1", title="Sertraline inhibits Kir4.1 channels",
                  abstract="Sertraline caused sexual dysfunction in rats.", source="bc5cdr")
    values.update(changes)
    return Record(**values)


def test_upsert_is_idempotent(store):
    assert store.upsert_records([corpus_record()]).added == 1
    before = store.row_counts()
    counts = store.upsert_records([corpus_record()])
    assert (counts.added, counts.updated, counts.unchanged) == (0, 0, 1)
    assert store.row_counts() == before


def test_richer_source_wins_and_first_corpus_text_is_kept(store):
    store.upsert_records([corpus_record()])
    assert store.upsert_records([corpus_record(title="Other text", source="biored")]).unchanged == 1
    assert store.get("pmid:1").title == "Sertraline inhibits Kir4.1 channels"
    pubmed = corpus_record(title="Sertraline inhibits Kir4.1.", mesh_terms=["Animals", "Rats"],
                           year=2019, source="pubmed")
    assert store.upsert_records([pubmed]).updated == 1
    merged = store.get_by_pmid("1")
    assert (merged.title, merged.year, merged.mesh_terms, merged.source) == (
        "Sertraline inhibits Kir4.1.", 2019, ["Animals", "Rats"], "pubmed")
    assert store.stats()["sources"] == {"bc5cdr": 1, "biored": 1, "pubmed": 1}


def test_records_round_trip_with_sections_and_ids(store):
    record = corpus_record(uid="pmc:PMC42", pmid=None, pmcid="pmc42", doi="10.1/ABC",
                           sections=[Section("Methods", "We patched astrocytes.")], source="pmc")
    store.upsert_records([record])
    assert store.get_by_pmcid("PMC42").sections == [Section("Methods", "We patched astrocytes.")]
    assert store.get_by_doi("10.1/abc").uid == "pmc:PMC42"


def test_authors_pages_and_notices_round_trip(store):
    record = corpus_record(authors=["Bao Y", "Prescott J"], volume="66", pages="1116-1122", source="pubmed",
                           notices=[Notice("RetractionIn", "90000001", "Gut. 2019;68(3):571")])
    store.upsert_records([record])
    loaded = store.get("pmid:1")
    assert (loaded.authors, loaded.volume, loaded.pages, loaded.notices) == (
        record.authors, "66", "1116-1122", record.notices)
    assert loaded.status == "retracted" and loaded.status_notice == "90000001"


def test_a_retraction_pubmed_adds_later_replaces_the_stored_standing(store):
    """Refetching is how a retraction is learnt: PubMed's newer word on a record's standing wins,
    while a corpus copy of the record never clears it."""
    (retracted,) = parse_pubmed_xml(variant("pubmed4-retracted.xml").read_bytes())
    before = replace(retracted, publication_types=["Journal Article"],
                     notices=[n for n in retracted.notices if n.kind != "RetractionIn"])
    store.upsert_records([before])
    generation = store.generation
    assert store.upsert_records([retracted]).updated == 1 and store.generation == generation + 1
    assert store.get("pmid:27797938").status == "retracted"
    corpus_copy = Record(uid="pmid:27797938", pmid="27797938", title=before.title, source="bc5cdr")
    assert store.upsert_records([corpus_copy]).unchanged == 1
    assert store.get("pmid:27797938").status == "retracted"


def test_a_store_made_by_the_previous_schema_opens_and_gains_the_columns(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    for version, migration in enumerate(MIGRATIONS[:3], 1):
        db.executescript(f"BEGIN; {migration} PRAGMA user_version = {version}; COMMIT;")
    db.execute("INSERT INTO records(uid, pmid, title, source, content_hash) VALUES "
               "('pmid:7', '7', 'An old record', 'pubmed', 'x')")
    db.execute("INSERT INTO runs VALUES ('r1', 'k', '[]', '2026-01-01', 'out', '{}')")
    db.execute("INSERT INTO run_claims VALUES ('r1', 'c', 'note:0:0', 'note', 'S.', 'supported', '[]', '[]')")
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 5
        old = store.get("pmid:7")
        assert (old.title, old.authors, old.volume, old.pages, old.notices, old.status) == (
            "An old record", [], "", "", [], "")
        refetched = Record(uid="pmid:7", pmid="7", title="An old record", source="pubmed", authors=["Smith J"],
                           notices=[Notice("ErratumIn", "8")])
        assert store.upsert_records([refetched]).updated == 1
        assert store.get("pmid:7").status == "erratum"
        assert [(c.standing, c.read) for c in store.run_claims("r1")] == [([], [])]  # older runs kept neither


def test_search_ranks_by_bm25_and_sees_updates(store):
    store.upsert_records([corpus_record(),
                          corpus_record(uid="pmid:2", pmid="2", title="Glycogen and memory", abstract="Astrocytes."),
                          corpus_record(uid="pmid:3", pmid="3", title="Unrelated", abstract="Nothing here.")])
    hits = store.search("sertraline sexual dysfunction")
    assert [h.record.pmid for h in hits] == ["1"]
    store.upsert_records([corpus_record(uid="pmid:3", pmid="3", title="Unrelated", abstract="sertraline",
                                        source="pubmed")])
    assert [h.record.pmid for h in store.search("sertraline dysfunction")] == ["1", "3"]
    assert store.search("   ") == []


def test_gold_documents_are_idempotent_and_replaced_on_change(store):
    doc = GoldDocument("bc5cdr", "train", "1", "Lidocaine-induced seizures",
                       [GoldEntity("T1", 0, 9, "Lidocaine", "Chemical", "D008012")],
                       [GoldRelation("CID", "D008012", "D012640")])
    assert store.add_gold_documents([doc]).added == 1
    assert store.add_gold_documents([doc]).unchanged == 1
    doc.entities.append(GoldEntity("T2", 18, 26, "seizures", "Disease", "D012640"))
    assert store.add_gold_documents([doc]).updated == 1
    (loaded,) = store.gold_documents("bc5cdr", "train")
    assert [e.text for e in loaded.entities] == ["Lidocaine", "seizures"]
    assert loaded.relations == [GoldRelation("CID", "D008012", "D012640")]
    rows = gold_rows(loaded)  # as an import's worker hands them over
    assert rows.digest == annotations_hash(doc) and store.add_gold_rows([rows]).unchanged == 1


def test_gold_claims(store):
    claim = GoldClaim("scifact", "dev", "7", "X reduces Y.", "123", "SUPPORT", [1, 2])
    assert store.add_gold_claims([claim, claim]).added == 1
    assert store.gold_claims("scifact", "dev") == [claim]


def test_id_map_remembers_misses(store):
    assert store.recall_id("pmcid", "PMC1") is None
    store.remember_id("pmcid", "PMC1", "")
    store.remember_id("doi", "10.1/x", "42")
    assert (store.recall_id("pmcid", "PMC1"), store.recall_id("doi", "10.1/x")) == ("", "42")


def test_schema_is_versioned(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer than this litmine"):
        Store(path)


def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.sqlite"
    path.write_text("this is not sqlite" * 100)
    with pytest.raises(StoreError, match="broken.sqlite"):
        Store(path)


def test_nested_transactions_land_together(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.upsert_records([corpus_record()])
            store.add_gold_claims([GoldClaim("scifact", "dev", "1", "c", "1", "SUPPORT")])
            raise RuntimeError("disk full")
    assert store.row_counts()["records"] == 0 and store.gold_claims("scifact", "dev") == []


# -- several connections at once: two `litmine run`s, an import, a scheduled run on one store --------

def _both_at_once(*calls) -> list[object]:
    """Run `calls` in threads at the same time; their results, an exception standing for its call's."""
    results: list[object] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - the test looks at what each call raised
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _meeting(monkeypatch, cls, name: str, parties: int = 2) -> None:
    """Make each thread's first call of `cls.name` wait (up to 2 s) until every thread has made
    it: the interleaving in which two connections both look before either writes."""
    barrier, original, met = threading.Barrier(parties, timeout=2), getattr(cls, name), set()

    def waiting(self, *args, **kwargs):
        value = original.fget(self) if isinstance(original, property) else original(self, *args, **kwargs)
        if threading.get_ident() not in met:
            met.add(threading.get_ident())
            try:
                barrier.wait()
            except threading.BrokenBarrierError:  # the other connection waits for this one's lock
                pass
        return value

    monkeypatch.setattr(cls, name, property(waiting) if isinstance(original, property) else waiting)


def test_two_connections_adding_the_same_new_record_both_succeed(tmp_path, monkeypatch):
    """Both look for PMID 1, find nothing, and insert it: the second used to fail with
    IntegrityError, its look having run before its transaction began."""
    path = tmp_path / "litmine.sqlite"
    Store(path).close()
    one, two = Store(path), Store(path)
    _meeting(monkeypatch, Store, "_find_existing")
    results = _both_at_once(lambda: one.upsert_records([corpus_record(year=2019)]),
                            lambda: two.upsert_records([corpus_record(source="biored", mesh_terms=["Rats"])]))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted((r.added, r.updated) for r in results) == [(0, 1), (1, 0)]  # the second merged the first
    record = one.get("pmid:1")
    assert one.row_counts()["records"] == 1 and (record.year, record.mesh_terms) == (2019, ["Rats"])


def test_two_processes_creating_one_store_both_open_it(tmp_path, monkeypatch):
    """Both read schema version 0 and migrate: the second used to fail on "table records already
    exists"; the version is read again inside the write transaction."""
    path = tmp_path / "new.sqlite"
    _meeting(monkeypatch, Store, "schema_version")
    results = _both_at_once(lambda: Store(path), lambda: Store(path))
    assert all(isinstance(r, Store) for r in results), results
    assert [r.schema_version for r in results] == [SCHEMA_VERSION] * 2
    assert results[0].row_counts()["records"] == 0


def test_a_writer_pauses_for_the_lock_only_when_another_waits_for_it(tmp_path):
    """The pause after each second of holding the write lock (TURN) is for a waiting connection:
    one that finds the lock taken leaves a WAITING file beside the store while it waits. An import
    alone no longer pauses; a waiting file left by a killed waiter is ignored after the busy timeout."""
    import os
    import time

    from pipeline.records.store import BUSY_TIMEOUT
    from pipeline.records.write_turns import WAITING, others_wait

    path = tmp_path / "litmine.sqlite"
    holder, waiter = Store(path), Store(path)
    assert not others_wait(path, BUSY_TIMEOUT)
    waiting_files = f".{path.name}.waiting-{os.getpid()}-*"
    with holder.transaction():
        thread = threading.Thread(target=waiter.remember_id, args=("doi", "10.1/d", "4"))
        thread.start()
        deadline = time.monotonic() + 10
        while not list(tmp_path.glob(waiting_files)) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert others_wait(path, BUSY_TIMEOUT)
    thread.join()
    assert waiter.recall_id("doi", "10.1/d") == "4"
    assert not list(tmp_path.glob(waiting_files)) and not others_wait(path, BUSY_TIMEOUT)
    left = tmp_path / WAITING.format(store=path.name, pid=1, connection=2)  # by a killed waiter
    left.touch()
    assert others_wait(path, BUSY_TIMEOUT)
    os.utime(left, (0, 0))
    assert not others_wait(path, BUSY_TIMEOUT)


def test_many_connections_opening_one_new_store_at_once_all_open_it(tmp_path):
    """Setting WAL mode on a new file, two connections each holding a read lock and waiting for
    the other's: SQLite answers one "database is locked" at once, without the busy timeout (6 of
    100 rounds of four opens failed so); the store tries again."""
    for round_ in range(80):
        path = tmp_path / f"{round_}.sqlite"
        start = threading.Barrier(4)

        def open_store() -> Store:
            start.wait()
            return Store(path)

        results = _both_at_once(*[open_store] * 4)
        assert all(isinstance(r, Store) for r in results), results
        for store in results:
            store.close()


def test_a_run_repeated_into_its_folder_replaces_it_and_compares_with_the_one_before(store):
    """A run killed after it was recorded, then run again into the same folder, is one run: the
    history keeps one per folder, and the repeat compares with what came before the first try."""
    claims = [RunClaim("k", "note:0:0", "note", "S.", "supported", [], [])]
    store.add_run("monday", "docs", ["note.txt"], "/runs/monday", {"supported": 1}, claims)
    store.add_run("first-try", "docs", ["note.txt"], "/runs/today", {"supported": 1}, claims)
    assert store.previous_run("docs", before="second-try", out_dir="/runs/today") == "monday"
    store.add_run("second-try", "docs", ["note.txt"], "/runs/today", {"supported": 1}, claims)
    assert [r["run_id"] for r in store.recent_runs()] == ["second-try", "monday"]
    assert store.run_claims("first-try") == [] and store.row_counts()["run_claims"] == 2
    store.add_run("other-docs", "other", ["b.txt"], "/runs/today", {}, [])  # other documents: a run of their own
    assert len(store.recent_runs()) == 3
